"""The CRI protobuf messages and enums (``runtime.v1``), for what the high-level API
does not cover: ``config=`` arguments, ``cri.api.*`` requests, ``.raw`` replies.

>>> from cri_client import pb
>>> config = pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name="web", uid="1"))

The classes are generated from the vendored ``proto/api.proto`` (see
``proto/README.md``); ``cri_client._proto`` is their private location, which users,
the docs and the command line never import.
"""

from cri_client._proto.api_pb2 import *  # noqa: F403
