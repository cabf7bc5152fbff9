"""Access tokens issued at sign-in: issue, verify, expiry, tampering. No I/O."""
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contracts.errors import Unauthorized
from services.common.tokens import SALT, TokenSigner

SECRET = "unit-test-token-secret-0123456789"


def test_issued_token_verifies_to_the_same_actor():
    signer = TokenSigner(SECRET, 3600)
    token = signer.issue("3f1e0c9a-5b7d-4c1e-9a7b-2d4e6f8a0b1c", "mentor")
    assert signer.verify(token) == {"user_id": "3f1e0c9a-5b7d-4c1e-9a7b-2d4e6f8a0b1c", "role": "mentor"}


def _token_issued_seconds_ago(seconds, user_id="u-1", role="mentee"):
    """A genuine token (right key, right salt) whose timestamp lies ``seconds`` in the past."""
    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - seconds
    return URLSafeTimedSerializer(SECRET, salt=SALT, signer=PastSigner).dumps({"sub": user_id, "role": role})


def test_token_within_its_lifetime_verifies():
    assert TokenSigner(SECRET, 3600).verify(_token_issued_seconds_ago(3500))["user_id"] == "u-1"


def test_expired_token_is_refused():
    with pytest.raises(Unauthorized, match="expired"):
        TokenSigner(SECRET, 3600).verify(_token_issued_seconds_ago(3700))


def test_tampered_token_is_refused():
    signer = TokenSigner(SECRET, 3600)
    token = signer.issue("u-1", "mentee")
    forged_claims = URLSafeTimedSerializer("some-other-secret-of-length", salt=SALT).dumps(
        {"sub": "u-1", "role": "moderator"})
    _, rest = token.split(".", 1)
    tampered = forged_claims.split(".", 1)[0] + "." + rest  # moderator claims, mentee signature
    for bad in (tampered, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "garbage", ""):
        with pytest.raises(Unauthorized, match="not valid"):
            signer.verify(bad)


def test_token_signed_with_another_secret_is_refused():
    other = TokenSigner("another-secret-0123456789abcdef", 3600).issue("u-1", "moderator")
    with pytest.raises(Unauthorized):
        TokenSigner(SECRET, 3600).verify(other)


def test_short_secret_is_rejected_at_construction():
    with pytest.raises(ValueError):
        TokenSigner("short", 3600)
