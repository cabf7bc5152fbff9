"""library: the anonymized "History of solutions", projected from completed cases."""
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
from services.library.anonymizer import scrub

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
)

COLUMNS = ("id::text, kind, rubrics, urgency, essence, actions_taken, difficulty, question, participants, "
           "solutions, problem_solved, published_at")


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
    }


def _view(row):
    return {**row, "published_at": row["published_at"].isoformat()}


class LibraryService:
    name = "library"

    log = CorrelationContext("library")
    db = Database(migrations=SCHEMA)

    @subscribe("library.case-events")
    def on_case_completed(self, envelope):
        p = envelope.payload
        if not p["publication_consent"] or p["publication"] is None:
            return  # the author did not consent: nothing of the case enters the library
        entry = anonymized_entry(p["publication"])
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            cur.execute(
                """INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty,
                                                question, participants, solutions, problem_solved)
                   VALUES (%s, 'solved_case', %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (uuid.uuid4(), entry["rubrics"], entry["urgency"], entry["essence"], entry["actions_taken"],
                 entry["difficulty"], entry["question"], entry["participants"], Json(entry["solutions"]),
                 p["problem_solved"]))
        log.info("library_entry_created", rubrics=entry["rubrics"])

    @rpc
    def list_entries(self, actor, rubric=None):
        load(ActorSchema(), actor, "actor")
        if rubric is not None and rubric not in RUBRIC_SLUGS:
            raise InvalidInput("Unknown rubric.", {"rubric": [f"Must be one of: {', '.join(RUBRIC_SLUGS)}."]})
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
    def health(self):
        return health_report(self.name, self.db)
