"""Resource usage of containers and pods, as typed numbers.

``cpu_percent`` is the share of one CPU core (200.0 = two cores busy), like
``crictl stats``. It is meaningful on the first call: the runtime's own
``usage_nano_cores`` when it reports one, else two samples of the cumulative CPU
time ``interval`` seconds apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from cri_client._model import timestamp
from cri_client._proto import api_pb2 as pb

__all__ = ["ContainerStats", "PodStats"]


def _value(message: Any, name: str) -> int | None:
    """A ``UInt64Value`` field as an int, or None when the runtime left it unset."""
    return int(getattr(message, name).value) if message.HasField(name) else None


@dataclass(frozen=True)
class ContainerStats:
    """One sample of a container's usage. Fields are None when the runtime does not
    report them."""

    container_id: str
    name: str
    timestamp: datetime | None
    cpu_usage_core_nanoseconds: int | None
    """CPU time used since the container started, in nanoseconds (cumulative)."""
    cpu_usage_nano_cores: int | None
    """The runtime's own rate: nanoseconds of CPU per second, i.e. 1e9 = one core."""
    cpu_percent: float | None
    memory_working_set_bytes: int | None
    memory_usage_bytes: int | None
    memory_rss_bytes: int | None
    memory_available_bytes: int | None
    writable_layer_bytes: int | None
    writable_layer_inodes: int | None
    raw: pb.ContainerStats = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.ContainerStats) -> ContainerStats:
        cpu, memory, layer = message.cpu, message.memory, message.writable_layer
        nano_cores = _value(cpu, "usage_nano_cores")
        return cls(
            container_id=message.attributes.id,
            name=message.attributes.metadata.name,
            timestamp=timestamp(cpu.timestamp or memory.timestamp),
            cpu_usage_core_nanoseconds=_value(cpu, "usage_core_nano_seconds"),
            cpu_usage_nano_cores=nano_cores,
            cpu_percent=nano_cores / 1e7 if nano_cores else None,
            memory_working_set_bytes=_value(memory, "working_set_bytes"),
            memory_usage_bytes=_value(memory, "usage_bytes"),
            memory_rss_bytes=_value(memory, "rss_bytes"),
            memory_available_bytes=_value(memory, "available_bytes"),
            writable_layer_bytes=_value(layer, "used_bytes"),
            writable_layer_inodes=_value(layer, "inodes_used"),
            raw=message,
        )


@dataclass(frozen=True)
class PodStats:
    """One sample of a pod's usage (Linux), with its containers'."""

    pod_id: str
    name: str
    namespace: str
    timestamp: datetime | None
    cpu_usage_core_nanoseconds: int | None
    cpu_usage_nano_cores: int | None
    cpu_percent: float | None
    memory_working_set_bytes: int | None
    memory_usage_bytes: int | None
    network_rx_bytes: int | None
    network_tx_bytes: int | None
    process_count: int | None
    containers: tuple[ContainerStats, ...]
    raw: pb.PodSandboxStats = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.PodSandboxStats) -> PodStats:
        linux = message.linux
        cpu, memory = linux.cpu, linux.memory
        network = linux.network.default_interface
        nano_cores = _value(cpu, "usage_nano_cores")
        return cls(
            pod_id=message.attributes.id,
            name=message.attributes.metadata.name,
            namespace=message.attributes.metadata.namespace,
            timestamp=timestamp(cpu.timestamp or memory.timestamp),
            cpu_usage_core_nanoseconds=_value(cpu, "usage_core_nano_seconds"),
            cpu_usage_nano_cores=nano_cores,
            cpu_percent=nano_cores / 1e7 if nano_cores else None,
            memory_working_set_bytes=_value(memory, "working_set_bytes"),
            memory_usage_bytes=_value(memory, "usage_bytes"),
            network_rx_bytes=_value(network, "rx_bytes") if network.name else None,
            network_tx_bytes=_value(network, "tx_bytes") if network.name else None,
            process_count=_value(linux.process, "process_count"),
            containers=tuple(ContainerStats.from_message(c) for c in linux.containers),
            raw=message,
        )


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

