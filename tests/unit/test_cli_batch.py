"""``cri-client batch``: one command line per line, shell quoting, comments, stop or
go on after a failure, JSON lines. Commands that need no runtime (``config``,
``completion``, usage errors) exercise it here; tests/integration/test_cli_commands.py
runs runtime commands through it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cri_client.cli.commands.client import command_line
from cri_client.cli.main import main


def test_command_lines_split_as_a_shell_would() -> None:
    assert command_line("inspect -o go-template --template '{{.info.pid}}' abc\n") == [
        "inspect",
        "-o",
        "go-template",
        "--template",
        "{{.info.pid}}",
        "abc",
    ]
    assert command_line('exec abc sh -c "echo a  b"  # a comment') == [
        "exec",
        "abc",
        "sh",
        "-c",
        "echo a  b",
    ]
    assert command_line("crictl ps -a") == ["ps", "-a"]
    assert command_line("cri-client pods") == ["pods"]
    assert command_line("   \n") == []
    assert command_line("# just a comment") == []
    assert command_line("echo a#b") == ["echo", "a#b"]
    assert command_line("echo '#a' \\#b \"c # d\" #e") == ["echo", "#a", "#b", "c # d"]
    with pytest.raises(ValueError, match="No closing quotation"):
        command_line("inspect 'abc")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "crictl.yaml"
    path.write_text("timeout: 7\n")
    return path


def batch(
    capsys: pytest.CaptureFixture[str], config_file: Path, text: str, *flags: str
) -> tuple[int, str, str]:
    script = config_file.parent / "batch.txt"
    script.write_text(text)
    code = main(["-c", str(config_file), "batch", *flags, str(script)])
    out, err = capsys.readouterr()
    return code, out, err


SCRIPT = """\
# read, fail, read again
config --get timeout

config --get colour
config --get debug
"""


def test_the_first_failure_stops_the_batch_with_exit_1(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    assert batch(capsys, config_file, SCRIPT) == (
        1,
        "7\n",
        "cri-client: no configuration option named colour\n"
        "cri-client: batch: line 4: exit status 1\n",
    )


def test_continue_on_error_runs_every_line_and_still_exits_1(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    assert batch(capsys, config_file, SCRIPT, "--continue-on-error") == (
        1,
        "7\nfalse\n",
        "cri-client: no configuration option named colour\n"
        "cri-client: batch: line 4: exit status 1\n",
    )


def test_json_lines_give_each_commands_argv_status_and_output(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, out, err = batch(capsys, config_file, SCRIPT, "--json", "--continue-on-error")
    assert (code, err) == (1, "")
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "line": 2,
            "argv": ["config", "--get", "timeout"],
            "exit_status": 0,
            "stdout": "7\n",
            "stderr": "",
        },
        {
            "line": 4,
            "argv": ["config", "--get", "colour"],
            "exit_status": 1,
            "stdout": "",
            "stderr": "cri-client: no configuration option named colour\n",
        },
        {
            "line": 5,
            "argv": ["config", "--get", "debug"],
            "exit_status": 0,
            "stdout": "false\n",
            "stderr": "",
        },
    ]


def test_all_lines_succeeding_is_exit_0_with_stderr_empty(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, out, err = batch(capsys, config_file, "config --set debug=true\nconfig --get debug\n")
    assert (code, out, err) == (0, "true\n", "")


def test_bad_lines_fail_without_running(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    text = "config --get 'timeout\n-r unix:///x.sock version\nbatch other.txt\nps --bogus\n"
    code, out, err = batch(capsys, config_file, text, "--json", "--continue-on-error")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and err == ""
    assert [(r["line"], r["exit_status"]) for r in records] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert records[0]["stderr"] == "cri-client: line 1: No closing quotation\n"
    assert records[1]["stderr"] == (
        "cri-client: batch: global flags go before 'batch', not on a line\n"
    )
    assert records[2]["stderr"] == "cri-client: batch: a batch line cannot run batch\n"
    assert records[3]["stderr"] == "flag provided but not defined: -bogus\n"
    assert records[3]["stdout"].startswith("usage: cri-client ps ")


def test_lines_come_from_stdin_by_default(
    capsys: pytest.CaptureFixture[str], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("config --get timeout\n"))
    assert main(["-c", str(config_file), "batch"]) == 0
    assert capsys.readouterr() == ("7\n", "")


def test_a_missing_batch_file_is_exit_1(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    assert main(["-c", str(config_file), "batch", str(config_file.parent / "absent")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("absent: No such file or directory\n")
