"""Taking stats samples: twice when the runtime does not compute ``cpu_percent``, or
one every interval as a stream.

Written once for asyncio; ``cri_client/_sampling.py`` is generated from it for the
sync client by ``scripts/unasync.py``. The numbers are :mod:`cri_client.stats`'.
"""

from __future__ import annotations

from asyncio import sleep
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from time import monotonic

from cri_client.stats import Stats, with_cpu_percent
from cri_client.validation import check_seconds


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
