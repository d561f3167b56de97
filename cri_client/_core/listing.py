"""What a listing asks the runtime and what it filters locally.

The CRI filters by full id, state and exact label values; names, namespaces (regular
expressions, as crictl's ``--name``), id prefixes and the label selector's other terms
(``_core.selectors``) are filtered here, so a listing is always one RPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cri_client._core.model import FULL_ID, parse_state, regex_matches
from cri_client._core.runtimes import IMAGE_ID_LIKE, image_id_hex
from cri_client._core.selectors import LabelSelector
from cri_client._proto import api_pb2 as pb
from cri_client.types import ContainerState, PodState


def pod_filter(
    *, id: str | None, state: PodState | str | None, selector: LabelSelector
) -> pb.PodSandboxFilter:
    """The server-side part of a pod listing: full ids, state and exact labels."""
    result = pb.PodSandboxFilter(label_selector=selector.server_side())
    if id is not None and FULL_ID.match(id):
        result.id = id
    if state is not None:
        result.state.state = parse_state(PodState, state).to_proto()
    return result


def select_pods(
    found: Sequence[pb.PodSandbox],
    *,
    id: str | None,
    name: str | None,
    namespace: str | None,
    runtime_handler: str | None,
    selector: LabelSelector,
) -> list[pb.PodSandbox]:
    """The client-side part of a pod listing, newest first: id prefix, name and
    namespace regular expressions (as crictl's flags), runtime handler, labels."""
    pods = [
        pod
        for pod in found
        if (id is None or pod.id.startswith(id))
        and selector.matches(pod.labels)
        and regex_matches(name, pod.metadata.name)
        and regex_matches(namespace, pod.metadata.namespace)
        and (runtime_handler is None or pod.runtime_handler == runtime_handler)
    ]
    return sorted(pods, key=lambda pod: pod.created_at, reverse=True)


def container_filter(
    *,
    all: bool,
    id: str | None,
    state: ContainerState | str | None,
    selector: LabelSelector,
    pod_id: str | None,
) -> pb.ContainerFilter:
    """The server-side part of a container listing: running ones unless ``all`` or a
    ``state``; full ids, exact labels and the pod."""
    if state is None and not all:
        state = ContainerState.RUNNING
    result = pb.ContainerFilter(label_selector=selector.server_side())
    if id is not None and FULL_ID.match(id):
        result.id = id
    if pod_id:
        result.pod_sandbox_id = pod_id
    if state is not None:
        result.state.state = parse_state(ContainerState, state).to_proto()
    return result


def select_containers(
    found: Sequence[pb.Container],
    *,
    id: str | None,
    name: str | None,
    namespace: str | None,
    namespaces: Mapping[str, str],
    image: str | None,
    selector: LabelSelector,
) -> list[pb.Container]:
    """The client-side part of a container listing, newest first: id prefix, name and
    namespace regular expressions (``namespaces``: pod id -> namespace), image, labels."""
    containers = [
        ctr
        for ctr in found
        if (id is None or ctr.id.startswith(id))
        and selector.matches(ctr.labels)
        and regex_matches(name, ctr.metadata.name)
        and (namespace is None or regex_matches(namespace, namespaces.get(ctr.pod_sandbox_id, "")))
        and (image is None or image_matches(image, ctr))
    ]
    return sorted(containers, key=lambda ctr: ctr.created_at, reverse=True)


def image_matches(image: str, ctr: pb.Container) -> bool:
    """``list(image=)``: the image as asked for, the runtime's reference, or its id or
    an id prefix in either runtime's form (``image_id``, or ``image_ref`` where older
    runtimes put the id; containerd's have ``sha256:``, CRI-O's not)."""
    if image in (ctr.image.image, ctr.image_ref, ctr.image_id):
        return True
    if not IMAGE_ID_LIKE.match(image):
        return False
    wanted = image_id_hex(image)
    ids = (ref for ref in (ctr.image_id, ctr.image_ref) if IMAGE_ID_LIKE.match(ref))
    return any(image_id_hex(ref).startswith(wanted) for ref in ids)
