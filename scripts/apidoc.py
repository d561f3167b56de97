#!/usr/bin/env python3
"""Write ``docs/api.md``, the API reference, from the public modules' docstrings.

  python scripts/apidoc.py           # rewrite docs/api.md
  python scripts/apidoc.py --check   # exit 1 if docs/api.md is stale

The reference is generated so that it cannot say something the code does not, and
committed so that it reads on GitHub with nothing to build; ``--check`` fails when a
docstring or a signature changed without the page being regenerated.

What is documented is what each module of :data:`PUBLIC_MODULES` lists in ``__all__``,
in that order, read through ``getattr`` (``cri_client`` exports its names lazily):

* a module: its docstring's first paragraph, and the names it re-exports from another
  documented module, linked to where they are documented (each object is documented
  once, in the module whose name is closest to the one that defines it);
* a class: its constructor's signature, its docstring, its bases when they say
  something (an exception's parent, an enum's mixin; private bases are not shown,
  their members are listed as the class's own), its public attributes (annotated
  fields, attributes with a docstring, properties), its public methods, and the
  members it inherits from another documented class, by name, linked to that class;
* an enum: its members and values; a function: its signature and docstring; anything
  else: its value.

Signatures are rendered from ``inspect.signature`` with the annotations as written
(every module uses ``from __future__ import annotations``, so they are strings), and
defaults by ``repr`` without memory addresses: the page depends only on the source.
Docstrings are reST-flavoured; the few constructs they use (``::`` literal blocks,
``>>>`` examples, Google-style ``Args:`` sections, ``:class:`X``` roles) become Markdown.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import enum
import functools
import importlib
import inspect
import re
import sys
import textwrap
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api.md"

PUBLIC_MODULES = [
    "cri_client",
    "cri_client.errors",
    "cri_client.types",
    "cri_client.aio",
    "cri_client.endpoint",
    "cri_client.logs",
    "cri_client.configs",
    "cri_client.testing",
]
"""The modules documented in full, in this order."""

PROTOBUF_MODULE = "cri_client.pb"
PROTOBUF_SUMMARY = (
    "Re-exports the CRI `runtime.v1` protobuf messages and enums generated from "
    "`proto/api.proto` (`pb.PodSandboxConfig`, `pb.ContainerConfig`, ...). They are not "
    "listed here: the proto's comments document them, and "
    "[low-level.md](low-level.md) shows how to use them."
)
"""The protobuf module is imported (it must exist) but gets this one line: listing a few
hundred generated messages would drown the rest of the page."""

DEFAULT_MODULES = [*PUBLIC_MODULES, PROTOBUF_MODULE]

SIGNATURE_WIDTH = 88
"""A signature longer than this is written one parameter per line, as ruff formats it."""

HEADER = [
    "# API reference",
    "",
    "Generated from the docstrings by `python scripts/apidoc.py`: do not edit by hand.",
    "After changing a docstring or a signature, run it again;",
    "`python scripts/apidoc.py --check` fails while this page is stale.",
    "The guides, by task, are in [index.md](index.md).",
    "",
]

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ROLE = re.compile(r":(?:py:)?(?:mod|class|meth|func|data|attr|exc|obj|const|ref):`(~?)([^`]+)`")
SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Attributes|Returns|Yields|Raises|"
    r"Keyword Args|Keyword Arguments|Example|Examples):\s*$"
)
ITEM = re.compile(r"^(\*{0,2}[A-Za-z_][\w.]*)(\s*\([^()]*\))?:\s+(.*)$")
FENCE = "```"


class ApiDocError(Exception):
    """A module, an ``__all__`` or a name the page needs is missing: the page would be
    wrong, so nothing is written."""


# --- anchors: GitHub's rules, shared with the docs link test ---------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading, before de-duplication: the visible
    text (link targets and backticks dropped), lower-cased, without punctuation other
    than ``-`` and ``_``, spaces turned into ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = text.replace("`", "").lower()
    text = "".join(char for char in text if char.isalnum() or char in "-_ ")
    return text.replace(" ", "-")


class Slugger:
    """GitHub's de-duplication: the second heading with anchor ``a`` gets ``a-1``."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def slug(self, heading: str) -> str:
        base = github_anchor(heading)
        anchor = base
        while anchor in self.seen:
            self.seen[base] += 1
            anchor = f"{base}-{self.seen[base]}"
        self.seen[anchor] = 0
        return anchor


# --- signatures -------------------------------------------------------------------------


class _Verbatim:
    """Stands in for an annotation or a default so that ``inspect`` prints our text
    as-is (it would quote a string annotation, and print a default with ``repr``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def annotation_text(annotation: object) -> str:
    """A string annotation as written; an evaluated one as ``inspect`` prints it."""
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def value_text(value: object) -> str:
    """``repr`` that is the same on every run: enum members by name, sets sorted,
    no ``at 0x...`` addresses."""
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (set, frozenset)) and value:
        items = ", ".join(sorted(value_text(item) for item in value))
        return f"{{{items}}}" if isinstance(value, set) else f"frozenset({{{items}}})"
    return ADDRESS.sub("", repr(value))


def assignment_text(target: str, value: object) -> str:
    """``target = value``; a tuple, list or dict that does not fit in
    :data:`SIGNATURE_WIDTH` is written one item per line, as ruff formats it."""
    one_line = f"{target} = {value_text(value)}"
    items: list[str] = []
    if isinstance(value, dict) and type(value) is dict:  # not a subclass: its repr differs
        brackets, items = "{}", [f"{value_text(k)}: {value_text(v)}" for k, v in value.items()]
    elif isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        brackets = "()" if isinstance(value, tuple) else "[]"
        items = [value_text(item) for item in value]
    if len(one_line) <= SIGNATURE_WIDTH or not items:
        return one_line
    return "\n".join(
        [f"{target} = {brackets[0]}", *(f"    {item}," for item in items), brackets[1]]
    )


def signature_of(obj: Callable[..., Any]) -> inspect.Signature | None:
    """``inspect.signature``, or None for a callable it cannot read (a C builtin)."""
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def format_signature(
    prefix: str, signature: inspect.Signature | None, *, drop_first: bool = False
) -> str:
    """``prefix(params) -> ret``, one parameter per line when it does not fit in
    :data:`SIGNATURE_WIDTH`. ``drop_first`` drops ``self``/``cls``."""
    if signature is None:
        return f"{prefix}(...)"
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if drop_first and params and params[0].kind in positional:
        params = params[1:]
    parts: list[str] = []
    for index, param in enumerate(params):
        if param.kind is inspect.Parameter.KEYWORD_ONLY and (
            index == 0 or params[index - 1].kind not in (param.kind, param.VAR_POSITIONAL)
        ):
            parts.append("*")
        shown = param.replace(
            annotation=param.empty
            if param.annotation is param.empty
            else _Verbatim(annotation_text(param.annotation)),
            default=param.empty
            if param.default is param.empty
            else _Verbatim(value_text(param.default)),
        )
        parts.append(str(shown))
        last_positional_only = param.kind is param.POSITIONAL_ONLY and (
            index + 1 == len(params) or params[index + 1].kind is not param.POSITIONAL_ONLY
        )
        if last_positional_only:
            parts.append("/")
    returns = ""
    if signature.return_annotation is not signature.empty:
        returns = f" -> {annotation_text(signature.return_annotation)}"
    one_line = f"{prefix}({', '.join(parts)}){returns}"
    if len(one_line) <= SIGNATURE_WIDTH or not parts:
        return one_line
    return "\n".join([f"{prefix}(", *(f"    {part}," for part in parts), f"){returns}"])


# --- docstrings ---------------------------------------------------------------------------


def _roles(text: str) -> str:
    """``:class:`~a.b.C``` -> ```C```, ``:func:`f``` -> ```f```, ``:class:`title <a.C>```
    -> ```title```."""

    def replace(match: re.Match[str]) -> str:
        target = " ".join(match.group(2).split())  # a role may span lines
        if titled := re.fullmatch(r"(.+?)\s*<[^<>]+>", target):
            return f"`{titled.group(1)}`"
        return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"

    return ROLE.sub(replace, text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block(lines: list[str], start: int, base: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented deeper than ``base`` (blank lines inside kept),
    dedented, and the index after them."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return textwrap.dedent("\n".join(lines[start:end])).splitlines(), end


def docstring_markdown(doc: str | None) -> list[str]:
    """A docstring as Markdown lines.

    ``text::`` and the indented block after it become ``text:`` and a fenced block; a
    paragraph of ``>>>`` lines a ``pycon`` block; ``Args:``-style sections a bold title
    and a list (``name: text`` items get the name in backticks); other text loses its
    indentation (Markdown would take an indented line for code) and its reST roles.
    """
    if not doc or not doc.strip():
        return []
    lines = _roles(inspect.cleandoc(doc)).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            if out and out[-1]:
                out.append("")
            i += 1
        elif stripped.startswith(">>>"):
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            out += [FENCE + "pycon", *textwrap.dedent("\n".join(lines[i:end])).splitlines()]
            out += [FENCE]
            i = end
        elif (
            (section := SECTION.match(stripped))
            and i + 1 < len(lines)
            and _indent(lines[i + 1]) > _indent(line)
        ):
            body, i = _block(lines, i + 1, _indent(line))
            out += [f"**{section.group(1)}:**", ""]
            for body_line in body:
                if not body_line.strip():
                    continue
                if _indent(body_line) == 0:
                    item = ITEM.match(body_line)
                    text = f"`{item.group(1)}`: {item.group(3)}" if item else body_line
                    out.append(f"- {text}")
                else:
                    out[-1] += f" {body_line.strip()}"
            out.append("")
        elif stripped.endswith("::"):
            text = stripped[:-2].rstrip()
            if text:
                out.append(_escape(text + ":"))
            start = i + 1
            while start < len(lines) and not lines[start].strip():
                start += 1
            if start < len(lines) and _indent(lines[start]) > _indent(line):
                code, i = _block(lines, start, _indent(line))
                out += ["", FENCE, *code, FENCE]
            else:
                i += 1
        else:
            out.append(_escape(stripped))
            i += 1
    while out and not out[-1]:
        out.pop()
    return out


def _escape(text: str) -> str:
    """A docstring line that Markdown would take for a heading is escaped: the only
    headings on the page are the generator's, so that its anchors are the ones GitHub
    makes."""
    return "\\" + text if text.startswith("#") else text


def first_paragraph(doc: str | None) -> list[str]:
    """The docstring's first paragraph, as Markdown lines."""
    if not doc:
        return []
    paragraph = _roles(inspect.cleandoc(doc)).split("\n\n", 1)[0]
    return [_escape(line.strip()) for line in paragraph.splitlines()]


# --- attribute docstrings, read from the source -----------------------------------------


class Attribute(NamedTuple):
    """A documented attribute: its annotation as written, the string literal after it
    in the source (how attributes are documented), and its class-level value, each if
    any."""

    annotation: str | None
    doc: str | None
    value: str | None = None

    def merged(self, older: Attribute) -> Attribute:
        """This attribute, completed by what an earlier definition said (a subclass
        that sets ``code = ...`` keeps the base's annotation and docstring)."""
        return Attribute(
            self.annotation or older.annotation, self.doc or older.doc, self.value or older.value
        )


@functools.cache
def _module_tree(module_name: str) -> ast.Module | None:
    """The parsed source of a module, or None when it has none (built in memory)."""
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        return ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return None


def _assigned_names(statement: ast.stmt, owner: str | None) -> tuple[list[str], str | None]:
    """Names an assignment binds (``owner.name`` targets when ``owner`` is given) and its
    annotation's source."""
    targets: list[ast.expr]
    if isinstance(statement, ast.AnnAssign):
        targets, annotation = [statement.target], ast.unparse(statement.annotation)
    elif isinstance(statement, ast.Assign):
        targets, annotation = list(statement.targets), None
    else:
        return [], None
    names = []
    for target in targets:
        if owner is None and isinstance(target, ast.Name):
            names.append(target.id)
        elif (
            owner is not None
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == owner
        ):
            names.append(target.attr)
    return names, annotation


def _attributes(body: Sequence[ast.stmt], owner: str | None = None) -> dict[str, Attribute]:
    """Attributes assigned in a body of statements, in order, with their docstrings."""
    found: dict[str, Attribute] = {}
    for index, statement in enumerate(body):
        names, annotation = _assigned_names(statement, owner)
        following = body[index + 1] if index + 1 < len(body) else None
        doc = None
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            doc = following.value.value
        for name in names:
            found[name] = Attribute(annotation, doc).merged(found.get(name, Attribute(None, None)))
    return found


def module_attributes(module_name: str) -> dict[str, Attribute]:
    """The module-level assignments of a module, with their docstrings."""
    tree = _module_tree(module_name)
    return _attributes(tree.body) if tree else {}


def class_attributes(cls: type) -> dict[str, Attribute]:
    """A class's attributes from its source: those assigned in its body and those set on
    ``self`` at the top level of its ``__init__``."""
    tree = _module_tree(cls.__module__)
    if tree is None:
        return {}
    body: Sequence[ast.stmt] = tree.body
    node: ast.ClassDef | None = None
    for part in cls.__qualname__.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return {}
        body = node.body
    found = _attributes(body)
    for statement in body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            self_name = statement.args.args[0].arg if statement.args.args else "self"
            for name, attribute in _attributes(statement.body, self_name).items():
                found.setdefault(name, attribute)
    return found


# --- what a module exports ----------------------------------------------------------------


def import_module(name: str) -> types.ModuleType:
    """The module, or an error that says the page cannot be made without it (a module
    that is missing is never skipped: the page would silently lose it)."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ApiDocError(f"cannot import {name}, which the page documents: {err}") from err


def exported(module: types.ModuleType) -> list[tuple[str, Any]]:
    """(name, object) for each name of the module's ``__all__``, in order."""
    names = getattr(module, "__all__", None)
    if names is None:
        raise ApiDocError(f"{module.__name__} has no __all__: the page documents __all__")
    objects = []
    for name in names:
        try:
            objects.append((name, getattr(module, name)))
        except AttributeError as err:
            raise ApiDocError(f"{module.__name__}.__all__ lists {name!r}: {err}") from err
    return objects


def _key(obj: object) -> str | None:
    """What identifies a class or function across re-exports; None for a value."""
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    return None


def _common_parts(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a.split("."), b.split("."), strict=False):
        if left != right:
            break
        count += 1
    return count


def _display(cls: type) -> str:
    """How a class from outside the documented package is named: builtins bare."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class Member(NamedTuple):
    """One public member of a class, and the class whose page lists it."""

    name: str
    kind: str  # "attribute", "property" or "method"
    value: Any  # the function, property, or an Attribute
    owner: type


# --- the page -------------------------------------------------------------------------------


class Renderer:
    """Renders the page for a list of modules.

    Links are written as placeholders and resolved at the end, once every heading (and
    so every anchor, de-duplicated in page order as GitHub does) is known.
    """

    def __init__(self, module_names: Sequence[str]) -> None:
        _module_tree.cache_clear()  # sources are read once per page, afresh for each page
        self.module_names = list(module_names)
        self.modules = {name: import_module(name) for name in self.module_names}
        self.exports = {
            name: exported(module)
            for name, module in self.modules.items()
            if name != PROTOBUF_MODULE
        }
        self.own_roots = {name.split(".")[0] for name in self.module_names}
        self.home: dict[str, str] = {}
        """Key of a documented class or function -> the module that documents it."""
        for module_name, objects in self.exports.items():
            for _name, obj in objects:
                key = _key(obj)
                if key is None:
                    continue
                current = self.home.get(key)
                if current is None or _closeness(obj, module_name) > _closeness(obj, current):
                    self.home[key] = module_name
        self.lines: list[str] = []
        self.anchors: dict[str, str] = {}
        self.slugger = Slugger()

    # -- helpers

    def documented(self, cls: type) -> bool:
        key = _key(cls)
        return key is not None and key in self.home

    def own(self, cls: type) -> bool:
        """Defined in the documented package (its private classes included)."""
        return cls.__module__.split(".")[0] in self.own_roots

    def home_of(self, obj: Any) -> str | None:
        key = _key(obj)
        return self.home.get(key) if key is not None else None

    def link(self, key: str, text: str) -> str:
        """``text`` linked to the heading registered for ``key`` (resolved at the end)."""
        return f"[`{text}`](#\0{key}\0)"

    def heading(self, level: int, text: str, key: str | None = None) -> None:
        anchor = self.slugger.slug(text)
        if key is not None:
            self.anchors[key] = anchor
        self.lines += [f"{'#' * level} {text}", ""]

    def paragraph(self, lines: Sequence[str]) -> None:
        if lines:
            self.lines += [*lines, ""]

    def code(self, text: str) -> None:
        self.lines += [f"{FENCE}python", *text.splitlines(), FENCE, ""]

    # -- the page

    def render(self) -> str:
        self.lines = list(HEADER)
        self.paragraph([f"- {self.link(f'module:{name}', name)}" for name in self.module_names])
        for module_name in self.module_names:
            self.render_module(module_name)
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        text = "\n".join(self.lines) + "\n"

        def resolve(match: re.Match[str]) -> str:
            if match.group(1) not in self.anchors:
                raise ApiDocError(f"no heading for {match.group(1)} (a bug in apidoc.py)")
            return self.anchors[match.group(1)]

        return re.sub("\0([^\0]*)\0", resolve, text)

    def render_module(self, module_name: str) -> None:
        module = self.modules[module_name]
        self.heading(2, f"`{module_name}`", f"module:{module_name}")
        if module_name == PROTOBUF_MODULE:
            self.paragraph([PROTOBUF_SUMMARY])
            return
        self.paragraph(first_paragraph(module.__doc__))
        here: list[tuple[str, Any]] = []
        elsewhere: list[tuple[str, Any]] = []
        for name, obj in self.exports[module_name]:
            home = self.home_of(obj)
            (here if home in (None, module_name) else elsewhere).append((name, obj))
        if here:
            links = [self.link(_key(obj) or f"{module_name}.{name}", name) for name, obj in here]
            self.paragraph([f"Contents: {', '.join(links)}."])
        if elsewhere:
            links = [
                f"{self.link(str(_key(obj)), name)} (`{self.home_of(obj)}`)"
                for name, obj in elsewhere
            ]
            self.paragraph([f"Also exported here: {', '.join(links)}."])
        attributes = module_attributes(module_name)
        for name, obj in here:
            if inspect.isclass(obj):
                self.render_class(obj)
            elif inspect.isroutine(obj):
                self.render_function(name, obj)
            else:
                self.render_value(module, name, obj, attributes.get(name))

    def render_value(
        self, module: types.ModuleType, name: str, value: Any, attribute: Attribute | None
    ) -> None:
        self.heading(3, f"`{name}`", f"{module.__name__}.{name}")
        annotation = inspect.get_annotations(module).get(name)
        if annotation is None and attribute is not None:
            annotation = attribute.annotation
        typed = f": {annotation_text(annotation)}" if annotation is not None else ""
        self.code(assignment_text(f"{name}{typed}", value))
        self.paragraph(docstring_markdown(attribute.doc if attribute else None))

    def render_function(self, name: str, function: Any) -> None:
        self.heading(3, f"`{name}()`", _key(function))
        prefix = "async def " if _is_async(function) else "def "
        self.code(format_signature(prefix + name, signature_of(function)))
        self.paragraph(docstring_markdown(inspect.getdoc(function)))

    def render_class(self, cls: type) -> None:
        """Heading, constructor, bases, docstring, enum members, attributes, inherited
        members, methods."""
        kind = "class"
        if issubclass(cls, BaseException):
            kind = "exception"
        elif issubclass(cls, enum.Enum):
            kind = "enum"
        self.heading(3, f"{kind} `{cls.__qualname__}`", _key(cls))
        constructor = self.constructor(cls)
        if constructor is not None:
            self.code(constructor)
        bases = [
            base
            for base in cls.__bases__
            if base is not object and (not self.own(base) or self.documented(base))
        ]
        if bases:
            shown = [
                self.link(str(_key(base)), base.__qualname__)
                if self.documented(base)
                else f"`{_display(base)}`"
                for base in bases
            ]
            self.paragraph([f"Bases: {', '.join(shown)}."])
        doc = cls.__dict__.get("__doc__")
        if issubclass(cls, enum.Enum) and doc == "An enumeration.":
            doc = None  # what Python 3.10 gives an enum without a docstring; 3.11 gives None
        self.paragraph(docstring_markdown(doc))
        if issubclass(cls, enum.Enum):
            values = [
                f"- `{name}` = `{value_text(member.value)}`"
                for name, member in cls.__members__.items()
            ]
            self.paragraph(["**Members:**", "", *values])
        members = self.members(cls)
        in_doc = documented_attributes(doc)
        attributes = [
            member
            for member in members
            if member.owner is cls and member.kind != "method" and member.name not in in_doc
        ]
        if attributes:
            self.lines += ["**Other attributes:**" if in_doc else "**Attributes:**", ""]
            for member in attributes:
                self.lines += attribute_item(member)
            self.lines.append("")
        inherited: dict[type, list[str]] = {}
        for member in members:
            if member.owner is not cls:
                inherited.setdefault(member.owner, []).append(member.name)
        for owner, names in inherited.items():
            listed = ", ".join(f"`{name}`" for name in names)
            self.paragraph(
                [f"Inherited from {self.link(str(_key(owner)), owner.__qualname__)}: {listed}."]
            )
        for member in members:
            if member.owner is cls and member.kind == "method":
                self.render_method(cls, member)

    def constructor(self, cls: type) -> str | None:
        """``class Name(parameters)``; None when the class has no constructor of its own
        to show (an enum, or one inherited from a documented class, which shows it)."""
        if issubclass(cls, enum.Enum):
            return None
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__ or "__new__" in klass.__dict__:
                if not self.own(klass) or (klass is not cls and self.documented(klass)):
                    return None
                signature = signature_of(cls)
                if signature is not None:
                    signature = signature.replace(return_annotation=signature.empty)
                return format_signature(f"class {cls.__qualname__}", signature)
        return None

    def members(self, cls: type) -> list[Member]:
        """The public members of a class, base classes' first (``id`` and ``name`` before
        what a subclass adds), in each class attributes then properties and methods in
        source order; each with the class whose page lists it: the class itself when it
        defines the member or gets it from a private base, else the documented base that
        does."""
        found: dict[str, Member] = {}
        for klass in reversed([klass for klass in cls.__mro__ if self.own(klass)]):
            owner = [
                c for c in cls.__mro__ if (c is cls or self.documented(c)) and issubclass(c, klass)
            ][-1]
            for name, kind, value in class_members(klass):
                previous = found.get(name)
                if isinstance(value, Attribute) and previous and previous.kind == "attribute":
                    value = value.merged(previous.value)
                found[name] = Member(name, kind, value, owner)
        return list(found.values())

    def render_method(self, cls: type, member: Member) -> None:
        value = member.value
        function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        decorator = ""
        if isinstance(value, classmethod):
            decorator = "@classmethod\n"
        elif isinstance(value, staticmethod):
            decorator = "@staticmethod\n"
        prefix = decorator + ("async def " if _is_async(function) else "def ") + member.name
        self.heading(4, f"`{cls.__qualname__}.{member.name}()`")
        signature = signature_of(function)
        self.code(
            format_signature(prefix, signature, drop_first=not isinstance(value, staticmethod))
        )
        self.paragraph(docstring_markdown(self.method_doc(cls, member.name, function)))

    def method_doc(self, cls: type, name: str, function: Any) -> str | None:
        """The method's docstring, else that of the method it overrides in the package."""
        if getattr(function, "__doc__", None):
            return str(function.__doc__)
        for klass in cls.__mro__[1:]:
            if self.own(klass) and name in klass.__dict__:
                base = klass.__dict__[name]
                base = base.__func__ if isinstance(base, (classmethod, staticmethod)) else base
                if getattr(base, "__doc__", None):
                    return str(base.__doc__)
        return None


def _closeness(obj: Any, module_name: str) -> tuple[int, int]:
    """Which exporting module documents an object: the one sharing the longest dotted
    prefix with where it is defined, then the deeper one (``cri_client.aio`` over
    ``cri_client`` for ``AsyncCRIClient``, ``cri_client.errors`` over ``cri_client``
    for ``CRIError``)."""
    return _common_parts(obj.__module__, module_name), module_name.count(".")


def class_members(klass: type) -> list[tuple[str, str, Any]]:
    """(name, kind, value) for the public members one class defines itself: attributes
    (annotated, documented in the source, or data set in the class body; in source
    order), then properties and methods (in source order). An enum's members are not
    among them."""
    is_enum = issubclass(klass, enum.Enum)
    annotations = {} if is_enum else inspect.get_annotations(klass)
    typed = {n: annotation_text(a) for n, a in annotations.items() if not _is_classvar(a)}
    plain = {
        name: value_text(value)
        for name, value in klass.__dict__.items()
        if not is_enum and _is_plain_value(name, value) and name not in annotations.keys() - typed
    }
    attributes: dict[str, Attribute] = {}
    for name, found in ({} if is_enum else class_attributes(klass)).items():
        skipped = name in annotations.keys() - typed or _member_kind(klass.__dict__.get(name))
        if not skipped and (found.doc or name in typed or name in plain):
            attributes[name] = Attribute(typed.get(name), found.doc, plain.get(name)).merged(found)
    for name, annotation in typed.items():
        attributes.setdefault(name, Attribute(annotation, None, plain.get(name)))
    for name, text in plain.items():
        attributes.setdefault(name, Attribute(None, None, text))
    entries: list[tuple[str, str, Any]] = [
        (name, "attribute", attribute) for name, attribute in attributes.items()
    ]
    for name, value in klass.__dict__.items():
        kind = _member_kind(value)
        if kind is not None:
            entries.append((name, kind, value))
    return [entry for entry in entries if not entry[0].startswith("_")]


def attribute_item(member: Member) -> list[str]:
    """``- `name: type = value`: doc``, the doc's further lines indented under the item."""
    if member.kind == "property":
        prop = member.value
        getter = prop.fget if isinstance(prop, property) else prop.func
        signature = signature_of(getter) if getter is not None else None
        annotation = None
        if signature is not None and signature.return_annotation is not signature.empty:
            annotation = annotation_text(signature.return_annotation)
        doc, value = prop.__doc__, None
        settable = isinstance(prop, property) and prop.fset is not None
    else:
        attribute: Attribute = member.value
        annotation, doc, value = attribute.annotation, attribute.doc, attribute.value
        settable = False
    text = member.name
    if annotation:
        text += f": {annotation}"
    if value is not None:
        text += f" = {value}"
    title = f"`{text}`"
    if member.kind == "property":
        title += " (property, settable)" if settable else " (property)"
    body = docstring_markdown(doc)
    if body and not body[0].startswith(FENCE):
        title, body = f"{title}: {body[0]}", body[1:]
    return [f"- {title}", *(f"  {line}" if line else "" for line in body)]


def documented_attributes(doc: str | None) -> set[str]:
    """The names an ``Attributes:`` section of a class docstring documents: they are not
    listed again below it."""
    if not doc:
        return set()
    lines = inspect.cleandoc(doc).splitlines()
    names: set[str] = set()
    for index, line in enumerate(lines):
        if line.strip() == "Attributes:":
            body, _end = _block(lines, index + 1, _indent(line))
            names |= {match.group(1) for match in map(ITEM.match, body) if match}
    return names


def _member_kind(value: object) -> str | None:
    if isinstance(value, (property, functools.cached_property)):
        return "property"
    if isinstance(value, (classmethod, staticmethod)) or inspect.isfunction(value):
        return "method"
    return None


def _is_plain_value(name: str, value: object) -> bool:
    """A public class attribute holding data (``code = grpc.StatusCode.NOT_FOUND``), not
    a method, a nested class or a descriptor."""
    return not (
        name.startswith("_")
        or inspect.isclass(value)
        or callable(value)
        or hasattr(value, "__get__")
    )


def _is_classvar(annotation: object) -> bool:
    text = annotation_text(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _is_async(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def render(module_names: Sequence[str]) -> str:
    """The page for these modules, in this order."""
    return Renderer(module_names).render()


# --- command line -------------------------------------------------------------------------


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the page is stale")
    parser.add_argument(
        "--modules",
        help="comma-separated modules instead of the public ones (for the script's own tests)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: docs/api.md")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the working tree's package, installed or not
    modules = DEFAULT_MODULES
    if args.modules is not None:
        modules = [name.strip() for name in args.modules.split(",") if name.strip()]
    try:
        text = render(modules)
    except ApiDocError as err:
        print(f"apidoc: {err}", file=sys.stderr)
        return 1
    output: Path = args.output
    shown = _shown(output)
    old = output.read_text() if output.exists() else None
    if old == text:
        print(f"{shown} is up to date")
        return 0
    if args.check:
        before = old.splitlines() if old is not None else []
        diff = difflib.unified_diff(before, text.splitlines(), shown, shown, lineterm="", n=1)
        print("\n".join(list(diff)[:40]), file=sys.stderr)
        state = "is stale" if old is not None else "does not exist"
        print(f"{shown} {state}: run `python scripts/apidoc.py`", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
