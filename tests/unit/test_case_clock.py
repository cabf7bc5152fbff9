"""A consistent clock (issue #21.6): every command of the Case aggregate that records when something
happened takes the time from its caller (``now``: the cases service passes its clock's, which tests
move on), the sweeps included, so a case's recorded moments and the waits computed from them come
from one clock. ``now`` has no default: the aggregate never reads a clock inside a command."""

import inspect
from datetime import datetime, timedelta, timezone

import pytest

from services.cases.domain import Case
from services.cases.waiting import parse_schedule
from tests.support import case_form

AUTHOR, MENTOR = "author-1", "mentor-1"
T0 = datetime(2031, 5, 4, 9, 0, tzinfo=timezone.utc)  # far from the real time: only the caller's clock gives it


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def recorded_at(case):
    """The ``at`` of every event the case has recorded and not yet saved, in order."""
    return [getattr(e, "at", None) for e in case.pending_events]


def test_every_step_records_the_callers_time():
    case = Case(number="MC-2031-000001", author_id=AUTHOR, form=case_form(urgency="urgent"))
    case.record_proposals(1, [{"mentor_id": MENTOR, "matched_rubrics": [], "score": 1.0}], now=at(1))
    case.choose_mentor(AUTHOR, MENTOR, now=at(2))
    assert case.chosen_at == at(2).isoformat() and case.wait_began() == at(2)
    case.accept(MENTOR, now=at(3))
    ids = case.ask_questions(MENTOR, [{"bank_id": None, "text": "Why now?", "kind": "developing"}], now=at(4))
    case.answer_questions(AUTHOR, [{"question_id": ids[0], "text": "The term ends."}], now=at(5))
    case.redefine(AUTHOR, case_form(urgency="urgent", question="How do I start the talk?"), now=at(6))
    case.send_message(AUTHOR, "Thank you.", now=at(7))
    case.propose_solution(MENTOR, "Talk after class.", [], now=at(8))
    stamps = [stamp for stamp in recorded_at(case) if stamp is not None]
    assert stamps == [at(n).isoformat() for n in range(1, 9)]


def test_the_sweeps_record_the_time_they_were_given_not_the_event_clocks():
    case = Case(number="MC-2031-000002", author_id=AUTHOR, form=case_form(urgency="urgent"))
    case.record_proposals(1, [{"mentor_id": MENTOR, "matched_rubrics": [], "score": 1.0}], now=at(0))
    case.choose_mentor(AUTHOR, MENTOR, now=at(0))
    later = at(60 * 24 * 30)  # a month on: every reminder is due, and the acceptance has lapsed
    while case.follow_up(later, parse_schedule({}, 2 * 3600)):
        pass
    assert case.flag == {"reason": "acceptance_overdue", "round": 1, "at": later.isoformat()}
    # after Created, MentorsProposed and MentorChosen: the reminders, the escalation and its flag
    assert {stamp for stamp in recorded_at(case)[3:] if stamp is not None} == {later.isoformat()}


TIMED_COMMANDS = [
    "record_proposals",
    "choose_mentor",
    "accept",
    "reopen",
    "ask_questions",
    "answer_questions",
    "keep_request",
    "redefine",
    "add_opinion",
    "send_message",
    "propose_solution",
    "escalate",
    "flag_proposals_overdue",
    "follow_up",
]


def test_every_timed_command_requires_the_callers_time():
    """No default: a command that forgot its caller's time must fail, not read a clock of its own
    (every public method with a ``now``, so a command added later is held to it too)."""
    timed = {
        name: inspect.signature(member).parameters["now"]
        for name, member in vars(Case).items()
        if inspect.isfunction(member) and not name.startswith("_") and "now" in inspect.signature(member).parameters
    }
    assert set(TIMED_COMMANDS) <= set(timed)
    assert {name for name, now in timed.items() if now.default is not inspect.Parameter.empty} == set()


def test_a_command_without_the_callers_time_is_refused_and_records_nothing():
    case = Case(number="MC-2031-000003", author_id=AUTHOR, form=case_form())
    with pytest.raises(TypeError, match="now"):
        case.record_proposals(1, [{"mentor_id": MENTOR, "matched_rubrics": [], "score": 1.0}])
    assert case.state == "awaiting_proposals" and len(case.pending_events) == 1  # Created only
