"""The CLI's progress bar for bulk work: drawn on a terminal only, never imported
elsewhere; and ``--label`` taking crictl's pairs and kubectl's selectors."""

from __future__ import annotations

import io
import subprocess
import sys

from cri_client.cli.config import label_filter
from cri_client.cli.progress import bulk_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_and_nothing_written_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with bulk_progress(stream, 50, "Removing containers") as advance:
        for _ in range(50):
            advance()
    assert stream.getvalue() == ""


def test_a_bar_on_a_terminal_for_two_items_or_more() -> None:
    stream = Terminal()
    with bulk_progress(stream, 3, "Removing containers") as advance:
        for _ in range(3):
            advance()
    assert "Removing containers" in stream.getvalue()
    single = Terminal()
    with bulk_progress(single, 1, "Removing containers") as advance:
        advance()
    assert single.getvalue() == ""


def test_rich_is_loaded_neither_by_the_library_nor_by_the_cli_off_a_terminal() -> None:
    code = (
        "import io, sys, cri_client, cri_client.cli.main\n"
        "from cri_client.cli.progress import bulk_progress\n"
        "cri_client.CRIClient, cri_client.Container\n"
        "with bulk_progress(io.StringIO(), 10, 'x') as advance: advance()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_label_flags_are_crictls_pairs_or_a_selector() -> None:
    assert label_filter(None) is None
    assert label_filter(["app=web", "tier=front,env=prod"]) == {
        "app": "web",
        "tier": "front",
        "env": "prod",
    }
    assert label_filter(["app in (a,b)"]) == "app in (a,b)"
    assert label_filter(["app=web", "!canary"]) == "app=web,!canary"
    assert label_filter(["app!=web"]) == "app!=web"
    assert label_filter(["app==web"]) == "app==web"
