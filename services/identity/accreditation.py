"""The roll of mentors (CommonSpaces' accreditation): a mentor applies, a moderator approves or
rejects, and may later suspend and reinstate. Only an accredited mentor is listed publicly and
proposed by matching. Pure: states, transitions and views; no I/O.

    none/rejected --apply--> pending --approve--> accredited --suspend--> suspended
                             pending --reject---> rejected     suspended --reinstate--> accredited
"""

from contracts import vocabulary as v
from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from contracts.rpc_identity import AccreditationViewSchema, ApplicationReviewSchema, ApplicationViewSchema
from contracts.validation import schema_of
from services.identity.accounts import existing_id, parse_id

NONE, PENDING, ACCREDITED, REJECTED, SUSPENDED = v.ACCREDITATION_STATES
NOT_A_MODERATOR = "Only a moderator keeps the roll of mentors."
NO_APPLICATION = "No such application."
NO_MENTOR = "No such mentor."
NEEDS_PROFILE = "Write your mentor profile before applying: moderators review it with your application."

# action -> (decision recorded, {state before: state after})
TRANSITIONS = {
    "apply": (None, {NONE: PENDING, REJECTED: PENDING}),
    "approve": ("approved", {PENDING: ACCREDITED}),
    "reject": ("rejected", {PENDING: REJECTED}),
    "suspend": ("suspended", {ACCREDITED: SUSPENDED}),
    "reinstate": ("reinstated", {SUSPENDED: ACCREDITED}),
}

_REFUSALS = {
    ("apply", PENDING): "Your application is already waiting for a moderator.",
    ("apply", ACCREDITED): "You are already on the roll of mentors.",
    ("apply", SUSPENDED): "Your accreditation is suspended; a moderator may reinstate it.",
    ("suspend", SUSPENDED): "The mentor is already suspended.",
    ("reinstate", ACCREDITED): "The mentor is not suspended.",
}


def next_state(state, action):
    """The state after ``action``, or Conflict naming the current state."""
    state = state or NONE
    _, moves = TRANSITIONS[action]
    if state not in moves:
        message = _REFUSALS.get((action, state)) or f"Cannot {action} while the accreditation is {state}."
        raise Conflict(message, details={"state": state})
    return moves[state]


def decision_of(action):
    return TRANSITIONS[action][0]


def is_accredited(state):
    return state == ACCREDITED


def authorize_moderator(actor):
    if actor["role"] != "moderator" or parse_id(actor["user_id"]) is None:
        raise Forbidden(NOT_A_MODERATOR)
    return parse_id(actor["user_id"])


def require_moderator_account(user_row):
    """The account behind the actor must (still) exist and be a moderator's: a forged role does not help."""
    if user_row is None or user_row["role"] != "moderator":
        raise Forbidden(NOT_A_MODERATOR)


def require_profile(profile_row):
    if profile_row is None:
        raise Conflict(NEEDS_PROFILE, details={"state": NONE})


def application_id_argument(application_id):
    """An id that is not a UUID names no application (404, like an unknown one)."""
    return existing_id(application_id, NO_APPLICATION)


def mentor_id_argument(mentor_id):
    return existing_id(mentor_id, NO_MENTOR)


def state_filter(state):
    if state is None or state == "":
        return "pending"
    if state not in v.APPLICATION_STATES:
        raise InvalidInput(
            "Unknown application state.", {"state": ["Must be one of: " + ", ".join(v.APPLICATION_STATES) + "."]}
        )
    return state


def application_state_after(action):
    """What an application becomes when a moderator decides on it."""
    return {"approve": "approved", "reject": "rejected"}[action]


def require_pending_application(application_row):
    if application_row is None:
        raise NotFound(NO_APPLICATION)
    if application_row["state"] != "pending":
        raise Conflict(
            f"The application is already {application_row['state']}.", details={"state": application_row["state"]}
        )


# ---- events ---------------------------------------------------------------------------------


def requested_payload(application_id, mentor_id):
    return {"application_id": str(application_id), "mentor_id": str(mentor_id)}


def decided_payload(mentor_id, application_id, action, reason):
    """AccreditationDecided: ids, the decision and its reason (written for the mentor to read)."""
    return {
        "mentor_id": str(mentor_id),
        "application_id": str(application_id) if application_id else None,
        "decision": decision_of(action),
        "reason": reason or "",
    }


# ---- views ----------------------------------------------------------------------------------


def _timestamp(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _application(row):
    return {
        "id": str(row["id"]),
        "state": row["state"],
        "experience": row["experience"],
        "motivation": row["motivation"],
        "submitted_at": _timestamp(row["submitted_at"]),
        "decided_at": _timestamp(row["decided_at"]),
        "reason": row["reason"],
    }


def application_view(row):
    return schema_of(ApplicationViewSchema).dump(_application(row)) if row is not None else None


def review_view(row, profile_view):
    """An application for moderators, with the applicant's public profile (or None)."""
    return schema_of(ApplicationReviewSchema).dump(
        dict(_application(row), mentor_id=str(row["mentor_id"]), profile=profile_view)
    )


def accreditation_view(mentor_id, roll_row, application_row):
    """One mentor's place on the roll: ``roll_row`` (state, reason, updated_at) or None for never applied."""
    return schema_of(AccreditationViewSchema).dump(
        {
            "mentor_id": str(mentor_id),
            "state": roll_row["state"] if roll_row else NONE,
            "reason": (roll_row["reason"] or None) if roll_row else None,
            "updated_at": _timestamp(roll_row["updated_at"]) if roll_row else None,
            "application": application_view(application_row),
        }
    )
