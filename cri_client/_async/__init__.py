"""The asyncio client: the source of truth for both flavours.

``client``, ``pods``, ``containers``, ``images`` and ``support`` are written here
once, and ``scripts/unasync.py`` generates their sync twins in ``cri_client/_sync/``.
``events``, ``sessions``, ``terminal``, ``portforward`` and ``concurrency`` are
hand-written twins of the sync modules of the same name (tasks here, threads there)
over :mod:`cri_client._core`. The public names are exported by :mod:`cri_client.aio`.
"""
