"""Pod sandboxes: ``pods``, ``runp``, ``stopp``, ``rmp``, ``inspectp``, ``statsp``, and
``recreatep`` (no crictl twin)."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from cri_client.cli.arguments import (
    Command,
    add_filter_flags,
    add_output_flag,
    limit,
    output_template,
)
from cri_client.cli.commands._common import (
    add_prune_flags,
    add_recreate_timeout,
    add_sampling_flags,
    for_each,
    full_id,
    nothing_found,
    show_samples,
    write_key_values,
    write_prune,
    write_statuses,
)
from cri_client.cli.config import label_filter, load_pod_config, parse_duration
from cri_client.cli.context import CommandError, Context, ShowHelp, UsageError
from cri_client.cli.output import (
    ago,
    go_map,
    go_time,
    human_size,
    proto_dict,
    render_table,
    rfc3339nano,
    status_document,
    truncate_id,
    write_document,
)
from cri_client.cli.progress import prune_progress

if TYPE_CHECKING:
    from cri_client import pb
    from cri_client.types import PruneItem


def _handler_name(handler: str) -> str:
    return handler or "(default)"


# --- pods ---------------------------------------------------------------------------------


def _configure_pods(parser: argparse.ArgumentParser) -> None:
    add_filter_flags(parser, kind="pod", id=True)
    parser.add_argument("-v", "--verbose", action="store_true", help="show verbose info")
    parser.add_argument("-q", "--quiet", action="store_true", help="list only pod IDs")
    parser.add_argument(
        "--no-trunc", action="store_true", help="show output without truncating the ID"
    )
    add_output_flag(parser, "table", template=True)


def _pods(ctx: Context, args: argparse.Namespace) -> int:
    template = output_template(args)
    pods = ctx.client().pods.list(
        id=args.id or None,
        state=args.state,
        labels=label_filter(args.label),
        name=args.name,
        namespace=args.namespace,
    )
    pods = limit(pods, args.latest, args.last)
    out = ctx.stdout
    if args.output != "table":
        document = {"items": [proto_dict(pod.raw) for pod in pods]}
        write_document(document, args.output, out, template=template)
        return 0
    if args.quiet:
        out.writelines(f"{pod.id}\n" for pod in pods)
        return 0
    if args.verbose:
        for pod in pods:
            raw = pod.raw
            out.write(f"ID: {pod.id}\n")
            names = (("Name", pod.name), ("UID", pod.uid), ("Namespace", pod.namespace))
            for title, value in names:
                if value:
                    out.write(f"{title}: {value}\n")
            if pod.attempt:
                out.write(f"Attempt: {pod.attempt}\n")
            out.write(f"Status: {'Ready' if pod.ready else 'NotReady'}\n")
            out.write(f"Created: {go_time(raw.created_at)}\n")
            write_key_values(out, "Labels", pod.labels)
            write_key_values(out, "Annotations", pod.annotations)
            out.write(f"Runtime: {_handler_name(pod.runtime_handler)}\n\n")
        return 0
    rows = [["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]]
    now = time.time()
    for pod in pods:
        rows.append(
            [
                pod.id if args.no_trunc else truncate_id(pod.id),
                ago(pod.raw.created_at, now),
                "Ready" if pod.ready else "NotReady",
                pod.name,
                pod.namespace,
                str(pod.attempt),
                _handler_name(pod.runtime_handler),
            ]
        )
    out.write(render_table(rows))
    return 0


# --- runp, stopp, rmp -------------------------------------------------------------------


def _configure_runp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod_config", metavar="pod-config.[json|yaml]")
    parser.add_argument("-r", "--runtime", default="", help="runtime handler to use (e.g. runsc)")
    parser.add_argument(
        "-T",
        "--cancel-timeout",
        metavar="DURATION",
        help="deadline of the request (default: the global --timeout)",
    )


def cancel_timeout(args: argparse.Namespace) -> float | None:
    """A command's ``-T/--cancel-timeout``: its own deadline instead of ``--timeout``."""
    if not args.cancel_timeout:
        return None
    seconds = parse_duration(args.cancel_timeout, "--cancel-timeout")
    return seconds if seconds > 0 else None


def _runp(ctx: Context, args: argparse.Namespace) -> int:
    config = load_pod_config(args.pod_config, ctx.warn)
    pods = ctx.client(cancel_timeout(args)).pods
    pod = pods.run(config.metadata.name, config=config, runtime_handler=args.runtime)
    ctx.stdout.write(f"{pod.id}\n")
    return 0


def _configure_pod_references(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pods", nargs="*", metavar="POD-ID", help="pod id, id prefix, name or namespace/name"
    )


def _stopp(ctx: Context, args: argparse.Namespace) -> int:
    """Each pod's containers are killed at once (grace period 0), then the sandbox is
    stopped: what crictl's StopPodSandbox does on containerd, here on every runtime."""
    if not args.pods:
        raise ShowHelp
    cri = ctx.client()
    for reference in args.pods:
        cri.pods.get(reference).stop(grace_period=0)
        ctx.stdout.write(f"Stopped sandbox {reference}\n")
    return 0


def _configure_rmp(parser: argparse.ArgumentParser) -> None:
    _configure_pod_references(parser)
    parser.add_argument(
        "-f", "--force", action="store_true", help="stop a ready pod first instead of refusing"
    )
    parser.add_argument("-a", "--all", action="store_true", help="remove all pods")
    parser.add_argument(
        "--not-ready",
        action="store_true",
        help="prune: remove the pods that are not ready (never one with a running container)",
    )
    parser.add_argument(
        "--no-running",
        action="store_true",
        help="prune: remove every pod with no running container, stopping ready ones first",
    )
    add_prune_flags(parser)


def _rmp(ctx: Context, args: argparse.Namespace) -> int:
    if args.not_ready or args.no_running:
        return _prune_pods(ctx, args)
    if args.dry_run or args.label or args.output != "table":
        raise UsageError("--dry-run, --label and --output need --not-ready or --no-running")
    if not (args.pods or args.all):
        raise ShowHelp
    cri = ctx.client()
    references = list(args.pods)
    if args.all:
        references = [pod.id for pod in cri.pods.list()]
        if not references:
            ctx.stderr.write("No pods to remove\n")
            return 0

    def remove(reference: str) -> None:
        pod = cri.pods.get(reference)
        if pod.ready:
            if not args.force:
                raise CommandError(f"pod sandbox {reference!r} is running, please stop it first")
            pod.stop(grace_period=0)
            ctx.stdout.write(f"Stopped sandbox {reference}\n")
        pod.remove(force=True)
        ctx.stdout.write(f"Removed sandbox {reference}\n")

    return for_each(ctx, references, remove, "Removing pods")


def _prune_pods(ctx: Context, args: argparse.Namespace) -> int:
    """``rmp --not-ready`` / ``--no-running``: the library's pod prune, printing what
    ``rmp -f`` prints for each pod removed (the plan with ``--dry-run``, the report
    with ``-o``)."""
    if args.pods or args.all or args.force:
        raise UsageError("--not-ready and --no-running take no POD-ID, --all or --force")
    cri = ctx.client()
    with prune_progress(ctx.stderr) as progress:
        report = cri.pods.prune(
            not_ready=True,
            no_running_containers=args.no_running,
            labels=label_filter(args.label),
            dry_run=args.dry_run,
            progress=progress,
        )

    from cri_client.types import PruneReason

    def lines(item: PruneItem) -> list[str]:
        removed = [f"Removed sandbox {item.id}"]
        if item.reason is PruneReason.NO_RUNNING_CONTAINERS:  # it was ready: stopped first
            return [f"Stopped sandbox {item.id}", *removed]
        return removed

    return write_prune(ctx, report, args.output, lines)


# --- inspectp -----------------------------------------------------------------------------


def _configure_inspectp(parser: argparse.ArgumentParser) -> None:
    _configure_pod_references(parser)
    add_output_flag(parser, "json", template=True)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not show verbose information"
    )
    add_filter_flags(parser, kind="pod")


def _inspectp(ctx: Context, args: argparse.Namespace) -> int:
    """Without POD-IDs, every pod the filters select (all of them without filters);
    none: crictl's error line on stderr and the help, exit 0."""
    template = output_template(args)
    cri = ctx.client()
    references = list(args.pods)
    if not references:
        pods = cri.pods.list(
            state=args.state,
            labels=label_filter(args.label),
            name=args.name,
            namespace=args.namespace,
        )
        references = [pod.id for pod in limit(pods, args.latest, args.last)]
        if not references:
            nothing_found(ctx)
    verbose = not args.quiet
    documents = []
    for reference in references:
        pod_id = full_id(reference, cri.pods.get)
        reply = cri.api.pod_sandbox_status(pod_sandbox_id=pod_id, verbose=verbose)
        if args.output == "table":
            _write_pod_status_table(ctx, reply, verbose)
            continue
        status = proto_dict(reply.status)
        status["createdAt"] = rfc3339nano(reply.status.created_at)
        documents.append(status_document(status, reply.info))
    write_statuses(ctx, documents, args.output, template)
    return 0


def _write_pod_status_table(
    ctx: Context, reply: pb.PodSandboxStatusResponse, verbose: bool
) -> None:
    """crictl's ``inspectp -o table``."""
    from cri_client import pb

    status = reply.status
    out = ctx.stdout
    out.write(f"ID: {status.id}\n")
    if status.HasField("metadata"):
        for title, value in (
            ("Name", status.metadata.name),
            ("UID", status.metadata.uid),
            ("Namespace", status.metadata.namespace),
        ):
            if value:
                out.write(f"{title}: {value}\n")
        out.write(f"Attempt: {status.metadata.attempt}\n")
    out.write(f"Status: {pb.PodSandboxState.Name(status.state)}\n")
    out.write(f"Created: {go_time(status.created_at)}\n")
    if status.HasField("network"):
        out.write(f"IP Addresses: {status.network.ip}\n")
        for additional in status.network.additional_ips:
            out.write(f"Additional IP: {additional.ip}\n")
    write_key_values(out, "Labels", dict(status.labels))
    write_key_values(out, "Annotations", dict(status.annotations))
    if verbose:
        out.write(f"Info: {go_map(dict(reply.info))}\n")


# --- statsp -------------------------------------------------------------------------------


def _configure_statsp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", nargs="?", metavar="ID", help="only this pod")
    parser.add_argument("--id", default=None, help="only this pod")
    add_sampling_flags(parser)


def _statsp(ctx: Context, args: argparse.Namespace) -> int:
    cri = ctx.client()
    reference = args.id or args.pod
    pod_id = cri.pods.get(reference).id if reference else None
    labels = label_filter(args.label)
    if args.output != "table":
        if isinstance(labels, str):  # a selector: the runtime's filter cannot take it all
            samples = cri.pods.stats(id=pod_id, labels=labels, interval=float(args.seconds or 1))
            replies = [sample.raw for sample in samples]
        else:
            stats_filter = {"id": pod_id or "", "label_selector": labels or {}}
            replies = list(cri.api.list_pod_sandbox_stats(filter=stats_filter).stats)
        items = sorted(replies, key=lambda s: s.attributes.id)
        write_document({"stats": [proto_dict(s) for s in items]}, args.output, ctx.stdout)
        return 0

    def table() -> list[list[str]]:
        samples = cri.pods.stats(id=pod_id, labels=labels, interval=float(args.seconds))
        rows = [["POD", "POD ID", "CPU %", "MEM"]]
        for sample in sorted(samples, key=lambda s: s.pod_id):
            cpu = sample.cpu_usage_core_nanoseconds or 0
            memory = sample.memory_working_set_bytes or 0
            if cpu == 0 and memory == 0:
                continue
            rows.append(
                [
                    sample.name,
                    truncate_id(sample.pod_id),
                    f"{sample.cpu_percent or 0.0:.2f}",
                    human_size(memory),
                ]
            )
        return rows

    return show_samples(ctx, args.watch, table)


def _configure_recreatep(parser: argparse.ArgumentParser) -> None:
    _configure_pod_references(parser)
    add_recreate_timeout(parser)
    parser.add_argument(
        "--new-sandbox",
        action="store_true",
        help="in a new sandbox even when the pod is ready (one that is not always gets one)",
    )


def _recreatep(ctx: Context, args: argparse.Namespace) -> int:
    """Each pod's containers recreated (``Pod.recreate``); prints the pod ids."""
    if not args.pods:
        raise ShowHelp
    cri = ctx.client()

    def recreate(reference: str) -> None:
        pod = cri.pods.recreate(
            reference, new_sandbox=args.new_sandbox or None, timeout=args.timeout
        )
        ctx.stdout.write(f"{pod.id}\n")

    return for_each(ctx, args.pods, recreate, "Recreating pods")


COMMANDS = (
    Command("pods", "List pods", _configure_pods, _pods),
    Command("runp", "Run a new pod", _configure_runp, _runp),
    Command("stopp", "Stop one or more running pods", _configure_pod_references, _stopp),
    Command("rmp", "Remove one or more pods", _configure_rmp, _rmp),
    Command("inspectp", "Display the status of one or more pods", _configure_inspectp, _inspectp),
    Command(
        "statsp",
        "List pod statistics (CPU and memory, sampled)",
        _configure_statsp,
        _statsp,
    ),
    Command(
        "recreatep",
        "Recreate the containers of one or more pods (in a new sandbox if not ready)",
        _configure_recreatep,
        _recreatep,
    ),
)
