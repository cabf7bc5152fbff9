"""The moderators' statistics: one document from the cases service (cases by rubric, state,
urgency, year, month, mode, format, declines, second opinions, questions by kind, open cases by whose
turn it is, first response times; seed Figure 2), identity (registrations per year; seed Table 1)
and the library (items by rubric); and the mentors' quality figures (moderators: every mentor,
sortable; a mentor: their own).

A mixin of GatewayService (it has the RPC proxies). The services refuse anyone but a moderator
(403), a mentor's own figures aside; the period (``from``/``to``) applies to the cases, the
registrations cover every year, the library counts what is visible now.
"""

from contracts.rpc_cases import QuestionSuggestionUsageSchema
from contracts.statistics import MentorQualityListSchema, MentorQualityQuerySchema, StatisticsFilterSchema
from contracts.validation import schema_of
from services.gateway.entrypoints import http
from services.gateway.schemas_statistics import StatisticsSchema


class StatisticsRoutes:
    @http(
        "GET",
        "/api/v1/statistics",
        query=StatisticsFilterSchema,
        returns=StatisticsSchema,
        tag="statistics",
        summary="Moderators: cases by rubric, state, urgency, year, month, mode and format (optionally filed "
        "between from and to), declines, second opinions, questions by kind, open cases by whose turn it "
        "is, the time to a mentor's first answer, registrations per year and library items by rubric",
    )
    def statistics(self, request, actor, query):
        # dumped back: the dates cross RPC as ISO strings
        cases = self.cases.statistics(actor, schema_of(StatisticsFilterSchema).dump(query))
        registrations = self.identity.registrations_per_year(actor)
        library = self.library.statistics(actor)
        return {"cases": cases, "registrations": registrations["items"], "library": library}

    @http(
        "GET",
        "/api/v1/statistics/question-suggestions",
        returns=QuestionSuggestionUsageSchema,
        tag="statistics",
        summary="Moderators: how often the questions suggested to mentors (learned from "
        "solved cases, or the hint bank) were asked, as is or edited, among all "
        "questions asked, and how the completed cases that used them ended",
    )
    def question_suggestion_usage(self, request, actor):
        return self.cases.question_suggestion_usage(actor)

    @http(
        "GET",
        "/api/v1/statistics/mentors",
        query=MentorQualityQuerySchema,
        returns=MentorQualityListSchema,
        tag="statistics",
        summary="Moderators: every mentor's quality figures (times to accept, to the first "
        "question and solution, acceptance and decline rates, second opinions, "
        "reflection outcomes and helpfulness, by rubric), sorted by one of them "
        "(a mentor gets only their own; anyone else 403)",
    )
    def mentor_quality(self, request, actor, query):
        return self.cases.mentor_quality(actor, schema_of(MentorQualityQuerySchema).dump(query))

    @http(
        "GET",
        "/api/v1/me/mentor-quality",
        returns=MentorQualityListSchema,
        tag="statistics",
        summary="The signed-in mentor's own quality figures (one item; none before a first engagement)",
    )
    def own_mentor_quality(self, request, actor):
        return self.cases.mentor_quality(actor, {"mentor_id": actor["user_id"]})  # one's own, whoever asks
