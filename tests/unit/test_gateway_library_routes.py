"""The library routes' pure parts: what a case asks the library, and a filed case never fails
for its similar items (the RPC proxy is a stand-in: no broker here)."""

from contracts.errors import ServiceUnavailable
from services.gateway import openapi
from services.gateway.routes_library import LibraryRoutes, similar_request
from services.gateway.service import GatewayService


def test_the_library_is_asked_with_the_essence_question_and_rubrics():
    form = {"essence": "Pupils shout.", "question": "What now?", "rubrics": ["education-law"], "mode": "personal"}
    assert similar_request(form, 5, "u-author") == {
        "text": "Pupils shout.\nWhat now?",
        "rubrics": ["education-law"],
        "limit": 5,
        "author_id": "u-author",
    }
    assert similar_request({}, 3) == {"text": "-", "rubrics": [], "limit": 3, "author_id": None}


class _Method:
    def __init__(self, outcome):
        self.outcome, self.calls = outcome, []

    def with_timeout(self, seconds):
        self.calls.append(seconds)
        return self

    def __call__(self, *args):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class _Library:
    timeout = 10.0

    def __init__(self, outcome):
        self.similar = _Method(outcome)


def routes(outcome):
    mixin = LibraryRoutes()
    mixin.library = _Library(outcome)
    return mixin


CASE = {"id": "c1", "form": {"essence": "E", "question": "Q", "rubrics": []}}


def test_a_new_case_gets_similar_items_or_none_if_the_library_fails():
    assert routes([{"id": "l1"}]).similar_for_new_case({"user_id": "u", "role": "mentee"}, CASE) == [{"id": "l1"}]
    assert routes(None).similar_for_new_case({}, CASE) == []
    for failure in (ServiceUnavailable("The library service is not running."), RuntimeError("boom")):
        slow = routes(failure)
        assert slow.similar_for_new_case({}, CASE) == []
        assert slow.library.similar.calls == [3.0]  # never the full RPC timeout


def test_the_library_query_string_is_documented():
    ops = openapi.build(GatewayService)["paths"]
    params = [p["name"] for p in ops["/api/v1/library"]["get"]["parameters"] if p["in"] == "query"]
    assert params == ["q", "rubric", "kind", "limit", "cursor"]
    similar = ops["/api/v1/cases/{case_id}/similar"]["get"]["responses"]["200"]["content"]["application/json"]
    assert similar["schema"]["$ref"].endswith("/SimilarList")
    assert "409" in ops["/api/v1/library/{entry_id}"]["patch"]["responses"]
