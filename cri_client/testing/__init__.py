"""A throwaway containerd (with the CRI plugin, runc and gVisor) for tests and demos.

Each instance is a real containerd on a private socket, root and state dir, with
its own CNI bridge and subnet, pulling a locally built busybox and pause image
from a local registry; ``stop()`` removes every trace of it from the machine.

Shell use::

    python -m cri_client.testing install 2.1        # once per machine (root)
    eval "$(python -m cri_client.testing up --containerd 2.1)"
    python -m cri_client.testing down

Python use::

    with ThrowawayContainerd("2.1") as runtime:
        print(runtime.endpoint, runtime.busybox_image, runtime.runtime_handlers)
"""

from cri_client._core.public import publish
from cri_client.testing._debian import install_dependencies
from cri_client.testing._images import AuthRegistry
from cri_client.testing._throwaway import ThrowawayContainerd

__all__ = ["AuthRegistry", "ThrowawayContainerd", "install_dependencies"]

publish(AuthRegistry, ThrowawayContainerd, install_dependencies, module=__name__)
