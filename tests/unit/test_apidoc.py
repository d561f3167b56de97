"""``scripts/apidoc.py`` (the API reference page) and the links between the docs.

The renderer runs on a small package built here from source text, so that the exact
Markdown it writes is pinned down independently of the real package (whose page is
checked for freshness by ``scripts/apidoc.py --check``). The link test reads every
relative link of ``docs/*.md`` and ``README.md`` with GitHub's anchor rules, the same
ones the generator uses for its own links.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("apidoc_script", ROOT / "scripts" / "apidoc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


apidoc = _load_script()

PACKAGE_SOURCE = '''
"""The fake package: a first paragraph
on two lines.

Not shown: only the first paragraph is.
"""

import importlib

__all__ = ["VERSION", "Widget"]

VERSION = "1.0"


def __getattr__(name):
    # Exported lazily, as cri_client does (PEP 562).
    if name == "Widget":
        return importlib.import_module("fakepkg.widgets").Widget
    raise AttributeError(name)
'''

WIDGETS_SOURCE = '''
"""Widgets, enums and errors."""

from __future__ import annotations

import enum

__all__ = ["LIMIT", "NAMES", "Color", "Widget", "BigWidget", "WidgetError", "make"]

LIMIT: int = 3
"""How many widgets at most."""

NAMES = ("a-rather-long-widget-name", "another-rather-long-one", "and-a-third-to-wrap-it")


class Color(str, enum.Enum):
    """A colour."""

    RED = "red"
    BLUE = "blue"


class _Base:
    @property
    def id(self) -> str:
        """The id."""
        return "w1"


class Widget(_Base):
    """A widget, see :class:`~fakepkg.widgets.Color`.

    Made like this::

        Widget("a", color=Color.BLUE)

    Args:
        name: what it is called,
            on two lines.
    """

    size: int
    """Its size, in units."""
    kind = "plain"

    def __init__(self, name: str, *, color: Color = Color.RED) -> None:
        self.name = name
        """Its name."""
        self.size = 1
        self.undocumented = True

    @property
    def label(self) -> str:
        """The label."""
        return self.name

    def paint(self, color: Color, times: int = 1) -> Widget:
        """Paint it.

        >>> Widget("a").paint(Color.BLUE)
        """
        return self

    async def fetch(self) -> None:
        """Fetch it."""

    @classmethod
    def parse(cls, text: str) -> Widget:
        return cls(text)

    def _private(self) -> None:
        """Not shown."""


class BigWidget(Widget):
    """A bigger widget."""

    def grow(self, by: int) -> None:
        """Grow."""


class WidgetError(ValueError):
    """A widget went wrong.

    Attributes:
        widget: the widget.
    """

    code: int = 1
    widget: Widget | None = None
    retry: bool = False
    """Whether trying again may help."""


def make(name: str, /, *names: str, strict: bool = False) -> list[Widget]:
    """Make widgets."""
    return []
'''

EXPECTED_PAGE = """\
# API reference

Generated from the docstrings by `python scripts/apidoc.py`: do not edit by hand.
After changing a docstring or a signature, run it again;
`python scripts/apidoc.py --check` fails while this page is stale.
The guides, by task, are in [index.md](index.md).

- [`fakepkg`](#fakepkg)
- [`fakepkg.widgets`](#fakepkgwidgets)

## `fakepkg`

The fake package: a first paragraph
on two lines.

Contents: [`VERSION`](#version).

Also exported here: [`Widget`](#class-widget) (`fakepkg.widgets`).

### `VERSION`

```python
VERSION = '1.0'
```

## `fakepkg.widgets`

Widgets, enums and errors.

Contents: [`LIMIT`](#limit), [`NAMES`](#names), [`Color`](#enum-color), \
[`Widget`](#class-widget), [`BigWidget`](#class-bigwidget), \
[`WidgetError`](#exception-widgeterror), [`make`](#make).

### `LIMIT`

```python
LIMIT: int = 3
```

How many widgets at most.

### `NAMES`

```python
NAMES = (
    'a-rather-long-widget-name',
    'another-rather-long-one',
    'and-a-third-to-wrap-it',
)
```

### enum `Color`

Bases: `str`, `enum.Enum`.

A colour.

**Members:**

- `RED` = `'red'`
- `BLUE` = `'blue'`

### class `Widget`

```python
class Widget(name: str, *, color: Color = Color.RED)
```

A widget, see `Color`.

Made like this:

```
Widget("a", color=Color.BLUE)
```

**Args:**

- `name`: what it is called, on two lines.

**Attributes:**

- `id: str` (property): The id.
- `size: int`: Its size, in units.
- `kind = 'plain'`
- `name`: Its name.
- `label: str` (property): The label.

#### `Widget.paint()`

```python
def paint(color: Color, times: int = 1) -> Widget
```

Paint it.

```pycon
>>> Widget("a").paint(Color.BLUE)
```

#### `Widget.fetch()`

```python
async def fetch() -> None
```

Fetch it.

#### `Widget.parse()`

```python
@classmethod
def parse(text: str) -> Widget
```

### class `BigWidget`

Bases: [`Widget`](#class-widget).

A bigger widget.

Inherited from [`Widget`](#class-widget): `id`, `size`, `kind`, `name`, `label`, `paint`, \
`fetch`, `parse`.

#### `BigWidget.grow()`

```python
def grow(by: int) -> None
```

Grow.

### exception `WidgetError`

Bases: `ValueError`.

A widget went wrong.

**Attributes:**

- `widget`: the widget.

**Other attributes:**

- `code: int = 1`
- `retry: bool = False`: Whether trying again may help.

### `make()`

```python
def make(name: str, /, *names: str, strict: bool = False) -> list[Widget]
```

Make widgets.
"""


@pytest.fixture
def fakepkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """``fakepkg`` and ``fakepkg.widgets``, made with ``types.ModuleType`` from the
    sources above; widgets' source is on disk so that attribute docstrings are found."""
    package = types.ModuleType("fakepkg")
    monkeypatch.setitem(sys.modules, "fakepkg", package)
    exec(compile(PACKAGE_SOURCE, "<fakepkg>", "exec"), package.__dict__)
    widgets = types.ModuleType("fakepkg.widgets")
    path = tmp_path / "widgets.py"
    path.write_text(WIDGETS_SOURCE)
    widgets.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "fakepkg.widgets", widgets)
    exec(compile(WIDGETS_SOURCE, str(path), "exec"), widgets.__dict__)
    yield ["fakepkg", "fakepkg.widgets"]


def test_renders_a_small_package_exactly(fakepkg: list[str]) -> None:
    assert apidoc.render(fakepkg).splitlines() == EXPECTED_PAGE.splitlines()


def test_the_page_is_the_same_every_time(fakepkg: list[str]) -> None:
    assert apidoc.render(fakepkg) == apidoc.render(fakepkg)


def test_check_reports_a_missing_or_stale_page(
    fakepkg: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "api.md"
    args = ["--modules", ",".join(fakepkg), "--output", str(page)]

    assert apidoc.main([*args, "--check"]) == 1
    assert f"{page} does not exist: run `python scripts/apidoc.py`" in capsys.readouterr().err
    assert not page.exists()

    assert apidoc.main(args) == 0
    assert page.read_text() == EXPECTED_PAGE
    assert apidoc.main([*args, "--check"]) == 0
    capsys.readouterr()

    page.write_text(EXPECTED_PAGE.replace("Make widgets.", "Make some widgets."))
    assert apidoc.main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{page} is stale: run `python scripts/apidoc.py`" in err
    assert "-Make some widgets.\n+Make widgets." in err  # the diff says what changed


def test_a_missing_module_fails_instead_of_being_skipped(
    fakepkg: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "api.md"
    modules = ",".join([*fakepkg, "fakepkg.types"])
    assert apidoc.main(["--modules", modules, "--output", str(page)]) == 1
    assert "cannot import fakepkg.types" in capsys.readouterr().err
    assert not page.exists()


def test_a_module_without_all_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "fakebare", types.ModuleType("fakebare"))
    assert apidoc.main(["--modules", "fakebare", "--output", str(tmp_path / "a.md")]) == 1
    assert "fakebare has no __all__" in capsys.readouterr().err


def test_the_page_documents_every_public_module() -> None:
    """The reference covers what the public surface test guards, pb in one line."""
    from tests.unit.test_public_surface import PUBLIC_MODULES

    assert sorted(apidoc.PUBLIC_MODULES) == sorted(PUBLIC_MODULES)
    assert [*apidoc.PUBLIC_MODULES, "cri_client.pb"] == apidoc.DEFAULT_MODULES


def test_signatures_have_no_addresses_and_wrap_one_parameter_a_line() -> None:
    sentinel = object()

    def function(a: int, b: object = sentinel, *, c: str = "x" * 60) -> None: ...

    assert apidoc.format_signature("def f", apidoc.signature_of(function)) == textwrap.dedent(
        f"""\
        def f(
            a: int,
            b: object = <object object>,
            *,
            c: str = '{"x" * 60}',
        ) -> None"""
    )


def test_docstring_markdown() -> None:
    doc = """Summary with :meth:`Pod.stop`, :class:`~a.b.C` and :class:`D <a.D>`.

    # not a heading

    Raises:
        NotFoundError: when it is gone.
        ValueError (builtin): for a bad name,
            named in the message.
    """
    assert apidoc.docstring_markdown(doc) == [
        "Summary with `Pod.stop`, `C` and `D`.",
        "",
        "\\# not a heading",
        "",
        "**Raises:**",
        "",
        "- `NotFoundError`: when it is gone.",
        "- `ValueError`: for a bad name, named in the message.",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("`cri_client.errors`", "cri_clienterrors"),
        ("`create(pod, name, image, *, ...)`", "createpod-name-image--"),
        ("Where we differ from crictl, and why", "where-we-differ-from-crictl-and-why"),
        ("Waits: `Container.wait()`, `Pod.wait_ready()`", "waits-containerwait-podwait_ready"),
        ("See [the docs](docs/x.md) now", "see-the-docs-now"),
    ],
)
def test_github_anchors(heading: str, anchor: str) -> None:
    assert apidoc.github_anchor(heading) == anchor


def test_repeated_headings_get_numbered_anchors() -> None:
    slugger = apidoc.Slugger()
    assert [slugger.slug(h) for h in ["asyncio", "asyncio", "`asyncio`"]] == [
        "asyncio",
        "asyncio-1",
        "asyncio-2",
    ]


# --- links between the docs ----------------------------------------------------------------

GENERATED_PAGES = {"docs/api.md"}
"""Linked to before it exists: written by ``scripts/apidoc.py`` once the public modules
it documents are all there. Its anchors are checked when it exists."""

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def _prose(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for the lines outside fenced code blocks."""
    fence = ""
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)
        elif not fence:
            yield number, line


def anchors_of(path: Path) -> set[str]:
    """The anchors GitHub makes for a Markdown file's headings, and its HTML anchors."""
    slugger = apidoc.Slugger()
    anchors = set()
    for _number, line in _prose(path.read_text()):
        if heading := re.match(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", line):
            anchors.add(slugger.slug(heading.group(1)))
        anchors.update(HTML_ANCHOR.findall(line))
    return anchors


def links_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, target) of each link in a Markdown file, outside code."""
    for number, line in _prose(path.read_text()):
        prose = CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), line)
        for match in LINK.finditer(prose):
            yield number, match.group(1)
        if reference := REFERENCE.match(prose):
            yield number, reference.group(1)


def broken_links(files: list[Path]) -> list[str]:
    """``file:line: target: why`` for each relative link whose file or anchor is missing."""
    problems = []
    for path in files:
        for number, target in links_of(path):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path.resolve()
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            relative = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else ""
            if not linked.exists():
                if relative not in GENERATED_PAGES:
                    problems.append(f"{where}: no such file")
            elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
                problems.append(f"{where}: no heading with that anchor")
    return problems


def test_relative_links_in_the_docs_resolve() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert broken_links(files) == []


def test_the_link_check_finds_broken_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "# A\n\n## Second `part`\n\n"
        "[ok](#second-part) [ok](b.md) [ok](../README.md#readme) [gen](api.md)\n"
        "[bad](#second) [bad](c.md) `[not a link](c.md)`\n\n"
        "```\n[not a link](c.md)\n```\n"
    )
    (tmp_path / "docs" / "b.md").write_text("# B\n")
    (tmp_path / "README.md").write_text("# README\n\n[bad](docs/b.md#nothing)\n")
    files = [tmp_path / "README.md", tmp_path / "docs" / "a.md"]
    assert broken_links(files) == [
        "README.md:3: docs/b.md#nothing: no heading with that anchor",
        "docs/a.md:6: #second: no heading with that anchor",
        "docs/a.md:6: c.md: no such file",
    ]
