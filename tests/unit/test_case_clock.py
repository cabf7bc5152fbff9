"""A consistent clock (issue #21.6): every command of the Case aggregate that records when something
happened takes the time from its caller (``now``: the cases service passes its clock's, which tests
move on), the sweeps included, so a case's recorded moments and the waits computed from them come
from one clock."""

from datetime import datetime, timedelta, timezone

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


def test_without_a_callers_time_the_event_clock_gives_it():
    """A caller with no clock of its own (a script, a benchmark) may leave ``now`` out."""
    before = datetime.now(timezone.utc)
    case = Case(number="MC-2031-000003", author_id=AUTHOR, form=case_form())
    case.record_proposals(1, [{"mentor_id": MENTOR, "matched_rubrics": [], "score": 1.0}])
    [stamp] = [s for s in recorded_at(case) if s is not None]
    assert before <= datetime.fromisoformat(stamp) <= datetime.now(timezone.utc)
