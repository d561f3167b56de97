"""Containers: ``cri.containers.create()``, ``.list()``, ``.get()``, and the container object.

Written once for asyncio (:class:`AsyncContainer`, :class:`AsyncContainerManager`);
``cri_client/_sync/containers.py`` (``Container``, ``ContainerManager``) is generated
from it by ``scripts/unasync.py``. What a container shows is
:class:`cri_client._core.views.ContainerView`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from cri_client._async import support
from cri_client._async.bulk import act_on_each
from cri_client._async.concurrency import each_at_most
from cri_client._core.configs import (
    MountSpec,
    container_config,
    container_log_directory,
    with_user_specified_image,
)
from cri_client._core.defaults import (
    BULK_PARALLELISM,
    DEFAULT_STOP_TIMEOUT,
    SAMPLE_INTERVAL,
    STATUS_PARALLELISM,
)
from cri_client._core.listing import container_filter, select_containers
from cri_client._core.messages import config_from_dict, decode_json_values, message_dict
from cri_client._core.model import FULL_ID, parse_state, resolve_reference
from cri_client._core.public import publish
from cri_client._core.recreate import (
    ContainerChanges,
    container_changes,
    container_config_from,
    next_container_config,
    recreate_failed,
)
from cri_client._core.requests import (
    exec_failure,
    exec_limits,
    exec_reply_failure,
    image_not_present,
    running_container_refused,
    stop_seconds,
)
from cri_client._core.runtimes import sandbox_id_from_info, sandbox_names_from_info
from cri_client._core.selectors import label_selector
from cri_client._core.validation import (
    check_command,
    check_parallel,
    check_reference,
    check_seconds,
)
from cri_client._core.views import (
    ContainerView,
    container_names,
    has_pod_labels,
    pod_name_and_namespace,
)
from cri_client._proto import api_pb2 as pb
from cri_client._rpc import takes_rpc_timeout
from cri_client.errors import (
    CRIError,
    ExecError,
    FailedPreconditionError,
    NotFoundError,
    UnknownError,
)
from cri_client.types import BulkOutcome, ContainerState, ExecResult

if TYPE_CHECKING:
    from cri_client._async.client import AsyncCRIClient
    from cri_client._async.logstream import AsyncLogStream
    from cri_client._async.pods import AsyncPod
    from cri_client._async.sessions import AsyncExecSession
    from cri_client._core.logfile import LogFollower, Since
    from cri_client.types import ContainerStats, LogRecord, PruneItem, PruneReport

__all__ = ["AsyncContainer", "AsyncContainerManager"]

T = TypeVar("T")

Listed = tuple[pb.Container | pb.ContainerStatus, str]
"""A listed container (or its status) and its pod id."""


class AsyncContainer(ContainerView):
    """A container. Attributes mirror the CRI status in snake_case; those only the
    status has (``started_at``, ``exit_code``, ``log_path``...) are filled for
    containers from ``get()``/``create()`` and after :meth:`reload`."""

    def __init__(
        self,
        client: AsyncCRIClient,
        raw: pb.Container | pb.ContainerStatus,
        pod_id: str,
        pod_metadata: tuple[str, str] | None = None,
    ) -> None:
        self._client = client
        self.raw = raw
        self.pod_id = pod_id
        self.pod_metadata = pod_metadata

    @takes_rpc_timeout
    async def reload(self, *, rpc_timeout: float | None = None) -> AsyncContainer:
        """Fetch the current status (one RPC) and return self."""
        self.raw = (await self._client.api.container_status(container_id=self.id)).status
        return self

    @takes_rpc_timeout
    async def inspect(
        self, *, verbose: bool = True, rpc_timeout: float | None = None
    ) -> dict[str, Any]:
        """The status as a dict, and with ``verbose`` the runtime's decoded ``info``
        (containerd: PID, runtime spec, config), like ``crictl inspect``."""
        reply = await self._client.api.container_status(container_id=self.id, verbose=verbose)
        return {"status": message_dict(reply.status), "info": decode_json_values(reply.info)}

    @takes_rpc_timeout
    async def config(self, *, rpc_timeout: float | None = None) -> pb.ContainerConfig:
        """The config the container was made with, as a ``ContainerConfig`` (one
        verbose ContainerStatus): containerd's own copy, env values the bytes they are
        (``KeyValue.value``; never a base64 reading of the text). A runtime that keeps
        no copy (CRI-O) gets one rebuilt from the status and the OCI spec: its env is
        the process's whole environment, image variables included
        (docs/operations.md#recreate).

        >>> {e.key: e.value for e in (await ctr.config()).envs}
        {'MODE': b'demo', 'COUNT': b'10'}
        """
        reply = await self._client.api.container_status(container_id=self.id, verbose=True)
        return container_config_from(reply)

    @takes_rpc_timeout
    async def recreate(
        self,
        *,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        working_dir: str | None = None,
        env: Mapping[str, str | bytes | None] | None = None,
        labels: Mapping[str, str | None] | None = None,
        annotations: Mapping[str, str | None] | None = None,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        pull: bool = False,
        rpc_timeout: float | None = None,
    ) -> AsyncContainer:
        """Stop and remove the container, then create and start it again in the same
        pod from its own :meth:`config`, as kubelet restarts one: the next attempt
        (one above the highest of that name in the pod, in any state, so an older
        attempt can be recreated beside a newer one) and the log at
        ``<name>/<attempt>.log`` in the pod's log directory, so
        ``logs(previous=True)`` of the new container reads this run. Returns the new
        container (this object keeps the old id).

        The changes are applied on the way: ``image``, ``command``, ``args``,
        ``working_dir`` replace; ``env`` (text values), ``labels`` and
        ``annotations`` are merged into the old ones, a None value removing the key.
        They are checked before any RPC, and the image is looked up (``pull=True``:
        pulled when missing) before anything is stopped. ``timeout`` is the stop's
        grace period. When a step fails after the old container was removed,
        :class:`~cri_client.errors.RecreateError` says what exists now (a new
        container that would not start is removed again) and carries the config. A pod
        that is not ready takes no new container: FailedPreconditionError before
        anything changed (:meth:`AsyncPod.recreate` makes a new sandbox).

        >>> new = await ctr.recreate(env={"MODE": "debug"}, timeout=5)
        >>> new.attempt, await new.logs(previous=True)
        (1, 'run demo\n')
        """
        changes = container_changes(
            image=image,
            command=command,
            args=args,
            working_dir=working_dir,
            env=env,
            labels=labels,
            annotations=annotations,
        )
        seconds = stop_seconds(timeout)
        return await self._client.containers._recreate(self, changes, seconds, pull)

    @takes_rpc_timeout
    async def start(self, *, rpc_timeout: float | None = None) -> AsyncContainer:
        """Start the container; returns self with its new status."""
        await self._client.api.start_container(container_id=self.id)
        return await self.reload()

    @takes_rpc_timeout
    async def stop(
        self, timeout: float = DEFAULT_STOP_TIMEOUT, *, rpc_timeout: float | None = None
    ) -> AsyncContainer:
        """SIGTERM, then SIGKILL after ``timeout`` seconds (0 kills at once)."""
        seconds = stop_seconds(timeout)
        await self._client.api.stop_container(container_id=self.id, timeout=seconds)
        return await self.reload()

    @takes_rpc_timeout
    async def remove(
        self, *, force: bool = False, missing_ok: bool = False, rpc_timeout: float | None = None
    ) -> None:
        """Remove the container; a running one is refused unless ``force`` (which
        stops it at once, as ``crictl rm -f``)."""
        await self._client.containers.remove(self.id, force=force, missing_ok=missing_ok)

    async def exec(
        self, cmd: Sequence[str], *, timeout: float | None = None, check: bool = False
    ) -> ExecResult:
        """Run a command in the container and wait for it (CRI ExecSync).

        ``timeout`` is the command's own limit in seconds (default: the client's
        timeout; ``math.inf``: none, as ``crictl exec -s`` without ``--timeout``); the
        runtime kills the command when it passes. Raises
        :class:`~cri_client.errors.ExecTimeoutError` then (on every runtime: containerd
        fails the call, CRI-O answers exit code -1),
        :class:`~cri_client.errors.CommandNotFoundError` when the program does not
        exist, and :class:`~cri_client.errors.ContainerNotRunningError` when the
        container is not running. A non-zero exit is a normal result unless
        ``check=True``, which raises :class:`~cri_client.errors.ExecError` carrying
        the result.

        >>> await ctr.exec(["sh", "-c", "echo hi; exit 3"])
        ExecResult(exit_code=3, stdout=b'hi\\n', stderr=b'')
        """
        command = check_command(cmd, "cmd", allow_empty=False)
        seconds, rpc_timeout = exec_limits(timeout, self._client.timeout)
        try:
            reply = await self._client.api.exec_sync(
                container_id=self.id, cmd=command, timeout=seconds, rpc_timeout=rpc_timeout
            )
        except CRIError as err:
            failure = exec_failure(err, command, seconds)
            if failure is err:
                raise
            raise failure from None
        timed_out = exec_reply_failure(reply, command, seconds, self.id)
        if timed_out is not None:
            raise timed_out
        result = ExecResult(reply.exit_code, reply.stdout, reply.stderr)
        if check and result.exit_code != 0:
            raise ExecError(command, result, object_id=f"container_id={self.id}")
        return result

    def exec_stream(
        self, cmd: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> AsyncExecSession:
        """Run a command with its streams on a session
        (:class:`~cri_client.aio.AsyncExecSession`; CRI Exec and the runtime's
        streaming server): write to its stdin while it runs, read its output as it
        comes, then its exit code. See ``docs/streaming.md``.

        A TTY session always opens stdin at the runtime: containerd stops a TTY
        command's output when its stdin stream ends, so without stdin most output was
        lost. ``write()`` still needs ``stdin=True``.

        >>> async with ctr.exec_stream(["sh", "-c", "read x; echo $x; exit 3"], stdin=True) as s:
        ...     await s.write(b"hi\\n")
        ...     print(await s.read_all(), await s.wait())
        (b'hi\\n', b'') 3
        """
        from cri_client._async.sessions import AsyncExecSession

        command = check_command(cmd, "cmd", allow_empty=False)

        async def open_url() -> str:
            reply = await self._client.api.exec(
                container_id=self.id,
                cmd=command,
                stdin=stdin or tty,
                tty=tty,
                stdout=True,
                stderr=not tty,
            )
            return reply.url

        return AsyncExecSession(open_url, stdin=stdin, tty=tty, open_timeout=self._client.timeout)

    def attach(self, *, stdin: bool = False, tty: bool | None = None) -> AsyncExecSession:
        """Connect to the container's own stdin and output (CRI Attach), as ``kubectl
        attach``: useful for a container created with ``stdin=True`` (and ``tty=True``
        for a shell). ``tty=None`` takes the container's own setting from
        :meth:`config` (containerd's copy, or CRI-O's OCI spec).

        Output starts now (earlier output is in the log). The session ends when the
        container exits, and ``wait()`` returns the container's exit code from its
        status: containerd's attach stream reports success whatever the code.
        ``close()`` detaches and leaves the container running.
        """
        from cri_client._async.sessions import AsyncExecSession

        async def open_url() -> tuple[str, bool]:
            with_tty = (await self.config()).tty if tty is None else tty
            reply = await self._client.api.attach(
                container_id=self.id,
                stdin=stdin or with_tty,
                tty=with_tty,
                stdout=True,
                stderr=not with_tty,
            )
            return reply.url, with_tty

        async def exit_code() -> int | None:
            return (await self.reload()).exit_code

        return AsyncExecSession(
            open_url,
            stdin=stdin,
            tty=bool(tty),
            open_timeout=self._client.timeout,
            exit_code_source=exit_code,
        )

    async def exec_interactive(self, cmd: Sequence[str], *, tty: bool = True) -> int:
        """Hand a command to the person at this terminal, as ``kubectl exec -it``, and
        return its exit code. stdin, stdout and stderr are this process's; a terminal is
        put in raw mode (and restored on return) and its size follows SIGWINCH. See
        :meth:`AsyncExecSession.interact`.

        >>> sys.exit(await ctr.exec_interactive(["sh"]))
        """
        async with self.exec_stream(cmd, stdin=True, tty=tty) as session:
            return await session.interact()

    async def update_resources(
        self, resources: pb.LinuxContainerResources | Mapping[str, Any] | None = None, **fields: Any
    ) -> AsyncContainer:
        """Change the container's cgroup limits, e.g.
        ``ctr.update_resources(memory_limit_in_bytes=256 << 20, cpu_quota=50_000)``."""
        if resources is not None and fields:
            raise TypeError("pass resources or keyword fields, not both")
        linux = resources if resources is not None else pb.LinuxContainerResources(**fields)
        await self._client.api.update_container_resources(container_id=self.id, linux=linux)
        return await self.reload()

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
    ) -> Awaitable[str]: ...

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
    ) -> AsyncLogStream: ...

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
    ) -> Awaitable[str] | AsyncLogStream: ...

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
    ) -> Awaitable[str] | AsyncLogStream:
        """The container's output, read from the log file the runtime writes (and its
        rotated files), as ``crictl logs`` and ``kubectl logs`` show it.

        ``tail``: the last N lines; ``since``: an aware datetime, or how long ago
        (seconds or ``timedelta``); ``until``: an aware datetime; ``stream``:
        ``"stdout"`` or ``"stderr"``; ``timestamps``: each line starts with its RFC 3339
        time; ``limit_bytes``: the output is cut there; ``previous``: the log of the
        attempt before this one. Arguments are checked at once.

        ``follow=True`` returns the lines as a stream
        (:class:`~cri_client.aio.AsyncLogStream`) that waits for new output, survives
        log rotation, and ends once the container has stopped; ``aclose()`` stops it
        earlier, also while another reader waits in it. A missing log file is reported
        by its first step. See :mod:`cri_client.logs`.

        >>> print(await ctr.logs(tail=2), end="")
        line 9
        line 10
        >>> async for line in ctr.logs(follow=True):
        ...     print(line, end="")
        """
        from cri_client._core.defaults import LOG_POLL_INTERVAL
        from cri_client._core.logfile import LogFollower, check_log_options

        check_log_options(
            tail=tail, since=since, until=until, stream=stream, limit_bytes=limit_bytes
        )
        if follow and until is not None:
            raise ValueError(f"until={until!r} cannot be combined with follow=True")
        if not follow:
            return self._read_log(previous, tail, since, until, stream, timestamps, limit_bytes)

        def follower_at(path: str) -> LogFollower:
            return LogFollower(
                path, tail, since, stream, timestamps, limit_bytes, LOG_POLL_INTERVAL
            )

        # The path is known without an RPC when the object has its status: look the
        # file up now, as follow() does.
        known = follower_at(self._known_log_file(previous)) if self._status is not None else None
        return self._follow_log(known, follower_at, previous)

    async def _read_log(
        self,
        previous: bool,
        tail: int | None,
        since: Since | None,
        until: datetime | None,
        stream: str | None,
        timestamps: bool,
        limit_bytes: int | None,
    ) -> str:
        from cri_client._async.support import blocking
        from cri_client._core.logfile import read_records, render

        path = await self._log_file(previous)
        records = await blocking(
            read_records, path, tail=tail, since=since, until=until, stream=stream
        )
        return render(records, timestamps=timestamps, limit_bytes=limit_bytes)

    def _follow_log(
        self,
        known: LogFollower | None,
        follower_at: Callable[[str], LogFollower],
        previous: bool,
    ) -> AsyncLogStream:
        from cri_client._async.support import follow_lines

        async def open_follower() -> LogFollower:
            return known if known is not None else follower_at(await self._log_file(previous))

        checked = {"at": 0.0, "running": True}

        async def is_running() -> bool:
            """Asked on every idle poll; the runtime is asked at most once a second."""
            if previous:
                return False  # that attempt is over: its log does not grow
            if monotonic() - checked["at"] >= 1.0:
                try:
                    running = (await self.reload()).state is ContainerState.RUNNING
                except NotFoundError:
                    running = False
                checked.update(at=monotonic(), running=running)
            return bool(checked["running"])

        return follow_lines(open_follower, is_running)

    async def log_records(
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
        from cri_client._async.support import blocking
        from cri_client._core.logfile import check_log_options, read_records

        check_log_options(tail=tail, since=since, until=until, stream=stream)
        path = await self._log_file(previous)
        return await blocking(
            read_records, path, tail=tail, since=since, until=until, stream=stream
        )

    @takes_rpc_timeout
    async def reopen_log(self, *, rpc_timeout: float | None = None) -> None:
        """Make the runtime reopen the log file (CRI ReopenContainerLog): after the
        file was renamed away, output goes to a new file at ``log_path`` again."""
        await self._client.api.reopen_container_log(container_id=self.id)

    async def _log_file(self, previous: bool) -> str:
        """This attempt's log path from the status (fetched if listed), or the
        previous attempt's beside it."""
        if self._status is None:
            await self.reload()
        return self._known_log_file(previous)

    def _known_log_file(self, previous: bool) -> str:
        """The log path from the status this object has."""
        from cri_client._core.logfile import previous_log_path

        if not self.log_path:
            raise NotFoundError(f"{self._describe()} has no log file: its pod has no log directory")
        return previous_log_path(self.log_path, self.attempt) if previous else self.log_path

    @takes_rpc_timeout
    async def pod(self, *, rpc_timeout: float | None = None) -> AsyncPod:
        """The pod the container belongs to."""
        return await self._client.pods.get(self.pod_id)

    async def wait(
        self, state: ContainerState | str = "exited", timeout: float | None = None
    ) -> AsyncContainer:
        """Wait until the container is in ``state`` (default: exited, e.g. a job that
        ends by itself); returns self with its new status. Uses runtime events where
        there are any (containerd 1.7+), status polling where not (1.6, CRI-O with its
        events off); a runtime restart during the wait is waited out.
        Raises :class:`~cri_client.errors.WaitTimeoutError` after ``timeout`` seconds.

        >>> (await (await cri.run(image, name="job", command=["true"])).wait()).exit_code
        0
        """
        from cri_client._async.events import wait_for

        target = parse_state(ContainerState, state)
        if timeout is not None:
            check_seconds(timeout, "timeout")

        async def reached() -> bool:
            return (await self.reload()).state is target

        await wait_for(
            self._client,
            f"{self._describe()} did not become {target.value}",
            reached,
            lambda event: event.container_id == self.id,
            timeout,
        )
        return self

    @overload
    def stats(
        self, *, interval: float = ..., stream: Literal[False] = ...
    ) -> Awaitable[ContainerStats]: ...
    @overload
    def stats(
        self, *, interval: float = ..., stream: Literal[True], count: int | None = ...
    ) -> AsyncIterator[ContainerStats]: ...
    def stats(
        self,
        *,
        interval: float = SAMPLE_INTERVAL,
        stream: bool = False,
        count: int | None = None,
    ) -> Awaitable[ContainerStats] | AsyncIterator[ContainerStats]:
        """CPU, memory and writable-layer usage (docs/events-and-stats.md).
        ``cpu_percent`` is set even on the first call (a second sample ``interval``
        seconds later when the runtime does not compute it); ``stream=True`` returns
        an iterator of a sample every ``interval`` seconds (``count`` of them, or until
        you stop). A container that is not running (created, exited) has no usage: its
        sample is the one ``cri.containers.stats()`` lists, CPU and memory None."""
        from cri_client._async.support import sample_stream

        check_seconds(interval, "interval", allow_zero=False)
        if stream:
            return sample_stream(
                self._stats_sample, interval, count, self._client._measures_zero_cpu_rate
            )
        return self._stats_once(interval)

    async def _stats_sample(self) -> ContainerStats:
        from cri_client.types import ContainerStats

        try:
            reply = await self._client.api.container_stats(container_id=self.id)
        except UnknownError:
            # containerd (1.6 to 2.1) answers UNKNOWN, "unexpected metrics response:
            # []", for a container without a running task (created, or exited). Its
            # list reports that container, with no usage: give what cri.containers.stats()
            # gives for it. Not listed either: the first answer stands.
            listed = await self._client.api.list_container_stats(
                filter=pb.ContainerStatsFilter(id=self.id)
            )
            if not listed.stats:
                raise
            return ContainerStats.from_message(listed.stats[0])
        return ContainerStats.from_message(reply.stats)

    async def _stats_once(self, interval: float) -> ContainerStats:
        from cri_client._async.support import sample_twice

        async def sample() -> list[ContainerStats]:
            return [await self._stats_sample()]

        return (
            await sample_twice(
                sample, lambda s: s.container_id, interval, self._client._measures_zero_cpu_rate
            )
        )[0]


class AsyncContainerManager:
    """``cri.containers``: create, find and remove containers."""

    def __init__(self, client: AsyncCRIClient) -> None:
        self._client = client

    @takes_rpc_timeout
    async def create(
        self,
        pod: AsyncPod | str,
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
        config: pb.ContainerConfig | Mapping[str, Any] | None = None,
        pull: bool = False,
        rpc_timeout: float | None = None,
    ) -> AsyncContainer:
        """Create a container in a pod (not started: call :meth:`AsyncContainer.start`).

        ``image`` must be on the node: pull it with ``cri.images.pull``, pass
        ``pull=True`` (pulled when missing), or use ``cri.run``. A create that fails
        for want of the image raises NotFoundError saying so (one ImageStatus after
        the failure; none on success). ``config`` takes a complete ``ContainerConfig``
        instead of the other arguments, or a dict of one in protobuf's JSON mapping as
        a crictl config file writes it, env values as text
        (:func:`cri_client.configs.message_from_dict`).

        As kubelet does, the container's log directory (``<name>/`` in the pod's) is
        created first (CRI-O's conmon does not create it; removed again if the create
        fails), and ``image.user_specified_image`` is the image as given (CRI-O's
        signature policies need it).

        >>> ctr = await cri.containers.create(pod, "web", "busybox:1.35", command=["httpd", "-f"])
        """
        if isinstance(config, Mapping):
            config = config_from_dict(config, pb.ContainerConfig, "config")
        if config is not None and not isinstance(config, pb.ContainerConfig):
            raise TypeError(
                f"config must be a ContainerConfig or a dict, not {type(config).__name__}"
            )
        target = await self._client.pods.get(pod) if isinstance(pod, str) else pod
        sandbox = await target.config()
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
        else:
            config = with_user_specified_image(config)
        wanted = config.image.image
        if pull and not await self._client.images.exists(wanted):
            await self._client.images.pull(wanted)
        log_directory = container_log_directory(sandbox, config)
        made = log_directory if log_directory and support.make_directory(log_directory) else None
        try:
            reply = await self._client.api.create_container(
                pod_sandbox_id=target.id, config=config, sandbox_config=sandbox
            )
        except BaseException as err:
            if made is not None:
                support.remove_directory(made)
            if isinstance(err, NotFoundError | UnknownError) and not await self._has_image(wanted):
                raise image_not_present(wanted, err) from None
            raise
        status = (await self._client.api.container_status(container_id=reply.container_id)).status
        return AsyncContainer(self._client, status, target.id, (target.name, target.namespace))

    @takes_rpc_timeout
    async def recreate(
        self,
        reference: str | AsyncContainer,
        *,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        working_dir: str | None = None,
        env: Mapping[str, str | bytes | None] | None = None,
        labels: Mapping[str, str | None] | None = None,
        annotations: Mapping[str, str | None] | None = None,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        pull: bool = False,
        rpc_timeout: float | None = None,
    ) -> AsyncContainer:
        """Recreate a container by reference or object (see :meth:`get`) from its own
        config, with changes: :meth:`AsyncContainer.recreate`. Everything is checked
        before the first RPC."""
        changes = container_changes(
            image=image,
            command=command,
            args=args,
            working_dir=working_dir,
            env=env,
            labels=labels,
            annotations=annotations,
        )
        seconds = stop_seconds(timeout)
        return await self._recreate(await self.get(reference), changes, seconds, pull)

    async def _recreate(
        self, ctr: AsyncContainer, changes: ContainerChanges, stop_timeout: int, pull: bool
    ) -> AsyncContainer:
        """Read the config and the pod's, list the pod's containers (the next attempt
        is above every attempt of that name), look up the image, then replace the
        container."""
        config = await ctr.config()
        pod = await self._client.pods._with_config(ctr.pod_id)
        if not pod.ready:
            raise FailedPreconditionError(
                f"{pod._describe()} is not ready: it takes no new container; recreate the "
                "pod (pod.recreate() makes a new sandbox); nothing was changed",
                object_id=f"container_id={ctr.id}",
            )
        others = await pod._listed_containers(all=True)
        following = next_container_config(config, changes, others=others)
        await self._ensure_image(following.image.image, pull)
        return await self._replace(ctr.id, ctr._describe(), pod, following, stop_timeout)

    async def _ensure_image(self, image: str, pull: bool) -> None:
        """Make sure ``image`` is on the node before anything is stopped: pulled when
        missing and ``pull``, else NotFoundError saying that nothing was changed."""
        if await self._client.images.exists(image):
            return
        if pull:
            await self._client.images.pull(image)
            return
        raise NotFoundError(
            f"image {image!r} is not present on the node: nothing was stopped or removed; "
            "pull it first (cri.images.pull) or pass pull=True",
            rpc="ImageStatus",
        )

    async def _replace(
        self,
        container_id: str,
        description: str,
        pod: AsyncPod,
        config: pb.ContainerConfig,
        stop_timeout: int,
    ) -> AsyncContainer:
        """Stop and remove one container, then create and start ``config`` in ``pod``;
        a failure after the stop is a RecreateError saying what exists now."""
        await self._client.api.stop_container(container_id=container_id, timeout=stop_timeout)
        try:
            await self._client.api.remove_container(container_id=container_id)
        except CRIError as err:
            stopped = f"stopped {description}"
            raise recreate_failed(stopped, "removing it", err, removed=[], config=config) from err
        return await self._start_new(
            pod, config, f"stopped and removed {description}", [container_id]
        )

    async def _start_new(
        self, pod: AsyncPod, config: pb.ContainerConfig, done: str, removed: Sequence[str]
    ) -> AsyncContainer:
        """Create and start the container of a recreate, after ``done`` (what the
        recreate removed). A container that does not start is removed again: either
        step's failure is a RecreateError that says so (and, should that removal fail
        too, that the new container may remain; the start's failure stays the error)."""
        try:
            created = await self.create(
                pod, config.metadata.name, config.image.image, config=config
            )
        except CRIError as err:
            step = f"creating the new container {config.metadata.name!r}"
            raise recreate_failed(done, step, err, removed=removed, config=config) from err
        try:
            return await created.start()
        except CRIError as err:
            cleaned, then = " and removed it again", ""
            try:
                await created.remove(force=True, missing_ok=True)
            except CRIError as cleanup:
                cleaned = ""
                then = (
                    f"; removing it again failed too: {cleanup.details}; "
                    f"the new container {created.id} may remain"
                )
            raise recreate_failed(
                f"{done}; created {created._describe()}{cleaned}",
                "starting it",
                err,
                removed=removed,
                config=config,
                then=then,
            ) from err

    async def _has_image(self, image: str) -> bool:
        """Whether the node has the image a failed create asked for; True when the
        runtime cannot say (the create's own error is then the one to raise)."""
        try:
            return await self._client.images.exists(image)
        except CRIError:
            return True

    @takes_rpc_timeout
    async def get(
        self, reference: str | AsyncContainer, *, rpc_timeout: float | None = None
    ) -> AsyncContainer:
        """A container by full id, unique id prefix, name, ``namespace/pod/container``,
        or a container object (fetched again: the result has the current status and
        its pod's name). A full id costs one RPC, anything else a list first."""
        if isinstance(reference, AsyncContainer):
            reference = reference.id
        check_reference(reference, "container")
        if FULL_ID.match(reference):
            return await self._by_full_id(reference)
        listed = await self._client._lister.list(support.CONTAINERS)
        pods: dict[str, pb.PodSandboxMetadata] = {}
        if reference.count("/") == 2:
            pods = {
                p.id: p.metadata for p in await self._client._lister.list(support.POD_SANDBOXES)
            }
        found = resolve_reference(
            "container",
            reference,
            listed,
            lambda ctr: ctr.id,
            lambda ctr: container_names(reference, pods, ctr),
        )
        return await self._by_full_id(found.id, found.pod_sandbox_id)

    async def _by_full_id(self, container_id: str, pod_id: str | None = None) -> AsyncContainer:
        """One verbose ContainerStatus: the status, and the pod's id, name and
        namespace from the runtime's info (the status message has none); a filtered
        list where the info lacks the id."""
        reply = await self._client.api.container_status(container_id=container_id, verbose=True)
        pod_id = pod_id or sandbox_id_from_info(reply.info)
        if pod_id is None:
            listed = await self._client._lister.list(
                support.CONTAINERS, pb.ContainerFilter(id=container_id)
            )
            pod_id = listed[0].pod_sandbox_id if listed else ""
        return AsyncContainer(
            self._client, reply.status, pod_id, sandbox_names_from_info(reply.info)
        )

    @takes_rpc_timeout
    async def start(
        self, reference: str | AsyncContainer, *, rpc_timeout: float | None = None
    ) -> AsyncContainer:
        """Start a container by reference or object (see :meth:`get`)."""
        return await (await self.get(reference)).start()

    @takes_rpc_timeout
    async def stop(
        self,
        reference: str | AsyncContainer,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        *,
        rpc_timeout: float | None = None,
    ) -> AsyncContainer:
        """Stop a container by reference or object; SIGKILL after ``timeout`` seconds."""
        return await (await self.get(reference)).stop(timeout)

    @takes_rpc_timeout
    async def exec_many(
        self,
        containers: Sequence[AsyncContainer | str] | Mapping[str, str] | str,
        cmd: Sequence[str],
        *,
        timeout: float | None = None,
        parallel: int = BULK_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[BulkOutcome[ExecResult]]:
        """Run a command in many containers, ``parallel`` at a time, and report on each
        (as ``ansible -m command`` over hosts): its :class:`~cri_client.types.ExecResult`
        (a non-zero exit included), or the error :meth:`AsyncContainer.exec` raised.

        ``containers``: container objects or references, or a label selector (a
        mapping, or a string such as ``"app=web,tier!=db"``) that picks among the
        running containers. ``timeout`` is each command's own limit, as in ``exec``.

        >>> for o in await cri.containers.exec_many("app=web", ["nginx", "-t"]):
        ...     print(o.name, o.result.exit_code if o.ok else o.error)
        """
        command = check_command(cmd, "cmd", allow_empty=False)
        exec_limits(timeout, self._client.timeout)
        return await self._each(
            containers, lambda ctr: ctr.exec(command, timeout=timeout), parallel, all=False
        )

    @takes_rpc_timeout
    async def stop_many(
        self,
        containers: Sequence[AsyncContainer | str] | Mapping[str, str] | str,
        timeout: float = DEFAULT_STOP_TIMEOUT,
        *,
        parallel: int = BULK_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[BulkOutcome[AsyncContainer]]:
        """Stop many containers, ``parallel`` at a time (each gets SIGTERM, then
        SIGKILL after ``timeout`` seconds), and report on each: the container with its
        new status, or the error. ``containers`` as in :meth:`exec_many` (a selector
        picks among the running ones).

        >>> [o.id for o in await cri.containers.stop_many("app=web", timeout=5) if not o.ok]
        []
        """
        stop_seconds(timeout)
        return await self._each(containers, lambda ctr: ctr.stop(timeout), parallel, all=False)

    @takes_rpc_timeout
    async def remove_many(
        self,
        containers: Sequence[AsyncContainer | str] | Mapping[str, str] | str,
        *,
        force: bool = False,
        parallel: int = BULK_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[BulkOutcome[None]]:
        """Remove many containers, ``parallel`` at a time, and report on each. A
        running container is refused (its outcome carries the error) unless
        ``force``, which stops it at once first, as :meth:`remove`. ``containers`` as
        in :meth:`exec_many`; a selector picks among containers in every state.

        >>> outcomes = await cri.containers.remove_many("app=batch,tier notin (keep)")
        >>> [(o.name, str(o.error)) for o in outcomes if not o.ok]
        [('worker', "container ... is running: stop it first, or pass force=True")]
        """

        async def remove(ctr: AsyncContainer) -> None:
            await self.remove(ctr, force=force)

        return await self._each(containers, remove, parallel, all=True)

    async def _each(
        self,
        containers: Sequence[AsyncContainer | str] | Mapping[str, str] | str,
        action: Callable[[AsyncContainer], Awaitable[T]],
        parallel: int,
        *,
        all: bool,
    ) -> list[BulkOutcome[T]]:
        """``action`` on each container (see :func:`act_on_each`); a selector picks
        among the running containers unless ``all``."""

        async def select(selector: Mapping[str, str] | str) -> Sequence[AsyncContainer]:
            return await self.list(all=all, labels=selector)

        return await act_on_each(
            containers, AsyncContainer, "container", select, self.get, action, parallel
        )

    async def _with_statuses(
        self, listed: Sequence[pb.Container], parallel: int
    ) -> list[tuple[pb.ContainerStatus, str]]:
        """Each listed container's status (one ContainerStatus each, ``parallel`` at a
        time) with its pod id; those removed since the list are left out, and any other
        failure is raised."""
        calls = [partial(self._client.api.container_status, container_id=c.id) for c in listed]
        replies = await each_at_most(calls, parallel)
        statuses: list[tuple[pb.ContainerStatus, str]] = []
        for ctr, reply in zip(listed, replies, strict=True):
            if isinstance(reply, NotFoundError):
                continue
            if isinstance(reply, Exception):
                raise reply
            statuses.append((reply.status, ctr.pod_sandbox_id))
        return statuses

    @takes_rpc_timeout
    async def stats(
        self,
        *,
        pod: AsyncPod | str | None = None,
        labels: Mapping[str, str] | str | None = None,
        id: str | None = None,
        interval: float = SAMPLE_INTERVAL,
        rpc_timeout: float | None = None,
    ) -> list[ContainerStats]:
        """Usage of many containers with one RPC per sample (``crictl stats``):
        those the runtime lists, optionally of one ``pod`` (any pod reference, see
        ``cri.pods.get``), those ``labels`` select (a mapping or a selector string,
        as in :meth:`list`), or one full ``id``. containerd lists
        created and exited containers too, with CPU and memory None (``crictl stats``
        leaves those out of its table unless ``-a``). ``cpu_percent`` as in
        :meth:`AsyncContainer.stats`."""
        from cri_client._async.support import sample_twice
        from cri_client.types import ContainerStats

        selector = label_selector(labels)
        stats_filter = pb.ContainerStatsFilter(
            id=id or "",
            pod_sandbox_id=await self._pod_id(pod) or "",
            label_selector=selector.server_side(),
        )

        async def sample() -> list[ContainerStats]:
            reply = await self._client.api.list_container_stats(filter=stats_filter)
            return [
                ContainerStats.from_message(s)
                for s in reply.stats
                if selector.matches(s.attributes.labels)
            ]

        return await sample_twice(
            sample, lambda s: s.container_id, interval, self._client._measures_zero_cpu_rate
        )

    @takes_rpc_timeout
    async def list(
        self,
        *,
        all: bool = False,
        id: str | None = None,
        state: ContainerState | str | None = None,
        labels: Mapping[str, str] | str | None = None,
        pod: AsyncPod | str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        image: str | None = None,
        with_status: bool = False,
        parallel: int = STATUS_PARALLELISM,
        rpc_timeout: float | None = None,
    ) -> list[AsyncContainer]:
        """Running containers, newest first (``all=True`` or ``state=`` for others),
        like ``crictl ps``.

        ``id`` (full or prefix), ``state`` (``ContainerState`` or its name in any
        case), ``labels`` and ``pod`` (any pod reference, see ``cri.pods.get``) go to
        the runtime; ``name`` and ``namespace`` are regular expressions, and ``image``
        matches the image as asked for, its id, or an id prefix. ``labels`` is a
        mapping of exact values or a selector as kubectl writes it
        (``"app=web,tier in (a,b),!canary"``): exact values go to the runtime, the
        other terms are checked here.

        The CRI's list has no exit codes or times. ``with_status=True`` fills them
        (``exit_code``, ``started_at``, ``finished_at``, ``reason``, ``message``,
        ``log_path``) with one ContainerStatus per container, ``parallel`` at a time:
        no runtime offers a list with statuses (docs/performance.md has the cost). A
        container removed between the list and its status is left out.

        >>> [(c.pod_name, c.name, c.exit_code) for c in await cri.containers.list(
        ...     all=True, labels="app in (web,api)", state="exited", with_status=True)]
        [('web-0', 'web', 137)]
        """
        selector = label_selector(labels)
        check_parallel(parallel)
        server_side = container_filter(
            all=all, id=id, state=state, selector=selector, pod_id=await self._pod_id(pod)
        )
        found = await self._client._lister.list(support.CONTAINERS, server_side)
        pods: dict[str, pb.PodSandboxMetadata] | None = None
        if namespace is not None or any(not has_pod_labels(ctr.labels) for ctr in found):
            pods = {
                p.id: p.metadata for p in await self._client._lister.list(support.POD_SANDBOXES)
            }
        namespaces = {pod_id: meta.namespace for pod_id, meta in (pods or {}).items()}
        selected = select_containers(
            found,
            id=id,
            name=name,
            namespace=namespace,
            namespaces=namespaces,
            image=image,
            selector=selector,
        )
        listed: Sequence[Listed] = [(ctr, ctr.pod_sandbox_id) for ctr in selected]
        if with_status:
            listed = await self._with_statuses(selected, parallel)
        return [
            AsyncContainer(self._client, raw, pod_id, pod_name_and_namespace(pods, pod_id))
            for raw, pod_id in listed
        ]

    @takes_rpc_timeout
    async def remove(
        self,
        reference: str | AsyncContainer,
        *,
        force: bool = False,
        missing_ok: bool = False,
        rpc_timeout: float | None = None,
    ) -> None:
        """Remove a container by reference or object; ``force`` stops a running one first."""
        try:
            container_id = await self._resolve_id(reference)
            status = (await self._client.api.container_status(container_id=container_id)).status
            if status.state == pb.CONTAINER_RUNNING:
                if not force:
                    raise running_container_refused(status)
                await self._client.api.stop_container(container_id=status.id, timeout=0)
            await self._client.api.remove_container(container_id=status.id)
        except NotFoundError:
            if not missing_ok:
                raise

    @takes_rpc_timeout
    async def prune(
        self,
        *,
        exited_before: timedelta | float | None = None,
        labels: Mapping[str, str] | str | None = None,
        dry_run: bool = False,
        parallel: int = BULK_PARALLELISM,
        progress: Callable[[PruneItem, int, int], object] | None = None,
        rpc_timeout: float | None = None,
    ) -> PruneReport:
        """Remove exited containers (with ``labels``; with ``exited_before``, a
        timedelta or seconds, only those that exited at least that long ago), at most
        ``parallel`` at a time, and report every container with the reason it was
        removed or kept: running and created ones always stay (docs/operations.md).
        Each failure is reported on its item, not raised; ``dry_run`` removes nothing.
        Log files stay, as with :meth:`remove`.
        ``progress(item, done, total)``, when given, is called as each removal ends
        (``item`` as it ended; ``done`` of ``total`` removals of this step).

        >>> report = await cri.containers.prune(exited_before=timedelta(hours=1))
        >>> [item.name for item in report.removed]
        ['job']
        """
        from cri_client._async.prune import ContainerOptions, Pruner

        pruner = Pruner(self._client, dry_run, parallel, progress)
        options = ContainerOptions(exited_before)
        return await pruner.report(lambda: pruner.containers(options, labels))

    async def _resolve_id(self, reference: str | AsyncContainer) -> str:
        """A full id, an object's id, or (one list) what a name or prefix means."""
        if isinstance(reference, AsyncContainer):
            return reference.id
        check_reference(reference, "container")
        if FULL_ID.match(reference):
            return reference
        return (await self.get(reference)).id

    async def _pod_id(self, pod: AsyncPod | str | None) -> str | None:
        """The full id of a ``pod=`` argument: any pod reference, or None for all pods."""
        return None if pod is None else await self._client.pods.resolve_id(pod)


publish(AsyncContainer, AsyncContainerManager)
