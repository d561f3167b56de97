"""Prune on real containerd: a kubelet-like node, every plan checked item by item, and
every "never" asserted after real removals.

An image prune is node-wide, so this module runs a containerd of its own (the
session's one keeps the images other test modules use). Each test builds the node
again (:func:`node`):

* pod ``web`` (ready): ``server`` running busybox (by tag), ``init`` created and never
  started from ``prune-by-tag`` (by tag);
* pod ``batch`` (ready): ``by-digest`` exited from ``prune-by-digest`` (by digest),
  ``by-id`` exited from ``prune-by-id`` (by image id), ``shared-1`` exited from
  ``prune-shared``;
* pod ``old`` (stopped, not ready): ``shared-2`` exited from ``prune-shared``;
* images no container uses: ``prune-unused`` and ``prune-keep``; the sandbox image.

The ``prune-*`` images are busybox with one label each (a config of their own, so an
id of their own), pushed to the instance's local registry once per module. The last
test runs docs/operations.md's three scripts as written on this node.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from cri_client import Container, CRIClient, Pod, PruneReason, PruneReport
from cri_client.testing import ThrowawayContainerd

from . import test_cli

VARIANTS = ("by-tag", "by-digest", "by-id", "shared", "unused", "keep")
KEEP = "*/prune-keep:*"


@dataclass
class Instance:
    version: str
    containerd: ThrowawayContainerd
    cri: CRIClient

    @property
    def registry(self) -> str:
        return self.containerd.registry

    def image(self, variant: str) -> str:
        return f"{self.registry}/prune-{variant}:1"


@dataclass
class Node:
    """What :func:`node` built: pods and containers by name, image references."""

    labels: dict[str, str]
    pods: dict[str, Pod]
    containers: dict[str, Container]
    image_ids: dict[str, str]  # variant, "busybox" or "pause" -> image id


def push_variants(registry: str, work: Path) -> None:
    """``prune-<variant>:1`` for each variant: busybox with a label of its own."""
    policy = work / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    skopeo = ["skopeo", "--policy", str(policy), "copy", "-q"]
    layout = work / "oci"
    subprocess.run(
        [
            *skopeo,
            "--src-tls-verify=false",
            f"docker://{registry}/busybox:1.35",
            f"oci:{layout}:base",
        ],
        check=True,
    )
    for variant in VARIANTS:
        subprocess.run(
            ["umoci", "config", "--image", f"{layout}:base", "--tag", variant,
             "--config.label", f"prune={variant}"],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [*skopeo, "--dest-tls-verify=false", f"oci:{layout}:{variant}",
             f"docker://{registry}/prune-{variant}:1"],
            check=True,
        )  # fmt: skip


@pytest.fixture(scope="module")
def instance() -> Iterator[Instance]:
    version = os.environ.get("CRI_CLIENT_TEST_CONTAINERD", "2.1")  # as conftest's runtime
    base_dir = tempfile.mkdtemp(prefix="cri-client-prune-")
    containerd = ThrowawayContainerd(version, base_dir=base_dir).start()
    try:
        push_variants(containerd.registry, Path(base_dir))
        with CRIClient(containerd.endpoint) as cri:
            yield Instance(version, containerd, cri)
    finally:
        containerd.stop(purge=True)
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def node(instance: Instance, unique: str) -> Iterator[Node]:
    cri = instance.cri
    busybox = instance.containerd.busybox_image
    image_ids = {"busybox": cri.images.pull(busybox).id}
    image_ids |= {v: cri.images.pull(instance.image(v)).id for v in VARIANTS}
    labels = {"suite": unique}
    pods = {
        name: cri.pods.run(f"{name}-{unique}", labels={**labels, "app": name})
        for name in ("web", "batch", "old")
    }
    image_ids["pause"] = cri.images.get(instance.containerd.pause_image).id  # pulled by now
    digest = cri.images.get(instance.image("by-digest")).repo_digests[0]

    def make(pod: str, name: str, image: str, command: list[str]) -> Container:
        return cri.containers.create(
            pods[pod], name, image, command=command, labels={**labels, "app": pod}
        )

    containers = {
        "server": make("web", "server", busybox, ["sleep", "3600"]).start(),
        "init": make("web", "init", instance.image("by-tag"), ["true"]),
        "by-digest": make("batch", "by-digest", digest, ["true"]).start(),
        "by-id": make("batch", "by-id", image_ids["by-id"], ["true"]).start(),
        "shared-1": make("batch", "shared-1", instance.image("shared"), ["true"]).start(),
        "shared-2": make("old", "shared-2", instance.image("shared"), ["true"]).start(),
    }
    for name in ("by-digest", "by-id", "shared-1", "shared-2"):
        containers[name].wait("exited", timeout=30)
    pods["old"].stop(grace_period=0)
    yield Node(labels, pods, containers, image_ids)
    for pod in cri.pods.list(labels=labels):
        pod.remove(force=True, missing_ok=True)


def verdicts(report: PruneReport, kind: str) -> dict[str, tuple[bool, PruneReason]]:
    """Item id -> (selected, reason), for one kind of item."""
    return {i.id: (i.selected, i.reason) for i in report.items if i.kind == kind}


def image_verdicts(report: PruneReport, node: Node) -> dict[str, tuple[bool, PruneReason]]:
    """Image name (as in ``node.image_ids``) -> (selected, reason)."""
    names = {image_id: name for name, image_id in node.image_ids.items()}
    found = verdicts(report, "image")
    assert set(found) == set(names), "the plan lists every image of the node"
    return {names[image_id]: verdict for image_id, verdict in found.items()}


def detail(report: PruneReport, item_id: str) -> str:
    return next(i.detail for i in report.items if i.id == item_id)


# --- plans ------------------------------------------------------------------------------------


def test_image_plan_keeps_every_image_in_use_the_sandbox_image_and_keep(
    instance: Instance, node: Node
) -> None:
    report = instance.cri.images.prune(keep=[KEEP], dry_run=True)
    assert image_verdicts(report, node) == {
        "busybox": (False, PruneReason.IN_USE),  # a running container, by tag
        "by-tag": (False, PruneReason.IN_USE),  # a created container, by tag
        "by-digest": (False, PruneReason.IN_USE),  # an exited container, by digest
        "by-id": (False, PruneReason.IN_USE),  # an exited container, by image id
        "shared": (False, PruneReason.IN_USE),  # two exited containers
        "pause": (False, PruneReason.SANDBOX_IMAGE),
        "keep": (False, PruneReason.KEEP_PATTERN),
        "unused": (True, PruneReason.UNUSED),
    }
    ids, ctrs = node.image_ids, node.containers
    assert (
        detail(report, ids["by-tag"]) == f"used by container init ({ctrs['init'].id[:12]}, created)"
    )
    assert (
        detail(report, ids["by-id"]) == f"used by container by-id ({ctrs['by-id'].id[:12]}, exited)"
    )
    assert detail(report, ids["shared"]).endswith(", exited) and 1 more")
    pause_detail = detail(report, ids["pause"])
    if instance.version == "2.1":  # no sandbox image in its status: the pods' info says it
        assert pause_detail.startswith("the sandbox image of pod default/")
    else:
        assert pause_detail == "the runtime's sandbox image (its status config names it)"
    unused = instance.cri.images.get(ids["unused"])
    assert report.bytes_expected == unused.size > 0
    assert (report.dry_run, report.fs_before, report.fs_after, report.removed) == (
        True,
        None,
        None,
        (),
    )


def test_min_age_counts_from_the_image_creation(instance: Instance, node: Node) -> None:
    young = instance.cri.images.prune(min_age=timedelta(days=1), dry_run=True)
    item = next(i for i in young.items if i.id == node.image_ids["unused"])
    assert (item.selected, item.reason) == (False, PruneReason.TOO_YOUNG)
    assert item.detail.startswith("created ") and item.detail.endswith(" less than min_age 24h0m")
    old_enough = instance.cri.images.prune(min_age=0, dry_run=True)
    assert image_verdicts(old_enough, node)["unused"] == (True, PruneReason.UNUSED)


def test_container_plan(instance: Instance, node: Node) -> None:
    ctrs = node.containers
    report = instance.cri.containers.prune(labels=node.labels, dry_run=True)
    assert verdicts(report, "container") == {
        ctrs["server"].id: (False, PruneReason.RUNNING),
        ctrs["init"].id: (False, PruneReason.NOT_STARTED),
        ctrs["by-digest"].id: (True, PruneReason.EXITED),
        ctrs["by-id"].id: (True, PruneReason.EXITED),
        ctrs["shared-1"].id: (True, PruneReason.EXITED),
        ctrs["shared-2"].id: (True, PruneReason.EXITED),
    }
    recent = instance.cri.containers.prune(
        exited_before=timedelta(hours=1), labels=node.labels, dry_run=True
    )
    item = next(i for i in recent.items if i.id == ctrs["by-id"].id)
    assert (item.selected, item.reason, item.name) == (False, PruneReason.TOO_YOUNG, "by-id")
    assert item.detail.endswith(" ago, less than 1h0m")
    web_only = instance.cri.containers.prune(labels={**node.labels, "app": "web"}, dry_run=True)
    assert set(verdicts(web_only, "container")) == {ctrs["server"].id, ctrs["init"].id}
    selector = f"suite={node.labels['suite']},app notin (web,old)"  # passed to list()
    batch = instance.cri.containers.prune(labels=selector, dry_run=True)
    assert set(verdicts(batch, "container")) == {
        ctrs[name].id for name in ("by-digest", "by-id", "shared-1")
    }


def test_pod_plan(instance: Instance, node: Node) -> None:
    pods = node.pods
    report = instance.cri.pods.prune(labels=node.labels, dry_run=True)
    assert verdicts(report, "pod") == {
        pods["web"].id: (False, PruneReason.RUNNING),
        pods["batch"].id: (False, PruneReason.READY),
        pods["old"].id: (True, PruneReason.NOT_READY),
    }
    assert detail(report, pods["web"].id) == (
        f"container server ({node.containers['server'].id[:12]}, running) runs in it"
    )
    wider = instance.cri.pods.prune(labels=node.labels, no_running_containers=True, dry_run=True)
    assert verdicts(wider, "pod")[pods["batch"].id] == (True, PruneReason.NO_RUNNING_CONTAINERS)
    node.containers["server"].stop(0)  # web's only other container: init, never started
    starting = instance.cri.pods.prune(labels=node.labels, no_running_containers=True, dry_run=True)
    assert verdicts(starting, "pod")[pods["web"].id] == (False, PruneReason.NOT_STARTED)


def test_a_dry_run_of_everything_plans_as_if_each_step_had_run(
    instance: Instance, node: Node
) -> None:
    report = instance.cri.prune(
        labels=node.labels, no_running_containers=True, keep=[KEEP], dry_run=True
    )
    assert [i.kind for i in report.items] == ["container"] * 6 + ["pod"] * 3 + ["image"] * 8
    assert image_verdicts(report, node) == {
        "busybox": (False, PruneReason.IN_USE),
        "by-tag": (False, PruneReason.IN_USE),  # its created container's pod stays
        "by-digest": (True, PruneReason.UNUSED),  # its container would be gone
        "by-id": (True, PruneReason.UNUSED),
        "shared": (True, PruneReason.UNUSED),
        "pause": (False, PruneReason.SANDBOX_IMAGE),
        "keep": (False, PruneReason.KEEP_PATTERN),
        "unused": (True, PruneReason.UNUSED),
    }
    assert instance.cri.containers.get(node.containers["by-id"].id).state.value == "exited"


def test_the_asyncio_client_plans_the_same(instance: Instance, node: Node) -> None:
    from cri_client.aio import AsyncCRIClient

    async def plan() -> PruneReport:
        async with AsyncCRIClient(instance.containerd.endpoint) as cri:
            return await cri.prune(labels=node.labels, keep=[KEEP], dry_run=True, parallel=3)

    sync = instance.cri.prune(labels=node.labels, keep=[KEEP], dry_run=True)
    awaited = asyncio.run(plan())
    assert sorted((i.id, i.selected, i.reason, i.detail) for i in awaited.items) == sorted(
        (i.id, i.selected, i.reason, i.detail) for i in sync.items
    )  # containerd lists images in no fixed order
    assert len(awaited.items) == 6 + 3 + 8


def test_pruning_an_old_attempt_keeps_the_log_directory_of_the_new_one(
    instance: Instance, unique: str
) -> None:
    """kubelet restarts a sandbox as a new attempt with the same uid: the old attempt
    stays not ready while the new one's containers write to the same log directory."""
    cri, labels, name, uid = instance.cri, {"suite": unique}, f"restarted-{unique}", unique
    old = cri.pods.run(name, uid=uid, attempt=0, labels=labels)
    new = cri.pods.run(name, uid=uid, attempt=1, labels=labels)
    try:
        log_directory = Path(new.config().log_directory)
        assert log_directory == Path(old.config().log_directory)
        written = log_directory / "app" / "0.log"
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text("still writing\n")
        old.stop(grace_period=0)
        report = cri.pods.prune(labels=labels)
        assert verdicts(report, "pod") == {
            old.id: (True, PruneReason.NOT_READY),
            new.id: (False, PruneReason.READY),
        }
        assert [i.id for i in report.removed] == [old.id]
        assert written.read_text() == "still writing\n"
        new.remove(force=True)  # the last sandbox of the uid: its log directory goes
        assert not log_directory.exists()
    finally:
        for pod in cri.pods.list(labels=labels):
            pod.remove(force=True, missing_ok=True)


# --- removals: every "never" ------------------------------------------------------------------


def assert_never_removed(instance: Instance, node: Node) -> None:
    cri = instance.cri
    assert cri.containers.get(node.containers["server"].id).state.value == "running"
    assert cri.containers.get(node.containers["init"].id).state.value == "created"
    assert cri.pods.get(node.pods["web"].id).ready
    for name in ("busybox", "by-tag", "pause", "keep"):
        assert cri.images.exists(node.image_ids[name]), name


def test_image_prune_removes_only_the_unused_image(instance: Instance, node: Node) -> None:
    cri = instance.cri
    report = cri.images.prune(keep=[KEEP], parallel=2)
    assert [(i.id, i.removed) for i in report.items if i.selected] == [
        (node.image_ids["unused"], True)
    ]
    assert report.ok and report.fs_before is not None and report.fs_after is not None
    assert not cri.images.exists(node.image_ids["unused"])
    for name in ("by-digest", "by-id", "shared"):  # only exited containers use them
        assert cri.images.exists(node.image_ids[name]), name
    assert_never_removed(instance, node)


def test_prune_everything_in_order(instance: Instance, node: Node) -> None:
    cri = instance.cri
    heard: list[tuple[str, str, int, int]] = []
    report = cri.prune(
        labels=node.labels,
        no_running_containers=True,
        keep=[KEEP],
        progress=lambda item, done, total: heard.append((item.kind, item.id, done, total)),
    )
    removed = {i.id for i in report.removed}
    assert {item_id for _, item_id, _, _ in heard} == removed  # each removal, as it ended
    kinds = ["container"] * 4 + ["pod"] * 2 + ["image"] * 4  # the steps, in order
    assert [kind for kind, _, _, _ in heard] == kinds
    assert sorted((kind, done, total) for kind, _, done, total in heard) == sorted(
        [*(("container", n, 4) for n in range(1, 5)), *(("pod", n, 2) for n in range(1, 3))]
        + [("image", n, 4) for n in range(1, 5)]
    )  # threads may tell in another order than they counted
    ctrs, pods, ids = node.containers, node.pods, node.image_ids
    assert removed == {
        ctrs["by-digest"].id,
        ctrs["by-id"].id,
        ctrs["shared-1"].id,
        ctrs["shared-2"].id,
        pods["batch"].id,
        pods["old"].id,
        ids["by-digest"],
        ids["by-id"],
        ids["shared"],
        ids["unused"],
    }
    assert report.ok and not report.dry_run
    assert {p.id for p in cri.pods.list(labels=node.labels)} == {pods["web"].id}
    assert {c.id for c in cri.containers.list(all=True, labels=node.labels)} == {
        ctrs["server"].id,
        ctrs["init"].id,
    }
    for name in ("by-digest", "by-id", "shared", "unused"):
        assert not cri.images.exists(ids[name]), name
    assert_never_removed(instance, node)


def test_a_pinned_image_is_never_removed(instance: Instance, node: Node) -> None:
    """Pinned with containerd's own label (the CRI has no call to pin): 1.7 and 2.1
    report it and the prune keeps it; 1.6's CRI reads no such label."""
    ref = instance.image("unused")
    label = [*instance.containerd.ctr_command, "images", "label", ref]
    subprocess.run([*label, "io.cri-containerd.pinned=pinned"], check=True, capture_output=True)
    try:
        pinned = instance.cri.images.get(ref).pinned
        assert pinned is (instance.version != "1.6")
        report = instance.cri.images.prune(keep=[KEEP])
        item = next(i for i in report.items if i.id == node.image_ids["unused"])
        if pinned:
            assert (item.selected, item.removed, item.reason) == (False, False, PruneReason.PINNED)
            assert instance.cri.images.exists(ref)
        else:  # 1.6: not pinned as far as the CRI says, so an unused image like any other
            assert (item.removed, item.reason) == (True, PruneReason.UNUSED)
        assert_never_removed(instance, node)
    finally:
        subprocess.run([*label, "io.cri-containerd.pinned="], check=False, capture_output=True)


def test_without_pods_the_sandbox_image_stays_as_the_runtime_tells(
    instance: Instance, node: Node
) -> None:
    cri = instance.cri
    for pod in node.pods.values():
        pod.remove(force=True)
    assert cri.pods.list() == []
    report = cri.images.prune(dry_run=True)
    pause = next(i for i in report.items if i.id == node.image_ids["pause"])
    if instance.version == "2.1":  # no setting in the status; 2.1 pins its sandbox image
        assert (pause.selected, pause.reason) == (False, PruneReason.PINNED)
    else:  # 1.6 (which pins nothing) and 1.7: the status config names it
        assert (pause.selected, pause.reason) == (False, PruneReason.SANDBOX_IMAGE)
    pinned = cri.images.get(node.image_ids["pause"]).pinned
    assert pinned is (instance.version != "1.6")
    cri.images.prune()
    assert cri.images.exists(node.image_ids["pause"])


# --- the command line ---------------------------------------------------------------------------


def cli(instance: Instance, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """test_cli's runner on this file's own containerd."""
    return test_cli.cli(None, "-r", instance.containerd.endpoint, *args, code=code)


def test_cli_prune_draws_a_bar_when_stderr_is_a_terminal(instance: Instance, node: Node) -> None:
    from .conftest import run_with_stderr_on_a_terminal

    argv = [sys.executable, "-m", "cri_client", "-r", instance.containerd.endpoint]
    env = {"CRI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    label = f"suite={node.labels['suite']}"
    done, drawn = run_with_stderr_on_a_terminal(
        [*argv, "rm", "--exited-before", "0s", "-l", label], env
    )
    exited = [node.containers[n].id for n in ("by-digest", "by-id", "shared-1", "shared-2")]
    assert done.returncode == 0 and sorted(done.stdout.split()) == sorted(exited)
    assert b"Removing containers" in drawn and b"4/4" in drawn and b"Traceback" not in drawn
    quiet = cli(instance, "rm", "--exited-before", "0s", "-l", label)  # not a terminal: no bar
    assert (quiet.stdout, quiet.stderr) == ("", "")


def test_cli_prunes_with_reasons_and_crictl_output(instance: Instance, node: Node) -> None:
    label = f"suite={node.labels['suite']}"
    ctrs, pods = node.containers, node.pods
    plan = cli(instance, "rmi", "--prune", "--dry-run", "--keep", KEEP)
    rows = {line.split()[1]: line.split()[2:4] for line in plan.stdout.splitlines()[1:]}
    assert rows[instance.image("unused")] == ["remove", "unused"]
    assert rows[instance.image("keep")] == ["keep", "keep_pattern"]
    assert rows[instance.image("by-id")] == ["keep", "in_use"]
    assert plan.stderr == ""
    document = json.loads(cli(instance, "rmi", "--prune", "--dry-run", "-o", "json").stdout)
    assert document["dry_run"] is True and document["fs_before"] is None
    assert {i["name"] for i in document["items"] if i["selected"]} == {
        instance.image("unused"),
        instance.image("keep"),
    }

    young = cli(instance, "rm", "--exited-before", "1h", "-l", label, "--dry-run", "-o", "json")
    reasons = {i["id"]: i["reason"] for i in json.loads(young.stdout)["items"]}
    assert reasons[ctrs["by-id"].id] == "too_young" and reasons[ctrs["server"].id] == "running"
    removed = cli(instance, "rm", "--exited-before", "0s", "-l", label, "-l", "app=batch")
    assert sorted(removed.stdout.splitlines()) == sorted(
        ctrs[n].id for n in ("by-digest", "by-id", "shared-1")
    )
    assert removed.stderr == ""

    stopped = cli(instance, "rmp", "--not-ready", "-l", label)
    assert (stopped.stdout, stopped.stderr) == (f"Removed sandbox {pods['old'].id}\n", "")
    idle = cli(instance, "rmp", "--no-running", "-l", label)
    assert (
        idle.stdout == f"Stopped sandbox {pods['batch'].id}\nRemoved sandbox {pods['batch'].id}\n"
    )
    assert idle.stderr == ""

    images = cli(instance, "rmi", "--prune", "--keep", KEEP)
    assert sorted(images.stdout.splitlines()) == sorted(
        f"Deleted: {instance.image(v)}" for v in ("by-digest", "by-id", "shared", "unused")
    )
    assert images.stderr == ""
    nothing = cli(instance, "rmi", "--prune", "--keep", KEEP)
    assert (nothing.stdout, nothing.stderr) == ("", "No images to remove\n")
    assert_never_removed(instance, node)

    bad = cli(instance, "rm", "--exited-before", "soon", code=1)
    assert (
        bad.stderr
        == "cri-client: --exited-before: invalid duration 'soon' (use e.g. 10s, 1m30s, 500ms)\n"
    )
    assert cli(instance, "rmp", "--dry-run", code=1).stderr.startswith("cri-client: --dry-run")


def operations_doc_scripts() -> dict[str, str]:
    """docs/operations.md's opening scripts, by their bold title: Inventory, Cleanup,
    Health check and recreate."""
    text = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    intro = text.split("\n## ", 1)[0]
    found = re.findall(r"\*\*([^*]+)\*\*:(?:(?!```).)*?```python\n(.*?)```", intro, flags=re.S)
    return dict(found)


def test_the_operations_doc_scripts_run_as_written(
    instance: Instance,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scripts = operations_doc_scripts()
    assert list(scripts) == ["Inventory", "Cleanup", "Health check and recreate"]
    monkeypatch.setenv("CONTAINER_RUNTIME_ENDPOINT", instance.containerd.endpoint)
    cri = instance.cri
    busybox = instance.containerd.busybox_image
    pod = cri.pods.run(f"docs-{unique}", labels={"app": "web"})
    web = cri.containers.create(
        pod, "web", busybox, command=["sleep", "3600"], labels={"app": "web"}, pull=True
    )
    web.start()
    done = cri.containers.create(pod, "done", busybox, command=["sh", "-c", "exit 4"])
    done.start()
    done.wait()
    unused = cri.images.pull(instance.image("unused")).id

    exec(scripts["Inventory"], {})  # the documented script, as written
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[done.id]["exit_code"] == 4 and rows[done.id]["pod_name"] == f"docs-{unique}"
    assert rows[web.id]["state"] == "running" and rows[web.id]["pod_namespace"] == "default"

    exec(scripts["Cleanup"], {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].endswith("0 failed"), lines
    assert web.reload().state.value == "running"  # running: never removed
    assert done.reload().exit_code == 4  # exited less than an hour ago: kept
    assert cri.images.get(busybox) and cri.images.get(instance.containerd.pause_image)
    assert cri.images.exists(unused)  # unused, but built today: younger than min_age

    exec(scripts["Health check and recreate"], {})
    assert capsys.readouterr().out == "recreated web as attempt 1\n"
    (new,) = cri.containers.list(pod=pod, name="^web$")
    assert new.id != web.id and new.attempt == 1 and new.labels["app"] == "web"
    pod.remove(force=True, grace_period=0)
