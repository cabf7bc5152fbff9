"""The access audit: every confidential read of an author's identity or questionnaire, recorded in
the read's own transaction and listed to the author (services/identity/migrations/0001_schema_of_2026_12.py, ACCESS_AUDIT).

Append-only: this module only inserts and selects (the table's trigger refuses UPDATE and DELETE).
What the author sees of a reader is policy: the role; a mentor's id (the author chose that mentor,
whose profile is public); never a moderator's identity, never anybody's e-mail.
No event is published: no other service consumes these reads (the author reads the log here).
"""

import uuid

from contracts.errors import InvalidInput
from contracts.rpc_identity import AccessLogEntrySchema, QuestionnaireReadViewSchema
from contracts.validation import schema_of

IDENTITY = "identity"
QUESTIONNAIRE = "questionnaire"
CONTACT = "contact"  # name and e-mail address, read by a service to write to the person
ACCOUNT = "account"  # the account record (get_user), read by a moderator
SERVICE = "service"  # reader_role of a service reading as itself (services/common/actors.py SYSTEM_CALLERS)
READER_LABELS = {
    "mentor": "your mentor",
    "moderator": "a moderator",
    "unknown": "a former reader",
    SERVICE: "the platform, to send you an e-mail",
}
EMAIL_REASON = "to send you an e-mail notification"


def disclosed(card):
    """What the card showed: the names always, the questionnaire when it was filled."""
    return [IDENTITY] + ([QUESTIONNAIRE] if card.get("questionnaire") is not None else [])


def audited(author_id, reader_id):
    """The author's look at their own card is no disclosure: not recorded."""
    return author_id != reader_id


def cursor_argument(before):
    """``before`` (an entry id of the previous page) as an int, or None; a non-id is a field error."""
    if before is None:
        return None
    try:
        value = int(before)
    except (TypeError, ValueError):
        value = -1
    if not 1 <= value < 2**63:  # an id is a positive bigint (PostgreSQL refuses anything larger)
        raise InvalidInput("The access log query has invalid fields.", {"before": ["Expected an entry id."]})
    return value


def _timestamp(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def entry_view(row):
    role = row["reader_role"]
    return schema_of(AccessLogEntrySchema).dump(
        {
            "id": str(row["id"]),
            "reader_role": role,
            "reader": READER_LABELS.get(role, READER_LABELS["unknown"]),
            "mentor_id": str(row["reader_id"]) if role == "mentor" else None,
            "disclosed": list(row["disclosed"]),
            "case_id": row["case_id"],
            "reason": row["reason"],
            "read_at": _timestamp(row["read_at"]),
        }
    )


def page_view(rows, limit):
    """One page, newest first: ``rows`` holds up to ``limit + 1`` rows (the extra one says there is more)."""
    items = [entry_view(row) for row in rows[:limit]]
    return {"items": items, "next_before": items[-1]["id"] if len(rows) > limit else None}


def read_view(row):
    """The old shape of the log (questionnaire reads): a moderator's id is not shown."""
    return schema_of(QuestionnaireReadViewSchema).dump(
        {
            "reader_id": str(row["reader_id"]) if row["reader_role"] == "mentor" else None,
            "case_id": row["case_id"],
            "read_at": _timestamp(row["read_at"]),
        }
    )


# ---- storage (insert and select only) ------------------------------------------------------

_COLUMNS = "id, reader_id, reader_role, case_id, disclosed, reason, read_at"


def record(cur, author_id, reader_id, reader_role, case_id, what, reason):
    cur.execute(
        "INSERT INTO access_audit (author_id, reader_id, reader_role, case_id, disclosed, reason) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (author_id, reader_id, reader_role, case_id, list(what), reason),
    )
    return cur.fetchone()["id"]


def service_reader_id(service):
    """The reader id of a service in the log (the column is a uuid): stable, one per service."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mentor-platform:service:{service}")


def record_service_reads(cur, person_ids, service, what, reason):
    """Every person whose ``what`` ``service`` read as itself, one row each (the read's transaction)."""
    for person_id in person_ids:
        record(cur, person_id, str(service_reader_id(service)), SERVICE, "", what, reason)


def entries(cur, author_id, limit, before=None):
    """Up to ``limit`` entries (plus one, to tell a next page), newest first, older than ``before``."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM access_audit WHERE author_id = %s AND (%s::bigint IS NULL OR id < %s) "
        "ORDER BY id DESC LIMIT %s",
        (author_id, before, before, limit + 1),
    )
    return cur.fetchall()


def author_card_reads(cur, author_id):
    """Every read by a person (the case's mentor, a moderator), newest first: the old shape of the
    log knows only those, not the platform's own reads of the address to send an e-mail."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM access_audit WHERE author_id = %s AND reader_role <> %s ORDER BY id DESC",
        (author_id, SERVICE),
    )
    return cur.fetchall()
