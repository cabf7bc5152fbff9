"""Request hygiene over real HTTP, against the gateway and the real services behind it:
oversize, wrongly typed, deeply nested or unstorable input is refused in the platform's error
shape before any service sees it, and hostile but storable text (SQL, HTML, RTL marks,
combining characters, emoji) is stored and returned verbatim - never a 5xx."""

import itertools
import json
import re

import pytest
from marshmallow import fields as mf

from services.gateway import http as h
from services.gateway import openapi
from services.gateway.service import GatewayService
from tests.integration.gateway_platform import assert_error, start_platform
from tests.support import case_form

HOSTILE = [
    "Robert'); DROP TABLE cases;--",
    "' OR '1'='1' --",
    "1; SELECT pg_sleep(30); --",
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "\u202eevil\u202c and \u200fRTL\u200e marks",
    "Zal\u0351\u0352\u0353go e\u0301\u0301\u0301",
    "emoji \U0001f600 \U0001f469\u200d\U0001f4bb \U0001f1f7\U0001f1fa",
    "\ufeffbom, zero\u200bwidth, tab\tand newline\nin the middle",
    "{{7*7}} ${7*7} %s%n \\x00 \\u0000",
]  # none starts or ends with white space: names are trimmed, the rest is kept as it came


@pytest.fixture(scope="module")
def api(start_module_service):
    return start_platform(start_module_service)


@pytest.fixture(scope="module")
def mentee(api):
    return api.register("mentee")


def body_routes():
    return [(name, route) for name, route in openapi.routes(GatewayService) if route.body is not None]


def url_of(route, value="c-1"):
    return "/" + "/".join(value if part.startswith("<") else part for part in route.url.split("/")[1:])


def assert_no_5xx(response):
    assert response.status_code < 500, response.text


# ---- size ---------------------------------------------------------------------------------


def test_an_oversize_body_is_413_naming_the_limit(api, mentee):
    _, token = mentee
    big = json.dumps(case_form(essence="x" * h.MAX_BODY_BYTES))
    error = assert_error(
        api("POST", "/api/v1/cases", token=token, data=big, headers={"Content-Type": "application/json"}),
        413,
        "payload_too_large",
    )
    assert error["details"] == {"max_bytes": h.MAX_BODY_BYTES} and str(h.MAX_BODY_BYTES) in error["message"]

    chunks = (b"x" * 65536 for _ in range(h.MAX_BODY_BYTES // 65536 + 2))  # chunked: no Content-Length
    chunked = api("POST", "/api/v1/cases", token=token, data=chunks, headers={"Content-Type": "application/json"})
    assert_error(chunked, 413, "payload_too_large")

    # just under the limit is read, then refused by the schema for what it says
    near = case_form(essence="x" * (h.MAX_BODY_BYTES - 1000))
    error = assert_error(api("POST", "/api/v1/cases", token=token, json=near), 400, "invalid_input")
    assert list(error["fields"]) == ["essence"]


def test_a_chunked_body_within_the_limit_is_read(api, mentee):
    _, token = mentee
    raw = json.dumps(case_form()).encode()
    chunks = (raw[i : i + 100] for i in range(0, len(raw), 100))
    response = api("POST", "/api/v1/cases", token=token, data=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


# ---- content type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", None]
)
def test_every_body_route_refuses_a_body_that_is_not_json_with_415(api, mentee, content_type):
    _, token = mentee
    headers = {"Content-Type": content_type} if content_type else {}
    for name, route in body_routes():
        response = api(
            route.method, url_of(route), token=token if route.auth else None, data=b'{"a": 1}', headers=headers
        )
        error = assert_error(response, 415, "unsupported_media_type")
        assert error["fields"] == {"Content-Type": ["Expected application/json."]}, name


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"]
)
def test_json_with_or_without_charset_is_accepted(api, content_type):
    email = f"ct-{abs(hash(content_type))}@example.org"
    form = {
        "email": email,
        "password": "correct horse battery",
        "role": "mentee",
        "first_name": "Anna",
        "last_name": "Petrova",
    }
    response = api(
        "POST", "/api/v1/auth/register", data=json.dumps(form).encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 202, response.text  # a rerun of the session too: the same answer


def test_an_empty_body_without_content_type_reads_as_an_empty_object(api, mentee):
    _, token = mentee
    error = assert_error(api("POST", "/api/v1/cases", token=token), 400, "invalid_input")
    assert {"essence", "question", "rubrics"} <= set(error["fields"])


# ---- malformed JSON -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"essence": ' + b"[" * 5000 + b"]" * 5000 + b"}", "_body"),
        (b'{"essence": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "_body"),
        (b'{"essence": ' + b'{"a":' * 40 + b"1" + b"}" * 41, "_body"),
        (json.dumps({"rubrics": ["x"] * 50_000}).encode(), "rubrics"),
        (b'{"essence": "\xff\xfe not utf-8"}', "_body"),
        (b'{"essence": "\xed\xa0\x80 an encoded surrogate"}', "_body"),
        (b'{"essence": 1e999}', "_body"),
        (b'{"essence": NaN}', "_body"),
    ],
)
def test_malformed_or_pathological_json_is_400_naming_it(api, mentee, raw, field):
    _, token = mentee
    response = api("POST", "/api/v1/cases", token=token, data=raw, headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, "invalid_input")
    assert list(error["fields"]) == [field]


def test_a_huge_string_within_the_body_limit_is_refused_by_its_field(api, mentee):
    _, token = mentee
    for path, body in (
        ("/api/v1/cases", case_form(question="q" * 500_000)),
        ("/api/v1/me/questionnaire", {"school": "s" * 500_000, "subjects": ["Maths"], "years_of_practice": 1}),
    ):
        error = assert_error(
            api(path.startswith("/api/v1/me") and "PUT" or "POST", path, token=token, json=body), 400, "invalid_input"
        )
        assert list(error["fields"]) == [path.endswith("cases") and "question" or "school"]


# ---- text that cannot be stored: every text field of every body ---------------------------


def poisoned(schema, text):
    """A body with ``text`` in every string field of ``schema`` (nested ones too), and the error
    fields the gateway must answer with: each of those fields, named where it is."""
    body, expected = {}, {}
    for name, field in schema().fields.items():
        if field.dump_only:
            continue
        sample = _sample(field, text)
        if sample is not None:
            body[field.data_key or name], expected[field.data_key or name] = sample
    return body, expected


def _sample(field, text):
    if isinstance(field, (mf.String, mf.Email, mf.Url, mf.UUID)):
        return text, [h.NUL_MESSAGE if "\x00" in text else h.SURROGATE_MESSAGE]
    if isinstance(field, mf.List):
        inner = _sample(field.inner, text)
        return None if inner is None else ([inner[0]], {"0": inner[1]})
    if isinstance(field, mf.Nested):
        body, expected = poisoned(type(field.schema), text)
        return (body, expected) if body else None
    return None


@pytest.mark.parametrize(
    "text", ["nul \x00 inside", "\x00", "lone \ud800 high", "lone \udfff low", "reversed \ude00\ud83d pair"]
)
def test_nul_and_lone_surrogates_are_400_naming_every_text_field(api, mentee, text):
    _, token = mentee
    checked = 0
    for name, route in body_routes():
        body, expected = poisoned(route.body, text)
        if not body:
            continue
        raw = json.dumps(body)  # ensure_ascii: NUL and surrogates travel as \u escapes
        response = api(
            route.method,
            url_of(route),
            token=token if route.auth else None,
            data=raw,
            headers={"Content-Type": "application/json"},
        )
        error = assert_error(response, 400, "invalid_input")
        assert error["fields"] == expected, name
        checked += 1
    assert checked >= 15


def test_nul_in_a_path_or_query_value_is_400_naming_it(api, mentee):
    _, token = mentee
    error = assert_error(api("GET", "/api/v1/cases/c%00x", token=token), 400, "invalid_input")
    assert error["fields"] == {"case_id": [h.NUL_MESSAGE]}
    error = assert_error(api("GET", "/api/v1/mentors/%00"), 400, "invalid_input")
    assert error["fields"] == {"mentor_id": [h.NUL_MESSAGE]}
    error = assert_error(api("GET", "/api/v1/cases?mentor_id=m%00", token=token), 400, "invalid_input")
    assert error["fields"] == {"mentor_id": [h.NUL_MESSAGE]}


# ---- hostile but storable text is stored verbatim -----------------------------------------


def hostile(limit=100):
    """An endless supply of the hostile strings, each cut to ``limit`` characters."""
    return (text[:limit] for text in itertools.cycle(HOSTILE))


def test_hostile_names_and_profile_are_stored_and_returned_verbatim(api):
    names = hostile(100)
    first, last, patronymic = next(names), next(names), next(names)
    user, token = api.register("mentor", first_name=first, last_name=last, patronymic=patronymic)
    assert (user["first_name"], user["last_name"]) == (first, last)
    me = api("GET", "/api/v1/me", token=token)
    assert me.status_code == 200, me.text
    assert (me.json()["first_name"], me.json()["last_name"]) == (first, last)
    assert me.headers["X-Content-Type-Options"] == "nosniff"  # a browser never renders it as HTML

    texts = hostile(200)
    profile = {
        "rubrics": ["self-management"],
        "place_of_work": next(texts),
        "institute": next(texts),
        "position": next(texts),
        "interests": " ".join(HOSTILE),
        "motto": next(texts),
    }
    written = api("PUT", "/api/v1/me/mentor-profile", token=token, json=profile)
    assert written.status_code == 200, written.text
    public = api("GET", f"/api/v1/mentors/{user['id']}")
    assert public.status_code == 200, public.text
    for key in ("place_of_work", "institute", "position", "interests", "motto"):
        assert public.json()[key] == profile[key], key
    assert public.json()["first_name"] == first
    assert "<script>" in public.text  # as JSON text: the content type says what it is
    assert public.headers["Content-Type"] == "application/json"


def test_hostile_questionnaire_is_stored_verbatim(api):
    _, token = api.register("mentee")
    texts = hostile(60)
    questionnaire = {
        "school": HOSTILE[0],
        "subjects": [next(texts) for _ in range(len(HOSTILE))],
        "years_of_practice": 2,
        "graduation_institute": HOSTILE[3],
    }
    written = api("PUT", "/api/v1/me/questionnaire", token=token, json=questionnaire)
    assert written.status_code == 200, written.text
    read = api("GET", "/api/v1/me/questionnaire", token=token).json()
    for key in ("school", "subjects", "graduation_institute"):
        assert read[key] == questionnaire[key], key


def test_hostile_case_text_is_stored_and_returned_verbatim(api):
    _, token = api.register("mentee")
    texts = hostile(1000)
    form = case_form(
        essence=next(texts), actions_taken=next(texts), difficulty=next(texts), question=" | ".join(HOSTILE)
    )
    created = api("POST", "/api/v1/cases", token=token, json=form)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    read = api("GET", f"/api/v1/cases/{case_id}", token=token)
    assert read.status_code == 200, read.text
    for key in ("essence", "actions_taken", "difficulty", "question"):
        assert read.json()["form"][key] == form[key], key

    reason = "".join(HOSTILE)[:1000]
    withdrawn = api("POST", f"/api/v1/cases/{case_id}/withdrawal", token=token, json={"reason": reason})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn_reason"] == reason
    history = api("GET", f"/api/v1/cases/{case_id}/history", token=token)
    assert history.status_code == 200, history.text


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_path_and_query_values_are_never_a_5xx(api, mentee, text):
    _, token = mentee
    from urllib.parse import quote

    value = quote(text[:64], safe="")
    for method, path, tok in (
        ("GET", f"/api/v1/cases/{value}", token),
        ("GET", f"/api/v1/mentors/{value}", None),
        ("GET", f"/api/v1/cases/{value}/history", token),
        ("POST", f"/api/v1/cases/{value}/accept", token),
        ("GET", f"/api/v1/library/{value}", token),
        ("GET", f"/api/v1/forum/threads/{value}", token),
        ("POST", f"/api/v1/inbox/{value}/read", token),
        ("GET", f"/api/v1/cases?mentor_id={value}&state={value}", token),
        ("GET", f"/api/v1/mentors?rubric={value}", None),
    ):
        response = api(method, path, token=tok)
        assert_no_5xx(response)
        assert response.headers["Content-Type"] == "application/json"


def test_out_of_range_numbers_are_refused_not_a_5xx(api, test_env):
    """The fuzzer's find: a waiting time beyond PostgreSQL's interval range was a 500."""
    moderator = api.moderator(test_env)
    for value in ("1.6050777765623583e+308", "1e12", str(24 * 366 * 100 + 1)):
        error = assert_error(
            api("GET", "/api/v1/cases", token=moderator, params={"waiting_hours": value}), 400, "invalid_input"
        )
        assert list(error["fields"]) == ["waiting_hours"], value
    assert api("GET", "/api/v1/cases", token=moderator, params={"waiting_hours": 24 * 366 * 100}).status_code == 200

    _, mentee = api.register("mentee")
    case_id = api("POST", "/api/v1/cases", token=mentee, json=case_form()).json()["id"]
    for version in (2**31, 2**63, 10**30):
        response = api("GET", f"/api/v1/cases/{case_id}/as-of", token=moderator, params={"version": version})
        assert response.status_code == 200, response.text  # beyond the last version: the case as it is now
        assert response.json()["id"] == case_id and response.json()["version"] >= 1


@pytest.mark.parametrize("key", ["k\x00ey", "\x01\x02\x7f", "cl\u00e9-\u00ff", "k" * 4000, "' OR 1=1 --", "a b"])
def test_hostile_headers_are_never_a_5xx(api, mentee, key):
    _, token = mentee
    response = api(
        "POST",
        "/api/v1/cases",
        token=token,
        json=case_form(),
        headers={"Idempotency-Key": key, "X-Correlation-ID": key},
    )
    assert response.status_code == 201, response.text
    assert re.fullmatch(r"[\x21-\x7e]{1,64}", response.headers["X-Correlation-ID"])  # never echoed raw


def test_a_header_line_over_the_servers_limit_is_a_4xx(api, mentee):
    _, token = mentee
    response = api("GET", "/api/v1/cases", token=token, headers={"Idempotency-Key": "k" * 10_000})
    assert 400 <= response.status_code < 500  # eventlet's own answer, before the gateway sees it
