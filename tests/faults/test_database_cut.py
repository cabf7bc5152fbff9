"""A service's PostgreSQL connections cut under it (pg_terminate_backend, as a failover or a restarted
database does): requests fail cleanly with ServiceUnavailable (503), never hang, and the service
recovers by itself, without a restart; an event handled during the cut is retried, not lost."""

import psycopg2
import pytest

from contracts.errors import ServiceUnavailable
from tests.faults.helpers import OBSERVER, Burst
from tests.support import actor, case_form, eventually

pytestmark = pytest.mark.timeout(120)

CALLS = 30


def _cut(test_env, service):
    conn = psycopg2.connect(f"{test_env.postgres_base}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name <> %s",
                (test_env.database_url(service).rsplit("/", 1)[-1], OBSERVER),
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def _calls_after_cut(call):
    """Outcomes of CALLS requests in a row: 'ok' or 'unavailable'; anything else (a hang is an RPC
    timeout) fails the test."""
    outcomes = []
    for _ in range(CALLS):
        try:
            call()
            outcomes.append("ok")
        except ServiceUnavailable:
            outcomes.append("unavailable")
    return outcomes


def _warm(method, *args, n=10):
    """Several requests at once, so the pool holds several connections to be cut."""
    for reply in [method.call_async(*args) for _ in range(n)]:
        reply.result()


def test_cases_requests_fail_cleanly_on_cut_connections_and_recover_without_restart(test_env, services, rpc):
    """cases keeps its connections in eventsourcing's pool: the cut hits idle pooled connections."""
    process = services("cases")
    who = actor("mentee")
    case_id = rpc.cases.create_case(who, case_form())["id"]
    _warm(rpc.cases.get_case, who, case_id)
    assert _cut(test_env, "cases") >= 1

    outcomes = _calls_after_cut(lambda: rpc.cases.get_case(who, case_id))
    assert outcomes[-5:] == ["ok"] * 5, outcomes  # recovered, same process
    assert process.process.poll() is None
    assert rpc.cases.health()["status"] == "ok"


def test_notifications_cut_mid_burst_answers_503_and_loses_no_event(test_env, services, rpc, db):
    """notifications keeps a pool of connections (services/common/db.py): the cut hits the
    transactions in flight, of event handlers and of RPCs alike, and the idle connections."""
    # the whole burst waits in the queue before the consumer starts: publishing with confirms is slower
    # than the batching consumer, which would otherwise finish each event as it arrives, before any cut
    burst = Burst("notifications", 3000).publish(test_env.amqp_uri)
    process = services("notifications")
    reader = actor("mentor", burst.mentor_id)
    eventually(lambda: burst.effects(db) >= 10, timeout=60, message="the burst is being consumed")
    pending = [rpc.notifications.list_inbox.call_async(reader) for _ in range(20)]
    terminated = 0
    while terminated < 3 and burst.effects(db) < len(burst.events):
        terminated += _cut(test_env, "notifications")
    assert terminated >= 1, "the burst ended before any cut hit a transaction"
    outcomes = []
    for reply in pending:
        try:
            reply.result()
            outcomes.append("ok")
        except ServiceUnavailable:
            outcomes.append("unavailable")  # anything else (an RPC timeout for a hang) fails the test

    eventually(
        lambda: burst.processed(db) == len(burst.events), timeout=60, message="every event handled despite the cuts"
    )
    assert burst.effects(db) == len(burst.events)
    assert _calls_after_cut(lambda: rpc.notifications.list_inbox(reader))[-5:] == ["ok"] * 5
    assert process.process.poll() is None
