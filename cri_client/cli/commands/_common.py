"""What several commands print the same way."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, NoReturn

from cri_client.cli.arguments import add_label_flag, add_output_flag, non_negative_int
from cri_client.cli.context import (
    CommandError,
    Context,
    ShowHelp,
    UsageError,
    until_interrupted,
)
from cri_client.cli.output import render_table, truncate_id, write_document
from cri_client.cli.progress import bulk_progress

if TYPE_CHECKING:
    from cri_client.cli.gotemplate import Template
    from cri_client.types import PruneItem, PruneReport


def write_statuses(
    ctx: Context, documents: Sequence[Any], output: str, template: Template | None = None
) -> None:
    """``inspect*`` documents as crictl's ``outputStatusData`` writes them: one object
    for one, an array for several (a template gets the same: it runs once, on the
    array), keys sorted; nothing for none."""
    if documents:
        document = documents[0] if len(documents) == 1 else list(documents)
        write_document(document, output, ctx.stdout, sort_keys=True, template=template)


def nothing_found(ctx: Context) -> NoReturn:
    """``inspect*`` with no id and nothing the filters select: crictl's error line on
    stderr, then the command's help on stdout and exit 0 (crictl's ``ShowSubcommandHelp``)."""
    ctx.stderr.write("cri-client: No IDs provided or nothing found per filter\n")
    raise ShowHelp


def write_key_values(out: IO[str], title: str, values: Mapping[str, str]) -> None:
    """crictl's verbose ``Labels:`` / ``Annotations:`` sections (absent when empty)."""
    if values:
        out.write(f"{title}:\n")
        for key in sorted(values):
            out.write(f"\t{key} -> {values[key]}\n")


def for_each(
    ctx: Context, references: Sequence[str], action: Callable[[str], None], description: str
) -> int:
    """``action`` on every reference, as crictl's removals run: all are tried, each
    failure is reported on stderr, and the exit code is 1 if any failed. On a terminal
    a transient progress bar (``description``) shows how far the work is."""
    from cri_client.errors import CRIError

    failed = False
    with bulk_progress(ctx.stderr, len(references), description) as advance:
        for reference in references:
            try:
                action(reference)
            except (CRIError, CommandError, ValueError) as err:
                failed = True
                ctx.stderr.write(f"cri-client: {reference}: {err}\n")
            advance()
    return 1 if failed else 0


def add_recreate_timeout(parser: argparse.ArgumentParser) -> None:
    """``recreate``'s and ``recreatep``'s ``-t``: the library's graceful stop, 10 s."""
    parser.add_argument(
        "-t",
        "--timeout",
        type=non_negative_int,
        default=10,
        metavar="SECONDS",
        help="seconds between SIGTERM and SIGKILL (default 10)",
    )


def registry_auth(
    creds: str | None, auth: str | None, username: str | None
) -> tuple[str, str] | dict[str, str] | None:
    """crictl's ``--creds USER[:PASSWORD]``, ``--auth BASE64`` and ``--username USER``
    (the password is asked for on the terminal). None: the library looks in the
    docker/podman credential files."""
    if username:
        import getpass

        return (username, getpass.getpass("Enter Password:"))
    if creds and auth:
        raise UsageError("both --creds and --auth are specified")
    if creds:
        user, _, password = creds.partition(":")
        if not user:
            raise UsageError("--creds: the username can't be empty")
        return (user, password)
    if auth:
        return {"auth": auth}
    return None


def add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    """crictl's flags shared by ``stats`` and ``statsp``: labels, output, -s, -w."""
    add_label_flag(parser)
    add_output_flag(parser, "table")
    parser.add_argument(
        "-s",
        "--seconds",
        type=non_negative_int,
        default=1,
        metavar="N",
        help="sample duration for CPU usage in seconds (default 1)",
    )
    parser.add_argument("-w", "--watch", action="store_true", help="refresh until interrupted")


def show_samples(ctx: Context, watch: bool, table: Callable[[], list[list[str]]]) -> int:
    """Print ``table()`` once, or with ``watch`` again every half second (clearing the
    screen, as crictl does) until interrupted."""
    with until_interrupted():
        while True:
            rows = table()
            if watch:
                ctx.stdout.write("\033[2J\033[H")
            ctx.stdout.write(render_table(rows))
            ctx.stdout.flush()
            if not watch:
                return 0
            time.sleep(0.5)
    return 0  # interrupted: Ctrl-C or SIGTERM ends a watch normally


@contextmanager
def naming_unimplemented(ctx: Context, rpc: str) -> Iterator[None]:
    """An RPC this runtime does not implement (containerd 1.6 and 1.7: RuntimeConfig,
    CheckpointContainer, ...; see ``_core.runtimes.UNIMPLEMENTED_RPCS``) fails with a
    line that names the runtime and its version, e.g. ``containerd 1.6.20 does not
    implement CheckpointContainer``, instead of gRPC's status text."""
    from cri_client.errors import UnimplementedError, UnsupportedAPIVersionError

    try:
        yield
    except UnimplementedError as err:
        if isinstance(err, UnsupportedAPIVersionError):
            raise
        version = ctx.client().version()
        raise CommandError(
            f"{version.runtime_name} {version.runtime_version} does not implement {rpc}"
        ) from None


def add_protobuf_output_flag(parser: argparse.ArgumentParser) -> None:
    """crictl's ``-o json|yaml`` of the commands that print a reply as it is
    (``metricdescs``, ``metricsp``): any other value shows the help, exit 0, as there."""
    parser.add_argument(
        "-o", "--output", default="json", metavar="json|yaml", help="output format (default json)"
    )


def checked_protobuf_output(output: str) -> str:
    if output not in ("json", "yaml", ""):
        raise ShowHelp
    return output or "json"


# --- prune -------------------------------------------------------------------------------


def add_prune_flags(parser: argparse.ArgumentParser, *, labels: bool = True) -> None:
    """``--dry-run``, ``-o`` and (for containers and pods) ``-l``, shared by the
    pruning forms of ``rm``, ``rmp`` and ``rmi``."""
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="remove nothing: print what would be removed or kept, and why",
    )
    if labels:
        parser.add_argument(
            "-l",
            "--label",
            action="append",
            default=None,
            metavar="SELECTOR",
            help="prune only what matches this label selector (key=value, key!=value, "
            "'key in (a,b)', key, !key; repeatable)",
        )
    add_output_flag(parser, "table")


def prune_duration(value: str | None, flag: str) -> float | None:
    """A prune's Go duration (``1h30m``, ``45s``) in seconds; a negative one is refused."""
    from cri_client.cli.config import parse_duration

    if value is None:
        return None
    seconds = parse_duration(value, flag)
    if seconds < 0:
        raise UsageError(f"{flag}: the duration {value!r} is negative")
    return seconds


def write_prune(
    ctx: Context, report: PruneReport, output: str, removed_lines: Callable[[PruneItem], list[str]]
) -> int:
    """A prune's outcome: with ``-o json|yaml`` the whole report (every item, its
    reason, the bytes expected back); a dry run's plan as a table with the reasons;
    otherwise crictl's lines for each removed item (``removed_lines``). Each failure is
    reported on stderr with the runtime's error, and makes the exit code 1."""
    if output != "table":
        write_document(report.to_dict(), output, ctx.stdout)
    elif report.dry_run:
        rows = [["ID", "NAME", "ACTION", "REASON", "DETAIL"]]
        for item in report.items:
            action = "remove" if item.selected else "keep"
            rows.append(
                [truncate_id(item.id, "sha256:"), item.name, action, item.reason.value, item.detail]
            )
        ctx.stdout.write(render_table(rows))
    else:
        for item in report.removed:
            ctx.stdout.write("".join(f"{line}\n" for line in removed_lines(item)))
    for item in report.failed:
        ctx.stderr.write(f"cri-client: {item.name or item.id}: {item.detail}\n")
    return 1 if report.failed else 0


_FULL_ID = re.compile(r"[0-9a-f]{64}")


def full_id(reference: str, resolve: Callable[[str], Any]) -> str:
    """A full id as given, else the id ``resolve`` (``cri.containers.get``,
    ``cri.pods.get``) finds for a name or prefix: a full id costs no lookup, so
    ``inspect ID`` is one RPC, as crictl's (a gone id is the runtime's NotFound)."""
    return reference if _FULL_ID.fullmatch(reference) else str(resolve(reference).id)
