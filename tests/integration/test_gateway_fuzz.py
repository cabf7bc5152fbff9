"""The gateway fuzzed from its own OpenAPI document (schemathesis), with the real services
behind it: every operation gets a bounded, derandomized set of generated requests - valid
ones and invalid ones (positive and negative modes) - and must never answer 5xx, every answer
must match the documented schema of its status (or the documented error shape), and a request
valid by the document must not be refused as invalid (positive_data_acceptance: not a 400): the
document states every rule of a single value the server enforces (not blank, unique items, the
NUL rule, lengths, offsets, id formats). The only 400s allowed for valid-by-schema requests are
the rules no JSON Schema can state, listed in STATEFUL_OR_CROSS_FIELD (each named in its field's
description): a wrong current password, ids that must name something that exists, one field
against another or against the clock.

Protected operations are called as a signed-in mentee, mentor or moderator in turn; the
operations that end a session, change a password or erase the account get a user of their own, so the
others keep theirs.
"""

import itertools
import json
import os
import re

import psycopg2
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance, response_schema_conformance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from services.gateway import openapi
from services.gateway.service import GatewayService
from tests.integration.gateway_platform import start_platform

# per operation, positive and negative together: about 1200 requests, 1-2 minutes on 2 cores;
# FUZZ_MAX_EXAMPLES=100 for a deeper run by hand
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
# schemathesis's coverage phase adds every boundary case the schema defines (about 4500 requests,
# 3 minutes): FUZZ_COVERAGE=1 for a deeper run by hand
COVERAGE_PHASE = os.environ.get("FUZZ_COVERAGE") == "1"
SESSION_ENDING = {("POST", "/api/v1/auth/sign-out"), ("PUT", "/api/v1/me/password"), ("DELETE", "/api/v1/me")}
CHECKS = [not_a_server_error, response_schema_conformance, positive_data_acceptance]

# (method, path) -> {(field path as a regular expression, the server's message, or a regular expression
# matching it)}: refusals of valid-by-schema requests for rules that depend on stored data, another
# field or the clock.
_ANY = r"[^.]+"
STATEFUL_OR_CROSS_FIELD = {
    ("PUT", "/api/v1/me/password"): {
        ("current_password", "The current password is not correct."),
        ("new_password", "The new password must differ from the current one."),
    },
    ("DELETE", "/api/v1/me"): {("password", "The current password is not correct.")},
    ("PUT", "/api/v1/me/availability"): {(rf"away_periods\.{_ANY}\.ends_on", "Must not be before starts_on.")},
    ("POST", "/api/v1/messages"): {("recipient_id", "No such user."), ("recipient_id", "Choose another recipient.")},
    ("GET", "/api/v1/messages/{user_id}"): {("before", "No such message here.")},
    ("GET", "/api/v1/inbox"): {("before", "No such entry in your inbox.")},
    ("POST", "/api/v1/inbox/read-all"): {("up_to", "No such entry in your inbox.")},
    ("POST", "/api/v1/calendar"): {
        ("starts_at", "Must be in the future."),
        ("ends_at", "Must be after starts_at."),
        ("link", "An online event needs a link."),
        ("place", "An offline event needs a place."),
    },
    ("GET", "/api/v1/calendar"): {("to", "Must be after from.")},
    # a link's token must be one identity e-mailed and that is still unused and unexpired
    ("POST", "/api/v1/auth/email-verification"): {
        ("token", "The link is not valid: it is wrong, already used or expired. Ask for a new one.")
    },
    ("POST", "/api/v1/auth/password-reset/confirm"): {
        ("token", "The link is not valid: it is wrong, already used or expired. Ask for a new one.")
    },
    ("POST", "/api/v1/cases/{case_id}/questions"): {
        (rf"questions\.{_ANY}\._schema", 'Give either bank_id (a hint of the bank) or text ("other"), not both.')
    },
    ("POST", "/api/v1/cases/{case_id}/colleagues"): {(r"colleague_ids", r"Not a mentor: .*")},
    # an object's keys (solution ids here): OpenAPI 3.0 has no propertyNames to state the NUL rule on them
    ("POST", "/api/v1/cases/{case_id}/completion"): {(r"helpfulness\..*", r"Field name: Must not contain .*")},
    ("GET", "/api/v1/statistics"): {("to", "Must not be before 'from'.")},
    ("GET", "/api/v1/library"): {("cursor", "Not a cursor of this query: start again without it.")},
    ("GET", "/api/v1/cases"): {("cursor", "Pass back next_cursor of the previous page unchanged.")},
    ("GET", "/api/v1/news"): {("cursor", "Pass back next_cursor of the previous page unchanged.")},
    ("GET", "/api/v1/news/all"): {("cursor", "Pass back next_cursor of the previous page unchanged.")},
    # a publication time against the clock (and, once published, against the item's own)
    ("POST", "/api/v1/news"): {("publish_at", "Must be now or later.")},
    ("PATCH", "/api/v1/news/{item_id}"): {
        ("publish_at", "Must be now or later."),
        ("publish_at", "The item is already published: its publication time stays."),
    },
    ("POST", "/api/v1/library/materials"): {(r"url|reference", r"An? \w+ needs its .*")},
    ("PATCH", "/api/v1/library/{entry_id}"): {
        (r"url|reference", r"An? \w+ needs its .*"),
        (_ANY, r"Not editable on an? .*"),
    },
    # a draft's texts are named by their paths in that draft (its own texts[].path), and keep its fields' limits
    ("PATCH", "/api/v1/library/drafts/{draft_id}"): {
        (r"texts\..*", "Not a text of this draft."),
        (r"texts\..*", "Too long or not a text."),
        (r"texts\..*", r"Field name: Must not contain .*"),
    },
    ("POST", "/api/v1/forum/threads/{thread_id}/posts"): {
        ("reply_to", "No such post in this thread."),
        ("Idempotency-Key", "Already used."),
    },
    # a survey's period against the clock; a question's options against its kind
    ("POST", "/api/v1/surveys"): {
        ("closes_at", "Must be after opens_at."),
        ("closes_at", "Must be in the future."),
        (rf"questions\.{_ANY}\.options", "A choice needs at least two options."),
        (rf"questions\.{_ANY}\.options", "Only a choice has options."),
    },
    ("POST", "/api/v1/surveys/{survey_id}/answers"): {(r"answers\..*", r"Field name: Must not contain .*")},
}


def _field_errors(fields, prefix=""):
    """(dotted field path, message) of every error of an error body's ``fields``."""
    for name, value in fields.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _field_errors(value, path + ".")
        else:
            for message in value if isinstance(value, list) else [value]:
                yield path, str(message)


def _a_rule_no_schema_states(case, response):
    """A 400 whose every field error is one of its operation's STATEFUL_OR_CROSS_FIELD rules."""
    allowed = STATEFUL_OR_CROSS_FIELD.get((case.method.upper(), case.path))
    if response.status_code != 400 or not allowed:
        return False
    errors = list(_field_errors(response.json()["error"]["fields"]))
    return bool(errors) and all(
        any(
            re.fullmatch(field, path) and (text == message or re.fullmatch(message, text, re.DOTALL))
            for field, message in allowed
        )
        for path, text in errors
    )


def _forget_sign_in_failures(test_env):
    """The fuzzer's wrong passwords all come from 127.0.0.1: they must not throttle the sign-ins of the
    users this module makes (a deep run, FUZZ_MAX_EXAMPLES, makes many), nor later modules'."""
    with psycopg2.connect(test_env.database_url("identity")) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM sign_in_failures")
    conn.close()


@pytest.fixture(scope="module")
def fuzz_platform(start_module_service, test_env):
    api = start_platform(start_module_service)
    tokens = [api.register("mentee")[1], api.register("mentor")[1], api.moderator(test_env)]
    api.new_user_token = lambda: (_forget_sign_in_failures(test_env), api.register("mentee")[1])[1]
    yield api, itertools.cycle(tokens)
    _forget_sign_in_failures(test_env)


# the document the gateway serves is built from its route declarations: build it here, so the
# operations are known when pytest collects (a test below checks it is the one served)
DOCUMENT = openapi.build(GatewayService)
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": COVERAGE_PHASE}}, "generation": {"mode": "all"}}
    ),
)


def test_the_checks_catch_a_server_error_and_a_broken_contract():
    """The checks can fail: a 5xx, a result off its schema, an error off the error shape."""
    case = schema["/health"]["GET"].Case()

    def answer(status, body):
        request = requests.Request("GET", "http://127.0.0.1/health").prepare()
        return schemathesis.Response(
            status, {"Content-Type": ["application/json"]}, json.dumps(body).encode(), request, 0.0, True
        )

    case.validate_response(answer(200, {"status": "ok"}), checks=CHECKS)
    case.validate_response(
        answer(503, {"error": {"code": "service_unavailable", "message": "m", "fields": {}}}),
        checks=[response_schema_conformance],
    )
    for status, body in (
        (500, {"error": {"code": "internal_error", "message": "m", "fields": {}}}),
        (200, {"status": 5}),
        (404, {"detail": "Not Found"}),
    ):
        with pytest.raises(FailureGroup):
            case.validate_response(answer(status, body), checks=CHECKS)


def test_only_the_listed_rules_excuse_a_400_of_a_valid_request():
    """The exceptions to positive_data_acceptance are exactly STATEFUL_OR_CROSS_FIELD: every field
    error of the 400 must be one of its operation's."""

    class Answer:
        def __init__(self, status, fields):
            self.status_code, self._fields = status, fields

        def json(self):
            return {"error": {"code": "invalid_input", "message": "m", "fields": self._fields}}

    periods = type("Case", (), {"method": "put", "path": "/api/v1/me/availability"})()
    ordered = {"away_periods": {"0": {"ends_on": ["Must not be before starts_on."]}}}
    assert _a_rule_no_schema_states(periods, Answer(400, ordered))
    assert not _a_rule_no_schema_states(periods, Answer(422, ordered))
    assert not _a_rule_no_schema_states(periods, Answer(400, {**ordered, "capacity": ["Must be at most 50."]}))
    assert not _a_rule_no_schema_states(periods, Answer(400, {}))
    other = type("Case", (), {"method": "post", "path": "/api/v1/cases"})()
    assert not _a_rule_no_schema_states(other, Answer(400, ordered))
    colleagues = type("Case", (), {"method": "post", "path": "/api/v1/cases/{case_id}/colleagues"})()
    assert _a_rule_no_schema_states(colleagues, Answer(400, {"colleague_ids": ["Not a mentor: a\nb."]}))
    assert not _a_rule_no_schema_states(colleagues, Answer(400, {"colleague_ids": ["Values must not repeat."]}))


def test_the_fuzzed_document_is_the_served_one(fuzz_platform):
    api, _ = fuzz_platform
    served = api("GET", "/openapi.json")
    assert served.status_code == 200, served.text
    assert served.json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_no_operation_fails_or_breaks_its_contract(case, fuzz_platform):
    api, tokens = fuzz_platform
    headers = {}
    if case.operation.definition.raw.get("security"):
        if (case.method.upper(), case.path) in SESSION_ENDING:
            token = api.new_user_token()  # its own user: the shared ones keep their sessions
        else:
            token = next(tokens)
        headers["Authorization"] = f"Bearer {token}"
    response = case.call(base_url=api.url, headers=headers, timeout=30)
    checks = CHECKS
    if _a_rule_no_schema_states(case, response):
        checks = [check for check in CHECKS if check is not positive_data_acceptance]
    case.validate_response(response, checks=checks)
