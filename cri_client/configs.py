"""The configs the high-level calls send, built the way kubelet builds them, for a
caller who wants to change one before passing it as ``config=``:

>>> from cri_client.configs import pod_sandbox_config
>>> config = pod_sandbox_config("web", labels={"app": "web"})
>>> config.linux.sysctls["net.ipv4.ip_unprivileged_port_start"] = "0"
>>> pod = cri.pods.run("web", config=config)

``pod_sandbox_config`` documents every default of ``cri.pods.run``,
``container_config`` those of ``cri.containers.create``; ``default_log_directory``
is where a pod's container logs go (kubelet's ``/var/log/pods`` layout).
``message_from_dict`` reads a config written as a dict (JSON, YAML) with env
values as the text they say, never as base64.
"""

from cri_client._core.configs import (
    MountSpec,
    container_config,
    default_log_directory,
    pod_sandbox_config,
)
from cri_client._core.messages import message_from_dict
from cri_client._core.public import publish

__all__ = [
    "MountSpec",
    "container_config",
    "default_log_directory",
    "message_from_dict",
    "pod_sandbox_config",
]

publish(
    container_config, default_log_directory, message_from_dict, pod_sandbox_config, module=__name__
)
