"""The roll of mentors: the accreditation state machine, who may decide, event payloads, views. No I/O."""

import uuid
from datetime import datetime, timezone

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from contracts.events import dump_payload
from contracts.rpc_identity import AccreditationApplicationSchema, DecisionReasonSchema
from contracts.validation import load
from services.identity import accreditation as a

MENTOR = str(uuid.uuid4())


@pytest.mark.parametrize(
    "state, action, after",
    [
        (None, "apply", "pending"),
        ("none", "apply", "pending"),
        ("rejected", "apply", "pending"),
        ("pending", "approve", "accredited"),
        ("pending", "reject", "rejected"),
        ("accredited", "suspend", "suspended"),
        ("suspended", "reinstate", "accredited"),
    ],
)
def test_allowed_transitions(state, action, after):
    assert a.next_state(state, action) == after


@pytest.mark.parametrize(
    "state, action",
    [
        ("pending", "apply"),
        ("accredited", "apply"),
        ("suspended", "apply"),
        (None, "approve"),
        ("rejected", "approve"),
        ("accredited", "approve"),
        ("suspended", "approve"),
        (None, "reject"),
        ("accredited", "reject"),
        ("rejected", "reject"),
        (None, "suspend"),
        ("pending", "suspend"),
        ("rejected", "suspend"),
        ("suspended", "suspend"),
        (None, "reinstate"),
        ("pending", "reinstate"),
        ("accredited", "reinstate"),
        ("rejected", "reinstate"),
    ],
)
def test_refused_transitions_are_conflicts_naming_the_state(state, action):
    with pytest.raises(Conflict) as caught:
        a.next_state(state, action)
    assert caught.value.status == 409
    assert caught.value.details == {"state": state or "none"}


def test_every_state_and_decision_is_of_the_vocabulary():
    from contracts import vocabulary as v

    for action, (decision, moves) in a.TRANSITIONS.items():
        assert decision is None or decision in v.ACCREDITATION_DECISIONS, action
        assert set(moves) | set(moves.values()) <= set(v.ACCREDITATION_STATES), action
    assert {a.decision_of(x) for x in ("approve", "reject", "suspend", "reinstate")} == set(v.ACCREDITATION_DECISIONS)


def test_only_accredited_is_accredited():
    assert [s for s in ("none", "pending", "accredited", "rejected", "suspended", None) if a.is_accredited(s)] == [
        "accredited"
    ]


@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_only_a_moderator_keeps_the_roll(role):
    with pytest.raises(Forbidden):
        a.authorize_moderator({"user_id": MENTOR, "role": role})
    with pytest.raises(Forbidden):
        a.authorize_moderator({"user_id": "not-a-uuid", "role": "moderator"})
    assert a.authorize_moderator({"user_id": MENTOR.upper(), "role": "moderator"}) == MENTOR
    for row in (None, {"role": "mentor"}):
        with pytest.raises(Forbidden):
            a.require_moderator_account(row)
    a.require_moderator_account({"role": "moderator"})


def test_applying_needs_a_profile():
    with pytest.raises(Conflict, match="profile"):
        a.require_profile(None)
    a.require_profile({"mentor_id": MENTOR})


def test_only_a_pending_application_is_decided():
    with pytest.raises(NotFound):
        a.require_pending_application(None)
    with pytest.raises(Conflict) as caught:
        a.require_pending_application({"state": "approved"})
    assert caught.value.details == {"state": "approved"}
    a.require_pending_application({"state": "pending"})


def test_ids_that_are_no_uuid_name_nothing():
    for bad in ("x", "", None, 5):
        with pytest.raises(NotFound):
            a.application_id_argument(bad)
        with pytest.raises(NotFound):
            a.mentor_id_argument(bad)
    assert a.mentor_id_argument(MENTOR.upper()) == MENTOR


def test_state_filter():
    assert a.state_filter(None) == "pending" and a.state_filter("") == "pending"
    assert a.state_filter("approved") == "approved"
    with pytest.raises(InvalidInput) as caught:
        a.state_filter("accredited")  # a mentor's state, not an application's
    assert set(caught.value.fields) == {"state"}


def test_the_application_and_the_reason_are_required_and_bounded():
    with pytest.raises(InvalidInput) as caught:
        load(AccreditationApplicationSchema(), {"experience": "   ", "motivation": "x" * 2001})
    assert set(caught.value.fields) == {"experience", "motivation"}
    with pytest.raises(InvalidInput) as caught:
        load(AccreditationApplicationSchema(), {})
    assert set(caught.value.fields) == {"experience", "motivation"}
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "x" * 1001}):
        with pytest.raises(InvalidInput) as caught:
            load(DecisionReasonSchema(), body)
        assert set(caught.value.fields) == {"reason"}


def test_event_payloads_keep_their_contracts_and_carry_no_statement():
    app_id = uuid.uuid4()
    requested = a.requested_payload(app_id, MENTOR)
    assert requested == {"application_id": str(app_id), "mentor_id": MENTOR}
    dump_payload("AccreditationRequested", requested)
    decided = a.decided_payload(MENTOR, app_id, "reject", "Please describe your mentoring experience.")
    assert decided == {
        "mentor_id": MENTOR,
        "application_id": str(app_id),
        "decision": "rejected",
        "reason": "Please describe your mentoring experience.",
    }
    dump_payload("AccreditationDecided", decided)
    suspended = a.decided_payload(MENTOR, None, "suspend", "Complaints")
    assert suspended["application_id"] is None and suspended["decision"] == "suspended"
    dump_payload("AccreditationDecided", suspended)
    assert a.decided_payload(MENTOR, None, "reinstate", None)["reason"] == ""


def test_views():
    at = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    app = {
        "id": uuid.UUID(int=1),
        "mentor_id": uuid.UUID(MENTOR),
        "state": "rejected",
        "experience": "E",
        "motivation": "M",
        "submitted_at": at,
        "decided_at": at,
        "decided_by": uuid.uuid4(),
        "reason": "Why",
    }
    assert a.accreditation_view(MENTOR, None, None) == {
        "mentor_id": MENTOR,
        "state": "none",
        "reason": None,
        "updated_at": None,
        "application": None,
    }
    view = a.accreditation_view(MENTOR, {"state": "rejected", "reason": "Why", "updated_at": at}, app)
    assert view["state"] == "rejected" and view["reason"] == "Why" and view["updated_at"] == at.isoformat()
    assert view["application"] == {
        "id": str(uuid.UUID(int=1)),
        "state": "rejected",
        "experience": "E",
        "motivation": "M",
        "submitted_at": at.isoformat(),
        "decided_at": at.isoformat(),
        "reason": "Why",
    }  # never who decided
    assert a.accreditation_view(MENTOR, {"state": "accredited", "reason": "", "updated_at": at}, app)["reason"] is None
    review = a.review_view(app, {"mentor_id": MENTOR, "first_name": "A"})
    assert review["mentor_id"] == MENTOR and review["profile"] == {"mentor_id": MENTOR, "first_name": "A"}
