"""Nothing is published before a moderator has read it: drafts, their review and the decisions.

A consenting completion or a case posted to the forum becomes a draft (services/library/projection.py):
the author's original beside the impersonal text the anonymizer made. With ``LIBRARY_REVIEW=moderator``
(the default) the draft waits: moderators get an inbox entry (``PublicationDrafted``, consumed by
notifications), open it beside the original with every replaced span and every token that still looks
personal marked (services/library/highlight.py), edit its texts, and publish it or reject it with a
reason. With ``automatic`` a draft is published as the anonymizer left it, at once. The author previews
their drafts and may withdraw consent (a ``PublicationConsentWithdrawn`` from cases) until - and after -
publication.

The author's texts are sealed at rest with their key (services/library/sealing.py): every reader here
opens them; an erased author's waiting drafts are withdrawn (``withdraw_erased``) and read "[erased]".

Every decision is a ``PublicationDecided`` event in the library's outbox, in the same transaction as
its effect: the library's own log, published to ``library.events`` and replayed by ``mentor-research
rebuild library`` after the cases log, so a rebuilt library has exactly what was published.
"""

import copy

from nameko.extensions import DependencyProvider
from psycopg2.extras import Json

from contracts import vocabulary as v
from contracts.errors import Conflict, InvalidInput, NotFound
from contracts.events import PayloadBreaksContract, load_outgoing
from services.common import outbox
from services.library import highlight, projection, sealing

SOURCE = "library"
MODERATOR, AUTOMATIC = v.LIBRARY_REVIEW_MODES
DEFAULT_MODE = MODERATOR
LIST_LIMIT = 200

DRAFT_COLUMNS = (
    "id::text, kind, source_event_id::text, case_id, author_id, rubrics, original, draft, state, "
    "reason, decided_by, decided_at, edited_at, created_at"
)


def review_mode(config):
    """``LIBRARY_REVIEW`` of the service's config: moderator (the default) or automatic; anything else
    refuses to start the service, so a typo never quietly publishes unread text."""
    value = str(config.get("LIBRARY_REVIEW") or DEFAULT_MODE).strip().lower()
    if value not in v.LIBRARY_REVIEW_MODES:
        raise ValueError(f"LIBRARY_REVIEW must be one of {', '.join(v.LIBRARY_REVIEW_MODES)}, not {value[:40]!r}")
    return value


class ReviewMode(DependencyProvider):
    """The service's LIBRARY_REVIEW, checked when the service starts (a bad value: it does not start)."""

    def setup(self):
        self.mode = review_mode(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.mode


# ---- the texts of a draft, by path ------------------------------------------------------------


def text_paths(kind, content):
    """``[(path, text)]`` of every free text of a draft's content, in reading order: the fields a
    moderator reads and may edit ("essence", "solutions.0.text", "clarifications.1.answer" ...)."""
    if kind == "forum_post":
        return [(f, content.get(f) or "") for f in ("title", "essence", "question")]
    found = [(f, content.get(f) or "") for f in ("essence", "actions_taken", "difficulty", "question")]
    for i, c in enumerate(content.get("clarifications") or []):
        found.append((f"clarifications.{i}.question", c.get("question") or ""))
        if c.get("answer") is not None:
            found.append((f"clarifications.{i}.answer", c["answer"]))
    for i, s in enumerate(content.get("solutions") or []):
        found.append((f"solutions.{i}.text", s.get("text") or ""))
        for j, m in enumerate(s.get("materials") or []):
            found.append((f"solutions.{i}.materials.{j}.title", m.get("title") or ""))
            found.append((f"solutions.{i}.materials.{j}.reference", m.get("reference") or ""))
    return found


def _at(content, path):
    node = content
    for part in path.split("."):
        if isinstance(node, list):
            index = int(part) if part.isdigit() else len(node)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    return node


def with_texts(kind, content, texts):
    """A copy of ``content`` with the given texts at their paths (pure); InvalidInput naming each path
    that is not a text of this draft."""
    known = {path for path, _ in text_paths(kind, content)}
    unknown = sorted(set(texts) - known)
    if unknown:
        raise InvalidInput(
            "The draft has no such texts.", {f"texts.{p}": ["Not a text of this draft."] for p in unknown}
        )
    edited = copy.deepcopy(content)
    for path, text in texts.items():
        *parents, last = path.split(".")
        node = edited
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = text
    return edited


# ---- views ------------------------------------------------------------------------------------


def _time(value):
    return value.isoformat() if value is not None else None


def summary(row):
    """A draft in a list: no text but the start of the question (the title of a forum post)."""
    first = (row["draft"].get("title") if row["kind"] == "forum_post" else None) or row["draft"].get("question") or ""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": row["state"],
        "rubrics": row["rubrics"],
        "headline": first[:120],
        "created_at": _time(row["created_at"]),
        "decided_at": _time(row["decided_at"]),
        "case_id": row["case_id"],
    }


def view(row, moderator):
    """The draft with every text marked: for a moderator beside the original (kept while it waits) with
    the spans the anonymizer replaced; for the author, the impersonal text they would publish."""
    original = row["original"] or {}
    texts = []
    for path, text in text_paths(row["kind"], row["draft"]):
        item = {"path": path, "draft": text, "draft_marks": highlight.draft_marks(text)}
        if moderator and row["state"] == "pending":
            before = _at(original, path)
            item["original"] = before if isinstance(before, str) else ""
            item["original_marks"] = highlight.replaced_marks(item["original"])
        texts.append(item)
    out = {
        **summary(row),
        "reason": row["reason"],
        "edited_at": _time(row["edited_at"]),
        "texts": texts,
        "participants": row["draft"].get("participants") or [],
        "urgency": row["draft"].get("urgency"),
    }
    if moderator:
        out["decided_by"] = row["decided_by"] or None
    return out


# ---- reading ----------------------------------------------------------------------------------


def locate(cur, vault, draft_id, lock=False):
    """The draft row, its author's texts opened (services/library/sealing.py: ``[erased]`` once erased)."""
    cur.execute(
        f"SELECT {DRAFT_COLUMNS} FROM publication_drafts WHERE id::text = %s{' FOR UPDATE' if lock else ''}",
        (str(draft_id),),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"No draft {draft_id}.")
    return vault.open_row(cur, row)


def readable(cur, vault, actor, draft_id):
    """A moderator reads any draft, its author their own; anyone else is told it does not exist."""
    row = locate(cur, vault, draft_id)
    if actor["role"] != "moderator" and row["author_id"] != actor["user_id"]:
        raise NotFound(f"No draft {draft_id}.")
    return view(row, actor["role"] == "moderator")


def waiting(cur):
    cur.execute("SELECT count(*) AS n FROM publication_drafts WHERE state = 'pending'")
    return cur.fetchone()["n"]


def listing(cur, vault, state="pending"):
    """Drafts in one state, the oldest waiting first (decided ones: the latest decisions first)."""
    order = "created_at, id" if state == "pending" else "decided_at DESC, id"
    cur.execute(
        f"SELECT {DRAFT_COLUMNS} FROM publication_drafts WHERE state = %s ORDER BY {order} LIMIT %s",
        (state, LIST_LIMIT),
    )
    return {"items": [summary(r) for r in vault.open_rows(cur, cur.fetchall())], "waiting": waiting(cur)}


def authored(cur, vault, author_id, case_id=None):
    """The author's drafts, newest first (of one case when ``case_id`` is given)."""
    where, args = ("AND case_id = %s", (case_id,)) if case_id else ("", ())
    cur.execute(
        f"SELECT {DRAFT_COLUMNS} FROM publication_drafts WHERE author_id = %s {where} "
        f"ORDER BY created_at DESC, id LIMIT %s",
        (author_id, *args, LIST_LIMIT),
    )
    return [view(r, moderator=False) for r in vault.open_rows(cur, cur.fetchall())]


# ---- changing ---------------------------------------------------------------------------------


def _decision(row, decision, moderator_id, reason, content=None):
    kind = row["kind"]
    return {
        "draft_id": row["id"],
        "kind": kind,
        "source_event_id": row["source_event_id"],
        "decision": decision,
        "moderator_id": moderator_id,
        "reason": reason,
        "entry": content if kind == "solved_case" and decision == "published" else None,
        "post": content if kind == "forum_post" and decision == "published" else None,
    }


def _checked(decision):
    """The decision as its consumers (and the rebuild) load it, so that what the live library applies is
    what a replay of its log applies; a text over its limit is a 400 naming the draft's text."""
    try:
        return load_outgoing("PublicationDecided", decision)[1]
    except PayloadBreaksContract as broken:
        content = broken.messages.get("entry") or broken.messages.get("post") or {}
        fields = {f"texts.{path}": ["Too long or not a text."] for path in _flatten(content)}
        raise InvalidInput(
            "The draft cannot be published as it is.", fields or {"texts": [str(broken.messages)]}
        ) from broken


def _flatten(messages, prefix=""):
    if isinstance(messages, dict):
        for key, inner in messages.items():
            yield from _flatten(inner, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def decide(cur, row, decision, moderator_id, reason=""):
    """Record a decision on a locked draft row in the library's log and apply it (one transaction)."""
    payload = _checked(_decision(row, decision, moderator_id, reason, row["draft"]))
    outbox.append(cur, SOURCE, "PublicationDecided", row["id"], payload)
    return projection.apply_decision(cur, payload)


def drafted(cur, vault, draft, mode):
    """A new draft: published at once when review is automatic, else announced to the moderators; a draft
    of an author erased before their case's event arrived is withdrawn at once (its texts are "[erased]")."""
    if sealing.is_person(draft["author_id"]) and vault.is_erased(cur, draft["author_id"]):
        withdraw_erased(cur, draft["author_id"])
        return None
    if mode == AUTOMATIC:
        return decide(cur, locate(cur, vault, draft["id"], lock=True), "published", None)
    outbox.append(
        cur,
        SOURCE,
        "PublicationDrafted",
        draft["id"],
        {"draft_id": draft["id"], "kind": draft["kind"], "rubrics": draft["rubrics"]},
    )
    return None


def _pending(cur, vault, draft_id):
    row = locate(cur, vault, draft_id, lock=True)
    if row["state"] != "pending":
        raise Conflict(f"The draft was already {row['state']}.", details={"state": row["state"]})
    return row


def edit(cur, vault, moderator_id, draft_id, texts):
    """The moderator's edit of a waiting draft, stored sealed with the author's key like the draft it
    replaces (it is still the author's text until published)."""
    row = _pending(cur, vault, draft_id)
    edited = with_texts(row["kind"], row["draft"], texts)
    _checked(_decision(row, "published", moderator_id, "", edited))  # it must stay publishable
    if edited != row["draft"]:
        if sealing.is_person(row["author_id"]):
            edited = vault.seal_documents(cur, row["author_id"], {"draft": edited})["draft"]
        cur.execute(
            "UPDATE publication_drafts SET draft = %s, edited_at = now() WHERE id = %s", (Json(edited), row["id"])
        )
    return view(locate(cur, vault, row["id"]), moderator=True)


def publish(cur, vault, moderator_id, draft_id):
    row = _pending(cur, vault, draft_id)
    decide(cur, row, "published", moderator_id)
    return view(locate(cur, vault, row["id"]), moderator=True)


def reject(cur, vault, moderator_id, draft_id, reason):
    row = _pending(cur, vault, draft_id)
    decide(cur, row, "rejected", moderator_id, reason)
    return view(locate(cur, vault, row["id"]), moderator=True)


def withdraw_erased(cur, author_id):
    """The author was erased (identity's PersonErased): their drafts still waiting leave the review queue,
    withdrawn - their texts read ``[erased]`` and can no longer be published - each by a decision in the
    library's log that says why (ids and this reason only). Their published items stay: impersonal by
    review (issue 19). Returns the ids; a second erasure finds none."""
    cur.execute(
        f"SELECT {DRAFT_COLUMNS} FROM publication_drafts WHERE author_id = %s AND state = 'pending' "
        f"ORDER BY created_at, id FOR UPDATE",
        (str(author_id),),
    )
    rows = cur.fetchall()
    for row in rows:
        decide(cur, row, "withdrawn", None, projection.AUTHOR_ERASED)
    return [r["id"] for r in rows]


def withdraw_consent(cur, case_id, author_id):
    """The author's withdrawal reaches the library: every draft of the case not yet decided is
    withdrawn, and whatever was published of it leaves the library and the forum. Returns the ids."""
    cur.execute(
        f"SELECT {DRAFT_COLUMNS} FROM publication_drafts WHERE case_id = %s AND state IN "
        f"('pending', 'published') ORDER BY created_at FOR UPDATE",
        (case_id,),
    )
    rows = [r for r in cur.fetchall() if r["author_id"] in (None, author_id)]
    for row in rows:
        decide(cur, row, "withdrawn", None, projection.WITHDRAWN_BY_AUTHOR)
    return [r["id"] for r in rows]
