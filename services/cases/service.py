"""The cases service: RPC commands on the Case aggregate, its relay, its index.

Thin: validate, authorize by role, run one aggregate command through the application,
update the listing index, wake the relay. Rules live in domain.py.
"""
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from contracts.case_form import CaseFormSchema
from contracts.errors import Forbidden
from contracts.rpc import ActorSchema, ChooseMentorSchema, ReflectionSchema, SolutionSchema
from contracts.validation import load
from services.cases import index
from services.cases.application import case_id_for, open_application
from services.cases.integration import CaseLogReader
from services.cases.views import case_view, history_view, require_view
from services.common.consumer import subscribe
from services.common.db import Database, ensure_database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.relay import EventRelay
from services.common.rpc import rpc

log = get_logger()


class Cases(DependencyProvider):
    """The event-sourced application, one per service process."""

    def setup(self):
        url = self.container.config["DATABASE_URL"]
        ensure_database(url)
        self.app = open_application(url, int(self.container.config.get("DB_POOL_SIZE", 10)))

    def get_dependency(self, worker_ctx):
        return self.app


class CasesService:
    name = "cases"

    log = CorrelationContext("cases")
    db = Database(migrations=index.SCHEMA)
    cases = Cases()
    relay = EventRelay("cases", CaseLogReader())

    # ---- commands ---------------------------------------------------------------------

    @rpc
    def create_case(self, actor, form, request_id=None):
        """``request_id`` (the client's Idempotency-Key, or one per HTTP request) makes a retry safe:
        nameko acks an RPC after replying, so a crash in between redelivers it."""
        actor = load(ActorSchema(), actor, "actor")
        if actor["role"] != "mentee":
            raise Forbidden("Only a mentee files a case.")
        form = load(CaseFormSchema(), form, "case form")
        with self.db.transaction() as cur:
            number = index.next_case_number(cur, datetime.now(timezone.utc).year)
        case = self.cases.create_case(case_id_for(actor["user_id"], request_id), number, actor["user_id"], form)
        log.info("case_created", case_id=str(case.id), case_number=number)
        return self._after_change(case, actor)

    @rpc
    def choose_mentor(self, actor, case_id, choice):
        actor = load(ActorSchema(), actor, "actor")
        choice = load(ChooseMentorSchema(), choice)
        case, _ = self.cases.change(case_id, lambda c: c.choose_mentor(actor["user_id"], choice["mentor_id"]))
        return self._after_change(case, actor)

    @rpc
    def accept_case(self, actor, case_id):
        actor = load(ActorSchema(), actor, "actor")
        case, _ = self.cases.change(case_id, lambda c: c.accept(actor["user_id"]))
        return self._after_change(case, actor)

    @rpc
    def propose_solution(self, actor, case_id, solution, request_id=None):
        actor = load(ActorSchema(), actor, "actor")
        solution = load(SolutionSchema(), solution, "solution")
        case, _ = self.cases.change(case_id, lambda c: c.propose_solution(
            actor["user_id"], solution["text"], solution["materials"], request_id))
        return self._after_change(case, actor)

    @rpc
    def complete_case(self, actor, case_id, reflection):
        actor = load(ActorSchema(), actor, "actor")
        reflection = load(ReflectionSchema(), reflection, "reflection sheet")
        case, _ = self.cases.change(case_id, lambda c: c.complete(actor["user_id"], reflection))
        return self._after_change(case, actor)

    # ---- queries ----------------------------------------------------------------------

    @rpc
    def get_case(self, actor, case_id):
        actor = load(ActorSchema(), actor, "actor")
        case = self.cases.get_case(case_id)
        require_view(case, actor)
        return case_view(case, actor)

    @rpc
    def list_cases(self, actor):
        actor = load(ActorSchema(), actor, "actor")
        with self.db.transaction() as cur:
            return index.list_for(cur, actor)

    @rpc
    def get_history(self, actor, case_id):
        actor = load(ActorSchema(), actor, "actor")
        case = self.cases.get_case(case_id)
        if actor["role"] != "moderator" and not case.is_author(actor["user_id"]):
            raise Forbidden("Only a moderator or the case's author reads its full history.")
        return history_view(self.cases.history(case_id))

    @rpc
    def health(self):
        return health_report(self.name, self.db)

    # ---- events from other services ---------------------------------------------------

    @subscribe("cases.matching-events")
    def on_mentors_matched(self, envelope):
        """Idempotent by round: a redelivered proposal changes nothing."""
        payload = envelope.payload
        case, recorded = self.cases.change(
            payload["case_id"], lambda c: c.record_proposals(payload["round"], payload["proposals"]))
        log.info("proposals_received", case_id=payload["case_id"], round=payload["round"], recorded=recorded)
        if recorded:
            self._after_change(case, None)

    @timer(interval=5)
    def catch_up_index(self):
        index.catch_up(self.db, self.cases)

    def _after_change(self, case, actor):
        with self.db.transaction() as cur:
            index.upsert(cur, case)
        self.relay.wake()
        return case_view(case, actor) if actor else None
