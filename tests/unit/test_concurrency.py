"""Bulk work's primitive: at most N calls at a time, an outcome per call, in order."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import grpc
import pytest

from cri_client import CRIClient
from cri_client._async import concurrency as aio_concurrency
from cri_client._proto import api_pb2 as pb
from cri_client._rpc import CancelScope
from cri_client._sync import concurrency
from cri_client.errors import CancelledError

from .fake_runtime import FakeRuntime


def test_each_at_most_keeps_order_and_returns_failures_in_place() -> None:
    def call(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        time.sleep(0.01 * (5 - n))
        return n * 10

    outcomes = concurrency.each_at_most([lambda n=n: call(n) for n in range(5)], 3)
    assert outcomes[:2] == [0, 10] and outcomes[3:] == [30, 40]
    assert isinstance(outcomes[2], ValueError) and str(outcomes[2]) == "two"


def test_each_at_most_never_runs_more_than_asked_in_threads() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def call() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    concurrency.each_at_most([call] * 12, 3)
    assert peak == 3


def test_each_at_most_never_runs_more_than_asked_in_tasks() -> None:
    running = 0
    peak = 0

    async def call(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if n == 5:
            raise KeyError(n)
        return n

    outcomes = asyncio.run(aio_concurrency.each_at_most([lambda n=n: call(n) for n in range(9)], 2))
    assert peak == 2
    assert [o for o in outcomes if not isinstance(o, Exception)] == [0, 1, 2, 3, 4, 6, 7, 8]
    assert isinstance(outcomes[5], KeyError)


def test_each_at_most_with_one_runs_in_this_thread() -> None:
    threads = concurrency.each_at_most([threading.get_ident] * 3, 1)
    assert threads == [threading.get_ident()] * 3


def test_a_cancelled_scope_never_starts_a_call() -> None:
    """A call made after cancel() is not sent at all (the runtime would start a pull
    and abort it at once); a call in flight is cancelled by it."""

    class Unsendable:
        def future(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the call was started")

    scope = CancelScope()
    scope.cancel()
    with pytest.raises(grpc.FutureCancelledError):
        scope.call(Unsendable(), pb.VersionRequest(), 1.0)


def test_background_work_in_a_scope_is_cancelled_in_flight(sock: str) -> None:
    answering = threading.Event()

    def slow_version(request: pb.VersionRequest, context: Any) -> pb.VersionResponse:
        answering.set()
        while context.is_active():
            time.sleep(0.01)
        return pb.VersionResponse()

    with FakeRuntime(sock, {"Version": slow_version}) as fake, CRIClient(fake.endpoint) as cri:
        work = concurrency.InBackground(lambda: cri.api.version(rpc_timeout=30))
        assert answering.wait(5)
        work.cancel()
        assert work.wait(5)
        with pytest.raises(CancelledError, match="Version: CANCELLED: cancelled by the caller"):
            work.result()
