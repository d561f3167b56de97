"""Recreating containers and pods from their own config: the configs read back from a
runtime, the changes a caller may apply on the way, the next attempt's config, and
the error that says what exists after a recreate failed half-way.

What a runtime reports is read through :mod:`cri_client._core.runtimes` (containerd
has the config in its verbose info; CRI-O only the OCI spec), and every dict becomes
a message through :func:`cri_client._core.messages.message_from_dict`, so env values
are the text the runtime reported, never a base64 decoding of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cri_client._core.configs import (
    attempts_of,
    check_env_name,
    env_entries,
    with_user_specified_image,
)
from cri_client._core.messages import message_from_dict
from cri_client._core.runtimes import config_in_info, runtime_spec_in_info, verbose_details
from cri_client._core.validation import (
    check_command,
    check_image_reference,
    check_label_key,
    check_labels,
)
from cri_client._proto import api_pb2 as pb
from cri_client.errors import CRIError, RecreateError

V = TypeVar("V")

__all__ = [
    "ContainerChanges",
    "container_changes",
    "container_config_from",
    "latest_attempts",
    "next_container_config",
    "next_sandbox_config",
    "recreate_failed",
    "sandbox_config_from",
]


# --- configs read back ------------------------------------------------------------------


def container_config_from(reply: pb.ContainerStatusResponse) -> pb.ContainerConfig:
    """The config a container was made with, from its verbose status: the runtime's
    own copy where it keeps one (containerd), else rebuilt (CRI-O, see
    :func:`_rebuilt_container_config`)."""
    details = verbose_details(reply.info)
    written = config_in_info(details)
    if written is None:
        return _rebuilt_container_config(reply.status, runtime_spec_in_info(details))
    return with_user_specified_image(message_from_dict(written, pb.ContainerConfig))


def sandbox_config_from(reply: pb.PodSandboxStatusResponse) -> pb.PodSandboxConfig:
    """The sandbox config from a verbose status: containerd's ``info`` carries it;
    otherwise rebuilt from the status (metadata, labels, annotations, namespaces)."""
    written = config_in_info(verbose_details(reply.info))
    if written is not None:
        return message_from_dict(written, pb.PodSandboxConfig)
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


def _rebuilt_container_config(
    status: pb.ContainerStatus, spec: Mapping[str, Any]
) -> pb.ContainerConfig:
    """A config from what a runtime without one in its info reports: the status
    (metadata, image, labels, annotations, mounts, resources) and the OCI spec's
    process (its argv as ``command``, env, working directory, terminal). The spec's
    env is the process's whole environment: the image's and the runtime's variables
    (``PATH``, ``HOSTNAME``) are kept as if the caller had set them."""
    found = spec.get("process")
    process: dict[str, Any] = found if isinstance(found, dict) else {}
    pairs = (item.split("=", 1) for item in process.get("env") or () if isinstance(item, str))
    image = status.image.user_specified_image or status.image.image
    config = pb.ContainerConfig(
        metadata=status.metadata,
        image=pb.ImageSpec(image=image, user_specified_image=image),
        command=[arg for arg in process.get("args") or () if isinstance(arg, str)],
        working_dir=process.get("cwd") if isinstance(process.get("cwd"), str) else "",
        envs=[pb.KeyValue(key=pair[0], value=pair[1].encode()) for pair in pairs if len(pair) == 2],
        mounts=status.mounts,
        labels=status.labels,
        annotations=status.annotations,
        log_path=status.log_path,
        tty=process.get("terminal") is True,
    )
    if status.HasField("resources") and status.resources.HasField("linux"):
        config.linux.resources.CopyFrom(status.resources.linux)
    return config


# --- changes and the next attempt -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainerChanges:
    """What a recreate changes, checked; None (or an empty mapping) changes nothing.
    In ``env``, ``labels`` and ``annotations`` a None value removes the key."""

    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    env: dict[str, bytes | None] = field(default_factory=dict)
    labels: dict[str, str | None] = field(default_factory=dict)
    annotations: dict[str, str | None] = field(default_factory=dict)


def container_changes(
    *,
    image: str | None = None,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    working_dir: str | None = None,
    env: Mapping[str, str | bytes | None] | None = None,
    labels: Mapping[str, str | None] | None = None,
    annotations: Mapping[str, str | None] | None = None,
) -> ContainerChanges:
    """The changes of ``recreate(...)``, checked as ``containers.create`` checks its
    arguments (ValueError naming the argument), before any RPC."""
    if image is not None:
        check_image_reference(image)
    if working_dir is not None and working_dir and not working_dir.startswith("/"):
        raise ValueError(f"working_dir must be an absolute path, not {working_dir!r}")
    return ContainerChanges(
        image=image,
        command=None if command is None else check_command(command, "command"),
        args=None if args is None else check_command(args, "args"),
        working_dir=working_dir,
        env=_env_changes(env),
        labels=_label_changes(labels, "labels"),
        annotations=_label_changes(annotations, "annotations"),
    )


def _env_changes(env: Mapping[str, str | bytes | None] | None) -> dict[str, bytes | None]:
    if env is not None and not isinstance(env, Mapping):
        raise ValueError(f"env must be a mapping of names to str values, not {env!r}")
    checked: dict[str, bytes | None] = {}
    for key, value in (env or {}).items():
        if value is None:
            checked[check_env_name(key, value)] = None
        else:
            [entry] = env_entries({key: value})
            checked[entry.key] = entry.value
    return checked


def _label_changes(
    values: Mapping[str, str | None] | None, field_name: str
) -> dict[str, str | None]:
    if values is not None and not isinstance(values, Mapping):
        raise ValueError(f"{field_name} must be a mapping of strings, not {values!r}")
    annotations = field_name == "annotations"
    checked: dict[str, str | None] = {}
    for key, value in (values or {}).items():
        if value is None:
            checked[check_label_key(key, field_name)] = None
        else:
            checked.update(check_labels({key: value}, field_name, annotations=annotations))
    return checked


def next_container_config(
    config: pb.ContainerConfig, changes: ContainerChanges, *, others: Iterable[pb.Container]
) -> pb.ContainerConfig:
    """The config of the next attempt: one above the highest attempt of that name
    among ``others`` (the pod's containers in any state: kubelet keeps the previous
    exited attempt, so an older one may be recreated while a newer one exists) and
    ``config``, the log at kubelet's ``<name>/<attempt>.log`` in the pod's log
    directory (so the previous attempt's log is found beside it), and the changes
    applied. A copy: ``config`` is kept."""
    following = pb.ContainerConfig()
    following.CopyFrom(config)
    name = config.metadata.name
    attempt = _next_attempt(
        config.metadata.attempt, (c.metadata.attempt for c in others if c.metadata.name == name)
    )
    following.metadata.attempt = attempt
    following.log_path = f"{config.metadata.name}/{attempt}.log"
    if changes.image is not None:
        following.image.image = changes.image
        following.image.user_specified_image = changes.image
    if changes.command is not None:
        following.command[:] = changes.command
    if changes.args is not None:
        following.args[:] = changes.args
    if changes.working_dir is not None:
        following.working_dir = changes.working_dir
    if changes.env:
        merged = _merged([(e.key, e.value) for e in config.envs], changes.env)
        del following.envs[:]
        following.envs.extend(pb.KeyValue(key=key, value=value) for key, value in merged)
    for name, wanted in (("labels", changes.labels), ("annotations", changes.annotations)):
        if wanted:
            target = getattr(following, name)
            target.clear()
            target.update(_merged(list(getattr(config, name).items()), wanted))
    return following


def _merged(old: Sequence[tuple[str, V]], changes: Mapping[str, V | None]) -> list[tuple[str, V]]:
    """``old`` in its order with changed values replaced and removed keys (None) left
    out, then the new keys."""
    merged: list[tuple[str, V]] = []
    for key, value in old:
        replacement = changes.get(key, value)
        if replacement is not None:
            merged.append((key, replacement))
    known = {key for key, _ in old}
    merged.extend(
        (key, value) for key, value in changes.items() if key not in known and value is not None
    )
    return merged


def next_sandbox_config(
    config: pb.PodSandboxConfig, *, others: Iterable[pb.PodSandbox]
) -> pb.PodSandboxConfig:
    """The config of a pod's next sandbox: one above the highest attempt among
    ``others`` (the node's sandboxes) of the same namespace, name and uid and
    ``config``, all else the same (the uid too, so the log directory and the
    containers' earlier logs are kept)."""
    following = pb.PodSandboxConfig()
    following.CopyFrom(config)
    pod = config.metadata
    following.metadata.attempt = _next_attempt(
        pod.attempt,
        (
            sandbox.metadata.attempt
            for sandbox in attempts_of(pod.namespace, pod.name, pod.uid, others)
        ),
    )
    return following


def _next_attempt(own: int, others: Iterable[int]) -> int:
    """One above the highest of ``own`` and the attempts of the same name: a create
    with it cannot collide with an attempt that exists."""
    return max([own, *others]) + 1


def latest_attempts(containers: Iterable[pb.Container]) -> list[pb.Container]:
    """Each container name's latest attempt (kubelet keeps earlier, exited ones until
    its garbage collection), oldest first: the order they were created in."""
    latest: dict[str, pb.Container] = {}
    for status in containers:
        known = latest.get(status.metadata.name)
        if known is None or status.metadata.attempt > known.metadata.attempt:
            latest[status.metadata.name] = status
    return sorted(latest.values(), key=lambda status: status.created_at)


# --- failures half-way ------------------------------------------------------------------


def recreate_failed(
    done: str,
    step: str,
    cause: CRIError,
    *,
    removed: Sequence[str],
    config: pb.ContainerConfig | pb.PodSandboxConfig,
    then: str = "",
) -> RecreateError:
    """The error of a recreate that failed after it changed something: what it did
    (``done``), which step failed and the runtime's answer, keeping its code, RPC and
    object, and ``then`` what happened after (a cleanup that failed too)."""
    return RecreateError(
        f"{done}; {step} failed: {cause.details}{then}",
        removed=list(removed),
        config=config,
        rpc=cause.rpc,
        object_id=cause.object_id,
        code=cause.code,
    )
