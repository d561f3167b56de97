"""Test images and the local registry that serves them.

There is no internet, so both images are built here: ``pause`` from
``assets/pause.c`` (gcc -static), ``busybox`` from busybox-static's ``/bin/busybox``
with every applet symlinked. umoci assembles them into an OCI layout (once per base
dir) and skopeo pushes them to a docker-registry on 127.0.0.1 over plain http. The
registry is shared by all instances under a base dir.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from cri_client.testing._debian import registry_binary, unpacked_search_path
from cri_client.testing._layout import (
    BaseLayout,
    asset,
    make_private_dir,
    write_private_file,
)
from cri_client.testing._processes import live_pid, run, spawn_daemon, terminate, wait_until

log = logging.getLogger("cri_client.testing")

PAUSE = ("pause", "3.9")
BUSYBOX = ("busybox", "1.35")
DEFAULT_REGISTRY_PORT = 5000
BUSYBOX_BINARY = Path("/bin/busybox")
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}  # OCI uses Go's architecture names
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Files that end up in image layers get explicit modes: with our umask 077 the
# pause binary would be 0700 and the non-root pause user could not exec it.
_IMAGE_UMASK = 0o022
# urllib honours http_proxy; the registry is local.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def build_images(layout: BaseLayout) -> None:
    """Build the OCI layout with ``pause`` and ``busybox`` unless it exists."""
    if (layout.oci_layout / "index.json").is_file():
        return
    started = time.monotonic()
    work = layout.oci_layout.parent / "build"
    shutil.rmtree(work, ignore_errors=True)
    make_private_dir(work)
    try:
        pause_root, busybox_root, oci = work / "pause", work / "busybox", work / "oci"
        _build_pause_rootfs(pause_root, work)
        _build_busybox_rootfs(busybox_root)

        def umoci(*args: str | Path) -> None:
            run(["umoci", *args], umask=_IMAGE_UMASK)

        architecture = _GOARCH.get(platform.machine(), platform.machine())
        common = ["--os", "linux", "--architecture", architecture, "--author", "cri_client.testing"]
        umoci("init", "--layout", oci)
        umoci("new", "--image", f"{oci}:pause")
        umoci("insert", "--image", f"{oci}:pause", pause_root / "pause", "/pause")
        umoci(
            "config", "--image", f"{oci}:pause", "--config.entrypoint", "/pause",
            "--config.user", "65535:65535", *common,
        )  # fmt: skip
        umoci("new", "--image", f"{oci}:busybox")
        umoci("insert", "--image", f"{oci}:busybox", busybox_root, "/")
        umoci(
            "config", "--image", f"{oci}:busybox", "--config.cmd", "/bin/sh",
            "--config.env", f"PATH={_PATH}", *common,
        )  # fmt: skip
        umoci("gc", "--layout", oci)
        oci.rename(layout.oci_layout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("built pause and busybox images in %.1f s", time.monotonic() - started)


def _build_pause_rootfs(rootfs: Path, work: Path) -> None:
    source = work / "pause.c"
    write_private_file(source, asset("pause.c"))
    rootfs.mkdir(mode=0o755)
    run(["gcc", "-static", "-Os", "-s", "-o", rootfs / "pause", source], umask=_IMAGE_UMASK)
    (rootfs / "pause").chmod(0o755)


def _build_busybox_rootfs(rootfs: Path) -> None:
    """A minimal root: busybox + applet symlinks in /bin, passwd/group, /tmp 1777."""
    rootfs.mkdir(mode=0o755)
    for name in (
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "etc",
        "proc",
        "sys",
        "dev",
        "tmp",
        "root",
    ):
        (rootfs / name).mkdir(mode=0o755)
    (rootfs / "root").chmod(0o700)
    (rootfs / "tmp").chmod(0o1777)
    shutil.copyfile(BUSYBOX_BINARY, rootfs / "bin" / "busybox")
    (rootfs / "bin" / "busybox").chmod(0o755)
    for applet in run([BUSYBOX_BINARY, "--list"]).split():
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("busybox")
    for name, text in (
        ("passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
        ("group", "root:x:0:\nnogroup:x:65534:\n"),
    ):
        write_private_file(rootfs / "etc" / name, text, mode=0o644)


def image_reference(registry: str, image: tuple[str, str]) -> str:
    return f"{registry}/{image[0]}:{image[1]}"


class Registry:
    """The docker-registry shared by the instances of one base dir."""

    def __init__(self, layout: BaseLayout) -> None:
        self._layout = layout
        self._dir = layout.registry

    @property
    def _config(self) -> Path:
        return self._dir / "config.yml"

    @property
    def _pid_file(self) -> Path:
        return self._dir / "registry.pid"

    @property
    def _port_file(self) -> Path:
        """The port last used, so later starts (and other instances) reuse it."""
        return self._dir / "port"

    def pid(self) -> int | None:
        return live_pid(self._pid_file, ["serve", str(self._config)])

    def running_port(self) -> int | None:
        """The port of the running registry, or None if it is not running."""
        if self.pid() is None:
            return None
        return self._remembered_port()

    def _remembered_port(self) -> int | None:
        try:
            return int(self._port_file.read_text())
        except (OSError, ValueError):
            return None

    def ensure(self, requested_port: int | None) -> str:
        """Start the registry unless it runs, push the images unless present; return
        its ``127.0.0.1:<port>`` address."""
        port = self.running_port()
        if port is None:
            port = self._start(self._choose_port(requested_port))
        elif requested_port is not None and requested_port != port:
            raise RuntimeError(
                f"the registry of {self._layout.root} already runs on port {port}; stop its"
                f" instances first or ask for port {port}"
            )
        address = f"127.0.0.1:{port}"
        for image in (PAUSE, BUSYBOX):
            if not self._has_image(address, image):
                run(
                    [
                        "skopeo", "--policy", self._dir / "policy.json", "copy", "-q",
                        "--dest-tls-verify=false", f"oci:{self._layout.oci_layout}:{image[0]}",
                        f"docker://{image_reference(address, image)}",
                    ]
                )  # fmt: skip
        return address

    def _choose_port(self, requested: int | None) -> int:
        if requested is not None:
            if not _port_is_free(requested):
                raise RuntimeError(f"registry port {requested} is already in use")
            return requested
        for candidate in (self._remembered_port(), DEFAULT_REGISTRY_PORT):
            if candidate is not None and _port_is_free(candidate):
                return candidate
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
            return port

    def _start(self, port: int) -> int:
        started = time.monotonic()
        make_private_dir(self._dir / "storage")
        # JSON strings are valid YAML double-quoted scalars.
        write_private_file(
            self._config,
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog: {disabled: true}\n"
            "storage:\n"
            f"  filesystem: {{rootdirectory: {json.dumps(str(self._dir / 'storage'))}}}\n"
            "  delete: {enabled: true}\n"
            "  maintenance: {uploadpurging: {enabled: false}}\n"
            f"http:\n  addr: {json.dumps(f'127.0.0.1:{port}')}\n",
        )
        write_private_file(
            self._dir / "policy.json", '{"default": [{"type": "insecureAcceptAnything"}]}\n'
        )
        write_private_file(self._port_file, f"{port}\n")
        binary = registry_binary(unpacked_search_path(self._layout))
        if binary is None:
            raise RuntimeError(
                "docker-registry is missing; run: python -m cri_client.testing install"
            )
        process = spawn_daemon(
            [binary, "serve", str(self._config)],
            self._dir / "registry.log",
            self._pid_file,
        )
        if not wait_until(lambda: self._answers(port) or process.poll() is not None, 15):
            raise RuntimeError(f"registry did not answer on 127.0.0.1:{port} within 15 s")
        if process.poll() is not None:
            tail = (self._dir / "registry.log").read_text(errors="replace")[-1500:]
            raise RuntimeError(f"docker-registry exited on start: {tail}")
        log.info("registry up on 127.0.0.1:%d in %.2f s", port, time.monotonic() - started)
        return port

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate([pid], grace=5)
            log.info("registry stopped")
        self._pid_file.unlink(missing_ok=True)

    @staticmethod
    def _answers(port: int) -> bool:
        try:
            with _DIRECT.open(f"http://127.0.0.1:{port}/v2/", timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    @staticmethod
    def _has_image(address: str, image: tuple[str, str]) -> bool:
        request = urllib.request.Request(
            f"http://{address}/v2/{image[0]}/manifests/{image[1]}",
            method="HEAD",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        try:
            with _DIRECT.open(request, timeout=5) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False


def _port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``. SO_REUSEADDR as the registry
    (Go) uses it: TIME_WAIT connections of a just-stopped registry must not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
