"""The collection's modules and documented playbooks run by real ``ansible-playbook``
(newest and oldest ansible-core) on three real containerd nodes (1.6 over SSH, 1.7 and
2.1 locally), with every outcome checked on the runtimes through the library."""

from __future__ import annotations

import json
from pathlib import Path

from cri_client.types import ContainerState
from tests.fleet.harness import DOC_PLAYBOOKS, PLAYBOOKS, Ansible, Fleet, Node, Run

CONFIG_HASH_LABEL = "cri-client.ansible/config-hash"


def succeeded(run: Run, fleet: Fleet) -> Run:
    assert run.returncode == 0, run.output
    assert set(run.recap) >= {node.name for node in fleet.nodes}, run.output
    assert all(r.failed == 0 and r.unreachable == 0 for r in run.recap.values()), run.output
    return run


def snapshot(node: Node) -> dict[str, object]:
    """What a node holds: pods, containers (with state and attempt) and images."""
    with node.client() as cri:
        return {
            "pods": sorted((p.id, p.state.value) for p in cri.pods.list()),
            "containers": sorted(
                (c.id, c.state.value, c.attempt) for c in cri.containers.list(all=True)
            ),
            "images": sorted(i.id for i in cri.images.list()),
        }


def web_containers(node: Node) -> dict[str, list[tuple[str, ContainerState, int]]]:
    """The fleet/web pod's containers by name: (id, state, attempt), newest first."""
    with node.client() as cri:
        containers = cri.containers.list(all=True, pod="fleet/web")
    return {
        name: [(c.id, c.state, c.attempt) for c in containers if c.name == name]
        for name in ("httpd", "sidecar", "extra")
    }


def test_check_mode_changes_nothing(ansible: Ansible, clean_fleet: Fleet) -> None:
    before = {node.name: snapshot(node) for node in clean_fleet.nodes}
    run = succeeded(ansible.playbook(PLAYBOOKS / "lifecycle.yml", "--check", "--diff"), clean_fleet)
    assert {node.name: snapshot(node) for node in clean_fleet.nodes} == before
    # It reports what it would do: image, pod and two containers on every node.
    assert all(changed == 4 for changed in run.changed().values()), run.output
    assert '+    "state": "running"' in run.output  # the --diff of the running container


def test_lifecycle_then_no_change_then_a_changed_setting(
    ansible: Ansible, clean_fleet: Fleet
) -> None:
    first = succeeded(ansible.playbook(PLAYBOOKS / "lifecycle.yml"), clean_fleet)
    assert all(changed == 4 for changed in first.changed().values()), first.output
    for node in clean_fleet.nodes:
        with node.client() as cri:
            (pod,) = cri.pods.list(name="^web$", namespace="^fleet$")
            assert pod.ready and pod.runtime_handler == node.handler
            assert pod.labels["node"] == node.name and CONFIG_HASH_LABEL in pod.labels
            assert cri.images.exists(node.busybox_image)
            httpd = cri.containers.get("fleet/web/httpd")
            assert httpd.state is ContainerState.RUNNING and httpd.image == node.busybox_image
            assert httpd.labels["role"] == "server" and CONFIG_HASH_LABEL in httpd.labels
            assert httpd.exec(["sh", "-c", "echo $NODE"]).stdout == f"{node.name}\n".encode()
            sidecar = cri.containers.get("fleet/web/sidecar")
            assert sidecar.state is ContainerState.CREATED and sidecar.labels["role"] == "sidecar"
    made = {node.name: snapshot(node) for node in clean_fleet.nodes}
    made_httpd = {node.name: web_containers(node)["httpd"] for node in clean_fleet.nodes}

    second = succeeded(ansible.playbook(PLAYBOOKS / "lifecycle.yml"), clean_fleet)
    assert set(second.changed().values()) == {0}, second.output
    assert {node.name: snapshot(node) for node in clean_fleet.nodes} == made

    # Another command: the container is replaced (the next attempt), nothing else.
    third = succeeded(
        ansible.playbook(PLAYBOOKS / "lifecycle.yml", "-e", "sleep_seconds=3601", "--diff"),
        clean_fleet,
    )
    assert set(third.changed().values()) == {1}, third.output
    assert third.output.count('+    "attempt": 1,') == 3, third.output  # --diff of each node
    for node in clean_fleet.nodes:
        containers = web_containers(node)
        ((old_id, _, _),) = made_httpd[node.name]
        assert [(state, attempt) for _, state, attempt in containers["httpd"]] == [
            (ContainerState.RUNNING, 1)
        ]
        assert containers["httpd"][0][0] != old_id
        assert [state for _, state, _ in containers["sidecar"]] == [ContainerState.CREATED]


def test_the_ssh_node_was_reached_over_ssh(ansible: Ansible, clean_fleet: Fleet) -> None:
    arguments = "gather=version endpoint={{ cri_endpoint }}"
    run = ansible.adhoc("node16", "cri_client.cri.cri_info", arguments)
    assert run.returncode == 0 and "node16 | SUCCESS" in run.output, run.output
    with clean_fleet.node("node16").client() as cri:
        assert f'"runtime_version": "{cri.version().runtime_version}"' in run.output
    assert "Accepted publickey for root from 127.0.0.1" in clean_fleet.sshd_log.read_text()


def test_image_pull_with_credentials_over_ssh(ansible: Ansible, clean_fleet: Fleet) -> None:
    node = clean_fleet.node("node16")
    auth = node.auth_registry
    assert auth is not None
    pull = f"name={auth.busybox_image} username={auth.username} endpoint={{{{ cri_endpoint }}}}"
    refused = ansible.adhoc("node16", "cri_client.cri.cri_image", f"{pull} password=not-it")
    assert refused.returncode != 0 and "node16 | FAILED!" in refused.output, refused.output
    assert f"registry {auth.address}" in refused.output  # the library's message, no secret
    pulled = ansible.adhoc("node16", "cri_client.cri.cri_image", f"{pull} password={auth.password}")
    assert pulled.returncode == 0 and "node16 | CHANGED" in pulled.output, pulled.output
    assert auth.password not in pulled.output + refused.output
    with node.client() as cri:
        assert cri.images.exists(auth.busybox_image)


def test_a_bad_argument_fails_naming_the_option(ansible: Ansible, clean_fleet: Fleet) -> None:
    run = succeeded(ansible.playbook(PLAYBOOKS / "bad_argument.yml"), clean_fleet)
    for node in clean_fleet.nodes:
        assert run.recap[node.name].failed == 0  # the assertions held (the errors were ignored)
    assert (
        run.output.count(
            "Unsupported parameters for (cri_client.cri.cri_pod) module: runtime_hander"
        )
        >= 3
    )


def test_a_missing_library_says_how_to_install_it(ansible: Ansible, clean_fleet: Fleet) -> None:
    # /usr/bin/python3 is Debian's, without cri-client.
    run = ansible.adhoc(
        "node16", "cri_client.cri.cri_info", "", "-e", "ansible_python_interpreter=/usr/bin/python3"
    )
    assert run.returncode != 0 and "node16 | FAILED!" in run.output, run.output
    assert "Failed to import the required Python library (cri-client)" in run.output
    assert "/usr/bin/python3 -m pip install cri-client" in run.output


def test_prepull_playbook_runs_in_waves_and_stops_at_a_failed_wave(
    ansible: Ansible, clean_fleet: Fleet
) -> None:
    images = ["-e", '{"images": ["{{ cri_busybox }}"]}', "-e", "wave_size=1"]
    run = succeeded(ansible.playbook(DOC_PLAYBOOKS / "prepull.yml", *images), clean_fleet)
    assert run.output.count("PLAY [Pre-pull images in waves]") == 3  # one wave per node
    assert set(run.changed().values()) == {1}
    for node in clean_fleet.nodes:
        with node.client() as cri:
            assert cri.images.exists(node.busybox_image)
    again = succeeded(ansible.playbook(DOC_PLAYBOOKS / "prepull.yml", *images), clean_fleet)
    assert set(again.changed().values()) == {0}

    # The first wave fails (no registry on port 1): max_fail 0 stops the later ones.
    clean_fleet.reset()
    failing = (
        '{"images": ["{{ cri_busybox if inventory_hostname != \'node16\' else'
        " '127.0.0.1:1/nope:1' }}\"]}"
    )
    stopped = ansible.playbook(
        DOC_PLAYBOOKS / "prepull.yml", "-e", failing, "-e", "wave_size=1", "-e", "max_fail=0"
    )
    assert stopped.returncode != 0 and stopped.recap["node16"].failed == 1, stopped.output
    assert "node17" not in stopped.recap and "node21" not in stopped.recap, stopped.output
    for node in clean_fleet.nodes:
        with node.client() as cri:
            assert not cri.images.exists(node.busybox_image)


def test_inventory_playbook_writes_every_node_into_one_json_file(
    ansible: Ansible, deployed_fleet: Fleet, tmp_path: Path
) -> None:
    target = tmp_path / "fleet.json"
    succeeded(
        ansible.playbook(DOC_PLAYBOOKS / "inventory.yml", "-e", f"inventory_json={target}"),
        deployed_fleet,
    )
    document = json.loads(target.read_text())
    assert document["unreachable_or_failed"] == []
    assert sorted(document["nodes"]) == [node.name for node in deployed_fleet.nodes]
    for node in deployed_fleet.nodes:
        answer = document["nodes"][node.name]
        with node.client() as cri:
            assert answer["version"]["runtime_version"] == cri.version().runtime_version
            assert answer["status"]["ready"] is True
            assert [p["id"] for p in answer["pods"]] == [p.id for p in cri.pods.list()]
            assert sorted(c["id"] for c in answer["containers"]) == sorted(
                c.id for c in cri.containers.list(all=True)
            )
            assert sorted(i["id"] for i in answer["images"]) == sorted(
                i.id for i in cri.images.list()
            )


def test_restart_playbook_restarts_the_containers_running_an_image(
    ansible: Ansible, deployed_fleet: Fleet
) -> None:
    quick_exit = ["sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait']
    for node in deployed_fleet.nodes:  # one container the collection did not make
        with node.client() as cri:
            cri.containers.create(
                "fleet/web", "extra", node.busybox_image, command=quick_exit
            ).start()
    before = {node.name: web_containers(node) for node in deployed_fleet.nodes}
    run = succeeded(
        ansible.playbook(
            DOC_PLAYBOOKS / "restart.yml", "-e", "image={{ cri_busybox }}", "-e", "stop_timeout=2"
        ),
        deployed_fleet,
    )
    assert set(run.changed().values()) == {1}, run.output  # one task; the sidecar does not run
    for node in deployed_fleet.nodes:
        after = web_containers(node)
        for name in ("httpd", "extra"):  # the module's settings; the runtime's copy of its config
            ((old_id, _, old_attempt),) = before[node.name][name]
            assert [(s, a) for _, s, a in after[name]] == [
                (ContainerState.RUNNING, old_attempt + 1)
            ]
            assert after[name][0][0] != old_id
        assert after["sidecar"] == before[node.name]["sidecar"]
        with node.client() as cri:
            cri.containers.remove("fleet/web/extra", force=True)


def finished_pod(node: Node) -> None:
    """A stopped pod fleet/done whose one container ran and exited: prune's prey."""
    with node.client() as cri:
        job = cri.run(node.busybox_image, name="done", namespace="fleet", command=["true"])
        assert job.wait(timeout=60).exit_code == 0
        job.pod().stop(grace_period=0)


def test_prune_playbook_plans_then_prunes_in_waves_into_one_summary(
    ansible: Ansible, deployed_fleet: Fleet, tmp_path: Path
) -> None:
    for node in deployed_fleet.nodes:
        finished_pod(node)
    before = {node.name: snapshot(node) for node in deployed_fleet.nodes}
    summary_file = tmp_path / "summary.json"
    options = ["-e", "exited_before=0", "-e", "min_age=0", "-e", f"prune_summary={summary_file}"]

    plan = succeeded(ansible.playbook(DOC_PLAYBOOKS / "prune.yml", *options), deployed_fleet)
    assert {node.name: snapshot(node) for node in deployed_fleet.nodes} == before
    assert {plan.changed()[node.name] for node in deployed_fleet.nodes} == {1}, plan.output
    summary = json.loads(summary_file.read_text())
    assert summary["dry_run"] is True and summary["failed"] == []
    for node in deployed_fleet.nodes:
        per_node = summary["nodes"][node.name]
        assert per_node["containers"] == {"removed": 1, "kept": 2}  # httpd runs, sidecar is new
        assert per_node["pods"] == {"removed": 1, "kept": 1}  # web runs a container
        assert per_node["images"]["removed"] == 0  # busybox is used, pause is the sandbox's

    pruned = succeeded(
        ansible.playbook(
            DOC_PLAYBOOKS / "prune.yml", *options, "-e", "apply=true", "-e", "wave_size=1"
        ),
        deployed_fleet,
    )
    assert pruned.output.count("PLAY [Prune in waves]") == 3
    assert json.loads(summary_file.read_text())["dry_run"] is False
    for node in deployed_fleet.nodes:
        with node.client() as cri:
            assert [p.name for p in cri.pods.list()] == ["web"]
            assert sorted(c.name for c in cri.containers.list(all=True)) == ["httpd", "sidecar"]
            assert cri.images.exists(node.busybox_image)

    again = succeeded(
        ansible.playbook(DOC_PLAYBOOKS / "prune.yml", *options, "-e", "apply=true"), deployed_fleet
    )
    assert {again.changed()[node.name] for node in deployed_fleet.nodes} == {0}, again.output
