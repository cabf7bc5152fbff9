"""SIGTERM during a burst: in-flight work finishes and is acked, the rest waits in its queue,
the service exits within its grace period, and after a restart nothing is lost or doubled."""

import time
import uuid

import pytest

from tests.integration.event_helpers import count, envelope, give_up_emails, open_broker, publish_all
from tests.processes import ServiceProcess
from tests.support import actor, case_form, eventually

GRACE_SECONDS = 30


@pytest.fixture
def processes(test_env, tmp_path):
    started = []

    def start(name):
        process = ServiceProcess(name, test_env.process_env(), tmp_path).start()
        started.append(process)
        return process.wait_healthy(test_env.amqp_uri)

    yield start
    for process in started:
        process.kill()


def _terminate_and_time(process):
    started = time.monotonic()
    process.stop()
    assert process.process.returncode is not None
    return time.monotonic() - started


def test_a_consumer_stopped_mid_burst_loses_and_doubles_nothing(test_env, processes, db):
    # the whole burst is queued before the consumer starts (publishing with confirms is slower than
    # consuming), and it is long: notifications consumes in batches, fast enough to finish 300 events
    mentor = actor("mentor")
    events = [
        envelope(
            "MentorChosen",
            str(uuid.uuid4()),
            {
                "case_id": str(uuid.uuid4()),
                "case_number": f"MC-0000-{n:06d}",
                "round": 1,
                "mentor_id": mentor["user_id"],
            },
        )
        for n in range(3000)
    ]
    publish_all(test_env.amqp_uri, events)
    notifications = processes("notifications")

    def delivered():
        return count(db, "notifications", "SELECT count(*) FROM inbox WHERE user_id = %s", mentor["user_id"])

    eventually(lambda: delivered() >= 20, message="the burst is being consumed")
    assert _terminate_and_time(notifications) < GRACE_SECONDS
    assert delivered() < len(events), "the burst finished before SIGTERM: nothing was in flight"

    processes("notifications")
    try:
        eventually(
            lambda: delivered() == len(events),
            timeout=60,
            message="every event delivered after the restart",
            explain=lambda: f"{delivered()} of {len(events)} delivered; {_parked(test_env)} parked",
        )
    finally:
        give_up_emails(test_env, mentor["user_id"])  # 3,000 e-mails to a mentor identity never knew
    time.sleep(0.5)
    assert delivered() == len(events)  # exactly once each
    assert count(
        db, "notifications", "SELECT count(DISTINCT source_event_id) FROM inbox WHERE user_id = %s", mentor["user_id"]
    ) == len(events)


def _parked(test_env):
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        return broker.channel.queue_declare("notifications.case-events.parked", passive=True).message_count
    finally:
        conn.release()


def test_rpc_commands_in_flight_at_sigterm_are_all_answered_once(test_env, processes, rpc, db):
    cases = processes("cases")
    mentee = actor("mentee")
    calls = [(str(uuid.uuid4()), rpc.cases.create_case.call_async(mentee, case_form(), None)) for _ in range(40)]
    time.sleep(0.3)
    assert _terminate_and_time(cases) < GRACE_SECONDS
    processes("cases")  # the requests not yet taken wait in the durable RPC queue
    replies = []
    for _, reply in calls:
        replies.append(reply.result()["id"])
    assert len(set(replies)) == len(calls)
    listed = {c["id"] for c in rpc.cases.list_cases(mentee, {"limit": 200})["items"]}
    assert listed == set(replies)
