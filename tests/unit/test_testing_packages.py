"""cri_client.testing install: which Debian packages it installs (no apt run here).

Debian's ``containerd`` and ``docker-registry`` packages enable and start system
services, so ``install 2.1`` (the demo's) must not install them; trixie's
docker-registry is unpacked privately instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cri_client.testing import _debian


@pytest.fixture
def apt_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record apt-get commands and downloads instead of running them."""
    calls: list[list[str]] = []

    def record(argv: list[str], **_: Any) -> None:
        calls.append([str(a) for a in argv])

    def download(layout: Any, downloads: Any) -> None:
        calls.append(["download", *(d.spec for d in downloads)])

    monkeypatch.setattr(_debian, "run_showing_output", record)
    monkeypatch.setattr(_debian, "_download_and_unpack", download)
    return calls


def _installed(calls: list[list[str]]) -> list[str]:
    (install,) = [c for c in calls if c[:2] == ["apt-get", "install"]]
    return [word for word in install[2:] if not word.startswith("-") and "::" not in word]


def test_install_2_1_installs_no_service_package(
    apt_calls: list[list[str]], tmp_path: Path
) -> None:
    _debian.install_dependencies(["2.1"], base_dir=tmp_path)
    installed = _installed(apt_calls)
    assert "containerd" not in installed
    assert "docker-registry" not in installed
    assert "runc" in installed
    assert apt_calls[-1] == ["download", "containerd/sid", "runsc/trixie", "docker-registry/trixie"]


def test_install_1_6_installs_the_containerd_package(
    apt_calls: list[list[str]], tmp_path: Path
) -> None:
    _debian.install_dependencies(["1.6"], base_dir=tmp_path)
    installed = _installed(apt_calls)
    assert "containerd" in installed
    assert "docker-registry" not in installed
    assert apt_calls[-1] == ["download", "runsc/trixie", "docker-registry/trixie"]


def test_registry_binary_prefers_the_unpacked_one(tmp_path: Path) -> None:
    binary = tmp_path / "docker-registry-2.8.3+ds1-2+b8" / "usr" / "bin" / "docker-registry"
    binary.parent.mkdir(parents=True)
    binary.write_text("")
    assert _debian.registry_binary([tmp_path / "elsewhere", tmp_path]) == str(binary)


def test_registry_binary_falls_back_to_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = tmp_path / "bin" / "docker-registry"
    on_path.parent.mkdir()
    on_path.write_text("")
    on_path.chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert _debian.registry_binary([tmp_path / "empty"]) == str(on_path)
    monkeypatch.setenv("PATH", os.devnull)
    assert _debian.registry_binary([tmp_path / "empty"]) is None
