"""Bearer tokens under attack, over real HTTP against the gateway and the real identity service:
a tampered token, an expired one, one signed with another key and JWT-style tokens (``alg:
none``, or signed with the right secret in the wrong format) are all 401 in the platform's error
shape, with one message for every invalid token and nothing of the token, the claims, the key
or the verifier in the answer. (Revoked sessions: test_gateway_people.py, and at every gateway
process test_gateway_session_feed.py.)"""

import hashlib
import hmac
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from services.common import tokens
from services.gateway.service import GatewayService
from tests.integration.gateway_platform import Api, assert_error, b64, start_platform
from tests.support import eventually, free_port

PROTECTED = (
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/inbox"),
    ("POST", "/api/v1/cases/c-1/accept"),
)
SHORT_TTL = 2  # seconds: itsdangerous counts whole seconds, so a token lives 2 to 3 s
LEAKS = (
    "BadSignature",
    "BadTimeSignature",
    "BadPayload",
    "itsdangerous",
    "Traceback",
    "signature does not match",
    "Signature",
    "alg",
    "none",
    "HS256",
    "salt",
    "SALT",
    "mentor-platform",
    "sid",
)


@pytest.fixture(scope="module")
def api(start_module_service):
    return start_platform(start_module_service)


@pytest.fixture(scope="module")
def secret(test_env):
    return test_env.config("gateway")["TOKEN_SECRET"]


@pytest.fixture(scope="module")
def signed_in(api):
    user, token = api.register("mentee")
    assert api("GET", "/api/v1/me", token=token).status_code == 200
    return user, token


def claims_of(token):
    """The claims of a token of this platform, read without checking it (what an attacker sees)."""
    return URLSafeTimedSerializer("unused", salt=tokens.SALT).loads_unsafe(token)[1]


def refused(api, token, *, secret, user, expired=False):
    """Every protected route answers 401 with the one error shape and reveals nothing."""
    messages = set()
    for method, path in PROTECTED:
        response = api(method, path, token=token)
        error = assert_error(response, 401, "unauthorized")
        assert "details" not in error, error
        text = response.text
        for leak in (secret, user["id"], user["email"], *LEAKS):
            assert leak not in text, (leak, text)
        for part in (token, *token.split(".")):
            assert len(part) < 8 or part not in text, (part, text)
        assert ("expired" in error["message"]) == expired, error["message"]
        messages.add(error["message"])
    assert len(messages) == 1, messages
    return messages.pop()


def flip(char):
    return "A" if char != "A" else "B"


def parts(token):
    """``(payload, timestamp, signature)``; a compressed payload starts with its own "."."""
    return token.rsplit(".", 2)


def test_a_genuine_token_is_accepted(api, signed_in):
    user, token = signed_in
    me = api("GET", "/api/v1/me", token=token)
    assert me.status_code == 200 and me.json()["id"] == user["id"]


def test_tampered_tokens_are_401_with_one_message(api, signed_in, secret):
    user, token = signed_in
    payload, timestamp, signature = parts(token)
    tampered = [
        ".".join((payload[:9] + flip(payload[9]) + payload[10:], timestamp, signature)),  # the claims
        ".".join((payload, timestamp[:-1] + flip(timestamp[-1]), signature)),  # the time
        ".".join((payload, timestamp, signature[:-3] + flip(signature[-3]) + signature[-2:])),  # the signature
        ".".join((payload, timestamp, "")),  # no signature at all
        ".".join((payload, timestamp)),
        payload,
        ".".join((payload, timestamp, signature, signature)),
        token[:-1],
        token + "A",
    ]
    promoted = dict(claims_of(token), role="moderator")  # the same signature on better claims
    tampered.append(".".join((b64(promoted), timestamp, signature)))
    another_user = dict(claims_of(token), sub="00000000-0000-0000-0000-000000000000")
    tampered.append(".".join((b64(another_user), timestamp, signature)))
    messages = {refused(api, bad, secret=secret, user=user) for bad in tampered}
    assert len(messages) == 1, messages  # no oracle: which part was wrong is not said
    assert messages.pop() == tokens.NOT_VALID


def test_a_token_signed_with_another_key_is_401(api, signed_in, secret):
    user, token = signed_in
    claims = claims_of(token)
    for key in ("another-secret-0123456789abcdef", secret[:-1], secret + "x", ""):
        forged = URLSafeTimedSerializer(key or "-", salt=tokens.SALT).dumps(claims)
        assert refused(api, forged, secret=secret, user=user) == tokens.NOT_VALID
    # the right key with another salt (a token of another purpose) is not an access token either
    other_purpose = URLSafeTimedSerializer(secret, salt="mentor-platform.password-reset").dumps(claims)
    assert refused(api, other_purpose, secret=secret, user=user) == tokens.NOT_VALID


def jwt(header, claims, key=None):
    signing_input = f"{b64(header)}.{b64(claims)}"
    if key is None:
        return signing_input + "."
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def test_jwt_style_tokens_are_401_whatever_their_alg(api, signed_in, secret):
    user, token = signed_in
    now = int(time.time())
    claims = dict(claims_of(token), role="moderator", iat=now, exp=now + 3600)
    forged = [
        jwt({"alg": "none", "typ": "JWT"}, claims),
        jwt({"alg": "none", "typ": "JWT"}, claims)[:-1],  # without the trailing dot
        jwt({"alg": "None"}, claims),
        jwt({"alg": "NONE"}, claims),
        jwt({"alg": "HS256", "typ": "JWT"}, claims, key=secret),  # the right secret, the wrong format
        jwt({"alg": "HS256", "typ": "JWT"}, claims, key=""),
    ]
    for bad in forged:
        assert refused(api, bad, secret=secret, user=user) == tokens.NOT_VALID


def test_garbage_tokens_are_401(api, signed_in, secret):
    user, _ = signed_in
    for bad in ("a", "...", "e30", "e30.e30.", "null", "a" * 4000, "\u00e9t\u00e9", "%00", "eyJ.eyJ.eyJ"):
        refused(api, bad, secret=secret, user=user)


def test_an_expired_token_is_401_saying_so(start_service, api, signed_in, secret):
    user, _ = signed_in
    port = free_port()
    start_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", TOKEN_TTL_SECONDS=SHORT_TTL)
    short = Api(f"http://127.0.0.1:{port}")
    eventually(lambda: short("GET", "/health").status_code == 200, message="the short-lived gateway is up")
    token = short.sign_in(user["email"])
    assert short("GET", "/api/v1/me", token=token).status_code == 200  # fresh: accepted

    expired = eventually(
        lambda: _refused_as_expired(short, token),
        timeout=SHORT_TTL + 10,
        message="the token expires after TOKEN_TTL_SECONDS",
    )
    assert expired["message"] == tokens.EXPIRED
    assert refused(short, token, secret=secret, user=user, expired=True) == tokens.EXPIRED
    # an expired token with its signature tampered is simply not valid: no hint that it once was
    payload, timestamp, signature = parts(token)
    bad = ".".join((payload, timestamp, signature[:-3] + flip(signature[-3]) + signature[-2:]))
    assert refused(short, bad, secret=secret, user=user) == tokens.NOT_VALID


def _refused_as_expired(api, token):
    response = api("GET", "/api/v1/me", token=token)
    if response.status_code != 401:
        return None
    return assert_error(response, 401, "unauthorized")


def test_the_claims_cannot_be_read_back_from_an_error(api, signed_in, secret):
    """The error for a bad token never echoes its claims (e.g. a moderator role it claimed)."""
    user, token = signed_in
    claims = claims_of(token)
    assert claims["sub"] == user["id"]  # anyone can read the payload: it must hold no secret
    assert set(claims) <= {"sub", "role", "sid", "ev"}, claims
    refused(api, token[:-2] + "xx", secret=secret, user=user)
