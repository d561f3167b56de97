"""Where a throwaway runtime keeps its files, and how they are created.

Everything lives under one base dir (default ``/tmp/cri-client``)::

    <base>/.lock                 flock: serialises start/stop of instances sharing the base dir
    <base>/debian/               private apt sources.list, lists, cache; x/<pkg>-<ver>/ (dpkg -x)
    <base>/images/oci/           OCI layout with the pause and busybox images (built once)
    <base>/registry/             docker-registry config, storage, pid file, log, remembered port
    <base>/auth-registry/        the same for the TLS + htpasswd registry, plus its CA and password
    <base>/containerd-<version>/ one containerd instance (see InstanceLayout)

Directories are created 0700 and files 0600 (0700 for scripts) whatever the
caller's umask: the tree holds root-owned runtime state in /tmp.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SUPPORTED_VERSIONS = ("1.6", "1.7", "2.1")
DEFAULT_BASE_DIR = "/tmp/cri-client"

# sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


def check_version(version: str) -> str:
    """Return ``version`` if it is one this package knows how to run, else raise ValueError."""
    if version not in SUPPORTED_VERSIONS:
        choices = ", ".join(SUPPORTED_VERSIONS)
        raise ValueError(f"unsupported containerd version {version!r}; choose one of {choices}")
    return version


def asset(name: str) -> str:
    """Text of a file shipped in ``cri_client/testing/assets`` (package data)."""
    return resources.files("cri_client.testing").joinpath(f"assets/{name}").read_text()


def make_private_dir(path: Path) -> Path:
    """mkdir -p with mode 0700 for every directory it creates (Path.mkdir(parents=True)
    would create the parents with the umask's default mode)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
            directory.chmod(0o700)
    return path


def write_private_file(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write ``text`` atomically (temp file + rename) with exactly ``mode``."""
    make_private_dir(path.parent)
    temp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(temp, path)


def open_private_log(path: Path) -> int:
    """An O_APPEND descriptor on ``path`` (created 0600) for a daemon's output."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def registry_ports_lock() -> Path:
    """The lock registries take to choose and bind a port: machine-wide, not per base
    dir, because registries of separate base dirs choose from the same ports (5000
    first) and a choice is only safe until the registry has bound it. In /run/lock
    where it is writable (Debian's), else in the temporary directory."""
    directory = "/run/lock" if os.access("/run/lock", os.W_OK | os.X_OK) else tempfile.gettempdir()
    return Path(directory) / "cri-client-registry-ports.lock"


@contextlib.contextmanager
def exclusively_locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_file``, made when missing (readable by all, so
    another user can lock it too: flock needs no write access), never followed."""
    try:
        fd = os.open(lock_file, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        try:
            fd = os.open(lock_file, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:  # made meanwhile by another process
            fd = os.open(lock_file, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class BaseLayout:
    """The shared part of a base dir: downloads, images, registry."""

    root: Path

    @classmethod
    def at(cls, base_dir: str | os.PathLike[str]) -> BaseLayout:
        # realpath: /proc/self/mountinfo and process command lines show resolved
        # paths, so teardown's prefix matching only works on the resolved form.
        return cls(Path(os.path.realpath(base_dir)))

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def debian(self) -> Path:
        return self.root / "debian"

    @property
    def unpacked(self) -> Path:
        """Debs extracted with dpkg -x, one directory per package-version."""
        return self.debian / "x"

    @property
    def oci_layout(self) -> Path:
        return self.root / "images" / "oci"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def auth_registry(self) -> Path:
        return self.root / "auth-registry"

    def instance(self, version: str) -> InstanceLayout:
        return InstanceLayout(self.root / f"containerd-{check_version(version)}", version)

    def instances(self) -> list[InstanceLayout]:
        """The instance dirs that exist under this base dir."""
        return [
            self.instance(version)
            for version in SUPPORTED_VERSIONS
            if (self.root / f"containerd-{version}").is_dir()
        ]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive flock on the base dir (start and stop decide about the
        shared registry, so two of them must not interleave)."""
        make_private_dir(self.root)
        with exclusively_locked(self.lock_file):
            yield


@dataclass(frozen=True)
class InstanceLayout:
    """One containerd instance: every path it uses is inside ``dir``, except what
    containerd hard-codes (/run/containerd/s shim sockets, /var/lib/cni/results)."""

    dir: Path
    version: str

    def __post_init__(self) -> None:
        if len(os.fsencode(self.ttrpc_socket)) > _MAX_SOCKET_PATH:
            raise ValueError(
                f"base dir too long: {self.ttrpc_socket} exceeds the {_MAX_SOCKET_PATH}-byte"
                " unix socket path limit"
            )

    @property
    def config(self) -> Path:
        return self.dir / "config.toml"

    @property
    def log(self) -> Path:
        return self.dir / "containerd.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "containerd.pid"

    @property
    def state_file(self) -> Path:
        """JSON written once containerd is ready (versions, registry, handlers, timings)."""
        return self.dir / "instance.json"

    @property
    def socket(self) -> Path:
        return self.dir / "containerd.sock"

    @property
    def ttrpc_socket(self) -> Path:
        return self.dir / "containerd.sock.ttrpc"

    @property
    def debug_socket(self) -> Path:
        return self.dir / "debug.sock"

    @property
    def nri_socket(self) -> Path:
        return self.dir / "nri.sock"

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def state(self) -> Path:
        return self.dir / "state"

    @property
    def cri_root(self) -> Path:
        """The CRI plugin's own dir under ``root``: one subdir per pod sandbox
        (``sandboxes/``) and per container (``containers/``) it knows."""
        return self.root / "io.containerd.grpc.v1.cri"

    @property
    def opt(self) -> Path:
        return self.dir / "opt"

    @property
    def tmp(self) -> Path:
        """containerd's TMPDIR: its temporary mounts (image unpack, user lookup) land
        here instead of /tmp, so teardown's unmount sweep of ``dir`` catches them."""
        return self.dir / "tmp"

    @property
    def bin(self) -> Path:
        return self.dir / "bin"

    @property
    def runsc_stub(self) -> Path:
        return self.bin / "runsc"

    @property
    def runsc_wrapper(self) -> Path:
        return self.bin / "runsc-wrapper.sh"

    @property
    def certs_d(self) -> Path:
        """Registry host configuration (``config_path``): <host:port>/hosts.toml."""
        return self.dir / "certs.d"

    @property
    def cni_conf_dir(self) -> Path:
        return self.dir / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.dir / "cni" / "ipam"

    def runtime_root(self, handler: str) -> Path:
        """``Root`` of a runtime handler: runc/runsc state, one subdir per namespace."""
        return self.state / handler
