"""The I/O-free half of pods, containers and images, shared by both clients.

What an object shows (properties over the CRI message, ``to_dict``, ``repr``), what a
listing asks the runtime and what it filters locally, and how results and failures
of exec become values and errors. The halves that call the runtime are written once
in ``cri_client/aio/`` and generated for the sync client (``scripts/unasync.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cri_client._model import (
    FULL_ID,
    ContainerState,
    NamedObject,
    PodState,
    RuntimeObject,
    decode_json_values,
    parse_state,
    regex_matches,
    timestamp,
)
from cri_client._proto import api_pb2 as pb
from cri_client._value import FrozenValue
from cri_client.errors import (
    CommandNotFoundError,
    CRIError,
    DeadlineExceededError,
    ExecTimeoutError,
    FailedPreconditionError,
    UnknownError,
)
from cri_client.validation import check_labels, check_seconds

DEFAULT_STOP_TIMEOUT = 10
"""Seconds between SIGTERM and SIGKILL in ``stop()``, as ``docker stop``."""

AuthSpec = pb.AuthConfig | Mapping[str, str] | tuple[str, str]
"""Registry credentials: an ``AuthConfig``, a dict of its fields, or (user, password)."""

# Runtime texts for "the program does not exist" (runc, crun, runsc, CRI-O's conmon).
_NOT_FOUND_TEXTS = ("no such file or directory", "executable file not found", "not found in $path")


# --- pods -------------------------------------------------------------------------------


class PodView(NamedObject):
    """What a pod object shows. From ``get()`` and ``run()`` it carries the full status
    (IP included); from ``list()`` only what the list reply has (``ip`` is None until
    ``reload()``). Attributes mirror the CRI fields in snake_case; ``raw`` is the
    message itself."""

    raw: pb.PodSandbox | pb.PodSandboxStatus

    @property
    def namespace(self) -> str:
        return self.raw.metadata.namespace

    @property
    def uid(self) -> str:
        return self.raw.metadata.uid

    @property
    def state(self) -> PodState:
        return PodState.from_proto(self.raw.state)

    @property
    def runtime_handler(self) -> str:
        return self.raw.runtime_handler

    @property
    def ip(self) -> str | None:
        """The pod's IP; ``None`` for a host-network pod, and for a listed pod until
        ``reload()`` (list replies carry no network status)."""
        if isinstance(self.raw, pb.PodSandboxStatus) and self.raw.network.ip:
            return self.raw.network.ip
        return None

    @property
    def ready(self) -> bool:
        return self.state is PodState.READY

    def to_dict(self) -> dict[str, Any]:
        """A stable JSON-safe dict: snake_case keys, ints, ISO timestamps, state names."""
        created = self.created_at
        return {
            "id": self.id,
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "attempt": self.attempt,
            "state": self.state.value,
            "created_at": created.isoformat() if created else None,
            "labels": self.labels,
            "annotations": self.annotations,
            "runtime_handler": self.runtime_handler,
            "ip": self.ip,
        }

    def _describe(self) -> str:
        return f"pod {self.id[:13]} ({self.namespace}/{self.name})"

    def __repr__(self) -> str:
        where = f"{self.namespace}/{self.name}"
        return f"<{type(self).__name__} {self.id[:13]} {where} {self.state.value}>"


def pod_filter(
    *, id: str | None, state: PodState | str | None, labels: Mapping[str, str] | None
) -> pb.PodSandboxFilter:
    """The server-side part of a pod listing: full ids, state and labels."""
    result = pb.PodSandboxFilter(label_selector=check_labels(labels, "labels"))
    if id is not None and FULL_ID.match(id):
        result.id = id
    if state is not None:
        result.state.state = parse_state(PodState, state).to_proto()
    return result


def select_pods(
    found: Sequence[pb.PodSandbox],
    *,
    id: str | None,
    name: str | None,
    namespace: str | None,
    runtime_handler: str | None,
) -> list[pb.PodSandbox]:
    """The client-side part of a pod listing, newest first: id prefix, name and
    namespace regular expressions (as crictl's flags), runtime handler."""
    pods = [
        pod
        for pod in found
        if (id is None or pod.id.startswith(id))
        and regex_matches(name, pod.metadata.name)
        and regex_matches(namespace, pod.metadata.namespace)
        and (runtime_handler is None or pod.runtime_handler == runtime_handler)
    ]
    return sorted(pods, key=lambda pod: pod.created_at, reverse=True)


def pod_names(pod: pb.PodSandbox) -> tuple[str, ...]:
    """The names a pod can be found by: ``name`` and ``namespace/name``."""
    return (pod.metadata.name, f"{pod.metadata.namespace}/{pod.metadata.name}")


def ready_pod_refused(pod: PodView) -> FailedPreconditionError:
    """Removing a ready pod without ``force``."""
    return FailedPreconditionError(
        f"{pod._describe()} is ready: stop it first or pass force=True",
        rpc="RemovePodSandbox",
        object_id=f"pod_sandbox_id={pod.id}",
    )


def sandbox_config_from(reply: pb.PodSandboxStatusResponse) -> pb.PodSandboxConfig:
    """The sandbox config from a verbose status: containerd's ``info`` carries it;
    otherwise rebuilt from the status (metadata, labels, annotations, namespaces)."""
    from google.protobuf import json_format

    config = decode_json_values(reply.info).get("info", {})
    if isinstance(config, dict) and isinstance(config.get("config"), dict):
        return json_format.ParseDict(
            config["config"], pb.PodSandboxConfig(), ignore_unknown_fields=True
        )
    status = reply.status
    return pb.PodSandboxConfig(
        metadata=status.metadata,
        labels=status.labels,
        annotations=status.annotations,
        linux=pb.LinuxPodSandboxConfig(
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=status.linux.namespaces.options
            )
        ),
    )


# --- containers -------------------------------------------------------------------------


class ExecResult(FrozenValue):
    """What a command run with ``Container.exec`` did: its exit code and its standard
    output and error, kept apart and as bytes (never decoded for you)."""

    _compared = __match_args__ = ("exit_code", "stdout", "stderr")
    exit_code: int
    stdout: bytes
    stderr: bytes

    def __init__(self, exit_code: int, stdout: bytes, stderr: bytes) -> None:
        self._init(exit_code=exit_code, stdout=stdout, stderr=stderr)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class ContainerView(NamedObject):
    """What a container object shows. Attributes mirror the CRI status in snake_case;
    those only the status has (``started_at``, ``exit_code``, ``log_path``...) are
    filled for containers from ``get()``/``create()`` and after ``reload()``."""

    raw: pb.Container | pb.ContainerStatus
    pod_id: str

    @property
    def image(self) -> str:
        """The image as it was asked for (a reference or an id)."""
        return self.raw.image.image

    @property
    def image_ref(self) -> str:
        """The runtime's digested reference to the image (containerd: the image id in
        lists, ``repo@sha256:<manifest digest>`` in a status)."""
        return self.raw.image_ref

    @property
    def image_id(self) -> str:
        """The image id (``sha256:...``) when the runtime reports it, else ``""``."""
        return container_image_id(self.raw)

    @property
    def state(self) -> ContainerState:
        return ContainerState.from_proto(self.raw.state)

    @property
    def started_at(self) -> datetime | None:
        status = self._status
        return timestamp(status.started_at) if status else None

    @property
    def finished_at(self) -> datetime | None:
        status = self._status
        return timestamp(status.finished_at) if status else None

    @property
    def exit_code(self) -> int | None:
        """The exit code once the container has exited, else None."""
        status = self._status
        if status is None or self.state is not ContainerState.EXITED:
            return None
        return status.exit_code

    @property
    def reason(self) -> str:
        status = self._status
        return status.reason if status else ""

    @property
    def log_path(self) -> str:
        status = self._status
        return status.log_path if status else ""

    @property
    def _status(self) -> pb.ContainerStatus | None:
        return self.raw if isinstance(self.raw, pb.ContainerStatus) else None

    def to_dict(self) -> dict[str, Any]:
        """A stable JSON-safe dict: snake_case keys, ints, ISO timestamps, state names."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "name": self.name,
            "attempt": self.attempt,
            "pod_id": self.pod_id,
            "image": self.image,
            "image_ref": self.image_ref,
            "image_id": self.image_id,
            "state": self.state.value,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "exit_code": self.exit_code,
            "reason": self.reason,
            "log_path": self.log_path,
            "labels": self.labels,
            "annotations": self.annotations,
        }

    def _describe(self) -> str:
        return f"container {self.id[:13]} ({self.name})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id[:13]} {self.name} {self.state.value}>"


def container_image_id(raw: pb.Container | pb.ContainerStatus) -> str:
    """``image_id`` is new in the CRI; older runtimes put the id in ``image_ref``."""
    if raw.image_id:
        return raw.image_id
    return raw.image_ref if raw.image_ref.startswith("sha256:") else ""


def pod_id_of(pod: PodView | str | None) -> str | None:
    """A pod argument (object or full id) as its id."""
    return pod.id if pod is not None and not isinstance(pod, str) else pod


def container_filter(
    *,
    all: bool,
    id: str | None,
    state: ContainerState | str | None,
    labels: Mapping[str, str] | None,
    pod_id: str | None,
) -> pb.ContainerFilter:
    """The server-side part of a container listing: running ones unless ``all`` or a
    ``state``; full ids, labels and the pod."""
    if state is None and not all:
        state = ContainerState.RUNNING
    result = pb.ContainerFilter(label_selector=check_labels(labels, "labels"))
    if id is not None and FULL_ID.match(id):
        result.id = id
    if pod_id:
        result.pod_sandbox_id = pod_id
    if state is not None:
        result.state.state = parse_state(ContainerState, state).to_proto()
    return result


def select_containers(
    found: Sequence[pb.Container],
    *,
    id: str | None,
    name: str | None,
    namespace: str | None,
    namespaces: Mapping[str, str],
    image: str | None,
) -> list[pb.Container]:
    """The client-side part of a container listing, newest first: id prefix, name and
    namespace regular expressions (``namespaces``: pod id -> namespace), image."""
    containers = [
        ctr
        for ctr in found
        if (id is None or ctr.id.startswith(id))
        and regex_matches(name, ctr.metadata.name)
        and (namespace is None or regex_matches(namespace, namespaces.get(ctr.pod_sandbox_id, "")))
        and (
            image is None
            or image in (ctr.image.image, ctr.image_ref)
            or ctr.image_ref.removeprefix("sha256:").startswith(image)
        )
    ]
    return sorted(containers, key=lambda ctr: ctr.created_at, reverse=True)


def container_names(
    reference: str, pods: Mapping[str, pb.PodSandboxMetadata], ctr: pb.Container
) -> tuple[str, ...]:
    """The names a container can be found by: its name, or ``namespace/pod/name`` when
    the reference has that form (``pods``: pod id -> metadata)."""
    if reference.count("/") != 2:
        return (ctr.metadata.name,)
    meta = pods.get(ctr.pod_sandbox_id)
    return (f"{meta.namespace}/{meta.name}/{ctr.metadata.name}",) if meta else ()


def running_container_refused(status: pb.ContainerStatus) -> FailedPreconditionError:
    """Removing a running container without ``force``."""
    return FailedPreconditionError(
        f"container {status.id[:13]} ({status.metadata.name}) is running: stop it first or "
        "pass force=True",
        rpc="RemoveContainer",
        object_id=f"container_id={status.id}",
    )


def stop_seconds(timeout: float) -> int:
    """``stop(timeout)`` as the CRI's whole seconds, checked."""
    return math.ceil(check_seconds(timeout, "timeout"))


def exec_limits(timeout: float | None, default: float) -> tuple[int, float | None]:
    """``exec(timeout=)`` as (the CRI's whole seconds, the gRPC deadline override):
    None is the client's default, ``math.inf`` no limit (0 and no deadline)."""
    if timeout == math.inf:
        return 0, math.inf
    if timeout is None:
        return math.ceil(default), None
    return math.ceil(check_seconds(timeout, "timeout", allow_zero=False)), None


def exec_failure(err: CRIError, command: Sequence[str], seconds: int) -> CRIError:
    """The error an ExecSync failure means: a timeout, a missing program, or itself."""
    if isinstance(err, DeadlineExceededError):
        return ExecTimeoutError(
            f"{list(command)!r} did not finish within {seconds} s ({err.details})",
            rpc="ExecSync",
            object_id=err.object_id,
        )
    if isinstance(err, UnknownError) and any(
        text in err.details.lower() for text in _NOT_FOUND_TEXTS
    ):
        return CommandNotFoundError(
            f"{command[0]!r} cannot be run in the container: {err.details}",
            rpc="ExecSync",
            object_id=err.object_id,
        )
    return err


def tty_from_inspect(inspected: Mapping[str, Any]) -> bool:
    """Whether a container was created with a TTY, from ``inspect()`` (containerd puts
    its config in the verbose info); False when the runtime does not say."""
    info = inspected["info"].get("info")
    config = info.get("config") if isinstance(info, dict) else None
    return bool(config.get("tty", False)) if isinstance(config, dict) else False


# --- images -----------------------------------------------------------------------------


class ImageView(RuntimeObject):
    """What an image object shows; ``raw`` is the CRI ``Image`` message."""

    raw: pb.Image

    @property
    def repo_tags(self) -> list[str]:
        return list(self.raw.repo_tags)

    @property
    def repo_digests(self) -> list[str]:
        return list(self.raw.repo_digests)

    @property
    def size(self) -> int:
        """Bytes, as the runtime counts them (containerd: the compressed size)."""
        return int(self.raw.size)

    @property
    def uid(self) -> int | None:
        """The uid the image runs as, when its user is numeric."""
        return self.raw.uid.value if self.raw.HasField("uid") else None

    @property
    def username(self) -> str:
        return self.raw.username

    @property
    def pinned(self) -> bool:
        """Pinned images (the sandbox image) are never garbage-collected."""
        return self.raw.pinned

    def to_dict(self) -> dict[str, Any]:
        """A stable JSON-safe dict with snake_case keys and ints."""
        return {
            "id": self.id,
            "repo_tags": self.repo_tags,
            "repo_digests": self.repo_digests,
            "size": self.size,
            "uid": self.uid,
            "username": self.username,
            "pinned": self.pinned,
        }

    def __repr__(self) -> str:
        tag = self.repo_tags[0] if self.repo_tags else self.id[:19]
        return f"<{type(self).__name__} {tag}>"


class FilesystemUsage(FrozenValue):
    """Usage of one filesystem the runtime stores images or containers on."""

    _compared = __match_args__ = ("mountpoint", "used_bytes", "inodes_used", "timestamp")
    mountpoint: str
    used_bytes: int
    inodes_used: int
    timestamp: datetime | None

    def __init__(
        self, mountpoint: str, used_bytes: int, inodes_used: int, timestamp: datetime | None
    ) -> None:
        self._init(
            mountpoint=mountpoint,
            used_bytes=used_bytes,
            inodes_used=inodes_used,
            timestamp=timestamp,
        )


class ImageFsInfo(FrozenValue):
    """``cri.images.fs_info()``: containerd refreshes the numbers every 10 s, and
    reports 0 bytes until its first pass."""

    _compared = __match_args__ = ("image_filesystems", "container_filesystems")
    image_filesystems: tuple[FilesystemUsage, ...]
    container_filesystems: tuple[FilesystemUsage, ...]

    def __init__(
        self,
        image_filesystems: tuple[FilesystemUsage, ...],
        container_filesystems: tuple[FilesystemUsage, ...],
    ) -> None:
        self._init(
            image_filesystems=image_filesystems, container_filesystems=container_filesystems
        )

    @classmethod
    def from_message(cls, reply: pb.ImageFsInfoResponse) -> ImageFsInfo:
        return cls(
            tuple(_usage(fs) for fs in reply.image_filesystems),
            tuple(_usage(fs) for fs in reply.container_filesystems),
        )


def _usage(message: pb.FilesystemUsage) -> FilesystemUsage:
    return FilesystemUsage(
        mountpoint=message.fs_id.mountpoint,
        used_bytes=int(message.used_bytes.value),
        inodes_used=int(message.inodes_used.value),
        timestamp=timestamp(message.timestamp),
    )


def image_names(image: pb.Image) -> tuple[str, ...]:
    """The names an image can be found by: its tags and digests."""
    return (*image.repo_tags, *image.repo_digests)


def image_named(reference: str, image: ImageView) -> bool:
    """``images.list(reference)``: a tag or digest, or the repository of a tag."""
    if reference in image.repo_tags or reference in image.repo_digests:
        return True
    return any(tag.rsplit(":", 1)[0] == reference for tag in image.repo_tags)


def auth_from(auth: AuthSpec) -> pb.AuthConfig:
    """Credentials given to ``pull()`` as an ``AuthConfig``."""
    if isinstance(auth, pb.AuthConfig):
        return auth
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise ValueError("auth as a tuple must be (username, password)")
        return pb.AuthConfig(username=auth[0], password=auth[1])
    if isinstance(auth, Mapping):
        return pb.AuthConfig(**auth)
    raise ValueError("auth must be an AuthConfig, a dict of its fields or (username, password)")
