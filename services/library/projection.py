"""The library's projection of case events, as plain functions of a cursor and an envelope.

Used by the nameko handler (services/library/service.py) and by the researchers' rebuild
(research/rebuild.py), so a rebuilt library is made by exactly the same code as the live one.
Each function runs in the caller's transaction and is idempotent through ``first_delivery``.
Ids derive from the event id (uuid5), so a rebuilt library has the live one's ids, and a second
insert of an item meets its row (``ON CONFLICT DO NOTHING``): it never overwrites a moderator's
edit or brings back a withdrawn item (services/library/curation.py).
"""
import re
import uuid

from psycopg2.extras import Json

from contracts.forum import FORUM_NAMESPACE
from contracts.forum import new_thread_id as forum_thread_id
from contracts.rubrics import RUBRIC_SLUGS
from services.common.anonymizer import scrub
from services.common.consumer import first_delivery

CONSUMER = "library"
HANDLED_TYPES = ("CaseCompleted", "CasePublishedToForum")

# Thread and post ids derive from the publishing event's id: a redelivery cannot make two.
LIBRARY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:items")
THREAD_TITLE_FROM_QUESTION = 80
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def entry_id(event_id):
    return uuid.uuid5(LIBRARY_NAMESPACE, f"entry:{event_id}")


def material_id(event_id, solution_index, material_index):
    return uuid.uuid5(LIBRARY_NAMESPACE, f"material:{event_id}:{solution_index}:{material_index}")


def material_type_of(reference):
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


def attached_materials(event_id, entry):
    """Materials attached to an anonymized entry's solutions, as library materials (pure)."""
    found = []
    for s, solution in enumerate(entry["solutions"]):
        for m, material in enumerate(solution["materials"]):
            material_type, url = material_type_of(material["reference"])
            found.append({
                "id": material_id(event_id, s, m), "material_type": material_type, "title": material["title"],
                "url": url, "reference": "" if material_type == "link" else material["reference"],
                "rubrics": ordered_rubrics(material.get("rubrics") or entry["rubrics"]),
                "helpfulness": solution.get("helpfulness")})
    return found


def mean_helpfulness(entry):
    """The mean rating of the entry's rated solutions, or None if none was rated."""
    rated = [s["helpfulness"] for s in entry["solutions"] if s.get("helpfulness") is not None]
    return sum(rated) / len(rated) if rated else None


def anonymized_entry(publication):
    """The impersonal entry: scrubbed free text, no ids of the author, mentors or the case."""
    return {
        "essence": scrub(publication["essence"]),
        "actions_taken": scrub(publication["actions_taken"]),
        "difficulty": scrub(publication["difficulty"]),
        "question": scrub(publication["question"]),
        "participants": publication["participants"],
        "rubrics": publication["rubrics"],
        "urgency": publication["urgency"],
        "solutions": [{"text": scrub(s["text"]),
                       "materials": [{"title": scrub(m["title"]), "reference": scrub(m["reference"]),
                                      **({"rubrics": m["rubrics"]} if m.get("rubrics") else {})}
                                     for m in s["materials"]],
                       **({"helpfulness": s["helpfulness"]} if s.get("helpfulness") is not None else {})}
                      for s in publication["solutions"]],
        "clarifications": [{"question": scrub(c["question"]), "kind": c["kind"], "answer": scrub(c["answer"])}
                           for c in publication.get("clarifications") or []],
    }


def forum_post(payload):
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


def ordered_rubrics(*rubric_lists):
    """The union of rubric lists, in the rubricator's order."""
    union = set().union(*rubric_lists)
    return [slug for slug in RUBRIC_SLUGS if slug in union]


def _as_uuid(value):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def apply(cur, envelope, consumer=CONSUMER):
    """Project one envelope; returns what happened (for the caller's log), or None if nothing."""
    if envelope.type == "CaseCompleted":
        return apply_case_completed(cur, envelope, consumer)
    if envelope.type == "CasePublishedToForum":
        return apply_published_to_forum(cur, envelope, consumer)
    raise ValueError(f"library: no projection for {envelope.type}")


def apply_case_completed(cur, envelope, consumer=CONSUMER):
    """A library entry when the author consented to publication, and a material item for each
    material attached to its solutions (linked to the entry); returns the entry or None."""
    p = envelope.payload
    if not p["publication_consent"] or p["publication"] is None:
        return None  # the author did not consent: nothing of the case enters the library
    entry = anonymized_entry(p["publication"])
    if not first_delivery(cur, envelope, consumer):
        return None
    new_id = entry_id(envelope.event_id)
    author_id = p.get("author_id")  # v1 events lack it: nobody's own item then
    cur.execute(
        """INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty,
                                        question, participants, solutions, clarifications, problem_solved,
                                        helpfulness, author_id)
           VALUES (%s, 'solved_case', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING""",
        (new_id, entry["rubrics"], entry["urgency"], entry["essence"], entry["actions_taken"],
         entry["difficulty"], entry["question"], entry["participants"], Json(entry["solutions"]),
         Json(entry["clarifications"]), p["problem_solved"], mean_helpfulness(entry), author_id))
    for m in attached_materials(envelope.event_id, entry):
        cur.execute("INSERT INTO library_materials (id, material_type, title, url, reference, rubrics, entry_id, "
                    "origin, problem_solved, helpfulness, author_id) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, 'solution', %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (m["id"], m["material_type"], m["title"], m["url"], m["reference"], m["rubrics"], new_id,
                     p["problem_solved"], m["helpfulness"], author_id))
    return entry


def apply_published_to_forum(cur, envelope, consumer=CONSUMER):
    """A new thread, or a post added to the thread named; an unknown thread opens a new one.

    Returns ``(thread_id, new_thread, added, rubrics)`` or None for a repeated delivery."""
    post = forum_post(envelope.payload)
    new_thread_id = forum_thread_id(envelope.event_id)
    post_id = uuid.uuid5(FORUM_NAMESPACE, f"post:{envelope.event_id}")
    if not first_delivery(cur, envelope, consumer):
        return None
    thread = None
    asked = _as_uuid(envelope.payload["thread_id"])
    if asked is not None:
        # Locked: concurrent posts to one thread each see the other's rubrics.
        cur.execute("SELECT id, rubrics FROM forum_threads WHERE id = %s FOR UPDATE", (asked,))
        thread = cur.fetchone()
    if thread is None:
        cur.execute("INSERT INTO forum_threads (id, title, rubrics) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING", (new_thread_id, post["title"], post["rubrics"]))
        cur.execute("SELECT id, rubrics FROM forum_threads WHERE id = %s FOR UPDATE", (new_thread_id,))
        thread = cur.fetchone()
    cur.execute("INSERT INTO forum_posts (id, thread_id, essence, question, rubrics, urgency) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                (post_id, thread["id"], post["essence"], post["question"], post["rubrics"],
                 post["urgency"]))
    added = cur.fetchone() is not None
    if added:
        cur.execute("UPDATE forum_threads SET rubrics = %s, updated_at = now() WHERE id = %s",
                    (ordered_rubrics(thread["rubrics"], post["rubrics"]), thread["id"]))
    return thread["id"], thread["id"] == new_thread_id, added, post["rubrics"]
