"""Which round a case event asks for, and who is excluded from it (services/matching/rounds.py)."""

import pytest

from contracts.topology import SUBSCRIPTIONS_BY_QUEUE
from services.matching.readmodel import CASE_EVENT_TYPES
from services.matching.rounds import ROUND_TRIGGERS, round_request

RUBRICS = ["education-law"]


def next_round(excluded, **extra):
    return {
        "case_id": "c-1",
        "case_number": "MC-2026-000001",
        "author_id": "a-1",
        "next_round": 3,
        "rubrics": RUBRICS,
        "excluded_mentor_ids": excluded,
        **extra,
    }


def test_a_new_case_asks_for_round_one_excluding_nobody():
    request = round_request("CaseCreated", {"case_id": "c-1", "rubrics": RUBRICS})
    assert (request.round, request.rubrics, request.exclude) == (1, tuple(RUBRICS), frozenset())


def test_a_decline_excludes_the_listed_mentors_and_the_decliner():
    request = round_request("MentorDeclined", next_round(["m-1"], mentor_id="m-2"))
    assert (request.round, request.exclude) == (3, {"m-1", "m-2"})


def test_an_escalation_excludes_the_mentor_who_did_not_answer_like_a_decline():
    payload = next_round(["m-1"], mentor_id="m-silent", urgency="urgent")
    request = round_request("CaseEscalated", payload)
    assert (request.round, request.exclude) == (3, {"m-1", "m-silent"})


def test_a_second_opinion_excludes_the_listed_mentors_only():
    assert round_request("SecondOpinionRequested", next_round(["m-first"])).exclude == {"m-first"}


def test_every_mentor_seen_chosen_for_the_case_stays_excluded_even_if_the_list_omits_them():
    request = round_request("MentorDeclined", next_round([], mentor_id="m-2"), asked={"m-1", "m-2"})
    assert request.exclude == {"m-1", "m-2"}


def test_a_mentor_only_proposed_and_never_chosen_stays_eligible():
    """m-3 was proposed in round 1 but never chosen (so never asked): nothing excludes them."""
    request = round_request("MentorDeclined", next_round(["m-1"], mentor_id="m-1"), asked={"m-1"})
    assert "m-3" not in request.exclude and request.exclude == {"m-1"}


@pytest.mark.parametrize(
    "event_type", ["MentorChosen", "MentorAccepted", "CaseCompleted", "CaseWithdrawn", "CaseRedefined"]
)
def test_other_case_events_ask_for_no_round(event_type):
    assert round_request(event_type, {"case_id": "c-1", "mentor_id": "m-1", "rubrics": RUBRICS}) is None


def test_the_read_model_follows_exactly_the_case_events_matching_is_subscribed_to():
    subscribed = set(SUBSCRIPTIONS_BY_QUEUE["matching.case-events"].event_types)
    assert set(CASE_EVENT_TYPES) == subscribed  # none parked for want of a rule
    assert set(ROUND_TRIGGERS) <= subscribed


def test_a_release_excludes_the_suspended_mentor_even_if_only_proposed():
    payload = next_round(["m-1"], mentor_id="m-suspended", reason="mentor_suspended")
    request = round_request("MentorReleased", payload)
    assert (request.round, request.exclude) == (3, {"m-1", "m-suspended"})
