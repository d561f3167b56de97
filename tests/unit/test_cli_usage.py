"""What a script sees of ``cri-client``'s help and usage errors, as crictl does it: the
exit code, stdout and stderr of the real process, without a runtime (the endpoint
does not exist, so a command that tried to connect would fail with exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOWHERE = "unix:///nonexistent/cri-client-test.sock"

# Every command that needs an argument: without one, crictl prints its help and exits 0.
NEEDS_ARGUMENTS = [
    "rm",
    "rmi",
    "rmp",
    "stop",
    "start",
    "stopp",
    "exec",
    "logs",
    "create",
    "runp",
    "run",
    "attach",
    "port-forward",
    "update",
    "pull",
]


def cri_client(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRI_CONFIG_FILE": os.devnull}
    env.pop("CONTAINER_RUNTIME_ENDPOINT", None)
    env.pop("IMAGE_SERVICE_ENDPOINT", None)
    return subprocess.run(
        [sys.executable, "-m", "cri_client", "-r", NOWHERE, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, done.stderr


def test_help_goes_to_stdout_with_exit_0() -> None:
    root = cri_client("--help")
    assert root.returncode == 0 and root.stderr == ""
    assert root.stdout.startswith("usage: cri-client ") and "exit codes" in root.stdout
    assert outcome(cri_client("-h")) == outcome(root)
    assert outcome(cri_client("help")) == outcome(root)
    pods = cri_client("pods", "--help")
    assert pods.returncode == 0 and pods.stderr == ""
    assert pods.stdout.startswith("usage: cri-client pods ") and "--no-trunc" in pods.stdout
    assert outcome(cri_client("pods", "-h")) == outcome(pods)
    assert outcome(cri_client("help", "pods")) == outcome(pods)


@pytest.mark.parametrize("name", NEEDS_ARGUMENTS)
def test_a_command_without_its_arguments_prints_its_help_with_exit_0(name: str) -> None:
    done = cri_client(name)
    assert outcome(done) == outcome(cri_client(name, "--help"))
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(f"usage: cri-client {name} ")


def test_too_few_arguments_print_the_help_too() -> None:
    """crictl's ``create`` needs POD and the container config, ``run`` both configs,
    ``exec`` a container and a command, ``port-forward`` a pod and a port."""
    for argv in (["create", "pod"], ["run", "ctr.json"], ["exec", "ctr"], ["port-forward", "pod"]):
        done = cri_client(*argv)
        assert outcome(done) == outcome(cri_client(argv[0], "--help")), argv


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["pods", "--invalid"], "-invalid"),
        (["rm", "-x", "abc"], "-x"),
        (["ps", "--invalid=3"], "-invalid"),
        (["images", "-q", "--invalid", "busybox"], "-invalid"),
        (["runp", "--invalid"], "-invalid"),  # the flag, not the missing argument
        (["logs", "-ft", "-z"], "-z"),
    ],
)
def test_an_unknown_flag_prints_the_help_and_exits_1(argv: list[str], flag: str) -> None:
    done = cri_client(*argv)
    help_text = cri_client(argv[0], "--help").stdout
    assert outcome(done) == (1, help_text, f"flag provided but not defined: {flag}\n")


def test_an_unknown_global_flag_prints_the_main_help() -> None:
    done = cri_client("--invalid", "version")
    assert outcome(done) == (
        1,
        cri_client("--help").stdout,
        "flag provided but not defined: -invalid\n",
    )


def test_usage_errors_exit_1_as_in_crictl(tmp_path: Path) -> None:
    """crictl has no exit code 2: a bad value, an unknown command, a malformed file is 1."""
    bad = tmp_path / "pod.json"
    bad.write_text("{")
    for argv, message in [
        (["pods", "--state", "gone"], "'gone' is not one of ready, notready"),
        (["podz"], "invalid choice: 'podz'"),
        (["-t", "forever", "version"], "invalid duration 'forever'"),
        (["pods", "--label", "x=y z"], "cannot parse label selector term"),
        (["runp", str(bad)], "invalid JSON"),
        (["-c", str(tmp_path / "absent.yaml"), "version"], "No such file"),
        (["help", "podz"], "no command 'podz'"),
        (["stop", "-a", "abc"], "cannot specify"),
        (["version", "extra"], "unrecognized arguments: extra"),
    ]:
        done = cri_client(*argv)
        assert (done.returncode, done.stdout) == (1, ""), (argv, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, argv


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("rmi", "--dry-run"), "--dry-run, --keep, --min-age and --output need --prune"),
        (("rmi", "x", "-o", "json"), "--dry-run, --keep, --min-age and --output need --prune"),
        (("rm", "-l", "a=b"), "--dry-run, --label and --output need --exited-before"),
        (
            ("rm", "--exited-before", "1h", "-a"),
            "--exited-before takes no CONTAINER-ID, --all or --force",
        ),
        (("rm", "--exited-before=-1h"), "--exited-before: the duration '-1h' is negative"),
        (("rmp", "--dry-run"), "--dry-run, --label and --output need --not-ready or --no-running"),
        (("rmp", "--not-ready", "p1"), "--not-ready and --no-running take no POD-ID"),
        (("rmi", "--prune", "--min-age", "soon"), "--min-age: invalid duration 'soon'"),
    ],
)
def test_prune_flags_are_checked_before_connecting(argv: tuple[str, ...], message: str) -> None:
    done = cri_client(*argv)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"cri-client: {message}"), done.stderr
