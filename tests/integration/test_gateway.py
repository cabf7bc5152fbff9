"""The gateway over real HTTP, calling stub services over real RPC on the real broker.

The stubs (tests/integration/gateway_stubs.py) are nameko services named like the real ones; they
return canned data, raise contracts errors, and record what they were called with and under which
correlation id.
"""

import time

import eventlet
import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from kombu import Connection
from nameko.containers import ServiceContainer

from contracts.question_bank import bank_suggestion_id
from services.common.tokens import SALT, TokenSigner
from services.gateway.service import GatewayService
from tests.integration.gateway_stubs import (
    CALLS,
    MATCHING_DATABASE,
    QUESTIONNAIRE,
    QUESTIONNAIRE_VIEW,
    RPC_TIMEOUT,
    STUBS,
    TOKEN_SECRET,
    LibraryStub,
    NotificationsStub,
    calls,
)
from tests.support import case_form, free_port


class Platform:
    def __init__(self, test_env):
        self.test_env = test_env
        self.containers = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, cls, **config):
        container = ServiceContainer(cls, self.test_env.config(cls.name, **config))
        container.start()
        self.containers[cls.name] = container
        return container

    def crash(self, name):
        """The service dies (no graceful stop): its RPC queue stays, nobody consumes it."""
        self.containers.pop(name).kill()

    def stop_all(self):
        pool = eventlet.GreenPool()
        for container in self.containers.values():
            pool.spawn(container.stop)
        pool.waitall()
        self.containers.clear()


@pytest.fixture(scope="module")
def platform(test_env):
    platform = Platform(test_env)
    try:
        for stub in STUBS:
            platform.start(stub)
        platform.start(
            GatewayService,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{platform.port}",
            RPC_TIMEOUT=RPC_TIMEOUT,
            CORS_ALLOW_ORIGIN="*",
            TOKEN_SECRET=TOKEN_SECRET,
        )
        yield platform
    finally:
        platform.stop_all()


@pytest.fixture
def api(platform):
    CALLS.clear()
    session = requests.Session()

    def call(method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, platform.url + path, headers=headers, timeout=15, **kwargs)

    yield call
    session.close()


def token(role="mentee", user_id="u-mentee"):
    return TokenSigner(TOKEN_SECRET, 3600).issue(user_id, role, "s-test")


def expired_token():
    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 7200

    return URLSafeTimedSerializer(TOKEN_SECRET, salt=SALT, signer=PastSigner).dumps(
        {"sub": "u-mentee", "role": "mentee", "sid": "s-test"}
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"]) <= {"code", "message", "fields", "details"}
    assert body["error"]["code"] == code
    assert response.headers["X-Correlation-ID"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return body["error"]


# ---- public routes and operations ---------------------------------------------------------


def test_health_reference_and_openapi_are_public(api):
    health_response = api("GET", "/health")
    assert health_response.status_code == 200 and health_response.json() == {"status": "ok"}
    assert health_response.headers["Access-Control-Allow-Origin"] == "*"
    assert len(health_response.headers["X-Correlation-ID"]) == 32

    reference = api("GET", "/api/v1/reference").json()
    assert [r["number"] for r in reference["rubrics"]] == list(range(1, 13))
    assert reference["rubrics"][9]["slug"] == "interaction-with-parents"
    assert set(reference) >= {"rubrics", "participants", "urgencies", "modes"}

    doc = api("GET", "/openapi.json")
    assert doc.status_code == 200
    spec = doc.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/cases/{case_id}/solutions" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "Error" in spec["components"]["schemas"] and "CaseForm" in spec["components"]["schemas"]
    assert CALLS == []


def test_ready_reports_every_service(api):
    response = api("GET", "/ready")
    # the matching stub answers but has no database: up, not ready
    error = assert_error(response, 503, "service_unavailable")
    services = error["details"]["services"]
    assert set(services) == {"cases", "identity", "matching", "notifications", "library"}
    assert services["matching"] == {"status": "degraded", "database": "unavailable"}
    assert all(services[s] == {"status": "ok", "database": "ok"} for s in services if s != "matching")
    assert "matching" in error["message"]


def test_ready_is_200_when_all_ok(api):
    MATCHING_DATABASE["state"] = "ok"
    try:
        response = api("GET", "/ready")
    finally:
        MATCHING_DATABASE["state"] = "unavailable"
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "services": {
            name: {"status": "ok", "database": "ok"}
            for name in ("cases", "identity", "matching", "notifications", "library")
        },
    }


def test_cors_preflight_on_every_route(api):
    response = api(
        "OPTIONS",
        "/api/v1/cases/c-1/solutions",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-correlation-id",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "x-correlation-id", "idempotency-key"}
    assert (
        api("OPTIONS", "/api/v1/me/questionnaire/reads").headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    )
    assert api("OPTIONS", "/api/v1/me/mentor-profile/photo").headers["Access-Control-Allow-Methods"] == "OPTIONS, PUT"
    assert_error(api("OPTIONS", "/api/v1/nowhere"), 404, "not_found")
    assert CALLS == []


def test_unknown_route_and_wrong_method_use_the_error_shape(api):
    assert_error(api("GET", "/api/v2/cases"), 404, "not_found")
    assert_error(api("GET", "/api/v1/cases/"), 404, "not_found")
    assert_error(api("GET", "/api/v1/cases/" + "x" * 65), 404, "not_found")
    wrong = api("DELETE", "/api/v1/cases", token=token())
    error = assert_error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"] and "GET" in error["details"]["allowed_methods"]


# ---- 400: validation before any RPC -------------------------------------------------------


def test_bad_json_is_400_naming_body(api):
    for raw in ("{not json", "[1, 2]", '"a string"'):
        response = api("POST", "/api/v1/cases", token=token(), data=raw, headers={"Content-Type": "application/json"})
        error = assert_error(response, 400, "invalid_input")
        assert list(error["fields"]) == ["_body"]
    too_large = api("POST", "/api/v1/cases", token=token(), json=case_form(essence="x" * (1024 * 1024 + 1)))
    assert_error(too_large, 413, "payload_too_large")
    assert CALLS == []


def test_form_fields_are_validated_before_the_case_service(api):
    error = assert_error(
        api("POST", "/api/v1/cases", token=token(), json=case_form(essence="x" * 1001)), 400, "invalid_input"
    )
    assert list(error["fields"]) == ["essence"]

    error = assert_error(
        api(
            "POST", "/api/v1/cases", token=token(), json=case_form(rubrics=["class-management-motivation", "astrology"])
        ),
        400,
        "invalid_input",
    )
    assert list(error["fields"]) == ["rubrics"]

    error = assert_error(
        api(
            "POST", "/api/v1/cases/c-1/completion", token=token(), json={"problem_solved": "maybe", "helpfulness": "5"}
        ),
        400,
        "invalid_input",
    )
    assert set(error["fields"]) == {"problem_solved", "helpfulness"}

    error = assert_error(api("GET", "/api/v1/library?rubric=astrology", token=token()), 400, "invalid_input")
    assert list(error["fields"]) == ["rubric"]
    assert CALLS == []


# ---- 401 ----------------------------------------------------------------------------------


def test_protected_routes_need_a_valid_token(api):
    forged = TokenSigner("another-secret-0123456789", 60).issue("x", "moderator", "s-test")
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Basic {token()}"},
        {"Authorization": f"Bearer {expired_token()}"},
        {"Authorization": f"Bearer {forged}"},
    ):
        for method, path in (
            ("GET", "/api/v1/cases"),
            ("GET", "/api/v1/me"),
            ("GET", "/api/v1/library"),
            ("POST", "/api/v1/cases/c-1/accept"),
            ("POST", "/api/v1/cases/c-1/keep-request"),
            ("GET", "/api/v1/question-bank"),
            ("GET", "/api/v1/forum/threads"),
            ("GET", "/api/v1/cases/c-1/as-of?version=1"),
        ):
            assert_error(api(method, path, headers=headers), 401, "unauthorized")
    expired = assert_error(
        api("GET", "/api/v1/inbox", headers={"Authorization": f"Bearer {expired_token()}"}), 401, "unauthorized"
    )
    assert "expired" in expired["message"]
    # the token is checked before the body: no token and a bad body is still 401
    assert_error(api("POST", "/api/v1/cases", data="{oops"), 401, "unauthorized")
    assert CALLS == []


# ---- happy paths: the right RPC with the actor, the answer shaped by its schema -------------


def test_register_sign_in_and_me(api):
    response = api(
        "POST",
        "/api/v1/auth/register",
        json={
            "email": "olga@example.org",
            "password": "correct horse",
            "role": "mentee",
            "first_name": "Olga",
            "last_name": "Smirnova",
        },
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "verification_sent", "email": "olga@example.org"}  # no more
    assert calls("identity.register")[0][1][0]["patronymic"] == ""  # schema defaults applied

    assert_error(
        api(
            "POST",
            "/api/v1/auth/register",
            json={"email": "nope", "password": "short", "role": "moderator", "first_name": "A", "last_name": "B"},
        ),
        400,
        "invalid_input",
    )

    signed = api("POST", "/api/v1/auth/sign-in", json={"email": "olga@example.org", "password": "correct horse"})
    assert signed.status_code == 200
    assert signed.json()["access_token"] == "tok" and signed.json()["user"]["id"] == "u-1"

    me = api("GET", "/api/v1/me", token=token("mentor", "u-7"))
    assert me.status_code == 200 and me.json()["id"] == "u-7"
    assert calls("identity.get_user")[0][1] == ({"user_id": "u-7", "role": "mentor"}, "u-7")


def test_mentor_profiles(api):
    listed = api("GET", "/api/v1/mentors?rubric=self-management")
    assert listed.status_code == 200
    assert listed.json()["items"][0]["mentor_id"] == "m1"
    assert "email" not in listed.json()["items"][0]
    assert calls("identity.list_mentor_profiles")[0][1] == ("self-management",)
    api("GET", "/api/v1/mentors")
    assert calls("identity.list_mentor_profiles")[1][1] == (None,)

    one = api("GET", "/api/v1/mentors/m1")
    assert one.status_code == 200 and one.json()["first_name"] == "Anna" and "email" not in one.json()
    assert_error(api("GET", "/api/v1/mentors/m404"), 404, "not_found")

    updated = api(
        "PUT",
        "/api/v1/me/mentor-profile",
        token=token("mentor", "u-m"),
        json={"rubrics": ["self-management"], "motto": "Listen"},
    )
    assert updated.status_code == 200 and updated.json()["mentor_id"] == "u-m"
    sent = calls("identity.update_mentor_profile")[0][1]
    assert sent[0] == {"user_id": "u-m", "role": "mentor"}
    assert sent[1]["motto"] == "Listen" and sent[1]["accepting_cases"] is True
    error = assert_error(
        api("PUT", "/api/v1/me/mentor-profile", token=token("mentor"), json={"rubrics": []}), 400, "invalid_input"
    )
    assert list(error["fields"]) == ["rubrics"]


def test_create_and_list_cases(api):
    response = api("POST", "/api/v1/cases", token=token(), json=case_form(actions_taken=None))
    assert_error(response, 400, "invalid_input")  # null is not a string

    form = case_form()
    del form["actions_taken"]
    response = api("POST", "/api/v1/cases", token=token(), json=form)
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["number"] == "2026-0001" and "internal_note" not in case
    actor, sent, request_id = calls("cases.create_case")[0][1]
    assert actor == {"user_id": "u-mentee", "role": "mentee"}
    assert sent["actions_taken"] == "" and sent["rubrics"] == form["rubrics"]
    assert request_id  # one key per HTTP request: a redelivered RPC files the case once

    retried = api("POST", "/api/v1/cases", token=token(), json=form, headers={"Idempotency-Key": "retry-7"})
    assert retried.status_code == 201
    assert calls("cases.create_case")[1][1][2] == "retry-7"  # the client's key, for its own retries
    assert calls("identity.get_public_profiles") == []  # nothing to enrich

    listed = api("GET", "/api/v1/cases", token=token())
    assert listed.status_code == 200
    assert listed.json() == {
        "items": [
            {"id": "c-1", "number": "2026-0001", "state": "open", "rubrics": ["self-management"], "urgency": "urgent"}
        ],
        "next_cursor": None,
    }
    assert calls("cases.list_cases")[0][1] == ({"user_id": "u-mentee", "role": "mentee"}, NO_FILTERS)


def test_case_view_carries_the_proposed_mentors_profiles(api):
    response = api("GET", "/api/v1/cases/c-9", token=token())
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["id"] == "c-9" and "internal_note" not in case
    first, second = case["proposed_mentors"]
    assert first["mentor_id"] == "m1" and first["profile"]["last_name"] == "Petrova"
    assert "email" not in first["profile"]
    assert second["mentor_id"] == "m2" and second["profile"] is None
    assert [c[1] for c in calls("identity.get_public_profiles")] == [(["m1", "m2"],)]

    chosen = api("POST", "/api/v1/cases/c-9/mentor", token=token(), json={"mentor_id": "m1"})
    assert chosen.status_code == 200 and chosen.json()["mentor_id"] == "m1"
    assert chosen.json()["proposed_mentors"][0]["profile"]["mentor_id"] == "m1"


def test_case_actions(api):
    mentor = token("mentor", "u-m")
    accepted = api("POST", "/api/v1/cases/c-1/accept", token=mentor)
    assert accepted.status_code == 200 and accepted.json()["state"] == "in_progress"
    assert calls("cases.accept_case")[0][1] == ({"user_id": "u-m", "role": "mentor"}, "c-1")

    solved = api(
        "POST",
        "/api/v1/cases/c-1/solutions",
        token=mentor,
        json={"text": "Try a class contract.", "materials": [{"title": "Book", "reference": "ISBN 1"}]},
    )
    assert solved.status_code == 201, solved.text
    assert solved.json()["solutions"][0]["materials"] == [{"title": "Book", "reference": "ISBN 1", "rubrics": []}]

    done = api(
        "POST",
        "/api/v1/cases/c-1/completion",
        token=token(),
        json={"problem_solved": "partly", "helpfulness": {"s-1": 4, "s-2": 2}},
    )
    assert done.status_code == 200 and done.json()["reflection"]["helpfulness"] == {"s-1": 4, "s-2": 2}
    assert calls("cases.complete_case")[0][1][2] == {
        "problem_solved": "partly",
        "helpfulness": {"s-1": 4, "s-2": 2},
        "actions": "",
        "learned": "",
        "comment": "",
    }
    for helpfulness in (4, {}, {"s-1": 6}, {"s-1": 0}, {"s-1": "4"}, {"s-1": 4.5}):
        error = assert_error(
            api(
                "POST",
                "/api/v1/cases/c-1/completion",
                token=token(),
                json={"problem_solved": "partly", "helpfulness": helpfulness},
            ),
            400,
            "invalid_input",
        )
        assert list(error["fields"]) == ["helpfulness"], helpfulness
    assert len(calls("cases.complete_case")) == 1

    history = api("GET", "/api/v1/cases/c-1/history", token=token())
    assert history.json() == {
        "items": [
            {
                "version": 1,
                "type": "CaseCreated",
                "occurred_at": "2026-01-01T10:00:00+00:00",
                "data": {"rubrics": ["self-management"]},
            },
            {
                "version": 7,
                "type": "CaseRedefined",
                "occurred_at": "2026-01-03T10:00:00+00:00",
                "actor_role": "author",
                "revision": 2,
                "data": {"revision": 2},
                "changes": {"essence": {"before": "a", "after": "b"}},
            },
        ]
    }


def test_inbox_and_library(api):
    inbox = api("GET", "/api/v1/inbox", token=token())
    assert inbox.status_code == 200
    assert inbox.json()["items"][0]["id"] == "n-1" and "recipient_id" not in inbox.json()["items"][0]
    read = api("POST", "/api/v1/inbox/n-1/read", token=token())
    assert read.status_code == 200 and read.json()["read_at"]
    assert_error(api("POST", "/api/v1/inbox/n-2/read", token=token()), 404, "not_found")

    library = api("GET", "/api/v1/library?rubric=self-management", token=token())
    assert library.status_code == 200
    assert library.json() == {
        "items": [{"id": "l-1", "kind": "solved_case", "rubrics": ["self-management"], "essence": "e"}],
        "total": 1,
        "total_exact": True,
        "next_cursor": None,
    }
    assert calls("library.search")[0][1] == (
        {"user_id": "u-mentee", "role": "mentee"},
        {"q": None, "rubric": "self-management", "kind": None, "limit": 20, "cursor": None},
    )
    api(
        "GET",
        "/api/v1/library?q=%D1%83%D1%87%D0%B5%D0%BD%D0%B8%D0%BA%D0%B0%D0%BC&kind=book&limit=5&cursor=abc",
        token=token(),
    )
    assert calls("library.search")[1][1][1] == {
        "q": "ученикам",
        "rubric": None,
        "kind": "book",
        "limit": 5,
        "cursor": "abc",
    }
    for bad in ("limit=101", "limit=0", "kind=poster", "rubric=astrology", "q=" + "x" * 201):
        assert_error(api("GET", f"/api/v1/library?{bad}", token=token()), 400, "invalid_input")
    assert len(calls("library.search")) == 2  # refused before the library
    entry = api("GET", "/api/v1/library/l-1", token=token())
    assert entry.status_code == 200 and entry.json()["id"] == "l-1"


# ---- the mentee's questionnaire and the author card -----------------------------------------


def test_the_mentee_questionnaire(api):
    mine = api("GET", "/api/v1/me/questionnaire", token=token())
    assert mine.status_code == 200, mine.text
    assert mine.json() == QUESTIONNAIRE_VIEW  # shaped by its view: no user_id
    assert calls("identity.get_questionnaire")[0][1] == (MENTEE,)
    error = assert_error(api("GET", "/api/v1/me/questionnaire", token=token(user_id="u-new")), 404, "not_found")
    assert "not filled" in error["message"]

    written = api(
        "PUT",
        "/api/v1/me/questionnaire",
        token=token(),
        json={"school": "Lyceum 7", "subjects": ["Physics"], "years_of_practice": 1},
    )
    assert written.status_code == 200, written.text
    assert written.json()["school"] == "Lyceum 7" and "user_id" not in written.json()
    assert calls("identity.update_questionnaire")[0][1] == (
        MENTEE,
        {
            "school": "Lyceum 7",
            "subjects": ["Physics"],
            "forms_taught": [],
            "years_of_practice": 1,
            "graduation_year": None,
            "graduation_institute": "",
            "workload_hours_per_week": None,
            "rubrics": [],
        },
    )  # defaults applied
    assert_error(
        api("PUT", "/api/v1/me/questionnaire", token=token("mentor", "u-m"), json=QUESTIONNAIRE), 403, "forbidden"
    )

    reads = api("GET", "/api/v1/me/questionnaire/reads", token=token())
    assert reads.status_code == 200, reads.text
    assert reads.json() == {
        "items": [
            {"reader_id": "u-m", "case_id": "c-1", "read_at": "2026-01-03T10:00:00+00:00"},
            {"reader_id": "u-mod", "case_id": "c-2", "read_at": "2026-01-02T10:00:00+00:00"},
        ]
    }
    assert calls("identity.questionnaire_reads")[0][1] == (MENTEE,)


def test_the_questionnaire_is_validated_before_identity(api):
    error = assert_error(
        api(
            "PUT",
            "/api/v1/me/questionnaire",
            token=token(),
            json={
                "school": "s" * 201,
                "subjects": ["x" * 61],
                "forms_taught": [0, 5, 5],
                "years_of_practice": "2",
                "graduation_year": 1900,
                "graduation_institute": "i" * 201,
                "workload_hours_per_week": 81,
                "rubrics": ["no-such-rubric"],
            },
        ),
        400,
        "invalid_input",
    )
    assert set(error["fields"]) == {
        "school",
        "subjects",
        "forms_taught",
        "years_of_practice",
        "graduation_year",
        "graduation_institute",
        "workload_hours_per_week",
        "rubrics",
    }
    error = assert_error(api("PUT", "/api/v1/me/questionnaire", token=token(), json={}), 400, "invalid_input")
    assert set(error["fields"]) == {"school", "subjects", "years_of_practice"}
    for method, path in (
        ("GET", "/api/v1/me/questionnaire"),
        ("PUT", "/api/v1/me/questionnaire"),
        ("GET", "/api/v1/me/questionnaire/reads"),
        ("GET", "/api/v1/cases/c-1/author"),
    ):
        assert_error(api(method, path), 401, "unauthorized")
    assert CALLS == []


def test_the_author_card_is_asked_of_identity_with_the_readers_token(api):
    mentor_token = token("mentor", "u-m")
    card = api("GET", "/api/v1/cases/c-1/author", token=mentor_token)
    assert card.status_code == 200, card.text
    assert card.json() == {
        "user_id": "u-mentee",
        "first_name": "Anna",
        "last_name": "Smirnova",
        "patronymic": "",
        "questionnaire": QUESTIONNAIRE_VIEW,
    }  # no e-mail, no role
    # identity authenticates the token and asks cases itself: the gateway passes no author, no permission
    assert [c[0] for c in CALLS] == ["identity.author_card"]
    assert calls("identity.author_card")[0][1] == (MENTOR, mentor_token, "c-1", {})


def test_a_moderator_posts_a_reason_for_the_author_card(api):
    moderator_token = token("moderator", "u-mod")
    reason = {"reason": "A parent complained about this case."}
    card = api("POST", "/api/v1/cases/c-1/author", token=moderator_token, json=reason)
    assert card.status_code == 200, card.text
    assert card.json()["last_name"] == "Smirnova"
    assert calls("identity.author_card")[0][1] == (
        {"user_id": "u-mod", "role": "moderator"},
        moderator_token,
        "c-1",
        reason,
    )
    error = assert_error(api("GET", "/api/v1/cases/c-1/author", token=moderator_token), 400, "invalid_input")
    assert list(error["fields"]) == ["reason"]
    too_long = assert_error(
        api("POST", "/api/v1/cases/c-1/author", token=moderator_token, json={"reason": "x" * 501}), 400, "invalid_input"
    )
    assert list(too_long["fields"]) == ["reason"]
    assert len(calls("identity.author_card")) == 2  # the over-long reason never left the gateway


@pytest.mark.parametrize("case_id", ["anonymous", "not-yours"])
def test_a_refused_author_card_is_forbidden(api, case_id):
    error = assert_error(api("GET", f"/api/v1/cases/{case_id}/author", token=token("mentor", "u-m")), 403, "forbidden")
    assert error["details"] == {"case_id": case_id}


def test_the_access_log_is_the_authors_page(api):
    page = api("GET", "/api/v1/me/access-log?limit=1&before=9", token=token())
    assert page.status_code == 200, page.text
    assert page.json() == {
        "items": [
            {
                "id": "2",
                "reader_role": "moderator",
                "reader": "a moderator",
                "mentor_id": None,
                "disclosed": ["identity"],
                "case_id": "c-1",
                "reason": "A parent's complaint.",
                "read_at": "2026-01-03T10:00:00+00:00",
            }
        ],
        "next_before": "2",
    }  # no reader id
    assert calls("identity.access_log")[0][1] == (MENTEE, {"limit": 1, "before": "9"})
    assert_error(api("GET", "/api/v1/me/access-log?limit=0", token=token()), 400, "invalid_input")
    assert_error(api("GET", "/api/v1/me/access-log"), 401, "unauthorized")


# ---- the case journey: questions, redefinition, formats, second opinion ---------------------

NO_FILTERS = {
    "state": None,
    "rubric": None,
    "urgency": None,
    "mentor_id": None,
    "waiting_hours": None,
    "flagged": None,
    "cursor": None,
    "limit": 50,
}
MENTOR = {"user_id": "u-m", "role": "mentor"}
MENTEE = {"user_id": "u-mentee", "role": "mentee"}
COLLEAGUE = {"user_id": "u-c", "role": "mentor"}
ASK = {
    "questions": [{"bank_id": "goals-3", "kind": "developing"}, {"text": "Which form exactly?", "kind": "clarifying"}]
}

# action, who acts, JSON body (None: none sent), status, the RPC, what it got after actor and case id
JOURNEY = [
    (
        "decline",
        MENTOR,
        {"reason": "On leave until March."},
        200,
        "decline_case",
        ({"reason": "On leave until March."},),
    ),
    ("decline", MENTOR, None, 200, "decline_case", ({"reason": ""},)),
    (
        "withdrawal",
        MENTEE,
        {"reason": "Solved it with a colleague."},
        200,
        "withdraw_case",
        ({"reason": "Solved it with a colleague."},),
    ),
    (
        "questions",
        MENTOR,
        ASK,
        201,
        "ask_questions",
        (
            {
                "questions": [
                    {"bank_id": "goals-3", "text": None, "kind": "developing", "suggestion_id": None},
                    {"bank_id": None, "text": "Which form exactly?", "kind": "clarifying", "suggestion_id": None},
                ]
            },
        ),
    ),
    (
        "answers",
        MENTEE,
        {"answers": [{"question_id": "q-1", "text": "A calm class."}]},
        200,
        "answer_questions",
        ({"answers": [{"question_id": "q-1", "text": "A calm class."}]},),
    ),
    ("keep-request", MENTEE, None, 200, "keep_request", ()),
    (
        "revisions",
        MENTEE,
        case_form(essence="Only the 7B form ignores homework."),
        201,
        "redefine_case",
        (case_form(essence="Only the 7B form ignores homework."),),
    ),
    (
        "colleagues",
        MENTOR,
        {"colleague_ids": ["u-c", "u-d"]},
        200,
        "share_with_colleagues",
        ({"colleague_ids": ["u-c", "u-d"]},),
    ),
    ("opinions", COLLEAGUE, {"text": "Try peer assessment."}, 201, "add_opinion", ({"text": "Try peer assessment."},)),
    (
        "forum",
        MENTOR,
        {"title": "Homework strike"},
        200,
        "publish_to_forum",
        ({"thread_id": None, "title": "Homework strike"},),
    ),
    ("forum", MENTOR, {"thread_id": "t-1"}, 200, "publish_to_forum", ({"thread_id": "t-1", "title": None},)),
    ("messages", MENTEE, {"text": "Thank you!"}, 201, "send_message", ({"text": "Thank you!"},)),
    ("second-opinion", MENTEE, None, 200, "request_second_opinion", ()),
]
KEYED = ("ask_questions", "add_opinion", "send_message")  # creating: they also get the request key


@pytest.mark.parametrize(
    "action,actor,body,status,rpc_name,sent", JOURNEY, ids=[f"{j[0]}-{i}" for i, j in enumerate(JOURNEY)]
)
def test_journey_commands_reach_their_rpc_with_the_validated_body(api, action, actor, body, status, rpc_name, sent):
    kwargs = {} if body is None else {"json": body}
    response = api("POST", f"/api/v1/cases/c-5/{action}", token=token(actor["role"], actor["user_id"]), **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["id"] == "c-5" and "internal_note" not in response.json()
    [(_, args, _)] = calls(f"cases.{rpc_name}")
    if rpc_name in KEYED:
        *args, request_id = args
        assert request_id  # one key per HTTP request, like create_case
    assert tuple(args) == (actor, "c-5", *sent)


def test_journey_results_are_case_views(api):
    mentor = token("mentor", "u-m")
    declined = api("POST", "/api/v1/cases/c-1/decline", token=mentor, json={"reason": "Busy."})
    assert declined.status_code == 200
    case = declined.json()
    assert case["round"] == 2 and case["engagements"] == [
        {"mentor_id": "u-m", "round": 1, "opinion": 1, "outcome": "declined", "reason": "Busy."}
    ]
    assert case["proposed_mentors"][0]["profile"]["last_name"] == "Petrova"  # enriched like get_case
    assert [c[1] for c in calls("identity.get_public_profiles")] == [(["m1", "m2"],)]

    asked = api("POST", "/api/v1/cases/c-1/questions", token=mentor, json=ASK).json()
    assert asked["state"] == "questions_asked"
    assert asked["questions"][0] == {
        "id": "q-1",
        "bank_id": "goals-3",
        "text": "hint goals-3",
        "kind": "developing",
        "asked_by": "u-m",
        "asked_at": "2026-01-02T10:00:00+00:00",
        "answer": None,
        "answered_at": None,
    }

    redefined = api("POST", "/api/v1/cases/c-1/revisions", token=token(), json=case_form(essence="Only 7B.")).json()
    assert redefined["revision"] == 2 and redefined["decision"] == "redefined"
    assert [r["essence"] for r in redefined["revisions"]] == [case_form()["essence"], "Only 7B."]

    message = api("POST", "/api/v1/cases/c-1/messages", token=token(), json={"text": "Hello"}).json()
    assert message["messages"] == [{"sender_id": "u-mentee", "text": "Hello", "sent_at": "2026-01-02T13:00:00+00:00"}]
    withdrawn = api("POST", "/api/v1/cases/c-1/withdrawal", token=token(), json={"reason": "Done"}).json()
    assert withdrawn["state"] == "withdrawn" and withdrawn["withdrawn_reason"] == "Done"
    second = api("POST", "/api/v1/cases/c-1/second-opinion", token=token()).json()
    assert second["opinion"] == 2 and second["proposed_mentors"][0]["profile"]["mentor_id"] == "m1"


def test_creating_journey_commands_forward_the_idempotency_key(api):
    for action, role, body, rpc_name in (
        ("questions", "mentor", ASK, "ask_questions"),
        ("opinions", "mentor", {"text": "Agreed."}, "add_opinion"),
        ("messages", "mentee", {"text": "Hi"}, "send_message"),
    ):
        for _ in range(2):
            response = api(
                "POST",
                f"/api/v1/cases/c-1/{action}",
                token=token(role),
                json=body,
                headers={"Idempotency-Key": f"retry-{action}"},
            )
            assert response.status_code == 201, response.text
        api("POST", f"/api/v1/cases/c-1/{action}", token=token(role), json=body)
        keys = [c[1][-1] for c in calls(f"cases.{rpc_name}")]
        assert keys[:2] == [f"retry-{action}"] * 2  # the client's key, for its own retries
        assert keys[2] and keys[2] != keys[0]  # without one, a key of this request


def test_journey_bodies_are_validated_before_the_case_service(api):
    def refused(action, body, role="mentor"):
        return assert_error(
            api("POST", f"/api/v1/cases/c-1/{action}", token=token(role), json=body), 400, "invalid_input"
        )["fields"]

    both = refused("questions", {"questions": [{"bank_id": "goals-1", "text": "Mine", "kind": "clarifying"}]})
    assert list(both) == ["questions"] and list(both["questions"]["0"]) == ["_schema"]
    assert list(refused("questions", {"questions": [{"kind": "clarifying"}]})) == ["questions"]  # neither
    unknown = refused("questions", {"questions": [{"bank_id": "goals-99", "kind": "developing"}]})
    assert list(unknown["questions"]["0"]) == ["bank_id"]
    kind = refused("questions", {"questions": [{"bank_id": "goals-1", "kind": "rhetorical"}]})
    assert list(kind["questions"]["0"]) == ["kind"]
    assert list(refused("questions", {"questions": []})) == ["questions"]
    assert list(refused("questions", {"questions": [{"text": f"Q{i}?", "kind": "clarifying"} for i in range(11)]})) == [
        "questions"
    ]
    assert list(refused("answers", {"answers": [{"question_id": "q-1", "text": "  "}]}, "mentee")) == ["answers"]
    assert list(refused("answers", {}, "mentee")) == ["answers"]
    assert list(refused("revisions", case_form(essence="x" * 1001), "mentee")) == ["essence"]
    assert list(refused("colleagues", {"colleague_ids": []})) == ["colleague_ids"]
    assert list(refused("colleagues", {"colleague_ids": [f"u-{i}" for i in range(6)]})) == ["colleague_ids"]
    assert list(refused("opinions", {"text": "   "})) == ["text"]
    assert list(refused("messages", {"text": "x" * 2001}, "mentee")) == ["text"]
    assert list(refused("forum", {"title": "x" * 201})) == ["title"]
    assert list(refused("decline", {"reason": "x" * 1001})) == ["reason"]
    assert list(refused("withdrawal", {"reason": 7}, "mentee")) == ["reason"]
    assert CALLS == []


def test_colleagues_must_be_mentors(api):
    response = api(
        "POST",
        "/api/v1/cases/c-5/colleagues",
        token=token(MENTOR["role"], MENTOR["user_id"]),
        json={"colleague_ids": ["u-c", "u-mentee"]},
    )
    error = assert_error(response, 400, "invalid_input")
    assert error["fields"] == {"colleague_ids": ["Not a mentor: u-mentee."]}
    assert calls("cases.share_with_colleagues") == []


@pytest.mark.parametrize(
    "action,body",
    [
        ("decline", {}),
        ("withdrawal", {}),
        ("questions", ASK),
        ("answers", {"answers": [{"question_id": "q", "text": "a"}]}),
        ("keep-request", None),
        ("revisions", case_form()),
        ("colleagues", {"colleague_ids": ["u-c"]}),
        ("opinions", {"text": "t"}),
        ("forum", {}),
        ("messages", {"text": "t"}),
        ("second-opinion", None),
    ],
)
def test_journey_refusals_keep_their_status(api, action, body):
    kwargs = {} if body is None else {"json": body}
    error = assert_error(api("POST", f"/api/v1/cases/not-yours/{action}", token=token(), **kwargs), 403, "forbidden")
    assert error["details"] == {"case_id": "not-yours"}
    error = assert_error(api("POST", f"/api/v1/cases/closed/{action}", token=token(), **kwargs), 409, "conflict")
    assert error["details"] == {"state": "completed"} and error["message"].startswith("The case is completed")


def test_list_filters_arrive_as_a_dict(api):
    moderator = token("moderator", "u-mod")
    listed = api(
        "GET",
        "/api/v1/cases?state=awaiting_acceptance&rubric=self-management&urgency=urgent"
        "&mentor_id=m1&waiting_hours=24&_=1700000000",
        token=moderator,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0] == {
        "id": "c-1",
        "number": "2026-0001",
        "state": "open",
        "rubrics": ["self-management"],
        "urgency": "urgent",
    }
    api("GET", "/api/v1/cases?waiting_hours=0.5", token=moderator)
    assert [c[1] for c in calls("cases.list_cases")] == [
        (
            {"user_id": "u-mod", "role": "moderator"},
            dict(
                NO_FILTERS,
                state="awaiting_acceptance",
                rubric="self-management",
                urgency="urgent",
                mentor_id="m1",
                waiting_hours=24.0,
            ),
        ),  # the cache-buster is dropped
        ({"user_id": "u-mod", "role": "moderator"}, dict(NO_FILTERS, waiting_hours=0.5)),
    ]

    CALLS.clear()
    for query, field in (
        ("waiting_hours=-1", "waiting_hours"),
        ("waiting_hours=soon", "waiting_hours"),
        ("waiting_hours=nan", "waiting_hours"),
        ("rubric=astrology", "rubric"),
        ("urgency=whenever", "urgency"),
    ):
        error = assert_error(api("GET", f"/api/v1/cases?{query}", token=moderator), 400, "invalid_input")
        assert list(error["fields"]) == [field], query
    assert CALLS == []


def test_case_as_of_a_version_or_a_moment(api):
    moderator = token("moderator", "u-mod")
    by_version = api("GET", "/api/v1/cases/c-1/as-of?version=3", token=moderator)
    assert by_version.status_code == 200, by_version.text
    assert by_version.json()["version"] == 3 and by_version.json()["state"] == "awaiting_mentors"
    by_time = api("GET", "/api/v1/cases/c-1/as-of", token=moderator, params={"at": "2026-01-02T10:00:00+03:00"})
    assert by_time.status_code == 200, by_time.text
    api("GET", "/api/v1/cases/c-1/as-of?at=2026-01-02T07:00:00Z", token=moderator)
    assert [c[1][1:] for c in calls("cases.get_case_as_of")] == [
        ("c-1", {"version": 3, "at": None}),
        ("c-1", {"version": None, "at": "2026-01-02T10:00:00+03:00"}),  # an ISO string crosses RPC
        ("c-1", {"version": None, "at": "2026-01-02T07:00:00+00:00"}),
    ]
    error = assert_error(api("GET", "/api/v1/cases/not-yours/as-of?version=1", token=token()), 403, "forbidden")
    assert error["details"] == {"case_id": "not-yours"}

    CALLS.clear()
    for query, field in (
        ("at=yesterday", "at"),
        ("at=2026-01-02T10:00:00", "at"),  # no zone
        ("version=0", "version"),
        ("version=two", "version"),
    ):
        error = assert_error(api("GET", f"/api/v1/cases/c-1/as-of?{query}", token=moderator), 400, "invalid_input")
        assert list(error["fields"]) == [field], query
    assert CALLS == []


def test_question_bank_is_served_by_the_gateway(api):
    response = api("GET", "/api/v1/question-bank", token=token("mentor"))
    assert response.status_code == 200, response.text
    groups = response.json()["items"]
    assert [g["slug"] for g in groups] == ["goals-and-motives", "swot", "options", "planning"]
    ids = [h["id"] for g in groups for h in g["hints"]]
    assert len(ids) == len(set(ids)) and all(h["text"] for g in groups for h in g["hints"])
    assert all(g["title"] and g["hints"] for g in groups)
    assert groups[3]["hints"] == [
        {
            "id": "planning-1",
            "text": "What three actions can you take to see your first result as early as this week?",
            "kind": "developing",
            "suggestion_id": bank_suggestion_id("planning-1"),  # asked with it, its use is recorded
        }
    ]
    assert all(h["kind"] == g["kind"] for g in groups for h in g["hints"])
    assert_error(api("GET", "/api/v1/question-bank"), 401, "unauthorized")
    assert CALLS == []  # no RPC


def test_forum_threads(api):
    listed = api("GET", "/api/v1/forum/threads?rubric=class-management-motivation", token=token())
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "items": [
            {
                "id": "t-1",
                "title": "Homework strike",
                "rubrics": ["class-management-motivation"],
                "posts_count": 2,
                "created_at": "2026-01-01T10:00:00+00:00",
                "updated_at": "2026-01-02T10:00:00+00:00",
            }
        ]
    }
    api("GET", "/api/v1/forum/threads", token=token("mentor", "u-m"))
    assert [c[1] for c in calls("library.list_threads")] == [(MENTEE, "class-management-motivation"), (MENTOR, None)]

    thread = api("GET", "/api/v1/forum/threads/t-1", token=token())
    assert thread.status_code == 200, thread.text
    assert thread.json()["posts"] == [
        {
            "id": "p-1",
            "essence": "Pupils ignore homework.",
            "question": "What now?",
            "rubrics": ["class-management-motivation"],
            "urgency": "urgent",
            "created_at": "2026-01-01T10:00:00+00:00",
        }
    ]  # impersonal: no case, no author
    assert set(thread.json()) == {"id", "title", "rubrics", "created_at", "updated_at", "posts"}
    assert calls("library.get_thread")[0][1] == (MENTEE, "t-1")
    assert_error(api("GET", "/api/v1/forum/threads/t-404", token=token()), 404, "not_found")
    assert_error(api("GET", "/api/v1/forum/threads?rubric=astrology", token=token()), 400, "invalid_input")


# ---- similar cases, curation, forum posts (routes_library.py) -------------------------------

SIMILAR_ITEM = {
    "id": "l-1",
    "kind": "solved_case",
    "rubrics": ["self-management"],
    "essence": "e",
    "score": 0.8,
    "text_score": 1.0,
    "rubric_score": 0.333,
    "matched_rubrics": ["self-management"],
}


def test_a_new_case_comes_with_similar_items_and_without_them_if_the_library_fails(api):
    form = case_form(essence="Pupils ignore homework.", question="What now?")
    created = api("POST", "/api/v1/cases", token=token(), json=form)
    assert created.status_code == 201, created.text
    assert created.json()["similar"] == [SIMILAR_ITEM]  # no field the contract does not name
    actor, request = calls("library.similar")[0][1]
    assert actor == MENTEE
    assert request == {
        "text": "Pupils ignore homework.\nWhat now?",
        "rubrics": form["rubrics"],
        "limit": 5,
        "author_id": "u-mentee",
    }  # the library leaves the author's own items out

    broken = api("POST", "/api/v1/cases", token=token(), json=case_form(essence="library-breaks"))
    assert broken.status_code == 201, broken.text  # the case is filed all the same
    assert broken.json()["similar"] == [] and broken.json()["number"] == "2026-0001"
    assert len(calls("cases.create_case")) == 2

    assert "similar" not in api("GET", "/api/v1/cases/c-1", token=token()).json()  # only when filed


def test_similar_items_of_a_case_the_cases_service_lets_one_see(api):
    found = api("GET", "/api/v1/cases/c-7/similar?limit=3", token=token())
    assert found.status_code == 200, found.text
    assert found.json() == {"items": [SIMILAR_ITEM]}
    assert calls("cases.get_case")[0][1] == (MENTEE, "c-7")
    assert calls("library.similar")[0][1][1]["limit"] == 3
    assert_error(api("GET", "/api/v1/cases/not-yours/similar", token=token()), 403, "forbidden")
    assert_error(api("GET", "/api/v1/cases/c-7/similar?limit=21", token=token()), 400, "invalid_input")
    assert len(calls("library.similar")) == 1  # a refused case never reaches the library


def test_library_curation_and_forum_posts_pass_through(api):
    material = {
        "material_type": "link",
        "title": "Class rules",
        "url": "https://example.org/rules",
        "rubrics": ["class-management-motivation"],
    }
    assert_error(api("POST", "/api/v1/library/materials", token=token(), json=material), 403, "forbidden")
    added = api("POST", "/api/v1/library/materials", token=token("moderator", "u-mod"), json=material)
    assert added.status_code == 201, added.text
    assert added.json()["title"] == "Class rules" and "added_by" not in added.json()
    assert calls("library.add_material")[1][1][1] == {**material, "description": "", "reference": ""}
    error = assert_error(
        api(
            "POST",
            "/api/v1/library/materials",
            token=token("moderator", "u-mod"),
            json={**material, "url": "not a url", "rubrics": []},
        ),
        400,
        "invalid_input",
    )
    assert set(error["fields"]) == {"url", "rubrics"}
    assert_error(api("PATCH", "/api/v1/library/l-1", token=token("moderator", "u-mod"), json={}), 400, "invalid_input")
    assert_error(
        api("POST", "/api/v1/library/l-1/withdrawal", token=token("moderator", "u-mod"), json={"reason": "  "}),
        400,
        "invalid_input",
    )

    posted = api(
        "POST",
        "/api/v1/forum/threads/t-1/posts",
        token=token(),
        json={"text": "Same here."},
        headers={"Idempotency-Key": "post-1"},
    )
    assert posted.status_code == 201, posted.text
    assert posted.json() == {
        "id": "p-2",
        "kind": "message",
        "text": "Same here.",
        "reply_to": None,
        "author": {"role": "mentee", "label": "Mentee 1", "own": True},
        "created_at": "2026-01-03T10:00:00+00:00",
    }
    assert calls("library.add_post")[0][1] == (MENTEE, "t-1", {"text": "Same here.", "reply_to": None}, "post-1")
    assert_error(api("POST", "/api/v1/forum/threads/t-1/posts", token=token(), json={"text": ""}), 400, "invalid_input")


# ---- errors raised by services --------------------------------------------------------------


def test_service_errors_keep_their_status_fields_and_details(api):
    error = assert_error(api("GET", "/api/v1/cases/missing", token=token()), 404, "not_found")
    assert error["message"] == "No case missing."

    error = assert_error(api("GET", "/api/v1/cases/not-yours", token=token("mentor")), 403, "forbidden")
    assert error["details"] == {"case_id": "not-yours"}

    error = assert_error(
        api("POST", "/api/v1/cases/c-1/mentor", token=token(), json={"mentor_id": "m9"}), 409, "conflict"
    )
    assert error == {
        "code": "conflict",
        "message": "That mentor was not proposed for this case.",
        "fields": {"mentor_id": ["Not one of the proposed mentors."]},
        "details": {"state": "awaiting_choice"},
    }


def test_unexpected_service_error_is_a_500_without_internals(api):
    response = api("GET", "/api/v1/cases/broken", token=token())
    error = assert_error(response, 500, "internal_error")
    assert error["fields"] == {} and "details" not in error
    for secret in ("Traceback", "hunter2", "RuntimeError", "secret.py", "File "):
        assert secret not in response.text


# ---- correlation id ---------------------------------------------------------------------------


def test_correlation_id_reaches_the_service_and_comes_back(api):
    response = api("GET", "/api/v1/cases/c-2", token=token(), headers={"X-Correlation-ID": "trace-abc-123"})
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == "trace-abc-123"
    seen = {name: cid for name, _, cid in CALLS}
    assert seen == {"cases.get_case": "trace-abc-123", "identity.get_public_profiles": "trace-abc-123"}

    CALLS.clear()
    minted = api("GET", "/api/v1/inbox", token=token())
    cid = minted.headers["X-Correlation-ID"]
    assert len(cid) == 32 and CALLS[0][2] == cid

    refused = api("GET", "/api/v1/inbox", headers={"X-Correlation-ID": "trace-refused"})
    assert refused.status_code == 401 and refused.headers["X-Correlation-ID"] == "trace-refused"


# ---- 503 --------------------------------------------------------------------------------------


def test_slow_service_is_503_within_the_timeout(api):
    started = time.monotonic()
    response = api("GET", "/api/v1/cases/slow", token=token())
    elapsed = time.monotonic() - started
    error = assert_error(response, 503, "service_unavailable")
    assert "cases" in error["message"] and error["details"] == {"service": "cases"}
    assert RPC_TIMEOUT - 0.2 <= elapsed < RPC_TIMEOUT + 1.5


def test_service_not_running_is_503(api, platform, test_env):
    # crashed: its queue remains, nobody answers -> 503 at the timeout
    platform.crash("notifications")
    try:
        started = time.monotonic()
        error = assert_error(api("GET", "/api/v1/inbox", token=token()), 503, "service_unavailable")
        assert time.monotonic() - started < RPC_TIMEOUT + 1.5
        assert "notifications" in error["message"]
    finally:
        platform.start(NotificationsStub)

    # never deployed: no queue at all -> 503 at once (the broker returns the message)
    platform.crash("library")
    try:
        with Connection(test_env.amqp_uri) as connection:
            connection.default_channel.queue_delete("rpc-library")
        started = time.monotonic()
        error = assert_error(api("GET", "/api/v1/library", token=token()), 503, "service_unavailable")
        assert time.monotonic() - started < 1.5
        assert "library" in error["message"] and "not running" in error["message"]

        ready = assert_error(api("GET", "/ready"), 503, "service_unavailable")
        services = ready["details"]["services"]
        assert services["library"]["status"] == "unavailable" and "library" in services["library"]["message"]
        assert services["cases"]["status"] == "ok"
    finally:
        platform.start(LibraryStub)
    assert api("GET", "/api/v1/library", token=token()).status_code == 200
