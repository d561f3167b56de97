"""A progress bar for bulk work (``rm -a``, ``stop -a``, ``rmp -a``, ``rmi``, ``exec``
over filters), drawn on stderr only when stderr is a terminal: scripts see nothing,
and stderr stays empty on success. ``rich`` is imported only then, so neither the
library nor a command run from a script loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["PROGRESS_AFTER", "progress"]

PROGRESS_AFTER = 2
"""Items from which a bulk command shows a bar: one item is over before a bar helps."""


@contextmanager
def progress(stream: IO[str], total: int, description: str) -> Iterator[Callable[[], None]]:
    """A function to call once per item done. On a terminal it advances a transient
    bar (gone once the work ends) on ``stream``; elsewhere it does nothing."""
    if total < PROGRESS_AFTER or not _is_terminal(stream):
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=stream)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or bare stream
        return False
