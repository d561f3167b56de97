"""What the high-level calls send, and how their failures become errors.

Exec limits and exec failures, stop timeouts, registry credentials as an
``AuthConfig``, the refusals of operations on running objects and of a second ready
pod with the same name, and the error for an image that is not on the node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from cri_client._core.runtimes import exec_sync_timed_out
from cri_client._core.validation import check_seconds
from cri_client._core.views import PodView
from cri_client._proto import api_pb2 as pb
from cri_client.errors import (
    AlreadyExistsError,
    CommandNotFoundError,
    CRIError,
    DeadlineExceededError,
    ExecTimeoutError,
    FailedPreconditionError,
    NotFoundError,
    UnknownError,
)

AuthSpec = pb.AuthConfig | Mapping[str, str] | tuple[str, str]
"""Registry credentials: an ``AuthConfig``, a dict of its fields, or (user, password)."""

# Runtime texts for "the program does not exist" (runc, crun, runsc, CRI-O's conmon).
_NOT_FOUND_TEXTS = ("no such file or directory", "executable file not found", "not found in $path")


def ready_pod_refused(pod: PodView) -> FailedPreconditionError:
    """Removing a ready pod without ``force``."""
    return FailedPreconditionError(
        f"{pod._describe()} is ready: stop it first or pass force=True",
        rpc="RemovePodSandbox",
        object_id=f"pod_sandbox_id={pod.id}",
    )


def ready_pod_exists(pod: PodView) -> AlreadyExistsError:
    """``pods.run(name)`` while a ready pod of that name and namespace exists: a second
    one would get a new uid, and every later lookup by name would be ambiguous."""
    return AlreadyExistsError(
        f"{pod._describe()} is ready: a second pod named {pod.name!r} in namespace "
        f"{pod.namespace!r} would make the name ambiguous; remove that one, or pass uid= "
        "or attempt= to make another on purpose",
        rpc="RunPodSandbox",
        object_id=f"pod_sandbox_id={pod.id}",
    )


# --- containers -------------------------------------------------------------------------


def running_container_refused(status: pb.ContainerStatus) -> FailedPreconditionError:
    """Removing a running container without ``force``."""
    return FailedPreconditionError(
        f"container {status.id[:13]} ({status.metadata.name}) is running: stop it first or "
        "pass force=True",
        rpc="RemoveContainer",
        object_id=f"container_id={status.id}",
    )


def stop_seconds(timeout: float, field: str = "timeout") -> int:
    """``stop(timeout)`` (or a pod's ``grace_period``) as the CRI's whole seconds, checked."""
    return math.ceil(check_seconds(timeout, field))


def check_forced_grace_period(force: bool, grace_period: float | None) -> None:
    """A pod removal's ``grace_period``: only with ``force``, which stops the pod."""
    if grace_period is None:
        return
    if not force:
        raise ValueError(
            f"grace_period={grace_period!r} needs force=True: only a forced removal stops the pod"
        )
    stop_seconds(grace_period, "grace_period")


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
        return _exec_timeout(command, seconds, err.details, err.object_id)
    if isinstance(err, UnknownError) and any(
        text in err.details.lower() for text in _NOT_FOUND_TEXTS
    ):
        return CommandNotFoundError(
            f"{command[0]!r} cannot be run in the container: {err.details}",
            rpc="ExecSync",
            object_id=err.object_id,
        )
    return err


def exec_reply_failure(
    reply: pb.ExecSyncResponse, command: Sequence[str], seconds: int, container_id: str
) -> ExecTimeoutError | None:
    """The error an ExecSync reply that came back OK means, if any: CRI-O answers a
    command past its timeout with OK and exit code -1 (see ``_core.runtimes``)."""
    if not exec_sync_timed_out(reply.exit_code, reply.stderr):
        return None
    details = reply.stderr.decode(errors="replace").strip()
    return _exec_timeout(command, seconds, details, f"container_id={container_id}")


def _exec_timeout(
    command: Sequence[str], seconds: int, details: str, object_id: str | None
) -> ExecTimeoutError:
    return ExecTimeoutError(
        f"{list(command)!r} did not finish within {seconds} s ({details})",
        rpc="ExecSync",
        object_id=object_id,
    )


def image_not_present(image: str, err: CRIError) -> NotFoundError:
    """A CreateContainer that failed because its image is not on the node. The runtimes
    word it in their own ways (containerd: "failed to check if this is a checkpoint
    image: failed to resolve image ...: not found"); this says what to do. It keeps
    the runtime's code and, at the end, its text."""
    return NotFoundError(
        f"image {image!r} is not present on the node; pull it first (cri.images.pull) or "
        f"pass pull=True (the runtime said: {err.details})",
        rpc=err.rpc,
        object_id=err.object_id,
        code=err.code,
    )


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
