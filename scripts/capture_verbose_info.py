"""Capture a real containerd's verbose ContainerStatus and PodSandboxStatus answers as
test data for the config conversion (``tests/unit/data/verbose/``).

    python scripts/capture_verbose_info.py 1.6 1.7 2.1

Starts a throwaway containerd of each version, runs a pod and a container with env
values that trip a base64 reading (``10``, ``x``), a mount, labels and annotations,
and stores the ``info`` maps exactly as the runtime sent them (JSON text per key).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from cri_client import CRIClient
from cri_client.testing import ThrowawayContainerd

DATA = Path(__file__).resolve().parent.parent / "tests" / "unit" / "data" / "verbose"

ENV = {"MODE": "demo", "COUNT": "10", "ONE": "x", "SPACED": "a=b c", "ACCENT": "café"}


def capture(version: str) -> None:
    base_dir = tempfile.mkdtemp(prefix="cri-client-capture-")
    mount_dir = tempfile.mkdtemp(prefix="cri-client-capture-mount-")
    containerd = ThrowawayContainerd(version, base_dir=base_dir).start()
    try:
        with CRIClient(containerd.endpoint) as cri:
            cri.images.pull(containerd.busybox_image)
            pod = cri.pods.run(
                "capture",
                uid="0b5e1a7e-0000-4000-8000-000000000001",
                labels={"app": "capture"},
                annotations={"note": "pod annotation"},
                log_directory=f"{base_dir}/pod-logs",
            )
            ctr = cri.containers.create(
                pod,
                "main",
                containerd.busybox_image,
                command=["sh", "-c"],
                args=["echo started; sleep 3600"],
                env=ENV,
                working_dir="/tmp",
                mounts=[(mount_dir, "/data", True)],
                labels={"app": "capture", "tier": "main"},
                annotations={"note": "container annotation"},
            )
            container = cri.api.container_status(container_id=ctr.id, verbose=True)
            sandbox = cri.api.pod_sandbox_status(pod_sandbox_id=pod.id, verbose=True)
            for kind, info in (("container", container.info), ("pod", sandbox.info)):
                path = DATA / f"containerd-{version}-{kind}.json"
                path.write_text(json.dumps(dict(info), indent=1, sort_keys=True) + "\n")
                print(path)
            pod.remove(force=True)
    finally:
        containerd.stop(purge=True)
        shutil.rmtree(base_dir, ignore_errors=True)
        shutil.rmtree(mount_dir, ignore_errors=True)


def main(versions: list[str]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for version in versions or ["1.6", "1.7", "2.1"]:
        capture(version)


if __name__ == "__main__":
    main(sys.argv[1:])
