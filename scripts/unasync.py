#!/usr/bin/env python3
"""Generate the sync modules in ``cri_client/_sync/`` from their asyncio sources in
``cri_client/_async/`` (same file names).

The sync and asyncio clients have one design: the code that calls the runtime is
written once, as asyncio code, and its sync form is derived from it mechanically
(the approach httpcore takes with ``unasync``). ``async def`` becomes ``def``,
``await x`` becomes ``x``, ``async for``/``async with`` lose their ``async``,
``Awaitable[T]`` becomes ``T``, the asyncio names in :data:`NAMES` become their sync
twins, ``cri_client._async.<module>`` becomes ``cri_client._sync.<module>``, a call
in a worker thread (``await to_thread(f, ...)``) becomes a plain call, and
``cri_client.aio`` in docstrings becomes ``cri_client``. Then
``ruff`` sorts the imports and drops the ones the sync form no longer needs.

    python scripts/unasync.py           # write the sync modules
    python scripts/unasync.py --check   # fail when one is stale (scripts/test.sh runs this)

Hand-written pieces whose concurrency differs (threads vs tasks) are not here: the
event stream, exec sessions, the terminal, port-forward, concurrent calls and the
followed log's stream have a module of the same name in ``_sync/`` and ``_async/``,
both over the I/O-free code in ``cri_client/_core/``;
``tests/unit/test_sync_async_surface.py`` compares the two public surfaces name by
name and signature by signature.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SOURCES = {
    f"cri_client/_async/{name}.py": f"cri_client/_sync/{name}.py"
    for name in ("client", "pods", "containers", "images", "support", "prune", "bulk")
}
"""asyncio source -> generated sync module."""

NAMES = {
    "AsyncCRIClient": "CRIClient",
    "AsyncPod": "Pod",
    "AsyncPodManager": "PodManager",
    "AsyncContainer": "Container",
    "AsyncContainerManager": "ContainerManager",
    "AsyncImage": "Image",
    "AsyncImageManager": "ImageManager",
    "AsyncExecSession": "ExecSession",
    "AsyncPortForward": "PortForward",
    "AsyncEventStream": "EventStream",
    "AsyncLogStream": "LogStream",
    "AsyncLowLevelAPI": "LowLevelAPI",
    "AsyncResponseStream": "ResponseStream",
    "AsyncInvoker": "SyncInvoker",
    "AsyncInvokerProtocol": "Invoker",
    "AsyncLister": "Lister",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "anext": "next",
    "aiter": "iter",
    "aclosing": "closing",
    "StopAsyncIteration": "StopIteration",
}
"""asyncio name -> sync name, replaced as whole words (in docstrings too)."""

NAME_PATTERN = r"\b(" + "|".join(NAMES) + r")\b"

RULES: list[tuple[str, str]] = [
    (r"\bfrom asyncio import sleep, to_thread\b", "from time import sleep"),
    (r"\bfrom asyncio import sleep\b", "from time import sleep"),
    (r"\bawait to_thread\(([\w.]+), ", r"\1("),  # a worker thread: in sync code, just a call
    (r"\bcri_client\._async\b", "cri_client._sync"),
    (r"\bcri_client\.aio\b", "cri_client"),
    (r"\basync (def|for|with)\b", r"\1"),
    (r"\bawait ", ""),
    (NAME_PATTERN, "{name}"),
]

FORBIDDEN = re.compile(r"\b(async|await|asyncio|aio|Awaitable|Async\w*|anext|aiter|aclose)\b")
"""What must not survive in a sync module (a new asyncio name missing from NAMES)."""


def unasync(source: str) -> str:
    """The sync form of an asyncio module's text (before ruff tidies the imports)."""
    text = source
    for pattern, replacement in RULES:
        if replacement == "{name}":
            text = re.sub(pattern, lambda match: NAMES[match.group(1)], text)
        else:
            text = re.sub(pattern, replacement, text)
    # Awaitable[T] -> T, innermost brackets first.
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\bAwaitable\[([^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*)\]", r"\1", text)
    return text


def check_source(source: str, source_path: str) -> None:
    """Refuse what the text rewrite would get wrong. It rewrites docstrings and
    comments on purpose (their examples become sync ones), but a string the program
    uses (a message, a key) would change meaning silently, so such a string must not
    contain a word the rewrite touches."""
    tree = ast.parse(source)
    exports = {
        id(element)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        and isinstance(node.value, (ast.List, ast.Tuple))
        for element in node.value.elts
    }  # names in __all__ are meant to become their sync names
    docstrings = {  # docstrings, attribute docstrings: strings standing alone
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | exports
            and (FORBIDDEN.search(node.value) or re.search(NAME_PATTERN, node.value))
        ):
            raise SystemExit(
                f"{source_path}:{node.lineno}: the string {node.value!r} would be rewritten "
                "in the sync module: word it so that it reads right in both"
            )


def render(source_path: str, target_path: str) -> str:
    """The generated module: header, converted text, imports tidied by ruff."""
    source = (ROOT / source_path).read_text()
    check_source(source, source_path)
    docstring_end = source.index('"""', 3) + 3
    header = (
        f"# Generated by scripts/unasync.py from {source_path}: do not edit.\n"
        f"# Change the asyncio source and run `python scripts/unasync.py`.\n"
    )
    # The module docstring stays as written: it says where the module comes from.
    text = _tidy(header + source[:docstring_end] + unasync(source[docstring_end:]), target_path)
    body = text[text.index('"""', text.index('"""') + 3) + 3 :]
    leftovers = sorted({match.group(0) for match in FORBIDDEN.finditer(body)})
    if leftovers:
        raise SystemExit(
            f"{target_path}: asyncio names left in the sync form: {', '.join(leftovers)} "
            "(add them to NAMES in scripts/unasync.py)"
        )
    return text


def _tidy(text: str, target_path: str) -> str:
    """Sort imports, drop unused ones, turn ``for x in y: yield x`` into ``yield from``,
    and format, as a hand-written module would be."""
    fix = [
        sys.executable, "-m", "ruff", "check", "--fix-only", "--exit-zero", "--quiet",
        "--select", "I,F401,UP028,UP034,RUF022", "--stdin-filename", target_path, "-",
    ]  # fmt: skip
    fixed = subprocess.run(fix, input=text, capture_output=True, text=True, check=True).stdout
    form = [sys.executable, "-m", "ruff", "format", "--quiet", "--stdin-filename", target_path, "-"]
    return subprocess.run(form, input=fixed, capture_output=True, text=True, check=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a module is stale")
    args = parser.parse_args()
    stale = []
    for source_path, target_path in SOURCES.items():
        text = render(source_path, target_path)
        target = ROOT / target_path
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target_path)
        elif not target.exists() or target.read_text() != text:
            target.write_text(text)
            print(f"wrote {target_path}")
    if stale:
        print(
            "stale generated sync modules (run `python scripts/unasync.py`): " + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
