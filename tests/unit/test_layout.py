"""The layers of docs/design.md, enforced: walk every module's imports and fail when a
lower layer imports a higher one at run time, when the two flavours import each other,
when the command line imports a private module, or when run-time imports form a cycle.

An import under ``if TYPE_CHECKING:`` is for annotations only and never runs; a
function-level import runs when the function is called and counts like a top-level one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cri_client"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("values", ("cri_client._proto", "cri_client._core", "cri_client.errors", "cri_client.types",
                "cri_client.pb")),
    ("transport", ("cri_client.endpoint", "cri_client._rpc", "cri_client._api",
                   "cri_client._client_base")),
    ("clients", ("cri_client._async", "cri_client._sync")),
    ("public", ("cri_client.aio", "cri_client.logs", "cri_client.configs", "cri_client.__init__")),
    ("applications", ("cri_client.cli", "cri_client.testing", "cri_client.__main__")),
]  # fmt: skip
"""Lowest first: a module may import its own layer and those before it, never a later one."""

PUBLIC_MODULES = {
    "cri_client",
    "cri_client.aio",
    "cri_client.configs",
    "cri_client.endpoint",
    "cri_client.errors",
    "cri_client.logs",
    "cri_client.pb",
    "cri_client.types",
}
"""What ``cri_client/cli/`` may import besides itself, and all the Ansible collection
(``ansible_collections/``) may import: the documented public modules."""

COLLECTION_SOURCES = sorted((PACKAGE.parent / "ansible_collections").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    key = "cri_client.__init__" if module == "cri_client" else module
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(key == p or key.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS: add it to the right one")


def is_module(name: str) -> bool:
    path = PACKAGE.parent / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> Iterator[tuple[str, bool, int]]:
    """(imported module, at run time?, line) for every cri_client import in ``path``."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        runtime = id(node) not in type_only
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cri_client"):
                    yield alias.name, runtime, node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cri_client"):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                yield (submodule if is_module(submodule) else module), runtime, node.lineno


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "_proto" not in p.parts)
GRAPH = {module_name(p): list(imports(p)) for p in SOURCES}


def test_every_module_is_in_a_layer() -> None:
    for module in GRAPH:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_lower_layer_imports_a_higher_one(module: str) -> None:
    wrong = [
        f"line {line}: {target} ({LAYERS[layer_of(target)][0]})"
        for target, runtime, line in GRAPH[module]
        if runtime and layer_of(target) > layer_of(module)
    ]
    assert wrong == [], f"{module} ({LAYERS[layer_of(module)][0]}) imports a higher layer"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_the_flavours_do_not_import_each_other(module: str) -> None:
    for mine, other in (("cri_client._async", "cri_client._sync"), ("cri_client._sync", "_async")):
        if module.startswith(mine):
            assert [t for t, _, _ in GRAPH[module] if other in t] == []


def test_the_command_line_imports_only_public_modules() -> None:
    wrong = [
        f"{module} line {line}: {target}"
        for module, found in GRAPH.items()
        if module.startswith("cri_client.cli")
        for target, _, line in found
        if target not in PUBLIC_MODULES and not target.startswith("cri_client.cli")
    ]
    assert wrong == []


def test_the_ansible_collection_imports_only_public_modules() -> None:
    assert COLLECTION_SOURCES, "no ansible_collections/**/*.py found"
    found = {
        f"{path.relative_to(PACKAGE.parent)} line {line}: {target}"
        for path in COLLECTION_SOURCES
        for target, _, line in imports(path)
    }
    assert found, "the collection imports nothing from cri_client: is the walker blind?"
    assert {entry for entry in found if entry.rsplit(": ", 1)[1] not in PUBLIC_MODULES} == set()


def test_no_run_time_import_cycles() -> None:
    edges = {
        module: {t for t, runtime, _ in found if runtime and t != module and t in GRAPH}
        for module, found in GRAPH.items()
    }
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(edges[module]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(edges):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    """The walker itself: an import of a higher layer and a type-only one are told apart."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from cri_client._sync.client import CRIClient\n"
        "if TYPE_CHECKING:\n    from cri_client.cli import main\n"
        "def later():\n    from cri_client import aio\n"
    )
    assert list(imports(source)) == [
        ("cri_client._sync.client", True, 2),
        ("cri_client.cli.main", False, 4),
        ("cri_client.aio", True, 6),
    ]
    assert layer_of("cri_client._core.views") < layer_of("cri_client._sync.client")
    assert layer_of("cri_client.cli.main") > layer_of("cri_client")
