"""CPU usage from two stats samples, for runtimes that do not compute it themselves.

``cpu_percent`` is the share of one CPU core (200.0 = two cores busy), like
``crictl stats``. It is meaningful on the first call: the runtime's own
``usage_nano_cores`` when it reports one (0 included, unless the runtime sends 0
also when it has measured nothing: ``runtimes.zero_cpu_rate_is_measured``), else
two samples of the cumulative CPU time ``interval`` seconds apart (the sampling
loops are in ``support``). A sample without cumulative CPU time (a container that
is not running) gains nothing from a second one.
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


def needs_second_sample(sample: Stats) -> bool:
    """Whether a later sample would give ``sample`` the ``cpu_percent`` it lacks: only
    when it has cumulative CPU time to take the difference of (an exited container
    reports none)."""
    return sample.cpu_percent is None and sample.cpu_usage_core_nanoseconds is not None


def has_zero_rate(sample: Stats) -> bool:
    """Whether the runtime sent a CPU rate of 0 in ``sample`` (or, for a pod, in one of
    its containers' samples)."""
    if sample.cpu_usage_nano_cores == 0:
        return True
    return isinstance(sample, PodStats) and any(has_zero_rate(c) for c in sample.containers)


def without_zero_rate(sample: Stats) -> Stats:
    """``sample`` with each ``cpu_percent`` that rests on a runtime's rate of 0 unset,
    for runtimes whose 0 may be no measurement at all: the caller computes it from
    two samples instead. ``cpu_usage_nano_cores`` keeps what the runtime sent."""
    unset = replace(sample, cpu_percent=None) if sample.cpu_usage_nano_cores == 0 else sample
    if isinstance(unset, PodStats):
        return replace(unset, containers=tuple(without_zero_rate(c) for c in unset.containers))
    return unset
