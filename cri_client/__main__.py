"""``python -m cri_client``: the ``cri-client`` command line (crictl's commands)."""

from cri_client.cli.main import run

run()
