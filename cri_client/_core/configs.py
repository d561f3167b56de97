"""Pod sandbox and container configs built the way kubelet builds them.

The CRI messages are proto3, so every field left out means "zero", and several
zeros are traps that kubelet never falls into. These builders set what kubelet
sets, validate every argument before any RPC, and document each default:

* ``NamespaceOption.pid = CONTAINER`` (proto3's zero is POD: the pause process would
  be PID 1 of every container);
* no hostname on a host-network pod (runc refuses to set one without its own UTS
  namespace);
* a cgroup parent per pod, ``/cri-client/pod<uid>`` (cgroupfs driver; containerd 1.6
  cannot report pod stats without one), kept apart from kubelet's ``/kubepods`` so
  that kubelet's orphan cleanup never touches these pods;
* a log directory per pod (``/var/log/pods/<namespace>_<name>_<uid>``, kubelet's
  layout), with each container logging to ``<name>/<attempt>.log`` inside it (the
  client creates ``<name>/`` before CreateContainer, as kubelet does: containerd
  would make it, CRI-O's conmon does not);
* ``image.user_specified_image``, the image as the caller named it (CRI-O checks
  signatures against it, and refuses a create without it when a policy asks).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cri_client._core.validation import (
    check_command,
    check_dns_label,
    check_image_reference,
    check_labels,
    check_name,
)
from cri_client._proto import api_pb2 as pb

__all__ = ["DEFAULT_LOG_ROOT", "container_config", "pod_sandbox_config"]

DEFAULT_LOG_ROOT = "/var/log/pods"
"""Where kubelet puts pod log directories; the default here too."""

MountSpec = pb.Mount | Mapping[str, Any] | tuple[str, str] | tuple[str, str, bool]


def namespace_options(host_network: bool) -> pb.NamespaceOption:
    """kubelet's defaults: own network (unless host), own PID namespace per container."""
    return pb.NamespaceOption(
        network=pb.NODE if host_network else pb.POD,
        pid=pb.CONTAINER,
        ipc=pb.POD,
    )


def pod_sandbox_config(
    name: str,
    *,
    namespace: str = "default",
    uid: str | None = None,
    attempt: int = 0,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    host_network: bool = False,
    hostname: str | None = None,
    log_directory: str | None = None,
    dns: pb.DNSConfig | Mapping[str, Sequence[str]] | None = None,
    port_mappings: Sequence[pb.PortMapping | Mapping[str, Any]] = (),
    cgroup_parent: str | None = None,
) -> pb.PodSandboxConfig:
    """A kubelet-like ``PodSandboxConfig`` (see the module docstring for the defaults).

    >>> config = pod_sandbox_config("web", labels={"app": "web"})
    >>> config.linux.security_context.namespace_options.pid == pb.CONTAINER
    True
    """
    check_name(name, "pod name")
    check_dns_label(namespace, "namespace")
    if uid is None:
        import uuid  # here, not at import: uuid loads platform, ~5 ms

        uid = str(uuid.uuid4())
    check_name(uid, "uid")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError(f"attempt must be a non-negative int, not {attempt!r}")
    if hostname is None:
        hostname = "" if host_network else _hostname_from(name)
    elif hostname and host_network:
        raise ValueError(f"hostname {hostname!r} cannot be set on a host-network pod")
    elif hostname:
        check_dns_label(hostname, "hostname")
    if log_directory is None:
        log_directory = default_log_directory(namespace, name, uid)
    elif not os.path.isabs(log_directory):
        raise ValueError(f"log_directory must be an absolute path, not {log_directory!r}")
    if cgroup_parent is None:
        cgroup_parent = f"/cri-client/pod{uid}"
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=namespace, attempt=attempt),
        hostname=hostname,
        log_directory=log_directory,
        dns_config=dns,
        port_mappings=list(port_mappings),
        labels=check_labels(labels, "labels"),
        annotations=check_labels(annotations, "annotations", annotations=True),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=namespace_options(host_network)
            ),
        ),
    )


def container_config(
    name: str,
    image: str,
    *,
    pod: pb.PodSandboxConfig | None = None,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    env: Mapping[str, str | bytes] | None = None,
    working_dir: str = "",
    mounts: Sequence[MountSpec] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    tty: bool = False,
    stdin: bool = False,
    stdin_once: bool = False,
    log_path: str | None = None,
    attempt: int = 0,
    resources: pb.LinuxContainerResources | Mapping[str, Any] | None = None,
    run_as_user: int | None = None,
    privileged: bool = False,
) -> pb.ContainerConfig:
    """A kubelet-like ``ContainerConfig``; ``pod`` (the sandbox config) supplies the
    namespace options so the container joins its pod the way kubelet's do.

    >>> container_config("web", "busybox:1.35", command=["httpd", "-f"]).log_path
    'web/0.log'
    """
    check_name(name, "container name")
    check_image_reference(image)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError(f"attempt must be a non-negative int, not {attempt!r}")
    host_network = pod is not None and (
        pod.linux.security_context.namespace_options.network == pb.NODE
    )
    envs = env_entries(env)
    if working_dir and not working_dir.startswith("/"):
        raise ValueError(f"working_dir must be an absolute path, not {working_dir!r}")
    if run_as_user is not None and (
        isinstance(run_as_user, bool) or not isinstance(run_as_user, int) or run_as_user < 0
    ):
        raise ValueError(f"run_as_user must be a non-negative int uid, not {run_as_user!r}")
    security = pb.LinuxContainerSecurityContext(
        namespace_options=namespace_options(host_network), privileged=privileged
    )
    if run_as_user is not None:
        security.run_as_user.value = run_as_user
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=attempt),
        image=pb.ImageSpec(image=image, user_specified_image=image),
        command=check_command(command, "command"),
        args=check_command(args, "args"),
        working_dir=working_dir,
        envs=envs,
        mounts=[_mount(spec) for spec in mounts],
        labels=check_labels(labels, "labels"),
        annotations=check_labels(annotations, "annotations", annotations=True),
        log_path=log_path if log_path is not None else f"{name}/{attempt}.log",
        stdin=stdin,
        stdin_once=stdin_once,
        tty=tty,
        linux=pb.LinuxContainerConfig(resources=resources, security_context=security),
    )


def env_entries(env: Mapping[str, str | bytes] | None) -> list[pb.KeyValue]:
    """``env=`` as the config's entries: a str value is its text (UTF-8), bytes are
    taken as they are; never base64. Checked: a name without '=', no NUL byte."""
    if env is not None and not isinstance(env, Mapping):
        raise ValueError(f"env must be a mapping of names to str values, not {env!r}")
    entries = []
    for key, value in (env or {}).items():
        if not isinstance(value, str | bytes):
            raise ValueError(
                f"env entry {key!r}={value!r} needs a name without '=' and a str value"
            )
        check_env_name(key, value)
        # KeyValue.value is bytes in this proto (same wire format as the older string).
        encoded = value.encode() if isinstance(value, str) else value
        if b"\x00" in encoded:
            # The runtime accepts it at create, but no process can be started with it.
            raise ValueError(f"env entry {key!r}={value!r} contains a NUL byte")
        entries.append(pb.KeyValue(key=key, value=encoded))
    return entries


def check_env_name(key: object, value: object = None) -> str:
    """An env variable's name: a non-empty str without '=' or NUL."""
    if not isinstance(key, str) or not key or "=" in key:
        raise ValueError(f"env entry {key!r}={value!r} needs a name without '=' and a str value")
    if "\x00" in key:
        raise ValueError(f"env entry {key!r}={value!r} contains a NUL byte")
    return key


def with_user_specified_image(config: pb.ContainerConfig) -> pb.ContainerConfig:
    """``config`` with ``image.user_specified_image`` set to ``image.image`` when it is
    empty (a copy: the caller's message is not changed), as kubelet and crictl send it."""
    if config.image.user_specified_image or not config.image.image:
        return config
    completed = pb.ContainerConfig()
    completed.CopyFrom(config)
    completed.image.user_specified_image = config.image.image
    return completed


def container_log_directory(pod: pb.PodSandboxConfig, config: pb.ContainerConfig) -> str | None:
    """The directory the container's log file goes in, when its ``log_path`` is
    relative to the pod's log directory (kubelet's ``<name>/<attempt>.log``); None when
    there is nothing to create (no pod log directory, no log path, an absolute one)."""
    if not pod.log_directory or not config.log_path or os.path.isabs(config.log_path):
        return None
    return os.path.dirname(os.path.join(pod.log_directory, config.log_path))


def default_log_directory(namespace: str, name: str, uid: str) -> str:
    """kubelet's pod log directory layout."""
    return os.path.join(DEFAULT_LOG_ROOT, f"{namespace}_{name}_{uid}")


def attempts_of(
    namespace: str, name: str, uid: str, sandboxes: Iterable[pb.PodSandbox]
) -> list[pb.PodSandbox]:
    """The sandboxes (any state) of one pod: the same namespace, name and uid, so the
    same default log directory. kubelet restarts a sandbox as a new attempt with the
    same uid."""
    key = (namespace, name, uid)
    return [s for s in sandboxes if (s.metadata.namespace, s.metadata.name, s.metadata.uid) == key]


def shares_log_directory(
    namespace: str, name: str, uid: str, sandboxes: Iterable[pb.PodSandbox]
) -> bool:
    """Whether another sandbox of the pod (:func:`attempts_of`) exists, which writes to
    the same default log directory."""
    return bool(attempts_of(namespace, name, uid, sandboxes))


def _hostname_from(name: str) -> str:
    """kubelet uses the pod name as hostname; make an RFC 1123 label of it."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower())[:63]
    return label.strip("-") or "pod"


def _mount(spec: MountSpec) -> pb.Mount:
    """A Mount from a message, a dict of its fields, or ``(host, container[, readonly])``."""
    if isinstance(spec, pb.Mount):
        mount = spec
    elif isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise ValueError(f"mount {spec!r} must be (host_path, container_path[, readonly])")
        readonly = len(spec) == 3 and bool(spec[-1])
        mount = pb.Mount(host_path=spec[0], container_path=spec[1], readonly=readonly)
    elif isinstance(spec, Mapping):
        mount = pb.Mount(**spec)
    else:
        raise ValueError(f"mount {spec!r} must be a Mount, a dict or a tuple")
    for field in ("host_path", "container_path"):
        path = getattr(mount, field)
        if not path.startswith("/"):
            raise ValueError(f"mount {field} must be an absolute path, not {path!r}")
    return mount
