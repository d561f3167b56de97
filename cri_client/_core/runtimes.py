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
