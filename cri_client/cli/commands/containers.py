"""Containers: ``ps``, ``create``, ``start``, ``stop``, ``rm``, ``run``, ``inspect``,
``update``, ``stats``, ``checkpoint``, and ``recreate`` (no crictl twin)."""

from __future__ import annotations

import argparse
import os
import re
import time
from typing import TYPE_CHECKING

from cri_client.cli.arguments import (
    Command,
    add_filter_flags,
    add_output_flag,
    integer,
    limit,
    non_negative_int,
    output_template,
)
from cri_client.cli.commands._common import (
    add_prune_flags,
    add_recreate_timeout,
    add_sampling_flags,
    for_each,
    full_id,
    naming_unimplemented,
    nothing_found,
    prune_duration,
    registry_auth,
    show_samples,
    write_key_values,
    write_prune,
    write_statuses,
)
from cri_client.cli.commands.pods import cancel_timeout
from cri_client.cli.config import (
    label_filter,
    load_container_config,
    load_pod_config,
    parse_env,
)
from cri_client.cli.context import CommandError, Context, ShowHelp, UsageError
from cri_client.cli.output import (
    ZERO_TIME,
    ago,
    go_map,
    human_size,
    proto_dict,
    render_table,
    rfc3339nano,
    status_document,
    truncate_id,
    write_document,
)
from cri_client.cli.progress import bulk_progress, prune_progress

if TYPE_CHECKING:
    from cri_client import Container, CRIClient, pb

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}")


# --- listing ------------------------------------------------------------------------------


def _configure_ps(parser: argparse.ArgumentParser) -> None:
    add_filter_flags(parser, kind="container", id=True, pod=True, image=True, all=True)
    parser.add_argument("-v", "--verbose", action="store_true", help="show verbose info")
    parser.add_argument("-q", "--quiet", action="store_true", help="only display container IDs")
    parser.add_argument(
        "--no-trunc", action="store_true", help="show output without truncating the ID"
    )
    parser.add_argument(
        "-r",
        "--resolve-image-path",
        action="store_true",
        help="show the image's first tag instead of its id",
    )
    add_output_flag(parser, "table", template=True)


def select_containers(cri: CRIClient, args: argparse.Namespace) -> list[Container]:
    """crictl's container filters: running ones unless ``--all``, ``--state``, or
    ``--latest``/``--last`` (which look at every state). A ``--pod`` or ``--image``
    that does not exist selects nothing, as in crictl."""
    from cri_client.errors import NotFoundError

    pod = None
    if getattr(args, "pod", None):
        try:
            pod = cri.pods.get(args.pod)
        except NotFoundError:
            return []
    image_id = None
    if getattr(args, "image", None):
        try:
            image_id = cri.images.get(args.image).id
        except NotFoundError:
            return []
    every_state = bool(args.latest or args.last)
    containers = cri.containers.list(
        all=every_state or getattr(args, "all", False),
        id=getattr(args, "id", None) or None,
        state=None if every_state else args.state,
        labels=label_filter(args.label),
        pod=pod,
        name=args.name,
        namespace=args.namespace,
        image=image_id,
    )
    return limit(containers, args.latest, args.last)


def _ps(ctx: Context, args: argparse.Namespace) -> int:
    template = output_template(args)
    cri = ctx.client()
    containers = select_containers(cri, args)
    out = ctx.stdout
    if args.output != "table":
        document = {"containers": [proto_dict(c.raw) for c in containers]}
        write_document(document, args.output, out, template=template)
        return 0
    if args.quiet:
        out.writelines(f"{c.id}\n" for c in containers)
        return 0
    if args.verbose:
        for ctr in containers:
            out.write(f"ID: {ctr.id}\nPodID: {ctr.pod_id}\n")
            out.write(f"Namespace: {_pod_of(ctr)[1]}\n")
            if ctr.name:
                out.write(f"Name: {ctr.name}\n")
            out.write(f"Attempt: {ctr.attempt}\n")
            out.write(f"State: {ctr.state.value.capitalize()}\n")
            out.write(f"Image: {ctr.image}\n")
            out.write(f"Created: {ago(ctr.raw.created_at)}\n")
            write_key_values(out, "Labels", ctr.labels)
            write_key_values(out, "Annotations", ctr.annotations)
            out.write("\n")
        return 0
    rows = [
        ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD", "NAMESPACE"]
    ]
    now = time.time()
    for ctr in containers:
        image = ctr.image
        if args.resolve_image_path:
            image = _first_tag(cri, image)
        elif not args.no_trunc and _DIGEST.fullmatch(image):
            image = truncate_id(image, image.split(":", 1)[0] + ":")
        pod_name, pod_namespace = _pod_of(ctr)
        rows.append(
            [
                ctr.id if args.no_trunc else truncate_id(ctr.id),
                image,
                ago(ctr.raw.created_at, now),
                ctr.state.value.capitalize(),
                ctr.name,
                str(ctr.attempt),
                ctr.pod_id if args.no_trunc else truncate_id(ctr.pod_id),
                pod_name,
                pod_namespace,
            ]
        )
    out.write(render_table(rows))
    return 0


def _pod_of(ctr: Container) -> tuple[str, str]:
    """The container's pod name and namespace as the library reads them (kubelet's
    labels, else the pod); ``unknown`` when neither says, as crictl shows it."""
    return (ctr.pod_name or "unknown", ctr.pod_namespace or "unknown")


def _first_tag(cri: CRIClient, image: str) -> str:
    from cri_client.errors import NotFoundError

    try:
        tags = cri.images.get(image).repo_tags
    except NotFoundError:
        return image
    return tags[0] if tags else image


# --- create, start, stop, rm, run ----------------------------------------------------------


def _add_pull_flags(parser: argparse.ArgumentParser, *, run: bool) -> None:
    parser.add_argument("--no-pull", action="store_true", help="do not pull the image")
    parser.add_argument("--with-pull", action="store_true", help="pull the image")
    parser.add_argument("--creds", metavar="USERNAME[:PASSWORD]", help="registry credentials")
    parser.add_argument(
        "--auth", metavar="AUTH_STRING", help="registry credentials: base64 of USERNAME[:PASSWORD]"
    )
    parser.add_argument(
        "--username", metavar="USERNAME", help="registry user; the password is asked for"
    )
    parser.add_argument(
        "-T",
        "--cancel-timeout",
        metavar="DURATION",
        help="deadline of each request (default: the global --timeout)",
    )
    if run:
        parser.add_argument(
            "-r", "--runtime", default="", help="runtime handler to use (e.g. runsc)"
        )


def _configure_create(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD", help="pod id, id prefix or name")
    parser.add_argument("container_config", metavar="container-config.[json|yaml]")
    parser.add_argument(
        "pod_config",
        metavar="pod-config.[json|yaml]",
        nargs="?",
        help="the pod's config (default: the config the runtime reports for the pod)",
    )
    _add_pull_flags(parser, run=False)


def _pull_wanted(args: argparse.Namespace, default: bool) -> bool:
    if args.no_pull and args.with_pull:
        raise UsageError("conflict: --no-pull and --with-pull are both set")
    return (default and not args.no_pull) or args.with_pull


def _create(ctx: Context, args: argparse.Namespace) -> int:
    pull = _pull_wanted(args, ctx.settings.pull_image_on_create)
    config = load_container_config(args.container_config, ctx.warn)
    sandbox = load_pod_config(args.pod_config, ctx.warn) if args.pod_config else None
    auth = registry_auth(args.creds, args.auth, args.username)
    cri = ctx.client(cancel_timeout(args))
    pod = cri.pods.get(args.pod)
    if pull:
        cri.images.pull(config.image.image, auth=auth)
    reply = cri.api.create_container(
        pod_sandbox_id=pod.id, config=config, sandbox_config=sandbox or pod.config()
    )
    ctx.stdout.write(f"{reply.container_id}\n")
    return 0


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container_config", metavar="container-config.[json|yaml]")
    parser.add_argument("pod_config", metavar="pod-config.[json|yaml]")
    _add_pull_flags(parser, run=True)


def _run(ctx: Context, args: argparse.Namespace) -> int:
    """Pull (unless ``--no-pull``), run the pod, create and start the container. When
    anything after the pod fails, the pod is removed again (crictl leaves it behind)."""
    pull = _pull_wanted(args, not ctx.settings.disable_pull_on_run)
    config = load_container_config(args.container_config, ctx.warn)
    pod_config = load_pod_config(args.pod_config, ctx.warn)
    auth = registry_auth(args.creds, args.auth, args.username)
    cri = ctx.client(cancel_timeout(args))
    if pull:
        cri.images.pull(config.image.image, auth=auth)
    pod = cri.pods.run(pod_config.metadata.name, config=pod_config, runtime_handler=args.runtime)
    try:
        container_id = cri.api.create_container(
            pod_sandbox_id=pod.id, config=config, sandbox_config=pod_config
        ).container_id
        cri.api.start_container(container_id=container_id)
    except BaseException:
        pod.remove(force=True, missing_ok=True)
        ctx.warn(f"run failed: removed the pod sandbox {pod.id} it had created")
        raise
    ctx.stdout.write(f"{container_id}\n")
    return 0


def _configure_references(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "containers",
        nargs="*",
        metavar="CONTAINER-ID",
        help="container id, id prefix, name or namespace/pod/name",
    )


def _start(ctx: Context, args: argparse.Namespace) -> int:
    if not args.containers:
        raise ShowHelp
    cri = ctx.client()
    for reference in args.containers:
        cri.containers.get(reference).start()
        ctx.stdout.write(f"{reference}\n")
    return 0


def _configure_stop(parser: argparse.ArgumentParser) -> None:
    _configure_references(parser)
    parser.add_argument(
        "-t",
        "--timeout",
        type=non_negative_int,
        default=0,
        metavar="SECONDS",
        help="seconds between SIGTERM and SIGKILL (default 0: kill at once, as crictl)",
    )
    parser.add_argument("-a", "--all", action="store_true", help="stop all running containers")


def _stop(ctx: Context, args: argparse.Namespace) -> int:
    if args.all and args.containers:
        raise UsageError("cannot specify CONTAINER-ID(s) when using --all")
    cri = ctx.client()
    references = list(args.containers)
    if args.all:
        references = [ctr.id for ctr in cri.containers.list()]
        if not references:
            ctx.stdout.write("No running containers found.\n")
            return 0
    elif not references:
        raise ShowHelp
    with bulk_progress(ctx.stderr, len(references), "Stopping containers") as advance:
        for reference in references:
            cri.containers.get(reference).stop(args.timeout)
            ctx.stdout.write(f"{reference}\n")
            advance()
    return 0


def _configure_rm(parser: argparse.ArgumentParser) -> None:
    _configure_references(parser)
    parser.add_argument(
        "-f", "--force", action="store_true", help="stop a running container first (at once)"
    )
    parser.add_argument(
        "-k", "--keep-logs", action="store_true", help="keep the log file and its rotations"
    )
    parser.add_argument("-a", "--all", action="store_true", help="remove all containers")
    parser.add_argument(
        "--exited-before",
        default=None,
        metavar="DURATION",
        help="prune: remove the containers that exited at least this long ago (e.g. 1h30m; "
        "0s: every exited one), never a running or created one",
    )
    add_prune_flags(parser)


def _rm(ctx: Context, args: argparse.Namespace) -> int:
    """As crictl: a running container is refused without ``-f``; with it, it is killed
    (its id printed) and removed (its id printed again); its log files go too.
    ``--exited-before`` prunes instead (:func:`_prune_containers`)."""
    if args.exited_before is not None:
        return _prune_containers(ctx, args)
    if args.dry_run or args.label or args.output != "table":
        raise UsageError("--dry-run, --label and --output need --exited-before")
    if not (args.containers or args.all):
        raise ShowHelp
    cri = ctx.client()
    references = list(args.containers)
    if args.all:
        references = [ctr.id for ctr in cri.containers.list(all=True)]
        if not references:
            ctx.stderr.write("No containers to remove\n")
            return 0

    def remove(reference: str) -> None:
        ctr = cri.containers.get(reference)
        if ctr.state.value == "running":
            if not args.force:
                raise CommandError(f"container {reference!r} is running, please stop it first")
            ctr.stop(0)
            ctx.stdout.write(f"{reference}\n")
        log_path = ctr.log_path
        ctr.remove()
        ctx.stdout.write(f"{reference}\n")
        if log_path and not args.keep_logs:
            _remove_log_files(ctx, log_path)

    return for_each(ctx, references, remove, "Removing containers")


def _prune_containers(ctx: Context, args: argparse.Namespace) -> int:
    """``rm --exited-before DURATION``: the library's container prune; each removed
    container's id is printed as ``rm`` prints it (the plan with ``--dry-run``, the
    report with ``-o``). Log files stay, as the library's removal leaves them."""
    if args.containers or args.all or args.force:
        raise UsageError("--exited-before takes no CONTAINER-ID, --all or --force")
    exited_before = prune_duration(args.exited_before, "--exited-before")
    cri = ctx.client()
    with prune_progress(ctx.stderr) as progress:
        report = cri.containers.prune(
            exited_before=exited_before,
            labels=label_filter(args.label),
            dry_run=args.dry_run,
            progress=progress,
        )
    return write_prune(ctx, report, args.output, lambda item: [item.id])


def _remove_log_files(ctx: Context, log_path: str) -> None:
    import glob

    for path in [*glob.glob(glob.escape(log_path) + ".*"), log_path]:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            ctx.warn(f"removing log file {path}: {err.strerror or err}")


# --- inspect ---------------------------------------------------------------------------------


def _configure_inspect(parser: argparse.ArgumentParser) -> None:
    _configure_references(parser)
    add_output_flag(parser, "json", template=True)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not show verbose information"
    )
    add_filter_flags(parser, kind="container", pod=True, image=True, all=True)


def _inspect(ctx: Context, args: argparse.Namespace) -> int:
    """Without CONTAINER-IDs, the containers the filters select (running ones unless
    ``--all``); none: crictl's error line on stderr and the help, exit 0."""
    template = output_template(args)
    cri = ctx.client()
    references = list(args.containers)
    if not references:
        references = [ctr.id for ctr in select_containers(cri, args)]
        if not references:
            nothing_found(ctx)
    verbose = not args.quiet
    documents = []
    for reference in references:
        container_id = full_id(reference, cri.containers.get)
        reply = cri.api.container_status(container_id=container_id, verbose=verbose)
        if args.output == "table":
            _write_container_status_table(ctx, reply, verbose)
        else:
            documents.append(status_document(container_status_dict(reply.status), reply.info))
    write_statuses(ctx, documents, args.output, template)
    return 0


def container_status_dict(status: pb.ContainerStatus) -> dict[str, object]:
    """crictl's ``marshalContainerStatus``: times as RFC 3339 in the local zone; a start
    not reached yet (state CREATED) and a finish not reached (not EXITED) as Go's zero
    time."""
    from cri_client import pb

    document = proto_dict(status)
    document["createdAt"] = rfc3339nano(status.created_at)
    started = status.state != pb.CONTAINER_CREATED
    finished = status.state == pb.CONTAINER_EXITED or (
        status.state == pb.CONTAINER_UNKNOWN and status.finished_at > 0
    )
    document["startedAt"] = rfc3339nano(status.started_at) if started else ZERO_TIME
    document["finishedAt"] = rfc3339nano(status.finished_at) if finished else ZERO_TIME
    return document


def _write_container_status_table(
    ctx: Context, reply: pb.ContainerStatusResponse, verbose: bool
) -> None:
    """crictl's ``inspect -o table``."""
    from cri_client import pb

    status = reply.status
    out = ctx.stdout
    out.write(f"ID: {status.id}\n")
    if status.metadata.name:
        out.write(f"Name: {status.metadata.name}\n")
    if status.metadata.attempt:
        out.write(f"Attempt: {status.metadata.attempt}\n")
    out.write(f"State: {pb.ContainerState.Name(status.state)}\n")
    out.write(f"Created: {ago(status.created_at)}\n")
    if status.state != pb.CONTAINER_CREATED:
        out.write(f"Started: {ago(status.started_at)}\n")
    if status.state == pb.CONTAINER_EXITED:
        if status.finished_at > 0:
            out.write(f"Finished: {ago(status.finished_at)}\n")
        out.write(f"Exit Code: {status.exit_code}\n")
    write_key_values(out, "Labels", dict(status.labels))
    write_key_values(out, "Annotations", dict(status.annotations))
    if verbose:
        out.write(f"Info: {go_map(dict(reply.info))}\n")


# --- update ------------------------------------------------------------------------------------

_UPDATE_FLAGS = (
    ("--cpu-period", "cpu_period", "CPU CFS period (in usecs); 0: the system default"),
    ("--cpu-quota", "cpu_quota", "CPU CFS hardcap limit (in usecs) per period"),
    ("--cpu-share", "cpu_shares", "CPU shares (relative weight vs. other containers)"),
    ("--memory", "memory_limit_in_bytes", "memory limit (in bytes)"),
    ("--oom-score-adj", "oom_score_adj", "OOM killer score adjustment"),
)


def _configure_update(parser: argparse.ArgumentParser) -> None:
    _configure_references(parser)
    for flag, field, text in _UPDATE_FLAGS:
        parser.add_argument(flag, dest=field, type=integer, default=0, metavar="N", help=text)
    parser.add_argument("--cpuset-cpus", default="", metavar="CPUS", help="CPUs to use")
    parser.add_argument("--cpuset-mems", default="", metavar="NODES", help="memory nodes to use")


def _update(ctx: Context, args: argparse.Namespace) -> int:
    """Sends every field, zeros included, as crictl does (zero means "unchanged" to
    the runtime)."""
    if not args.containers:
        raise ShowHelp
    resources = {field: getattr(args, field) for _, field, _ in _UPDATE_FLAGS}
    resources.update(cpuset_cpus=args.cpuset_cpus, cpuset_mems=args.cpuset_mems)
    cri = ctx.client()
    for reference in args.containers:
        cri.containers.get(reference).update_resources(**resources)
        ctx.stdout.write(f"{reference}\n")
    return 0


# --- stats ---------------------------------------------------------------------------------------


def _configure_stats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", nargs="?", metavar="ID", help="only this container")
    parser.add_argument("-a", "--all", action="store_true", help="show stopped containers too")
    parser.add_argument("--id", default=None, help="only this container")
    parser.add_argument("-p", "--pod", default=None, help="only this pod's containers")
    add_sampling_flags(parser)


def _stats(ctx: Context, args: argparse.Namespace) -> int:
    cri = ctx.client()
    reference = args.id or args.container
    container_id = cri.containers.get(reference).id if reference else None
    pod_id = cri.pods.get(args.pod).id if args.pod else None
    labels = label_filter(args.label)
    if args.output != "table":
        if isinstance(labels, str):  # a selector: the runtime's filter cannot take it all
            samples = cri.containers.stats(
                pod=pod_id, labels=labels, id=container_id, interval=float(args.seconds or 1)
            )
            replies = [sample.raw for sample in samples]
        else:
            stats_filter = {
                "id": container_id or "",
                "pod_sandbox_id": pod_id or "",
                "label_selector": labels or {},
            }
            replies = list(cri.api.list_container_stats(filter=stats_filter).stats)
        items = sorted(replies, key=lambda s: s.attributes.id)
        write_document({"stats": [proto_dict(s) for s in items]}, args.output, ctx.stdout)
        return 0

    def table() -> list[list[str]]:
        samples = cri.containers.stats(
            pod=pod_id, labels=labels, id=container_id, interval=float(args.seconds)
        )
        rows = [["CONTAINER", "NAME", "CPU %", "MEM", "DISK", "INODES", "SWAP"]]
        for sample in sorted(samples, key=lambda s: s.container_id):
            cpu = sample.cpu_usage_core_nanoseconds or 0
            memory = sample.memory_working_set_bytes or 0
            if not args.all and cpu == 0 and memory == 0:
                continue  # not running
            rows.append(
                [
                    truncate_id(sample.container_id),
                    sample.name,
                    f"{sample.cpu_percent or 0.0:.2f}",
                    human_size(memory),
                    human_size(sample.writable_layer_bytes or 0),
                    str(sample.writable_layer_inodes or 0),
                    human_size(sample.raw.swap.swap_usage_bytes.value),
                ]
            )
        return rows

    return show_samples(ctx, args.watch, table)


def _configure_checkpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("containers", nargs="*", metavar="CONTAINER-ID")
    parser.add_argument(
        "-e",
        "--export",
        default="",
        metavar="FILE",
        help="the tar archive (/path/to/checkpoint.tar) the checkpoint is exported to",
    )


def _checkpoint(ctx: Context, args: argparse.Namespace) -> int:
    """CheckpointContainer for each container, in order, its id printed when done;
    the first failure ends the command, as in crictl. The archive is written by the
    runtime, on its side of the socket."""
    if not args.containers:
        raise UsageError("ID cannot be empty")
    if not args.export:
        raise UsageError(
            "cannot checkpoint a container without specifying the checkpoint destination. "
            "Use --export=/path/to/checkpoint.tar"
        )
    from cri_client.errors import CRIError, UnimplementedError

    cri = ctx.client()
    for reference in args.containers:
        container_id = cri.containers.get(reference).id
        with naming_unimplemented(ctx, "CheckpointContainer"):
            try:
                cri.api.checkpoint_container(container_id=container_id, location=args.export)
            except CRIError as err:
                if isinstance(err, UnimplementedError):
                    raise
                message = f'checkpointing the container "{reference}" failed: {err}'
                raise CommandError(message) from None
        ctx.stdout.write(f"{reference}\n")
    return 0


def _configure_recreate(parser: argparse.ArgumentParser) -> None:
    _configure_references(parser)
    add_recreate_timeout(parser)
    parser.add_argument("--image", help="the new container's image (default: the same)")
    parser.add_argument(
        "-e",
        "--env",
        action="append",
        metavar="KEY=VALUE",
        help="set an env variable of the new container (repeat; KEY- removes KEY)",
    )
    parser.add_argument("--pull", action="store_true", help="pull the image when it is missing")


def _recreate(ctx: Context, args: argparse.Namespace) -> int:
    """Each container stopped, removed, and created and started again from its own
    config with ``attempt + 1``; prints the new ids."""
    if not args.containers:
        raise ShowHelp
    env = parse_env(args.env)
    cri = ctx.client()

    def recreate(reference: str) -> None:
        new = cri.containers.recreate(
            reference, image=args.image, env=env, pull=args.pull, timeout=args.timeout
        )
        ctx.stdout.write(f"{new.id}\n")

    return for_each(ctx, args.containers, recreate, "Recreating containers")


COMMANDS = (
    Command("ps", "List containers", _configure_ps, _ps),
    Command("create", "Create a new container", _configure_create, _create),
    Command("start", "Start one or more created containers", _configure_references, _start),
    Command("stop", "Stop one or more running containers", _configure_stop, _stop),
    Command("rm", "Remove one or more containers", _configure_rm, _rm),
    Command("run", "Run a new container inside a sandbox", _configure_run, _run),
    Command(
        "inspect", "Display the status of one or more containers", _configure_inspect, _inspect
    ),
    Command("update", "Update one or more running containers", _configure_update, _update),
    Command("stats", "List container(s) resource usage statistics", _configure_stats, _stats),
    Command(
        "checkpoint",
        "Checkpoint one or more running containers",
        _configure_checkpoint,
        _checkpoint,
    ),
    Command(
        "recreate",
        "Recreate one or more containers from their own config (attempt + 1)",
        _configure_recreate,
        _recreate,
    ),
)
