"""The committed generated code matches proto/api.proto.

(Byte-for-byte freshness is `scripts/generate.py --check`, run by scripts/test.sh.)
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from cri_client import LowLevelAPI
from cri_client._api import ALL_RPCS
from cri_client._proto import api_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO_TEXT = (ROOT / "proto" / "api.proto").read_text()


def proto_rpcs() -> dict[str, tuple[str, str, bool]]:
    """rpc name -> (request, response, server_streaming), read from the proto text."""
    pattern = re.compile(r"^\s*rpc\s+(\w+)\s*\((\w+)\)\s*returns\s*\((stream\s+)?(\w+)\)", re.M)
    return {m[1]: (m[2], m[4], bool(m[3])) for m in pattern.finditer(PROTO_TEXT)}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_proto_is_vendored_with_license_and_package() -> None:
    assert "Licensed under the Apache License, Version 2.0" in PROTO_TEXT
    assert "package runtime.v1;" in PROTO_TEXT


def test_generated_messages_match_the_proto() -> None:
    in_proto = set(re.findall(r"^message (\w+)\s*\{", PROTO_TEXT, re.M))
    assert len(in_proto) > 150
    assert set(api_pb2.DESCRIPTOR.message_types_by_name) == in_proto
    in_proto_enums = set(re.findall(r"^enum (\w+)\s*\{", PROTO_TEXT, re.M))
    assert set(api_pb2.DESCRIPTOR.enum_types_by_name) == in_proto_enums


def test_generated_services_match_the_proto() -> None:
    generated = {
        method.name: (method.input_type.name, method.output_type.name, method.server_streaming)
        for service in api_pb2.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert generated == proto_rpcs()
    assert set(api_pb2.DESCRIPTOR.services_by_name) == {"RuntimeService", "ImageService"}


def test_every_rpc_has_a_low_level_method_with_the_right_types() -> None:
    rpcs = proto_rpcs()
    assert {rpc.name for rpc in ALL_RPCS} == set(rpcs)
    for rpc in ALL_RPCS:
        request, response, streaming = rpcs[rpc.name]
        method = getattr(LowLevelAPI, snake(rpc.name))
        assert rpc.request_type.__name__ == request
        assert rpc.response_type.__name__ == response
        assert rpc.server_streaming is streaming
        params = inspect.signature(method).parameters
        assert list(params) == ["self", "request", "rpc_timeout", "fields"], rpc.name
        assert params["rpc_timeout"].kind is inspect.Parameter.KEYWORD_ONLY
        assert method.__doc__ and method.__doc__.lower().startswith(rpc.name.lower()[:6])


def test_containerd_content_stubs_are_vendored_and_private() -> None:
    from google.protobuf import descriptor_pool

    from cri_client._proto.containerd import content_pb2

    text = (ROOT / "proto" / "containerd" / "content.proto").read_text()
    assert "Copyright The containerd Authors." in text
    assert "package containerd.services.content.v1;" in text
    service = content_pb2.DESCRIPTOR.services_by_name["Content"]
    assert {"ListStatuses", "Read"} <= set(service.methods_by_name)
    assert content_pb2.DESCRIPTOR.pool is not descriptor_pool.Default()
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("containerd.services.content.v1.Status")
    status = content_pb2.Status(ref="layer-sha256:ab", offset=3, total=9)
    status.updated_at.seconds = 5
    assert content_pb2.Status.FromString(status.SerializeToString()) == status
