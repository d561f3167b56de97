"""How runtimes differ in what they answer, read in one place.

Each entry names the runtimes whose answer it reads and what it makes of it; the
callers never look at a runtime's private JSON themselves. docs/compatibility.md
has the table for people.
"""

from __future__ import annotations

from collections.abc import Mapping

from cri_client._core.messages import decode_json_values

SANDBOX_ID_KEYS = ("sandboxID",)
"""Where the verbose ``ContainerStatus`` info names the container's pod sandbox:
``info["info"]["sandboxID"]`` on containerd 1.6-2.x and CRI-O. The status message
itself has no pod id."""


def sandbox_id_from_info(info: Mapping[str, str]) -> str | None:
    """The pod sandbox id in a verbose ``ContainerStatus`` info, or None when this
    runtime does not report one (the caller then asks with a filtered list)."""
    if "info" not in info:
        return None
    details = decode_json_values({"info": info["info"]}).get("info")
    if not isinstance(details, dict):
        return None
    found = next((details[k] for k in SANDBOX_ID_KEYS if isinstance(details.get(k), str)), None)
    return found or None


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
