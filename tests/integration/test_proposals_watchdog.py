"""The proposals watchdog (issue #18): a case still awaiting proposals after PROPOSALS_OVERDUE_SECONDS
(matching never answered: here it is not running at all) goes into the moderators' flagged queue,
once, with reason ``proposals_overdue``; late proposals take it out again; a case proposed in time
is never flagged.

Two cases containers on one database, both running the watchdog (as two processes would), with a
2 s deadline checked every 0.5 s; no matching: MentorsMatched is published by hand, as it would.
"""

import time
import uuid

import kombu
import pytest

from contracts.topology import events_exchange
from services.cases.service import CasesService
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.support import actor, case_form, eventually

OVERDUE_AFTER = 2  # seconds
MODERATOR = actor("moderator")
LEFTOVER_QUEUES = ("matching.case-events", "notifications.case-events", "library.case-events", "cases.matching-events")


@pytest.fixture(scope="module")
def cases(start_module_service, test_env):
    url = test_env.database_url("watchdog_cases")
    purge(test_env.amqp_uri, *LEFTOVER_QUEUES)
    for _ in range(2):
        start_module_service(
            CasesService, DATABASE_URL=url, PROPOSALS_OVERDUE_SECONDS=OVERDUE_AFTER, ESCALATION_CHECK_INTERVAL=0.5
        )
    yield
    purge(test_env.amqp_uri, *LEFTOVER_QUEUES)  # nobody consumes these here: leave no case events behind


@pytest.fixture
def flags(test_env, cases):
    """The CaseFlagged events cases publishes, from a queue bound before the test: ``flags(case_id)``."""
    connection = kombu.Connection(test_env.amqp_uri, connect_timeout=5)
    channel = connection.channel()
    queue = kombu.Queue(
        f"test.watchdog.{uuid.uuid4().hex[:8]}",
        exchange=events_exchange("cases"),
        exclusive=True,
        bindings=[kombu.binding(events_exchange("cases"), routing_key="CaseFlagged")],
    )(channel)
    queue.declare()
    seen = []

    def of_case(case_id):
        while (message := queue.get(no_ack=True)) is not None:
            seen.append(message.decode())
        return [b["payload"] for b in seen if b["payload"]["case_id"] == case_id]

    yield of_case
    connection.release()


def matched(test_env, case_id, mentor_id):
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(
            envelope(
                "MentorsMatched",
                case_id,
                {
                    "case_id": case_id,
                    "round": 1,
                    "proposals": [{"mentor_id": mentor_id, "matched_rubrics": ["education-law"], "score": 1.0}],
                },
                source="matching",
            )
        )
    finally:
        conn.release()


def flagged_list(rpc, case_id):
    return [c for c in rpc.cases.list_cases(MODERATOR, {"flagged": True, "limit": 200})["items"] if c["id"] == case_id]


def steps(rpc, case_id):
    return [h["type"] for h in rpc.cases.get_history(MODERATOR, case_id)]


def test_a_case_nobody_proposes_for_is_flagged_once_and_unflagged_by_late_proposals(test_env, rpc, flags):
    mentee = actor("mentee")
    case = rpc.cases.create_case(mentee, case_form(rubrics=["education-law"]))
    case_id = case["id"]
    assert case["state"] == "awaiting_proposals" and case["flag"] is None

    [summary] = eventually(lambda: flagged_list(rpc, case_id), timeout=30, message="in the moderators' flagged queue")
    assert summary["flag_reason"] == "proposals_overdue" and summary["state"] == "awaiting_proposals"
    seen = rpc.cases.get_case(MODERATOR, case_id)
    assert seen["flag"]["reason"] == "proposals_overdue" and seen["flag"]["round"] == 1
    assert eventually(lambda: flags(case_id), message="CaseFlagged published") == [
        {"case_id": case_id, "case_number": case["number"], "reason": "proposals_overdue", "round": 1}
    ]

    time.sleep(3)  # several more rounds of both watchdogs: still one flag
    assert steps(rpc, case_id) == ["Created", "Flagged"]
    assert len(flags(case_id)) == 1

    matched(test_env, case_id, str(uuid.uuid4()))  # matching answers at last
    late = eventually(
        lambda: (lambda c: c if c["state"] == "choosing_mentor" else None)(rpc.cases.get_case(mentee, case_id)),
        timeout=30,
        message="the late proposals recorded",
    )
    assert late["flag"] is None
    eventually(lambda: flagged_list(rpc, case_id) == [], message="out of the flagged queue")


def test_a_case_proposed_in_time_is_never_flagged(test_env, rpc, flags):
    mentee = actor("mentee")
    case_id = rpc.cases.create_case(mentee, case_form(rubrics=["education-law"]))["id"]
    matched(test_env, case_id, str(uuid.uuid4()))
    eventually(
        lambda: rpc.cases.get_case(mentee, case_id)["state"] == "choosing_mentor",
        timeout=30,
        message="proposals recorded",
    )
    time.sleep(OVERDUE_AFTER + 2)  # past the deadline, several watchdog rounds
    assert steps(rpc, case_id) == ["Created", "MentorsProposed"]
    assert flags(case_id) == [] and flagged_list(rpc, case_id) == []
