"""Ask Go whether the answers in tests/unit/test_cli_gotemplate.py are still Go's.

Needs a Go toolchain (``apt-get install golang-go``); not part of CI. Runs every
template of ``GO_ANSWERS`` through ``scripts/go_template_oracle`` (Go's own
text/template, set up as crictl sets it up) and prints each case where Go's answer
differs from the table; exit 1 if any does. Use it after adding cases to the table
(write ``"?"`` as the expected value and copy Go's answer in).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.unit.test_cli_gotemplate import GO_ANSWERS

    with tempfile.TemporaryDirectory() as build:
        oracle = Path(build) / "oracle"
        subprocess.run(
            ["go", "build", "-o", str(oracle), "."],
            cwd=ROOT / "scripts" / "go_template_oracle",
            check=True,
        )
        differ = 0
        for template, document, expected in GO_ANSWERS:
            answer = subprocess.run(
                [str(oracle), template, document], capture_output=True, text=True, check=True
            ).stdout
            if answer != expected:
                differ += 1
                print(f"{template!r}\n  table: {expected!r}\n  go:    {answer!r}")
    print(f"{differ} of {len(GO_ANSWERS)} differ from Go")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
