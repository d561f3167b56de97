"""Bad input is refused with ValueError naming the value, before any RPC."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cri_client import CRIClient
from cri_client._core.validation import (
    check_command,
    check_image_reference,
    check_labels,
    check_name,
    check_seconds,
)
from cri_client.configs import container_config, pod_sandbox_config

from .fake_runtime import FakeRuntime


@pytest.mark.parametrize(
    "reference",
    [
        "busybox",
        "busybox:1.35",
        "127.0.0.1:5000/busybox:1.35",
        "registry.example.com/team/app_name:v1.2-rc.3",
        "localhost/app@sha256:" + "a" * 64,
        "sha256:" + "b" * 64,
        "c" * 64,
    ],
)
def test_valid_image_references(reference: str) -> None:
    assert check_image_reference(reference) == reference


@pytest.mark.parametrize(
    "reference",
    ["", "Not A Reference", "UPPER/case", "busybox:", "app@sha256:short", "a//b", " busybox"],
)
def test_invalid_image_references_name_the_value(reference: str) -> None:
    with pytest.raises(ValueError, match="image") as info:
        check_image_reference(reference)
    assert repr(reference) in str(info.value) or reference == ""


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ({"": "x"}, "non-empty"),
        ({"has space": "x"}, "'has space'"),
        ({"-starts-with-dash": "x"}, "'-starts-with-dash'"),
        ({"Bad_Prefix.com/name": "x"}, "invalid prefix"),
        ({"k": "v" * 64}, "at most 63"),
        ({"k": "trailing-"}, "'trailing-'"),
        ({"k": 5}, "must be a string"),
    ],
)
def test_labels_kubernetes_would_reject(labels: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        check_labels(labels, "labels")


def test_valid_labels_and_free_form_annotations() -> None:
    labels = {"app": "web", "example.com/tier": "front-end_1", "empty": ""}
    assert check_labels(labels, "labels") == labels
    note = {"example.com/note": "any text at all, spaces and / slashes"}
    assert check_labels(note, "annotations", annotations=True) == note
    with pytest.raises(ValueError, match="256 KiB"):
        check_labels({"big": "x" * 300_000}, "annotations", annotations=True)


@pytest.mark.parametrize("bad", ["", "a/b", " padded", "x" * 254, None, 3])
def test_names(bad: object) -> None:
    with pytest.raises(ValueError, match="pod name"):
        check_name(bad, "pod name")


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("ls -l", "list of strings"),
        (b"ls", "list of strings"),
        ([], "must not be empty"),
        (["ls", 3], "items must be strings"),
        (["", "x"], "the program"),
        (["a\x00b"], "NUL"),
    ],
)
def test_commands(command: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        check_command(command, "cmd", allow_empty=False)


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "5", True])
def test_seconds(bad: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        check_seconds(bad, "timeout")
    assert check_seconds(0, "timeout") == 0.0
    with pytest.raises(ValueError, match="positive"):
        check_seconds(0, "timeout", allow_zero=False)


def test_high_level_calls_validate_before_any_rpc(sock: str) -> None:
    with FakeRuntime(sock, {}) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(ValueError, match="pod name"):
            cri.pods.run("")
        with pytest.raises(ValueError, match="namespace 'Bad_NS'"):
            cri.pods.run("web", namespace="Bad_NS")
        with pytest.raises(ValueError, match="labels key 'bad key'"):
            cri.pods.run("web", labels={"bad key": "v"})
        with pytest.raises(ValueError, match="not a valid image reference"):
            cri.images.pull("Bad Ref")
        with pytest.raises(ValueError, match="not a valid image reference"):
            cri.run("Bad Ref", name="x")
        with pytest.raises(ValueError, match="name must be a non-empty string"):
            cri.run("busybox", name="")
        # cri.run checks what pods.run and containers.create would, before its pull
        with pytest.raises(ValueError, match="namespace 'Bad_NS'"):
            cri.run("busybox", name="web", namespace="Bad_NS")
        with pytest.raises(ValueError, match="labels key 'bad key'"):
            cri.run("busybox", name="web", labels={"bad key": "v"})
        with pytest.raises(ValueError, match="log_directory must be an absolute path"):
            cri.run("busybox", name="web", log_directory="logs")
        with pytest.raises(ValueError, match="env"):
            cri.run("busybox", name="web", env={"": "x"})
        with pytest.raises(ValueError, match="command must be a list of strings"):
            cri.run("busybox", name="web", command="sleep 1")
        with pytest.raises(ValueError, match="container reference"):
            cri.containers.get("")
        with pytest.raises(ValueError, match="labels"):
            cri.pods.list(labels={"": "x"})
        assert fake.calls == []


def test_config_builders_refuse_bad_values() -> None:
    with pytest.raises(ValueError, match="cannot be set on a host-network pod"):
        pod_sandbox_config("web", host_network=True, hostname="web")
    with pytest.raises(ValueError, match="log_directory must be an absolute path"):
        pod_sandbox_config("web", log_directory="logs")
    with pytest.raises(ValueError, match="attempt"):
        pod_sandbox_config("web", attempt=-1)
    with pytest.raises(ValueError, match="working_dir"):
        container_config("c", "busybox", working_dir="tmp")
    with pytest.raises(ValueError, match="env entry 'A=B'"):
        container_config("c", "busybox", env={"A=B": "x"})
    with pytest.raises(ValueError, match="NUL byte"):
        container_config("c", "busybox", env={"A": "x\x00y"})
    with pytest.raises(ValueError, match="mount host_path must be an absolute path"):
        container_config("c", "busybox", mounts=[("relative", "/data")])
    with pytest.raises(ValueError, match="run_as_user"):
        container_config("c", "busybox", run_as_user=-5)


@pytest.mark.parametrize(
    "check",
    [
        lambda: check_image_reference("busybox:1.35\n"),
        lambda: check_image_reference("0\n"),  # found by test_properties' hypothesis run
        lambda: check_image_reference("a" * 64 + "\n"),
        lambda: check_name("web\n", "pod name"),
        lambda: check_labels({"app\n": "web"}, "labels"),
        lambda: check_labels({"app": "web\n"}, "labels"),
    ],
)
def test_a_trailing_newline_is_refused(check: Any) -> None:
    """Python's ``$`` also matches before a final newline; a name or reference with
    one is not valid, and the runtime would get it verbatim."""
    with pytest.raises(ValueError):
        check()
