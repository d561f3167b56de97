"""The command line's config file and endpoints: crictl's precedence, one reader
(``cri_client.endpoint``) shared with the library. A fake runtime answers, so the
endpoint actually used is the one asserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cri_client import endpoint as ep
from cri_client._proto import api_pb2 as pb
from cri_client.cli.main import main

from .fake_runtime import FakeRuntime


def runtime_named(name: str) -> Any:
    def version(request: pb.VersionRequest, context: Any) -> pb.VersionResponse:
        return pb.VersionResponse(runtime_name=name, runtime_api_version="v1")

    return {"Version": version}


@pytest.fixture
def etc_crictl_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for /etc/crictl.yaml (the real one is never read), no CRI_CONFIG_FILE,
    and one well-known socket path in tmp_path."""
    path = tmp_path / "etc-crictl.yaml"
    monkeypatch.setattr(ep, "DEFAULT_CRICTL_CONFIG", str(path))
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{tmp_path}/known.sock",))
    monkeypatch.delenv("CRI_CONFIG_FILE")
    return path


def version_from(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "version"])
    out, err = capsys.readouterr()
    name = next((line.split()[-1] for line in out.splitlines() if "RuntimeName" in line), "")
    return code, name, err


def test_a_named_config_without_endpoint_never_falls_back_to_etc_crictl_yaml(
    tmp_path: Path,
    etc_crictl_yaml: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    etc_crictl_yaml.write_text(f"runtime-endpoint: unix://{tmp_path}/etc.sock\n")
    mine = tmp_path / "my.yaml"
    mine.write_text("timeout: 5\n")
    with (
        FakeRuntime(str(tmp_path / "etc.sock"), runtime_named("from-etc")),
        FakeRuntime(str(tmp_path / "known.sock"), runtime_named("well-known")),
    ):
        # no named file: /etc/crictl.yaml's endpoint
        assert version_from(capsys)[:2] == (0, "from-etc")
        # -c my.yaml replaces /etc/crictl.yaml: no endpoint there, so the well-known one
        code, name, err = version_from(capsys, "-D", "-c", str(mine))
        assert (code, name) == (0, "well-known")
        assert f"runtime endpoint unix://{tmp_path}/known.sock (from well-known path)" in err
        assert "timeout 5 s per call" in err  # my.yaml was read
        # the same when CRI_CONFIG_FILE names it
        monkeypatch.setenv("CRI_CONFIG_FILE", str(mine))
        assert version_from(capsys)[:2] == (0, "well-known")


def test_a_named_config_without_endpoint_and_no_socket_names_that_file(
    tmp_path: Path, etc_crictl_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    etc_crictl_yaml.write_text(f"runtime-endpoint: unix://{tmp_path}/etc.sock\n")
    mine = tmp_path / "my.yaml"
    mine.write_text("debug: false\n")
    with FakeRuntime(str(tmp_path / "etc.sock"), runtime_named("from-etc")):
        code, name, err = version_from(capsys, "-c", str(mine))
    assert (code, name) == (1, "")
    assert err.startswith("cri-client: no CRI runtime socket found: ")
    assert f"{mine} names no runtime-endpoint" in err
    assert f"{tmp_path}/known.sock" in err


def test_flag_then_environment_then_the_config_file(
    tmp_path: Path,
    etc_crictl_yaml: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "crictl.yaml"
    config.write_text(f"runtime-endpoint: unix://{tmp_path}/config.sock\n")
    etc_crictl_yaml.write_text(f"runtime-endpoint: unix://{tmp_path}/etc.sock\n")
    with (
        FakeRuntime(str(tmp_path / "flag.sock"), runtime_named("flag")),
        FakeRuntime(str(tmp_path / "env.sock"), runtime_named("env")),
        FakeRuntime(str(tmp_path / "config.sock"), runtime_named("config")),
        FakeRuntime(str(tmp_path / "etc.sock"), runtime_named("etc")),
    ):
        monkeypatch.setenv("CONTAINER_RUNTIME_ENDPOINT", f"unix://{tmp_path}/env.sock")
        flag = ["-c", str(config), "-r", f"{tmp_path}/flag.sock"]
        code, name, err = version_from(capsys, "-D", *flag)
        assert (code, name) == (0, "flag")
        assert "(from --runtime-endpoint)" in err
        assert version_from(capsys, "-c", str(config))[:2] == (0, "env")
        monkeypatch.delenv("CONTAINER_RUNTIME_ENDPOINT")
        code, name, err = version_from(capsys, "-D", "-c", str(config))
        assert (code, name) == (0, "config")
        assert f"(from runtime-endpoint in {config})" in err
        # -c wins over CRI_CONFIG_FILE, which wins over /etc/crictl.yaml
        monkeypatch.setenv("CRI_CONFIG_FILE", str(etc_crictl_yaml))
        assert version_from(capsys, "-c", str(config))[:2] == (0, "config")
        monkeypatch.setenv("CRI_CONFIG_FILE", str(config))
        assert version_from(capsys)[:2] == (0, "config")


def test_image_endpoint_follows_crictl_not_the_library(
    tmp_path: Path,
    etc_crictl_yaml: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With -r, crictl still takes images from IMAGE_SERVICE_ENDPOINT or the config."""
    etc_crictl_yaml.write_text(f"image-endpoint: unix://{tmp_path}/images.sock\n")
    with FakeRuntime(str(tmp_path / "rt.sock"), runtime_named("rt")):
        code, _, err = version_from(capsys, "-D", "-r", f"{tmp_path}/rt.sock")
        assert code == 0
        assert (
            f"image endpoint unix://{tmp_path}/images.sock (from image-endpoint in "
            f"{etc_crictl_yaml})" in err
        )
        monkeypatch.setenv("IMAGE_SERVICE_ENDPOINT", f"{tmp_path}/env-images.sock")
        err = version_from(capsys, "-D", "-r", f"{tmp_path}/rt.sock")[2]
        assert (
            f"image endpoint unix://{tmp_path}/env-images.sock (from IMAGE_SERVICE_ENDPOINT)" in err
        )
        err = version_from(capsys, "-D", "-r", f"{tmp_path}/rt.sock", "-i", f"{tmp_path}/i.sock")[2]
        assert f"image endpoint unix://{tmp_path}/i.sock (from --image-endpoint)" in err
        monkeypatch.delenv("IMAGE_SERVICE_ENDPOINT")
        etc_crictl_yaml.write_text("")
        err = version_from(capsys, "-D", "-r", f"{tmp_path}/rt.sock")[2]
        assert f"image endpoint unix://{tmp_path}/rt.sock (from the runtime endpoint)" in err


def test_config_file_errors_are_usage_errors_and_a_broken_default_is_skipped(
    tmp_path: Path, etc_crictl_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"runtime-endpoint: unix://{tmp_path}/rt.sock\ncolour: blue\n")
    assert main(["-c", str(broken), "version"]) == 1
    assert capsys.readouterr().err == (
        f"cri-client: config file {broken}: config option 'colour' is not valid\n"
    )
    assert main(["-c", str(tmp_path / "absent.yaml"), "version"]) == 1
    assert capsys.readouterr().err == (
        f"cri-client: config file {tmp_path}/absent.yaml: No such file or directory\n"
    )
    # the same file as /etc/crictl.yaml is ignored whole: its endpoint is not used either
    etc_crictl_yaml.write_text(broken.read_text())
    with FakeRuntime(str(tmp_path / "rt.sock"), runtime_named("rt")):
        code, name, err = version_from(capsys)
    assert (code, name) == (1, "")
    assert f"config file {etc_crictl_yaml}: config option 'colour' is not valid, so it was" in err
