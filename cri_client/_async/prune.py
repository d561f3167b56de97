"""Prune: ``cri.containers.prune()``, ``cri.pods.prune()``, ``cri.images.prune()`` and
``cri.prune()``, each returning a :class:`~cri_client.types.PruneReport` that says, for
every candidate, whether it was removed and why.

Written once for asyncio; ``cri_client/_sync/prune.py`` is generated from it by
``scripts/unasync.py``. This module lists and removes; what to remove is decided by
:mod:`cri_client._core.prune`. Removals run at most ``parallel`` at a time and each
failure is reported on its item, never raised.

Races: images are planned from one listing and checked again against a fresh listing
of containers just before they are removed; a container created from an image between
that listing and the image's RemoveImage still loses its image (containerd keeps the
container's snapshot, so it runs, but a later create needs a pull). A ready pod's
containers are listed again just before it is stopped: one running, of unknown state
or created since the plan keeps it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cri_client._async import support
from cri_client._async.concurrency import each_at_most
from cri_client._core import prune as plans
from cri_client._core.listing import container_filter, select_containers
from cri_client._core.messages import timestamp
from cri_client._core.runtimes import (
    image_created_from_info,
    sandbox_image_from_config,
    sandbox_image_from_pod_info,
)
from cri_client._core.selectors import label_selector
from cri_client._core.validation import check_callback, check_parallel
from cri_client._proto import api_pb2 as pb
from cri_client.errors import NotFoundError
from cri_client.types import ImageFsInfo, PruneItem, PruneReason, PruneReport, RuntimeStatus

if TYPE_CHECKING:
    from cri_client._async.client import AsyncCRIClient


class ContainerOptions:
    """The checked arguments of a container prune."""

    def __init__(self, exited_before: object) -> None:
        self.exited_before = plans.check_duration(exited_before, "exited_before")


class PodOptions:
    """The checked arguments of a pod prune."""

    def __init__(self, not_ready: object, no_running_containers: object) -> None:
        plans.check_pod_criteria(not_ready, no_running_containers)
        self.not_ready = bool(not_ready)
        self.no_running_containers = bool(no_running_containers)


class ImageOptions:
    """The checked arguments of an image prune."""

    def __init__(self, keep: object, min_age: object) -> None:
        self.keep = plans.check_keep(keep)
        self.min_age = plans.check_duration(min_age, "min_age")


class Pruner:
    """One prune: the client, whether it is a dry run, how many removals at once.

    ``ignored_containers`` and ``ignored_pods`` are what an earlier step of a dry
    ``cri.prune()`` would have removed: the later steps plan as if they were gone."""

    def __init__(
        self,
        client: AsyncCRIClient,
        dry_run: object,
        parallel: object,
        progress: Callable[[PruneItem, int, int], object] | None,
    ) -> None:
        self.client = client
        self.dry_run = plans.check_flag(dry_run, "dry_run")
        self.parallel = check_parallel(parallel)
        check_callback(progress)
        self.progress = progress
        self.ignored_containers: set[str] = set()
        self.ignored_pods: set[str] = set()
        self.fs_before: ImageFsInfo | None = None
        self.earlier_containers: list[pb.Container] = []
        self.earlier_finished: dict[str, datetime | None] = {}

    async def report(self, *steps: Callable[[], Awaitable[list[PruneItem]]]) -> PruneReport:
        """Run the steps in order; unless it is a dry run, the filesystems' usage is
        read before the first removal (after the arguments were checked by the first
        listing) and at the end."""
        items = [item for step in steps for item in await step()]
        if self.dry_run:
            return plans.report(items, dry_run=True)
        after = await self.client.images.fs_info()
        before = self.fs_before or after
        return plans.report(items, dry_run=False, fs_before=before, fs_after=after)

    # --- listings --------------------------------------------------------------------

    async def _all_containers(self) -> list[pb.Container]:
        listed = await self.client._lister.list(support.CONTAINERS)
        return [ctr for ctr in listed if self._present(ctr)]

    def _present(self, ctr: pb.Container) -> bool:
        return ctr.id not in self.ignored_containers and ctr.pod_sandbox_id not in self.ignored_pods

    async def _each(self, calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any | Exception]:
        return await each_at_most(calls, self.parallel)

    async def _carry_out(
        self, items: list[PruneItem], remove: Callable[[PruneItem], Awaitable[PruneItem]]
    ) -> list[PruneItem]:
        """Remove the selected items (not in a dry run); each ends removed, kept by a
        last check (``remove`` returns it changed), or FAILED with the error."""
        selected = [item for item in items if item.selected]
        if self.dry_run or not selected:
            return items
        if self.fs_before is None:
            self.fs_before = await self.client.images.fs_info()
        finished = itertools.count(1)  # next() is atomic: the sync flavour's threads share it

        async def remove_and_tell(item: PruneItem) -> PruneItem:
            """``remove``, then the progress callback with the item as it ended."""
            try:
                ended = await remove(item)
            except Exception as error:  # reported on the item, as each_at_most would
                ended = plans.outcome(item, error)
            if self.progress is not None:
                self.progress(ended, next(finished), len(selected))
            return ended

        results = await self._each([functools.partial(remove_and_tell, item) for item in selected])
        done: dict[str, PruneItem] = {}
        for item, result in zip(selected, results, strict=True):
            if isinstance(result, Exception):  # the progress callback's own error
                raise result
            done[item.id] = result
        return [done.get(item.id, item) for item in items]

    # --- containers ------------------------------------------------------------------

    async def containers(
        self,
        options: ContainerOptions,
        labels: Mapping[str, str] | str | None,
        *,
        images_min_age: bool = False,
    ) -> list[PruneItem]:
        """``images_min_age``: a later image step counts ``min_age`` from the last use,
        so the exited containers' finish times are read even without ``exited_before``."""
        # The raw list, as containers.list() makes it without the pod list it may add
        # for pod names: a prune names containers by their own names.
        selector = label_selector(labels)
        server_side = container_filter(
            all=True, id=None, state=None, selector=selector, pod_id=None
        )
        listed = select_containers(
            await self.client._lister.list(support.CONTAINERS, server_side),
            id=None,
            name=None,
            namespace=None,
            namespaces={},
            image=None,
            selector=selector,
        )
        needed = options.exited_before is not None or images_min_age
        finished = await self._finish_times(listed, needed)
        self._note(listed, finished)
        items = plans.plan_containers(
            listed,
            exited_before=options.exited_before,
            finished=finished,
            now=datetime.now(timezone.utc),
        )
        if self.dry_run:
            self.ignored_containers |= {item.id for item in items if item.selected}
        return await self._carry_out(items, self._remove_container)

    async def _finish_times(
        self, listed: Sequence[pb.Container], needed: bool
    ) -> dict[str, datetime | None]:
        """Exited containers' finish times (one ContainerStatus each: lists have none)."""
        exited = [ctr for ctr in listed if ctr.state == pb.CONTAINER_EXITED] if needed else []
        statuses = await self.client.containers._with_statuses(exited, self.parallel)
        return {status.id: timestamp(status.finished_at) for status, _ in statuses}

    def _note(
        self, listed: Sequence[pb.Container], finished: Mapping[str, datetime | None]
    ) -> None:
        """Remember the containers seen before removals: an image whose containers
        this prune removes was in use until then (``min_age`` counts from it)."""
        self.earlier_containers.extend(listed)
        self.earlier_finished.update(finished)

    async def _remove_container(self, item: PruneItem) -> PruneItem:
        await self.client.api.remove_container(container_id=item.id)
        return plans.outcome(item, None)

    # --- pods --------------------------------------------------------------------------

    async def pods(
        self, options: PodOptions, labels: Mapping[str, str] | str | None
    ) -> list[PruneItem]:
        listed = [
            pod.raw
            for pod in await self.client.pods.list(labels=labels)
            if isinstance(pod.raw, pb.PodSandbox)  # listed: always
        ]
        containers = await self._all_containers()
        self._note(containers, {})
        items = plans.plan_pods(
            [pod for pod in listed if pod.id not in self.ignored_pods],
            containers,
            not_ready=options.not_ready,
            no_running_containers=options.no_running_containers,
        )
        if self.dry_run:
            self.ignored_pods |= {item.id for item in items if item.selected}
        return await self._carry_out(items, self._remove_pod)

    async def _remove_pod(self, item: PruneItem) -> PruneItem:
        if item.reason is PruneReason.NO_RUNNING_CONTAINERS:
            listed = await self.client._lister.list(
                support.CONTAINERS, pb.ContainerFilter(pod_sandbox_id=item.id)
            )
            kept = plans.recheck_pod(item, listed)
            if kept is not None:  # a container started or was created since the plan
                return kept
        force = item.reason is PruneReason.NO_RUNNING_CONTAINERS
        await self.client.pods.remove(item.id, force=force, grace_period=0 if force else None)
        return plans.outcome(item, None)

    # --- images ------------------------------------------------------------------------

    async def images(self, options: ImageOptions) -> list[PruneItem]:
        images = await self.client._lister.list(support.IMAGES)
        containers, pods = await self._all_containers(), await self._pods()
        sandbox_images = await self._sandbox_images(pods)

        facts = plans.ImageFacts(
            containers,
            sandbox_images,
            datetime.now(timezone.utc),
            keep=options.keep,
            used_at=plans.last_uses(images, self.earlier_containers, self.earlier_finished),
        )
        items = plans.plan_images(images, facts)
        if options.min_age is not None:  # ask the age only of images that could go
            created = await self._creation_times([i.id for i in items if i.selected])
            facts = replace(facts, min_age=options.min_age, created=created)
            items = plans.plan_images(images, facts)
        if not self.dry_run:  # the last look before removing: containers made meanwhile
            items = plans.recheck_images(items, images, await self._all_containers())
        return await self._carry_out(items, self._remove_image)

    async def _pods(self) -> list[pb.PodSandbox]:
        listed = await self.client._lister.list(support.POD_SANDBOXES)
        return [pod for pod in listed if pod.id not in self.ignored_pods]

    async def _sandbox_images(self, pods: Sequence[pb.PodSandbox]) -> dict[str, str]:
        """Reference -> where it was named: the runtime's setting (containerd 1.6, 1.7)
        and the image each pod's sandbox runs (one verbose PodSandboxStatus per pod)."""
        found: dict[str, str] = {}
        status = RuntimeStatus.from_message(await self.client.api.status(verbose=True))
        configured = sandbox_image_from_config(status.config)
        if configured:
            found[configured] = "the runtime's sandbox image (its status config names it)"
        replies = await self._each([functools.partial(self._pod_info, pod.id) for pod in pods])
        by_name = sorted(  # the first pod by name is named: the same one every time
            zip(pods, replies, strict=True),
            key=lambda answer: (answer[0].metadata.namespace, answer[0].metadata.name),
        )
        for pod, reply in by_name:
            if isinstance(reply, NotFoundError):
                continue  # removed meanwhile: its sandbox needs no image any more
            if isinstance(reply, Exception):
                raise reply  # unknown: removing images now could break a pod
            image = sandbox_image_from_pod_info(reply)
            if image and image not in found:
                name = f"{pod.metadata.namespace}/{pod.metadata.name}"
                found[image] = f"the sandbox image of pod {name} ({pod.id[:12]})"
        return found

    async def _pod_info(self, pod_id: str) -> Mapping[str, str]:
        reply = await self.client.api.pod_sandbox_status(pod_sandbox_id=pod_id, verbose=True)
        return reply.info

    async def _creation_times(self, image_ids: Collection[str]) -> dict[str, datetime | None]:
        """When each image was made, from its verbose ImageStatus (None: not told)."""
        ids = list(image_ids)
        replies = await self._each([functools.partial(self._image_info, i) for i in ids])
        return {
            image_id: None if isinstance(reply, Exception) else image_created_from_info(reply)
            for image_id, reply in zip(ids, replies, strict=True)
        }

    async def _image_info(self, image_id: str) -> Mapping[str, str]:
        reply = await self.client.api.image_status(image={"image": image_id}, verbose=True)
        return reply.info

    async def _remove_image(self, item: PruneItem) -> PruneItem:
        await self.client.api.remove_image(image={"image": item.id})
        return plans.outcome(item, None)
