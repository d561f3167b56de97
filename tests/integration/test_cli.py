"""The ``cri-client`` command line, run as a subprocess against a real containerd.

Every command is run the way a node script runs it (``python -m cri_client -r
<socket> ...``), and its JSON is checked against the shapes crictl documents and
emits: protobuf's JSON mapping (camelCase, 64-bit integers as strings, enum names),
``{"items": [...]}`` for ``pods``, ``{"status": ..., "info": ...}`` for ``inspect*``.
The pod and container config files are crictl's own examples
(``kubernetes-sigs/cri-tools``, ``docs/examples/``), with the image, names, log
directory and labels changed so that they run here and are cleaned up.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from cri_client import Container, CRIClient, Pod
from cri_client.configs import container_config
from cri_client.errors import ExecTimeoutError

from .conftest import RuntimeUnderTest

ID = re.compile(r"^[0-9a-f]{64}$")
SHORT_ID = re.compile(r"^[0-9a-f]{13}$")
INT64 = re.compile(r"^-?\d+$")

# crictl's examples, verbatim but for the image (docs/examples/*.json, *.yaml).
CRICTL_POD_CONFIG_JSON = """{
  "metadata": {
    "name": "busybox-sandbox",
    "namespace": "default",
    "attempt": 1,
    "uid": "hdishd83djaidwnduwk28bcsb"
  },
  "log_directory": "/tmp",
  "linux": {}
}
"""
CRICTL_POD_CONFIG_YAML = """metadata:
  attempt: 1
  name: busybox-sandbox
  namespace: default
  uid: hdishd83djaidwnduwk28bcsb
log_directory: /tmp
linux:
  namespaces:
    options: {}
"""
CRICTL_CONTAINER_CONFIG_JSON = """{
  "metadata": {
    "name": "busybox"
  },
  "image": {
    "image": "docker.io/busybox"
  },
  "command": ["top"],
  "log_path": "busybox.0.log",
  "linux": {}
}
"""
CRICTL_CONTAINER_CONFIG_YAML = """metadata:
  name: busybox
image:
  image: docker.io/busybox:latest
command:
  - top
log_path: busybox.0.log
"""


# --- running the command line -----------------------------------------------------------


def cli_env() -> dict[str, str]:
    """The caller's environment without what would choose an endpoint or config for us."""
    env = dict(os.environ)
    for name in ("CONTAINER_RUNTIME_ENDPOINT", "IMAGE_SERVICE_ENDPOINT", "CRI_CONFIG_FILE"):
        env.pop(name, None)
    env["CRI_CONFIG_FILE"] = "/dev/null"  # an empty config: never the machine's own
    return env


def command(runtime: RuntimeUnderTest | None, *args: str) -> list[str]:
    endpoint = ["-r", runtime.endpoint] if runtime is not None else []
    return [sys.executable, "-m", "cri_client", *endpoint, *args]


def cli(
    runtime: RuntimeUnderTest | None,
    *args: str,
    code: int | None = 0,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m cri_client -r <endpoint> *args``; check the exit code (unless
    None) and that no traceback was printed."""
    done = subprocess.run(
        command(runtime, *args),
        input=stdin,
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
    )
    assert "Traceback" not in done.stderr, done.stderr
    if code is not None:
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return done


def cli_json(runtime: RuntimeUnderTest, *args: str) -> Any:
    return json.loads(cli(runtime, *args).stdout)


def table(output: str) -> list[list[str]]:
    """A crictl table's cells: columns are separated by at least 3 spaces."""
    return [re.split(r"\s{3,}", line.rstrip()) for line in output.splitlines() if line.strip()]


def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return False
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).tzinfo is not None


# --- fixtures ---------------------------------------------------------------------------


def crictl_pod_config(
    text: str, name: str, labels: dict[str, str], log_dir: str, fmt: str
) -> dict[str, Any]:
    """crictl's example pod config, made unique, labelled, logging to ``log_dir``."""
    data: dict[str, Any] = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    data["metadata"]["name"] = name
    data["metadata"]["uid"] = name + "-uid"
    data["log_directory"] = log_dir
    data["labels"] = dict(labels)
    return data


def crictl_container_config(
    text: str, image: str, fmt: str, command: Sequence[str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    data["image"]["image"] = image
    if command is not None:
        data["command"] = list(command)
    return data


def write(path: Path, data: dict[str, Any], fmt: str) -> str:
    path.write_text(yaml.safe_dump(data) if fmt == "yaml" else json.dumps(data, indent=2))
    return str(path)


def sleeper(
    cri: CRIClient, runtime: RuntimeUnderTest, labels: dict[str, str], log_dir: str, name: str
) -> Container:
    """A pod made by the library (it has a cgroup parent: pod stats work) and a
    container that runs until stopped."""
    pod = cri.pods.run(name, labels=labels, log_directory=log_dir)
    ctr = cri.containers.create(
        pod,
        name,
        runtime.busybox_image,
        command=["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        labels=labels,
    )
    return ctr.start()


# --- runtime ------------------------------------------------------------------------------


def test_version_and_info(runtime: RuntimeUnderTest) -> None:
    lines = cli(runtime, "version").stdout.splitlines()
    assert lines[0] == "Version:  0.1.0"
    assert lines[1] == "RuntimeName:  containerd"
    assert lines[2].startswith("RuntimeVersion:  ") and runtime.version in lines[2]
    assert lines[3] == "RuntimeApiVersion:  v1"
    version = cli_json(runtime, "version", "-o", "json")
    assert version["runtimeName"] == "containerd" and version["runtimeApiVersion"] == "v1"

    info = cli_json(runtime, "info")
    conditions = {c["type"]: c for c in info["status"]["conditions"]}
    assert conditions["RuntimeReady"]["status"] is True
    assert set(conditions["NetworkReady"]) == {"type", "status", "reason", "message"}
    assert isinstance(info["config"], dict) and info["config"]  # containerd's CRI config
    assert list(info) == sorted(info)  # crictl marshals a Go map: sorted keys
    if runtime.version == "2.1":
        handlers = info["runtimeHandlers"]  # Go encoding/json: snake_case, omitempty
        assert {h.get("name", "") for h in handlers} >= {"", "runc", "runsc"}
        assert all(set(h) <= {"name", "features"} for h in handlers)
        assert isinstance(info["features"], dict)
    else:
        assert "runtimeHandlers" not in info
    quiet = cli_json(runtime, "info", "-q")
    assert set(quiet) <= {"status", "runtimeHandlers", "features"} and "config" not in quiet
    assert yaml.safe_load(cli(runtime, "info", "-q", "-o", "yaml").stdout) == quiet


# --- pods ---------------------------------------------------------------------------------


def test_pod_lifecycle_with_crictls_json_config(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    name = "sandbox-" + suite["suite"]
    data = crictl_pod_config(CRICTL_POD_CONFIG_JSON, name, suite, log_dir, "json")
    config = write(tmp_path / "pod-config.json", data, "json")
    done = cli(runtime, "runp", config)
    pod_id = done.stdout.strip()
    assert ID.match(pod_id) and done.stdout == pod_id + "\n" and done.stderr == ""
    label = f"--label=suite={suite['suite']}"

    listed = cli_json(runtime, "pods", label, "-o", "json")
    assert list(listed) == ["items"] and len(listed["items"]) == 1
    item = listed["items"][0]
    assert item["id"] == pod_id and item["state"] == "SANDBOX_READY"
    assert item["metadata"] == {
        "name": name,
        "uid": name + "-uid",
        "namespace": "default",
        "attempt": 1,
    }
    assert INT64.match(item["createdAt"])  # int64: a string in protobuf's JSON mapping
    assert item["labels"] == suite and item["annotations"] == {}
    assert item["runtimeHandler"] == ""
    assert yaml.safe_load(cli(runtime, "pods", label, "-o", "yaml").stdout) == listed

    rows = table(cli(runtime, "pods", label).stdout)
    assert rows[0] == ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]
    assert rows[1][0] == pod_id[:13] and rows[1][1].endswith(" ago")
    assert rows[1][2:] == ["Ready", name, "default", "1", "(default)"]
    assert table(cli(runtime, "pods", label, "--no-trunc").stdout)[1][0] == pod_id
    assert cli(runtime, "pods", label, "-q").stdout == pod_id + "\n"
    assert cli(runtime, "pods", "-q", "--name", f"^{name}$").stdout == pod_id + "\n"
    assert cli(runtime, "pods", "-q", "--id", pod_id[:8], "--namespace", "^def").stdout == (
        pod_id + "\n"
    )
    assert cli(runtime, "pods", label, "-q", "--state", "NotReady").stdout == ""
    verbose = cli(runtime, "pods", label, "-v").stdout
    assert f"ID: {pod_id}\nName: {name}\nUID: {name}-uid\nNamespace: default\n" in verbose
    assert "Status: Ready\n" in verbose and f"\tsuite -> {suite['suite']}\n" in verbose

    inspected = cli_json(runtime, "inspectp", pod_id[:12])
    assert list(inspected) == sorted(inspected) and {"status", "info"} <= set(inspected)
    status = inspected["status"]
    assert status["id"] == pod_id and status["state"] == "SANDBOX_READY"
    assert is_rfc3339(status["createdAt"])  # crictl turns createdAt into RFC 3339
    assert status["metadata"]["name"] == name and status["labels"] == suite
    assert re.match(r"^\d+\.\d+\.\d+\.\d+$", status["network"]["ip"])
    assert isinstance(inspected["info"], dict)  # the runtime's JSON, decoded
    assert inspected["info"]["config"]["metadata"]["name"] == name
    assert "info" not in cli_json(runtime, "inspectp", "-q", name)
    assert "Status: SANDBOX_READY\n" in cli(runtime, "inspectp", "-o", "table", name).stdout
    by_filter = cli_json(runtime, "inspectp", label, "--name", name, "-q")
    assert by_filter["status"]["id"] == pod_id

    assert cli(runtime, "rmp", pod_id, code=1).stderr.count("please stop it first") == 1
    assert cli(runtime, "stopp", name).stdout == f"Stopped sandbox {name}\n"
    assert cli(runtime, "pods", label, "-q", "--state", "notready").stdout == pod_id + "\n"
    assert cli(runtime, "rmp", pod_id).stdout == f"Removed sandbox {pod_id}\n"
    assert cli(runtime, "pods", label, "-q").stdout == ""
    assert re.search("not.found", cli(runtime, "inspectp", pod_id, code=1).stderr, re.I)


def test_rmp_force_stops_first(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    name = "force-" + suite["suite"]
    data = crictl_pod_config(CRICTL_POD_CONFIG_YAML, name, suite, log_dir, "yaml")
    pod_id = cli(runtime, "runp", write(tmp_path / "pod.yaml", data, "yaml")).stdout.strip()
    removed = cli(runtime, "rmp", "-f", pod_id)
    assert removed.stdout == f"Stopped sandbox {pod_id}\nRemoved sandbox {pod_id}\n"


# --- containers --------------------------------------------------------------------------


def test_container_lifecycle_with_crictls_yaml_configs(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    name = "yaml-" + suite["suite"]
    pod_data = crictl_pod_config(CRICTL_POD_CONFIG_YAML, name, suite, log_dir, "yaml")
    pod_config = write(tmp_path / "pod-config.yaml", pod_data, "yaml")
    runp = cli(runtime, "runp", pod_config)
    pod_id = runp.stdout.strip()
    # crictl's own example has a field that is not in the CRI: ignored, and said so.
    assert "ignoring unknown field linux.namespaces" in runp.stderr
    ctr_data = crictl_container_config(CRICTL_CONTAINER_CONFIG_YAML, runtime.busybox_image, "yaml")
    ctr_config = write(tmp_path / "container-config.yaml", ctr_data, "yaml")
    create = cli(runtime, "create", pod_id, ctr_config, pod_config)
    created = create.stdout.strip()
    assert ID.match(created) and create.stdout == created + "\n"
    assert runp.stdout == pod_id + "\n"  # the warning about the config went to stderr

    listed = cli_json(runtime, "ps", "-a", "--pod", pod_id, "-o", "json")
    assert list(listed) == ["containers"]
    (item,) = listed["containers"]
    assert item["id"] == created and item["podSandboxId"] == pod_id
    assert item["state"] == "CONTAINER_CREATED" and item["metadata"] == {
        "name": "busybox",
        "attempt": 0,
    }
    assert item["image"]["image"] == runtime.busybox_image
    assert item["imageRef"].startswith("sha256:") and INT64.match(item["createdAt"])
    assert cli_json(runtime, "ps", "--pod", pod_id, "-o", "json") == {"containers": []}

    assert cli(runtime, "start", created[:12]).stdout == created[:12] + "\n"
    rows = table(cli(runtime, "ps", "--pod", name).stdout)
    assert rows[0] == [
        "CONTAINER",
        "IMAGE",
        "CREATED",
        "STATE",
        "NAME",
        "ATTEMPT",
        "POD ID",
        "POD",
        "NAMESPACE",
    ]
    assert rows[1][0] == created[:13] and rows[1][1] == runtime.busybox_image
    assert rows[1][3:] == ["Running", "busybox", "0", pod_id[:13], name, "default"]
    assert cli(runtime, "ps", "-q", "--pod", pod_id, "--name", "^busy").stdout == created + "\n"
    assert cli(runtime, "ps", "-q", "--pod", pod_id, "--image", runtime.busybox_image).stdout == (
        created + "\n"
    )
    assert cli(runtime, "ps", "-q", "--pod", pod_id, "--state", "exited").stdout == ""
    assert cli(runtime, "ps", "-q", "--pod", "no-such-pod").stdout == ""
    assert cli(runtime, "ps", "-q", "--pod", pod_id, "-l").stdout == created + "\n"
    assert "State: Running\n" in cli(runtime, "ps", "-v", "--pod", pod_id).stdout

    inspected = cli_json(runtime, "inspect", created)
    status = inspected["status"]
    assert status["id"] == created and status["state"] == "CONTAINER_RUNNING"
    assert is_rfc3339(status["createdAt"]) and is_rfc3339(status["startedAt"])
    assert status["finishedAt"] == "0001-01-01T00:00:00Z"  # Go's zero time, as crictl
    assert status["exitCode"] == 0 and status["logPath"] == f"{log_dir}/busybox.0.log"
    assert isinstance(inspected["info"]["pid"], int) and inspected["info"]["pid"] > 0
    table_view = cli(runtime, "inspect", "-o", "table", created).stdout
    assert "State: CONTAINER_RUNNING\n" in table_view and "Started: " in table_view
    assert cli_json(runtime, "inspect", "--pod", pod_id, "-q")["status"]["id"] == created

    # create with two arguments: the pod's config comes from the runtime
    ctr_data["metadata"]["name"] = "second"
    ctr_data["log_path"] = "second.log"
    second_config = write(tmp_path / "second.json", ctr_data, "json")
    second = cli(runtime, "create", name, second_config).stdout.strip()
    both = cli_json(runtime, "inspect", created, second, "-q")
    assert [doc["status"]["id"] for doc in both] == [created, second]  # several: an array

    assert cli(runtime, "stop", "-t", "5", created).stdout == created + "\n"
    stopped = cli_json(runtime, "inspect", created, "-q")["status"]
    assert stopped["state"] == "CONTAINER_EXITED" and is_rfc3339(stopped["finishedAt"])
    assert "Exit Code: " in cli(runtime, "inspect", "-o", "table", created).stdout
    assert Path(log_dir, "busybox.0.log").exists()
    assert cli(runtime, "rm", created).stdout == created + "\n"
    assert not Path(log_dir, "busybox.0.log").exists()  # crictl rm removes the logs too
    assert cli(runtime, "rm", second).stdout == second + "\n"
    assert cli(runtime, "ps", "-a", "-q", "--pod", pod_id).stdout == ""


def test_rm_and_stop_rules(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "rules-" + suite["suite"])
    assert "please stop it first" in cli(runtime, "rm", ctr.id, code=1).stderr
    # crictl rm -f prints the id when it kills the container and when it removes it
    assert cli(runtime, "rm", "-k", "-f", ctr.name).stdout == f"{ctr.name}\n{ctr.name}\n"
    assert Path(ctr.log_path).exists()  # -k keeps the logs
    other = cri.containers.create(
        ctr.pod_id, "other", runtime.busybox_image, command=["sleep", "600"]
    ).start()
    assert "cannot specify" in cli(runtime, "stop", "-a", other.id, code=1).stderr
    assert cli(runtime, "stop", other.id).stdout == other.id + "\n"  # default -t 0: at once
    assert other.reload().state.value == "exited"


def test_an_ambiguous_reference_exits_1_in_every_command(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """The same code for an ambiguous pod or container name whether the command
    removes (``rm``/``rmp`` report each reference) or does anything else."""
    name = "twin-" + suite["suite"]
    pods = [
        cri.pods.run(name, namespace=namespace, labels=suite, log_directory=log_dir)
        for namespace in ("ns-one", "ns-two")
    ]
    for pod in pods:
        cri.containers.create(pod, name, runtime.busybox_image, command=["sleep", "600"])
    pod_hint = "use namespace/name or an id prefix"
    container_hint = "use namespace/pod/container or an id prefix"
    for args, hint in [
        (("inspectp", name), pod_hint),
        (("stopp", name), pod_hint),
        (("rmp", name), pod_hint),
        (("inspect", name), container_hint),
        (("start", name), container_hint),
        (("rm", name), container_hint),
    ]:
        failed = cli(runtime, *args, code=1)
        assert "is ambiguous: it matches 2" in failed.stderr and hint in failed.stderr, args
    assert len(cri.pods.list(labels=suite)) == 2  # nothing was removed or stopped
    assert all(p.reload().ready for p in pods)


def test_run_with_crictls_configs_and_rollback(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    name = "run-" + suite["suite"]
    pod_data = crictl_pod_config(CRICTL_POD_CONFIG_JSON, name, suite, log_dir, "json")
    pod_config = write(tmp_path / "pod-config.json", pod_data, "json")
    ctr_data = crictl_container_config(CRICTL_CONTAINER_CONFIG_JSON, runtime.busybox_image, "json")
    ctr_config = write(tmp_path / "container-config.json", ctr_data, "json")
    ran = cli(runtime, "run", ctr_config, pod_config)
    container_id = ran.stdout.strip()
    assert ID.match(container_id) and ran.stdout == container_id + "\n" and ran.stderr == ""
    running = cri.containers.get(container_id)
    assert running.state.value == "running" and running.pod().name == name

    broken = crictl_container_config(
        CRICTL_CONTAINER_CONFIG_JSON, runtime.busybox_image, "json", ["/no/such/entrypoint"]
    )
    broken_config = write(tmp_path / "broken.json", broken, "json")
    pod_data["metadata"]["name"] = "broken-" + suite["suite"]
    broken_pod = write(tmp_path / "broken-pod.json", pod_data, "json")
    failed = cli(runtime, "run", "--no-pull", broken_config, broken_pod, code=1)
    assert "/no/such/entrypoint" in failed.stderr and "removed the pod sandbox" in failed.stderr
    assert failed.stdout == ""
    # crictl leaves the sandbox behind; here it is gone
    assert cri.pods.list(name=f"^broken-{suite['suite']}$") == []


def test_update(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "update-" + suite["suite"])
    limit = 96 * 1024 * 1024
    assert cli(runtime, "update", "--memory", str(limit), ctr.id).stdout == ctr.id + "\n"
    status = cli_json(runtime, "inspect", "-q", ctr.id)["status"]
    if "resources" in status:  # containerd 1.6 does not report resources
        assert status["resources"]["linux"]["memoryLimitInBytes"] == str(limit)
    memory_max = ctr.exec(
        [
            "sh",
            "-c",
            "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]
    )
    assert memory_max.stdout.decode().strip() == str(limit)


# --- exec, logs, attach, port-forward -----------------------------------------------------


def test_exec_sync_keeps_streams_apart_and_exits_with_the_commands_code(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "exec-" + suite["suite"])
    script = "echo out; echo err >&2; exit 3"
    done = cli(runtime, "exec", "-s", ctr.id, "sh", "-c", script, code=3)
    assert (done.stdout, done.stderr) == ("out\n", "err\n")  # crictl: merged, exit 1
    streamed = cli(runtime, "exec", ctr.name, "sh", "-c", script, code=3)
    assert (streamed.stdout, streamed.stderr) == ("out\n", "err\n")
    assert cli(runtime, "exec", "-s", ctr.id, "true").stdout == ""
    missing = cli(runtime, "exec", "-s", ctr.id, "/no/such/program", code=127)
    assert "/no/such/program" in missing.stderr
    slow = cli(runtime, "exec", "-s", "--timeout", "1", ctr.id, "sleep", "10", code=124)
    assert "did not finish within 1 s" in slow.stderr
    label = f"--label=suite={suite['suite']}"
    by_filter = cli(runtime, "exec", "-s", label, "sh", "-c", "echo hi")
    assert by_filter.stdout == f"{ctr.id}:\nhi\n"
    assert cli(runtime, "exec", "-s", "-q", label, "echo", "hi").stdout == "hi\n"
    assert "-t needs -i" in cli(runtime, "exec", "-t", ctr.id, "sh", code=1).stderr


def test_exec_without_timeout_has_no_limit(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """Library addition for ``exec -s`` without ``--timeout`` (crictl: no limit):
    ``Container.exec(timeout=math.inf)`` sends no command timeout and no deadline."""
    ctr = sleeper(cri, runtime, suite, log_dir, "nolimit-" + suite["suite"])
    with CRIClient(runtime.endpoint, timeout=1) as short:
        slow = short.containers.get(ctr.id)
        with pytest.raises(ExecTimeoutError):
            slow.exec(["sleep", "3"])  # the client's 1 s is the default limit
        assert slow.exec(["sh", "-c", "sleep 3; echo done"], timeout=math.inf).stdout == b"done\n"
    with pytest.raises(ValueError, match="timeout"):
        ctr.exec(["true"], timeout=-math.inf)


def test_exec_interactive_on_a_terminal(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "tty-" + suite["suite"])
    code, output = run_in_pty(
        command(runtime, "exec", "-it", ctr.id, "sh"),
        [(b"", b"# "), (b"echo $((6*7))\r", b"42"), (b"exit 3\r", None)],
    )
    assert code == 3, output
    assert b"42" in output


def test_exec_interactive_without_a_terminal(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """``exec -i``: stdin is sent as it comes; the exit code is the command's. (stdin is
    kept open here: on containerd's v4 protocol its end would end the session.)"""
    ctr = sleeper(cri, runtime, suite, log_dir, "stdin-" + suite["suite"])
    script = "read line; echo got:$line; echo note >&2; exit 5"
    process = subprocess.Popen(
        command(runtime, "exec", "-i", ctr.id, "sh", "-c", script),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"hello\n")
    process.stdin.flush()
    try:
        assert process.wait(timeout=30) == 5
    finally:
        process.stdin.close()
    assert process.stdout.read() == b"got:hello\n"
    assert process.stderr is not None and process.stderr.read() == b"note\n"


def run_in_pty(
    argv: list[str], script: list[tuple[bytes, bytes | None]], timeout: float = 30
) -> tuple[int, bytes]:
    """Run ``argv`` on a new pseudo-terminal: for each step, write the input, then read
    until the expected bytes appear. Returns the exit code and all output."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command line, with the terminal as stdin/stdout
        os.execve(argv[0], argv, cli_env())
    output = b""
    deadline = time.monotonic() + timeout
    try:
        for data, expected in script:
            if data:
                os.write(fd, data)
            while expected is not None and expected not in output:
                assert time.monotonic() < deadline, output
                ready, _, _ = select.select([fd], [], [], 0.5)
                if ready:
                    output += os.read(fd, 4096)
        while True:
            assert time.monotonic() < deadline, output
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), output
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), output
    finally:
        os.close(fd)


def test_attach_follows_the_container_to_its_exit(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("attach-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(
        pod,
        "attached",
        runtime.busybox_image,
        command=["sh", "-c", "sleep 3; echo to-stdout; echo to-stderr >&2; exit 4"],
    ).start()
    done = cli(runtime, "attach", ctr.id, code=4)  # the container's exit code
    assert done.stdout == "to-stdout\n" and "to-stderr\n" in done.stderr


def test_logs(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("logs-" + suite["suite"], labels=suite, log_directory=log_dir)
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done; sleep 2; echo late"
    ctr = cri.containers.create(
        pod, "talker", runtime.busybox_image, command=["sh", "-c", script]
    ).start()
    followed = cli(runtime, "logs", "-f", ctr.id)  # ends when the container does
    assert followed.stdout == "out1\nout2\nout3\nlate\n"
    assert followed.stderr == "err1\nerr2\nerr3\n"  # stderr lines on stderr, as crictl
    ctr.wait(timeout=30)
    done = cli(runtime, "logs", ctr.id)
    assert (done.stdout, done.stderr) == (followed.stdout, followed.stderr)
    assert cli(runtime, "logs", "--tail", "1", ctr.name).stdout == "late\n"
    stamped = cli(runtime, "logs", "-t", "-s", "stderr", ctr.id)
    assert stamped.stdout == ""
    assert re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err\d\n){3}", stamped.stderr), (
        stamped.stderr
    )
    assert cli(runtime, "logs", "--since", "1h", "-s", "stdout", ctr.id).stdout.count("\n") == 4
    assert cli(runtime, "logs", "--since", "2099-01-01T00:00:00Z", ctr.id).stdout == ""
    assert cli(runtime, "logs", "--limit-bytes", "6", "-s", "stdout", ctr.id).stdout == "out1\no"
    assert "--since" in cli(runtime, "logs", "--since", "yesterday", ctr.id, code=1).stderr

    # -p: the log of the attempt before (the second attempt is made by config)
    again = container_config(
        "talker",
        runtime.busybox_image,
        pod=pod.config(),
        command=["echo", "second attempt"],
    )
    again.metadata.attempt = 1
    again.log_path = "talker/1.log"
    second = cri.containers.create(pod, "talker", runtime.busybox_image, config=again).start()
    second.wait(timeout=30)
    assert cli(runtime, "logs", second.id).stdout == "second attempt\n"
    assert cli(runtime, "logs", "-p", second.id).stdout == followed.stdout


def test_port_forward(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("fwd-" + suite["suite"], labels=suite, log_directory=log_dir)
    web = "mkdir -p /www && echo hello-from-pod > /www/index.html && httpd -f -p 8080 -h /www"
    cri.containers.create(pod, "web", runtime.busybox_image, command=["sh", "-c", web]).start()
    process = subprocess.Popen(
        command(runtime, "port-forward", pod.id, ":8080"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080\n", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}/"
        body = b""
        for _ in range(50):  # httpd may still be starting
            try:
                body = urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        assert body == b"hello-from-pod\n"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in stderr
    bad = cli(runtime, "port-forward", pod.id, "99999", code=1)
    assert "out of range" in bad.stderr


# --- stats, events -----------------------------------------------------------------------


def test_stats_and_statsp(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "stats-" + suite["suite"])
    label = f"--label=suite={suite['suite']}"
    stats = cli_json(runtime, "stats", label, "-o", "json")
    assert list(stats) == ["stats"]
    (item,) = stats["stats"]
    assert item["attributes"]["id"] == ctr.id
    assert item["attributes"]["metadata"]["name"] == ctr.name
    assert INT64.match(item["cpu"]["usageCoreNanoSeconds"]["value"])
    assert INT64.match(item["memory"]["workingSetBytes"]["value"])
    rows = table(cli(runtime, "stats", ctr.id).stdout)
    assert rows[0] == ["CONTAINER", "NAME", "CPU %", "MEM", "DISK", "INODES", "SWAP"]
    assert rows[1][:2] == [ctr.id[:13], ctr.name] and re.fullmatch(r"\d+\.\d\d", rows[1][2])
    assert re.fullmatch(r"[\d.]+[kMG]?B", rows[1][3])

    pod_stats = cli_json(runtime, "statsp", label, "-o", "json")
    assert list(pod_stats) == ["stats"]
    (pod_item,) = pod_stats["stats"]
    assert pod_item["attributes"]["id"] == ctr.pod_id
    assert INT64.match(pod_item["linux"]["cpu"]["usageCoreNanoSeconds"]["value"])
    pod_rows = table(cli(runtime, "statsp", ctr.pod_id).stdout)
    assert pod_rows[0] == ["POD", "POD ID", "CPU %", "MEM"]
    assert pod_rows[1][:2] == [ctr.pod().name, ctr.pod_id[:13]]


def test_pod_manager_stats(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """Library addition for ``statsp``: ``cri.pods.stats()``, many pods per RPC."""
    ctr = sleeper(cri, runtime, suite, log_dir, "podstats-" + suite["suite"])
    ctr.exec(["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
    (sample,) = cri.pods.stats(labels=suite)
    assert sample.pod_id == ctr.pod_id and sample.name == ctr.pod().name
    assert sample.cpu_percent is not None and sample.cpu_percent >= 0
    assert sample.memory_working_set_bytes and sample.memory_working_set_bytes > 0
    assert [s.pod_id for s in cri.pods.stats(id=ctr.pod_id)] == [ctr.pod_id]


def test_events(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    if runtime.version == "1.6":
        failed = cli(runtime, "events", code=1, timeout=30)
        assert "UNIMPLEMENTED" in failed.stderr
        return
    process = subprocess.Popen(
        command(runtime, "events", "-o", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    try:
        time.sleep(1.5)  # subscribed
        ctr = sleeper(cri, runtime, suite, log_dir, "events-" + suite["suite"])
        events = read_json_stream(process, lambda e: e["containerId"] == ctr.id)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    types = [e["containerEventType"] for e in events if e["containerId"] == ctr.id]
    assert "CONTAINER_CREATED_EVENT" in types
    event = next(e for e in events if e["containerId"] == ctr.id)
    assert INT64.match(event["createdAt"])
    assert event["podSandboxStatus"]["id"] == ctr.pod_id
    assert event["podSandboxStatus"]["metadata"]["name"] == ctr.pod().name
    assert isinstance(event["containersStatuses"], list)


def read_json_stream(process: subprocess.Popen[bytes], wanted: Any) -> list[Any]:
    """Concatenated JSON documents (crictl's ``events`` format) until one is ``wanted``."""
    decoder = json.JSONDecoder()

    def next_document(buffer: str) -> tuple[Any, str] | None:
        try:
            document, end = decoder.raw_decode(buffer.lstrip())
        except ValueError:
            return None
        return document, buffer.lstrip()[end:]

    return read_stream(process, next_document, wanted)


def read_stream(
    process: subprocess.Popen[bytes],
    next_item: Callable[[str], tuple[Any, str] | None],
    wanted: Callable[[Any], bool],
) -> list[Any]:
    """The items ``process`` writes on stdout until one is ``wanted`` (30 s at most):
    ``next_item`` takes the first complete one off the text read so far (None: not
    complete yet)."""
    assert process.stdout is not None
    buffer, items = "", []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 65536).decode()
        assert chunk, "the stream ended early"
        buffer += chunk
        while buffer.strip() and (taken := next_item(buffer)) is not None:
            item, buffer = taken
            items.append(item)
            if wanted(item):
                return items
    raise AssertionError(f"nothing wanted in {items} (left: {buffer!r})")


# --- images ------------------------------------------------------------------------------


def test_images_pull_inspecti_imagefsinfo(runtime: RuntimeUnderTest) -> None:
    image = runtime.busybox_image
    repository, tag = image.rsplit(":", 1)
    pulled = cli(runtime, "pull", image)
    match = re.fullmatch(r"Image is up to date for (sha256:[0-9a-f]{64})\n", pulled.stdout)
    assert match and pulled.stderr == ""
    image_id = match.group(1)
    # nothing listens on port 1: the runtime's reason comes back, after crictl's words
    missing = cli(runtime, "pull", "127.0.0.1:1/no/such-image:1", code=1)
    assert missing.stdout == "" and missing.stderr.count("\n") == 1
    assert "pulling image" in missing.stderr and "127.0.0.1:1" in missing.stderr

    listed = cli_json(runtime, "images", "-o", "json")
    assert list(listed) == ["images"]
    item = next(i for i in listed["images"] if i["id"] == image_id)
    assert image in item["repoTags"] and item["repoDigests"][0].startswith(repository + "@")
    assert INT64.match(item["size"]) and int(item["size"]) > 100_000
    assert item["pinned"] is False and item["username"] == ""
    rows = table(cli(runtime, "images").stdout)
    assert rows[0] == ["IMAGE", "TAG", "IMAGE ID", "SIZE"]
    assert [repository, tag, image_id[7:20]] == next(r for r in rows if r[0] == repository)[:3]
    digest_rows = table(cli(runtime, "img", "--digests", "--pinned", repository).stdout)
    assert digest_rows[0] == ["IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE", "PINNED"]
    assert len(digest_rows) == 2 and digest_rows[1][5] == "false"
    assert cli(runtime, "images", "-q", image).stdout == image_id + "\n"
    assert cli(runtime, "images", "-q", "--filter", "dangling=true", image).stdout == ""
    assert cli(runtime, "images", "-q", "-f", f"reference={repository}", image).stdout == (
        image_id + "\n"
    )

    inspected = cli_json(runtime, "inspecti", image)
    assert list(inspected) == sorted(inspected)
    assert inspected["status"]["id"] == image_id and INT64.match(inspected["status"]["size"])
    assert image in inspected["status"]["repoTags"]
    assert set(cli_json(runtime, "inspecti", "-q", image_id[7:19])) == {"status"}
    assert "no such image" in cli(runtime, "inspecti", repository + ":absent", code=1).stderr
    assert f"ID: {image_id}\n" in cli(runtime, "inspecti", "-o", "table", image).stdout

    fs = cli_json(runtime, "imagefsinfo")
    assert list(fs) == ["status"]
    (usage,) = fs["status"]["imageFilesystems"]
    assert usage["fsId"]["mountpoint"].startswith("/")
    assert INT64.match(usage["usedBytes"]["value"]) and INT64.match(usage["timestamp"])
    assert isinstance(fs["status"]["containerFilesystems"], list)
    assert "Image Filesystem \n" in cli(runtime, "imagefsinfo", "-o", "table").stdout


@pytest.fixture(scope="module")
def private_runtime(
    runtime: RuntimeUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RuntimeUnderTest]:
    """A containerd of its own, for the commands that act on everything (``rm -a``,
    ``rmp -a``, ``rmi -a``, ``rmi --prune``): the shared one is left alone."""
    from cri_client.testing import ThrowawayContainerd

    base = tmp_path_factory.mktemp("private-containerd")
    containerd = ThrowawayContainerd(runtime.version, base_dir=str(base)).start()
    try:
        yield RuntimeUnderTest(
            version=runtime.version,
            endpoint=containerd.endpoint,
            busybox_image=containerd.busybox_image,
            pause_image=containerd.pause_image,
            handlers=containerd.runtime_handlers,
        )
    finally:
        containerd.stop(purge=True)


def test_remove_all_and_prune(private_runtime: RuntimeUnderTest, tmp_path: Path) -> None:
    runtime = private_runtime
    with CRIClient(runtime.endpoint) as cri:
        cri.images.pull(runtime.busybox_image)
        kept = sleeper(cri, runtime, {"app": "kept"}, str(tmp_path), "kept")
        idle = cri.pods.run("idle", log_directory=str(tmp_path))
        unused = cri.containers.create(idle, "unused", runtime.busybox_image, command=["true"])

        pruned = cli(runtime, "rmi", "--prune")
        assert runtime.busybox_image not in pruned.stdout  # in use by containers
        assert cri.images.exists(runtime.busybox_image)

        refused = cli(runtime, "rm", "-a", code=1)  # the running one needs -f
        assert refused.stdout == unused.id + "\n" and "please stop it first" in refused.stderr
        assert cli(runtime, "rm", "-a", "-f").stdout == f"{kept.id}\n{kept.id}\n"
        assert cri.containers.list(all=True) == []
        assert "please stop it first" in cli(runtime, "rmp", "-a", code=1).stderr
        removed = cli(runtime, "rmp", "-a", "-f").stdout
        assert removed.count("Removed sandbox") == 2 and cri.pods.list() == []

        deleted = cli(runtime, "rmi", "-a").stdout
        assert f"Deleted: {runtime.busybox_image}\n" in deleted
        assert cri.images.list() == [] or all(i.pinned for i in cri.images.list())
        assert "no such image" in cli(runtime, "rmi", runtime.busybox_image, code=1).stderr
        nothing = cli(runtime, "rmi", "-a")  # nothing left: not an error, as crictl
        assert (nothing.stdout, nothing.stderr) == ("", "No images to remove\n")
        for command, kind in (("rm", "containers"), ("rmp", "pods")):
            nothing = cli(runtime, command, "-a")
            assert (nothing.stdout, nothing.stderr) == ("", f"No {kind} to remove\n"), command
        pod: Pod = cri.pods.run("after", log_directory=str(tmp_path))  # pause comes back
        assert pod.ready
        pod.remove(force=True)


# --- global flags, config files, errors ---------------------------------------------------


def test_debug_names_the_endpoint_and_rpcs_but_never_credentials(
    runtime: RuntimeUnderTest, tmp_path: Path
) -> None:
    done = cli(runtime, "-D", "pull", "--creds", "user:secret", runtime.busybox_image)
    assert f"runtime endpoint unix://{runtime.endpoint.removeprefix('unix://')}" in done.stderr
    assert "(from --runtime-endpoint)" in done.stderr
    assert re.search(r"rpc PullImage\(image=\S+\) ok [\d.]+ ms", done.stderr)
    assert "secret" not in done.stderr and "secret" not in done.stdout

    env = cli_env()
    env["CONTAINER_RUNTIME_ENDPOINT"] = runtime.endpoint
    by_env = cli(None, "-D", "version", env=env)
    assert "(from CONTAINER_RUNTIME_ENDPOINT)" in by_env.stderr
    assert re.search(r"rpc Version\(\) ok [\d.]+ ms", by_env.stderr)

    config = tmp_path / "crictl.yaml"
    config.write_text(
        f"runtime-endpoint: {runtime.endpoint}\nimage-endpoint: {runtime.endpoint}\n"
        "timeout: 10\ndebug: true\n"
    )
    by_config = cli(None, "-c", str(config), "version")
    assert f"(from runtime-endpoint in {config})" in by_config.stderr
    assert "timeout 10 s per call" in by_config.stderr
    env = cli_env()
    env["CRI_CONFIG_FILE"] = str(config)
    assert cli(None, "version", env=env).stdout.startswith("Version:  0.1.0\n")

    quiet = cli(runtime, "pods")
    assert quiet.stderr == ""  # no warnings about endpoints, ever


def test_usage_errors_exit_1_with_one_clear_line(runtime: RuntimeUnderTest, tmp_path: Path) -> None:
    def usage(*args: str) -> str:
        return cli(runtime, *args, code=1).stderr

    bogus = cli(runtime, "pods", "--bogus", code=1)  # crictl: the help, and Go's message
    assert bogus.stdout == cli(runtime, "pods", "--help").stdout
    assert bogus.stderr == "flag provided but not defined: -bogus\n"
    assert "invalid choice: 'podz'" in usage("podz")
    assert "'sideways' is not one of" in usage("pods", "--state", "sideways")
    assert "not supported" in usage("stats", "-o", "go-template")  # crictl has none there
    assert "unbalanced parentheses" in usage("pods", "--label", "app in (a")
    assert "invalid regular expression" in usage("pods", "--name", "(")
    assert "invalid duration" in usage("-t", "soon", "pods")

    malformed = tmp_path / "pod.json"
    malformed.write_text('{"metadata": {"name": "x",}')
    message = usage("runp", str(malformed))
    assert str(malformed) in message and "invalid JSON" in message
    bad_yaml = tmp_path / "pod.yaml"
    bad_yaml.write_text("metadata:\n  name: [unclosed\n")
    assert f"{bad_yaml}: invalid YAML" in usage("runp", str(bad_yaml))
    no_metadata = tmp_path / "nometa.yaml"
    no_metadata.write_text("log_directory: /tmp\n")
    assert "metadata is not set" in usage("runp", str(no_metadata))
    wrong_type = tmp_path / "wrong.json"
    wrong_type.write_text('{"metadata": {"name": "x", "namespace": "y", "attempt": "one"}}')
    assert "invalid pod config" in usage("runp", str(wrong_type))
    a_list = tmp_path / "list.yaml"
    a_list.write_text("- a\n- b\n")
    assert "must be a JSON or YAML object" in usage("create", "pod", str(a_list))
    assert "No such file" in usage("runp", str(tmp_path / "absent.json"))
    crictl_yaml = tmp_path / "crictl.yaml"
    crictl_yaml.write_text("runtime-endpoint: /x\ncolour: blue\n")
    assert "config option 'colour' is not valid" in usage("-c", str(crictl_yaml), "version")

    assert "Traceback" not in usage("runp", str(malformed))

    absent = cli(None, "-r", str(tmp_path / "no.sock"), "version", code=1).stderr
    assert absent.count("\n") == 1 and "does not exist" in absent
    assert "no container matches" in cli(runtime, "inspect", "nothing-here", code=1).stderr


def test_console_script_and_help(runtime: RuntimeUnderTest) -> None:
    script = Path(sys.executable).with_name("cri-client")
    assert script.exists(), "pip install -e . installs the console script"
    done = subprocess.run(
        [str(script), "-r", runtime.endpoint, "version"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("Version:  0.1.0\n")
    assert "exit codes" in cli(None, "--help").stdout
    assert "--no-trunc" in cli(None, "help", "pods").stdout
    assert cli(None, "--version").stdout == "cri-client version 0.1.0\n"
