"""ThrowawayContainerd: one containerd instance plus the registry it pulls from."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from cri_client.testing import _teardown
from cri_client.testing._config import (
    CNI_BIN_DIR,
    InstanceSettings,
    oom_score_adj_is_restricted,
    overlay_snapshotter_works,
    write_instance_files,
)
from cri_client.testing._containerd import containerd_pid, launch, log_tail
from cri_client.testing._cri import wait_until_ready
from cri_client.testing._debian import (
    RUNC,
    install_command,
    registry_binary,
    unpacked_containerd,
    unpacked_runsc,
    unpacked_search_path,
)
from cri_client.testing._images import (
    BUSYBOX,
    BUSYBOX_BINARY,
    PAUSE,
    AuthRegistry,
    Registry,
    SecuredRegistry,
    build_images,
    image_reference,
)
from cri_client.testing._layout import (
    DEFAULT_BASE_DIR,
    BaseLayout,
    InstanceLayout,
    check_version,
    write_private_file,
)
from cri_client.testing._processes import is_running, terminate

log = logging.getLogger("cri_client.testing")

_READY_TIMEOUT = 60.0
_TOOLS = ("umoci", "skopeo", "gcc", "ip", "mount", "umount")
_AUTH_REGISTRY_TOOLS = ("openssl", "htpasswd")
_FILES = (
    RUNC,
    BUSYBOX_BINARY,
    *(Path(CNI_BIN_DIR, plugin) for plugin in ("bridge", "host-local", "loopback")),
)


@dataclass(frozen=True)
class _Running:
    """What a started instance reports; saved as instance.json so a later start()
    (or another process) can reuse the live instance."""

    containerd_version: str
    registry: str
    runtime_handlers: tuple[str, ...]
    pid: int
    started_at_ms: int
    ready_after_ms: int
    auth_registry: str | None = None  # address of the secured registry, when asked for

    def save(self, instance: InstanceLayout) -> None:
        write_private_file(instance.state_file, json.dumps(dataclasses.asdict(self)) + "\n")

    @classmethod
    def load(cls, instance: InstanceLayout) -> _Running | None:
        try:
            data = json.loads(instance.state_file.read_text())
            return cls(**{**data, "runtime_handlers": tuple(data["runtime_handlers"])})
        except (OSError, ValueError, TypeError, KeyError):
            return None


class ThrowawayContainerd:
    """A real containerd with the CRI plugin on a private socket and state dir, for tests and demos.

    Use::

        with ThrowawayContainerd("2.1") as runtime:
            os.environ.update(runtime.env())

    Needs root and the packages ``python -m cri_client.testing install`` sets up.
    Several versions can run at once under one base dir (they share the registry),
    and separate base dirs never collide (own sockets, state, bridge and subnet).

    ``auth_registry=True`` adds a second registry for credential tests
    (:attr:`auth_registry`): https with a CA of its own, which containerd trusts
    through hosts.toml, and one htpasswd user; the plain registry is unchanged.
    """

    def __init__(
        self,
        version: str = "2.1",
        *,
        base_dir: str | os.PathLike[str] = DEFAULT_BASE_DIR,
        registry_port: int | None = None,
        runsc: bool = True,
        auth_registry: bool = False,
    ) -> None:
        self.version = check_version(version)
        self._layout = BaseLayout.at(base_dir)
        self._instance = self._layout.instance(version)
        self._registry_port = registry_port
        self._want_runsc = runsc
        self._want_auth_registry = auth_registry
        self._running: _Running | None = None
        self.socket_path = str(self._instance.socket)
        self.endpoint = f"unix://{self.socket_path}"

    # -- what start() found out -------------------------------------------------

    def _started(self) -> _Running:
        if self._running is None:
            raise RuntimeError(f"{self!r} is not started; call start() first")
        return self._running

    @property
    def containerd_version(self) -> str:
        """Exact version from the CRI Version RPC, e.g. "2.1.9" ("+unknown" stripped)."""
        return self._started().containerd_version

    @property
    def registry(self) -> str:
        """``127.0.0.1:<port>`` of the local registry serving the test images."""
        return self._started().registry

    @property
    def auth_registry(self) -> AuthRegistry:
        """The TLS + htpasswd registry (address, user, password, CA) serving busybox;
        only with ``auth_registry=True``."""
        address = self._started().auth_registry
        if address is None:
            raise RuntimeError(f"{self!r} was started without auth_registry=True")
        return SecuredRegistry(self._layout).credentials(address)

    @property
    def busybox_image(self) -> str:
        return image_reference(self.registry, BUSYBOX)

    @property
    def pause_image(self) -> str:
        return image_reference(self.registry, PAUSE)

    @property
    def runtime_handlers(self) -> tuple[str, ...]:
        """("runc", "runsc"), or ("runc",) when runsc was not wanted or is unavailable."""
        return self._started().runtime_handlers

    @property
    def ctr_command(self) -> list[str]:
        """containerd's own client of this version on this instance's socket, in the
        CRI's namespace: ``[*ctr_command, "images", "ls"]`` (e.g. to pin an image, with
        the label ``io.cri-containerd.pinned=pinned``, which the CRI has no call for)."""
        address = self.endpoint.removeprefix("unix://")
        return [str(self._required_binaries() / "ctr"), "--address", address, "-n", "k8s.io"]

    def env(self) -> dict[str, str]:
        """Environment variables describing this runtime to tests and demos."""
        return {
            "CONTAINER_RUNTIME_ENDPOINT": self.endpoint,
            "CRI_CLIENT_TEST_CONTAINERD": self.version,
            "CRI_CLIENT_TEST_CONTAINERD_VERSION": self.containerd_version,
            "CRI_CLIENT_TEST_REGISTRY": self.registry,
            "CRI_CLIENT_TEST_BUSYBOX_IMAGE": self.busybox_image,
            "CRI_CLIENT_TEST_PAUSE_IMAGE": self.pause_image,
            "CRI_CLIENT_TEST_RUNTIME_HANDLERS": ",".join(self.runtime_handlers),
            **self._auth_registry_env(),
        }

    def _auth_registry_env(self) -> dict[str, str]:
        """The secured registry, when there is one: address, user, CA and the file that
        holds the password (the password itself stays out of the environment)."""
        if self._started().auth_registry is None:
            return {}
        secured = self.auth_registry
        return {
            "CRI_CLIENT_TEST_AUTH_REGISTRY": secured.address,
            "CRI_CLIENT_TEST_AUTH_REGISTRY_USER": secured.username,
            "CRI_CLIENT_TEST_AUTH_REGISTRY_PASSWORD_FILE": str(secured.password_file),
            "CRI_CLIENT_TEST_AUTH_REGISTRY_CA": str(secured.ca_file),
        }

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> ThrowawayContainerd:
        """Start registry and containerd, or reuse the live instance of this base dir
        and version (found via its pid file). Returns self."""
        with self._layout.locked():
            running = _Running.load(self._instance) if containerd_pid(self._instance) else None
            if running is not None:
                self._reuse(running)
                return self
            try:
                self._running = self._start_fresh()
            except BaseException:
                self._stop_locked(purge=False)  # no registry or half-started daemon left
                raise
        return self

    def stop_daemon(self) -> None:
        """Stop only the containerd process (SIGTERM, then SIGKILL), as a runtime
        restart or crash does: pods, shims, images and state stay, the socket goes.
        :meth:`restart_daemon` brings it back on the same socket and state."""
        pid = containerd_pid(self._instance)
        if pid is not None:
            terminate([pid], grace=10)

    def restart_daemon(self) -> ThrowawayContainerd:
        """Start the containerd process again on the same config, socket, root and
        state (stopping it first if it runs) and wait until it is ready: pods,
        containers and images are kept, since their shims outlive the daemon. Works
        after :meth:`stop_daemon` or a crash, also in another process than the one
        that started the instance (``python -m cri_client.testing restart``), where
        :meth:`start` would discard the dead instance's state. RuntimeError when the
        instance was never started or was torn down (:meth:`stop`). Returns self."""
        if self._running is None and not self._instance.state_file.is_file():
            raise RuntimeError(  # checked before locking, which would make the base dir
                f"containerd {self.version} under {self._layout.root} has no state to"
                " restart (never started, or stopped with down); use up"
            )
        with self._layout.locked():
            running = self._running or _Running.load(self._instance)
            if running is None:
                raise RuntimeError(f"{self._instance.state_file} is unreadable; use up")
            self.stop_daemon()
            Registry(self._layout).ensure(int(running.registry.rsplit(":", 1)[1]))
            pid, _, ready_ms = self._launch(self._required_binaries())
            self._running = dataclasses.replace(running, pid=pid, ready_after_ms=ready_ms)
            self._running.save(self._instance)
        log.info("containerd %s restarted on its state (pid %d)", self.version, pid)
        return self

    def stop(self, *, purge: bool = False) -> None:
        """Full teardown (see ``_teardown``); stops the registry too unless another
        instance under the base dir is alive. ``purge`` also deletes the instance dir."""
        if not self._layout.root.is_dir():
            return
        started = time.monotonic()
        with self._layout.locked():
            self._stop_locked(purge=purge)
        log.info("containerd %s down in %.2f s", self.version, time.monotonic() - started)

    def __enter__(self) -> ThrowawayContainerd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ThrowawayContainerd {self.version} at {self._instance.dir}>"

    # -- internals -----------------------------------------------------------------

    def _stop_locked(self, *, purge: bool) -> None:
        self._running = None
        try:
            _teardown.stop_instance(self._instance)
        finally:
            # Even when the instance resists teardown, the shared parts get cleaned.
            _teardown.clean_shared_host_dirs()
            self._instance.state_file.unlink(missing_ok=True)
            others = [i for i in self._layout.instances() if i != self._instance]
            if not any(containerd_pid(other) for other in others):
                Registry(self._layout).stop()
                SecuredRegistry(self._layout).stop()
        if purge and self._instance.dir.exists():
            shutil.rmtree(self._instance.dir)

    def _reuse(self, running: _Running) -> None:
        port = int(running.registry.rsplit(":", 1)[1])
        if self._registry_port not in (None, port):
            raise RuntimeError(
                f"containerd {self.version} under {self._layout.root} already runs with registry"
                f" {running.registry}; stop it first to use port {self._registry_port}"
            )
        if self._want_auth_registry and running.auth_registry is None:
            raise RuntimeError(
                f"containerd {self.version} under {self._layout.root} already runs without"
                " auth_registry; stop it first"
            )
        build_images(self._layout)
        Registry(self._layout).ensure(port)
        if running.auth_registry is not None:
            SecuredRegistry(self._layout).ensure(int(running.auth_registry.rsplit(":", 1)[1]))
        self._running = running
        log.info("reusing containerd %s (pid %d)", running.containerd_version, running.pid)

    def _start_fresh(self) -> _Running:
        started = time.monotonic()
        instance = self._instance
        if instance.dir.exists():
            died = instance.pid_file.exists() or instance.state_file.exists()
            if died:
                log.warning("%s", self._discarding())
            # A previous run that was killed can leave shims, mounts, a bridge.
            _teardown.clean_instance_leftovers(instance)
            if died:
                for directory in (
                    instance.root,
                    instance.state,
                    instance.tmp,
                    instance.cni_ipam_dir,
                ):
                    shutil.rmtree(directory, ignore_errors=True)
        bin_dir = self._required_binaries()
        runsc = self._runsc_binary()
        build_images(self._layout)
        registry = Registry(self._layout).ensure(self._registry_port)
        secured = SecuredRegistry(self._layout)
        auth_registry = secured.ensure(None) if self._want_auth_registry else None
        snapshotter = "overlayfs" if overlay_snapshotter_works(instance.tmp) else "native"
        if snapshotter == "native":
            log.warning("overlay mounts fail under %s: using the native snapshotter", instance.dir)
        write_instance_files(
            InstanceSettings(
                instance=instance,
                registry=registry,
                pause_image=image_reference(registry, PAUSE),
                runc=RUNC,
                runsc=runsc,
                snapshotter=snapshotter,
                restrict_oom_score_adj=oom_score_adj_is_restricted(),
                auth_registry=(auth_registry, secured.ca_file) if auth_registry else None,
            )
        )
        pid, containerd_version, ready_ms = self._launch(bin_dir)
        running = _Running(
            containerd_version=containerd_version,
            registry=registry,
            runtime_handlers=("runc", "runsc") if runsc else ("runc",),
            pid=pid,
            started_at_ms=int(time.time() * 1000),
            ready_after_ms=ready_ms,
            auth_registry=auth_registry,
        )
        running.save(instance)
        log.info(
            "containerd %s ready in %d ms (pid %d, %s, handlers %s); up in %.2f s",
            containerd_version,
            running.ready_after_ms,
            pid,
            snapshotter,
            ",".join(running.runtime_handlers),
            time.monotonic() - started,
        )
        return running

    def _discarding(self) -> str:
        """What starting afresh over a dead instance's dir throws away, said before it
        happens: its pods and containers are lost for good (``restart`` keeps them)."""
        cri_root = self._instance.cri_root

        def count(kind: str) -> int:
            try:
                return sum(1 for _ in (cri_root / kind).iterdir())
            except OSError:
                return 0

        return (
            f"containerd {self.version} in {self._instance.dir} did not stop cleanly (it was"
            f" killed or crashed): discarding its state, {count('sandboxes')} pod sandbox(es)"
            f" and {count('containers')} container(s) with their processes, and its images."
            f" To keep them, run instead: python -m cri_client.testing restart --containerd"
            f" {self.version} --dir {self._layout.root}"
        )

    def _launch(self, bin_dir: Path) -> tuple[int, str, int]:
        """Start the daemon on the written config; (pid, exact version, ms until ready)."""
        instance = self._instance
        launched = time.monotonic()
        pid = launch(instance, bin_dir)
        try:
            version = wait_until_ready(instance.socket, _READY_TIMEOUT, lambda: is_running(pid))
            containerd_version = version.runtime_version.removesuffix("+unknown")
            if not containerd_version.startswith(f"{self.version}."):
                raise RuntimeError(
                    f"{bin_dir}/containerd is {containerd_version}, not {self.version}.x"
                )
        except RuntimeError as exc:
            raise RuntimeError(
                f"containerd {self.version} did not start: {exc}\n"
                f"--- tail of {instance.log} ---\n{log_tail(instance)}"
            ) from exc
        return pid, containerd_version, round((time.monotonic() - launched) * 1000)

    def _required_binaries(self) -> Path:
        """containerd's bin dir; RuntimeError naming the install command if anything
        this instance needs is missing."""
        search = unpacked_search_path(self._layout)
        bin_dir = unpacked_containerd(search, self.version)
        missing = [] if bin_dir else [f"containerd {self.version}"]
        missing += [] if registry_binary(search) else ["docker-registry"]
        tools = (*_TOOLS, *(_AUTH_REGISTRY_TOOLS if self._want_auth_registry else ()))
        missing += [tool for tool in tools if shutil.which(tool) is None]
        missing += [str(path) for path in _FILES if not path.exists()]
        if bin_dir is None or missing:
            command = install_command(self.version)
            raise RuntimeError(f"missing {', '.join(missing)}; run: {command}")
        return bin_dir

    def _runsc_binary(self) -> Path | None:
        if not self._want_runsc:
            return None
        search = unpacked_search_path(self._layout)
        runsc = unpacked_runsc(search)
        if runsc is None:
            log.warning(
                "runsc handler unavailable (trixie's runsc is not unpacked in %s); run: %s",
                " or ".join(map(str, search)),
                install_command(self.version),
            )
        return runsc


def describe_instances(base_dir: str | os.PathLike[str]) -> list[str]:
    """One line per instance dir and one for the registry, for ``status``."""
    layout = BaseLayout.at(base_dir)
    lines = []
    for instance in layout.instances():
        pid = containerd_pid(instance)
        running = _Running.load(instance) if pid else None
        if pid and running:
            lines.append(
                f"containerd {instance.version}: up, pid {pid},"
                f" version {running.containerd_version}, socket {instance.socket},"
                f" handlers {','.join(running.runtime_handlers)}"
            )
        else:
            lines.append(f"containerd {instance.version}: down ({instance.dir})")
    registry = Registry(layout)
    port = registry.running_port()
    lines.append(
        f"registry: up, pid {registry.pid()}, 127.0.0.1:{port}" if port else "registry: down"
    )
    secured = SecuredRegistry(layout)
    port = secured.running_port()
    if port:
        lines.append(f"auth registry: up, pid {secured.pid()}, 127.0.0.1:{port}")
    return lines


def stop_all(base_dir: str | os.PathLike[str], *, purge: bool = False) -> None:
    """Stop every instance under ``base_dir`` and its registry (``down``/``down all``)."""
    layout = BaseLayout.at(base_dir)
    if not layout.root.is_dir():
        log.info("nothing to stop: %s does not exist", layout.root)
        return
    for instance in layout.instances():
        ThrowawayContainerd(instance.version, base_dir=layout.root).stop(purge=purge)
    with layout.locked():
        Registry(layout).stop()
        SecuredRegistry(layout).stop()
        _teardown.clean_shared_host_dirs()
