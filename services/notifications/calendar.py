"""The events calendar: anyone signed in adds an online event (with a link) or announces an
offline one (with a place); others mark "I'll attend"; the author edits or cancels.

The rules are pure functions of the event and ``now`` (unit-tested); storage is below them.
A change of time, place or link, and a cancellation, tell the attendees (their inbox).

The texts a person wrote (title, description, link, place; the cancellation's reason) are stored sealed
with the writer's key (services/notifications/sealing.py): storage takes the vault, seals what it writes
and opens what it reads, so the rules above see plain events; an erased author's read "[erased]". The
attendees' inbox entries (and e-mails) name no such text: they say what happened and when.
"""

import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.notifications.sealing import CANCELLATION_TEXTS, EVENT_TEXTS

NAMESPACE = uuid.UUID("0b7f8a52-3c1e-4f0e-9a0c-1d6e2b9f4a33")
EDITABLE = ("title", "description", "format", "starts_at", "ends_at", "link", "place", "rubrics")
NOTIFIED_CHANGES = ("starts_at", "ends_at", "link", "place", "format")
SCHEDULED, CANCELLED = "scheduled", "cancelled"


def _text(value):
    return (value or "").strip()


def normalize(form):
    """A validated form (or a merged patch) with blanks dropped and defaults filled in."""
    event = {
        "title": _text(form.get("title")),
        "description": _text(form.get("description")),
        "format": form.get("format"),
        "starts_at": form.get("starts_at"),
        "ends_at": form.get("ends_at"),
        "link": _text(form.get("link")) or None,
        "place": _text(form.get("place")) or None,
        "rubrics": list(dict.fromkeys(form.get("rubrics") or ())),
    }
    if event["format"] == "online":
        event["place"] = None  # an online event has no place to go to
    return event


def is_web_link(value):
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def field_errors(event, now, previous=None):
    """{field: [message]} of a new event, or of ``previous`` edited into ``event``."""
    errors = {}
    if not event["title"]:
        errors["title"] = ["Must not be blank."]
    if event["format"] == "online" and not event["link"]:
        errors["link"] = ["An online event needs a link."]
    elif event["link"] and not is_web_link(event["link"]):
        errors["link"] = ["Must be an http(s) URL."]
    if event["format"] == "offline" and not event["place"]:
        errors["place"] = ["An offline event needs a place."]
    moved = previous is None or event["starts_at"] != previous["starts_at"]
    if moved and event["starts_at"] <= now:
        errors["starts_at"] = ["Must be in the future."]
    if event["ends_at"] is not None and event["ends_at"] <= event["starts_at"]:
        errors["ends_at"] = ["Must be after starts_at."]
    return errors


def validated(event, now, previous=None):
    errors = field_errors(event, now, previous)
    if errors:
        raise InvalidInput("The event has invalid fields.", errors)
    return event


def merge(current, patch):
    """The stored event with the patch's fields over it (a null clears ends_at, link or place)."""
    return normalize({**{k: current[k] for k in EDITABLE}, **{k: v for k, v in patch.items() if k in EDITABLE}})


def changed_for_attendees(before, after):
    return any(before[k] != after[k] for k in NOTIFIED_CHANGES)


def ends(event):
    return event["ends_at"] or event["starts_at"]


def authorize_edit(actor, event, now):
    if event["author_id"] != actor["user_id"]:
        raise Forbidden("Only the author edits an event.")
    if event["status"] == CANCELLED:
        raise Conflict("The event was cancelled.", details={"status": CANCELLED})
    if event["starts_at"] <= now:
        raise Conflict("The event has already started.", details={"status": event["status"]})


def authorize_cancel(actor, event, now):
    """The author, or a moderator (who curates the calendar); a past event stays as it was."""
    if event["author_id"] != actor["user_id"] and actor["role"] != "moderator":
        raise Forbidden("Only the author or a moderator cancels an event.")
    if event["status"] == SCHEDULED and ends(event) <= now:
        raise Conflict("The event is over.", details={"status": event["status"]})


def authorize_attend(event, now):
    if event["status"] == CANCELLED:
        raise Conflict("The event was cancelled.", details={"status": CANCELLED})
    if ends(event) <= now:
        raise Conflict("The event is over.", details={"status": event["status"]})


def time_range(query, now):
    """(from, to): events not over by ``from`` and starting before ``to`` (None: no end)."""
    start = query.get("starts_from") or now
    end = query.get("until")
    if end is not None and end <= start:
        raise InvalidInput("The date range is empty.", {"to": ["Must be after from."]})
    return start, end


def when(event):
    return event["starts_at"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def change_text(event):
    """No title: the inbox is not sealed, and the entry links to the event (calendar_event_id)."""
    return f"An event you attend changed: it is now on {when(event)}; see the details."


def cancellation_text(event):
    return f"An event you attend on {when(event)} was cancelled."


def event_id(author_id, request_key):
    """A repeated create request (same Idempotency-Key) is one event."""
    return uuid.uuid5(NAMESPACE, f"{author_id}:{request_key}") if request_key else uuid.uuid4()


def parse_event_id(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No event {value}.") from None


def event_view(row):
    iso = lambda v: v.isoformat() if isinstance(v, datetime) else v  # noqa: E731
    return {
        "id": str(row["id"]),
        "author_id": row["author_id"],
        "title": row["title"],
        "description": row["description"],
        "format": row["format"],
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(row["ends_at"]),
        "link": row["link"],
        "place": row["place"],
        "rubrics": list(row["rubrics"]),
        "status": row["status"],
        "cancel_reason": row["cancel_reason"],
        "attendees_count": row["attendees_count"],
        "attending": row["attending"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


# ---- storage -------------------------------------------------------------------------------

_SELECT = """
SELECT e.*, (SELECT count(*) FROM calendar_attendance a WHERE a.event_id = e.id) AS attendees_count,
       EXISTS (SELECT 1 FROM calendar_attendance a WHERE a.event_id = e.id AND a.user_id = %(viewer)s) AS attending
FROM calendar_events e
"""


def load(cur, vault, event_uuid, viewer_id, lock=False):
    """The event, its texts opened."""
    cur.execute(
        f"{_SELECT} WHERE e.id = %(id)s" + (" FOR UPDATE OF e" if lock else ""), {"id": event_uuid, "viewer": viewer_id}
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"No event {event_uuid}.")
    return vault.open_row(cur, row)


def insert(cur, vault, event_uuid, author_id, event):
    """False when this id exists already (a repeated request). The texts are sealed with the author's key."""
    event = vault.seal(cur, author_id, event, EVENT_TEXTS)
    cur.execute(
        "INSERT INTO calendar_events (id, author_id, title, description, format, starts_at, ends_at, "
        "link, place, rubrics) VALUES (%(id)s, %(author_id)s, %(title)s, %(description)s, %(format)s, "
        "%(starts_at)s, %(ends_at)s, %(link)s, %(place)s, %(rubrics)s) ON CONFLICT (id) DO NOTHING",
        {**event, "id": event_uuid, "author_id": author_id},
    )
    return cur.rowcount == 1


def update(cur, vault, event_uuid, author_id, event):
    event = vault.seal(cur, author_id, event, EVENT_TEXTS)
    cur.execute(
        "UPDATE calendar_events SET title = %(title)s, description = %(description)s, format = %(format)s, "
        "starts_at = %(starts_at)s, ends_at = %(ends_at)s, link = %(link)s, place = %(place)s, "
        "rubrics = %(rubrics)s, updated_at = now() WHERE id = %(id)s",
        {**event, "id": event_uuid},
    )


def cancel(cur, vault, event_uuid, canceller_id, reason):
    """The reason is sealed with the key of whoever wrote it (the author, or a moderator)."""
    sealed = vault.seal(cur, canceller_id, {"cancel_reason": reason or None}, CANCELLATION_TEXTS)
    cur.execute(
        "UPDATE calendar_events SET status = 'cancelled', cancel_reason = %s, cancelled_at = now(), "
        "updated_at = now() WHERE id = %s AND status = 'scheduled'",
        (sealed["cancel_reason"], event_uuid),
    )
    return cur.rowcount == 1


def attendees(cur, event_uuid):
    cur.execute("SELECT user_id FROM calendar_attendance WHERE event_id = %s ORDER BY created_at", (event_uuid,))
    return [row["user_id"] for row in cur.fetchall()]


def attend(cur, event_uuid, user_id):
    cur.execute(
        "INSERT INTO calendar_attendance (event_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (event_uuid, user_id),
    )


def unattend(cur, event_uuid, user_id):
    cur.execute("DELETE FROM calendar_attendance WHERE event_id = %s AND user_id = %s", (event_uuid, user_id))


def listing(cur, vault, viewer_id, start, end, rubric=None, include_cancelled=False, limit=100):
    """Events overlapping [start, end), soonest first, their texts opened (one lookup of keys a page)."""
    where = ["coalesce(e.ends_at, e.starts_at) >= %(start)s"]
    params = {"viewer": viewer_id, "start": start, "end": end, "rubric": rubric, "limit": limit}
    if end is not None:
        where.append("e.starts_at < %(end)s")
    if rubric:
        where.append("%(rubric)s = ANY(e.rubrics)")
    if not include_cancelled:
        where.append("e.status = 'scheduled'")
    cur.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY e.starts_at, e.id LIMIT %(limit)s", params)
    return vault.open_rows(cur, cur.fetchall())
