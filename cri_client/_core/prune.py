"""What a prune removes and why: the plans of ``cri.containers.prune()``,
``cri.pods.prune()``, ``cri.images.prune()`` and ``cri.prune()``, made from listings.

I/O-free: ``cri_client/_async/prune.py`` lists, asks the runtime what only it knows
(the sandbox image, finish and creation times), calls these functions, removes what
they select and records each outcome. Every candidate gets a
:class:`~cri_client.types.PruneItem` with a :class:`~cri_client.types.PruneReason`,
whether it is removed or kept. What is never removed: a running container, a pod with
one or with a container of unknown state, a ready pod with a container created and
never started, the runtime's sandbox image and any image a pod's sandbox runs, a pinned image,
and an image a container of any state references by id, tag or digest.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cri_client._core.auth import DOCKER_HUB
from cri_client._core.messages import timestamp
from cri_client._core.runtimes import IMAGE_ID_LIKE, image_id_hex
from cri_client._core.validation import check_seconds
from cri_client._proto import api_pb2 as pb
from cri_client.types import ContainerState, ImageFsInfo, PruneItem, PruneReason, PruneReport

SELECTING = frozenset(
    {
        PruneReason.UNUSED,
        PruneReason.EXITED,
        PruneReason.NOT_READY,
        PruneReason.NO_RUNNING_CONTAINERS,
    }
)
"""The reasons that select an item for removal; every other reason keeps it."""

MIN_ID_PREFIX = 12
"""Hex digits from which a container's image reference that looks like an id prefix is
taken for one (``docker ps`` shows 12)."""

_DOCKER_HUB = DOCKER_HUB
_DOCKER_LIBRARY = "docker.io/library/"
_DOCKER_HUB_ALIASES = frozenset({_DOCKER_HUB, "index.docker.io"})

# --- arguments -------------------------------------------------------------------------------


def check_duration(value: object, argument: str) -> float | None:
    """``None``, a :class:`~datetime.timedelta` or a number of seconds, as seconds;
    negative, infinite or anything else is refused (before any RPC)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds < 0:
            raise ValueError(f"{argument} must not be negative, not {value!r}")
        return seconds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{argument} must be a timedelta or a number of seconds, not {value!r}")
    return check_seconds(value, argument)


def check_keep(keep: object) -> tuple[str, ...]:
    """``keep`` patterns: one string or an iterable of non-empty strings."""
    patterns = (keep,) if isinstance(keep, str) else keep
    if not isinstance(patterns, Iterable):
        raise TypeError(f"keep must be a pattern or patterns (strings), not {keep!r}")
    checked = tuple(patterns)
    for pattern in checked:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"keep patterns must be non-empty strings, not {pattern!r}")
    return checked


def check_flag(value: object, argument: str) -> bool:
    """A boolean argument: True or False, nothing that merely looks like one."""
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be True or False, not {value!r}")
    return value


def check_pod_criteria(not_ready: object, no_running_containers: object) -> None:
    """At least one of the two must select pods, else the prune could remove nothing."""
    if not (
        check_flag(not_ready, "not_ready")
        | check_flag(no_running_containers, "no_running_containers")
    ):
        raise ValueError("not_ready and no_running_containers are both False: nothing to prune")


# --- image references ---------------------------------------------------------------------


def canonical_reference(reference: str) -> str:
    """A reference in the form runtimes list it, by docker's normalisation rules:
    ``busybox`` and ``docker.io/busybox`` are ``docker.io/library/busybox:latest``,
    ``me/app:1`` and ``index.docker.io/me/app:1`` are ``docker.io/me/app:1``; a digest
    drops the tag beside it (``pause:3.9@sha256:...`` is listed as ``pause@sha256:...``);
    image ids are kept as they are."""
    if IMAGE_ID_LIKE.match(reference) and len(image_id_hex(reference)) == 64:
        return reference
    name, at, digest = reference.partition("@")
    domain, slash, path = name.partition("/")
    is_registry = "." in domain or ":" in domain or domain == "localhost"
    if not slash or not (is_registry or domain != domain.lower()):
        domain, path = _DOCKER_HUB, name
    if domain in _DOCKER_HUB_ALIASES:
        domain = _DOCKER_HUB
        path = path if "/" in path else f"library/{path}"
    parent, _, last = path.rpartition("/")
    repository, colon, _ = last.partition(":")
    if at:
        last = repository
    elif not colon:
        last = f"{repository}:latest"
    return "/".join(part for part in (domain, parent, last) if part) + at + digest


def short_reference(reference: str) -> str:
    """The short docker form of a listed reference (``busybox:1.36`` for
    ``docker.io/library/busybox:1.36``), or the reference itself."""
    for prefix in (_DOCKER_LIBRARY, f"{_DOCKER_HUB}/"):
        if reference.startswith(prefix):
            return reference.removeprefix(prefix)
    return reference


def image_label(image: pb.Image) -> str:
    """How a report names an image: its first tag, else its first digest, else its id."""
    return next(iter([*image.repo_tags, *image.repo_digests]), image.id)


def container_image_references(ctr: pb.Container) -> set[str]:
    """Every way a container names its image: as asked (``image.image``, and
    ``user_specified_image`` where the runtime keeps it), ``image_ref`` (containerd's
    id in lists, a digest in a status) and ``image_id``."""
    given = (ctr.image.image, ctr.image.user_specified_image, ctr.image_ref, ctr.image_id)
    return {reference for reference in given if reference}


def _image_keys(image: pb.Image) -> set[str]:
    names = {canonical_reference(n) for n in (*image.repo_tags, *image.repo_digests)}
    return names | {image.id, image_id_hex(image.id)}


def image_users(
    images: Sequence[pb.Image], containers: Sequence[pb.Container]
) -> dict[str, list[pb.Container]]:
    """Image id -> the containers that reference it by id (or an id prefix of at least
    :data:`MIN_ID_PREFIX` digits), tag or digest, in any form a runtime lists; one
    pass over each (a node's hundreds of containers and images)."""
    by_key: dict[str, set[str]] = {}
    for image in images:
        for key in _image_keys(image):
            by_key.setdefault(key, set()).add(image.id)
    hex_ids = {image_id_hex(image.id): image.id for image in images}
    users: dict[str, list[pb.Container]] = {}
    for ctr in containers:
        found: set[str] = set()
        for reference in container_image_references(ctr):
            digits = image_id_hex(reference)
            for key in (reference, canonical_reference(reference), digits):
                found |= by_key.get(key, set())
            if IMAGE_ID_LIKE.match(reference) and MIN_ID_PREFIX <= len(digits) < 64:
                found |= {i for hex_id, i in hex_ids.items() if hex_id.startswith(digits)}
        for image_id in found:
            users.setdefault(image_id, []).append(ctr)
    return users


def names_image(reference: str, image: pb.Image) -> bool:
    """Whether a reference (a sandbox image setting) names this image."""
    return canonical_reference(reference) in _image_keys(image)


def matching_pattern(patterns: Sequence[str], image: pb.Image) -> str | None:
    """The first ``keep`` pattern that matches one of the image's tags or digests, as
    listed or in short docker form, or its id (:func:`fnmatch.fnmatchcase`: ``*``
    also matches ``/``; case matters)."""
    names = {image.id}
    for name in (*image.repo_tags, *image.repo_digests):
        names |= {name, short_reference(name)}
    return next((p for p in patterns if any(fnmatch.fnmatchcase(name, p) for name in names)), None)


# --- descriptions ----------------------------------------------------------------------------


def _state(ctr: pb.Container) -> str:
    return ContainerState.from_proto(ctr.state).value


def _describe_containers(containers: Sequence[pb.Container]) -> str:
    """``container web (0123456789ab, exited)``, ``and 2 more`` after the first (by
    name: runtimes list containers in no fixed order)."""
    first = min(containers, key=lambda ctr: (ctr.metadata.name, ctr.id))
    text = f"container {first.metadata.name} ({first.id[:12]}, {_state(first)})"
    more = len(containers) - 1
    return f"{text} and {more} more" if more else text


def _ago(seconds: float) -> str:
    """``3h2m``, ``5m10s``, ``42s``: a duration as Go prints it, rounded to seconds."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _item(
    kind: str, id: str, name: str, reason: PruneReason, detail: str, size: int | None = None
) -> PruneItem:
    return PruneItem(kind, id, name, reason in SELECTING, False, reason, detail, size)


# --- plans -------------------------------------------------------------------------------------


def plan_containers(
    containers: Sequence[pb.Container],
    *,
    exited_before: float | None,
    finished: Mapping[str, datetime | None],
    now: datetime,
) -> list[PruneItem]:
    """Exited containers are selected (with ``exited_before``, only those that
    finished at least that many seconds before ``now``; ``finished`` maps their ids to
    the runtime's finish time). Running, created and unknown ones are kept."""
    items = []
    for ctr in containers:
        name = ctr.metadata.name
        state = ContainerState.from_proto(ctr.state)
        if state is ContainerState.RUNNING:
            items.append(_item("container", ctr.id, name, PruneReason.RUNNING, "running"))
        elif state is ContainerState.CREATED:
            detail = "created, never started: it may be about to start"
            items.append(_item("container", ctr.id, name, PruneReason.NOT_STARTED, detail))
        elif state is not ContainerState.EXITED:
            detail = "the runtime does not know its state"
            items.append(_item("container", ctr.id, name, PruneReason.STATE_UNKNOWN, detail))
        elif exited_before is None:
            items.append(_item("container", ctr.id, name, PruneReason.EXITED, "exited"))
        else:
            items.append(_exited_item(ctr, finished.get(ctr.id), exited_before, now))
    return items


def _exited_item(
    ctr: pb.Container, finished_at: datetime | None, exited_before: float, now: datetime
) -> PruneItem:
    name = ctr.metadata.name
    if finished_at is None:
        detail = "the runtime does not say when it exited"
        return _item("container", ctr.id, name, PruneReason.TOO_YOUNG, detail)
    since = (now - finished_at).total_seconds()
    if since < exited_before:
        detail = f"exited {_ago(since)} ago, less than {_ago(exited_before)}"
        return _item("container", ctr.id, name, PruneReason.TOO_YOUNG, detail)
    return _item("container", ctr.id, name, PruneReason.EXITED, f"exited {_ago(since)} ago")


def plan_pods(
    pods: Sequence[pb.PodSandbox],
    containers: Sequence[pb.Container],
    *,
    not_ready: bool,
    no_running_containers: bool,
) -> list[PruneItem]:
    """Pods with no container that runs or may run: not-ready ones when ``not_ready``,
    ready ones when ``no_running_containers`` (they are stopped first). Kept: a pod
    with a running container or one of unknown state (the runtime's RemovePodSandbox
    would force-stop it), and a ready pod with a container created and never started
    (kubelet may be about to start it). ``containers`` must be every container of the
    node, whatever the pods were selected by."""
    by_pod: dict[str, list[pb.Container]] = {}
    for ctr in containers:
        by_pod.setdefault(ctr.pod_sandbox_id, []).append(ctr)
    items = []
    for pod in pods:
        name = f"{pod.metadata.namespace}/{pod.metadata.name}"
        ready = pod.state == pb.SANDBOX_READY
        kept = _pod_keeper(by_pod.get(pod.id, []), created_keeps=ready and no_running_containers)
        if kept is not None:
            items.append(_item("pod", pod.id, name, *kept))
        elif ready and no_running_containers:
            detail = "ready, no container running: stopped, then removed"
            items.append(_item("pod", pod.id, name, PruneReason.NO_RUNNING_CONTAINERS, detail))
        elif ready:
            detail = "ready (no_running_containers=True removes ready pods)"
            items.append(_item("pod", pod.id, name, PruneReason.READY, detail))
        elif not_ready:
            items.append(_item("pod", pod.id, name, PruneReason.NOT_READY, "not ready"))
        else:
            detail = "not ready, but not_ready=False"
            items.append(_item("pod", pod.id, name, PruneReason.READY, detail))
    return items


def _pod_keeper(
    containers: Sequence[pb.Container], *, created_keeps: bool
) -> tuple[PruneReason, str] | None:
    """Why its containers keep a pod: one running, one of unknown state (it may
    run), or, when ``created_keeps`` (a ready pod), one created and never started."""
    by_state: dict[int, list[pb.Container]] = {}
    for ctr in containers:
        by_state.setdefault(ctr.state, []).append(ctr)
    if pb.CONTAINER_RUNNING in by_state:
        running = _describe_containers(by_state[pb.CONTAINER_RUNNING])
        return PruneReason.RUNNING, f"{running} runs in it"
    if pb.CONTAINER_UNKNOWN in by_state:
        unknown = _describe_containers(by_state[pb.CONTAINER_UNKNOWN])
        return (
            PruneReason.STATE_UNKNOWN,
            f"{unknown} may run in it: the runtime does not know its state",
        )
    if created_keeps and pb.CONTAINER_CREATED in by_state:
        created = _describe_containers(by_state[pb.CONTAINER_CREATED])
        return (
            PruneReason.NOT_STARTED,
            f"{created} was created and never started: it may be about to start",
        )
    return None


def last_uses(
    images: Sequence[pb.Image],
    containers: Sequence[pb.Container],
    finished: Mapping[str, datetime | None],
) -> dict[str, datetime]:
    """When each image was last known in use: the newest creation (or finish, where
    ``finished`` knows it) of a container that references it, by image id."""
    used: dict[str, datetime] = {}
    for image_id, users in image_users(images, containers).items():
        moments = [timestamp(c.created_at) for c in users] + [finished.get(c.id) for c in users]
        known = [moment for moment in moments if moment is not None]
        if known:
            used[image_id] = max(known)
    return used


@dataclass(frozen=True)
class ImageFacts:
    """What an image plan is made from besides the images: every container of the
    node, the sandbox images (reference -> where it was named), the ``keep`` patterns,
    ``min_age`` and what an image's age is read from: ``created`` (the runtime's
    verbose ImageStatus) and ``used_at`` (:func:`last_uses`), both by image id."""

    containers: Sequence[pb.Container]
    sandbox_images: Mapping[str, str]
    now: datetime
    keep: Sequence[str] = ()
    min_age: float | None = None
    created: Mapping[str, datetime | None] = field(default_factory=dict)
    used_at: Mapping[str, datetime] = field(default_factory=dict)


def plan_images(images: Sequence[pb.Image], facts: ImageFacts) -> list[PruneItem]:
    """Images nothing needs, by name. Kept, in this order of reasons: used by a container (any
    state), a sandbox image, pinned, matching a ``keep`` pattern, younger than
    ``min_age``.

    An image's age is the time since it was last known new: the last use by a
    container in ``used_at`` (containers a prune just removed), else its creation
    (``created``). When neither is known the image is kept as too young: it may have
    been pulled a moment ago."""
    users = image_users(images, facts.containers)
    items = []
    for image in sorted(images, key=image_label):  # runtimes list them in no fixed order
        reason, detail = _image_verdict(image, users.get(image.id, []), facts)
        items.append(_item("image", image.id, image_label(image), reason, detail, int(image.size)))
    return items


def _image_verdict(
    image: pb.Image, users: Sequence[pb.Container], facts: ImageFacts
) -> tuple[PruneReason, str]:
    if users:
        return PruneReason.IN_USE, f"used by {_describe_containers(users)}"
    named = facts.sandbox_images.items()
    sandbox = next((where for reference, where in named if names_image(reference, image)), "")
    if sandbox:
        return PruneReason.SANDBOX_IMAGE, sandbox
    if image.pinned:
        return PruneReason.PINNED, "pinned by the runtime"
    pattern = matching_pattern(facts.keep, image)
    if pattern is not None:
        return PruneReason.KEEP_PATTERN, f"matches keep pattern {pattern!r}"
    if facts.min_age is not None:
        used, created = facts.used_at.get(image.id), facts.created.get(image.id)
        young = _too_young(used, created, facts.min_age, facts.now)
        if young:
            return PruneReason.TOO_YOUNG, young
    return PruneReason.UNUSED, "no container uses it"


def _too_young(
    used: datetime | None, created: datetime | None, min_age: float, now: datetime
) -> str:
    """Why an image is younger than ``min_age``, or ``""`` when it is old enough."""
    if used is not None:
        since, what = (now - used).total_seconds(), "last used"
    elif created is not None:
        since, what = (now - created).total_seconds(), "created"
    else:
        return "the runtime does not tell the image's age"
    if since < min_age:
        return f"{what} {_ago(since)} ago, less than min_age {_ago(min_age)}"
    return ""


def recheck_pod(item: PruneItem, containers: Sequence[pb.Container]) -> PruneItem | None:
    """A ready pod selected for having no running container, against its containers
    listed again just before it is stopped: kept (a changed item) when one now runs,
    may run or was created since the plan, else None."""
    kept = _pod_keeper(containers, created_keeps=True)
    if kept is None:
        return None
    reason, detail = kept
    return _item("pod", item.id, item.name, reason, f"{detail} (listed again before removal)")


def recheck_images(
    items: Sequence[PruneItem], images: Sequence[pb.Image], containers: Sequence[pb.Container]
) -> list[PruneItem]:
    """The plan again against a fresh listing of containers, taken just before the
    removals: a selected image that a container now uses is kept (IN_USE)."""
    now_used = image_users(images, containers)
    checked = []
    for item in items:
        users = now_used.get(item.id)
        if item.selected and users:
            detail = f"used by {_describe_containers(users)} (listed again before removal)"
            item = _item("image", item.id, item.name, PruneReason.IN_USE, detail, item.size)
        checked.append(item)
    return checked


# --- outcomes ----------------------------------------------------------------------------------


def outcome(item: PruneItem, error: Exception | None) -> PruneItem:
    """A selected item once its removal was tried: removed, or FAILED with the error."""
    if error is None:
        return replace(item, removed=True)
    return replace(item, reason=PruneReason.FAILED, detail=str(error))


def report(
    items: Sequence[PruneItem],
    *,
    dry_run: bool,
    fs_before: ImageFsInfo | None = None,
    fs_after: ImageFsInfo | None = None,
) -> PruneReport:
    """The report of a prune: ``bytes_expected`` sums the selected images' sizes."""
    expected = sum(item.size or 0 for item in items if item.selected and item.kind == "image")
    return PruneReport(tuple(items), dry_run, expected, fs_before, fs_after)
