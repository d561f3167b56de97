"""The command line without a runtime: crictl's output shapes, files and flag values."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from cri_client._proto import api_pb2 as pb
from cri_client.cli import output
from cri_client.cli.commands.images import filter_images, repo_and_digest, repo_tag_pairs
from cri_client.cli.commands.streams import parse_port_spec
from cri_client.cli.config import (
    load_container_config,
    load_pod_config,
    parse_duration,
    parse_labels,
    parse_since,
)
from cri_client.cli.context import UsageError
from cri_client.cli.main import build_parser, command_named, main, run


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC, as on the test machines (crictl prints local times)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


# --- tables -------------------------------------------------------------------------------


def test_table_is_tabwriter_with_crictls_settings() -> None:
    rows = [
        ["POD ID", "CREATED", "STATE", "NAME"],
        ["f84dd361f8dc5", "About a minute ago", "Ready", "nginx-sandbox"],
    ]
    assert output.render_table(rows) == (
        "POD ID              CREATED              STATE               NAME\n"
        "f84dd361f8dc5       About a minute ago   Ready               nginx-sandbox\n"
    )


def test_table_pads_to_the_widest_cell_plus_three_and_leaves_the_last_unpadded() -> None:
    rows = [["A", "B"], ["x" * 25, "last"]]
    text = output.render_table(rows)
    assert text.splitlines() == ["A" + " " * 27 + "B", "x" * 25 + "   last"]
    assert output.render_table([["ONLY"]]) == "ONLY\n"


def test_ids_are_truncated_to_13_characters() -> None:
    full = "3e025dd50a72d956c4f14881fbb5b1080c9275674e95fb67f965f6478a957d60"
    assert output.truncate_id(full) == "3e025dd50a72d"
    assert output.truncate_id("sha256:" + full, "sha256:") == "3e025dd50a72d"
    assert output.truncate_id("short") == "short"


# --- sizes and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "precision", "text"),
    [
        (0, 4, "0B"),
        (999, 4, "999B"),
        (1000, 4, "1kB"),
        (742_000, 3, "742kB"),
        (1_088_973, 4, "1.089MB"),
        (1_088_973, 3, "1.09MB"),
        (1_150_000, 3, "1.15MB"),
        (5 * 10**12, 4, "5TB"),
    ],
)
def test_sizes_are_go_units_human_size(size: int, precision: int, text: str) -> None:
    assert output.human_size(size, precision) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "Less than a second"),
        (-5, "Less than a second"),
        (1.9, "1 second"),
        (17, "17 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (59 * 60, "59 minutes"),
        (60 * 60, "About an hour"),
        (89 * 60, "About an hour"),
        (91 * 60, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (15 * 86400, "2 weeks"),
        (70 * 86400, "2 months"),
        (800 * 86400, "2 years"),
    ],
)
def test_durations_are_go_units_human_duration(seconds: float, text: str) -> None:
    assert output.human_duration(seconds) == text


def test_ago_uses_cri_nanoseconds() -> None:
    created = 1_700_000_000 * 10**9
    assert output.ago(created, now=1_700_000_000 + 150) == "2 minutes ago"


def test_rfc3339nano_is_gos_format_in_the_local_zone(utc: None) -> None:
    base = int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp())
    assert output.rfc3339nano(base * 10**9 + 123456789) == "2026-01-02T03:04:05.123456789Z"
    assert output.rfc3339nano(base * 10**9 + 500_000_000) == "2026-01-02T03:04:05.5Z"
    assert output.rfc3339nano(base * 10**9) == "2026-01-02T03:04:05Z"
    assert output.rfc3339nano(0) == "1970-01-01T00:00:00Z"
    assert output.go_time(base * 10**9 + 10) == "2026-01-02 03:04:05.00000001 +0000 UTC"
    os.environ["TZ"] = "CET-1"
    time.tzset()
    assert output.rfc3339nano(base * 10**9) == "2026-01-02T04:04:05+01:00"


def test_go_map_is_sorted() -> None:
    assert output.go_map({"b": "2", "a": "1"}) == "map[a:1 b:2]"
    assert output.go_map({}) == "map[]"


# --- JSON and YAML ----------------------------------------------------------------------------


def test_proto_dict_is_protobuf_json_with_defaults_in_declaration_order() -> None:
    reply = pb.ListPodSandboxResponse(
        items=[
            pb.PodSandbox(
                id="abc",
                metadata=pb.PodSandboxMetadata(name="web", namespace="default", uid="u"),
                state=pb.SANDBOX_READY,
                created_at=1795851291733855838,
                labels={"app": "web"},
            )
        ]
    )
    document = output.proto_dict(reply)
    item = document["items"][0]
    assert list(item) == [
        "id",
        "metadata",
        "state",
        "createdAt",
        "labels",
        "annotations",
        "runtimeHandler",
    ]
    assert item["createdAt"] == "1795851291733855838"  # int64: a string
    assert item["state"] == "SANDBOX_READY"  # the zero value is emitted, by name
    assert item["metadata"] == {"name": "web", "uid": "u", "namespace": "default", "attempt": 0}
    assert item["annotations"] == {} and item["runtimeHandler"] == ""
    assert output.proto_dict(pb.ListPodSandboxResponse()) == {"items": []}


def test_proto_dict_leaves_unset_messages_out_and_keeps_wrappers() -> None:
    stats = pb.ContainerStats(
        attributes=pb.ContainerAttributes(id="c"),
        cpu=pb.CpuUsage(timestamp=5, usage_core_nano_seconds=pb.UInt64Value(value=7)),
    )
    document = output.proto_dict(stats)
    assert "memory" not in document and "writableLayer" not in document
    assert document["cpu"] == {"timestamp": "5", "usageCoreNanoSeconds": {"value": "7"}}


def test_go_json_dict_is_encoding_json_with_omitempty() -> None:
    handler = pb.RuntimeHandler(
        name="runc", features=pb.RuntimeHandlerFeatures(recursive_read_only_mounts=True)
    )
    assert output.go_json_dict(handler) == {
        "name": "runc",
        "features": {"recursive_read_only_mounts": True},
    }
    assert output.go_json_dict(pb.RuntimeHandler(features=pb.RuntimeHandlerFeatures())) == {
        "features": {}
    }
    assert output.go_json_dict(pb.RuntimeFeatures()) == {}


def test_status_document_wraps_status_and_decodes_info_like_crictl() -> None:
    info = {"info": '{"pid": 42, "config": {"a": 1}}', "golang": '"go1.22"', "plain": "x"}
    document = output.status_document({"id": "abc"}, info, {"features": {}})
    assert document == {
        "status": {"id": "abc"},
        "features": {},
        "golang": "go1.22",
        "info": {"pid": 42, "config": {"a": 1}},
        "plain": "x",
    }
    assert output.status_document(None, {"broken": "{not json"}) == {"broken": "{not json"}


def test_status_document_numbers_go_through_float64_as_in_crictl() -> None:
    """What Go 1.19 printed for ``json.Marshal`` of the same JSON decoded into ``map[string]any``:
    ``{"big":9223372036854776000,"f":100,"g":1.5,"h":1e+21,"n":1234567,"neg":-5}``."""
    text = '{"big": 9223372036854775807, "f": 100.0, "g": 1.5, "h": 1e21, "n": 1234567, "neg": -5}'
    document = output.status_document(None, {"info": text})
    assert json.dumps(document["info"], separators=(",", ":"), sort_keys=True) == (
        '{"big":9223372036854776000,"f":100,"g":1.5,"h":1e+21,"n":1234567,"neg":-5}'
    )


def test_documents_are_written_as_json_or_sorted_yaml() -> None:
    out = io.StringIO()
    output.write_document({"b": "1", "a": [1, 2]}, "json", out, sort_keys=True)
    assert out.getvalue() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "1"\n}\n'
    out = io.StringIO()
    output.write_document({"items": [], "b": {"z": "123", "y": True}}, "yaml", out)
    assert out.getvalue() == "b:\n  y: true\n  z: '123'\nitems: []\n"
    assert yaml.safe_load(out.getvalue())["b"]["z"] == "123"


# --- images -----------------------------------------------------------------------------------


def test_repo_tag_and_digest_pairs_as_crictl_normalizes_them() -> None:
    digests = ["docker.io/library/busybox@sha256:abc"]
    assert repo_and_digest(digests) == ("docker.io/library/busybox", "sha256:abc")
    assert repo_and_digest([]) == ("<none>", "<none>")
    assert repo_and_digest(["no-at-sign"]) == ("errorName", "errorRepoDigest")
    assert repo_tag_pairs(["127.0.0.1:5000/busybox:1.35"], "x") == [
        ("127.0.0.1:5000/busybox", "1.35")
    ]
    assert repo_tag_pairs([], "docker.io/library/busybox") == [
        ("docker.io/library/busybox", "<none>")
    ]


class _Image:
    """What the image filters read of :class:`cri_client.Image`."""

    def __init__(self, image_id: str, tags: list[str], digests: list[str]) -> None:
        self.id, self.repo_tags, self.repo_digests = image_id, tags, digests


def test_image_filters() -> None:
    tagged = _Image("sha256:aaa", ["reg/app:1"], ["reg/app@sha256:1"])
    dangling = _Image("sha256:bbb", [], ["reg/old@sha256:2"])
    other = _Image("sha256:ccc", ["reg/db:2"], ["reg/db@sha256:3"])
    images = [tagged, dangling, other]
    assert filter_images(images, ["dangling=true"]) == [dangling]  # type: ignore[arg-type]
    assert filter_images(images, ["dangling=false"]) == [tagged, other]  # type: ignore[arg-type]
    assert filter_images(images, ["reference=app"]) == [tagged]  # type: ignore[arg-type]
    assert filter_images(images, ["since=reg/app:1"]) == []  # type: ignore[arg-type]
    # crictl's before/since keep what is listed after/before the named image
    assert filter_images(images, ["before=reg/app:1"]) == [dangling, other]  # type: ignore[arg-type]
    assert filter_images(images, ["since=reg/db:2"]) == [tagged, dangling]  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="unknown filter"):
        filter_images(images, ["colour=red"])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="dangling"):
        filter_images(images, ["dangling=maybe"])  # type: ignore[arg-type]


# --- files and flag values ----------------------------------------------------------------------


def test_pod_and_container_configs_in_crictls_formats(tmp_path: Path) -> None:
    warnings: list[str] = []
    pod_json = tmp_path / "pod.json"
    pod_json.write_text(
        '{"metadata": {"name": "nginx-sandbox", "namespace": "default", "attempt": 1,'
        ' "uid": "hdishd83djaidwnduwk28bcsb"}, "log_directory": "/tmp", "linux": {}}'
    )
    pod = load_pod_config(str(pod_json), warnings.append)
    assert (pod.metadata.name, pod.metadata.attempt, pod.log_directory) == (
        "nginx-sandbox",
        1,
        "/tmp",
    )
    pod_yaml = tmp_path / "pod.yaml"
    pod_yaml.write_text(
        "metadata:\n  name: s\n  namespace: default\nlog_directory: /tmp\n"
        "linux:\n  namespaces:\n    options: {}\n"
    )
    generated = load_pod_config(str(pod_yaml), warnings.append)
    assert len(generated.metadata.uid) == 36  # crictl makes up a UUID when there is none
    assert warnings == [f"{pod_yaml}: ignoring unknown field linux.namespaces"]

    container_yaml = tmp_path / "container.yaml"
    container_yaml.write_text(
        "metadata:\n  name: busybox\nimage:\n  image: docker.io/busybox:latest\n"
        "command:\n  - top\nlog_path: busybox.0.log\nlinux:\n  security_context:\n"
        "    namespace_options:\n      pid: 1\n"
    )
    container = load_container_config(str(container_yaml), warnings.append)
    assert list(container.command) == ["top"] and container.log_path == "busybox.0.log"
    assert container.image.user_specified_image == "docker.io/busybox:latest"
    assert container.linux.security_context.namespace_options.pid == pb.CONTAINER
    camel = tmp_path / "camel.json"
    camel.write_text('{"metadata": {"name": "x"}, "image": {"image": "i"}, "logPath": "x.log"}')
    assert load_container_config(str(camel), warnings.append).log_path == "x.log"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"metadata": {"name": "x",}', "invalid JSON"),
        ("metadata: [unclosed\n", "invalid YAML"),
        ("", "this one is empty"),
        ("- a\n", "this one is a list"),
        ("log_directory: /tmp\n", "metadata is not set"),
        ("metadata:\n  name: x\n", "needs a name and a namespace"),
        ('{"metadata": {"name": "x", "namespace": "y", "attempt": -1}}', "invalid pod config"),
    ],
)
def test_malformed_pod_configs_are_usage_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "pod-config"
    path.write_text(text)
    with pytest.raises(UsageError, match=problem) as info:
        load_pod_config(str(path), print)
    assert str(path) in str(info.value)


def test_malformed_container_configs_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "container.yaml"
    path.write_text("metadata:\n  name: x\n")
    with pytest.raises(UsageError, match=r"image\.image is not set"):
        load_container_config(str(path), print)
    path.write_text("image:\n  image: busybox\nmetadata: {}\n")
    with pytest.raises(UsageError, match="needs a name"):
        load_container_config(str(path), print)


def test_flag_values() -> None:
    assert parse_labels(["a=b", "c="]) == {"a": "b", "c": ""}
    assert parse_labels(["a=b,c=d"]) == {"a": "b", "c": "d"}
    with pytest.raises(UsageError, match="incorrectly specified label 'a=b=c'"):
        parse_labels(["a=b=c"])
    assert parse_duration("2s", "-t") == 2.0
    assert parse_duration("1m30s", "-t") == 90.0
    assert parse_duration("500ms", "-t") == 0.5
    assert parse_duration("1.5h", "-t") == 5400.0
    assert parse_duration("30", "-t") == 30.0
    with pytest.raises(UsageError, match="invalid duration"):
        parse_duration("30", "-t", bare_seconds=False)
    with pytest.raises(UsageError, match="invalid duration 'soon'"):
        parse_duration("soon", "-t")
    assert parse_port_spec("8080") == (8080, 8080)
    assert parse_port_spec("8080:80") == (8080, 80)
    assert parse_port_spec(":80") == (0, 80)
    with pytest.raises(UsageError):
        parse_port_spec("http")


def test_since_takes_durations_times_and_unix_seconds() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_since("42m", now) == now - timedelta(minutes=42)
    assert parse_since("2013-01-02T13:23:37Z", now) == datetime(
        2013, 1, 2, 13, 23, 37, tzinfo=timezone.utc
    )
    assert parse_since("2013-01-02T13:23:37.123456789+01:00", now).microsecond == 123456
    assert parse_since("1136073600.5", now) == datetime(
        2006, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc
    )
    assert parse_since("2013-01-02", now).tzinfo is not None  # local time
    with pytest.raises(UsageError, match="--since"):
        parse_since("yesterday", now)


# --- the command line, before any RPC -----------------------------------------------------------


@pytest.fixture
def empty_crictl_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A config file named by CRI_CONFIG_FILE must exist (as for crictl)."""
    monkeypatch.setenv("CRI_CONFIG_FILE", os.devnull)


def test_only_the_named_commands_parser_is_built() -> None:
    assert command_named(["-r", "/x.sock", "-D", "ps", "-a"]) == "ps"
    assert command_named(["--timeout", "5s", "-c", "f.yaml", "img", "busybox"]) == "img"
    assert command_named(["-h", "ps"]) is None
    assert command_named(["-D"]) is None
    assert command_named(["--version"]) is None
    parser = build_parser("img")
    assert parser.parse_args(["img", "-q"]).quiet is True
    with pytest.raises(SystemExit):
        parser.parse_args(["pods"])  # not built
    everything = build_parser("no-such-command")
    assert everything.parse_args(["pods", "-q"]).quiet is True


def test_usage_errors_exit_1_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], empty_crictl_config: None
) -> None:
    bad = tmp_path / "pod.json"
    bad.write_text("{")
    nowhere = ["-r", f"unix://{tmp_path}/absent.sock"]
    assert main([*nowhere, "runp", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"cri-client: {bad}: invalid JSON")
    assert main([*nowhere, "pods", "--label", "app in (a"]) == 1
    assert "unbalanced parentheses in label selector" in capsys.readouterr().err
    assert main([*nowhere, "-t", "forever", "version"]) == 1
    with pytest.raises(SystemExit) as exited:
        main([*nowhere, "pods", "--state", "gone"])
    assert exited.value.code == 1
    assert "'gone' is not one of ready, notready" in capsys.readouterr().err


def test_no_command_prints_the_help_with_exit_0_as_crictl(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: cri-client ")
    assert "checkpoint" in captured.out and "batch" in captured.out
    assert captured.err == ""


def test_an_unreachable_runtime_is_exit_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], empty_crictl_config: None
) -> None:
    assert main(["-c", str(tmp_path / "absent.yaml"), "version"]) == 1
    assert "absent.yaml: No such file" in capsys.readouterr().err
    assert main(["-r", f"unix://{tmp_path}/absent.sock", "version"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_run_flushes_freezes_and_exits_through_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], empty_crictl_config: None
) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(sys, "argv", ["cri-client", "-t", "forever", "version"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert (exited.value.code, frozen) == (1, [True])
    assert (
        capsys.readouterr().err
        == "cri-client: --timeout: invalid duration 'forever' (use e.g. 10s, 1m30s, 500ms)\n"
    )
    monkeypatch.setattr(sys, "argv", ["cri-client", "--version"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert (exited.value.code, frozen) == (0, [True, True])
    assert capsys.readouterr().out.startswith("cri-client version ")


def test_the_process_exit_codes_and_output(tmp_path: Path) -> None:
    """The real exit path (the interpreter's shutdown after run()): exit 1 with one
    line; a closed stdout is 141 with nothing on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as installed
    env["CRI_CONFIG_FILE"] = os.devnull
    command = [sys.executable, "-m", "cri_client"]
    done = subprocess.run(
        [*command, "-r", f"unix://{tmp_path}/absent.sock", "version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr.count("\n")) == (1, "", 1)
    assert done.stderr.startswith(f"cri-client: Version: socket {tmp_path}/absent.sock does not")
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout fails: EPIPE
    try:
        done = subprocess.run(
            [*command, "--version"], env=env, stdout=write_end, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")


def test_json_output_of_a_listing_parses_as_crictls(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    reply = pb.ListContainersResponse(containers=[pb.Container(id="c", state=pb.CONTAINER_EXITED)])
    output.write_document(output.proto_dict(reply), "json", out)
    parsed = json.loads(out.getvalue())
    assert parsed["containers"][0]["state"] == "CONTAINER_EXITED"
    assert parsed["containers"][0]["createdAt"] == "0"
