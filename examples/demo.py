"""The seed demo: one web-server pod under runc, one under gVisor, two kernels.

    sudo scripts/demo.sh            # or: python examples/demo.py

With a CRI runtime socket on this machine (CONTAINER_RUNTIME_ENDPOINT, crictl.yaml
or a well-known path), the demo uses it: it needs a ``runsc`` runtime handler and
the image ``$DEMO_IMAGE`` (default ``docker.io/library/nginx:alpine``). Without
one, it installs and starts a throwaway containerd (root needed) with a local
registry and busybox ``httpd`` as the web server, and takes it down at the end.
Every step is checked; the exit status is non-zero if any fails.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cri_client import Container, CRIClient, Pod
from cri_client.errors import CRIError, EndpointError

HANDLERS = (("runc", ""), ("gVisor", "runsc"))
LABELS = {"app": "cri-client-demo"}


@contextmanager
def runtime_client() -> Iterator[tuple[CRIClient, str, list[str] | None]]:
    """(client, image, command): the machine's runtime, else a throwaway containerd."""
    try:
        client = CRIClient()
    except EndpointError as err:
        print(f"no runtime socket found ({err.details[:60]}...); starting a throwaway containerd")
    else:
        image = os.environ.get("DEMO_IMAGE", "docker.io/library/nginx:alpine")
        with client:
            yield client, image, None
        return
    from cri_client.testing import ThrowawayContainerd, install_dependencies

    started = time.monotonic()
    install_dependencies(["2.1"])
    with ThrowawayContainerd("2.1", base_dir="/tmp/cri-client-demo") as containerd:
        print(
            f"containerd {containerd.containerd_version} up in {time.monotonic() - started:.1f} s"
        )
        with CRIClient(containerd.endpoint) as client:
            yield client, containerd.busybox_image, ["httpd", "-f", "-p", "8080"]


def pods_table(pods: list[Pod]) -> str:
    """The pods as ``crictl pods`` prints them."""
    rows = [("POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME")]
    for pod in pods:
        created = pod.created_at.strftime("%H:%M:%S") if pod.created_at else ""
        state = "Ready" if pod.ready else "NotReady"
        handler = pod.runtime_handler or "(default)"
        rows.append(
            (pod.id[:13], created, state, pod.name, pod.namespace, str(pod.attempt), handler)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    with runtime_client() as (cri, image, command):
        print(f"runtime: {cri.version()} at {cri.endpoint.url}")
        handlers = {h.name for h in cri.status().handlers}
        if handlers and "runsc" not in handlers:
            print(f"this runtime has no runsc handler (it has {sorted(handlers)})", file=sys.stderr)
            return 1
        if not cri.images.exists(image):
            print(f"pulling {image}")
            cri.images.pull(image)
        containers: list[tuple[str, Container]] = []
        try:
            for label, handler in HANDLERS:
                name = f"demo-{label.lower()}"
                ctr = cri.run(
                    image, name=name, command=command, labels=LABELS, runtime_handler=handler
                )
                containers.append((label, ctr))
            print()
            for label, ctr in containers:
                kernel = ctr.exec(["uname", "-a"], timeout=10, check=True).stdout.decode().strip()
                print(f"{label:>7}: {kernel}")
            kernels = {ctr.exec(["uname", "-r"], check=True).stdout for _, ctr in containers}
            if len(kernels) != 2:
                print("both pods report the same kernel: gVisor is not in use", file=sys.stderr)
                return 1
            print()
            print(pods_table(cri.pods.list(labels=LABELS)))
            pod = containers[1][1].pod()
            status = pod.inspect()["status"]
            print(
                f"\ninspect {pod.name}: state={status['state']} ip={status['network']['ip']} "
                f"runtime_handler={status['runtime_handler']!r}"
            )
        finally:
            for pod in cri.pods.list(labels=LABELS):
                pod.remove(force=True)
        print(f"cleaned up; pods left: {len(cri.pods.list(labels=LABELS))}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CRIError as err:
        print(f"demo failed: {err}", file=sys.stderr)
        sys.exit(1)
