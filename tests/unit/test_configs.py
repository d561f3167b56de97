"""The kubelet-like defaults of the config builders."""

from __future__ import annotations

import uuid

from cri_client._proto import api_pb2 as pb
from cri_client.configs import container_config, pod_sandbox_config


def test_pod_defaults_are_kubelets() -> None:
    config = pod_sandbox_config("Web_Server.1", labels={"app": "web"})
    uid = config.metadata.uid
    assert str(uuid.UUID(uid)) == uid
    assert config.metadata.namespace == "default" and config.metadata.attempt == 0
    assert config.hostname == "web-server-1"
    assert config.log_directory == f"/var/log/pods/default_Web_Server.1_{uid}"
    assert config.linux.cgroup_parent == f"/cri-client/pod{uid}"
    options = config.linux.security_context.namespace_options
    assert (options.network, options.pid, options.ipc) == (pb.POD, pb.CONTAINER, pb.POD)
    assert dict(config.labels) == {"app": "web"}


def test_host_network_pod_has_no_hostname() -> None:
    config = pod_sandbox_config("web", host_network=True, uid="u1", cgroup_parent="/x")
    assert config.hostname == ""
    assert config.linux.security_context.namespace_options.network == pb.NODE
    assert config.linux.cgroup_parent == "/x"


def test_pod_dns_and_ports_from_dicts() -> None:
    config = pod_sandbox_config(
        "web",
        dns={"servers": ["10.0.0.10"], "searches": ["svc.local"]},
        port_mappings=[{"container_port": 80, "host_port": 8080}],
    )
    assert list(config.dns_config.servers) == ["10.0.0.10"]
    assert config.port_mappings[0].host_port == 8080


def test_container_joins_its_pods_namespaces() -> None:
    pod = pod_sandbox_config("web", host_network=True)
    config = container_config(
        "app",
        "busybox:1.35",
        pod=pod,
        command=["sh"],
        args=["-c", "true"],
        env={"A": "1", "B": b"\xff"},
        mounts=[("/h", "/c"), ("/h2", "/c2", True), {"host_path": "/h3", "container_path": "/c3"}],
        resources={"memory_limit_in_bytes": 1 << 20},
        run_as_user=1000,
        privileged=True,
        tty=True,
        stdin=True,
    )
    assert config.log_path == "app/0.log"
    options = config.linux.security_context.namespace_options
    assert (options.network, options.pid) == (pb.NODE, pb.CONTAINER)
    assert [(e.key, e.value) for e in config.envs] == [("A", b"1"), ("B", b"\xff")]
    assert [(m.host_path, m.container_path, m.readonly) for m in config.mounts] == [
        ("/h", "/c", False),
        ("/h2", "/c2", True),
        ("/h3", "/c3", False),
    ]
    assert config.linux.resources.memory_limit_in_bytes == 1 << 20
    assert config.linux.security_context.run_as_user.value == 1000
    assert config.linux.security_context.privileged and config.tty and config.stdin
    assert list(config.command) == ["sh"] and list(config.args) == ["-c", "true"]
