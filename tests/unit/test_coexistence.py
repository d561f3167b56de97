"""cri_client and another package's ``runtime.v1`` stubs, imported into one process.

protoc's Python stubs register their messages in protobuf's process-wide default
descriptor pool, so two copies of the CRI proto used to collide: the second import
died with ``duplicate symbol 'runtime.v1.Protocol'``. scripts/generate.py now builds
our messages in a private pool (see ``use_private_pool`` there). These tests import
PyPI's ``container-runtime-interface-api`` (import name ``cri_api``) and cri_client in
both orders, under the default protobuf backend and the pure-Python one (whose
symbol database would otherwise copy our descriptors into the default pool), and
check that messages cross between the two copies byte for byte and that our method
paths are the CRI's.

Each case runs in a fresh interpreter: both the clash and its absence are decided
at import time, and this test process has long since imported cri_client.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pool

from cri_client._proto import api_pb2

ROOT = Path(__file__).resolve().parents[2]

PYPI_NAME = "container-runtime-interface-api"
IMPORT_NAME = "cri_api"  # what that distribution installs (its wheel's top_level.txt)
# 2.0.1 is the first release whose protobuf range (~=6.31) meets ours (>=5.29).
# --no-deps: its protobuf~=6.31 would otherwise move protobuf out of the range this
# environment was made to test (the dev venv: <6, by grpcio-tools 1.71.0's pin; the
# .[test] venvs of scripts/test.sh: the newest, 7.x).
INSTALL_HINT = f'python -m pip install --no-deps "{PYPI_NAME}>=2.0.1"'

CHILD = r"""
import json, sys

order = sys.argv[1]


def import_theirs():
    import cri_api  # its __init__ star-imports cri_api.v1.api_pb2 and _grpc
    from cri_api.v1 import api_pb2, api_pb2_grpc
    return api_pb2, api_pb2_grpc


def import_ours():
    from cri_client import CRIClient  # the whole client stack, not just the stubs
    from cri_client._api import ALL_RPCS
    from cri_client._proto import api_pb2, api_pb2_grpc
    return api_pb2, api_pb2_grpc, ALL_RPCS


if order == "theirs-first":
    theirs, theirs_grpc = import_theirs()
    ours, ours_grpc, all_rpcs = import_ours()
else:
    ours, ours_grpc, all_rpcs = import_ours()
    theirs, theirs_grpc = import_theirs()

from google.protobuf import descriptor_pool, json_format
from google.protobuf.internal import api_implementation


def sandbox_config(pb):
    # Maps, an enum, nested and repeated messages: the parts where copies could differ.
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="web", uid="u-1", namespace="default", attempt=2),
        hostname="web-0",
        labels={"app": "web", "tier": "front"},
        annotations={"note": "coexistence"},
        port_mappings=[pb.PortMapping(protocol=pb.SCTP, container_port=80, host_port=8080)],
        dns_config=pb.DNSConfig(servers=["10.0.0.10"], searches=["svc.cluster.local"]),
    )


def wire(message):
    return message.SerializeToString(deterministic=True)  # map order is otherwise free


def paths(stub_class):
    # Every method path a generated client stub would call, from a recording channel.
    seen = []

    class Channel:
        def __getattr__(self, kind):
            def register(path, *args, **kwargs):
                seen.append(path)
            return register

    stub_class(Channel())
    return seen


ours_msg, theirs_msg = sandbox_config(ours), sandbox_config(theirs)
default_pool_file = descriptor_pool.Default().FindMessageTypeByName(
    "runtime.v1.PodSandboxConfig"
).file.name
print(json.dumps({
    "backend": api_implementation.Type(),
    "ours_wire": wire(ours_msg).hex(),
    "theirs_wire": wire(theirs_msg).hex(),
    "ours_parsed_by_theirs": wire(theirs.PodSandboxConfig.FromString(wire(ours_msg))).hex(),
    "theirs_parsed_by_ours": wire(ours.PodSandboxConfig.FromString(wire(theirs_msg))).hex(),
    "round_trip_equal": ours.PodSandboxConfig.FromString(wire(theirs_msg)) == ours_msg,
    "ours_dict": json_format.MessageToDict(ours_msg),
    "theirs_dict": json_format.MessageToDict(theirs_msg),
    "ours_json_round_trip": json_format.Parse(
        json_format.MessageToJson(ours_msg), ours.PodSandboxConfig()
    ) == ours_msg,
    "ours_in_private_pool": ours.DESCRIPTOR.pool is not descriptor_pool.Default(),
    "default_pool_file": default_pool_file,
    "ours_paths": paths(ours_grpc.RuntimeServiceStub) + paths(ours_grpc.ImageServiceStub),
    "theirs_paths": paths(theirs_grpc.RuntimeServiceStub) + paths(theirs_grpc.ImageServiceStub),
    "facade_paths": [rpc.path for rpc in all_rpcs],
}))
"""


def run_child(order: str, backend: str | None) -> dict[str, Any]:
    """CHILD's report from a fresh interpreter; a failed import fails the test."""
    if importlib.util.find_spec(IMPORT_NAME) is None:
        pytest.fail(
            f"{PYPI_NAME} (import name {IMPORT_NAME!r}) is not installed, and this test "
            f"needs it; install it into this environment with: {INSTALL_HINT}",
            pytrace=False,
        )
    env = dict(os.environ)
    env.pop("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", None)
    if backend is not None:
        env["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = backend
    # Their stubs are protobuf 6.31 gencode, which refuses to load on our floor (5.29)
    # by this version gate alone; which pool each copy uses is what is tested here, on
    # every protobuf cri_client supports. (Our own gencode is 5.29.0: the gate would pass.)
    env["TEMPORARILY_DISABLE_PROTOBUF_VERSION_CHECK"] = "true"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, order], capture_output=True, text=True, env=env, timeout=120
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        pytest.fail(f"importing {order} (backend {backend or 'default'}) failed:\n{tail}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("backend", [None, "python"], ids=["default-backend", "pure-python"])
@pytest.mark.parametrize("order", ["theirs-first", "ours-first"])
def test_both_copies_import_and_agree_on_the_wire(order: str, backend: str | None) -> None:
    report = run_child(order, backend)
    if backend is not None:
        assert report["backend"] == backend
    assert report["ours_wire"] == report["theirs_wire"]
    assert report["ours_parsed_by_theirs"] == report["ours_wire"]
    assert report["theirs_parsed_by_ours"] == report["theirs_wire"]
    assert report["round_trip_equal"] is True
    assert report["ours_dict"] == report["theirs_dict"]
    assert report["ours_json_round_trip"] is True
    # Ours is private; the default pool's runtime.v1 is theirs (their file name).
    assert report["ours_in_private_pool"] is True
    assert report["default_pool_file"] == "v1/api.proto"


def test_method_paths_are_the_cri_ones() -> None:
    report = run_child("theirs-first", None)
    ours_paths: list[str] = report["ours_paths"]
    assert "/runtime.v1.RuntimeService/Version" in ours_paths
    assert "/runtime.v1.ImageService/PullImage" in ours_paths
    services = ("/runtime.v1.RuntimeService/", "/runtime.v1.ImageService/")
    assert all(path.startswith(services) for path in ours_paths)
    # The stubs in api_pb2_grpc (the test runtime serves them) and the paths the
    # client calls (cri_client._rpc.Rpc.path) are the same list.
    assert sorted(ours_paths) == sorted(report["facade_paths"])
    # Every RPC they know, we call by the same path (we may be on a newer CRI).
    assert set(report["theirs_paths"]) <= set(ours_paths)


def test_our_messages_are_not_in_the_default_pool() -> None:
    assert api_pb2.DESCRIPTOR.pool is not descriptor_pool.Default()
    try:
        found = descriptor_pool.Default().FindMessageTypeByName("runtime.v1.VersionRequest")
    except KeyError:
        return  # nobody registered runtime.v1 in the default pool: fine
    assert found is not api_pb2.VersionRequest.DESCRIPTOR


def test_the_rewrite_refuses_protoc_output_it_does_not_know() -> None:
    """A protoc that words api_pb2.py differently must fail generation, not silently
    leave the messages in the default pool."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "scripts" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    committed = (ROOT / "cri_client" / "_proto" / "api_pb2.py").read_text()
    assert "_descriptor_pool.Default()" not in committed
    assert "_builder.BuildTopDescriptorsAndMessages(" not in committed
    with pytest.raises(SystemExit, match="review use_private_pool"):
        generate.use_private_pool(committed)  # already rewritten: the stock lines are gone
