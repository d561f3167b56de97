"""The value types: one mechanism (frozen, slotted dataclasses) for all of them, so
``dataclasses.replace``/``asdict`` work on every value and none can be changed."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from cri_client import pb, types
from cri_client.types import (
    ContainerStats,
    Endpoint,
    ExecResult,
    FilesystemUsage,
    ImageFsInfo,
    RuntimeStatus,
    RuntimeVersion,
)

VALUE_TYPES = [
    getattr(types, name)
    for name in types.__all__
    if not issubclass(getattr(types, name), types.enum.Enum)
]


@pytest.mark.parametrize("cls", VALUE_TYPES, ids=lambda cls: cls.__name__)
def test_every_value_type_is_a_frozen_slotted_dataclass(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen
    assert "__slots__" in cls.__dict__
    assert cls.__module__ == "cri_client.types"


def test_replace_asdict_and_assignment() -> None:
    result = ExecResult(3, b"out", b"err")
    assert dataclasses.replace(result, exit_code=0) == ExecResult(0, b"out", b"err")
    assert dataclasses.asdict(result) == {"exit_code": 3, "stdout": b"out", "stderr": b"err"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.exit_code = 0  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(result)) == result
    assert repr(result) == "ExecResult(exit_code=3, stdout=b'out', stderr=b'err')"
    assert not result.ok and ExecResult(0, b"", b"").ok
    match result:
        case ExecResult(code, out, _):
            assert (code, out) == (3, b"out")


def test_raw_messages_are_left_out_of_equality_hash_and_repr() -> None:
    one = RuntimeVersion.from_message(pb.VersionResponse(runtime_name="containerd", version="a"))
    other = dataclasses.replace(one, raw=pb.VersionResponse(runtime_name="other"))
    assert one == other and hash(one) == hash(other)
    assert "raw" not in repr(one) and "runtime_name='containerd'" in repr(one)
    assert str(one) == "containerd  (CRI )"


def test_status_with_info_compares_but_does_not_hash_info() -> None:
    reply = pb.StatusResponse(info={"config": '{"a": 1}'})
    status = RuntimeStatus.from_message(reply)
    assert status.config == {"a": 1}
    assert status == RuntimeStatus.from_message(reply)
    assert isinstance(hash(status), int)


def test_image_fs_info_values() -> None:
    usage = FilesystemUsage("/var/lib/containerd", 10, 2, None)
    info = ImageFsInfo((usage,), ())
    assert info == ImageFsInfo((FilesystemUsage("/var/lib/containerd", 10, 2, None),), ())
    assert info != ImageFsInfo((), (usage,))
    assert "used_bytes=10" in repr(usage)


def test_endpoint_url_and_stats_fields() -> None:
    assert Endpoint("/run/x.sock", "argument").url == "unix:///run/x.sock"
    assert Endpoint("127.0.0.1:1", "argument", "tcp").url == "dns:///127.0.0.1:1"
    names = [f.name for f in dataclasses.fields(ContainerStats)]
    assert names[:3] == ["container_id", "name", "timestamp"] and names[-1] == "raw"
