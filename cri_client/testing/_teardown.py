"""Teardown that leaves nothing behind, in the order that makes it work.

SIGTERM to containerd alone leaves shims, pods, mounts, the netns, the CNI bridge
and libcni's cache behind (shims outlive containerd by design). So:

1. CRI cleanup while containerd still runs: it then unmounts rootfs, deletes the
   netns and calls CNI DEL itself.
2. SIGTERM, then SIGKILL, containerd (by pid file, argv checked).
3. Kill leftover shims of THIS instance: argv contains ``-address <our socket>``.
4. ``runc``/``runsc --root <state>/<handler>/<ns> delete --force`` what is left.
5. Kill leftover runsc processes (sandbox, gofer, ``runsc wait``) and runsc-wrapper
   waiters whose argv mentions our state dir.
6. Unmount everything under the instance dir, deepest first, lazily as a last resort.
7. Delete the instance's bridge and its /var/lib/cni/results entries.

Then, shared by all instances: rmdir empty pod cgroups under
``/sys/fs/cgroup/*/cri-client`` (runc removes the container level; kubelet would
remove the pod level, and there is no kubelet) and the directories containerd and
libcni create outside the instance even with private root and state
(/run/containerd/s for shim sockets, /var/lib/cni/results), only when empty: a
system containerd may use them. The machine's /var/lib/containerd is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from cri_client.testing._config import CniNetwork
from cri_client.testing._containerd import containerd_pid
from cri_client.testing._cri import remove_all_pods
from cri_client.testing._debian import RUNC
from cri_client.testing._layout import InstanceLayout
from cri_client.testing._processes import (
    find_processes,
    has_args,
    read_cmdline,
    run,
    terminate,
)

log = logging.getLogger("cri_client.testing")

_CGROUP_PARENT = "cri-client"
_SHIM_SOCKET_DIR = Path("/run/containerd/s")
_CNI_RESULTS = Path("/var/lib/cni/results")
_SHARED_DIRS_IF_EMPTY = (
    _SHIM_SOCKET_DIR,
    _SHIM_SOCKET_DIR.parent,
    _CNI_RESULTS,
    _CNI_RESULTS.parent,
)


def stop_instance(instance: InstanceLayout) -> None:
    """Steps 1-7 of the module docstring for one instance."""
    pid = containerd_pid(instance)
    if pid is not None:
        remove_all_pods(instance.socket)
        terminate([pid], grace=10)
    instance.pid_file.unlink(missing_ok=True)
    clean_instance_leftovers(instance)


def clean_instance_leftovers(instance: InstanceLayout) -> None:
    """Steps 2-7 without CRI: also what a crashed or SIGKILLed instance left."""
    config_args = ["--config", str(instance.config)]
    terminate(find_processes(lambda argv: has_args(argv, config_args)), grace=10)
    shims = find_processes(lambda argv: _is_shim_of(argv, instance.socket))
    if shims:
        log.info("killing %d leftover shim(s) of %s", len(shims), instance.dir)
        sockets = [_shim_socket(argv, instance.socket) for argv in map(read_cmdline, shims)]
        terminate(shims, grace=1)
        for shim_socket in sockets:
            if shim_socket is not None:
                shim_socket.unlink(missing_ok=True)
    _force_delete_containers(instance)
    terminate(find_processes(lambda argv: _is_runsc_process_of(argv, instance)), grace=1)
    _unmount_everything_under(instance.dir)
    network = CniNetwork.for_instance(instance)
    if Path("/sys/class/net", network.bridge).exists():
        run(["ip", "link", "delete", "dev", network.bridge])
    _delete_cni_results(instance, network)
    for leftover in (
        instance.socket,
        instance.ttrpc_socket,
        instance.debug_socket,
        instance.nri_socket,
    ):
        leftover.unlink(missing_ok=True)


def clean_shared_host_dirs() -> None:
    """Empty pod cgroups under /sys/fs/cgroup/*/cri-client, then the shared dirs if empty.

    rmdir only: a cgroup with processes or children refuses (EBUSY/ENOTEMPTY),
    and so does a non-empty directory."""
    for top in Path("/sys/fs/cgroup").glob(f"*/{_CGROUP_PARENT}"):
        for directory, _, _ in os.walk(top, topdown=False):
            _rmdir_if_empty(Path(directory))
    for shared in _SHARED_DIRS_IF_EMPTY:
        _rmdir_if_empty(shared)


def _rmdir_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _is_shim_of(argv: Sequence[str], socket: Path) -> bool:
    return os.path.basename(argv[0]).startswith("containerd-shim") and has_args(
        argv, ["-address", str(socket)]
    )


def _is_runsc_process_of(argv: Sequence[str], instance: InstanceLayout) -> bool:
    """runsc re-executes itself as runsc-sandbox/runsc-gofer with --root=<our state>/..."""
    state_prefix = f"{instance.state}/"
    runsc_like = os.path.basename(argv[0]).startswith("runsc") or "--cri-client-waiter" in argv
    return runsc_like and any(state_prefix in arg for arg in argv)


def _shim_socket(argv: Sequence[str], address: Path) -> Path | None:
    """The shim's own socket, which a killed shim leaves in /run/containerd/s:
    containerd names it sha256(<address>/<namespace>/<id>) (1.6 to 2.1)."""
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    if "-namespace" not in options or "-id" not in options:
        return None
    digest = hashlib.sha256(f"{address}/{options['-namespace']}/{options['-id']}".encode())
    return _SHIM_SOCKET_DIR / digest.hexdigest()


def _delete_cni_results(instance: InstanceLayout, network: CniNetwork) -> None:
    """libcni's cache entries of this instance: ``<network>-<id>-eth0``, and also
    ``cni-loopback-<id>-lo`` for the loopback network containerd adds itself, which
    only the entry's ``netns`` (under our state dir) ties to this instance."""
    for result in _CNI_RESULTS.glob("*"):
        try:
            entry = json.loads(result.read_text())
        except (OSError, ValueError):
            continue
        netns = entry.get("netns") if isinstance(entry, dict) else None
        ours = isinstance(netns, str) and netns.startswith(f"{instance.state}/")
        if ours or result.name.startswith(f"{network.name}-"):
            result.unlink(missing_ok=True)


def _force_delete_containers(instance: InstanceLayout) -> None:
    """``delete --force`` every container still known to runc/runsc under our roots
    (one root per containerd namespace, e.g. state/runc/k8s.io)."""
    for handler, binary in (("runc", RUNC), ("runsc", instance.runsc_stub)):
        root = instance.runtime_root(handler)
        if not root.is_dir() or not binary.exists():
            continue
        for namespace_root in (path for path in root.iterdir() if path.is_dir()):
            try:
                ids = run([binary, "--root", namespace_root, "list", "--quiet"], timeout=30).split()
                for container_id in ids:
                    log.info("force-deleting leftover %s container %s", handler, container_id[:12])
                    run(
                        [binary, "--root", namespace_root, "delete", "--force", container_id],
                        timeout=30,
                    )
            except RuntimeError as exc:
                log.warning("%s cleanup in %s: %s", handler, namespace_root, exc)


def _unmount_everything_under(directory: Path) -> None:
    """Unmount rootfs overlays, netns bind mounts, shm, ... under ``directory``,
    deepest first; lazily if busy. Loops because one mount point can carry a stack."""
    for _ in range(5):
        points = _mount_points_under(directory)
        if not points:
            return
        for point in sorted(set(points), key=lambda p: p.count("/"), reverse=True):
            if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
                log.warning("lazy unmount of busy %s", point)
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    if _mount_points_under(directory):
        raise RuntimeError(f"cannot unmount {_mount_points_under(directory)}")


def _mount_points_under(directory: Path) -> list[str]:
    prefix = f"{directory}/"
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            # Field 5 is the mount point, with space, tab, newline, backslash as \ooo.
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == str(directory) or point.startswith(prefix):
                points.append(point)
    return points
