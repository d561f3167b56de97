"""The sync and asyncio surfaces cannot drift apart.

Every public class of the sync client is compared with its asyncio twin: the same
public names (methods, properties, attributes set in ``__init__``), and for each the
same parameters, defaults and annotations once the asyncio names are read as their
sync ones (``AsyncPod`` -> ``Pod``, ``Awaitable[T]`` -> ``T``, ... the table of
``scripts/unasync.py``). A difference fails the test unless :data:`DELIBERATE` lists
it with its reason. Most of the async surface is the source of the sync one
(``scripts/unasync.py``), so this mostly guards the hand-written twins (event
streams, exec sessions, port-forward) and the generator itself.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cri_client
from cri_client import aio, logs
from cri_client._async import concurrency as aio_concurrency
from cri_client._async import events as aio_events
from cri_client._async import terminal as aio_terminal
from cri_client._sync import concurrency, events, terminal

ROOT = Path(__file__).resolve().parents[2]


def _load_unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UNASYNC = _load_unasync()

PAIRS: list[tuple[type, type]] = [
    (getattr(cri_client, UNASYNC.NAMES[name]), getattr(aio, name)) for name in aio.__all__
]
"""Every public asyncio class and its sync twin, found by the generator's name table."""

FUNCTIONS = [
    (logs.follow, logs.follow_async),
    (terminal.interact, aio_terminal.interact),
    (events.wait_for, aio_events.wait_for),
    (concurrency.all_at_once, aio_concurrency.all_at_once),
    (concurrency.each_at_most, aio_concurrency.each_at_most),
]

RETURNS_A_STREAM = {
    "AsyncContainer": {"logs", "stats", "exec_stream", "attach"},
    "AsyncPod": {"port_forward"},
    "AsyncCRIClient": {"events"},
}
"""Methods that return a stream or an unopened session: plain ``def`` in both
flavours (``async for x in ctr.logs(follow=True)``, ``async with ctr.exec_stream()``).
Every other public method of an asyncio class is a coroutine function, except what
only reads the object (``to_dict``, ``uses_stream``) and the iteration protocol."""

NEVER_AWAITED = {"to_dict", "__aiter__", "__await__", "__repr__"}

ASYNC_PROTOCOL = {"__aenter__", "__aexit__", "__anext__"}
"""Coroutines by definition, whatever they return."""

PROTOCOL_TWINS = {
    "__iter__": "__aiter__",
    "__next__": "__anext__",
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
    "close": "aclose",
}
"""Sync name -> its asyncio twin where the two protocols name it differently.
``aclose`` is the asynchronous generator's (``AsyncLogStream`` keeps it, so
``contextlib.aclosing`` works); a class with an awaitable ``close`` instead
(``AsyncEventStream``) is compared with its twin's ``close``."""
SYNC_NAMES = {twin: name for name, twin in PROTOCOL_TWINS.items()}
PUBLIC_DUNDERS = {*PROTOCOL_TWINS, *SYNC_NAMES, "__await__"}

DELIBERATE: dict[tuple[str, str], str] = {
    ("AsyncExecSession", "__await__"): (
        "a session opens on `await session` as well as on `async with`; the sync one "
        "opens when it is made"
    ),
    ("AsyncPortForward", "__await__"): (
        "listening starts on `await forward` as well as on `async with`; the sync one "
        "starts when it is made"
    ),
}
"""(class, name) present on one side only, and why."""


def public_names(cls: type) -> dict[str, str]:
    """name -> "method" | "property" | "attribute" for the public surface of ``cls``."""
    names: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):  # without object
        for name, value in vars(klass).items():
            if name.startswith("_") and name not in PUBLIC_DUNDERS:
                continue
            if isinstance(value, property):
                names[name] = "property"
            elif callable(value) or isinstance(value, (staticmethod, classmethod)):
                names[name] = "method"
            else:
                names[name] = "attribute"
        init = vars(klass).get("__init__")
        if init is not None and not inspect.isbuiltin(init):
            for name in init_attributes(init):
                names[name] = "attribute"
    return names


def init_attributes(init: Any) -> set[str]:
    """Public ``self.<name> = ...`` targets in an ``__init__``."""
    try:
        source = textwrap.dedent(inspect.getsource(init))
    except (OSError, TypeError):
        return set()
    found = set()
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ):
                found.add(target.attr)
    return found


def as_sync(text: str) -> str:
    return str(UNASYNC.unasync(text))


def signature_text(function: Any) -> str:
    """The signature as text, annotations as written (strings: postponed evaluation)."""
    return str(inspect.signature(function))


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda cls: cls.__name__)
def test_the_same_public_names(sync_cls: type, async_cls: type) -> None:
    sync_names = public_names(sync_cls)
    async_names = {
        SYNC_NAMES.get(name, name): kind for name, kind in public_names(async_cls).items()
    }
    only_sync = {n for n in sync_names.keys() - async_names.keys()}
    only_async = {
        n
        for n in async_names.keys() - sync_names.keys()
        if (async_cls.__name__, n) not in DELIBERATE
    }
    assert (sorted(only_sync), sorted(only_async)) == ([], [])
    kinds = {n: (sync_names[n], async_names[n]) for n in sync_names.keys() & async_names.keys()}
    assert {n: k for n, k in kinds.items() if k[0] != k[1]} == {}


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda cls: cls.__name__)
def test_the_same_signatures(sync_cls: type, async_cls: type) -> None:
    compared = 0
    for name, kind in public_names(sync_cls).items():
        twin = PROTOCOL_TWINS.get(name, name)
        twin = twin if hasattr(async_cls, twin) else name
        if kind != "method" or not hasattr(async_cls, twin):
            continue  # a missing name is test_the_same_public_names' finding
        async_signature = as_sync(signature_text(getattr(async_cls, twin)))
        assert async_signature == signature_text(getattr(sync_cls, name)), name
        compared += 1
    assert as_sync(signature_text(async_cls.__init__)) == signature_text(sync_cls.__init__)
    assert compared > 0


def await_rule_violations(sync_cls: type, async_cls: type) -> list[str]:
    """docs/asyncio.md: what asks the runtime for a value is awaited; what returns a
    stream is not. The asyncio methods that break that rule."""
    wrong = []
    for name, kind in public_names(async_cls).items():
        if kind != "method" or name in NEVER_AWAITED:
            continue
        sync_twin = getattr(sync_cls, SYNC_NAMES.get(name, name))
        returns = str(inspect.signature(sync_twin).return_annotation)
        plain = name in RETURNS_A_STREAM.get(async_cls.__name__, set()) or (
            returns.startswith(("ResponseStream", "Iterator")) and name not in ASYNC_PROTOCOL
        )
        if inspect.iscoroutinefunction(getattr(async_cls, name)) == plain:
            wrong.append(name)
    return wrong


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda cls: cls.__name__)
def test_the_rule_for_await(sync_cls: type, async_cls: type) -> None:
    assert await_rule_violations(sync_cls, async_cls) == []


@pytest.mark.parametrize(("sync_function", "async_function"), FUNCTIONS, ids=str)
def test_module_functions_have_the_same_signatures(sync_function: Any, async_function: Any) -> None:
    assert as_sync(signature_text(async_function)) == signature_text(sync_function)


def overloads(cls: type) -> dict[str, list[str]]:
    """method -> its ``@overload`` signatures as source text (typing.get_overloads is
    3.11+, and the package supports 3.10)."""
    found: dict[str, list[str]] = {}
    # inspect.getsource(cls) looks in the module __module__ names, and public classes
    # name their public home (cri_client), not the file they are defined in.
    defined_in = next(f.__code__.co_filename for f in vars(cls).values() if inspect.isfunction(f))
    tree = ast.parse(Path(defined_in).read_text())
    (class_node,) = [
        n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__
    ]
    for node in ast.walk(class_node):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list
        ):
            returns = ast.unparse(node.returns) if node.returns else ""
            found.setdefault(node.name, []).append(f"({ast.unparse(node.args)}) -> {returns}")
    return found


def test_overloads_agree() -> None:
    """``logs()`` and ``stats()`` return a stream or a value depending on an argument."""
    sync_overloads = overloads(cri_client.Container)
    async_overloads = {
        name: [as_sync(text) for text in texts]
        for name, texts in overloads(aio.AsyncContainer).items()
    }
    assert sorted(sync_overloads) == ["logs", "stats"]
    assert async_overloads == sync_overloads


def test_a_difference_is_caught() -> None:
    """The comparison itself sees a changed default and a missing method."""

    class Sync:
        def get(self, reference: str, *, all: bool = False) -> int:
            return 0

        def extra(self) -> None:
            pass

    class AsyncSync:
        async def get(self, reference: str, *, all: bool = True) -> int:
            return 0

    assert as_sync(signature_text(AsyncSync.get)) != signature_text(Sync.get)
    assert public_names(Sync).keys() - public_names(AsyncSync).keys() == {"extra"}


def test_the_await_rule_check_sees_a_plain_method() -> None:
    """A method that lost its ``async`` (it would write nothing) is a violation."""

    class Session:
        def write(self, data: bytes) -> None: ...

        def read(self) -> bytes: ...

    class AsyncSession:
        def write(self, data: bytes) -> None: ...

        async def read(self) -> bytes: ...

    assert await_rule_violations(Session, AsyncSession) == ["write"]


def test_the_generator_rewrites_code_and_refuses_ambiguous_strings() -> None:
    source = (
        "async def f(x: AsyncPod) -> Awaitable[list[AsyncContainer]]:\n"
        "    async with x:\n"
        "        return [c async for c in await x.containers()]\n"
    )
    assert UNASYNC.unasync(source) == (
        "def f(x: Pod) -> list[Container]:\n"
        "    with x:\n"
        "        return [c for c in x.containers()]\n"
    )
    assert UNASYNC.unasync("not await a or b") == "not a or b"
    UNASYNC.check_source('"""await is fine in documentation"""\n', "doc.py")
    with pytest.raises(SystemExit, match="would be rewritten"):
        UNASYNC.check_source('message = "please await it"\n', "code.py")
    with pytest.raises(SystemExit, match="would be rewritten"):
        UNASYNC.check_source('kind = "AsyncPod"\n', "code.py")


def test_the_async_package_exports_every_twin() -> None:
    exported = {getattr(aio, name) for name in aio.__all__}
    assert {async_cls for _, async_cls in PAIRS} <= exported
