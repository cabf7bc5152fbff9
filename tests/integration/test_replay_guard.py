"""The replay guard of signed actors (services/common/actors.py ReplayGuard) on a real database: a jti is
accepted once by all the processes of a service (they share the table), until it expires; expired rows
are pruned; a database that cannot answer refuses the call (503, not done) rather than believing it.
Two `nameko run` processes of one service: tests/security/test_replay_across_replicas.py."""

import time
import uuid

import eventlet
import pytest

from contracts.errors import ServiceUnavailable, Unauthorized
from services.common import actors, migrations
from services.common.db import PostgresStore


def open_store(test_env):
    url = test_env.database_url("replay_guard")
    migrations.apply(url, migrations.history_directory("notifications"))  # every RPC service's has the table
    return PostgresStore(url, 4)


@pytest.fixture
def store(test_env):
    store = open_store(test_env)
    yield store
    store.close()


def refusal(call):
    with pytest.raises(actors.ActorRefused) as caught:
        call()
    return caught.value.reason, type(caught.value.error)


def test_a_jti_is_accepted_once_by_every_guard_of_the_database(store):
    one, other = actors.ReplayGuard(store), actors.ReplayGuard(lambda: store)  # two processes of a service
    jti, expires_at = uuid.uuid4().hex, time.time() + 60
    one.accept(jti, expires_at)
    assert refusal(lambda: other.accept(jti, expires_at)) == ("replayed", Unauthorized)
    assert refusal(lambda: one.accept(jti, expires_at)) == ("replayed", Unauthorized)


def test_a_request_redelivered_after_its_replica_died_is_unknown_not_a_replay(store):
    """A replica accepted the jti and was killed before it answered: the broker hands the same request
    (redelivered) to another replica. It is no replay by anyone, but it may have been carried out: 503
    with outcome unknown, so the client sends it again with its Idempotency-Key (a 401 told it to sign
    in again; the swarm test saw one when it killed a cases replica). A new message with that jti is
    still a replay."""
    one, other = actors.ReplayGuard(store), actors.ReplayGuard(store)
    jti, expires_at = uuid.uuid4().hex, time.time() + 60
    one.accept(jti, expires_at)
    with pytest.raises(actors.ActorRefused) as caught:
        other.accept(jti, expires_at, redelivered=True)
    assert caught.value.reason == "redelivered" and isinstance(caught.value.error, ServiceUnavailable)
    assert caught.value.error.details == {"outcome": "unknown"}
    assert refusal(lambda: other.accept(jti, expires_at)) == ("replayed", Unauthorized)
    fresh = uuid.uuid4().hex  # a first delivery flagged redelivered (its replica died before the check)
    other.accept(fresh, expires_at, redelivered=True)


def test_of_concurrent_uses_exactly_one_is_accepted(store):
    guards = [actors.ReplayGuard(store) for _ in range(4)]
    jti, expires_at = uuid.uuid4().hex, time.time() + 60

    def use(guard):
        try:
            guard.accept(jti, expires_at)
            return "accepted"
        except actors.ActorRefused as refused:
            return refused.reason

    pool = eventlet.GreenPool()
    outcomes = sorted(pool.imap(use, guards * 3))
    assert outcomes == ["accepted"] + ["replayed"] * 11


def test_expired_jtis_are_pruned(store):
    guard = actors.ReplayGuard(store)
    old, now = uuid.uuid4().hex, time.time()
    guard.accept(old, expires_at=now + 1, now=now)
    guard.accept(uuid.uuid4().hex, expires_at=now + 60, now=now + actors.PRUNE_EVERY + 2)  # a sweep is due
    with store.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM accepted_jtis WHERE jti = %s", (old,))
        assert cur.fetchone()["n"] == 0


def test_a_database_that_cannot_answer_refuses_the_call(test_env):
    store = open_store(test_env)
    guard = actors.ReplayGuard(store)
    guard.accept(uuid.uuid4().hex, time.time() + 60)  # the table exists
    store.close()  # the pool is gone: as good as a database that is down
    reason, error = refusal(lambda: guard.accept(uuid.uuid4().hex, time.time() + 60))
    assert (reason, error) == ("replay_guard_unavailable", ServiceUnavailable)
