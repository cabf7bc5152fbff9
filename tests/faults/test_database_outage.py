"""A consumer service's database unavailable for 15 s during a 300-event burst (issue #18, part 1).

The outage is real and is the database's alone: the shared PostgreSQL keeps running, but
``ALTER DATABASE ... ALLOW_CONNECTIONS false`` refuses every new connection to the service's database
(superusers included) and ``pg_terminate_backend`` ends the service's open ones, mid-transaction for
some. Half the burst is queued before the cut, half during it. Then connections are allowed again.

What must hold, with no operator action (the same process, nothing replayed by hand):
- nothing is parked: a failure because the database is down is not the message's fault, so it does
  not spend the message's deliveries (DELIVERY_LIMIT), however long the outage;
- every event has its effect exactly once afterwards;
- during the outage the gateway's ``/ready`` answers 503 naming the service whose database is down,
  and 200 for it again afterwards.
"""

import time
from contextlib import contextmanager

import psycopg2
import pytest
import requests

from tests.actors import signed_rpc
from tests.faults.helpers import OBSERVER, Burst, connection_killer, cure_connection_killer, queue_depth, service_env
from tests.processes import ServiceProcess
from tests.support import actor, case_form, eventually, free_port

pytestmark = pytest.mark.timeout(150)

BURST = 300
OUTAGE_SECONDS = 15
# the consumer's backoff capped at 2 s (30 s by default): recovery is seen soon after the outage ends
FAST_RECOVERY = {"OUTAGE_BACKOFF_INITIAL_SECONDS": "0.2", "OUTAGE_BACKOFF_MAX_SECONDS": "2"}


def _admin(test_env):
    conn = psycopg2.connect(f"{test_env.postgres_base}/postgres")
    conn.autocommit = True
    return conn


@contextmanager
def database_outage(test_env, service):
    """The service's database refuses connections and its open ones are cut, until the block ends."""
    name = test_env.database_url(service).rsplit("/", 1)[-1]
    conn = _admin(test_env)
    try:
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            for _ in range(2):  # again after a moment: a connection being opened at the ALTER
                cur.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND application_name <> %s AND pid <> pg_backend_pid()",
                    (name, OBSERVER),
                )
                time.sleep(0.3)
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.close()


@pytest.fixture(scope="module")
def gateway(test_env, tmp_path_factory):
    """A gateway process: its /ready asks every backend's health()."""
    port = free_port()
    env = service_env(test_env)
    env["GATEWAY_ADDRESS"] = f"127.0.0.1:{port}"
    process = ServiceProcess("gateway", env, tmp_path_factory.mktemp("gateway")).start()
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    eventually(up, timeout=60, message="gateway up", explain=process.tail)
    yield base
    process.kill()


def _readiness_of(base, service):
    """(HTTP status, the service's entry in /ready's answer)."""
    response = requests.get(f"{base}/ready", timeout=10)
    body = response.json()
    services = body.get("services") or body.get("error", {}).get("details", {}).get("services", {})
    return response.status_code, services.get(service), body


def _create_cases(amqp_uri, n):
    """``n`` cases awaiting their first proposals (matching is not running), by RPC, 30 at a time."""
    ids = []
    with signed_rpc(amqp_uri, timeout=60) as rpc:
        while len(ids) < n:
            replies = [
                rpc.cases.create_case.call_async(actor("mentee"), case_form(rubrics=["education-law"]))
                for _ in range(min(30, n - len(ids)))
            ]
            ids += [reply.result()["id"] for reply in replies]
    return ids


@pytest.mark.parametrize("service", ["notifications", "matching", "library", "cases"])
def test_a_15_s_database_outage_parks_nothing_and_every_event_has_its_effect_once(
    test_env, services, db, gateway, service
):
    process = services(service, **FAST_RECOVERY)
    if service == "cases":
        burst = Burst("cases", case_ids=_create_cases(test_env.amqp_uri, BURST))
    else:
        burst = Burst(service, BURST)
    parked_queues = [f"{q}.parked" for q in burst.queues()]
    half = len(burst.events) // 2
    assert burst.effects(db) == 0  # and the observer's connection is open before the outage

    burst.publish(test_env.amqp_uri, burst.events[:half])
    eventually(lambda: burst.effects(db) >= 1, timeout=30, message="the burst is being consumed")
    parked_during = 0
    with database_outage(test_env, service):
        started = time.monotonic()
        burst.publish(test_env.amqp_uri, burst.events[half:])  # the broker takes them; the database is down
        status, entry, body = eventually(
            lambda: (lambda r: r if r[0] == 503 and r[1] and r[1].get("database") == "unavailable" else None)(
                _readiness_of(gateway, service)
            ),
            timeout=OUTAGE_SECONDS - 2,
            message=f"/ready names {service}'s database as unavailable",
            explain=lambda: repr(_readiness_of(gateway, service)),
        )
        assert f"{service}'s database is unavailable" in body["error"]["message"], body
        while time.monotonic() - started < OUTAGE_SECONDS:
            parked_during = max(parked_during, sum(queue_depth(test_env.amqp_uri, q) for q in parked_queues))
            time.sleep(0.5)

    burst.wait_all_processed(db, test_env, timeout=90)
    assert burst.effects(db) == len(burst.events)  # exactly once
    assert parked_during == 0
    assert [queue_depth(test_env.amqp_uri, q) for q in parked_queues] == [0] * len(parked_queues)
    assert process.process.poll() is None, "the service recovered by itself, without a restart"
    eventually(
        lambda: _readiness_of(gateway, service)[1] == {"status": "ok", "database": "ok"},
        timeout=15,
        message=f"/ready says {service} is ok again",
    )


@pytest.mark.parametrize("service", ["matching", "notifications"])
def test_a_service_stopped_during_the_outage_gives_back_what_it_held_and_a_new_one_handles_it(
    test_env, services, db, service
):
    """SIGTERM while the consumer holds events (an operator restarting it, compose's restart): it
    stops cleanly within its grace period and requeues what it held (one delivery each, far from the
    limit); the next process, once the database is back, handles every event once."""
    first = services(service, **FAST_RECOVERY)
    burst = Burst(service, 100)
    assert burst.effects(db) == 0
    with database_outage(test_env, service):
        burst.publish(test_env.amqp_uri)
        eventually(
            lambda: "dependency_unavailable" in first.log_text(), timeout=30, message="the consumer holds the events"
        )
        first.stop()
        assert first.process.returncode == 0, first.tail()
        assert "held_events_requeued" in first.log_text()
    services(service, **FAST_RECOVERY)
    burst.wait_all_processed(db, test_env, timeout=60)
    assert burst.effects(db) == len(burst.events)
    assert [queue_depth(test_env.amqp_uri, f"{q}.parked") for q in burst.queues()] == [0] * len(burst.queues())


def test_an_event_that_breaks_its_own_database_connection_is_parked_and_the_queue_goes_on(test_env, services, db):
    """Not every lost connection is an outage: this event's handler ends its own database session each
    time, while the database answers everyone else. Held as an outage it would stop the queue for good;
    the consumer asks the database directly, blames the event after repeated trials, and it is counted
    and parked like any poison, while every other event has its effect."""
    services("matching", **FAST_RECOVERY)
    burst = Burst("matching", 40)
    culprit = burst.events[5]["event_id"]
    connection_killer(db, "matching", culprit)
    try:
        burst.publish(test_env.amqp_uri)
        eventually(
            lambda: burst.effects(db) == len(burst.events) - 1,
            timeout=90,
            message="every other event handled",
            explain=lambda: f"{burst.effects(db)} effects",
        )
        eventually(
            lambda: queue_depth(test_env.amqp_uri, "matching.case-events.parked") == 1,
            timeout=90,
            message="the culprit parked after DELIVERY_LIMIT deliveries",
        )
        assert burst.processed(db) == len(burst.events) - 1
    finally:
        cure_connection_killer(db, "matching")
