"""matching: keeps a read model of mentors and of who works on which case, and proposes mentors.

Round 1 follows CaseCreated; a decline, an escalation (the chosen mentor of an urgent case
did not answer in time) or the author's second-opinion request asks for the next round,
without the mentors excluded by services/matching/rounds.py. The other case events
(MentorChosen, MentorAccepted, CaseCompleted, CaseWithdrawn, CaseRedefined) keep the load
and response history of each mentor and each case's rubrics (services/matching/readmodel.py);
the score and the fair order among close scores are services/matching/ranking.py (who was
chosen lately and who was proposed last come from the same read model).

Proposals are written with their MentorsMatched outbox event in one transaction; the
relay publishes them and the cases service records them on the case (no proposal at all:
the case has no mentor, and the cases service flags it for the moderators).
"""

from datetime import datetime, timedelta, timezone

from nameko.dependency_providers import Config

from contracts.errors import NotFound
from contracts.rpc_common import ActorSchema
from contracts.rpc_matching import SuggestColleaguesSchema
from contracts.validation import load
from services.common import outbox, shredding
from services.common.batch_consumer import event_context, first_deliveries, subscribe_batch
from services.common.consumer import first_delivery, subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.outbox import OutboxReader
from services.common.personal_data import records
from services.common.relay import EventRelay
from services.common.rpc import RpcDeadline, rpc
from services.matching import readmodel
from services.matching.ranking import TIE_MARGIN, rank
from services.matching.rounds import round_request

log = get_logger()


def today():
    """Away periods are calendar dates; the platform's calendar is UTC."""
    return datetime.now(timezone.utc).date()


# A mentor's rows for GET /api/v1/me/data: (columns holding their id, columns left out).
PERSONAL_TABLES = {
    "mentors": (("mentor_id",), ()),
    "assignments": (("mentor_id",), ()),
    "mentor_stats": (("mentor_id",), ()),
}


class MatchingService:
    name = "matching"

    config = Config()
    log = CorrelationContext("matching")
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    db = Database("matching")
    relay = EventRelay("matching", OutboxReader("matching"))

    @subscribe_batch("matching.identity-events")
    def on_mentor_profile_updated(self, envelopes):
        """Batched (services/common/batch_consumer.py): one transaction and one processed_events
        insert for the profile events delivered together, each applied as it would be alone. A
        PersonErased shreds matching's key of the person (services/common/shredding.py)."""
        with self.db.transaction() as cur:
            applied = first_deliveries(cur, envelopes, self.name)
            profiles = [e for e in applied if e.type == "MentorProfileUpdated"]
            readmodel.upsert_mentors(cur, profiles)  # upsert_mentor of each, in one round trip
            erased = [e for e in applied if e.type == "PersonErased"]
            for envelope in erased:
                shredding.erase_key(cur, envelope.payload["person_id"])
        for envelope in applied:  # after the commit, as before
            with event_context(envelope):
                if envelope.type == "PersonErased":
                    log.info("person_erased", person_id=envelope.payload["person_id"])
                else:
                    log.info(
                        "mentor_known", mentor_id=envelope.payload["mentor_id"], schema_version=envelope.schema_version
                    )

    @subscribe("matching.case-events")
    def on_case_event(self, envelope):
        """One queue, one entrypoint: every case event updates the read model; CaseCreated, a
        decline, an escalation and a second-opinion request then decide their round."""
        p = envelope.payload
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            readmodel.apply_case_event(cur, envelope)
            request = round_request(envelope.type, p, readmodel.asked_mentors(cur, p["case_id"]))
            if request is None:
                proposals = None
            else:
                proposals = self._propose(cur, p["case_id"], request)
        if proposals is None:
            log.info("case_event_applied", case_id=p["case_id"], event_type=envelope.type)
            return
        self.relay.wake()
        log.info(
            "mentors_matched", case_id=p["case_id"], round=request.round, proposed=len(proposals), trigger=envelope.type
        )

    def _propose(self, cur, case_id, request):
        """Rank, record the round and its MentorsMatched event in the caller's transaction
        (the outbox's lock last: see readmodel.refresh_case on lock order).

        A round is decided once: if it was already recorded (another event asked for the same
        round), the recorded proposals are announced again rather than a different ranking.
        """
        day, k, fairness = today(), self._k(), self._fairness()
        found = readmodel.candidates(cur, request.rubrics, exclude=request.exclude, today=day, k=k, **fairness)
        ranked = rank(
            request.rubrics, found, k=k, exclude=request.exclude, today=day, tie_margin=fairness["tie_margin"]
        )
        proposals = readmodel.record_round(cur, case_id, request.round, request.rubrics, ranked)
        outbox.append(
            cur,
            "matching",
            "MentorsMatched",
            case_id,
            {"case_id": case_id, "round": request.round, "proposals": proposals},
        )
        return proposals

    def _k(self):
        return int(self.config.get("MATCHING_K", 3))

    def _fairness(self):
        """The fair order's settings (services/matching/ranking.py): assignments since when count
        as recent, and how close two scores must be to tie."""
        days = float(self.config.get("MATCHING_RECENT_DAYS", 90))
        return {
            "recent_since": datetime.now(timezone.utc) - timedelta(days=days),
            "tie_margin": float(self.config.get("MATCHING_TIE_MARGIN", TIE_MARGIN)),
        }

    @rpc
    def suggest_colleagues(self, case_id, rubrics, exclude=None, limit=5):
        """Colleagues for the collective format ("take opinion of a colleague"): accredited
        mentors advising in the case's rubrics, not away, ranked by the same score; never the
        case's own mentor nor anyone in ``exclude``. Capacity and accepting_cases do not apply:
        an opinion is not a case to take."""
        args = load(
            SuggestColleaguesSchema,
            {"case_id": case_id, "rubrics": rubrics, "exclude": exclude or [], "limit": limit},
            "suggestion request",
        )
        day, fairness = today(), self._fairness()
        with self.db.transaction() as cur:
            excluded = set(args["exclude"]) | readmodel.case_mentors(cur, args["case_id"])
            found = readmodel.candidates(
                cur,
                args["rubrics"],
                exclude=excluded,
                today=day,
                require_free_capacity=False,
                require_accepting=False,
                k=args["limit"],
                **fairness,
            )
        return rank(
            args["rubrics"],
            found,
            k=args["limit"],
            exclude=excluded,
            today=day,
            require_free_capacity=False,
            require_accepting=False,
            tie_margin=fairness["tie_margin"],
        )

    @rpc
    def get_mentor(self, mentor_id):
        """The read model's view of one mentor: profile snapshot, load and response history
        (operators and tests check propagation with it)."""
        with self.db.transaction() as cur:
            mentor = readmodel.mentor_view(cur, mentor_id)
        if mentor is None:
            raise NotFound(f"Matching does not know mentor {mentor_id}.")
        return mentor

    @rpc
    def get_proposals(self, case_id):
        with self.db.transaction() as cur:
            cur.execute("SELECT round, proposals FROM proposals WHERE case_id = %s ORDER BY round", (case_id,))
            return [dict(r) for r in cur.fetchall()]

    @rpc
    def records_of(self, actor):
        """What matching holds about the signed-in person (a mentor: profile snapshot, assignments, load)."""
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return records(cur, PERSONAL_TABLES, actor["user_id"])

    @rpc
    def health(self):
        return health_report(self.name, self.db)
