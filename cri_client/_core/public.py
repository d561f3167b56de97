"""Public names show their public home in ``__module__`` (as httpx does).

A class defined in a private module (``cri_client._sync.pods.Pod``) is published as
``cri_client.Pod`` and its asyncio twin as ``cri_client.aio.AsyncPod``: reprs,
``help()``, pickling and the API reference then name the module users import from.
"""

from __future__ import annotations

from typing import Any


def publish(*objects: Any, module: str | None = None) -> None:
    """Set each object's ``__module__`` to the public module that exports it:
    ``module`` when given (a public module re-exporting private code), else
    ``cri_client.aio`` for the asyncio flavour (every such name starts with
    ``Async``) and ``cri_client`` for the rest. Called once, after the definitions."""
    for obj in objects:
        if module is not None:
            obj.__module__ = module
        else:
            obj.__module__ = "cri_client.aio" if obj.__name__.startswith("Async") else "cri_client"
