"""FrozenValue: what the value classes (RuntimeVersion, Endpoint, ExecResult, ...)
relied on from frozen dataclasses, kept without their import-time cost."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError

import pytest

from cri_client import ExecResult
from cri_client._value import FrozenValue
from cri_client.images import FilesystemUsage, ImageFsInfo


class Point(FrozenValue):
    _compared = __match_args__ = ("x", "y")
    x: int
    y: int

    def __init__(self, x: int, y: int, note: str = "") -> None:
        self._init(x=x, y=y, note=note)


def test_repr_equality_and_hash_follow_the_compared_fields() -> None:
    a, b = Point(1, 2, note="left out"), Point(1, 2)
    assert repr(a) == "Point(x=1, y=2)"
    assert a == b and hash(a) == hash(b) and a != Point(2, 1)
    assert len({a, b, Point(2, 1)}) == 2
    assert a != (1, 2)  # another type is never equal
    assert (Point.__eq__(a, (1, 2))) is NotImplemented


def test_assignment_and_deletion_are_refused() -> None:
    point = Point(1, 2)
    with pytest.raises(FrozenInstanceError, match="'x'"):
        point.x = 3  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError, match="'y'"):
        del point.y
    assert (point.x, point.y) == (1, 2)


def test_match_and_pickle() -> None:
    match Point(3, 4):
        case Point(x, y):
            assert (x, y) == (3, 4)
    result = ExecResult(3, b"out", b"err")
    assert pickle.loads(pickle.dumps(result)) == result
    assert repr(result) == "ExecResult(exit_code=3, stdout=b'out', stderr=b'err')"
    assert not result.ok and ExecResult(0, b"", b"").ok


def test_image_fs_info_values() -> None:
    usage = FilesystemUsage("/var/lib/containerd", 10, 2, None)
    info = ImageFsInfo((usage,), ())
    assert info == ImageFsInfo((FilesystemUsage("/var/lib/containerd", 10, 2, None),), ())
    assert info != ImageFsInfo((), (usage,))
    assert "used_bytes=10" in repr(usage)
