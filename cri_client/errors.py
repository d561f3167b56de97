"""The exception hierarchy, and the one place where a gRPC status becomes one of them.

Every error the library raises for a runtime call is a :class:`CRIError`. The
message names the RPC, the object it was about (container, pod sandbox or
image id, when the request names one) and the runtime's own text, e.g.::

    ContainerStatus(container_id=3f2a...): NOT_FOUND: an error occurred when try
    to find container "3f2a...": not found

Catch a specific class for a specific condition (``NotFoundError`` for "already
gone", ``UnavailableError`` for "runtime down or restarting") and ``CRIError``
for everything else. ``grpc.RpcError`` never escapes the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from cri_client._core.runtimes import Meaning, meaning_of

if TYPE_CHECKING:
    from cri_client._proto import api_pb2 as pb
    from cri_client.types import ExecResult

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "AmbiguousReferenceError",
    "CRIError",
    "CancelledError",
    "ClientClosedError",
    "CommandNotFoundError",
    "ContainerNotRunningError",
    "CredentialHelperError",
    "CrictlConfigError",
    "DeadlineExceededError",
    "EndpointError",
    "EventsDisabledError",
    "ExecError",
    "ExecTimeoutError",
    "FailedPreconditionError",
    "InsecureEndpointWarning",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "RecreateError",
    "ResourceExhaustedError",
    "StreamError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "UnsupportedAPIVersionError",
    "WaitTimeoutError",
    "error_from_rpc",
    "unsupported_api_error",
]


class CRIError(Exception):
    """Base class of every error raised for a CRI call.

    Attributes:
        rpc: the RPC name (``"ContainerStatus"``), or ``None`` when no RPC was made.
        object_id: what the request was about (``"container_id=3f2a..."``), if anything.
        code: the gRPC status code, or ``None`` when the error is the client's own.
        details: the runtime's (or the client's) own text.
    """

    code: grpc.StatusCode | None = None

    def __init__(
        self,
        details: str,
        *,
        rpc: str | None = None,
        object_id: str | None = None,
        code: grpc.StatusCode | None = None,
    ) -> None:
        self.details = details
        self.rpc = rpc
        self.object_id = object_id
        if code is not None:
            self.code = code
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.rpc or ""
        if self.rpc and self.object_id:
            where = f"{self.rpc}({self.object_id})"
        status = f"{self.code.name}: " if self.code is not None else ""
        return f"{where}: {status}{self.details}" if where else f"{status}{self.details}"


class CancelledError(CRIError):
    """The call was cancelled on the client side (an iterator closed early)."""

    code = grpc.StatusCode.CANCELLED


class UnknownError(CRIError):
    """The runtime failed without a specific code; containerd uses this for most
    failures of the OCI runtime (e.g. exec of a missing binary)."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(CRIError):
    """The runtime rejected the request as malformed."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(CRIError):
    """The call (or, for ExecSync, the command) ran past its deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(CRIError):
    """The container, pod sandbox or image does not exist (any more)."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(CRIError):
    """An object with that name (or id) exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(CRIError):
    """The runtime or the operating system refused access."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(CRIError):
    """Out of a resource; also a reply larger than ``max_message_size``."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(CRIError):
    """The object is not in a state that allows the operation."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ContainerNotRunningError(FailedPreconditionError):
    """The container exists but is not running (created, or exited), so there is no
    process to exec in. containerd answers UNKNOWN and CRI-O NOT_FOUND; ``code`` and
    ``details`` are the runtime's own."""


class AbortedError(CRIError):
    """The runtime aborted the operation, usually because of a concurrent one."""

    code = grpc.StatusCode.ABORTED


class OutOfRangeError(CRIError):
    """A value was outside the range the runtime accepts."""

    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(CRIError):
    """The runtime does not implement this RPC (e.g. containerd 1.6 and
    GetContainerEvents)."""

    code: grpc.StatusCode | None = grpc.StatusCode.UNIMPLEMENTED


class UnsupportedAPIVersionError(UnimplementedError):
    """The runtime does not serve CRI ``runtime.v1``, the only version spoken here."""


class EventsDisabledError(UnimplementedError):
    """The runtime serves GetContainerEvents but ends every subscription at once,
    without an event: its container events are switched off (CRI-O's default,
    ``enable_pod_events = false``). An event stream raises it after a few such
    subscriptions in a row instead of resubscribing forever; waits poll instead.
    It is an :class:`UnimplementedError` because, to a caller, it means the same as
    containerd 1.6's UNIMPLEMENTED: this runtime has no events. The runtime sent no
    error status, so ``code`` is None."""

    code = None


class InternalError(CRIError):
    """The runtime reported an internal error."""

    code = grpc.StatusCode.INTERNAL


class UnavailableError(CRIError):
    """The runtime cannot be reached now: not running, restarting, or the socket is
    gone. Retrying later, with the same client, is the right reaction."""

    code: grpc.StatusCode | None = grpc.StatusCode.UNAVAILABLE


class RecreateError(CRIError):
    """A recreate failed after it had changed something. The message says what was
    done and what exists now (``"stopped and removed container 3f2a... (web);
    creating the new container failed: ..."``); ``code``, ``rpc`` and ``details`` are
    those of the step that failed, the error it raised is ``__cause__``.

    Attributes:
        removed: the ids of what was stopped and removed (containers, a pod sandbox).
        config: the config of what was being made (a ``ContainerConfig`` or a
            ``PodSandboxConfig``): ``cri.containers.create(pod, name, image,
            config=err.config)`` tries that step again.
    """

    def __init__(
        self,
        details: str,
        *,
        removed: Sequence[str],
        config: pb.ContainerConfig | pb.PodSandboxConfig,
        rpc: str | None = None,
        object_id: str | None = None,
        code: grpc.StatusCode | None = None,
    ) -> None:
        self.removed = list(removed)
        self.config = config
        super().__init__(details, rpc=rpc, object_id=object_id, code=code)


class AmbiguousReferenceError(CRIError, ValueError):
    """An id prefix or name matched more than one object; ``candidates`` lists their ids.

    ``matched`` says which rule matched several: ``"id prefix"`` or ``"name"``. The
    message ends with what picks one: a longer id prefix for a prefix; for a name,
    the qualified name (``namespace/name`` for pods, ``namespace/pod/container`` for
    containers), unless the reference already is one (a pod and its next attempt
    share it), then an id prefix. Ten candidates at most are listed, then how many
    more there are.
    """

    def __init__(
        self, kind: str, reference: str, candidates: Sequence[str], *, matched: str = "id prefix"
    ) -> None:
        self.candidates = list(candidates)
        self.matched = matched
        shown = ", ".join(c[:13] for c in self.candidates[:_SHOWN_CANDIDATES])
        if len(self.candidates) > _SHOWN_CANDIDATES:
            shown += f" and {len(self.candidates) - _SHOWN_CANDIDATES} more"
        super().__init__(
            f"{kind} reference {reference!r} is ambiguous: it matches {len(candidates)} "
            f"{kind}s ({shown}); {_disambiguation(kind, reference, matched)}"
        )


_SHOWN_CANDIDATES = 10
"""How many candidate ids an ambiguous reference's message lists."""

_QUALIFIED_NAMES = {"pod": "namespace/name", "container": "namespace/pod/container"}
"""The name form that tells apart objects of the same name, per kind of reference."""


def _disambiguation(kind: str, reference: str, matched: str) -> str:
    """What a caller can write instead of an ambiguous reference."""
    if matched != "name":
        return "use a longer id prefix"
    qualified = _QUALIFIED_NAMES.get(kind)
    if qualified is None or reference.count("/") >= qualified.count("/"):
        return "use an id prefix"
    return f"use {qualified} or an id prefix"


class EndpointError(UnavailableError):
    """No usable runtime socket: none was found, the path does not exist, is not a
    socket, or this user may not open it. The message says what was tried and what
    to do. It is found before or instead of a gRPC status, so ``code`` is None."""

    code = None


class CrictlConfigError(ValueError):
    """A crictl config file that was named (the CLI's ``-c``, ``config_file`` of
    :func:`cri_client.endpoint.load_crictl_config`, or ``CRI_CONFIG_FILE``) is missing,
    unreadable or invalid. The message names the file and the problem."""


class InsecureEndpointWarning(UserWarning):
    """A TCP endpoint was used: the CRI has no authentication, anyone who can reach
    the port controls the runtime."""


class ClientClosedError(CRIError):
    """The client was used after ``close()``."""


class WaitTimeoutError(CRIError, TimeoutError):
    """A wait (``Container.wait``, ``Pod.wait_ready``) ran out of time; the object is
    still in its old state."""


class ExecTimeoutError(DeadlineExceededError):
    """A command run with ``Container.exec`` passed its ``timeout``; the runtime killed it."""


class CommandNotFoundError(UnknownError):
    """The program given to ``Container.exec`` does not exist in the container."""


class ExecError(CRIError):
    """``Container.exec(..., check=True)`` ran a command that exited non-zero.

    ``result`` is the whole :class:`~cri_client.types.ExecResult`: exit code,
    stdout and stderr are all there."""

    def __init__(self, command: Sequence[str], result: ExecResult, object_id: str) -> None:
        self.command = list(command)
        self.result = result
        tail = result.stderr.decode(errors="replace").strip()[-300:]
        super().__init__(
            f"{self.command!r} exited with {result.exit_code}" + (f": {tail}" if tail else ""),
            rpc="ExecSync",
            object_id=object_id,
        )


class StreamError(CRIError):
    """An exec, attach or port-forward stream failed: the streaming URL was already used
    or has expired (they are single-use), the streaming server could not be reached,
    the connection broke, or the runtime reported an error instead of an exit status.
    It comes from the streaming server, not a gRPC call: ``code`` and ``rpc`` are None."""


class CredentialHelperError(CRIError):
    """A docker credential helper that ``config.json`` names for the registry (its
    ``credHelpers`` or ``credsStore``) failed or gave no usable answer, so a pull
    without ``auth`` stopped before any RPC. The message names the helper, the
    config file and the registry, and carries the helper's own error text (never a
    secret); ``helper`` and ``registry`` hold the first two."""

    def __init__(self, details: str, *, helper: str, registry: str) -> None:
        self.helper = helper
        self.registry = registry
        super().__init__(details)


_BY_CODE: dict[grpc.StatusCode, type[CRIError]] = {
    cls.code: cls
    for cls in (
        CancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
    )
    if cls.code is not None
}

_BY_MEANING: dict[Meaning, type[CRIError]] = {
    Meaning.NOT_FOUND: NotFoundError,
    Meaning.ALREADY_EXISTS: AlreadyExistsError,
    Meaning.NOT_RUNNING: ContainerNotRunningError,
    Meaning.NOT_READY: FailedPreconditionError,
    Meaning.STARTING: UnavailableError,
}

_V1_MISSING = "unknown service runtime.v1."


def error_from_rpc(err: grpc.RpcError, rpc: str, object_id: str | None = None) -> CRIError:
    """The one mapping from a failed gRPC call to a :class:`CRIError` subclass.

    The class follows the gRPC code, except for the runtime answers that
    :data:`cri_client._core.runtimes.KNOWN_ANSWERS` lists (CRI-O's UNKNOWN for an
    unknown container, a name in use, ...): those get the class of what they mean, so
    ``NotFoundError`` means "does not exist" on every runtime. The error keeps the
    runtime's own code and text either way. ``err`` must be a ``grpc.Call`` too (every
    error grpcio raises for a call is).
    """
    code: grpc.StatusCode = err.code()
    details: str = err.details() or code.name.lower()
    if code == grpc.StatusCode.UNIMPLEMENTED and _V1_MISSING in details:
        return unsupported_api_error(details, rpc)
    meaning = meaning_of(rpc, code.name, details)
    cls = _BY_MEANING[meaning] if meaning is not None else _BY_CODE.get(code, CRIError)
    return cls(details, rpc=rpc, object_id=object_id, code=code)


def unsupported_api_error(details: str, rpc: str) -> UnsupportedAPIVersionError:
    """The error for a runtime that does not serve ``runtime.v1``."""
    return UnsupportedAPIVersionError(
        f"{details}; the runtime does not serve CRI runtime.v1 (it may serve only the "
        "deprecated v1alpha2). cri-client speaks runtime.v1 only: containerd >= 1.6, "
        "CRI-O >= 1.23 and cri-dockerd >= 0.3 serve it",
        rpc=rpc,
        code=grpc.StatusCode.UNIMPLEMENTED,
    )
