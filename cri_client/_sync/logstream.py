"""A followed log with threads: :class:`LogStream` (``ctr.logs(follow=True)``,
``cri_client.logs.follow``), which another thread can close.

The twin of :mod:`cri_client._async.logstream`. What is read and when is the
generator's in ``cri_client._sync.support.follow_lines`` (over
:mod:`cri_client._core.logfile`); this module only owns its stopping: a generator
cannot be closed while another thread runs it ("generator already executing").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator

from cri_client._core.public import publish

__all__ = ["LogStream"]


class LogStream(Iterator[str]):
    """The lines of a followed log, as they are written, until the container stops
    or :meth:`close` (from any thread) or the end of a ``with`` block::

        with ctr.logs(follow=True) as lines:
            for line in lines:
                print(line, end="")

    A ``next()`` blocked in another thread waiting for output returns promptly
    (StopIteration) once closed, and the log files are closed then. One thread reads
    at a time: a second one calling ``next()`` meanwhile gets RuntimeError.
    """

    def __init__(self, lines: Callable[[Callable[[float], bool]], Generator[str]]) -> None:
        self._stop = threading.Event()
        self._guard = threading.Lock()  # _reading, and closing the generator
        self._reading = False
        self._lines = lines(self._pause)

    def _pause(self, seconds: float) -> bool:
        """The follower's idle wait: True once the stream is closed (at once then)."""
        return self._stop.wait(seconds)

    def __iter__(self) -> LogStream:
        return self

    def __next__(self) -> str:
        with self._guard:
            if self._stop.is_set():
                raise StopIteration
            if self._reading:
                raise RuntimeError("another thread is already reading this log stream")
            self._reading = True
        try:
            return next(self._lines)
        finally:
            with self._guard:
                self._reading = False
                if self._stop.is_set():
                    self._lines.close()  # closed meanwhile: release the files now

    def close(self) -> None:
        """Stop following and close the log files; a ``next()`` waiting in another
        thread returns (StopIteration) promptly and closes them as it does."""
        with self._guard:
            self._stop.set()
            if not self._reading:
                self._lines.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


publish(LogStream)
