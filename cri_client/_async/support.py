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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from time import monotonic
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from google.protobuf.message import Message

from cri_client import _api
from cri_client._core.defaults import LOG_POLL_INTERVAL
from cri_client._core.stats import Stats, with_cpu_percent
from cri_client._core.validation import check_seconds
from cri_client._rpc import AsyncInvoker, Rpc
from cri_client.errors import UnimplementedError

if TYPE_CHECKING:
    # Loaded when a log is followed: most programs never read a log file.
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
) -> list[Stats]:
    """Samples with ``cpu_percent`` set: one sample when the runtime computes it, else a
    second one ``interval`` seconds later (one RPC each, however many objects)."""
    check_seconds(interval, "interval", allow_zero=False)
    first = list(await sample())
    if all(s.cpu_percent is not None for s in first):
        return first
    await sleep(interval)
    earlier = {key(s): s for s in first}
    return [with_cpu_percent(earlier.get(key(s)), s) for s in await sample()]


async def sample_stream(
    sample: Callable[[], Awaitable[Stats]], interval: float, count: int | None = None
) -> AsyncIterator[Stats]:
    """Samples every ``interval`` seconds (``count`` of them, or until the caller
    stops), each with ``cpu_percent`` from the runtime or from the previous sample."""
    previous: Stats | None = None
    taken = 0
    while count is None or taken < count:
        started = monotonic()
        current = with_cpu_percent(previous, await sample())
        if previous is not None or current.cpu_percent is not None:
            yield current
            taken += 1
        previous = current
        await sleep(max(0.0, interval - (monotonic() - started)))


# --- logs ----------------------------------------------------------------------------------


async def follow_lines(
    open_follower: Callable[[], Awaitable[LogFollower]], is_running: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """Lines from the follower (made on the first step: finding the file may take an
    RPC) until it is done, or the container stopped and one more poll brought nothing;
    the files are closed when this ends or is closed."""
    follower = await open_follower()
    with follower:
        for line in await blocking(follower.start):  # the whole file, maybe rotated ones
            yield line
        while not follower.done:
            lines = follower.poll()
            if lines is None:
                if follower.stopping:
                    break
                follower.stopping = not await is_running()
                await sleep(follower.interval)
            else:
                for line in lines:
                    yield line
        for line in follower.finish():
            yield line


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
) -> AsyncIterator[str]:
    """The log's lines as text (each ending with a newline), then new ones as they
    are written, like ``kubectl logs -f``.

    It starts with what ``read_records`` gives for ``tail``/``since``/``stream`` and
    then polls every ``poll_interval`` seconds. It survives rotation: when ``path`` is
    a new file (renamed away and recreated, e.g. after ``ReopenContainerLog``), the old
    file is read to its end first and the new one from its start; a file that shrank
    (copytruncate) is read again from its start. It ends once ``is_running()`` is
    False and one more poll brings nothing, or after ``limit_bytes``. Arguments are
    checked and the file looked up now; files are opened on the first step and closed
    when the iterator ends or is closed (``await lines.aclose()``, or
    ``contextlib.aclosing``, releases them at once).
    """
    from cri_client._core.logfile import LogFollower

    follower = LogFollower(path, tail, since, stream, timestamps, limit_bytes, poll_interval)

    async def opened() -> LogFollower:
        return follower

    return follow_lines(opened, is_running)
