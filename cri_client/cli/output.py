"""Rendering in crictl's shapes: protobuf JSON, YAML, tables, truncated ids, relative times.

Everything here is pure (no RPC, no argument parsing), so it is unit-tested without a
runtime. What crictl does is the reference, down to the library it uses:

* JSON of a message is protobuf's JSON mapping with default values emitted
  (``protojson.MarshalOptions{EmitDefaultValues: true}``): camelCase names, 64-bit
  integers as strings, enums by name, fields in declaration order;
* ``inspect*``, ``info`` and ``imagefsinfo`` documents go through Go maps, so their keys
  are sorted at every level (:func:`status_document`);
* YAML is the same document, keys sorted (``sigs.k8s.io/yaml.JSONToYAML``);
* tables are Go's ``tabwriter`` with crictl's settings (minimum width 20, padding 3);
* sizes and ages are ``github.com/docker/go-units``' ``HumanSize`` and ``HumanDuration``.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from cri_client.cli.gotemplate import Template

__all__ = [
    "OUTPUT_FORMATS",
    "TRUNCATED_ID_LENGTH",
    "ZERO_TIME",
    "ago",
    "go_json_dict",
    "go_map",
    "go_time",
    "human_duration",
    "human_size",
    "proto_dict",
    "render_table",
    "render_template",
    "rfc3339nano",
    "status_document",
    "truncate_id",
    "write_document",
]

TRUNCATED_ID_LENGTH = 13
"""crictl's ``truncatedIDLen``: ids, pod ids and image ids in tables."""

OUTPUT_FORMATS = ("json", "yaml", "table")

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time`` in RFC 3339: what crictl shows for a time not reached yet."""

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


# --- protobuf messages as documents ---------------------------------------------------


def proto_dict(message: Message) -> dict[str, Any]:
    """``message`` as crictl prints it with ``-o json``: protobuf's JSON mapping with
    default values emitted (zero scalars, empty lists and maps; unset sub-messages are
    left out), camelCase names, int64 as strings, enum names, in declaration order."""
    from google.protobuf import json_format

    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    return _in_declaration_order(message.DESCRIPTOR, data)


def _in_declaration_order(descriptor: Any, data: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for field in descriptor.fields:
        if field.json_name not in data:
            continue
        value = data[field.json_name]
        message_type = field.message_type
        if message_type is not None and message_type.GetOptions().map_entry:
            value_type = message_type.fields_by_name["value"].message_type
            if value_type is not None:
                value = {k: _in_declaration_order(value_type, v) for k, v in value.items()}
        elif message_type is not None and isinstance(value, list):
            value = [_in_declaration_order(message_type, item) for item in value]
        elif message_type is not None and isinstance(value, dict):
            value = _in_declaration_order(message_type, value)
        ordered[field.json_name] = value
    return ordered


def go_json_dict(message: Message) -> dict[str, Any]:
    """``message`` as Go's ``encoding/json`` renders a generated struct, which crictl
    uses for ``info``'s ``runtimeHandlers`` and ``features``: proto field names,
    zero values left out (``omitempty``), enums and 64-bit integers as numbers."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if value:
                result[field.name] = {str(k): _go_value(v) for k, v in value.items()}
        elif _is_repeated(field):
            if value:
                result[field.name] = [_go_value(item) for item in value]
        elif field.message_type is not None:
            if message.HasField(field.name):
                result[field.name] = go_json_dict(value)
        elif value:
            result[field.name] = _go_value(value)
    return result


def _is_repeated(field: Any) -> bool:
    # protobuf >= 7 has is_repeated and no label; 5.x has only label.
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    from google.protobuf.descriptor import FieldDescriptor

    return bool(getattr(field, "label", None) == FieldDescriptor.LABEL_REPEATED)


def _go_value(value: Any) -> Any:
    if hasattr(value, "DESCRIPTOR"):  # a message
        return go_json_dict(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def status_document(
    status: Mapping[str, Any] | None,
    info: Mapping[str, str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What crictl's ``outputStatusData`` makes of one status: ``{"status": ...}``, then
    ``extra`` (``runtimeHandlers``, ``features``), then every ``info`` key: a value that
    starts with ``{`` as the JSON object it is, any other as a string without its quotes.
    (A value that does not parse stays a string; crictl gives up instead.) Its numbers
    are what Go's float64 makes of them, as crictl decodes the values into
    ``map[string]any``: ``9223372036854775807`` is ``9223372036854776000``, ``100.0``
    is ``100``."""
    document: dict[str, Any] = {}
    if status is not None:
        document["status"] = dict(status)
    document.update(extra or {})
    for key in sorted(info):
        value = info[key]
        if value.startswith("{"):
            try:
                document[key] = json.loads(
                    value, parse_int=_through_float64, parse_float=_float64_number
                )
                continue
            except ValueError:
                pass
        document[key] = value.strip('"')
    return document


def _through_float64(text: str) -> int | float:
    """A JSON integer after Go's float64 and back (``encoding/json``'s shortest
    digits, padded with zeros below 1e21)."""
    number = int(text)
    if abs(number) <= 2**53:
        return number
    return _float64_number(text)


def _float64_number(text: str) -> int | float:
    from decimal import Decimal  # rare (a number past 2**53): not at every CLI start

    number = float(text)
    if number.is_integer() and abs(number) < 1e21:
        return int(Decimal(repr(number)))
    return number


def write_document(
    document: Any,
    output: str,
    out: IO[str],
    *,
    sort_keys: bool = False,
    template: Template | None = None,
) -> None:
    """``document`` as indented JSON (``sort_keys`` for crictl's Go-map documents), as
    YAML with sorted keys, or through ``template`` for ``go-template``, as crictl writes
    them."""
    if output == "go-template":
        assert template is not None, "go-template output without a parsed template"
        out.write(render_template(template, document) + "\n")
    elif output == "yaml":
        import yaml  # only when asked for: it costs start-up time

        out.write(
            yaml.safe_dump(document, sort_keys=True, default_flow_style=False, allow_unicode=True)
        )
    else:
        out.write(json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n")


def render_template(template: Template, document: Any) -> str:
    """``template`` executed on ``document`` as crictl's ``tmplExecuteRawJSON`` does (the
    document through JSON, numbers kept as their text); a failure is a ValueError with
    crictl's ``failed to template data: template: ...``."""
    from cri_client.cli.gotemplate import TemplateExecError, go_data

    try:
        return template.execute(go_data(document))
    except TemplateExecError as err:
        raise ValueError(f"failed to template data: {err}") from None


# --- tables ----------------------------------------------------------------------------


def render_table(rows: Iterable[Sequence[str]], *, min_width: int = 20, padding: int = 3) -> str:
    """Rows as crictl's ``tabwriter.NewWriter(os.Stdout, 20, 1, 3, ' ', 0)`` lays them
    out: every cell but a row's last is padded to its column's width, which is the
    widest cell plus ``padding``, at least ``min_width``; the last cell is not padded."""
    table = [list(row) for row in rows]
    widths: dict[int, int] = {}
    for row in table:
        for column, cell in enumerate(row[:-1]):
            widths[column] = max(widths.get(column, min_width), len(cell) + padding)
    lines = []
    for row in table:
        cells = [cell.ljust(widths[column]) for column, cell in enumerate(row[:-1])]
        lines.append("".join(cells + row[-1:]) + "\n")
    return "".join(lines)


def truncate_id(value: str, prefix: str = "") -> str:
    """crictl's ``getTruncatedID``: without ``prefix`` (``"sha256:"`` for images), at most
    13 characters."""
    return value.removeprefix(prefix)[:TRUNCATED_ID_LENGTH]


# --- sizes and times -------------------------------------------------------------------


def human_size(size: float, precision: int = 4) -> str:
    """go-units' ``HumanSizeWithPrecision``: decimal units, ``precision`` significant
    digits (``HumanSize`` is 4; ``crictl images`` uses 3): ``1.062MB``, ``742kB``."""
    unit = 0
    while size >= 1000 and unit < len(_SIZE_UNITS) - 1:
        size /= 1000
        unit += 1
    return f"{size:.{precision}g}{_SIZE_UNITS[unit]}"


def human_duration(seconds: float) -> str:
    """go-units' ``HumanDuration``: ``Less than a second``, ``About a minute``,
    ``5 minutes``, ``About an hour``, ``3 hours``, ``2 days``, ``3 weeks``..."""
    whole_seconds = int(seconds)
    if whole_seconds < 1:
        return "Less than a second"
    if whole_seconds == 1:
        return "1 second"
    if whole_seconds < 60:
        return f"{whole_seconds} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = math.floor(seconds / 3600 + 0.5)  # Go's math.Round: half away from zero
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def ago(nanoseconds: int, now: float | None = None) -> str:
    """A CRI timestamp as crictl's tables show it: ``"2 minutes ago"``."""
    current = time.time() if now is None else now
    return human_duration(current - nanoseconds / 1e9) + " ago"


def _local_time(nanoseconds: int) -> tuple[datetime, int]:
    seconds, nanos = divmod(nanoseconds, 1_000_000_000)
    moment = datetime.fromtimestamp(0, timezone.utc) + timedelta(seconds=seconds)
    return moment.astimezone(), nanos


def rfc3339nano(nanoseconds: int) -> str:
    """Go's ``time.Unix(0, ns).Format(time.RFC3339Nano)`` in the local zone, as crictl
    writes ``createdAt`` in ``inspect``: trailing zeros of the fraction dropped, ``Z``
    for UTC."""
    moment, nanos = _local_time(nanoseconds)
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        zone = "Z"
    else:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{_date_time(moment, 'T')}{fraction}{zone}"


def go_time(nanoseconds: int) -> str:
    """Go's ``time.Time`` ``%v`` in the local zone, as crictl's verbose listings print
    ``Created:``: ``2026-01-02 03:04:05.123456789 +0000 UTC``."""
    moment, nanos = _local_time(nanoseconds)
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = moment.strftime("%z") or "+0000"
    return f"{_date_time(moment, ' ')}{fraction} {offset} {moment.tzname() or offset}"


def _date_time(moment: datetime, separator: str) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def go_map(values: Mapping[str, str]) -> str:
    """Go's ``%v`` of a ``map[string]string``: ``map[key:value other:value]``, keys sorted."""
    return "map[" + " ".join(f"{k}:{values[k]}" for k in sorted(values)) + "]"
