"""The shared budget's Lua scripts driven one call at a time, on a real redis-server.

Each test sets up the few keys a rule reads, as the scripts write them, and checks what one
script call makes of them: the cases a whole run reaches only by chance.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from shipstation_async._budget import redis_scripts
from shipstation_async._budget.redis_store import Connections, RedisUnavailable, ScriptArg
from shipstation_async._redact import Secret

from ..redis_server import RedisCluster, RedisServer

W = 1.0
TTL_MS = 60_000


@pytest.fixture
def keys(redis_server: RedisServer) -> list[str]:
    tag = uuid.uuid4().hex[:10]
    return [
        f"t:{{{tag}}}:{part}" for part in ("holds", "flight", "meta", "procs", "iwait", "freed")
    ]


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_server.url) as connection:
        yield connection


def made_by(client: redis.Redis) -> dict[str, str]:
    """The field that says a state was made by this run of the server (see RESTORE)."""
    return {"run": str(client.info("server")["run_id"])}


def now_of(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def complete(
    client: redis.Redis,
    keys: list[str],
    grant_id: str,
    *,
    status: int = 200,
    sent: float,
    remaining: int,
    granted_margin: float = 0.0,
    configured_margin: float = 0.0,
    limit: int = 10,
) -> list[bytes]:
    """COMPLETE for an answer that arrived now, after 0.1 s, with Reset 0.5 (configured 10)."""
    args = [grant_id, status, W, configured_margin, TTL_MS, 0, 0.1, repr(sent), limit, remaining]
    args += [0.5, "", 0.5, 10, "b", granted_margin]
    reply: list[bytes] = client.eval(redis_scripts.COMPLETE, len(keys), *keys, *args)  # type: ignore[assignment]
    return reply


def in_flight(client: redis.Redis, keys: list[str], grant: str, until: float) -> None:
    """``grant`` holds a slot and is in flight until ``until``, as GRANT leaves it."""
    client.zadd(keys[0], {grant: until})
    client.zadd(keys[1], {grant: until})


def test_answers_of_requests_granted_together_teach_the_margin_once(
    client: redis.Redis, keys: list[str]
) -> None:
    """One slot the server still counted, four requests in flight that all see it: the margin
    is learned from the first answer; the other three teach nothing more (each once added a
    reach: 0.12 s, 0.24, 0.37, 0.49)."""
    holds, flight, meta, *_, freed = keys
    now = now_of(client)
    state = {**made_by(client), "born": "b", "longest": "0.1", "checked": 1}  # reach 0.12 s
    client.hset(meta, mapping=state)
    client.zadd(freed, {"A": now - 0.2})  # A's slot freed 0.2 s ago, still counted
    grants = ["X", "Y", "Z", "V"]
    for grant in grants:
        client.zadd(holds, {grant: now + 2})
        client.zadd(flight, {grant: now + 2})
    margins = [
        float(complete(client, keys, g, sent=now - 0.1 + 0.0005 * k, remaining=5)[2])
        for k, g in enumerate(grants)
    ]
    assert 0.1 < margins[0] < 0.13
    assert margins == [margins[0]] * 4
    assert float(client.hget(meta, "margin") or 0) == margins[0]


def test_a_configured_margin_does_not_hide_what_the_server_still_counts(
    client: redis.Redis, keys: list[str]
) -> None:
    """Slots held by a configured margin of 0.2 s: A, freed 0.04 s before X's grant, was still
    counted. The margin grows by what A needed beyond its hold, as it would from 0."""
    holds, flight, meta, *_ = keys
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b", "longest": "0.1", "checked": 1})
    sent = now - 0.06
    client.zadd(holds, {"A": sent - 0.04, "X": now + 2})  # A's hold (W + 0.2) just ended
    client.zadd(flight, {"X": now + 2})
    reply = complete(
        client, keys, "X", sent=sent, remaining=8, granted_margin=0.2, configured_margin=0.2
    )
    assert float(reply[2]) == pytest.approx(0.2 + 0.122, abs=0.005)


def test_a_learned_margin_never_exceeds_half_a_window(client: redis.Redis, keys: list[str]) -> None:
    holds, flight, meta, *_, freed = keys
    now = now_of(client)
    state = {**made_by(client), "born": "b", "longest": "5", "checked": 1}  # a reach of 5 s
    client.hset(meta, mapping=state)
    client.zadd(freed, {"A": now - 3})
    client.zadd(holds, {"X": now + 2})
    client.zadd(flight, {"X": now + 2})
    margin = float(complete(client, keys, "X", sent=now - 1, remaining=8)[2])
    assert margin == pytest.approx(W / 2)


def test_a_state_an_earlier_run_of_the_server_wrote_is_dropped_and_made_again_full(
    client: redis.Redis, keys: list[str]
) -> None:
    """Loaded from a snapshot (or kept by a replica promoted since), a state may lack the
    last slots granted: every script takes it for lost, and RESTORE makes it again, full."""
    holds, _, meta, *_ = keys
    now = now_of(client)
    client.hset(meta, mapping={"born": "b", "run": "an earlier run", "active": repr(now)})
    client.zadd(holds, {"A": now + 5})
    grant = [b"bulk", b"X", b"p1", 10, W, 0, 10, 0, TTL_MS, 100, "b"]
    assert client.eval(redis_scripts.GRANT, len(keys), *keys, *grant) == [b"lost"]
    assert client.exists(meta, holds) == 0
    restore = ["p1", TTL_MS, 100, 0, 0, W, 10]
    lost, born, _ = client.eval(redis_scripts.RESTORE, len(keys), *keys, *restore)  # type: ignore[misc]
    assert lost == 1 and born != b"b"
    assert client.hget(meta, "run") == made_by(client)["run"].encode()
    assert client.zcard(holds) == 10  # full for a window: what the lost state held is unknown
    reply = client.eval(redis_scripts.GRANT, len(keys), *keys, *grant[:-1], born)
    assert reply[0] == b"wait"  # type: ignore[index]


def test_a_full_window_makes_the_next_send_go_alone_once_the_server_showed_it_must(
    client: redis.Redis, keys: list[str]
) -> None:
    """Once rule 1 was checked and the server refused a send or counted longer than rule 1
    assumes, the slots a full window frees do not go out together: the next send goes alone.
    A prompt server never pays that answer's time."""
    meta = keys[2]
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b"})
    for grant, remaining, state in (
        ("X", 0, {}),  # the first reuse's check goes alone anyway
        ("Y", 0, {"checked": 1}),  # a prompt server so far: nothing to check
        ("Z", 1, {"checked": 1, "distrust": 1}),  # not full
        ("V", 0, {"checked": 1, "distrust": 1}),
    ):
        if state:
            client.hset(meta, mapping=state)
        in_flight(client, keys, grant, now + 2)
        complete(client, keys, grant, sent=now - 0.1, remaining=remaining)
        assert (client.hget(meta, "probe_needed") == b"1") == (grant == "V"), grant


def test_a_429_or_a_learned_margin_makes_the_server_distrusted(
    client: redis.Redis, keys: list[str]
) -> None:
    meta = keys[2]
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b"})
    in_flight(client, keys, "X", now + 2)
    complete(client, keys, "X", status=429, sent=now - 0.1, remaining=0)
    assert client.hget(meta, "distrust") == b"1"


def test_a_slot_freed_between_a_grant_and_its_answer_is_not_taken_for_another_client(
    client: redis.Redis, keys: list[str]
) -> None:
    """A's hold ended after X was granted: the server may still have counted it in X's
    window. X's answer purges A; rule 3 still counts it as ours, so no room is set (a room
    there held three prompt processes to 0.82 to 0.89 of the window). A count that the
    slots held then cannot explain still sets one."""
    holds, _, meta, *_ = keys
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b", "checked": 1})
    client.zadd(holds, {"A": now - 0.05})  # freed 0.05 s ago, after X's grant
    in_flight(client, keys, "X", now + 2)
    complete(client, keys, "X", sent=now - 0.1, remaining=8)  # counted: A and X
    assert client.hget(meta, "room") is None
    in_flight(client, keys, "Y", now + 2)
    complete(client, keys, "Y", sent=now_of(client), remaining=5)  # 5 counted: X, Y, 3 others
    assert client.hget(meta, "room") == b"5"


def test_a_request_whose_lease_ran_out_before_its_answer_counts_once(
    client: redis.Redis, keys: list[str]
) -> None:
    """X's process stalled past its lease: the answer's purge moves X to the freed slots, and
    the answer holds it again. Counted in both, it hid another client's request."""
    holds, flight, meta, *_ = keys
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b", "checked": 1})
    client.zadd(holds, {"X": now - 0.01})
    client.zadd(flight, {"X": now - 0.01})
    complete(client, keys, "X", sent=now - 3, remaining=8)  # counted: X and another client's
    assert client.hget(meta, "room") == b"8"


def test_a_limit_the_server_raises_again_is_followed_back_up(
    client: redis.Redis, keys: list[str]
) -> None:
    holds, flight, meta, *_ = keys
    client.hset(meta, mapping={**made_by(client), "born": "b", "longest": "0.1", "checked": 1})
    for grant, said, stored in (("X", 6, b"6"), ("Y", 10, b"10"), ("Z", 6, b"6"), ("V", 40, b"10")):
        now = now_of(client)
        client.zadd(holds, {grant: now + 2})
        client.zadd(flight, {grant: now + 2})
        complete(client, keys, grant, sent=now - 0.1, remaining=said - 1, limit=said)
        # Down to 6, back up to 10; and never past the configured 10 (it sizes local shares).
        assert client.hget(meta, "limit") == stored


def test_a_429_while_the_reuse_check_is_out_ends_the_check(
    client: redis.Redis, keys: list[str]
) -> None:
    """The probe that checks a reused slot proves nothing once a 429 came (rule 5 takes over):
    its answer after the pause does not mark the check as done."""
    holds, flight, meta, *_ = keys
    now = now_of(client)
    client.hset(meta, mapping={**made_by(client), "born": "b", "probe": "P", "checking": 1})
    for grant in ("P", "Q"):
        client.zadd(holds, {grant: now + 2})
        client.zadd(flight, {grant: now + 2})
    complete(client, keys, "Q", status=429, sent=now - 0.1, remaining=0)
    assert not client.hexists(meta, "checking")
    complete(client, keys, "P", sent=now - 0.1, remaining=8)
    assert not client.hexists(meta, "checked")


@pytest.mark.parametrize("lane", ["interactive", "bulk"])
def test_a_first_grant_leaves_no_key_without_a_ttl(
    client: redis.Redis, keys: list[str], lane: str
) -> None:
    """One grant on a fresh state (a second one would set the TTLs the first forgot)."""
    holds, flight, meta, *_ = keys
    client.hset(meta, mapping={**made_by(client), "born": "b"})
    args = [lane, "g", "proc", 10, W, 0, 10, 1, TTL_MS, 60, "b"]
    client.eval(redis_scripts.GRANT, len(keys), *keys, *args)
    assert client.exists(holds) and client.exists(flight)  # the keys the grant created
    for key in keys:
        if client.exists(key):
            assert 0 < client.pttl(key) <= TTL_MS, key


def test_a_probe_whose_process_comes_back_keeps_its_role(
    client: redis.Redis, keys: list[str]
) -> None:
    """After an outage longer than its lease, the probe's process gives Redis its slots back
    (RESTORE): the probe still in flight is the probe again, no second one goes."""
    meta = keys[2]
    now = now_of(client)
    client.hset(
        meta, mapping={**made_by(client), "born": "b", "probe": "P", "probe_until": repr(now - 1)}
    )
    args = ["proc", TTL_MS, 60, 0, 0, 1.0, 0, "P", 12, 1]
    client.eval(redis_scripts.RESTORE, len(keys), *keys, *args)
    assert float(client.hget(meta, "probe_until") or 0) > now + 10
    grant_args = ["interactive", "R", "proc-2", 10, W, 0, 10, 0, TTL_MS, 60, "b"]
    reply = client.eval(redis_scripts.GRANT, len(keys), *keys, *grant_args)
    assert reply[0] == b"answer"  # type: ignore[index]


async def test_a_cluster_that_does_not_answer_is_unavailable_within_the_bound() -> None:
    """redis-py's cluster client fails with an exception that is not a RedisError, and may
    take a timeout per node it knows: the call is bounded, the failure is RedisUnavailable,
    and the next call gets a new client (the old one may have forgotten every node)."""
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    connections = Connections(Secret(f"redis://127.0.0.1:{port}/0"), timeout=0.2, cluster=True)
    runner = connections.runner()
    keys = [f"t:{{x}}:{part}" for part in ("holds", "flight", "meta", "procs", "iwait", "freed")]
    started = time.monotonic()
    with pytest.raises(RedisUnavailable):
        await runner.run("RENEW", keys, ["proc", W, 10, TTL_MS, 60, ""])
    assert time.monotonic() - started < runner.bound + 1.0
    again = connections.runner()
    assert again is not runner
    await connections.aclose()


def test_a_probe_whose_lease_is_not_renewed_passes_its_role_on(
    client: redis.Redis, keys: list[str]
) -> None:
    """Everyone waits for the probe's answer while its process renews its lease; once it
    stops (the process died), the next grant probes instead, one lease on, not W + lease."""
    holds, flight, meta, *_ = keys
    now = now_of(client)
    client.hset(
        meta, mapping={**made_by(client), "born": "b", "probe": "P", "probe_until": repr(now + 5)}
    )
    client.zadd(holds, {"P": now + 60})
    client.zadd(flight, {"P": now + 60})  # its slot: held W + lease, as a grant leaves it

    def grant(grant_id: str) -> list[bytes]:
        args = ["interactive", grant_id, "proc", 10, W, 0, 10, 0, TTL_MS, 60, "b"]
        reply: list[bytes] = client.eval(redis_scripts.GRANT, len(keys), *keys, *args)  # type: ignore[assignment]
        return reply

    assert grant("A")[0] == b"answer"  # the probe's lease holds
    client.hset(meta, "probe_until", repr(now - 0.1))  # not renewed
    reply = grant("B")
    assert reply[0] == b"grant" and reply[3] == 1  # B probes now
    assert client.hget(meta, "probe") == b"B"
    assert client.zscore(holds, "P") is not None  # P's slot stays held


def budget_keys(tag: str) -> list[str]:
    return [
        f"t:{{{tag}}}:{part}" for part in ("holds", "flight", "meta", "procs", "iwait", "freed")
    ]


RENEW_ARGS: list[ScriptArg] = ["proc", W, 10, TTL_MS, 60, ""]


async def test_a_cluster_client_on_a_plain_redis_says_so(redis_server: RedisServer) -> None:
    connections = Connections(Secret(redis_server.url), timeout=0.5, cluster=True)
    with pytest.raises(RedisUnavailable, match="not a Cluster"):
        await connections.runner().run("RENEW", budget_keys("a"), RENEW_ARGS)
    await connections.aclose()


async def test_a_plain_client_on_a_cluster_node_says_to_set_cluster(
    redis_cluster: RedisCluster,
) -> None:
    """A plain client is told MOVED for the keys of another node's slots: said in words."""
    plain = Connections(Secret(redis_cluster.url), timeout=0.5)
    moved = []
    for tag in "abcdefgh":  # some of these tags hash to a slot of another node
        try:
            await plain.runner().run("RENEW", budget_keys(tag), RENEW_ARGS)
        except RedisUnavailable as exc:
            moved.append(str(exc))
    await plain.aclose()
    assert moved and all("is a Cluster" in reason for reason in moved), moved
