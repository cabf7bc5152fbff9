"""GET /api/v1/statistics over real HTTP: the gateway, cases, identity and library in this process on
the real broker, on databases of their own (so the counts are this module's only). One document of
the three services' figures for moderators; 403 for others, 401 for visitors. (The figures of issue
#20 - months, formats, turns, library, mentors: tests/integration/test_gateway_figures.py.)"""

import uuid
from datetime import datetime, timezone

import pytest

from services.cases.service import CasesService
from services.identity.admin import create_moderator, open_store
from services.identity.service import IdentityService
from services.library.service import LibraryService
from tests.integration.event_helpers import purge
from tests.integration.gateway_platform import PASSWORD, assert_error, start_platform
from tests.support import case_form

DATABASES = {
    "cases": "cases_statistics_http",
    "identity": "identity_statistics_http",
    "library": "library_statistics_http",
}


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    purge(test_env.amqp_uri, "cases.matching-events")

    def start(service, **config):
        if service.name in DATABASES:
            config["DATABASE_URL"] = test_env.database_url(DATABASES[service.name])
        return start_module_service(service, **config)

    return start_platform(start, backends=(IdentityService, CasesService, LibraryService))


@pytest.fixture(scope="module")
def people(api, test_env):
    """A mentee and a mentor registered over HTTP, and a moderator made as the operator does."""
    mentee, mentee_token = api.register("mentee")
    _, mentor_token = api.register("mentor")
    email = f"moderator-{uuid.uuid4().hex[:12]}@example.org"
    store = open_store(test_env.database_url(DATABASES["identity"]))
    try:
        create_moderator(store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"})
    finally:
        store.close()
    return {
        "mentee": mentee,
        "mentee_token": mentee_token,
        "mentor_token": mentor_token,
        "moderator_token": api.sign_in(email),
    }


def test_moderators_get_cases_and_registrations_in_one_document(api, people, rpc):
    author = {"user_id": people["mentee"]["id"], "role": "mentee"}
    rpc.cases.create_case(author, case_form(rubrics=["digital-technologies"], urgency="urgent"))
    rpc.cases.create_case(author, case_form(rubrics=["digital-technologies", "families-at-risk"]))

    response = api("GET", "/api/v1/statistics", token=people["moderator_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"cases", "registrations", "library"}
    assert body["library"]["total"] == 0 and len(body["library"]["by_rubric"]) == 12
    cases = body["cases"]
    assert cases["total"] == 2 and cases["filed_from"] is None
    assert len(cases["by_rubric"]) == 12 and cases["by_rubric"][3]["slug"] == "digital-technologies"
    assert {r["slug"]: r["count"] for r in cases["by_rubric"] if r["count"]} == {
        "digital-technologies": 2,
        "families-at-risk": 1,
    }
    assert {s["key"]: s["count"] for s in cases["by_state"] if s["count"]} == {"awaiting_proposals": 2}
    assert {u["key"]: u["count"] for u in cases["by_urgency"]} == {
        "urgent": 1,
        "need_advice": 1,
        "want_expert_opinion": 0,
    }
    assert cases["first_response"] == {"cases": 0, "median_seconds": None, "p90_seconds": None}
    year = datetime.now(timezone.utc).year
    assert cases["by_year"] == [{"year": year, "count": 2}]
    assert body["registrations"] == [{"year": year, "mentees": 1, "mentors": 1, "accredited_mentors": 0}]

    today = datetime.now(timezone.utc).date().isoformat()
    period = api("GET", f"/api/v1/statistics?from={today}&to={today}", token=people["moderator_token"])
    assert period.status_code == 200 and period.json()["cases"]["total"] == 2
    assert period.json()["cases"]["filed_from"] == today
    before = api("GET", "/api/v1/statistics?to=2020-12-31", token=people["moderator_token"]).json()
    assert before["cases"]["total"] == 0 and before["registrations"] == body["registrations"]


def test_a_bad_period_is_a_400_naming_the_field(api, people):
    error = assert_error(
        api("GET", "/api/v1/statistics?from=2021-13-01", token=people["moderator_token"]), 400, "invalid_input"
    )
    assert set(error["fields"]) == {"from"}
    error = assert_error(
        api("GET", "/api/v1/statistics?from=2021-02-01&to=2021-01-01", token=people["moderator_token"]),
        400,
        "invalid_input",
    )
    assert set(error["fields"]) == {"to"}


def test_only_moderators_see_statistics(api, people):
    for token in (people["mentee_token"], people["mentor_token"]):
        assert_error(api("GET", "/api/v1/statistics", token=token), 403, "forbidden")
    assert_error(api("GET", "/api/v1/statistics"), 401, "unauthorized")
