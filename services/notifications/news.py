"""News items (the information portal): moderators publish, everyone reads, subscribers are told.

Why here, in notifications: it already owns the inbox, the e-mail outbox and the preferences, and the
calendar's online meetings; an item's notification is an inbox entry (and e-mail) written in the same
transaction that marks the item notified, so nothing crosses the broker and nobody is told twice.

- An item is *scheduled* until its ``publish_at``, then *published*; a moderator may *withdraw* it
  (from then on the public gets 404 for it and it leaves the list; moderators still see it, with the
  reason). Only moderators see scheduled and withdrawn items.
- Every create, edit and withdrawal appends a row to ``news_versions``: the item's history, kept whole.
- Delivery (``due_for_delivery`` + ``deliver``, run by the service's timer): a published item not yet
  notified is sent to each subscriber whose rubrics of interest meet the item's (or who chose none,
  or when the item has none) with the inbox's own dedupe (source = the item id, one entry per person),
  and marked notified in the same transaction. A withdrawn item is never sent; a scheduled one only
  once its time has come. The item row is locked (``FOR UPDATE``) by edits, withdrawals and the
  delivery alike, so a withdrawal and a delivery never interleave.

Rules are pure functions of the item and ``now`` (unit-tested); storage is below them.
"""

import uuid
from datetime import datetime, timedelta

from contracts.errors import Conflict, InvalidInput, NotFound
from services.common import paging
from services.notifications import inbox
from services.notifications.calendar import is_web_link

NAMESPACE = uuid.UUID("5d0f4b8e-1f0a-4c55-8a53-2b1f7e5a9c61")
KIND = "news_published"  # the inbox entry's kind (contracts/notification_kinds.py), its e-mail switch too
EDITABLE = ("title", "text", "rubrics", "meeting_link", "publish_at")
SCHEDULED, PUBLISHED, WITHDRAWN = "scheduled", "published", "withdrawn"
PAST_TOLERANCE = timedelta(minutes=1)  # "now" from a form filled a moment ago, or a clock slightly behind
DELIVERY_BATCH = 20  # items one delivery round locks at once


# ---- rules ----------------------------------------------------------------------------------


def normalize(form):
    """A loaded form (or merged patch) with text trimmed and a blank link dropped."""
    return {
        "title": (form.get("title") or "").strip(),
        "text": (form.get("text") or "").strip(),
        "rubrics": list(form.get("rubrics") or ()),
        "meeting_link": (form.get("meeting_link") or "").strip() or None,
        "publish_at": form.get("publish_at"),
    }


def state_of(item, now):
    if item["status"] == WITHDRAWN:
        return WITHDRAWN
    return SCHEDULED if item["publish_at"] > now else PUBLISHED


def field_errors(item, now, previous=None):
    """{field: [message]} of a new item, or of ``previous`` edited into ``item``."""
    errors = {}
    if item["meeting_link"] and not is_web_link(item["meeting_link"]):
        errors["meeting_link"] = ["Must be an http(s) URL."]
    moved = previous is None or item["publish_at"] != previous["publish_at"]
    if moved and previous is not None and state_of(previous, now) != SCHEDULED:
        errors["publish_at"] = ["The item is already published: its publication time stays."]
    elif moved and item["publish_at"] is not None and item["publish_at"] < now - PAST_TOLERANCE:
        errors["publish_at"] = ["Must be now or later."]
    return errors


def validated(item, now, previous=None):
    """The item to store (a publication time of "now" or a moment ago is stored as ``now``), or
    InvalidInput naming each bad field."""
    errors = field_errors(item, now, previous)
    if errors:
        raise InvalidInput("The news item has invalid fields.", errors)
    if item["publish_at"] is None or item["publish_at"] < now:
        item = {
            **item,
            "publish_at": now
            if previous is None or item["publish_at"] != previous["publish_at"]
            else previous["publish_at"],
        }
    return item


def merge(current, patch):
    """The stored item with the patch's fields over it (a null clears the link; a null publication time
    means now)."""
    merged = {**{k: current[k] for k in EDITABLE}, **{k: v for k, v in patch.items() if k in EDITABLE}}
    return normalize(merged)


def changed(before, after):
    return any(before[k] != after[k] for k in EDITABLE)


def authorize_change(item):
    if item["status"] == WITHDRAWN:
        raise Conflict("The news item was withdrawn: it can no longer change.", details={"state": WITHDRAWN})


def visible_to(item, actor, now):
    """The public (and everyone but moderators) sees published items only."""
    return (actor or {}).get("role") == "moderator" or state_of(item, now) == PUBLISHED


def wants(subscription_rubrics, item_rubrics):
    """Whether a subscriber of these rubrics of interest gets an item of these rubrics: an item for
    every rubric (none named), a subscriber of every rubric (none chosen), or one rubric in common."""
    return not item_rubrics or not subscription_rubrics or bool(set(item_rubrics) & set(subscription_rubrics))


def notification_text(item):
    return f'News: "{item["title"]}". Read it in the news section.'


def item_id(author_id, request_key):
    """A repeated create request (same Idempotency-Key) is one item."""
    return uuid.uuid5(NAMESPACE, f"{author_id}:{request_key}") if request_key else uuid.uuid4()


def parse_item_id(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No news item {value}.") from None


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def item_view(row, now, moderator=False):
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "text": row["text"],
        "rubrics": list(row["rubrics"]),
        "meeting_link": row["meeting_link"],
        "publish_at": _iso(row["publish_at"]),
        "state": state_of(row, now),
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "withdrawn_at": _iso(row["withdrawn_at"]),
        "withdraw_reason": row["withdraw_reason"] if moderator else None,
    }


def version_view(row):
    return {
        "version": row["version"],
        "change": row["change"],
        "title": row["title"],
        "text": row["text"],
        "rubrics": list(row["rubrics"]),
        "meeting_link": row["meeting_link"],
        "publish_at": _iso(row["publish_at"]),
        "reason": row["reason"],
        "editor_id": row["editor_id"],
        "recorded_at": _iso(row["recorded_at"]),
    }


# ---- storage --------------------------------------------------------------------------------


def load(cur, item_uuid, lock=False):
    cur.execute("SELECT * FROM news_items WHERE id = %s" + (" FOR UPDATE" if lock else ""), (item_uuid,))
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"No news item {item_uuid}.")
    return row


def _record_version(cur, item_uuid, version, change, item, editor_id, reason=None):
    cur.execute(
        "INSERT INTO news_versions (item_id, version, change, title, text, rubrics, meeting_link, "
        "publish_at, reason, editor_id) VALUES (%(id)s, %(version)s, %(change)s, %(title)s, %(text)s, "
        "%(rubrics)s, %(meeting_link)s, %(publish_at)s, %(reason)s, %(editor)s)",
        {**item, "id": item_uuid, "version": version, "change": change, "reason": reason, "editor": editor_id},
    )


def insert(cur, item_uuid, author_id, item):
    """False when this id exists already (a repeated request): nothing is written."""
    cur.execute(
        "INSERT INTO news_items (id, title, text, rubrics, meeting_link, publish_at, created_by) "
        "VALUES (%(id)s, %(title)s, %(text)s, %(rubrics)s, %(meeting_link)s, %(publish_at)s, %(author)s) "
        "ON CONFLICT (id) DO NOTHING",
        {**item, "id": item_uuid, "author": author_id},
    )
    if cur.rowcount != 1:
        return False
    _record_version(cur, item_uuid, 1, "created", item, author_id)
    return True


def update(cur, current, item, editor_id):
    version = current["version"] + 1
    cur.execute(
        "UPDATE news_items SET title = %(title)s, text = %(text)s, rubrics = %(rubrics)s, "
        "meeting_link = %(meeting_link)s, publish_at = %(publish_at)s, version = %(version)s, "
        "updated_at = now() WHERE id = %(id)s",
        {**item, "id": current["id"], "version": version},
    )
    _record_version(cur, current["id"], version, "edited", item, editor_id)


def withdraw(cur, current, reason, editor_id):
    version = current["version"] + 1
    cur.execute(
        "UPDATE news_items SET status = 'withdrawn', withdrawn_at = now(), withdraw_reason = %s, "
        "version = %s, updated_at = now() WHERE id = %s",
        (reason, version, current["id"]),
    )
    _record_version(cur, current["id"], version, "withdrawn", {k: current[k] for k in EDITABLE}, editor_id, reason)


def versions(cur, item_uuid):
    cur.execute("SELECT * FROM news_versions WHERE item_id = %s ORDER BY version", (item_uuid,))
    return cur.fetchall()


def page(cur, now, limit, cursor=None, rubric=None, state=None):
    """A page newest publication first; ``state`` one of STATES (the public list: PUBLISHED)."""
    where, params = [], {"now": now, "rubric": rubric, "limit": limit + 1}
    if state == WITHDRAWN:
        where.append("status = 'withdrawn'")
    elif state == SCHEDULED:
        where.append("status = 'active' AND publish_at > %(now)s")
    elif state == PUBLISHED:
        where.append("status = 'active' AND publish_at <= %(now)s")
    if rubric:
        where.append("%(rubric)s = ANY(rubrics)")
    if cursor:
        params["at"], params["after"] = paging.decode_cursor(cursor)
        where.append("(publish_at, id) < (%(at)s, %(after)s)")
    cur.execute(
        f"SELECT * FROM news_items {'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY publish_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    rows = cur.fetchall()
    last = rows[limit - 1] if len(rows) > limit else None
    return rows[:limit], (paging.encode_cursor(last["publish_at"], last["id"]) if last else None)


# ---- subscriptions and delivery ----------------------------------------------------------------


def subscription(cur, user_id):
    cur.execute("SELECT subscribed, rubrics FROM news_subscriptions WHERE user_id = %s", (user_id,))
    row = cur.fetchone()
    return (
        {"subscribed": row["subscribed"], "rubrics": list(row["rubrics"])}
        if row
        else {"subscribed": False, "rubrics": []}
    )


def save_subscription(cur, user_id, choice):
    cur.execute(
        "INSERT INTO news_subscriptions (user_id, subscribed, rubrics) VALUES (%s, %s, %s) "
        "ON CONFLICT (user_id) DO UPDATE SET subscribed = EXCLUDED.subscribed, rubrics = EXCLUDED.rubrics, "
        "updated_at = now()",
        (user_id, choice["subscribed"], list(dict.fromkeys(choice["rubrics"]))),
    )


def due_for_delivery(cur, limit=DELIVERY_BATCH):
    """Published, active items nobody was told of yet, locked for this round (another process skips them)."""
    cur.execute(
        "SELECT * FROM news_items WHERE status = 'active' AND notified_at IS NULL AND publish_at <= now() "
        "ORDER BY publish_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    )
    return cur.fetchall()


def subscribers_for(cur, item):
    """Who gets this item (``wants``), in a stable order."""
    cur.execute("SELECT user_id, rubrics FROM news_subscriptions WHERE subscribed ORDER BY user_id")
    return [row["user_id"] for row in cur.fetchall() if wants(row["rubrics"], item["rubrics"])]


def deliver(cur, item):
    """Tell the item's subscribers (inbox and, by their preference, e-mail), once each, and mark it
    notified; returns how many entries were new."""
    told = sum(
        inbox.deliver(cur, user_id, KIND, notification_text(item), item["id"], news_item_id=str(item["id"]))
        for user_id in subscribers_for(cur, item)
    )
    cur.execute("UPDATE news_items SET notified_at = now() WHERE id = %s", (item["id"],))
    return told
