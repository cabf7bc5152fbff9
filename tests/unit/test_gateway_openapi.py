"""The OpenAPI document lists every route with its schemas, the bearer scheme and the error shape."""

import json
import re

import pytest

from services.gateway import openapi
from services.gateway.service import GatewayService

EXPECTED = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("GET", "/api/v1/reference"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/sign-in"),
    ("GET", "/api/v1/me"),
    ("PUT", "/api/v1/me/mentor-profile"),
    ("GET", "/api/v1/me/questionnaire"),
    ("PUT", "/api/v1/me/questionnaire"),
    ("GET", "/api/v1/me/questionnaire/reads"),
    ("GET", "/api/v1/cases/{case_id}/author"),
    ("POST", "/api/v1/cases/{case_id}/author"),
    ("GET", "/api/v1/me/access-log"),
    ("GET", "/api/v1/mentors"),
    ("GET", "/api/v1/mentors/{mentor_id}"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{case_id}"),
    ("POST", "/api/v1/cases/{case_id}/mentor"),
    ("POST", "/api/v1/cases/{case_id}/accept"),
    ("POST", "/api/v1/cases/{case_id}/solutions"),
    ("POST", "/api/v1/cases/{case_id}/completion"),
    ("GET", "/api/v1/cases/{case_id}/history"),
    ("POST", "/api/v1/cases/{case_id}/decline"),
    ("POST", "/api/v1/cases/{case_id}/withdrawal"),
    ("POST", "/api/v1/cases/{case_id}/questions"),
    ("POST", "/api/v1/cases/{case_id}/answers"),
    ("POST", "/api/v1/cases/{case_id}/keep-request"),
    ("POST", "/api/v1/cases/{case_id}/revisions"),
    ("POST", "/api/v1/cases/{case_id}/colleagues"),
    ("POST", "/api/v1/cases/{case_id}/opinions"),
    ("POST", "/api/v1/cases/{case_id}/forum"),
    ("POST", "/api/v1/cases/{case_id}/messages"),
    ("POST", "/api/v1/cases/{case_id}/second-opinion"),
    ("POST", "/api/v1/cases/{case_id}/reopening"),
    ("GET", "/api/v1/cases/{case_id}/as-of"),
    ("GET", "/api/v1/question-bank"),
    ("GET", "/api/v1/inbox"),
    ("POST", "/api/v1/inbox/{entry_id}/read"),
    ("GET", "/api/v1/inbox/unread-count"),
    ("POST", "/api/v1/inbox/read-all"),
    ("GET", "/api/v1/me/notification-preferences"),
    ("PUT", "/api/v1/me/notification-preferences"),
    ("POST", "/api/v1/messages"),
    ("GET", "/api/v1/messages"),
    ("GET", "/api/v1/messages/{user_id}"),
    ("POST", "/api/v1/calendar"),
    ("GET", "/api/v1/calendar"),
    ("GET", "/api/v1/calendar/{event_id}"),
    ("PATCH", "/api/v1/calendar/{event_id}"),
    ("POST", "/api/v1/calendar/{event_id}/cancellation"),
    ("PUT", "/api/v1/calendar/{event_id}/attendance"),
    ("DELETE", "/api/v1/calendar/{event_id}/attendance"),
    ("GET", "/api/v1/library"),
    ("GET", "/api/v1/library/{entry_id}"),
    ("POST", "/api/v1/library/materials"),
    ("PATCH", "/api/v1/library/{entry_id}"),
    ("POST", "/api/v1/library/{entry_id}/withdrawal"),
    ("GET", "/api/v1/cases/{case_id}/similar"),
    ("POST", "/api/v1/forum/threads/{thread_id}/posts"),
    ("POST", "/api/v1/forum/posts/{post_id}/hide"),
    ("GET", "/api/v1/forum/threads"),
    ("GET", "/api/v1/forum/threads/{thread_id}"),
    ("GET", "/api/v1/cases/{case_id}/colleague-suggestions"),
    ("GET", "/api/v1/cases/{case_id}/question-suggestions"),
    ("POST", "/api/v1/auth/sign-out"),
    ("PUT", "/api/v1/me/password"),
    ("DELETE", "/api/v1/me"),
    ("POST", "/api/v1/people/{person_id}/erasure"),
    ("GET", "/api/v1/me/mentor-profile"),
    ("PUT", "/api/v1/me/mentor-profile/photo"),
    ("GET", "/api/v1/mentors/{mentor_id}/photo"),
    ("GET", "/api/v1/me/availability"),
    ("PUT", "/api/v1/me/availability"),
    ("GET", "/api/v1/me/accreditation"),
    ("POST", "/api/v1/me/accreditation"),
    ("GET", "/api/v1/accreditation/applications"),
    ("POST", "/api/v1/accreditation/applications/{application_id}/approve"),
    ("POST", "/api/v1/accreditation/applications/{application_id}/reject"),
    ("POST", "/api/v1/mentors/{mentor_id}/suspend"),
    ("POST", "/api/v1/mentors/{mentor_id}/reinstate"),
    ("GET", "/api/v1/statistics"),
    ("GET", "/api/v1/statistics/mentors"),
    ("GET", "/api/v1/statistics/question-suggestions"),
    ("GET", "/api/v1/me/mentor-quality"),
    ("POST", "/api/v1/auth/email-verification"),
    ("POST", "/api/v1/auth/email-verification/resend"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("GET", "/api/v1/library/drafts"),
    ("GET", "/api/v1/library/drafts/{draft_id}"),
    ("PATCH", "/api/v1/library/drafts/{draft_id}"),
    ("POST", "/api/v1/library/drafts/{draft_id}/publication"),
    ("POST", "/api/v1/library/drafts/{draft_id}/rejection"),
    ("GET", "/api/v1/me/publications"),
    ("DELETE", "/api/v1/cases/{case_id}/publication-consent"),
    ("GET", "/api/v1/me/data"),
    ("GET", "/api/v1/news"),
    ("GET", "/api/v1/news/all"),
    ("GET", "/api/v1/news/{item_id}"),
    ("GET", "/api/v1/news/{item_id}/history"),
    ("POST", "/api/v1/news"),
    ("PATCH", "/api/v1/news/{item_id}"),
    ("POST", "/api/v1/news/{item_id}/withdrawal"),
    ("GET", "/api/v1/surveys/settings"),
    ("PUT", "/api/v1/surveys/settings"),
    ("POST", "/api/v1/surveys"),
    ("GET", "/api/v1/surveys"),
    ("GET", "/api/v1/surveys/{survey_id}"),
    ("POST", "/api/v1/surveys/{survey_id}/answers"),
    ("GET", "/api/v1/surveys/{survey_id}/results"),
    ("GET", "/api/v1/surveys/{survey_id}/results.csv"),
}

BODIES = {
    ("POST", "/api/v1/auth/register"): "Register",
    ("POST", "/api/v1/auth/sign-in"): "SignIn",
    ("PUT", "/api/v1/me/mentor-profile"): "MentorProfile",
    ("PUT", "/api/v1/me/questionnaire"): "Questionnaire",
    ("POST", "/api/v1/cases"): "CaseForm",
    ("POST", "/api/v1/cases/{case_id}/mentor"): "ChooseMentor",
    ("POST", "/api/v1/cases/{case_id}/solutions"): "Solution",
    ("POST", "/api/v1/cases/{case_id}/completion"): "Reflection",
    ("POST", "/api/v1/cases/{case_id}/decline"): "Reason",
    ("POST", "/api/v1/cases/{case_id}/withdrawal"): "Reason",
    ("POST", "/api/v1/cases/{case_id}/questions"): "AskQuestions",
    ("POST", "/api/v1/cases/{case_id}/answers"): "AnswerQuestions",
    ("POST", "/api/v1/cases/{case_id}/revisions"): "CaseForm",
    ("POST", "/api/v1/cases/{case_id}/colleagues"): "Share",
    ("POST", "/api/v1/cases/{case_id}/opinions"): "Text",
    ("POST", "/api/v1/cases/{case_id}/forum"): "ForumPublish",
    ("POST", "/api/v1/cases/{case_id}/messages"): "Text",
    ("POST", "/api/v1/library/materials"): "NewMaterial",
    ("PATCH", "/api/v1/library/{entry_id}"): "LibraryItemEdit",
    ("POST", "/api/v1/library/{entry_id}/withdrawal"): "ModerationReason",
    ("POST", "/api/v1/forum/threads/{thread_id}/posts"): "ForumMessage",
    ("POST", "/api/v1/forum/posts/{post_id}/hide"): "ModerationReason",
    ("POST", "/api/v1/inbox/read-all"): "MarkAllRead",
    ("PUT", "/api/v1/me/notification-preferences"): "PreferencesUpdate",
    ("POST", "/api/v1/messages"): "DirectMessage",
    ("POST", "/api/v1/calendar"): "CalendarEventForm",
    ("PATCH", "/api/v1/calendar/{event_id}"): "CalendarEventPatch",
    ("POST", "/api/v1/calendar/{event_id}/cancellation"): "Reason",
    ("PUT", "/api/v1/me/password"): "PasswordChange",
    ("DELETE", "/api/v1/me"): "ErasureConfirmation",
    ("POST", "/api/v1/people/{person_id}/erasure"): "ErasureReason",
    ("POST", "/api/v1/cases/{case_id}/author"): "AccessReason",
    ("PUT", "/api/v1/me/availability"): "Availability",
    ("POST", "/api/v1/me/accreditation"): "AccreditationApplication",
    ("POST", "/api/v1/accreditation/applications/{application_id}/reject"): "DecisionReason",
    ("POST", "/api/v1/mentors/{mentor_id}/suspend"): "DecisionReason",
    ("POST", "/api/v1/auth/email-verification"): "EmailVerification",
    ("POST", "/api/v1/auth/password-reset"): "PasswordResetRequest",
    ("POST", "/api/v1/auth/password-reset/confirm"): "PasswordReset",
    ("PATCH", "/api/v1/library/drafts/{draft_id}"): "DraftEdit",
    ("POST", "/api/v1/library/drafts/{draft_id}/rejection"): "ModerationReason",
    ("POST", "/api/v1/news"): "NewsItemForm",
    ("PATCH", "/api/v1/news/{item_id}"): "NewsItemPatch",
    ("POST", "/api/v1/news/{item_id}/withdrawal"): "NewsWithdrawal",
    ("PUT", "/api/v1/surveys/settings"): "SurveySettings",
    ("POST", "/api/v1/surveys"): "SurveyDefinition",
    ("POST", "/api/v1/surveys/{survey_id}/answers"): "SurveyAnswer",
}
# raw bodies and results (not JSON): the mentor's photo
IMAGES = ["image/jpeg", "image/png"]
RAW_BODIES = {("PUT", "/api/v1/me/mentor-profile/photo"): IMAGES}
RAW_RESULTS = {
    ("GET", "/api/v1/mentors/{mentor_id}/photo"): IMAGES,
    ("GET", "/api/v1/surveys/{survey_id}/results.csv"): ["text/csv"],
}

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("GET", "/api/v1/reference"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/sign-in"),
    ("GET", "/api/v1/mentors"),
    ("GET", "/api/v1/mentors/{mentor_id}"),
    ("GET", "/api/v1/mentors/{mentor_id}/photo"),
    ("POST", "/api/v1/auth/email-verification"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("GET", "/api/v1/news"),
    ("GET", "/api/v1/news/{item_id}"),
}


@pytest.fixture(scope="module")
def doc():
    return openapi.build(GatewayService)


def operations(doc):
    return {(method.upper(), path): op for path, ops in doc["paths"].items() for method, op in ops.items()}


def test_document_is_openapi_3_and_json_serializable(doc):
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    json.dumps(doc)


def test_every_route_is_documented(doc):
    assert set(operations(doc)) == EXPECTED


def test_request_bodies_reference_their_schemas(doc):
    ops = operations(doc)
    for key, op in ops.items():
        if key in BODIES:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{BODIES[key]}", key
        elif key in RAW_BODIES:
            content = op["requestBody"]["content"]
            assert sorted(content) == RAW_BODIES[key], key
            assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values()), key
            assert {"400", "413", "415"} <= set(op["responses"]), key
        else:
            assert "requestBody" not in op, key
    schemas = doc["components"]["schemas"]
    assert {"essence", "question", "rubrics", "mode", "urgency"} <= set(schemas["CaseForm"]["required"])
    assert schemas["CaseForm"]["properties"]["essence"]["maxLength"] == 1000
    assert "password" in schemas["Register"]["properties"]


def test_every_operation_has_a_success_schema_and_error_responses(doc):
    for key, op in operations(doc).items():
        success = [code for code in op["responses"] if code.startswith("2")]
        assert len(success) == 1, key
        content = op["responses"][success[0]]["content"]
        if key in RAW_RESULTS:
            assert sorted(content) == RAW_RESULTS[key], key
        else:
            assert "schema" in content["application/json"], key
        for code in ("503", "default"):
            assert op["responses"][code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, key
        if key in BODIES:
            assert "400" in op["responses"], key


def test_results_reference_contract_views(doc):
    ops = operations(doc)

    def result(key, status="200"):
        return ops[key]["responses"][status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert result(("POST", "/api/v1/cases"), "201") == "CaseView"
    assert result(("GET", "/api/v1/cases/{case_id}")) == "CaseView"
    assert result(("GET", "/api/v1/cases")) == "CaseSummaryPage"
    assert result(("POST", "/api/v1/auth/sign-in")) == "TokenView"
    assert result(("POST", "/api/v1/auth/register"), "202") == "RegistrationAccepted"
    assert result(("GET", "/api/v1/me")) == "UserView"
    assert result(("POST", "/api/v1/auth/email-verification")) == "EmailVerified"
    assert result(("GET", "/api/v1/library")) == "LibraryEntryList"
    for action in ("decline", "withdrawal", "answers", "keep-request", "colleagues", "forum", "second-opinion"):
        assert result(("POST", f"/api/v1/cases/{{case_id}}/{action}")) == "CaseView", action
    for action in ("questions", "revisions", "opinions", "messages"):
        assert result(("POST", f"/api/v1/cases/{{case_id}}/{action}"), "201") == "CaseView", action
    assert result(("GET", "/api/v1/cases/{case_id}/as-of")) == "CaseView"
    assert result(("GET", "/api/v1/question-bank")) == "QuestionBank"
    assert result(("GET", "/api/v1/forum/threads")) == "ThreadSummaryList"
    assert result(("GET", "/api/v1/forum/threads/{thread_id}")) == "ThreadView"
    assert result(("GET", "/api/v1/me/questionnaire")) == "QuestionnaireView"
    assert result(("PUT", "/api/v1/me/questionnaire")) == "QuestionnaireView"
    assert result(("GET", "/api/v1/me/questionnaire/reads")) == "QuestionnaireReadList"
    assert result(("GET", "/api/v1/cases/{case_id}/author")) == "AuthorCard"
    assert result(("POST", "/api/v1/cases/{case_id}/author")) == "AuthorCard"
    assert result(("GET", "/api/v1/me/access-log")) == "AccessLogPage"
    assert result(("GET", "/api/v1/library/drafts")) == "DraftList"
    for key in [
        ("GET", "/api/v1/library/drafts/{draft_id}"),
        ("PATCH", "/api/v1/library/drafts/{draft_id}"),
        ("POST", "/api/v1/library/drafts/{draft_id}/publication"),
        ("POST", "/api/v1/library/drafts/{draft_id}/rejection"),
    ]:
        assert result(key) == "DraftView", key
    assert result(("GET", "/api/v1/me/publications")) == "DraftViewList"
    assert result(("DELETE", "/api/v1/cases/{case_id}/publication-consent")) == "CaseView"
    assert result(("GET", "/api/v1/me/data")) == "MyData"
    schemas = doc["components"]["schemas"]
    assert schemas["CaseSummaryPage"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/CaseSummary"}
    assert {"excerpt", "mode", "turn", "turn_since", "number", "rubrics", "state"} <= set(
        schemas["CaseSummary"]["properties"]
    )
    assert "next_cursor" in schemas["CaseSummaryPage"]["properties"]
    assert "profile" in schemas["ProposedMentor"]["properties"]
    assert {"questions", "revisions", "engagements", "opinions", "messages", "decision"} <= set(
        schemas["CaseView"]["properties"]
    )
    assert schemas["Reflection"]["properties"]["helpfulness"]["type"] == "object"
    assert schemas["ThreadView"]["properties"]["posts"]["items"] == {"$ref": "#/components/schemas/ForumPostView"}
    assert set(schemas["ThreadSummary"]["properties"]) == {
        "id",
        "title",
        "rubrics",
        "posts_count",
        "created_at",
        "updated_at",
    }
    assert schemas["HintGroup"]["properties"]["hints"]["items"] == {"$ref": "#/components/schemas/Hint"}
    assert schemas["AskQuestions"]["properties"]["questions"]["items"] == {"$ref": "#/components/schemas/Question"}
    assert set(schemas["AuthorCard"]["properties"]) == {
        "user_id",
        "first_name",
        "last_name",
        "patronymic",
        "questionnaire",
    }
    assert {"school", "subjects", "years_of_practice"} <= set(schemas["Questionnaire"]["required"])


def test_bearer_security_on_protected_routes_only(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The access_token of POST /api/v1/auth/sign-in",
    }
    for key, op in operations(doc).items():
        if key in PUBLIC:
            assert op["security"] == [], key
        else:
            assert op["security"] == [{"bearerAuth": []}], key
            assert "401" in op["responses"], key


def test_error_schema_is_the_platform_shape(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error"]
    assert set(schemas["ErrorDetail"]["properties"]) == {"code", "message", "fields", "details"}
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "fields"}


def test_path_and_query_parameters(doc):
    ops = operations(doc)
    params = ops[("GET", "/api/v1/cases/{case_id}/history")]["parameters"]
    assert {
        "name": "case_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": openapi.NOT_BLANK_PATTERN},
    } in params
    rubric = [p for p in ops[("GET", "/api/v1/mentors")]["parameters"] if p["in"] == "query"]
    assert [p["name"] for p in rubric] == ["rubric"]
    assert "education-law" in rubric[0]["schema"]["enum"]
    filters = [p["name"] for p in ops[("GET", "/api/v1/cases")]["parameters"] if p["in"] == "query"]
    assert filters == ["state", "rubric", "urgency", "mentor_id", "waiting_hours", "flagged", "cursor", "limit"]
    as_of = {
        p["name"]: p["schema"]
        for p in ops[("GET", "/api/v1/cases/{case_id}/as-of")]["parameters"]
        if p["in"] == "query"
    }
    assert as_of["version"]["minimum"] == 1 and as_of["at"]["format"] == "date-time"
    assert "400" in ops[("GET", "/api/v1/cases")]["responses"]
    assert "409" in ops[("POST", "/api/v1/cases/{case_id}/keep-request")]["responses"]


def test_werkzeug_paths_convert():
    assert openapi.openapi_path("/a/<case_id>/b/<string:x>") == "/a/{case_id}/b/{x}"
    assert openapi.path_variables("/a/<case_id>/b/<string:x>") == ["case_id", "x"]


def test_document_is_built_once():
    assert openapi.document(GatewayService) is openapi.document(GatewayService)


def test_people_routes_document_their_results_and_refusals(doc):
    ops = operations(doc)

    def result(key, status="200"):
        return ops[key]["responses"][status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert result(("POST", "/api/v1/auth/sign-out")) == "StatusView"
    assert result(("PUT", "/api/v1/me/password")) == "PasswordChanged"
    assert result(("PUT", "/api/v1/me/mentor-profile/photo")) == "PhotoView"
    assert result(("PUT", "/api/v1/me/availability")) == "AvailabilityView"
    assert result(("POST", "/api/v1/me/accreditation"), "201") == "AccreditationView"
    assert result(("GET", "/api/v1/accreditation/applications")) == "ApplicationReviewList"
    assert result(("POST", "/api/v1/accreditation/applications/{application_id}/approve")) == "ApplicationReview"
    assert result(("POST", "/api/v1/mentors/{mentor_id}/suspend")) == "AccreditationView"
    for key in (("POST", "/api/v1/auth/sign-in"), ("PUT", "/api/v1/me/password")):
        assert "429" in ops[key]["responses"], key
    for key in (
        ("POST", "/api/v1/me/accreditation"),
        ("POST", "/api/v1/mentors/{mentor_id}/reinstate"),
        ("POST", "/api/v1/accreditation/applications/{application_id}/approve"),
    ):
        assert "409" in ops[key]["responses"], key
    schemas = doc["components"]["schemas"]
    profile = schemas["MentorProfileView"]["properties"]
    assert {"accredited", "photo_url"} <= set(profile) and "email" not in profile
    assert "capacity" not in profile and "experience" not in profile  # private: availability, statement
    assert set(schemas["AwayPeriod"]["required"]) == {"starts_on", "ends_on"}
    assert schemas["Availability"]["properties"]["capacity"]["maximum"] == 50
    assert set(schemas["AccreditationApplication"]["required"]) == {"experience", "motivation"}
    states = [p for p in ops[("GET", "/api/v1/accreditation/applications")]["parameters"] if p["in"] == "query"]
    assert [p["name"] for p in states] == ["state"] and states[0]["schema"]["enum"] == [
        "pending",
        "approved",
        "rejected",
    ]


def test_statistics_route_documents_its_period_and_figures(doc):
    op = operations(doc)[("GET", "/api/v1/statistics")]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Statistics")
    assert {"401", "403", "400"} <= set(op["responses"])
    query = [p for p in op["parameters"] if p["in"] == "query"]
    assert [(p["name"], p["schema"].get("format")) for p in query] == [("from", "date"), ("to", "date")]
    schemas = doc["components"]["schemas"]
    assert set(schemas["Statistics"]["required"]) == {"cases", "registrations", "library"}
    assert {
        "by_rubric",
        "by_state",
        "by_urgency",
        "by_year",
        "first_response",
        "by_month",
        "by_mode",
        "by_format",
        "declines",
        "second_opinions",
        "questions_by_kind",
        "open_by_turn",
    } <= set(schemas["CaseStatistics"]["properties"])
    assert set(schemas["LibraryStatistics"]["properties"]) == {"total", "by_rubric"}
    assert set(schemas["RegistrationYear"]["properties"]) == {"year", "mentees", "mentors", "accredited_mentors"}
    assert set(schemas["ResponseTime"]["properties"]) == {"cases", "median_seconds", "p90_seconds"}


def test_mentor_quality_routes_document_their_sort_and_figures(doc):
    ops = operations(doc)
    op = ops[("GET", "/api/v1/statistics/mentors")]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/MentorQualityList")
    query = {p["name"]: p["schema"] for p in op["parameters"] if p["in"] == "query"}
    assert set(query) == {"sort", "order", "mentor_id"} and "acceptance_rate" in query["sort"]["enum"]
    assert ops[("GET", "/api/v1/me/mentor-quality")]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/MentorQualityList")
    figures = doc["components"]["schemas"]["MentorQuality"]["properties"]
    assert {
        "time_to_accept",
        "time_to_first_question",
        "time_to_first_solution",
        "acceptance_rate",
        "decline_rate",
        "second_opinion_rate",
        "solved",
        "helpfulness_mean",
        "by_rubric",
    } <= set(figures)
    assert "author_id" not in figures


def test_reference_labels_participants_and_question_kinds(doc):
    schemas = doc["components"]["schemas"]
    assert {"participant_labels", "question_kinds"} <= set(schemas["Reference"]["required"])
    assert "kind" in schemas["Hint"]["properties"] and "kind" in schemas["HintGroup"]["properties"]


# ---- the rules the server enforces, stated (issue 18: "OpenAPI drift") -----------------------------


def _strings(node):
    if isinstance(node, dict):
        if node.get("type") == "string":
            yield node
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_every_free_string_states_the_nul_rule_and_not_blank_ones_say_so(doc):
    schemas = doc["components"]["schemas"]
    free = [s for s in _strings(doc) if "enum" not in s and "format" not in s]
    assert free and all(
        s.get("pattern") in (openapi.NO_NUL_PATTERN, openapi.NOT_BLANK_PATTERN) or s.get("pattern", "").startswith("^[")
        for s in free
    )
    assert schemas["CaseForm"]["properties"]["essence"]["pattern"] == openapi.NOT_BLANK_PATTERN
    assert schemas["CaseForm"]["properties"]["actions_taken"]["pattern"] == openapi.NO_NUL_PATTERN
    assert all(s["pattern"] == openapi.URL_PATTERN for s in _strings(doc) if s.get("format") == "url")


def test_the_not_blank_pattern_says_what_the_server_checks():
    """The document's pattern (a JSON Schema search) and the server's rules (not blank: NotBlank;
    no NUL: the gateway) agree, whitespace of Python's and of JavaScript's dialect alike."""
    from marshmallow import ValidationError

    from contracts.validation import not_blank

    def server_takes(text):
        try:
            not_blank(text)
        except ValidationError:
            return False
        return "\x00" not in text

    for text in [
        "a",
        " a ",
        "\t\n\x1e",
        "\x1c\x1d\x1f",
        "\x85",
        "\ufeff",
        "\u3000 \u2028",
        "\u00a0x",
        "",
        " ",
        "a\x00",
        "\x00",
        "\u200b",
        "\n\n\f\n\t\t\x0b\xf5",
        "\U0001f600",
    ]:
        assert bool(re.search(openapi.NOT_BLANK_PATTERN, text)) == server_takes(text), repr(text)


def test_unique_lists_at_least_one_field_and_dict_rules_are_stated(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["CaseForm"]["properties"]["rubrics"]["uniqueItems"] is True
    assert schemas["CaseForm"]["properties"]["participants"]["uniqueItems"] is True
    assert schemas["Questionnaire"]["properties"]["forms_taught"]["uniqueItems"] is True
    assert schemas["LibraryItemEdit"]["minProperties"] == 1
    helpfulness = schemas["Reflection"]["properties"]["helpfulness"]
    assert helpfulness["minProperties"] == 1 and "minLength" not in helpfulness
    email = schemas["PreferencesUpdate"]["properties"]["email"]
    assert email["additionalProperties"] is False and "solution_proposed" in email["properties"]


def test_creating_routes_document_the_idempotency_key_and_times_their_offsets(doc):
    ops = operations(doc)
    for key in [
        ("POST", "/api/v1/cases"),
        ("POST", "/api/v1/cases/{case_id}/solutions"),
        ("POST", "/api/v1/messages"),
        ("POST", "/api/v1/calendar"),
        ("POST", "/api/v1/forum/threads/{thread_id}/posts"),
    ]:
        [header] = [p for p in ops[key]["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["schema"]["maxLength"] == openapi.IDEMPOTENCY_KEY_MAX
    assert not [
        p for p in ops[("POST", "/api/v1/cases/{case_id}/accept")]["parameters"] if p["name"] == "Idempotency-Key"
    ]
    starts_at = doc["components"]["schemas"]["CalendarEventForm"]["properties"]["starts_at"]
    assert starts_at["format"] == "date-time"
    assert re.search(starts_at["pattern"], "2030-01-01T10:00:00+14:00")
    assert not re.search(starts_at["pattern"], "2030-01-01T10:00:00+15:00")


def test_changing_routes_say_what_a_503_outcome_means(doc):
    for path, operations_ in doc["paths"].items():
        for method, op in operations_.items():
            if method not in ("get", "options"):
                assert "outcome" in op["responses"]["503"]["description"], (method, path)
    assert "Idempotency-Key" in doc["info"]["description"] and "not_done" in doc["info"]["description"]
