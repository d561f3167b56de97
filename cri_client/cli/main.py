"""``cri-client``: argument parsing, settings, dispatch and exit codes.

Exit codes, as crictl's: 0 success, help included (``--help``, ``help``, a command
given none of the arguments it needs); 1 any failure: the runtime (or a stream, or a
file) failed, or a usage error (unknown or bad flag, malformed config file); ``exec
-s`` and ``exec`` exit with the command's own code (127 when the program does not
exist, 124 when ``--timeout`` killed it). Expected failures print one line, never a
traceback; an unknown flag prints the help on stdout and crictl's ``flag provided but
not defined: -NAME`` on stderr.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn

from cri_client.cli.arguments import Command, Dispatcher
from cri_client.cli.config import parse_duration
from cri_client.cli.context import (
    EXIT_INTERRUPTED,
    EXIT_RUNTIME_ERROR,
    EXIT_USAGE,
    CommandError,
    Context,
    Settings,
    ShowHelp,
    UsageError,
    exit_code_of,
)

__all__ = [
    "build_parser",
    "command_named",
    "main",
    "run",
    "run_command",
    "settings_from",
]

EXIT_BROKEN_PIPE = 141

_EPILOG = """\
exit codes: 0 ok, 1 error (usage included); exec exits with the command's code.
Global flags go before the command; see 'cri-client COMMAND --help'."""


def commands() -> Iterator[Command]:
    """Every subcommand, from the modules that group them, each module imported only
    when the one before it did not have the command wanted (``build_parser`` stops at
    the first match): the most used first."""
    from cri_client.cli.commands import runtime

    yield from runtime.COMMANDS
    from cri_client.cli.commands import containers  # imports pods

    yield from containers.COMMANDS
    from cri_client.cli.commands import pods

    yield from pods.COMMANDS
    from cri_client.cli.commands import images

    yield from images.COMMANDS
    from cri_client.cli.commands import streams

    yield from streams.COMMANDS
    from cri_client.cli.commands import client, metrics

    yield from metrics.COMMANDS
    yield from client.COMMANDS


_GLOBAL_FLAGS_WITH_VALUE = frozenset(
    ("-r", "--runtime-endpoint", "-i", "--image-endpoint", "-t", "--timeout", "-c", "--config")
)


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, found without argparse (None for top-level help,
    ``--version``, or no command): only that command's parser needs to be built."""
    after_flag = False
    for token in argv:
        if after_flag:
            after_flag = False
        elif token in ("-h", "--help", "--version", "--"):
            return None
        elif token in _GLOBAL_FLAGS_WITH_VALUE:
            after_flag = True
        elif not token.startswith("-"):
            return token
    return None


class _Parser(argparse.ArgumentParser):
    """argparse with crictl's exit codes: a usage error is 1, and a command that lacks
    the arguments it needs prints its help on stdout with exit 0."""

    is_command = False
    _words: tuple[str, ...] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._words = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if self.is_command and message.startswith("the following arguments are required"):
            flag = self._unknown_flag()
            if flag is not None:  # Go's flag package parses flags first: that error wins
                self.print_help(sys.stdout)
                _flush_stdout()
                self.exit(EXIT_USAGE, _undefined(flag))
            self.print_help(sys.stdout)
            self.exit(0)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _unknown_flag(self) -> str | None:
        """The first word before ``--`` that looks like a flag this command lacks."""
        known = self._option_string_actions
        for word in self._words:
            if word == "--":
                break
            if not word.startswith("-") or word == "-" or word.lstrip("-")[:1].isdigit():
                continue
            if word.startswith("--"):
                if word.split("=", 1)[0] not in known:
                    return word
            elif word[:2] not in known:  # -x, -xVALUE or -xyz (several short flags)
                return word
        return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with just the one named ``only`` (when it is
    one): building all 28 is a third of the start-up time of a command."""
    from cri_client import __version__

    parser = _Parser(
        prog="cri-client",
        description="A client for CRI runtimes with crictl's commands, flags and output.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "-r",
        "--runtime-endpoint",
        metavar="ENDPOINT",
        help="runtime socket (default: $CONTAINER_RUNTIME_ENDPOINT, the config file, then "
        "the first existing well-known socket)",
    )
    parser.add_argument(
        "-i",
        "--image-endpoint",
        metavar="ENDPOINT",
        help="image service socket (default: $IMAGE_SERVICE_ENDPOINT, the config file, "
        "then the runtime endpoint)",
    )
    parser.add_argument(
        "-t",
        "--timeout",
        dest="global_timeout",
        metavar="DURATION",
        help="deadline of each call, e.g. 10s, 2m or 30 (default 60s; 0 or less: default)",
    )
    parser.add_argument(
        "-c",
        "--config",
        dest="config_path",
        metavar="FILE",
        help="crictl config file (default: $CRI_CONFIG_FILE, else /etc/crictl.yaml)",
    )
    parser.add_argument(
        "-D",
        "--debug",
        action="store_true",
        help="show the endpoints chosen and each RPC with its duration on stderr",
    )
    parser.add_argument("--version", action="version", version=f"cri-client version {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    subparsers.required = True
    wanted = (c for c in commands() if only in (c.name, *c.aliases))
    selected = [found] if (found := next(wanted, None)) is not None else []
    for command in sorted(selected or commands(), key=lambda c: c.name):
        sub = subparsers.add_parser(
            command.name,
            aliases=list(command.aliases),
            help=command.help,
            description=command.help,
            allow_abbrev=False,
        )
        assert isinstance(sub, _Parser)
        sub.is_command = True
        command.configure(sub)
        sub.set_defaults(handler=command.handler, standalone=command.standalone)
    if not selected:
        help_parser = subparsers.add_parser("help", help="show the help of a command")
        help_parser.add_argument("topic", nargs="?", metavar="COMMAND")
        help_parser.set_defaults(handler=None)
    parser.set_defaults(
        parsers=subparsers.choices,
        root=parser,
        dispatcher=Dispatcher(run_command, commands, build_parser),
    )
    return parser


@functools.lru_cache(maxsize=16)
def _parser(only: str | None) -> argparse.ArgumentParser:
    """:func:`build_parser`, built once per command in a process: a ``batch`` of
    inspect lines would otherwise spend a millisecond a line building it again.
    A parse keeps nothing but what the next one overwrites, so one serves every line."""
    return build_parser(only)


def settings_from(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """The global flags over the environment over crictl's config file, as crictl
    merges them. The config file is ``-c``, else ``$CRI_CONFIG_FILE``, else
    ``/etc/crictl.yaml``: one of them, read by the library's reader; the endpoints are
    chosen from it by the library's rules when the client is first needed."""
    from cri_client.endpoint import load_crictl_config

    try:
        config = load_crictl_config(args.config_path, env)
    except ValueError as err:  # CrictlConfigError; cri_client.errors would load grpc
        raise UsageError(str(err)) from None
    timeout: float | None = None
    if args.global_timeout is not None:
        seconds = parse_duration(args.global_timeout, "--timeout")
        timeout = seconds if seconds > 0 else None
    elif config.timeout > 0:
        timeout = float(config.timeout)
    return Settings(
        runtime_endpoint=args.runtime_endpoint,
        image_endpoint=args.image_endpoint,
        config=config,
        env=env,
        timeout=timeout,
        debug=bool(args.debug or config.debug),
        pull_image_on_create=config.pull_image_on_create,
        disable_pull_on_run=config.disable_pull_on_run,
        config_file=args.config_path,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    return run_command(arguments, _own_context)


def _own_context(args: argparse.Namespace) -> Context:
    """A command's context from its global flags: the environment and crictl's config
    file merged, except for commands that work on their own (``config`` edits that
    file, so a broken or missing one must not stop it)."""
    if args.standalone:
        return Context(Settings(env=os.environ, config_file=args.config_path))
    return Context(settings_from(args, os.environ))


def run_command(arguments: list[str], context_for: Callable[[argparse.Namespace], Context]) -> int:
    """Parse ``arguments`` (one command line without the program's name), run the
    command in the context ``context_for`` gives, and map what it raised to the exit
    code; :func:`main` for one process, ``batch`` for each of its lines. argparse's
    own exits (``--help``, usage errors) are SystemExit, left to the caller."""
    command = command_named(arguments)
    words = arguments[arguments.index(command) + 1 :] if command else []
    if words[:1] in (["jsonschema"], ["js"]):  # crictl's subcommand of pull/runp/create/run
        from cri_client.cli.jsonschema import SCHEMA_COMMANDS, run_jsonschema

        if command in SCHEMA_COMMANDS:
            return run_jsonschema(command, words[1:], sys.stdout, sys.stderr)
    parser = _parser(command)
    if not arguments:  # crictl (urfave/cli) prints its help then, exit 0
        parser.print_help(sys.stdout)
        return 0
    args, unknown = parser.parse_known_args(arguments)
    if unknown:
        return _unknown_arguments(args, unknown, arguments)
    if args.handler is None:
        return _help(args)
    context: Context | None = None
    try:
        context = context_for(args)
        return int(args.handler(context, args))
    except ShowHelp:
        args.parsers[args.command].print_help(sys.stdout)
        return 0
    except UsageError as err:
        return _fail(str(err), EXIT_USAGE)
    except CommandError as err:
        return _fail(str(err), EXIT_RUNTIME_ERROR)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as err:  # mapped to exit codes, or re-raised (a bug)
        return _fail_for(err)
    finally:
        if context is not None:
            context.close()


def run() -> NoReturn:
    """The console script and ``python -m cri_client``: :func:`main`, then exit with
    its code through the interpreter's normal shutdown (atexit handlers, logging's
    flush, the standard streams' final flush all run).

    :func:`main` has closed the client; output is flushed here, so that a reader that
    went away is exit code 141. Then :func:`gc.freeze`: the shutdown's garbage
    collections would otherwise walk every object grpc and protobuf made, 20-30 ms of
    a 90-130 ms command; frozen, the whole exit takes ~7 ms, within 4 ms of
    ``os._exit``, which would skip all cleanup (measured: docs/performance.md,
    section 6, "Ending a command").
    """
    try:
        code = main()
    except SystemExit as done:  # argparse: --help, --version, usage errors
        code = exit_code_of(done)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = code or EXIT_BROKEN_PIPE
    sys.stderr.flush()
    gc.freeze()
    raise SystemExit(code)


def _fail_for(err: Exception) -> int:
    """CRIError: 1, an ambiguous reference included (what a reference matches is the
    runtime's state, as for one that matches nothing, and ``rm``/``rmp`` report both
    as failures with 1); ValueError from the library's argument checks: 1; OSError
    (files the command reads or writes): 1; anything else is a bug and keeps its
    traceback."""
    from cri_client import CRIError

    if isinstance(err, CRIError):  # before ValueError: AmbiguousReferenceError is both
        return _fail(str(err), EXIT_RUNTIME_ERROR)
    if isinstance(err, ValueError):
        return _fail(str(err), EXIT_USAGE)
    if isinstance(err, OSError):
        return _fail(str(err), EXIT_RUNTIME_ERROR)
    raise err


def _fail(message: str, code: int) -> int:
    _flush_stdout()
    sys.stderr.write(f"cri-client: {message}\n")
    return code


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    """After the reader of stdout went away, the interpreter's final flush must not fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _unknown_arguments(args: argparse.Namespace, unknown: list[str], argv: list[str]) -> int:
    """An unknown flag: the help of the command (the main help, with every command, for
    a flag before the command) on stdout and Go's flag package's line on stderr, exit 1,
    as crictl (``--invalid=3`` is ``-invalid``). A surplus argument that is no flag is
    argparse's usage error."""
    flags = [word for word in unknown if word.startswith("-") and word != "-"]
    if not flags:
        args.root.error(f"unrecognized arguments: {' '.join(unknown)}")
    flag = flags[0]
    command = getattr(args, "command", None)
    if command in argv and argv.index(flag) > argv.index(command):
        args.parsers[command].print_help(sys.stdout)
    else:
        build_parser().print_help(sys.stdout)
    _flush_stdout()
    sys.stderr.write(_undefined(flag))
    return EXIT_USAGE


def _undefined(flag: str) -> str:
    """Go's flag package's message: ``--invalid=3`` is ``-invalid``."""
    name = flag.lstrip("-").split("=", 1)[0]
    return f"flag provided but not defined: -{name}\n"


def _help(args: argparse.Namespace) -> int:
    if args.topic is None:
        args.root.print_help()
        return 0
    parser = args.parsers.get(args.topic)
    if parser is None:
        return _fail(f"no command {args.topic!r}; see 'cri-client --help'", EXIT_USAGE)
    parser.print_help()
    return 0


if __name__ == "__main__":
    run()
