"""Signed, expiring access tokens: identity issues them at sign-in; the gateway checks them by itself.

A token carries what the gateway needs to authorize a request without asking identity: the user, their
role, whether their e-mail is verified, and the session it belongs to (``sid``). Its signature (HMAC with
TOKEN_SECRET, shared by identity and the gateway) and age are checked with no I/O; whether its session is
still live the gateway knows from identity's events (services/gateway/sessions.py): signing out,
changing or resetting the password revoke sessions, and a token of a revoked session is refused although
its signature is still good; a change of what a token claims (the e-mail verified since) overrides it.
"""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contracts.errors import Unauthorized

SALT = "mentor-platform.access-token.v3"  # v3: every token carries whether the e-mail is verified (v2: the sid)
NOT_VALID = "The access token is not valid."
EXPIRED = "The access token has expired; sign in again."
SESSION_ENDED = "The session has ended (signed out, or the password was changed); sign in again."


class TokenSigner:
    def __init__(self, secret, ttl_seconds=3600):
        if not secret or len(secret) < 16:
            raise ValueError("TOKEN_SECRET must be at least 16 characters")
        self.ttl = int(ttl_seconds)
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)

    def issue(self, user_id, role, session_id, email_verified=False):
        return self._serializer.dumps(
            {"sub": str(user_id), "role": role, "sid": str(session_id), "ev": bool(email_verified)}
        )

    def claims(self, token):
        """``{"user_id", "role", "session_id", "email_verified"}`` of a genuine, unexpired token;
        Unauthorized otherwise."""
        try:
            claims = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise Unauthorized(EXPIRED) from None
        except BadSignature:
            raise Unauthorized(NOT_VALID) from None
        if (
            not isinstance(claims, dict)
            or not all(isinstance(claims.get(k), str) and claims[k] for k in ("sub", "role", "sid"))
            or not isinstance(claims.get("ev"), bool)
        ):
            raise Unauthorized(NOT_VALID)
        return {
            "user_id": claims["sub"],
            "role": claims["role"],
            "session_id": claims["sid"],
            "email_verified": claims["ev"],
        }

    def verify(self, token):
        """The actor ``{"user_id", "role"}`` the token claims (its session is not checked here)."""
        claims = self.claims(token)
        return {"user_id": claims["user_id"], "role": claims["role"]}
