"""Pure helpers behind the objects: dicts, timestamps, states, reference lookup."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from cri_client import AmbiguousReferenceError, ContainerState, PodState
from cri_client._core.messages import message_dict, timestamp
from cri_client._core.model import resolve_reference
from cri_client._proto import api_pb2 as pb
from cri_client.errors import NotFoundError


def test_message_dict_is_json_safe_with_ints_enums_and_defaults() -> None:
    status = pb.ContainerStatus(
        id="c1",
        state=pb.CONTAINER_RUNNING,
        created_at=1_795_000_000_123_456_789,
        labels={"a": "b"},
        mounts=[pb.Mount(container_path="/data", propagation=pb.PROPAGATION_PRIVATE)],
    )
    data = message_dict(status)
    assert data["created_at"] == 1_795_000_000_123_456_789  # int, not "1795..."
    assert data["state"] == "CONTAINER_RUNNING"
    assert data["exit_code"] == 0  # defaults are shown, as crictl does
    assert data["labels"] == {"a": "b"}
    assert data["mounts"][0]["propagation"] == "PROPAGATION_PRIVATE"
    assert "resources" not in data  # unset sub-message
    assert json.loads(json.dumps(data)) == data
    reply = message_dict(pb.ExecSyncResponse(stdout=b"\xff\x00", exit_code=3))
    assert reply == {"stdout": "/wA=", "stderr": "", "exit_code": 3}


def test_timestamps_and_states() -> None:
    assert timestamp(0) is None
    assert timestamp(1_700_000_000_500_000_000) == datetime(
        2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc
    )
    assert PodState.from_proto(pb.SANDBOX_NOTREADY) is PodState.NOT_READY
    assert PodState("ready").to_proto() == pb.SANDBOX_READY
    assert ContainerState.from_proto(pb.CONTAINER_EXITED) is ContainerState.EXITED
    assert ContainerState.from_proto(99) is ContainerState.UNKNOWN
    assert ContainerState("created").to_proto() == pb.CONTAINER_CREATED


ITEMS = [("aaaa1111", "web"), ("aaaa2222", "db"), ("bbbb3333", "web2"), ("cccc4444", "db")]


def lookup(reference: str) -> tuple[str, str]:
    return resolve_reference("pod", reference, ITEMS, lambda i: i[0], lambda i: (i[1],))


def test_reference_by_id_prefix_then_name() -> None:
    assert lookup("aaaa2222") == ("aaaa2222", "db")
    assert lookup("bbbb") == ("bbbb3333", "web2")
    assert lookup("web") == ("aaaa1111", "web")
    with pytest.raises(AmbiguousReferenceError) as info:
        lookup("aaaa")
    assert info.value.candidates == ["aaaa1111", "aaaa2222"]
    assert "ambiguous" in str(info.value) and isinstance(info.value, ValueError)
    with pytest.raises(AmbiguousReferenceError):
        lookup("db")
    with pytest.raises(NotFoundError, match="no pod matches 'zzz'"):
        lookup("zzz")
