"""library: the anonymized "History of solutions", projected from completed cases, and the
forum "What to do? Looking for a way out together", projected from cases published to it.

Both hold only scrubbed, impersonal text: no case id, number, author or mentor.
"""
from contracts.errors import InvalidInput, NotFound
from contracts.rpc import ActorSchema
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import load
from services.common.consumer import subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.rpc import rpc
from services.common.schema import CONSUMER_TABLES
from services.library import projection
# re-exported: tests and older callers import these from here
from services.library.projection import (  # noqa: F401
    FORUM_NAMESPACE, THREAD_TITLE_FROM_QUESTION, anonymized_entry, forum_post, ordered_rubrics)

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

COLUMNS = ("id::text, kind, rubrics, urgency, essence, actions_taken, difficulty, question, participants, "
           "solutions, clarifications, problem_solved, published_at")
THREAD_COLUMNS = "t.id::text, t.title, t.rubrics, t.created_at, t.updated_at"
POST_COLUMNS = "id::text, essence, question, rubrics, urgency, created_at"


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
        with self.db.transaction() as cur:
            entry = projection.apply_case_completed(cur, envelope, self.name)
        if entry is not None:
            log.info("library_entry_created", rubrics=entry["rubrics"])

    def _on_published_to_forum(self, envelope):
        """A new thread, or a post added to the thread named (services/library/projection.py)."""
        with self.db.transaction() as cur:
            result = projection.apply_published_to_forum(cur, envelope, self.name)
        if result is None:
            return
        thread_id, new_thread, added, rubrics = result
        log.info("forum_post_added" if added else "forum_post_known", thread_id=str(thread_id),
                 new_thread=new_thread, rubrics=rubrics)

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
