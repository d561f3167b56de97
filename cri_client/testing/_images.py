"""Test images and the local registry that serves them.

There is no internet, so both images are built here: ``pause`` from
``assets/pause.c`` (gcc -static), ``busybox`` from busybox-static's ``/bin/busybox``
with every applet symlinked. umoci assembles them into an OCI layout (once per base
dir) and skopeo pushes them to a docker-registry on 127.0.0.1 over plain http. The
registry is shared by all instances under a base dir.

Instances that ask for it (``ThrowawayContainerd(auth_registry=True)``) also get a
second registry, :class:`SecuredRegistry`: TLS with a certificate from a CA made
here (openssl) and htpasswd authentication (apache2-utils' ``htpasswd -B``), with
busybox only. It is what docker's and podman's credential sources are tested
against: the plain one stays anonymous for everything else.
"""

from __future__ import annotations

import base64
import json
import logging
import platform
import secrets
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cri_client.testing._debian import registry_binary, unpacked_search_path
from cri_client.testing._layout import (
    BaseLayout,
    asset,
    exclusively_locked,
    make_private_dir,
    registry_ports_lock,
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

        common = _config_platform()
        _umoci("init", "--layout", oci)
        _umoci("new", "--image", f"{oci}:pause")
        _umoci("insert", "--image", f"{oci}:pause", pause_root / "pause", "/pause")
        _umoci(
            "config", "--image", f"{oci}:pause", "--config.entrypoint", "/pause",
            "--config.user", "65535:65535", *common,
        )  # fmt: skip
        _umoci("new", "--image", f"{oci}:busybox")
        _umoci("insert", "--image", f"{oci}:busybox", busybox_root, "/")
        _umoci(
            "config", "--image", f"{oci}:busybox", "--config.cmd", "/bin/sh",
            "--config.env", f"PATH={_PATH}", *common,
        )  # fmt: skip
        _umoci("gc", "--layout", oci)
        oci.rename(layout.oci_layout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("built pause and busybox images in %.1f s", time.monotonic() - started)


def _umoci(*args: str | Path) -> None:
    run(["umoci", *args], umask=_IMAGE_UMASK)


def _config_platform() -> list[str]:
    architecture = _GOARCH.get(platform.machine(), platform.machine())
    return ["--os", "linux", "--architecture", architecture, "--author", "cri_client.testing"]


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

    _images: tuple[tuple[str, str], ...] = (PAUSE, BUSYBOX)
    _scheme = "http"
    _ready_status = 200  # what GET /v2/ answers

    def __init__(self, layout: BaseLayout) -> None:
        self._layout = layout
        self._dir = self._directory(layout)

    @staticmethod
    def _directory(layout: BaseLayout) -> Path:
        return layout.registry

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
            with exclusively_locked(registry_ports_lock()):  # from choosing to bound
                port = self._start(self._choose_port(requested_port))
        elif requested_port is not None and requested_port != port:
            raise RuntimeError(
                f"the registry of {self._layout.root} already runs on port {port}; stop its"
                f" instances first or ask for port {port}"
            )
        address = f"127.0.0.1:{port}"
        for image in self._images:
            if not self._has_image(address, image):
                run(
                    [
                        "skopeo", "--policy", self._dir / "policy.json", "copy", "-q",
                        *self._push_options(), f"oci:{self._layout.oci_layout}:{image[0]}",
                        f"docker://{image_reference(address, image)}",
                    ]
                )  # fmt: skip
        return address

    def _push_options(self) -> list[str]:
        return ["--dest-tls-verify=false"]

    def _choose_port(self, requested: int | None) -> int:
        if requested is not None:
            if not _port_is_free(requested):
                raise RuntimeError(f"registry port {requested} is already in use")
            return requested
        for candidate in (self._remembered_port(), self._default_port()):
            if candidate is not None and _port_is_free(candidate):
                return candidate
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
            return port

    @staticmethod
    def _default_port() -> int | None:
        return DEFAULT_REGISTRY_PORT

    def _start(self, port: int) -> int:
        started = time.monotonic()
        make_private_dir(self._dir / "storage")
        extra_config = self._prepare(port)
        # JSON strings are valid YAML double-quoted scalars.
        write_private_file(
            self._config,
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog: {disabled: true}\n"
            "storage:\n"
            f"  filesystem: {{rootdirectory: {json.dumps(str(self._dir / 'storage'))}}}\n"
            "  delete: {enabled: true}\n"
            "  maintenance: {uploadpurging: {enabled: false}}\n"
            f"http:\n  addr: {json.dumps(f'127.0.0.1:{port}')}\n{extra_config}",
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
        log.info(
            "%s up on 127.0.0.1:%d in %.2f s", self._dir.name, port, time.monotonic() - started
        )
        return port

    def _prepare(self, port: int) -> str:
        """Write what the registry needs besides its config; return more config lines."""
        return ""

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate([pid], grace=5)
            log.info("%s stopped", self._dir.name)
        self._pid_file.unlink(missing_ok=True)

    def _opener(self) -> urllib.request.OpenerDirector:
        return _DIRECT

    def _headers(self) -> dict[str, str]:
        return {}

    def _status(self, request: urllib.request.Request, timeout: float) -> int | None:
        """The HTTP status of ``request``, None when nothing answers."""
        try:
            with self._opener().open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except (OSError, urllib.error.URLError):
            return None

    def _answers(self, port: int) -> bool:
        request = urllib.request.Request(f"{self._scheme}://127.0.0.1:{port}/v2/")
        return self._status(request, 1) == self._ready_status

    def _has_image(self, address: str, image: tuple[str, str]) -> bool:
        request = urllib.request.Request(
            f"{self._scheme}://{address}/v2/{image[0]}/manifests/{image[1]}",
            method="HEAD",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json", **self._headers()},
        )
        return self._status(request, 5) == 200


@dataclass(frozen=True)
class AuthRegistry:
    """The secured registry as tests see it: where it is, the one user it accepts,
    and the CA that signed its certificate (containerd trusts it via hosts.toml)."""

    address: str
    username: str
    password: str = field(repr=False)
    ca_file: Path
    password_file: Path

    @property
    def busybox_image(self) -> str:
        return image_reference(self.address, BUSYBOX)


class SecuredRegistry(Registry):
    """A second docker-registry of the base dir, on its own port and directory: https
    with a certificate for 127.0.0.1 signed by a CA made here, and htpasswd (bcrypt)
    authentication of one user whose random password is kept in the directory."""

    _images = (BUSYBOX,)
    _scheme = "https"
    _ready_status = 401  # nothing without credentials: that is the point
    USERNAME = "cri-client"

    @staticmethod
    def _directory(layout: BaseLayout) -> Path:
        return layout.auth_registry

    @staticmethod
    def _default_port() -> int | None:
        return None  # any free port: 5000 is the plain registry's

    @property
    def ca_file(self) -> Path:
        return self._dir / "ca.pem"

    def credentials(self, address: str) -> AuthRegistry:
        return AuthRegistry(
            address=address,
            username=self.USERNAME,
            password=(self._dir / "password").read_text().strip(),
            ca_file=self.ca_file,
            password_file=self._dir / "password",
        )

    def _prepare(self, port: int) -> str:
        tls = make_private_dir(self._dir / "tls")
        _make_certificates(tls, self.ca_file)
        password = secrets.token_urlsafe(18)
        write_private_file(self._dir / "password", password + "\n")
        line = run(["htpasswd", "-nbB", self.USERNAME, password]).strip()
        write_private_file(self._dir / "htpasswd", line + "\n")
        # skopeo's --dest-cert-dir takes CA certificates named *.crt.
        write_private_file(self._dir / "certs" / "ca.crt", self.ca_file.read_text())
        token = base64.b64encode(f"{self.USERNAME}:{password}".encode()).decode()
        push_auth = {"auths": {f"127.0.0.1:{port}": {"auth": token}}}
        write_private_file(self._dir / "push-auth.json", json.dumps(push_auth))
        return (
            f"  tls:\n    certificate: {json.dumps(str(tls / 'server.pem'))}\n"
            f"    key: {json.dumps(str(tls / 'server.key'))}\n"
            "auth:\n  htpasswd:\n    realm: cri-client-test\n"
            f"    path: {json.dumps(str(self._dir / 'htpasswd'))}\n"
        )

    def _push_options(self) -> list[str]:
        return [
            f"--dest-cert-dir={self._dir / 'certs'}",
            f"--dest-authfile={self._dir / 'push-auth.json'}",
        ]

    def _opener(self) -> urllib.request.OpenerDirector:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

    def _headers(self) -> dict[str, str]:
        password = (self._dir / "password").read_text().strip()
        token = base64.b64encode(f"{self.USERNAME}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def _make_certificates(tls: Path, ca_file: Path) -> None:
    """A CA (``ca_file``) and a server certificate for 127.0.0.1 and localhost signed by
    it, valid for 30 days; Go wants the address as a subjectAltName, not the CN."""
    write_private_file(
        tls / "server.ext",
        "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "extendedKeyUsage = serverAuth\n"
        "basicConstraints = critical, CA:FALSE\n",
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(
        [
            "openssl", "req", "-x509", *ec, "-days", "30", "-subj", "/CN=cri-client test CA",
            "-keyout", tls / "ca.key", "-out", ca_file,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ]
    )  # fmt: skip
    run(
        [
            "openssl", "req", *ec, "-subj", "/CN=127.0.0.1",
            "-keyout", tls / "server.key", "-out", tls / "server.csr",
        ]
    )  # fmt: skip
    run(
        [
            "openssl", "x509", "-req", "-in", tls / "server.csr", "-days", "30",
            "-CA", ca_file, "-CAkey", tls / "ca.key", "-CAcreateserial",
            "-extfile", tls / "server.ext", "-out", tls / "server.pem",
        ]
    )  # fmt: skip


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


def push_random_image(registry: str, name: str, layer_sizes: list[int], work_dir: Path) -> str:
    """Build an image of one file of random (incompressible) bytes per layer, of the
    given sizes, push it to ``registry`` (plain http) as ``<name>:latest`` and return
    its reference. For pulls big enough to watch (pull progress tests, benchmarks):
    random data keeps the compressed layers as large as the files."""
    oci, reference = work_dir / "oci", f"{registry}/{name}:latest"
    shutil.rmtree(oci, ignore_errors=True)
    _umoci("init", "--layout", oci)
    _umoci("new", "--image", f"{oci}:{name}")
    for index, size in enumerate(layer_sizes):
        data = work_dir / f"layer{index}"
        with data.open("wb") as out:
            for _ in range(0, size, 1 << 20):
                out.write(secrets.token_bytes(min(1 << 20, size - out.tell())))
        _umoci("insert", "--image", f"{oci}:{name}", data, f"/data/layer{index}")
        data.unlink()
    _umoci("config", "--image", f"{oci}:{name}", *_config_platform())
    policy = work_dir / "policy.json"
    write_private_file(policy, '{"default": [{"type": "insecureAcceptAnything"}]}\n')
    run(
        [
            "skopeo", "--policy", policy, "copy", "-q", "--dest-tls-verify=false",
            f"oci:{oci}:{name}", f"docker://{reference}",
        ]
    )  # fmt: skip
    shutil.rmtree(oci, ignore_errors=True)
    return reference
