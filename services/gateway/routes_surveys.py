"""Survey routes (issue #22 part 1): moderators (and accredited mentors, when moderators allow it)
create surveys; the people asked answer once; the author and moderators read the results, as JSON or
CSV. The library service decides who may do what (services/library/surveys.py).

A mixin of GatewayService (it has the RPC proxies).
"""

import csv
import io

from werkzeug.wrappers import Response

from contracts.surveys import (
    AnswerAcceptedSchema,
    SurveyAnswerSchema,
    SurveyDefinitionSchema,
    SurveyListSchema,
    SurveyResultsSchema,
    SurveySettingsSchema,
    SurveyViewSchema,
)
from services.gateway.entrypoints import http
from services.gateway.http import request_key

CSV_MEDIA = "text/csv"


def results_csv_rows(results_document):
    """The results as CSV rows: a header, then one row per option count, scale mean or text."""
    rows = [("question_id", "kind", "question", "answer", "count")]
    for q in results_document["questions"]:
        for c in q["counts"]:
            rows.append((q["id"], q["kind"], q["text"], c["option"], c["count"]))
        if q["mean"] is not None:
            rows.append((q["id"], q["kind"], q["text"], "mean", q["mean"]))
        for text in q["texts"]:
            rows.append((q["id"], q["kind"], q["text"], text, 1))
        if q["kind"] != "text" or not q["texts"]:
            rows.append((q["id"], q["kind"], q["text"], "answered", q["answered"]))
    return rows


def results_csv(results):
    """The results document as CSV text (UTF-8 with a BOM, so spreadsheets read Cyrillic)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in results_csv_rows(results):
        writer.writerow([_cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def _cell(value):
    """A cell a spreadsheet will not run as a formula (free text may start with = + - @)."""
    text = str(value)
    return f"'{text}" if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class SurveyRoutes:
    @http(
        "GET",
        "/api/v1/surveys/settings",
        returns=SurveySettingsSchema,
        tag="surveys",
        summary="Whether accredited mentors may create surveys (moderators decide)",
    )
    def survey_settings(self, request, actor):
        return self.library.survey_settings(actor)

    @http(
        "PUT",
        "/api/v1/surveys/settings",
        body=SurveySettingsSchema,
        returns=SurveySettingsSchema,
        tag="surveys",
        summary="A moderator allows (or stops) accredited mentors creating surveys",
    )
    def update_survey_settings(self, request, actor, body):
        return self.library.update_survey_settings(actor, body)

    @http(
        "POST",
        "/api/v1/surveys",
        body=SurveyDefinitionSchema,
        returns=SurveyViewSchema,
        status=201,
        idempotent=True,
        tag="surveys",
        summary="Create a survey: title, audience (mentees, mentors, both; mentors optionally by rubric), "
        "the open period and its questions (a moderator, or an accredited mentor when allowed)",
    )
    def create_survey(self, request, actor, body):
        return self.library.create_survey(actor, body, request_key(request))

    @http(
        "GET",
        "/api/v1/surveys",
        returns=SurveyListSchema,
        tag="surveys",
        summary="Surveys for the reader: those open (or closed) for them, their own; moderators: all",
    )
    def list_surveys(self, request, actor):
        return self.library.list_surveys(actor)

    @http(
        "GET",
        "/api/v1/surveys/<survey_id>",
        returns=SurveyViewSchema,
        tag="surveys",
        summary="One survey with its questions, and whether the reader may still answer it",
    )
    def get_survey(self, request, actor, survey_id):
        return self.library.get_survey(actor, survey_id)

    @http(
        "POST",
        "/api/v1/surveys/<survey_id>/answers",
        body=SurveyAnswerSchema,
        returns=AnswerAcceptedSchema,
        status=201,
        tag="surveys",
        summary="Answer a survey, once, anonymously (400 naming 'survey' outside its period, for a second "
        "answer or outside its audience; naming 'answers.<question id>' for an answer that does not fit)",
    )
    def answer_survey(self, request, actor, survey_id, body):
        return self.library.answer_survey(actor, survey_id, body)

    @http(
        "GET",
        "/api/v1/surveys/<survey_id>/results",
        returns=SurveyResultsSchema,
        tag="surveys",
        summary="A survey's results, aggregates only (free text anonymized): its author and moderators",
    )
    def survey_results(self, request, actor, survey_id):
        return self.library.survey_results(actor, survey_id)

    @http(
        "GET",
        "/api/v1/surveys/<survey_id>/results.csv",
        returns_media=(CSV_MEDIA,),
        tag="surveys",
        summary="The same results as CSV: question_id, kind, question, answer, count",
    )
    def survey_results_csv(self, request, actor, survey_id):
        results = self.library.survey_results(actor, survey_id)
        return Response(
            results_csv(results),
            status=200,
            mimetype=CSV_MEDIA,
            headers={
                "Content-Disposition": f'attachment; filename="survey-{results["survey"]["id"]}.csv"',
                "X-Content-Type-Options": "nosniff",
            },
        )
