"""The gateway service: thin HTTP entrypoints that RPC into the services.

Run: ``nameko run --config services/gateway/config.yaml services.gateway.service``.
Each route is declared once with ``@http`` (services/gateway/entrypoints.py): its token check,
query and body schemas run before the handler, and its result schema shapes the response.
The services, not the gateway, decide whether the actor may act.
"""

import eventlet

from contracts import vocabulary as v
from contracts.case_form import CaseFormSchema
from contracts.errors import InvalidInput, PlatformError, ServiceUnavailable
from contracts.question_bank import QUESTION_KIND_LABELS, QUESTION_KINDS, bank_as_dict
from contracts.rpc_cases import (
    AnswerQuestionsSchema,
    AskQuestionsSchema,
    AsOfSchema,
    CaseFilterSchema,
    CaseSummaryPageSchema,
    CaseViewSchema,
    ChooseMentorSchema,
    ForumPublishSchema,
    QuestionSuggestionListSchema,
    QuestionSuggestionQuerySchema,
    ReflectionSchema,
    ShareSchema,
    SolutionSchema,
    TextSchema,
)
from contracts.rpc_common import ReasonSchema
from contracts.rpc_identity import (
    AuthorCardSchema,
    MentorProfileSchema,
    MentorProfileViewSchema,
    QuestionnaireSchema,
    QuestionnaireViewSchema,
    RegisterSchema,
    RegistrationAcceptedSchema,
    SignInSchema,
    TokenViewSchema,
    UserViewSchema,
)
from contracts.rpc_library import LibraryEntryViewSchema, LibrarySearchSchema
from contracts.rubrics import RUBRICS
from contracts.validation import schema_of
from services.common.actors import ActingUser
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.rpc import TimedRpcProxy

# Route mixins by module, never by class: `nameko run services.gateway.service` starts every class with
# entrypoints it finds in this module's namespace as a service of its own (and fails: a mixin has no name).
from services.gateway import (
    openapi,
    routes_audit,
    routes_communication,
    routes_library,
    routes_matching,
    routes_news,
    routes_people,
    routes_statistics,
    routes_surveys,
)
from services.gateway.entrypoints import http
from services.gateway.http import request_key
from services.gateway.routes_people import require_verified_email
from services.gateway.schemas import (
    HistoryListSchema,
    LibraryEntryListSchema,
    MentorProfileListSchema,
    QuestionBankSchema,
    QuestionnaireReadListSchema,
    ReadinessSchema,
    ReferenceSchema,
    RubricQuerySchema,
    StatusSchema,
    ThreadSummaryListSchema,
    ThreadViewSchema,
)
from services.gateway.sessions import LiveSessions, session_feed

logger = get_logger()

BACKENDS = ("cases", "identity", "matching", "notifications", "library")
READY_TIMEOUT = 2.0  # seconds per health() call, at most RPC_TIMEOUT

REFERENCE = {
    "rubrics": [{"number": r.number, "slug": r.slug, "label": r.label, "comment": r.comment} for r in RUBRICS],
    "participants": list(v.PARTICIPANTS),
    "participant_labels": [{"slug": p, "label": v.PARTICIPANT_LABELS[p]} for p in v.PARTICIPANTS],
    "question_kinds": [{"slug": k, "label": QUESTION_KIND_LABELS[k]} for k in QUESTION_KINDS],
    "urgencies": list(v.URGENCIES),
    "modes": list(v.MODES),
    "problem_solved": list(v.PROBLEM_SOLVED),
    "registration_roles": list(v.SELF_SERVICE_ROLES),
}

QUESTION_BANK = {"items": bank_as_dict()}  # the hints of seed 6.2.1.2, from contracts: no RPC needed


class GatewayService(
    routes_audit.AuditRoutes,
    routes_matching.MatchingRoutes,
    routes_communication.CommunicationRoutes,
    routes_people.PeopleRoutes,
    routes_library.LibraryRoutes,
    routes_statistics.StatisticsRoutes,
    routes_news.NewsRoutes,
    routes_surveys.SurveyRoutes,
):
    name = "gateway"

    log = CorrelationContext("gateway")
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    acting_user = ActingUser()  # signs the signed-in user for every RPC (services/common/actors.py)
    sessions = LiveSessions()  # revoked sessions and changed accounts, from identity's events
    cases = TimedRpcProxy("cases")
    identity = TimedRpcProxy("identity")
    matching = TimedRpcProxy("matching")
    notifications = TimedRpcProxy("notifications")
    library = TimedRpcProxy("library")

    # ---- sessions (services/gateway/sessions.py) ------------------------------------------

    @session_feed
    def load_sessions(self):
        """What identity knows of ended sessions and changed accounts, loaded right after this process's
        event queue is bound (at start, after a reconnection); its events keep it current then."""
        return self.identity.session_revocations()

    # ---- operations ---------------------------------------------------------------------

    @http("GET", "/health", returns=StatusSchema, auth=False, tag="operations", summary="The gateway itself is up")
    def health(self, request):
        return {"status": "ok"}

    @http(
        "GET",
        "/ready",
        returns=ReadinessSchema,
        auth=False,
        tag="operations",
        summary="Every service answers health(); 503 with each service's status otherwise",
    )
    def ready(self, request):
        timeout = min(READY_TIMEOUT, self.cases.timeout)
        pool = eventlet.GreenPool(len(BACKENDS))
        services = dict(pool.imap(lambda name: (name, self._probe(name, timeout)), BACKENDS))
        if all(s["status"] == "ok" for s in services.values()):
            return {"status": "ok", "services": services}
        down = sorted(name for name, s in services.items() if s["status"] != "ok")
        reasons = [
            f"{name}'s database is unavailable"
            if services[name].get("database") == "unavailable"
            else f"{name} is {services[name]['status']}"
            for name in down
        ]
        raise ServiceUnavailable(
            f"Not ready: {'; '.join(reasons)}.",
            details=schema_of(ReadinessSchema).dump({"status": "unavailable", "services": services}),
        )

    def _probe(self, name, timeout):
        try:
            health = getattr(self, name).health.with_timeout(timeout)()
        except PlatformError as exc:
            return {"status": "unavailable", "message": exc.message}
        except Exception as exc:  # a health() that fails is not ready, whatever the reason
            return {"status": "error", "message": type(exc).__name__}
        if not isinstance(health, dict):
            return {"status": "error", "message": "health() returned no status"}
        status = {"status": str(health.get("status", "unknown"))}
        if "database" in health:
            status["database"] = str(health["database"])
            if status["status"] == "ok" and status["database"] != "ok":
                status["status"] = "degraded"  # up, but cannot do its work
        return status

    @http("GET", "/openapi.json", auth=False, tag="operations", summary="This API's OpenAPI 3 document")
    def openapi_document(self, request):
        return openapi.document(GatewayService)

    # ---- reference, auth, profiles ------------------------------------------------------

    @http(
        "GET",
        "/api/v1/reference",
        returns=ReferenceSchema,
        auth=False,
        tag="reference",
        summary="Rubricator, participants (with labels), question kinds (with labels), urgencies, modes and "
        "other closed value sets",
    )
    def reference(self, request):
        return REFERENCE

    @http(
        "GET",
        "/api/v1/question-bank",
        returns=QuestionBankSchema,
        tag="reference",
        summary="The question hints a mentor asks from, by group (seed 6.2.1.2)",
    )
    def question_bank(self, request, actor):
        return QUESTION_BANK

    @http(
        "POST",
        "/api/v1/auth/register",
        body=RegisterSchema,
        returns=RegistrationAcceptedSchema,
        status=202,
        auth=False,
        tag="auth",
        errors=(429,),
        summary="Register as a mentee or a mentor: the verification link goes by e-mail. The same answer "
        "whether or not the address already has an account (its owner is told by e-mail); too "
        "many registrations from one address: 429 with Retry-After",
    )
    def register(self, request, body):
        return self.identity.register(body, request.client_address)

    @http(
        "POST",
        "/api/v1/auth/sign-in",
        body=SignInSchema,
        returns=TokenViewSchema,
        auth=False,
        tag="auth",
        errors=(429,),
        summary="Exchange e-mail and password for a bearer token (too many "
        "failures per account or address: 429 with Retry-After)",
    )
    def sign_in(self, request, body):
        # the client address counts failed attempts per address (429 with Retry-After past the limit)
        return self.identity.sign_in(body, request.client_address)

    @http("GET", "/api/v1/me", returns=UserViewSchema, tag="auth", summary="The signed-in user")
    def me(self, request, actor):
        return self.identity.get_user(actor, actor["user_id"])

    @http(
        "PUT",
        "/api/v1/me/mentor-profile",
        body=MentorProfileSchema,
        returns=MentorProfileViewSchema,
        tag="mentors",
        summary="Write the signed-in mentor's public profile",
    )
    def update_mentor_profile(self, request, actor, body):
        return self.identity.update_mentor_profile(actor, body)

    @http(
        "GET",
        "/api/v1/me/questionnaire",
        returns=QuestionnaireViewSchema,
        tag="questionnaire",
        summary="The signed-in mentee's onboarding questionnaire (404 before the first)",
    )
    def get_questionnaire(self, request, actor):
        return self.identity.get_questionnaire(actor)

    @http(
        "PUT",
        "/api/v1/me/questionnaire",
        body=QuestionnaireSchema,
        returns=QuestionnaireViewSchema,
        tag="questionnaire",
        summary="Write the signed-in mentee's onboarding questionnaire",
    )
    def update_questionnaire(self, request, actor, body):
        return self.identity.update_questionnaire(actor, body)

    @http(
        "GET",
        "/api/v1/me/questionnaire/reads",
        returns=QuestionnaireReadListSchema,
        tag="questionnaire",
        summary="Who read the signed-in mentee's questionnaire, on which case, newest first",
    )
    def questionnaire_reads(self, request, actor):
        return {"items": self.identity.questionnaire_reads(actor) or []}

    @http(
        "GET",
        "/api/v1/mentors",
        query=RubricQuerySchema,
        returns=MentorProfileListSchema,
        auth=False,
        tag="mentors",
        summary="Public mentor profiles, optionally of one rubric",
    )
    def list_mentors(self, request, query):
        return {"items": self.identity.list_mentor_profiles(query["rubric"]) or []}

    @http(
        "GET",
        "/api/v1/mentors/<mentor_id>",
        returns=MentorProfileViewSchema,
        auth=False,
        tag="mentors",
        summary="One public mentor profile",
    )
    def get_mentor(self, request, mentor_id):
        return self.identity.get_mentor_profile(mentor_id)

    # ---- cases --------------------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/cases",
        body=CaseFormSchema,
        returns=CaseViewSchema,
        status=201,
        idempotent=True,
        tag="cases",
        summary="File a problem case",
    )
    def create_case(self, request, actor, body):
        require_verified_email(request)
        case = self._case_view(self.cases.create_case(actor, body, request_key(request)))
        return dict(case, similar=self.similar_for_new_case(actor, case))  # routes_library.py

    @http(
        "GET",
        "/api/v1/cases",
        query=CaseFilterSchema,
        returns=CaseSummaryPageSchema,
        tag="cases",
        summary="A page of the cases the signed-in user may see, newest change first, each with its summary "
        "(excerpt, rubrics, mode, state, whose turn since when); next_cursor gives the next page "
        "(the filters other than cursor and limit are for moderators)",
    )
    def list_cases(self, request, actor, query):
        return self.cases.list_cases(actor, query)

    @http(
        "GET",
        "/api/v1/cases/<case_id>",
        returns=CaseViewSchema,
        tag="cases",
        summary="One case, with the proposed mentors' public profiles",
    )
    def get_case(self, request, actor, case_id):
        return self._case_view(self.cases.get_case(actor, case_id))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/mentor",
        body=ChooseMentorSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The author picks one of the proposed mentors",
    )
    def choose_mentor(self, request, actor, case_id, body):
        return self._case_view(self.cases.choose_mentor(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/accept",
        returns=CaseViewSchema,
        tag="cases",
        summary="The chosen mentor accepts the case",
    )
    def accept_case(self, request, actor, case_id):
        return self._case_view(self.cases.accept_case(actor, case_id))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/decline",
        body=ReasonSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The chosen mentor declines the case; another round of assignment follows",
    )
    def decline_case(self, request, actor, case_id, body):
        return self._case_view(self.cases.decline_case(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/questions",
        body=AskQuestionsSchema,
        returns=CaseViewSchema,
        status=201,
        idempotent=True,
        tag="cases",
        summary="The mentor asks clarifying or developing questions, from the bank or own",
    )
    def ask_questions(self, request, actor, case_id, body):
        return self._case_view(self.cases.ask_questions(actor, case_id, body, request_key(request)))

    @http(
        "GET",
        "/api/v1/cases/<case_id>/question-suggestions",
        query=QuestionSuggestionQuerySchema,
        returns=QuestionSuggestionListSchema,
        tag="cases",
        summary="For the case's mentor: questions to ask, learned from similar solved cases (anonymized, with "
        "where they come from: in how many similar solved cases asked, how many solved), then the "
        "hint bank; give a suggestion's id as suggestion_id when asking it, as is or edited",
    )
    def question_suggestions(self, request, actor, case_id, query):
        return self.cases.question_suggestions(actor, case_id, query)

    @http(
        "POST",
        "/api/v1/cases/<case_id>/answers",
        body=AnswerQuestionsSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The author answers the mentor's questions",
    )
    def answer_questions(self, request, actor, case_id, body):
        return self._case_view(self.cases.answer_questions(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/keep-request",
        returns=CaseViewSchema,
        tag="cases",
        summary="The author keeps the first version of the request after the answers",
    )
    def keep_request(self, request, actor, case_id):
        return self._case_view(self.cases.keep_request(actor, case_id))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/revisions",
        body=CaseFormSchema,
        returns=CaseViewSchema,
        status=201,
        tag="cases",
        summary="The author defines the problem more precisely: the whole form again",
    )
    def redefine_case(self, request, actor, case_id, body):
        return self._case_view(self.cases.redefine_case(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/colleagues",
        body=ShareSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The mentor takes the opinion of named colleagues (needs the author's consent)",
    )
    def share_with_colleagues(self, request, actor, case_id, body):
        known = {p["mentor_id"] for p in self.identity.get_public_profiles(body["colleague_ids"]) or []}
        unknown = [c for c in body["colleague_ids"] if c not in known]
        if unknown:  # colleagues are mentors with a public profile
            raise InvalidInput(
                "Share the case with mentors only.", {"colleague_ids": [f"Not a mentor: {', '.join(unknown)}."]}
            )
        return self._case_view(self.cases.share_with_colleagues(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/opinions",
        body=TextSchema,
        returns=CaseViewSchema,
        status=201,
        idempotent=True,
        tag="cases",
        summary="A colleague the case was shared with gives an opinion",
    )
    def add_opinion(self, request, actor, case_id, body):
        return self._case_view(self.cases.add_opinion(actor, case_id, body, request_key(request)))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/forum",
        body=ForumPublishSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="Publish the case, impersonal, to the forum: a new thread or an existing one",
    )
    def publish_to_forum(self, request, actor, case_id, body):
        return self._case_view(self.cases.publish_to_forum(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/messages",
        body=TextSchema,
        returns=CaseViewSchema,
        status=201,
        idempotent=True,
        tag="cases",
        summary="A message between the author and the mentor (personal mode)",
    )
    def send_message(self, request, actor, case_id, body):
        return self._case_view(self.cases.send_message(actor, case_id, body, request_key(request)))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/solutions",
        body=SolutionSchema,
        returns=CaseViewSchema,
        status=201,
        idempotent=True,
        tag="cases",
        summary="The mentor writes a possible solution",
    )
    def propose_solution(self, request, actor, case_id, body):
        return self._case_view(self.cases.propose_solution(actor, case_id, body, request_key(request)))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/second-opinion",
        returns=CaseViewSchema,
        tag="cases",
        summary="The author asks for a second opinion (once per case) and picks another mentor",
    )
    def request_second_opinion(self, request, actor, case_id):
        return self._case_view(self.cases.request_second_opinion(actor, case_id))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/completion",
        body=ReflectionSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The author completes the case with a reflection sheet",
    )
    def complete_case(self, request, actor, case_id, body):
        return self._case_view(self.cases.complete_case(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/withdrawal",
        body=ReasonSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The author withdraws the case",
    )
    def withdraw_case(self, request, actor, case_id, body):
        return self._case_view(self.cases.withdraw_case(actor, case_id, body))

    @http(
        "POST",
        "/api/v1/cases/<case_id>/reopening",
        returns=CaseViewSchema,
        tag="cases",
        summary="The author reopens a case closed as abandoned: it continues where it stood",
    )
    def reopen_case(self, request, actor, case_id):
        return self._case_view(self.cases.reopen_case(actor, case_id))

    @http(
        "GET",
        "/api/v1/cases/<case_id>/history",
        returns=HistoryListSchema,
        tag="cases",
        summary="Every recorded step of the case",
    )
    def case_history(self, request, actor, case_id):
        return {"items": self.cases.get_history(actor, case_id) or []}

    @http(
        "GET",
        "/api/v1/cases/<case_id>/as-of",
        query=AsOfSchema,
        returns=CaseViewSchema,
        tag="cases",
        summary="The case as it was at a version or at a moment (moderators)",
    )
    def case_as_of(self, request, actor, case_id, query):
        # dumped back: ``at`` crosses RPC as an ISO string, not as a datetime
        return self._case_view(self.cases.get_case_as_of(actor, case_id, schema_of(AsOfSchema).dump(query)))

    @http(
        "GET",
        "/api/v1/cases/<case_id>/author",
        returns=AuthorCardSchema,
        tag="cases",
        summary="The author card: names and questionnaire, for the mentor of a personal-mode case; every "
        "read is in the author's access log. A moderator POSTs a reason instead (400 here)",
    )
    def case_author(self, request, actor, case_id):
        # identity authenticates the token itself and asks cases who may see the author (routes_audit.py)
        return self.identity.author_card(actor, request.access_token, case_id, {})

    def _case_view(self, case):
        """Attach each proposed mentor's public profile (one identity call; null when missing)."""
        mentor_ids = proposed_mentor_ids(case)
        if not mentor_ids:
            return case
        try:
            profiles = self.identity.get_public_profiles(mentor_ids)
        except ServiceUnavailable as exc:
            # the case call has already succeeded (and may have changed state): answer without profiles
            logger.warning("profiles_unavailable", reason=exc.message)
            profiles = {}
        return attach_profiles(case, profiles)

    # ---- library and forum (the inbox: routes_communication.py) -------------------------

    @http(
        "GET",
        "/api/v1/library",
        query=LibrarySearchSchema,
        returns=LibraryEntryListSchema,
        tag="library",
        summary="Solved cases and materials, a page at a time: newest first, or with q a "
        "full-text search (Russian and English) best first; by rubric and kind",
    )
    def list_library(self, request, actor, query):
        return self.library.search(actor, query)

    @http(
        "GET",
        "/api/v1/library/<entry_id>",
        returns=LibraryEntryViewSchema,
        tag="library",
        summary="One library item: a solved case or a material",
    )
    def get_library_entry(self, request, actor, entry_id):
        return self.library.get_entry(actor, entry_id)

    @http(
        "GET",
        "/api/v1/forum/threads",
        query=RubricQuerySchema,
        returns=ThreadSummaryListSchema,
        tag="forum",
        summary='Threads of "What to do? Looking for a way out together", optionally of one rubric',
    )
    def list_threads(self, request, actor, query):
        return {"items": self.library.list_threads(actor, query["rubric"]) or []}

    @http(
        "GET",
        "/api/v1/forum/threads/<thread_id>",
        returns=ThreadViewSchema,
        tag="forum",
        summary="One forum thread with its impersonal case posts",
    )
    def get_thread(self, request, actor, thread_id):
        return self.library.get_thread(actor, thread_id)


def proposed_mentor_ids(case):
    ids = []
    for proposal in (case or {}).get("proposed_mentors") or ():
        mentor_id = proposal.get("mentor_id") if isinstance(proposal, dict) else None
        if mentor_id and mentor_id not in ids:
            ids.append(mentor_id)
    return ids


def attach_profiles(case, profiles):
    """``profiles`` from identity.get_public_profiles: ``{mentor_id: profile}`` or a list of profiles."""
    if isinstance(profiles, dict):
        by_id = profiles
    else:
        by_id = {p["mentor_id"]: p for p in profiles or () if isinstance(p, dict) and p.get("mentor_id")}
    proposals = [
        dict(p, profile=by_id.get(p.get("mentor_id")) or None)
        for p in case.get("proposed_mentors") or ()
        if isinstance(p, dict)
    ]
    return dict(case, proposed_mentors=proposals)
