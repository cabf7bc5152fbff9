"""A consumer's dependency is down: what counts as that, and how long to wait before trying again.

Pure logic (no broker, no container): ``services.common.consumer`` decides with it whether a
handler's failure is the message's fault (counted toward the delivery limit, parked in the end) or
an outage of something the handler needs (the service's own database, a service it calls over RPC),
which is nobody's fault in the message and must cost it nothing.

Only failures that say "I could not reach it" are outages. A database error that the server raised
about the statement (a constraint, a syntax error, a cancelled or timed-out query) is the message's:
it would fail again on a healthy database, so it is retried and parked as before.
"""

import random

import psycopg2
import psycopg2.pool
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import PersistenceError as StorePersistenceError
from nameko.exceptions import UnknownService

from contracts.errors import ServiceUnavailable

DEFAULT_INITIAL_SECONDS = 0.5
DEFAULT_MAX_SECONDS = 30.0

# Exceptions that may mean an outage; the database error underneath (if any) then decides.
MAYBE_OUTAGE = (
    ServiceUnavailable,  # services/common/db.py and the cases store wrap connection failures in it; an RPC'd
    UnknownService,  # service that did not answer in time (notifications/directory.py) or is not running
    ConnectionError,  # refused, reset, aborted
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    psycopg2.pool.PoolError,
    StoreOperationalError,
    StoreInterfaceError,  # eventsourcing's (cases), incl. its pool's ConnectionUnavailable
)

# SQLSTATE classes of the server failing, not the statement: 08 connection exception, 53 insufficient
# resources (disk full, out of memory, too many connections), 57P operator intervention (admin or crash
# shutdown, cannot connect now; not 57014, a cancelled statement), 58 system error (I/O).
OUTAGE_SQLSTATE_PREFIXES = ("08", "53", "57P", "58")


def _causes(exc):
    """``exc`` and what it was raised from (``raise ... from``, or during the handling of), once each."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ if exc.__cause__ is not None else (None if exc.__suppress_context__ else exc.__context__)


def database_unreachable(error):
    """A psycopg2 error that says the database could not be reached or used at all."""
    code = getattr(error, "pgcode", None)
    if code is None:  # no server answer to a statement: a failed connect, a lost or closed connection
        return isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.pool.PoolError))
    return code.startswith(OUTAGE_SQLSTATE_PREFIXES)


def is_dependency_outage(exc):
    """True when the handler failed because something it depends on is unavailable, not because of
    the message: a connection to its database failed or was lost (also wrapped as ServiceUnavailable,
    or as eventsourcing's errors), its pool could not give a connection, or a service it called over
    RPC did not answer. The first database error under ``exc`` decides, so a ServiceUnavailable over a
    cancelled statement is the message's failure."""
    if not isinstance(exc, MAYBE_OUTAGE):
        return False
    for cause in _causes(exc):
        if isinstance(cause, psycopg2.Error):
            return database_unreachable(cause)
    return True


def _first_line(exc):
    text = getattr(exc, "message", None) or str(exc)  # a PlatformError's str() is its args tuple
    text = str(text).strip()
    return text.splitlines()[0] if text else ""


def database_caused(exc):
    """The failure came from the database (a psycopg2 or eventsourcing store error under it), not
    from a service called over RPC."""
    return any(isinstance(cause, (psycopg2.Error, StorePersistenceError)) for cause in _causes(exc))


def describe(exc):
    """One line for the logs: the exception's class and first line, and those of the error it was
    raised from, e.g. the server's refusal under a ServiceUnavailable (no payload, no personal data:
    connection errors name hosts and databases, never rows)."""
    text = f"{type(exc).__name__}: {_first_line(exc)}"
    root = list(_causes(exc))[-1]
    if root is not exc:
        text += f" ({type(root).__name__}: {_first_line(root)})"
    return text[:300]


class Backoff:
    """Exponential backoff with jitter: the n-th delay is drawn from [d/2, d] where d is
    ``initial * 2**n`` capped at ``maximum`` ("equal jitter": never a burst of retries at once,
    as with full jitter's near-zero draws, and several consumers do not retry in step)."""

    def __init__(self, initial=DEFAULT_INITIAL_SECONDS, maximum=DEFAULT_MAX_SECONDS, rng=random.random):
        self.initial = max(0.001, float(initial))
        self.maximum = max(self.initial, float(maximum))
        self.attempts = 0
        self._rng = rng

    @classmethod
    def from_config(cls, config):
        return cls(
            config.get("OUTAGE_BACKOFF_INITIAL_SECONDS") or DEFAULT_INITIAL_SECONDS,
            config.get("OUTAGE_BACKOFF_MAX_SECONDS") or DEFAULT_MAX_SECONDS,
        )

    def next_delay(self):
        ceiling = min(self.maximum, self.initial * 2 ** min(self.attempts, 64))
        self.attempts += 1
        return ceiling / 2 + self._rng() * ceiling / 2
