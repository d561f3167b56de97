"""Debian packages: what the throwaway runtime needs, and where its binaries are.

containerd 1.6 is bookworm's installed ``/usr/bin/containerd``. 1.7 (trixie) and
2.1 (sid), trixie's runsc (bookworm's has no systrap platform, and kvm hangs on
this kind of VM) and trixie's docker-registry are *downloaded* and unpacked with
``dpkg -x`` under the base dir, so the machine's installed packages never change
for them. The ``containerd`` and ``docker-registry`` packages would enable and
start system services (containerd on the default socket, a registry on port
5000), so docker-registry is never installed and containerd only for 1.6. apt
gets a private configuration for the downloads (own sources.list, lists and
cache; no preferences), which leaves the system's apt state untouched. Newer runc
builds need glibc 2.38, so runc is always bookworm's ``/usr/sbin/runc``;
containerd 1.7/2.1 and docker-registry need only glibc 2.34.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cri_client.testing._layout import (
    DEFAULT_BASE_DIR,
    BaseLayout,
    check_version,
    make_private_dir,
    write_private_file,
)
from cri_client.testing._processes import run, run_showing_output

SYSTEM_PACKAGES = (
    "runc",
    "containernetworking-plugins",
    "skopeo",
    "umoci",
    "busybox-static",
    "runsc",
    "gcc",
    "libc6-dev",
    "iproute2",
    # The secured registry (auth_registry=True): its CA and certificate, its htpasswd.
    "openssl",
    "apache2-utils",
)
# containerd 1.6 runs from the installed package; installed only for 1.6 (above).
SYSTEM_CONTAINERD_PACKAGE = "containerd"
RUNC = Path("/usr/sbin/runc")
SYSTEM_CONTAINERD_DIR = Path("/usr/bin")
_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_CONTAINERD_SUITES = {"1.7": "trixie", "2.1": "sid"}
_RUNSC_SUITE = "trixie"
_REGISTRY_SUITE = "trixie"  # glibc 2.34, like containerd 1.7/2.1
INSTALL_DIR_ENV = "CRI_CLIENT_TEST_INSTALL_DIR"


def _apt_env() -> dict[str, str]:
    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def install_dir() -> Path:
    """The base dir whose unpacked debs instances fall back to:
    ``$CRI_CLIENT_TEST_INSTALL_DIR``, default /tmp/cri-client (install's default)."""
    return BaseLayout.at(os.environ.get(INSTALL_DIR_ENV, DEFAULT_BASE_DIR)).root


def unpacked_search_path(layout: BaseLayout) -> list[Path]:
    """Where an instance under ``layout`` looks for unpacked debs: its own base dir,
    then the install dir, so that an instance under a temporary base dir (a test's)
    uses what ``install`` put in the default place."""
    return list(dict.fromkeys([layout.unpacked, BaseLayout(install_dir()).unpacked]))


def install_command(version: str) -> str:
    """The command that installs what ``version`` needs where instances look for it."""
    command = f"python -m cri_client.testing install {version}"
    if install_dir() != BaseLayout.at(DEFAULT_BASE_DIR).root:
        command += f" --dir {install_dir()}"
    return command


def install_dependencies(
    versions: Sequence[str] = ("2.1",), *, base_dir: str | os.PathLike[str] = DEFAULT_BASE_DIR
) -> None:
    """Install everything a throwaway containerd of ``versions`` needs.

    apt-get update, then apt-get install -y --no-upgrade --no-install-recommends of
    the system packages (--no-upgrade: never upgrade what is installed already; the
    ``containerd`` package only for 1.6), then download (not install) the newer
    containerd debs the versions need plus trixie's runsc and docker-registry,
    unpacked with dpkg -x under base_dir. A download is skipped when a matching deb
    is already unpacked.
    """
    wanted_versions = [check_version(v) for v in versions]
    layout = BaseLayout.at(base_dir)
    packages = [*SYSTEM_PACKAGES]
    if "1.6" in wanted_versions:
        packages.append(SYSTEM_CONTAINERD_PACKAGE)
    run_showing_output(["apt-get", "update", "-q"], env=_apt_env())
    run_showing_output(
        [
            "apt-get", "install", "-y", "-q", "--no-upgrade", "--no-install-recommends",
            "-o", "DPkg::Lock::Timeout=300", *packages,
        ],
        env=_apt_env(),
    )  # fmt: skip
    downloads = [
        _Download("containerd", _CONTAINERD_SUITES[v], v)
        for v in dict.fromkeys(wanted_versions)
        if v in _CONTAINERD_SUITES and unpacked_containerd([layout.unpacked], v) is None
    ]
    if unpacked_runsc([layout.unpacked]) is None:
        downloads.append(_Download("runsc", _RUNSC_SUITE, None))
    if _unpacked_binary([layout.unpacked], "docker-registry") is None:
        downloads.append(_Download("docker-registry", _REGISTRY_SUITE, None))
    if downloads:
        _download_and_unpack(layout, downloads)


def unpacked_containerd(search: Sequence[Path], version: str) -> Path | None:
    """The bin dir holding containerd ``version`` and its matching runc shim, if present
    (1.6: the installed one; else the first of the ``search`` dirs that has it)."""
    if version == "1.6":
        candidates = [SYSTEM_CONTAINERD_DIR]
    else:
        candidates = [
            max(found)
            for directory in search
            if (found := list(directory.glob(f"containerd-{version}.*/usr/bin")))
        ]
    complete = [
        d
        for d in candidates
        if (d / "containerd").is_file() and (d / "containerd-shim-runc-v2").is_file()
    ]
    return complete[0] if complete else None


def unpacked_runsc(search: Sequence[Path]) -> Path | None:
    """trixie's runsc binary from the first of the ``search`` dirs that has it."""
    return _unpacked_binary(search, "runsc")


def registry_binary(search: Sequence[Path]) -> str | None:
    """docker-registry: trixie's from the first of the ``search`` dirs that has it,
    else one on PATH (a machine with Debian's docker-registry package installed)."""
    unpacked = _unpacked_binary(search, "docker-registry")
    return str(unpacked) if unpacked else shutil.which("docker-registry")


def _unpacked_binary(search: Sequence[Path], package: str) -> Path | None:
    """``/usr/bin/<package>`` of the package unpacked in the first ``search`` dir that has it."""
    for directory in search:
        found = sorted(directory.glob(f"{package}-*/usr/bin/{package}"))
        if found:
            return found[-1]
    return None


@dataclass(frozen=True)
class _Download:
    package: str
    suite: str
    series: str | None  # required major.minor ("1.7"), None for any version

    @property
    def spec(self) -> str:
        return f"{self.package}/{self.suite}"


def _download_and_unpack(layout: BaseLayout, downloads: Sequence[_Download]) -> None:
    """One private ``apt-get update`` and one ``apt-get download`` for all of
    ``downloads`` (each apt call spends seconds just loading the lists)."""
    apt = _PrivateApt(layout.debian)
    apt.update()
    make_private_dir(layout.unpacked)
    with tempfile.TemporaryDirectory(dir=layout.debian, prefix="download-") as temp:
        apt.download([d.spec for d in downloads], Path(temp))
        debs = {deb: _deb_identity(deb) for deb in sorted(Path(temp).glob("*.deb"))}
        for download in downloads:
            _check_series(download, list(debs.values()))
        for deb, (package, version) in debs.items():
            _unpack(deb, layout.unpacked / f"{package}-{_upstream(version, keep_revision=True)}")


def _check_series(download: _Download, got: list[tuple[str, str]]) -> None:
    """Debian keeps only the current version of a package per suite, so a suite can
    move on to a containerd series this package was not written for."""
    versions = [_upstream(version) for package, version in got if package == download.package]
    if not versions:
        raise RuntimeError(
            f"apt-get download {download.spec} did not produce a {download.package} deb"
        )
    if download.series is not None and not any(
        v.startswith(download.series + ".") for v in versions
    ):
        raise RuntimeError(
            f"Debian {download.suite} no longer has containerd {download.series}.x (it has"
            f" {', '.join(versions)}); cri_client.testing needs updating for that version"
        )


def _upstream(version: str, *, keep_revision: bool = False) -> str:
    """Debian version without the epoch (and without the revision unless asked)."""
    without_epoch = version.split(":", 1)[-1]
    return without_epoch if keep_revision else without_epoch.rsplit("-", 1)[0]


def _deb_identity(deb: Path) -> tuple[str, str]:
    package, version = run(
        ["dpkg-deb", "--showformat=${Package}\\n${Version}", "--show", deb]
    ).split()
    return package, version


def _unpack(deb: Path, dest: Path) -> None:
    """dpkg -x into a temporary dir renamed into place: a half-unpacked tree must
    never look like a usable one."""
    if dest.exists():
        return
    temp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack-"))
    try:
        run(["dpkg", "-x", deb, temp])
        temp.rename(dest)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


class _PrivateApt:
    """apt-get with its own sources.list (trixie + sid), lists and cache under
    ``directory``: the system's sources, lists, preferences and pins play no part,
    and nothing the system's apt sees changes."""

    def __init__(self, directory: Path) -> None:
        self._dir = make_private_dir(directory)
        self._sources = directory / "sources.list"
        lists, cache = directory / "lists", directory / "cache"
        for path in (lists / "partial", cache / "archives" / "partial"):
            make_private_dir(path)
        self._options = [
            "-q",
            "-o", f"Dir::Etc::SourceList={self._sources}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={lists}",
            "-o", f"Dir::Cache={cache}",
            "-o", "Dir::Etc::Preferences=/dev/null",
            "-o", "Dir::Etc::PreferencesParts=/dev/null",
            "-o", "Acquire::Languages=none",
            # The download sandbox user _apt cannot enter our 0700 dirs; without
            # this apt warns and falls back to root anyway.
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip

    def update(self) -> None:
        mirror = debian_mirror()
        write_private_file(
            self._sources,
            "".join(
                f"deb [signed-by={_KEYRING}] {mirror} {suite} main\n"
                for suite in dict.fromkeys(
                    (*_CONTAINERD_SUITES.values(), _RUNSC_SUITE, _REGISTRY_SUITE)
                )
            ),
        )
        run_showing_output(["apt-get", *self._options, "update"], env=_apt_env())

    def download(self, specs: Sequence[str], dest: Path) -> None:
        run_showing_output(
            ["apt-get", *self._options, "download", *specs], cwd=dest, env=_apt_env()
        )


def debian_mirror() -> str:
    """The main Debian archive URI the machine already uses (never a hard-coded host):
    from deb822 ``/etc/apt/sources.list.d/*.sources`` or one-line ``sources.list`` files,
    the first ``deb`` entry for a release suite (not -updates, -security, ...)."""
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = _deb822_fields(stanza)
            if (
                "deb" in fields.get("types", "").split()
                and fields.get("enabled", "yes") != "no"
                and any("-" not in suite for suite in fields.get("suites", "").split())
                and fields.get("uris")
            ):
                return fields["uris"].split()[0]
    for path in [Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb" and "-" not in words[2]:
                return words[1]
    raise RuntimeError("no Debian mirror found in /etc/apt/sources.list{,.d/*}")


def _deb822_fields(stanza: str) -> dict[str, str]:
    """Lower-cased field name -> value (continuation lines joined) of one deb822 stanza."""
    fields: dict[str, str] = {}
    name = None
    for line in stanza.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace() and name is not None:
            fields[name] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            name = key.strip().lower()
            fields[name] = value.strip()
    return fields
