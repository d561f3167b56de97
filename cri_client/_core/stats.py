"""CPU usage from two stats samples, for runtimes that do not compute it themselves.

``cpu_percent`` is the share of one CPU core (200.0 = two cores busy), like
``crictl stats``. It is meaningful on the first call: the runtime's own
``usage_nano_cores`` when it reports one, else two samples of the cumulative CPU
time ``interval`` seconds apart (the sampling loops are in ``support``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from cri_client.types import ContainerStats, PodStats

Stats = TypeVar("Stats", ContainerStats, PodStats)


def cpu_percent_between(before: Stats, after: Stats) -> float | None:
    """CPU use between two samples of the same object, as % of one core."""
    used_before, used_after = before.cpu_usage_core_nanoseconds, after.cpu_usage_core_nanoseconds
    if used_before is None or used_after is None or before.timestamp is None:
        return None
    if after.timestamp is None or after.timestamp <= before.timestamp:
        return None
    elapsed_ns = (after.timestamp - before.timestamp).total_seconds() * 1e9
    return max(0.0, (used_after - used_before) / elapsed_ns * 100)


def with_cpu_percent(previous: Stats | None, current: Stats) -> Stats:
    """``current`` with ``cpu_percent`` filled from ``previous`` when the runtime left it out."""
    if current.cpu_percent is not None or previous is None:
        return current
    return replace(current, cpu_percent=cpu_percent_between(previous, current))
