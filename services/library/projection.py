"""The library's projection of case events and of its own decisions, as plain functions of a cursor.

A consenting CaseCompleted and a CasePublishedToForum become **drafts** (``publication_drafts``);
only a decision (``PublicationDecided``, the library's own log: services/library/review.py) puts a
draft into the library's items or the forum. Used by the nameko handler (services/library/service.py)
and by the researchers' rebuild (research/rebuild.py: the cases log, then the library's decisions), so
a rebuilt library is made by exactly the same code as the live one. Each function runs in the
caller's transaction and is idempotent (``first_delivery``; a decision applies to a draft once).
Ids derive from the source event's id (uuid5), so a rebuilt library has the live one's ids, and a
second insert of an item meets its row (``ON CONFLICT DO NOTHING``): it never overwrites a
moderator's edit or brings back a withdrawn item (services/library/curation.py).
"""

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from psycopg2.extras import Json, RealDictCursor

from contracts.envelope import Envelope
from contracts.forum import FORUM_NAMESPACE
from contracts.forum import new_thread_id as forum_thread_id
from contracts.rubrics import ordered_rubrics
from services.common.anonymizer import scrub
from services.common.consumer import first_delivery

CONSUMER = "library"
HANDLED_TYPES = ("CaseCompleted", "CasePublishedToForum")  # what becomes a draft
DECISION_TYPE = "PublicationDecided"

# Thread and post ids derive from the publishing event's id: a redelivery cannot make two.
LIBRARY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:items")
THREAD_TITLE_FROM_QUESTION = 80
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

# an event's id: as the envelope has it, or as text (a decision's source_event_id)
EventId = uuid.UUID | str
# a JSON object of an event or a row: an entry, a post, a draft
JsonObject = dict[str, Any]
# seals a new draft's documents ({"original": ..., "draft": ...}) for its author (services/library/sealing.py);
# the researchers' rebuild passes none: its drafts are a scratch copy that compares only what was published
DraftSealer = Callable[[str, dict[str, JsonObject]], dict[str, JsonObject]]


def entry_id(event_id: EventId) -> uuid.UUID:
    return uuid.uuid5(LIBRARY_NAMESPACE, f"entry:{event_id}")


def material_id(event_id: EventId, solution_index: int, material_index: int) -> uuid.UUID:
    return uuid.uuid5(LIBRARY_NAMESPACE, f"material:{event_id}:{solution_index}:{material_index}")


def material_type_of(reference: str) -> tuple[str, str | None]:
    """A mentor's reference is "a link, or a bibliographic reference": ``(type, url)``.

    A reference that is a URL is a link; a bibliographic one with "//" (GOST 7.1's mark of the
    journal or collection an article appeared in) is an article; any other is a book. A URL
    inside a bibliographic reference ("URL: https://...") is kept as the item's url.
    """
    text = reference.strip()
    found = _URL.search(text)
    url = found.group().rstrip(".,;)") if found else None
    if found and found.start() == 0 and len(found.group()) >= len(text.rstrip(".,;)")):
        return "link", url
    without_urls = _URL.sub("", text)
    return ("article" if "//" in without_urls else "book"), url


def attached_materials(event_id: EventId, entry: Mapping[str, Any]) -> list[JsonObject]:
    """Materials attached to an anonymized entry's solutions, as library materials (pure)."""
    found = []
    for s, solution in enumerate(entry["solutions"]):
        for m, material in enumerate(solution["materials"]):
            material_type, url = material_type_of(material["reference"])
            found.append(
                {
                    "id": material_id(event_id, s, m),
                    "material_type": material_type,
                    "title": material["title"],
                    "url": url,
                    "reference": "" if material_type == "link" else material["reference"],
                    "rubrics": ordered_rubrics(material.get("rubrics") or entry["rubrics"]),
                    "helpfulness": solution.get("helpfulness"),
                }
            )
    return found


def mean_helpfulness(entry: Mapping[str, Any]) -> float | None:
    """The mean rating of the entry's rated solutions, or None if none was rated."""
    rated = [s["helpfulness"] for s in entry["solutions"] if s.get("helpfulness") is not None]
    return sum(rated) / len(rated) if rated else None


def anonymized_entry(publication: Mapping[str, Any]) -> JsonObject:
    """The impersonal entry: scrubbed free text, no ids of the author, mentors or the case."""
    return {
        "essence": scrub(publication["essence"]),
        "actions_taken": scrub(publication["actions_taken"]),
        "difficulty": scrub(publication["difficulty"]),
        "question": scrub(publication["question"]),
        "participants": publication["participants"],
        "rubrics": publication["rubrics"],
        "urgency": publication["urgency"],
        "solutions": [
            {
                "text": scrub(s["text"]),
                "materials": [
                    {
                        "title": scrub(m["title"]),
                        "reference": scrub(m["reference"]),
                        **({"rubrics": m["rubrics"]} if m.get("rubrics") else {}),
                    }
                    for m in s["materials"]
                ],
                **({"helpfulness": s["helpfulness"]} if s.get("helpfulness") is not None else {}),
            }
            for s in publication["solutions"]
        ],
        "clarifications": [
            {"question": scrub(c["question"]), "kind": c["kind"], "answer": scrub(c["answer"])}
            for c in publication.get("clarifications") or []
        ],
    }


def forum_post(payload: Mapping[str, Any]) -> JsonObject:
    """The scrubbed post; the thread title is the given title or else the start of the question."""
    post = {
        "title": (scrub(payload["title"]) or "").strip(),
        "essence": scrub(payload["essence"]),
        "question": scrub(payload["question"]),
        "rubrics": ordered_rubrics(payload["rubrics"]),
        "urgency": payload["urgency"],
    }
    if not post["title"]:
        post["title"] = post["question"].strip()[:THREAD_TITLE_FROM_QUESTION].rstrip()
    return post


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def draft_id(event_id: EventId) -> uuid.UUID:
    return uuid.uuid5(LIBRARY_NAMESPACE, f"draft:{event_id}")


def apply(
    cur: RealDictCursor, envelope: Envelope, consumer: str = CONSUMER, seal: DraftSealer | None = None
) -> JsonObject | None:
    """A draft for one envelope (a consenting completion, a forum publication); returns the draft, or
    None when nothing is to be reviewed (no consent, a repeated delivery). ``seal``: the author's texts
    are stored sealed with it."""
    if envelope.type == "CaseCompleted":
        return apply_case_completed(cur, envelope, consumer, seal)
    if envelope.type == "CasePublishedToForum":
        return apply_published_to_forum(cur, envelope, consumer, seal)
    raise ValueError(f"library: no projection for {envelope.type}")


def _insert_draft(
    cur: RealDictCursor,
    kind: str,
    envelope: Envelope,
    rubrics: list[str],
    documents: dict[str, JsonObject],
    seal: DraftSealer | None,
) -> JsonObject:
    p = envelope.payload
    new_id = draft_id(envelope.event_id)
    author = p.get("author_id")
    if seal is not None and author:
        documents = seal(author, documents)
    cur.execute(
        "INSERT INTO publication_drafts (id, kind, source_event_id, case_id, author_id, rubrics, original, "
        "draft) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (
            new_id,
            kind,
            str(envelope.event_id),
            p.get("case_id"),
            p.get("author_id"),
            rubrics,
            Json(documents["original"]),
            Json(documents["draft"]),
        ),
    )
    return {
        "id": str(new_id),
        "kind": kind,
        "rubrics": rubrics,
        "source_event_id": str(envelope.event_id),
        "author_id": author,
    }


def apply_case_completed(
    cur: RealDictCursor, envelope: Envelope, consumer: str = CONSUMER, seal: DraftSealer | None = None
) -> JsonObject | None:
    """A draft of the library entry when the author consented to publication; nothing of the case
    reaches the library's items before a decision publishes it (``apply_decision``)."""
    p = envelope.payload
    if not p["publication_consent"] or p["publication"] is None:
        return None  # the author did not consent: nothing of the case enters the library
    draft = {**anonymized_entry(p["publication"]), "problem_solved": p["problem_solved"]}
    if not first_delivery(cur, envelope, consumer):
        return None
    original = {
        **p["publication"],
        "clarifications": p["publication"].get("clarifications") or [],
        "problem_solved": p["problem_solved"],
    }
    documents = {"original": original, "draft": draft}
    return _insert_draft(cur, "solved_case", envelope, ordered_rubrics(draft["rubrics"]), documents, seal)


def apply_published_to_forum(
    cur: RealDictCursor, envelope: Envelope, consumer: str = CONSUMER, seal: DraftSealer | None = None
) -> JsonObject | None:
    """A draft of the forum post (the thread it names, or a new one, once published)."""
    p = envelope.payload
    draft = {**forum_post(p), "thread_id": p["thread_id"]}
    if not first_delivery(cur, envelope, consumer):
        return None
    original = {k: p[k] for k in ("thread_id", "title", "essence", "question", "rubrics", "urgency")}
    return _insert_draft(cur, "forum_post", envelope, draft["rubrics"], {"original": original, "draft": draft}, seal)


# ---- decisions (the library's own log: PublicationDecided) --------------------------------------

WITHDRAWN_BY_AUTHOR = "The author withdrew consent to publication."
AUTHOR_ERASED = "The author's data was erased: the draft can no longer be published."


def apply_decision(cur: RealDictCursor, decision: Mapping[str, Any]) -> JsonObject | None:
    """Apply a PublicationDecided payload: the draft's new state and, when published, its entry (with
    its materials) or its forum post. Idempotent: a draft already decided so changes nothing. Returns
    the published result (``publish_entry`` / ``publish_post``) or None."""
    allowed_from = ("pending", "published") if decision["decision"] == "withdrawn" else ("pending",)
    content = decision["entry"] if decision["kind"] == "solved_case" else decision["post"]
    cur.execute("SELECT state, author_id FROM publication_drafts WHERE id = %s FOR UPDATE", (decision["draft_id"],))
    row = cur.fetchone()
    if row is None or row["state"] not in allowed_from:
        return None
    cur.execute(
        "UPDATE publication_drafts SET state = %s, reason = %s, decided_by = %s, decided_at = now(), "
        "original = '{}'::jsonb, draft = coalesce(%s, draft) WHERE id = %s",
        (
            decision["decision"],
            decision["reason"],
            decision["moderator_id"] or "",
            Json(content) if content is not None else None,
            decision["draft_id"],
        ),
    )
    source = decision["source_event_id"]
    if decision["decision"] == "published":
        if decision["kind"] == "solved_case":
            return publish_entry(cur, source, content, row["author_id"])
        return publish_post(cur, source, content)
    if decision["decision"] == "withdrawn" and row["state"] == "published":
        unpublish(cur, decision["kind"], source)
    return None


def publish_entry(
    cur: RealDictCursor, source_event_id: EventId, entry: Mapping[str, Any], author_id: str | None = None
) -> JsonObject:
    """The library entry and a material item for each material attached to its solutions.

    ``author_id`` (the draft's; None for events that lacked it: nobody's own item then) is kept only to
    leave the author's own case out of their similar cases (services/library/similar.py)."""
    new_id = entry_id(source_event_id)
    cur.execute(
        """INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty,
                                        question, participants, solutions, clarifications, problem_solved,
                                        helpfulness, author_id)
           VALUES (%s, 'solved_case', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING""",
        (
            new_id,
            entry["rubrics"],
            entry["urgency"],
            entry["essence"],
            entry["actions_taken"],
            entry["difficulty"],
            entry["question"],
            entry["participants"],
            Json(entry["solutions"]),
            Json(entry["clarifications"]),
            entry["problem_solved"],
            mean_helpfulness(entry),
            author_id,
        ),
    )
    for m in attached_materials(source_event_id, entry):
        cur.execute(
            "INSERT INTO library_materials (id, material_type, title, url, reference, rubrics, entry_id, "
            "origin, problem_solved, helpfulness, author_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'solution', %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (
                m["id"],
                m["material_type"],
                m["title"],
                m["url"],
                m["reference"],
                m["rubrics"],
                new_id,
                entry["problem_solved"],
                m["helpfulness"],
                author_id,
            ),
        )
    return {"entry_id": str(new_id), "rubrics": entry["rubrics"]}


def publish_post(cur: RealDictCursor, source_event_id: EventId, post: Mapping[str, Any]) -> JsonObject:
    """A new thread, or a post added to the thread named; an unknown thread opens a new one.

    Returns ``{thread_id, new_thread, added, rubrics}``."""
    new_thread_id = forum_thread_id(source_event_id)
    post_id = uuid.uuid5(FORUM_NAMESPACE, f"post:{source_event_id}")
    thread = None
    asked = _as_uuid(post.get("thread_id"))
    if asked is not None:
        # Locked: concurrent posts to one thread each see the other's rubrics.
        cur.execute("SELECT id, rubrics FROM forum_threads WHERE id = %s FOR UPDATE", (asked,))
        thread = cur.fetchone()
    if thread is None:
        cur.execute(
            "INSERT INTO forum_threads (id, title, rubrics) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (new_thread_id, post["title"], post["rubrics"]),
        )
        cur.execute("SELECT id, rubrics FROM forum_threads WHERE id = %s FOR UPDATE", (new_thread_id,))
        thread = cur.fetchone()
    assert thread is not None  # the thread named, or the one just made (or made before: ON CONFLICT)
    cur.execute(
        "INSERT INTO forum_posts (id, thread_id, essence, question, rubrics, urgency) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
        (post_id, thread["id"], post["essence"], post["question"], post["rubrics"], post["urgency"]),
    )
    added = cur.fetchone() is not None
    if added:
        cur.execute(
            "UPDATE forum_threads SET rubrics = %s, updated_at = now() WHERE id = %s",
            (ordered_rubrics(thread["rubrics"], post["rubrics"]), thread["id"]),
        )
    return {
        "thread_id": str(thread["id"]),
        "new_thread": thread["id"] == new_thread_id,
        "added": added,
        "rubrics": post["rubrics"],
    }


def unpublish(cur: RealDictCursor, kind: str, source_event_id: EventId) -> None:
    """The author withdrew consent after publication: the entry (and its materials) is withdrawn, the
    forum post hidden, as a moderator would (services/library/curation.py), by the author's word."""
    if kind == "solved_case":
        new_id = entry_id(source_event_id)
        for table, key in (("library_entries", "id"), ("library_materials", "entry_id")):
            cur.execute(
                f"UPDATE {table} SET withdrawn_at = now(), withdrawn_by = 'author', withdrawn_reason = %s "
                f"WHERE {key} = %s AND withdrawn_at IS NULL",
                (WITHDRAWN_BY_AUTHOR, new_id),
            )
    else:
        cur.execute(
            "UPDATE forum_posts SET hidden_at = now(), hidden_by = 'author', hidden_reason = %s "
            "WHERE id = %s AND hidden_at IS NULL",
            (WITHDRAWN_BY_AUTHOR, uuid.uuid5(FORUM_NAMESPACE, f"post:{source_event_id}")),
        )
