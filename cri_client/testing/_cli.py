"""Command line: ``python -m cri_client.testing {install,up,restart,down,status}``.

``up`` and ``restart`` print nothing but ``export NAME=value`` lines on stdout, so
that ``eval "$(python -m cri_client.testing up)"`` works; progress and timings go to
stderr, warnings marked as such. Exit status: 0 success, 1 failure (one-line
message), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
from collections.abc import Sequence

from cri_client.testing._debian import install_dependencies
from cri_client.testing._layout import DEFAULT_BASE_DIR, SUPPORTED_VERSIONS
from cri_client.testing._throwaway import ThrowawayContainerd, describe_instances, stop_all

log = logging.getLogger("cri_client.testing")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cri_client.testing",
        description="A throwaway containerd with the CRI plugin, for tests and demos (needs root).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add_dir(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--dir", default=DEFAULT_BASE_DIR, help=f"base dir (default {DEFAULT_BASE_DIR})"
        )

    install = commands.add_parser(
        "install", help="apt-get install the packages; download newer containerd/runsc"
    )
    # No choices= here: argparse checks the empty default list against them and fails.
    install.add_argument(
        "versions",
        nargs="*",
        metavar="VERSION",
        help=f"{', '.join(SUPPORTED_VERSIONS)} (default 2.1)",
    )
    add_dir(install)

    def add_version(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--containerd",
            choices=SUPPORTED_VERSIONS,
            default=None,
            help="version (default $CRI_CLIENT_TEST_CONTAINERD or 2.1)",
        )

    up = commands.add_parser(
        "up",
        help="start an instance (a dead one's state is discarded); print export lines for eval",
    )
    add_version(up)
    add_dir(up)
    up.add_argument("--registry-port", type=int, default=None, metavar="N")
    up.add_argument("--install", action="store_true", help="run install for the version first")
    up.add_argument("--no-runsc", action="store_true", help="only the runc handler")
    up.add_argument(
        "--auth-registry",
        action="store_true",
        help="also a TLS + htpasswd registry serving busybox (for credential tests)",
    )

    restart = commands.add_parser(
        "restart",
        help="start a stopped or crashed instance's containerd again on its state (pods,"
        " containers, images kept); print export lines for eval",
    )
    add_version(restart)
    add_dir(restart)

    down = commands.add_parser("down", help="stop instances and remove all their traces")
    down.add_argument("--containerd", choices=[*SUPPORTED_VERSIONS, "all"], default="all")
    add_dir(down)
    down.add_argument("--purge", action="store_true", help="also delete the instance dirs")

    status = commands.add_parser("status", help="show which instances are up")
    add_dir(status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "install" and not set(args.versions) <= set(SUPPORTED_VERSIONS):
        parser.error(f"install: versions must be among {', '.join(SUPPORTED_VERSIONS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    try:
        if args.command == "install":
            install_dependencies(args.versions or ["2.1"], base_dir=args.dir)
        elif args.command == "up":
            _up(parser, args)
        elif args.command == "restart":
            started = time.monotonic()
            runtime = ThrowawayContainerd(_version(parser, args), base_dir=args.dir)
            _print_exports(runtime.restart_daemon())
            log.info("restarted in %.2f s", time.monotonic() - started)
        elif args.command == "down":
            if args.containerd == "all":
                stop_all(args.dir, purge=args.purge)
            else:
                ThrowawayContainerd(args.containerd, base_dir=args.dir).stop(purge=args.purge)
        else:
            print("\n".join(describe_instances(args.dir)))
    except (RuntimeError, OSError, ValueError) as exc:
        summary, _, details = str(exc).partition("\n")
        if details:
            log.error("%s", details)
        print(f"{parser.prog} {args.command}: error: {summary}", file=sys.stderr)
        return 1
    return 0


class _Formatter(logging.Formatter):
    """``[time] message`` for progress; a warning or an error also names its level,
    so that it stands out among the progress lines."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] %(message)s", datefmt="%H:%M:%S")
        self._marked = logging.Formatter("[%(asctime)s] %(levelname)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING:
            return self._marked.format(record)
        return super().format(record)


def _version(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    version: str = args.containerd or os.environ.get("CRI_CLIENT_TEST_CONTAINERD", "2.1")
    if version not in SUPPORTED_VERSIONS:
        parser.error(f"$CRI_CLIENT_TEST_CONTAINERD={version!r} is not one of {SUPPORTED_VERSIONS}")
    return version


def _print_exports(runtime: ThrowawayContainerd) -> None:
    for name, value in runtime.env().items():
        print(f"export {name}={shlex.quote(value)}")


def _up(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    version = _version(parser, args)
    started = time.monotonic()
    if args.install:
        install_dependencies([version], base_dir=args.dir)
    runtime = ThrowawayContainerd(
        version,
        base_dir=args.dir,
        registry_port=args.registry_port,
        runsc=not args.no_runsc,
        auth_registry=args.auth_registry,
    ).start()
    _print_exports(runtime)
    log.info("up in %.2f s", time.monotonic() - started)
