"""``cri-client config``: crictl's config file listed, read and rewritten in place,
comments, quoting and duplicate keys kept (crictl's ``config.go`` and ``WriteConfig``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cri_client.cli.context import UsageError
from cri_client.cli.crictl_config import assignments, checked_value, rewrite
from cri_client.cli.main import main

CLEAR_SCREEN = "\033[2J\033[H"


def config(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["-c", str(path), "config", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_option_with_its_default_for_an_empty_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("")
    assert config(capsys, path, "--list") == (
        0,
        CLEAR_SCREEN + "KEY                    VALUE\n"
        "runtime-endpoint       \n"
        "image-endpoint         \n"
        "timeout                0\n"
        "debug                  false\n"
        "pull-image-on-create   false\n"
        "disable-pull-on-run    false\n",
        "",
    )
    assert path.read_text() == ""  # reading never writes


EVERY_DEFAULT = (
    'runtime-endpoint: ""\nimage-endpoint: ""\ntimeout: 0\ndebug: false\n'
    "pull-image-on-create: false\ndisable-pull-on-run: false\n"
)


@pytest.mark.parametrize("argv", [("--get", "debug"), ("--list",), ()])
def test_a_missing_file_is_created_with_every_default_first_as_crictl_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    """crictl's ``config`` writes ``WriteConfig(nil)`` when the file is missing, before
    it looks at its flags: a script sees the file afterwards, whatever it asked."""
    path = tmp_path / "etc" / "absent.yaml"
    code, out, err = config(capsys, path, *argv)
    assert (code, err) == (0, "")
    if argv:
        assert out == "false\n" if argv[0] == "--get" else out.startswith("\033[2J\033[HKEY")
    else:
        assert "--set KEY=VALUE" in out  # the help
    assert path.read_text() == EVERY_DEFAULT
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o644, 0o755)


def test_a_missing_file_that_cannot_be_made_fails_as_a_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    code, out, err = config(capsys, blocker / "crictl.yaml", "--get", "debug")
    assert (code, out) == (1, "")
    assert err.startswith(f"cri-client: write config file {blocker / 'crictl.yaml'}: "), err


def test_get_returns_the_last_of_duplicate_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("timeout: 3\nruntime-endpoint: 'unix:///a.sock'\ntimeout: 7\n")
    assert config(capsys, path, "--get", "timeout") == (0, "7\n", "")
    assert config(capsys, path, "--get", "runtime-endpoint") == (0, "unix:///a.sock\n", "")
    code, out, err = config(capsys, path, "--get", "max-retries")
    assert (code, out, err) == (1, "", "cri-client: no configuration option named max-retries\n")


def test_set_keeps_comments_and_quoting_sets_duplicates_and_appends_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text(
        "# written by hand\n"
        'runtime-endpoint: "unix:///run/old.sock" # the socket\n'
        "timeout: 2\n"
        "debug: 'false'\n"
        "# raised later\n"
        "timeout: 10\n"
    )
    inode = path.stat().st_ino
    assert config(capsys, path, "--set", "timeout=30,debug=1") == (0, "", "")
    assert path.read_text() == (
        "# written by hand\n"
        'runtime-endpoint: "unix:///run/old.sock" # the socket\n'
        "timeout: 30\n"
        "debug: 'true'\n"
        "# raised later\n"
        "timeout: 30\n"
        'image-endpoint: ""\n'
        "pull-image-on-create: false\n"
        "disable-pull-on-run: false\n"
    )
    assert path.stat().st_ino == inode  # rewritten in place


def test_set_creates_a_missing_file_with_every_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As crictl: the defaults are written first (an empty string as ``""``), then the
    setting, which keeps the quotes it found."""
    path = tmp_path / "new" / "crictl.yaml"
    assert config(capsys, path, "--set", "runtime-endpoint=unix:///run/x.sock") == (0, "", "")
    assert path.read_text() == (
        'runtime-endpoint: "unix:///run/x.sock"\n'
        'image-endpoint: ""\n'
        "timeout: 0\n"
        "debug: false\n"
        "pull-image-on-create: false\n"
        "disable-pull-on-run: false\n"
    )
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_long_value_stays_on_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crictl.yaml"
    socket = "unix:///" + "/".join(["a-rather-long-directory-name"] * 6) + "/containerd.sock"
    path.write_text(f"runtime-endpoint: {socket}\n")
    assert config(capsys, path, "--set", "debug=true") == (0, "", "")
    assert path.read_text().splitlines()[0] == f"runtime-endpoint: {socket}"
    # The first write appended image-endpoint as "": quoted it stays, as in crictl.
    assert config(capsys, path, "--set", f"image-endpoint={socket}") == (0, "", "")
    assert f'\nimage-endpoint: "{socket}"\n' in path.read_text()


def test_the_old_positional_form_sets_one_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("# only a comment\n")
    assert config(capsys, path, "image-endpoint", "unix:///img.sock") == (0, "", "")
    assert path.read_text().startswith('# only a comment\nruntime-endpoint: ""\n')
    assert "image-endpoint: unix:///img.sock\n" in path.read_text()


def test_bad_settings_fail_with_crictls_messages_and_leave_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("timeout: 3 # keep\n")
    cases = {
        "timeout=x": "parse timeout value 'x': strconv.Atoi: parsing \"x\": invalid syntax",
        "debug=yes": "parse debug value 'yes': strconv.ParseBool: parsing \"yes\": invalid syntax",
        "timeout": "incorrectly specified option: timeout",
        "a=b=c": "incorrectly specified option: a=b=c",
        "colour=red": "no configuration option named colour",
    }
    for setting, message in cases.items():
        assert config(capsys, path, "--set", setting) == (1, "", f"cri-client: {message}\n")
    assert path.read_text() == "timeout: 3 # keep\n"


def test_config_without_an_action_prints_its_help(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = config(capsys, tmp_path / "crictl.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("usage: cri-client config ")
    assert "pull-image-on-create" in out


def test_an_invalid_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text("colour: red\n")
    code, out, err = config(capsys, path, "--list")
    assert (code, out) == (1, "")
    assert err.startswith("cri-client: load config file: ") and "'colour'" in err


def test_rewrite_keeps_unknown_keys_and_canonicalises_plain_values() -> None:
    values = {
        "runtime-endpoint": "",
        "image-endpoint": "",
        "timeout": "5",
        "debug": "true",
        "pull-image-on-create": "false",
        "disable-pull-on-run": "false",
    }
    text = "max-retries: 3\ndebug: True\nruntime-endpoint:\n"
    assert rewrite(text, values) == (
        "max-retries: 3\n"
        "debug: true\n"
        'runtime-endpoint: ""\n'
        'image-endpoint: ""\n'
        "timeout: 5\n"
        "pull-image-on-create: false\n"
        "disable-pull-on-run: false\n"
    )


def test_assignments_and_values_parse_as_crictl() -> None:
    assert assignments(["a=1,b=2", "c="]) == [("a", "1"), ("b", "2"), ("c", "")]
    assert checked_value("timeout", "+010") == "10"
    assert checked_value("debug", "T") == "true"
    assert checked_value("image-endpoint", "") == ""
    with pytest.raises(UsageError, match="no configuration option named enable-streaming"):
        checked_value("enable-streaming", "true")
