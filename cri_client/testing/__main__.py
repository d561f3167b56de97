"""``python -m cri_client.testing``: see :mod:`cri_client.testing._cli`."""

from cri_client.testing._cli import main

raise SystemExit(main())
