"""Consumers under duplicate, unreadable and failing messages, on the real broker."""

import uuid

import pytest
from kombu import Connection, Producer

from contracts.envelope import Envelope
from contracts.events import dump_payload
from contracts.topology import SUBSCRIPTIONS_BY_QUEUE, declare_topology, events_exchange, parking_queue
from services.cases.service import CasesService
from services.library.service import LibraryService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.support import actor, case_form, eventually


@pytest.fixture(scope="module")
def consumers(start_module_service, test_env):
    for service in (MatchingService, CasesService, NotificationsService):
        start_module_service(service)
    start_module_service(LibraryService, LIBRARY_REVIEW="automatic")  # about redelivery, not review
    return test_env


@pytest.fixture
def broker(consumers):
    with Connection(consumers.amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        declare_topology(channel)
        yield _Broker(channel)


class _Broker:
    def __init__(self, channel):
        self.channel = channel
        self.producer = Producer(channel)

    def publish(self, source, routing_key, body):
        self.producer.publish(
            body, exchange=events_exchange(source), routing_key=routing_key, serializer="json", delivery_mode=2
        )

    def parked(self, queue_name):
        message = parking_queue(SUBSCRIPTIONS_BY_QUEUE[queue_name])(self.channel).get(no_ack=True)
        return message.payload if message else None


def envelope(event_type, aggregate_id, payload, source="cases"):
    version, data = dump_payload(event_type, payload)
    return Envelope(
        type=event_type, source=source, aggregate_id=aggregate_id, payload=data, schema_version=version, position=1
    ).to_message()


def count(db, service, query, *args):
    with db(service).cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()[0]


def test_the_same_envelope_twice_leaves_the_same_state(broker, rpc, db):
    mentor = actor("mentor")
    case_id = str(uuid.uuid4())
    chosen = envelope(
        "MentorChosen",
        case_id,
        {"case_id": case_id, "case_number": "MC-0000-000001", "round": 1, "mentor_id": mentor["user_id"]},
    )
    created = envelope(
        "CaseCreated",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-0000-000001",
            "rubrics": ["education-law"],
            "urgency": "urgent",
            "mode": "personal",
            "participants": [],
        },
    )
    completed = envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-0000-000001",
            "rubrics": ["education-law"],
            "problem_solved": "yes",
            "publication_consent": True,
            "author_id": str(uuid.uuid4()),
            "publication": {
                "essence": f"Essence {case_id}",
                "actions_taken": "",
                "difficulty": "",
                "question": "What now?",
                "participants": [],
                "rubrics": ["education-law"],
                "urgency": "urgent",
                "solutions": [{"text": "Read the law.", "materials": []}],
            },
        },
    )
    for body, routing_key in ((chosen, "MentorChosen"), (created, "CaseCreated"), (completed, "CaseCompleted")):
        broker.publish("cases", routing_key, body)
        broker.publish("cases", routing_key, body)

    eventually(lambda: rpc.notifications.list_inbox(mentor))
    eventually(lambda: rpc.matching.get_proposals(case_id))
    eventually(
        lambda: count(db, "library", "SELECT count(*) FROM library_entries WHERE essence = %s", f"Essence {case_id}")
    )
    eventually(
        lambda: count(db, "matching", "SELECT count(*) FROM processed_events WHERE event_id = %s", created["event_id"])
    )
    # Give the duplicates time to arrive: they must change nothing.
    eventually(lambda: _all_processed(db, [chosen, created, completed]), message="duplicates consumed")
    assert len(rpc.notifications.list_inbox(mentor)) == 1
    assert len(rpc.matching.get_proposals(case_id)) == 1
    assert count(db, "matching", "SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = %s", case_id) == 1
    assert count(db, "library", "SELECT count(*) FROM library_entries WHERE essence = %s", f"Essence {case_id}") == 1


def _all_processed(db, envelopes):
    # both copies have been taken off the queues once the queues are empty for these consumers
    return all(
        count(db, svc, "SELECT count(*) FROM processed_events WHERE event_id = %s", env["event_id"]) == 1
        for svc, env in (("notifications", envelopes[0]), ("matching", envelopes[1]), ("library", envelopes[2]))
    )


def test_a_redelivered_proposal_does_not_change_the_case_twice(consumers, broker, rpc):
    mentee = actor("mentee")
    case = rpc.cases.create_case(mentee, case_form(rubrics=["families-at-risk"]))
    matched = envelope(
        "MentorsMatched",
        case["id"],
        {
            "case_id": case["id"],
            "round": 1,
            "proposals": [{"mentor_id": "m-1", "matched_rubrics": ["families-at-risk"], "score": 1.0}],
        },
        source="matching",
    )
    broker.publish("matching", "MentorsMatched", matched)
    broker.publish("matching", "MentorsMatched", matched)
    eventually(lambda: rpc.cases.get_case(mentee, case["id"])["version"] >= 2)
    # matching (no mentor with this rubric) also answers round 1 with nobody; rounds count once either way
    eventually(lambda: rpc.cases.get_case(mentee, case["id"])["state"] in ("choosing_mentor", "no_mentor_found"))
    history = rpc.cases.get_history(mentee, case["id"])
    assert [h["type"] for h in history] == ["Created", "MentorsProposed"]


@pytest.mark.parametrize(
    "body",
    [
        {"hello": "world"},
        "a plain string",
        {
            "event_id": str(uuid.uuid4()),
            "type": "MentorChosen",
            "schema_version": 42,
            "source": "cases",
            "aggregate_id": "x",
            "position": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "payload": {},
        },
    ],
)
def test_an_unreadable_message_is_parked_and_the_consumer_goes_on(broker, rpc, body):
    broker.publish("cases", "MentorChosen", body)
    parked = eventually(lambda: broker.parked("notifications.case-events"), message="message parked")
    assert parked == body
    mentor = actor("mentor")
    case_id = str(uuid.uuid4())
    broker.publish(
        "cases",
        "MentorChosen",
        envelope(
            "MentorChosen",
            case_id,
            {"case_id": case_id, "case_number": "MC-0000-000002", "round": 1, "mentor_id": mentor["user_id"]},
        ),
    )
    assert eventually(lambda: rpc.notifications.list_inbox(mentor))[0]["case_id"] == case_id


def test_a_handler_that_keeps_failing_is_retried_then_parked(broker, rpc):
    missing_case = str(uuid.uuid4())  # the cases service cannot record proposals for a case it lacks
    poisoned = envelope(
        "MentorsMatched", missing_case, {"case_id": missing_case, "round": 1, "proposals": []}, source="matching"
    )
    broker.publish("matching", "MentorsMatched", poisoned)
    seen = []

    def parked_poison():
        message = broker.parked("cases.matching-events")
        seen.append(message)
        return message and message.get("event_id") == poisoned["event_id"]

    eventually(parked_poison, timeout=30, message="poison parked")
    mentee = actor("mentee")
    case = rpc.cases.create_case(mentee, case_form())
    assert eventually(lambda: rpc.cases.get_case(mentee, case["id"])["version"] >= 2)
