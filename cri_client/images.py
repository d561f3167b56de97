"""Images: ``cri.images.pull(...)``, ``.list()``, ``.get()``, ``.remove()``, ``.fs_info()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cri_client import _listing
from cri_client._model import RuntimeObject, resolve_reference, timestamp
from cri_client._proto import api_pb2 as pb
from cri_client.auth import auth_config
from cri_client.errors import NotFoundError
from cri_client.validation import check_image_reference, check_reference

if TYPE_CHECKING:
    from cri_client.client import CRIClient

__all__ = ["FilesystemUsage", "Image", "ImageFsInfo", "ImageManager"]

AuthSpec = pb.AuthConfig | Mapping[str, str] | tuple[str, str]


class Image(RuntimeObject):
    """An image in the runtime's store; ``raw`` is the CRI ``Image`` message."""

    raw: pb.Image

    def __init__(self, client: CRIClient, raw: pb.Image) -> None:
        self._client = client
        self.raw = raw

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

    def reload(self) -> Image:
        """Fetch the current status (one RPC) and return self."""
        self.raw = self._client.images._status(self.id)
        return self

    def remove(self, missing_ok: bool = False) -> None:
        """Remove the image (every tag of it)."""
        self._client.images.remove(self.id, missing_ok=missing_ok)

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
        return f"<Image {tag}>"


@dataclass(frozen=True)
class FilesystemUsage:
    """Usage of one filesystem the runtime stores images or containers on."""

    mountpoint: str
    used_bytes: int
    inodes_used: int
    timestamp: datetime | None


@dataclass(frozen=True)
class ImageFsInfo:
    """``cri.images.fs_info()``: containerd refreshes the numbers every 10 s, and
    reports 0 bytes until its first pass."""

    image_filesystems: tuple[FilesystemUsage, ...]
    container_filesystems: tuple[FilesystemUsage, ...]


def _usage(message: pb.FilesystemUsage) -> FilesystemUsage:
    return FilesystemUsage(
        mountpoint=message.fs_id.mountpoint,
        used_bytes=int(message.used_bytes.value),
        inodes_used=int(message.inodes_used.value),
        timestamp=timestamp(message.timestamp),
    )


class ImageManager:
    """``cri.images``: pull, find and remove images."""

    def __init__(self, client: CRIClient) -> None:
        self._client = client

    def pull(self, reference: str, auth: AuthSpec | None = None) -> Image:
        """Pull an image and return it. Credentials: ``auth`` (an ``AuthConfig``, a
        dict of its fields, or ``(username, password)``), else the docker/podman
        credential files (:mod:`cri_client.auth`), else anonymous.

        >>> cri.images.pull("127.0.0.1:5000/busybox:1.35").size
        1062400
        """
        check_image_reference(reference)
        credentials = _auth(auth) if auth is not None else auth_config(reference)
        request = pb.PullImageRequest(image=pb.ImageSpec(image=reference), auth=credentials)
        image_ref = self._client.api.pull_image(request).image_ref
        return Image(self._client, self._status(image_ref))

    def get(self, reference: str) -> Image:
        """An image by reference (``repo:tag``, ``repo@digest``), id, or unique id prefix."""
        check_reference(reference, "image")
        reply = self._client.api.image_status(image={"image": reference})
        if reply.HasField("image"):
            return Image(self._client, reply.image)
        listed = self._client._lister.list(_listing.IMAGES)
        found = resolve_reference(
            "image",
            reference.removeprefix("sha256:"),
            listed,
            lambda image: image.id.removeprefix("sha256:"),
            lambda image: (*image.repo_tags, *image.repo_digests),
        )
        return Image(self._client, found)

    def exists(self, reference: str) -> bool:
        """Whether the runtime has the image (one RPC, no error when it has not)."""
        check_reference(reference, "image")
        return self._client.api.image_status(image={"image": reference}).HasField("image")

    def list(self, reference: str | None = None) -> list[Image]:
        """All images, or those whose tag or digest is ``reference`` or whose
        repository is ``reference`` (``crictl images busybox``)."""
        images = [Image(self._client, raw) for raw in self._client._lister.list(_listing.IMAGES)]
        if reference is None:
            return images
        return [image for image in images if _names_match(reference, image)]

    def remove(self, reference: str, *, missing_ok: bool = False) -> None:
        """Remove an image by reference, id or id prefix."""
        try:
            image = self.get(reference)
        except NotFoundError:
            if missing_ok:
                return
            raise
        target = reference if reference in image.repo_tags else image.id
        self._client.api.remove_image(image={"image": target})

    def fs_info(self) -> ImageFsInfo:
        """Space used by the image and container filesystems."""
        reply = self._client.api.image_fs_info()
        return ImageFsInfo(
            tuple(_usage(fs) for fs in reply.image_filesystems),
            tuple(_usage(fs) for fs in reply.container_filesystems),
        )

    def _status(self, reference: str) -> pb.Image:
        reply = self._client.api.image_status(image={"image": reference})
        if not reply.HasField("image"):
            raise NotFoundError(
                f"image {reference!r} not found", rpc="ImageStatus", object_id=f"image={reference}"
            )
        return reply.image


def _names_match(reference: str, image: Image) -> bool:
    if reference in image.repo_tags or reference in image.repo_digests:
        return True
    return any(tag.rsplit(":", 1)[0] == reference for tag in image.repo_tags)


def _auth(auth: AuthSpec) -> pb.AuthConfig:
    if isinstance(auth, pb.AuthConfig):
        return auth
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise ValueError("auth as a tuple must be (username, password)")
        return pb.AuthConfig(username=auth[0], password=auth[1])
    if isinstance(auth, Mapping):
        return pb.AuthConfig(**auth)
    raise ValueError("auth must be an AuthConfig, a dict of its fields or (username, password)")
