"""Container logs: the files the runtime writes, read the way kubelet reads them.

A CRI runtime writes a container's stdout and stderr to ``ContainerStatus.log_path``,
one record per line::

    2026-01-02T03:04:05.123456789Z stdout F hello
    2026-01-02T03:04:05.200000000Z stderr P the first 16 KiB of a long line
    2026-01-02T03:04:05.200000100Z stderr F the rest of it

``P`` marks a partial record (containerd cuts lines longer than
``max_container_log_line_size``, 16 KiB, into several), joined here with the
following records of the same stream up to the ``F``. Lines in Docker's JSON format
(cri-dockerd, dockershim) are read too, decided line by line. Rotated files beside
the log (``<path>.1``, kubelet's ``<path>.<YYYYMMDD-HHMMSS>[.gz]``) are its older
content. Nothing here calls the runtime or waits: ``Container.logs()`` finds the path and
says when following ends, and the follow loop (``cri_client._sync.support`` and its
asyncio source) adds the waits between polls.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, NamedTuple, TypeAlias

from cri_client._core.validation import check_seconds
from cri_client.errors import NotFoundError
from cri_client.types import LogRecord

_STREAMS = ("stdout", "stderr")

Since: TypeAlias = datetime | timedelta | float
"""A point in time (aware ``datetime``), or that long ago (``timedelta`` or seconds)."""

_BLOCK = 64 * 1024

_TIME = re.compile(
    rb"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)"
)
# logrotate's <log>.1 (newest) ... and kubelet's <log>.<YYYYMMDD-HHMMSS>, each maybe gzipped.
_ROTATED = r"\.(?:(\d+)|(\d{8}-\d{6}))(\.gz)?"


class _Entry(NamedTuple):
    """One record of the file, as written: a whole line, or part of one."""

    timestamp: datetime
    nanosecond: int
    stream: str
    partial: bool
    content: bytes


@dataclass(frozen=True)
class _Query:
    """Which lines the caller wants, ``since`` already turned into a point in time."""

    since: datetime | None
    until: datetime | None
    stream: str | None

    def matches(self, stream: str, when: datetime, nanosecond: int) -> bool:
        return (
            (self.stream is None or stream == self.stream)
            and (self.since is None or when >= self.since)
            and (self.until is None or (when, nanosecond) <= (self.until, 0))
        )


# --- arguments ---------------------------------------------------------------------


def check_log_options(
    *,
    tail: int | None = None,
    since: Since | None = None,
    until: datetime | None = None,
    stream: str | None = None,
    limit_bytes: int | None = None,
) -> None:
    """Raise ValueError naming the first bad argument, before any file (or RPC) is
    touched. A ``since`` in the future is valid: it selects nothing yet."""
    _query(tail, since, until, stream)
    _check_limit(limit_bytes)


def _query(
    tail: int | None, since: Since | None, until: datetime | None, stream: str | None
) -> _Query:
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise ValueError(f"tail must be a non-negative number of lines or None, not {tail!r}")
    if stream is not None and stream not in _STREAMS:
        raise ValueError(f"stream must be 'stdout', 'stderr' or None, not {stream!r}")
    if until is not None:
        _check_aware(until, "until")
    return _Query(_resolve_since(since), until, stream)


def _resolve_since(since: Since | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        _check_aware(since, "since")
        return since
    if isinstance(since, timedelta):
        if since < timedelta(0):
            raise ValueError(f"since must not be a negative timedelta, not {since!r}")
        ago = since
    else:
        try:
            ago = timedelta(seconds=check_seconds(since, "since"))
        except OverflowError:
            return None  # longer ago than datetime reaches: everything
    try:
        return datetime.now(timezone.utc) - ago
    except OverflowError:
        return None


def _check_aware(value: object, field: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(
            f"{field} must be a timezone-aware datetime (e.g. with tzinfo=timezone.utc), "
            f"not {value!r}"
        )


def _check_limit(limit_bytes: int | None) -> None:
    if limit_bytes is not None and (
        isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int) or limit_bytes < 1
    ):
        raise ValueError(f"limit_bytes must be a positive number of bytes, not {limit_bytes!r}")


def previous_log_path(log_path: str, attempt: int) -> str:
    """The log of the attempt before ``attempt``: ``<dir>/<attempt-1>.log`` beside
    ``log_path`` (kubelet's layout). NotFoundError for attempt 0, which has none."""
    if attempt < 1:
        raise NotFoundError(
            f"no previous attempt's log: {log_path} is the log of attempt {attempt}, the first"
        )
    return os.path.join(os.path.dirname(log_path), f"{attempt - 1}.log")


# --- parsing -----------------------------------------------------------------------


def parse_lines(lines: Iterable[bytes]) -> Iterator[LogRecord]:
    """Records from raw log lines, partial records joined. Each line may be CRI or
    Docker JSON; lines that are neither are skipped, as kubelet skips them. A line
    still partial when the input ends is returned as far as it goes."""
    joiner = _Joiner()
    for line in lines:
        entry = _parse(line)
        if entry is not None and (record := joiner.add(entry)) is not None:
            yield record
    yield from joiner.flush()


def _parse(line: bytes) -> _Entry | None:
    line = line.removesuffix(b"\n")
    if line.startswith(b"{"):
        return _parse_docker_json(line)
    return _parse_cri(line)


def _parse_cri(line: bytes) -> _Entry | None:
    """``<RFC3339Nano> <stdout|stderr> <P|F>[:<more tags>] <content>``."""
    fields = line.split(b" ", 3)
    if len(fields) < 3:
        return None
    when = _parse_time(fields[0])
    stream = fields[1].decode("ascii", "replace")
    tag = fields[2].split(b":", 1)[0]  # later tags, if a runtime adds some, are ignored
    if when is None or stream not in _STREAMS or tag not in (b"P", b"F"):
        return None
    content = fields[3] if len(fields) == 4 else b""
    return _Entry(when[0], when[1], stream, tag == b"P", content)


def _parse_docker_json(line: bytes) -> _Entry | None:
    """``{"log":"text\\n","stream":"stdout","time":"<RFC3339Nano>"}``; a ``log``
    without its newline is a partial record (Docker cuts lines at 16 KiB too)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    log, stream, stamp = data.get("log"), data.get("stream"), data.get("time")
    if not isinstance(log, str) or stream not in _STREAMS or not isinstance(stamp, str):
        return None
    when = _parse_time(stamp.encode())
    if when is None:
        return None
    partial = not log.endswith("\n")
    content = log.removesuffix("\n").encode("utf-8", "replace")
    return _Entry(when[0], when[1], stream, partial, content)


def _parse_time(text: bytes) -> tuple[datetime, int] | None:
    """RFC 3339 with up to nine fraction digits, as UTC and the nanoseconds that do
    not fit in a datetime (``datetime.fromisoformat`` takes six digits at most)."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    nanos = int((match[7] or b"").ljust(9, b"0"))
    zone = match[8]
    offset = timezone.utc
    if zone not in (b"Z", b"z"):
        minutes = int(zone[1:3]) * 60 + int(zone[4:6])
        offset = timezone(timedelta(minutes=-minutes if zone[:1] == b"-" else minutes))
    try:
        year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
        local = datetime(year, month, day, hour, minute, second, nanos // 1000, offset)
        return local.astimezone(timezone.utc), nanos % 1000
    except (ValueError, OverflowError):
        return None


class _Joiner:
    """Joins partial records per stream; the two streams interleave freely."""

    def __init__(self) -> None:
        # Insertion order is the order the lines started in.
        self._open: dict[str, tuple[_Entry, list[bytes]]] = {}

    def add(self, entry: _Entry) -> LogRecord | None:
        """The line this record completes, if it completes one."""
        chain = self._open.get(entry.stream)
        if chain is None:
            if not entry.partial:
                return _record(entry, entry.content)
            chain = self._open[entry.stream] = (entry, [])
        chain[1].append(entry.content)
        if entry.partial:
            return None
        del self._open[entry.stream]
        return _record(chain[0], b"".join(chain[1]))

    def flush(self) -> list[LogRecord]:
        """The lines still open (their final record not written), as far as they go."""
        records = [_record(first, b"".join(chunks)) for first, chunks in self._open.values()]
        self._open.clear()
        return records


def _record(first: _Entry, content: bytes) -> LogRecord:
    message = content.decode("utf-8", "replace")
    return LogRecord(first.timestamp, first.stream, message, first.nanosecond)


# --- rendering ---------------------------------------------------------------------


def render(
    records: Iterable[LogRecord], *, timestamps: bool = False, limit_bytes: int | None = None
) -> str:
    """The records as text, one line each, as ``kubectl logs`` prints them:
    ``timestamps`` puts the RFC 3339 time (nine fraction digits) first, and
    ``limit_bytes`` cuts the UTF-8 output at that many bytes, mid-line if need be."""
    _check_limit(limit_bytes)
    parts: list[str] = []
    left = limit_bytes
    for record in records:
        line = _line(record, timestamps)
        if left is not None:
            data = line.encode()
            if len(data) >= left:
                parts.append(data[:left].decode("utf-8", "ignore"))
                break
            left -= len(data)
        parts.append(line)
    return "".join(parts)


def _line(record: LogRecord, timestamps: bool) -> str:
    if not timestamps:
        return record.message + "\n"
    t = record.timestamp.astimezone(timezone.utc)
    nanos = t.microsecond * 1000 + record.nanosecond
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{nanos:09d}Z {record.message}\n"
    )


# --- files -------------------------------------------------------------------------


class _Segment:
    """One open file of a log: a rotated one or the current one. Plain files are
    read up to their size when opened (``end``); gzip ones to their end."""

    def __init__(self, raw: IO[bytes], compressed: bool) -> None:
        self.raw = raw
        self.file: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        )
        self.end: int | None = None if compressed else os.fstat(raw.fileno()).st_size

    def close(self) -> None:
        self.file.close()
        self.raw.close()


def _rotated_files(path: str) -> list[str]:
    """The rotated files of a log, oldest first. logrotate's (``.1`` newest) are
    placed by their last write, kubelet's by the time in their name (its rename time:
    compressing them later changes their mtime, not their name)."""
    directory, base = os.path.split(path)
    pattern = re.compile(re.escape(base) + _ROTATED)
    found: list[tuple[float, int, str]] = []
    for name in os.listdir(directory or "."):
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(directory, name)
        try:
            if match[1] is not None:
                found.append((os.stat(full).st_mtime, -int(match[1]), full))
            else:
                found.append((time.mktime(time.strptime(match[2], "%Y%m%d-%H%M%S")), 0, full))
        except (OSError, ValueError, OverflowError):
            continue  # gone meanwhile, or a date that does not exist
    return [full for *_, full in sorted(found)]


def _open_segments(path: str) -> list[_Segment]:
    """The rotated files, oldest first, then the current one, all open. The current
    one is opened first, so a rotation happening meanwhile shows up among the rotated
    files as the same inode, which is left out rather than read twice."""
    try:
        current = open(path, "rb")  # noqa: SIM115 (closed by the caller, with the rest)
    except FileNotFoundError:
        raise NotFoundError(f"log file {path} does not exist") from None
    segments: list[_Segment] = []
    try:
        stat = os.fstat(current.fileno())
        for rotated in _rotated_files(path):
            try:
                raw = open(rotated, "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue
            if _same_file(os.fstat(raw.fileno()), stat):
                raw.close()
                continue
            segments.append(_Segment(raw, rotated.endswith(".gz")))
        segments.append(_Segment(current, False))
    except BaseException:
        for segment in segments:
            segment.close()
        current.close()
        raise
    return segments


def _read_lines(segment: _Segment, start: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` from ``start`` to the segment's end; the last line may lack
    its newline. A damaged gzip file ends where it breaks."""
    file, end, position = segment.file, segment.end, start
    try:
        file.seek(start)
        while end is None or position < end:
            line = file.readline() if end is None else file.readline(end - position)
            if not line:
                return
            yield position, line
            position += len(line)
    except (OSError, EOFError, zlib.error):
        if end is not None:
            raise


def _reversed_lines(file: IO[bytes], end: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` from ``end`` backwards, reading blocks from the end, so a
    tail of a huge file costs what the tail is long."""
    position, carry, block = end, b"", _BLOCK
    while position > 0:
        size = min(block, position)
        position -= size
        file.seek(position)
        data = file.read(size) + carry
        stop = len(data)
        while (newline := data.rfind(b"\n", 0, stop - 1)) >= 0:
            yield position + newline + 1, data[newline + 1 : stop]
            stop = newline + 1
        if stop == len(data):
            block *= 2  # one line longer than the block: read more at once
        carry = data[:stop]
    if carry:
        yield 0, carry


def _reversed_entries(segment: _Segment) -> Iterator[tuple[int, _Entry]]:
    """The segment's records, last first, content dropped (the tail search does not
    need it). gzip cannot be read backwards, so it is indexed forwards first."""
    if segment.end is None:
        index = [
            (offset, entry._replace(content=b""))
            for offset, line in _read_lines(segment, 0)
            if (entry := _parse(line)) is not None
        ]
        yield from reversed(index)
        return
    for offset, line in _reversed_lines(segment.raw, segment.end):
        if (entry := _parse(line)) is not None:
            yield offset, entry


class _Line:
    """A line met while reading backwards: where its first record is so far, and
    whether that record is known (the stream's previous line end was seen)."""

    __slots__ = ("done", "first", "start")

    def __init__(self, start: tuple[int, int], first: _Entry) -> None:
        self.start = start
        self.first = first
        self.done = False


def _tail_start(segments: list[_Segment], tail: int, query: _Query) -> tuple[int, int]:
    """A position (segment, offset) from which reading forward gives the last ``tail``
    matching lines whole. Reads backwards: a line is whole once the previous ``F``
    of its stream is seen. Lines are counted in the order they end (which is when
    reading forward completes them); lines still partial at the end come last."""
    pending: deque[_Line] = deque()  # latest-ending first
    current: dict[str, _Line] = {}  # per stream, the earliest line met so far
    start = (len(segments), 0)
    found = 0
    for index in range(len(segments) - 1, -1, -1):
        for offset, entry in _reversed_entries(segments[index]):
            line = current.get(entry.stream)
            if entry.partial and line is not None:
                line.start, line.first = (index, offset), entry
                continue
            if line is not None:
                line.done = True
            line = current[entry.stream] = _Line((index, offset), entry)
            if entry.partial:
                pending.appendleft(line)  # never ended: it ends when the input does
            else:
                pending.append(line)
            while pending and pending[0].done:
                whole = pending.popleft()
                start = min(start, whole.start)
                first = whole.first
                if query.matches(first.stream, first.timestamp, first.nanosecond):
                    found += 1
                    if found == tail:
                        return start
    return (0, 0)


def _forward_records(
    segments: list[_Segment], start: tuple[int, int], joiner: _Joiner
) -> Iterator[LogRecord]:
    index, offset = start
    for segment in segments[index:]:
        for _, line in _read_lines(segment, offset):
            entry = _parse(line)
            if entry is not None and (record := joiner.add(entry)) is not None:
                yield record
        offset = 0


def read_records(
    path: str,
    *,
    tail: int | None = None,
    since: Since | None = None,
    until: datetime | None = None,
    stream: str | None = None,
) -> list[LogRecord]:
    """The lines of a log file and its rotated files, oldest first.

    ``since`` (inclusive) and ``until`` (inclusive) compare the time of a line's
    first record; ``stream`` keeps one stream; ``tail=N`` keeps the last N lines
    left by those filters, reading backwards from the end, into rotated files only as
    far as needed. A missing ``path`` raises NotFoundError naming it.
    """
    query = _query(tail, since, until, stream)
    segments = _open_segments(path)
    try:
        if tail == 0:
            return []
        start = (0, 0) if tail is None else _tail_start(segments, tail, query)
        kept: deque[LogRecord] = deque(maxlen=tail)
        joiner = _Joiner()
        for record in _forward_records(segments, start, joiner):
            if query.matches(record.stream, record.timestamp, record.nanosecond):
                kept.append(record)
        for record in joiner.flush():
            if query.matches(record.stream, record.timestamp, record.nanosecond):
                kept.append(record)
        return list(kept)
    finally:
        for segment in segments:
            segment.close()


# --- following ---------------------------------------------------------------------


class LogFollower:
    """The waiting-free part of following a log: what to yield at the start, after
    each poll of the file, and at the end. :func:`follow` and its asyncio twin only
    add the waits between polls and the question whether the container still runs.

    A poll returns None when nothing happened (no data, no rotation, no truncation);
    the caller then stops if :attr:`stopping` is set, else sets it to whether the
    container has stopped and waits: following ends once the container has stopped
    and one more poll brought nothing. New data clears :attr:`stopping`.
    """

    def __init__(
        self,
        path: str,
        tail: int | None,
        since: Since | None,
        stream: str | None,
        timestamps: bool,
        limit_bytes: int | None,
        poll_interval: float,
    ) -> None:
        self._query = _query(tail, since, None, stream)
        _check_limit(limit_bytes)
        self.interval = check_seconds(poll_interval, "poll_interval", allow_zero=False)
        if not os.path.exists(path):
            raise NotFoundError(f"log file {path} does not exist")
        self._path = path
        self._tail = tail
        self._timestamps = timestamps
        self._remaining = limit_bytes  # bytes of UTF-8 still to give, None: no limit
        self._joiner = _Joiner()
        self._segments: list[_Segment] = []
        self._buffer = b""  # the start of a line the writer is in the middle of
        self._position = 0
        self.stopping = False
        """Set by the caller when the container stopped; cleared by new data."""
        self.done = False
        """True once ``limit_bytes`` were given: nothing more comes."""

    def start(self) -> list[str]:
        """What is there now, as read_records gives it, but lines still being written
        stay open. One line more than asked for is read, so that one of those is whole."""
        segments = self._segments = _open_segments(self._path)
        current = segments[-1]
        start = (0, 0) if self._tail is None else _tail_start(segments, self._tail + 1, self._query)
        initial: deque[str] = deque(maxlen=self._tail)
        index, offset = start
        for segment in segments[index:]:
            for _, line in _read_lines(segment, offset):
                if segment is current and not line.endswith(b"\n"):
                    self._buffer = line
                else:
                    initial.extend(self._text([line]))
            offset = 0
        for segment in segments[:-1]:
            segment.close()
        self._segments = [current]
        self._position = current.raw.tell()  # where the initial read stopped
        return self._limit(list(initial))

    def poll(self) -> list[str] | None:
        """New lines since the last poll; None when nothing happened."""
        current = self._segments[0]
        file = current.raw
        data = file.read()
        if data:
            self._position += len(data)
            *done, self._buffer = (self._buffer + data).split(b"\n")
            self.stopping = False
            return self._limit(self._text(done))
        replaced = _replacement(self._path, file)
        if replaced is not None:
            # Rotated: first what the writer put in the old file before it switched
            # (the file is finished, so a last line without newline counts), then the
            # new file from its start.
            rest, self._buffer = self._buffer + file.read(), b""
            current.close()
            self._segments[0] = _Segment(replaced, False)
            self._position = 0
            return self._limit(self._text(rest.split(b"\n")))
        if os.fstat(file.fileno()).st_size < self._position:
            file.seek(0)  # truncated in place (copytruncate): what is there is new
            self._position, self._buffer = 0, b""
            return []
        return None

    def finish(self) -> list[str]:
        """The last line even without its newline, and partial records left over."""
        if self.done:
            return []
        lines = self._text([self._buffer])
        lines.extend(_matching_lines(self._joiner.flush(), self._query, self._timestamps))
        return self._limit(lines)

    def close(self) -> None:
        for segment in self._segments:
            segment.close()

    def __enter__(self) -> LogFollower:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _text(self, lines: Iterable[bytes]) -> list[str]:
        result: list[str] = []
        for line in lines:
            entry = _parse(line)
            if entry is not None and (record := self._joiner.add(entry)) is not None:
                result.extend(_matching_lines([record], self._query, self._timestamps))
        return result

    def _limit(self, lines: list[str]) -> list[str]:
        """``lines`` up to ``limit_bytes`` of UTF-8 in all, the last one cut if need be."""
        if self._remaining is None:
            return lines
        kept: list[str] = []
        for line in lines:
            data = line.encode()
            if len(data) >= self._remaining:
                cut = data[: self._remaining].decode("utf-8", "ignore")
                if cut:
                    kept.append(cut)
                self.done = True
                return kept
            self._remaining -= len(data)
            kept.append(line)
        return kept


def _matching_lines(records: Iterable[LogRecord], query: _Query, timestamps: bool) -> Iterator[str]:
    for record in records:
        if query.matches(record.stream, record.timestamp, record.nanosecond):
            yield _line(record, timestamps)


def _replacement(path: str, file: IO[bytes]) -> IO[bytes] | None:
    """The new file at ``path`` once it is not ``file`` any more, opened; else None
    (the same file, or none there yet: the old one is still being written)."""
    try:
        if _same_file(os.stat(path), os.fstat(file.fileno())):
            return None
        new = open(path, "rb")  # noqa: SIM115 (the caller owns it)
    except FileNotFoundError:
        return None
    if _same_file(os.fstat(new.fileno()), os.fstat(file.fileno())):
        new.close()
        return None
    return new


def _same_file(one: os.stat_result, other: os.stat_result) -> bool:
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)
