"""library: the anonymized "History of solutions", projected from completed cases, and the
forum "What to do? Looking for a way out together", projected from cases published to it.

Both hold only scrubbed, impersonal text: no case id, number, author or mentor.
"""
import uuid

from psycopg2.extras import Json

from contracts.errors import InvalidInput, NotFound
from contracts.rpc import ActorSchema
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import load
from services.common.consumer import first_delivery, subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.rpc import rpc
from services.common.schema import CONSUMER_TABLES
from services.common.anonymizer import scrub

log = get_logger()

SCHEMA = CONSUMER_TABLES + (
    """CREATE TABLE IF NOT EXISTS library_entries (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        essence text NOT NULL,
        actions_taken text NOT NULL,
        difficulty text NOT NULL,
        question text NOT NULL,
        participants text[] NOT NULL,
        solutions jsonb NOT NULL,
        problem_solved text NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS library_entries_rubrics ON library_entries USING gin (rubrics)",
    "ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS clarifications jsonb NOT NULL DEFAULT '[]'",
    """CREATE TABLE IF NOT EXISTS forum_threads (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        rubrics text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS forum_threads_rubrics ON forum_threads USING gin (rubrics)",
    "CREATE INDEX IF NOT EXISTS forum_threads_updated ON forum_threads (updated_at DESC)",
    """CREATE TABLE IF NOT EXISTS forum_posts (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES forum_threads (id),
        essence text NOT NULL,
        question text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS forum_posts_thread ON forum_posts (thread_id, created_at)",
)

# Thread and post ids derive from the publishing event's id: a redelivery cannot make two.
FORUM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:forum")
THREAD_TITLE_FROM_QUESTION = 80

COLUMNS = ("id::text, kind, rubrics, urgency, essence, actions_taken, difficulty, question, participants, "
           "solutions, clarifications, problem_solved, published_at")
THREAD_COLUMNS = "t.id::text, t.title, t.rubrics, t.created_at, t.updated_at"
POST_COLUMNS = "id::text, essence, question, rubrics, urgency, created_at"


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
                       "materials": [{"title": scrub(m["title"]), "reference": scrub(m["reference"])}
                                     for m in s["materials"]]}
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


def _view(row):
    return {**row, "published_at": row["published_at"].isoformat()}


def _timestamps(row, *names):
    return {**row, **{name: row[name].isoformat() for name in names}}


def _check_rubric(rubric):
    if rubric is not None and rubric not in RUBRIC_SLUGS:
        raise InvalidInput("Unknown rubric.", {"rubric": [f"Must be one of: {', '.join(RUBRIC_SLUGS)}."]})


class LibraryService:
    name = "library"

    log = CorrelationContext("library")
    db = Database(migrations=SCHEMA)

    @subscribe("library.case-events")
    def on_case_event(self, envelope):
        """One queue, one entrypoint: dispatch on the event type."""
        if envelope.type == "CaseCompleted":
            self._on_case_completed(envelope)
        elif envelope.type == "CasePublishedToForum":
            self._on_published_to_forum(envelope)
        else:  # the consumer only passes the queue's types; be explicit if topology and code drift
            raise ValueError(f"library.case-events: no handler for {envelope.type}")

    def _on_case_completed(self, envelope):
        p = envelope.payload
        if not p["publication_consent"] or p["publication"] is None:
            return  # the author did not consent: nothing of the case enters the library
        entry = anonymized_entry(p["publication"])
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            cur.execute(
                """INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty,
                                                question, participants, solutions, clarifications, problem_solved)
                   VALUES (%s, 'solved_case', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (uuid.uuid4(), entry["rubrics"], entry["urgency"], entry["essence"], entry["actions_taken"],
                 entry["difficulty"], entry["question"], entry["participants"], Json(entry["solutions"]),
                 Json(entry["clarifications"]), p["problem_solved"]))
        log.info("library_entry_created", rubrics=entry["rubrics"])

    def _on_published_to_forum(self, envelope):
        """A new thread, or a post added to the thread named; an unknown thread opens a new one."""
        post = forum_post(envelope.payload)
        new_thread_id = uuid.uuid5(FORUM_NAMESPACE, f"thread:{envelope.event_id}")
        post_id = uuid.uuid5(FORUM_NAMESPACE, f"post:{envelope.event_id}")
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
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
        log.info("forum_post_added" if added else "forum_post_known", thread_id=str(thread["id"]),
                 new_thread=thread["id"] == new_thread_id, rubrics=post["rubrics"])

    @rpc
    def list_entries(self, actor, rubric=None):
        load(ActorSchema(), actor, "actor")
        _check_rubric(rubric)
        with self.db.transaction() as cur:
            if rubric:
                cur.execute(f"SELECT {COLUMNS} FROM library_entries WHERE rubrics @> %s "
                            f"ORDER BY published_at DESC LIMIT 200", ([rubric],))
            else:
                cur.execute(f"SELECT {COLUMNS} FROM library_entries ORDER BY published_at DESC LIMIT 200")
            return [_view(r) for r in cur.fetchall()]

    @rpc
    def get_entry(self, actor, entry_id):
        load(ActorSchema(), actor, "actor")
        with self.db.transaction() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM library_entries WHERE id::text = %s", (str(entry_id),))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"No library entry {entry_id}.")
        return _view(row)

    @rpc
    def list_threads(self, actor, rubric=None):
        """Forum threads, the most recently active first."""
        load(ActorSchema(), actor, "actor")
        _check_rubric(rubric)
        where, args = ("WHERE t.rubrics @> %s", ([rubric],)) if rubric else ("", ())
        with self.db.transaction() as cur:
            cur.execute(f"""SELECT {THREAD_COLUMNS},
                                   (SELECT count(*) FROM forum_posts p WHERE p.thread_id = t.id) AS posts_count
                            FROM forum_threads t {where}
                            ORDER BY t.updated_at DESC, t.created_at DESC, t.id LIMIT 200""", args)
            return [_timestamps(r, "created_at", "updated_at") for r in cur.fetchall()]

    @rpc
    def get_thread(self, actor, thread_id):
        load(ActorSchema(), actor, "actor")
        with self.db.transaction() as cur:
            cur.execute(f"SELECT {THREAD_COLUMNS} FROM forum_threads t WHERE t.id::text = %s", (str(thread_id),))
            thread = cur.fetchone()
            if thread is None:
                raise NotFound(f"No forum thread {thread_id}.")
            cur.execute(f"SELECT {POST_COLUMNS} FROM forum_posts WHERE thread_id = %s::uuid "
                        f"ORDER BY created_at, id", (thread["id"],))
            posts = [_timestamps(r, "created_at") for r in cur.fetchall()]
        return {**_timestamps(thread, "created_at", "updated_at"), "posts": posts}

    @rpc
    def health(self):
        return health_report(self.name, self.db)
