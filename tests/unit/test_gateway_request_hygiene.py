"""Request hygiene as pure functions: content type, size, nesting, item counts and text that
cannot be stored (NUL, unpaired surrogates) - each refused with the platform's error shape."""

import json

import pytest

from contracts.errors import InvalidInput
from services.gateway import http as h
from services.gateway import openapi
from services.gateway.entrypoints import http
from services.gateway.service import GatewayService

# text that is stored and returned as it came: no field refuses it for what it contains
INERT = [
    "Robert'); DROP TABLE cases;--",
    "' OR '1'='1",
    "1; SELECT pg_sleep(10)",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "\u202eRTL override\u202c and \u200f marks",
    "e\u0301\u0301 combining, Z\u0351\u0352\u0353algo",
    "emoji \U0001f600\U0001f469\u200d\U0001f4bb",
    "tab\tnewline\nbell\x07 escape\x1b",
    "\ufeffbom inside",
    "{{7*7}} ${7*7} %s %n",
]


def body(obj):
    return json.dumps(obj).encode()


def refused(raw):
    with pytest.raises(InvalidInput) as caught:
        h.parse_json_body(raw)
    error = caught.value
    assert error.status == 400
    json.dumps(h.error_body(error), ensure_ascii=False).encode("utf-8")  # renderable as it is
    return error


# ---- nesting and size ---------------------------------------------------------------------


def nested(depth):
    value = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return {"a": value}  # the object itself is the first level


def test_nesting_up_to_the_limit_is_parsed():
    assert h.parse_json_body(body(nested(h.MAX_JSON_DEPTH))) == nested(h.MAX_JSON_DEPTH)


@pytest.mark.parametrize("depth", [h.MAX_JSON_DEPTH + 1, 200])
def test_deeper_nesting_is_refused_naming_the_body(depth):
    error = refused(body(nested(depth)))
    assert error.fields == {"_body": [f"Nested deeper than {h.MAX_JSON_DEPTH} levels."]}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deeper than the parser's own recursion
        b'{"a": ' + b'{"b": ' * 50_000 + b"1" + b"}" * 50_001,
        b'{"a": ' + b"[" * 100_000,  # and unterminated
    ],
)
def test_pathological_nesting_is_a_400_not_a_recursion_error(raw):
    error = refused(raw)
    assert list(error.fields) == ["_body"]


def test_item_counts_are_bounded():
    at_limit = {"rubrics": ["x"] * h.MAX_JSON_ITEMS}
    assert h.parse_json_body(body(at_limit)) == at_limit
    error = refused(body({"rubrics": ["x"] * (h.MAX_JSON_ITEMS + 1)}))
    assert error.fields == {"rubrics": [f"More than {h.MAX_JSON_ITEMS} items."]}
    error = refused(body({"questions": [{"text": "q", "links": list(range(h.MAX_JSON_ITEMS + 1))}]}))
    assert error.fields == {"questions": {"0": {"links": [f"More than {h.MAX_JSON_ITEMS} items."]}}}
    error = refused(body({f"k{i}": i for i in range(h.MAX_JSON_ITEMS + 1)}))
    assert list(error.fields) == ["_body"]


@pytest.mark.parametrize(
    "raw", [b'{"n": 1e999}', b'{"n": -1e400}', b'{"n": Infinity}', b'{"n": NaN}', b'{"n": ' + b"9" * 5000 + b"}"]
)
def test_numbers_that_are_not_finite_or_too_long_are_invalid_json(raw):
    assert refused(raw).fields["_body"][0].startswith("Invalid JSON")


def test_payload_too_large_names_the_limit():
    error = h.payload_too_large(2048)
    assert (error.status, error.code) == (413, "payload_too_large")
    assert "2048 bytes" in error.message and error.details == {"max_bytes": 2048}


# ---- text that cannot be stored -----------------------------------------------------------


def test_nul_is_refused_naming_the_field():
    error = refused(b'{"essence": "a\\u0000b", "question": "fine"}')
    assert error.fields == {"essence": [h.NUL_MESSAGE]}
    raw_nul = refused(b'{"essence": "a\x00b"}')  # unescaped, a control character is not JSON at all
    assert list(raw_nul.fields) == ["_body"] and "Invalid control character" in raw_nul.fields["_body"][0]


@pytest.mark.parametrize("escape", ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ude00\\ud83d"])
def test_unpaired_surrogates_are_refused_naming_the_field(escape):
    error = refused(('{"first_name": "x' + escape + '"}').encode())
    assert error.fields == {"first_name": [h.SURROGATE_MESSAGE]}


def test_nested_and_multiple_fields_are_all_named():
    raw = b'{"questions": [{"text": "ok"}, {"text": "\\u0000"}], "answers": ["\\ud800"], "title": "\\u0000"}'
    assert refused(raw).fields == {
        "questions": {"1": {"text": [h.NUL_MESSAGE]}},
        "answers": {"0": [h.SURROGATE_MESSAGE]},
        "title": [h.NUL_MESSAGE],
    }


def test_a_field_name_with_nul_is_named_escaped():
    error = refused(b'{"ess\\u0000ence": "x", "ok": {"\\ud800": 1}}')
    assert error.fields == {
        "ess\\u0000ence": [f"Field name: {h.NUL_MESSAGE}"],
        "ok": {"\\ud800": [f"Field name: {h.SURROGATE_MESSAGE}"]},
    }
    # an escaped bad name equal to a real one does not break the error
    refused(b'{"\\\\u0000": {"x": "\\u0000"}, "\\u0000": 1}')


@pytest.mark.parametrize("text", INERT)
def test_other_text_passes_through_verbatim(text):
    raw = json.dumps({"essence": text, "list": [text], "nested": {"t": text}}).encode()
    assert h.parse_json_body(raw) == {"essence": text, "list": [text], "nested": {"t": text}}
    assert h.text_problem(text) is None


def test_emoji_as_a_surrogate_pair_escape_is_fine():
    assert h.parse_json_body(b'{"t": "\\ud83d\\ude00"}') == {"t": "\U0001f600"}


def test_path_and_query_values_are_checked_too():
    h.check_text_values({"case_id": "c-1", "rubric": None, "version": 3})
    with pytest.raises(InvalidInput) as caught:
        h.check_text_values({"case_id": "c\x00", "mentor_id": "m\ud800", "ok": "x"})
    assert caught.value.fields == {"case_id": [h.NUL_MESSAGE], "mentor_id": [h.SURROGATE_MESSAGE]}


# ---- content type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; charset=UTF-8",
        'application/json;charset="utf-8"',
        "application/json; charset=utf8",
    ],
)
def test_json_content_types_are_accepted(content_type):
    h.check_json_content_type(content_type, has_body=True)


def test_any_content_type_is_fine_for_an_empty_body_only():
    for content_type in (None, "", "text/plain"):  # eventlet reports text/plain when there is none
        h.check_json_content_type(content_type, has_body=False)
    with pytest.raises(h.UnsupportedMediaType):
        h.check_json_content_type(None, has_body=True)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
        "text/json",
        "application/xml",
        "*/*",
    ],
)
def test_other_content_types_are_415(content_type):
    with pytest.raises(h.UnsupportedMediaType) as caught:
        h.check_json_content_type(content_type, has_body=True)
    error = caught.value
    assert (error.status, error.code) == (415, "unsupported_media_type")
    assert h.error_body(error) == {
        "error": {
            "code": "unsupported_media_type",
            "message": error.message,
            "fields": {"Content-Type": ["Expected application/json."]},
        }
    }


# ---- the route option ---------------------------------------------------------------------


def test_max_body_is_a_route_option_with_a_default():
    class Uploads:
        @http("PUT", "/api/v1/x", auth=False, summary="s", tag="t")
        def small(self, request):
            return {}

        @http("PUT", "/api/v1/y", auth=False, max_body=8 * 1024 * 1024, summary="s", tag="t")
        def big(self, request):
            return {}

    limits = {name: route.max_body for name, route in openapi.routes(Uploads)}
    assert limits == {"small": h.MAX_BODY_BYTES, "big": 8 * 1024 * 1024}
    assert h.MAX_BODY_BYTES == 1024 * 1024


def test_body_routes_document_413_and_415():
    doc = openapi.build(GatewayService)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            has_body = "requestBody" in op
            assert ("413" in op["responses"]) == has_body, (method, path)
            assert ("415" in op["responses"]) == has_body, (method, path)
