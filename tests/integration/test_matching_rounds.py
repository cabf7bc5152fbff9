"""matching's next rounds (a mentor declined, a second opinion) on the real broker."""

import uuid

import psycopg2
import pytest

from services.matching.ranking import score
from services.matching.service import MatchingService
from tests.integration.event_helpers import consumer_under_test, count, envelope, processed, purge
from tests.support import eventually, mentor_snapshot

RUBRIC = "urban-educational-projects"
DATABASE = "matching_rounds"  # this module's own matching database


@pytest.fixture(scope="module")
def matching(start_module_service, test_env):
    # its own database and empty queues: other modules' mentors would compete in these rounds
    purge(test_env.amqp_uri, "matching.case-events", "matching.identity-events")
    with consumer_under_test(
        start_module_service, test_env, MatchingService, DATABASE_URL=test_env.database_url(DATABASE)
    ) as broker:
        yield broker


@pytest.fixture(scope="module")
def mentors(matching, db):
    """Four mentors of one rubric, equally suited: which of them comes first is the fair order's
    (tests/integration/test_matching_fairness.py), so these tests compare who is proposed."""
    ids = [f"00-{letter}-{uuid.uuid4()}" for letter in "abcd"]
    for position, mentor_id in enumerate(ids, start=1):
        matching.publish(
            envelope(
                "MentorProfileUpdated",
                mentor_id,
                mentor_snapshot(mentor_id, [RUBRIC]),
                source="identity",
                position=position,
            )
        )
    eventually(
        lambda: count(db, "matching", "SELECT count(*) FROM mentors WHERE mentor_id = ANY(%s)", ids) == 4,
        message="mentors known to matching",
    )
    return ids


@pytest.fixture(scope="module")
def db(test_env):
    """conftest's ``db``, module-scoped here because the module's mentors fixture needs it."""
    connections = {}

    def connect(service):
        if service not in connections:
            connections[service] = psycopg2.connect(
                test_env.database_url(DATABASE if service == "matching" else service)
            )
            connections[service].autocommit = True
        return connections[service]

    yield connect
    for conn in connections.values():
        conn.close()


def next_round(event_type, case_id, excluded, **extra):
    return envelope(
        event_type,
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000101",
            "author_id": str(uuid.uuid4()),
            "next_round": 2,
            "rubrics": [RUBRIC],
            "excluded_mentor_ids": excluded,
            **extra,
        },
    )


def rounds(db, case_id):
    with db("matching").cursor() as cur:
        cur.execute("SELECT round, proposals FROM proposals WHERE case_id = %s ORDER BY round", (case_id,))
        return cur.fetchall()


def matched_events(db, case_id):
    with db("matching").cursor() as cur:
        cur.execute(
            "SELECT envelope FROM outbox WHERE envelope->>'type' = 'MentorsMatched' "
            "AND envelope->'payload'->>'case_id' = %s ORDER BY position",
            (case_id,),
        )
        return [r[0] for r in cur.fetchall()]


def drain(matching, db):
    """A sentinel behind everything published so far on matching.case-events."""
    sentinel = next_round("SecondOpinionRequested", str(uuid.uuid4()), [])
    matching.publish(sentinel)
    eventually(lambda: processed(db, "matching", sentinel), message="sentinel processed")


def test_a_decline_proposes_round_two_without_the_excluded_mentors_once(matching, mentors, db):
    a, b, c, d = mentors
    case_id = str(uuid.uuid4())
    declined = next_round("MentorDeclined", case_id, [a, b], mentor_id=a)
    matching.publish(declined, times=2)
    eventually(lambda: rounds(db, case_id), message="round 2 recorded")
    drain(matching, db)

    [(round_, proposals)] = rounds(db, case_id)
    proposed = [p["mentor_id"] for p in proposals]
    assert round_ == 2
    assert set(proposed) == {c, d}
    [event] = matched_events(db, case_id)
    assert event["payload"] == {"case_id": case_id, "round": 2, "proposals": proposals}
    assert event["aggregate_id"] == case_id and event["source"] == "matching"
    assert processed(db, "matching", declined) == 1


def test_the_declining_mentor_is_excluded_even_if_the_list_omits_them(matching, mentors, db):
    a, b, c, d = mentors
    case_id = str(uuid.uuid4())
    matching.publish(next_round("MentorDeclined", case_id, [], mentor_id=a))
    [(_, proposals)] = eventually(lambda: rounds(db, case_id), message="round 2 recorded")
    assert {p["mentor_id"] for p in proposals} == {b, c, d}


def test_a_second_opinion_proposes_the_next_round_without_the_first_mentor(matching, mentors, db):
    a, b, c, d = mentors
    case_id = str(uuid.uuid4())
    requested = next_round("SecondOpinionRequested", case_id, [a])
    matching.publish(requested, times=2)
    eventually(lambda: rounds(db, case_id), message="round 2 recorded")
    drain(matching, db)

    [(round_, proposals)] = rounds(db, case_id)
    assert round_ == 2
    assert sorted(p["mentor_id"] for p in proposals) == [b, c, d]
    assert all(p["matched_rubrics"] == [RUBRIC] and p["score"] == score(1.0, 0, 3) for p in proposals)
    assert len(matched_events(db, case_id)) == 1


def test_a_round_asked_for_again_by_another_event_announces_the_recorded_proposals(matching, mentors, db):
    a, b, c, _ = mentors
    case_id = str(uuid.uuid4())
    matching.publish(next_round("MentorDeclined", case_id, [a], mentor_id=a))
    [(_, first)] = eventually(lambda: rounds(db, case_id), message="round 2 recorded")
    again = next_round("MentorDeclined", case_id, [a, b, c], mentor_id=a)  # a different event, same round
    matching.publish(again)
    eventually(lambda: processed(db, "matching", again), message="second event processed")

    [(_, recorded)] = rounds(db, case_id)
    events = matched_events(db, case_id)
    assert recorded == first and len(events) == 2
    assert all(e["payload"]["proposals"] == first for e in events)
