"""The client: one persistent gRPC channel to the runtime's socket.

Written once for asyncio (:class:`AsyncCRIClient`, on ``grpc.aio``);
``cri_client/_sync/client.py`` (``CRIClient``, on grpcio's blocking calls) is generated
from it by ``scripts/unasync.py``. Requests, deadlines, error mapping and logging are
:mod:`cri_client._rpc`'s, the same for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from cri_client._api import AsyncLowLevelAPI
from cri_client._client_base import BaseClient, client_settings
from cri_client._core.configs import container_config, pod_sandbox_config
from cri_client._core.defaults import BULK_PARALLELISM, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT
from cri_client._core.public import publish
from cri_client._core.requests import ready_pod_exists
from cri_client._core.runtimes import zero_cpu_rate_is_measured
from cri_client._core.validation import check_image_reference, check_name, check_runtime_handler
from cri_client._rpc import AsyncInvoker, takes_rpc_timeout
from cri_client.errors import UnimplementedError, UnsupportedAPIVersionError, unsupported_api_error
from cri_client.types import PruneItem, PruneReport, RuntimeStatus, RuntimeVersion

if TYPE_CHECKING:
    from cri_client._async.containers import AsyncContainer, AsyncContainerManager
    from cri_client._async.events import AsyncEventStream
    from cri_client._async.images import AsyncImageManager
    from cri_client._async.pods import AsyncPodManager
    from cri_client._async.support import AsyncLister

__all__ = ["AsyncCRIClient"]


class AsyncCRIClient(BaseClient):
    """A client for a CRI runtime (containerd, CRI-O, ...) on this node.

    The socket is found like crictl finds it (see :mod:`cri_client.endpoint`); the
    channel is opened once and shared by every call. Use it as a context manager, or
    call :meth:`close`::

        async with AsyncCRIClient() as cri:
            print(await cri.version())
            ctr = await cri.run("busybox:1.36", name="web", command=["sleep", "1d"])
            print((await ctr.exec(["uname", "-r"])).stdout)

    Args:
        endpoint: ``unix:///path`` or ``/path`` of the runtime socket; discovered if None.
        image_endpoint: the image service socket, when it differs from the runtime's.
        timeout: the default deadline of a call, in seconds (see
            :class:`~cri_client._rpc.DeadlinePolicy` for the per-operation ones).
        max_message_size: the largest message sent or received, in bytes (16 MiB;
            gRPC's own default of 4 MiB is too small for a list on a busy node).
        allow_tcp: accept ``tcp://host:port`` endpoints. The CRI has no authentication,
            so they are refused unless asked for, and warn (InsecureEndpointWarning).
    """

    _invoker: AsyncInvoker

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        image_endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        allow_tcp: bool = False,
    ) -> None:
        self._invoker = AsyncInvoker(
            *client_settings(endpoint, image_endpoint, timeout, max_message_size, allow_tcp)
        )
        self.api = AsyncLowLevelAPI(self._invoker)
        """Every CRI RPC, one method each: see :class:`~cri_client._api.AsyncLowLevelAPI`."""
        self._events_unimplemented = False
        self._zero_cpu_rate_measured: bool | None = None

    # The managers are made on first use, and their modules imported then: a
    # command line that only asks the version or the status does not load them
    # (~4 ms of its start, docs/performance.md, section 10).

    @cached_property
    def pods(self) -> AsyncPodManager:
        """Pod sandboxes: :class:`~cri_client.aio.AsyncPodManager`."""
        from cri_client._async.pods import AsyncPodManager

        return AsyncPodManager(self)

    @cached_property
    def containers(self) -> AsyncContainerManager:
        """Containers: :class:`~cri_client.aio.AsyncContainerManager`."""
        from cri_client._async.containers import AsyncContainerManager

        return AsyncContainerManager(self)

    @cached_property
    def images(self) -> AsyncImageManager:
        """Images: :class:`~cri_client.aio.AsyncImageManager`."""
        from cri_client._async.images import AsyncImageManager

        return AsyncImageManager(self)

    @cached_property
    def _lister(self) -> AsyncLister:
        from cri_client._async.support import AsyncLister

        return AsyncLister(self._invoker)

    @takes_rpc_timeout
    async def version(self, *, rpc_timeout: float | None = None) -> RuntimeVersion:
        """The runtime's name and version, and the CRI version it speaks.

        >>> (await cri.version()).runtime_version
        '2.1.9'
        """
        try:
            return RuntimeVersion.from_message(await self.api.version(version="v1"))
        except UnimplementedError as err:
            if isinstance(err, UnsupportedAPIVersionError):
                raise
            if not await self._invoker.serves_v1alpha2():
                raise
            raise unsupported_api_error(err.details, "Version") from None

    async def _measures_zero_cpu_rate(self) -> bool:
        """Whether this runtime's CPU rate of 0 means idle (see
        ``_core.runtimes.zero_cpu_rate_is_measured``): its name is asked once, the
        first time a stats call gets a 0, and remembered."""
        if self._zero_cpu_rate_measured is None:
            name = (await self.version()).runtime_name
            self._zero_cpu_rate_measured = zero_cpu_rate_is_measured(name)
        return self._zero_cpu_rate_measured

    @takes_rpc_timeout
    async def status(
        self, *, verbose: bool = False, rpc_timeout: float | None = None
    ) -> RuntimeStatus:
        """The runtime's conditions and handlers; ``verbose=True`` adds its decoded
        info (containerd: its whole CRI config under ``config``)."""
        return RuntimeStatus.from_message(await self.api.status(verbose=verbose))

    @takes_rpc_timeout
    async def run(
        self,
        image: str,
        *,
        name: str,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str | bytes] | None = None,
        namespace: str = "default",
        labels: Mapping[str, str] | None = None,
        runtime_handler: str = "",
        host_network: bool = False,
        log_directory: str | None = None,
        pull: bool | None = None,
        rpc_timeout: float | None = None,
    ) -> AsyncContainer:
        """Pull (when missing), run a pod, create and start one container in it; the
        one verb for the common case, as ``docker run -d`` and ``crictl run``.

        ``name`` names both the pod and its container; labels go on both; a ready pod
        with that name in ``namespace`` is refused (AlreadyExistsError), as
        ``cri.pods.run`` refuses it, and before any pull. ``pull``:
        None pulls only a missing image, True always, False never. On any failure
        everything made so far is removed again, so nothing is left half-created
        (crictl leaves the sandbox behind), and the original error is raised.

        >>> ctr = await cri.run("busybox:1.35", name="web", command=["httpd", "-f"])
        >>> await (await ctr.pod()).remove(force=True)
        """
        check_image_reference(image)
        check_name(name, "name")
        check_runtime_handler(runtime_handler)
        # Every argument is checked before the first RPC (a pull can take minutes): the
        # configs pods.run and containers.create will make, made here once unsent.
        pod_config = pod_sandbox_config(
            name,
            namespace=namespace,
            labels=labels,
            host_network=host_network,
            log_directory=log_directory,
        )
        container_config(
            name, image, pod=pod_config, command=command, args=args, env=env, labels=labels
        )
        if pull or (pull is None and not await self.images.exists(image)):
            existing = await self.pods._ready_pod_named(name, namespace)  # not after a long pull
            if existing is not None:
                raise ready_pod_exists(existing)
            await self.images.pull(image)
        pod = await self.pods.run(
            name,
            namespace=namespace,
            labels=labels,
            runtime_handler=runtime_handler,
            host_network=host_network,
            log_directory=log_directory,
        )
        try:
            container = await self.containers.create(
                pod, name, image, command=command, args=args, env=env, labels=labels
            )
            return await container.start()
        except BaseException:
            await pod.remove(force=True, missing_ok=True)
            raise

    @takes_rpc_timeout
    async def prune(
        self,
        *,
        exited_before: timedelta | float | None = None,
        not_ready: bool = True,
        no_running_containers: bool = False,
        keep: str | Iterable[str] = (),
        min_age: timedelta | float | None = None,
        labels: Mapping[str, str] | str | None = None,
        dry_run: bool = False,
        parallel: int = BULK_PARALLELISM,
        progress: Callable[[PruneItem, int, int], object] | None = None,
        rpc_timeout: float | None = None,
    ) -> PruneReport:
        """Containers, then pods, then images, in the order that frees each for the
        next: the arguments are those of ``containers.prune()``, ``pods.prune()`` and
        ``images.prune()``, all checked before the first RPC; ``labels`` select the
        containers and pods (images have none: every unused image is a candidate).
        One report lists every candidate of the three steps. A dry run plans the
        later steps as if the earlier ones had removed what they selected.
        ``progress(item, done, total)``, when given, is called as each removal ends
        (``item`` as it ended; ``done`` of ``total`` removals of this step).

        >>> report = await cri.prune(exited_before=3600, min_age=timedelta(days=1))
        >>> print(report.bytes_expected, [i.name for i in report.failed])
        """
        from cri_client._async.prune import ContainerOptions, ImageOptions, PodOptions, Pruner

        pruner = Pruner(self, dry_run, parallel, progress)
        containers = ContainerOptions(exited_before)
        pods = PodOptions(not_ready, no_running_containers)
        images = ImageOptions(keep, min_age)
        return await pruner.report(
            lambda: pruner.containers(
                containers, labels, images_min_age=images.min_age is not None
            ),
            lambda: pruner.pods(pods, labels),
            lambda: pruner.images(images),
        )

    def events(
        self, *, resubscribe: bool = True, include_backlog: bool = False
    ) -> AsyncEventStream:
        """Container lifecycle events as they happen (``GetContainerEvents``), typed,
        resubscribing when the stream breaks. After a resubscription the stream yields
        a :class:`~cri_client.types.Resubscribed` marker: events may be missing before
        it, so list again. The runtime's backlog (events created before the stream
        subscribed, which containerd hands to a new subscriber) is skipped unless
        ``include_backlog=True``, which yields it marked ``backlog=True``.
        containerd 1.6 has no events: the first step raises UnimplementedError; a
        runtime with its events switched off (CRI-O's default) raises
        EventsDisabledError, an UnimplementedError, after a few empty subscriptions.

        >>> async with cri.events() as events:
        ...     async for event in events:
        ...         if isinstance(event, Resubscribed):
        ...             continue  # events may be missing before this: list again
        ...         print(event.type, event.pod_namespace, event.pod_name, event.container_name)
        """
        from cri_client._async.events import AsyncEventStream

        return AsyncEventStream(self, resubscribe, include_backlog)

    async def close(self) -> None:
        """Close the channel. Calls made afterwards raise ClientClosedError."""
        await self._invoker.close()

    async def __aenter__(self) -> AsyncCRIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


publish(AsyncCRIClient)
