"""Password hashing with argon2id: pure CPU work, no I/O.

The service runs these calls in eventlet's OS-thread pool (they take tens of
milliseconds of C code each); the operator command calls them directly.
"""

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# A fixed string that is never anyone's password: hashed once, it is what an unknown
# e-mail is verified against, so sign-in does the same work whether or not the account exists.
_DUMMY_PASSWORD = "identity.dummy-password.never-valid"


@dataclass(frozen=True)
class Verification:
    ok: bool
    needs_rehash: bool = False


class PasswordHashing:
    """Hash and verify passwords; ``hasher`` defaults to argon2-cffi's RFC 9106 profile."""

    def __init__(self, hasher=None):
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = None

    @property
    def dummy_hash(self):
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    def hash(self, password):
        return self.hasher.hash(password)

    def verify(self, stored_hash, password):
        """Check ``password`` against ``stored_hash``; ``None`` (no such account) never matches.

        Never raises for a wrong password or a malformed stored hash: both are a mismatch.
        """
        if stored_hash is None:
            self._verify(self.dummy_hash, password)
            return Verification(ok=False)
        if not self._verify(stored_hash, password):
            return Verification(ok=False)
        return Verification(ok=True, needs_rehash=self.hasher.check_needs_rehash(stored_hash))

    def _verify(self, stored_hash, password):
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
