"""Signed, expiring access tokens: identity issues them, the gateway verifies them."""
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contracts.errors import Unauthorized

SALT = "mentor-platform.access-token.v1"


class TokenSigner:
    def __init__(self, secret, ttl_seconds=3600):
        if not secret or len(secret) < 16:
            raise ValueError("TOKEN_SECRET must be at least 16 characters")
        self.ttl = int(ttl_seconds)
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)

    def issue(self, user_id, role):
        return self._serializer.dumps({"sub": str(user_id), "role": role})

    def verify(self, token):
        try:
            claims = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise Unauthorized("The access token has expired; sign in again.") from None
        except BadSignature:
            raise Unauthorized("The access token is not valid.") from None
        return {"user_id": claims["sub"], "role": claims["role"]}
