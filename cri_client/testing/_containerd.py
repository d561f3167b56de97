"""Starting one containerd instance as a detached daemon."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cri_client.testing._layout import InstanceLayout, open_private_log, write_private_file
from cri_client.testing._processes import live_pid


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
    log_fd = open_private_log(instance.log)
    try:
        process = subprocess.Popen(
            [str(bin_dir / "containerd"), "--config", str(instance.config)],
            cwd=instance.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    write_private_file(instance.pid_file, f"{process.pid}\n")
    return process.pid


def log_tail(instance: InstanceLayout, lines: int = 30) -> str:
    try:
        text = instance.log.read_text(errors="replace")
    except OSError:
        return "(no containerd.log)"
    return "\n".join(text.splitlines()[-lines:])
