"""Commands that stream: ``exec``, ``attach``, ``logs``, ``port-forward``."""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import timezone
from typing import IO, TYPE_CHECKING

from cri_client.cli.arguments import Command, add_filter_flags, integer, non_negative_int
from cri_client.cli.commands.containers import select_containers
from cri_client.cli.config import parse_since
from cri_client.cli.context import Context, ShowHelp, UsageError, until_interrupted

if TYPE_CHECKING:
    from cri_client import Container, LogRecord

EXIT_COMMAND_TIMED_OUT = 124
"""``exec -s --timeout N`` killed the command (as GNU timeout)."""
EXIT_COMMAND_NOT_FOUND = 127
"""``exec -s`` of a program the container does not have (as a shell)."""


# --- exec -----------------------------------------------------------------------------------


def _configure_exec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s", "--sync", action="store_true", help="run the command synchronously (ExecSync)"
    )
    parser.add_argument(
        "--timeout",
        type=non_negative_int,
        default=0,
        metavar="SECONDS",
        help="with -s: kill the command after this many seconds (default 0: no limit)",
    )
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    parser.add_argument("-i", "--interactive", action="store_true", help="keep STDIN open")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not print the container ID when filters select containers",
    )
    add_filter_flags(parser, kind="container", pod=True, image=True, state_short=False)
    parser.add_argument(
        "arguments",
        nargs=argparse.REMAINDER,
        metavar="[CONTAINER-ID] COMMAND [ARG...]",
        help="the container is left out when filter flags select the containers",
    )


def _filtering(args: argparse.Namespace) -> bool:
    return bool(
        args.name
        or args.namespace
        or args.pod
        or args.image
        or args.state
        or args.label
        or args.latest
        or args.last
    )


def _exec(ctx: Context, args: argparse.Namespace) -> int:
    """Exit code: the command's own (the first non-zero one when filters select several
    containers); with ``-s`` 124 when ``--timeout`` killed it and 127 when the program
    does not exist."""
    if args.tty and not args.interactive:
        raise UsageError("exec: -t needs -i (a terminal without input cannot be used)")
    if args.sync and args.interactive:
        raise UsageError("exec: -s cannot be combined with -i or -t")
    words = list(args.arguments)
    if not _filtering(args) and len(words) < 2:
        raise ShowHelp  # crictl: a CONTAINER and a COMMAND, or the help
    cri = ctx.client()
    if _filtering(args):
        containers = select_containers(cri, args)
        if not containers:
            raise UsageError("exec: no container matches the filters")
        show_ids = not args.quiet
    else:
        containers = [cri.containers.get(words.pop(0))]
        show_ids = False
    if not words:
        raise UsageError("exec: give a COMMAND")
    exit_code = 0
    for ctr in containers:
        if show_ids:
            ctx.stdout.write(f"{ctr.id}:\n")
            ctx.stdout.flush()
        code = _exec_one(ctx, ctr, words, args)
        exit_code = exit_code or code
    return exit_code


def _exec_one(ctx: Context, ctr: Container, command: list[str], args: argparse.Namespace) -> int:
    from cri_client.errors import CommandNotFoundError, ExecTimeoutError

    if args.sync:
        try:
            result = ctr.exec(command, timeout=args.timeout or math.inf)
        except ExecTimeoutError as err:
            ctx.stderr.write(f"cri-client: {err}\n")
            return EXIT_COMMAND_TIMED_OUT
        except CommandNotFoundError as err:
            ctx.stderr.write(f"cri-client: {err}\n")
            return EXIT_COMMAND_NOT_FOUND
        ctx.stdout.flush()
        sys.stdout.buffer.write(result.stdout)
        sys.stdout.buffer.flush()
        sys.stderr.buffer.write(result.stderr)
        sys.stderr.buffer.flush()
        return result.exit_code
    if args.interactive:
        return ctr.exec_interactive(command, tty=args.tty)
    with ctr.exec_stream(command) as session:
        for stream, data in session:
            target = sys.stdout.buffer if stream == "stdout" else sys.stderr.buffer
            target.write(data)
            target.flush()
        return session.wait()


# --- attach -----------------------------------------------------------------------------------


def _configure_attach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER-ID")
    parser.add_argument("-i", "--stdin", action="store_true", help="keep STDIN open")
    parser.add_argument(
        "-t",
        "--tty",
        action="store_true",
        help="the container has a TTY (default: as the container was created)",
    )


def _attach(ctx: Context, args: argparse.Namespace) -> int:
    """Until the container exits (its exit code is ours) or Ctrl-C (130)."""

    ctr = ctx.client().containers.get(args.container)
    with ctr.attach(stdin=args.stdin, tty=True if args.tty else None) as session:
        return session.interact()


# --- logs -------------------------------------------------------------------------------------


def _configure_logs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER-ID")
    parser.add_argument("-f", "--follow", action="store_true", help="follow log output")
    parser.add_argument(
        "-p",
        "--previous",
        action="store_true",
        help="the log of the container's previous attempt",
    )
    parser.add_argument(
        "-r", "--reopen", action="store_true", help="make the runtime reopen the log first"
    )
    parser.add_argument(
        "--tail",
        type=integer,
        default=-1,
        metavar="N",
        help="number of lines from the end (default: all)",
    )
    parser.add_argument(
        "--limit-bytes",
        type=integer,
        default=-1,
        metavar="N",
        help="at most this many bytes of log (default: no limit)",
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="since a time (2013-01-02T13:23:37Z) or for a while (42m)",
    )
    parser.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    parser.add_argument(
        "-s",
        "--stream",
        choices=("stdout", "stderr"),
        default=None,
        help="only this stream (default: both)",
    )


class _LogWriter:
    """Writes log lines to stdout or stderr by stream (as crictl), from one or two
    threads, and stops everything at ``--limit-bytes``."""

    def __init__(self, ctx: Context, limit: int | None) -> None:
        self._targets: dict[str, IO[str]] = {"stdout": ctx.stdout, "stderr": ctx.stderr}
        self._left = limit
        self._lock = threading.Lock()
        self.done = threading.Event()

    def write(self, stream: str, line: str) -> bool:
        """False once the limit is reached: stop reading."""
        with self._lock:
            if self.done.is_set():
                return False
            if self._left is not None:
                data = line.encode()
                if len(data) >= self._left:
                    line = data[: self._left].decode("utf-8", "ignore")
                    self.done.set()
                self._left -= len(data)
            target = self._targets[stream]
            target.write(line)
            target.flush()
            return not self.done.is_set()


def _line(record: LogRecord, timestamps: bool) -> str:
    if not timestamps:
        return record.message + "\n"
    moment = record.timestamp.astimezone(timezone.utc)
    nanos = moment.microsecond * 1000 + record.nanosecond
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z {record.message}\n"


def _logs(ctx: Context, args: argparse.Namespace) -> int:
    """stdout lines go to stdout and stderr lines to stderr, as crictl writes them."""
    since = parse_since(args.since) if args.since else None
    tail = args.tail if args.tail >= 0 else None
    writer = _LogWriter(ctx, args.limit_bytes if args.limit_bytes >= 0 else None)
    ctr = ctx.client().containers.get(args.container)
    if args.reopen:
        ctr.reopen_log()
    if not args.follow:
        records = ctr.log_records(
            tail=tail, since=since, stream=args.stream, previous=args.previous
        )
        for record in records:
            if not writer.write(record.stream, _line(record, args.timestamps)):
                break
        return 0
    streams = [args.stream] if args.stream else ["stdout", "stderr"]
    tails = {stream: tail for stream in streams}
    if tail is not None and len(streams) == 2:
        # The last N lines of both streams together, split by stream.
        recent = ctr.log_records(tail=tail, since=since, previous=args.previous)
        tails = {stream: sum(r.stream == stream for r in recent) for stream in streams}
    followers = {
        stream: ctr.logs(
            follow=True,
            stream=stream,
            tail=tails[stream],
            since=since,
            timestamps=args.timestamps,
            previous=args.previous,
        )
        for stream in streams
    }
    return _follow(writer, followers)


def _follow(writer: _LogWriter, followers: Mapping[str, Iterator[str]]) -> int:
    errors: list[BaseException] = []

    def pump(stream: str, lines: Iterator[str]) -> None:
        try:
            for line in lines:
                if not writer.write(stream, line):
                    return
        except BaseException as err:  # re-raised in the main thread
            errors.append(err)

    threads = [
        threading.Thread(target=pump, args=item, name=f"logs {item[0]}", daemon=True)
        for item in followers.items()
    ]
    for thread in threads:
        thread.start()
    with until_interrupted():
        while any(t.is_alive() for t in threads) and not writer.done.is_set():
            time.sleep(0.1)
    if errors:
        raise errors[0]
    return 0


# --- port-forward -------------------------------------------------------------------------------


def _configure_port_forward(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD-ID")
    parser.add_argument(
        "ports",
        nargs="+",
        metavar="[LOCAL_PORT:]REMOTE_PORT",
        help="LOCAL_PORT 0 or left out before ':' takes any free port",
    )


def parse_port_spec(spec: str) -> tuple[int, int]:
    """``8080`` (same port both sides), ``8080:80``, or ``:80`` (any free local port)."""
    local_text, colon, remote_text = spec.rpartition(":")
    if not colon:
        local_text = remote_text
    try:
        local = int(local_text) if local_text else 0
        remote = int(remote_text)
    except ValueError:
        raise UsageError(f"port-forward: invalid port specification {spec!r}") from None
    if not 0 <= local <= 65535 or not 1 <= remote <= 65535:
        raise UsageError(f"port-forward: port out of range in {spec!r}")
    return local, remote


def _port_forward(ctx: Context, args: argparse.Namespace) -> int:
    """Listens on 127.0.0.1 until Ctrl-C or SIGTERM (exit 0); a connection that fails
    is reported on stderr and the others go on."""
    specs = [parse_port_spec(spec) for spec in args.ports]
    pod = ctx.client().pods.get(args.pod)
    with ExitStack() as stack:
        forwards = [stack.enter_context(pod.port_forward(remote, local)) for local, remote in specs]
        for forward in forwards:
            ctx.stdout.write(
                f"Forwarding from 127.0.0.1:{forward.local_port} -> {forward.remote_port}\n"
            )
        ctx.stdout.flush()
        reported = [0] * len(forwards)
        with until_interrupted():
            while True:
                time.sleep(0.2)
                for index, forward in enumerate(forwards):
                    for error in forward.errors[reported[index] :]:
                        ctx.stderr.write(f"cri-client: {error}\n")
                        ctx.stderr.flush()
                    reported[index] = len(forward.errors)
    return 0


COMMANDS = (
    Command("exec", "Run a command in a running container", _configure_exec, _exec),
    Command("attach", "Attach to a running container", _configure_attach, _attach),
    Command("logs", "Fetch the logs of a container", _configure_logs, _logs),
    Command("port-forward", "Forward local ports to a pod", _configure_port_forward, _port_forward),
)
