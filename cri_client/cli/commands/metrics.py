"""The runtime's own metrics: ``metricdescs`` and ``metricsp`` (alias ``podmetrics``),
printed as crictl prints the replies (protobuf's JSON or YAML)."""

from __future__ import annotations

import argparse
import time

from cri_client.cli.arguments import Command
from cri_client.cli.commands._common import (
    add_protobuf_output_flag,
    checked_protobuf_output,
    naming_unimplemented,
)
from cri_client.cli.context import Context, ShowHelp, until_interrupted
from cri_client.cli.output import proto_dict, write_document

_WATCH_INTERVAL = 1.0  # seconds between two samples of ``metricsp -w``


def _configure_metricdescs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    add_protobuf_output_flag(parser)


def _metricdescs(ctx: Context, args: argparse.Namespace) -> int:
    """ListMetricDescriptors' reply; an argument, or an output format other than
    json and yaml, shows the help (exit 0) as in crictl."""
    if args.extra:
        raise ShowHelp
    output = checked_protobuf_output(args.output)
    with naming_unimplemented(ctx, "ListMetricDescriptors"):
        reply = ctx.client().api.list_metric_descriptors()
    write_document(proto_dict(reply), output, ctx.stdout)
    return 0


def _configure_metricsp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    add_protobuf_output_flag(parser)
    parser.add_argument("-w", "--watch", action="store_true", help="watch pod metrics")


def _metricsp(ctx: Context, args: argparse.Namespace) -> int:
    """ListPodSandboxMetrics' reply, once or (``--watch``) every second until
    interrupted."""
    if args.extra:
        raise ShowHelp
    output = checked_protobuf_output(args.output)
    cri = ctx.client()
    with until_interrupted():
        while True:
            with naming_unimplemented(ctx, "ListPodSandboxMetrics"):
                reply = cri.api.list_pod_sandbox_metrics()
            write_document(proto_dict(reply), output, ctx.stdout)
            ctx.stdout.flush()
            if not args.watch:
                return 0
            time.sleep(_WATCH_INTERVAL)
    return 0


COMMANDS = (
    Command(
        "metricdescs",
        "List metric descriptors. Returns information about the metrics available through the CRI.",
        _configure_metricdescs,
        _metricdescs,
    ),
    Command(
        "metricsp",
        "List pod metrics. Metrics are unstructured key/value pairs gathered by CRI meant to "
        "replace cAdvisor's /metrics/cadvisor endpoint.",
        _configure_metricsp,
        _metricsp,
        aliases=("podmetrics",),
    ),
)
