"""The I/O-free core both clients share: no RPC, no socket, no waiting.

Request building and validation (``validation``, ``configs``, ``auth``,
``requests``), what objects show (``views``, ``model``), what listings filter
(``listing``), the streaming protocol (``channel``), the log-file reader
(``logfile``), the event and wait decisions (``events``), stats arithmetic
(``stats``) and every default (``defaults``). ``cri_client/_async/`` and
``cri_client/_sync/`` add the I/O; nothing here imports them.
"""
