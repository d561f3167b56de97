"""What pods, containers and images show: properties over the CRI message, ``to_dict``, ``repr``.

Shared by both clients: ``Pod``/``AsyncPod`` and the others add the calls to these
views. From ``get()`` an object carries the full status, from ``list()`` what the
list reply has.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cri_client._core.messages import timestamp
from cri_client._core.model import NamedObject, RuntimeObject
from cri_client._proto import api_pb2 as pb
from cri_client.types import ContainerState, PodState


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


def pod_names(pod: pb.PodSandbox) -> tuple[str, ...]:
    """The names a pod can be found by: ``name`` and ``namespace/name``."""
    return (pod.metadata.name, f"{pod.metadata.namespace}/{pod.metadata.name}")


POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
"""The labels kubelet puts on every container it creates, naming its pod."""


class ContainerView(NamedObject):
    """What a container object shows. Attributes mirror the CRI status in snake_case;
    those only the status has (``started_at``, ``finished_at``, ``exit_code``,
    ``reason``, ``message``, ``log_path``) are filled for containers from
    ``get()``/``create()``/``list(with_status=True)`` and after ``reload()``."""

    raw: pb.Container | pb.ContainerStatus
    pod_id: str
    pod_metadata: tuple[str, str] | None
    """The pod's (name, namespace) when the client read them from the pod."""

    @property
    def pod_name(self) -> str | None:
        """The pod's name: kubelet's ``io.kubernetes.pod.name`` label, else the pod's
        own metadata (read by the call that made this object), else None."""
        return self._pod_field(POD_NAME_LABEL, 0)

    @property
    def pod_namespace(self) -> str | None:
        """The pod's namespace, from the same sources as :attr:`pod_name`."""
        return self._pod_field(POD_NAMESPACE_LABEL, 1)

    def _pod_field(self, label: str, index: int) -> str | None:
        labels = self.raw.labels
        if has_pod_labels(labels):
            return labels[label]
        return None if self.pod_metadata is None else self.pod_metadata[index]

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
    def message(self) -> str:
        """The runtime's human-readable note on the last state change, if any."""
        status = self._status
        return status.message if status else ""

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
            "pod_name": self.pod_name,
            "pod_namespace": self.pod_namespace,
            "image": self.image,
            "image_ref": self.image_ref,
            "image_id": self.image_id,
            "state": self.state.value,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "exit_code": self.exit_code,
            "reason": self.reason,
            "message": self.message,
            "log_path": self.log_path,
            "labels": self.labels,
            "annotations": self.annotations,
        }

    def _describe(self) -> str:
        return f"container {self.id[:13]} ({self.name})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id[:13]} {self.name} {self.state.value}>"


def has_pod_labels(labels: Mapping[str, str]) -> bool:
    """Whether a container carries kubelet's labels naming its pod."""
    return POD_NAME_LABEL in labels and POD_NAMESPACE_LABEL in labels


def pod_name_and_namespace(
    pods: Mapping[str, pb.PodSandboxMetadata] | None, pod_id: str
) -> tuple[str, str] | None:
    """A pod's (name, namespace) from ``pods`` (pod id -> metadata), if it is there."""
    meta = (pods or {}).get(pod_id)
    return None if meta is None else (meta.name, meta.namespace)


def container_image_id(raw: pb.Container | pb.ContainerStatus) -> str:
    """``image_id`` is new in the CRI; older runtimes put the id in ``image_ref``."""
    if raw.image_id:
        return raw.image_id
    return raw.image_ref if raw.image_ref.startswith("sha256:") else ""


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


def image_names(image: pb.Image) -> tuple[str, ...]:
    """The names an image can be found by: its tags and digests."""
    return (*image.repo_tags, *image.repo_digests)


def image_named(reference: str, image: ImageView) -> bool:
    """``images.list(reference)``: a tag or digest, or the repository of a tag."""
    if reference in image.repo_tags or reference in image.repo_digests:
        return True
    return any(tag.rsplit(":", 1)[0] == reference for tag in image.repo_tags)


def container_names(
    reference: str, pods: Mapping[str, pb.PodSandboxMetadata], ctr: pb.Container
) -> tuple[str, ...]:
    """The names a container can be found by: its name, or ``namespace/pod/name`` when
    the reference has that form (``pods``: pod id -> metadata)."""
    if reference.count("/") != 2:
        return (ctr.metadata.name,)
    meta = pods.get(ctr.pod_sandbox_id)
    return (f"{meta.namespace}/{meta.name}/{ctr.metadata.name}",) if meta else ()
