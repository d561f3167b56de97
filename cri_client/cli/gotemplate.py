"""Go's ``text/template``, the part of it that ``crictl -o go-template`` scripts use.

crictl renders a document to JSON, decodes it again with ``json.Decoder.UseNumber`` (so
every number is a ``json.Number``: a *string* type that prints as the literal digits),
and executes the template on that with ``missingkey=error`` and the functions ``json``,
``title``, ``lower`` and ``upper`` on top of Go's built-ins. This module does the same,
and answers as Go does, down to the error texts
(``template: NAME:1:7: executing "NAME" at <.info.pidx>: map has no entry for key "pidx"``)
and fmt's complaints (``%!d(json.Number=1234)``).

The subset: text, comments, trim markers (``{{-`` and ``-}}``); fields (``.a.b``), ``.``,
variables (``$``, ``$x := ...``, ``$x = ...``, ``$x.a``), parentheses and chains
(``(index .a 0).b``), pipelines (``.a | json``); string, raw string, character, number,
``true``/``false``/``nil`` constants; ``if``/``else if``/``else``, ``range`` (with
``$i, $v :=`` and ``else``), ``with`` (and ``else``); the functions ``and or not len index
print printf println eq ne lt le gt ge json title lower upper``. Anything else
(``define``, ``template``, ``block``, ``break``, ``continue``, ``slice``, ``html``, ``js``,
``urlquery``, ``call``, a method such as ``.String``) is a parse error naming it, never a
silent misrendering.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

__all__ = [
    "Number",
    "Template",
    "TemplateError",
    "TemplateExecError",
    "go_data",
    "go_quote",
    "parse",
]


class TemplateError(ValueError):
    """The template does not parse, or uses what this subset does not implement: Go's
    ``template: NAME:LINE: message``."""


class TemplateExecError(ValueError):
    """Executing the template failed, as Go's ``ExecError``:
    ``template: NAME:LINE:COL: executing "NAME" at <node>: message``."""


class Number(str):
    """Go's ``json.Number``: a number from the JSON document kept as its literal text. It is
    a string to Go's template (``eq`` compares it to strings, ``%d`` refuses it), as here."""

    __slots__ = ()


def go_data(document: Any) -> Any:
    """``document`` as crictl's ``tmplExecuteRawJSON`` sees it: through JSON and back,
    every number a :class:`Number`."""
    return json.loads(json.dumps(document), parse_int=Number, parse_float=Number)


# --- lexing ----------------------------------------------------------------------------------

_SPACE = " \t\r\n"
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<declare>:=)
  | (?P<raw>`[^`]*`)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<rune>'(?:[^'\\\n]|\\.)+')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<variable>\$[A-Za-z0-9_]*)
  | (?P<dot>\.)
  | (?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<char>[!-~])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # text, left, right, space, field, variable, dot, identifier, string, raw, ...
    value: str
    pos: int


class _Source:
    """The template's text and name, for Go's ``NAME:LINE:COL`` locations."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def line(self, pos: int) -> int:
        return 1 + self.text.count("\n", 0, pos)

    def location(self, pos: int) -> str:
        """Go's ``ErrorContext``: the column is the byte offset in the line."""
        line_start = self.text.rfind("\n", 0, pos) + 1
        column = len(self.text[line_start:pos].encode())
        return f"{self.name}:{self.line(pos)}:{column}"

    def fail(self, pos: int, message: str) -> NoReturn:
        raise TemplateError(f"template: {self.name}:{self.line(pos)}: {message}")


def _lex(source: _Source) -> Iterator[_Token]:
    text = source.text
    pos = 0
    trim_next = False
    while pos <= len(text):
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(_SPACE)
            trim_next = False
        if start < 0:
            if chunk:
                yield _Token("text", chunk, pos)
            return
        inner = start + 2
        if text.startswith("-", inner) and text[inner + 1 : inner + 2] in tuple(_SPACE):
            chunk = chunk.rstrip(_SPACE)
            inner += 2
        if chunk:
            yield _Token("text", chunk, pos)
        comment = text[inner:].lstrip(_SPACE) if inner > start + 2 else text[inner:]
        if comment.startswith("/*"):
            comment_start = len(text) - len(comment)
            end = text.find("*/", comment_start + 2)
            if end < 0:
                source.fail(start, "unclosed comment")
            after = end + 2
            if text.startswith(" -}}", after) or text.startswith("\t-}}", after):
                trim_next, pos = True, after + 4
            elif text.startswith("}}", after):
                pos = after + 2
            else:
                source.fail(start, "comment ends before closing delimiter")
            continue
        yield _Token("left", "{{", start)
        pos = inner
        depth = 0
        while True:
            if pos >= len(text):
                source.fail(start, "unclosed action")
            if text[pos] in _SPACE and text.startswith("-}}", pos + 1):
                trim_next, pos = True, pos + 4
                yield _Token("right", "}}", pos - 3)
                break
            if text.startswith("}}", pos):
                yield _Token("right", "}}", pos)
                pos += 2
                break
            match = _TOKEN.match(text, pos)
            if match is None:
                character = text[pos]
                if character == "\n":
                    source.fail(pos, "unclosed action")
                if character in "\"'`":
                    source.fail(pos, "unterminated quoted string")
                source.fail(pos, f"unrecognized character in action: {_go_rune(character)}")
            kind = match.lastgroup or ""
            if kind == "char" and match.group() in _UNTERMINATED:
                source.fail(pos, _UNTERMINATED[match.group()])
            value = match.group()
            if kind == "char":
                depth += {"(": 1, ")": -1}.get(value, 0)
            if (
                kind == "number"
                and value[0] in "+-"
                and pos > 0
                and text[pos - 1] not in _SPACE + "({|,="
            ):
                source.fail(pos, f"unrecognized character in action: {_go_rune(value[0])}")
            yield _Token(kind, value, pos)
            pos = match.end()
        if depth > 0:
            source.fail(pos, "unclosed left paren")
    return


_UNTERMINATED = {
    '"': "unterminated quoted string",
    "`": "unterminated raw quoted string",
    "'": "unterminated character constant",
}


def _go_rune(character: str) -> str:
    return f"U+{ord(character):04X} {_go_quote_rune(ord(character))}"


# --- nodes -------------------------------------------------------------------------------------


@dataclass
class _Node:
    pos: int


@dataclass
class _Text(_Node):
    text: str


@dataclass
class _Field(_Node):
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "".join("." + name for name in self.names)


@dataclass
class _Variable(_Node):
    names: tuple[str, ...]  # "$x", then fields

    def __str__(self) -> str:
        return ".".join(self.names)


@dataclass
class _Dot(_Node):
    def __str__(self) -> str:
        return "."


@dataclass
class _Nil(_Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class _Constant(_Node):
    value: Any  # bool, int, float, str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class _Identifier(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class _Command(_Node):
    args: list[_Node]

    def __str__(self) -> str:
        return " ".join(f"({arg})" if isinstance(arg, _Pipe) else str(arg) for arg in self.args)


@dataclass
class _Pipe(_Node):
    declared: list[str]
    assign: bool
    commands: list[_Command]

    def __str__(self) -> str:
        head = ""
        if self.declared:
            head = ", ".join(self.declared) + (" = " if self.assign else " := ")
        return head + " | ".join(str(command) for command in self.commands)


@dataclass
class _Chain(_Node):
    node: _Node
    names: tuple[str, ...]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, _Pipe) else str(self.node)
        return inner + "".join("." + name for name in self.names)


@dataclass
class _Action(_Node):
    pipe: _Pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass
class _Branch(_Node):
    keyword: str  # if, range, with
    pipe: _Pipe
    body: list[_Node]
    otherwise: list[_Node] | None = None

    def __str__(self) -> str:
        return "{{" + self.keyword + " " + str(self.pipe) + "}}"


# --- parsing -------------------------------------------------------------------------------------

_BUILTINS = [
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "json",
    "title",
    "lower",
    "upper",
]
_GO_ONLY = {
    "define": "{{define}}",
    "template": "{{template}}",
    "block": "{{block}}",
    "break": "{{break}}",
    "continue": "{{continue}}",
    "slice": "the function slice",
    "html": "the function html",
    "js": "the function js",
    "urlquery": "the function urlquery",
    "call": "the function call",
}


class _Parser:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = list(_lex(source))
        self.index = 0
        self.variables: list[str] = ["$"]
        self.depth = 0  # of parentheses

    # token access, skipping spaces where Go's parser does
    def peek(self, *, skip_space: bool = True) -> _Token | None:
        index = self.index
        while index < len(self.tokens):
            token = self.tokens[index]
            if not (skip_space and token.kind == "space"):
                return token
            index += 1
        return None

    def next(self, *, skip_space: bool = True) -> _Token:
        while self.index < len(self.tokens):
            token = self.tokens[self.index]
            self.index += 1
            if not (skip_space and token.kind == "space"):
                return token
        self.source.fail(len(self.source.text), "unexpected EOF")

    def fail(self, token: _Token, message: str) -> NoReturn:
        self.source.fail(token.pos, message)

    def parse(self) -> list[_Node]:
        nodes, _ = self.items(())
        return nodes

    def items(self, stops: tuple[str, ...]) -> tuple[list[_Node], _Token | None]:
        """Nodes until EOF (``stops`` empty) or until ``{{end}}``/``{{else}}``, whose
        keyword token is returned (the parser stands after it)."""
        nodes: list[_Node] = []
        while self.index < len(self.tokens):
            token = self.tokens[self.index]
            self.index += 1
            if token.kind == "text":
                nodes.append(_Text(token.pos, token.value))
                continue
            keyword = self.peek()
            if keyword is not None and keyword.kind == "identifier":
                if keyword.value in ("end", "else"):
                    self.next()
                    if stops == ("end",):
                        if keyword.value == "else":
                            self.fail(keyword, "expected end; found {{else}}")
                    elif keyword.value not in stops:
                        self.fail(keyword, f"unexpected {{{{{keyword.value}}}}}")
                    return nodes, keyword
                if keyword.value in ("if", "range", "with"):
                    self.next()
                    nodes.append(self.branch(keyword))
                    continue
            pipe = self.pipeline("command", token)
            nodes.append(_Action(token.pos, pipe))
        if stops:
            self.source.fail(len(self.source.text), "unexpected EOF")
        return nodes, None

    def unsupported(self, token: _Token) -> NoReturn:
        self.fail(token, f"{_GO_ONLY[token.value]} is not supported by cri-client's go-template")

    def branch(self, keyword: _Token) -> _Branch:
        mark = len(self.variables)
        pipe = self.pipeline(keyword.value, keyword)
        stops = ("end", "else")
        body, end = self.items(stops)
        assert end is not None
        otherwise: list[_Node] | None = None
        chained = False  # {{else if}}: the inner if's {{end}} ends this one too
        if end.value == "else":
            following = self.peek()
            if (
                following is not None
                and following.kind == "identifier"
                and following.value == keyword.value in ("if", "with")
            ):
                # {{else if x}} (in an if), {{else with x}} (in a with, Go 1.23): an if
                # or with inside the else, sharing its {{end}}
                self.next()
                otherwise = [self.branch(following)]
                chained = True
            else:
                closing = self.next()
                if closing.kind != "right":
                    self.fail(closing, f"unexpected {_item(closing)} in input")
                otherwise, _ = self.items(("end",))
        if not chained:
            closing = self.next()
            if closing.kind != "right":
                self.fail(closing, f"unexpected {_item(closing)} in end")
        del self.variables[mark:]
        return _Branch(keyword.pos, keyword.value, pipe, body, otherwise)

    def pipeline(self, context: str, start: _Token) -> _Pipe:
        declared: list[str] = []
        assign = False
        token = self.peek()
        if token is not None and token.kind == "variable":
            # $x := ..., $x = ..., $i, $v := ... (range)
            save = self.index
            self.next()
            names = [token.value]
            following = self.peek()
            if following is not None and following.value == "," and context == "range":
                self.next()
                second = self.next()
                if second.kind != "variable":
                    self.fail(second, f"unexpected {_item(second)} in range")
                names.append(second.value)
                following = self.peek()
            if following is not None and (
                following.kind == "declare" or (following.kind, following.value) == ("char", "=")
            ):
                self.next()
                assign = following.value == "="
                if assign:
                    for name in names:
                        if name not in self.variables:
                            self.fail(token, f'undefined variable "{name}"')
                else:
                    self.variables.extend(names)
                declared = names
            elif following is not None and following.value == ",":
                self.fail(following, f"too many declarations in {context}")
            else:
                self.index = save
        commands: list[_Command] = []
        while True:
            token = self.peek()
            if token is None:
                self.source.fail(len(self.source.text), "unexpected EOF")
            if token.kind == "char" and token.value == ")" and not self.depth:
                self.fail(token, 'unexpected ")" in command')
            if token.kind == "right" or (token.kind == "char" and token.value == ")"):
                break
            commands.append(self.command())
            token = self.peek()
            if token is not None and token.kind == "char" and token.value == "|":
                self.next()
                continue
        end = self.next()
        if not commands:
            self.fail(end, f"missing value for {context}")
        for stage, command in enumerate(commands[1:], start=1):
            first = command.args[0]
            if isinstance(first, (_Constant, _Dot, _Nil)):
                self.fail(end, f"non executable command in pipeline stage {stage + 1}")
        return _Pipe(start.pos, declared, assign, commands)

    def command(self) -> _Command:
        args: list[_Node] = []
        start = self.peek()
        assert start is not None
        while True:
            token = self.peek(skip_space=False)
            if token is None:
                self.source.fail(len(self.source.text), "unexpected EOF")
            if token.kind == "space":
                self.next(skip_space=False)
                continue
            if token.kind == "right" or (token.kind == "char" and token.value in "|)"):
                break
            args.append(self.operand())
            after = self.peek(skip_space=False)
            if after is not None and not (
                after.kind in ("space", "right") or (after.kind == "char" and after.value in "|)")
            ):
                self.fail(after, f"unexpected {_item(after)} in operand")
        if not args:
            self.fail(start, "empty command")
        return _Command(start.pos, args)

    def operand(self) -> _Node:
        node = self.term()
        names: list[str] = []
        chain_pos = None
        while True:
            token = self.peek(skip_space=False)
            if token is None or token.kind != "field":
                break
            chain_pos = token.pos if chain_pos is None else chain_pos
            names.append(self.next(skip_space=False).value[1:])
        if not names:
            return node
        assert chain_pos is not None
        if isinstance(node, _Field):
            return _Field(chain_pos, node.names + tuple(names))
        if isinstance(node, _Variable):
            return _Variable(chain_pos, node.names + tuple(names))
        if isinstance(node, (_Constant, _Nil, _Dot)):
            self.source.fail(chain_pos, f"unexpected . after term {str(node)!r}")
        return _Chain(chain_pos, node, tuple(names))

    def term(self) -> _Node:
        token = self.next(skip_space=False)
        kind, value = token.kind, token.value
        if kind == "field":
            return _Field(token.pos, (value[1:],))
        if kind == "variable":
            if value not in self.variables:
                self.fail(token, f'undefined variable "{value}"')
            return _Variable(token.pos, (value,))
        if kind == "dot":
            return _Dot(token.pos)
        if kind == "identifier":
            if value in ("true", "false"):
                return _Constant(token.pos, value == "true", value)
            if value == "nil":
                return _Nil(token.pos)
            if value in _GO_ONLY:
                self.unsupported(token)
            if value not in _BUILTINS:
                self.fail(token, f'function "{value}" not defined')
            return _Identifier(token.pos, value)
        if kind == "string":
            return _Constant(token.pos, _go_unquote(value[1:-1], token, self), value)
        if kind == "raw":
            return _Constant(token.pos, value[1:-1].replace("\r", ""), value)
        if kind == "rune":
            runes = _go_unquote(value[1:-1], token, self)
            if len(runes) != 1:
                self.fail(token, f"malformed character constant: {value}")
            return _Constant(token.pos, ord(runes), value)
        if kind == "number":
            return _Constant(token.pos, _go_number(value, token, self), value)
        if kind == "char" and value == "(":
            self.depth += 1
            pipe = self.pipeline("parenthesized pipeline", token)
            self.depth -= 1
            return pipe
        self.fail(token, f"unexpected {_item(token)} in operand")


_KEYWORDS = ("if", "else", "end", "range", "with", "nil", "define", "template", "block")


def _item(token: _Token) -> str:
    """A token as Go's parser names it in errors: ``<if>``, ``"!"``, ``"abcdefghij"...``."""
    if token.kind == "identifier" and token.value in _KEYWORDS:
        return f"<{token.value}>"
    if len(token.value) > 10:
        return go_quote(token.value[:10]) + "..."
    return go_quote(token.value)


def _go_number(text: str, token: _Token, parser: _Parser) -> int | float:
    """A number constant as Go's ``idealConstant``: an int, or a float64 when the text has
    a point or an exponent (``1.0`` is the float 1)."""
    cleaned = text.replace("_", "")
    body = cleaned.lstrip("+-")
    negative = cleaned.startswith("-")
    try:
        if body[:2].lower() == "0x" or not re.search(r"[.eE]", body):
            if len(body) > 1 and body[0] == "0" and body[1].isdigit():
                number = int(body, 8)
            else:
                number = int(body, 0)
            return -number if negative else number
        return float(cleaned)
    except ValueError:
        parser.fail(token, f"illegal number syntax: {text!r}")


_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


_ESCAPE = re.compile(
    r"\\([abfnrtv\\\"']|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})"
    r"|(\\.?)"
)


def _go_unquote(body: str, token: _Token, parser: _Parser) -> str:
    """A quoted constant's text with Go's escapes resolved."""

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape is None:
            parser.fail(token, f"invalid syntax: {token.value}")
        if escape[0] in _ESCAPES:
            return _ESCAPES[escape[0]]
        if escape[0] in "xuU":
            return chr(int(escape[1:], 16))
        return chr(int(escape, 8))

    return _ESCAPE.sub(replace, body)


def parse(text: str, name: str = "tmplExecuteRawJSON") -> Template:
    """``text`` parsed as Go's ``template.New(name).Funcs(crictl's).Parse(text)``;
    :class:`TemplateError` with Go's message when it does not parse or needs what this
    subset leaves out."""
    source = _Source(name, text)
    return Template(source, _Parser(source).parse())


# --- executing -----------------------------------------------------------------------------------

_MISSING = object()  # no final value in a pipeline (Go's missingVal)


class _Invalid:
    """Go's invalid ``reflect.Value``: what a JSON null becomes once taken out of the map."""

    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _Invalid()


@dataclass
class Template:
    """A parsed template; :meth:`execute` renders it on crictl's data (:func:`go_data`)."""

    source: _Source
    nodes: list[_Node]

    def execute(self, data: Any) -> str:
        """The output, or :class:`TemplateExecError` with Go's message."""
        state = _State(self.source, [("$", data)])
        state.walk_list(data, self.nodes)
        return "".join(state.out)


@dataclass
class _State:
    source: _Source
    variables: list[tuple[str, Any]]
    out: list[str] = field(default_factory=list)
    node: _Node | None = None

    def fail(self, message: str) -> NoReturn:
        name = self.source.name
        if self.node is None:
            raise TemplateExecError(f"template: {name}: {message}")
        context = str(self.node)
        location = self.source.location(self.node.pos)
        raise TemplateExecError(
            f'template: {location}: executing "{name}" at <{context}>: {message}'
        )

    def walk_list(self, dot: Any, nodes: Sequence[_Node]) -> None:
        for node in nodes:
            self.walk(dot, node)

    def walk(self, dot: Any, node: _Node) -> None:
        self.node = node
        if isinstance(node, _Text):
            self.out.append(node.text)
        elif isinstance(node, _Action):
            value = self.pipeline(dot, node.pipe)
            if not node.pipe.declared:
                self.node = node
                self.out.append(_print_value(value))
        elif isinstance(node, _Branch):
            mark = len(self.variables)
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                value = self.pipeline(dot, node.pipe)
                if _truth(value):
                    self.walk_list(value if node.keyword == "with" else dot, node.body)
                elif node.otherwise is not None:
                    self.walk_list(dot, node.otherwise)
            del self.variables[mark:]

    def walk_range(self, dot: Any, node: _Branch) -> None:
        """Go's walkRange: the declared variables are pushed once (with the whole value),
        then set to each key and element; variables the body declares end with it."""
        value = _indirect(self.pipeline(dot, node.pipe))
        items: list[tuple[Any, Any]]
        if isinstance(value, dict):
            items = [(key, value[key]) for key in sorted(value)]
        elif isinstance(value, list):
            items = list(enumerate(value))
        elif value is _NO_VALUE:
            items = []
        else:
            self.fail(f"range can't iterate over {_print_value(value)}")
        if not items:
            if node.otherwise is not None:
                self.walk_list(dot, node.otherwise)
            return
        declared = node.pipe.declared
        base = len(self.variables)
        for key, element in items:
            if len(declared) == 2:
                self.set_variable(declared[0], key, node.pipe.assign, top=2)
            if declared:
                self.set_variable(declared[-1], element, node.pipe.assign, top=1)
            self.walk_list(element, node.body)
            del self.variables[base:]

    def set_variable(self, name: str, value: Any, assign: bool, *, top: int = 0) -> None:
        """``$x := value`` pushes (or, with ``top``, replaces the variable that many
        from the top, as range does); ``$x = value`` sets the innermost ``$x``."""
        if top and not assign:
            self.variables[-top] = (name, value)
            return
        if assign:
            for index in range(len(self.variables) - 1, -1, -1):
                if self.variables[index][0] == name:
                    self.variables[index] = (name, value)
                    return
            self.fail(f"undefined variable: {name}")
        self.variables.append((name, value))

    def variable(self, name: str) -> Any:
        for variable_name, value in reversed(self.variables):
            if variable_name == name:
                return value
        self.fail(f"undefined variable: {name}")

    def pipeline(self, dot: Any, pipe: _Pipe) -> Any:
        value: Any = _MISSING
        for command in pipe.commands:
            value = self.command(dot, command, value)
        for name in pipe.declared:
            self.set_variable(name, value, pipe.assign)
        return value

    def command(self, dot: Any, command: _Command, final: Any) -> Any:
        first = command.args[0]
        if isinstance(first, _Field):
            return self.field_chain(dot, dot, first, first.names, command.args, final)
        if isinstance(first, _Chain):
            self.not_a_function(command.args, final)
            receiver = self.arg(dot, first.node)
            return self.field_chain(dot, receiver, first, first.names, command.args, final)
        if isinstance(first, _Identifier):
            return self.function(dot, first, command, final)
        if isinstance(first, _Pipe):
            self.not_a_function(command.args, final)
            return self.pipeline(dot, first)
        if isinstance(first, _Variable):
            value = self.variable(first.names[0])
            if len(first.names) == 1:
                self.not_a_function(command.args, final)
                return value
            return self.field_chain(dot, value, first, first.names[1:], command.args, final)
        self.node = first
        if isinstance(first, _Nil):
            self.fail("nil is not a command")
        self.not_a_function(command.args, final)
        if isinstance(first, _Dot):
            return dot
        assert isinstance(first, _Constant)
        return first.value

    def not_a_function(self, args: list[_Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            self.fail(f"can't give argument to non-function {args[0]}")

    def arg(self, dot: Any, node: _Node) -> Any:
        """An argument's value (Go's evalArg for an ``interface{}`` parameter)."""
        self.node = node
        if isinstance(node, _Dot):
            return dot
        if isinstance(node, _Nil):
            return None
        if isinstance(node, _Constant):
            return node.value
        if isinstance(node, _Field):
            return self.field_chain(dot, dot, node, node.names, [node], _MISSING)
        if isinstance(node, _Variable):
            value = self.variable(node.names[0])
            if len(node.names) == 1:
                return value
            return self.field_chain(dot, value, node, node.names[1:], [node], _MISSING)
        if isinstance(node, _Pipe):
            return self.pipeline(dot, node)
        if isinstance(node, _Chain):
            return self.field_chain(
                dot, self.arg(dot, node.node), node, node.names, [node], _MISSING
            )
        assert isinstance(node, _Identifier)
        return self.function(dot, node, _Command(node.pos, [node]), _MISSING)

    def field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: _Node,
        names: Sequence[str],
        args: list[_Node],
        final: Any,
    ) -> Any:
        self.node = node
        has_args = len(args) > 1 or final is not _MISSING
        for index, name in enumerate(names):
            last = index == len(names) - 1
            receiver = self.field(receiver, name, has_args and last)
        return receiver

    def field(self, receiver: Any, name: str, has_args: bool) -> Any:
        receiver = _indirect(receiver)
        if receiver is _NO_VALUE:
            self.fail(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, dict):
            if has_args:
                self.fail(f"{name} is not a method but has arguments")
            if name not in receiver:
                self.fail(f'map has no entry for key "{name}"')
            return receiver[name]
        if isinstance(receiver, Number) and name in _NUMBER_METHODS:
            if has_args:
                self.fail(f"wrong number of args for {name}: want 0 got 1")
            try:
                return _NUMBER_METHODS[name](receiver)
            except ValueError:
                kind = "ParseInt" if name == "Int64" else "ParseFloat"
                self.fail(
                    f'error calling {name}: strconv.{kind}: parsing "{receiver}": invalid syntax'
                )
        # a value out of the JSON document is an interface{} to Go; a function's result
        # (len) or a constant keeps its own type
        type_name = _go_type(receiver) if isinstance(receiver, (int, float)) else "interface {}"
        self.fail(f"can't evaluate field {name} in type {type_name}")

    def function(self, dot: Any, identifier: _Identifier, command: _Command, final: Any) -> Any:
        name = identifier.name
        self.node = identifier
        arg_nodes = command.args[1:]
        if name in ("and", "or"):
            if not arg_nodes and final is _MISSING:
                self.fail(f"wrong number of args for {name}: want at least 1 got 0")
            value: Any = _MISSING
            for node in arg_nodes:
                value = self.arg(dot, node)
                if _truth(value) == (name == "or"):
                    return value
            if final is not _MISSING:
                value = final
            return value
        values = [self.arg(dot, node) for node in arg_nodes]
        if final is not _MISSING:
            values.append(final)
        self.node = command if len(command.args) > 1 else identifier
        implementation, arity = _FUNCTIONS[name]
        if arity >= 0 and len(values) != arity:
            self.node = identifier
            self.fail(f"wrong number of args for {name}: want {arity} got {len(values)}")
        try:
            return implementation(values)
        except _CallError as err:
            self.node = command
            self.fail(f"error calling {name}: {err}")
        except _ArgError as err:
            self.node = arg_nodes[err.index] if err.index < len(arg_nodes) else identifier
            self.fail(str(err))


_NUMBER_METHODS: dict[str, Callable[[Number], Any]] = {
    "String": str,
    "Int64": int,
    "Float64": float,
}
"""json.Number's methods, which Go's templates call as fields: ``{{.info.pid.Int64}}``."""


class _CallError(Exception):
    """A function failed (Go: ``error calling NAME: ...``)."""


class _ArgError(Exception):
    """An argument of the wrong type (Go: ``wrong type for value; expected ...``)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


# --- values as Go sees them -----------------------------------------------------------------


def _indirect(value: Any) -> Any:
    return _NO_VALUE if value is None or value is _MISSING else value


def _truth(value: Any) -> bool:
    value = _indirect(value)
    if value is _NO_VALUE:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, dict, list)):
        return len(value) > 0
    if isinstance(value, (int, float)):
        return value != 0
    return True


def _go_type(value: Any) -> str:
    if isinstance(value, Number):
        return "json.Number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>"


def _print_value(value: Any) -> str:
    """What an action prints: Go's ``fmt.Fprint`` of the value, ``<no value>`` for none."""
    value = _indirect(value)
    if value is _NO_VALUE:
        return "<no value>"
    return _format_v(value, top=True)


def _format_v(value: Any, *, top: bool = False) -> str:
    if value is None or value is _NO_VALUE:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_g(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_format_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_format_v(item) for item in value) + "]"
    return str(value)


def _go_float_g(number: float) -> str:
    """Go's ``%v`` of a float64: the shortest digits, exponent form below 1e-4 or from 1e6
    (``1e+06``, ``1.234567e+06``)."""
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "-0" if math.copysign(1, number) < 0 else "0"
    digits = Decimal(repr(number))
    sign, digit_tuple, exponent = digits.normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digit_tuple))
    decimal_exponent = len(mantissa) + exponent - 1
    if decimal_exponent < -4 or decimal_exponent >= 6:
        body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        text = f"{body}e{'-' if decimal_exponent < 0 else '+'}{abs(decimal_exponent):02d}"
    else:
        text = format(digits.normalize(), "f")
    return ("-" if sign else "") + text


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``."""
    parts = ['"']
    for character in text:
        code = ord(character)
        if character == '"':
            parts.append('\\"')
        elif character == "\\":
            parts.append("\\\\")
        elif (character.isprintable() and code != 0xFFFD) or character == " ":
            parts.append(character)
        else:
            parts.append(_go_escape(code))
    parts.append('"')
    return "".join(parts)


def _go_escape(code: int) -> str:
    short = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if code in short:
        return short[code]
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _go_quote_rune(code: int) -> str:
    if code == ord("'"):
        return "'\\''"
    character = chr(code)
    if character.isprintable():
        return f"'{character}'"
    return "'" + _go_escape(code) + "'"


# --- the functions ----------------------------------------------------------------------------


_BASIC_KINDS = {
    "json.Number": "string",
    "string": "string",
    "bool": "bool",
    "int": "int",
    "float64": "float",
    "<nil>": "invalid",
}


def _kind(value: Any) -> str:
    """Go's ``basicKind`` for comparisons: a json.Number compares as a string."""
    return _BASIC_KINDS.get(_go_type(_indirect(value)), "other")


def _eq(values: list[Any]) -> bool:
    if len(values) < 2:
        if not values:
            raise _CallError("wrong number of args for eq: want at least 1 got 0")
        raise _CallError("missing argument for comparison")
    first = _indirect(values[0])
    first_kind = _kind(first)
    for other in values[1:]:
        other = _indirect(other)
        other_kind = _kind(other)
        if first_kind != other_kind:
            if first is not _NO_VALUE and other is not _NO_VALUE:
                raise _CallError("incompatible types for comparison")
            continue
        if first_kind == "other" and (
            isinstance(first, (dict, list)) or isinstance(other, (dict, list))
        ):
            raise _CallError(f"non-comparable type {_print_value(first)}: {_go_type(first)}")
        if first_kind == "invalid":
            raise _CallError("invalid type for comparison")
        if str(first) == str(other) if first_kind == "string" else first == other:
            return True
    return False


def _ne(values: list[Any]) -> bool:
    return not _eq(values)


def _less(values: list[Any]) -> bool:
    first, second = (_indirect(value) for value in values)
    first_kind, second_kind = _kind(first), _kind(second)
    if first_kind not in ("int", "float", "string") or second_kind not in (
        "int",
        "float",
        "string",
    ):
        raise _CallError("invalid type for comparison")
    if first_kind != second_kind:
        raise _CallError("incompatible types for comparison")
    if first_kind == "string":
        return str(first).encode() < str(second).encode()
    return bool(first < second)


def _len(values: list[Any]) -> int:
    value = _indirect(values[0])
    if value is _NO_VALUE:
        raise _CallError("len of nil pointer")
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (dict, list)):
        return len(value)
    raise _CallError(f"len of type {_go_type(value)}")


def _index(values: list[Any]) -> Any:
    item = _indirect(values[0])
    if item is _NO_VALUE:
        raise _CallError("index of untyped nil")
    for key in values[1:]:
        key = _indirect(key)
        if isinstance(item, (list, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _CallError(f"cannot index slice/array with type {_go_type(key)}")
            if key < 0 or key >= len(item):
                raise _CallError(f"index out of range: {key}")
            item = item[key] if isinstance(item, list) else item.encode()[key]
        elif isinstance(item, dict):
            if not isinstance(key, str) or isinstance(key, Number):
                type_name = "<nil>" if key is _NO_VALUE else _go_type(key)
                raise _CallError(f"value has type {type_name}; should be string")
            item = item.get(key)
        else:
            raise _CallError(f"can't index item of type {_go_type(item)}")
        item = _indirect(item)
    return None if item is _NO_VALUE else item


def _json(values: list[Any]) -> str:
    return _go_json(_indirect(values[0])) + "\n"


def _go_json(value: Any) -> str:
    """Go's ``json.Encoder.Encode`` (without its newline): compact, keys sorted, ``<``,
    ``>``, ``&``, U+2028 and U+2029 escaped, numbers as their text."""
    if value is None or value is _NO_VALUE:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(character, escape)
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_json(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_json(k)}:{_go_json(value[k])}" for k in sorted(value)) + "}"
    return "[" + ",".join(_go_json(item) for item in value) + "]"


def _go_float_json(number: float) -> str:
    text = _go_float_g(number)
    if "e" in text and 1e-6 <= abs(number) < 1e21:
        return format(Decimal(repr(number)).normalize(), "f")
    return text


def _string_arg(values: list[Any], index: int) -> str:
    value = _indirect(values[index])
    if not isinstance(value, str) or isinstance(value, Number):
        type_name = "nil" if value is _NO_VALUE else _go_type(value)
        raise _ArgError(index, f"wrong type for value; expected string; got {type_name}")
    return value


def _title(values: list[Any]) -> str:
    # cases.Title(language.Und, cases.NoLower): each word's first letter upper-cased, the
    # rest kept; an apostrophe does not start a word ("don't" is "Don't")
    return re.sub(r"(?<![\w'\u2019])\w", lambda m: m.group().upper(), _string_arg(values, 0))


def _print(values: list[Any]) -> str:
    """Go's ``fmt.Sprint``: a space between operands when neither is a string."""
    parts: list[str] = []
    for index, value in enumerate(values):
        is_string = isinstance(value, str)
        if index > 0 and not is_string and not isinstance(values[index - 1], str):
            parts.append(" ")
        parts.append(_format_v(value))
    return "".join(parts)


def _println(values: list[Any]) -> str:
    return " ".join(_format_v(value) for value in values) + "\n"


def _printf(values: list[Any]) -> str:
    if not values:
        raise _CallError("wrong number of args for printf: want at least 1 got 0")
    return go_sprintf(_string_arg(values, 0), values[1:])


_FUNCTIONS: dict[str, tuple[Callable[[list[Any]], Any], int]] = {
    "not": (lambda values: not _truth(values[0]), 1),
    "len": (_len, 1),
    "index": (_index, -1),
    "print": (_print, -1),
    "printf": (_printf, -1),
    "println": (_println, -1),
    "eq": (_eq, -1),
    "ne": (_ne, 2),
    "lt": (_less, 2),
    "le": (lambda values: _less(values) or _eq(values), 2),
    "gt": (lambda values: not (_less(values) or _eq(values)), 2),
    "ge": (lambda values: not _less(values), 2),
    "json": (_json, 1),
    "title": (_title, 1),
    "lower": (lambda values: _string_arg(values, 0).lower(), 1),
    "upper": (lambda values: _string_arg(values, 0).upper(), 1),
}


# --- printf ---------------------------------------------------------------------------------------

_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?(.?)", re.DOTALL)


def go_sprintf(template: str, args: Sequence[Any]) -> str:
    """Go's ``fmt.Sprintf`` for the verbs ``%v %s %d %q %t %x %X %f %e %g %c %%``, flags
    ``-+ 0`` (``#`` is refused), width and precision; wrong types print as Go prints them
    (``%!d(string=abc)``), as do missing and extra arguments."""
    out: list[str] = []
    position = 0
    arg_index = 0
    while True:
        start = template.find("%", position)
        if start < 0:
            out.append(template[position:])
            break
        out.append(template[position:start])
        match = _VERB.match(template, start)
        assert match is not None
        flags, width, precision, verb = match.groups()
        position = match.end()
        if verb == "%":
            out.append("%")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            break
        if "#" in flags:
            raise _CallError("the # flag of printf is not supported by cri-client")
        if arg_index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[arg_index]
        arg_index += 1
        out.append(
            _pad(
                _format_verb(verb, value, precision),
                flags,
                int(width) if width else 0,
                numeric=verb in "dxXfeg" and isinstance(value, (int, float)),
            )
        )
    if arg_index < len(args):
        extra = ", ".join(
            "<nil>" if _indirect(value) is _NO_VALUE else f"{_go_type(value)}={_format_v(value)}"
            for value in args[arg_index:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, flags: str, width: int, *, numeric: bool) -> str:
    if len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and numeric:
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _format_verb(verb: str, value: Any, precision: str | None, *, nested: bool = False) -> str:
    value = None if _indirect(value) is _NO_VALUE else value
    if value is None and nested:
        return "<nil>"
    if isinstance(value, dict):
        inner = " ".join(
            f"{_format_verb(verb, k, precision, nested=True)}:"
            f"{_format_verb(verb, value[k], precision, nested=True)}"
            for k in sorted(value)
        )
        return f"map[{inner}]"
    if isinstance(value, list):
        items = (_format_verb(verb, item, precision, nested=True) for item in value)
        return "[" + " ".join(items) + "]"
    bad = f"%!{verb}(<nil>)" if value is None else f"%!{verb}({_go_type(value)}={_format_v(value)})"
    if verb == "v":
        if isinstance(value, float) and precision is not None:
            return _format_verb("g", value, precision)
        return _format_v(value)
    if value is None:
        return bad
    if isinstance(value, bool):
        return ("true" if value else "false") if verb == "t" else bad
    if isinstance(value, str):
        text = str(value)
        if precision is not None and verb in "sq":
            text = text[: int(precision or 0)]
        if verb == "s":
            return text
        if verb == "q":
            return go_quote(text)
        if verb in "xX":
            hexed = text.encode().hex()
            return hexed.upper() if verb == "X" else hexed
        return bad
    if isinstance(value, int):
        if verb == "d":
            return str(value)
        if verb in "xX":
            hexed = format(value, "x")
            return hexed.upper() if verb == "X" else hexed
        if verb == "c":
            return chr(value)
        if verb == "q":
            return _go_quote_rune(value)
        return bad
    if isinstance(value, float):
        digits = 6 if precision is None else int(precision or 0)
        if verb == "f":
            return f"{value:.{digits}f}"
        if verb == "e":
            return f"{value:.{digits}e}"
        if verb == "g":
            return _go_float_g(value) if precision is None else f"{value:.{digits}g}"
        return bad
    return bad
