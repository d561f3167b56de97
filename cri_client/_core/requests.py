"""What the high-level calls send, and how their failures become errors.

Exec limits and exec failures, stop timeouts, the sandbox config read back from a
pod's status, registry credentials as an ``AuthConfig``, and the refusals of
operations on running objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from cri_client._core.messages import decode_json_values
from cri_client._core.validation import check_seconds
from cri_client._core.views import PodView
from cri_client._proto import api_pb2 as pb
from cri_client.errors import (
    CommandNotFoundError,
    CRIError,
    DeadlineExceededError,
    ExecTimeoutError,
    FailedPreconditionError,
    UnknownError,
)

"""Registry credentials: an ``AuthConfig``, a dict of its fields, or (user, password)."""

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


def sandbox_config_from(reply: pb.PodSandboxStatusResponse) -> pb.PodSandboxConfig:
    """The sandbox config from a verbose status: containerd's ``info`` carries it;
    otherwise rebuilt from the status (metadata, labels, annotations, namespaces)."""
    from google.protobuf import json_format

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


# --- containers -------------------------------------------------------------------------


def running_container_refused(status: pb.ContainerStatus) -> FailedPreconditionError:
    """Removing a running container without ``force``."""
    return FailedPreconditionError(
        f"container {status.id[:13]} ({status.metadata.name}) is running: stop it first or "
        "pass force=True",
        rpc="RemoveContainer",
        object_id=f"container_id={status.id}",
    )


def stop_seconds(timeout: float) -> int:
    """``stop(timeout)`` as the CRI's whole seconds, checked."""
    return math.ceil(check_seconds(timeout, "timeout"))


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
        return ExecTimeoutError(
            f"{list(command)!r} did not finish within {seconds} s ({err.details})",
            rpc="ExecSync",
            object_id=err.object_id,
        )
    if isinstance(err, UnknownError) and any(
        text in err.details.lower() for text in _NOT_FOUND_TEXTS
    ):
        return CommandNotFoundError(
            f"{command[0]!r} cannot be run in the container: {err.details}",
            rpc="ExecSync",
            object_id=err.object_id,
        )
    return err


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
