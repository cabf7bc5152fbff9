"""A consumer that was not running while cases were filed gets every event once it starts: the
publisher (the cases relay) declares every consumer queue from contracts/topology.py before its
first publish, so the events wait in matching's queue instead of being dropped by the exchange."""

import pytest

from tests.faults.helpers import queue_depth
from tests.integration.event_helpers import count
from tests.support import actor, case_form, eventually

pytestmark = pytest.mark.timeout(120)

CASES = 20


def test_a_consumer_started_after_the_first_cases_has_every_event(test_env, services, rpc, db):
    services("cases")
    mentee = actor("mentee")
    case_ids = [rpc.cases.create_case(mentee, case_form(rubrics=["education-law"]))["id"] for _ in range(CASES)]
    # matching has never run in this test: its queue holds the events (nothing else consumes it)
    eventually(
        lambda: queue_depth(test_env.amqp_uri, "matching.case-events") >= CASES,
        message="CaseCreated events wait in matching's queue",
    )

    services("matching")
    eventually(
        lambda: count(db, "matching", "SELECT count(*) FROM cases WHERE case_id = ANY(%s)", case_ids) == CASES,
        timeout=60,
        message="matching knows every case",
    )
    # ...and decides a round for each, which reaches the cases service (nobody to propose here)
    eventually(
        lambda: all(rpc.cases.get_case(mentee, c)["state"] == "no_mentor_found" for c in case_ids),
        timeout=60,
        message="every case got matching's answer",
    )
    assert (
        count(db, "matching", "SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = ANY(%s)", case_ids)
        == CASES
    )
