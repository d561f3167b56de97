"""crictl's newer commands and the command line's own (``config``, ``completion``,
``batch``), run as subprocesses against a real containerd: exit codes, stdout and
stderr as crictl gives them, and the message that names the runtime when it lacks an
RPC (``_core.runtimes.UNIMPLEMENTED_RPCS``, checked here on each version)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cri_client import Container, CRIClient, pb
from cri_client._core.runtimes import UNIMPLEMENTED_RPCS

from .conftest import RuntimeUnderTest
from .test_cli import cli, cli_env, command

# Each command and the RPC it needs; the arguments that make it call it.
RPC_COMMANDS = {
    "RuntimeConfig": ["runtime-config"],
    "ListMetricDescriptors": ["metricdescs"],
    "ListPodSandboxMetrics": ["metricsp"],
}


@pytest.fixture
def sleeper(cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str]) -> Container:
    return cri.run(
        runtime.busybox_image, name=f"cmd-{suite['suite']}", labels=suite, command=["sleep", "600"]
    )


def lacks(runtime: RuntimeUnderTest, rpc: str) -> bool:
    return rpc in UNIMPLEMENTED_RPCS[f"containerd {runtime.version}"]


def unimplemented_line(cri: CRIClient, rpc: str) -> str:
    version = cri.version()
    return (
        f"cri-client: {version.runtime_name} {version.runtime_version} does not implement {rpc}\n"
    )


@pytest.mark.parametrize("rpc", sorted(RPC_COMMANDS))
def test_a_missing_rpc_names_the_runtime_that_lacks_it(
    runtime: RuntimeUnderTest, cri: CRIClient, rpc: str
) -> None:
    done = cli(runtime, *RPC_COMMANDS[rpc], code=None)
    if lacks(runtime, rpc):
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == unimplemented_line(cri, rpc)
    else:
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout  # checked in its own test


def test_runtime_config_prints_the_cgroup_driver_as_crictl(
    runtime: RuntimeUnderTest, cri: CRIClient
) -> None:
    if lacks(runtime, "RuntimeConfig"):
        assert cli(runtime, "runtime-config", code=1).stdout == ""
        return
    driver = pb.CgroupDriver.Name(cri.api.runtime_config().linux.cgroup_driver)
    done = cli(runtime, "runtime-config")
    assert (done.stdout, done.stderr) == (f"cgroup driver:   {driver}\n", "")


def test_update_runtime_config_needs_a_flag_then_succeeds_quietly(
    runtime: RuntimeUnderTest,
) -> None:
    shown = cli(runtime, "update-runtime-config")
    assert shown.stdout.startswith("usage: cri-client update-runtime-config ")
    assert shown.stderr == ""
    # Every version implements it (containerd keeps the CIDR for its CNI template).
    done = cli(runtime, "update-runtime-config", "--pod-cidr", "10.88.0.0/16")
    assert (done.stdout, done.stderr) == ("", "")


def test_checkpoint_checks_its_arguments_then_asks_the_runtime(
    runtime: RuntimeUnderTest, cri: CRIClient, sleeper: Container, tmp_path: Path
) -> None:
    no_id = cli(runtime, "checkpoint", code=1)
    assert (no_id.stdout, no_id.stderr) == ("", "cri-client: ID cannot be empty\n")
    no_export = cli(runtime, "checkpoint", sleeper.id, code=1)
    assert no_export.stderr == (
        "cri-client: cannot checkpoint a container without specifying the checkpoint "
        "destination. Use --export=/path/to/checkpoint.tar\n"
    )
    archive = str(tmp_path / "checkpoint.tar")
    done = cli(runtime, "checkpoint", "--export", archive, sleeper.id, code=1)
    assert done.stdout == ""
    if lacks(runtime, "CheckpointContainer"):
        assert done.stderr == unimplemented_line(cri, "CheckpointContainer")
    else:  # 2.1 implements it; this node has no criu, and the runtime says so
        assert done.stderr.startswith(
            f'cri-client: checkpointing the container "{sleeper.id}" failed: '
        )
        assert "CRIU" in done.stderr and done.stderr.count("\n") == 1
    assert not os.path.exists(archive)


def test_metricsp_and_metricdescs_take_crictls_output_flag(runtime: RuntimeUnderTest) -> None:
    for name in ("metricdescs", "metricsp", "podmetrics"):
        shown = cli(runtime, name, "-o", "table")  # neither json nor yaml: the help
        assert shown.stdout.startswith("usage: cri-client ") and shown.stderr == ""
        extra = cli(runtime, name, "surplus")
        assert extra.stdout.startswith("usage: cri-client ") and extra.stderr == ""


def test_no_command_prints_the_help_with_exit_0() -> None:
    done = cli(None)
    assert done.stdout.startswith("usage: cri-client ") and done.stderr == ""
    assert "update-runtime-config" in done.stdout


# --- completion ---------------------------------------------------------------------------


def test_bash_completion_completes_commands_and_global_flags(tmp_path: Path) -> None:
    script = tmp_path / "completion.bash"
    script.write_text(cli(None, "completion").stdout)
    assert cli(None, "completion", "bash").stdout == script.read_text()
    probe = (
        f"source {script}; COMP_WORDS=(cri-client insp); COMP_CWORD=1; "
        "_cli_bash_autocomplete; printf '%s\\n' \"${COMPREPLY[@]}\"; "
        "COMP_WORDS=(cri-client --runtime); _cli_bash_autocomplete; "
        "printf '%s\\n' \"${COMPREPLY[@]}\"; complete -p cri-client"
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == (
        "inspect\ninspecti\ninspectp\n--runtime-endpoint\n"
        "complete -F _cli_bash_autocomplete cri-client\n"
    )


def test_zsh_and_fish_completion_and_an_unknown_shell() -> None:
    zsh = cli(None, "completion", "zsh").stdout
    assert zsh.startswith("_cli_zsh_autocomplete() {\n")
    assert "'checkpoint:Checkpoint one or more running containers'" in zsh
    assert "'--runtime-endpoint'" in zsh
    assert zsh.endswith("compdef _cli_zsh_autocomplete cri-client\n")
    fish = cli(None, "completion", "fish").stdout
    assert "complete -c cri-client -n '__fish_cri_client_no_subcommand' -f -a 'batch'" in fish
    assert "-l runtime-endpoint -s r " in fish
    other = cli(None, "completion", "tcsh", code=1)
    assert (other.stdout, other.stderr) == (
        "",
        "cri-client: only bash, zsh or fish are supported\n",
    )
    two = cli(None, "completion", "bash", "zsh")
    assert two.stdout.startswith("usage: cri-client completion ")


# --- config -------------------------------------------------------------------------------


def test_config_set_then_used_by_the_next_command(
    runtime: RuntimeUnderTest, tmp_path: Path
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("# node settings\ntimeout: 5 # seconds\n")
    env = cli_env()
    env["CRI_CONFIG_FILE"] = str(path)
    done = cli(None, "config", "--set", f"runtime-endpoint={runtime.endpoint},debug=false", env=env)
    assert (done.stdout, done.stderr) == ("", "")
    assert path.read_text() == (
        "# node settings\n"
        "timeout: 5 # seconds\n"
        f"runtime-endpoint: {runtime.endpoint}\n"
        'image-endpoint: ""\n'
        "debug: false\n"
        "pull-image-on-create: false\n"
        "disable-pull-on-run: false\n"
    )
    assert cli(None, "config", "--get", "runtime-endpoint", env=env).stdout == (
        f"{runtime.endpoint}\n"
    )
    listed = cli(None, "config", "--list", env=env).stdout
    assert listed.startswith("\033[2J\033[HKEY                    VALUE\n")
    assert f"runtime-endpoint       {runtime.endpoint}\n" in listed
    # The next command finds the runtime through the file just written.
    version = cli(None, "version", env=env)
    assert "RuntimeName:  containerd\n" in version.stdout and version.stderr == ""


def test_config_errors_exit_1_with_crictls_messages(tmp_path: Path) -> None:
    path = tmp_path / "crictl.yaml"
    done = cli(None, "-c", str(path), "config", "--get", "colour", code=1)
    assert (done.stdout, done.stderr) == ("", "cri-client: no configuration option named colour\n")
    done = cli(None, "-c", str(path), "config", "--set", "timeout=soon", code=1)
    assert done.stderr == (
        "cri-client: parse timeout value 'soon': strconv.Atoi: parsing \"soon\": invalid syntax\n"
    )
    # As crictl, the missing file was written with the defaults before the flags were
    # read; the bad setting left it so.
    assert path.read_text() == (
        'runtime-endpoint: ""\nimage-endpoint: ""\ntimeout: 0\ndebug: false\n'
        "pull-image-on-create: false\ndisable-pull-on-run: false\n"
    )


# --- stats --watch --------------------------------------------------------------------------


CLEAR = "\033[2J\033[H"


def watched(runtime: RuntimeUnderTest, *args: str, refreshes: int = 3) -> tuple[int, str, str]:
    """Run a ``--watch`` command until it has started drawing ``refreshes`` screens
    (the last may be cut short), then stop it as a user would (SIGTERM): its exit
    code, stdout and stderr."""
    process = subprocess.Popen(
        command(runtime, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env()
    )
    assert process.stdout is not None
    output = b""
    deadline = time.monotonic() + 60
    try:
        while output.count(CLEAR.encode()) < refreshes and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                output += chunk
    finally:
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=30)
    return process.returncode, (output + rest).decode(), errors.decode()


def test_stats_and_statsp_watch_redraw_until_stopped(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    code, out, err = watched(runtime, "stats", "--watch", "--id", sleeper.id)
    assert (code, err) == (0, "")
    screens = [screen for screen in out.split(CLEAR) if screen]
    assert len(screens) >= 2
    for screen in screens[:2]:
        lines = screen.splitlines()
        assert lines[0].split() == [
            "CONTAINER",
            "NAME",
            "CPU",
            "%",
            "MEM",
            "DISK",
            "INODES",
            "SWAP",
        ]
        assert lines[1].startswith(sleeper.id[:13] + " ")
    code, out, err = watched(runtime, "statsp", "-w", "--id", sleeper.pod_id)
    assert (code, err) == (0, "")
    screens = [screen for screen in out.split(CLEAR) if screen]
    assert len(screens) >= 2
    assert all(
        screen.splitlines()[0].split() == ["POD", "POD", "ID", "CPU", "%", "MEM"]
        for screen in screens[:2]
    )


# --- batch ------------------------------------------------------------------------------


def test_batch_runs_inspect_lines_on_one_connection(
    runtime: RuntimeUnderTest, sleeper: Container, tmp_path: Path
) -> None:
    script = tmp_path / "batch.txt"
    lines = [f"inspect {sleeper.id}"] * 3 + [f"crictl inspectp -o yaml {sleeper.pod_id}"]
    script.write_text("# three containers, one pod\n" + "\n".join(lines) + "\n")
    done = cli(runtime, "-D", "batch", "--json", str(script))
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["line"], r["exit_status"], r["stderr"]) for r in records] == [
        (2, 0, ""),
        (3, 0, ""),
        (4, 0, ""),
        (5, 0, ""),
    ]
    assert records[0]["argv"] == ["inspect", sleeper.id]
    assert records[3]["argv"] == ["inspectp", "-o", "yaml", sleeper.pod_id]
    for record in records[:3]:
        assert json.loads(record["stdout"])["status"]["id"] == sleeper.id
    assert f"id: {sleeper.pod_id}" in records[3]["stdout"]
    # -D: one client made (its endpoint said once), every RPC logged on stderr.
    assert done.stderr.count("cri-client: debug: runtime endpoint ") == 1
    assert done.stderr.count("ContainerStatus") >= 3


def test_batch_stops_at_the_first_failure_unless_told_to_go_on(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    text = f"inspect {sleeper.id}\ninspect no-such-container\nversion\n"
    stopped = cli(runtime, "batch", stdin=text, code=1)
    assert json.loads(stopped.stdout)["status"]["id"] == sleeper.id
    assert "RuntimeName" not in stopped.stdout
    assert stopped.stderr.splitlines() == [
        "cri-client: NOT_FOUND: no container matches 'no-such-container' "
        "(by id, id prefix or name)",
        "cri-client: batch: line 2: exit status 1",
    ]
    went_on = cli(runtime, "batch", "--continue-on-error", stdin=text, code=1)
    assert went_on.stdout.startswith(stopped.stdout)
    assert went_on.stdout.endswith("RuntimeApiVersion:  v1\n")
    assert went_on.stderr == stopped.stderr
    fine = cli(runtime, "batch", stdin=f"inspect {sleeper.id}\nversion\n")
    assert fine.stderr == "" and "RuntimeApiVersion:  v1\n" in fine.stdout


def test_batch_json_captures_exec_output_and_its_exit_code(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    text = f"exec -s {sleeper.id} sh -c 'echo out; echo err >&2; exit 3'\nversion -o json\n"
    done = cli(runtime, "batch", "--json", "--continue-on-error", stdin=text, code=1)
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first == {
        "line": 1,
        "argv": ["exec", "-s", sleeper.id, "sh", "-c", "echo out; echo err >&2; exit 3"],
        "exit_status": 3,
        "stdout": "out\n",
        "stderr": "err\n",
    }
    assert second["exit_status"] == 0 and json.loads(second["stdout"])["runtimeApiVersion"] == "v1"
    assert done.stderr == ""
