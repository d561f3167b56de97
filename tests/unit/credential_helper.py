"""A real docker credential helper program for tests: ``docker-credential-<name>``,
written to a directory the test puts on PATH, answering from a JSON file there.

It speaks the docker-credential-helpers protocol (server address on stdin, JSON on
stdout, "credentials not found in native keychain" and exit 1 when it has none)
and records every call, so tests see whether, and with what, it was run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_SCRIPT = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
server = sys.stdin.read().strip()
with open(here / "{name}.calls", "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + " " + server + "\\n")
answer = json.loads((here / "{name}.json").read_text()).get(server)
if answer is None:
    print("credentials not found in native keychain")
    sys.exit(1)
if "fail" in answer:
    print(answer["fail"], file=sys.stderr)
    sys.exit(3)
if "raw" in answer:
    print(answer["raw"])
    sys.exit(0)
print(json.dumps({{"ServerURL": server, **answer}}))
"""


class FakeHelper:
    """``docker-credential-<name>`` in ``directory``; ``store`` is what it knows:
    server -> {"Username": .., "Secret": ..}, or {"fail": stderr text} to exit 3, or
    {"raw": text} to print ``text`` and exit 0."""

    def __init__(self, directory: Path, name: str = "test") -> None:
        self.directory = directory
        self.name = name
        directory.mkdir(parents=True, exist_ok=True)
        program = directory / f"docker-credential-{name}"
        program.write_text(_SCRIPT.format(python=sys.executable, name=name))
        program.chmod(0o700)
        self.store({})

    def store(self, answers: dict[str, dict[str, str]]) -> None:
        (self.directory / f"{self.name}.json").write_text(json.dumps(answers))

    def calls(self) -> list[str]:
        """One ``get <server>`` line per run."""
        path = self.directory / f"{self.name}.calls"
        return path.read_text().splitlines() if path.exists() else []
