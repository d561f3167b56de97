"""crictl's config file as ``cri-client config`` shows and edits it.

Reading is :func:`cri_client.endpoint.load_crictl_config`'s, as everywhere (a key
written twice: the last one counts). Writing follows crictl's ``WriteConfig``: every
option crictl knows gets its value in Go's ``strconv`` form, in every place the key
appears (duplicates included), and the options missing from the file are appended;
the rest of the file, comments and quoting, stays as it was. The YAML round trip is
``ruamel.yaml``'s node tree (its composer keeps duplicate keys and comments, which a
mapping would not), imported only when a file is written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from cri_client.cli.context import UsageError

if TYPE_CHECKING:
    from ruamel.yaml.nodes import ScalarNode

    from cri_client.types import CrictlConfig

__all__ = ["OPTIONS", "assignments", "checked_value", "option_values", "rewrite", "write_file"]

OPTIONS = (
    "runtime-endpoint",
    "image-endpoint",
    "timeout",
    "debug",
    "pull-image-on-create",
    "disable-pull-on-run",
)
"""The options crictl's ``config`` lists, gets, sets and appends, in its order."""

_STRING, _INT, _BOOL = "str", "int", "bool"
_KINDS = {
    "runtime-endpoint": _STRING,
    "image-endpoint": _STRING,
    "timeout": _INT,
    "debug": _BOOL,
    "pull-image-on-create": _BOOL,
    "disable-pull-on-run": _BOOL,
}
_GO_BOOLEANS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), "true"),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), "false"),
}
_YAML_TAG = "tag:yaml.org,2002:"
_NO_LINE_WRAP = 1 << 30  # ruamel folds scalars past 80 columns; crictl's encoder never


def _go_bool(value: bool | None) -> str:
    return "true" if value else "false"


def option_values(config: CrictlConfig) -> dict[str, str]:
    """Every option's value as crictl prints it (``fmt.Println``, ``strconv``): the
    defaults (empty, 0, false) for the options the file does not set."""
    return {
        "runtime-endpoint": config.runtime_endpoint,
        "image-endpoint": config.image_endpoint,
        "timeout": str(config.timeout),
        "debug": _go_bool(config.debug),
        "pull-image-on-create": _go_bool(config.pull_image_on_create),
        "disable-pull-on-run": _go_bool(config.disable_pull_on_run),
    }


def assignments(settings: Iterable[str]) -> list[tuple[str, str]]:
    """``--set`` values, as crictl splits them: each flag's value at commas, each part
    at ``=`` into exactly two pieces (so a value cannot hold ``=`` or ``,``)."""
    pairs: list[tuple[str, str]] = []
    for setting in settings:
        for option in setting.split(","):
            parts = option.split("=")
            if len(parts) != 2:
                raise UsageError(f"incorrectly specified option: {setting}")
            pairs.append((parts[0], parts[1]))
    return pairs


def checked_value(key: str, value: str) -> str:
    """``value`` for ``key`` in the form crictl writes it (Go's ``Atoi``/``Itoa`` for
    the timeout, ``ParseBool``/``FormatBool`` for the switches), with crictl's
    message when it does not parse or the option does not exist."""
    kind = _KINDS.get(key)
    if kind is None:
        raise UsageError(f"no configuration option named {key}")
    if kind == _INT:
        digits = value[1:] if value[:1] in ("+", "-") else value
        if not (digits.isascii() and digits.isdigit()):
            raise UsageError(
                f"parse {key} value '{value}': strconv.Atoi: parsing \"{value}\": invalid syntax"
            )
        return str(int(value))
    if kind == _BOOL:
        if value not in _GO_BOOLEANS:
            raise UsageError(
                f"parse {key} value '{value}': strconv.ParseBool: parsing \"{value}\": "
                "invalid syntax"
            )
        return _GO_BOOLEANS[value]
    return value


def rewrite(text: str, values: Mapping[str, str]) -> str:
    """``text`` (a crictl config file, maybe empty) with every option of ``values`` set
    to its value wherever its key appears, and appended at the end where it does not.
    Comments, key order, other keys and each value's quoting are kept; a plain value
    gets the tag of its option's type (so ``debug: yes`` becomes ``debug: true``)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    yaml = YAML()
    yaml.width = _NO_LINE_WRAP  # a long socket path stays on its key's line
    try:
        root = yaml.compose(text)
    except Exception as err:  # ruamel's YAMLError and friends: the file is no YAML
        problem = " ".join(str(err).split())
        raise UsageError(f"invalid YAML: {problem}") from None
    prefix = ""
    if root is None:  # empty, or only comments: keep them above the new mapping
        prefix = text if text.endswith("\n") or not text else text + "\n"
        root = MappingNode(f"{_YAML_TAG}map", [])
    if not isinstance(root, MappingNode):
        raise UsageError("the config file is not a YAML mapping of options")
    present: set[str] = set()
    for key_node, value_node in root.value:
        key = key_node.value
        if key in values and isinstance(value_node, ScalarNode):
            _set_scalar(value_node, key, values[key])
            present.add(key)
    for key, value in values.items():
        if key not in present:
            value_node = ScalarNode(f"{_YAML_TAG}str", "")
            _set_scalar(value_node, key, value)
            root.value.append((ScalarNode(f"{_YAML_TAG}str", key), value_node))
    out = io.StringIO()
    yaml.serialize(root, out)
    return prefix + out.getvalue()


def _set_scalar(node: ScalarNode, key: str, value: str) -> None:
    """A quoted value stays quoted (a string); a plain one takes its option's type, and
    an empty string is written ``""`` as crictl's YAML encoder writes it."""
    node.value = value
    quoted = node.style in ("'", '"')
    node.tag = f"{_YAML_TAG}{_STRING if quoted else _KINDS[key]}"
    if not quoted and value == "":
        node.style = '"'


def write_file(path: str, text: str) -> None:
    """Rewrite ``path`` in place (same inode, same mode) or create it, its directory
    too, with crictl's modes (0644 for the file, 0755 for directories)."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o755, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
