"""Every public name is importable from its documented public module and says so in
``__module__``; the package's namespace shows its exports and nothing else."""

from __future__ import annotations

import enum
import importlib
import subprocess
import sys

import pytest

import cri_client

PUBLIC_MODULES = [
    "cri_client",
    "cri_client.aio",
    "cri_client.errors",
    "cri_client.types",
    "cri_client.endpoint",
    "cri_client.logs",
    "cri_client.configs",
    "cri_client.testing",
]
"""The documented public modules (README, docs/api.md). ``cri_client.pb`` is public
too: it re-exports the generated CRI messages (checked below)."""

HOMES = {
    "cri_client": "cri_client",
    "cri_client.aio": "cri_client.aio",
    "cri_client.errors": "cri_client.errors",
    "cri_client.types": "cri_client.types",
}
"""Where a name defined for a module says it lives; names a module re-exports from
another public module keep that module's (``cri_client.ExecResult`` is
``cri_client.types.ExecResult``)."""


def exported() -> list[tuple[str, str]]:
    return [
        (module, name)
        for module in PUBLIC_MODULES
        for name in importlib.import_module(module).__all__
    ]


@pytest.mark.parametrize(("module", "name"), exported(), ids=lambda x: str(x))
def test_each_public_name_names_a_public_home(module: str, name: str) -> None:
    value = getattr(importlib.import_module(module), name)
    home = getattr(value, "__module__", None)
    if not isinstance(value, type) and not callable(value):
        return  # a constant or an alias: nothing to say where it lives
    assert home in PUBLIC_MODULES, f"{module}.{name} says it lives in {home}"
    assert getattr(importlib.import_module(home), name) is value


def test_classes_defined_for_a_module_show_it() -> None:
    assert cri_client.ExecResult.__module__ == "cri_client.types"
    assert cri_client.CRIClient.__module__ == "cri_client"
    assert cri_client.Pod.__module__ == "cri_client"
    assert cri_client.AmbiguousReferenceError.__module__ == "cri_client.errors"
    from cri_client import aio

    assert aio.AsyncPod.__module__ == "cri_client.aio"
    assert aio.AsyncLowLevelAPI.__module__ == "cri_client.aio"
    assert repr(cri_client.Pod) == "<class 'cri_client.Pod'>"


def test_the_package_namespace_is_its_exports() -> None:
    listed = dir(cri_client)
    assert len(listed) == len(set(listed))
    assert set(listed) == {*cri_client.__all__, "__version__"}
    for name in ("Any", "TYPE_CHECKING", "importlib", "annotations", "typing"):
        assert name not in listed
    assert len(cri_client.__all__) == len(set(cri_client.__all__))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cri_client.Nope  # noqa: B018


def test_the_version_is_single_sourced() -> None:
    from importlib.metadata import version

    assert cri_client.__version__ == version("cri-client")


def test_pb_is_the_home_of_the_messages() -> None:
    from cri_client import pb

    config = pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name="web", uid="1"))
    assert pb.PodSandboxConfig.FromString(config.SerializeToString()) == config
    assert pb.SANDBOX_READY == 0 and pb.CONTAINER_EXITED == 2


def test_enums_are_str_enums_in_types() -> None:
    from cri_client import types

    enums = [getattr(types, n) for n in types.__all__ if issubclass(getattr(types, n), enum.Enum)]
    assert {e.__name__ for e in enums} == {
        "PodState",
        "ContainerState",
        "ContainerEventType",
        "PruneReason",
        "PullPhase",
    }
    assert all(issubclass(e, str) for e in enums)


def test_importing_the_package_loads_no_client_code() -> None:
    """``import cri_client`` is cheap: the exports load on first use."""
    code = (
        "import sys, cri_client; "
        "print(sorted(m for m in sys.modules if m.startswith(('cri_client.', 'grpc', 'rich'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def public_callables() -> list[tuple[str, object]]:
    from cri_client import aio

    found = []
    for module in (cri_client, aio):
        for name in module.__all__:
            value = getattr(module, name)
            if not isinstance(value, type) or name.endswith("LowLevelAPI"):
                continue  # the low-level API mirrors the proto's fields one to one
            for attr, member in vars(value).items():
                if callable(member) and not attr.startswith("_"):
                    found.append((f"{name}.{attr}", member))
    return found


@pytest.mark.parametrize(("name", "function"), public_callables(), ids=lambda x: str(x))
def test_every_boolean_option_is_keyword_only(name: str, function: object) -> None:
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    positional_bools = [
        p.name
        for p in parameters
        if "bool" in str(p.annotation).split(" | ") and p.kind is not p.KEYWORD_ONLY
    ]
    assert positional_bools == [], f"{name}: pass these by keyword"


def test_manager_methods_take_objects_as_well_as_references() -> None:
    """``cri.pods.remove(pod)``: every by-reference method accepts the object too."""
    import inspect

    from cri_client import aio

    for manager, obj in (
        (cri_client.PodManager, "Pod"),
        (cri_client.ContainerManager, "Container"),
        (cri_client.ImageManager, "Image"),
        (aio.AsyncPodManager, "AsyncPod"),
        (aio.AsyncContainerManager, "AsyncContainer"),
        (aio.AsyncImageManager, "AsyncImage"),
    ):
        for method in ("get", "remove", "stop", "start"):
            if not hasattr(manager, method):
                continue
            annotation = inspect.signature(getattr(manager, method)).parameters["reference"]
            assert obj in str(annotation.annotation).split(" | "), f"{manager.__name__}.{method}"


def test_the_type_checking_names_are_the_lazy_exports() -> None:
    """``__init__.py`` names each export for the lazy loader (``_EXPORTS``) and again,
    under ``TYPE_CHECKING``, for type checkers: the two lists must agree, module and all."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(cri_client.__file__).read_text())
    for_checkers = {
        alias.asname or alias.name: node.module
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert for_checkers == cri_client._EXPORTS
