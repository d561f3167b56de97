"""Progress on a terminal: what ``cri-client pull`` shows while it pulls, and the bar
of bulk work (``rm``, ``rmp``, ``rmi``, ``stop``, ``recreate`` of several objects).

Pulls: on a terminal, ``rich`` draws one bar per layer and one for the total
(imported only then). ``--progress plain`` writes a plain line at most once a second
(and at each change of phase), which keeps logs short. Both go to stdout, before
crictl's final ``Image is up to date for <id>`` line. In a pipe nothing is shown
unless asked for: scripts read crictl's one line there (docs/cli.md).

Bulk work: a transient bar on stderr only when stderr is a terminal, so scripts see
nothing and stderr stays empty on success; ``rich`` is imported only then.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from cri_client.cli.output import human_size

if TYPE_CHECKING:  # cri_client.types loads protobuf: not for --help or config
    from cri_client.types import PruneItem, PullPhase, PullProgress

BULK_PROGRESS_AFTER = 2
"""Items from which a bulk command shows a bar: one item is over before a bar helps."""

PLAIN_LINE_INTERVAL = 1.0
"""Seconds between two plain progress lines of the same phase."""


@contextlib.contextmanager
def pull_progress_display(out: IO[str], *, bars: bool) -> Iterator[Callable[[PullProgress], None]]:
    """A progress callback for ``images.pull(progress=...)`` that shows on ``out``:
    ``rich`` bars, or plain lines."""
    if bars:
        with _bars(out) as show:
            yield show
    else:
        yield _PlainLines(out)


def describe(progress: PullProgress) -> str:
    """One plain line: ``downloading 12.58MB/18.87MB (66%), 2/3 layers, 3.1s``."""
    parts = [progress.phase.value]
    if progress.detailed and progress.bytes_expected:
        fraction = progress.fraction or 0.0
        parts.append(
            f"{human_size(progress.bytes_done)}/{human_size(progress.bytes_expected)}"
            f" ({fraction:.0%}),"
        )
        complete = sum(layer.complete for layer in progress.layers)
        parts.append(f"{complete}/{len(progress.layers)} layers,")
    parts.append(f"{progress.elapsed:.1f}s")
    return " ".join(parts)


class _PlainLines:
    """The callback for a pipe: a line per phase change, else one per interval."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._phase: PullPhase | None = None
        self._last = 0.0

    def __call__(self, progress: PullProgress) -> None:
        now = time.monotonic()
        if progress.phase is self._phase and now - self._last < PLAIN_LINE_INTERVAL:
            return
        self._phase, self._last = progress.phase, now
        self._out.write(describe(progress) + "\n")
        self._out.flush()


@contextlib.contextmanager
def _bars(out: IO[str]) -> Iterator[Callable[[PullProgress], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=out), transient=False) as bars:
        total = bars.add_task("total", total=None)
        layers: dict[str, Any] = {}

        def show(progress: PullProgress) -> None:
            for layer in progress.layers:
                if layer.digest not in layers:
                    name = layer.digest.removeprefix("sha256:")[:12]
                    layers[layer.digest] = bars.add_task(name, total=layer.expected or None)
                bars.update(
                    layers[layer.digest], completed=layer.done, total=layer.expected or None
                )
            expected = progress.bytes_expected or None
            bars.update(
                total,
                description=f"total ({progress.phase.value})",
                completed=progress.bytes_done,
                total=expected,
            )

        yield show


@contextlib.contextmanager
def bulk_progress(stream: IO[str], total: int, description: str) -> Iterator[Callable[[], None]]:
    """A function to call once per item done. On a terminal it advances a transient
    bar (gone once the work ends) on ``stream``; elsewhere it does nothing."""
    if total < BULK_PROGRESS_AFTER or not _is_terminal(stream):
        yield lambda: None
        return
    with _counting_bars(stream) as bars:
        task = bars.add_task(description, total=total)
        yield lambda: bars.advance(task)


@contextlib.contextmanager
def prune_progress(stream: IO[str]) -> Iterator[Callable[[PruneItem, int, int], None] | None]:
    """The ``progress=`` of a library prune: on a terminal, a transient bar per step
    (``Removing containers``, ``pods``, ``images``) once a step removes at least
    :data:`BULK_PROGRESS_AFTER`; elsewhere None, so nothing is drawn or imported."""
    if not _is_terminal(stream):
        yield None
        return
    with _counting_bars(stream) as bars:
        steps: dict[str, Any] = {}

        def show(item: PruneItem, done: int, total: int) -> None:
            if total < BULK_PROGRESS_AFTER:
                return
            if item.kind not in steps:
                steps[item.kind] = bars.add_task(f"Removing {item.kind}s", total=total)
            bars.update(steps[item.kind], completed=done)

        yield show


@contextlib.contextmanager
def _counting_bars(stream: IO[str]) -> Iterator[Any]:
    """A ``rich`` Progress of ``n/total`` bars that vanish when the work ends (imported
    only here: a terminal is known to be there). Thread-safe, as the sync client's
    bulk work calls it from its threads."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as bars:
        yield bars


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or bare stream
        return False
