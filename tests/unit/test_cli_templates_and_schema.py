"""``--template`` and ``events``' flag checks (before any RPC), and the JSON schema of the
config files (``jsonschema``): no runtime needed."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest

from cri_client import pb
from cri_client.cli.arguments import output_template
from cri_client.cli.commands.runtime import events_template
from cri_client.cli.context import UsageError
from cri_client.cli.jsonschema import jsonschema_of, run_jsonschema
from cri_client.cli.main import main
from cri_client.cli.output import render_template, write_document


@pytest.mark.parametrize(
    ("output", "template", "message"),
    [
        ("xml", "", 'don\'t support "xml" format'),
        ("table", "", 'don\'t support "table" format'),
        ("", "", 'don\'t support "" format'),
        ("json", "{{.x}}", 'template can\'t be used with "json" format'),
        ("yaml", "{{.x}}", 'template can\'t be used with "yaml" format'),
        ("go-template", "{{.x", "failed to parse go-template: template: :1: unclosed action"),
        ("go-template", "{{end}}", "failed to parse go-template: template: :1: unexpected {{end}}"),
        (
            "go-template",
            '{{define "x"}}{{end}}',
            "failed to parse go-template: template: :1: {{define}} is not supported by "
            "cri-client's go-template",
        ),
    ],
)
def test_events_refuses_its_flags_as_crictl(output: str, template: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        events_template(output, template)
    assert str(caught.value) == message


def test_events_accepts_crictls_formats() -> None:
    assert events_template("json", "") is None
    assert events_template("yaml", "") is None
    parsed = events_template("go-template", "{{.containerId}}")
    assert parsed is not None
    assert render_template(parsed, {"containerId": "abc"}) == "abc"


def test_a_template_that_does_not_parse_is_crictls_generate_error() -> None:
    args = argparse.Namespace(output="go-template", template="{{if .x}}")
    with pytest.raises(UsageError) as caught:
        output_template(args)
    assert str(caught.value) == (
        "failed to generate go-template: template: tmplExecuteRawJSON:1: unexpected EOF"
    )
    assert output_template(argparse.Namespace(output="json", template="{{.x")) is None


def test_go_template_output_ends_with_crictls_newline() -> None:
    out = io.StringIO()
    template = output_template(argparse.Namespace(output="go-template", template="{{.a.b}}"))
    write_document({"a": {"b": 1234}}, "go-template", out, template=template)
    assert out.getvalue() == "1234\n"
    with pytest.raises(ValueError, match=r"^failed to template data: template: "):
        write_document({"a": {}}, "go-template", out, template=template)


@pytest.mark.parametrize(
    "argv",
    [
        ["-r", "unix:///nonexistent.sock", "inspect", "-o", "go-template", "--template", "{{", "x"],
        ["-r", "unix:///nonexistent.sock", "ps", "-o", "go-template", "--template", "{{.a"],
        ["-r", "unix:///nonexistent.sock", "events", "-o", "xml"],
    ],
)
def test_template_errors_exit_1_without_connecting(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("cri-client: ") and captured.err.count("\n") == 1
    assert "nonexistent" not in captured.err


# --- jsonschema -------------------------------------------------------------------------


def definition(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["$defs"][name]
    return found


def test_pod_config_schema_is_invopops_reflection() -> None:
    schema = jsonschema_of(pb.PodSandboxConfig.DESCRIPTOR)
    assert list(schema) == ["$schema", "$id", "$ref", "$defs"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://k8s.io/cri-api/pkg/apis/runtime/v1/pod-sandbox-config"
    assert schema["$ref"] == "#/$defs/PodSandboxConfig"
    assert list(schema["$defs"]) == sorted(schema["$defs"])
    root = definition(schema, "PodSandboxConfig")
    assert list(root) == ["properties", "additionalProperties", "type"]
    assert root["additionalProperties"] is False and root["type"] == "object"
    # declaration order, proto names (the Go structs' JSON tags)
    assert list(root["properties"])[:4] == ["metadata", "hostname", "log_directory", "dns_config"]
    assert root["properties"]["metadata"] == {"$ref": "#/$defs/PodSandboxMetadata"}
    assert root["properties"]["port_mappings"] == {
        "items": {"$ref": "#/$defs/PortMapping"},
        "type": "array",
    }
    assert root["properties"]["labels"] == {
        "additionalProperties": {"type": "string"},
        "type": "object",
    }
    metadata = definition(schema, "PodSandboxMetadata")["properties"]
    assert metadata["attempt"] == {"type": "integer"}
    assert definition(schema, "PortMapping")["properties"]["protocol"] == {
        "oneOf": [{"type": "string"}, {"type": "integer"}]
    }
    assert all("required" not in body for body in schema["$defs"].values())


def test_container_config_schema_keeps_keyvalue_plain_and_bytes_base64() -> None:
    schema = jsonschema_of(pb.ContainerConfig.DESCRIPTOR)
    assert schema["$id"] == "https://k8s.io/cri-api/pkg/apis/runtime/v1/container-config"
    assert definition(schema, "KeyValue")["properties"] == {
        "key": {"type": "string"},
        "value": {"type": "string"},
    }
    envs = definition(schema, "ContainerConfig")["properties"]["envs"]
    assert envs == {"items": {"$ref": "#/$defs/KeyValue"}, "type": "array"}
    assert definition(schema, "Int64Value")["properties"] == {"value": {"type": "integer"}}


@pytest.mark.parametrize(
    ("command", "words", "roots"),
    [
        ("pull", [], ["PodSandboxConfig"]),
        ("runp", [], ["PodSandboxConfig"]),
        ("create", ["-c"], ["ContainerConfig"]),
        ("run", ["-p"], ["PodSandboxConfig"]),
        ("run", ["-c", "-p"], ["PodSandboxConfig", "ContainerConfig"]),
        ("create", ["--pod", "--container"], ["PodSandboxConfig", "ContainerConfig"]),
    ],
)
def test_jsonschema_subcommands(command: str, words: list[str], roots: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_jsonschema(command, words, out, err) == 0
    decoder, text, found = json.JSONDecoder(), out.getvalue(), []
    while text.strip():
        document, end = decoder.raw_decode(text.lstrip())
        text = text.lstrip()[end:]
        found.append(document["$ref"].rsplit("/", 1)[1])
    assert found == roots and err.getvalue() == ""


def test_jsonschema_without_a_choice_prints_help_and_an_unknown_flag_fails() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_jsonschema("create", [], out, err) == 0
    assert out.getvalue().startswith("usage: cri-client create jsonschema") and not err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert run_jsonschema("pull", ["-p"], out, err) == 1
    assert err.getvalue() == "flag provided but not defined: -p\n"
    assert out.getvalue().startswith("usage: cri-client pull jsonschema")
