"""Messages as a broker can really deliver them: one envelope three times, a case's events out of
order, an unknown schema version, bodies that are not JSON at all. State stays right; the bad ones are
logged and parked at once (never retried), and the consumer goes on. tests/integration/test_redelivery.py
covers two copies and unreadable JSON bodies; this adds what only a raw publish can send."""

import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Producer

from contracts.topology import events_exchange
from tests.faults.helpers import queue_depth
from tests.integration.event_helpers import count, envelope, open_broker, processed
from tests.processes import ROOT
from tests.support import eventually

pytestmark = pytest.mark.timeout(120)

QUEUE = "matching.case-events"


def _case_created(case_id, rubrics, position):
    return envelope(
        "CaseCreated",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-0000-000001",
            "rubrics": rubrics,
            "urgency": "urgent",
            "mode": "personal",
            "participants": [],
        },
        position=position,
    )


def _case_redefined(case_id, rubrics, position):
    return envelope(
        "CaseRedefined",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-0000-000001",
            "mentor_id": str(uuid.uuid4()),
            "revision": 2,
            "rubrics": rubrics,
        },
        position=position,
    )


def _publish_raw(amqp_uri, body, content_type):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel).publish(
            body,
            exchange=events_exchange("cases"),
            routing_key="CaseCreated",
            content_type=content_type,
            content_encoding="utf-8",
            delivery_mode=2,
        )


def test_duplicates_and_out_of_order_events_leave_the_right_state(test_env, services, db):
    services("matching")
    case_id = str(uuid.uuid4())
    created = _case_created(case_id, ["education-law"], position=1)
    redefined = _case_redefined(case_id, ["families-at-risk"], position=7)
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(redefined)  # the later event first
        broker.publish(created, times=3)
    finally:
        conn.release()

    eventually(lambda: processed(db, "matching", created) and processed(db, "matching", redefined))
    eventually(lambda: queue_depth(test_env.amqp_uri, QUEUE) == 0, message="the copies were taken off the queue")
    rubrics = count(db, "matching", "SELECT rubrics FROM cases WHERE case_id = %s", case_id)
    assert rubrics == ["families-at-risk"]  # the later revision wins whatever the arrival order
    assert count(db, "matching", "SELECT count(*) FROM proposals WHERE case_id = %s", case_id) == 1
    assert count(db, "matching", "SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = %s", case_id) == 1
    assert queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 0


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json at all", "application/json"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
        (b"CaseCreated for case 42", "text/plain"),
    ],
)
def test_a_body_that_is_not_json_is_parked_at_once_and_the_consumer_goes_on(test_env, services, db, body, content_type):
    process = services("matching")
    _publish_raw(test_env.amqp_uri, body, content_type)
    unknown_version = _case_created(str(uuid.uuid4()), ["education-law"], position=1)
    unknown_version["schema_version"] = 99
    case_id = str(uuid.uuid4())
    good = _case_created(case_id, ["education-law"], position=1)
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(unknown_version)
        broker.publish(good)
    finally:
        conn.release()

    eventually(lambda: processed(db, "matching", good), message="the consumer went on")
    eventually(lambda: queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 2, message="both bad ones parked")
    assert process.process.poll() is None
    assert not processed(db, "matching", unknown_version)
    log = process.log_text()
    assert log.count("envelope_rejected") == 2 and "event_handler_failed" not in log  # parked, not retried
    listed = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "services.common.parked", "list", "--queue", QUEUE],
        cwd=ROOT,
        env=test_env.process_env(),
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "unknown event type or schema version: CaseCreated v99" in listed
    assert "message body is not JSON" in listed  # the operator sees both, with why


def test_an_event_with_an_oversized_field_is_parked_at_once_and_has_no_effect(test_env, services, db):
    """A MentorChosen whose case_number is 30 MiB (every string of an event contract has a maximum
    length) is unreadable like an unknown schema version: parked at once, never retried, no inbox
    entry and no e-mail for it, and the consumer goes on with the next event."""
    process = services("notifications")
    mentor_id = str(uuid.uuid4())
    oversized_case, good_case = str(uuid.uuid4()), str(uuid.uuid4())
    oversized = envelope(
        "MentorChosen",
        oversized_case,
        {"case_id": oversized_case, "case_number": "MC-0000-000001", "round": 1, "mentor_id": mentor_id},
    )
    oversized["payload"]["case_number"] = "9" * (30 << 20)  # as no producer of the platform can emit it
    good = envelope(
        "MentorChosen",
        good_case,
        {"case_id": good_case, "case_number": "MC-0000-000002", "round": 1, "mentor_id": mentor_id},
    )
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(oversized)
        broker.publish(good)
    finally:
        conn.release()

    queue = "notifications.case-events"
    eventually(lambda: processed(db, "notifications", good), timeout=90, message="the consumer went on")
    eventually(lambda: queue_depth(test_env.amqp_uri, f"{queue}.parked") == 1, message="the oversized one parked")
    assert not processed(db, "notifications", oversized)
    for table in ("inbox", "email_outbox"):
        assert (
            count(
                db, "notifications", f"SELECT count(*) FROM {table} WHERE source_event_id = %s", oversized["event_id"]
            )
            == 0
        ), table
    assert count(db, "notifications", "SELECT count(*) FROM inbox WHERE user_id = %s", mentor_id) == 1
    assert (
        count(
            db,
            "notifications",
            "SELECT coalesce(max(length(text)), 0) FROM email_outbox WHERE recipient = %s",
            mentor_id,
        )
        < 10_000
    )
    log = process.log_text()
    assert "envelope_rejected" in log and "event_handler_failed" not in log  # parked, not retried
    assert "9" * 1000 not in log  # the value is not logged either
