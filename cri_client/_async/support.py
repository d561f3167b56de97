"""The loops and helpers behind the asyncio client's calls: blocking work off the event
loop, log directories, lists that prefer the ``Stream*`` RPCs, stats sampling, and
following a log.

Written once for asyncio; ``cri_client/_sync/support.py`` is generated from it by
``scripts/unasync.py``. What these loops compute (stats numbers, log records) is
:mod:`cri_client._core`'s.
"""

from __future__ import annotations

import os
from asyncio import sleep, to_thread
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from time import monotonic
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from google.protobuf.message import Message

from cri_client import _api
from cri_client._core.defaults import LOG_POLL_INTERVAL
from cri_client._core.stats import (
    Stats,
    has_zero_rate,
    needs_second_sample,
    with_cpu_percent,
    without_zero_rate,
)
from cri_client._core.validation import check_seconds
from cri_client._rpc import AsyncInvoker, Rpc
from cri_client.errors import UnimplementedError

if TYPE_CHECKING:
    # Loaded when a log is followed: most programs never read a log file.
    from cri_client._async.logstream import AsyncLogStream
    from cri_client._core.logfile import LogFollower, Since

P = ParamSpec("P")
T = TypeVar("T")
Item = TypeVar("Item", bound=Message)

# --- blocking work -------------------------------------------------------------------------


async def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, so other tasks run meanwhile
    (reading and parsing a whole log file). The sync flavour simply calls it."""
    return await to_thread(function, *args, **kwargs)


# --- log directories -----------------------------------------------------------------------


def make_directory(path: str) -> bool:
    """Create ``path`` (its missing parents too); True when this call created ``path``
    itself, so a failure can remove exactly what it made and never a directory that was
    there before (``mkdir`` decides, not a look beforehand: two callers cannot both
    believe they made it)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return False
    return True


def remove_directory(path: str) -> None:
    """Remove ``path`` and what is in it, quietly (it may be gone already)."""
    import shutil  # here: at module level it costs every import ~4 ms (bz2, lzma)

    shutil.rmtree(path, ignore_errors=True)


# --- lists ---------------------------------------------------------------------------------


class ListRoute(Generic[Item]):
    """A unary list RPC, its streaming twin (KEP 5825), and the repeated field each
    puts items in. A unary list reply is capped by the gRPC message size; the
    streaming variants split it."""

    def __init__(
        self, unary: Rpc[Any, Any], unary_field: str, stream: Rpc[Any, Any], stream_field: str
    ) -> None:
        self.unary = unary
        self.unary_field = unary_field
        self.stream = stream
        self.stream_field = stream_field


POD_SANDBOXES: ListRoute[Any] = ListRoute(
    _api.LIST_POD_SANDBOX, "items", _api.STREAM_POD_SANDBOXES, "pod_sandboxes"
)
CONTAINERS: ListRoute[Any] = ListRoute(
    _api.LIST_CONTAINERS, "containers", _api.STREAM_CONTAINERS, "containers"
)
IMAGES: ListRoute[Any] = ListRoute(_api.LIST_IMAGES, "images", _api.STREAM_IMAGES, "images")
CONTAINER_STATS: ListRoute[Any] = ListRoute(
    _api.LIST_CONTAINER_STATS, "stats", _api.STREAM_CONTAINER_STATS, "container_stats"
)
POD_SANDBOX_STATS: ListRoute[Any] = ListRoute(
    _api.LIST_POD_SANDBOX_STATS, "stats", _api.STREAM_POD_SANDBOX_STATS, "pod_sandbox_stats"
)


class AsyncLister:
    """Lists through one client, preferring ``Stream*`` until the runtime says it has
    none (remembered per client: a set add is atomic, so threads need no lock)."""

    def __init__(self, invoker: AsyncInvoker) -> None:
        self._invoker = invoker
        self._unimplemented: set[str] = set()

    def uses_stream(self, route: ListRoute[Any]) -> bool:
        """Whether the next list on this route will try the streaming RPC."""
        return route.stream.name not in self._unimplemented

    async def list(self, route: ListRoute[Item], filter: Message | None = None) -> list[Item]:
        fields = {} if filter is None else {"filter": filter}
        if self.uses_stream(route):
            try:
                replies = self._invoker.stream(route.stream, None, dict(fields), None)
                return [
                    item async for reply in replies for item in getattr(reply, route.stream_field)
                ]
            except UnimplementedError:
                self._unimplemented.add(route.stream.name)
        reply = await self._invoker.unary(route.unary, None, fields, None)
        return list(getattr(reply, route.unary_field))


# --- stats -------------------------------------------------------------------------------


async def sample_twice(
    sample: Callable[[], Awaitable[Sequence[Stats]]],
    key: Callable[[Stats], str],
    interval: float,
    zero_is_measured: Callable[[], Awaitable[bool]],
) -> list[Stats]:
    """Samples with ``cpu_percent`` set: one sample when the runtime computes it, else a
    second one ``interval`` seconds later (one RPC each, however many objects). No
    second sample for objects without CPU time (not running): it would tell nothing."""
    check_seconds(interval, "interval", allow_zero=False)
    first = await measured(await sample(), zero_is_measured)
    if not any(needs_second_sample(s) for s in first):
        return first
    await sleep(interval)
    earlier = {key(s): s for s in first}
    later = await measured(await sample(), zero_is_measured)
    return [with_cpu_percent(earlier.get(key(s)), s) for s in later]


async def sample_stream(
    sample: Callable[[], Awaitable[Stats]],
    interval: float,
    count: int | None,
    zero_is_measured: Callable[[], Awaitable[bool]],
) -> AsyncIterator[Stats]:
    """Samples every ``interval`` seconds (``count`` of them, or until the caller
    stops), each with ``cpu_percent`` from the runtime or from the previous sample."""
    previous: Stats | None = None
    taken = 0
    while count is None or taken < count:
        started = monotonic()
        (current,) = await measured([await sample()], zero_is_measured)
        current = with_cpu_percent(previous, current)
        if previous is not None or not needs_second_sample(current):
            yield current
            taken += 1
        previous = current
        await sleep(max(0.0, interval - (monotonic() - started)))


async def measured(
    samples: Sequence[Stats], zero_is_measured: Callable[[], Awaitable[bool]]
) -> list[Stats]:
    """``samples`` without the CPU rates of 0 that this runtime may send unmeasured
    (``zero_is_measured()`` is asked only when there is such a 0, so a runtime that
    sends none costs no extra RPC)."""
    if any(has_zero_rate(s) for s in samples) and not await zero_is_measured():
        return [without_zero_rate(s) for s in samples]
    return list(samples)


# --- logs ----------------------------------------------------------------------------------


def follow_lines(
    open_follower: Callable[[], Awaitable[LogFollower]], is_running: Callable[[], Awaitable[bool]]
) -> AsyncLogStream:
    """Lines from the follower (made on the first step: finding the file may take an
    RPC) until it is done, or the container stopped and one more poll brought nothing,
    or the stream is closed; the files are closed when this ends or is closed."""
    from cri_client._async.logstream import AsyncLogStream

    async def lines(pause: Callable[[float], Awaitable[bool]]) -> AsyncGenerator[str]:
        follower = await open_follower()
        with follower:
            for line in await blocking(follower.start):  # the whole file, maybe rotated ones
                yield line
            while not follower.done:
                polled = follower.poll()
                if polled is None:
                    if follower.stopping:
                        break
                    follower.stopping = not await is_running()
                    if await pause(follower.interval):
                        return  # closed: what is left unread stays so
                else:
                    for line in polled:
                        yield line
            for line in follower.finish():
                yield line

    return AsyncLogStream(lines)


def follow(
    path: str,
    *,
    is_running: Callable[[], Awaitable[bool]],
    tail: int | None = None,
    since: Since | None = None,
    stream: str | None = None,
    timestamps: bool = False,
    limit_bytes: int | None = None,
    poll_interval: float = LOG_POLL_INTERVAL,
) -> AsyncLogStream:
    """The log's lines as text (each ending with a newline), then new ones as they
    are written, like ``kubectl logs -f``.

    It starts with what ``read_records`` gives for ``tail``/``since``/``stream`` and
    then polls every ``poll_interval`` seconds. It survives rotation: when ``path`` is
    a new file (renamed away and recreated, e.g. after ``ReopenContainerLog``), the old
    file is read to its end first and the new one from its start; a file that shrank
    (copytruncate) is read again from its start. It ends once ``is_running()`` is
    False and one more poll brings nothing, or after ``limit_bytes``. Arguments are
    checked and the file looked up now; files are opened on the first step and closed
    when the stream ends or is closed: ``await lines.aclose()`` (also while another
    reader waits for output there: it ends promptly) or the end of ``async with lines``.
    """
    from cri_client._core.logfile import LogFollower

    follower = LogFollower(path, tail, since, stream, timestamps, limit_bytes, poll_interval)

    async def opened() -> LogFollower:
        return follower

    return follow_lines(opened, is_running)
