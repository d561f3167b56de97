"""Pod sandboxes: ``cri.pods.run(...)``, ``.list()``, ``.get()``, and the pod object.

Written once for asyncio (:class:`AsyncPod`, :class:`AsyncPodManager`);
``cri_client/_sync/pods.py`` (``Pod``, ``PodManager``) is generated from it by
``scripts/unasync.py``. What a pod shows is :class:`cri_client._core.views.PodView`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from cri_client._async import support
from cri_client._async.bulk import act_on_each
from cri_client._async.concurrency import all_at_once
from cri_client._core.configs import (
    default_log_directory,
    pod_sandbox_config,
    shares_log_directory,
)
from cri_client._core.defaults import BULK_PARALLELISM, DEFAULT_STOP_TIMEOUT, SAMPLE_INTERVAL
from cri_client._core.listing import container_filter, pod_filter, select_pods
from cri_client._core.messages import config_from_dict, decode_json_values, message_dict
from cri_client._core.model import FULL_ID, resolve_reference
from cri_client._core.public import publish
from cri_client._core.recreate import (
    ContainerChanges,
    container_config_from,
    latest_attempts,
    next_container_config,
    next_sandbox_config,
    recreate_failed,
    sandbox_config_from,
)
from cri_client._core.requests import (
    check_forced_grace_period,
    ready_pod_exists,
    ready_pod_refused,
    stop_seconds,
)
from cri_client._core.selectors import LabelSelector, label_selector
from cri_client._core.validation import (
    check_reference,
    check_runtime_handler,
    check_seconds,
)
from cri_client._core.views import PodView, pod_names
from cri_client._proto import api_pb2 as pb
from cri_client._rpc import takes_rpc_timeout
from cri_client.errors import CRIError, FailedPreconditionError, NotFoundError, RecreateError
from cri_client.types import BulkOutcome, PodState, PruneItem, PruneReport

if TYPE_CHECKING:
    from cri_client._async.client import AsyncCRIClient
    from cri_client._async.containers import AsyncContainer
    from cri_client._async.portforward import AsyncPortForward
    from cri_client.types import PodStats

__all__ = ["AsyncPod", "AsyncPodManager"]

T = TypeVar("T")


class AsyncPod(PodView):
    """A pod sandbox. From ``get()`` and ``run()`` it carries the full status (IP
    included); from ``list()`` only what the list reply has (``ip`` is None until
    :meth:`reload`).

    Attributes mirror the CRI fields in snake_case; ``raw`` is the message itself.
    """

    def __init__(
        self,
        client: AsyncCRIClient,
        raw: pb.PodSandbox | pb.PodSandboxStatus,
        config: pb.PodSandboxConfig | None = None,
    ) -> None:
        self._client = client
        self.raw = raw
        self._config = config

    @takes_rpc_timeout
    async def reload(self, *, rpc_timeout: float | None = None) -> AsyncPod:
        """Fetch the current status (one RPC) and return self."""
        self.raw = (await self._client.pods._status(self.id)).status
        return self

    @takes_rpc_timeout
    async def inspect(
        self, *, verbose: bool = True, rpc_timeout: float | None = None
    ) -> dict[str, Any]:
        """The status as a dict, and with ``verbose`` the runtime's decoded ``info``
        (containerd: the sandbox's config, PID, runtime spec), like ``crictl inspectp``."""
        reply = await self._client.pods._status(self.id, verbose=verbose)
        return {"status": message_dict(reply.status), "info": decode_json_values(reply.info)}

    @takes_rpc_timeout
    async def config(self, *, rpc_timeout: float | None = None) -> pb.PodSandboxConfig:
        """The config the pod was made with, which creating a container needs (the
        runtime puts container logs under its log directory). Known for pods made by
        ``run()``; otherwise read from the runtime's verbose status (containerd reports
        it), else rebuilt from the status (metadata, labels, annotations, namespaces).
        The message is the pod's own: copy it before changing it.

        >>> (await pod.config()).log_directory
        '/var/log/pods/default_web_0b5e1a7e-...'
        """
        if self._config is None:
            reply = await self._client.pods._status(self.id, verbose=True)
            self._config = sandbox_config_from(reply)
        return self._config

    @takes_rpc_timeout
    async def recreate(
        self,
        *,
        new_sandbox: bool | None = None,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        rpc_timeout: float | None = None,
    ) -> AsyncPod:
        """Recreate the pod's containers from their own configs, as kubelet restarts a
        pod: each container name's latest attempt is stopped (SIGKILL ``timeout``
        seconds after SIGTERM), removed, and created and started again with
        ``attempt + 1`` (see :meth:`AsyncContainer.recreate`; its logs of the run
        before stay readable with ``logs(previous=True)``).

        Where, as kubelet decides it: in this sandbox while it is ready; in a new
        sandbox when it is not (a sandbox that is not ready takes no new container), or
        when ``new_sandbox=True``. A new sandbox is made from :meth:`config` with the
        next attempt (one above every sandbox of this namespace, name and uid), the
        same uid and log directory and the same runtime handler, after the old one
        was stopped and removed (its log directory is kept). Returns the pod the
        containers now run in: this one, fetched again, or the new one.

        Every config is read, and every image looked up, before anything is stopped.
        A failure after that is a :class:`~cri_client.errors.RecreateError` saying
        what was removed and what exists now.

        >>> pod = await pod.recreate(timeout=5)
        """
        seconds = stop_seconds(timeout)
        reply = await self._client.pods._status(self.id, verbose=True)
        if self._config is None:
            self._config = sandbox_config_from(reply)
        ready = reply.status.state == pb.SANDBOX_READY
        if new_sandbox is False and not ready:
            raise FailedPreconditionError(
                f"{self._describe()} is not ready: its containers can only be recreated in "
                "a new sandbox (new_sandbox=True or None); nothing was changed",
                object_id=f"pod_sandbox_id={self.id}",
            )
        containers = self._client.containers
        listed = await self._listed_containers(all=True)
        latest = latest_attempts(listed)
        following = [
            next_container_config(
                container_config_from(
                    await self._client.api.container_status(container_id=ctr.id, verbose=True)
                ),
                ContainerChanges(),
                others=listed,
            )
            for ctr in latest
        ]
        for config in following:
            await containers._ensure_image(config.image.image, pull=False)
        if ready and not new_sandbox:
            return await self._recreate_in_place(latest, following, seconds)
        next_config = next_sandbox_config(
            self._config, others=await self._client._lister.list(support.POD_SANDBOXES)
        )
        return await self._recreate_in_new_sandbox(
            next_config, reply.status.runtime_handler, latest, following, seconds
        )

    async def _listed_containers(self, *, all: bool) -> list[pb.Container]:
        """The pod's containers as listed: every state, or (``all=False``) the running."""
        return await self._client._lister.list(
            support.CONTAINERS,
            container_filter(
                all=all, id=None, state=None, selector=LabelSelector(), pod_id=self.id
            ),
        )

    async def _recreate_in_place(
        self,
        latest: Sequence[pb.Container],
        following: Sequence[pb.ContainerConfig],
        seconds: int,
    ) -> AsyncPod:
        """Each container replaced in this sandbox, one after the other."""
        recreated: list[str] = []
        for old, config in zip(latest, following, strict=True):
            from cri_client._async.containers import AsyncContainer

            description = AsyncContainer(self._client, old, self.id)._describe()
            try:
                await self._client.containers._replace(old.id, description, self, config, seconds)
            except CRIError as err:
                if not recreated:
                    raise
                done = f"recreated {', '.join(recreated)} in {self._describe()}"
                earlier = [c.id for c in latest[: len(recreated)]]
                if not isinstance(err, RecreateError):  # the stop failed: nothing else changed
                    step = f"stopping {description}"
                    raise recreate_failed(done, step, err, removed=earlier, config=config) from err
                raise RecreateError(
                    f"{done}; {err.details}",
                    removed=[*earlier, *err.removed],
                    config=err.config,
                    rpc=err.rpc,
                    object_id=err.object_id,
                    code=err.code,
                ) from err.__cause__
            recreated.append(repr(old.metadata.name))
        return await self.reload()

    async def _recreate_in_new_sandbox(
        self,
        next_config: pb.PodSandboxConfig,
        runtime_handler: str,
        latest: Sequence[pb.Container],
        following: Sequence[pb.ContainerConfig],
        seconds: int,
    ) -> AsyncPod:
        """The pod stopped and its sandbox removed (not its log directory), then the
        next sandbox run and the containers started in it, in their old order."""
        try:
            await self._stop_all(seconds)
        except CRIError as err:  # some containers may be stopped already
            step = f"stopping {self._describe()} and its containers"
            then = "; the pod and its containers remain, some of them may be stopped"
            raise recreate_failed(
                "nothing was removed", step, err, removed=[], config=next_config, then=then
            ) from err
        try:
            await self._client.api.remove_pod_sandbox(pod_sandbox_id=self.id)
        except CRIError as err:
            stopped = f"stopped {self._describe()} and its containers"
            raise recreate_failed(
                stopped, "removing it", err, removed=[], config=next_config
            ) from err
        removed = [self.id, *(ctr.id for ctr in latest)]
        done = f"stopped and removed {self._describe()} and its containers"
        try:
            pod = await self._client.pods.run(
                next_config.metadata.name, config=next_config, runtime_handler=runtime_handler
            )
        except CRIError as err:
            raise recreate_failed(
                done, "running the new sandbox", err, removed=removed, config=next_config
            ) from err
        started: list[str] = []
        for config in following:
            where = f"{done}; ran {pod._describe()}"
            if started:
                where += f" and started {', '.join(started)} in it"
            await self._client.containers._start_new(pod, config, where, removed)
            started.append(repr(config.metadata.name))
        return pod

    @takes_rpc_timeout
    async def containers(
        self, *, all: bool = True, rpc_timeout: float | None = None
    ) -> list[AsyncContainer]:
        """The pod's containers (all states by default)."""
        return await self._client.containers.list(pod=self.id, all=all)

    def port_forward(self, remote_port: int, local_port: int = 0) -> AsyncPortForward:
        """Forward ``127.0.0.1:local_port`` (0: any free port, see ``.local_port``) to
        ``remote_port`` in the pod's network namespace, as ``kubectl port-forward``
        (CRI PortForward: each connection gets its own streaming URL). Use it as a
        context manager; see :class:`~cri_client.aio.AsyncPortForward`.

        >>> async with pod.port_forward(8080) as forward:
        ...     forward.local_port
        40123
        """
        from cri_client._async.portforward import AsyncPortForward

        async def open_url() -> str:
            reply = await self._client.api.port_forward(pod_sandbox_id=self.id, port=[remote_port])
            return reply.url

        return AsyncPortForward(
            open_url, remote_port, local_port, open_timeout=self._client.timeout
        )

    @takes_rpc_timeout
    async def stop(
        self, *, grace_period: float = DEFAULT_STOP_TIMEOUT, rpc_timeout: float | None = None
    ) -> AsyncPod:
        """Stop the pod as kubelet does: its running containers first, all at once, each
        with SIGTERM and SIGKILL ``grace_period`` seconds later (0: SIGKILL at once);
        then the sandbox, whose network is torn down. Returns self with its new status,
        as ``AsyncContainer.stop`` does.

        The containers are stopped here, not left to StopPodSandbox, because runtimes
        read that call differently: containerd kills them at once, CRI-O gives them
        what is left of the call's deadline (a minute, by default). Here the grace
        period is the caller's on every runtime.

        >>> await pod.stop(grace_period=0)   # what pod.remove(force=True) does
        """
        await self._stop_all(stop_seconds(grace_period, "grace_period"))
        return await self.reload()

    async def _stop_all(self, seconds: int) -> None:
        """The running containers, all at once, then the sandbox (see :meth:`stop`)."""
        running = await self._listed_containers(all=False)
        await all_at_once([partial(self._stop_container, ctr.id, seconds) for ctr in running])
        await self._client.api.stop_pod_sandbox(pod_sandbox_id=self.id)

    async def _stop_container(self, container_id: str, seconds: int) -> None:
        """StopContainer; a container removed meanwhile is as stopped as it gets."""
        with suppress(NotFoundError):
            await self._client.api.stop_container(container_id=container_id, timeout=seconds)

    async def wait_ready(self, timeout: float | None = None) -> AsyncPod:
        """Wait until the sandbox is ready (events where the runtime has them, status
        polling where not; a runtime restart is waited out); returns self. Raises
        WaitTimeoutError after ``timeout``."""
        from cri_client._async.events import wait_for

        if timeout is not None:
            check_seconds(timeout, "timeout")

        async def reached() -> bool:
            return (await self.reload()).ready

        await wait_for(
            self._client,
            f"{self._describe()} did not become ready",
            reached,
            lambda event: event.pod_id == self.id,
            timeout,
        )
        return self

    @takes_rpc_timeout
    async def stats(
        self, *, interval: float = SAMPLE_INTERVAL, rpc_timeout: float | None = None
    ) -> PodStats:
        """The pod's usage and its containers' (docs/events-and-stats.md)."""
        from cri_client._async.support import sample_twice
        from cri_client.types import PodStats

        async def sample() -> list[PodStats]:
            reply = await self._client.api.pod_sandbox_stats(pod_sandbox_id=self.id)
            return [PodStats.from_message(reply.stats)]

        zero_is_measured = self._client._measures_zero_cpu_rate
        return (await sample_twice(sample, lambda s: s.pod_id, interval, zero_is_measured))[0]

    @takes_rpc_timeout
    async def remove(
        self,
        *,
        force: bool = False,
        grace_period: float | None = None,
        missing_ok: bool = False,
        rpc_timeout: float | None = None,
    ) -> None:
        """Remove the pod and everything in it. A ready pod is refused unless ``force``,
        which stops it first (as ``crictl rmp -f``), its containers with
        ``grace_period`` seconds between SIGTERM and SIGKILL (default 0: at once).
        See :meth:`AsyncPodManager.remove`."""
        await self._client.pods.remove(
            self.id, force=force, grace_period=grace_period, missing_ok=missing_ok
        )


class AsyncPodManager:
    """``cri.pods``: run, find and remove pod sandboxes."""

    def __init__(self, client: AsyncCRIClient) -> None:
        self._client = client

    @takes_rpc_timeout
    async def run(
        self,
        name: str,
        *,
        namespace: str = "default",
        uid: str | None = None,
        attempt: int = 0,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        runtime_handler: str = "",
        host_network: bool = False,
        hostname: str | None = None,
        log_directory: str | None = None,
        dns: pb.DNSConfig | Mapping[str, Sequence[str]] | None = None,
        port_mappings: Sequence[pb.PortMapping | Mapping[str, Any]] = (),
        cgroup_parent: str | None = None,
        config: pb.PodSandboxConfig | Mapping[str, Any] | None = None,
        rpc_timeout: float | None = None,
    ) -> AsyncPod:
        """Create and start a pod sandbox, built like kubelet builds one
        (:func:`cri_client.configs.pod_sandbox_config` documents every default).

        A ready pod with this name in this namespace is refused (AlreadyExistsError
        naming it, one list RPC first): a second one would get a new uid and make every
        later lookup by name ambiguous. Pass ``uid`` or a non-zero ``attempt`` to make
        one anyway. The pod's log directory is created when missing, and removed again
        when the runtime refuses the pod.

        ``config`` takes a complete ``PodSandboxConfig`` instead of the other arguments
        (its uid is the caller's: no name check), or a dict of one in protobuf's JSON
        mapping (:func:`cri_client.configs.message_from_dict`).

        >>> pod = await cri.pods.run("web", labels={"app": "web"}, runtime_handler="runsc")
        >>> pod.ready, pod.ip
        (True, '10.88.0.7')
        """
        if isinstance(config, Mapping):
            config = config_from_dict(config, pb.PodSandboxConfig, "config")
        if config is not None and not isinstance(config, pb.PodSandboxConfig):
            raise TypeError(
                f"config must be a PodSandboxConfig or a dict, not {type(config).__name__}"
            )
        check_name_in_use = config is None and uid is None and attempt == 0
        if config is None:
            config = pod_sandbox_config(
                name,
                namespace=namespace,
                uid=uid,
                attempt=attempt,
                labels=labels,
                annotations=annotations,
                host_network=host_network,
                hostname=hostname,
                log_directory=log_directory,
                dns=dns,
                port_mappings=port_mappings,
                cgroup_parent=cgroup_parent,
            )
        check_runtime_handler(runtime_handler)
        if check_name_in_use:
            existing = await self._ready_pod_named(name, namespace)
            if existing is not None:
                raise ready_pod_exists(existing)
        created = bool(config.log_directory) and support.make_directory(config.log_directory)
        try:
            reply = await self._client.api.run_pod_sandbox(
                config=config, runtime_handler=runtime_handler
            )
        except BaseException:
            if created:
                support.remove_directory(config.log_directory)
            raise
        status = (await self._status(reply.pod_sandbox_id)).status
        return AsyncPod(self._client, status, config)

    async def _ready_pod_named(self, name: str, namespace: str) -> AsyncPod | None:
        """The ready pod with this name in this namespace, if there is one (one list)."""
        ready = await self._client._lister.list(
            support.POD_SANDBOXES,
            pod_filter(id=None, state=PodState.READY, selector=LabelSelector()),
        )
        for pod in ready:
            if (pod.metadata.name, pod.metadata.namespace) == (name, namespace):
                return AsyncPod(self._client, pod)
        return None

    @takes_rpc_timeout
    async def get(self, reference: str | AsyncPod, *, rpc_timeout: float | None = None) -> AsyncPod:
        """A pod by full id, unique id prefix, name, ``namespace/name``, or a pod
        object (fetched again: the result has the current status)."""
        pod_id = await self.resolve_id(reference)
        return AsyncPod(self._client, (await self._status(pod_id)).status)

    @takes_rpc_timeout
    async def resolve_id(
        self, reference: str | AsyncPod, *, rpc_timeout: float | None = None
    ) -> str:
        """The full id a pod reference means (see :meth:`get`): no RPC for a full id
        or an object, one list otherwise. Raises NotFoundError or
        AmbiguousReferenceError."""
        if isinstance(reference, AsyncPod):
            return reference.id
        check_reference(reference, "pod")
        if FULL_ID.match(reference):
            return reference
        listed = await self._client._lister.list(support.POD_SANDBOXES)
        found = resolve_reference("pod", reference, listed, lambda pod: pod.id, pod_names)
        return str(found.id)

    @takes_rpc_timeout
    async def stats(
        self,
        *,
        labels: Mapping[str, str] | str | None = None,
        id: str | None = None,
        interval: float = SAMPLE_INTERVAL,
        rpc_timeout: float | None = None,
    ) -> list[PodStats]:
        """Usage of many pods with one RPC per sample (``crictl statsp``): every pod,
        those ``labels`` select (a mapping or a selector string, as in :meth:`list`),
        or the one with the full ``id``. ``cpu_percent`` as in :meth:`AsyncPod.stats`.

        >>> [(s.name, s.cpu_percent, s.memory_working_set_bytes) for s in await cri.pods.stats()]
        [('web', 0.4, 2129920)]
        """
        from cri_client._async.support import sample_twice
        from cri_client.types import PodStats

        selector = label_selector(labels)
        stats_filter = pb.PodSandboxStatsFilter(id=id or "", label_selector=selector.server_side())

        async def sample() -> list[PodStats]:
            reply = await self._client.api.list_pod_sandbox_stats(filter=stats_filter)
            return [
                PodStats.from_message(s)
                for s in reply.stats
                if selector.matches(s.attributes.labels)
            ]

        return await sample_twice(
            sample, lambda s: s.pod_id, interval, self._client._measures_zero_cpu_rate
        )

    @takes_rpc_timeout
    async def stop_many(
        self,
        pods: Sequence[AsyncPod | str] | Mapping[str, str] | str,
        *,
        grace_period: float = DEFAULT_STOP_TIMEOUT,
        parallel: int = BULK_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[BulkOutcome[AsyncPod]]:
        """Stop many pods, ``parallel`` at a time, each as :meth:`AsyncPod.stop` does
        (its containers first, ``grace_period`` seconds between SIGTERM and SIGKILL),
        and report on each: the pod with its new status, or the error. ``pods``: pod
        objects or references, or a label selector (a mapping, or kubectl's string
        form) that picks among the ready pods.

        >>> [o.name for o in await cri.pods.stop_many("team=batch", grace_period=5) if not o.ok]
        []
        """
        stop_seconds(grace_period, "grace_period")

        async def stop(pod: AsyncPod) -> AsyncPod:
            return await pod.stop(grace_period=grace_period)

        return await self._each(pods, stop, parallel, state=PodState.READY)

    @takes_rpc_timeout
    async def remove_many(
        self,
        pods: Sequence[AsyncPod | str] | Mapping[str, str] | str,
        *,
        force: bool = False,
        grace_period: float | None = None,
        parallel: int = BULK_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[BulkOutcome[None]]:
        """Remove many pods, ``parallel`` at a time, each as :meth:`remove` does, and
        report on each. A ready pod is refused (its outcome carries the error) unless
        ``force``, which stops it first, ``grace_period`` seconds (default 0) between
        SIGTERM and SIGKILL. ``pods`` as in :meth:`stop_many`; a selector picks among
        pods in every state.

        >>> outcomes = await cri.pods.remove_many("team=batch", force=True)
        >>> [(o.name, str(o.error)) for o in outcomes if not o.ok]
        []
        """
        check_forced_grace_period(force, grace_period)

        async def remove(pod: AsyncPod) -> None:
            await self.remove(pod, force=force, grace_period=grace_period)

        return await self._each(pods, remove, parallel, state=None)

    async def _each(
        self,
        pods: Sequence[AsyncPod | str] | Mapping[str, str] | str,
        action: Callable[[AsyncPod], Awaitable[T]],
        parallel: int,
        *,
        state: PodState | None,
    ) -> list[BulkOutcome[T]]:
        """``action`` on each pod (see :func:`act_on_each`); a selector picks among
        the pods in ``state`` (None: every state)."""

        async def select(selector: Mapping[str, str] | str) -> Sequence[AsyncPod]:
            return await self.list(labels=selector, state=state)

        return await act_on_each(pods, AsyncPod, "pod", select, self.get, action, parallel)

    @takes_rpc_timeout
    async def list(
        self,
        *,
        id: str | None = None,
        state: PodState | str | None = None,
        labels: Mapping[str, str] | str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        runtime_handler: str | None = None,
        rpc_timeout: float | None = None,
    ) -> list[AsyncPod]:
        """Pods in every state, newest first, like ``crictl pods``.

        ``id`` (full id or prefix), ``state`` (``PodState`` or its name in any case)
        and ``labels`` are filtered by the runtime where it can; ``name`` and
        ``namespace`` are regular expressions searched in the pod's name and
        namespace, as crictl's flags are. ``labels`` is a mapping of exact values or a
        selector as kubectl writes it (``"app=web,tier in (a,b),!canary"``; see
        docs/operations.md): exact values go to the runtime, the other terms are
        checked here.

        >>> await cri.pods.list(labels="app in (web,api)", state="READY")
        """
        selector = label_selector(labels)
        server_side = pod_filter(id=id, state=state, selector=selector)
        found = await self._client._lister.list(support.POD_SANDBOXES, server_side)
        selected = select_pods(
            found,
            id=id,
            name=name,
            namespace=namespace,
            runtime_handler=runtime_handler,
            selector=selector,
        )
        return [AsyncPod(self._client, pod) for pod in selected]

    @takes_rpc_timeout
    async def stop(
        self,
        reference: str | AsyncPod,
        *,
        grace_period: float = DEFAULT_STOP_TIMEOUT,
        rpc_timeout: float | None = None,
    ) -> AsyncPod:
        """Stop a pod by reference or object (see :meth:`get`), its containers first
        with ``grace_period`` seconds between SIGTERM and SIGKILL (see
        :meth:`AsyncPod.stop`); returns it stopped."""
        stop_seconds(grace_period, "grace_period")
        return await (await self.get(reference)).stop(grace_period=grace_period)

    @takes_rpc_timeout
    async def remove(
        self,
        reference: str | AsyncPod,
        *,
        force: bool = False,
        grace_period: float | None = None,
        missing_ok: bool = False,
        rpc_timeout: float | None = None,
    ) -> None:
        """Remove a pod by reference. A ready pod is refused unless ``force``, which
        stops it first (:meth:`AsyncPod.stop`) with ``grace_period`` seconds between
        SIGTERM and SIGKILL for its containers: default 0, at once, as ``crictl rmp -f``
        does on containerd (``force`` means now; stop the pod first for a graceful
        end). ``grace_period`` without ``force`` is refused: nothing would use it. Its
        log directory goes too when it has the default layout, as kubelet removes it,
        unless another sandbox of the same pod (same namespace, name and uid: a later
        attempt, in any state) still uses it (one list RPC after the removal).

        >>> await cri.pods.remove("web", force=True)                   # at once
        >>> await cri.pods.remove("web", force=True, grace_period=5)   # SIGTERM, 5 s
        """
        check_forced_grace_period(force, grace_period)
        try:
            pod = await self.get(reference)
            if pod.ready:
                if not force:
                    raise ready_pod_refused(pod)
                await pod.stop(grace_period=grace_period or 0)
            await self._client.api.remove_pod_sandbox(pod_sandbox_id=pod.id)
            others = await self._client._lister.list(support.POD_SANDBOXES)
            if not shares_log_directory(pod.namespace, pod.name, pod.uid, others):
                support.remove_directory(default_log_directory(pod.namespace, pod.name, pod.uid))
        except NotFoundError:
            if not missing_ok:
                raise

    @takes_rpc_timeout
    async def prune(
        self,
        *,
        not_ready: bool = True,
        no_running_containers: bool = False,
        labels: Mapping[str, str] | str | None = None,
        dry_run: bool = False,
        parallel: int = BULK_PARALLELISM,
        progress: Callable[[PruneItem, int, int], object] | None = None,
        rpc_timeout: float | None = None,
    ) -> PruneReport:
        """Remove pods (with ``labels``) that run no container: not-ready ones, and
        with ``no_running_containers=True`` ready ones too (stopped first, after a
        last look for a container started or created meanwhile). A pod with a running
        container, or one of unknown state (it may run), always stays, and so does a
        ready pod with a container created and never started. Every pod is reported
        with its reason; each failure is reported on its item, not raised; ``dry_run``
        removes nothing (docs/operations.md). ``progress(item, done, total)``, when
        given, is called as each removal ends (``item`` as it ended; ``done`` of
        ``total`` removals of this step).

        >>> report = await cri.pods.prune(no_running_containers=True, dry_run=True)
        >>> [(item.name, item.reason.value) for item in report.items]
        [('default/web', 'running'), ('default/job', 'no_running_containers')]
        """
        from cri_client._async.prune import PodOptions, Pruner

        pruner = Pruner(self._client, dry_run, parallel, progress)
        options = PodOptions(not_ready, no_running_containers)
        return await pruner.report(lambda: pruner.pods(options, labels))

    @takes_rpc_timeout
    async def recreate(
        self,
        reference: str | AsyncPod,
        *,
        new_sandbox: bool | None = None,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        rpc_timeout: float | None = None,
    ) -> AsyncPod:
        """Recreate a pod's containers by reference or object (see :meth:`get`):
        :meth:`AsyncPod.recreate`."""
        stop_seconds(timeout)
        return await (await self.get(reference)).recreate(new_sandbox=new_sandbox, timeout=timeout)

    async def _with_config(self, pod_id: str) -> AsyncPod:
        """A pod by full id with its config, from one verbose status."""
        reply = await self._status(pod_id, verbose=True)
        return AsyncPod(self._client, reply.status, sandbox_config_from(reply))

    async def _status(self, pod_id: str, verbose: bool = False) -> pb.PodSandboxStatusResponse:
        return await self._client.api.pod_sandbox_status(pod_sandbox_id=pod_id, verbose=verbose)


publish(AsyncPod, AsyncPodManager)
