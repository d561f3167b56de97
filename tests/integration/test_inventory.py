"""Inventory and bulk work against real containerd: a kubelet-like node with two pods
holding running, exited and created containers, listed with their statuses and pod
names, selected by every form of label selector, and acted on in bulk."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cri_client import BulkOutcome, Container, ContainerState, CRIClient, ExecResult, PodState
from cri_client.errors import (
    ContainerNotRunningError,
    CRIError,
    FailedPreconditionError,
    NotFoundError,
)

from .conftest import RuntimeUnderTest

SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


@dataclass(frozen=True)
class Node:
    suite: str
    """The value of the ``suite`` label every pod and container here carries."""
    containers: dict[str, Container]
    """By name: web-run, web-done, web-fail, web-new (pod web); db-run, db-crash (pod db)."""

    def selector(self, more: str = "") -> str:
        return f"suite={self.suite}" + (f",{more}" if more else "")


@pytest.fixture(scope="module")
def node(cri: CRIClient, runtime: RuntimeUnderTest) -> Iterator[Node]:
    """Pod ``web`` (app=web, tier=front): web-run running, web-done exited 0, web-fail
    exited 3, web-new created. Pod ``db`` (app=db, tier=back): db-run running and
    db-crash exited 7, with kubelet's labels naming another pod."""
    suite = "inv" + uuid.uuid4().hex[:8]
    log_dir = tempfile.mkdtemp(prefix="cri-client-inventory-")
    image = runtime.busybox_image
    made: dict[str, Container] = {}
    pods = []
    try:
        for app, tier in (("web", "front"), ("db", "back")):
            labels = {"suite": suite, "app": app, "tier": tier}
            pod = cri.pods.run(f"{suite}-{app}", labels=labels, log_directory=log_dir)
            pods.append(pod)
            plan = {
                "web": [
                    ("run", SLEEP, True),
                    ("done", ["true"], True),
                    ("fail", ["sh", "-c", "exit 3"], True),
                    ("new", SLEEP, False),
                ],
                "db": [("run", SLEEP, True), ("crash", ["sh", "-c", "exit 7"], True)],
            }[app]
            for role, command, start in plan:
                ctr_labels = {**labels, "role": role}
                if app == "db":
                    ctr_labels |= {
                        "io.kubernetes.pod.name": "kubelet-db",
                        "io.kubernetes.pod.namespace": "prod",
                    }
                ctr = cri.containers.create(
                    pod, f"{app}-{role}", image, command=command, labels=ctr_labels
                )
                made[ctr.name] = ctr.start() if start else ctr
        for name in ("web-done", "web-fail", "db-crash"):
            made[name] = made[name].wait(timeout=60)
        yield Node(suite, made)
    finally:
        for pod in pods:
            pod.remove(force=True, missing_ok=True)


def names(containers: list[Container]) -> set[str]:
    return {ctr.name for ctr in containers}


# --- with_status ----------------------------------------------------------------------------


def test_with_status_fills_what_container_status_says(cri: CRIClient, node: Node) -> None:
    listed = cri.containers.list(all=True, labels=node.selector(), with_status=True)
    assert names(listed) == set(node.containers)
    for ctr in listed:
        status = cri.api.container_status(container_id=ctr.id).status
        assert ctr.state.to_proto() == status.state
        assert ctr.exit_code == (status.exit_code if ctr.state is ContainerState.EXITED else None)
        assert (ctr.reason, ctr.message, ctr.log_path) == (
            status.reason,
            status.message,
            status.log_path,
        )
        started = ctr.started_at.timestamp() * 1e9 if ctr.started_at else 0
        finished = ctr.finished_at.timestamp() * 1e9 if ctr.finished_at else 0
        assert abs(started - status.started_at) < 1e3 and abs(finished - status.finished_at) < 1e3
    by_name = {ctr.name: ctr for ctr in listed}
    assert (by_name["web-fail"].exit_code, by_name["web-fail"].reason) == (3, "Error")
    assert (by_name["web-done"].exit_code, by_name["web-done"].reason) == (0, "Completed")
    assert by_name["db-crash"].exit_code == 7
    assert by_name["web-run"].exit_code is None and by_name["web-run"].started_at is not None
    assert by_name["web-new"].started_at is None and by_name["web-new"].finished_at is None
    assert by_name["web-done"].finished_at is not None
    assert by_name["web-run"].log_path.endswith("web-run/0.log")


def test_a_bare_list_has_no_status_fields(cri: CRIClient, node: Node) -> None:
    listed = {c.name: c for c in cri.containers.list(all=True, labels=node.selector())}
    assert listed["web-fail"].exit_code is None and listed["web-fail"].started_at is None
    assert listed["web-fail"].reload().exit_code == 3


def test_with_status_one_at_a_time_gives_the_same(cri: CRIClient, node: Node) -> None:
    serial = cri.containers.list(all=True, labels=node.selector(), with_status=True, parallel=1)
    wide = cri.containers.list(all=True, labels=node.selector(), with_status=True, parallel=16)
    assert [c.to_dict() for c in serial] == [c.to_dict() for c in wide]
    with pytest.raises(ValueError, match="parallel"):
        cri.containers.list(with_status=True, parallel=0)


# --- pod names ------------------------------------------------------------------------------


def test_pod_names_come_from_kubelets_labels_else_the_pod(cri: CRIClient, node: Node) -> None:
    listed = {c.name: c for c in cri.containers.list(all=True, labels=node.selector())}
    assert (listed["web-run"].pod_name, listed["web-run"].pod_namespace) == (
        f"{node.suite}-web",
        "default",
    )
    assert (listed["db-run"].pod_name, listed["db-run"].pod_namespace) == ("kubelet-db", "prod")
    got = cri.containers.get(node.containers["web-new"].id)
    assert (got.pod_name, got.pod_namespace) == (f"{node.suite}-web", "default")
    assert cri.containers.get("web-fail").pod_name == f"{node.suite}-web"
    assert node.containers["web-new"].pod_name == f"{node.suite}-web"  # from create()
    assert listed["web-run"].to_dict()["pod_name"] == f"{node.suite}-web"


# --- selectors ------------------------------------------------------------------------------

SELECTIONS = [
    ("app=web", {"web-run", "web-done", "web-fail", "web-new"}),
    ("app==db", {"db-run", "db-crash"}),
    ("app!=web", {"db-run", "db-crash"}),
    ("role in (run, crash)", {"web-run", "db-run", "db-crash"}),
    ("role notin (run,crash,new)", {"web-done", "web-fail"}),
    ("io.kubernetes.pod.name", {"db-run", "db-crash"}),
    ("!io.kubernetes.pod.name", {"web-run", "web-done", "web-fail", "web-new"}),
    ("tier=front,role!=new,!nothing", {"web-run", "web-done", "web-fail"}),
    ("app=web,app=db", set()),
]


@pytest.mark.parametrize(("selector", "expected"), SELECTIONS)
def test_containers_by_every_selector_form(
    cri: CRIClient, node: Node, selector: str, expected: set[str]
) -> None:
    assert names(cri.containers.list(all=True, labels=node.selector(selector))) == expected


def test_pods_and_stats_by_selector(cri: CRIClient, node: Node) -> None:
    pods = cri.pods.list(labels=node.selector("app notin (web)"))
    assert [pod.name for pod in pods] == [f"{node.suite}-db"]
    assert [p.name for p in cri.pods.list(labels={"suite": node.suite, "tier": "front"})] == [
        f"{node.suite}-web"
    ]
    stats = cri.containers.stats(labels=node.selector("role in (run)"), interval=0.1)
    assert {s.name for s in stats} == {"web-run", "db-run"}
    pod_stats = cri.pods.stats(labels=node.selector("tier!=front"), interval=0.1)
    assert [s.name for s in pod_stats] == [f"{node.suite}-db"]


def test_state_in_any_spelling(cri: CRIClient, node: Node) -> None:
    wanted = {"web-done", "web-fail", "db-crash"}
    for state in ("exited", "EXITED", "Exited", ContainerState.EXITED):
        assert names(cri.containers.list(state=state, labels=node.selector())) == wanted
    for pod_state in ("READY", PodState.READY):
        assert len(cri.pods.list(state=pod_state, labels=node.selector())) == 2
    with pytest.raises(ValueError, match="state must be one of"):
        cri.containers.list(state="stopped")


def test_bad_selectors_are_refused(cri: CRIClient) -> None:
    for bad in ("app in (a", "app=(x)", "app in ()", "a b", "app=web,,tier=x", "=web"):
        with pytest.raises(ValueError, match="labels"):
            cri.containers.list(labels=bad)


# --- bulk work ------------------------------------------------------------------------------


def test_exec_many_reports_each_container(cri: CRIClient, node: Node) -> None:
    outcomes = cri.containers.exec_many(node.selector(), ["sh", "-c", "echo $HOSTNAME; exit 4"])
    assert {o.name for o in outcomes} == {"web-run", "db-run"}
    assert all(o.ok and o.result is not None and o.result.exit_code == 4 for o in outcomes)
    targets = [node.containers["web-run"], node.containers["web-fail"], "no-such-container"]
    mixed = cri.containers.exec_many(targets, ["echo", "hi"], parallel=2)
    assert mixed[0] == BulkOutcome(
        node.containers["web-run"].id, "web-run", result=ExecResult(0, b"hi\n", b"")
    )
    assert (mixed[1].name, type(mixed[1].error)) == ("web-fail", ContainerNotRunningError)
    assert (mixed[2].id, mixed[2].name, type(mixed[2].error)) == (
        "no-such-container",
        "",
        NotFoundError,
    )
    assert [o.ok for o in mixed] == [True, False, False]


@pytest.fixture
def scratch(cri: CRIClient, runtime: RuntimeUnderTest, log_dir: str) -> Iterator[str]:
    """A pod of its own, labelled bulk=<unique>: keep-run, drop-run (running),
    drop-done (exited)."""
    bulk = "b" + uuid.uuid4().hex[:8]
    pod = cri.pods.run(bulk, labels={"bulk": bulk}, log_directory=log_dir)
    try:
        for name, command in (("keep-run", SLEEP), ("drop-run", SLEEP), ("drop-done", ["true"])):
            labels = {"bulk": bulk, "drop": "no" if name.startswith("keep") else "yes"}
            ctr = cri.containers.create(
                pod, name, runtime.busybox_image, command=command, labels=labels
            )
            ctr.start()
        cri.containers.get("drop-done").wait(timeout=60)
        yield bulk
    finally:
        pod.remove(force=True, missing_ok=True)


def states(cri: CRIClient, bulk: str) -> dict[str, ContainerState]:
    return {c.name: c.state for c in cri.containers.list(all=True, labels={"bulk": bulk})}


def test_remove_many_never_removes_a_running_container_unless_forced(
    cri: CRIClient, scratch: str
) -> None:
    outcomes = cri.containers.remove_many(f"bulk={scratch},drop=yes")
    by_name = {o.name: o for o in outcomes}
    assert set(by_name) == {"drop-run", "drop-done"}
    assert by_name["drop-done"].ok and by_name["drop-done"].result is None
    assert isinstance(by_name["drop-run"].error, CRIError)
    assert "running" in str(by_name["drop-run"].error)
    assert states(cri, scratch) == {
        "keep-run": ContainerState.RUNNING,
        "drop-run": ContainerState.RUNNING,
    }
    forced = cri.containers.remove_many({"bulk": scratch, "drop": "yes"}, force=True)
    assert [(o.name, o.ok) for o in forced] == [("drop-run", True)]
    assert states(cri, scratch) == {"keep-run": ContainerState.RUNNING}


def test_stop_many_stops_only_the_selected(cri: CRIClient, scratch: str) -> None:
    outcomes = cri.containers.stop_many(f"bulk={scratch},drop in (yes)", timeout=0)
    assert [(o.name, o.ok) for o in outcomes] == [("drop-run", True)]
    assert outcomes[0].result is not None and outcomes[0].result.state is ContainerState.EXITED
    assert states(cri, scratch) == {
        "keep-run": ContainerState.RUNNING,
        "drop-run": ContainerState.EXITED,
        "drop-done": ContainerState.EXITED,
    }


def test_pods_stop_many_and_remove_many(
    cri: CRIClient, runtime: RuntimeUnderTest, log_dir: str
) -> None:
    """Three pods of one label: ``keep`` and ``busy`` ready (busy runs a container),
    ``done`` stopped. A selector stops only the ready ones it picks; removal refuses a
    ready pod unless forced, and a forced one stops it first."""
    bulk = "p" + uuid.uuid4().hex[:8]
    pods = {
        name: cri.pods.run(
            f"{bulk}-{name}",
            labels={"bulkp": bulk, "keep": "yes" if name == "keep" else "no"},
            log_directory=f"{log_dir}/{name}",
        )
        for name in ("keep", "busy", "done")
    }
    try:
        busy = cri.containers.create(pods["busy"], "sleeper", runtime.busybox_image, command=SLEEP)
        busy.start()
        pods["done"].stop(grace_period=0)

        stopped = cri.pods.stop_many(f"bulkp={bulk},keep!=yes", grace_period=0)
        assert [(o.id, o.name, o.ok) for o in stopped] == [(pods["busy"].id, f"{bulk}-busy", True)]
        assert stopped[0].result is not None and not stopped[0].result.ready
        assert busy.reload().state is ContainerState.EXITED
        assert pods["keep"].reload().ready

        refused = cri.pods.remove_many({"bulkp": bulk}, parallel=1)
        by_name = {o.name: o for o in refused}
        assert set(by_name) == {f"{bulk}-{name}" for name in pods}
        assert isinstance(by_name[f"{bulk}-keep"].error, FailedPreconditionError)
        assert by_name[f"{bulk}-busy"].ok and by_name[f"{bulk}-done"].ok
        assert [p.id for p in cri.pods.list(labels={"bulkp": bulk})] == [pods["keep"].id]

        forced = cri.pods.remove_many([pods["keep"], f"{bulk}-busy"], force=True, grace_period=1)
        assert [(o.id, o.ok) for o in forced[:1]] == [(pods["keep"].id, True)]
        assert (forced[1].id, type(forced[1].error)) == (f"{bulk}-busy", NotFoundError)
        assert cri.pods.list(labels={"bulkp": bulk}) == []
    finally:
        for pod in pods.values():
            pod.remove(force=True, missing_ok=True)


# --- the command line -----------------------------------------------------------------------


def test_cli_label_flags_take_selectors(
    cri: CRIClient, runtime: RuntimeUnderTest, node: Node
) -> None:
    from .test_cli import cli

    def ids(*args: str) -> set[str]:
        done = cli(runtime, *args)
        assert done.stderr == ""
        return set(done.stdout.split())

    expected = {node.containers[n].id for n in ("web-done", "web-fail", "db-crash")}
    assert (
        ids("ps", "-a", "-q", "--label", node.selector(), "--label", "role notin (run,new)")
        == expected
    )
    assert ids("ps", "-a", "-q", "--label", f"suite={node.suite}", "--label", "app=db") == {
        node.containers["db-run"].id,
        node.containers["db-crash"].id,
    }
    pods = ids("pods", "-q", "--label", node.selector("app!=web"))
    assert pods == {node.containers["db-run"].pod_id}
    bad = cli(runtime, "ps", "--label", "app in (web", code=1)
    assert bad.stdout == "" and "unbalanced parentheses" in bad.stderr
    table = cli(runtime, "ps", "-a", "--label", node.selector("role=run")).stdout
    assert f"{node.suite}-web" in table and "kubelet-db" in table and "prod" in table


def test_cli_bulk_removal_is_quiet_off_a_terminal(
    cri: CRIClient, runtime: RuntimeUnderTest, scratch: str
) -> None:
    from .test_cli import cli

    ids = [c.id for c in cri.containers.list(all=True, labels={"bulk": scratch, "drop": "yes"})]
    done = cli(runtime, "rm", "-f", *ids)
    assert done.stderr == ""
    assert done.stdout.split().count(ids[0]) >= 1
    assert states(cri, scratch) == {"keep-run": ContainerState.RUNNING}


def test_asyncio_inventory_and_exec_many(runtime: RuntimeUnderTest, node: Node) -> None:
    import asyncio

    from cri_client.aio import AsyncCRIClient

    async def scenario() -> tuple[dict[str, int | None], list[tuple[str, int | None]]]:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            listed = await cri.containers.list(
                all=True, labels=node.selector("role notin (run)"), with_status=True
            )
            outcomes = await cri.containers.exec_many(node.selector("app=db"), ["true"])
            return (
                {c.name: c.exit_code for c in listed},
                [(o.name, o.result.exit_code if o.result else None) for o in outcomes],
            )

    codes, outcomes = asyncio.run(scenario())
    assert codes == {"web-done": 0, "web-fail": 3, "web-new": None, "db-crash": 7}
    assert outcomes == [("db-run", 0)]


def test_cli_bulk_removal_draws_a_bar_when_stderr_is_a_terminal(
    cri: CRIClient, runtime: RuntimeUnderTest, scratch: str
) -> None:
    from .conftest import run_with_stderr_on_a_terminal
    from .test_cli import cli_env, command

    ids = [c.id for c in cri.containers.list(all=True, labels={"bulk": scratch, "drop": "yes"})]
    done, drawn = run_with_stderr_on_a_terminal(
        command(runtime, "rm", "-f", *ids), {**cli_env(), "COLUMNS": "100"}
    )
    assert done.returncode == 0
    assert sorted(set(done.stdout.split())) == sorted(ids)
    assert b"Removing containers" in drawn and b"Traceback" not in drawn
    assert states(cri, scratch) == {"keep-run": ContainerState.RUNNING}
