"""Accounts: new users, the user view and who may see whom. No I/O."""

import uuid
from datetime import datetime, timezone

from contracts.errors import EmailNotVerified, Forbidden, InvalidInput, NotFound
from contracts.rpc_identity import UserViewSchema
from contracts.validation import schema_of
from services.common.tokens import SESSION_ENDED  # noqa: F401 - identity's refusals and the gateway's say the same

SIGN_IN_FAILED = "The e-mail or password is not correct."
WRONG_PASSWORD = "The current password is not correct."
EMAIL_TAKEN = "An account with this e-mail already exists."


def normalize_email(email):
    return email.strip().lower()


def parse_id(value):
    """The canonical text of a UUID, or None when ``value`` is not one."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def existing_id(value, missing):
    """``parse_id(value)``, or NotFound(``missing``): a value that is not an id names nothing, answered as
    for an unknown id (404)."""
    found = parse_id(value)
    if found is None:
        raise NotFound(missing)
    return found


def new_user(form, password_hash, role=None, user_id=None, now=None, verified=False):
    """The row of a new account from a validated registration form; ``verified``: its e-mail needs
    no confirmation (a moderator made by the operator)."""
    now = now or datetime.now(timezone.utc)
    return {
        "id": user_id or str(uuid.uuid4()),
        "email": normalize_email(form["email"]),
        "password_hash": password_hash,
        "role": role or form["role"],
        "first_name": form["first_name"].strip(),
        "last_name": form["last_name"].strip(),
        "patronymic": (form.get("patronymic") or "").strip(),
        "created_at": now,
        "email_verified_at": now if verified else None,
    }


def user_view(row):
    created = row["created_at"]
    return schema_of(UserViewSchema).dump(
        {
            "id": str(row["id"]),
            "email": row["email"],
            "role": row["role"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "patronymic": row["patronymic"] or "",
            "created_at": created.isoformat() if hasattr(created, "isoformat") else str(created),
            "email_verified": row.get("email_verified_at") is not None,
        }
    )


def user_id_argument(user_id, name="user_id"):
    if not isinstance(user_id, str) or not user_id.strip():
        raise InvalidInput("The user id is missing.", {name: ["Expected a user id."]})
    return user_id


def authorize_view_user(actor, user_id):
    """A user may see their own account; a moderator may see anyone's."""
    if actor["role"] == "moderator":
        return
    own = parse_id(actor["user_id"])
    if own is None or own != parse_id(user_id):
        raise Forbidden("You may only see your own account.")


NOT_A_MENTOR = "Only a mentor can keep a mentor profile."


def authorize_profile_edit(actor, message=NOT_A_MENTOR):
    """Only a mentor keeps a mentor profile (availability, accreditation); returns the mentor's id."""
    mentor_id = parse_id(actor["user_id"])
    if actor["role"] != "mentor" or mentor_id is None:
        raise Forbidden(message)
    return mentor_id


def require_mentor_account(user_row, message=NOT_A_MENTOR):
    """The account behind the actor must (still) exist and be a mentor's."""
    if user_row is None or user_row["role"] != "mentor":
        raise Forbidden(message)


EMAIL_NOT_VERIFIED = "Confirm your e-mail address first: open the link we sent you (or ask for a new one)."


def require_verified_email(user_row):
    """Filing a case and applying for the roll of mentors need a confirmed e-mail address."""
    if user_row is None or user_row.get("email_verified_at") is None:
        raise EmailNotVerified(EMAIL_NOT_VERIFIED)


def unique(values):
    """Values without repeats, in their first order."""
    return list(dict.fromkeys(values))
