"""matching: keeps a read model of mentors and proposes mentors for each new case.

Proposals are written with their MentorsMatched outbox event in one transaction; the
relay publishes them and the cases service records them on the case.
"""
from nameko.dependency_providers import Config
from psycopg2.extras import Json

from contracts.errors import NotFound
from services.common import outbox
from services.common.consumer import first_delivery, subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.outbox import OutboxReader
from services.common.relay import EventRelay
from services.common.rpc import rpc
from services.common.schema import CONSUMER_TABLES, PUBLISHER_TABLES
from services.matching.ranking import Candidate, rank

log = get_logger()

SCHEMA = CONSUMER_TABLES + PUBLISHER_TABLES + (
    """CREATE TABLE IF NOT EXISTS mentors (
        mentor_id text PRIMARY KEY,
        rubrics text[] NOT NULL,
        accepting_cases boolean NOT NULL,
        source_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS mentors_rubrics ON mentors USING gin (rubrics)",
    """CREATE TABLE IF NOT EXISTS proposals (
        case_id text NOT NULL,
        round integer NOT NULL,
        rubrics text[] NOT NULL,
        proposals jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (case_id, round)
    )""",
)


class MatchingService:
    name = "matching"

    config = Config()
    log = CorrelationContext("matching")
    db = Database(migrations=SCHEMA)
    relay = EventRelay("matching", OutboxReader("matching"))

    @subscribe("matching.identity-events")
    def on_mentor_profile_updated(self, envelope):
        p = envelope.payload
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            # Out-of-order safe: an older profile event never overwrites a newer one.
            cur.execute(
                """INSERT INTO mentors (mentor_id, rubrics, accepting_cases, source_position)
                   VALUES (%s, %s, %s, %s)
                   ON CONFLICT (mentor_id) DO UPDATE SET rubrics = EXCLUDED.rubrics,
                       accepting_cases = EXCLUDED.accepting_cases, source_position = EXCLUDED.source_position,
                       updated_at = now()
                   WHERE mentors.source_position < EXCLUDED.source_position""",
                (p["mentor_id"], p["rubrics"], p["accepting_cases"], envelope.position))
        log.info("mentor_known", mentor_id=p["mentor_id"])

    @subscribe("matching.case-events")
    def on_case_created(self, envelope):
        p = envelope.payload
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            cur.execute("SELECT mentor_id, rubrics, accepting_cases FROM mentors WHERE rubrics && %s",
                        (p["rubrics"],))
            candidates = [Candidate(r["mentor_id"], frozenset(r["rubrics"]), r["accepting_cases"])
                          for r in cur.fetchall()]
            proposals = rank(p["rubrics"], candidates, k=int(self.config.get("MATCHING_K", 3)))
            cur.execute("INSERT INTO proposals (case_id, round, rubrics, proposals) VALUES (%s, 1, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        (p["case_id"], p["rubrics"], Json(proposals)))
            outbox.append(cur, "matching", "MentorsMatched", p["case_id"],
                          {"case_id": p["case_id"], "round": 1, "proposals": proposals})
        self.relay.wake()
        log.info("mentors_matched", case_id=p["case_id"], proposed=len(proposals))

    @rpc
    def get_mentor(self, mentor_id):
        """The read model's view of one mentor (operators and tests check propagation with it)."""
        with self.db.transaction() as cur:
            cur.execute("SELECT mentor_id, rubrics, accepting_cases FROM mentors WHERE mentor_id = %s",
                        (mentor_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"Matching does not know mentor {mentor_id}.")
        return dict(row)

    @rpc
    def get_proposals(self, case_id):
        with self.db.transaction() as cur:
            cur.execute("SELECT round, proposals FROM proposals WHERE case_id = %s ORDER BY round", (case_id,))
            return [dict(r) for r in cur.fetchall()]

    @rpc
    def health(self):
        return health_report(self.name, self.db)

