"""Nothing waits forever, without I/O: the schedule (services/cases/waiting.py) and Case.follow_up
on an injected ``now``: reminders to whoever a step waits for, then expiry; once each."""

from datetime import timedelta

import pytest

from contracts.errors import Conflict, Forbidden
from contracts.events import dump_payload
from services.cases.domain import Case
from services.cases.outgoing import integration_payload
from services.cases.views import case_view, history_view
from services.cases.waiting import InvalidSchedule, Plan, parse_plan, parse_schedule
from services.common.clock import utc_now
from tests.support import case_form
from tests.unit.case_builders import AUTHOR, MENTOR, OTHER, chosen, proposal, proposed, working

HOUR = 3600
# need_advice: reminders after 1 h and 3 h, expiry after 10 h; urgent: 1 h, expiry 5 h (acceptance: 2 h)
SCHEDULE = parse_schedule(
    {
        "WAITING_SCHEDULE_NEED_ADVICE": f"{HOUR} {3 * HOUR} / {10 * HOUR}",
        "WAITING_SCHEDULE_URGENT": f"{HOUR} / {5 * HOUR}",
    },
    2 * HOUR,
)


def after(case, hours):
    return case.wait_began() + timedelta(hours=hours)


def published(case, count=1):
    """The integration events of the case's last ``count`` new events (contract-checked)."""
    events = case.collect_events()[-count:]
    mapped = [integration_payload(e, case) for e in events]
    for event_type, payload in mapped:
        dump_payload(event_type, payload)
    return mapped


# ---- the schedule -----------------------------------------------------------------------


def test_a_plan_reminds_in_order_then_expires_and_sends_a_missed_reminder_once():
    plan = Plan((HOUR, 3 * HOUR), 10 * HOUR)
    assert plan.due(HOUR - 1, 0) is None
    assert plan.due(HOUR, 0) == ("remind", 1)
    assert plan.due(2 * HOUR, 1) is None
    assert plan.due(4 * HOUR, 0) == ("remind", 2)  # the sweep was down: the latest one only
    assert plan.due(4 * HOUR, 2) is None
    assert plan.due(10 * HOUR, 2) == ("expire", None)
    assert [plan.next_offset(n) for n in range(4)] == [HOUR, 3 * HOUR, 10 * HOUR, 10 * HOUR]


def test_the_settings_parse_and_a_bad_one_names_itself():
    assert parse_plan("60 120 / 300", "S") == Plan((60.0, 120.0), 300.0)
    assert parse_plan("/ 300", "S") == Plan((), 300.0)
    for bad in ("60 120", "120 60 / 300", "60 / 30", "x / 300", "0 / 10", "60 60 / 300"):
        with pytest.raises(InvalidSchedule, match="WAITING_SCHEDULE_URGENT"):
            parse_schedule({"WAITING_SCHEDULE_URGENT": bad}, 7200)


def test_the_defaults_cover_every_urgency_and_an_urgent_acceptance_lapses_at_the_escalation():
    schedule = parse_schedule({}, 2 * HOUR)
    assert schedule.plan("urgent", "acceptance") == Plan((HOUR,), 2 * HOUR)
    assert schedule.plan("urgent", "answers").expire_after == 24 * HOUR
    assert schedule.plan("need_advice", "acceptance").expire_after == 7 * 24 * HOUR
    rows = schedule.rows()
    assert len(rows) == 3 * 6 and all(r["offsets"] == sorted(r["offsets"]) for r in rows)


# ---- reminders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, step, recipient",
    [(proposed, "choice", AUTHOR), (chosen, "acceptance", MENTOR), (working, "solution", MENTOR)],
)
def test_whoever_the_step_waits_for_is_reminded_once_per_due_reminder(make, step, recipient):
    case = make()
    assert case.follow_up(after(case, 0.5), SCHEDULE) is False
    assert case.follow_up(after(case, 1), SCHEDULE) is True
    assert case.follow_up(after(case, 1.5), SCHEDULE) is False  # the sweep again: nothing more
    [(event_type, payload)] = published(case)
    assert (event_type, payload["step"], payload["recipient_id"], payload["number"]) == (
        "CaseReminded",
        step,
        recipient,
        1,
    )
    assert case.follow_up(after(case, 3), SCHEDULE) is True and case.reminded == 2
    view = case_view(case, {"user_id": AUTHOR, "role": "mentee"})
    assert view["waiting"]["step"] == step and view["waiting"]["reminders"] == 2


def test_the_mentees_steps_remind_the_author():
    case = working()
    case.ask_questions(MENTOR, [{"bank_id": None, "text": "Which form?", "kind": "clarifying"}], now=utc_now())
    assert case.follow_up(after(case, 1), SCHEDULE) is True
    [(_, reminder)] = published(case)
    assert reminder["recipient_id"] == AUTHOR and reminder["step"] == "answers"
    case.answer_questions(AUTHOR, [{"question_id": case.questions[0]["id"], "text": "7th."}], now=utc_now())
    assert case.reminded == 0 and case.waiting_step() == ("decision", "mentee")  # a new wait
    case.keep_request(AUTHOR, now=utc_now())
    case.propose_solution(MENTOR, "Try this.", [], now=utc_now())
    assert case.waiting_step() == ("reflection", "mentee")
    assert case.follow_up(after(case, 1), SCHEDULE) is True and published(case)[0][1]["step"] == "reflection"


def test_a_step_taken_starts_the_next_wait_afresh():
    case = chosen()
    case.follow_up(after(case, 1), SCHEDULE)
    case.accept(MENTOR, now=utc_now())
    assert case.reminded == 0 and case.follow_up(after(case, 0.9), SCHEDULE) is False


# ---- expiry -----------------------------------------------------------------------------


def test_an_unaccepted_choice_goes_to_the_next_round_without_that_mentor():
    case = chosen()
    assert case.follow_up(after(case, 10), SCHEDULE) is True
    assert (case.state, case.mentor_id, case.flag) == ("awaiting_proposals", None, None)
    [(event_type, payload)] = published(case)
    assert event_type == "CaseEscalated" and payload["excluded_mentor_ids"] == [MENTOR]
    assert payload["next_round"] == 2 and payload["urgency"] == "need_advice"
    with pytest.raises(Forbidden):
        case.accept(MENTOR, now=utc_now())


def test_an_urgent_unaccepted_choice_lapses_at_the_escalation_deadline_and_is_flagged():
    case = chosen("urgent")
    assert case.follow_up(after(case, 1), SCHEDULE) is True  # reminded first
    assert case.follow_up(after(case, 2), SCHEDULE) is True
    assert case.state == "awaiting_proposals" and case.flag["reason"] == "acceptance_overdue"
    assert [t for t, _ in published(case, 2)] == ["CaseEscalated", "CaseFlagged"]


def test_a_mentors_overdue_work_is_flagged_once_and_cleared_when_they_act():
    case = working()
    assert case.follow_up(after(case, 10), SCHEDULE) is True
    assert case.state == "in_progress" and case.flag["reason"] == "mentor_overdue"
    assert published(case) == [
        ("CaseFlagged", {"case_id": str(case.id), "case_number": case.number, "reason": "mentor_overdue", "round": 1})
    ]
    assert case.follow_up(after(case, 20), SCHEDULE) is False  # waits for the moderators now
    case.propose_solution(MENTOR, "Try this.", [], now=utc_now())
    assert case.flag is None


@pytest.mark.parametrize("make", [proposed, lambda: _awaiting_answers(), lambda: _solution_proposed()])
def test_a_mentees_overdue_step_closes_the_case_as_abandoned_and_the_author_reopens_it(make):
    case = make()
    state, step = case.state, case.waiting_step()[0]
    assert case.follow_up(after(case, 10), SCHEDULE) is True
    assert case.state == "abandoned" and case.abandoned["state"] == state and case.abandoned["step"] == step
    [(event_type, payload)] = published(case)
    assert event_type == "CaseAbandoned" and payload["author_id"] == AUTHOR and payload["step"] == step
    assert case.follow_up(after(case, 100), SCHEDULE) is False  # abandoned waits for nobody
    with pytest.raises(Forbidden):
        case.reopen(MENTOR, now=utc_now())
    case.reopen(AUTHOR, now=utc_now())
    assert case.state == state and case.abandoned is None and case.reminded == 0
    assert published(case)[0][0] == "CaseReopened"
    assert case.follow_up(after(case, 0.5), SCHEDULE) is False  # its schedule starts anew
    with pytest.raises(Conflict):
        case.reopen(AUTHOR, now=utc_now())


def _awaiting_answers():
    case = working()
    case.ask_questions(MENTOR, [{"bank_id": None, "text": "Which form?", "kind": "clarifying"}], now=utc_now())
    return case


def _solution_proposed():
    case = working()
    case.propose_solution(MENTOR, "Try this.", [], now=utc_now())
    return case


def test_nothing_follows_up_a_case_that_waits_for_nobody():
    case = Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form())
    assert case.follow_up(after(case, 1000), SCHEDULE) is False  # awaiting proposals: the watchdog's
    case.withdraw(AUTHOR)
    assert case.follow_up(after(case, 1000), SCHEDULE) is False


def test_the_history_shows_reminders_and_expiry_as_system_steps_and_a_replay_is_the_same():
    case = _awaiting_answers()
    case.follow_up(after(case, 1), SCHEDULE)
    case.follow_up(after(case, 10), SCHEDULE)
    case.reopen(AUTHOR, now=utc_now())
    events = case.collect_events()
    steps = [(h["type"], h["actor_role"]) for h in history_view(events)][-3:]
    assert steps == [("Reminded", "system"), ("Abandoned", "system"), ("Reopened", "author")]
    replayed = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)
    assert (replayed.state, replayed.reminded, replayed.waiting_since) == (
        case.state,
        case.reminded,
        case.waiting_since,
    )


def test_a_case_recorded_before_waits_were_timed_counts_from_its_last_change_pinned_by_the_reminder():
    case = chosen()
    case.waiting_since = None  # as folded from events recorded before ``at`` existed
    began = case.modified_on
    assert case.follow_up(began + timedelta(hours=1), SCHEDULE) is True
    assert case.wait_began() == began  # a reminder does not restart the wait
    assert case.follow_up(began + timedelta(hours=10), SCHEDULE) is True and case.state == "awaiting_proposals"


def test_the_mentor_is_told_of_completion_and_of_a_second_opinion():
    case = _solution_proposed()
    case.request_second_opinion(AUTHOR)
    [(event_type, payload)] = published(case)
    assert event_type == "SecondOpinionRequested" and payload["mentor_id"] == MENTOR
    case.record_proposals(2, [proposal(OTHER)], now=utc_now())
    case.choose_mentor(AUTHOR, OTHER, now=utc_now())
    case.accept(OTHER, now=utc_now())
    solution = case.propose_solution(OTHER, "Another way.", [], now=utc_now())
    case.complete(
        AUTHOR,
        {
            "problem_solved": "yes",
            "helpfulness": {case.solutions[0]["id"]: 4, solution: 5},
            "actions": "",
            "learned": "",
            "comment": "",
        },
    )
    [(event_type, payload)] = published(case)
    assert event_type == "CaseCompleted" and payload["mentor_ids"] == [MENTOR, OTHER]
