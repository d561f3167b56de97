"""The sync client, generated from :mod:`cri_client._async` with the same file names.

``client``, ``pods``, ``containers``, ``images`` and ``support`` are written by
``scripts/unasync.py`` (never edit them); ``events``, ``sessions``, ``terminal``,
``portforward`` and ``concurrency`` are the hand-written thread-based twins of their
asyncio namesakes.
The public names are exported by :mod:`cri_client`.
"""
