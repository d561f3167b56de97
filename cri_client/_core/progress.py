"""A pull's progress from what containerd's content store shows, without I/O.

While the CRI ``PullImage`` runs, ``cri_client._async.images`` asks containerd's
content service for its in-flight downloads (``ListStatuses``: one ingest per blob,
named ``layer-sha256:<hex>``, ``manifest-...``, ``config-...``, ``index-...``, with
offset and total) and hands each answer to :class:`PullTracker`, which turns the
answers into :class:`~cri_client.types.PullProgress` values: per-layer and total bytes
that never decrease, and the phase. An ingest that leaves the list was committed: its
layer is complete. When the pull has ended, the image's manifest
(:func:`manifest_content`) lists every layer, small ones that came and went between
two looks included, so the last value is exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cri_client._proto.containerd import content_pb2
from cri_client.types import LayerProgress, PullPhase, PullProgress

INGEST_REF = re.compile(r"(?:^|/)(layer|manifest|index|config)-(sha256:[0-9a-f]{64})$")
"""containerd's ingest names (``remotes.MakeRefKey``), maybe after a prefix."""

CLOCK_TOLERANCE = 1.0
"""Seconds: an ingest last written this long before the pull started is not this
pull's (an abandoned download of an earlier pull stays listed until it is resumed);
the margin allows for the runtime's clock and ours to differ a little."""


@dataclass(frozen=True, slots=True)
class ManifestContent:
    """What one manifest-like document names: an index's manifests (``children``),
    or an image manifest's config and layers (digest and size)."""

    children: tuple[str, ...] = ()
    config: str = ""
    layers: tuple[tuple[str, int], ...] = ()


def manifest_content(document: bytes) -> ManifestContent:
    """The children of an index, or the config and layers of an image manifest (OCI
    or docker schema 2); a document that is neither names nothing."""
    try:
        parsed = json.loads(document)
    except ValueError:
        return ManifestContent()
    if not isinstance(parsed, dict):
        return ManifestContent()
    if isinstance(parsed.get("manifests"), list):
        return ManifestContent(
            children=tuple(
                str(entry["digest"])
                for entry in parsed["manifests"]
                if isinstance(entry, dict) and "digest" in entry
            )
        )
    config = parsed.get("config")
    layers = parsed.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        return ManifestContent()
    return ManifestContent(
        config=str(config.get("digest", "")),
        layers=tuple(
            (str(layer["digest"]), int(layer.get("size", 0)))
            for layer in layers
            if isinstance(layer, dict) and "digest" in layer
        ),
    )


def repo_digests(image_repo_digests: Iterable[str]) -> list[str]:
    """The manifest (or index) digests in an image's ``repo@sha256:...`` names, once each."""
    found = (name.rpartition("@")[2] for name in image_repo_digests if "@" in name)
    return list(dict.fromkeys(found))


class PullTracker:
    """Turns looks at the content store into :class:`PullProgress` values for one pull.

    ``started`` is the wall-clock time (``time.time()``) the pull began, to tell this
    pull's ingests from abandoned ones; every method takes ``elapsed`` seconds since."""

    def __init__(self, reference: str, started: float) -> None:
        self._reference = reference
        self._since = started - CLOCK_TOLERANCE
        self._layers: dict[str, list[int]] = {}  # digest -> [done, expected]
        self._phase = PullPhase.RESOLVING

    def resolving(self, elapsed: float, *, detailed: bool = True) -> PullProgress:
        """The value before anything is known (and all a runtime without progress
        shows until the end)."""
        return PullProgress(self._reference, PullPhase.RESOLVING, elapsed, detailed=detailed)

    def observe(self, statuses: Iterable[content_pb2.Status], elapsed: float) -> PullProgress:
        """The progress after one ``ListStatuses`` answer."""
        active: set[str] = set()
        for status in statuses:
            match = INGEST_REF.search(status.ref)
            updated = status.updated_at.seconds + status.updated_at.nanos / 1e9
            if match is None or match.group(1) != "layer" or updated < self._since:
                continue
            digest = match.group(2)
            active.add(digest)
            counts = self._layers.setdefault(digest, [0, 0])
            counts[0] = max(counts[0], status.offset)
            counts[1] = max(counts[1], status.total, counts[0])
        for digest, counts in self._layers.items():
            if digest not in active:  # committed since the last look
                counts[0] = counts[1] = max(counts)
        if active:
            self._phase = PullPhase.DOWNLOADING
        elif self._layers:
            self._phase = PullPhase.UNPACKING
        return self._value(self._phase, elapsed)

    def finish(
        self, image_id: str, layers: tuple[tuple[str, int], ...] | None, elapsed: float
    ) -> PullProgress:
        """The last value: every layer of the manifest complete, or, when the manifest
        could not be read, the layers seen (``None``: the runtime shows no downloads)."""
        if layers is None and not self._layers:
            return PullProgress(
                self._reference, PullPhase.DONE, elapsed, detailed=False, image_id=image_id
            )
        if layers is not None:
            self._layers = {digest: [size, size] for digest, size in layers}
        else:
            for counts in self._layers.values():
                counts[0] = counts[1] = max(counts)
        return self._value(PullPhase.DONE, elapsed, image_id)

    def _value(self, phase: PullPhase, elapsed: float, image_id: str = "") -> PullProgress:
        layers = tuple(
            LayerProgress(d, done, expected) for d, (done, expected) in self._layers.items()
        )
        return PullProgress(
            self._reference,
            phase,
            elapsed,
            layers,
            sum(layer.done for layer in layers),
            sum(layer.expected for layer in layers),
            image_id=image_id,
        )
