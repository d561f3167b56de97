from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def sock(tmp_path: Path) -> str:
    """A fresh socket path, short enough for the 108-byte sun_path limit."""
    return str(tmp_path / "cri.sock")


@pytest.fixture(autouse=True)
def no_ambient_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Unit tests never see the machine's runtime settings."""
    for name in ("CONTAINER_RUNTIME_ENDPOINT", "IMAGE_SERVICE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRI_CONFIG_FILE", str(tmp_path / "no-crictl.yaml"))
