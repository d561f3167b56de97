"""Pod sandboxes: ``cri.pods.run(...)``, ``.list()``, ``.get()``, and the :class:`Pod` object."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format

from cri_client import _listing
from cri_client._model import (
    FULL_ID,
    SAMPLE_INTERVAL,
    NamedObject,
    PodState,
    decode_json_values,
    message_dict,
    parse_state,
    regex_matches,
    resolve_reference,
)
from cri_client._proto import api_pb2 as pb
from cri_client.configs import default_log_directory, pod_sandbox_config
from cri_client.errors import FailedPreconditionError, NotFoundError
from cri_client.validation import check_labels, check_reference, check_seconds

if TYPE_CHECKING:
    from cri_client.client import CRIClient
    from cri_client.containers import Container
    from cri_client.stats import PodStats
    from cri_client.streaming import PortForward

__all__ = ["Pod", "PodManager", "PodState"]


class Pod(NamedObject):
    """A pod sandbox. From ``get()`` and ``run()`` it carries the full status (IP
    included); from ``list()`` only what the list reply has (``ip`` is None until
    :meth:`reload`).

    Attributes mirror the CRI fields in snake_case; ``raw`` is the message itself.
    """

    raw: pb.PodSandbox | pb.PodSandboxStatus

    def __init__(
        self,
        client: CRIClient,
        raw: pb.PodSandbox | pb.PodSandboxStatus,
        config: pb.PodSandboxConfig | None = None,
    ) -> None:
        self._client = client
        self.raw = raw
        self._config = config

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
        :meth:`reload` (list replies carry no network status)."""
        if isinstance(self.raw, pb.PodSandboxStatus) and self.raw.network.ip:
            return self.raw.network.ip
        return None

    @property
    def ready(self) -> bool:
        return self.state is PodState.READY

    def reload(self) -> Pod:
        """Fetch the current status (one RPC) and return self."""
        self.raw = self._client.pods._status(self.id).status
        return self

    def inspect(self, verbose: bool = True) -> dict[str, Any]:
        """The status as a dict, and with ``verbose`` the runtime's decoded ``info``
        (containerd: the sandbox's config, PID, runtime spec), like ``crictl inspectp``."""
        reply = self._client.pods._status(self.id, verbose=verbose)
        return {"status": message_dict(reply.status), "info": decode_json_values(reply.info)}

    def sandbox_config(self) -> pb.PodSandboxConfig:
        """The config the pod was made with, which creating a container needs (the
        runtime puts container logs under its log directory). Known for pods made by
        ``run()``; otherwise read from the runtime's verbose status (containerd reports
        it), else rebuilt from the status (metadata, labels, annotations)."""
        if self._config is None:
            reply = self._client.pods._status(self.id, verbose=True)
            self._config = sandbox_config_from(reply)
        return self._config

    def containers(self, all: bool = True) -> list[Container]:
        """The pod's containers (all states by default)."""
        return self._client.containers.list(pod=self.id, all=all)

    def port_forward(self, remote_port: int, local_port: int = 0) -> PortForward:
        """Forward ``127.0.0.1:local_port`` (0: any free port, see ``.local_port``) to
        ``remote_port`` in the pod's network namespace, as ``kubectl port-forward``
        (CRI PortForward: each connection gets its own streaming URL). Use it as a
        context manager; see :class:`~cri_client.streaming.PortForward`.

        >>> with pod.port_forward(8080) as forward:
        ...     urlopen(f"http://127.0.0.1:{forward.local_port}/").status
        200
        """
        from cri_client.streaming import PortForward

        def open_url() -> str:
            reply = self._client.api.port_forward(pod_sandbox_id=self.id, port=[remote_port])
            return reply.url

        return PortForward(open_url, remote_port, local_port, open_timeout=self._client.timeout)

    def stop(self) -> None:
        """Stop the sandbox: its containers are killed and its network torn down."""
        self._client.api.stop_pod_sandbox(pod_sandbox_id=self.id)

    def wait_ready(self, timeout: float | None = None) -> Pod:
        """Block until the sandbox is ready (events where the runtime has them, status
        polling where not); returns self. Raises WaitTimeoutError after ``timeout``."""
        from cri_client.events import wait_for

        if timeout is not None:
            check_seconds(timeout, "timeout")
        wait_for(
            self._client,
            f"pod {self.id[:13]} ({self.namespace}/{self.name}) did not become ready",
            lambda: self.reload().ready,
            lambda event: event.pod_id == self.id,
            timeout,
        )
        return self

    def stats(self, *, interval: float = SAMPLE_INTERVAL) -> PodStats:
        """The pod's usage and its containers' (see :mod:`cri_client.stats`)."""
        from cri_client.stats import PodStats, sample_twice

        def sample() -> list[PodStats]:
            reply = self._client.api.pod_sandbox_stats(pod_sandbox_id=self.id)
            return [PodStats.from_message(reply.stats)]

        return sample_twice(sample, lambda s: s.pod_id, interval)[0]

    def remove(self, force: bool = False, missing_ok: bool = False) -> None:
        """Remove the pod and everything in it. A ready pod is refused unless ``force``,
        which stops it first (as ``crictl rmp -f``)."""
        self._client.pods.remove(self.id, force=force, missing_ok=missing_ok)

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

    def __repr__(self) -> str:
        return f"<Pod {self.id[:13]} {self.namespace}/{self.name} {self.state.value}>"


class PodManager:
    """``cri.pods``: run, find and remove pod sandboxes."""

    def __init__(self, client: CRIClient) -> None:
        self._client = client

    def run(
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
        config: pb.PodSandboxConfig | None = None,
    ) -> Pod:
        """Create and start a pod sandbox, built like kubelet builds one
        (:func:`cri_client.configs.pod_sandbox_config` documents every default).

        ``config`` takes a complete ``PodSandboxConfig`` instead of the other arguments.

        >>> pod = cri.pods.run("web", labels={"app": "web"}, runtime_handler="runsc")
        >>> pod.ready, pod.ip
        (True, '10.88.0.7')
        """
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
        elif not isinstance(config, pb.PodSandboxConfig):
            raise TypeError(f"config must be a PodSandboxConfig, not {type(config).__name__}")
        if not isinstance(runtime_handler, str):
            raise ValueError(f"runtime_handler must be a string, not {runtime_handler!r}")
        if config.log_directory:
            os.makedirs(config.log_directory, mode=0o755, exist_ok=True)
        pod_id = self._client.api.run_pod_sandbox(
            config=config, runtime_handler=runtime_handler
        ).pod_sandbox_id
        return Pod(self._client, self._status(pod_id).status, config)

    def get(self, reference: str) -> Pod:
        """A pod by full id, unique id prefix, name, or ``namespace/name``."""
        check_reference(reference, "pod")
        if FULL_ID.match(reference):
            return Pod(self._client, self._status(reference).status)
        listed = self._client._lister.list(_listing.POD_SANDBOXES)
        found = resolve_reference(
            "pod",
            reference,
            listed,
            lambda pod: pod.id,
            lambda pod: (pod.metadata.name, f"{pod.metadata.namespace}/{pod.metadata.name}"),
        )
        return Pod(self._client, self._status(found.id).status)

    def stats(
        self,
        *,
        labels: Mapping[str, str] | None = None,
        id: str | None = None,
        interval: float = SAMPLE_INTERVAL,
    ) -> list[PodStats]:
        """Usage of many pods with one RPC per sample (``crictl statsp``): every pod,
        those with ``labels``, or the one with the full ``id``. ``cpu_percent`` as in
        :meth:`Pod.stats`.

        >>> [(s.name, s.cpu_percent, s.memory_working_set_bytes) for s in cri.pods.stats()]
        [('web', 0.4, 2129920)]
        """
        from cri_client.stats import PodStats, sample_twice

        stats_filter = pb.PodSandboxStatsFilter(
            id=id or "", label_selector=check_labels(labels, "labels")
        )

        def sample() -> list[PodStats]:
            reply = self._client.api.list_pod_sandbox_stats(filter=stats_filter)
            return [PodStats.from_message(s) for s in reply.stats]

        return sample_twice(sample, lambda s: s.pod_id, interval)

    def list(
        self,
        *,
        id: str | None = None,
        state: PodState | str | None = None,
        labels: Mapping[str, str] | None = None,
        name: str | None = None,
        namespace: str | None = None,
        runtime_handler: str | None = None,
    ) -> list[Pod]:
        """Pods in every state, newest first, like ``crictl pods``.

        ``id`` (full id or prefix), ``state`` and ``labels`` (all must match) are
        filtered by the runtime where it can; ``name`` and ``namespace`` are regular
        expressions searched in the pod's name and namespace, as crictl's flags are.
        """
        found = self._client._lister.list(
            _listing.POD_SANDBOXES, pod_filter(id=id, state=state, labels=labels)
        )
        pods = [
            Pod(self._client, pod)
            for pod in found
            if (id is None or pod.id.startswith(id))
            and regex_matches(name, pod.metadata.name)
            and regex_matches(namespace, pod.metadata.namespace)
            and (runtime_handler is None or pod.runtime_handler == runtime_handler)
        ]
        return sorted(pods, key=lambda pod: pod.raw.created_at, reverse=True)

    def stop(self, reference: str) -> None:
        """Stop a pod by reference (see :meth:`get`)."""
        self.get(reference).stop()

    def remove(self, reference: str, *, force: bool = False, missing_ok: bool = False) -> None:
        """Remove a pod by reference; ``force`` stops a ready pod first. Its log
        directory goes too when it has the default layout, as kubelet removes it."""
        try:
            pod = self.get(reference)
            if pod.ready:
                if not force:
                    raise FailedPreconditionError(
                        f"pod {pod.id[:13]} ({pod.namespace}/{pod.name}) is ready: stop it "
                        "first or pass force=True",
                        rpc="RemovePodSandbox",
                        object_id=f"pod_sandbox_id={pod.id}",
                    )
                pod.stop()
            self._client.api.remove_pod_sandbox(pod_sandbox_id=pod.id)
            shutil.rmtree(default_log_directory(pod.namespace, pod.name, pod.uid), True)
        except NotFoundError:
            if not missing_ok:
                raise

    def _status(self, pod_id: str, verbose: bool = False) -> pb.PodSandboxStatusResponse:
        return self._client.api.pod_sandbox_status(pod_sandbox_id=pod_id, verbose=verbose)


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


def sandbox_config_from(reply: pb.PodSandboxStatusResponse) -> pb.PodSandboxConfig:
    """The sandbox config from a verbose status: containerd's ``info`` carries it."""
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
