"""How commands declare themselves, and the flags several of them share (crictl's names)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from cri_client.cli.context import Context, UsageError
from cri_client.cli.output import OUTPUT_FORMATS

if TYPE_CHECKING:
    from cri_client.cli.gotemplate import Template

__all__ = [
    "Command",
    "Dispatcher",
    "add_filter_flags",
    "add_label_flag",
    "add_output_flag",
    "container_state",
    "integer",
    "limit",
    "non_negative_int",
    "output_template",
    "pod_state",
    "regular_expression",
]

Handler = Callable[[Context, argparse.Namespace], int]


class Command(NamedTuple):
    """One subcommand: ``configure`` adds its flags, ``handler`` runs it and returns
    the exit code. A ``standalone`` command neither reads crictl's config file nor
    talks to the runtime (``config``, ``completion``). (A NamedTuple, as the CLI's
    other records: a frozen dataclass costs ~1 ms more of every command's start.)"""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Handler
    aliases: tuple[str, ...] = ()
    standalone: bool = False


class Dispatcher(NamedTuple):
    """What the commands that run or describe other commands (``batch``,
    ``completion``) need of :mod:`cri_client.cli.main`, given to them as
    ``args.dispatcher``: importing that module would be an import cycle.

    ``run_command(argv, context_for)`` runs one command line and returns its exit code;
    ``commands()`` yields every command; ``build_parser(only)`` builds the parser."""

    run_command: Callable[[list[str], Callable[[argparse.Namespace], Context]], int]
    commands: Callable[[], Iterator[Command]]
    build_parser: Callable[[str | None], argparse.ArgumentParser]


def add_output_flag(
    parser: argparse.ArgumentParser,
    default: str,
    formats: tuple[str, ...] = OUTPUT_FORMATS,
    *,
    template: bool = False,
) -> None:
    """``-o/--output`` with ``formats``; ``template`` adds ``go-template`` and crictl's
    ``--template`` (see :func:`output_template`)."""
    if template:
        formats = (*formats, "go-template")
        add_template_flag(parser)
    parser.add_argument(
        "-o",
        "--output",
        default=default,
        type=output_format(formats),
        metavar="|".join(formats),
        help=f"output format (default {default})",
    )


def add_template_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template",
        default="",
        metavar="TEMPLATE",
        help="Go template applied with -o go-template (see docs/cli.md for the subset)",
    )


def output_template(args: argparse.Namespace) -> Template | None:
    """The parsed ``--template`` when the output is ``go-template`` (None otherwise: with
    another format crictl ignores ``--template``), checked before any RPC. A template
    that does not parse is crictl's ``failed to generate go-template: template: ...``."""
    if args.output != "go-template":
        return None
    from cri_client.cli.gotemplate import TemplateError, parse

    try:
        return parse(args.template)
    except TemplateError as err:
        raise UsageError(f"failed to generate go-template: {err}") from None


def output_format(formats: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value in formats:
            return value
        if value == "go-template":
            raise argparse.ArgumentTypeError("go-template output is not supported; use json")
        raise argparse.ArgumentTypeError(
            f"unsupported output format {value!r}: use one of {', '.join(formats)}"
        )

    return parse


def regular_expression(value: str) -> str:
    """A ``--name``/``--namespace`` pattern, checked before any RPC."""
    try:
        re.compile(value)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"invalid regular expression {value!r}: {err}") from None
    return value


def non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return number


def integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A state name, any case (crictl lowercases it)."""

    def parse(value: str) -> str:
        if value.lower() in choices:
            return value.lower()
        raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(choices)}")

    return parse


pod_state = _choice(("ready", "notready"))
container_state = _choice(("created", "running", "exited", "unknown"))


def add_label_flag(parser: argparse.ArgumentParser) -> None:
    """crictl's repeatable ``--label key=value``, which also takes kubectl's selector
    syntax (``app!=web``, ``'tier in (a,b)'``, ``!canary``); the values are joined."""
    parser.add_argument(
        "--label",
        action="append",
        default=None,
        metavar="SELECTOR",
        help="filter by label: key=value (repeatable) or a selector such as 'app in (a,b),!x'",
    )


def add_filter_flags(
    parser: argparse.ArgumentParser,
    *,
    kind: str,
    id: bool = False,
    pod: bool = False,
    image: bool = False,
    all: bool = False,
    state_short: bool = True,
) -> None:
    """crictl's listing filters: ``--id``, ``--name``, ``--namespace``, ``--state``,
    ``--label``, ``--latest``, ``--last`` and, for containers, ``--pod``, ``--image``, ``--all``."""
    if id:
        parser.add_argument("--id", default=None, help=f"filter by {kind} id (or id prefix)")
    parser.add_argument(
        "--name",
        type=regular_expression,
        default=None,
        help=f"filter by {kind} name regular expression pattern",
    )
    parser.add_argument(
        "--namespace",
        type=regular_expression,
        default=None,
        help="filter by pod namespace regular expression pattern",
    )
    if pod:
        parser.add_argument("-p", "--pod", default=None, help="filter by pod id, id prefix or name")
    if image:
        parser.add_argument("--image", default=None, help="filter by container image")
    state_flags = ("-s", "--state") if state_short else ("--state",)
    parser.add_argument(
        *state_flags,
        type=pod_state if kind == "pod" else container_state,
        default=None,
        help=f"filter by {kind} state",
    )
    add_label_flag(parser)
    parser.add_argument(
        "-l", "--latest", action="store_true", help=f"show the most recently created {kind}"
    )
    parser.add_argument(
        "-n",
        "--last",
        type=non_negative_int,
        default=0,
        metavar="N",
        help=f"show the last N recently created {kind}s (0: unlimited)",
    )
    if all:
        parser.add_argument("-a", "--all", action="store_true", help="show all containers")


def limit(items: list[Any], latest: bool, last: int) -> list[Any]:
    """crictl's ``--latest``/``--last`` on a list sorted newest first."""
    count = len(items)
    if latest:
        count = 1
    if last > 0:
        count = last
    return items[: min(count, len(items))]
