"""The statistics fold on hand-built event sequences (no database)."""

import datetime
import uuid

import pytest

from research.analytics import Statistics, fold
from services.cases.domain import Case
from services.common.clock import utc_now
from tests.support import case_form

T0 = datetime.datetime(2026, 3, 30, 12, 0, tzinfo=datetime.timezone.utc)
_KINDS = {}


def ev(kind, case, hours, **fields):
    """An event of class ``kind`` (the fold dispatches on the class name) at T0 + hours."""
    cls = _KINDS.setdefault(kind, type(kind, (), {}))
    e = cls()
    e.originator_id = case
    e.timestamp = T0 + datetime.timedelta(hours=hours)
    for k, v in fields.items():
        setattr(e, k, v)
    return e


def created(case, hours=0, rubrics=("teaching-methods",), urgency="need_advice"):
    return ev("Created", case, hours, form={"rubrics": list(rubrics), "urgency": urgency})


@pytest.fixture
def stats():
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    events = [
        created(a, 0, ["teaching-methods", "digital-technologies"], "urgent"),
        created(b, 1, ["teaching-methods"], "need_advice"),
        ev("MentorChosen", a, 1),
        ev("MentorDeclined", a, 2),
        ev("MentorChosen", a, 3),
        ev("MentorAccepted", a, 4),
        ev("MentorChosen", b, 2),
        ev("MentorAccepted", b, 11),
        ev("QuestionsAsked", a, 5, questions=[{"kind": "clarifying"}, {"kind": "developing"}]),
        ev("QuestionsAnswered", a, 6),
        ev("CaseRedefined", a, 7, form={"rubrics": ["self-management"], "urgency": "need_advice"}),
        ev("QuestionsAsked", a, 8, questions=[{"kind": "developing"}]),
        ev("SolutionProposed", a, 10),
        ev("SolutionProposed", a, 12),
        ev("SecondOpinionRequested", a, 13),
        ev("SolutionProposed", b, 25),
        ev("Completed", a, 30, reflection={"problem_solved": "partly"}),
        ev("Completed", b, 30, reflection={"problem_solved": "yes"}),
        created(c, 24 * 40, ["digital-technologies"], "urgent"),  # May
        ev("Withdrawn", c, 24 * 41),
        ev("MentorAccepted", d, 3),  # a case whose Created is not in the log
    ]
    return fold(events)


def test_counts_and_unknown_cases(stats):
    assert len(stats.cases) == 3
    assert stats.events == 21
    assert stats.unknown_case_events == 1
    overall = stats.groups()[("overall", "all")]
    assert (overall["cases"], overall["accepted"], overall["completed"], overall["withdrawn"]) == (3, 2, 2, 1)


def test_decline_and_second_opinion_rates(stats):
    groups = stats.groups()
    overall = groups[("overall", "all")]
    assert (overall["mentors_chosen"], overall["declines"]) == (3, 1)
    assert overall["decline_rate"] == pytest.approx(1 / 3)
    assert (overall["cases_with_solution"], overall["second_opinions"]) == (2, 1)
    assert overall["second_opinion_rate"] == pytest.approx(0.5)
    assert groups[("urgency", "urgent")]["decline_rate"] == pytest.approx(0.5)
    assert groups[("urgency", "need_advice")]["decline_rate"] == 0
    assert groups[("urgency", "need_advice")]["second_opinion_rate"] == 0
    assert groups[("rubric", "digital-technologies")]["second_opinion_rate"] == 1  # c has no solution


def test_iterations(stats):
    groups = stats.groups()
    overall = groups[("overall", "all")]
    # questions, not rounds: two rounds asked three questions, one clarifying and two developing
    assert overall["questions_asked_total"] == 3 and overall["question_rounds_total"] == 2
    assert (overall["questions_clarifying"], overall["questions_developing"]) == (1, 2)
    assert overall["redefinitions_total"] == 1
    assert overall["questions_asked_mean"] == pytest.approx(3 / 3)
    assert groups[("urgency", "urgent")]["questions_asked_mean"] == pytest.approx(1.5)
    # the case stays under its first rubrics after a redefinition
    assert ("rubric", "self-management") not in groups


def test_times(stats):
    groups = stats.groups()
    overall = groups[("overall", "all")]
    assert overall["hours_to_acceptance_mean"] == pytest.approx((4 + 10) / 2)  # first acceptance only
    assert overall["hours_to_acceptance_median"] == pytest.approx(7)
    assert overall["hours_to_first_solution_mean"] == pytest.approx((10 + 24) / 2)  # first solution only
    assert groups[("urgency", "urgent")]["hours_to_acceptance_median"] == pytest.approx(4)
    assert groups[("urgency", "need_advice")]["hours_to_first_solution_median"] == pytest.approx(24)
    assert stats.acceptance_hours("urgency") == {"need_advice": [10.0], "urgent": [4.0]}


def test_outcomes_by_rubric_and_urgency(stats):
    groups = stats.groups()
    tm = groups[("rubric", "teaching-methods")]
    assert (tm["cases"], tm["solved_yes"], tm["solved_partly"], tm["solved_no"]) == (2, 1, 1, 0)
    dt = groups[("rubric", "digital-technologies")]
    assert (dt["cases"], dt["solved_yes"], dt["solved_partly"], dt["withdrawn"]) == (2, 0, 1, 1)
    assert groups[("urgency", "need_advice")]["solved_yes"] == 1
    assert groups[("urgency", "urgent")]["solved_partly"] == 1


def test_cases_by_rubric_over_time(stats):
    assert stats.by_month() == {
        ("digital-technologies", "2026-03"): 1,
        ("digital-technologies", "2026-05"): 1,
        ("teaching-methods", "2026-03"): 2,
    }
    # the rubricator's order (4. digital technologies before 6. teaching methods), not the alphabet
    assert [k for k in stats.by_month()][0][0] == "digital-technologies"


def test_rubric_groups_follow_the_rubricator_not_the_alphabet():
    a, b = uuid.uuid4(), uuid.uuid4()
    stats = fold([created(a, 0, ["families-at-risk", "education-law"]), created(b, 0, ["self-management"])])
    assert [g for d, g in stats.groups() if d == "rubric"] == ["education-law", "self-management", "families-at-risk"]


def test_mentor_quality_comes_from_the_same_fold_as_the_moderators_figures():
    author, m1, m2 = (str(uuid.uuid4()) for _ in range(3))
    case = Case.file(uuid.uuid4(), "MC-2", author, case_form(rubrics=["families-at-risk"]))
    proposals = [{"mentor_id": m, "matched_rubrics": [], "score": 1.0} for m in (m1, m2)]
    case.record_proposals(1, proposals, now=utc_now())
    case.choose_mentor(author, m1, now=utc_now())
    case.decline(m1, "busy")
    case.record_proposals(2, proposals[1:], now=utc_now())
    case.choose_mentor(author, m2, now=utc_now())
    case.accept(m2, now=utc_now())
    sid = case.propose_solution(m2, "Try this.", [], now=utc_now())
    case.complete(
        author, {"problem_solved": "yes", "helpfulness": {sid: 4}, "actions": "", "learned": "", "comment": ""}
    )
    mentors = {m["mentor_id"]: m for m in fold(case.collect_events()).mentor_quality()}
    assert (mentors[m1]["decline_rate"], mentors[m2]["acceptance_rate"], mentors[m2]["helpfulness_mean"]) == (
        1.0,
        1.0,
        4.0,
    )
    assert mentors[m2]["by_rubric"][0]["solved"] == {"yes": 1, "partly": 0, "no": 0}


def test_empty_log_has_no_rates():
    stats = Statistics()
    assert stats.groups() == {}
    assert stats.by_month() == {}


def test_real_case_events():
    """The fold reads the fields of the Case aggregate's own events."""
    author, m1, m2 = (str(uuid.uuid4()) for _ in range(3))
    case = Case.file(uuid.uuid4(), "MC-1", author, case_form(rubrics=["families-at-risk"], urgency="urgent"))
    proposals = [{"mentor_id": m, "matched_rubrics": [], "score": 1.0} for m in (m1, m2)]
    case.record_proposals(1, proposals, now=utc_now())
    case.choose_mentor(author, m1, now=utc_now())
    case.decline(m1, "busy")
    case.record_proposals(2, proposals, now=utc_now())
    case.choose_mentor(author, m2, now=utc_now())
    case.accept(m2, now=utc_now())
    qids = case.ask_questions(m2, [{"bank_id": None, "text": "Why?", "kind": "clarifying"}], now=utc_now())
    case.answer_questions(author, [{"question_id": qids[0], "text": "Because."}], now=utc_now())
    case.keep_request(author, now=utc_now())
    sid = case.propose_solution(m2, "Try this.", [], now=utc_now())
    case.complete(
        author, {"problem_solved": "no", "helpfulness": {sid: 2}, "actions": "", "learned": "", "comment": ""}
    )
    stats = fold(case.collect_events())
    g = stats.groups()[("rubric", "families-at-risk")]
    assert (g["cases"], g["declines"], g["decline_rate"], g["questions_asked_total"], g["solved_no"]) == (
        1,
        1,
        0.5,
        1,
        1,
    )
    assert g["hours_to_acceptance_mean"] >= 0
    assert list(stats.acceptance_hours()) == ["urgent"]


def test_only_field_kinds_are_read_beyond_the_kind_and_the_case():
    """The report's replay (research/replay.py) decodes only events of Statistics.FIELD_KINDS and
    gives the fold None for the others: the fold must read nothing else of them."""
    a, b, c = (uuid.uuid4() for _ in range(3))
    events = [
        created(a, 0, ["teaching-methods"], "urgent"),
        created(b, 1),
        created(c, 2),
        ev("MentorsProposed", a, 1),
        ev("MentorChosen", a, 1),
        ev("MentorDeclined", a, 2),
        ev("Escalated", a, 2),
        ev("Flagged", a, 2),
        ev("MentorChosen", a, 3),
        ev("MentorAccepted", a, 4),
        ev("MentorAccepted", a, 9),
        ev("QuestionsAsked", a, 5),
        ev("QuestionsAnswered", a, 6),
        ev("RequestKept", a, 6),
        ev("CaseRedefined", a, 7, form={"rubrics": ["self-management"], "urgency": "need_advice"}),
        ev("SharedWithColleagues", a, 7),
        ev("ColleagueOpinionAdded", a, 7),
        ev("MessageSent", a, 8),
        ev("SolutionProposed", a, 10),
        ev("SecondOpinionRequested", a, 11),
        ev("SolutionProposed", a, 12),
        ev("Completed", a, 30, reflection={"problem_solved": "partly"}),
        ev("PublishedToForum", a, 31),
        ev("Withdrawn", c, 3),
        ev("MentorChosen", uuid.uuid4(), 3),
    ]
    full, lean = fold(events), Statistics()
    for e in events:
        kind = type(e).__name__
        lean.add_kind(kind, e.originator_id, e if kind in Statistics.FIELD_KINDS else None)
    assert (lean.events, lean.unknown_case_events, lean.groups(), lean.by_month(), lean.acceptance_hours()) == (
        full.events,
        full.unknown_case_events,
        full.groups(),
        full.by_month(),
        full.acceptance_hours(),
    )
    assert full.groups()[("overall", "all")]["second_opinions"] == 1


def test_a_case_closed_by_its_authors_erasure_counts_as_withdrawn():
    """The moderators' statistics count it in the state withdrawn (services/cases/domain.py
    close_for_erased_author): the research report counts it the same way."""
    a, b = uuid.uuid4(), uuid.uuid4()
    stats = fold([created(a), created(b), ev("MentorChosen", a, 1), ev("AuthorErased", a, 2)])
    overall = stats.groups()[("overall", "all")]
    assert (overall["cases"], overall["withdrawn"], overall["completed"]) == (2, 1, 0)
