"""Cases the moderators must see, over real RPC and events: nobody fits (no_mentor_found), an urgent
case whose chosen mentor does not accept in time (escalated to the next round without them), and a
decline (the next round without the decliner).

cases (two processes' worth: two containers on one database, both running the escalation timer)
and matching run on databases of their own, with a short escalation deadline.
"""

import uuid
from datetime import datetime, timedelta, timezone

import kombu
import pytest
from eventsourcing.persistence import IntegrityError

from contracts.errors import Forbidden
from contracts.topology import events_exchange
from services.cases.application import open_application
from services.cases.domain import Case
from services.cases.service import CasesService
from services.common.clock import utc_now
from services.common.db import ensure_database
from services.matching.service import MatchingService
from tests.integration.event_helpers import open_broker
from tests.integration.relay_helpers import publish_via_outbox
from tests.support import actor, case_form, eventually, mentor_snapshot

ESCALATION_AFTER = 2  # seconds
MODERATOR = actor("moderator")
LEFTOVER_QUEUES = ("notifications.case-events", "library.case-events", "cases.matching-events")


@pytest.fixture(scope="module")
def platform(start_module_service, test_env):
    urls = {name: test_env.database_url(f"flags_{name}") for name in ("cases", "matching", "identity")}
    start_module_service(MatchingService, DATABASE_URL=urls["matching"])
    for _ in range(2):  # two cases processes: both look for overdue cases
        start_module_service(
            CasesService,
            DATABASE_URL=urls["cases"],
            ESCALATION_AFTER_SECONDS=ESCALATION_AFTER,
            ESCALATION_CHECK_INTERVAL=0.5,
        )
    yield {"test_env": test_env, "identity_url": urls["identity"], "cases_url": urls["cases"]}
    conn, _ = open_broker(test_env.amqp_uri)  # nobody consumes these here: leave no case events behind
    try:
        for queue in LEFTOVER_QUEUES:
            conn.default_channel.queue_purge(queue)
    finally:
        conn.release()


@pytest.fixture
def published(platform):
    """CaseFlagged and CaseEscalated as cases publishes them, from a queue bound before the test."""
    connection = kombu.Connection(platform["test_env"].amqp_uri, connect_timeout=5)
    channel = connection.channel()
    queue = kombu.Queue(
        f"test.flags.{uuid.uuid4().hex[:8]}",
        exchange=events_exchange("cases"),
        exclusive=True,
        bindings=[kombu.binding(events_exchange("cases"), routing_key=key) for key in ("CaseFlagged", "CaseEscalated")],
    )(channel)
    queue.declare()
    seen = []

    def of_case(case_id, wanted=1):
        def poll():
            while (message := queue.get(no_ack=True)) is not None:
                seen.append(message.decode())
            found = [(b["type"], b["payload"]) for b in seen if b["payload"]["case_id"] == case_id]
            return found if len(found) >= wanted else None

        return eventually(poll, message="case events published")

    yield of_case
    connection.release()


def mentors(platform, rubrics, *prefixes, **overrides):
    ids = [f"{prefix}{uuid.uuid4()}" for prefix in prefixes]
    for mentor_id in ids:
        publish_via_outbox(
            platform["test_env"],
            "identity",
            "MentorProfileUpdated",
            mentor_id,
            mentor_snapshot(mentor_id, rubrics, **overrides),
            url=platform["identity_url"],
        )
    return ids


def known(rpc, mentor_id):
    try:
        return rpc.matching.get_mentor(mentor_id)
    except Exception:
        return None


def in_state(rpc, who, case_id, state, round_=None):
    case = rpc.cases.get_case(who, case_id)
    return case if case["state"] == state and (round_ is None or case["round"] == round_) else None


def listed(rpc, case_id, **filters):
    return [c for c in rpc.cases.list_cases(MODERATOR, {**filters, "limit": 200})["items"] if c["id"] == case_id]


def test_nobody_fits_the_case_has_no_mentor_is_flagged_and_listed_for_moderators(platform, rpc, published):
    rubric = ["families-at-risk"]
    [unaccredited] = mentors(platform, rubric, "a-", accredited=False)
    eventually(lambda: known(rpc, unaccredited), message="matching knows the mentor")
    mentee = actor("mentee")
    case_id = rpc.cases.create_case(mentee, case_form(rubrics=rubric))["id"]

    case = eventually(lambda: in_state(rpc, mentee, case_id, "no_mentor_found"), message="no mentor found")
    assert case["proposed_mentors"] == [] and case["flag"]["reason"] == "no_mentor_found"
    assert published(case_id) == [
        ("CaseFlagged", {"case_id": case_id, "case_number": case["number"], "reason": "no_mentor_found", "round": 1})
    ]
    [summary] = eventually(lambda: listed(rpc, case_id, flagged=True), message="in the moderator's flagged list")
    assert summary["flag_reason"] == "no_mentor_found" and summary["state"] == "no_mentor_found"
    assert listed(rpc, case_id, flagged=False) == []
    history = rpc.cases.get_history(MODERATOR, case_id)
    assert [(h["type"], h["actor_role"]) for h in history] == [
        ("Created", "author"),
        ("MentorsProposed", "system"),
        ("Flagged", "system"),
    ]


def test_an_urgent_case_not_accepted_in_time_is_escalated_once_without_the_silent_mentor(platform, rpc, published):
    rubric = ["teaching-methods"]
    silent, other = mentors(platform, rubric, "a-", "b-")
    eventually(lambda: known(rpc, silent) and known(rpc, other), message="matching knows the mentors")
    mentee = actor("mentee")
    patient = rpc.cases.create_case(mentee, case_form(rubrics=rubric, urgency="need_advice"))["id"]
    urgent = rpc.cases.create_case(mentee, case_form(rubrics=rubric, urgency="urgent"))["id"]
    for case_id in (patient, urgent):
        eventually(lambda: in_state(rpc, mentee, case_id, "choosing_mentor"), message="proposals recorded")
        rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": silent})

    # nobody acts: the deadline passes, a timer escalates, matching proposes round 2 without the silent mentor
    escalated = eventually(
        lambda: in_state(rpc, mentee, urgent, "choosing_mentor", round_=2),
        timeout=30,
        message="escalated and proposed again",
    )
    assert [p["mentor_id"] for p in escalated["proposed_mentors"]] == [other]
    assert escalated["engagements"] == [
        {"mentor_id": silent, "round": 1, "opinion": 1, "outcome": "escalated", "reason": None}
    ]
    assert escalated["flag"]["reason"] == "acceptance_overdue"
    events = published(urgent, wanted=2)
    assert [t for t, _ in events] == ["CaseEscalated", "CaseFlagged"]
    assert events[0][1] == {
        "case_id": urgent,
        "case_number": escalated["number"],
        "author_id": mentee["user_id"],
        "next_round": 2,
        "rubrics": rubric,
        "excluded_mentor_ids": [silent],
        "mentor_id": silent,
        "urgency": "urgent",
    }
    assert events[1][1]["reason"] == "acceptance_overdue" and events[1][1]["round"] == 1

    history = rpc.cases.get_history(MODERATOR, urgent)
    assert [h["type"] for h in history].count("Escalated") == 1  # two cases processes, one escalation
    [step] = [h for h in history if h["type"] == "Escalated"]
    assert step["actor_role"] == "system" and step["data"]["mentor_id"] == silent
    [summary] = eventually(lambda: listed(rpc, urgent, flagged=True), message="in the moderator's flagged list")
    assert summary["flag_reason"] == "acceptance_overdue"

    # the deadline has passed for the patient case too: it is not urgent, so it still waits for its mentor
    assert in_state(rpc, mentee, patient, "awaiting_acceptance")
    assert listed(rpc, patient, flagged=True) == []
    with pytest.raises(Forbidden):
        rpc.cases.accept_case({"user_id": silent, "role": "mentor"}, urgent)
    seen = eventually(lambda: _with_responses(rpc.matching.get_mentor(silent), 1), message="matching saw it")
    assert seen["load"] == 1  # the silent mentor's open cases: the patient one only

    rpc.cases.choose_mentor(mentee, urgent, {"mentor_id": other})
    assert rpc.cases.accept_case({"user_id": other, "role": "mentor"}, urgent)["flag"] is None
    eventually(lambda: listed(rpc, urgent, flagged=False), message="no longer flagged once accepted")


def _with_responses(mentor, responses):
    return mentor if mentor["responses"] == responses else None


def test_a_decline_proposes_the_next_round_without_the_decliner(platform, rpc, published):
    rubric = ["personal-resources"]
    first, second = mentors(platform, rubric, "a-", "b-")
    eventually(lambda: known(rpc, first) and known(rpc, second), message="matching knows the mentors")
    mentee = actor("mentee")
    case_id = rpc.cases.create_case(mentee, case_form(rubrics=rubric))["id"]
    proposed = eventually(lambda: in_state(rpc, mentee, case_id, "choosing_mentor"), message="round 1")
    assert [p["mentor_id"] for p in proposed["proposed_mentors"]] == [first, second]
    assert all({"load", "capacity", "score", "matched_rubrics"} <= set(p) for p in proposed["proposed_mentors"])
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": first})
    rpc.cases.decline_case({"user_id": first, "role": "mentor"}, case_id, {"reason": "On leave."})
    again = eventually(lambda: in_state(rpc, mentee, case_id, "choosing_mentor", round_=2), message="round 2")
    assert [p["mentor_id"] for p in again["proposed_mentors"]] == [second]

    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": second})
    rpc.cases.decline_case({"user_id": second, "role": "mentor"}, case_id, {})
    nobody = eventually(lambda: in_state(rpc, mentee, case_id, "no_mentor_found"), message="round 3: nobody")
    assert nobody["round"] == 3 and nobody["flag"] == {
        "reason": "no_mentor_found",
        "round": 3,
        "at": nobody["flag"]["at"],
    }
    assert published(case_id) == [
        ("CaseFlagged", {"case_id": case_id, "case_number": nobody["number"], "reason": "no_mentor_found", "round": 3})
    ]


def test_two_processes_racing_to_escalate_the_same_case_append_it_once(test_env):
    """What the timer relies on: two processes load the same overdue case and both escalate it;
    the second append is refused (optimistic concurrency: the service maps it to Conflict and
    skips), and a process that reloads finds nothing left to escalate."""
    url = test_env.database_url("escalation_race")
    ensure_database(url)
    apps = [open_application(url, pool_size=1) for _ in range(2)]
    try:
        case = Case.file(uuid.uuid4(), "MC-2026-000077", "author-1", case_form(urgency="urgent"))
        case.record_proposals(1, [{"mentor_id": "m-1", "matched_rubrics": [], "score": 1.0}], now=utc_now())
        case.choose_mentor("author-1", "m-1", now=utc_now())
        apps[0].save(case)
        later = datetime.now(timezone.utc) + timedelta(seconds=ESCALATION_AFTER)
        first, second = (app.get_case(case.id) for app in apps)
        assert first.escalate(later, ESCALATION_AFTER) and second.escalate(later, ESCALATION_AFTER)
        apps[0].save(first)
        with pytest.raises(IntegrityError):
            apps[1].save(second)
        assert apps[1].change(case.id, lambda c: c.escalate(later, ESCALATION_AFTER))[1] is False
        assert [type(e).__name__ for e in apps[1].history(case.id)].count("Escalated") == 1
    finally:
        for app in apps:
            app.close()
