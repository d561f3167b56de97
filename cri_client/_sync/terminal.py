"""A session on this process's terminal: :func:`interact` (``exec -it``), with threads.

The twin of :mod:`cri_client._async.terminal`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from typing import TYPE_CHECKING

from cri_client._core.channel import terminal_size
from cri_client._core.defaults import STREAM_CLOSE_TIMEOUT
from cri_client.errors import StreamError

if TYPE_CHECKING:
    from cri_client._sync.sessions import ExecSession


def interact(session: ExecSession) -> int:
    """Wire ``session`` to this process's terminal until the command ends; return its
    exit code.

    stdin (read as bytes in a thread) goes to the command, and its end to
    :meth:`ExecSession.close_stdin`; output goes to ``sys.stdout.buffer`` and
    ``sys.stderr.buffer``. For a TTY session on a terminal, the terminal is put in raw
    mode (Ctrl-C and Ctrl-D go to the command) and restored on return, whatever
    happens; its size is sent at the start and on every SIGWINCH (when called from the
    main thread, which alone may set signal handlers).
    """
    import termios
    import tty

    in_fd = sys.stdin.fileno()
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    raw = session.tty and os.isatty(in_fd)
    saved = termios.tcgetattr(in_fd) if raw else None
    control_r, control_w = os.pipe()
    pump: threading.Thread | None = None
    winch = session.tty and threading.current_thread() is threading.main_thread()
    previous_handler = signal.getsignal(signal.SIGWINCH) if winch else None
    try:
        if raw:
            tty.setraw(in_fd)
        if session.tty:
            _send_terminal_size(session, in_fd)
        if winch:
            signal.signal(signal.SIGWINCH, lambda signum, frame: os.write(control_w, b"w"))
        pump = threading.Thread(
            target=_pump_stdin,
            args=(session, in_fd, control_r),
            name="cri-client stdin",
            daemon=True,
        )
        pump.start()
        for stream, data in session:
            target = out if stream == "stdout" else err
            target.write(data)
            target.flush()
        return session.wait()
    finally:
        if winch:
            # None: a handler not set from Python, which cannot be put back; use the default.
            signal.signal(signal.SIGWINCH, previous_handler or signal.SIG_DFL)
        os.write(control_w, b"q")
        if pump is not None:
            pump.join(STREAM_CLOSE_TIMEOUT)
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        os.close(control_r)
        os.close(control_w)


def _pump_stdin(session: ExecSession, in_fd: int, control_fd: int) -> None:
    """Copy stdin to the session until told to stop (``q`` on the control pipe); ``w``
    there means the terminal was resized. select() keeps this thread from sitting in a
    read of the terminal after the session ended, where it would swallow a keystroke."""
    watched = [in_fd, control_fd] if session.stdin else [control_fd]
    try:
        while True:
            ready, _, _ = select.select(watched, [], [])
            if control_fd in ready:
                commands = os.read(control_fd, 64)
                if b"q" in commands:
                    return
                if b"w" in commands:
                    _send_terminal_size(session, in_fd)
            if in_fd in ready:
                data = os.read(in_fd, 65536)
                if data:
                    session.write(data)
                else:
                    session.close_stdin()
                    watched = [control_fd]
    except (StreamError, OSError):
        return


def _send_terminal_size(session: ExecSession, in_fd: int) -> None:
    size = terminal_size(in_fd)
    if size is not None:
        session.resize(*size)
