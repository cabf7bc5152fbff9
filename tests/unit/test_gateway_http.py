"""The gateway's HTTP plumbing as pure functions: error shape, body parsing, bearer header, CORS."""

import json

import eventlet
import pytest
from nameko.exceptions import UnknownService
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as WerkzeugNotFound

from contracts.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PlatformError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from services.common.rpc import unavailable
from services.common.tokens import TokenSigner
from services.gateway import http as h

SECRET = "unit-test-secret-0123456789"


def body_of(response):
    return json.loads(response.get_data(as_text=True))


# ---- error rendering ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,status,code",
    [
        (InvalidInput, 400, "invalid_input"),
        (Unauthorized, 401, "unauthorized"),
        (Forbidden, 403, "forbidden"),
        (NotFound, 404, "not_found"),
        (Conflict, 409, "conflict"),
        (ServiceUnavailable, 503, "service_unavailable"),
    ],
)
def test_platform_errors_render_with_their_status_and_exact_shape(cls, status, code):
    response = h.error_response(cls("Nope.", {"essence": ["Too long."]}))
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert body_of(response) == {"error": {"code": code, "message": "Nope.", "fields": {"essence": ["Too long."]}}}


def test_details_are_included_only_when_present():
    body = h.error_body(Conflict("Not now.", details={"state": "completed"}))
    assert body == {
        "error": {"code": "conflict", "message": "Not now.", "fields": {}, "details": {"state": "completed"}}
    }
    assert set(h.error_body(Conflict("Not now."))["error"]) == {"code", "message", "fields"}


def test_unexpected_exceptions_become_a_generic_500_without_internals():
    response = h.error_response(RuntimeError("password=hunter2 at /srv/app.py line 3"))
    assert response.status_code == 500
    body = body_of(response)
    assert body == {"error": {"code": "internal_error", "message": h.INTERNAL_ERROR_MESSAGE, "fields": {}}}
    assert "hunter2" not in response.get_data(as_text=True)


def test_unknown_route_and_wrong_method_use_the_error_shape():
    not_found = h.http_exception_response(WerkzeugNotFound())
    assert not_found.status_code == 404
    assert body_of(not_found)["error"]["code"] == "not_found"

    wrong = h.http_exception_response(MethodNotAllowed(valid_methods=["POST", "GET"]))
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST"
    assert body_of(wrong) == {
        "error": {
            "code": "method_not_allowed",
            "fields": {},
            "details": {"allowed_methods": ["GET", "POST"]},
            "message": "This route does not accept that method; it accepts GET, POST.",
        }
    }

    too_large = h.http_exception_response(RequestEntityTooLarge())
    assert too_large.status_code == 413
    assert body_of(too_large)["error"]["code"] == "payload_too_large"


# ---- body parsing -------------------------------------------------------------------------


def test_json_object_body_is_parsed():
    assert h.parse_json_body(b'{"essence": "\xd0\xbf"}') == {"essence": "\u043f"}


@pytest.mark.parametrize("raw", [b"", b"   \n", None])
def test_empty_body_is_an_empty_object(raw):
    assert h.parse_json_body(raw) == {}


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"{not json", "not valid JSON"),
        (b'{"a": 1,}', "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"null", "JSON object"),
        (b"42", "JSON object"),
    ],
)
def test_bad_bodies_are_invalid_input_naming_body(raw, reason):
    with pytest.raises(InvalidInput) as caught:
        h.parse_json_body(raw)
    assert reason in caught.value.message
    assert list(caught.value.fields) == ["_body"]
    assert caught.value.status == 400


# ---- bearer header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header,token",
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer abc", "abc"),
        ("  BEARER   abc  ", "abc"),
    ],
)
def test_bearer_token_is_extracted(header, token):
    assert h.bearer_token(header) == token


@pytest.mark.parametrize(
    "header", [None, "", "   ", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "abc", "Bearer a b", "Token abc"]
)
def test_malformed_authorization_is_unauthorized(header):
    with pytest.raises(Unauthorized) as caught:
        h.bearer_token(header)
    assert "Authorization" in caught.value.fields


def test_authenticate_yields_the_claims_of_a_valid_token():
    signer = TokenSigner(SECRET, 60)
    claims = h.authenticate(signer, "Bearer " + signer.issue("u-1", "mentee", "s-1", email_verified=True))
    assert claims == {"user_id": "u-1", "role": "mentee", "session_id": "s-1", "email_verified": True}


def test_authenticate_refuses_a_token_of_another_secret():
    token = TokenSigner("another-secret-0123456789", 60).issue("u-1", "moderator", "s-1")
    with pytest.raises(Unauthorized):
        h.authenticate(TokenSigner(SECRET, 60), f"Bearer {token}")


@pytest.mark.parametrize(
    "trusted, peer, forwarded, expected",
    [
        (0, "10.0.0.5", "203.0.113.7", "10.0.0.5"),  # the header is ignored unless proxies are trusted
        (0, "10.0.0.5", None, "10.0.0.5"),
        (1, "10.0.0.5", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's own word
        (2, "10.0.0.5", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (3, "10.0.0.5", "203.0.113.7", "203.0.113.7"),  # fewer hops than proxies: the leftmost there is
        (1, "10.0.0.5", "", "10.0.0.5"),
        (1, "10.0.0.5", "not-an-ip", None),  # what is not an address is no address
        (0, "2001:DB8:0:0::1", None, "2001:db8::1"),
        (0, None, None, None),
    ],
)
def test_client_address(trusted, peer, forwarded, expected):
    assert h.client_address(peer, forwarded, trusted) == expected


@pytest.mark.parametrize(
    "setting, count",
    [(False, 0), (True, 1), (None, 0), ("", 0), ("false", 0), ("0", 0), ("true", 1), ("TRUE", 1), ("2", 2), (2, 2)],
)
def test_trusted_proxy_count(setting, count):
    assert h.trusted_proxy_count(setting) == count


def test_trusted_proxy_count_refuses_nonsense():
    with pytest.raises(ValueError, match="TRUST_FORWARDED_FOR"):
        h.trusted_proxy_count("sometimes")


def test_too_many_requests_carries_retry_after():
    response = h.error_response(TooManyRequests("Too many failed attempts.", details={"retry_after": 42.2}))
    assert response.status_code == 429 and response.headers["Retry-After"] == "43"
    assert body_of(response)["error"] == {
        "code": "too_many_requests",
        "message": "Too many failed attempts.",
        "fields": {},
        "details": {"retry_after": 43},
    }
    # as it arrives across RPC: nameko carries the details as text
    assert TooManyRequests("Wait.", {}, {"retry_after": "899"}).details == {"retry_after": 899}
    assert TooManyRequests("Wait.", {}, {"retry_after": "soon"}).details == {}
    assert "Retry-After" not in h.error_response(Unauthorized("No.")).headers


# ---- correlation id and CORS --------------------------------------------------------------


def test_client_correlation_id_is_kept_when_sane():
    assert h.correlation_id_from("req-42.abc") == "req-42.abc"
    assert h.correlation_id_from("x" * 100) == "x" * 64


@pytest.mark.parametrize("value", [None, "", "   ", "has space", "caf\u00e9", "a\tb"])
def test_missing_or_odd_correlation_id_is_replaced(value):
    cid = h.correlation_id_from(value)
    assert len(cid) == 32 and cid != value
    assert h.correlation_id_from(value) != cid  # a new one each time


def test_cors_headers():
    assert h.cors_headers("*", "https://a.example")["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in h.cors_headers("*")
    single = h.cors_headers("https://app.example", "https://evil.example")
    assert single["Access-Control-Allow-Origin"] == "https://app.example"
    assert single["Vary"] == "Origin"
    listed = h.cors_headers("https://a.example, https://b.example", "https://b.example")
    assert listed["Access-Control-Allow-Origin"] == "https://b.example"
    assert listed["Access-Control-Expose-Headers"] == "X-Correlation-ID, Retry-After"
    assert h.cors_headers("") == {}


def test_preflight_lists_methods_and_headers():
    response = h.preflight_response(["GET", "HEAD"])
    assert response.status_code == 204
    assert "Content-Type" not in response.headers and response.get_data() == b""
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    allowed_headers = {x.strip() for x in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed_headers == {"Authorization", "Content-Type", "X-Correlation-ID", "Idempotency-Key"}


# ---- RPC failures -------------------------------------------------------------------------


def test_rpc_failures_become_service_unavailable_naming_the_service():
    timeout = unavailable("cases", eventlet.Timeout(None), 2)
    assert isinstance(timeout, ServiceUnavailable) and isinstance(timeout, PlatformError)
    assert "cases" in timeout.message and "2 s" in timeout.message
    assert timeout.details == {"service": "cases", "outcome": "unknown"}  # the default: it may have been done
    assert "not running" in unavailable("library", UnknownService("library")).message
    broker = unavailable("identity", ConnectionRefusedError(111, "refused"))
    assert "identity" in broker.message and "broker" in broker.message


def test_a_503_to_a_change_says_its_outcome_and_a_read_says_none():
    from services.gateway.http import with_outcome

    assert with_outcome(ServiceUnavailable("db down."), "POST").details == {"outcome": "unknown"}  # may have happened
    refused = ServiceUnavailable("x", details={"service": "cases", "outcome": "not_done"})
    assert with_outcome(refused, "PUT").details == {"service": "cases", "outcome": "not_done"}  # the layer knew
    read = ServiceUnavailable("x", details={"service": "cases", "outcome": "unknown"})
    assert with_outcome(read, "GET").details == {"service": "cases"}
    other = Unauthorized("no")
    assert with_outcome(other, "POST") is other and other.details == {}


def test_the_browser_clients_forwarded_address_counts_only_with_the_shared_secret():
    from services.gateway import http as h

    secret = "a-long-shared-web-proxy-secret-0123456789"
    hops = h.web_proxy_hops(secret, secret)
    assert hops == 1
    assert h.client_address("127.0.0.1", "198.51.100.7", h.web_proxy_hops(secret, secret)) == "198.51.100.7"
    # a direct client writing the header (with a wrong secret, or none) is its TCP peer
    assert h.client_address("127.0.0.1", "198.51.100.7", h.web_proxy_hops("guess", secret)) == "127.0.0.1"
    assert h.client_address("127.0.0.1", "198.51.100.7", h.web_proxy_hops(None, secret)) == "127.0.0.1"
    assert h.web_proxy_hops(secret, "") == 0  # no secret configured: never trusted
    # behind one more trusted proxy (TRUST_FORWARDED_FOR=1), the client's entry is one further left
    assert h.client_address("10.0.0.9", "198.51.100.7, 10.0.0.5", 1 + hops) == "198.51.100.7"
