"""``pull``/``runp``/``create``/``run jsonschema``: the JSON schema of the config files.

crictl prints ``jsonschema.Reflect(&pb.PodSandboxConfig{})`` (github.com/invopop/jsonschema)
of the Go structs generated from the CRI proto. This module computes the same document
from this package's protobuf descriptors at run time (a few hundred microseconds, and
never out of date with the vendored proto): draft 2020-12, the message as a ``$ref`` into
``$defs``, one definition per message (``properties`` in declaration order under the
proto field names, which are the Go structs' JSON tags; ``additionalProperties: false``;
``type: object``), nothing required (every generated field is ``omitempty``), maps as
``additionalProperties``, enums as ``oneOf`` string or integer (invopop's rule for
protobuf enums: jsonpb reads both), ``bytes`` as base64 strings except
``KeyValue.value`` (crictl strips that encoding, its config files give the value as
plain text), and ``$id`` made of the Go package path and the type's name in
dash-separated lower case.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import IO, Any

__all__ = ["SCHEMA_COMMANDS", "jsonschema_of", "run_jsonschema"]

SCHEMA_COMMANDS = ("pull", "runp", "create", "run")
"""The commands with crictl's ``jsonschema`` (alias ``js``) subcommand."""

_DRAFT = "https://json-schema.org/draft/2020-12/schema"

# protobuf FieldDescriptor types -> JSON schema types (Go's kinds as invopop maps them)
_SCALARS = {
    1: "number",  # double
    2: "number",  # float
    3: "integer",  # int64
    4: "integer",  # uint64
    5: "integer",  # int32
    6: "integer",  # fixed64
    7: "integer",  # fixed32
    8: "boolean",
    9: "string",
    12: "string",  # bytes
    13: "integer",  # uint32
    15: "integer",  # sfixed32
    16: "integer",  # sfixed64
    17: "integer",  # sint32
    18: "integer",  # sint64
}
_BYTES = 12
_ENUM = 14


def jsonschema_of(descriptor: Any) -> dict[str, Any]:
    """invopop/jsonschema's ``Reflect`` of the Go struct generated for ``descriptor``."""
    definitions: dict[str, Any] = {}
    _define(descriptor, definitions)
    name = _go_name(descriptor)
    go_package = descriptor.file.GetOptions().go_package
    dashed = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1-\2", name))
    return {
        "$schema": _DRAFT,
        "$id": f"https://{go_package}/{dashed.lower()}",
        "$ref": f"#/$defs/{name}",
        "$defs": dict(sorted(definitions.items())),
    }


def _go_name(descriptor: Any) -> str:
    """protoc-gen-go's name: nested messages are ``Parent_Child``."""
    package = descriptor.file.package
    return str(descriptor.full_name).removeprefix(package + ".").replace(".", "_")


def _define(descriptor: Any, definitions: dict[str, Any]) -> None:
    name = _go_name(descriptor)
    if name in definitions:
        return
    properties: dict[str, Any] = {}
    definitions[name] = {"properties": properties, "additionalProperties": False, "type": "object"}
    for field in descriptor.fields:
        schema = _field_schema(field, definitions)
        if name == "KeyValue" and field.name == "value":
            schema.pop("contentEncoding", None)
        properties[field.name] = schema


def _field_schema(field: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        value = _value_schema(message.fields_by_name["value"], definitions)
        return {"additionalProperties": value, "type": "object"}
    value = _value_schema(field, definitions)
    if _is_repeated(field):
        return {"items": value, "type": "array"}
    return value


def _value_schema(field: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    if field.message_type is not None:
        _define(field.message_type, definitions)
        return {"$ref": f"#/$defs/{_go_name(field.message_type)}"}
    if field.type == _ENUM:
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    schema: dict[str, Any] = {"type": _SCALARS[field.type]}
    if field.type == _BYTES:
        schema["contentEncoding"] = "base64"
    return schema


def _is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)  # protobuf >= 7 drops label
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == field.LABEL_REPEATED)


def run_jsonschema(command: str, words: list[str], out: IO[str], err: IO[str]) -> int:
    """``COMMAND jsonschema [-p] [-c]`` (``words`` follow ``jsonschema``), as crictl:
    ``pull`` and ``runp`` print the pod config's schema; ``create`` and ``run`` the pod's
    with ``-p``, the container's with ``-c``, both (pod first) with both, and their help
    with neither."""
    from cri_client import pb

    parser = argparse.ArgumentParser(
        prog=f"cri-client {command} jsonschema",
        description="Display the JSON schema for the pod or container config",
        allow_abbrev=False,
    )
    if command in ("create", "run"):
        parser.add_argument("-p", "--pod", action="store_true", help="the pod config's schema")
        parser.add_argument(
            "-c", "--container", action="store_true", help="the container config's schema"
        )
    args, unknown = parser.parse_known_args(words)
    if unknown:
        parser.print_help(out)
        name = unknown[0].lstrip("-").split("=", 1)[0]
        err.write(f"flag provided but not defined: -{name}\n")
        return 1
    pod, container = pb.PodSandboxConfig.DESCRIPTOR, pb.ContainerConfig.DESCRIPTOR
    if command in ("pull", "runp"):
        wanted = [pod]
    else:
        wanted = ([pod] if args.pod else []) + ([container] if args.container else [])
    if not wanted:
        parser.print_help(out)
    for descriptor in wanted:
        out.write(json.dumps(jsonschema_of(descriptor), indent=2) + "\n")
    return 0
