"""Session leases and their fencing generations, against a real Redis."""

from __future__ import annotations

import time

from redis import Redis

from functions.state.keys import Keys
from runner.leases import Lease, LeaseStore

KEYS = Keys("openwa")


def store(conn: Redis, ttl: float = 5.0) -> LeaseStore:
    return LeaseStore(conn, KEYS, ttl)


def test_only_one_runner_can_claim_a_session(redis_conn: Redis) -> None:
    leases = store(redis_conn)
    first = leases.claim("s1", "runner-a")
    assert first == Lease("s1", "runner-a", 1)
    assert leases.claim("s1", "runner-b") is None
    assert leases.holder("s1") == first


def test_an_expired_lease_is_claimed_again_with_a_larger_generation(redis_conn: Redis) -> None:
    short = store(redis_conn, ttl=0.2)
    old = short.claim("s1", "runner-a")
    time.sleep(0.3)
    new = short.claim("s1", "runner-b")
    assert old is not None
    assert new is not None
    assert new.generation > old.generation


def test_a_stale_holder_can_neither_renew_nor_release_the_new_lease(redis_conn: Redis) -> None:
    short, leases = store(redis_conn, ttl=0.2), store(redis_conn)
    stale = short.claim("s1", "runner-a")
    time.sleep(0.3)
    fresh = leases.claim("s1", "runner-b")
    assert stale is not None
    assert fresh is not None
    assert leases.renew([stale, fresh]) == [False, True]
    assert leases.release(stale) is False
    assert not leases.holds(stale)
    assert leases.holds(fresh)
    assert leases.holder("s1") == fresh


def test_renewing_keeps_a_lease_past_its_ttl_and_release_frees_it(redis_conn: Redis) -> None:
    # 3 x 0.5 s outlives the 1 s TTL; each renewal has 0.5 s of slack for a loaded machine.
    leases = store(redis_conn, ttl=1.0)
    lease = leases.claim("s1", "runner-a")
    assert lease is not None
    for _ in range(3):
        time.sleep(0.5)
        assert leases.renew([lease]) == [True]
    assert leases.release(lease) is True
    assert leases.holder("s1") is None
    assert leases.claim("s1", "runner-b") == Lease("s1", "runner-b", 2)


def test_the_api_sees_a_held_lease_as_engine_loaded(redis_conn: Redis) -> None:
    from functions.state.sessions import SessionRepository

    store(redis_conn).claim("s1", "runner-a")
    assert SessionRepository(redis_conn, KEYS).engines_loaded(["s1", "s2"]) == {"s1": True, "s2": False}


def test_heartbeats_list_live_runners_until_they_unregister_or_expire(redis_conn: Redis) -> None:
    leases, short = store(redis_conn), store(redis_conn, ttl=0.2)
    leases.heartbeat("runner-a", ["s1"])
    short.heartbeat("runner-b", [])
    assert sorted(leases.live_runners()) == ["runner-a", "runner-b"]
    time.sleep(0.3)
    assert leases.live_runners() == ["runner-a"]
    leases.unregister("runner-a")
    assert leases.live_runners() == []
