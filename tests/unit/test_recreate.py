"""Configs read back from a runtime, the changes of a recreate, the next attempt's
config, and env values as text wherever a dict becomes a message.

The verbose answers in ``data/verbose/`` were captured from real containerd 1.6, 1.7
and 2.1 by ``scripts/capture_verbose_info.py`` (a container with env values
``demo``, ``10``, ``x``, ``a=b c`` and ``café``, a read-only mount, labels and
annotations). CRI-O's shape (no config, an OCI spec) is taken from its source.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from cri_client import CRIClient
from cri_client._core import recreate
from cri_client._proto import api_pb2 as pb
from cri_client.cli.config import load_container_config
from cri_client.cli.context import UsageError
from cri_client.configs import message_from_dict
from cri_client.errors import RecreateError

from .fake_runtime import FakeRuntime, Handler, abort_with

DATA = Path(__file__).parent / "data" / "verbose"
VERSIONS = ["1.6", "1.7", "2.1"]
ENV = {"MODE": b"demo", "COUNT": b"10", "ONE": b"x", "SPACED": b"a=b c", "ACCENT": "café".encode()}


def captured(version: str, kind: str) -> dict[str, str]:
    info: dict[str, str] = json.loads((DATA / f"containerd-{version}-{kind}.json").read_text())
    return info


def container_reply(version: str) -> pb.ContainerStatusResponse:
    return pb.ContainerStatusResponse(
        status=pb.ContainerStatus(id="c" * 64, metadata=pb.ContainerMetadata(name="main")),
        info=captured(version, "container"),
    )


# --- configs read back ------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_container_config_from_containerds_verbose_info(version: str) -> None:
    config = recreate.container_config_from(container_reply(version))

    assert {e.key: e.value for e in config.envs} == ENV
    assert [e.key for e in config.envs] == list(ENV)
    assert config.metadata == pb.ContainerMetadata(name="main", attempt=0)
    assert config.image.image.endswith("/busybox:1.35")
    assert config.image.user_specified_image == config.image.image  # 1.6 leaves it out
    assert (list(config.command), list(config.args)) == (["sh", "-c"], ["echo started; sleep 3600"])
    assert config.working_dir == "/tmp"
    [mount] = config.mounts
    assert (mount.container_path, mount.readonly) == ("/data", True)
    assert mount.host_path.startswith("/tmp/cri-client-capture-mount-")
    assert dict(config.labels) == {"app": "capture", "tier": "main"}
    assert dict(config.annotations) == {"note": "container annotation"}
    assert config.log_path == "main/0.log"
    assert config.linux.security_context.namespace_options.pid == pb.CONTAINER


@pytest.mark.parametrize("version", VERSIONS)
def test_sandbox_config_from_containerds_verbose_info(version: str) -> None:
    reply = pb.PodSandboxStatusResponse(info=captured(version, "pod"))

    config = recreate.sandbox_config_from(reply)

    assert config.metadata == pb.PodSandboxMetadata(
        name="capture", namespace="default", uid="0b5e1a7e-0000-4000-8000-000000000001"
    )
    assert config.hostname == "capture"
    assert config.log_directory.endswith("/pod-logs")
    assert dict(config.labels) == {"app": "capture"}
    assert dict(config.annotations) == {"note": "pod annotation"}
    assert config.linux.cgroup_parent == "/cri-client/pod0b5e1a7e-0000-4000-8000-000000000001"
    assert config.linux.security_context.namespace_options.pid == pb.CONTAINER


def test_a_config_protobufs_own_json_reader_would_garble() -> None:
    """What the trap was: protobuf's JSON mapping reads the captured env as base64."""
    written = json.loads(captured("2.1", "container")["info"])["config"]
    with pytest.raises(json_format.ParseError, match="base64"):
        json_format.ParseDict(written, pb.ContainerConfig(), ignore_unknown_fields=True)
    count = {"key": "COUNT", "value": "10"}
    assert json_format.ParseDict(count, pb.KeyValue()).value == b"\xd7"
    assert message_from_dict(count, pb.KeyValue).value == b"10"


def test_container_config_rebuilt_from_status_and_oci_spec_as_cri_o_reports_them() -> None:
    """CRI-O's verbose info: ``sandboxID``, ``pid``, ``runtimeSpec``, ``privileged``
    (server/container_status.go), no config."""
    spec = {
        "process": {
            "terminal": True,
            "args": ["sh", "-c", "sleep 1"],
            "env": ["PATH=/usr/bin:/bin", "MODE=demo", "COUNT=10", "EQ=a=b"],
            "cwd": "/srv",
        }
    }
    info = {"info": json.dumps({"sandboxID": "p" * 64, "pid": 42, "runtimeSpec": spec})}
    status = pb.ContainerStatus(
        id="c" * 64,
        metadata=pb.ContainerMetadata(name="app", attempt=2),
        image=pb.ImageSpec(image="quay.io/app:1"),
        labels={"app": "web"},
        annotations={"note": "n"},
        mounts=[pb.Mount(container_path="/data", host_path="/srv/data", readonly=True)],
        log_path="/var/log/pods/default_web_uid/app/2.log",
        resources=pb.ContainerResources(linux=pb.LinuxContainerResources(cpu_shares=512)),
    )

    config = recreate.container_config_from(pb.ContainerStatusResponse(status=status, info=info))

    assert config.metadata == status.metadata
    assert (config.image.image, config.image.user_specified_image) == ("quay.io/app:1",) * 2
    assert list(config.command) == ["sh", "-c", "sleep 1"] and not config.args
    assert [(e.key, e.value) for e in config.envs] == [
        ("PATH", b"/usr/bin:/bin"),
        ("MODE", b"demo"),
        ("COUNT", b"10"),
        ("EQ", b"a=b"),
    ]
    assert (config.working_dir, config.tty) == ("/srv", True)
    assert list(config.mounts) == list(status.mounts)
    assert (dict(config.labels), dict(config.annotations)) == ({"app": "web"}, {"note": "n"})
    assert config.linux.resources.cpu_shares == 512
    bare = recreate.container_config_from(pb.ContainerStatusResponse(status=status))
    assert bare.metadata == status.metadata and not bare.command and not bare.envs


def test_sandbox_config_rebuilt_from_the_status_without_a_config_in_info() -> None:
    status = pb.PodSandboxStatus(
        metadata=pb.PodSandboxMetadata(name="web", namespace="ns", uid="u", attempt=1),
        labels={"app": "web"},
    )
    status.linux.namespaces.options.network = pb.NODE
    config = recreate.sandbox_config_from(pb.PodSandboxStatusResponse(status=status))
    assert config.metadata == status.metadata and dict(config.labels) == {"app": "web"}
    assert config.linux.security_context.namespace_options.network == pb.NODE


# --- dicts to messages ------------------------------------------------------------------


def test_message_from_dict_keeps_text_and_bytes_and_reads_both_name_styles() -> None:
    config = message_from_dict(
        {
            "metadata": {"name": "a"},
            "envs": [{"key": "A", "value": "x"}, {"key": "B", "value": b"\xff\x00"}],
            "logPath": "a/0.log",
            "linux": {"securityContext": {"namespaceOptions": {"pid": "CONTAINER"}}},
            "labels": {"k": "v"},
            "unknownField": 1,
        },
        pb.ContainerConfig,
    )
    assert [(e.key, e.value) for e in config.envs] == [("A", b"x"), ("B", b"\xff\x00")]
    assert config.log_path == "a/0.log" and dict(config.labels) == {"k": "v"}
    assert config.linux.security_context.namespace_options.pid == pb.CONTAINER
    with pytest.raises(json_format.ParseError):
        message_from_dict({"envs": [{"key": "A", "value": 1}]}, pb.ContainerConfig)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cli_config_files_store_env_values_as_text(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"c.{fmt}"
    if fmt == "json":
        path.write_text(
            '{"metadata": {"name": "c"}, "image": {"image": "busybox"},'
            ' "envs": [{"key": "MODE", "value": "demo"}, {"key": "ONE", "value": "x"},'
            ' {"key": "COUNT", "value": "10"}]}'
        )
    else:
        path.write_text(
            "metadata: {name: c}\nimage: {image: busybox}\nenvs:\n"
            "- {key: MODE, value: demo}\n- {key: ONE, value: x}\n- {key: COUNT, value: '10'}\n"
        )
    config = load_container_config(str(path), warn=print)
    assert [(e.key, e.value) for e in config.envs] == [
        ("MODE", b"demo"),
        ("ONE", b"x"),
        ("COUNT", b"10"),
    ]
    path.write_text('{"metadata": {"name": "c"}, "image": {"image": "b"}, "envs": [{"value": 1}]}')
    with pytest.raises(UsageError, match="invalid container config"):
        load_container_config(str(path), warn=print)


# --- changes and the next attempt -------------------------------------------------------


def base_config() -> pb.ContainerConfig:
    return recreate.container_config_from(container_reply("2.1"))


def test_next_container_config_bumps_attempt_and_log_path_and_keeps_the_old() -> None:
    old = base_config()
    following = recreate.next_container_config(old, recreate.container_changes(), others=[])
    assert following.metadata == pb.ContainerMetadata(name="main", attempt=1)
    assert following.log_path == "main/1.log"
    again = recreate.next_container_config(following, recreate.ContainerChanges(), others=[])
    assert (again.metadata.attempt, again.log_path) == (2, "main/2.log")
    assert old.metadata.attempt == 0 and old.log_path == "main/0.log"
    following.ClearField("metadata")
    following.ClearField("log_path")
    old.ClearField("metadata")
    old.ClearField("log_path")
    assert following == old


def test_changes_replace_merge_and_remove() -> None:
    changes = recreate.container_changes(
        image="registry.example/app:2",
        command=["run"],
        args=["--fast"],
        working_dir="/srv",
        env={"MODE": "debug", "ONE": None, "NEW": b"\x01"},
        labels={"tier": None, "track": "canary"},
        annotations={"note": "changed", "extra": "a b"},
    )

    config = recreate.next_container_config(base_config(), changes, others=[])

    assert (config.image.image, config.image.user_specified_image) == (
        "registry.example/app:2",
    ) * 2
    assert (list(config.command), list(config.args), config.working_dir) == (
        ["run"],
        ["--fast"],
        "/srv",
    )
    assert [(e.key, e.value) for e in config.envs] == [
        ("MODE", b"debug"),
        ("COUNT", b"10"),
        ("SPACED", b"a=b c"),
        ("ACCENT", "café".encode()),
        ("NEW", b"\x01"),
    ]
    assert dict(config.labels) == {"app": "capture", "track": "canary"}
    assert dict(config.annotations) == {"note": "changed", "extra": "a b"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"image": "UPPER CASE"}, "is not a valid image reference"),
        ({"command": "sleep 1"}, "command must be a list"),
        ({"args": [1]}, "args items must be strings"),
        ({"working_dir": "relative"}, "working_dir must be an absolute path"),
        ({"env": {"A=B": "x"}}, "env entry 'A=B'"),
        ({"env": {"A": "x\x00"}}, "contains a NUL byte"),
        ({"env": {"A": 1}}, "needs a name without '=' and a str value"),
        ({"env": ["A=x"]}, "env must be a mapping"),
        ({"env": {"A=B": None}}, "env entry 'A=B'"),
        ({"labels": {"app": "not valid!"}}, "labels\\['app'\\] value"),
        ({"labels": {"": None}}, "labels"),
        ({"annotations": "x"}, "annotations must be a mapping"),
    ],
)
def test_changes_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        recreate.container_changes(**changes)


def test_latest_attempts_and_next_sandbox_config() -> None:
    def listed(name: str, attempt: int, created_at: int) -> pb.Container:
        return pb.Container(
            id=f"{name}{attempt}",
            metadata=pb.ContainerMetadata(name=name, attempt=attempt),
            created_at=created_at,
        )

    containers = [listed("web", 0, 1), listed("job", 0, 2), listed("web", 1, 3)]
    assert [c.id for c in recreate.latest_attempts(containers)] == ["job0", "web1"]
    sandbox = recreate.sandbox_config_from(pb.PodSandboxStatusResponse(info=captured("1.7", "pod")))
    following = recreate.next_sandbox_config(sandbox, others=[])
    assert (following.metadata.attempt, sandbox.metadata.attempt) == (1, 0)
    assert following.metadata.uid == sandbox.metadata.uid
    assert following.log_directory == sandbox.log_directory


def test_the_next_attempt_is_above_every_attempt_of_that_name_in_any_state() -> None:
    """Recreating attempt 0 while kubelet's attempt 1 of that name still exists (it
    keeps the previous, exited attempt) makes attempt 2: attempt 1 would collide."""
    old = base_config()  # "main", attempt 0
    others = [
        pb.Container(metadata=pb.ContainerMetadata(name="main", attempt=0)),
        pb.Container(
            metadata=pb.ContainerMetadata(name="main", attempt=1), state=pb.CONTAINER_EXITED
        ),
        pb.Container(metadata=pb.ContainerMetadata(name="sidecar", attempt=7)),
    ]
    following = recreate.next_container_config(old, recreate.ContainerChanges(), others=others)
    assert (following.metadata.attempt, following.log_path) == (2, "main/2.log")

    sandbox = recreate.sandbox_config_from(pb.PodSandboxStatusResponse(info=captured("2.1", "pod")))
    ours = sandbox.metadata

    def listed(attempt: int, **different: str) -> pb.PodSandbox:
        fields = {"name": ours.name, "namespace": ours.namespace, "uid": ours.uid, **different}
        return pb.PodSandbox(metadata=pb.PodSandboxMetadata(attempt=attempt, **fields))

    sandboxes = [
        listed(0),
        listed(3),
        listed(9, uid="another-uid"),
        listed(9, namespace="other"),
        listed(9, name="other"),
    ]
    assert recreate.next_sandbox_config(sandbox, others=sandboxes).metadata.attempt == 4


# --- a failure half-way (fault injection) -----------------------------------------------


POD_ID = "a" * 64


def new_id(name: str) -> str:
    """The id the fake gives the container it creates for ``name``."""
    return hashlib.sha256(name.encode()).hexdigest()


def recreating_runtime(
    log_directory: Path, containers: dict[str, str], **replaced: Handler
) -> dict[str, Handler]:
    """A ready pod ``POD_ID`` with running ``containers`` (name: id, created in that
    order), answering as containerd 2.1 (its captured verbose info, the pod's log
    directory moved to ``log_directory``), where every step of a recreate succeeds
    unless ``replaced`` answers it; a new container gets :func:`new_id`."""
    names = {ctr_id: name for name, ctr_id in containers.items()}
    created: dict[str, str] = {}
    container_details = json.loads(captured("2.1", "container")["info"])
    container_details["sandboxID"] = POD_ID
    pod_details = json.loads(captured("2.1", "pod")["info"])
    pod_details["config"]["log_directory"] = str(log_directory)

    def container_status(request: Any, context: Any) -> pb.ContainerStatusResponse:
        name = names.get(request.container_id) or created[request.container_id]
        details = {**container_details, "config": {**container_details["config"]}}
        details["config"]["metadata"] = {"name": name}
        state = pb.CONTAINER_RUNNING if request.container_id in names else pb.CONTAINER_CREATED
        return pb.ContainerStatusResponse(
            status=pb.ContainerStatus(
                id=request.container_id, metadata=pb.ContainerMetadata(name=name), state=state
            ),
            info={"info": json.dumps(details)} if request.verbose else {},
        )

    def create_container(request: Any, context: Any) -> pb.CreateContainerResponse:
        made = new_id(request.config.metadata.name)
        created[made] = request.config.metadata.name
        return pb.CreateContainerResponse(container_id=made)

    handlers: dict[str, Handler] = {
        "ContainerStatus": container_status,
        "PodSandboxStatus": lambda r, c: pb.PodSandboxStatusResponse(
            status=pb.PodSandboxStatus(
                id=POD_ID, metadata=pb.PodSandboxMetadata(name="capture", namespace="default")
            ),
            info={"info": json.dumps(pod_details)} if r.verbose else {},
        ),
        "ListContainers": lambda r, c: pb.ListContainersResponse(
            containers=[
                pb.Container(
                    id=ctr_id,
                    pod_sandbox_id=POD_ID,
                    metadata=pb.ContainerMetadata(name=name),
                    state=pb.CONTAINER_RUNNING,
                    created_at=order,
                )
                for order, (name, ctr_id) in enumerate(containers.items())
            ]
        ),
        "ListPodSandbox": lambda r, c: pb.ListPodSandboxResponse(),
        "ImageStatus": lambda r, c: pb.ImageStatusResponse(image=pb.Image(id="sha256:" + "1" * 64)),
        "StopContainer": lambda r, c: pb.StopContainerResponse(),
        "RemoveContainer": lambda r, c: pb.RemoveContainerResponse(),
        "CreateContainer": create_container,
        "StartContainer": lambda r, c: pb.StartContainerResponse(),
        "StopPodSandbox": lambda r, c: pb.StopPodSandboxResponse(),
        "RemovePodSandbox": lambda r, c: pb.RemovePodSandboxResponse(),
    }
    return {**handlers, **replaced}


def test_a_create_that_fails_after_the_removal_is_a_recreate_error(
    sock: str, tmp_path: Path
) -> None:
    ctr_id = "c" * 64
    handlers = recreating_runtime(
        tmp_path,
        {"main": ctr_id},
        CreateContainer=abort_with(grpc.StatusCode.RESOURCE_EXHAUSTED, "no space left on device"),
    )
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        ctr = cri.containers.get(ctr_id)
        with pytest.raises(RecreateError) as info:
            ctr.recreate(env={"MODE": "x"}, timeout=3)

    err = info.value
    assert str(err) == (
        f"CreateContainer(pod_sandbox_id={POD_ID}, name=main): RESOURCE_EXHAUSTED: "
        f"stopped and removed container {ctr_id[:13]} (main); "
        "creating the new container 'main' failed: no space left on device"
    )
    assert err.code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.removed == [ctr_id]
    assert isinstance(err.config, pb.ContainerConfig)
    assert (err.config.metadata.attempt, err.config.log_path) == (1, "main/1.log")
    assert {e.key: e.value for e in err.config.envs}["MODE"] == b"x"
    assert fake.calls == [
        "ContainerStatus",  # get()
        "ContainerStatus",  # config()
        "PodSandboxStatus",  # the pod and its config
        "ListContainers",  # the pod's containers: the attempts of that name
        "ImageStatus",  # before anything is stopped
        "StopContainer",
        "RemoveContainer",
        "CreateContainer",
    ]


def test_a_remove_that_fails_after_the_stop_says_the_container_is_stopped(
    sock: str, tmp_path: Path
) -> None:
    ctr_id = "c" * 64
    busy = abort_with(grpc.StatusCode.UNKNOWN, "device or resource busy")
    handlers = recreating_runtime(tmp_path, {"main": ctr_id}, RemoveContainer=busy)
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RecreateError) as info:
            cri.containers.recreate(ctr_id, timeout=0)

    err = info.value
    assert str(err) == (
        f"RemoveContainer(container_id={ctr_id}): UNKNOWN: stopped container "
        f"{ctr_id[:13]} (main); removing it failed: device or resource busy"
    )
    assert (err.removed, err.code, err.config.metadata.attempt) == ([], grpc.StatusCode.UNKNOWN, 1)
    assert fake.calls[-2:] == ["StopContainer", "RemoveContainer"]


def test_a_pod_whose_remove_fails_after_the_stop_says_it_is_stopped(
    sock: str, tmp_path: Path
) -> None:
    busy = abort_with(grpc.StatusCode.UNKNOWN, "device or resource busy")
    handlers = recreating_runtime(tmp_path, {"main": "c" * 64}, RemovePodSandbox=busy)
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RecreateError) as info:
            cri.pods.get(POD_ID).recreate(new_sandbox=True, timeout=0)

    err = info.value
    assert str(err) == (
        f"RemovePodSandbox(pod_sandbox_id={POD_ID}): UNKNOWN: stopped pod "
        f"{POD_ID[:13]} (default/capture) and its containers; "
        "removing it failed: device or resource busy"
    )
    assert err.removed == [] and isinstance(err.config, pb.PodSandboxConfig)
    assert (err.config.metadata.name, err.config.metadata.attempt) == ("capture", 1)
    assert fake.calls[-2:] == ["StopPodSandbox", "RemovePodSandbox"]  # no status between


def test_a_pod_whose_stop_fails_says_nothing_was_removed(sock: str, tmp_path: Path) -> None:
    refused = abort_with(grpc.StatusCode.UNKNOWN, "failed to destroy network")
    handlers = recreating_runtime(tmp_path, {"main": "c" * 64}, StopPodSandbox=refused)
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RecreateError) as info:
            cri.pods.get(POD_ID).recreate(new_sandbox=True, timeout=0)

    err = info.value
    assert str(err) == (
        f"StopPodSandbox(pod_sandbox_id={POD_ID}): UNKNOWN: nothing was removed; stopping "
        f"pod {POD_ID[:13]} (default/capture) and its containers failed: failed to destroy "
        "network; the pod and its containers remain, some of them may be stopped"
    )
    assert err.removed == [] and isinstance(err.config, pb.PodSandboxConfig)
    assert err.config.metadata.attempt == 1 and err.code == grpc.StatusCode.UNKNOWN
    assert fake.calls[-1] == "StopPodSandbox" and "RemovePodSandbox" not in fake.calls


def test_a_start_failure_stays_the_error_when_removing_the_new_container_fails_too(
    sock: str, tmp_path: Path
) -> None:
    ctr_id, made = "c" * 64, new_id("main")

    def remove_container(request: Any, context: Any) -> pb.RemoveContainerResponse:
        if request.container_id == made:
            context.abort(grpc.StatusCode.UNKNOWN, "shim is gone")
        return pb.RemoveContainerResponse()

    handlers = recreating_runtime(
        tmp_path,
        {"main": ctr_id},
        StartContainer=abort_with(grpc.StatusCode.UNKNOWN, "exec: no such file"),
        RemoveContainer=remove_container,
    )
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RecreateError) as info:
            cri.containers.recreate(ctr_id, command=["/missing"], timeout=0)

    err = info.value
    assert str(err) == (
        f"StartContainer(container_id={made}): UNKNOWN: stopped and removed container "
        f"{ctr_id[:13]} (main); created container {made[:13]} (main); starting it failed: "
        f"exec: no such file; removing it again failed too: shim is gone; the new "
        f"container {made} may remain"
    )
    assert (err.rpc, err.removed, list(err.config.command)) == (
        "StartContainer",
        [ctr_id],
        ["/missing"],
    )
    assert fake.calls[-3:] == ["StartContainer", "ContainerStatus", "RemoveContainer"]


def test_a_plain_failure_after_containers_were_recreated_says_which(
    sock: str, tmp_path: Path
) -> None:
    web, job = "b" * 64, "c" * 64

    def stop_container(request: Any, context: Any) -> pb.StopContainerResponse:
        if request.container_id == job:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "stop timed out")
        return pb.StopContainerResponse()

    handlers = recreating_runtime(tmp_path, {"web": web, "job": job}, StopContainer=stop_container)
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RecreateError) as info:
            cri.pods.get(POD_ID).recreate(timeout=0)

    err = info.value
    assert str(err) == (
        f"StopContainer(container_id={job}): DEADLINE_EXCEEDED: recreated 'web' in pod "
        f"{POD_ID[:13]} (default/capture); stopping container {job[:13]} (job) failed: "
        "stop timed out"
    )
    assert err.removed == [web] and err.config.metadata.name == "job"
    assert fake.calls.count("StartContainer") == 1 and fake.calls[-1] == "StopContainer"


def test_cli_env_flags() -> None:
    from cri_client.cli.config import parse_env

    assert parse_env(["A=1", "B=x=y", "C=", "D-"]) == {"A": "1", "B": "x=y", "C": "", "D": None}
    assert parse_env(None) == {}
    for wrong in ("NOEQUALS", "-"):
        with pytest.raises(UsageError, match="must be KEY=VALUE"):
            parse_env([wrong])


def test_the_low_level_form_refuses_text_for_an_env_value_instead_of_garbling_it() -> None:
    from cri_client._api import CREATE_CONTAINER
    from cri_client._rpc import build_request

    with pytest.raises(TypeError, match=r"CreateContainer: .*bytes"):
        build_request(CREATE_CONTAINER, None, {"config": {"envs": [{"key": "A", "value": "x"}]}})
    request = build_request(
        CREATE_CONTAINER, None, {"config": {"envs": [{"key": "A", "value": b"10"}]}}
    )
    assert request.config.envs[0].value == b"10"
