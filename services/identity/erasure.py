"""Erasure of a person's data (issue 19, part 3): who may erase whom, the event, the answer. No I/O.

Identity does it (services/identity/service.py ``_erase``): the sessions end, the account closes (its id
stays, so other services' references resolve; no sign-in), the person's key is deleted
(services/common/shredding.py: every sealed field of theirs reads "[erased]" from then on, backups
included), and ``PersonErased`` (the id alone) tells every other service to shred its own key and copies.
"""

from contracts.errors import Forbidden, NotFound
from contracts.rpc_identity import ErasedViewSchema
from contracts.validation import schema_of
from services.identity.accounts import existing_id

EVENT_TYPE = "PersonErased"
SESSION_END_REASON = "account_erased"
SELF = "self"
MODERATOR = "moderator"
NO_PERSON = "No such person."
NOT_ERASABLE = "A moderator's account is closed by the operator, not erased here."


def person_id_argument(person_id):
    """The person to erase: NotFound for anything that is not an id (no such person, as for any)."""
    return existing_id(person_id, NO_PERSON)


def require_erasable(user_row):
    """A moderator erases mentees and mentors (an erased one again: the same answer, no change)."""
    if user_row is None:
        raise NotFound(NO_PERSON)
    if user_row["role"] == "moderator":
        raise Forbidden(NOT_ERASABLE)


def event_payload(person_id):
    return {"person_id": str(person_id)}


def erased_view(person_id, revoked_sessions):
    return schema_of(ErasedViewSchema).dump(
        {"person_id": str(person_id), "erased": True, "revoked_sessions": revoked_sessions}
    )
