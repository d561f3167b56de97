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


def ambiguity(kind: str, reference: str, items: list[tuple[str, str]]) -> str:
    """The message of the AmbiguousReferenceError that looking ``reference`` up raises."""
    with pytest.raises(AmbiguousReferenceError) as info:
        resolve_reference(kind, reference, items, lambda i: i[0], lambda i: (i[1], f"ns/{i[1]}"))
    return str(info.value)


def test_an_ambiguous_reference_says_what_picks_one() -> None:
    """An id prefix needs a longer prefix; a name needs its qualified form, which
    differs per kind; a qualified name that is still ambiguous needs an id prefix."""
    assert ambiguity("pod", "aaaa", ITEMS) == (
        "pod reference 'aaaa' is ambiguous: it matches 2 pods (aaaa1111, aaaa2222);"
        " use a longer id prefix"
    )
    assert ambiguity("pod", "db", ITEMS) == (
        "pod reference 'db' is ambiguous: it matches 2 pods (aaaa2222, cccc4444);"
        " use namespace/name or an id prefix"
    )
    assert ambiguity("pod", "ns/db", ITEMS) == (
        "pod reference 'ns/db' is ambiguous: it matches 2 pods (aaaa2222, cccc4444);"
        " use an id prefix"
    )
    assert ambiguity("container", "db", ITEMS) == (
        "container reference 'db' is ambiguous: it matches 2 containers (aaaa2222, cccc4444);"
        " use namespace/pod/container or an id prefix"
    )
    assert ambiguity("image", "db", ITEMS) == (
        "image reference 'db' is ambiguous: it matches 2 images (aaaa2222, cccc4444);"
        " use an id prefix"
    )


def test_an_ambiguous_reference_counts_the_candidates_it_does_not_show() -> None:
    many = [(f"{n:02d}" + "f" * 62, "web") for n in range(12)]
    shown = ", ".join(f"{n:02d}" + "f" * 11 for n in range(10))
    assert ambiguity("container", "web", many) == (
        f"container reference 'web' is ambiguous: it matches 12 containers ({shown}"
        " and 2 more); use namespace/pod/container or an id prefix"
    )
    assert ambiguity("pod", "0", many) == (  # ten: all shown, nothing to count
        f"pod reference '0' is ambiguous: it matches 10 pods ({shown}); use a longer id prefix"
    )
