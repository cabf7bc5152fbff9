"""The batching consumer (services/common/batch_consumer.py) on the real broker and database, through
notifications' inbox (batched since issue #10) and matching's mentor read model.

Each test starts its own consumer with ``max_workers=1`` and a linger of 300 ms, after publishing, so
that what was published together is handed to the handler as one batch: one transaction, whose
``processed_events.processed_at`` (the transaction's ``now()``) every event of the batch shares.
"""

import uuid

import pytest
from kombu import Connection

from contracts.envelope import read_envelope
from services.common.batch_consumer import first_deliveries
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.faults.helpers import cure, poison, queue_depth
from tests.integration.event_helpers import count, envelope, publish_all, purge
from tests.support import actor, eventually, mentor_snapshot

pytestmark = pytest.mark.timeout(180)

QUEUE = "notifications.case-events"
BATCHING = {"max_workers": 1, "EVENT_BATCH_LINGER_MS": 300, "EVENT_BATCH_SIZE": 50}


def chosen(mentor_id, number="MC-2026-000777"):
    case_id = str(uuid.uuid4())
    return envelope(
        "MentorChosen", case_id, {"case_id": case_id, "case_number": number, "round": 1, "mentor_id": mentor_id}
    )


def transactions(db, service, bodies):
    """processed_at of each event (one value per transaction that recorded them), None if not processed."""
    with db(service).cursor() as cur:
        cur.execute(
            "SELECT event_id::text, processed_at FROM processed_events WHERE event_id::text = ANY(%s)",
            ([b["event_id"] for b in bodies],),
        )
        found = dict(cur.fetchall())
    return [found.get(b["event_id"]) for b in bodies]


def inbox_count(db, user_id):
    return count(db, "notifications", "SELECT count(*) FROM inbox WHERE user_id = %s", user_id)


@pytest.fixture
def batching_notifications(start_service, test_env):
    """Publish first, then start the consumer (returned): the queue hands it everything at once."""
    purge(test_env.amqp_uri, QUEUE, QUEUE + ".parked")

    def start(*bodies):
        publish_all(test_env.amqp_uri, bodies)
        return start_service(NotificationsService, **BATCHING)

    yield start
    purge(test_env.amqp_uri, QUEUE + ".parked")


def test_a_batch_is_applied_in_one_transaction_and_acked_after_it(batching_notifications, test_env, db):
    mentors = [actor("mentor") for _ in range(8)]
    bodies = [chosen(m["user_id"]) for m in mentors]
    container = batching_notifications(*bodies)

    eventually(lambda: all(transactions(db, "notifications", bodies)), message="every event processed")
    assert len(set(transactions(db, "notifications", bodies))) == 1, "one transaction for the whole batch"
    assert [inbox_count(db, m["user_id"]) for m in mentors] == [1] * len(mentors)
    container.stop()  # anything still unacked would go back to the queue now
    assert queue_depth(test_env.amqp_uri, QUEUE) == 0


def test_a_duplicate_inside_a_batch_and_across_batches_is_applied_once(batching_notifications, test_env, db):
    twice, once = actor("mentor"), actor("mentor")
    body, other = chosen(twice["user_id"]), chosen(once["user_id"])
    container = batching_notifications(body, body, other, body)  # three copies of one event in one batch

    eventually(lambda: all(transactions(db, "notifications", [body, other])), message="both processed")
    assert len(set(transactions(db, "notifications", [body, other]))) == 1, "they were one batch"
    publish_all(test_env.amqp_uri, [body, body])  # and again in a later batch
    sentinel = chosen(actor("mentor")["user_id"])
    publish_all(test_env.amqp_uri, [sentinel])
    eventually(lambda: all(transactions(db, "notifications", [sentinel])), message="sentinel processed")
    eventually(lambda: queue_depth(test_env.amqp_uri, QUEUE) == 0)
    container.stop()

    assert inbox_count(db, twice["user_id"]) == 1 and inbox_count(db, once["user_id"]) == 1
    assert (
        count(db, "notifications", "SELECT count(*) FROM email_outbox WHERE source_event_id = %s", body["event_id"])
        <= 1
    )
    assert queue_depth(test_env.amqp_uri, QUEUE) == 0  # every copy was acked


def test_a_poison_event_in_a_batch_is_parked_and_the_rest_of_the_batch_applied(batching_notifications, test_env, db):
    mentors = [actor("mentor") for _ in range(6)]
    bodies = [chosen(m["user_id"]) for m in mentors]
    poisoned, rest = bodies[2], bodies[:2] + bodies[3:]
    poison(db, poisoned["event_id"])
    try:
        container = batching_notifications(*bodies)
        eventually(
            lambda: queue_depth(test_env.amqp_uri, QUEUE + ".parked") == 1,
            timeout=60,
            message="the poisoned event is parked",
        )
        eventually(lambda: all(transactions(db, "notifications", rest)), message="the rest is applied")
    finally:
        cure(db)
    eventually(lambda: queue_depth(test_env.amqp_uri, QUEUE) == 0)
    container.stop()

    assert [inbox_count(db, m["user_id"]) for m in mentors] == [1, 1, 0, 1, 1, 1]
    assert transactions(db, "notifications", [poisoned]) == [None]
    with Connection(test_env.amqp_uri) as conn:
        parked = conn.SimpleQueue(QUEUE + ".parked").get(timeout=5)
        assert parked.payload["event_id"] == poisoned["event_id"]
        parked.ack()
    assert queue_depth(test_env.amqp_uri, QUEUE) == 0


def test_an_unreadable_envelope_in_a_batch_is_parked_at_once(batching_notifications, test_env, db):
    mentor = actor("mentor")
    good = chosen(mentor["user_id"])
    bad = {**chosen(actor("mentor")["user_id"]), "schema_version": 99}
    container = batching_notifications(good, bad)
    eventually(lambda: queue_depth(test_env.amqp_uri, QUEUE + ".parked") == 1, message="parked")
    eventually(lambda: all(transactions(db, "notifications", [good])), message="the good one applied")
    container.stop()
    assert inbox_count(db, mentor["user_id"]) == 1
    assert queue_depth(test_env.amqp_uri, QUEUE) == 0


def test_mentor_profiles_in_one_batch_end_as_the_newest_of_each(start_service, test_env, db, rpc):
    """matching's batched projection: every event of the batch is applied as it would be alone (an
    older snapshot delivered after a newer one does not win), in one transaction."""
    purge(test_env.amqp_uri, "matching.identity-events")
    mentor_id = str(uuid.uuid4())
    bodies = [
        envelope(
            "MentorProfileUpdated",
            mentor_id,
            mentor_snapshot(mentor_id, rubrics, capacity=capacity),
            source="identity",
            position=position,
        )
        for position, rubrics, capacity in (
            (10, ["education-law"], 1),
            (30, ["teaching-methods"], 3),
            (20, ["self-management"], 2),
        )
    ]
    publish_all(test_env.amqp_uri, [*bodies, bodies[1]])
    container = start_service(MatchingService, RELAY_ENABLED="false", **BATCHING)

    eventually(lambda: all(transactions(db, "matching", bodies)), message="every profile event processed")
    assert len(set(transactions(db, "matching", bodies))) == 1
    mentor = rpc.matching.get_mentor(mentor_id)
    assert mentor["rubrics"] == ["teaching-methods"] and mentor["capacity"] == 3
    eventually(lambda: queue_depth(test_env.amqp_uri, "matching.identity-events") == 0)
    container.stop()
    assert queue_depth(test_env.amqp_uri, "matching.identity-events") == 0


def test_first_deliveries_returns_each_new_event_once_in_order(db, test_env):
    a, b, c = (read_envelope(chosen(str(uuid.uuid4()))) for _ in range(3))
    conn = db("notifications")
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            assert first_deliveries(cur, [b], "test") == [b]
            assert first_deliveries(cur, [c, a, b, c, a], "test") == [c, a]  # b was processed; copies dropped
            assert first_deliveries(cur, [a, b, c], "test") == []
            assert first_deliveries(cur, [], "test") == []
    finally:
        conn.rollback()
        conn.autocommit = True
