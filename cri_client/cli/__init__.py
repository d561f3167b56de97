"""``cri-client``: crictl's commands, flags and output shapes, on the library's public API.

Entry points: the ``cri-client`` console script and ``python -m cri_client``, both
:func:`cri_client.cli.main.main`. ``docs/cli.md`` lists every command, the exit codes
and where the output differs from crictl's.
"""
