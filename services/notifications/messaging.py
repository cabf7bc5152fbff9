"""Direct messages between mentors (and moderators).

A mentee has no direct messages: mentee and mentor talk on a personal-mode case
(``POST /api/v1/cases/<id>/messages``, the cases service), where the case's mode decides
whether the mentor may know who the author is. Here both ends must be mentors or moderators:
the sender's role comes from the actor, the recipient's from identity.

A message's text is stored sealed with the sender's key (services/notifications/sealing.py): the views
open a page's texts at once, and the sender's erasure makes them read "[erased]" for the recipient too.
"""

import uuid

from contracts.errors import Forbidden, InvalidInput

MESSAGING_ROLES = ("mentor", "moderator")
NAMESPACE = uuid.UUID("6f1d3c52-9a57-4a57-8d0e-2f4f5a0b7c11")
MENTEES_REFUSED = (
    "Direct messages are between mentors and moderators; a mentee talks with the mentor on a personal-mode case."
)
NOT_A_COLLEAGUE = "Direct messages go to mentors and moderators only."
NOTIFICATION_TEXT = "A colleague sent you a direct message."


def authorize(actor):
    if actor["role"] not in MESSAGING_ROLES:
        raise Forbidden(MENTEES_REFUSED)


def check_recipient(actor, recipient_id, recipient_role):
    """``recipient_role`` is None when there is no such user."""
    if recipient_id == actor["user_id"]:
        raise InvalidInput("You cannot write to yourself.", {"recipient_id": ["Choose another recipient."]})
    if recipient_role is None:
        raise InvalidInput("No such user.", {"recipient_id": ["No such user."]})
    if recipient_role not in MESSAGING_ROLES:
        raise Forbidden(NOT_A_COLLEAGUE, {"recipient_id": [NOT_A_COLLEAGUE]})


def message_id(sender_id, request_key):
    """The same request (a client's retry with the same Idempotency-Key) is one message."""
    if not request_key:
        return uuid.uuid4()
    return uuid.uuid5(NAMESPACE, f"{sender_id}:{request_key}")


def peer_argument(peer_id):
    if not isinstance(peer_id, str) or not peer_id.strip() or len(peer_id) > 64:
        raise InvalidInput("The user id is missing.", {"user_id": ["Expected a user id."]})
    return peer_id.strip()


def message_view(row):
    return {
        "id": str(row["id"]),
        "sender_id": row["sender_id"],
        "recipient_id": row["recipient_id"],
        "text": row["text"],
        "sent_at": row["created_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
    }


# ---- storage -------------------------------------------------------------------------------

_COLUMNS = "id, sender_id, recipient_id, text, created_at, read_at"


def insert(cur, vault, message_uuid, sender_id, recipient_id, text):
    """The stored message (its text opened), and whether this call stored it (False for a repeated
    request). The text is sealed with the sender's key."""
    sealed = vault.seal(cur, sender_id, {"text": text}, ("text",))["text"]
    cur.execute(
        f"INSERT INTO direct_messages (id, sender_id, recipient_id, text) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT (id) DO NOTHING RETURNING {_COLUMNS}",
        (message_uuid, sender_id, recipient_id, sealed),
    )
    row = cur.fetchone()
    if row is not None:
        return vault.open_row(cur, row), True
    cur.execute(f"SELECT {_COLUMNS} FROM direct_messages WHERE id = %s", (message_uuid,))
    return vault.open_row(cur, cur.fetchone()), False


def conversations(cur, vault, user_id, limit=200):
    """One line per peer: the last message and how many of theirs are unread, newest first."""
    cur.execute(
        f"""
        WITH mine AS (
            SELECT {_COLUMNS}, CASE WHEN sender_id = %(me)s THEN recipient_id ELSE sender_id END AS peer_id
            FROM direct_messages WHERE sender_id = %(me)s OR recipient_id = %(me)s),
        last AS (
            SELECT DISTINCT ON (peer_id) * FROM mine ORDER BY peer_id, created_at DESC, id DESC),
        unread AS (
            SELECT peer_id, count(*) AS n FROM mine WHERE recipient_id = %(me)s AND read_at IS NULL
            GROUP BY peer_id)
        SELECT last.*, coalesce(unread.n, 0) AS unread_count
        FROM last LEFT JOIN unread USING (peer_id)
        ORDER BY last.created_at DESC, last.id DESC LIMIT %(limit)s""",
        {"me": user_id, "limit": limit},
    )
    return [
        {"peer_id": row["peer_id"], "last_message": message_view(row), "unread_count": row["unread_count"]}
        for row in vault.open_rows(cur, cur.fetchall())
    ]


def thread(cur, vault, user_id, peer_id, limit, before=None):
    """The messages between the two, newest first; opening it reads the peer's messages."""
    params = {"me": user_id, "peer": peer_id, "limit": limit + 1}
    bound = ""
    if before:
        try:
            params["before"] = uuid.UUID(str(before))
        except ValueError:
            raise InvalidInput("Not a message id.", {"before": ["Not a message id."]}) from None
        cur.execute(
            "SELECT created_at FROM direct_messages WHERE id = %(before)s AND "
            "((sender_id = %(me)s AND recipient_id = %(peer)s) OR "
            "(sender_id = %(peer)s AND recipient_id = %(me)s))",
            params,
        )
        found = cur.fetchone()
        if found is None:
            raise InvalidInput("No such message in this conversation.", {"before": ["No such message here."]})
        params["at"] = found["created_at"]
        bound = " AND (created_at, id) < (%(at)s, %(before)s)"
    cur.execute(
        "UPDATE direct_messages SET read_at = now() WHERE sender_id = %(peer)s AND recipient_id = %(me)s "
        "AND read_at IS NULL",
        params,
    )
    cur.execute(
        f"SELECT {_COLUMNS} FROM direct_messages WHERE ((sender_id = %(me)s AND recipient_id = %(peer)s) "
        f"OR (sender_id = %(peer)s AND recipient_id = %(me)s)){bound} "
        f"ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    rows = cur.fetchall()
    items = [message_view(r) for r in vault.open_rows(cur, rows[:limit])]
    return {"peer_id": peer_id, "items": items, "next_before": items[-1]["id"] if len(rows) > limit else None}
