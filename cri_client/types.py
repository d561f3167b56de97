"""The values the library returns: immutable dataclasses and the state enums.

Every value type is a frozen, slotted :mod:`dataclasses` class, so
``dataclasses.replace()``, ``asdict()`` and ``fields()`` work on all of them, they
compare by value and they refuse assignment. A field that holds the CRI message a
value was made from (``raw``) is left out of ``==``, ``hash`` and ``repr``.
Objects that stand for something on the node and can act on it (``Pod``,
``Container``, ``Image``) are not values: they live in :mod:`cri_client`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from cri_client._core.messages import decode_json_values, timestamp
from cri_client._proto import api_pb2 as pb

__all__ = [
    "BulkOutcome",
    "ContainerEvent",
    "ContainerEventType",
    "ContainerState",
    "ContainerStats",
    "CrictlConfig",
    "Endpoint",
    "ExecResult",
    "FilesystemUsage",
    "ImageFsInfo",
    "LayerProgress",
    "LogRecord",
    "PodState",
    "PodStats",
    "PruneItem",
    "PruneReason",
    "PruneReport",
    "PullPhase",
    "PullProgress",
    "Resubscribed",
    "RuntimeCondition",
    "RuntimeHandler",
    "RuntimeStatus",
    "RuntimeVersion",
]

# --- states ------------------------------------------------------------------------------


class PodState(str, enum.Enum):
    """A pod sandbox's state (``SANDBOX_READY`` / ``SANDBOX_NOTREADY`` in the CRI)."""

    READY = "ready"
    NOT_READY = "notready"

    @classmethod
    def from_proto(cls, value: int) -> PodState:
        return cls.READY if value == pb.SANDBOX_READY else cls.NOT_READY

    def to_proto(self) -> pb.PodSandboxState:
        return pb.SANDBOX_READY if self is PodState.READY else pb.SANDBOX_NOTREADY


class ContainerState(str, enum.Enum):
    """A container's state (``CONTAINER_CREATED`` ... in the CRI)."""

    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"

    @classmethod
    def from_proto(cls, value: int) -> ContainerState:
        return next((v for k, v in _CONTAINER_STATES.items() if k == value), cls.UNKNOWN)

    def to_proto(self) -> pb.ContainerState:
        return next(k for k, v in _CONTAINER_STATES.items() if v is self)


_CONTAINER_STATES: dict[pb.ContainerState, ContainerState] = {
    pb.CONTAINER_CREATED: ContainerState.CREATED,
    pb.CONTAINER_RUNNING: ContainerState.RUNNING,
    pb.CONTAINER_EXITED: ContainerState.EXITED,
    pb.CONTAINER_UNKNOWN: ContainerState.UNKNOWN,
}

# --- the runtime -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A runtime socket and where its name came from (for messages and ``-D`` output).

    ``path`` is the socket's path, or ``host:port`` for an explicitly allowed TCP endpoint.
    """

    path: str
    source: str
    scheme: str = "unix"

    @property
    def url(self) -> str:
        """The gRPC target: ``unix:///path`` or ``dns:///host:port``."""
        return f"unix://{self.path}" if self.scheme == "unix" else f"dns:///{self.path}"


@dataclass(frozen=True, slots=True)
class CrictlConfig:
    """crictl's client config file (``/etc/crictl.yaml``): the options crictl reads
    from it, from :func:`cri_client.endpoint.load_crictl_config`.

    ``path`` is the file consulted (``/etc/crictl.yaml`` also when it does not
    exist); ``skipped`` says why ``/etc/crictl.yaml`` was ignored when it exists but
    is invalid (None otherwise). ``timeout`` is in seconds, 0 when not set;
    ``debug`` is None when not set.
    """

    path: str
    runtime_endpoint: str = ""
    image_endpoint: str = ""
    timeout: int = 0
    debug: bool | None = None
    pull_image_on_create: bool = False
    disable_pull_on_run: bool = False
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class RuntimeVersion:
    """The runtime's name and versions, e.g. ``containerd 2.1.9 (CRI v1)``."""

    runtime_name: str
    runtime_version: str
    runtime_api_version: str
    version: str
    raw: pb.VersionResponse = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.VersionResponse) -> RuntimeVersion:
        return cls(
            runtime_name=message.runtime_name,
            runtime_version=message.runtime_version,
            runtime_api_version=message.runtime_api_version,
            version=message.version,
            raw=message,
        )

    def __str__(self) -> str:
        return f"{self.runtime_name} {self.runtime_version} (CRI {self.runtime_api_version})"


@dataclass(frozen=True, slots=True)
class RuntimeCondition:
    """One condition the runtime reports, e.g. ``RuntimeReady`` or ``NetworkReady``."""

    type: str
    status: bool
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RuntimeHandler:
    """A runtime handler (``""`` is the default one) and what it supports."""

    name: str
    recursive_read_only_mounts: bool
    user_namespaces: bool


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    """The runtime's conditions, handlers and, with ``verbose=True``, its decoded info.

    ``ready`` and ``network_ready`` are the ``RuntimeReady`` and ``NetworkReady``
    conditions: kubelet considers a node usable only when both are true.
    """

    conditions: tuple[RuntimeCondition, ...]
    handlers: tuple[RuntimeHandler, ...]
    info: dict[str, Any] = field(hash=False)
    raw: pb.StatusResponse = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.StatusResponse) -> RuntimeStatus:
        return cls(
            conditions=tuple(
                RuntimeCondition(c.type, c.status, c.reason, c.message)
                for c in message.status.conditions
            ),
            handlers=tuple(
                RuntimeHandler(
                    h.name, h.features.recursive_read_only_mounts, h.features.user_namespaces
                )
                for h in message.runtime_handlers
            ),
            info=decode_json_values(message.info),
            raw=message,
        )

    def condition(self, type_: str) -> RuntimeCondition | None:
        """The condition of that type, or None when the runtime does not report it."""
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def ready(self) -> bool:
        condition = self.condition("RuntimeReady")
        return condition is not None and condition.status

    @property
    def network_ready(self) -> bool:
        condition = self.condition("NetworkReady")
        return condition is not None and condition.status

    @property
    def config(self) -> dict[str, Any] | None:
        """The runtime's configuration as it reports it (``verbose=True`` only)."""
        config = self.info.get("config")
        return config if isinstance(config, dict) else None


# --- exec, logs, events ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What a command run with ``Container.exec`` did: its exit code and its standard
    output and error, kept apart and as bytes (never decoded for you)."""

    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class BulkOutcome(Generic[Result]):
    """What bulk work (``cri.containers.exec_many()``, ``stop_many()``,
    ``remove_many()``, ``cri.pods.stop_many()``, ``remove_many()``) did to one
    container or pod: its ``result`` (an ``ExecResult`` for exec, the container or pod
    for stop, None for removal), or the ``error`` that call raised. One failure
    neither stops nor hides the others.

    >>> [(o.name, o.result.exit_code if o.ok else o.error) for o in outcomes]
    [('web', 0), ('db', ContainerNotRunningError(...))]
    """

    id: str
    """The container's or pod's id; the reference as given when it named nothing."""
    name: str
    result: Result | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (an exec that exits non-zero did)."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One line of a container's output: when the runtime read it, from which stream,
    and its text (UTF-8, undecodable bytes replaced; no newline; partial records
    joined, with the time of the first).

    ``timestamp`` is UTC, to the microsecond ``datetime`` holds; ``nanosecond`` keeps
    the runtime's last three digits (0-999), so rendered timestamps are exact.
    """

    timestamp: datetime
    stream: str
    message: str
    nanosecond: int = 0


class ContainerEventType(str, enum.Enum):
    """What happened to a container (``CONTAINER_*_EVENT`` in the CRI)."""

    CREATED = "created"
    STARTED = "started"
    STOPPED = "stopped"
    DELETED = "deleted"


_EVENT_TYPES = {
    pb.CONTAINER_CREATED_EVENT: ContainerEventType.CREATED,
    pb.CONTAINER_STARTED_EVENT: ContainerEventType.STARTED,
    pb.CONTAINER_STOPPED_EVENT: ContainerEventType.STOPPED,
    pb.CONTAINER_DELETED_EVENT: ContainerEventType.DELETED,
}


@dataclass(frozen=True, slots=True)
class ContainerEvent:
    """One container lifecycle event, with the Kubernetes identity of its container."""

    type: ContainerEventType
    container_id: str
    created_at: datetime | None
    pod_id: str
    pod_name: str
    pod_namespace: str
    pod_uid: str
    container_name: str
    """The container's name; ``""`` for a sandbox event and for DELETED (the runtime
    no longer has the container's status then)."""
    raw: pb.ContainerEventResponse = field(repr=False, compare=False)
    backlog: bool = False
    """True for an event created before the stream subscribed: the runtime kept it for
    a subscriber that was not there yet and hands it to the next one. Such events are
    only yielded by ``cri.events(include_backlog=True)``; they are history, not news."""

    @property
    def is_sandbox(self) -> bool:
        """True for the pod sandbox's own lifecycle, which containerd reports too."""
        return self.container_id == self.pod_id

    @classmethod
    def from_message(
        cls, message: pb.ContainerEventResponse, *, backlog: bool = False
    ) -> ContainerEvent:
        pod = message.pod_sandbox_status
        name = next(
            (s.metadata.name for s in message.containers_statuses if s.id == message.container_id),
            "",
        )
        return cls(
            type=_EVENT_TYPES.get(message.container_event_type, ContainerEventType.CREATED),
            container_id=message.container_id,
            created_at=timestamp(message.created_at),
            pod_id=pod.id,
            pod_name=pod.metadata.name,
            pod_namespace=pod.metadata.namespace,
            pod_uid=pod.metadata.uid,
            container_name=name,
            raw=message,
            backlog=backlog,
        )


@dataclass(frozen=True, slots=True)
class Resubscribed:
    """Yielded by an event stream (``cri.events()``) after it subscribed again: the
    previous subscription broke (a runtime restart) or the runtime ended it, and events
    that happened in between may be missing, since the CRI has no cursor to resume
    from. A consumer that keeps state from events lists the containers and pods again
    when it sees this; every event after it is delivered.

    It is a type of its own, not a :class:`ContainerEventType`, so that it has no
    container, pod or raw message to misread, and a type checker makes a consumer
    tell the two apart (``isinstance(event, Resubscribed)``, or ``case Resubscribed():``
    in a ``match``) before reading an event's fields. Only ``created_at`` is common.
    """

    created_at: datetime
    """When the new subscription was found working (the client's clock, UTC)."""
    reason: str
    """Why the previous subscription ended: the error that broke it (``str()`` of the
    :class:`~cri_client.errors.CRIError`), or ``"the runtime ended the stream"``."""


# --- usage -------------------------------------------------------------------------------


def _value(message: Any, name: str) -> int | None:
    """A ``UInt64Value`` field as an int, or None when the runtime left it unset."""
    return int(getattr(message, name).value) if message.HasField(name) else None


@dataclass(frozen=True, slots=True)
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
    """The share of one CPU core (200.0 = two cores busy), like ``crictl stats``.
    Here, from one message: the runtime's rate, 0.0 included, or None when it sent
    none. The clients' ``stats()`` calls also fill it from a second sample when the
    rate is missing, or is a 0 that the runtime may send without having measured
    anything (containerd: docs/events-and-stats.md)."""
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
            cpu_percent=None if nano_cores is None else nano_cores / 1e7,
            memory_working_set_bytes=_value(memory, "working_set_bytes"),
            memory_usage_bytes=_value(memory, "usage_bytes"),
            memory_rss_bytes=_value(memory, "rss_bytes"),
            memory_available_bytes=_value(memory, "available_bytes"),
            writable_layer_bytes=_value(layer, "used_bytes"),
            writable_layer_inodes=_value(layer, "inodes_used"),
            raw=message,
        )


@dataclass(frozen=True, slots=True)
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
            cpu_percent=None if nano_cores is None else nano_cores / 1e7,
            memory_working_set_bytes=_value(memory, "working_set_bytes"),
            memory_usage_bytes=_value(memory, "usage_bytes"),
            network_rx_bytes=_value(network, "rx_bytes") if network.name else None,
            network_tx_bytes=_value(network, "tx_bytes") if network.name else None,
            process_count=_value(linux.process, "process_count"),
            containers=tuple(ContainerStats.from_message(c) for c in linux.containers),
            raw=message,
        )


@dataclass(frozen=True, slots=True)
class FilesystemUsage:
    """Usage of one filesystem the runtime stores images or containers on."""

    mountpoint: str
    used_bytes: int
    inodes_used: int
    timestamp: datetime | None

    @classmethod
    def from_message(cls, message: pb.FilesystemUsage) -> FilesystemUsage:
        return cls(
            mountpoint=message.fs_id.mountpoint,
            used_bytes=int(message.used_bytes.value),
            inodes_used=int(message.inodes_used.value),
            timestamp=timestamp(message.timestamp),
        )


@dataclass(frozen=True, slots=True)
class ImageFsInfo:
    """``cri.images.fs_info()``: containerd refreshes the numbers every 10 s, and
    reports 0 bytes until its first pass."""

    image_filesystems: tuple[FilesystemUsage, ...]
    container_filesystems: tuple[FilesystemUsage, ...]

    @classmethod
    def from_message(cls, reply: pb.ImageFsInfoResponse) -> ImageFsInfo:
        return cls(
            tuple(FilesystemUsage.from_message(fs) for fs in reply.image_filesystems),
            tuple(FilesystemUsage.from_message(fs) for fs in reply.container_filesystems),
        )


def _fs_dict(info: ImageFsInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None

    def usage(fs: FilesystemUsage) -> dict[str, Any]:
        moment = fs.timestamp.isoformat() if fs.timestamp else None
        return {
            "mountpoint": fs.mountpoint,
            "used_bytes": fs.used_bytes,
            "inodes_used": fs.inodes_used,
            "timestamp": moment,
        }

    return {
        "image_filesystems": [usage(fs) for fs in info.image_filesystems],
        "container_filesystems": [usage(fs) for fs in info.container_filesystems],
    }


# --- prune -------------------------------------------------------------------------------


class PruneReason(str, enum.Enum):
    """Why a prune removed, or kept, one item (docs/operations.md#prune). The first
    four select an item for removal; the others keep it."""

    UNUSED = "unused"
    """An image no container, pod or runtime setting uses."""
    EXITED = "exited"
    """A container that exited (before ``exited_before`` ago, when given)."""
    NOT_READY = "not_ready"
    """A pod whose sandbox is not ready (stopped), with no running container (nor one
    of unknown state)."""
    NO_RUNNING_CONTAINERS = "no_running_containers"
    """A ready pod none of whose containers runs, may run or is about to start
    (``no_running_containers=True``)."""
    IN_USE = "in_use"
    """An image a container references by id, tag or digest, in any state."""
    SANDBOX_IMAGE = "sandbox_image"
    """The runtime's sandbox (pause) image, or the one a pod's sandbox runs."""
    PINNED = "pinned"
    """An image the runtime pins (never garbage-collected)."""
    KEEP_PATTERN = "keep_pattern"
    """An image with a tag or digest that matched a ``keep`` pattern."""
    TOO_YOUNG = "too_young"
    """Younger than ``min_age`` / exited less than ``exited_before`` ago, or of an age
    the runtime does not tell."""
    RUNNING = "running"
    """A running container, or a pod with one: never removed."""
    NOT_STARTED = "not_started"
    """A container created and never started, or a ready pod with one: it may be about
    to start."""
    STATE_UNKNOWN = "state_unknown"
    """A container whose state the runtime does not know, or a pod with one: it may be
    running."""
    READY = "ready"
    """A ready pod (``no_running_containers=False``)."""
    FAILED = "failed"
    """Selected, but the runtime refused to remove it (``detail`` has its error)."""


@dataclass(frozen=True, slots=True)
class PruneItem:
    """One candidate of a prune: what it is, whether the plan selected it for removal,
    whether it was removed, and why (``reason``, with ``detail`` in words: the
    container that uses an image, the pattern that matched, the runtime's error)."""

    kind: str
    """``"container"``, ``"pod"`` or ``"image"``."""
    id: str
    name: str
    """A container's name, a pod's ``namespace/name``, an image's first tag (or digest)."""
    selected: bool
    """The plan removes it (in a dry run: would remove it)."""
    removed: bool
    """It was removed: False in a dry run, for kept items and for failures."""
    reason: PruneReason
    detail: str
    size: int | None = None
    """An image's size as the runtime reports it (bytes); None for containers and pods."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (the reason by its value)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "selected": self.selected,
            "removed": self.removed,
            "reason": self.reason.value,
            "detail": self.detail,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune planned and did: every candidate (:class:`PruneItem`), the bytes
    the selected images take (``bytes_expected``: the runtime's sizes, so shared layers
    and compression make the real gain differ), and, unless it was a dry run, the
    image filesystem usage before and after (containerd refreshes it every 10 s, so
    ``fs_after`` may not show the gain yet)."""

    items: tuple[PruneItem, ...]
    dry_run: bool
    bytes_expected: int
    fs_before: ImageFsInfo | None = None
    fs_after: ImageFsInfo | None = None

    @property
    def removed(self) -> tuple[PruneItem, ...]:
        return tuple(item for item in self.items if item.removed)

    @property
    def kept(self) -> tuple[PruneItem, ...]:
        """The items the plan did not select (failures are in :attr:`failed`)."""
        return tuple(item for item in self.items if not item.selected)

    @property
    def failed(self) -> tuple[PruneItem, ...]:
        return tuple(item for item in self.items if item.reason is PruneReason.FAILED)

    @property
    def ok(self) -> bool:
        """No selected item failed to go."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict for scripts (``cri-client rmi --prune -o json`` prints it)."""
        return {
            "dry_run": self.dry_run,
            "bytes_expected": self.bytes_expected,
            "items": [item.to_dict() for item in self.items],
            "fs_before": _fs_dict(self.fs_before),
            "fs_after": _fs_dict(self.fs_after),
        }


# --- pull progress -------------------------------------------------------------------------


class PullPhase(str, enum.Enum):
    """Where a pull is: ``RESOLVING`` (the reference, the manifest; also all a runtime
    without progress shows until the end), ``DOWNLOADING`` (layers are being fetched),
    ``UNPACKING`` (every layer seen is fetched, the runtime unpacks them), ``DONE``."""

    RESOLVING = "resolving"
    DOWNLOADING = "downloading"
    UNPACKING = "unpacking"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class LayerProgress:
    """One layer of a pull: its digest, bytes fetched and bytes it has (``expected``)."""

    digest: str
    done: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.expected > 0 and self.done >= self.expected


@dataclass(frozen=True, slots=True)
class PullProgress:
    """One look at a running pull (``cri.images.pull(ref, progress=...)``,
    ``cri.images.pull_progress(ref)``).

    ``layers`` are those the runtime has shown so far, in the order first seen;
    ``bytes_done`` and ``bytes_expected`` add them up and never decrease. The last
    value (``phase`` DONE) lists every layer of the image's manifest, all complete,
    and names the image (``image_id``). ``detailed`` is False when the runtime does
    not show downloads (CRI-O, or a containerd socket that refuses its content
    service): only ``phase`` and ``elapsed`` move then (docs/images.md)."""

    reference: str
    phase: PullPhase
    elapsed: float
    layers: tuple[LayerProgress, ...] = ()
    bytes_done: int = 0
    bytes_expected: int = 0
    detailed: bool = True
    image_id: str = ""

    @property
    def fraction(self) -> float | None:
        """bytes_done / bytes_expected, None while nothing is expected yet."""
        return self.bytes_done / self.bytes_expected if self.bytes_expected else None
