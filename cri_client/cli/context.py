"""What every command gets: the settings from the global flags, a lazily opened client,
the output streams, and the exceptions that map to exit codes."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import logging

    from cri_client import CRIClient
    from cri_client.types import CrictlConfig, Endpoint

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_RUNTIME_ERROR",
    "EXIT_USAGE",
    "CommandError",
    "Context",
    "Settings",
    "ShowHelp",
    "UsageError",
    "exit_code_of",
    "until_interrupted",
]

EXIT_RUNTIME_ERROR = 1
EXIT_USAGE = 1  # crictl has no exit code of its own for usage errors
EXIT_INTERRUPTED = 130


def exit_code_of(done: SystemExit) -> int:
    """The exit code a SystemExit stands for (argparse: 0 after help, else 1)."""
    return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)


class UsageError(Exception):
    """A bad flag value, argument or config file: exit code 1 (as crictl), one line on
    stderr."""


class ShowHelp(Exception):
    """The command was given nothing to act on (``rm`` without a container or ``-a``):
    its help goes to stdout and the exit code is 0, as crictl's ``ShowSubcommandHelp``."""


class CommandError(Exception):
    """A failure the command itself found (a running container ``rm`` will not remove,
    an image that is not there): exit code 1, like the runtime's own errors."""


class Settings(NamedTuple):
    """The global flags merged with the crictl config file, as crictl merges them.

    ``runtime_endpoint`` and ``image_endpoint`` are the ``-r`` and ``-i`` flags; with
    ``env`` (None: ``os.environ``) and ``config``, the crictl config file the command
    line chose (None: the one the environment names), they give the endpoints by
    :func:`cri_client.endpoint.resolve_endpoints`. ``config_file`` is the ``-c`` flag
    as given (None: not given).
    """

    runtime_endpoint: str | None = None
    image_endpoint: str | None = None
    config: CrictlConfig | None = None
    env: Mapping[str, str] | None = None
    timeout: float | None = None
    debug: bool = False
    pull_image_on_create: bool = False
    disable_pull_on_run: bool = False
    config_file: str | None = None


class Context:
    """One command's environment: :meth:`client` connects on first use, so commands that
    fail on their arguments never touch the runtime.

    A context made :meth:`within` another (``batch``'s, for each of its lines) has its
    own output streams and borrows the other's client: one connection for all."""

    def __init__(
        self,
        settings: Settings,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        *,
        lender: Context | None = None,
    ) -> None:
        self.settings = settings
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self._client: CRIClient | None = None
        self._lender = lender
        self._rpc_log: logging.Handler | None = None
        if settings.debug and lender is None:
            self._enable_rpc_log()

    def within(self) -> Context:
        """A context for one more command run by this one: the streams that are
        ``sys.stdout`` and ``sys.stderr`` now, this context's settings and client."""
        return Context(self.settings, lender=self)

    def client(self, timeout: float | None = None) -> CRIClient:
        """The client for this command (``timeout``: a command's own ``--cancel-timeout``
        instead of the global one, when given before the first call)."""
        if self._lender is not None:
            return self._lender.client(timeout)
        if self._client is None:
            from cri_client import CRIClient
            from cri_client.endpoint import resolve_endpoints

            settings = self.settings
            runtime, image = resolve_endpoints(
                settings.runtime_endpoint,
                settings.image_endpoint,
                settings.env,
                config=settings.config,
                image_follows_endpoint=False,  # crictl's rule, unlike the library's
            )
            chosen_timeout = timeout or settings.timeout
            if chosen_timeout:
                self._client = CRIClient(
                    runtime.url, image_endpoint=image.url, timeout=chosen_timeout
                )
            else:
                self._client = CRIClient(runtime.url, image_endpoint=image.url)
            if settings.debug:
                self.debug(
                    f"runtime endpoint {runtime.url} "
                    f"(from {_source(runtime, '--runtime-endpoint')})"
                )
                image_source = (
                    "the runtime endpoint"
                    if image is runtime
                    else _source(image, "--image-endpoint")
                )
                self.debug(f"image endpoint {image.url} (from {image_source})")
                self.debug(f"timeout {self._client.timeout:g} s per call")
        return self._client

    def debug(self, message: str) -> None:
        if self.settings.debug:
            self.stderr.write(f"cri-client: debug: {message}\n")
            self.stderr.flush()

    def warn(self, message: str) -> None:
        self.stderr.write(f"cri-client: warning: {message}\n")
        self.stderr.flush()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._rpc_log is not None:
            import logging

            logging.getLogger("cri_client.rpc").removeHandler(self._rpc_log)
            self._rpc_log = None

    def _enable_rpc_log(self) -> None:
        """``-D``: the library's one DEBUG line per RPC (name, object, outcome, duration;
        never a request body, so never a credential) goes to stderr."""
        import logging

        handler = logging.StreamHandler(self.stderr)
        handler.setFormatter(logging.Formatter("cri-client: debug: rpc %(message)s"))
        logger = logging.getLogger("cri_client.rpc")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        self._rpc_log = handler


def _source(endpoint: Endpoint, flag: str) -> str:
    """Where an endpoint's name came from, with the flag's name for an argument."""
    return flag if endpoint.source == "argument" else endpoint.source


@contextmanager
def until_interrupted() -> Iterator[None]:
    """For commands that run until stopped (``events``, ``logs -f``, ``port-forward``,
    ``stats -w``): Ctrl-C or SIGTERM ends them normally, with exit code 0."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if in_main_thread else None
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
