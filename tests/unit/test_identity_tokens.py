"""Access tokens issued at sign-in: issue, verify, expiry, tampering, the session they name. No I/O."""

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contracts.errors import Unauthorized
from services.common.tokens import SALT, TokenSigner

SECRET = "unit-test-token-secret-0123456789"
USER = "3f1e0c9a-5b7d-4c1e-9a7b-2d4e6f8a0b1c"
SESSION = "9d2b7a4e-1c3f-4e5a-8b6c-0d1e2f3a4b5c"


def test_issued_token_verifies_to_the_same_actor_and_names_its_session():
    signer = TokenSigner(SECRET, 3600)
    token = signer.issue(USER, "mentor", SESSION)
    assert signer.verify(token) == {"user_id": USER, "role": "mentor"}
    assert signer.claims(token) == {"user_id": USER, "role": "mentor", "session_id": SESSION, "email_verified": False}
    verified = signer.issue(USER, "mentor", SESSION, email_verified=True)
    assert signer.claims(verified)["email_verified"] is True  # what the gateway needs, without asking identity


def _token_issued_seconds_ago(seconds, claims=None):
    """A genuine token (right key, right salt) whose timestamp lies ``seconds`` in the past."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - seconds

    claims = claims or {"sub": "u-1", "role": "mentee", "sid": SESSION, "ev": False}
    return URLSafeTimedSerializer(SECRET, salt=SALT, signer=PastSigner).dumps(claims)


def test_token_within_its_lifetime_verifies():
    assert TokenSigner(SECRET, 3600).verify(_token_issued_seconds_ago(3500))["user_id"] == "u-1"


def test_expired_token_is_refused():
    with pytest.raises(Unauthorized, match="expired"):
        TokenSigner(SECRET, 3600).verify(_token_issued_seconds_ago(3700))


def test_tampered_token_is_refused():
    signer = TokenSigner(SECRET, 3600)
    token = signer.issue("u-1", "mentee", SESSION)
    forged_claims = URLSafeTimedSerializer("some-other-secret-of-length", salt=SALT).dumps(
        {"sub": "u-1", "role": "moderator", "sid": SESSION}
    )
    _, stamp, signature = token.rsplit(".", 2)  # the payload may start with "." (compressed)
    tampered = f"{forged_claims.rsplit('.', 2)[0]}.{stamp}.{signature}"  # moderator claims, mentee signature
    assert tampered != token
    for bad in (tampered, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "garbage", ""):
        with pytest.raises(Unauthorized, match="not valid"):
            signer.verify(bad)


def test_token_signed_with_another_secret_is_refused():
    other = TokenSigner("another-secret-0123456789abcdef", 3600).issue("u-1", "moderator", SESSION)
    with pytest.raises(Unauthorized):
        TokenSigner(SECRET, 3600).verify(other)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u-1", "role": "mentee"},  # a token of before sessions: no sid
        {"sub": "u-1", "role": "mentee", "sid": SESSION},  # a v2 token: whether the e-mail is verified unsaid
        {"sub": "u-1", "role": "mentee", "sid": SESSION, "ev": "yes"},
        {"sub": "u-1", "role": "mentee", "sid": ""},
        {"sub": "u-1", "role": "mentee", "sid": 7},
        {"sub": None, "role": "mentee", "sid": SESSION},
        ["u-1", "mentee", SESSION],
    ],
)
def test_a_genuinely_signed_token_without_proper_claims_is_refused(claims):
    with pytest.raises(Unauthorized, match="not valid"):
        TokenSigner(SECRET, 3600).claims(_token_issued_seconds_ago(0, claims))


@pytest.mark.parametrize("salt", ["mentor-platform.access-token.v1", "mentor-platform.access-token.v2"])
def test_a_token_of_an_old_salt_is_refused(salt):
    old = URLSafeTimedSerializer(SECRET, salt=salt).dumps({"sub": "u-1", "role": "mentee", "sid": SESSION, "ev": True})
    with pytest.raises(Unauthorized, match="not valid"):
        TokenSigner(SECRET, 3600).verify(old)


def test_short_secret_is_rejected_at_construction():
    with pytest.raises(ValueError):
        TokenSigner("short", 3600)
