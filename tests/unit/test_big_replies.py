"""Replies past gRPC's 4 MiB default, and past the client's own limit."""

from __future__ import annotations

from typing import Any

import pytest

from cri_client import CRIClient
from cri_client._proto import api_pb2 as pb
from cri_client.errors import ResourceExhaustedError

from .fake_runtime import FakeRuntime, stream_of

MIB = 1024 * 1024


def pods_of_size(total_bytes: int, prefix: str = "p") -> list[pb.PodSandbox]:
    """Pods whose serialized list is about total_bytes (each about 64 KiB of labels)."""
    label = {"blob": "x" * (64 * 1024 - 100)}
    return [
        pb.PodSandbox(id=f"{prefix}{i}", labels=label) for i in range(total_bytes // (64 * 1024))
    ]


def unary_list(pods: list[pb.PodSandbox]) -> Any:
    return lambda request, context: pb.ListPodSandboxResponse(items=pods)


def test_a_10_mib_list_works_with_the_default_limit(sock: str) -> None:
    pods = pods_of_size(10 * MIB)
    with (
        FakeRuntime(sock, {"ListPodSandbox": unary_list(pods)}) as fake,
        CRIClient(fake.endpoint) as cri,
    ):
        assert len(cri.pods.list()) == len(pods) == 160
        assert len(cri.api.list_pod_sandbox().items) == 160


def test_a_20_mib_list_says_how_to_raise_the_limit(sock: str) -> None:
    pods = pods_of_size(20 * MIB)
    with FakeRuntime(sock, {"ListPodSandbox": unary_list(pods)}) as fake:
        with CRIClient(fake.endpoint) as cri, pytest.raises(ResourceExhaustedError) as info:
            cri.pods.list()
        assert "max_message_size" in str(info.value) and "ListPodSandbox" in str(info.value)
        with CRIClient(fake.endpoint, max_message_size=32 * MIB) as roomy:
            assert len(roomy.pods.list()) == 320


def test_a_20_mib_list_over_the_stream_rpc_needs_no_bigger_limit(sock: str) -> None:
    pods = pods_of_size(20 * MIB)
    chunks = [
        pb.StreamPodSandboxesResponse(pod_sandboxes=pods[i : i + 40]) for i in range(0, 320, 40)
    ]
    handlers = {"StreamPodSandboxes": stream_of(*chunks), "ListPodSandbox": unary_list(pods)}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        listed = cri.pods.list()
        assert [p.id for p in listed] == [p.id for p in pods]
        assert fake.calls == ["StreamPodSandboxes"]
