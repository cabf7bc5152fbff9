"""The system's steps on a case: a flag when nobody fits, the urgency escalation. No I/O."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import Forbidden
from contracts.events import dump_payload
from services.cases.domain import Case
from services.cases.outgoing import integration_payload
from services.cases.views import case_view, history_view
from services.common.clock import utc_now
from tests.support import case_form
from tests.unit.stored_events import as_stored_in_version_1

AUTHOR, MENTOR, SECOND, THIRD = "author-1", "mentor-1", "mentor-2", "mentor-3"
HOURS_2 = 7200


def proposal(mentor_id):
    return {
        "mentor_id": mentor_id,
        "matched_rubrics": ["class-management-motivation"],
        "score": 0.9,
        "load": 1,
        "capacity": 3,
    }


def chosen_case(urgency="urgent"):
    case = Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form(urgency=urgency))
    case.record_proposals(1, [proposal(MENTOR), proposal(SECOND)], now=utc_now())
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    return case


def later(case, seconds):
    return datetime.fromisoformat(case.chosen_at) + timedelta(seconds=seconds)


def mapped(case, domain_event):
    """The integration event of ``domain_event`` as the relay maps it (contract-checked)."""
    event_type, payload = integration_payload(domain_event, case)
    dump_payload(event_type, payload)
    return event_type, payload


# ---- nobody fits --------------------------------------------------------------------------


def test_no_proposal_flags_the_case_for_moderators():
    case = Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form())
    assert case.record_proposals(1, [], now=utc_now()) is True
    assert case.state == "no_mentor_found"
    assert case.flag["reason"] == "no_mentor_found" and case.flag["round"] == 1
    proposed, flagged = case.collect_events()[-2:]
    assert mapped(case, flagged) == (
        "CaseFlagged",
        {"case_id": str(case.id), "case_number": case.number, "reason": "no_mentor_found", "round": 1},
    )
    assert mapped(case, proposed)[0] == "MentorsProposed"
    assert case.record_proposals(1, [], now=utc_now()) is False and case.version == 3  # redelivered: nothing more


def test_proposals_keep_their_reasons_for_the_mentee():
    case = chosen_case()
    view = case_view(case, {"user_id": AUTHOR, "role": "mentee"})
    assert view["proposed_mentors"][0] == proposal(MENTOR)
    assert view["flag"] is None


def test_only_excluded_mentors_proposed_is_nobody_fits():
    case = chosen_case()
    case.decline(MENTOR, "busy")
    case.record_proposals(2, [proposal(MENTOR)], now=utc_now())
    assert case.state == "no_mentor_found" and case.flag["reason"] == "no_mentor_found"


# ---- urgency escalation -------------------------------------------------------------------


def test_an_urgent_case_not_accepted_in_time_goes_to_the_next_round_without_the_silent_mentor():
    case = chosen_case()
    assert case.escalate(later(case, HOURS_2), HOURS_2) is True
    assert (case.state, case.mentor_id, case.proposals) == ("awaiting_proposals", None, [])
    assert case.engagements[-1]["outcome"] == "escalated"
    assert case.flag["reason"] == "acceptance_overdue" and case.flag["round"] == 1
    escalated, flagged = case.collect_events()[-2:]
    event_type, payload = mapped(case, escalated)
    assert event_type == "CaseEscalated"
    assert payload == {
        "case_id": str(case.id),
        "case_number": case.number,
        "author_id": AUTHOR,
        "next_round": 2,
        "rubrics": case.form["rubrics"],
        "excluded_mentor_ids": [MENTOR],
        "mentor_id": MENTOR,
        "urgency": "urgent",
    }
    assert mapped(case, flagged)[1]["reason"] == "acceptance_overdue"
    assert case.record_proposals(2, [proposal(MENTOR), proposal(THIRD)], now=utc_now()) is True
    assert [p["mentor_id"] for p in case.proposals] == [THIRD]  # the silent mentor never comes back


def test_the_history_shows_the_escalation_and_the_flag_as_system_steps():
    case = chosen_case()
    case.escalate(later(case, HOURS_2 + 1), HOURS_2)
    steps = history_view(case.collect_events())
    assert [(s["type"], s["actor_role"]) for s in steps[-2:]] == [("Escalated", "system"), ("Flagged", "system")]
    assert steps[-2]["data"]["mentor_id"] == MENTOR and steps[-1]["data"]["reason"] == "acceptance_overdue"


@pytest.mark.parametrize("urgency", ["need_advice", "want_expert_opinion"])
def test_only_urgent_cases_escalate(urgency):
    case = chosen_case(urgency)
    before = copy.deepcopy(case.__dict__)
    assert case.escalate(later(case, 10 * HOURS_2), HOURS_2) is False
    assert case.__dict__ == before


def test_nothing_escalates_before_the_deadline_after_acceptance_or_twice():
    case = chosen_case()
    assert case.escalate(later(case, HOURS_2 - 1), HOURS_2) is False
    assert case.state == "awaiting_acceptance"
    accepted = chosen_case()
    accepted.accept(MENTOR, now=utc_now())
    assert accepted.escalate(datetime.now(timezone.utc) + timedelta(days=1), HOURS_2) is False
    case.escalate(later(case, HOURS_2), HOURS_2)
    version = case.version
    assert case.escalate(datetime.now(timezone.utc) + timedelta(days=1), HOURS_2) is False
    assert case.version == version


def test_the_silent_mentor_can_no_longer_accept():
    case = chosen_case()
    case.escalate(later(case, HOURS_2), HOURS_2)
    with pytest.raises(Forbidden):
        case.accept(MENTOR, now=utc_now())


def test_acceptance_or_withdrawal_clears_the_flag():
    case = chosen_case()
    case.escalate(later(case, HOURS_2), HOURS_2)
    case.record_proposals(2, [proposal(THIRD)], now=utc_now())
    assert case.flag["reason"] == "acceptance_overdue"  # still waiting for a mentor
    case.choose_mentor(AUTHOR, THIRD, now=utc_now())
    case.accept(THIRD, now=utc_now())
    assert case.flag is None
    nobody = Case(number="MC-2026-000002", author_id=AUTHOR, form=case_form())
    nobody.record_proposals(1, [], now=utc_now())
    nobody.withdraw(AUTHOR, "solved it myself")
    assert nobody.flag is None


def test_a_replayed_case_is_the_same_and_old_choices_without_a_time_still_load():
    case = chosen_case()
    case.escalate(later(case, HOURS_2), HOURS_2)
    events = case.collect_events()
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert replayed.__dict__ == case.__dict__

    legacy = chosen_case()
    events = [
        as_stored_in_version_1(e) if isinstance(e, Case.MentorChosen) else e for e in legacy.collect_events()
    ]  # as recorded before MentorChosen had a time
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert replayed.chosen_at is None and replayed.state == "awaiting_acceptance"
    # without a recorded time the last change counts as the choice
    assert replayed.escalate(replayed.modified_on + timedelta(seconds=HOURS_2), HOURS_2) is True


# ---- the proposals watchdog: matching never answered ---------------------------------------


def waiting_case():
    return Case(number="MC-2026-000001", author_id=AUTHOR, form=case_form())


def test_a_case_awaiting_proposals_too_long_is_flagged_once():
    case = waiting_case()
    filed = case.modified_on
    assert case.flag_proposals_overdue(filed + timedelta(seconds=899), 900) is False  # not yet
    assert case.version == 1
    assert case.flag_proposals_overdue(filed + timedelta(seconds=900), 900) is True
    assert case.state == "awaiting_proposals"
    assert case.flag["reason"] == "proposals_overdue" and case.flag["round"] == 1  # the round awaited
    flagged = case.collect_events()[-1]
    assert mapped(case, flagged) == (
        "CaseFlagged",
        {"case_id": str(case.id), "case_number": case.number, "reason": "proposals_overdue", "round": 1},
    )
    assert case.flag_proposals_overdue(filed + timedelta(hours=5), 900) is False  # once
    assert case.version == 2


def test_late_proposals_clear_the_watchdogs_flag():
    case = waiting_case()
    case.flag_proposals_overdue(case.modified_on + timedelta(hours=1), 900)
    assert case.record_proposals(1, [proposal(MENTOR)], now=utc_now()) is True
    assert case.state == "choosing_mentor" and case.flag is None


def test_the_watchdog_leaves_other_states_and_other_flags_alone():
    chosen = chosen_case()
    assert chosen.flag_proposals_overdue(later(chosen, HOURS_2 * 10), 900) is False  # awaiting acceptance
    escalated = chosen_case()
    escalated.escalate(later(escalated, HOURS_2), HOURS_2)  # awaiting round 2, flagged acceptance_overdue
    assert escalated.state == "awaiting_proposals"
    assert escalated.flag_proposals_overdue(escalated.modified_on + timedelta(hours=50), 900) is False
    assert escalated.flag["reason"] == "acceptance_overdue"


def test_after_a_decline_the_wait_counts_from_the_decline():
    case = chosen_case("need_advice")
    case.decline(MENTOR, "busy")
    declined = case.modified_on
    assert case.flag_proposals_overdue(declined + timedelta(seconds=100), 900) is False
    assert case.flag_proposals_overdue(declined + timedelta(seconds=900), 900) is True
    assert case.flag["round"] == 2
