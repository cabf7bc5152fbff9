"""Password hashing with argon2id: pure CPU work, no I/O.

The service runs these calls in eventlet's OS-thread pool (they take tens of
milliseconds of C code each); the operator command calls them directly.

Its cost is a setting (``HashParameters``: PASSWORD_HASH_TIME_COST, _MEMORY_KIB, _PARALLELISM), by
default argon2-cffi's, RFC 9106's low-memory profile: 3 passes over 64 MiB in 4 lanes, about 0.15 s of
a core here. An operator may raise it; production refuses less than OWASP's floor for argon2id (2
passes over 19 MiB: ``below_floor``, checked with the other settings at start, services/common/settings.py). The test sessions set a cheap cost: a hash is still argon2id, and their thousands
of registrations and sign-ins no longer spend most of the suite's CPU (a sign-in of a hash made with
other parameters rehashes it with the service's: ``Verification.needs_rehash``).
"""

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# A fixed string that is never anyone's password: hashed once, it is what an unknown
# e-mail is verified against, so sign-in does the same work whether or not the account exists.
_DUMMY_PASSWORD = "identity.dummy-password.never-valid"

# argon2-cffi's own default (RFC 9106, second recommended option)
DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM = 3, 65536, 4
# the least production accepts: OWASP's password storage cheat sheet, argon2id m=19 MiB, t=2, p=1
FLOOR_TIME_COST, FLOOR_MEMORY_KIB = 2, 19456
SETTINGS = ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")


@dataclass(frozen=True)
class HashParameters:
    time_cost: int = DEFAULT_TIME_COST
    memory_kib: int = DEFAULT_MEMORY_KIB
    parallelism: int = DEFAULT_PARALLELISM

    @classmethod
    def from_config(cls, config):
        """The service's settings (absent: the defaults); ValueError naming the setting when one is not
        a whole number argon2 accepts (at least 1; memory at least 8 KiB a lane)."""
        values = []
        for name, default in zip(SETTINGS, (DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM), strict=True):
            raw = config.get(name)
            try:
                value = default if raw in (None, "") else int(str(raw).strip())
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not {str(raw)[:20]!r}") from None
            if value < 1:
                raise ValueError(f"{name} must be at least 1")
            values.append(value)
        parameters = cls(*values)
        if parameters.memory_kib < 8 * parameters.parallelism:
            raise ValueError("PASSWORD_HASH_MEMORY_KIB must be at least 8 KiB per lane (PASSWORD_HASH_PARALLELISM)")
        return parameters

    def below_floor(self):
        """What production refuses about these parameters: a list of messages naming the settings."""
        found = []
        if self.time_cost < FLOOR_TIME_COST:
            found.append(f"PASSWORD_HASH_TIME_COST is below {FLOOR_TIME_COST}")
        if self.memory_kib < FLOOR_MEMORY_KIB:
            found.append(f"PASSWORD_HASH_MEMORY_KIB is below {FLOOR_MEMORY_KIB}")
        return found

    def hasher(self):
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism)


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
