"""The Ansible collection across three local nodes (containerd 1.6 over SSH, 1.7 and 2.1
local: tests/fleet/harness.py), timed, asserting nothing (numbers go to
docs/performance.md, section 15):

    python benchmarks/fleet.py [--rounds 3] [--ansible 2.19]

1. Ansible's own cost: an empty play, then one ``ansible.builtin.ping`` task, on all
   three nodes, and per connection kind on one node (local; SSH with and without
   pipelining); ten pings and ten ``cri_info`` calls in one play on one node (the cost
   of one more task once the connection is up);
2. the library's own time for the same work, in this process: one ``cri_info`` answer,
   one pull of busybox and one prune per node;
3. the documented pre-pull playbook (one image, removed before each round through the
   library) with ``serial: 1`` against all nodes at once (``forks`` 3);
4. the documented prune playbook (one exited container and its stopped pod per node,
   made before each round through the library) the same two ways.

Each figure is the median and the fastest of ``--rounds`` runs of ``ansible-playbook``,
wall clock from process start to exit (the fastest is the better estimate of Ansible's
own cost on a machine shared with other work). Needs what the fleet tests need
(scripts/ansible.sh setup); the nodes' Python is $CRI_CLIENT_FLEET_PYTHON (default
this one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Last: the cri_client this Python has installed comes first (see the docstring).
sys.path.append(str(Path(__file__).resolve().parents[1]))

from tests.fleet.harness import DOC_PLAYBOOKS, Ansible, Fleet, ansible_venvs, running_fleet

EMPTY_PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"
PING_PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
TEN_PINGS_PLAY = PING_PLAY + '      loop: "{{ range(10) | list }}"\n'
TEN_INFOS_PLAY = (
    "- hosts: all\n  gather_facts: false\n  tasks:\n    - cri_client.cri.cri_info:\n"
    '        endpoint: "{{ cri_endpoint }}"\n        gather: [version]\n'
    '      loop: "{{ range(10) | list }}"\n'
)


def timed_rounds(rounds: int, prepare: Callable[[], None], run: Callable[[], float]) -> list[float]:
    samples = []
    for _ in range(rounds):
        prepare()
        samples.append(run())
    return samples


def playbook_seconds(ansible: Ansible, playbook: Path, *options: str) -> float:
    done = ansible.playbook(playbook, *options)
    if done.returncode != 0:
        raise RuntimeError(f"{playbook.name} failed:\n{done.output}")
    return done.seconds


def remove_busybox(fleet: Fleet) -> None:
    for node in fleet.nodes:
        with node.client() as cri:
            cri.images.remove(node.busybox_image, missing_ok=True)


def leave_a_finished_pod(fleet: Fleet) -> None:
    for node in fleet.nodes:
        with node.client() as cri:
            job = cri.run(node.busybox_image, name="done", command=["true"])
            job.wait(timeout=60)
            job.pod().stop(grace_period=0)


def library_seconds(fleet: Fleet) -> dict[str, float]:
    """In-process, per node: cri_info's work (version, status, three lists), one pull of
    busybox, one prune of a finished pod and its container."""
    info, pull, prune = [], [], []
    for node in fleet.nodes:
        with node.client() as cri:
            cri.images.remove(node.busybox_image, missing_ok=True)
            started = time.perf_counter()
            cri.version(), cri.status(), cri.pods.list(), cri.containers.list(all=True)
            cri.images.list()
            info.append(time.perf_counter() - started)
            started = time.perf_counter()
            cri.images.pull(node.busybox_image)
            pull.append(time.perf_counter() - started)
    leave_a_finished_pod(fleet)
    for node in fleet.nodes:
        with node.client() as cri:
            started = time.perf_counter()
            cri.prune(exited_before=0, min_age=0, keep=["*/pause:*"])
            prune.append(time.perf_counter() - started)
    return {"info": statistics.mean(info), "pull": statistics.mean(pull),
            "prune": statistics.mean(prune)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ansible", help="the ansible-core venv suffix (default: newest)")
    options = parser.parse_args()
    venvs = ansible_venvs()
    venv = next((v for v in venvs if v.name.endswith(f"-{options.ansible}")), venvs[0])
    rounds = options.rounds
    with running_fleet() as fleet:
        ansible = Ansible(venv, fleet)
        scratch = fleet.directory / "bench"
        scratch.mkdir()
        (scratch / "empty.yml").write_text(EMPTY_PLAY)
        (scratch / "ping.yml").write_text(PING_PLAY)
        (scratch / "ping10.yml").write_text(TEN_PINGS_PLAY)
        (scratch / "info10.yml").write_text(TEN_INFOS_PLAY)
        nothing = lambda: None  # noqa: E731

        def measure(label: str, prepare: Callable[[], None], playbook: Path, *args: str) -> None:
            samples = timed_rounds(
                rounds, prepare, lambda: playbook_seconds(ansible, playbook, *args)
            )
            median, fastest = statistics.median(samples), min(samples)
            print(f"{label:<58} {median:6.2f} s {fastest:6.2f} s", flush=True)

        print(f"ansible-core {ansible.version}, {rounds} rounds: median and fastest wall time")
        measure("empty play, 3 nodes", nothing, scratch / "empty.yml")
        measure("ping, 3 nodes (forks 3)", nothing, scratch / "ping.yml")
        measure("ping, node17 (local)", nothing, scratch / "ping.yml", "-l", "node17")
        measure("ping, node16 (SSH, ControlPersist)", nothing, scratch / "ping.yml", "-l", "node16")
        measure("ping, node16 (SSH, pipelining)", nothing, scratch / "ping.yml", "-l", "node16",
                "-e", "ansible_pipelining=true")  # fmt: skip
        for node, how in (("node17", "local"), ("node16", "SSH")):
            measure(f"ping x10, {node} ({how})", nothing, scratch / "ping10.yml", "-l", node)
            measure(f"cri_info x10, {node} ({how})", nothing, scratch / "info10.yml", "-l", node)
        measure("ping x10, node16 (SSH, pipelining)", nothing, scratch / "ping10.yml",
                "-l", "node16", "-e", "ansible_pipelining=true")  # fmt: skip
        measure("cri_info, 3 nodes (forks 3)", nothing, DOC_PLAYBOOKS / "inventory.yml",
                "-e", f"inventory_json={scratch / 'inventory.json'}")  # fmt: skip
        library = library_seconds(fleet)
        print(f"{'library, in process: cri_info work per node':<58} {library['info']:6.3f} s")
        print(f"{'library, in process: one busybox pull per node':<58} {library['pull']:6.3f} s")
        print(f"{'library, in process: one prune per node':<58} {library['prune']:6.3f} s")
        prepull = ["-e", '{"images": ["{{ cri_busybox }}"]}']
        measure("pre-pull busybox, serial 1", lambda: remove_busybox(fleet),
                DOC_PLAYBOOKS / "prepull.yml", *prepull, "-e", "wave_size=1")  # fmt: skip
        measure("pre-pull busybox, all at once (forks 3)", lambda: remove_busybox(fleet),
                DOC_PLAYBOOKS / "prepull.yml", *prepull, "-e", "wave_size=3")  # fmt: skip
        prune = ["-e", "apply=true", "-e", "exited_before=0", "-e", "min_age=0",
                 "-e", f"prune_summary={scratch / 'prune.json'}"]  # fmt: skip
        finished = lambda: leave_a_finished_pod(fleet)  # noqa: E731
        measure("prune (1 container, 1 pod per node), serial 1", finished,
                DOC_PLAYBOOKS / "prune.yml", *prune, "-e", "wave_size=1")  # fmt: skip
        measure("prune (1 container, 1 pod per node), all at once", finished,
                DOC_PLAYBOOKS / "prune.yml", *prune, "-e", "wave_size=3")  # fmt: skip


if __name__ == "__main__":
    main()
