"""What the runtime says about itself: :class:`RuntimeVersion` and :class:`RuntimeStatus`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cri_client._model import decode_json_values
from cri_client._proto import api_pb2 as pb

__all__ = ["RuntimeCondition", "RuntimeHandler", "RuntimeStatus", "RuntimeVersion"]


@dataclass(frozen=True)
class RuntimeVersion:
    """The runtime's name and versions, e.g. ``containerd 2.1.9 (CRI v1)``."""

    runtime_name: str
    runtime_version: str
    runtime_api_version: str
    version: str
    raw: pb.VersionResponse = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.VersionResponse) -> RuntimeVersion:
        return cls(
            runtime_name=message.runtime_name,
            runtime_version=message.runtime_version,
            runtime_api_version=message.runtime_api_version,
            version=message.version,
            raw=message,
        )

    def __str__(self) -> str:
        return f"{self.runtime_name} {self.runtime_version} (CRI {self.runtime_api_version})"


@dataclass(frozen=True)
class RuntimeCondition:
    """One condition the runtime reports, e.g. ``RuntimeReady`` or ``NetworkReady``."""

    type: str
    status: bool
    reason: str
    message: str


@dataclass(frozen=True)
class RuntimeHandler:
    """A runtime handler (``""`` is the default one) and what it supports."""

    name: str
    recursive_read_only_mounts: bool
    user_namespaces: bool


@dataclass(frozen=True)
class RuntimeStatus:
    """The runtime's conditions, handlers and, with ``verbose=True``, its decoded info.

    ``ready`` and ``network_ready`` are the ``RuntimeReady`` and ``NetworkReady``
    conditions: kubelet considers a node usable only when both are true.
    """

    conditions: tuple[RuntimeCondition, ...]
    handlers: tuple[RuntimeHandler, ...]
    info: dict[str, Any]
    raw: pb.StatusResponse = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: pb.StatusResponse) -> RuntimeStatus:
        return cls(
            conditions=tuple(
                RuntimeCondition(c.type, c.status, c.reason, c.message)
                for c in message.status.conditions
            ),
            handlers=tuple(
                RuntimeHandler(
                    h.name, h.features.recursive_read_only_mounts, h.features.user_namespaces
                )
                for h in message.runtime_handlers
            ),
            info=decode_json_values(message.info),
            raw=message,
        )

    def condition(self, type_: str) -> RuntimeCondition | None:
        """The condition of that type, or None when the runtime does not report it."""
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def ready(self) -> bool:
        condition = self.condition("RuntimeReady")
        return condition is not None and condition.status

    @property
    def network_ready(self) -> bool:
        condition = self.condition("NetworkReady")
        return condition is not None and condition.status

    @property
    def config(self) -> dict[str, Any] | None:
        """The runtime's configuration as it reports it (``verbose=True`` only)."""
        config = self.info.get("config")
        return config if isinstance(config, dict) else None
