"""cri_client.testing.ThrowawayContainerd against the real thing.

Runs as root on a machine where ``python -m cri_client.testing install`` has run.
The containerd version is ``$CRI_CLIENT_TEST_CONTAINERD`` (default 2.1). It talks
CRI over raw generated stubs, so it does not depend on the client library.
Nothing is skipped: a missing prerequisite is a failure with a clear message.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from cri_client._proto import api_pb2 as pb
from cri_client._proto import api_pb2_grpc
from cri_client.testing import ThrowawayContainerd

VERSION = os.environ.get("CRI_CLIENT_TEST_CONTAINERD", "2.1")

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def mounts_under(directory: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    return [p for p in points if p == str(directory) or p.startswith(f"{directory}/")]


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in argv:
            found.append(f"{entry.name}: {argv}")
    return found


@pytest.fixture
def base_dir() -> Iterator[Path]:
    """A short private dir in /tmp (unix socket paths are limited to 107 bytes)."""
    if os.geteuid() != 0:
        pytest.fail("this test starts containerd and must run as root")
    directory = Path(tempfile.mkdtemp(prefix="cric-", dir="/tmp"))
    yield directory
    ThrowawayContainerd(VERSION, base_dir=directory).stop(purge=True)
    assert not mounts_under(directory), "refusing to delete a base dir with mounts left"
    shutil.rmtree(directory)


def pod_cgroups(uid: str) -> list[Path]:
    return list(Path("/sys/fs/cgroup").glob(f"*/cri-client/pod{uid}"))


def run_pod_and_exec(
    channel: grpc.Channel, image: str, handler: str, uid: str, log_root: Path, command: list[str]
) -> pb.ExecSyncResponse:
    """RunPodSandbox (cgroup parent /cri-client/pod<uid>, as the client library does)
    + CreateContainer + StartContainer with ``handler``, then ExecSync ``command``.
    The pod is left running: stop() must clean it up."""
    runtime = api_pb2_grpc.RuntimeServiceStub(channel)
    namespaces = pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
    sandbox_config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=f"throwaway-{handler}", uid=uid, namespace="default"),
        hostname=f"throwaway-{handler}",
        log_directory=str(log_root / uid),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=f"/cri-client/pod{uid}",
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=namespaces),
        ),
    )
    pod_id = runtime.RunPodSandbox(
        pb.RunPodSandboxRequest(config=sandbox_config, runtime_handler=handler), timeout=120
    ).pod_sandbox_id
    container_id = runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod_id,
            config=pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name="sleeper"),
                image=pb.ImageSpec(image=image),
                command=["sleep", "3600"],
                log_path="sleeper.log",
                linux=pb.LinuxContainerConfig(
                    security_context=pb.LinuxContainerSecurityContext(namespace_options=namespaces)
                ),
            ),
            sandbox_config=sandbox_config,
        ),
        timeout=60,
    ).container_id
    runtime.StartContainer(pb.StartContainerRequest(container_id=container_id), timeout=60)
    return runtime.ExecSync(
        pb.ExecSyncRequest(container_id=container_id, cmd=command, timeout=20), timeout=30
    )


def test_throwaway_runtime_runs_runc_and_runsc_and_leaves_nothing(base_dir: Path) -> None:
    runtime = ThrowawayContainerd(VERSION, base_dir=base_dir, registry_port=free_port())
    instance_dir = base_dir / f"containerd-{VERSION}"
    try:
        runtime.start()
        assert runtime.socket_path == str(instance_dir / "containerd.sock")
        assert runtime.endpoint == f"unix://{runtime.socket_path}"
        assert runtime.runtime_handlers == ("runc", "runsc"), (
            "runsc handler missing: run `python -m cri_client.testing install`"
        )
        env = runtime.env()
        assert env["CONTAINER_RUNTIME_ENDPOINT"] == runtime.endpoint
        assert env["CRI_CLIENT_TEST_RUNTIME_HANDLERS"] == "runc,runsc"
        assert env["CRI_CLIENT_TEST_BUSYBOX_IMAGE"] == f"{runtime.registry}/busybox:1.35"
        # Private files, and none of the machine's own containerd paths.
        for private in (base_dir, instance_dir, base_dir / "registry", instance_dir / "root"):
            assert private.stat().st_mode & 0o077 == 0, f"{private} is open to other users"
        config_file = instance_dir / "config.toml"
        assert config_file.stat().st_mode & 0o077 == 0
        config_text = config_file.read_text()
        assert "/var/lib/containerd" not in config_text
        assert "/run/containerd" not in config_text
        conflist = json.loads((instance_dir / "cni/net.d/10-cri-client.conflist").read_text())
        network, bridge = conflist["name"], conflist["plugins"][0]["bridge"]

        # start() again reuses the live instance.
        assert ThrowawayContainerd(VERSION, base_dir=base_dir).start().env() == env

        with grpc.insecure_channel(runtime.endpoint) as channel:
            version = api_pb2_grpc.RuntimeServiceStub(channel).Version(
                pb.VersionRequest(version="v1"), timeout=10
            )
            assert version.runtime_name == "containerd"
            assert version.runtime_api_version == "v1"
            assert version.runtime_version.startswith(f"{VERSION}."), version.runtime_version
            assert runtime.containerd_version == version.runtime_version.removesuffix("+unknown")

            images = api_pb2_grpc.ImageServiceStub(channel)
            pulled = images.PullImage(
                pb.PullImageRequest(image=pb.ImageSpec(image=runtime.busybox_image)), timeout=120
            )
            assert pulled.image_ref.startswith("sha256:")

            kernels, uids = {}, []
            for handler in runtime.runtime_handlers:
                uids.append(uuid.uuid4().hex)
                result = run_pod_and_exec(
                    channel,
                    runtime.busybox_image,
                    handler,
                    uids[-1],
                    base_dir / "logs",
                    ["uname", "-r"],
                )
                assert result.exit_code == 0, (handler, result.stderr)
                assert pod_cgroups(uids[-1]), f"{handler} pod has no cgroup under /cri-client"
                kernels[handler] = result.stdout.decode().strip()
        assert kernels["runc"] == os.uname().release
        assert kernels["runsc"] == "4.4.0", "runsc must report gVisor's kernel version"
    finally:
        runtime.stop()

    assert not processes_mentioning(str(base_dir)), processes_mentioning(str(base_dir))
    assert not mounts_under(instance_dir)
    assert not Path("/sys/class/net", bridge).exists(), f"bridge {bridge} left behind"
    cni_results = Path("/var/lib/cni/results")
    leftovers = list(cni_results.glob(f"{network}-*")) if cni_results.is_dir() else []
    assert not leftovers, leftovers
    assert not [cgroup for uid in uids for cgroup in pod_cgroups(uid)]
    assert not (instance_dir / "containerd.sock").exists()
    with pytest.raises(RuntimeError, match="start"):
        runtime.env()


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cri_client.testing *args``, as a shell script runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cri_client.testing", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def exports(stdout: str) -> dict[str, str]:
    """The ``export NAME=value`` lines of ``up``/``restart`` (values need no quoting here)."""
    lines = stdout.splitlines()
    assert lines and all(line.startswith("export ") for line in lines), stdout
    return dict(line.removeprefix("export ").split("=", 1) for line in lines)


def kill_containerd(instance_dir: Path) -> None:
    """SIGKILL the daemon, as a crash would (its shims, and so the pods, live on)."""
    pid = int((instance_dir / "containerd.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}/exe").exists():  # gone once reaped; a zombie has no exe
        assert time.monotonic() < deadline, f"containerd {pid} survived SIGKILL"
        time.sleep(0.05)


def test_restart_keeps_a_crashed_instance_and_up_says_what_it_discards(base_dir: Path) -> None:
    directory = ["--containerd", VERSION, "--dir", str(base_dir)]
    up = harness("up", *directory, "--registry-port", str(free_port()), "--no-runsc")
    assert up.returncode == 0, up.stderr
    env = exports(up.stdout)
    instance_dir = base_dir / f"containerd-{VERSION}"
    uid = uuid.uuid4().hex
    with grpc.insecure_channel(env["CONTAINER_RUNTIME_ENDPOINT"]) as channel:
        images = api_pb2_grpc.ImageServiceStub(channel)
        image = pb.ImageSpec(image=env["CRI_CLIENT_TEST_BUSYBOX_IMAGE"])
        images.PullImage(pb.PullImageRequest(image=image), timeout=120)
        result = run_pod_and_exec(channel, image.image, "runc", uid, base_dir / "logs", ["true"])
        assert result.exit_code == 0, result.stderr

    kill_containerd(instance_dir)
    restarted = harness("restart", *directory)
    assert restarted.returncode == 0, restarted.stderr
    assert exports(restarted.stdout) == env  # the same socket, registry and images
    assert "discard" not in restarted.stderr
    with grpc.insecure_channel(env["CONTAINER_RUNTIME_ENDPOINT"]) as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        pods = runtime.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30).items
        assert [(p.metadata.uid, p.state) for p in pods] == [(uid, pb.SANDBOX_READY)]
        containers = runtime.ListContainers(pb.ListContainersRequest(), timeout=30).containers
        assert [c.state for c in containers] == [pb.CONTAINER_RUNNING]
        exec_after = runtime.ExecSync(
            pb.ExecSyncRequest(container_id=containers[0].id, cmd=["true"], timeout=20), timeout=30
        )
        assert exec_after.exit_code == 0  # the container's shim outlived the daemon

    kill_containerd(instance_dir)
    again = harness("up", *directory, "--no-runsc")
    assert again.returncode == 0, again.stderr
    warning = f"WARNING: containerd {VERSION} in {instance_dir} did not stop cleanly"
    assert warning in again.stderr
    assert "discarding its state, 1 pod sandbox(es) and 1 container(s)" in again.stderr
    assert f"restart --containerd {VERSION} --dir {base_dir}" in again.stderr
    with grpc.insecure_channel(exports(again.stdout)["CONTAINER_RUNTIME_ENDPOINT"]) as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        assert not runtime.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30).items

    down = harness("down", *directory)
    assert down.returncode == 0, down.stderr
    gone = harness("restart", *directory)
    assert gone.returncode == 1 and "no state to restart" in gone.stderr


def test_up_with_auth_registry_exports_it_and_pulls_with_its_credentials(base_dir: Path) -> None:
    directory = ["--containerd", VERSION, "--dir", str(base_dir)]
    up = harness(
        "up", *directory, "--registry-port", str(free_port()), "--no-runsc", "--auth-registry"
    )
    assert up.returncode == 0, up.stderr
    env = exports(up.stdout)
    address = env["CRI_CLIENT_TEST_AUTH_REGISTRY"]
    assert address.startswith("127.0.0.1:") and address != env["CRI_CLIENT_TEST_REGISTRY"]
    assert Path(env["CRI_CLIENT_TEST_AUTH_REGISTRY_CA"]).read_text().startswith("-----BEGIN")
    password = Path(env["CRI_CLIENT_TEST_AUTH_REGISTRY_PASSWORD_FILE"]).read_text().strip()
    assert password not in up.stdout + up.stderr
    image = pb.ImageSpec(image=f"{address}/busybox:1.35")
    user = env["CRI_CLIENT_TEST_AUTH_REGISTRY_USER"]
    with grpc.insecure_channel(env["CONTAINER_RUNTIME_ENDPOINT"]) as channel:
        images = api_pb2_grpc.ImageServiceStub(channel)
        with pytest.raises(grpc.RpcError):
            images.PullImage(pb.PullImageRequest(image=image), timeout=120)
        auth = pb.AuthConfig(username=user, password=password)
        pulled = images.PullImage(pb.PullImageRequest(image=image, auth=auth), timeout=120)
        assert pulled.image_ref.startswith("sha256:")
    assert harness("down", *directory, "--purge").returncode == 0


def test_registries_of_separate_base_dirs_started_at_once_get_ports_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fleet tests start three nodes at once, each under its own base dir, and each
    registry first tries the same default port: each must end up on a port of its own,
    served by its own process, not fail on the bind nor take another's registry for its
    own."""
    from cri_client.testing._images import Registry
    from cri_client.testing._layout import BaseLayout

    class Empty(Registry):
        _images = ()  # the race is in the start; pushing images adds nothing to it

    preferred = free_port()  # as 5000 is when no other registry runs
    monkeypatch.setattr(Registry, "_default_port", staticmethod(lambda: preferred))
    directory = Path(tempfile.mkdtemp(prefix="cric-reg-", dir="/tmp"))
    registries = [Empty(BaseLayout(directory / str(n))) for n in range(3)]
    try:
        with concurrent.futures.ThreadPoolExecutor(len(registries)) as pool:
            addresses = list(pool.map(lambda registry: registry.ensure(None), registries))
        ports = [int(address.rsplit(":", 1)[1]) for address in addresses]
        assert preferred in ports and len(set(ports)) == len(registries), addresses
        assert [registry.running_port() for registry in registries] == ports
        pids = [registry.pid() for registry in registries]
        assert None not in pids and len(set(pids)) == len(registries), pids
        for n, port in enumerate(ports):  # alive on its own config: so it bound its port
            config = (directory / str(n) / "registry" / "config.yml").read_text()
            assert f'addr: "127.0.0.1:{port}"' in config, config
    finally:
        for registry in registries:
            registry.stop()
        shutil.rmtree(directory)
