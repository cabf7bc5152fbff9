"""The cases service: RPC commands on the Case aggregate, its relay, its index.

Thin: validate, authorize by role, run one aggregate command through the application,
update the listing index, wake the relay. Rules live in domain.py.

A suspended mentor (services/cases/standing.py, from identity's AccreditationDecided) may do
nothing on cases: every RPC whose actor is that mentor is refused (403 mentor_suspended), and
their open cases go back to matching (Case.release_mentor), the author choosing again.
An erased person (identity's PersonErased) leaves the cases in progress cleanly: those they
authored close for the others, and an erased mentor's go back to matching as a suspended one's do.

Nothing waits forever: every ESCALATION_CHECK_INTERVAL seconds (default 60) a timer follows up
every step that waits for someone on the schedule of its urgency (services/cases/waiting.py,
WAITING_SCHEDULE_<URGENCY>): reminders, then expiry (Case.follow_up); an urgent case's chosen mentor
who has not accepted within ESCALATION_AFTER_SECONDS (default 2 h) is escalated. Another timer (same
interval) flags for the moderators any case still awaiting proposals after PROPOSALS_OVERDUE_SECONDS
(default 15 min): matching never answered. Both act at the time of the service's clock
(services/common/clock.py: tests inject one).
"""

from datetime import datetime, timezone

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from contracts.case_form import CaseFormSchema
from contracts.errors import Conflict, Forbidden, MentorSuspended, PlatformError
from contracts.question_bank import HINTS_BY_ID, bank_as_dict
from contracts.rpc_cases import (
    AnswerQuestionsSchema,
    AskQuestionsSchema,
    AsOfSchema,
    CaseFilterSchema,
    ChooseMentorSchema,
    ForumPublishSchema,
    QuestionSuggestionListSchema,
    QuestionSuggestionQuerySchema,
    QuestionSuggestionUsageSchema,
    ReflectionSchema,
    ShareSchema,
    SolutionSchema,
    TextSchema,
)
from contracts.rpc_common import ActorSchema, ReasonSchema
from contracts.rpc_identity import AccessReasonSchema
from contracts.statistics import (
    CaseStatisticsSchema,
    MentorQualityListSchema,
    MentorQualityQuerySchema,
    StatisticsFilterSchema,
)
from contracts.validation import load, schema_of
from services.cases import index, mentor_quality, question_suggestions, standing
from services.cases import statistics as case_statistics
from services.cases.application import case_id_for, open_application
from services.cases.domain import ABANDONED, AWAITING_PROPOSALS, FLAG_MENTOR_OVERDUE
from services.cases.integration import CaseLogReader
from services.cases.views import case_view, history_view, require_reason, require_view, sees_author, steps_of
from services.cases.waiting import parse_schedule
from services.common import shredding
from services.common.anonymizer_models import AnonymizerModels
from services.common.clock import Clock
from services.common.consumer import subscribe
from services.common.db import Database, ensure_database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.relay import EventRelay
from services.common.rpc import RpcDeadline, rpc
from services.common.timer import configured_timer

log = get_logger()
DEFAULT_PROPOSALS_OVERDUE_SECONDS = 900
STATISTICS_CATCH_UP_BATCHES = 10  # of 500 events; a longer lag (a rebuild) is left to the timer


class Cases(DependencyProvider):
    """The event-sourced application, one per service process."""

    def setup(self):
        url = self.container.config["DATABASE_URL"]
        ensure_database(url)
        self.app = open_application(
            url, int(self.container.config.get("DB_POOL_SIZE", 10)), self.container.config.get("PERSON_KEYS_MASTER_KEY")
        )

    def get_dependency(self, worker_ctx):
        return self.app


class CasesService:
    name = "cases"

    config = Config()
    log = CorrelationContext("cases")
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    db = Database("cases")
    cases = Cases()
    anonymizer_models = AnonymizerModels()  # loaded at start, not by the first text it scrubs
    relay = EventRelay("cases", CaseLogReader())
    clock = Clock()

    # ---- commands ---------------------------------------------------------------------

    @rpc
    def create_case(self, actor, form, request_id=None):
        """``request_id`` (the client's Idempotency-Key, or one per HTTP request) makes a retry safe:
        nameko acks an RPC after replying, so a crash in between redelivers it."""
        actor = self._actor(actor)
        if actor["role"] != "mentee":
            raise Forbidden("Only a mentee files a case.")
        form = load(CaseFormSchema, form, "case form")
        with self.db.transaction() as cur:
            number = index.next_case_number(cur, datetime.now(timezone.utc).year)
        case = self.cases.create_case(case_id_for(actor["user_id"], request_id), number, actor["user_id"], form)
        log.info("case_created", case_id=str(case.id), case_number=number)
        return self._after_change(case, actor)

    @rpc
    def choose_mentor(self, actor, case_id, choice):
        mentor_id = load(ChooseMentorSchema, choice)["mentor_id"]
        with self.db.transaction() as cur:
            suspended = standing.is_suspended(cur, mentor_id)
        if suspended:  # their cases go back to matching meanwhile: the author gets new proposals
            raise MentorSuspended(
                "This mentor is suspended from the roll of mentors; new mentors are being proposed for the case.",
                {"mentor_id": ["Suspended: choose another mentor."]},
            )
        return self._act(actor, case_id, lambda case, user: case.choose_mentor(user, mentor_id, now=self.clock()))

    @rpc
    def accept_case(self, actor, case_id):
        return self._act(actor, case_id, lambda case, user: case.accept(user, now=self.clock()))

    @rpc
    def decline_case(self, actor, case_id, body=None):
        reason = load(ReasonSchema, body or {})["reason"]
        return self._act(actor, case_id, lambda case, user: case.decline(user, reason))

    @rpc
    def withdraw_case(self, actor, case_id, body=None):
        reason = load(ReasonSchema, body or {})["reason"]
        return self._act(actor, case_id, lambda case, user: case.withdraw(user, reason))

    @rpc
    def ask_questions(self, actor, case_id, body, request_id=None):
        questions = [
            {
                **q,
                "text": HINTS_BY_ID[q["bank_id"]].text if q["bank_id"] else q["text"],
                "suggestion_use": question_suggestions.use_of(q["suggestion_id"], q["bank_id"], q["text"]),
            }
            for q in load(AskQuestionsSchema, body, "questions")["questions"]
        ]
        return self._act(
            actor, case_id, lambda case, user: case.ask_questions(user, questions, request_id, now=self.clock())
        )

    @rpc
    def answer_questions(self, actor, case_id, body):
        answers = load(AnswerQuestionsSchema, body, "answers")["answers"]
        return self._act(actor, case_id, lambda case, user: case.answer_questions(user, answers, now=self.clock()))

    @rpc
    def keep_request(self, actor, case_id):
        return self._act(actor, case_id, lambda case, user: case.keep_request(user, now=self.clock()))

    @rpc
    def redefine_case(self, actor, case_id, form):
        form = load(CaseFormSchema, form, "case form")
        return self._act(actor, case_id, lambda case, user: case.redefine(user, form, now=self.clock()))

    @rpc
    def share_with_colleagues(self, actor, case_id, body):
        colleague_ids = load(ShareSchema, body)["colleague_ids"]
        return self._act(actor, case_id, lambda case, user: case.share_with_colleagues(user, colleague_ids))

    @rpc
    def add_opinion(self, actor, case_id, body, request_id=None):
        text = load(TextSchema, body, "opinion")["text"]
        return self._act(actor, case_id, lambda case, user: case.add_opinion(user, text, request_id, now=self.clock()))

    @rpc
    def publish_to_forum(self, actor, case_id, body=None):
        target = load(ForumPublishSchema, body or {})
        return self._act(
            actor, case_id, lambda case, user: case.publish_to_forum(user, target["thread_id"], target["title"])
        )

    @rpc
    def withdraw_publication_consent(self, actor, case_id):
        """The author takes back consent to publication; the library drops its drafts of the case."""
        return self._act(actor, case_id, lambda case, user: case.withdraw_publication_consent(user))

    @rpc
    def send_message(self, actor, case_id, body, request_id=None):
        text = load(TextSchema, body, "message")["text"]
        return self._act(actor, case_id, lambda case, user: case.send_message(user, text, request_id, now=self.clock()))

    @rpc
    def propose_solution(self, actor, case_id, solution, request_id=None):
        solution = load(SolutionSchema, solution, "solution")
        return self._act(
            actor,
            case_id,
            lambda case, user: case.propose_solution(
                user, solution["text"], solution["materials"], request_id, now=self.clock()
            ),
        )

    @rpc
    def request_second_opinion(self, actor, case_id):
        return self._act(actor, case_id, lambda case, user: case.request_second_opinion(user))

    @rpc
    def reopen_case(self, actor, case_id):
        return self._act(actor, case_id, lambda case, user: case.reopen(user, now=self.clock()))

    @rpc
    def complete_case(self, actor, case_id, reflection):
        reflection = load(ReflectionSchema, reflection, "reflection sheet")
        return self._act(actor, case_id, lambda case, user: case.complete(user, reflection))

    @rpc
    def question_bank(self):
        return bank_as_dict()

    @rpc
    def question_suggestions(self, actor, case_id, query=None):
        """Questions to ask (services/cases/question_suggestions.py): learned from similar solved
        cases, anonymized and aggregated, then the hint bank; for the case's mentor and moderators.
        The pool is caught up first (bounded), so a case completed just before counts."""
        actor = self._actor(actor)
        query = load(QuestionSuggestionQuerySchema, query or {}, "query")
        case = self.cases.get_case(case_id)
        question_suggestions.require_asker(case, actor)
        self._catch_up(question_suggestions.catch_up)
        with self.db.transaction() as cur:
            items = question_suggestions.suggest(
                cur, question_suggestions.case_text(case.form), case.form.get("rubrics") or (), case.id, query["limit"]
            )
        return schema_of(QuestionSuggestionListSchema).dump({"items": items})

    @rpc
    def question_suggestion_usage(self, actor):
        """The moderators' figure of how often suggested questions are asked, as is or edited."""
        actor = self._actor(actor)
        if actor["role"] != "moderator":
            raise Forbidden("Only a moderator sees how question suggestions are used.")
        self._catch_up(index.catch_up)
        self._catch_up(question_suggestions.catch_up)
        with self.db.transaction() as cur:
            return schema_of(QuestionSuggestionUsageSchema).dump(question_suggestions.usage(cur))

    # ---- queries ----------------------------------------------------------------------

    @rpc
    def get_case(self, actor, case_id):
        actor = self._actor(actor)
        case = self.cases.get_case(case_id)
        require_view(case, actor)
        return case_view(case, actor)

    @rpc
    def author_for(self, actor, case_id, reason=None):
        """Who filed the case, for the author card: the author, moderators, and the mentors working
        on a personal-mode case; anybody else (every mentor of an anonymous case) is refused.
        A moderator opens it only with a reason (identity records it for the author to see)."""
        actor = self._actor(actor)
        reason = load(AccessReasonSchema, {"reason": reason or ""}, "reason")["reason"]
        case = self.cases.get_case(case_id)
        require_view(case, actor)
        if not sees_author(case, actor):
            raise Forbidden("The author's identity is shown only to the mentor of a personal-mode case.")
        require_reason(case, actor, reason)
        return {"author_id": case.author_id}

    @rpc
    def list_cases(self, actor, filters=None):
        actor = self._actor(actor)
        filters = load(CaseFilterSchema, filters or {}, "filters")
        with self.db.transaction() as cur:
            return index.list_for(cur, actor, self.cases.vault, filters)

    @rpc
    def statistics(self, actor, filters=None):
        """The moderators' figures of the cases filed in a period (contracts/statistics.py). The index
        is caught up first (waiting for a catch-up running meanwhile), so the figures include every
        change made before the call."""
        actor = self._actor(actor)
        if actor["role"] != "moderator":
            raise Forbidden("Only a moderator sees the platform's statistics.")
        filters = load(StatisticsFilterSchema, filters or {}, "filters")
        self._catch_up(index.catch_up)
        with self.db.transaction() as cur:
            figures = case_statistics.query(cur, filters)
        return schema_of(CaseStatisticsSchema).dump(case_statistics.shape(filters, figures))

    @rpc
    def mentor_quality(self, actor, query=None):
        """Mentors' figures (services/cases/mentor_quality.py): a moderator's of every mentor (or of
        ``mentor_id``), a mentor's of their own; caught up first, as the statistics are."""
        actor = self._actor(actor)
        query = load(MentorQualityQuerySchema, query or {}, "query")
        mentor_id = mentor_quality.require_reader(actor, query["mentor_id"])
        self._catch_up(mentor_quality.catch_up)
        with self.db.transaction() as cur:
            records = mentor_quality.query(cur, mentor_id)
        mentors = mentor_quality.summarize(records, query["sort"], query["order"] == "desc")
        return schema_of(MentorQualityListSchema).dump({"items": mentors})

    def _catch_up(self, fold):
        """Fold the log up to its end (waiting for a fold running meanwhile), in bounded time: a
        longer lag (a rebuild) is left to the timer."""
        for _ in range(STATISTICS_CATCH_UP_BATCHES):
            if not fold(self.db, self.cases, wait=True):
                break

    @rpc
    def get_case_as_of(self, actor, case_id, point=None):
        """Time travel: the case as it was at a version or a moment (moderators and the author)."""
        actor = self._actor(actor)
        point = load(AsOfSchema, point or {}, "point in time")
        case = self.cases.get_case(case_id)
        self._require_history_reader(case, actor)
        return case_view(self.cases.get_case_as_of(case_id, point["version"], point["at"]), actor)

    @rpc
    def get_history(self, actor, case_id):
        actor = self._actor(actor)
        self._require_history_reader(self.cases.get_case(case_id), actor)
        return history_view(self.cases.history(case_id))

    @rpc
    def records_of(self, actor):
        """Every case the signed-in person filed, with all its events, and their own steps in the cases
        they worked on (GET /api/v1/me/data). A suspended mentor is not refused: the data is theirs."""
        actor = load(ActorSchema, actor, "actor")
        user = actor["user_id"]
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT case_id::text AS case_id, number, author_id FROM case_index "
                "WHERE author_id = %s OR participant_ids @> ARRAY[%s] ORDER BY created_at, case_id",
                (user, user),
            )
            rows = cur.fetchall()
        found = []
        for row in rows:
            history = history_view(self.cases.history(row["case_id"]))
            authored = row["author_id"] == user
            found.append(
                {
                    "case_id": row["case_id"],
                    "number": row["number"],
                    "role": "author" if authored else "participant",
                    "events": history if authored else steps_of(history, user),
                }
            )
        return {"cases": found}

    @staticmethod
    def _require_history_reader(case, actor):
        if actor["role"] != "moderator" and not case.is_author(actor["user_id"]):
            raise Forbidden("Only a moderator or the case's author reads its full history.")

    @rpc
    def health(self):
        return health_report(self.name, self.db)

    # ---- events from other services ---------------------------------------------------

    @subscribe("cases.matching-events")
    def on_mentors_matched(self, envelope):
        """Idempotent by round: a redelivered proposal changes nothing."""
        payload = envelope.payload
        case, recorded = self.cases.change(
            payload["case_id"], lambda c: c.record_proposals(payload["round"], payload["proposals"], now=self.clock())
        )
        log.info("proposals_received", case_id=payload["case_id"], round=payload["round"], recorded=recorded)
        if recorded:
            self._after_change(case, None)

    @subscribe("cases.identity-events")
    def on_identity_event(self, envelope):
        """Identity's decisions on the roll (suspensions) and erasures."""
        if envelope.type == "PersonErased":
            self.on_person_erased(envelope)
        else:
            self.on_accreditation_decided(envelope)

    def on_person_erased(self, envelope):
        """An erased person (issue 19, part 3): shred the cases service's key of them
        (services/common/shredding.py: every text they wrote into a case, sealed with it in the log,
        reads ``[erased]`` from now on: services/cases/sealing.py), blank their excerpts in the index
        and refold the question pool's records of the cases they wrote into, then close their part in the cases still in progress, so that
        whoever is left with one learns it and is not kept waiting:

        - every case they authored and had not finished closes (Case.close_for_erased_author; its
          mentor and the mentors proposed to them are told), the completed and withdrawn ones stay;
        - every case they are chosen for, work on or are proposed for is released from them as on a
          suspension (Case.release_mentor, reason mentor_erased): a new round, the author told.

        The event names no role, so both rules run; each finds nothing of the other kind of person (only
        mentees author cases, only mentors are chosen or proposed), the second at the cost of loading
        the cases whose authors are choosing, as a suspension does.

        Idempotent without processed_events (the cases service keeps none): a second delivery finds the
        tombstone, and a case closed or released changes no more (the aggregate decides again). Both
        rules run on every delivery, so a delivery stopped between the key and the cases is finished by
        the next."""
        person_id = envelope.payload["person_id"]
        with self.db.transaction() as cur:
            erased_now = shredding.erase_key(cur, person_id)
            index.forget_excerpts_of(cur, person_id)
            authored = index.unfinished_cases_of(cur, person_id)
            candidates = standing.cases_to_release(cur, person_id)
            written = index.cases_written_by(cur, person_id)
        with self.db.transaction() as cur:  # after the key's erasure is committed: their texts load as [erased]
            question_suggestions.forget(cur, self.cases, written)
        closed = [case_id for case_id in authored if self._close_for_erased_author(case_id)]
        released = [case_id for case_id in candidates if self._release(case_id, person_id, standing.ERASED_REASON)]
        log.info(
            "person_erased",
            person_id=person_id,
            first_delivery=erased_now,
            closed_cases=len(closed),
            released_cases=len(released),
        )

    def on_accreditation_decided(self, envelope):
        """A suspension releases the mentor from every case they are chosen for, work on or are
        proposed for (a new round without them); a reinstatement lets them act again. Idempotent: the
        standing keeps the newest decision by position, and a case already released changes no more."""
        p = envelope.payload
        mentor_id = p["mentor_id"]
        with self.db.transaction() as cur:
            suspended = standing.record_decision(cur, mentor_id, p["decision"], envelope.position)
            candidates = standing.cases_to_release(cur, mentor_id) if suspended else []
        released = [case_id for case_id in candidates if self._release(case_id, mentor_id, standing.RELEASE_REASON)]
        log.info(
            "mentor_standing_recorded",
            mentor_id=mentor_id,
            decision=p["decision"],
            suspended=suspended,
            released_cases=len(released),
        )

    def _release(self, case_id, mentor_id, reason):
        """Release one case from the mentor (True if it changed)."""
        case, changed = self._system_change(case_id, lambda c: c.release_mentor(mentor_id, reason))
        if changed:
            log.info("mentor_released", case_id=case_id, reason=reason, next_round=case.round + 1)
        return changed

    def _close_for_erased_author(self, case_id):
        """Close one case of an erased author (True if it changed)."""
        case, changed = self._system_change(case_id, lambda c: c.close_for_erased_author(now=self.clock()))
        if changed:
            log.info("case_closed_author_erased", case_id=case_id)
        return changed

    def _system_change(self, case_id, command, attempts=5):
        """(case, changed): run the system's ``command`` on one case (it returns whether it changed the
        case), and publish the change; a concurrent change of the case is retried: the command decides
        again on the case as the other change left it. A conflict on the last attempt is raised: the
        event is redelivered, and the changes done so far change nothing again."""
        for _ in range(attempts - 1):
            try:
                return self._change_and_publish(case_id, command)
            except Conflict:
                continue
        return self._change_and_publish(case_id, command)

    def _change_and_publish(self, case_id, command):
        case, changed = self.cases.change(case_id, command)
        if changed:
            self._after_change(case, None)
        return case, changed

    @timer(interval=5)
    def catch_up_index(self):
        index.catch_up(self.db, self.cases)
        mentor_quality.catch_up(self.db, self.cases)
        question_suggestions.catch_up(self.db, self.cases)

    @configured_timer("ESCALATION_CHECK_INTERVAL", default=60)
    def follow_up_waiting(self):
        """Every step that waits for someone, on its urgency's schedule: a reminder to whoever it
        waits for, then expiry (Case.follow_up decides; the index only finds the cases due): an
        unaccepted choice goes to the next round without that mentor (an urgent one is escalated to
        the moderators too), a mentor's overdue work is flagged, a mentee's overdue step closes the
        case as abandoned.

        Safe with several cases processes: each change is an optimistic append, so when two follow
        up the same case one saves and the other gets a Conflict (someone else did it) or finds
        nothing due any more: one reminder, one expiry."""
        schedule = self._schedule()
        with self.db.transaction() as cur:
            due = index.due_follow_ups(cur, self.clock(), schedule.rows())
        self._sweep(due, lambda case, now: case.follow_up(now, schedule), "follow_up_skipped", _log_follow_up)

    def _schedule(self):
        """The follow-up schedule from the config (an invalid one fails the sweep with a message naming
        the setting; the service's other work goes on)."""
        return parse_schedule(self.config, self.config.get("ESCALATION_AFTER_SECONDS", 7200))

    def _sweep(self, due, command, skipped, changed):
        """Run a timer's ``command(case, now)`` on each case the index found due (the aggregate decides;
        True when it changed the case): ``changed(case)`` logs it and the change is published. A case
        someone else changed meanwhile is skipped (logged ``skipped``); one no longer due means the
        index lagged behind it, brought up to date so it is not found again."""
        for case_id in due:
            now = self.clock()
            try:
                case, done = self.cases.change(case_id, lambda c: command(c, now))  # noqa: B023 - called at once
            except PlatformError as exc:
                log.info(skipped, case_id=str(case_id), reason=exc.message)
                continue
            if done:
                changed(case)
                self._after_change(case, None)
            else:
                with self.db.transaction() as cur:
                    index.upsert(cur, case, self.cases.vault)

    def _actor(self, actor):
        """The validated actor; a suspended mentor is refused here, before anything is read or done."""
        actor = load(ActorSchema, actor, "actor")
        if actor["role"] == "mentor":
            with self.db.transaction() as cur:
                suspended = standing.is_suspended(cur, actor["user_id"])
            if suspended:
                raise MentorSuspended(
                    "Your accreditation is suspended: you cannot act on cases until a moderator reinstates it."
                )
        return actor

    @configured_timer("ESCALATION_CHECK_INTERVAL", default=60)
    def flag_overdue_proposals(self):
        """The watchdog of matching: a case still awaiting proposals after PROPOSALS_OVERDUE_SECONDS
        (matching, its database or the broker was down, or its answer was lost) goes into the
        moderators' flagged queue (Case.flag_proposals_overdue decides, once per case; the index only
        finds them). Safe with several cases processes, as follow_up_waiting is."""
        after = float(self.config.get("PROPOSALS_OVERDUE_SECONDS", DEFAULT_PROPOSALS_OVERDUE_SECONDS))
        with self.db.transaction() as cur:
            due = index.overdue_proposals(cur, self.clock(), after)
        self._sweep(
            due,
            lambda case, now: case.flag_proposals_overdue(now, after),
            "proposals_watchdog_skipped",
            lambda case: log.warning("proposals_overdue", case_id=str(case.id), round=case.flag["round"]),
        )

    def _act(self, actor, case_id, command):
        """Validate the actor, run one command on the case (409 if someone else changed it meanwhile)."""
        actor = self._actor(actor)
        case, _ = self.cases.change(case_id, lambda c: command(c, actor["user_id"]))
        return self._after_change(case, actor)

    def _after_change(self, case, actor):
        self.relay.wake()  # the events are committed: publishing them need not wait for the index
        with self.db.transaction() as cur:
            index.upsert(cur, case, self.cases.vault)
        return case_view(case, actor) if actor else None


def _log_follow_up(case):
    """What the follow-up sweep did to a case, for the operators: ids and steps, no person's data."""
    if case.state == ABANDONED:
        log.info("case_abandoned", case_id=str(case.id), step=case.abandoned["step"])
    elif case.state == AWAITING_PROPOSALS:
        log.info("case_escalated", case_id=str(case.id), next_round=case.round + 1)
    elif case.flag is not None and case.flag["reason"] == FLAG_MENTOR_OVERDUE:
        log.warning("mentor_overdue", case_id=str(case.id), round=case.round)
    else:
        log.info("case_reminded", case_id=str(case.id), step=case.waiting_step()[0], number=case.reminded)
