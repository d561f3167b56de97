"""Starting one containerd instance as a detached daemon."""

from __future__ import annotations

import os
from pathlib import Path

from cri_client.testing._layout import InstanceLayout
from cri_client.testing._processes import live_pid, spawn_daemon


def containerd_pid(instance: InstanceLayout) -> int | None:
    """PID of this instance's containerd if it runs (pid file checked against argv)."""
    return live_pid(instance.pid_file, ["--config", str(instance.config)])


def launch(instance: InstanceLayout, bin_dir: Path) -> int:
    """Start containerd in its own session (it must outlive a CLI ``up``), output
    to a fresh ``containerd.log``, and write its pid file.

    ``bin_dir`` goes first in PATH because containerd finds ``containerd-shim-runc-v2``
    through PATH, and the shim must match the daemon (a 1.6 shim under 2.1 fails).
    TMPDIR points into the instance dir so containerd's temporary mounts are
    covered by teardown's unmount sweep.
    """
    for stale in (instance.socket, instance.ttrpc_socket, instance.debug_socket):
        stale.unlink(missing_ok=True)
    instance.log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}",
        "TMPDIR": str(instance.tmp),
    }
    process = spawn_daemon(
        [str(bin_dir / "containerd"), "--config", str(instance.config)],
        instance.log,
        instance.pid_file,
        cwd=instance.dir,
        env=env,
    )
    return process.pid


def log_tail(instance: InstanceLayout, lines: int = 30) -> str:
    try:
        text = instance.log.read_text(errors="replace")
    except OSError:
        return "(no containerd.log)"
    return "\n".join(text.splitlines()[-lines:])
