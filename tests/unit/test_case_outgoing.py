"""The integration payloads checked when a case is saved, and published as they are by the relay."""

import copy

import pytest

from services.cases.domain import Case
from services.cases.outgoing import CONTRACT_STAMP, ContractBroken, check_and_stamp, integration_payload, wire_payload
from services.common.clock import utc_now
from tests.support import case_form

AUTHOR, MENTOR = "author-1", "mentor-1"


def proposal(mentor_id):
    return {"mentor_id": mentor_id, "matched_rubrics": ["self-management"], "score": 0.9, "load": 0, "capacity": 3}


def saved(case, load_at=None):
    """What CasesApplication._record does with the case's new events before they are stored."""
    events = case.collect_events()
    check_and_stamp(events, {case.id: case}, load_at or (lambda *_: pytest.fail("nothing to load")))
    return events


def test_every_event_of_a_journey_is_stamped_with_its_current_contract_version():
    case = Case.file(None, "MC-2026-000001", AUTHOR, case_form())
    events = saved(case)
    case.record_proposals(1, [proposal(MENTOR)], now=utc_now())
    events += saved(case)
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    events += saved(case)
    case.accept(MENTOR, now=utc_now())
    events += saved(case)
    assert [type(e).__name__ for e in events] == ["Created", "MentorsProposed", "MentorChosen", "MentorAccepted"]
    assert [getattr(e, CONTRACT_STAMP, None) for e in events] == [1, 1, 1, 1]


def test_several_events_of_one_save_are_each_checked_with_the_case_as_of_that_event():
    case = Case.file(None, "MC-2026-000001", AUTHOR, case_form())
    saved(case)
    before = copy.deepcopy(case)
    loads = []
    case.record_proposals(1, [], now=utc_now())  # nobody fits: MentorsProposed, then Flagged, in one save
    events = saved(case, load_at=lambda case_id, version: loads.append(version) or copy.deepcopy(before))
    assert loads == [1]  # folded again from the version before the first new event
    assert [type(e).__name__ for e in events] == ["MentorsProposed", "Flagged"]
    assert all(getattr(e, CONTRACT_STAMP) == 1 for e in events)


def test_an_event_that_breaks_its_contract_fails_the_save_and_is_not_stamped():
    case = Case.file(None, "MC-2026-000001", AUTHOR, case_form())
    saved(case)
    case.record_proposals(1, [proposal(None)], now=utc_now())  # a proposal without a mentor id: mentor_ids [None]
    events = case.collect_events()
    with pytest.raises(ContractBroken, match="MentorsProposed"):
        check_and_stamp(events, {case.id: case}, lambda *_: None)
    assert not hasattr(events[0], CONTRACT_STAMP)


def test_the_relay_checks_what_was_not_stamped_with_the_current_version():
    case = Case.file(None, "MC-2026-000001", AUTHOR, case_form())
    saved(case)
    case.record_proposals(1, [proposal(None)], now=utc_now())
    (event,) = case.collect_events()
    event_type, payload = integration_payload(event, case)
    with pytest.raises(ValueError, match="breaks its contract"):  # stored before stamps existed
        wire_payload(event, event_type, payload)
    object.__setattr__(event, CONTRACT_STAMP, 0)  # stamped against a version no longer current
    with pytest.raises(ValueError, match="breaks its contract"):
        wire_payload(event, event_type, payload)
    object.__setattr__(event, CONTRACT_STAMP, 1)  # stamped now: published as it is, unchecked
    assert wire_payload(event, event_type, payload) == (1, payload)
