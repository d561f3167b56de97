"""Images: ``images``/``img``, ``pull``, ``rmi``, ``inspecti``, ``imagefsinfo``."""

from __future__ import annotations

import argparse
import functools
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cri_client.cli.arguments import Command, add_output_flag, output_template
from cri_client.cli.commands._common import (
    add_prune_flags,
    for_each,
    nothing_found,
    prune_duration,
    registry_auth,
    write_prune,
    write_statuses,
)
from cri_client.cli.context import CommandError, Context, ShowHelp, UsageError
from cri_client.cli.output import (
    go_map,
    human_size,
    proto_dict,
    render_table,
    status_document,
    truncate_id,
    write_document,
)
from cri_client.cli.progress import prune_progress

if TYPE_CHECKING:
    from cri_client import Image

NONE = "<none>"


def _by_reference(one: Image, other: Image) -> int:
    """crictl's ``imageByRef`` order: first tags, else first digests, else ids."""

    def compare(a: str, b: str) -> int:
        return (a > b) - (a < b)

    if one.repo_tags and other.repo_tags:
        return compare(one.repo_tags[0], other.repo_tags[0])
    if one.repo_digests and other.repo_digests:
        return compare(one.repo_digests[0], other.repo_digests[0])
    return compare(one.id, other.id)


def sorted_images(images: Sequence[Image]) -> list[Image]:
    return sorted(images, key=functools.cmp_to_key(_by_reference))


def repo_and_digest(repo_digests: Sequence[str]) -> tuple[str, str]:
    """crictl's ``normalizeRepoDigest``: the name and digest of the first repo digest."""
    if not repo_digests:
        return NONE, NONE
    parts = repo_digests[0].split("@")
    if len(parts) != 2:
        return "errorName", "errorRepoDigest"
    return parts[0], parts[1]


def repo_tag_pairs(repo_tags: Sequence[str], image_name: str) -> list[tuple[str, str]]:
    """crictl's ``normalizeRepoTagPair``: (repository, tag) per tag; an image pulled by
    digest has none and shows its name with the tag ``<none>``."""
    if not repo_tags:
        return [(image_name, NONE)]
    pairs = []
    for repo_tag in repo_tags:
        name, colon, tag = repo_tag.rpartition(":")
        if not colon:
            pairs.append(("errorRepoTag", "errorRepoTag"))
            continue
        pairs.append((image_name if name == NONE else name, tag))
    return pairs


# --- images ---------------------------------------------------------------------------------


def _configure_images(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    parser.add_argument("-v", "--verbose", action="store_true", help="show verbose info")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=None,
        metavar="FILTER",
        help="dangling=true|false, reference=REGEX, before=IMAGE, since=IMAGE (repeatable)",
    )
    add_output_flag(parser, "table", template=True)
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument(
        "--no-trunc", action="store_true", help="show output without truncating the ID"
    )
    parser.add_argument("--pinned", action="store_true", help="show whether the image is pinned")


def filter_images(images: list[Image], filters: Sequence[str]) -> list[Image]:
    """crictl's ``--filter`` conditions, applied in order on the sorted list."""
    selected = list(images)
    for condition in filters:
        kind, _, value = condition.partition("=")
        if kind == "dangling":
            if value not in ("true", "false"):
                raise UsageError(f"--filter {condition!r}: dangling must be true or false")
            selected = [i for i in selected if bool(i.repo_tags) == (value == "false")]
        elif kind == "reference":
            try:
                pattern = re.compile(value)
            except re.error as err:
                raise UsageError(f"--filter {condition!r}: invalid regex: {err}") from None
            selected = [
                i
                for i in selected
                if pattern.search(repo_and_digest(i.repo_digests)[0])
                or repo_and_digest(i.repo_digests)[0] == value
            ]
        elif kind == "before":
            selected = list(reversed(_until(value, list(reversed(selected)))))
        elif kind == "since":
            selected = _until(value, selected)
        else:
            raise UsageError(f"unknown filter flag: {condition!r}")
    return selected


def _until(value: str, images: list[Image]) -> list[Image]:
    """crictl's ``filterByBeforeSince``: the images listed before the one ``value`` names
    (a name:tag, an id prefix, or a repo@digest)."""
    kept = []
    for image in images:
        if "@" in value:
            if image.repo_digests and image.repo_digests[0].startswith(value):
                break
            if image.repo_digests:
                kept.append(image)
        elif ":" in value:
            name = repo_and_digest(image.repo_digests)[0]
            if ":".join(repo_tag_pairs(image.repo_tags, name)[0]) == value:
                break
            kept.append(image)
        else:
            if image.id.startswith(value):
                break
            kept.append(image)
    return kept


def _images(ctx: Context, args: argparse.Namespace) -> int:
    template = output_template(args)
    cri = ctx.client()
    images = cri.images.list(reference=args.repository or None)
    images = filter_images(sorted_images(images), args.filter or ())
    out = ctx.stdout
    if args.output != "table":
        document = {"images": [proto_dict(i.raw) for i in images]}
        write_document(document, args.output, out, template=template)
        return 0
    if args.quiet:
        out.writelines(f"{image.id}\n" for image in images)
        return 0
    if args.verbose:
        for image in images:
            out.write(f"ID: {image.id}\n")
            out.writelines(f"RepoTags: {tag}\n" for tag in image.repo_tags)
            out.writelines(f"RepoDigests: {digest}\n" for digest in image.repo_digests)
            if image.size:
                out.write(f"Size: {image.size}\n")
            if image.raw.HasField("uid"):
                out.write(f"Uid: value:{image.raw.uid.value}\n")
            if image.username:
                out.write(f"Username: {image.username}\n")
            if image.pinned:
                out.write("Pinned: true\n")
            out.write("\n")
        return 0
    header = ["IMAGE", "TAG"] + ["DIGEST"] * args.digests + ["IMAGE ID", "SIZE"]
    rows = [header + ["PINNED"] * args.pinned]
    for image in images:
        name, digest = repo_and_digest(image.repo_digests)
        image_id = image.id
        if not args.no_trunc:
            image_id = truncate_id(image_id, "sha256:")
            digest = truncate_id(digest, "sha256:")
        size = human_size(image.size, 3)
        for repository, tag in repo_tag_pairs(image.repo_tags, name):
            row = [repository, tag] + [digest] * args.digests + [image_id, size]
            rows.append(row + [str(image.pinned).lower()] * args.pinned)
    out.write(render_table(rows))
    return 0


# --- pull, rmi ----------------------------------------------------------------------------------


def _configure_pull(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="NAME[:TAG|@DIGEST]")
    parser.add_argument(
        "--creds",
        metavar="USERNAME[:PASSWORD]",
        help="registry credentials (also $CRICTL_CREDS)",
    )
    parser.add_argument(
        "--auth",
        metavar="AUTH_STRING",
        help="base64 of USERNAME[:PASSWORD] (also $CRICTL_AUTH)",
    )
    parser.add_argument(
        "-u", "--username", metavar="USERNAME", help="registry user; the password is asked for"
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "tty", "plain", "quiet"),
        default="auto",
        help="auto: bars on a terminal, else crictl's output alone; tty: bars;"
        " plain: a line a second (logs); quiet: only the final line",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress, only the final line"
    )


def _pull(ctx: Context, args: argparse.Namespace) -> int:
    """Credentials: the flags, else ``$CRICTL_CREDS``/``$CRICTL_AUTH``, else the
    docker/podman credential files (crictl reads none of those files). A failure is
    crictl's ``pulling image: <the runtime's reason>``, exit 1. Progress shows only
    on a terminal unless asked for (``--progress plain``): in a pipe, stdout is
    crictl's one line, which scripts read."""
    from cri_client.cli.progress import pull_progress_display
    from cri_client.errors import CRIError

    creds = args.creds or os.environ.get("CRICTL_CREDS") or None
    auth = args.auth or os.environ.get("CRICTL_AUTH") or None
    credentials = registry_auth(creds, auth, args.username)
    style = "quiet" if args.quiet else args.progress
    if style == "auto":
        style = "tty" if ctx.stdout.isatty() else "quiet"
    try:
        if style == "quiet":
            image = ctx.client().images.pull(args.image, auth=credentials)
        else:
            with pull_progress_display(ctx.stdout, bars=style == "tty") as show:
                image = ctx.client().images.pull(args.image, auth=credentials, progress=show)
    except CRIError as err:
        raise CommandError(f"pulling image: {err}") from None
    ctx.stdout.write(f"Image is up to date for {image.id}\n")
    return 0


def _configure_rmi(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="*", metavar="IMAGE-ID", help="image id, prefix or name")
    parser.add_argument("-a", "--all", action="store_true", help="remove all images")
    parser.add_argument(
        "-q",
        "--prune",
        action="store_true",
        help="remove all images nothing uses (kept: in use by any container, the sandbox "
        "image, pinned ones)",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="PATTERN",
        help="with --prune: also keep images with a tag or digest matching this pattern "
        "(fnmatch, e.g. '*/pause:*')",
    )
    parser.add_argument(
        "--min-age",
        default=None,
        metavar="DURATION",
        help="with --prune: also keep images younger than this (e.g. 24h; see docs/operations.md)",
    )
    add_prune_flags(parser, labels=False)


def _rmi(ctx: Context, args: argparse.Namespace) -> int:
    if not args.prune and (args.dry_run or args.keep or args.min_age or args.output != "table"):
        raise UsageError("--dry-run, --keep, --min-age and --output need --prune")
    if not (args.images or args.all or args.prune):
        raise ShowHelp
    if args.prune:
        return _prune_images(ctx, args)
    cri = ctx.client()
    selected = dict.fromkeys(args.images)
    if args.all:
        selected.update(dict.fromkeys(image.id for image in cri.images.list()))
    if not selected:
        ctx.stderr.write("No images to remove\n")
        return 0

    from cri_client.errors import NotFoundError

    def remove(reference: str) -> None:
        try:
            image = cri.images.get(reference)
        except NotFoundError:
            raise CommandError(f"no such image {reference}") from None
        cri.images.remove(reference)
        for name in image.repo_tags or image.repo_digests:
            ctx.stdout.write(f"Deleted: {name}\n")

    return for_each(ctx, list(selected), remove, "Removing images")


def _prune_images(ctx: Context, args: argparse.Namespace) -> int:
    """``rmi --prune``: the library's prune (never an image a container of any state
    uses, the sandbox image or a pinned one); crictl's ``Deleted: <tag>`` lines for
    each removed image, or the plan with reasons (``--dry-run``), or the report (``-o``)."""
    min_age = prune_duration(args.min_age, "--min-age")
    cri = ctx.client()
    names: dict[str, list[str]] = {}
    if args.output == "table" and not args.dry_run:  # only crictl's Deleted: lines use them
        names = {
            image.id: [*image.repo_tags] or [*image.repo_digests] for image in cri.images.list()
        }
    with prune_progress(ctx.stderr) as progress:
        report = cri.images.prune(
            keep=args.keep, min_age=min_age, dry_run=args.dry_run, progress=progress
        )
    if not any(item.selected for item in report.items) and args.output == "table":
        ctx.stderr.write("No images to remove\n")
        return 0
    return write_prune(
        ctx, report, args.output, lambda item: [f"Deleted: {n}" for n in names.get(item.id, [])]
    )


# --- inspecti, imagefsinfo --------------------------------------------------------------------


def _configure_inspecti(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="*", metavar="IMAGE-ID", help="image id, prefix or name")
    add_output_flag(parser, "json", template=True)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not show verbose information"
    )
    parser.add_argument("--name", default=None, help="without IMAGE-IDs: the images of this name")


def _inspecti(ctx: Context, args: argparse.Namespace) -> int:
    """Without IMAGE-IDs, every image (of ``--name``); none: crictl's error line on
    stderr and the help, exit 0."""
    template = output_template(args)
    cri = ctx.client()
    references = list(args.images)
    if not references:
        images = cri.images.list(reference=args.name or None)
        references = [image.id for image in sorted_images(images)]
        if not references:
            nothing_found(ctx)
    from cri_client.errors import NotFoundError

    verbose = not args.quiet
    documents = []
    for reference in references:
        try:
            image_id = cri.images.get(reference).id
        except NotFoundError:
            raise CommandError(f"no such image {reference!r} present") from None
        reply = cri.api.image_status(image={"image": image_id}, verbose=verbose)
        if not reply.HasField("image"):
            raise CommandError(f"no such image {reference!r} present")
        if args.output == "table":
            out = ctx.stdout
            out.write(f"ID: {reply.image.id}\n")
            out.writelines(f"Tag: {tag}\n" for tag in reply.image.repo_tags)
            out.writelines(f"Digest: {digest}\n" for digest in reply.image.repo_digests)
            out.write(f"Size: {human_size(reply.image.size, 3)}\n")
            if verbose:
                out.write(f"Info: {go_map(dict(reply.info))}\n")
            continue
        documents.append(status_document(proto_dict(reply.image), reply.info))
    write_statuses(ctx, documents, args.output, template)
    return 0


def _configure_imagefsinfo(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser, "json", template=True)


def _imagefsinfo(ctx: Context, args: argparse.Namespace) -> int:
    template = output_template(args)
    reply = ctx.client().api.image_fs_info()
    if args.output != "table":
        write_statuses(ctx, [status_document(proto_dict(reply), {})], args.output, template)
        return 0
    out = ctx.stdout
    for title, filesystems in (
        ("Container", reply.container_filesystems),
        ("Image", reply.image_filesystems),
    ):
        out.write(f"{title} Filesystem \n")
        for index, usage in enumerate(filesystems):
            out.write(f"TimeStamp[{index}]: {usage.timestamp}\n")
            out.write(f"Disk[{index}]: {human_size(usage.used_bytes.value)}\n")
            out.write(f"Inodes[{index}]: {usage.inodes_used.value}\n")
            out.write(f"Mountpoint[{index}]: {usage.fs_id.mountpoint}\n")
    return 0


COMMANDS = (
    Command("images", "List images", _configure_images, _images, aliases=("image", "img")),
    Command("pull", "Pull an image from a registry", _configure_pull, _pull),
    Command("rmi", "Remove one or more images", _configure_rmi, _rmi),
    Command("inspecti", "Return the status of one or more images", _configure_inspecti, _inspecti),
    Command("imagefsinfo", "Return image filesystem info", _configure_imagefsinfo, _imagefsinfo),
)
