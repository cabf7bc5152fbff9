"""The inbox: one entry per person whose turn it is, and the e-mail that goes with it.

``deliver`` writes the entry and, when the recipient wants that kind by e-mail, its row of the
e-mail outbox in the caller's transaction: both or neither. Entries addressed to MODERATORS
are listed by every moderator, whose own read state lives in ``inbox_reads``.
"""

import uuid

from contracts.errors import InvalidInput, NotFound
from services.common import metrics
from services.notifications import preferences
from services.notifications.messages import MODERATORS

_VIEW = """
SELECT i.id::text AS id, i.kind, i.case_id, i.case_number, i.peer_id, i.calendar_event_id, i.news_item_id, i.text,
       i.created_at,
       CASE WHEN i.user_id = %(me)s THEN i.read_at ELSE r.read_at END AS read_at,
       CASE WHEN i.user_id = %(me)s THEN 'personal' ELSE 'moderators' END AS audience
FROM inbox i LEFT JOIN inbox_reads r ON r.entry_id = i.id AND r.user_id = %(me)s
"""
_UNREAD = "(CASE WHEN i.user_id = %(me)s THEN i.read_at ELSE r.read_at END) IS NULL"


def recipients_of(actor):
    """Whose entries the actor reads: their own, and a moderator the moderators' too."""
    return [actor["user_id"], MODERATORS] if actor["role"] == "moderator" else [actor["user_id"]]


def entry_view(row):
    return {
        **row,
        "created_at": row["created_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
    }


def deliver(
    cur,
    recipient,
    kind,
    text,
    source_event_id,
    case_id=None,
    case_number=None,
    peer_id=None,
    calendar_event_id=None,
    news_item_id=None,
):
    """The inbox entry, and its e-mail if wanted; False when this event already told this recipient."""
    cur.execute(
        "INSERT INTO inbox (user_id, kind, case_id, case_number, peer_id, calendar_event_id, news_item_id, "
        "text, source_event_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (source_event_id, user_id) DO NOTHING RETURNING id",
        (recipient, kind, case_id, case_number, peer_id, calendar_event_id, news_item_id, text, source_event_id),
    )
    if cur.fetchone() is None:
        return False
    # the moderators' preferences are applied when the e-mail is fanned out to each of them
    if recipient == MODERATORS or preferences.wants_email(cur, recipient, kind):
        cur.execute(
            "INSERT INTO email_outbox (source_event_id, recipient, kind, text) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (source_event_id, recipient) DO NOTHING",
            (source_event_id, recipient, kind, text),
        )
        metrics.email_outcome("queued", cur.rowcount)
    return True


def _entry_id(value, field):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("The inbox entry id is not valid.", {field: ["Not an inbox entry id."]}) from None


def _cursor(cur, actor, entry_id, field):
    """(created_at, id) of one of the actor's entries, to page or mark from."""
    cur.execute(
        "SELECT created_at, id FROM inbox WHERE id = %s AND user_id = ANY(%s)",
        (_entry_id(entry_id, field), recipients_of(actor)),
    )
    row = cur.fetchone()
    if row is None:
        raise InvalidInput("No such inbox entry.", {field: ["No such entry in your inbox."]})
    return row["created_at"], row["id"]


def unread_count(cur, actor):
    cur.execute(
        f"SELECT count(*) AS n FROM inbox i LEFT JOIN inbox_reads r ON r.entry_id = i.id "
        f"AND r.user_id = %(me)s WHERE i.user_id = ANY(%(recipients)s) AND {_UNREAD}",
        {"me": actor["user_id"], "recipients": recipients_of(actor)},
    )
    return cur.fetchone()["n"]


def page(cur, actor, limit, before=None, unread_only=False):
    """Newest first; ``before`` is the last entry of the previous page."""
    params = {"me": actor["user_id"], "recipients": recipients_of(actor), "limit": limit + 1}
    where = ["i.user_id = ANY(%(recipients)s)"]
    if before:
        params["at"], params["id"] = _cursor(cur, actor, before, "before")
        where.append("(i.created_at, i.id) < (%(at)s, %(id)s)")
    if unread_only:
        where.append(_UNREAD)
    cur.execute(f"{_VIEW} WHERE {' AND '.join(where)} ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s", params)
    rows = cur.fetchall()
    items = [entry_view(r) for r in rows[:limit]]
    return {
        "items": items,
        "unread_count": unread_count(cur, actor),
        "next_before": items[-1]["id"] if len(rows) > limit else None,
    }


def mark_read(cur, actor, entry_id):
    try:  # a path value that is no entry id names no entry of anyone's: 404, as an unknown one
        entry = str(uuid.UUID(str(entry_id)))
    except ValueError:
        raise NotFound(f"No inbox entry {entry_id}.") from None
    cur.execute("SELECT user_id FROM inbox WHERE id = %s AND user_id = ANY(%s)", (entry, recipients_of(actor)))
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"No inbox entry {entry_id}.")
    if row["user_id"] == MODERATORS:
        cur.execute(
            "INSERT INTO inbox_reads (entry_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (entry, actor["user_id"]),
        )
    else:
        cur.execute("UPDATE inbox SET read_at = coalesce(read_at, now()) WHERE id = %s", (entry,))
    cur.execute(f"{_VIEW} WHERE i.id = %(id)s", {"me": actor["user_id"], "id": entry})
    return entry_view(cur.fetchone())


def mark_all_read(cur, actor, up_to=None):
    """Mark every unread entry (up to and including ``up_to``, the newest the reader saw) read."""
    params = {"me": actor["user_id"], "moderators": MODERATORS}
    bound = ""
    if up_to:
        params["at"], params["id"] = _cursor(cur, actor, up_to, "up_to")
        bound = " AND (created_at, id) <= (%(at)s, %(id)s)"
    cur.execute(f"UPDATE inbox SET read_at = now() WHERE user_id = %(me)s AND read_at IS NULL{bound}", params)
    marked = cur.rowcount
    if actor["role"] == "moderator":
        cur.execute(
            f"INSERT INTO inbox_reads (entry_id, user_id) SELECT id, %(me)s FROM inbox "
            f"WHERE user_id = %(moderators)s{bound} ON CONFLICT DO NOTHING",
            params,
        )
        marked += cur.rowcount
    return {"marked": marked, "unread": unread_count(cur, actor)}


def mark_peer_messages_read(cur, user_id, peer_id):
    """Opening a conversation reads the inbox entries of its messages."""
    cur.execute(
        "UPDATE inbox SET read_at = now() WHERE user_id = %s AND kind = 'direct_message' "
        "AND peer_id = %s AND read_at IS NULL",
        (user_id, peer_id),
    )
