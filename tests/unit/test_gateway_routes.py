"""Route declarations, handlers' signatures, response shaping and the profile enrichment (no I/O)."""

import inspect
import re
from pathlib import Path

import pytest
import yaml
from nameko.cli.main import setup_yaml_parser

from contracts.question_bank import HINTS_BY_ID
from contracts.rpc_cases import CaseSummaryPageSchema, CaseViewSchema, QuestionSchema
from contracts.rubrics import RUBRIC_SLUGS
from services.gateway import openapi
from services.gateway.schemas import (
    ErrorSchema,
    QuestionBankSchema,
    ReferenceSchema,
    RubricQuerySchema,
    ThreadSummaryListSchema,
    ThreadViewSchema,
)
from services.gateway.service import QUESTION_BANK, REFERENCE, GatewayService, attach_profiles, proposed_mentor_ids

CONFIG = Path(__file__).resolve().parents[2] / "services" / "gateway" / "config.yaml"
BODILESS_ACTIONS = (
    "accept",
    "read",
    "keep-request",
    "second-opinion",
    "attendance",
    "sign-out",
    "approve",
    "reinstate",
    "resend",
    "reopening",
    "publication",
)  # the action is all there is to say


def test_handlers_take_exactly_what_their_route_provides():
    for name, route in openapi.routes(GatewayService):
        handler = inspect.unwrap(getattr(GatewayService, name))
        params = list(inspect.signature(handler).parameters)
        expected = ["self", "request"]
        expected += ["actor"] if route.auth else []
        expected += openapi.path_variables(route.url)
        expected += ["query"] if route.query else []
        expected += ["body"] if route.body or route.body_media else []
        assert sorted(params) == sorted(expected), name
        assert params[:2] == ["self", "request"], name


def test_routes_are_unique_and_versioned():
    seen = set()
    for name, route in openapi.routes(GatewayService):
        key = (route.method, route.url)
        assert key not in seen, key
        seen.add(key)
        assert route.url.startswith("/api/v1/") or route.url in ("/health", "/ready", "/openapi.json"), name
        if route.method in ("POST", "PUT") and route.url.rsplit("/", 1)[1] not in BODILESS_ACTIONS:
            assert route.body is not None or route.body_media, name
        assert route.returns is not None or route.returns_media or name == "openapi_document", name
        assert route.summary and route.tag, name
    assert (
        len(seen) == 113
    )  # with the 8 of review, the right of access and the 2 of erasure (issue 19), 2 of mentor quality, 7 of news
    # and 2 of question suggestions, 8 of surveys (issue 22)


@pytest.fixture
def nameko_yaml():
    """YAML read as `nameko run` reads config.yaml. nameko's parser setup registers ${...} on
    yaml.SafeLoader itself, for the whole process: put back after the test, or every later safe_load
    of the session (docker-compose.yml's ${POSTGRES_IMAGE:-...} in test_deployment) resolves variables."""
    loader = yaml.SafeLoader
    saved = dict(loader.yaml_constructors), {k: list(v) for k, v in loader.yaml_implicit_resolvers.items()}
    setup_yaml_parser()
    yield
    loader.yaml_constructors, loader.yaml_implicit_resolvers = saved


def test_config_yaml_has_the_gateway_keys(monkeypatch, nameko_yaml):
    for key in (
        "AMQP_URI",
        "ACTOR_SIGNING_KEY",
        "GATEWAY_ADDRESS",
        "TOKEN_SECRET",
        "TOKEN_TTL_SECONDS",
        "RPC_TIMEOUT",
        "GATEWAY_SESSION_CHECK",
        "CORS_ALLOW_ORIGIN",
        "TRUST_FORWARDED_FOR",
        "WEB_PROXY_SECRET",
        "LOG_LEVEL",
        "METRICS_PORT",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RPC_TIMEOUT", "3")
    config = yaml.safe_load(CONFIG.read_text())
    assert config == {
        "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
        "WEB_SERVER_ADDRESS": "0.0.0.0:8000",
        "TOKEN_SECRET": "dev-only-token-secret-change-me",
        "ACTOR_SIGNING_KEY": "dev-only:actors",
        "TOKEN_TTL_SECONDS": 3600,
        "GATEWAY_SESSION_CHECK": "local",
        "RPC_TIMEOUT": 3,
        "CORS_ALLOW_ORIGIN": "*",
        "TRUST_FORWARDED_FOR": "false",
        "WEB_PROXY_SECRET": "dev-only-web-proxy-secret-change-me",
        "LOG_LEVEL": "INFO",
        "METRICS_PORT": 0,
        "max_workers": 32,
        "SERVICE_CONTAINER_CLS": "services.common.container.GracefulContainer",
    }


def test_config_yaml_keeps_strings_as_given(monkeypatch, nameko_yaml):
    monkeypatch.setenv("TOKEN_SECRET", "12345678901234567890")
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://a.example, https://b.example")
    monkeypatch.setenv("GATEWAY_ADDRESS", "8000")
    config = yaml.safe_load(CONFIG.read_text())
    assert config["TOKEN_SECRET"] == "12345678901234567890"
    assert config["CORS_ALLOW_ORIGIN"] == "https://a.example, https://b.example"
    assert config["WEB_SERVER_ADDRESS"] == "8000"


def test_reference_document():
    data = ReferenceSchema().dump(REFERENCE)
    assert [r["slug"] for r in data["rubrics"]] == list(RUBRIC_SLUGS)
    assert data["rubrics"][0] == {
        "number": 1,
        "slug": "education-law",
        "label": "Education law",
        "comment": data["rubrics"][0]["comment"],
    }
    assert len(data["rubrics"]) == 12 and all(r["comment"] for r in data["rubrics"])
    assert "pupils-form-11" in data["participants"] and len(data["participants"]) == 18
    assert data["urgencies"] == ["urgent", "need_advice", "want_expert_opinion"]
    assert data["modes"] == ["personal", "anonymous"]


def test_views_drop_fields_the_contract_does_not_name():
    case = {
        "id": "c1",
        "number": "C-1",
        "state": "open",
        "secret_column": "x",
        "form": {"essence": "e", "author_email": "a@b.c"},
        "proposed_mentors": [
            {
                "mentor_id": "m1",
                "score": 0.5,
                "email": "m@x",
                "profile": {"mentor_id": "m1", "first_name": "A", "email": "m@x"},
            }
        ],
    }
    dumped = CaseViewSchema().dump(case)
    assert "secret_column" not in dumped
    assert dumped["form"] == {"essence": "e"}
    assert dumped["proposed_mentors"] == [
        {"mentor_id": "m1", "score": 0.5, "profile": {"mentor_id": "m1", "first_name": "A"}}
    ]
    listed = CaseSummaryPageSchema().dump({"items": [{"id": "c1", "author_id": "u"}], "next_cursor": None})
    assert listed == {"items": [{"id": "c1"}], "next_cursor": None}
    assert ErrorSchema().dump({"error": {"code": "x", "message": "m", "fields": {}, "extra": 1}}) == {
        "error": {"code": "x", "message": "m", "fields": {}}
    }


def test_question_bank_is_what_questions_may_be_asked_from():
    data = QuestionBankSchema().dump(QUESTION_BANK)
    assert data == QUESTION_BANK
    served = [h["id"] for group in data["items"] for h in group["hints"]]
    assert sorted(served) == sorted(HINTS_BY_ID)  # every hint served can be asked, and only those
    for hint_id in served:
        assert QuestionSchema().validate({"bank_id": hint_id, "kind": "developing"}) == {}


def test_forum_views_are_impersonal():
    post = {
        "id": "p1",
        "essence": "e",
        "question": "q",
        "rubrics": ["self-management"],
        "urgency": "urgent",
        "created_at": "t",
        "case_id": "c1",
        "case_number": "2026-0001",
        "author_id": "u",
        "mentor_id": "m",
    }
    thread = ThreadViewSchema().dump({"id": "t1", "title": "T", "posts": [post], "case_ids": ["c1"]})
    assert thread == {
        "id": "t1",
        "title": "T",
        "posts": [
            {
                "id": "p1",
                "essence": "e",
                "question": "q",
                "rubrics": ["self-management"],
                "urgency": "urgent",
                "created_at": "t",
            }
        ],
    }
    assert ThreadSummaryListSchema().dump({"items": [{"id": "t1", "posts_count": 3, "case_ids": ["c1"]}]}) == {
        "items": [{"id": "t1", "posts_count": 3}]
    }


def test_rubric_query_is_checked_and_ignores_other_parameters():
    assert RubricQuerySchema().load({}) == {"rubric": None}
    assert RubricQuerySchema().load({"rubric": "education-law", "_": "123"}) == {"rubric": "education-law"}
    assert "rubric" in RubricQuerySchema().validate({"rubric": "astrology"})


def test_proposed_mentors_get_their_profiles():
    case = {
        "id": "c1",
        "proposed_mentors": [{"mentor_id": "m1", "score": 1.0}, {"mentor_id": "m2"}, {"mentor_id": "m1", "score": 0.2}],
    }
    assert proposed_mentor_ids(case) == ["m1", "m2"]
    assert proposed_mentor_ids({"id": "c"}) == [] and proposed_mentor_ids(None) == []
    as_list = attach_profiles(case, [{"mentor_id": "m1", "first_name": "Anna"}])
    assert [p["profile"] for p in as_list["proposed_mentors"]] == [
        {"mentor_id": "m1", "first_name": "Anna"},
        None,
        {"mentor_id": "m1", "first_name": "Anna"},
    ]
    as_dict = attach_profiles(case, {"m2": {"mentor_id": "m2"}, "m1": None})
    assert [p["profile"] for p in as_dict["proposed_mentors"]] == [None, {"mentor_id": "m2"}, None]
    assert case["proposed_mentors"][0] == {"mentor_id": "m1", "score": 1.0}  # not mutated


def test_route_urls_have_no_trailing_slash():
    for _, route in openapi.routes(GatewayService):
        assert not re.search(r".+/$", route.url)
