"""The gateway fuzzed from its own OpenAPI document (schemathesis), with the real services
behind it: every operation gets a bounded, derandomized set of generated requests - valid
ones and invalid ones - and must never answer 5xx, and every answer must match the documented
schema of its status (or the documented error shape).

Protected operations are called as a signed-in mentee, mentor or moderator in turn; the
operations that end a session or change a password get a user of their own, so the others
keep theirs.
"""
import itertools
import json

import psycopg2

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from services.gateway import openapi
from services.gateway.service import GatewayService
from tests.integration.gateway_platform import start_platform

MAX_EXAMPLES = 15  # per operation: about 1200 requests, a minute on 2 cores
# schemathesis's coverage phase adds every boundary case the schema defines (about 4500 requests,
# 3 minutes): True for a deeper run by hand
COVERAGE_PHASE = False
SESSION_ENDING = {("POST", "/api/v1/auth/sign-out"), ("PUT", "/api/v1/me/password")}
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_platform(start_module_service, test_env):
    api = start_platform(start_module_service)
    tokens = [api.register("mentee")[1], api.register("mentor")[1], api.moderator(test_env)]
    yield api, itertools.cycle(tokens)
    # the fuzzer's wrong passwords all come from 127.0.0.1: do not let them throttle later modules
    with psycopg2.connect(test_env.database_url("identity")) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM sign_in_failures")
    conn.close()


# the document the gateway serves is built from its route declarations: build it here, so the
# operations are known when pytest collects (a test below checks it is the one served)
DOCUMENT = openapi.build(GatewayService)
schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE_PHASE}}}))


def test_the_checks_catch_a_server_error_and_a_broken_contract():
    """The checks can fail: a 5xx, a result off its schema, an error off the error shape."""
    case = schema["/health"]["GET"].Case()

    def answer(status, body):
        request = requests.Request("GET", "http://127.0.0.1/health").prepare()
        return schemathesis.Response(status, {"Content-Type": ["application/json"]}, json.dumps(body).encode(),
                                     request, 0.0, True)

    case.validate_response(answer(200, {"status": "ok"}), checks=CHECKS)
    case.validate_response(answer(503, {"error": {"code": "service_unavailable", "message": "m", "fields": {}}}),
                           checks=[response_schema_conformance])
    for status, body in ((500, {"error": {"code": "internal_error", "message": "m", "fields": {}}}),
                         (200, {"status": 5}), (404, {"detail": "Not Found"})):
        with pytest.raises(FailureGroup):
            case.validate_response(answer(status, body), checks=CHECKS)


def test_the_fuzzed_document_is_the_served_one(fuzz_platform):
    api, _ = fuzz_platform
    served = api("GET", "/openapi.json")
    assert served.status_code == 200, served.text
    assert served.json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_fails_or_breaks_its_contract(case, fuzz_platform):
    api, tokens = fuzz_platform
    headers = {}
    if case.operation.definition.raw.get("security"):
        if (case.method.upper(), case.path) in SESSION_ENDING:
            token = api.register("mentee")[1]  # its own user: the shared ones keep their sessions
        else:
            token = next(tokens)
        headers["Authorization"] = f"Bearer {token}"
    response = case.call(base_url=api.url, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS)
