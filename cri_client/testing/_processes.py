"""Processes: running commands, pid files, /proc scans, stopping by PID.

Nothing here ever stops a process by name: a PID comes from a pid file or a
/proc scan and is only signalled after its command line was checked, because
another engineer's (or CI job's) containerd may run next to ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from cri_client.testing._layout import open_private_log, write_private_file


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    umask: int = -1,
    timeout: float = 600,
) -> str:
    """Run a command and return its stdout; on failure raise RuntimeError naming
    the command and quoting the end of its output."""
    try:
        result = subprocess.run(
            [os.fspath(a) for a in args],
            cwd=cwd,
            env=env,
            umask=umask,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{os.fspath(args[0])}: {exc}") from exc
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip())[-2000:]
        command = " ".join(os.fspath(a) for a in args)
        raise RuntimeError(f"`{command}` failed with exit code {result.returncode}: {output}")
    return result.stdout


def run_showing_output(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a long command (apt) with its output on our stderr, never our stdout:
    ``up --install`` must print nothing but shell lines on stdout."""
    command = [os.fspath(a) for a in args]
    returncode = subprocess.call(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno()
    )
    if returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed with exit code {returncode}")


def read_cmdline(pid: int) -> list[str]:
    """argv of a process; empty for zombies, kernel threads and vanished PIDs."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(part) for part in raw.split(b"\0")[:-1]]


def has_args(argv: Sequence[str], wanted: Sequence[str]) -> bool:
    """True if ``wanted`` occurs in ``argv`` as consecutive arguments."""
    n = len(wanted)
    return any(list(argv[i : i + n]) == list(wanted) for i in range(len(argv) - n + 1))


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie. A zombie that is our own
    child (a containerd or registry this Python process started) is reaped here:
    kill(pid, 0) would report it alive until then."""
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def read_pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def live_pid(pid_file: Path, expected_args: Sequence[str]) -> int | None:
    """The PID in ``pid_file`` if that process runs and its argv contains
    ``expected_args`` (guards against a recycled PID)."""
    pid = read_pid_file(pid_file)
    if pid is None or not is_running(pid):
        return None
    return pid if has_args(read_cmdline(pid), expected_args) else None


def find_processes(matches: Callable[[list[str]], bool]) -> list[int]:
    """PIDs (other than our own) whose argv satisfies ``matches``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            argv = read_cmdline(int(entry.name))
            if argv and matches(argv):
                found.append(int(entry.name))
    return found


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def terminate(pids: Sequence[int], grace: float) -> None:
    """SIGTERM ``pids``, give them ``grace`` seconds, then SIGKILL whatever is left."""
    if _signal_and_wait(pids, signal.SIGTERM, grace):
        return
    if not _signal_and_wait(pids, signal.SIGKILL, 5.0):
        raise RuntimeError(f"processes {[p for p in pids if is_running(p)]} survived SIGKILL")


def _signal_and_wait(pids: Sequence[int], sig: signal.Signals, timeout: float) -> bool:
    """Send ``sig`` to the running ones of ``pids``; True once all of them are gone."""
    for pid in pids:
        if is_running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    return wait_until(lambda: not any(is_running(pid) for pid in pids), timeout)


def spawn_daemon(
    argv: Sequence[str],
    log_path: Path,
    pid_file: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a daemon in its own session (it must outlive a CLI ``up``), with stdin
    closed, its output in a private log file, and its PID in ``pid_file``."""
    log_fd = open_private_log(log_path)
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    write_private_file(pid_file, f"{process.pid}\n")
    return process
