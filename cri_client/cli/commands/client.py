"""The command line itself: ``config`` (crictl's config file), ``completion`` (shell
scripts) and ``batch`` (many command lines in one process, on one connection)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import IO, TYPE_CHECKING

from cri_client.cli.arguments import Command, Dispatcher
from cri_client.cli.context import (
    EXIT_INTERRUPTED,
    CommandError,
    Context,
    ShowHelp,
    UsageError,
    exit_code_of,
)
from cri_client.cli.output import render_table

if TYPE_CHECKING:
    from cri_client.types import CrictlConfig

# --- config -------------------------------------------------------------------------------

_CONFIG_OPTIONS_HELP = """\
example:
  cri-client config --set debug=true

options:
  runtime-endpoint       container runtime endpoint
  image-endpoint         image endpoint
  timeout                timeout of connecting to the server, in seconds (default: 2s)
  debug                  enable debug output (default: false)
  pull-image-on-create   enable pulling image on create requests (default: false)
  disable-pull-on-run    disable pulling image on run requests (default: false)"""


def _configure_config(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _CONFIG_OPTIONS_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("option", nargs="?", metavar="KEY", help="set KEY to VALUE (old form)")
    parser.add_argument("value", nargs="?", default="", metavar="VALUE")
    parser.add_argument("--get", default=None, metavar="KEY", help="show the option value")
    parser.add_argument(
        "--set",
        action="append",
        default=None,
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="set option (can specify multiple or separate values with commas: "
        "opt1=val1,opt2=val2)",
    )
    parser.add_argument("--list", action="store_true", help="show all option value")


def config_file_path(ctx: Context) -> str:
    """The file crictl's ``config`` reads and writes: ``-c``, else
    ``$CRI_CONFIG_FILE``, else ``/etc/crictl.yaml``."""
    from cri_client.endpoint import DEFAULT_CRICTL_CONFIG

    env = ctx.settings.env if ctx.settings.env is not None else os.environ
    return ctx.settings.config_file or env.get("CRI_CONFIG_FILE") or DEFAULT_CRICTL_CONFIG


def _config(ctx: Context, args: argparse.Namespace) -> int:
    """``--get KEY``, ``--set KEY=VALUE[,...]``, ``--list``, or crictl's older
    ``config KEY VALUE``; with none of them, the help. A missing file is first written
    with every option at its default, whatever was asked, as crictl does."""
    from cri_client.cli.crictl_config import assignments, option_values
    from cri_client.types import CrictlConfig

    path = config_file_path(ctx)
    if not os.path.exists(path):
        _write_config(path, option_values(CrictlConfig(path)), [])
    config = _read_config(path)
    values = option_values(config)
    if args.get is not None:
        if args.get not in values:
            raise UsageError(f"no configuration option named {args.get}")
        ctx.stdout.write(f"{values[args.get]}\n")
    elif args.set:
        _write_config(path, values, assignments(args.set))
    elif args.list:
        # crictl clears the screen first, and so writes these escapes to a pipe too.
        ctx.stdout.write("\033[2J\033[H")
        ctx.stdout.write(render_table([["KEY", "VALUE"], *values.items()]))
    elif args.option:
        _write_config(path, values, [(args.option, args.value)])
    else:
        raise ShowHelp
    return 0


def _read_config(path: str) -> CrictlConfig:
    from cri_client.endpoint import load_crictl_config

    try:
        return load_crictl_config(path)
    except ValueError as err:  # CrictlConfigError (cri_client.errors would load grpc)
        raise UsageError(f"load config file: {err}") from None


def _write_config(path: str, values: dict[str, str], changes: list[tuple[str, str]]) -> None:
    from cri_client.cli.crictl_config import checked_value, rewrite, write_file

    for key, value in changes:
        values[key] = checked_value(key, value)
    try:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            text = ""
        write_file(path, rewrite(text, values))
    except OSError as err:
        raise CommandError(f"write config file {path}: {err.strerror or err}") from None


# --- completion ---------------------------------------------------------------------------

_PROGRAM = "cri-client"

_BASH = """\
_cli_bash_autocomplete() {{
    local cur opts base
    COMPREPLY=()
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    opts="{words}"
    COMPREPLY=( $(compgen -W "${{opts}}" -- ${{cur}}) )
    return 0
}}

complete -F _cli_bash_autocomplete {program}
"""

_ZSH = """\
_cli_zsh_autocomplete() {{

  local -a cmds
  cmds=('{commands}')
  _describe 'commands' cmds

  local -a opts
  opts=('{options}')
  _describe 'global options' opts

  return
}}

compdef _cli_zsh_autocomplete {program}
"""

_HELP_COMMAND = ("help", "Shows a list of commands or help for one command")


def _configure_completion(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Output shell completion code for bash, zsh or fish, e.g. "
        f"'source <({_PROGRAM} completion bash)' or '{_PROGRAM} completion fish | source'."
    )
    parser.add_argument("shell", nargs="*", metavar="SHELL", help="bash (default), zsh or fish")


def _completion(ctx: Context, args: argparse.Namespace) -> int:
    """crictl's scripts: bash and zsh complete the command names and the global
    flags' long names; fish also gives each its description."""
    if len(args.shell) > 1:
        raise ShowHelp
    shell = args.shell[0] if args.shell else "bash"
    commands = _command_names(args.dispatcher)
    flags = _global_flags(args.dispatcher)
    if shell == "bash":
        words = [name for name, _ in commands] + [long for long, _, _ in flags]
        ctx.stdout.write(_BASH.format(words="\n".join(words), program=_PROGRAM))
    elif shell == "zsh":
        described = [f"{name}:{usage}" for name, usage in commands]
        options = [long for long, _, _ in flags]
        ctx.stdout.write(
            _ZSH.format(
                commands="' '".join(described), options="' '".join(options), program=_PROGRAM
            )
        )
    elif shell == "fish":
        ctx.stdout.write(_fish(commands, flags))
    else:
        raise UsageError("only bash, zsh or fish are supported")
    return 0


def _command_names(dispatcher: Dispatcher) -> list[tuple[str, str]]:
    """(name, usage) of every command and alias, sorted as the help lists them."""
    names: list[tuple[str, str]] = []
    for command in sorted(dispatcher.commands(), key=lambda c: c.name):
        names.extend((name, command.help) for name in (command.name, *command.aliases))
    names.append(_HELP_COMMAND)
    return names


def _global_flags(dispatcher: Dispatcher) -> list[tuple[str, str, str]]:
    """(``--long``, short letter or "", help) of the global flags."""
    flags: list[tuple[str, str, str]] = []
    for action in dispatcher.build_parser("completion")._actions:
        longs = [flag for flag in action.option_strings if flag.startswith("--")]
        shorts = [flag[1:] for flag in action.option_strings if not flag.startswith("--")]
        if longs:
            flags.append((longs[0], shorts[0] if shorts else "", action.help or ""))
    return flags


def _fish(commands: list[tuple[str, str]], flags: list[tuple[str, str, str]]) -> str:
    """A fish script in the shape urfave/cli's ToFishCompletion gives crictl: global
    flags and command names while no command is on the line yet."""
    condition = f"__fish_{_PROGRAM.replace('-', '_')}_no_subcommand"
    names = " ".join(name for name, _ in commands)
    lines = [
        f"# {_PROGRAM} fish shell completion",
        "",
        f"function {condition} --description 'Test if there has been any subcommand yet'",
        "    for i in (commandline -opc)",
        f"        if contains -- $i {names}",
        "            return 1",
        "        end",
        "    end",
        "    return 0",
        "end",
        "",
    ]
    for long, short, text in flags:
        short_part = f" -s {short}" if short else ""
        lines.append(
            f"complete -c {_PROGRAM} -n '{condition}' -f -l {long[2:]}{short_part} "
            f"-d {_fish_quote(text)}"
        )
    for name, usage in commands:
        lines.append(
            f"complete -c {_PROGRAM} -n '{condition}' -f -a '{name}' -d {_fish_quote(usage)}"
        )
    return "\n".join(lines) + "\n"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --- batch --------------------------------------------------------------------------------

_PROGRAM_NAMES = ("crictl", _PROGRAM)
_GLOBAL_DESTINATIONS = ("runtime_endpoint", "image_endpoint", "global_timeout", "config_path")


def _configure_batch(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run command lines, one per line of FILE (or of stdin), in this process and on "
        "one connection: each line is a command with its flags, quoted as in a shell; "
        "'#' starts a comment, blank lines are skipped, a leading 'crictl' or "
        "'cri-client' is dropped. Global flags go before 'batch' and hold for every line."
    )
    parser.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="the command lines ('-': stdin)"
    )
    parser.add_argument(
        "--continue-on-error",
        action="store_true",
        help="run every line even after one failed (default: stop at the first failure); "
        "the exit code is 1 when any failed",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per line run: line, argv, exit_status, stdout, stderr",
    )


def command_line(text: str) -> list[str]:
    """The arguments of one batch line: shell words (shlex's POSIX rules), a ``#``
    that starts a word starting a comment as in a shell, without a leading
    ``crictl``/``cri-client``; [] for a blank or comment line. ValueError for an
    unclosed quote."""
    words = shlex.split(_without_comment(text))
    if words and words[0] in _PROGRAM_NAMES:
        words = words[1:]
    return words


def _without_comment(text: str) -> str:
    """``text`` up to its first unquoted ``#`` at the start of a word (``a#b`` is one
    word, ``'#'`` is quoted; shlex's own comments would cut both)."""
    quote = ""
    escaped = False
    for at, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or text[at - 1].isspace()):
            return text[:at]
    return text


def _batch(ctx: Context, args: argparse.Namespace) -> int:
    """Each line runs as ``cri-client`` would run it, in order; the exit code is 0
    when all succeeded, else 1 (130 when interrupted: the rest is not run)."""
    failed = False
    with _lines(args.file) as lines:
        for number, text in enumerate(lines, 1):
            try:
                argv = command_line(text)
            except ValueError as err:
                code, out, errors = 1, "", f"cri-client: line {number}: {err}\n"
                argv = [text.rstrip("\n")]
                if not args.json:
                    sys.stderr.write(errors)
            else:
                if not argv:
                    continue
                code, out, errors = _run_line(ctx, args.dispatcher, argv, capture=args.json)
            if args.json:
                record = {
                    "line": number,
                    "argv": argv,
                    "exit_status": code,
                    "stdout": out,
                    "stderr": errors,
                }
                ctx.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                ctx.stdout.flush()
            if code == EXIT_INTERRUPTED:
                return code
            if code != 0:
                failed = True
                if not args.json:
                    ctx.stderr.write(f"cri-client: batch: line {number}: exit status {code}\n")
                    ctx.stderr.flush()
                if not args.continue_on_error:
                    break
    return 1 if failed else 0


@contextmanager
def _lines(path: str) -> Iterator[IO[str]]:
    """The batch file, read as it goes (a pipe can feed commands one by one)."""
    if path == "-":
        yield sys.stdin
        return
    try:
        file = open(path, encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as err:
        raise UsageError(f"batch file {path}: {err.strerror or err}") from None
    with file:  # not around the try: the commands' own OSErrors are theirs
        yield file


def _run_line(
    ctx: Context, dispatcher: Dispatcher, argv: list[str], *, capture: bool
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one line; the output is captured with
    ``capture``, else it goes to this process's streams as it comes."""

    def context_for(parsed: argparse.Namespace) -> Context:
        if parsed.command == "batch":
            raise UsageError("batch: a batch line cannot run batch")
        if parsed.debug or any(getattr(parsed, name) for name in _GLOBAL_DESTINATIONS):
            raise UsageError("batch: global flags go before 'batch', not on a line")
        return ctx.within()

    def run() -> int:
        try:
            return dispatcher.run_command(argv, context_for)
        except SystemExit as done:  # argparse: --help, usage errors
            return exit_code_of(done)

    if not capture:
        code = run()
        sys.stdout.flush()
        sys.stderr.flush()
        return code, "", ""
    out, errors = _capture(), _capture()
    with redirect_stdout(out), redirect_stderr(errors):
        code = run()
    return code, _captured(out), _captured(errors)


def _capture() -> io.TextIOWrapper:
    """A text stream with a ``buffer`` (``exec`` and ``logs`` write bytes there),
    written through at once, so text and bytes keep their order."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _captured(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", errors="replace")


COMMANDS = (
    Command(
        "config",
        "Get and set crictl client configuration options",
        _configure_config,
        _config,
        standalone=True,
    ),
    Command(
        "completion",
        "Output shell completion code",
        _configure_completion,
        _completion,
        standalone=True,
    ),
    Command(
        "batch",
        "Run many commands, one per line of a file or stdin, on one connection",
        _configure_batch,
        _batch,
    ),
)
