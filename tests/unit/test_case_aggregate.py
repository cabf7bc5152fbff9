"""The Case aggregate's rules, without I/O."""
import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput
from services.cases.domain import Case
from tests.support import case_form

AUTHOR, MENTOR, OTHER = "author-1", "mentor-1", "someone-else"
PROPOSAL = {"mentor_id": MENTOR, "matched_rubrics": ["education-law"], "score": 1.0}


def new_case(**form):
    return Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form(**form))


def accepted_case():
    case = new_case()
    case.record_proposals(1, [PROPOSAL])
    case.choose_mentor(AUTHOR, MENTOR)
    case.accept(MENTOR)
    return case


def test_a_new_case_awaits_proposals_with_its_first_revision():
    case = new_case()
    assert (case.state, case.revision, case.version, case.number) == ("awaiting_proposals", 1, 1,
                                                                      "MC-2026-000001")
    assert case.form["essence"] == case_form()["essence"]


def test_proposals_for_a_round_are_recorded_once():
    case = new_case()
    assert case.record_proposals(1, [PROPOSAL]) is True
    assert case.record_proposals(1, [PROPOSAL]) is False
    assert case.version == 2 and case.state == "choosing_mentor"


def test_no_proposal_means_no_mentor_found():
    case = new_case()
    case.record_proposals(1, [])
    assert case.state == "no_mentor_found"


def test_only_the_author_chooses_and_only_among_the_proposed():
    case = new_case()
    case.record_proposals(1, [PROPOSAL])
    with pytest.raises(Forbidden):
        case.choose_mentor(OTHER, MENTOR)
    with pytest.raises(InvalidInput) as refused:
        case.choose_mentor(AUTHOR, "not-proposed")
    assert "mentor_id" in refused.value.fields
    case.choose_mentor(AUTHOR, MENTOR)
    assert (case.state, case.mentor_id) == ("awaiting_acceptance", MENTOR)


def test_choosing_before_proposals_is_a_conflict_naming_the_state():
    with pytest.raises(Conflict) as conflict:
        new_case().choose_mentor(AUTHOR, MENTOR)
    assert conflict.value.details["state"] == "awaiting_proposals"


def test_only_the_chosen_mentor_accepts_once():
    case = new_case()
    case.record_proposals(1, [PROPOSAL])
    case.choose_mentor(AUTHOR, MENTOR)
    with pytest.raises(Forbidden):
        case.accept(OTHER)
    case.accept(MENTOR)
    assert case.state == "in_progress"
    with pytest.raises(Conflict):
        case.accept(MENTOR)


def test_solutions_accumulate_with_stable_ids():
    case = accepted_case()
    first = case.propose_solution(MENTOR, "Try a class contract.", [{"title": "T", "reference": "R"}])
    second = case.propose_solution(MENTOR, "And a parents' meeting.", [])
    assert first != second and [s["id"] for s in case.solutions] == [first, second]
    assert case.state == "solution_proposed"
    with pytest.raises(Forbidden):
        case.propose_solution(AUTHOR, "I solve it myself", [])


def test_completion_needs_a_solution_and_the_author():
    case = accepted_case()
    with pytest.raises(Conflict):
        case.complete(AUTHOR, {"problem_solved": "yes", "helpfulness": 5})
    case.propose_solution(MENTOR, "Try a class contract.", [])
    with pytest.raises(Forbidden):
        case.complete(MENTOR, {"problem_solved": "yes", "helpfulness": 5})
    case.complete(AUTHOR, {"problem_solved": "yes", "helpfulness": 5})
    assert case.state == "completed" and case.reflection["helpfulness"] == 5


def test_replaying_the_events_rebuilds_the_same_case():
    case = accepted_case()
    case.propose_solution(MENTOR, "Try a class contract.", [])
    events = case.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.__dict__ == case.__dict__


def test_a_retried_solution_request_adds_nothing():
    case = accepted_case()
    first = case.propose_solution(MENTOR, "Try a class contract.", [], request_key="req-1")
    again = case.propose_solution(MENTOR, "Try a class contract.", [], request_key="req-1")
    assert first == again and len(case.solutions) == 1


def test_a_case_filed_with_an_id_keeps_it():
    import uuid
    case_id = uuid.uuid4()
    case = Case.file(case_id, "MC-2026-000009", AUTHOR, case_form())
    assert case.id == case_id and case.state == "awaiting_proposals"
