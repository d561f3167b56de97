"""gRPC status -> CRIError mapping, through a real gRPC call to a fake server."""

from __future__ import annotations

import grpc
import pytest

from cri_client import CRIClient
from cri_client import errors as e
from cri_client._proto import api_pb2 as pb

from .fake_runtime import FakeRuntime, abort_with

EXPECTED = {
    grpc.StatusCode.CANCELLED: e.CancelledError,
    grpc.StatusCode.UNKNOWN: e.UnknownError,
    grpc.StatusCode.INVALID_ARGUMENT: e.InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: e.NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: e.AlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: e.PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: e.ResourceExhaustedError,
    grpc.StatusCode.FAILED_PRECONDITION: e.FailedPreconditionError,
    grpc.StatusCode.ABORTED: e.AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: e.OutOfRangeError,
    grpc.StatusCode.UNIMPLEMENTED: e.UnimplementedError,
    grpc.StatusCode.INTERNAL: e.InternalError,
    grpc.StatusCode.UNAVAILABLE: e.UnavailableError,
    grpc.StatusCode.DATA_LOSS: e.CRIError,
    grpc.StatusCode.UNAUTHENTICATED: e.CRIError,
}


@pytest.mark.parametrize("code", list(EXPECTED), ids=lambda c: c.name)
def test_status_codes_map_to_their_class_with_rpc_id_and_details(
    sock: str, code: grpc.StatusCode
) -> None:
    handler = abort_with(code, f"runtime says {code.name.lower()}")
    with FakeRuntime(sock, {"ContainerStatus": handler}) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.CRIError) as info:
            cri.api.container_status(container_id="c0ffee")
    error = info.value
    assert type(error) is EXPECTED[code]
    assert error.code == code
    assert error.rpc == "ContainerStatus"
    assert error.object_id == "container_id=c0ffee"
    assert f"runtime says {code.name.lower()}" in error.details
    assert str(error).startswith(f"ContainerStatus(container_id=c0ffee): {code.name}: ")
    assert not isinstance(error, grpc.RpcError)


def test_object_reference_names_image_and_config(sock: str) -> None:
    failing = abort_with(grpc.StatusCode.NOT_FOUND, "no such thing")
    handlers = {"PullImage": failing, "CreateContainer": failing}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.NotFoundError, match=r"PullImage\(image=busybox:9\)"):
            cri.api.pull_image(image={"image": "busybox:9"})
        with pytest.raises(e.NotFoundError) as info:
            cri.api.create_container(pod_sandbox_id="p1", config={"metadata": {"name": "web"}})
    assert info.value.object_id == "pod_sandbox_id=p1, name=web"


def test_runtime_serving_only_v1alpha2_gets_a_clear_error(sock: str) -> None:
    fake = FakeRuntime(sock, {})
    fake.add_raw_method(
        "runtime.v1alpha2.RuntimeService",
        "Version",
        lambda raw: pb.VersionResponse(runtime_api_version="v1alpha2").SerializeToString(),
    )
    with fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.UnsupportedAPIVersionError) as info:
            cri.version()
    assert isinstance(info.value, e.UnimplementedError)
    assert "runtime.v1" in str(info.value) and "v1alpha2" in str(info.value)


def test_unimplemented_method_is_not_mistaken_for_old_api(sock: str) -> None:
    with FakeRuntime(sock, {"Version": lambda r, c: pb.VersionResponse()}) as fake:
        with CRIClient(fake.endpoint) as cri, pytest.raises(e.UnimplementedError) as info:
            cri.api.runtime_config()
    assert type(info.value) is e.UnimplementedError
