"""The runtime itself: ``version``, ``info``, ``events``, ``runtime-config``,
``update-runtime-config``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cri_client.cli.arguments import (
    Command,
    add_output_flag,
    add_template_flag,
    output_template,
)
from cri_client.cli.commands._common import naming_unimplemented
from cri_client.cli.context import Context, ShowHelp, UsageError, until_interrupted
from cri_client.cli.output import (
    go_json_dict,
    proto_dict,
    render_table,
    render_template,
    status_document,
    write_document,
)

if TYPE_CHECKING:
    from cri_client.cli.gotemplate import Template


def _configure_version(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser, "table", template=True)


def _version(ctx: Context, args: argparse.Namespace) -> int:
    template = output_template(args)
    raw = ctx.client().version().raw
    if args.output != "table":
        write_document(proto_dict(raw), args.output, ctx.stdout, template=template)
        return 0
    # crictl's fmt.Println("Version: ", v): two spaces.
    ctx.stdout.write(
        f"Version:  {raw.version}\n"
        f"RuntimeName:  {raw.runtime_name}\n"
        f"RuntimeVersion:  {raw.runtime_version}\n"
        f"RuntimeApiVersion:  {raw.runtime_api_version}\n"
    )
    return 0


def _configure_info(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser, "json", ("json", "yaml"), template=True)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not show verbose information"
    )


def _info(ctx: Context, args: argparse.Namespace) -> int:
    """``{"status": ..., "runtimeHandlers": [...], "features": {...}, <info keys>}``:
    handlers and features as Go's encoding/json renders them (crictl cannot use
    protojson there), the runtime's info values decoded."""
    template = output_template(args)
    raw = ctx.client().status(verbose=not args.quiet).raw
    extra: dict[str, object] = {}
    if raw.runtime_handlers:
        extra["runtimeHandlers"] = [go_json_dict(handler) for handler in raw.runtime_handlers]
    if raw.HasField("features"):
        extra["features"] = go_json_dict(raw.features)
    document = status_document(proto_dict(raw.status), raw.info, extra)
    write_document(document, args.output, ctx.stdout, sort_keys=True, template=template)
    return 0


def _configure_events(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="json",
        metavar="json|yaml|go-template",
        help="output format (default json)",
    )
    add_template_flag(parser)


def events_template(output: str, template: str) -> Template | None:
    """crictl's checks of ``events``' flags, with its messages: ``json``/``yaml`` take no
    ``--template``; ``go-template`` needs one that parses; nothing else is a format."""
    from cri_client.cli.gotemplate import TemplateError, go_quote, parse

    if output in ("json", "yaml"):
        if template:
            raise UsageError(f"template can't be used with {go_quote(output)} format")
        return None
    if output != "go-template":
        raise UsageError(f"don't support {go_quote(output)} format")
    try:
        return parse(template, "")
    except TemplateError as err:
        raise UsageError(f"failed to parse go-template: {err}") from None


def _events(ctx: Context, args: argparse.Namespace) -> int:
    """Every container event as it happens, one JSON document each (indented, as
    crictl prints them) or one YAML document each (with ``---`` between them), until
    interrupted. The runtime's backlog (events from before the subscription) is not
    printed. The stream is resubscribed when the runtime restarts; crictl has no
    document for that, so stdout stays crictl's and a warning on stderr says that
    events may be missing. A runtime without events (containerd 1.6, CRI-O with
    ``enable_pod_events = false``) is an error: exit 1, the reason on stderr.

    With ``-o go-template``, each event goes through the template; an event the
    template fails on is a warning on stderr (crictl prints it on stdout) and the
    stream goes on, as crictl's."""
    from cri_client import Resubscribed

    template = events_template(args.output, args.template)
    with until_interrupted(), ctx.client().events() as events:
        for event in events:
            if isinstance(event, Resubscribed):
                ctx.warn(
                    f"events: subscribed again after: {event.reason}; "
                    "events in between may be missing"
                )
                continue
            if template is not None:
                try:
                    ctx.stdout.write(render_template(template, proto_dict(event.raw)) + "\n")
                except ValueError as err:
                    ctx.warn(f"failed to format container event with the error: {err}")
            else:
                if args.output == "yaml":
                    ctx.stdout.write("---\n")
                write_document(proto_dict(event.raw), args.output, ctx.stdout)
            ctx.stdout.flush()
    return 0


def _configure_runtime_config(parser: argparse.ArgumentParser) -> None:
    """crictl's ``runtime-config`` has no flags."""


def _runtime_config(ctx: Context, args: argparse.Namespace) -> int:
    """The runtime's configuration as crictl prints it: ``cgroup driver:   SYSTEMD``
    (a table of minimum width 10), nothing when the runtime sends no Linux part."""
    with naming_unimplemented(ctx, "RuntimeConfig"):
        reply = ctx.client().api.runtime_config()
    if reply.HasField("linux"):
        from cri_client import pb

        driver = pb.CgroupDriver.Name(reply.linux.cgroup_driver)
        ctx.stdout.write(render_table([["cgroup driver:", driver]], min_width=10))
    return 0


def _configure_update_runtime_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--pod-cidr",
        default=None,
        metavar="CIDR",
        help="the new CIDR of pod IP addresses (empty: the runtime omits it)",
    )


def _update_runtime_config(ctx: Context, args: argparse.Namespace) -> int:
    """UpdateRuntimeConfig with the pod CIDR; without a flag, the help (as crictl).
    Nothing is printed on success: crictl's log line "Runtime config successfully
    updated" would be stderr output for a command that succeeded."""
    if args.pod_cidr is None:
        raise ShowHelp
    from cri_client import pb

    config = pb.RuntimeConfig(network_config=pb.NetworkConfig(pod_cidr=args.pod_cidr))
    with naming_unimplemented(ctx, "UpdateRuntimeConfig"):
        ctx.client().api.update_runtime_config(runtime_config=config)
    return 0


COMMANDS = (
    Command("version", "Display runtime version information", _configure_version, _version),
    Command("info", "Display information of the container runtime", _configure_info, _info),
    Command(
        "events",
        "Stream the events of containers",
        _configure_events,
        _events,
        aliases=("event",),
    ),
    Command(
        "runtime-config",
        "Retrieve the container runtime configuration",
        _configure_runtime_config,
        _runtime_config,
    ),
    Command(
        "update-runtime-config",
        "Update the runtime configuration",
        _configure_update_runtime_config,
        _update_runtime_config,
    ),
)
