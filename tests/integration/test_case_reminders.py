"""Nothing waits forever (issue #20 part 2), on real services with the production schedule and an
injected clock (services/common/clock.py) moved forward instead of waiting days: every step that
waits for someone is reminded (an inbox entry and its e-mail row), then expires: an unaccepted
choice goes to the next round, a mentor's overdue work is flagged for the moderators, a mentee's
overdue step closes the case as abandoned, and its author reopens it. Two cases containers on one
database sweep (as two processes would): still one reminder per due one.

No matching: MentorsMatched is published by hand, as matching would.
"""

import threading
from datetime import datetime, timedelta, timezone

import pytest

from services.cases.service import CasesService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.support import actor, case_form, eventually

DAY = timedelta(days=1)
MODERATOR = actor("moderator")
LEFTOVER_QUEUES = ("matching.case-events", "library.case-events", "cases.matching-events")


class ShiftedClock:
    """The real time moved forward by what the test says: both cases containers read it. The events
    are recorded at the real time, so a step taken after a move counts as taken that much earlier:
    a test sets the offset back before taking one whose wait it follows."""

    def __init__(self):
        self.offset = timedelta()
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return datetime.now(timezone.utc) + self.offset

    def advance(self, delta):
        with self.lock:
            self.offset += delta


@pytest.fixture(scope="module")
def module_clock():
    return ShiftedClock()


@pytest.fixture(scope="module")
def platform(start_module_service, test_env, module_clock):
    purge(test_env.amqp_uri, *LEFTOVER_QUEUES)
    url = test_env.database_url("reminders_cases")
    for _ in range(2):  # two cases processes: both sweep
        start_module_service(CasesService, DATABASE_URL=url, CLOCK=module_clock, ESCALATION_CHECK_INTERVAL=0.3)
    start_module_service(NotificationsService, EMAIL_POLL_INTERVAL=3600)  # the e-mails are rows, not sent here
    yield
    purge(test_env.amqp_uri, *LEFTOVER_QUEUES)


@pytest.fixture
def clock(platform, module_clock):
    """Each test starts at the real time (cases of earlier tests are not due again)."""
    module_clock.offset = timedelta()
    yield module_clock
    module_clock.offset = timedelta()


def matched(test_env, case_id, *mentor_ids, round_=1):
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(
            envelope(
                "MentorsMatched",
                case_id,
                {
                    "case_id": case_id,
                    "round": round_,
                    "proposals": [
                        {"mentor_id": m, "matched_rubrics": ["education-law"], "score": 1.0} for m in mentor_ids
                    ],
                },
                source="matching",
            )
        )
    finally:
        conn.release()


def steps(rpc, case_id):
    return [h["type"] for h in rpc.cases.get_history(MODERATOR, case_id)]


def case_in(rpc, who, case_id, state):
    case = rpc.cases.get_case(who, case_id)
    return case if case["state"] == state else None


def inbox(rpc, who, case_id, kind):
    return [e for e in rpc.notifications.list_inbox(who) if e["case_id"] == case_id and e["kind"] == kind]


def emails(db, recipient, kind):
    with db("notifications").cursor() as cur:
        cur.execute("SELECT text FROM email_outbox WHERE recipient = %s AND kind = %s", (recipient, kind))
        return [row[0] for row in cur.fetchall()]


def new_case(test_env, rpc, mentee, mentor, urgency="need_advice"):
    case_id = rpc.cases.create_case(mentee, case_form(rubrics=["education-law"], urgency=urgency))["id"]
    matched(test_env, case_id, mentor["user_id"])
    eventually(lambda: case_in(rpc, mentee, case_id, "choosing_mentor"), timeout=30, message="proposals recorded")
    return case_id


def working_case(test_env, rpc, mentee, mentor):
    case_id = new_case(test_env, rpc, mentee, mentor)
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case_id)
    return case_id


def test_an_unaccepted_choice_is_reminded_once_then_goes_to_the_next_round(test_env, rpc, db, clock):
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = new_case(test_env, rpc, mentee, mentor)
    case = rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    assert case["waiting"]["step"] == "acceptance" and case["waiting"]["waits_on"] == "mentor"

    clock.advance(DAY + timedelta(minutes=1))  # need_advice: the first reminder after a day
    [entry] = eventually(lambda: inbox(rpc, mentor, case_id, "reminder"), timeout=30, message="mentor reminded")
    assert entry["text"] == f"Reminder: case {case['number']} waits for you to accept or decline it."
    assert emails(db, mentor["user_id"], "reminder") == [entry["text"]]
    eventually(lambda: rpc.cases.get_case(MODERATOR, case_id)["waiting"]["reminders"] == 1, message="indexed")
    assert steps(rpc, case_id).count("Reminded") == 1  # both processes swept meanwhile

    clock.advance(6 * DAY)  # expiry after seven days
    lapsed = eventually(
        lambda: case_in(rpc, mentee, case_id, "awaiting_proposals"), timeout=30, message="the choice lapsed"
    )
    assert lapsed["engagements"][-1]["outcome"] == "escalated" and lapsed["mentor_id"] is None
    # not urgent: the next round, no moderator needed for the lapse itself (only the proposals watchdog,
    # on this clock a week ahead, may flag it before matching's next proposals arrive)
    assert lapsed["flag"] is None or lapsed["flag"]["reason"] == "proposals_overdue", lapsed["flag"]
    # the reminder at three days was overtaken by expiry (the clock jumped): not sent late
    # (then the proposals watchdog may flag it too: on this clock, matching is a week late)
    assert steps(rpc, case_id)[:5] == ["Created", "MentorsProposed", "MentorChosen", "Reminded", "Escalated"]
    eventually(lambda: inbox(rpc, mentor, case_id, "case_reassigned"), message="the mentor told")
    eventually(lambda: inbox(rpc, mentee, case_id, "case_escalated"), message="the mentee told")


def test_a_mentors_overdue_work_is_reminded_then_flagged_for_the_moderators(test_env, rpc, clock):
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = working_case(test_env, rpc, mentee, mentor)

    clock.advance(3 * DAY + timedelta(minutes=1))
    eventually(lambda: inbox(rpc, mentor, case_id, "reminder"), timeout=30, message="mentor reminded")
    clock.advance(4 * DAY)
    [summary] = eventually(
        lambda: [
            c for c in rpc.cases.list_cases(MODERATOR, {"flagged": True, "limit": 200})["items"] if c["id"] == case_id
        ],
        timeout=30,
        message="in the flagged queue",
    )
    assert summary["flag_reason"] == "mentor_overdue" and summary["state"] == "in_progress"
    entries = eventually(
        lambda: [e for e in rpc.notifications.list_inbox(MODERATOR) if e["case_id"] == case_id],
        message="the moderators told",
    )
    assert "its mentor has not answered it in time" in entries[0]["text"]

    clock.advance(30 * DAY)  # flagged: no further follow-up until the mentor acts
    rpc.cases.propose_solution(mentor, case_id, {"text": "Try a class council.", "materials": []})
    assert steps(rpc, case_id).count("Flagged") == 1
    assert rpc.cases.get_case(mentee, case_id)["flag"] is None


def test_unanswered_questions_abandon_the_case_and_its_author_reopens_it(test_env, rpc, db, clock):
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = working_case(test_env, rpc, mentee, mentor)
    rpc.cases.ask_questions(
        mentor, case_id, {"questions": [{"bank_id": None, "text": "Which form?", "kind": "clarifying"}]}
    )

    clock.advance(DAY + timedelta(minutes=1))
    [entry] = eventually(lambda: inbox(rpc, mentee, case_id, "reminder"), timeout=30, message="mentee reminded")
    assert "wait for your answers" in entry["text"]
    assert emails(db, mentee["user_id"], "reminder") == [entry["text"]]

    clock.advance(7 * DAY)
    abandoned = eventually(lambda: case_in(rpc, mentee, case_id, "abandoned"), timeout=30, message="abandoned")
    assert abandoned["abandoned"]["step"] == "answers" and abandoned["abandoned"]["state"] == "awaiting_answers"
    assert abandoned["waiting"] is None
    [told] = eventually(lambda: inbox(rpc, mentee, case_id, "case_abandoned"), message="the mentee told")
    assert "you can reopen it" in told["text"]
    eventually(lambda: inbox(rpc, mentor, case_id, "case_left"), message="the mentor told")

    clock.advance(30 * DAY)  # abandoned waits for nobody: no more follow-ups
    clock.offset = timedelta()  # back to the time the events are recorded at: the reopened wait begins now
    reopened = rpc.cases.reopen_case(mentee, case_id)
    assert reopened["state"] == "awaiting_answers" and reopened["abandoned"] is None
    assert reopened["waiting"]["reminders"] == 0
    eventually(lambda: inbox(rpc, mentor, case_id, "case_reopened"), message="the mentor told of the reopening")
    assert steps(rpc, case_id).count("Abandoned") == 1
    rpc.cases.answer_questions(
        mentee, case_id, {"answers": [{"question_id": reopened["questions"][0]["id"], "text": "The 7th."}]}
    )


def test_an_unchosen_proposal_and_a_missing_reflection_are_abandoned_too(test_env, rpc, clock):
    mentee, mentor = actor("mentee"), actor("mentor")
    choosing = new_case(test_env, rpc, mentee, mentor)
    solved = working_case(test_env, rpc, mentee, mentor)
    rpc.cases.propose_solution(mentor, solved, {"text": "Try a class council.", "materials": []})

    clock.advance(8 * DAY)
    for case_id, step in ((choosing, "choice"), (solved, "reflection")):
        case = eventually(lambda: case_in(rpc, mentee, case_id, "abandoned"), timeout=30, message=step)
        assert case["abandoned"]["step"] == step
    eventually(lambda: inbox(rpc, mentor, solved, "case_left"), message="the mentor told")
    clock.offset = timedelta()
    assert rpc.cases.reopen_case(mentee, solved)["state"] == "solution_proposed"
