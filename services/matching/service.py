"""matching: keeps a read model of mentors and proposes mentors for each new case.

Round 1 follows CaseCreated; a mentor's decline or the author's second-opinion request asks
for the next round, without the mentors already excluded.

Proposals are written with their MentorsMatched outbox event in one transaction; the
relay publishes them and the cases service records them on the case.
"""
from nameko.dependency_providers import Config

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
from services.matching import readmodel
from services.matching.ranking import rank

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
            readmodel.upsert_mentor(cur, p, envelope.position)
        log.info("mentor_known", mentor_id=p["mentor_id"])

    @subscribe("matching.case-events")
    def on_case_event(self, envelope):
        """One queue, one entrypoint: CaseCreated opens round 1; a decline or a second-opinion
        request opens ``next_round`` among the mentors not excluded."""
        p = envelope.payload
        if envelope.type == "CaseCreated":
            round_, exclude = 1, ()
        elif envelope.type in ("MentorDeclined", "SecondOpinionRequested"):
            round_ = p["next_round"]
            exclude = set(p["excluded_mentor_ids"])
            if envelope.type == "MentorDeclined":
                exclude.add(p["mentor_id"])  # the mentor who declined is never proposed again
        else:  # the consumer only passes the queue's types; be explicit if topology and code drift
            raise ValueError(f"matching.case-events: no handler for {envelope.type}")
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            proposals = self._propose(cur, p["case_id"], round_, p["rubrics"], exclude)
        self.relay.wake()
        log.info("mentors_matched", case_id=p["case_id"], round=round_, proposed=len(proposals),
                 trigger=envelope.type)

    def _propose(self, cur, case_id, round_, rubrics, exclude):
        """Rank, record the round and its MentorsMatched event in the caller's transaction.

        A round is decided once: if it was already recorded (another event asked for the same
        round), the recorded proposals are announced again rather than a different ranking.
        """
        ranked = rank(rubrics, readmodel.candidates(cur, rubrics), k=int(self.config.get("MATCHING_K", 3)),
                      exclude=exclude)
        proposals = readmodel.record_round(cur, case_id, round_, rubrics, ranked)
        outbox.append(cur, "matching", "MentorsMatched", case_id,
                      {"case_id": case_id, "round": round_, "proposals": proposals})
        return proposals

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

