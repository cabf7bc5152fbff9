"""Signed, expiring access tokens: identity issues them and checks their session on every
request (``identity.authenticate``); the gateway checks the signature first, so a forged or
expired token costs no RPC.

A token names its session (``sid``): signing out or changing the password revokes sessions,
and a token of a revoked session is refused although its signature is still good.
"""
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contracts.errors import Unauthorized

SALT = "mentor-platform.access-token.v2"  # v2: every token carries its session id
NOT_VALID = "The access token is not valid."
EXPIRED = "The access token has expired; sign in again."


class TokenSigner:
    def __init__(self, secret, ttl_seconds=3600):
        if not secret or len(secret) < 16:
            raise ValueError("TOKEN_SECRET must be at least 16 characters")
        self.ttl = int(ttl_seconds)
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)

    def issue(self, user_id, role, session_id):
        return self._serializer.dumps({"sub": str(user_id), "role": role, "sid": str(session_id)})

    def claims(self, token):
        """``{"user_id", "role", "session_id"}`` of a genuine, unexpired token; Unauthorized otherwise."""
        try:
            claims = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise Unauthorized(EXPIRED) from None
        except BadSignature:
            raise Unauthorized(NOT_VALID) from None
        if not isinstance(claims, dict) or not all(isinstance(claims.get(k), str) and claims[k]
                                                   for k in ("sub", "role", "sid")):
            raise Unauthorized(NOT_VALID)
        return {"user_id": claims["sub"], "role": claims["role"], "session_id": claims["sid"]}

    def verify(self, token):
        """The actor ``{"user_id", "role"}`` the token claims (its session is not checked here)."""
        claims = self.claims(token)
        return {"user_id": claims["user_id"], "role": claims["role"]}
