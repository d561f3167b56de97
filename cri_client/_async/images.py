"""Images: ``cri.images.pull(...)``, ``.list()``, ``.get()``, ``.remove()``, ``.fs_info()``.

Written once for asyncio (:class:`AsyncImage`, :class:`AsyncImageManager`);
``cri_client/_sync/images.py`` (``Image``, ``ImageManager``) is generated from it by
``scripts/unasync.py``. What an image shows is :class:`cri_client._core.views.ImageView`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import grpc

from cri_client._async import support
from cri_client._async.concurrency import InBackground
from cri_client._core.auth import (
    Credentials,
    explicit_credentials,
    find_credentials,
    note_credentials,
)
from cri_client._core.defaults import (
    BULK_PARALLELISM,
    PULL_PROGRESS_INTERVAL,
    PULL_PROGRESS_RPC_TIMEOUT,
)
from cri_client._core.model import resolve_reference
from cri_client._core.progress import PullTracker, manifest_content, repo_digests
from cri_client._core.public import publish
from cri_client._core.requests import AuthSpec, auth_from
from cri_client._core.runtimes import (
    CONTAINERD_CRI_NAMESPACE,
    CONTENT_LIST_STATUSES,
    CONTENT_READ,
    IMAGE_ID_LIKE,
    image_id_hex,
    image_status_query,
    progress_service_missing,
)
from cri_client._core.validation import check_callback, check_image_reference, check_reference
from cri_client._core.views import ImageView, image_named, image_names
from cri_client._proto import api_pb2 as pb
from cri_client._proto.containerd import content_pb2
from cri_client._rpc import RPC_LOG, takes_rpc_timeout
from cri_client.errors import CRIError, NotFoundError
from cri_client.types import ImageFsInfo, PruneItem, PruneReport, PullProgress

if TYPE_CHECKING:
    from cri_client._async.client import AsyncCRIClient

__all__ = ["AsyncImage", "AsyncImageManager"]

_NAMESPACE = (("containerd-namespace", CONTAINERD_CRI_NAMESPACE),)


class AsyncImage(ImageView):
    """An image in the runtime's store; ``raw`` is the CRI ``Image`` message."""

    def __init__(self, client: AsyncCRIClient, raw: pb.Image) -> None:
        self._client = client
        self.raw = raw

    async def reload(self) -> AsyncImage:
        """Fetch the current status (one RPC) and return self."""
        self.raw = await self._client.images._status(self.id)
        return self

    @takes_rpc_timeout
    async def remove(self, *, missing_ok: bool = False, rpc_timeout: float | None = None) -> None:
        """Remove the image (every tag of it)."""
        await self._client.images.remove(self.id, missing_ok=missing_ok)


class AsyncImageManager:
    """``cri.images``: pull, find and remove images."""

    def __init__(self, client: AsyncCRIClient) -> None:
        self._client = client
        self._no_progress_service = False  # learnt once per client, said once

    @takes_rpc_timeout
    async def pull(
        self,
        reference: str,
        auth: AuthSpec | None = None,
        *,
        progress: Callable[[PullProgress], object] | None = None,
        rpc_timeout: float | None = None,
    ) -> AsyncImage:
        """Pull an image and return it. Credentials: ``auth`` (an ``AuthConfig``, a
        dict of its fields, or ``(username, password)``), else docker's config.json
        (its credential helpers too) and podman's auth.json (docs/images.md), else
        anonymous. A failed pull's message names the registry and which of these
        was used, never a secret; a failing helper raises ``CredentialHelperError``.
        ``progress`` is called with a :class:`PullProgress` about four times a second
        while the pull runs, and once at the end (see :meth:`pull_progress`).

        >>> (await cri.images.pull("127.0.0.1:5000/busybox:1.35")).size
        1062400
        """
        if progress is None:
            request, credentials = await self._pull_request(reference, auth)
            reply = await self._pull(request, credentials)
            return AsyncImage(self._client, await self._status(reply.image_ref))
        check_callback(progress)
        pulled: list[pb.Image] = []
        async for value in self._watch_pull(reference, auth, pulled):
            progress(value)
        return AsyncImage(self._client, pulled[0])

    def pull_progress(
        self, reference: str, auth: AuthSpec | None = None
    ) -> AsyncIterator[PullProgress]:
        """Pull an image, yielding its progress: a :class:`PullProgress` about four
        times a second (``PULL_PROGRESS_INTERVAL``), the last one with phase DONE and
        the image's id. Bytes come from containerd's content store, watched on the
        same socket while the CRI pull runs; where the runtime has no such service
        (CRI-O), only the phase and elapsed time move. Credentials as :meth:`pull`.
        Leaving the loop early cancels the pull (its PullImage RPC), in both
        flavours; so does a ``progress`` callback of :meth:`pull` that raises.

        >>> async for p in cri.images.pull_progress("127.0.0.1:5000/busybox:1.35"):
        ...     print(p.phase.value, p.bytes_done, p.bytes_expected)
        resolving 0 0
        downloading 1048576 2228224
        done 2228224 2228224
        """
        return self._watch_pull(reference, auth, [])

    async def _watch_pull(
        self, reference: str, auth: AuthSpec | None, pulled: list[pb.Image]
    ) -> AsyncIterator[PullProgress]:
        """The pull with its progress; the image is appended to ``pulled`` before the
        last value (so that ``pull`` needs no second ImageStatus)."""
        request, credentials = await self._pull_request(reference, auth)
        started = time.monotonic()
        tracker = PullTracker(reference, time.time())
        watching = not self._no_progress_service
        pull = InBackground(lambda: self._pull(request, credentials))
        try:
            yield tracker.resolving(0.0, detailed=watching)
            while not await pull.wait(PULL_PROGRESS_INTERVAL):
                statuses = await self._ingests() if watching else None
                if statuses is None:
                    watching = False
                    yield tracker.resolving(time.monotonic() - started, detailed=False)
                else:
                    yield tracker.observe(statuses, time.monotonic() - started)
            reply = await pull.result()
            image = await self._status(reply.image_ref)
            pulled.append(image)
            layers = await self._manifest_layers(image) if watching else None
            yield tracker.finish(image.id, layers, time.monotonic() - started)
        finally:
            pull.cancel()

    async def _pull_request(
        self, reference: str, auth: AuthSpec | None
    ) -> tuple[pb.PullImageRequest, Credentials]:
        """The PullImage request and the credentials it carries (validated first)."""
        check_image_reference(reference)
        if auth is not None:
            credentials = explicit_credentials(reference, auth_from(auth))
        else:  # a worker thread: this reads files and may run a credential helper
            credentials = await support.blocking(find_credentials, reference)
        request = pb.PullImageRequest(image=pb.ImageSpec(image=reference), auth=credentials.auth)
        return request, credentials

    async def _pull(
        self, request: pb.PullImageRequest, credentials: Credentials
    ) -> pb.PullImageResponse:
        try:
            return await self._client.api.pull_image(request)
        except CRIError as error:
            note_credentials(error, credentials)
            raise

    async def _ingests(self) -> list[content_pb2.Status] | None:
        """containerd's in-flight downloads (content ``ListStatuses`` in CRI's
        namespace): ``[]`` when one look failed, ``None`` when the runtime has no
        content service (learnt once per client and said once, at DEBUG)."""
        call = self._client._invoker.containerd_callable(
            CONTENT_LIST_STATUSES, content_pb2.ListStatusesResponse
        )
        try:
            reply = await call(
                content_pb2.ListStatusesRequest(),
                timeout=PULL_PROGRESS_RPC_TIMEOUT,
                metadata=_NAMESPACE,
            )
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""
            if not progress_service_missing(code.name, details):
                return []
            self._no_progress_service = True
            RPC_LOG.debug(
                "pull progress: %s offers no containerd content service (%s: %s); "
                "reporting only phases and elapsed time",
                self._client.image_endpoint.url,
                code.name,
                details,
            )
            return None
        return list(reply.statuses)

    async def _manifest_layers(self, image: pb.Image) -> tuple[tuple[str, int], ...] | None:
        """The layers (digest, size) of the image's manifest, read from containerd's
        content store; None when it cannot be read (the last value then lists the
        layers that were seen)."""
        pending = repo_digests(image.repo_digests)
        while pending:
            content = manifest_content(await self._read_blob(pending.pop(0)))
            pending[:0] = content.children
            if content.config == image.id:
                return content.layers
        return None

    async def _read_blob(self, digest: str) -> bytes:
        """A small blob of containerd's content store (a manifest), or b"" if unreadable."""
        call = self._client._invoker.containerd_callable(
            CONTENT_READ, content_pb2.ReadContentResponse, server_streaming=True
        )
        chunks = []
        try:
            async for chunk in call(
                content_pb2.ReadContentRequest(digest=digest),
                timeout=PULL_PROGRESS_RPC_TIMEOUT,
                metadata=_NAMESPACE,
            ):
                chunks.append(chunk.data)
        except grpc.RpcError:
            return b""
        return b"".join(chunks)

    @takes_rpc_timeout
    async def get(
        self, reference: str | AsyncImage, *, rpc_timeout: float | None = None
    ) -> AsyncImage:
        """An image by reference (``repo:tag``, ``repo@digest``), id, unique id prefix,
        or an image object (fetched again). Ids and prefixes work with or without
        ``sha256:`` on every runtime (containerd reports ``sha256:<hex>``, CRI-O bare
        hex): one ImageStatus, and a list when that finds nothing."""
        if isinstance(reference, AsyncImage):
            reference = reference.id
        check_reference(reference, "image")
        reply = await self._client.api.image_status(image={"image": image_status_query(reference)})
        if reply.HasField("image"):
            return AsyncImage(self._client, reply.image)
        listed = await self._client._lister.list(support.IMAGES)
        found = resolve_reference(
            "image",
            image_id_hex(reference),
            listed,
            lambda image: image_id_hex(image.id),
            image_names,
        )
        return AsyncImage(self._client, found)

    @takes_rpc_timeout
    async def exists(self, reference: str, *, rpc_timeout: float | None = None) -> bool:
        """Whether the runtime has the image, without an error when it has not: one
        ImageStatus, and for what may be an id or id prefix (either runtime's form) a
        list when that finds nothing."""
        check_reference(reference, "image")
        reply = await self._client.api.image_status(image={"image": image_status_query(reference)})
        if reply.HasField("image") or not IMAGE_ID_LIKE.match(reference):
            return reply.HasField("image")
        wanted = image_id_hex(reference)
        listed = await self._client._lister.list(support.IMAGES)
        return any(image_id_hex(image.id).startswith(wanted) for image in listed)

    @takes_rpc_timeout
    async def list(
        self, *, reference: str | None = None, rpc_timeout: float | None = None
    ) -> list[AsyncImage]:
        """All images, or those whose tag or digest is ``reference`` or whose
        repository is ``reference`` (``crictl images busybox``)."""
        listed = await self._client._lister.list(support.IMAGES)
        images = [AsyncImage(self._client, raw) for raw in listed]
        if reference is None:
            return images
        return [image for image in images if image_named(reference, image)]

    @takes_rpc_timeout
    async def remove(
        self,
        reference: str | AsyncImage,
        *,
        missing_ok: bool = False,
        rpc_timeout: float | None = None,
    ) -> None:
        """Remove an image by reference, id, id prefix or object. A tag removes that
        tag (the image goes with its last one); an id or object removes every tag."""
        if isinstance(reference, AsyncImage):
            reference = reference.id
        try:
            image = await self.get(reference)
        except NotFoundError:
            if missing_ok:
                return
            raise
        target = reference if reference in image.repo_tags else image.id
        await self._client.api.remove_image(image={"image": target})

    @takes_rpc_timeout
    async def prune(
        self,
        *,
        keep: str | Iterable[str] = (),
        min_age: timedelta | float | None = None,
        dry_run: bool = False,
        parallel: int = BULK_PARALLELISM,
        progress: Callable[[PruneItem, int, int], object] | None = None,
        rpc_timeout: float | None = None,
    ) -> PruneReport:
        """Remove the images nothing uses, at most ``parallel`` at a time, and report
        every image with the reason it was removed or kept. Never removed: an image a
        container of any state references (by id, tag or digest), the sandbox image,
        a pinned image; also kept: those matching a ``keep`` pattern (fnmatch on tags
        and digests, e.g. ``"*/pause:*"``) and, with ``min_age``, younger ones
        (docs/operations.md says from when). The containers are listed again just
        before the removals. ``report.bytes_expected`` is what the selected images
        take; ``dry_run`` removes nothing.
        ``progress(item, done, total)``, when given, is called as each removal ends
        (``item`` as it ended; ``done`` of ``total`` removals of this step).

        >>> report = await cri.images.prune(keep=["*/base:*"], dry_run=True)
        >>> [(item.name, item.reason.value) for item in report.items]
        [('127.0.0.1:5000/busybox:1.35', 'in_use'), ('127.0.0.1:5000/old:1', 'unused')]
        """
        from cri_client._async.prune import ImageOptions, Pruner

        pruner = Pruner(self._client, dry_run, parallel, progress)
        options = ImageOptions(keep, min_age)
        return await pruner.report(lambda: pruner.images(options))

    @takes_rpc_timeout
    async def fs_info(self, *, rpc_timeout: float | None = None) -> ImageFsInfo:
        """Space used by the image and container filesystems."""
        return ImageFsInfo.from_message(await self._client.api.image_fs_info())

    async def _status(self, reference: str) -> pb.Image:
        reply = await self._client.api.image_status(image={"image": reference})
        if not reply.HasField("image"):
            raise NotFoundError(
                f"image {reference!r} not found", rpc="ImageStatus", object_id=f"image={reference}"
            )
        return reply.image


publish(AsyncImage, AsyncImageManager)
