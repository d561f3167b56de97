"""How runtimes differ in what they answer, read in one place.

Each entry names the runtimes whose answer it reads and what it makes of it; the
callers never look at a runtime's private JSON or its error texts themselves.
docs/compatibility.md has the table for people.

* :data:`KNOWN_ANSWERS`: error answers whose gRPC code says less than their text
  (CRI-O says UNKNOWN where containerd says NOT_FOUND, containerd 1.6 says UNKNOWN
  where 2.1 says FAILED_PRECONDITION, and neither says ALREADY_EXISTS for a name in
  use). :func:`cri_client.errors.error_from_rpc` reads them through
  :func:`meaning_of`, so every caller gets the same exception class on every runtime.
* :func:`exec_sync_timed_out`: CRI-O's ExecSync reply for a command past its timeout.
* :func:`image_status_query`, :func:`image_id_hex`: image ids with or without ``sha256:``.
* :func:`sandbox_id_from_info`: the pod id in a container's verbose status.
* :data:`UNIMPLEMENTED_RPCS`: which of crictl's newer RPCs each containerd lacks.
* :func:`sandbox_image_from_config`, :func:`sandbox_image_from_pod_info`,
  :func:`image_created_from_info`: what a prune must keep, and how old an image is.
* :data:`PULL_PROGRESS_SOURCES`, :func:`progress_service_missing`: which runtime shows
  a running pull's downloads, and the answers that say it does not.
* :func:`config_in_info`, :func:`runtime_spec_in_info`: the config a container or pod
  was made with, and its OCI spec, in a verbose status (containerd has the config,
  CRI-O only the spec).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

# --- error answers --------------------------------------------------------------------------


class Meaning(enum.Enum):
    """What a known answer means, whatever its gRPC code; ``errors`` maps each to its
    exception class (this module names no exception, so ``errors`` may import it)."""

    NOT_FOUND = "not found"
    ALREADY_EXISTS = "already exists"
    NOT_RUNNING = "not running"
    NOT_READY = "not ready"
    STARTING = "starting"


class KnownAnswer(NamedTuple):
    """One runtime answer, recognized by the RPC, the gRPC code name and the text.

    ``text``, a regular expression, is searched in the status details; it is the
    runtime's specific phrase, never a loose word such as "not found", so an unrelated
    failure of the same RPC keeps its own class. It is compiled when first needed (by
    ``re``'s cache), not when ``errors`` is imported (a NamedTuple for the same reason:
    a dataclass costs half a millisecond more at import)."""

    runtimes: str
    rpcs: frozenset[str]
    codes: frozenset[str]
    text: str
    meaning: Meaning

    def matches(self, rpc: str, code: str, details: str) -> bool:
        """Whether a failed ``rpc`` with this gRPC code name and text is this answer."""
        return (
            (ANY_RPC in self.rpcs or rpc in self.rpcs)
            and code in self.codes
            and re.search(self.text, details) is not None
        )


ANY_RPC = "*"
"""In :attr:`KnownAnswer.rpcs`: the runtime answers this way whatever was asked."""


def _answer(runtimes: str, rpcs: str, codes: str, text: str, meaning: Meaning) -> KnownAnswer:
    return KnownAnswer(runtimes, frozenset(rpcs.split()), frozenset(codes.split()), text, meaning)


_CRIO_UNKNOWN_ID = r"container with ID starting with \S+ not found: ID does not exist"

KNOWN_ANSWERS: tuple[KnownAnswer, ...] = (
    # The runtime is starting: containerd's CRI plugin answers every RPC this way for a
    # moment after a (re)start, before it is ready (seen on 1.7 under a running event
    # watcher). Like UNAVAILABLE, it means "ask again soon".
    _answer(
        "containerd (its CRI plugin while it starts)",
        ANY_RPC,
        "UNKNOWN",
        r"^server is not initialized yet$",
        Meaning.STARTING,
    ),
    # "This does not exist": CRI-O says UNKNOWN where containerd says NOT_FOUND.
    _answer(
        "CRI-O 1.36",
        "PullImage",
        "UNKNOWN",
        # "reading manifest 9.99 in docker.io/library/busybox: manifest unknown"
        r"reading manifest \S+ in \S+: manifest unknown$",
        Meaning.NOT_FOUND,
    ),
    _answer(
        "CRI-O 1.36",
        "ContainerStats",
        "UNKNOWN",
        # "container with ID starting with 0123abcd not found: ID does not exist"
        rf"^{_CRIO_UNKNOWN_ID}$",
        Meaning.NOT_FOUND,
    ),
    _answer(
        "CRI-O 1.36",
        "Exec ExecSync",
        "UNKNOWN",
        # 'could not find container "0123abcd": container with ID starting with ...'
        rf'^could not find container "[^"]*": {_CRIO_UNKNOWN_ID}$',
        Meaning.NOT_FOUND,
    ),
    # The container exists but runs no process an exec could join.
    _answer(
        "CRI-O 1.36",
        "ExecSync",
        "NOT_FOUND",
        # 'container is not created or running: could not find container "<id>" ...'
        r"^container is not created or running: ",
        Meaning.NOT_RUNNING,
    ),
    _answer(
        "containerd 1.6, 1.7, 2.1",
        "Exec ExecSync",
        "UNKNOWN",
        # "failed to exec in container: container is in CONTAINER_EXITED state"
        r"(^|: )container is in CONTAINER_(CREATED|EXITED|UNKNOWN) state$",
        Meaning.NOT_RUNNING,
    ),
    # The pod exists but is stopped: it has no stats. 1.7 and 2.1 say UNAVAILABLE, which
    # would read as "the runtime is down" (and be waited out).
    _answer(
        "containerd 1.6 (UNKNOWN), 1.7, 2.1 (UNAVAILABLE)",
        "PodSandboxStats",
        "UNKNOWN UNAVAILABLE",
        # 'failed to decode pod sandbox metrics <id>: failed to get pod sandbox stats since
        # sandbox container "<id>" is not in ready state' (+ ": unavailable" on 1.7/2.1)
        r'failed to get pod sandbox stats since sandbox container "[0-9a-f]+" is not in '
        r"ready state(: unavailable)?$",
        Meaning.NOT_READY,
    ),
    # A name (with its attempt) in use: nobody says ALREADY_EXISTS.
    _answer(
        "containerd 1.6, 1.7 (UNKNOWN), 2.1 (FAILED_PRECONDITION)",
        "CreateContainer",
        "UNKNOWN FAILED_PRECONDITION",
        # 'failed to reserve container name "web_pod_default_uid_0"; check if another
        # CreateContainer request is in progress: name "..." is reserved for "<id>"' (2.1)
        r'^failed to reserve container name "[^"]+"'
        r"(; check if another CreateContainer request is in progress)?: "
        r'name "[^"]+" is reserved for "[0-9a-f]+"$',
        Meaning.ALREADY_EXISTS,
    ),
    _answer(
        "containerd 1.6, 1.7 (UNKNOWN), 2.1 (FAILED_PRECONDITION)",
        "RunPodSandbox",
        "UNKNOWN FAILED_PRECONDITION",
        # 'failed to reserve sandbox name "pod_default_uid_0": name "..." is reserved for "<id>"'
        r'^failed to reserve sandbox name "[^"]+": name "[^"]+" is reserved for "[0-9a-f]+"$',
        Meaning.ALREADY_EXISTS,
    ),
    _answer(
        "CRI-O 1.36",
        "CreateContainer",
        "UNKNOWN",
        # 'the container name "k8s_web_pod_default_uid_0" is already in use by 0123abcd.
        # You have to remove that container to be able to reuse that name: that name is
        # already in use'
        r'the container name "[^"]+" is already in use by \S+\. You have to remove that '
        r"container to be able to reuse that name: that name is already in use$",
        Meaning.ALREADY_EXISTS,
    ),
    _answer(
        "CRI-O 1.36",
        "RunPodSandbox",
        "UNKNOWN",
        # 'the pod sandbox name "k8s_pod_default_uid_0" is already in use by 0123abcd. ...'
        r'the pod sandbox name "[^"]+" is already in use by \S+\.',
        Meaning.ALREADY_EXISTS,
    ),
)
"""Runtime answers whose text says more than their gRPC code, with what they mean.
The error keeps the runtime's code and text (``err.code``, ``err.details``); only its
class follows the meaning. Each entry has a replay test in tests/unit/test_runtime_answers.py."""


def meaning_of(rpc: str, code: str, details: str) -> Meaning | None:
    """What a failed ``rpc`` answered with gRPC code ``code`` (its name, e.g.
    ``"UNKNOWN"``) and ``details`` means, when it is a known answer; None otherwise
    (the code's own class applies)."""
    return next((a.meaning for a in KNOWN_ANSWERS if a.matches(rpc, code, details)), None)


# --- exec -----------------------------------------------------------------------------------

CRIO_EXEC_TIMEOUT = (-1, b"command timed out")
"""CRI-O's ExecSync reply for a command that passed its ``timeout``: status OK, exit code
-1 and this stderr (containerd fails the call with DEADLINE_EXCEEDED instead). No process
exits with -1 (exit codes are 0-255), so the pair cannot be a command's own result."""


def exec_sync_timed_out(exit_code: int, stderr: bytes) -> bool:
    """Whether an ExecSync reply that came back OK says the command timed out (CRI-O)."""
    return (exit_code, stderr.strip()) == CRIO_EXEC_TIMEOUT


# --- images ---------------------------------------------------------------------------------

IMAGE_ID_PREFIX = "sha256:"
"""containerd reports image ids as ``sha256:<hex>``, CRI-O as bare ``<hex>``."""

IMAGE_ID_LIKE = re.compile(r"^(sha256:)?[0-9a-f]+$")
"""A reference that may be an image id or id prefix, in either runtime's form."""


def image_id_hex(value: str) -> str:
    """An image id or id prefix without ``sha256:``, so both runtimes' ids compare."""
    return value.removeprefix(IMAGE_ID_PREFIX)


def image_status_query(reference: str) -> str:
    """What to ask ImageStatus for ``reference``: an id or id prefix as bare hex, the
    one form both runtimes resolve (containerd takes ids and prefixes with or without
    ``sha256:``; CRI-O takes bare ones and would read ``sha256:<hex>`` as the short
    image name ``sha256`` with tag ``<hex>``); anything else unchanged."""
    if reference.startswith(IMAGE_ID_PREFIX) and IMAGE_ID_LIKE.match(reference):
        return image_id_hex(reference)
    return reference


# --- pull progress --------------------------------------------------------------------------

PULL_PROGRESS_SOURCES: Mapping[str, str] = {
    "containerd 1.6": "content ListStatuses (no transfer service: UNIMPLEMENTED)",
    "containerd 1.7": "content ListStatuses (the transfer service is there, unused by CRI)",
    "containerd 2.x": "content ListStatuses (the transfer service reports progress only to"
    " the client that started a transfer: CRI's pull is the runtime's own)",
    "CRI-O": "none (no containerd services: UNIMPLEMENTED 'unknown service')",
}
"""Where a CRI pull's downloads can be watched, per runtime (measured on containerd
1.6, 1.7 and 2.1: each shows every in-flight layer as a content ingest named
``layer-sha256:<hex>`` in the ``k8s.io`` namespace, with offset and total)."""

CONTAINERD_CRI_NAMESPACE = "k8s.io"
"""The containerd namespace where its CRI plugin keeps images and their content."""

CONTENT_LIST_STATUSES = "/containerd.services.content.v1.Content/ListStatuses"
CONTENT_READ = "/containerd.services.content.v1.Content/Read"

_NO_SERVICE_CODES = frozenset({"UNIMPLEMENTED", "PERMISSION_DENIED"})


def progress_service_missing(code: str, details: str) -> bool:
    """Whether a failed look at a pull's downloads means this runtime (or socket) has
    no content service, for good: UNIMPLEMENTED (CRI-O, a proxy that serves only the
    CRI), PERMISSION_DENIED, or UNKNOWN with gRPC's ``unknown service`` text. Other
    failures (a slow answer) skip one look."""
    return code in _NO_SERVICE_CODES or "unknown service" in details


# --- containers -----------------------------------------------------------------------------

SANDBOX_ID_KEYS = ("sandboxID",)
"""Where the verbose ``ContainerStatus`` info names the container's pod sandbox:
``info["info"]["sandboxID"]`` on containerd 1.6-2.x and CRI-O. The status message
itself has no pod id."""


def sandbox_id_from_info(info: Mapping[str, str]) -> str | None:
    """The pod sandbox id in a verbose ``ContainerStatus`` info, or None when this
    runtime does not report one (the caller then asks with a filtered list)."""
    details = verbose_details(info)
    found = next((details[k] for k in SANDBOX_ID_KEYS if isinstance(details.get(k), str)), None)
    return found or None


def verbose_details(info: Mapping[str, str]) -> dict[str, Any]:
    """``info["info"]`` of a verbose status, decoded from its JSON; empty when the
    runtime sent none (or something else than a JSON object)."""
    from cri_client._core.messages import decode_json_values  # protobuf: not for errors

    if "info" not in info:
        return {}
    details = decode_json_values({"info": info["info"]}).get("info")
    return details if isinstance(details, dict) else {}


# --- configs read back ----------------------------------------------------------------------

CONFIG_KEYS = ("config",)
"""Where a verbose ``ContainerStatus`` or ``PodSandboxStatus`` names the config the
object was made with: ``info["info"]["config"]`` on containerd 1.6, 1.7 and 2.1, the
CRI message as Go's ``encoding/json`` writes it (proto field names, enums as numbers,
zero values left out, env values as plain text: the CRI those releases vendor has a
``string`` there). Captured from each: ``tests/unit/data/verbose/``. containerd 1.6
leaves out ``image.user_specified_image`` (its CRI has no such field)."""

RUNTIME_SPEC_KEYS = ("runtimeSpec",)
"""Where the verbose info has the OCI runtime spec the container runs with, on
containerd and CRI-O alike. CRI-O's info (``sandboxID``, ``pid``, ``runtimeSpec``,
``privileged``, from its ``server/container_status.go``; not captured from a running
CRI-O) has no config: the config is rebuilt from the status and this spec."""


def config_in_info(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config in decoded verbose details (:func:`verbose_details`), if any."""
    return next((details[k] for k in CONFIG_KEYS if isinstance(details.get(k), dict)), None)


def runtime_spec_in_info(details: Mapping[str, Any]) -> dict[str, Any]:
    """The OCI runtime spec in decoded verbose details; empty when there is none."""
    found = next((details[k] for k in RUNTIME_SPEC_KEYS if isinstance(details.get(k), dict)), None)
    return found or {}


SANDBOX_NAME_ANNOTATIONS = (
    ("io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace"),
    ("io.kubernetes.pod.name", "io.kubernetes.pod.namespace"),
)
"""Where the verbose ``ContainerStatus`` info names the container's pod, in the OCI
spec's annotations (:data:`RUNTIME_SPEC_KEYS`): containerd's own (seen on 1.6, 1.7
and 2.1, for containers in every state), then kubelet's names."""


def sandbox_names_from_info(info: Mapping[str, str]) -> tuple[str, str] | None:
    """The pod's (name, namespace) in a verbose ``ContainerStatus`` info, or None when
    this runtime does not report them."""
    annotations = runtime_spec_in_info(verbose_details(info)).get("annotations")
    if not isinstance(annotations, dict):
        return None
    for name_key, namespace_key in SANDBOX_NAME_ANNOTATIONS:
        name, namespace = annotations.get(name_key), annotations.get(namespace_key)
        if isinstance(name, str) and isinstance(namespace, str) and name:
            return (name, namespace)
    return None


ZERO_CPU_RATE_UNMEASURED = ("containerd",)
"""Runtimes whose ``usage_nano_cores`` of 0 may mean "no rate yet", not "idle".
containerd (measured on 1.6, 1.7 and 2.1) computes the rate between its own previous
sample of the container and this one, and sends 0 when it has none (the first
``ListContainerStats`` or ``PodSandboxStats`` of a container) or when the two are too
close together: a spinning container reads 0 then. containerd/containerd#13138
leaves the field unset instead, as CRI-O does (it sends a rate only once it has an
earlier sample). Until the containerd releases with that change can be told apart,
every containerd's 0 is taken as unmeasured."""


def zero_cpu_rate_is_measured(runtime_name: str) -> bool:
    """Whether a ``usage_nano_cores`` of 0 from this runtime (``Version``'s
    ``runtime_name``) means the container was idle over a measured window."""
    return runtime_name not in ZERO_CPU_RATE_UNMEASURED


# --- RPCs a runtime does not implement ---------------------------------------------------

UNIMPLEMENTED_RPCS: Mapping[str, frozenset[str]] = {
    "containerd 1.6": frozenset(
        ("RuntimeConfig", "CheckpointContainer", "ListMetricDescriptors", "ListPodSandboxMetrics")
    ),
    "containerd 1.7": frozenset(
        ("RuntimeConfig", "CheckpointContainer", "ListMetricDescriptors", "ListPodSandboxMetrics")
    ),
    "containerd 2.1": frozenset(("ListMetricDescriptors", "ListPodSandboxMetrics")),
}
"""The optional RPCs of crictl's newer commands that each runtime answers with
UNIMPLEMENTED (observed on 1.6.20, 1.7.24 and 2.1.9; all three implement
UpdateRuntimeConfig, and 2.1's CheckpointContainer needs the ``criu`` binary on the
node). Nothing decides from this table: the CLI names the runtime from its live
answer (``containerd 1.6.20 does not implement RuntimeConfig``). It is the record
docs/compatibility.md shows, and tests/integration/test_cli_commands.py checks it
against the real runtime on every version, so it cannot go stale silently."""


# --- prune ----------------------------------------------------------------------------------

SANDBOX_IMAGE_KEYS = ("sandboxImage",)
"""Where ``Status(verbose=True)``'s config names the runtime's sandbox (pause) image:
``config["sandboxImage"]`` on containerd 1.6 and 1.7. containerd 2.1 reports none
there (its ``pinned_images.sandbox`` setting belongs to the image service, which the
CRI status leaves out); it pins that image instead (``Image.pinned``, which 1.6 does
not set), and each pod's verbose status names the image its sandbox runs
(:data:`POD_SANDBOX_IMAGE_KEYS`)."""

POD_SANDBOX_IMAGE_KEYS = ("image",)
"""Where a pod's verbose ``PodSandboxStatus`` info names the image its sandbox runs:
``info["info"]["image"]`` (a reference such as ``registry.k8s.io/pause:3.10``) on
containerd 1.6, 1.7 and 2.1. A sandbox is no container in ``ListContainers``, so
this is the only way to see that a pod uses an older pause image."""

IMAGE_CREATED_KEYS = ("imageSpec", "created")
"""Where a verbose ``ImageStatus`` info says when the image was made (its OCI config's
``created``, RFC 3339): ``info["info"]["imageSpec"]["created"]`` on containerd 1.6,
1.7 and 2.1. The CRI ``Image`` message has no time at all, and no runtime reports
when an image was pulled."""


def sandbox_image_from_config(config: Mapping[str, Any] | None) -> str | None:
    """The sandbox image a verbose ``Status`` config names (``RuntimeStatus.config``),
    or None when this runtime does not report one there (containerd 2.1)."""
    if not config:
        return None
    found = next((config[k] for k in SANDBOX_IMAGE_KEYS if isinstance(config.get(k), str)), "")
    return found or None


def sandbox_image_from_pod_info(info: Mapping[str, str]) -> str | None:
    """The image a pod's sandbox runs, from its verbose ``PodSandboxStatus`` info;
    None when this runtime does not say."""
    details = verbose_details(info)
    found = next(
        (details[k] for k in POD_SANDBOX_IMAGE_KEYS if isinstance(details.get(k), str)), ""
    )
    return found or None


def image_created_from_info(info: Mapping[str, str]) -> datetime | None:
    """When an image was made, from its verbose ``ImageStatus`` info; None when this
    runtime does not say (a prune with ``min_age`` then keeps the image)."""
    from cri_client._core.messages import rfc3339

    value: Any = verbose_details(info)
    for key in IMAGE_CREATED_KEYS:
        value = value.get(key) if isinstance(value, dict) else None
    return rfc3339(value)
