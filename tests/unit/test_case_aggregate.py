"""The Case aggregate's rules, without I/O: every refusal leaves the case as it was."""

import copy
import uuid

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput
from services.cases.domain import Case
from services.common.clock import utc_now
from tests.support import case_form

AUTHOR, MENTOR, SECOND, OTHER, COLLEAGUE = "author-1", "mentor-1", "mentor-2", "someone-else", "colleague-1"


def proposal(mentor_id):
    return {"mentor_id": mentor_id, "matched_rubrics": ["class-management-motivation"], "score": 1.0}


def new_case(**form):
    return Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form(**form))


def accepted_case(**form):
    case = new_case(**form)
    case.record_proposals(1, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    case.accept(MENTOR, now=utc_now())
    return case


def questioned_case(**form):
    case = accepted_case(**form)
    ids = case.ask_questions(
        MENTOR,
        [
            {"bank_id": "goals-1", "text": "What exactly?", "kind": "clarifying"},
            {"bank_id": None, "text": "Why now?", "kind": "developing"},
        ],
        now=utc_now(),
    )
    case.answer_questions(
        AUTHOR,
        [{"question_id": ids[0], "text": "Calm lessons."}, {"question_id": ids[1], "text": "The term ends."}],
        now=utc_now(),
    )
    return case


def solved_case(**form):
    case = accepted_case(**form)
    case.propose_solution(MENTOR, "Agree class rules together.", [], now=utc_now())
    return case


def refused(case, error, command, *args, **kwargs):
    """Run a command that must be refused; the case must not change."""
    before = copy.deepcopy(case.__dict__)
    with pytest.raises(error) as raised:
        command(*args, **kwargs)
    assert case.__dict__ == before
    return raised.value


# ---- filing and proposals ---------------------------------------------------------------


def test_a_new_case_awaits_proposals_with_its_first_revision():
    case = new_case()
    assert (case.state, case.revision, case.version, case.number) == ("awaiting_proposals", 1, 1, "MC-2026-000001")


def test_a_case_filed_with_an_id_keeps_it():
    case_id = uuid.uuid4()
    assert Case.file(case_id, "MC-2026-000009", AUTHOR, case_form()).id == case_id


def test_proposals_for_a_round_are_recorded_once():
    case = new_case()
    assert case.record_proposals(1, [proposal(MENTOR)], now=utc_now()) is True
    assert case.record_proposals(1, [proposal(MENTOR)], now=utc_now()) is False
    assert case.version == 2 and case.state == "choosing_mentor"


def test_no_proposal_means_no_mentor_found():
    case = new_case()
    case.record_proposals(1, [], now=utc_now())
    assert case.state == "no_mentor_found"


def test_only_the_author_chooses_and_only_among_the_proposed():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR)], now=utc_now())
    refused(case, Forbidden, case.choose_mentor, OTHER, MENTOR, now=utc_now())
    assert "mentor_id" in refused(case, InvalidInput, case.choose_mentor, AUTHOR, "not-proposed", now=utc_now()).fields
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    assert (case.state, case.mentor_id) == ("awaiting_acceptance", MENTOR)


def test_choosing_before_proposals_is_a_conflict_naming_the_state():
    case = new_case()
    assert (
        refused(case, Conflict, case.choose_mentor, AUTHOR, MENTOR, now=utc_now()).details["state"]
        == "awaiting_proposals"
    )


# ---- accept, decline, rounds ------------------------------------------------------------


def test_only_the_chosen_mentor_accepts_once():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    refused(case, Forbidden, case.accept, OTHER, now=utc_now())
    case.accept(MENTOR, now=utc_now())
    assert case.state == "in_progress"
    refused(case, Conflict, case.accept, MENTOR, now=utc_now())


def test_a_decline_opens_the_next_round_without_the_decliner():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    refused(case, Forbidden, case.decline, SECOND, "not chosen")
    case.decline(MENTOR, "Too busy this month.")
    assert (case.state, case.mentor_id) == ("awaiting_proposals", None)
    declined = case.collect_events()[-1]
    assert declined.next_round == 2 and declined.excluded_mentor_ids == [MENTOR]
    assert case.engagements[-1] == {
        "mentor_id": MENTOR,
        "round": 1,
        "opinion": 1,
        "outcome": "declined",
        "reason": "Too busy this month.",
    }
    assert case.record_proposals(2, [proposal(MENTOR), proposal(SECOND)], now=utc_now()) is True
    assert [p["mentor_id"] for p in case.proposals] == [SECOND]  # a decliner never comes back


def test_a_decline_after_acceptance_is_a_conflict():
    case = accepted_case()
    refused(case, Conflict, case.decline, MENTOR, "")


def test_a_mentor_no_longer_chosen_who_declines_again_gets_a_conflict():
    # the loser of two concurrent declines sees the case after the winner's: a 409, not a 403
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    case.decline(MENTOR, "")
    refused(case, Conflict, case.decline, MENTOR, "")
    refused(case, Forbidden, case.decline, SECOND, "")  # never chosen: still not theirs to answer


def test_the_author_may_withdraw_until_completion():
    case = accepted_case()
    refused(case, Forbidden, case.withdraw, MENTOR, "")
    case.withdraw(AUTHOR, "Solved it myself.")
    assert case.state == "withdrawn" and case.withdrawn_reason == "Solved it myself."
    refused(case, Conflict, case.withdraw, AUTHOR, "")
    refused(case, Conflict, case.propose_solution, MENTOR, "late", [], now=utc_now())


# ---- questions, answers, redefinitions --------------------------------------------------


def test_questions_of_both_kinds_then_answers_then_a_decision():
    case = accepted_case()
    refused(
        case,
        Forbidden,
        case.ask_questions,
        AUTHOR,
        [{"bank_id": None, "text": "?", "kind": "clarifying"}],
        now=utc_now(),
    )
    ids = case.ask_questions(
        MENTOR,
        [
            {"bank_id": "swot-1", "text": "Strengths?", "kind": "clarifying"},
            {"bank_id": None, "text": "What if...?", "kind": "developing"},
        ],
        now=utc_now(),
    )
    assert case.state == "awaiting_answers" and [q["kind"] for q in case.questions] == ["clarifying", "developing"]
    assert case.questions[0]["bank_id"] == "swot-1" and case.questions[1]["bank_id"] is None
    refused(case, Forbidden, case.answer_questions, MENTOR, [{"question_id": ids[0], "text": "x"}], now=utc_now())
    refused(case, InvalidInput, case.answer_questions, AUTHOR, [{"question_id": "nope", "text": "x"}], now=utc_now())
    case.answer_questions(AUTHOR, [{"question_id": ids[0], "text": "Patience."}], now=utc_now())
    assert case.state == "awaiting_answers"  # one question still open
    case.answer_questions(AUTHOR, [{"question_id": ids[1], "text": "Nothing changes."}], now=utc_now())
    assert case.state == "awaiting_decision"
    case.keep_request(AUTHOR, now=utc_now())
    assert (case.state, case.decision, case.revision) == ("in_progress", "kept", 1)


def test_a_retried_question_request_asks_nothing_new():
    case = accepted_case()
    q = [{"bank_id": None, "text": "Why?", "kind": "developing"}]
    assert case.ask_questions(MENTOR, q, "req-1", now=utc_now()) == case.ask_questions(
        MENTOR, q, "req-1", now=utc_now()
    )
    assert len(case.questions) == 1


def test_at_most_two_redefinitions_and_every_revision_stays_readable():
    case = questioned_case()
    case.redefine(AUTHOR, case_form(essence="Second version."), now=utc_now())
    for n in (2, 3):
        ids = case.ask_questions(
            MENTOR, [{"bank_id": None, "text": f"Round {n}?", "kind": "clarifying"}], now=utc_now()
        )
        case.answer_questions(AUTHOR, [{"question_id": ids[0], "text": "Yes."}], now=utc_now())
        if n == 2:
            case.redefine(AUTHOR, case_form(essence="Third version."), now=utc_now())
    error = refused(case, Conflict, case.redefine, AUTHOR, case_form(essence="Fourth version."), now=utc_now())
    assert "redefined 2 times" in error.message and error.details["revision"] == 3
    assert [r["essence"] for r in case.revisions] == [case_form()["essence"], "Second version.", "Third version."]


def test_redefining_needs_answers_first_and_the_author():
    case = accepted_case()
    refused(case, Conflict, case.redefine, AUTHOR, case_form(), now=utc_now())
    case = questioned_case()
    refused(case, Forbidden, case.redefine, MENTOR, case_form(), now=utc_now())


# ---- formats ----------------------------------------------------------------------------


def test_colleagues_need_the_authors_consent():
    case = accepted_case(group_discussion_consent=False)
    refused(case, Forbidden, case.share_with_colleagues, MENTOR, [COLLEAGUE])
    refused(case, Forbidden, case.publish_to_forum, AUTHOR, None, "Help")


def test_a_colleague_shared_with_adds_an_opinion():
    case = accepted_case(group_discussion_consent=True)
    refused(case, Forbidden, case.share_with_colleagues, OTHER, [COLLEAGUE])
    refused(case, InvalidInput, case.share_with_colleagues, MENTOR, [AUTHOR])
    case.share_with_colleagues(MENTOR, [COLLEAGUE])
    refused(case, Forbidden, case.add_opinion, OTHER, "I think...", now=utc_now())
    case.add_opinion(COLLEAGUE, "Try a class council.", now=utc_now())
    assert case.colleague_ids == [COLLEAGUE] and case.opinions[0]["text"] == "Try a class council."


def test_the_author_publishes_to_the_forum_with_consent():
    case = new_case(group_discussion_consent=True)
    refused(case, Forbidden, case.publish_to_forum, MENTOR, None, None)
    case.publish_to_forum(AUTHOR, None, "Discipline in form 7")
    case.publish_to_forum(AUTHOR, "thread-9", None)
    assert case.forum_publications == [
        {"thread_id": None, "title": "Discipline in form 7", "version": 2},
        {"thread_id": "thread-9", "title": None, "version": 3},
    ]


def test_messages_only_in_personal_mode_between_author_and_mentor():
    anonymous = accepted_case(mode="anonymous")
    refused(anonymous, Forbidden, anonymous.send_message, AUTHOR, "Hello", now=utc_now())
    personal = accepted_case(mode="personal")
    refused(personal, Forbidden, personal.send_message, OTHER, "Hello", now=utc_now())
    personal.send_message(AUTHOR, "Can we talk on Monday?", now=utc_now())
    personal.send_message(MENTOR, "Yes, at five.", now=utc_now())
    assert [m["sender_id"] for m in personal.messages] == [AUTHOR, MENTOR]


# ---- solutions, second opinion, completion ----------------------------------------------


def test_no_solution_before_acceptance():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    refused(case, Conflict, case.propose_solution, MENTOR, "Early advice", [], now=utc_now())


def test_solutions_accumulate_with_stable_ids_and_retries_add_nothing():
    case = accepted_case()
    first = case.propose_solution(
        MENTOR, "Try a class contract.", [{"title": "T", "reference": "R"}], "req-1", now=utc_now()
    )
    assert case.propose_solution(MENTOR, "Try a class contract.", [], "req-1", now=utc_now()) == first
    second = case.propose_solution(MENTOR, "And a parents' meeting.", [], now=utc_now())
    assert [s["id"] for s in case.solutions] == [first, second] and case.state == "solution_proposed"
    refused(case, Forbidden, case.propose_solution, AUTHOR, "I solve it myself", [], now=utc_now())


def test_a_second_opinion_once_then_the_reflection_rates_both_solutions():
    case = solved_case()
    refused(case, Forbidden, case.request_second_opinion, MENTOR)
    case.request_second_opinion(AUTHOR)
    assert (case.state, case.opinion, case.mentor_id) == ("awaiting_proposals", 2, None)
    assert case.collect_events()[-1].excluded_mentor_ids == [MENTOR]
    case.record_proposals(2, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    assert [p["mentor_id"] for p in case.proposals] == [SECOND]
    case.choose_mentor(AUTHOR, SECOND, now=utc_now())
    case.accept(SECOND, now=utc_now())
    refused(case, Forbidden, case.propose_solution, MENTOR, "Me again", [], now=utc_now())
    case.propose_solution(SECOND, "Another view.", [], now=utc_now())
    assert refused(case, Conflict, case.request_second_opinion, AUTHOR).details["state"] == "solution_proposed"
    first, second = [s["id"] for s in case.solutions]
    assert (
        "helpfulness"
        in refused(
            case, InvalidInput, case.complete, AUTHOR, {"problem_solved": "yes", "helpfulness": {first: 4}}
        ).fields
    )
    case.complete(AUTHOR, {"problem_solved": "yes", "helpfulness": {first: 4, second: 5}})
    assert case.state == "completed" and case.has_worked_on(MENTOR) and case.has_worked_on(SECOND)


def test_completion_needs_a_solution_and_the_author():
    case = accepted_case()
    refused(case, Conflict, case.complete, AUTHOR, {"problem_solved": "yes", "helpfulness": {"x": 5}})
    case.propose_solution(MENTOR, "Try a class contract.", [], now=utc_now())
    rating = {"problem_solved": "yes", "helpfulness": {case.solutions[0]["id"]: 5}}
    refused(case, Forbidden, case.complete, MENTOR, rating)
    case.complete(AUTHOR, rating)
    assert case.state == "completed"


def test_replaying_the_events_rebuilds_the_same_case():
    case = questioned_case(group_discussion_consent=True)
    case.redefine(AUTHOR, case_form(essence="Second version.", group_discussion_consent=True), now=utc_now())
    case.share_with_colleagues(MENTOR, [COLLEAGUE])
    case.add_opinion(COLLEAGUE, "Agree.", now=utc_now())
    case.propose_solution(MENTOR, "Try a class contract.", [], now=utc_now())
    replayed = None
    for event in case.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.__dict__ == case.__dict__


# ---- a suspended mentor released (Case.release_mentor) -------------------------------------


def _released(case, mentor_id=MENTOR):
    round_before = case.round
    assert case.release_mentor(mentor_id, "mentor_suspended") is True
    assert (case.state, case.mentor_id, case.proposals) == ("awaiting_proposals", None, [])
    assert not case.is_chosen_mentor(mentor_id) and not case.has_worked_on(mentor_id)
    event = case.collect_events()[-1]
    assert type(event).__name__ == "MentorReleased" and event.next_round == round_before + 1
    assert mentor_id in event.excluded_mentor_ids and event.reason == "mentor_suspended"
    return case


@pytest.mark.parametrize("make", [accepted_case, questioned_case, solved_case])
def test_a_working_mentor_is_released_and_the_case_goes_back_to_matching(make):
    case = _released(make())
    assert case.engagements[-1]["outcome"] == "released"
    assert case.record_proposals(case.round + 1, [proposal(MENTOR), proposal(SECOND)], now=utc_now()) is True
    assert [p["mentor_id"] for p in case.proposals] == [SECOND]  # never proposed again for this case
    refused(case, Forbidden, case.accept, MENTOR, now=utc_now())


def test_a_chosen_mentor_not_yet_accepting_is_released():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    _released(case)


def test_a_mentor_only_proposed_is_released_and_the_author_chooses_from_a_new_round():
    case = new_case()
    case.record_proposals(1, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    _released(case)
    assert case.engagements == []  # nobody had been chosen


def test_a_release_of_a_mentor_with_nothing_to_do_on_the_case_changes_nothing():
    case = accepted_case()
    version = case.version
    assert case.release_mentor(OTHER, "mentor_suspended") is False
    assert case.release_mentor(SECOND, "mentor_suspended") is False  # proposed once, but the case moved on
    _released(case)
    assert case.release_mentor(MENTOR, "mentor_suspended") is False  # a redelivered suspension
    assert case.version == version + 1
    completed = solved_case()
    completed.complete(
        AUTHOR,
        {
            "problem_solved": "yes",
            "helpfulness": {completed.solutions[0]["id"]: 5},
            "actions": "",
            "learned": "",
            "comment": "",
        },
    )
    assert completed.release_mentor(MENTOR, "mentor_suspended") is False and completed.state == "completed"
