"""The forum's conversation: what signed-in people write in a thread, and moderators hiding posts.

A thread opens with impersonal case posts (projected from CasePublishedToForum, scrubbed). What
people then write is their own: stored as written (not scrubbed: the writer chose to say it), sealed
with the writer's key (services/library/sealing.py: "[erased]" once they are erased), with the
author's id kept for moderation only. Readers see the author as a role and a pseudonym
that holds within one thread ("Mentee 2": the second mentee to write there), never a name, an
e-mail or an id - so a conversation can be followed, but a person cannot be traced across
threads. Their own posts are marked ``own``.

A moderator hides a post (a case post or a message) with a reason: it disappears for everyone
else; moderators still see it, marked hidden, with the reason.
"""

import uuid

from contracts.errors import Forbidden, InvalidInput, NotFound
from services.library import sealing
from services.library.projection import FORUM_NAMESPACE

ROLE_LABELS = {"mentee": "Mentee", "mentor": "Mentor", "moderator": "Moderator"}
THREAD_COLUMNS = "t.id::text, t.title, t.rubrics, t.created_at, t.updated_at"
CASE_POST_COLUMNS = (
    "id::text, 'case' AS kind, essence, question, rubrics, urgency, created_at, hidden_at, hidden_reason"
)
MESSAGE_COLUMNS = (
    "id::text, 'message' AS kind, author_id, author_role, text, reply_to::text, created_at, hidden_at, hidden_reason"
)


# ---- pure pieces -----------------------------------------------------------------------------


def pseudonyms(authors):
    """``{author_id: label}`` for ``(author_id, role)`` in order of first writing: numbered per role."""
    labels, per_role = {}, {}
    for author_id, role in authors:
        if author_id not in labels:
            per_role[role] = per_role.get(role, 0) + 1
            labels[author_id] = f"{ROLE_LABELS.get(role, role.title())} {per_role[role]}"
    return labels


def message_id(actor, request_key):
    """One request (one Idempotency-Key of one person) makes at most one message."""
    return uuid.uuid5(FORUM_NAMESPACE, f"message:{actor['user_id']}:{request_key}")


def post_view(post, labels, viewer, moderator):
    """A post as ``viewer`` sees it; None if hidden from them."""
    if post["hidden_at"] is not None and not moderator:
        return None
    view = {k: v for k, v in post.items() if k not in ("author_id", "author_role", "hidden_at", "hidden_reason")}
    view["created_at"] = post["created_at"].isoformat()
    if post["kind"] == "message":
        view["author"] = {
            "role": post["author_role"],
            "label": labels[post["author_id"]],
            "own": post["author_id"] == viewer["user_id"],
        }
    if post["hidden_at"] is not None:
        view["hidden"] = True
        view["hidden_reason"] = post["hidden_reason"]
    return view


def timeline(case_posts, messages):
    """Every post of a thread, oldest first (ties: case posts first, then by id)."""
    return sorted([*case_posts, *messages], key=lambda p: (p["created_at"], p["kind"] != "case", p["id"]))


def _uuid_text(value):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("Reply to a post of this thread.", {"reply_to": ["Not a post id."]}) from None


# ---- running them ----------------------------------------------------------------------------


def _thread(cur, thread_id, lock=False):
    cur.execute(
        f"SELECT {THREAD_COLUMNS} FROM forum_threads t WHERE t.id::text = %s" + (" FOR UPDATE" if lock else ""),
        (str(thread_id),),
    )
    thread = cur.fetchone()
    if thread is None:
        raise NotFound(f"No forum thread {thread_id}.")
    return thread


def _posts(cur, vault, thread_id):
    cur.execute(f"SELECT {CASE_POST_COLUMNS} FROM forum_posts WHERE thread_id = %s::uuid", (thread_id,))
    case_posts = cur.fetchall()
    cur.execute(f"SELECT {MESSAGE_COLUMNS} FROM forum_messages WHERE thread_id = %s::uuid", (thread_id,))
    return timeline(case_posts, vault.open_rows(cur, cur.fetchall()))


def _labels(posts):
    return pseudonyms((p["author_id"], p["author_role"]) for p in posts if p["kind"] == "message")


def thread_view(cur, vault, actor, thread_id):
    thread = _thread(cur, thread_id)
    posts = _posts(cur, vault, thread["id"])
    labels, moderator = _labels(posts), actor["role"] == "moderator"
    views = [post_view(p, labels, actor, moderator) for p in posts]
    return {
        **thread,
        "created_at": thread["created_at"].isoformat(),
        "updated_at": thread["updated_at"].isoformat(),
        "posts": [v for v in views if v is not None],
    }


def add_message(cur, vault, actor, thread_id, text, reply_to, request_key):
    """The new message (or the one this request already made) as its author sees it; its text is stored
    sealed with the writer's key (services/library/sealing.py)."""
    thread = _thread(cur, thread_id, lock=True)  # one writer at a time: labels follow writing order
    posts = _posts(cur, vault, thread["id"])
    if reply_to is not None:
        reply_to = _uuid_text(reply_to)
        moderator = actor["role"] == "moderator"
        if not any(p["id"] == reply_to and (p["hidden_at"] is None or moderator) for p in posts):
            raise InvalidInput("Reply to a post of this thread.", {"reply_to": ["No such post in this thread."]})
    new_id = message_id(actor, request_key)
    cur.execute(
        "INSERT INTO forum_messages (id, thread_id, author_id, author_role, text, reply_to) "
        "VALUES (%s, %s::uuid, %s, %s, %s, %s::uuid) ON CONFLICT (id) DO NOTHING RETURNING id",
        (new_id, thread["id"], actor["user_id"], actor["role"], _sealed(cur, vault, actor, text), reply_to),
    )
    if cur.fetchone() is not None:
        cur.execute("UPDATE forum_threads SET updated_at = now() WHERE id = %s::uuid", (thread["id"],))
    cur.execute(f"SELECT {MESSAGE_COLUMNS}, thread_id::text FROM forum_messages WHERE id = %s", (new_id,))
    message = vault.open_row(cur, cur.fetchone())
    if message["thread_id"] != thread["id"]:  # the same request key was used in another thread
        raise InvalidInput("This Idempotency-Key was used for another post.", {"Idempotency-Key": ["Already used."]})
    labels = _labels([*posts, message])
    return post_view({k: v for k, v in message.items() if k != "thread_id"}, labels, actor, True)


def _sealed(cur, vault, actor, text):
    """The message's text as stored: sealed with its writer's key (an id that names no person: plain)."""
    if not sealing.is_person(actor["user_id"]):
        return text
    return vault.seal(cur, actor["user_id"], {"text": text}, texts=sealing.MESSAGE_TEXTS)["text"]


def hide_post(cur, vault, actor, post_id, reason):
    """Moderators only; idempotent (the first reason stays). Returns the post as moderators see it."""
    if actor["role"] != "moderator":
        raise Forbidden("Only moderators hide forum posts.")
    for table, columns in (("forum_messages", MESSAGE_COLUMNS), ("forum_posts", CASE_POST_COLUMNS)):
        cur.execute(
            f"UPDATE {table} SET hidden_at = coalesce(hidden_at, now()), "
            f"hidden_by = coalesce(hidden_by, %s), hidden_reason = coalesce(hidden_reason, %s) "
            f"WHERE id::text = %s RETURNING {columns}, thread_id::text",
            (actor["user_id"], reason, str(post_id)),
        )
        post = vault.open_row(cur, cur.fetchone())
        if post is not None:
            labels = _labels(_posts(cur, vault, post["thread_id"]))
            return post_view({k: v for k, v in post.items() if k != "thread_id"}, labels, actor, True)
    raise NotFound(f"No forum post {post_id}.")
