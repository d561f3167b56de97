"""The prune decisions (``cri_client._core.prune``), one reason at a time, and what the
clients do with them where only a fake runtime can show it: a removal that fails, the
arguments refused before any RPC, CRI-O's bare-hex image ids.

Real containerd's answers (1.6, 1.7, 2.1) are checked in tests/integration/test_prune.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest

from cri_client import CRIClient, PruneReason
from cri_client._core import prune as plans
from cri_client._core.messages import rfc3339
from cri_client._core.runtimes import (
    image_created_from_info,
    sandbox_image_from_config,
    sandbox_image_from_pod_info,
)
from cri_client._proto import api_pb2 as pb
from cri_client.types import FilesystemUsage, ImageFsInfo, PruneItem

from .fake_runtime import FakeRuntime, abort_with

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
HEX = "ecc8fb5716b9e2479136ce99b6e957f9458667359002beddaf36563074561550"
OTHER_HEX = "ba5ce7324eee8d55cf5cc659c77cbd2da69aa36f3f59a97ae2376aadc990dedb"
DIGEST = "sha256:71e751d9423550c99d06da0dabbb94e54fc3aca087a6b7d67df52e66f1650bb5"


def nanos(moment: datetime) -> int:
    return int(moment.timestamp() * 1e9)


def container(
    name: str,
    state: int,
    *,
    image: str = "",
    image_ref: str = "",
    pod: str = "pod1",
    created: datetime = NOW - timedelta(days=1),
) -> pb.Container:
    return pb.Container(
        id=f"{name}-id",
        pod_sandbox_id=pod,
        metadata=pb.ContainerMetadata(name=name),
        image=pb.ImageSpec(image=image),
        image_ref=image_ref,
        state=state,  # type: ignore[arg-type]
        created_at=nanos(created),
    )


def image(
    hex_id: str = HEX,
    *,
    tags: tuple[str, ...] = ("docker.io/library/busybox:1.36",),
    digests: tuple[str, ...] = (f"docker.io/library/busybox@{DIGEST}",),
    pinned: bool = False,
    size: int = 1000,
    prefix: str = "sha256:",
) -> pb.Image:
    return pb.Image(
        id=prefix + hex_id, repo_tags=tags, repo_digests=digests, pinned=pinned, size=size
    )


def plan_one(
    img: pb.Image, containers: list[pb.Container] | None = None, **options: Any
) -> PruneItem:
    facts = plans.ImageFacts(containers or [], options.pop("sandbox_images", {}), NOW, **options)
    (item,) = plans.plan_images([img], facts)
    return item


# --- containers -----------------------------------------------------------------------------


def test_containers_exited_are_selected_and_running_created_unknown_kept() -> None:
    listed = [
        container("web", pb.CONTAINER_RUNNING),
        container("init", pb.CONTAINER_CREATED),
        container("lost", pb.CONTAINER_UNKNOWN),
        container("job", pb.CONTAINER_EXITED),
    ]
    items = plans.plan_containers(listed, exited_before=None, finished={}, now=NOW)
    assert [(i.name, i.selected, i.reason) for i in items] == [
        ("web", False, PruneReason.RUNNING),
        ("init", False, PruneReason.NOT_STARTED),
        ("lost", False, PruneReason.STATE_UNKNOWN),
        ("job", True, PruneReason.EXITED),
    ]
    assert all(i.kind == "container" and not i.removed and i.size is None for i in items)


def test_exited_before_compares_the_finish_time() -> None:
    listed = [
        container("old", pb.CONTAINER_EXITED),
        container("recent", pb.CONTAINER_EXITED),
        container("untold", pb.CONTAINER_EXITED),
    ]
    finished = {
        "old-id": NOW - timedelta(hours=2),
        "recent-id": NOW - timedelta(minutes=5, seconds=3),
        "untold-id": None,
    }
    items = plans.plan_containers(listed, exited_before=3600, finished=finished, now=NOW)
    assert [(i.name, i.selected, i.reason, i.detail) for i in items] == [
        ("old", True, PruneReason.EXITED, "exited 2h0m ago"),
        ("recent", False, PruneReason.TOO_YOUNG, "exited 5m3s ago, less than 1h0m"),
        ("untold", False, PruneReason.TOO_YOUNG, "the runtime does not say when it exited"),
    ]


# --- pods -------------------------------------------------------------------------------------


def pod(name: str, ready: bool) -> pb.PodSandbox:
    return pb.PodSandbox(
        id=f"{name}-pod",
        metadata=pb.PodSandboxMetadata(name=name, namespace="ns"),
        state=pb.SANDBOX_READY if ready else pb.SANDBOX_NOTREADY,
    )


@pytest.mark.parametrize(
    ("not_ready", "no_running", "expected"),
    [
        (
            True,
            False,
            [
                ("ns/busy", False, PruneReason.RUNNING),
                ("ns/idle", False, PruneReason.READY),
                ("ns/stopped", True, PruneReason.NOT_READY),
            ],
        ),
        (
            True,
            True,
            [
                ("ns/busy", False, PruneReason.RUNNING),
                ("ns/idle", True, PruneReason.NO_RUNNING_CONTAINERS),
                ("ns/stopped", True, PruneReason.NOT_READY),
            ],
        ),
        (
            False,
            True,
            [
                ("ns/busy", False, PruneReason.RUNNING),
                ("ns/idle", True, PruneReason.NO_RUNNING_CONTAINERS),
                ("ns/stopped", False, PruneReason.READY),
            ],
        ),
    ],
)
def test_pods_with_a_running_container_always_stay(
    not_ready: bool, no_running: bool, expected: list[tuple[str, bool, PruneReason]]
) -> None:
    pods = [pod("busy", True), pod("idle", True), pod("stopped", False)]
    containers = [
        container("web", pb.CONTAINER_RUNNING, pod="busy-pod"),
        container("job", pb.CONTAINER_EXITED, pod="idle-pod"),
        container("init", pb.CONTAINER_CREATED, pod="stopped-pod"),
    ]
    items = plans.plan_pods(pods, containers, not_ready=not_ready, no_running_containers=no_running)
    assert [(i.name, i.selected, i.reason) for i in items] == expected
    assert items[0].detail == "container web (web-id, running) runs in it"


def test_a_pod_with_a_container_of_unknown_state_is_kept() -> None:
    """containerd's RemovePodSandbox force-stops running and unknown containers: one of
    unknown state may be running."""
    pods = [pod("lost", True), pod("stale", False)]
    containers = [
        container("a", pb.CONTAINER_UNKNOWN, pod="lost-pod"),
        container("b", pb.CONTAINER_EXITED, pod="lost-pod"),
        container("c", pb.CONTAINER_UNKNOWN, pod="stale-pod"),
    ]
    items = plans.plan_pods(pods, containers, not_ready=True, no_running_containers=True)
    assert [(i.name, i.selected, i.reason, i.detail) for i in items] == [
        (
            "ns/lost",
            False,
            PruneReason.STATE_UNKNOWN,
            "container a (a-id, unknown) may run in it: the runtime does not know its state",
        ),
        (
            "ns/stale",
            False,
            PruneReason.STATE_UNKNOWN,
            "container c (c-id, unknown) may run in it: the runtime does not know its state",
        ),
    ]


def test_a_ready_pod_with_a_container_never_started_is_kept() -> None:
    """kubelet creates a container, then starts it: between the two the pod runs
    nothing, yet is in use (the container plan keeps such a container too)."""
    pods = [pod("starting", True), pod("stopped", False)]
    containers = [
        container("init", pb.CONTAINER_CREATED, pod="starting-pod"),
        container("late", pb.CONTAINER_CREATED, pod="stopped-pod"),
    ]
    items = plans.plan_pods(pods, containers, not_ready=True, no_running_containers=True)
    assert [(i.name, i.selected, i.reason, i.detail) for i in items] == [
        (
            "ns/starting",
            False,
            PruneReason.NOT_STARTED,
            "container init (init-id, created) was created and never started: it may be "
            "about to start",
        ),
        ("ns/stopped", True, PruneReason.NOT_READY, "not ready"),  # its sandbox is gone
    ]


@pytest.mark.parametrize(
    ("state", "reason", "words"),
    [
        (pb.CONTAINER_RUNNING, PruneReason.RUNNING, "running) runs in it"),
        (pb.CONTAINER_UNKNOWN, PruneReason.STATE_UNKNOWN, "unknown) may run in it"),
        (pb.CONTAINER_CREATED, PruneReason.NOT_STARTED, "created) was created and never"),
    ],
)
def test_a_ready_pod_whose_container_appeared_since_the_plan_is_kept(
    state: int, reason: PruneReason, words: str
) -> None:
    (planned,) = plans.plan_pods(
        [pod("idle", True)], [], not_ready=True, no_running_containers=True
    )
    kept = plans.recheck_pod(planned, [container("late", state, pod="idle-pod")])
    assert kept is not None
    assert (kept.name, kept.selected, kept.reason) == ("ns/idle", False, reason)
    assert kept.detail.startswith(f"container late (late-id, {words}")
    assert kept.detail.endswith(" (listed again before removal)")
    assert plans.recheck_pod(planned, [container("done", pb.CONTAINER_EXITED)]) is None


# --- images: what is never removed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "reference", "image_ref"),
    [
        (pb.CONTAINER_CREATED, "docker.io/library/busybox:1.36", ""),  # tag, as listed
        (pb.CONTAINER_EXITED, "busybox:1.36", ""),  # tag, short docker form
        (pb.CONTAINER_EXITED, f"busybox@{DIGEST}", ""),  # digest, short form
        (pb.CONTAINER_CREATED, "", f"docker.io/library/busybox@{DIGEST}"),  # a status's ref
        (pb.CONTAINER_EXITED, "", f"sha256:{HEX}"),  # containerd's list: the id
        (pb.CONTAINER_RUNNING, HEX[:12], ""),  # an id prefix, as docker shows it
        (pb.CONTAINER_UNKNOWN, HEX, ""),  # CRI-O's bare id
    ],
)
def test_an_image_a_container_references_is_in_use_in_any_state(
    state: int, reference: str, image_ref: str
) -> None:
    ctr = container("job", state, image=reference, image_ref=image_ref)
    item = plan_one(image(), [ctr])
    assert (item.selected, item.reason) == (False, PruneReason.IN_USE)
    name = pb.ContainerState.Name(state).removeprefix("CONTAINER_").lower()  # type: ignore[arg-type]
    assert item.detail == f"used by container job (job-id, {name})"


def test_a_short_id_prefix_or_another_tag_is_no_use() -> None:
    users = [
        container("a", pb.CONTAINER_EXITED, image=HEX[:8]),
        container("b", pb.CONTAINER_EXITED, image="busybox:1.35"),
        container("c", pb.CONTAINER_EXITED, image_ref=f"sha256:{OTHER_HEX}"),
    ]
    item = plan_one(image(), users)
    assert (item.selected, item.reason) == (True, PruneReason.UNUSED)


@pytest.mark.parametrize("reference", [HEX, f"sha256:{HEX}", HEX[:12]])
def test_crio_bare_hex_ids_match(reference: str) -> None:
    crio_image = image(prefix="")
    item = plan_one(crio_image, [container("x", pb.CONTAINER_EXITED, image_ref=reference)])
    assert item.reason is PruneReason.IN_USE and item.id == HEX


def test_the_sandbox_image_is_kept_before_pinned_and_keep() -> None:
    pause = image(OTHER_HEX, tags=("registry.k8s.io/pause:3.10",), digests=(), pinned=True)
    item = plan_one(pause, sandbox_images={"registry.k8s.io/pause:3.10": "configured"}, keep=("*",))
    assert (item.selected, item.reason, item.detail) == (
        False,
        PruneReason.SANDBOX_IMAGE,
        "configured",
    )


def test_a_sandbox_image_named_with_tag_and_digest_is_kept() -> None:
    pause = image(OTHER_HEX, tags=(), digests=(f"registry.k8s.io/pause@{DIGEST}",))
    configured = {f"registry.k8s.io/pause:3.9@{DIGEST}": "configured"}
    item = plan_one(pause, sandbox_images=configured)
    assert (item.selected, item.reason) == (False, PruneReason.SANDBOX_IMAGE)


def test_pinned_images_are_kept() -> None:
    item = plan_one(image(pinned=True), keep=("*",))
    assert (item.selected, item.reason, item.detail) == (
        False,
        PruneReason.PINNED,
        "pinned by the runtime",
    )


@pytest.mark.parametrize(
    "pattern",
    ["busybox:*", "docker.io/library/busybox:1.*", "*/busybox@sha256:*", f"sha256:{HEX[:4]}*"],
)
def test_keep_patterns_match_tags_digests_short_forms_and_ids(pattern: str) -> None:
    item = plan_one(image(), keep=("nomatch", pattern))
    assert (item.selected, item.reason) == (False, PruneReason.KEEP_PATTERN)
    assert item.detail == f"matches keep pattern {pattern!r}"


def test_keep_patterns_are_case_sensitive_and_whole() -> None:
    item = plan_one(image(), keep=("BusyBox:*", "busybox"))
    assert item.reason is PruneReason.UNUSED


# --- images: age -------------------------------------------------------------------------------


def test_min_age_counts_from_creation() -> None:
    young = plan_one(image(), min_age=3600, created={f"sha256:{HEX}": NOW - timedelta(minutes=2)})
    old = plan_one(image(), min_age=3600, created={f"sha256:{HEX}": NOW - timedelta(days=2)})
    assert (young.selected, young.reason, young.detail) == (
        False,
        PruneReason.TOO_YOUNG,
        "created 2m0s ago, less than min_age 1h0m",
    )
    assert (old.selected, old.reason) == (True, PruneReason.UNUSED)


def test_min_age_counts_from_the_last_use_when_known() -> None:
    created = {f"sha256:{HEX}": NOW - timedelta(days=30)}
    used_at = {f"sha256:{HEX}": NOW - timedelta(seconds=30)}
    item = plan_one(image(), min_age=600, created=created, used_at=used_at)
    assert (item.reason, item.detail) == (
        PruneReason.TOO_YOUNG,
        "last used 30s ago, less than min_age 10m0s",
    )


def test_an_image_of_untold_age_is_kept_when_min_age_is_asked() -> None:
    item = plan_one(image(), min_age=0, created={f"sha256:{HEX}": None})
    assert (item.reason, item.detail) == (
        PruneReason.TOO_YOUNG,
        "the runtime does not tell the image's age",
    )
    assert plan_one(image(), created={}).reason is PruneReason.UNUSED  # no min_age: no question


def test_last_uses_takes_the_newest_creation_or_finish() -> None:
    earlier = [
        container("a", pb.CONTAINER_EXITED, image="busybox:1.36", created=NOW - timedelta(days=3)),
        container(
            "b", pb.CONTAINER_EXITED, image_ref=f"sha256:{HEX}", created=NOW - timedelta(days=2)
        ),
        container("c", pb.CONTAINER_EXITED, image="other:1"),
    ]
    finished = {"a-id": NOW - timedelta(hours=1)}
    assert plans.last_uses([image()], earlier, finished) == {
        f"sha256:{HEX}": NOW - timedelta(hours=1)
    }


# --- images: the second look, outcomes, the report --------------------------------------------


def test_recheck_keeps_an_image_a_new_container_uses() -> None:
    img = image()
    (planned,) = plans.plan_images([img], plans.ImageFacts([], {}, NOW))
    (checked,) = plans.recheck_images(
        [planned], [img], [container("new", pb.CONTAINER_CREATED, image="busybox:1.36")]
    )
    assert (checked.selected, checked.reason, checked.detail) == (
        False,
        PruneReason.IN_USE,
        "used by container new (new-id, created) (listed again before removal)",
    )
    assert plans.recheck_images([planned], [img], []) == [planned]


def test_outcomes_and_the_report() -> None:
    used = image(OTHER_HEX, tags=("a:1",), digests=(), size=50)
    users = [container("x", pb.CONTAINER_EXITED, image="a:1")]
    items = plans.plan_images([image(size=1000), used], plans.ImageFacts(users, {}, NOW))
    assert [i.name for i in items] == ["a:1", "docker.io/library/busybox:1.36"]  # by name
    items.reverse()
    removed = plans.outcome(items[0], None)
    failed = plans.outcome(items[0], RuntimeError("image is in use"))
    assert (removed.removed, removed.reason) == (True, PruneReason.UNUSED)
    assert (failed.removed, failed.selected, failed.reason, failed.detail) == (
        False,
        True,
        PruneReason.FAILED,
        "image is in use",
    )
    fs = ImageFsInfo((FilesystemUsage("/var/lib", 10, 2, NOW),), ())
    report = plans.report([failed, items[1]], dry_run=False, fs_before=fs, fs_after=fs)
    assert report.bytes_expected == 1000  # the selected images only
    assert (report.failed, report.kept, report.removed, report.ok) == (
        (failed,),
        (items[1],),
        (),
        False,
    )
    document = json.loads(json.dumps(report.to_dict()))
    assert document["items"][0] == {
        "kind": "image",
        "id": f"sha256:{HEX}",
        "name": "docker.io/library/busybox:1.36",
        "selected": True,
        "removed": False,
        "reason": "failed",
        "detail": "image is in use",
        "size": 1000,
    }
    assert document["fs_before"]["image_filesystems"] == [
        {"mountpoint": "/var/lib", "used_bytes": 10, "inodes_used": 2, "timestamp": NOW.isoformat()}
    ]
    assert plans.report([], dry_run=True).to_dict()["fs_after"] is None


# --- references, arguments, runtime answers ----------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "canonical"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("me/app", "docker.io/me/app:latest"),
        (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
        ("localhost/app", "localhost/app:latest"),
        ("127.0.0.1:5000/busybox:1.35", "127.0.0.1:5000/busybox:1.35"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        (f"sha256:{HEX}", f"sha256:{HEX}"),
        # a tag beside a digest: runtimes list the digest alone (name@sha256:...)
        (f"registry.k8s.io/pause:3.9@{DIGEST}", f"registry.k8s.io/pause@{DIGEST}"),
        (f"busybox:1.36@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
        (f"127.0.0.1:5000/a/b:1@{DIGEST}", f"127.0.0.1:5000/a/b@{DIGEST}"),
        # Docker Hub as docker's reference rules name it
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox:1.36", "docker.io/library/busybox:1.36"),
        ("index.docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/me/app:1", "docker.io/me/app:1"),
        ("docker.io/library/busybox", "docker.io/library/busybox:latest"),
        ("Me/app", "Me/app:latest"),  # docker takes an upper-case first part for a registry
    ],
)
def test_canonical_reference(reference: str, canonical: str) -> None:
    assert plans.canonical_reference(reference) == canonical


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: plans.check_duration(-1, "min_age"), ValueError, "min_age must be a non-negative"),
        (
            lambda: plans.check_duration(timedelta(seconds=-1), "exited_before"),
            ValueError,
            "exited_before must not be negative",
        ),
        (lambda: plans.check_duration(True, "min_age"), TypeError, "min_age must be a timedelta"),
        (lambda: plans.check_duration("1h", "min_age"), TypeError, "min_age must be a timedelta"),
        (lambda: plans.check_keep(["ok", ""]), ValueError, "keep patterns must be non-empty"),
        (lambda: plans.check_keep(3), TypeError, "keep must be a pattern"),
        (lambda: plans.check_pod_criteria(False, False), ValueError, "nothing to prune"),
        (lambda: plans.check_pod_criteria(1, False), TypeError, "not_ready must be True or False"),
    ],
)
def test_arguments_are_refused_clearly(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_arguments_accepted() -> None:
    assert plans.check_duration(timedelta(minutes=90), "x") == 5400.0
    assert plans.check_duration(0, "x") == 0.0
    assert plans.check_duration(None, "x") is None
    assert plans.check_keep("*/pause:*") == ("*/pause:*",)
    assert plans.check_keep(p for p in ["a", "b"]) == ("a", "b")


def test_runtime_answers_read_for_a_prune() -> None:
    # containerd 1.6 and 1.7: Status(verbose) config; 2.1 has no such key
    assert sandbox_image_from_config({"sandboxImage": "registry.k8s.io/pause:3.9"}) == (
        "registry.k8s.io/pause:3.9"
    )
    assert sandbox_image_from_config({"containerd": {}}) is None
    assert sandbox_image_from_config(None) is None
    pod_info = {"info": json.dumps({"image": "registry.k8s.io/pause:3.10", "pid": 1})}
    assert sandbox_image_from_pod_info(pod_info) == "registry.k8s.io/pause:3.10"
    assert sandbox_image_from_pod_info({}) is None
    image_info = {"info": json.dumps({"imageSpec": {"created": "2026-12-04T21:25:06.042164712Z"}})}
    assert image_created_from_info(image_info) == datetime(
        2026, 12, 4, 21, 25, 6, 42164, tzinfo=timezone.utc
    )
    assert image_created_from_info({"info": json.dumps({"imageSpec": {}})}) is None
    assert rfc3339("2026-01-02T03:04:05+02:00") == datetime(
        2026, 1, 2, 1, 4, 5, tzinfo=timezone.utc
    )
    assert rfc3339("yesterday") is None and rfc3339(5) is None


# --- through a client, on a fake runtime ---------------------------------------------------------


def fake_node(remove_image: Any) -> dict[str, Any]:
    """Two unused images (CRI-O's bare ids), no container, no pod."""
    images = [
        image(HEX, tags=("docker.io/library/a:1",), digests=(), prefix=""),
        image(OTHER_HEX, tags=("docker.io/library/b:1",), digests=(), prefix=""),
    ]
    return {
        "ListImages": lambda request, context: pb.ListImagesResponse(images=images),
        "ListContainers": lambda request, context: pb.ListContainersResponse(),
        "ListPodSandbox": lambda request, context: pb.ListPodSandboxResponse(),
        "Status": lambda request, context: pb.StatusResponse(),
        "ImageFsInfo": lambda request, context: pb.ImageFsInfoResponse(),
        "RemoveImage": remove_image,
    }


def test_a_removal_that_fails_is_reported_on_its_item(sock: str) -> None:
    def remove_image(request: pb.RemoveImageRequest, context: grpc.ServicerContext) -> Any:
        if request.image.image == HEX:
            context.abort(grpc.StatusCode.UNKNOWN, "image is being used by a container")
        return pb.RemoveImageResponse()

    with FakeRuntime(sock, fake_node(remove_image)) as fake, CRIClient(fake.endpoint) as cri:
        report = cri.images.prune(parallel=2)
    assert [(i.name, i.removed, i.reason) for i in report.items] == [
        ("docker.io/library/a:1", False, PruneReason.FAILED),
        ("docker.io/library/b:1", True, PruneReason.UNUSED),
    ]
    assert "image is being used by a container" in report.items[0].detail
    assert fake.calls.count("RemoveImage") == 2


def test_progress_hears_of_each_removal_as_it_ends_failures_included(sock: str) -> None:
    def remove_image(request: pb.RemoveImageRequest, context: grpc.ServicerContext) -> Any:
        if request.image.image == HEX:
            context.abort(grpc.StatusCode.UNKNOWN, "image is being used by a container")
        return pb.RemoveImageResponse()

    heard: list[tuple[str, bool, int, int]] = []
    with FakeRuntime(sock, fake_node(remove_image)) as fake, CRIClient(fake.endpoint) as cri:
        report = cri.images.prune(
            parallel=1,
            progress=lambda item, done, total: heard.append((item.name, item.removed, done, total)),
        )
    assert heard == [
        ("docker.io/library/a:1", False, 1, 2),
        ("docker.io/library/b:1", True, 2, 2),
    ]
    assert [i.reason for i in report.items] == [PruneReason.FAILED, PruneReason.UNUSED]


def test_a_failing_progress_callback_is_raised_after_the_removals(sock: str) -> None:
    def broken(item: PruneItem, done: int, total: int) -> None:
        raise RuntimeError(f"callback broke at {done}")

    handlers = fake_node(lambda request, context: pb.RemoveImageResponse())
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(RuntimeError, match="callback broke at 1"):
            cri.images.prune(parallel=1, progress=broken)
    assert fake.calls.count("RemoveImage") == 2


def test_bad_arguments_make_no_rpc(sock: str) -> None:
    handlers = fake_node(abort_with(grpc.StatusCode.INTERNAL, "must not be called"))
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(ValueError, match="min_age"):
            cri.images.prune(min_age=-5)
        with pytest.raises(ValueError, match="parallel"):
            cri.prune(parallel=0)
        with pytest.raises(ValueError, match="nothing to prune"):
            cri.pods.prune(not_ready=False)
        with pytest.raises(TypeError, match="exited_before"):
            cri.containers.prune(exited_before="1h")
        with pytest.raises(TypeError, match="progress must be callable, not str"):
            cri.prune(progress="bar")  # type: ignore[arg-type]
    assert fake.calls == []


def test_a_dry_run_removes_nothing_and_reads_no_usage(sock: str) -> None:
    handlers = fake_node(abort_with(grpc.StatusCode.INTERNAL, "must not be called"))
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        report = cri.images.prune(dry_run=True)
    assert [(i.selected, i.removed) for i in report.items] == [(True, False), (True, False)]
    assert report.bytes_expected == 2000 and report.fs_before is None
    assert "RemoveImage" not in fake.calls and "ImageFsInfo" not in fake.calls


def test_the_asyncio_client_prunes_the_same(sock: str) -> None:
    from cri_client.aio import AsyncCRIClient

    def remove_image(request: pb.RemoveImageRequest, context: grpc.ServicerContext) -> Any:
        if request.image.image == OTHER_HEX:
            context.abort(grpc.StatusCode.NOT_FOUND, "image gone")
        return pb.RemoveImageResponse()

    async def scenario(endpoint: str) -> list[tuple[bool, PruneReason]]:
        async with AsyncCRIClient(endpoint) as cri:
            report = await cri.prune(parallel=3)
        return [(i.removed, i.reason) for i in report.items]

    with FakeRuntime(sock, fake_node(remove_image)) as fake:
        outcomes = asyncio.run(scenario(fake.endpoint))
    assert outcomes == [(True, PruneReason.UNUSED), (False, PruneReason.FAILED)]
    assert fake.calls.count("ImageFsInfo") == 2


def test_min_age_counts_from_the_finish_of_a_container_the_same_prune_removes(
    sock: str,
) -> None:
    """``cri.prune(min_age=...)`` without ``exited_before``: a container made a month
    ago that exited a moment ago used its image until then."""
    now = datetime.now(timezone.utc)
    month_ago = now - timedelta(days=30)
    job = container("job", pb.CONTAINER_EXITED, image="docker.io/library/a:1", created=month_ago)
    created = json.dumps({"imageSpec": {"created": month_ago.isoformat()}})
    handlers = fake_node(abort_with(grpc.StatusCode.INTERNAL, "a dry run removes nothing"))
    handlers |= {
        "ListImages": lambda request, context: pb.ListImagesResponse(
            images=[image(HEX, tags=("docker.io/library/a:1",), digests=())]
        ),
        "ListContainers": lambda request, context: pb.ListContainersResponse(containers=[job]),
        "ContainerStatus": lambda request, context: pb.ContainerStatusResponse(
            status=pb.ContainerStatus(id=job.id, finished_at=nanos(now - timedelta(seconds=10)))
        ),
        "ImageStatus": lambda request, context: pb.ImageStatusResponse(info={"info": created}),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        report = cri.prune(min_age=3600, dry_run=True)
    assert [(i.kind, i.selected, i.reason) for i in report.items] == [
        ("container", True, PruneReason.EXITED),
        ("image", False, PruneReason.TOO_YOUNG),
    ]
    assert report.items[1].detail.startswith("last used ")
    assert fake.calls.count("ContainerStatus") == 1


def test_details_name_the_same_container_whatever_the_listing_order() -> None:
    users = [
        container("zeta", pb.CONTAINER_EXITED, image="busybox:1.36"),
        container("alpha", pb.CONTAINER_CREATED, image="busybox:1.36"),
    ]
    for listed in (users, users[::-1]):
        item = plan_one(image(), listed)
        assert item.detail == "used by container alpha (alpha-id, created) and 1 more"
