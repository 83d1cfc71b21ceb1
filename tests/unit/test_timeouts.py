"""Read timeouts: measured from the send, never re-sent behind the retry policy's back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from shipstation_async import Operation, RateLimit, RetryPolicy, TransportError
from shipstation_async._http import ReadDeadlines
from shipstation_async._send_state import SendTracker

from ..conftest import NO_WAIT
from ..recording import RecordingServer, Reply
from .test_client import make_client, rl

GET = Operation("GET", "/orders/1")


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.aborted = 0

    def abort(self) -> None:
        self.aborted += 1


def _sent() -> SendTracker:
    tracker = SendTracker()
    tracker.mark_sent(time.monotonic())
    return tracker


async def test_overdue_request_has_its_connection_aborted_and_is_marked() -> None:
    deadlines = ReadDeadlines(0.05)
    late, answered = _sent(), _sent()
    late_transport, answered_transport = _Transport(), _Transport()
    deadlines.watch(late, late_transport)
    deadlines.watch(answered, answered_transport)
    deadlines.forget(answered)
    await asyncio.sleep(0.2)
    assert late_transport.aborted == 1 and late.timed_out
    assert answered_transport.aborted == 0 and not answered.timed_out
    assert deadlines._handle is None  # nothing left to watch: the timer stopped


async def test_extend_gives_the_body_a_full_timeout_from_the_headers() -> None:
    deadlines = ReadDeadlines(0.2)
    ctx, transport = _sent(), _Transport()
    deadlines.watch(ctx, transport)
    await asyncio.sleep(0.15)
    deadlines.extend(ctx)
    await asyncio.sleep(0.15)  # 0.3 s after the send, 0.15 s after the headers
    assert transport.aborted == 0
    await asyncio.sleep(0.2)
    assert transport.aborted == 1
    deadlines.close()


async def test_idempotent_request_that_times_out_is_retried_by_policy_only() -> None:
    async with RecordingServer(Reply(delay=1.0)) as recorder:
        started = time.monotonic()
        async with make_client(recorder, timeout=0.2) as ss:
            with pytest.raises(TransportError) as info:
                await ss.request(GET)
        elapsed = time.monotonic() - started
        assert "timed out" in str(info.value) and info.value.sent
        # One send per attempt: aiohttp's own re-send after the aborted connection is refused.
        assert len(recorder.requests) == NO_WAIT.max_attempts
        assert elapsed >= NO_WAIT.max_attempts * 0.2
        assert ss.rate_limit_status().total_sent == NO_WAIT.max_attempts


async def test_a_body_that_stalls_times_out() -> None:
    body = {"orders": [{"orderId": n, "orderNumber": f"A-{n}"} for n in range(200)]}
    async with RecordingServer(Reply(body=body, stall_body=1.0)) as recorder:
        async with make_client(recorder, timeout=0.2) as ss:
            with pytest.raises(TransportError) as info:
                await ss.request(GET)
        assert "timed out" in str(info.value)
        assert len(recorder.requests) == NO_WAIT.max_attempts


async def test_a_slow_answer_within_the_timeout_is_not_cut_off() -> None:
    reply = Reply(body={"orderId": 1}, delay=0.3, headers=rl())
    async with RecordingServer(reply) as recorder, make_client(recorder, timeout=0.6) as ss:
        assert await ss.request(GET) == {"orderId": 1}


async def test_time_held_in_a_429_pause_does_not_count_towards_the_timeout() -> None:
    async with RecordingServer(Reply(body={"orderId": 1}, headers=rl())) as recorder:
        recorder.reply(Reply(429, {"message": "Too Many Requests"}, headers=rl(0, "0.6")))
        async with make_client(recorder, timeout=0.2) as ss:
            started = time.monotonic()
            assert await ss.request(GET) == {"orderId": 1}
            assert time.monotonic() - started >= 0.6
        assert len(recorder.requests) == 2


async def test_an_answered_request_never_has_its_reused_connection_aborted() -> None:
    async with RecordingServer(Reply(body={"orderId": 1}, headers=rl())) as recorder:
        async with make_client(recorder, timeout=0.2) as ss:
            await asyncio.gather(*(ss.request(GET) for _ in range(5)))
            await asyncio.sleep(0.6)  # several checks pass over the finished requests
            await ss.request(GET)
        first_ports = {r.peer_port for r in recorder.requests[:5]}
        # The last request went out on one of the kept-alive connections: none was aborted.
        assert recorder.requests[-1].peer_port in first_ports


async def test_a_session_passed_in_keeps_aiohttps_read_timeout() -> None:
    async with RecordingServer(Reply(delay=1.0)) as recorder, aiohttp.ClientSession() as session:
        async with make_client(recorder, timeout=0.2, session=session) as ss:
            with pytest.raises(TransportError) as info:
                await ss.request(GET)
        assert "timed out" in str(info.value) and info.value.sent
        assert len(recorder.requests) == NO_WAIT.max_attempts


async def test_each_phase_gets_the_full_timeout() -> None:
    # 0.25 s to the headers, then 0.25 s of body: 0.5 s in all, each part within 0.4 s.
    body = {"orders": [{"orderId": n} for n in range(200)]}
    reply = Reply(body=body, delay=0.25, stall_body=0.25, headers=rl())
    async with RecordingServer(reply) as recorder:
        async with make_client(recorder, timeout=0.4) as ss:
            assert await ss.request(GET) == body
        assert len(recorder.requests) == 1


async def test_a_timed_out_request_opens_no_connection_for_aiohttps_re_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects = 0
    original = aiohttp.TCPConnector.connect

    async def counting(self: aiohttp.TCPConnector, *args: Any, **kwargs: Any) -> Any:
        nonlocal connects
        connects += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.TCPConnector, "connect", counting)
    async with (
        RecordingServer(Reply(delay=1.0)) as recorder,
        make_client(recorder, timeout=0.2) as ss,
    ):
        with pytest.raises(TransportError):
            await ss.request(GET)
    assert connects == NO_WAIT.max_attempts  # one per attempt, none for a refused re-send


async def test_time_aiohttps_re_send_waits_for_a_slot_is_not_taken_for_a_timeout() -> None:
    # The first send's connection drops; aiohttp re-sends, and the re-send waits ~0.5 s for
    # the next window (longer than the timeout), then drops too.
    async with RecordingServer(Reply(drop=True)) as recorder:
        ss = make_client(
            recorder,
            timeout=0.2,
            rate_limit=RateLimit(1, 0.5),
            retry=RetryPolicy(max_attempts=1, base=0.0),
        )
        async with ss:
            started = time.monotonic()
            with pytest.raises(TransportError) as info:
                await ss.request(GET)
            assert time.monotonic() - started >= 0.5
        assert len(recorder.requests) == 2
        assert "timed out" not in str(info.value)
        assert "Disconnected" in str(info.value)
