"""Containers: ``cri.containers.create()``, ``.list()``, ``.get()``, and :class:`Container`."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from cri_client import _listing
from cri_client._model import (
    FULL_ID,
    SAMPLE_INTERVAL,
    ContainerState,
    NamedObject,
    decode_json_values,
    message_dict,
    parse_state,
    regex_matches,
    resolve_reference,
    timestamp,
)
from cri_client._proto import api_pb2 as pb
from cri_client.configs import MountSpec, container_config
from cri_client.errors import (
    CommandNotFoundError,
    DeadlineExceededError,
    ExecError,
    ExecTimeoutError,
    FailedPreconditionError,
    NotFoundError,
    UnknownError,
)
from cri_client.validation import check_command, check_labels, check_reference, check_seconds

if TYPE_CHECKING:
    from cri_client.client import CRIClient
    from cri_client.logs import LogRecord, Since
    from cri_client.pods import Pod
    from cri_client.stats import ContainerStats
    from cri_client.streaming import ExecSession

__all__ = ["Container", "ContainerManager", "ContainerState", "ExecResult"]

DEFAULT_STOP_TIMEOUT = 10
"""Seconds between SIGTERM and SIGKILL in ``stop()``, as ``docker stop``."""

# Runtime texts for "the program does not exist" (runc, crun, runsc, CRI-O's conmon).
_NOT_FOUND_TEXTS = ("no such file or directory", "executable file not found", "not found in $path")


@dataclass(frozen=True)
class ExecResult:
    """What a command run with :meth:`Container.exec` did: its exit code and its
    standard output and error, kept apart and as bytes (never decoded for you)."""

    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Container(NamedObject):
    """A container. Attributes mirror the CRI status in snake_case; those only the
    status has (``started_at``, ``exit_code``, ``log_path``...) are filled for
    containers from ``get()``/``create()`` and after :meth:`reload`."""

    raw: pb.Container | pb.ContainerStatus

    def __init__(
        self, client: CRIClient, raw: pb.Container | pb.ContainerStatus, pod_id: str
    ) -> None:
        self._client = client
        self.raw = raw
        self.pod_id = pod_id

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

    def reload(self) -> Container:
        """Fetch the current status (one RPC) and return self."""
        self.raw = self._client.api.container_status(container_id=self.id).status
        return self

    def inspect(self, verbose: bool = True) -> dict[str, Any]:
        """The status as a dict, and with ``verbose`` the runtime's decoded ``info``
        (containerd: PID, runtime spec, config), like ``crictl inspect``."""
        reply = self._client.api.container_status(container_id=self.id, verbose=verbose)
        return {"status": message_dict(reply.status), "info": decode_json_values(reply.info)}

    def start(self) -> Container:
        """Start the container; returns self with its new status."""
        self._client.api.start_container(container_id=self.id)
        return self.reload()

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> Container:
        """SIGTERM, then SIGKILL after ``timeout`` seconds (0 kills at once)."""
        seconds = math.ceil(check_seconds(timeout, "timeout"))
        self._client.api.stop_container(container_id=self.id, timeout=seconds)
        return self.reload()

    def remove(self, force: bool = False, missing_ok: bool = False) -> None:
        """Remove the container; a running one is refused unless ``force`` (which
        stops it at once, as ``crictl rm -f``)."""
        self._client.containers.remove(self.id, force=force, missing_ok=missing_ok)

    def exec(
        self, cmd: Sequence[str], *, timeout: float | None = None, check: bool = False
    ) -> ExecResult:
        """Run a command in the container and wait for it (CRI ExecSync).

        ``timeout`` is the command's own limit in seconds (default: the client's
        timeout; ``math.inf``: none, as ``crictl exec -s`` without ``--timeout``); the
        runtime kills the command when it passes. Raises
        :class:`~cri_client.errors.ExecTimeoutError` then, and
        :class:`~cri_client.errors.CommandNotFoundError` when the program does not
        exist. A non-zero exit is a normal result unless ``check=True``, which raises
        :class:`~cri_client.errors.ExecError` carrying the result.

        >>> ctr.exec(["sh", "-c", "echo hi; exit 3"])
        ExecResult(exit_code=3, stdout=b'hi\\n', stderr=b'')
        """
        command = check_command(cmd, "cmd", allow_empty=False)
        rpc_timeout: float | None = None
        if timeout == math.inf:
            # No limit: the CRI's timeout 0, and no gRPC deadline either.
            seconds, rpc_timeout = 0, math.inf
        elif timeout is None:
            seconds = math.ceil(self._client.timeout)
        else:
            seconds = math.ceil(check_seconds(timeout, "timeout", allow_zero=False))
        try:
            reply = self._client.api.exec_sync(
                container_id=self.id, cmd=command, timeout=seconds, rpc_timeout=rpc_timeout
            )
        except DeadlineExceededError as err:
            raise ExecTimeoutError(
                f"{command!r} did not finish within {seconds} s ({err.details})",
                rpc="ExecSync",
                object_id=err.object_id,
            ) from None
        except UnknownError as err:
            if any(text in err.details.lower() for text in _NOT_FOUND_TEXTS):
                raise CommandNotFoundError(
                    f"{command[0]!r} cannot be run in the container: {err.details}",
                    rpc="ExecSync",
                    object_id=err.object_id,
                ) from None
            raise
        result = ExecResult(reply.exit_code, reply.stdout, reply.stderr)
        if check and result.exit_code != 0:
            raise ExecError(command, result, object_id=f"container_id={self.id}")
        return result

    def exec_stream(
        self, cmd: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> ExecSession:
        """Run a command with its streams on an :class:`~cri_client.streaming.ExecSession`
        (CRI Exec and the runtime's streaming server): write to its stdin while it runs,
        read its output as it comes, then its exit code. See ``docs/streaming.md``.

        A TTY session always opens stdin at the runtime: containerd stops a TTY
        command's output when its stdin stream ends, so without stdin most output was
        lost. ``write()`` still needs ``stdin=True``.

        >>> with ctr.exec_stream(["sh", "-c", "read x; echo got:$x; exit 3"], stdin=True) as s:
        ...     s.write(b"hi\\n")
        ...     print(s.read_all(), s.wait())
        (b'got:hi\\n', b'') 3
        """
        from cri_client.streaming import ExecSession

        command = check_command(cmd, "cmd", allow_empty=False)
        url = self._client.api.exec(
            container_id=self.id,
            cmd=command,
            stdin=stdin or tty,
            tty=tty,
            stdout=True,
            stderr=not tty,
        ).url
        return ExecSession(url, stdin=stdin, tty=tty, open_timeout=self._client.timeout)

    def attach(self, *, stdin: bool = False, tty: bool | None = None) -> ExecSession:
        """Connect to the container's own stdin and output (CRI Attach), as ``kubectl
        attach``: useful for a container created with ``stdin=True`` (and ``tty=True``
        for a shell). ``tty=None`` takes the container's own setting from
        :meth:`inspect` (False when the runtime does not report it).

        Output starts now (earlier output is in the log). The session ends when the
        container exits, and ``wait()`` returns the container's exit code from its
        status: containerd's attach stream reports success whatever the code.
        ``close()`` detaches and leaves the container running.
        """
        from cri_client.streaming import ExecSession

        if tty is None:
            info = self.inspect()["info"].get("info")
            config = info.get("config") if isinstance(info, dict) else None
            tty = bool(config.get("tty", False)) if isinstance(config, dict) else False
        url = self._client.api.attach(
            container_id=self.id, stdin=stdin or tty, tty=tty, stdout=True, stderr=not tty
        ).url
        return ExecSession(
            url,
            stdin=stdin,
            tty=tty,
            open_timeout=self._client.timeout,
            exit_code_source=lambda: self.reload().exit_code,
        )

    def exec_interactive(self, cmd: Sequence[str], *, tty: bool = True) -> int:
        """Hand a command to the person at this terminal, as ``kubectl exec -it``, and
        return its exit code. stdin, stdout and stderr are this process's; a terminal is
        put in raw mode (and restored on return) and its size follows SIGWINCH. See
        :func:`cri_client.streaming.interact`.

        >>> sys.exit(ctr.exec_interactive(["sh"]))
        """
        from cri_client.streaming import interact

        with self.exec_stream(cmd, stdin=True, tty=tty) as session:
            return interact(session)

    def update_resources(
        self, resources: pb.LinuxContainerResources | Mapping[str, Any] | None = None, **fields: Any
    ) -> Container:
        """Change the container's cgroup limits, e.g.
        ``ctr.update_resources(memory_limit_in_bytes=256 << 20, cpu_quota=50_000)``."""
        if resources is not None and fields:
            raise TypeError("pass resources or keyword fields, not both")
        linux = resources if resources is not None else pb.LinuxContainerResources(**fields)
        self._client.api.update_container_resources(container_id=self.id, linux=linux)
        return self.reload()

    @overload
    def logs(
        self,
        *,
        tail: int | None = None,
        since: Since | None = None,
        until: datetime | None = None,
        timestamps: bool = False,
        stream: str | None = None,
        limit_bytes: int | None = None,
        previous: bool = False,
        follow: Literal[False] = False,
    ) -> str: ...

    @overload
    def logs(
        self,
        *,
        tail: int | None = None,
        since: Since | None = None,
        until: datetime | None = None,
        timestamps: bool = False,
        stream: str | None = None,
        limit_bytes: int | None = None,
        previous: bool = False,
        follow: Literal[True],
    ) -> Iterator[str]: ...

    @overload
    def logs(
        self,
        *,
        tail: int | None = None,
        since: Since | None = None,
        until: datetime | None = None,
        timestamps: bool = False,
        stream: str | None = None,
        limit_bytes: int | None = None,
        previous: bool = False,
        follow: bool,
    ) -> str | Iterator[str]: ...

    def logs(
        self,
        *,
        tail: int | None = None,
        since: Since | None = None,
        until: datetime | None = None,
        timestamps: bool = False,
        stream: str | None = None,
        limit_bytes: int | None = None,
        previous: bool = False,
        follow: bool = False,
    ) -> str | Iterator[str]:
        """The container's output, read from the log file the runtime writes (and its
        rotated files), as ``crictl logs`` and ``kubectl logs`` show it.

        ``tail``: the last N lines; ``since``: an aware datetime, or how long ago
        (seconds or ``timedelta``); ``until``: an aware datetime; ``stream``:
        ``"stdout"`` or ``"stderr"``; ``timestamps``: each line starts with its RFC 3339
        time; ``limit_bytes``: the output is cut there; ``previous``: the log of the
        attempt before this one. ``follow=True`` returns an iterator of lines that
        waits for new output, survives log rotation, and ends once the container has
        stopped (close it to stop early). See :mod:`cri_client.logs`.

        >>> print(ctr.logs(tail=2), end="")
        line 9
        line 10
        """
        from cri_client.logs import check_log_options, read_records, render
        from cri_client.logs import follow as follow_log

        check_log_options(
            tail=tail, since=since, until=until, stream=stream, limit_bytes=limit_bytes
        )
        if follow and until is not None:
            raise ValueError(f"until={until!r} cannot be combined with follow=True")
        path = self._log_file(previous)
        if not follow:
            records = read_records(path, tail=tail, since=since, until=until, stream=stream)
            return render(records, timestamps=timestamps, limit_bytes=limit_bytes)

        checked = {"at": 0.0, "running": True}

        def is_running() -> bool:
            """Asked on every idle poll; the runtime is asked at most once a second."""
            if previous:
                return False  # that attempt is over: its log does not grow
            if time.monotonic() - checked["at"] >= 1.0:
                try:
                    running = self.reload().state is ContainerState.RUNNING
                except NotFoundError:
                    running = False
                checked.update(at=time.monotonic(), running=running)
            return bool(checked["running"])

        return follow_log(
            path,
            is_running=is_running,
            tail=tail,
            since=since,
            stream=stream,
            timestamps=timestamps,
            limit_bytes=limit_bytes,
        )

    def log_records(
        self,
        *,
        tail: int | None = None,
        since: Since | None = None,
        until: datetime | None = None,
        stream: str | None = None,
        previous: bool = False,
    ) -> list[LogRecord]:
        """The output as :class:`~cri_client.logs.LogRecord` s (time, stream, text),
        selected as :meth:`logs` selects lines."""
        from cri_client.logs import check_log_options, read_records

        check_log_options(tail=tail, since=since, until=until, stream=stream)
        path = self._log_file(previous)
        return read_records(path, tail=tail, since=since, until=until, stream=stream)

    def reopen_log(self) -> None:
        """Make the runtime reopen the log file (CRI ReopenContainerLog): after the
        file was renamed away, output goes to a new file at ``log_path`` again."""
        self._client.api.reopen_container_log(container_id=self.id)

    def _log_file(self, previous: bool) -> str:
        """This attempt's log path from the status (fetched if listed), or the
        previous attempt's beside it."""
        from cri_client.logs import previous_log_path

        if self._status is None:
            self.reload()
        if not self.log_path:
            raise NotFoundError(
                f"container {self.id[:13]} ({self.name}) has no log file: its pod has no "
                "log directory"
            )
        return previous_log_path(self.log_path, self.attempt) if previous else self.log_path

    def pod(self) -> Pod:
        """The pod the container belongs to."""
        return self._client.pods.get(self.pod_id)

    def wait(
        self, state: ContainerState | str = "exited", timeout: float | None = None
    ) -> Container:
        """Block until the container is in ``state`` (default: exited, e.g. a job that
        ends by itself); returns self with its new status. Uses runtime events where
        there are any (containerd 1.7+), status polling where not (1.6).
        Raises :class:`~cri_client.errors.WaitTimeoutError` after ``timeout`` seconds.

        >>> cri.run(image, name="job", command=["sh", "-c", "sleep 1"]).wait().exit_code
        0
        """
        from cri_client.events import wait_for

        target = parse_state(ContainerState, state)
        if timeout is not None:
            check_seconds(timeout, "timeout")
        wait_for(
            self._client,
            f"container {self.id[:13]} ({self.name}) did not become {target.value}",
            lambda: self.reload().state is target,
            lambda event: event.container_id == self.id,
            timeout,
        )
        return self

    @overload
    def stats(self, *, interval: float = ..., stream: Literal[False] = ...) -> ContainerStats: ...
    @overload
    def stats(
        self, *, interval: float = ..., stream: Literal[True], count: int | None = ...
    ) -> Iterator[ContainerStats]: ...
    def stats(
        self,
        *,
        interval: float = SAMPLE_INTERVAL,
        stream: bool = False,
        count: int | None = None,
    ) -> ContainerStats | Iterator[ContainerStats]:
        """CPU, memory and writable-layer usage (see :mod:`cri_client.stats`).
        ``cpu_percent`` is set even on the first call (a second sample ``interval``
        seconds later when the runtime does not compute it); ``stream=True`` yields a
        sample every ``interval`` seconds (``count`` of them, or until you stop)."""
        from cri_client.stats import ContainerStats, sample_stream, sample_twice

        def sample() -> ContainerStats:
            reply = self._client.api.container_stats(container_id=self.id)
            return ContainerStats.from_message(reply.stats)

        if stream:
            return sample_stream(sample, interval, count)
        return sample_twice(lambda: [sample()], lambda s: s.container_id, interval)[0]

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

    def __repr__(self) -> str:
        return f"<Container {self.id[:13]} {self.name} {self.state.value}>"


class ContainerManager:
    """``cri.containers``: create, find and remove containers."""

    def __init__(self, client: CRIClient) -> None:
        self._client = client

    def create(
        self,
        pod: Pod | str,
        name: str,
        image: str,
        *,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str | bytes] | None = None,
        working_dir: str = "",
        mounts: Sequence[MountSpec] = (),
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        tty: bool = False,
        stdin: bool = False,
        log_path: str | None = None,
        resources: pb.LinuxContainerResources | Mapping[str, Any] | None = None,
        run_as_user: int | None = None,
        privileged: bool = False,
        config: pb.ContainerConfig | None = None,
    ) -> Container:
        """Create a container in a pod (not started: call :meth:`Container.start`).

        ``image`` is pulled first by nobody: pull it with ``cri.images.pull``, or use
        ``cri.run`` which does. ``config`` takes a complete ``ContainerConfig``.

        >>> ctr = cri.containers.create(pod, "web", "busybox:1.35", command=["httpd", "-f"])
        """
        target = pod if not isinstance(pod, str) else self._client.pods.get(pod)
        sandbox = target.sandbox_config()
        if config is None:
            config = container_config(
                name,
                image,
                pod=sandbox,
                command=command,
                args=args,
                env=env,
                working_dir=working_dir,
                mounts=mounts,
                labels=labels,
                annotations=annotations,
                tty=tty,
                stdin=stdin,
                log_path=log_path,
                resources=resources,
                run_as_user=run_as_user,
                privileged=privileged,
            )
        elif not isinstance(config, pb.ContainerConfig):
            raise TypeError(f"config must be a ContainerConfig, not {type(config).__name__}")
        container_id = self._client.api.create_container(
            pod_sandbox_id=target.id, config=config, sandbox_config=sandbox
        ).container_id
        status = self._client.api.container_status(container_id=container_id).status
        return Container(self._client, status, target.id)

    def get(self, reference: str) -> Container:
        """A container by full id, unique id prefix, name, or ``namespace/pod/container``."""
        check_reference(reference, "container")
        listed = self._client._lister.list(_listing.CONTAINERS)
        if reference.count("/") == 2:
            pods = {
                pod.id: pod.metadata for pod in self._client._lister.list(_listing.POD_SANDBOXES)
            }

            def names(ctr: pb.Container) -> tuple[str, ...]:
                meta = pods.get(ctr.pod_sandbox_id)
                return (f"{meta.namespace}/{meta.name}/{ctr.metadata.name}",) if meta else ()
        else:

            def names(ctr: pb.Container) -> tuple[str, ...]:
                return (ctr.metadata.name,)

        found = resolve_reference("container", reference, listed, lambda c: c.id, names)
        status = self._client.api.container_status(container_id=found.id).status
        return Container(self._client, status, found.pod_sandbox_id)

    def start(self, reference: str) -> Container:
        """Start a container by reference (see :meth:`get`)."""
        return self.get(reference).start()

    def stop(self, reference: str, timeout: float = DEFAULT_STOP_TIMEOUT) -> Container:
        """Stop a container by reference; SIGKILL after ``timeout`` seconds."""
        return self.get(reference).stop(timeout)

    def stats(
        self,
        *,
        pod: Pod | str | None = None,
        labels: Mapping[str, str] | None = None,
        id: str | None = None,
        interval: float = SAMPLE_INTERVAL,
    ) -> list[ContainerStats]:
        """Usage of many containers with one RPC per sample (``crictl stats``):
        running ones, optionally of one pod (Pod or full id), with ``labels``, or one
        full ``id``. ``cpu_percent`` as in :meth:`Container.stats`."""
        from cri_client.stats import ContainerStats, sample_twice

        pod_id = pod.id if pod is not None and not isinstance(pod, str) else pod
        stats_filter = pb.ContainerStatsFilter(
            id=id or "", pod_sandbox_id=pod_id or "", label_selector=check_labels(labels, "labels")
        )

        def sample() -> list[ContainerStats]:
            reply = self._client.api.list_container_stats(filter=stats_filter)
            return [ContainerStats.from_message(s) for s in reply.stats]

        return sample_twice(sample, lambda s: s.container_id, interval)

    def list(
        self,
        *,
        all: bool = False,
        id: str | None = None,
        state: ContainerState | str | None = None,
        labels: Mapping[str, str] | None = None,
        pod: Pod | str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        image: str | None = None,
    ) -> list[Container]:
        """Running containers, newest first (``all=True`` or ``state=`` for others),
        like ``crictl ps``.

        ``id`` (full or prefix), ``state``, ``labels`` and ``pod`` (a Pod or a full pod
        id) go to the runtime; ``name`` and ``namespace`` are regular expressions, and
        ``image`` matches the image as asked for, its id, or an id prefix.
        """
        pod_id = pod.id if pod is not None and not isinstance(pod, str) else pod
        if state is None and not all:
            state = ContainerState.RUNNING
        result = pb.ContainerFilter(label_selector=check_labels(labels, "labels"))
        if id is not None and FULL_ID.match(id):
            result.id = id
        if pod_id:
            result.pod_sandbox_id = pod_id
        if state is not None:
            result.state.state = parse_state(ContainerState, state).to_proto()
        found = self._client._lister.list(_listing.CONTAINERS, result)
        namespaces: dict[str, str] = {}
        if namespace is not None:
            pods = self._client._lister.list(_listing.POD_SANDBOXES)
            namespaces = {p.id: p.metadata.namespace for p in pods}
        containers = [
            Container(self._client, ctr, ctr.pod_sandbox_id)
            for ctr in found
            if (id is None or ctr.id.startswith(id))
            and regex_matches(name, ctr.metadata.name)
            and (
                namespace is None
                or regex_matches(namespace, namespaces.get(ctr.pod_sandbox_id, ""))
            )
            and (
                image is None
                or image in (ctr.image.image, ctr.image_ref)
                or ctr.image_ref.removeprefix("sha256:").startswith(image)
            )
        ]
        return sorted(containers, key=lambda c: c.raw.created_at, reverse=True)

    def remove(self, reference: str, *, force: bool = False, missing_ok: bool = False) -> None:
        """Remove a container by reference; ``force`` stops a running one first."""
        try:
            # A full id needs no lookup (a list of every container); a name or prefix does.
            container_id = reference if FULL_ID.match(reference) else self.get(reference).id
            status = self._client.api.container_status(container_id=container_id).status
            if status.state == pb.CONTAINER_RUNNING:
                if not force:
                    raise FailedPreconditionError(
                        f"container {status.id[:13]} ({status.metadata.name}) is running: stop "
                        "it first or pass force=True",
                        rpc="RemoveContainer",
                        object_id=f"container_id={status.id}",
                    )
                self._client.api.stop_container(container_id=status.id, timeout=0)
            self._client.api.remove_container(container_id=status.id)
        except NotFoundError:
            if not missing_ok:
                raise


def container_image_id(raw: pb.Container | pb.ContainerStatus) -> str:
    """``image_id`` is new in the CRI; older runtimes put the id in ``image_ref``."""
    if raw.image_id:
        return raw.image_id
    return raw.image_ref if raw.image_ref.startswith("sha256:") else ""


def image_matches(image: str, container: pb.Container) -> bool:
    """crictl's ``--image``: the image as asked for, its id, or an id prefix."""
    image_id = container_image_id(container)
    return image in (container.image.image, container.image_ref, image_id) or (
        len(image) >= 3
        and image_id.removeprefix("sha256:").startswith(image.removeprefix("sha256:"))
    )
