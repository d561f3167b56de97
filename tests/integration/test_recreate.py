"""Recreating containers and pods from their own config, and env values as text on
every path that takes one, against a real containerd.

``KeyValue.value`` (an env value) is ``bytes`` in CRI 0.36; protobuf's JSON mapping
reads a bytes field as base64, so a config file's ``"value": "demo"`` became 3 bytes
of garbage and ``"x"`` failed. These tests read each value back from inside the
container.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cri_client import Container, ContainerState, CRIClient, Pod, PodState, pb
from cri_client.aio import AsyncCRIClient
from cri_client.errors import FailedPreconditionError, NotFoundError, RecreateError

from .conftest import RuntimeUnderTest
from .test_cli import (
    CRICTL_CONTAINER_CONFIG_JSON,
    CRICTL_POD_CONFIG_JSON,
    cli,
    crictl_container_config,
    crictl_pod_config,
    write,
)

ENV = {"MODE": "demo", "COUNT": "10", "ONE": "x", "SPACED": "a=b c", "ACCENT": "café"}
"""Values a base64 reading turns into garbage (``demo``, ``10``) or refuses (``x``)."""

SLEEP = ["sh", "-c", "echo run $MODE; trap 'exit 0' TERM; while :; do sleep 1; done"]


def env_inside(cri: CRIClient, container_id: str) -> dict[str, str]:
    """The container's environment as its process sees it."""
    output = cri.containers.get(container_id).exec(["env"], check=True).stdout.decode()
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cli_run_stores_env_values_as_the_text_in_the_config_file(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    tmp_path: Path,
    fmt: str,
) -> None:
    name = f"envcli-{fmt}-" + suite["suite"]
    pod_data = crictl_pod_config(CRICTL_POD_CONFIG_JSON, name, suite, log_dir, "json")
    ctr_data = crictl_container_config(
        CRICTL_CONTAINER_CONFIG_JSON, runtime.busybox_image, "json", SLEEP
    )
    ctr_data["envs"] = [{"key": key, "value": value} for key, value in ENV.items()]
    pod_config = write(tmp_path / f"pod.{fmt}", pod_data, fmt)
    ctr_config = write(tmp_path / f"container.{fmt}", ctr_data, fmt)

    ran = cli(runtime, "run", ctr_config, pod_config)

    assert ran.stderr == ""
    inside = env_inside(cri, ran.stdout.strip())
    assert {key: inside.get(key) for key in ENV} == ENV


def test_create_takes_a_config_dict_with_env_values_as_text(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("envdict-" + suite["suite"], labels=suite, log_directory=log_dir)
    config = {
        "metadata": {"name": "main"},
        "image": {"image": runtime.busybox_image},
        "command": SLEEP,
        "envs": [{"key": key, "value": value} for key, value in ENV.items()],
        "log_path": "main/0.log",
    }
    ctr = cri.containers.create(pod, "main", runtime.busybox_image, config=config).start()
    inside = env_inside(cri, ctr.id)
    assert {key: inside.get(key) for key in ENV} == ENV
    assert ctr.config().envs == [pb.KeyValue(key=k, value=v.encode()) for k, v in ENV.items()]


# --- containers -------------------------------------------------------------------------


def started(
    cri: CRIClient, pod: Pod, image: str, name: str, *, env: dict[str, str] = ENV
) -> Container:
    """A container that says which run it is (``run $MODE``), then waits for SIGTERM."""
    ctr = cri.containers.create(pod, name, image, command=SLEEP, env=env).start()
    wait_for_log(ctr, f"run {env['MODE']}\n")
    return ctr


def wait_for_log(ctr: Container, text: str) -> None:
    for line in ctr.logs(follow=True):
        if line == text:
            return
    raise AssertionError(f"{text!r} never appeared in {ctr.id[:13]}'s log")


def test_recreate_keeps_the_config_and_bumps_the_attempt(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "file").write_text("from the host\n")
    pod = cri.pods.run("recreate-" + suite["suite"], labels=suite, log_directory=log_dir)
    old = cri.containers.create(
        pod,
        "main",
        runtime.busybox_image,
        command=SLEEP[:2],
        args=SLEEP[2:],
        env=ENV,
        working_dir="/tmp",
        mounts=[(str(shared), "/data", True)],
        labels={"app": "web", "tier": "front"},
        annotations={"note": "kept as written"},
    ).start()
    wait_for_log(old, "run demo\n")
    before = old.config()
    assert {e.key: e.value for e in before.envs} == {k: v.encode() for k, v in ENV.items()}

    new = old.recreate(timeout=5)

    assert new.id != old.id and new.pod_id == pod.id
    assert (new.state, new.attempt, new.name) == (ContainerState.RUNNING, 1, "main")
    assert new.log_path == f"{log_dir}/main/1.log"
    with pytest.raises(NotFoundError):
        cri.containers.get(old.id)
    after = new.config()
    assert after.metadata == pb.ContainerMetadata(name="main", attempt=1)
    assert after.log_path == "main/1.log"
    for field in ("image", "command", "args", "working_dir", "envs", "mounts"):
        assert getattr(after, field) == getattr(before, field), field
    assert dict(after.labels) == dict(before.labels) == {"app": "web", "tier": "front"}
    assert dict(after.annotations) == {"note": "kept as written"}
    inside = env_inside(cri, new.id)
    assert {key: inside.get(key) for key in ENV} == ENV
    assert new.exec(["cat", "/data/file"], check=True).stdout == b"from the host\n"
    assert new.exec(["pwd"], check=True).stdout == b"/tmp\n"
    wait_for_log(new, "run demo\n")
    assert new.logs(previous=True) == "run demo\n"


def test_recreate_applies_changes_and_the_manager_takes_a_reference(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    name = "changes-" + suite["suite"]
    pod = cri.pods.run(name, labels=suite, log_directory=log_dir)
    first = started(cri, pod, runtime.busybox_image, "main")

    second = cri.containers.recreate(
        f"default/{name}/main",
        env={"MODE": "debug", "ONE": None, "NEW": "10"},
        labels={"tier": "back"},
        annotations={"note": "changed"},
        timeout=0,
    )

    assert second.attempt == 1
    inside = env_inside(cri, second.id)
    assert (inside["MODE"], inside["NEW"], inside["COUNT"], "ONE" in inside) == (
        "debug",
        "10",
        "10",
        False,
    )
    config = second.config()
    assert [e.key for e in config.envs] == ["MODE", "COUNT", "SPACED", "ACCENT", "NEW"]
    assert dict(config.labels) == {"tier": "back"}
    assert dict(config.annotations) == {"note": "changed"}
    wait_for_log(second, "run debug\n")
    assert second.logs(previous=True) == "run demo\n"
    third = second.recreate(command=["sh", "-c", "echo third $MODE; sleep 3600"], timeout=0)
    assert third.attempt == 2 and third.config().command == [
        "sh",
        "-c",
        "echo third $MODE; sleep 3600",
    ]
    wait_for_log(third, "third debug\n")
    assert third.logs(previous=True) == "run debug\n"
    assert first.id not in {c.id for c in cri.containers.list(all=True, pod=pod)}


def test_recreate_checks_changes_and_the_image_before_it_stops_anything(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("norecreate-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = started(cri, pod, runtime.busybox_image, "main")
    with pytest.raises(ValueError, match="command must be a list"):
        ctr.recreate(command="sleep 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="env entry 'A=B'"):
        ctr.recreate(env={"A=B": "x"})
    missing = runtime.busybox_image.rsplit(":", 1)[0] + ":no-such-tag"
    with pytest.raises(NotFoundError, match="nothing was stopped or removed") as info:
        ctr.recreate(image=missing)
    assert missing in str(info.value)
    assert ctr.reload().state is ContainerState.RUNNING
    assert [c.id for c in cri.containers.list(all=True, pod=pod)] == [ctr.id]


def test_a_recreate_that_fails_half_way_says_what_exists_now(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("halfway-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = started(cri, pod, runtime.busybox_image, "main")

    with pytest.raises(RecreateError) as info:
        ctr.recreate(command=["/no/such/program"], timeout=0)

    err = info.value
    assert str(err).startswith("StartContainer(container_id="), str(err)
    assert f"stopped and removed container {ctr.id[:13]} (main); created container " in str(err)
    assert "and removed it again; starting it failed: " in str(err)
    assert "/no/such/program" in err.details
    assert err.removed == [ctr.id]
    assert (err.config.metadata.attempt, list(err.config.command)) == (1, ["/no/such/program"])
    assert cri.containers.list(all=True, pod=pod) == []
    fixed = pb.ContainerConfig()
    fixed.CopyFrom(err.config)
    fixed.command[:] = SLEEP
    again = cri.containers.create(pod, "main", runtime.busybox_image, config=fixed).start()
    assert again.attempt == 1
    wait_for_log(again, "run demo\n")
    assert again.logs(previous=True) == "run demo\n"


def test_recreating_an_older_attempt_makes_one_above_the_newest(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """kubelet keeps the previous attempt of a name: recreating attempt 0 while attempt
    1 exists makes attempt 2 (attempt 1 would collide after attempt 0 was removed)."""
    pod = cri.pods.run("older-" + suite["suite"], labels=suite, log_directory=log_dir)
    first = started(cri, pod, runtime.busybox_image, "main")
    config = first.config()
    config.metadata.attempt = 1
    config.log_path = "main/1.log"
    second = cri.containers.create(pod, "main", runtime.busybox_image, config=config).start()

    new = first.recreate(env={"MODE": "third"}, timeout=0)

    assert (new.attempt, new.state, new.log_path.endswith("/main/2.log")) == (
        2,
        ContainerState.RUNNING,
        True,
    )
    now = {c.id: c.attempt for c in cri.containers.list(all=True, pod=pod)}
    assert now == {second.id: 1, new.id: 2}
    assert cri.containers.get(second.id).state is ContainerState.RUNNING
    wait_for_log(new, "run third\n")


def test_async_recreate(runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str) -> None:
    async def scenario() -> None:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            pod = await cri.pods.run(
                "arecreate-" + suite["suite"], labels=suite, log_directory=log_dir
            )
            old = await cri.containers.create(
                pod, "main", runtime.busybox_image, command=SLEEP, env=ENV
            )
            await old.start()
            new = await old.recreate(env={"MODE": "async"}, timeout=0)
            assert (new.attempt, new.state) == (1, ContainerState.RUNNING)
            config = await new.config()
            assert {e.key: e.value for e in config.envs}["MODE"] == b"async"
            again = await cri.containers.recreate(new.id, timeout=0)
            assert again.attempt == 2
            pod_again = await pod.recreate(timeout=0)
            assert pod_again.id == pod.id
            assert [c.attempt for c in await pod_again.containers()] == [3]

    asyncio.run(scenario())


# --- pods -------------------------------------------------------------------------------


def test_pod_recreate_in_its_ready_sandbox(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("podre-" + suite["suite"], labels=suite, log_directory=log_dir)
    web = started(cri, pod, runtime.busybox_image, "web")
    job = cri.containers.create(
        pod, "job", runtime.busybox_image, command=["sh", "-c", "echo job done"]
    ).start()
    job.wait()
    ip = pod.ip

    same = pod.recreate(timeout=0)

    assert (same.id, same.ip, same.ready) == (pod.id, ip, True)
    now = {c.name: c for c in same.containers()}
    assert sorted(now) == ["job", "web"]
    assert (now["web"].attempt, now["job"].attempt) == (1, 1)
    assert web.id not in {c.id for c in now.values()} and job.id not in {c.id for c in now.values()}
    assert now["job"].wait().exit_code == 0
    assert now["job"].logs() == "job done\n" == now["job"].logs(previous=True)
    wait_for_log(now["web"], "run demo\n")
    assert now["web"].logs(previous=True) == "run demo\n"


def test_pod_recreate_in_a_new_sandbox_keeps_uid_logs_and_runtime_handler(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    assert "runsc" in runtime.handlers
    name = "podnew-" + suite["suite"]
    pod = cri.pods.run(name, labels=suite, log_directory=log_dir, runtime_handler="runsc")
    web = started(cri, pod, runtime.busybox_image, "web")
    pod.stop(grace_period=0)
    with pytest.raises(FailedPreconditionError, match="nothing was changed"):
        pod.recreate(new_sandbox=False)
    with pytest.raises(FailedPreconditionError, match="is not ready: it takes no new container"):
        web.recreate()
    assert web.reload().state is ContainerState.EXITED

    fresh = pod.recreate(timeout=0)

    assert fresh.id != pod.id and fresh.ready
    assert (fresh.name, fresh.uid, fresh.attempt) == (name, pod.uid, 1)
    assert fresh.reload().raw.runtime_handler == "runsc"
    assert fresh.config().log_directory == log_dir
    with pytest.raises(NotFoundError):
        cri.pods.get(pod.id)
    [again] = fresh.containers()
    assert (again.name, again.attempt, again.state) == ("web", 1, ContainerState.RUNNING)
    assert web.id != again.id
    wait_for_log(again, "run demo\n")
    assert again.logs(previous=True) == "run demo\n"
    assert cri.pods.get(name).id == fresh.id
    forced = fresh.recreate(new_sandbox=True, timeout=0)
    assert (forced.attempt, forced.state) == (2, PodState.READY)
    assert [c.attempt for c in forced.containers()] == [2]


def test_pod_recreate_of_an_older_sandbox_makes_one_above_the_newest(
    cri: CRIClient, suite: dict[str, str], log_dir: str
) -> None:
    name = "podolder-" + suite["suite"]
    first = cri.pods.run(name, labels=suite, log_directory=log_dir)
    second = cri.pods.run(name, labels=suite, log_directory=log_dir, uid=first.uid, attempt=1)

    fresh = first.recreate(new_sandbox=True, timeout=0)

    assert (fresh.name, fresh.uid, fresh.attempt, fresh.ready) == (name, first.uid, 2, True)
    assert cri.pods.get(second.id).ready
    with pytest.raises(NotFoundError):
        cri.pods.get(first.id)


def test_cli_recreate_and_recreatep(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    name = "clire-" + suite["suite"]
    pod = cri.pods.run(name, labels=suite, log_directory=log_dir)
    old = started(cri, pod, runtime.busybox_image, "main")

    done = cli(
        runtime, "recreate", "-t", "0", "-e", "MODE=cli", "-e", "ONE-", f"default/{name}/main"
    )

    assert done.stderr == ""
    new = cri.containers.get(done.stdout.strip())
    assert (new.attempt, new.name, new.pod_id) == (1, "main", pod.id) and new.id != old.id
    inside = env_inside(cri, new.id)
    assert (inside["MODE"], inside["COUNT"], "ONE" in inside) == ("cli", "10", False)
    wait_for_log(new, "run cli\n")
    assert new.logs(previous=True) == "run demo\n"

    missing = runtime.busybox_image.rsplit(":", 1)[0] + ":no-such-tag"
    refused = cli(runtime, "recreate", "--image", missing, new.id, "no-such-container", code=1)
    assert refused.stdout == ""
    assert f"cri-client: {new.id}: " in refused.stderr and "nothing was stopped" in refused.stderr
    assert "cri-client: no-such-container: " in refused.stderr
    assert cli(runtime, "recreate", "-e", "NOEQUALS", new.id, code=1).stderr.startswith(
        "cri-client"
    )
    assert new.reload().state is ContainerState.RUNNING

    same = cli(runtime, "recreatep", "-t", "0", name)
    assert same.stdout == f"{pod.id}\n" and same.stderr == ""
    assert [c.attempt for c in pod.containers()] == [2]
    fresh = cli(runtime, "recreatep", "--new-sandbox", "-t", "0", name).stdout.strip()
    assert fresh != pod.id and cri.pods.get(fresh).attempt == 1
    assert [c.attempt for c in cri.pods.get(fresh).containers()] == [3]
