"""A fleet of three nodes for the Ansible collection's tests and benchmark: containerd
1.6, 1.7 and 2.1, each a throwaway containerd of its own (own base dir: socket, state,
CNI bridge and registry port), reached by ``ansible-playbook`` through host vars.
``node16`` is reached over real SSH (Debian's sshd, started here on 127.0.0.1 with its
own config, host key and a throwaway client key, all under the fleet's directory); the
other two run ``ansible_connection=local``. Every node's modules run on
``ansible_python_interpreter``, a Python with cri-client installed
($CRI_CLIENT_FLEET_PYTHON, default this one).

The ansible-core versions are the venvs ``scripts/ansible.sh venvs`` names (made by
``scripts/ansible.sh setup``); a missing one, a missing sshd or a runtime that does not
start raises: nothing is skipped. tests/fleet/conftest.py makes fixtures of it,
benchmarks/fleet.py times playbooks with it.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cri_client import CRIClient
from cri_client.testing import AuthRegistry, ThrowawayContainerd

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "ansible_collections" / "cri_client" / "cri"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
DOC_PLAYBOOKS = COLLECTION / "docs" / "playbooks"
SSHD = "/usr/sbin/sshd"
NODES = (("node16", "1.6", "ssh", "runc"), ("node17", "1.7", "local", "runc"),
         ("node21", "2.1", "local", "runsc"))  # fmt: skip
"""(inventory name, containerd version, connection, runtime handler of the test pod)."""

RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


@dataclass(frozen=True)
class Node:
    name: str
    version: str
    connection: str
    handler: str
    endpoint: str
    registry: str
    busybox_image: str
    pause_image: str
    auth_registry: AuthRegistry | None
    """The node's registry with a password (node16 only), for pulls with credentials."""

    def client(self) -> CRIClient:
        return CRIClient(self.endpoint)


@dataclass(frozen=True)
class Recap:
    ok: int
    changed: int
    unreachable: int
    failed: int


@dataclass
class Run:
    """One ``ansible-playbook`` (or ``ansible``) run: exit status, output, recap per host."""

    returncode: int
    output: str
    seconds: float
    recap: dict[str, Recap] = field(default_factory=dict)

    def changed(self) -> dict[str, int]:
        return {host: recap.changed for host, recap in self.recap.items()}


@dataclass
class Ansible:
    """One ansible-core installation (a venv) driving the fleet."""

    venv: Path
    fleet: Fleet

    @property
    def version(self) -> str:
        return self.venv.name.removeprefix(".venv-ansible-")

    def playbook(self, playbook: Path, *options: str, inventory: Path | None = None) -> Run:
        return self._run("ansible-playbook", "-i", str(inventory or self.fleet.inventory),
                         str(playbook), *options)  # fmt: skip

    def adhoc(self, pattern: str, module: str, arguments: str, *options: str) -> Run:
        return self._run("ansible", "-i", str(self.fleet.inventory), pattern, "-m", module,
                         "-a", arguments, *options)  # fmt: skip

    def _run(self, program: str, *arguments: str) -> Run:
        started = time.monotonic()
        done = subprocess.run(
            [str(self.venv / "bin" / program), *arguments],
            env=self.fleet.ansible_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        run = Run(done.returncode, done.stdout, time.monotonic() - started)
        for host, ok, changed, unreachable, failed in RECAP.findall(done.stdout):
            run.recap[host] = Recap(int(ok), int(changed), int(unreachable), int(failed))
        return run


@dataclass
class Fleet:
    directory: Path
    nodes: list[Node]
    inventory: Path
    python: str
    sshd_log: Path

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def ansible_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(REPO),
            ANSIBLE_HOME=str(self.directory / "ansible-home"),
            ANSIBLE_REMOTE_TMP=str(self.directory / "remote-tmp"),
            ANSIBLE_LOCAL_TEMP=str(self.directory / "local-tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_FORKS="5",
        )
        env.pop("CONTAINER_RUNTIME_ENDPOINT", None)  # every node gets its own, by host vars
        return env

    def reset(self) -> None:
        """Every node as it started: no pods (their containers go with them), and only
        the sandbox image."""
        for node in self.nodes:
            with node.client() as cri:
                for pod in cri.pods.list():
                    pod.remove(force=True, missing_ok=True)
                for image in cri.images.list():
                    if node.pause_image not in image.repo_tags:
                        image.remove(missing_ok=True)


def write_inventory(path: Path, nodes: list[Node], python: str, ssh: SshServer) -> None:
    lines = ["all:", "  vars:", f"    ansible_python_interpreter: {python}", "  hosts:"]
    for node in nodes:
        lines += [
            f"    {node.name}:",
            f"      cri_endpoint: {node.endpoint}",
            f"      cri_busybox: {node.busybox_image}",
            f"      cri_handler: {node.handler}",
        ]
        if node.connection == "ssh":
            lines += [f"      {key}: {value!r}" for key, value in ssh.host_vars().items()]
        else:
            lines.append("      ansible_connection: local")
    path.write_text("\n".join(lines) + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SshServer:
    """Debian's sshd on 127.0.0.1:<free port>, key authentication only, for root."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "sshd.log"

    def start(self) -> SshServer:
        if not os.access(SSHD, os.X_OK):
            raise RuntimeError(f"{SSHD} is missing: run scripts/ansible.sh setup (openssh-server)")
        self.directory.mkdir(mode=0o700)
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key,
                            "-f", str(self.directory / key)], check=True)  # fmt: skip
        shutil.copy(self.directory / "client_key.pub", self.directory / "authorized_keys")
        self.port = free_port()
        host_key = (self.directory / "host_key.pub").read_text().split()
        (self.directory / "known_hosts").write_text(
            f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n"
        )
        config = self.directory / "sshd_config"
        config.write_text(
            "\n".join([
                f"ListenAddress 127.0.0.1:{self.port}",
                f"HostKey {self.directory / 'host_key'}",
                f"AuthorizedKeysFile {self.directory / 'authorized_keys'}",
                f"PidFile {self.directory / 'sshd.pid'}",
                "AuthenticationMethods publickey",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "AllowUsers root",
                "UsePAM no",
                # The key files are under a temporary dir in /tmp (world-writable).
                "StrictModes no",
                "LogLevel VERBOSE",
                "Subsystem sftp /usr/lib/openssh/sftp-server",
            ]) + "\n"
        )  # fmt: skip
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation dir
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=log)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not listen: {self.log.read_text()}") from None
                time.sleep(0.05)

    def host_vars(self) -> dict[str, str | int]:
        return {
            "ansible_connection": "ssh",
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(self.directory / "client_key"),
            "ansible_ssh_common_args": (
                f"-o UserKnownHostsFile={self.directory / 'known_hosts'}"
                " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
            ),
        }

    def stop(self, control_dir: Path) -> None:
        # Ansible's ssh keeps a master connection open (ControlPersist): end those first.
        for control in control_dir.glob("*") if control_dir.is_dir() else ():
            subprocess.run(["ssh", "-S", str(control), "-O", "exit", "127.0.0.1"],
                           capture_output=True, check=False)  # fmt: skip
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def ansible_venvs() -> list[Path]:
    listed = subprocess.run([str(REPO / "scripts" / "ansible.sh"), "venvs"], check=True,
                            capture_output=True, text=True).stdout.split()  # fmt: skip
    venvs = [Path(venv) for venv in listed]
    missing = [str(v) for v in venvs if not (v / "bin" / "ansible-playbook").exists()]
    if missing:
        raise RuntimeError(f"no ansible-core in {missing}: run scripts/ansible.sh setup")
    return venvs


@contextmanager
def running_fleet() -> Iterator[Fleet]:
    """Three nodes up (in parallel), sshd up and the inventory written; all gone after."""
    directory = Path(tempfile.mkdtemp(prefix="cri-client-fleet-"))
    runtimes = [
        ThrowawayContainerd(
            version, base_dir=directory / f"containerd-{name}", auth_registry=name == "node16"
        )
        for name, version, _, _ in NODES
    ]
    ssh = SshServer(directory / "ssh")
    try:
        with concurrent.futures.ThreadPoolExecutor(len(runtimes)) as pool:
            list(pool.map(ThrowawayContainerd.start, runtimes))
        ssh.start()
        nodes = [
            Node(name, version, connection, handler, runtime.endpoint, runtime.registry,
                 runtime.busybox_image, runtime.pause_image,
                 runtime.auth_registry if name == "node16" else None)
            for (name, version, connection, handler), runtime in zip(NODES, runtimes, strict=True)
        ]  # fmt: skip
        python = os.environ.get("CRI_CLIENT_FLEET_PYTHON", sys.executable)
        inventory = directory / "inventory.yml"
        write_inventory(inventory, nodes, python, ssh)
        yield Fleet(directory, nodes, inventory, python, ssh.log)
    finally:
        ssh.stop(directory / "ansible-home" / "cp")
        for runtime in runtimes:
            runtime.stop(purge=True)
        shutil.rmtree(directory, ignore_errors=True)
