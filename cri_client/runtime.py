"""What the runtime says about itself: :class:`RuntimeVersion` and :class:`RuntimeStatus`."""

from __future__ import annotations

from typing import Any

from cri_client._model import decode_json_values
from cri_client._proto import api_pb2 as pb
from cri_client._value import FrozenValue

__all__ = ["RuntimeCondition", "RuntimeHandler", "RuntimeStatus", "RuntimeVersion"]


class RuntimeVersion(FrozenValue):
    """The runtime's name and versions, e.g. ``containerd 2.1.9 (CRI v1)``."""

    _compared = ("runtime_name", "runtime_version", "runtime_api_version", "version")  # not raw
    __match_args__ = ("runtime_name", "runtime_version", "runtime_api_version", "version", "raw")
    runtime_name: str
    runtime_version: str
    runtime_api_version: str
    version: str
    raw: pb.VersionResponse

    def __init__(
        self,
        runtime_name: str,
        runtime_version: str,
        runtime_api_version: str,
        version: str,
        raw: pb.VersionResponse,
    ) -> None:
        self._init(
            runtime_name=runtime_name,
            runtime_version=runtime_version,
            runtime_api_version=runtime_api_version,
            version=version,
            raw=raw,
        )

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


class RuntimeCondition(FrozenValue):
    """One condition the runtime reports, e.g. ``RuntimeReady`` or ``NetworkReady``."""

    _compared = __match_args__ = ("type", "status", "reason", "message")
    type: str
    status: bool
    reason: str
    message: str

    def __init__(self, type: str, status: bool, reason: str, message: str) -> None:
        self._init(type=type, status=status, reason=reason, message=message)


class RuntimeHandler(FrozenValue):
    """A runtime handler (``""`` is the default one) and what it supports."""

    _compared = __match_args__ = ("name", "recursive_read_only_mounts", "user_namespaces")
    name: str
    recursive_read_only_mounts: bool
    user_namespaces: bool

    def __init__(self, name: str, recursive_read_only_mounts: bool, user_namespaces: bool) -> None:
        self._init(
            name=name,
            recursive_read_only_mounts=recursive_read_only_mounts,
            user_namespaces=user_namespaces,
        )


class RuntimeStatus(FrozenValue):
    """The runtime's conditions, handlers and, with ``verbose=True``, its decoded info.

    ``ready`` and ``network_ready`` are the ``RuntimeReady`` and ``NetworkReady``
    conditions: kubelet considers a node usable only when both are true.
    """

    _compared = ("conditions", "handlers", "info")  # not raw
    __match_args__ = ("conditions", "handlers", "info", "raw")
    conditions: tuple[RuntimeCondition, ...]
    handlers: tuple[RuntimeHandler, ...]
    info: dict[str, Any]
    raw: pb.StatusResponse

    def __init__(
        self,
        conditions: tuple[RuntimeCondition, ...],
        handlers: tuple[RuntimeHandler, ...],
        info: dict[str, Any],
        raw: pb.StatusResponse,
    ) -> None:
        self._init(conditions=conditions, handlers=handlers, info=info, raw=raw)

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
