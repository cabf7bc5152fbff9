"""What a consumer counts as a dependency outage (held, uncounted) rather than the message's failure
(requeued, counted, parked in the end), and the backoff between trials (services/common/outage.py)."""

import psycopg2
import psycopg2.errors
import psycopg2.pool
import pytest
from eventsourcing.persistence import ConnectionUnavailable
from eventsourcing.persistence import OperationalError as StoreOperationalError
from nameko.exceptions import UnknownService

from contracts.errors import InvalidInput, NotFound, ServiceUnavailable
from services.common.library_internals.eventsourcing_group_commit import GroupCommitFailed
from services.common.outage import Backoff, database_caused, describe, is_dependency_outage


def raised(outer, cause):
    """``outer`` as raised ``from cause`` (what services/common/db.py and the cases store do)."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


def pg_error(cls, pgcode=None):
    error = cls("server message")
    if pgcode is not None:  # psycopg2's pgcode is read-only on real errors; a subclass carries it
        error = type(cls.__name__, (cls,), {"pgcode": pgcode})("server message")
    return error


@pytest.mark.parametrize(
    "exc",
    [
        pg_error(psycopg2.OperationalError),  # connect refused, "not currently accepting connections"
        pg_error(psycopg2.InterfaceError),  # "connection already closed"
        pg_error(psycopg2.OperationalError, "57P01"),  # terminating connection due to administrator command
        pg_error(psycopg2.OperationalError, "53300"),  # too many connections
        pg_error(psycopg2.OperationalError, "08006"),  # connection failure
        psycopg2.pool.PoolError("connection pool exhausted"),
        raised(ServiceUnavailable("The database is unreachable."), pg_error(psycopg2.OperationalError)),
        raised(
            ServiceUnavailable("The case store could not commit the change."),
            raised(GroupCommitFailed("batch failed"), pg_error(psycopg2.OperationalError, "57P01")),
        ),
        raised(StoreOperationalError("x"), pg_error(psycopg2.OperationalError)),  # eventsourcing's own wrap
        ConnectionUnavailable("Timed out waiting for a connection"),  # eventsourcing's pool
        ServiceUnavailable("The identity service did not answer within 10 s."),  # an RPC that timed out
        UnknownService("identity"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=repr,
)
def test_an_unreachable_dependency_is_an_outage(exc):
    assert is_dependency_outage(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("library.case-events: no handler for X"),
        KeyError("case_id"),
        InvalidInput("bad"),
        NotFound("No case 1."),
        pg_error(psycopg2.errors.UniqueViolation, "23505"),
        pg_error(psycopg2.errors.RaiseException, "P0001"),  # a trigger refusing the row
        # a statement cancelled or timed out is the statement's: a healthy database would fail it again
        raised(
            ServiceUnavailable("The database connection failed; try again."),
            pg_error(psycopg2.OperationalError, "57014"),
        ),
        pg_error(psycopg2.OperationalError, "57014"),
        raised(RuntimeError("wrapped"), pg_error(psycopg2.OperationalError)),  # only outage types, then causes
    ],
    ids=repr,
)
def test_a_failure_of_the_message_is_not_an_outage(exc):
    assert not is_dependency_outage(exc)


def test_backoff_doubles_with_jitter_up_to_its_cap():
    low = Backoff(0.5, 30, rng=lambda: 0.0)
    high = Backoff(0.5, 30, rng=lambda: 0.999999)
    lows = [low.next_delay() for _ in range(10)]
    highs = [high.next_delay() for _ in range(10)]
    assert lows[:4] == [0.25, 0.5, 1.0, 2.0]  # half the ceiling at the lowest draw
    assert [round(h, 3) for h in highs[:4]] == [0.5, 1.0, 2.0, 4.0]
    assert lows[-1] == 15.0 and round(highs[-1], 3) == 30.0  # capped


def test_backoff_settings_come_from_the_config():
    backoff = Backoff.from_config({"OUTAGE_BACKOFF_INITIAL_SECONDS": "0.2", "OUTAGE_BACKOFF_MAX_SECONDS": "2"})
    assert (backoff.initial, backoff.maximum) == (0.2, 2.0)
    assert (Backoff.from_config({}).initial, Backoff.from_config({}).maximum) == (0.5, 30.0)


def test_the_log_line_names_the_outage_and_its_cause():
    exc = raised(
        ServiceUnavailable("The database is unreachable."),
        psycopg2.OperationalError('FATAL:  database "x" is not currently accepting connections\n'),
    )
    assert describe(exc) == (
        "ServiceUnavailable: The database is unreachable. (OperationalError: FATAL:  "
        'database "x" is not currently accepting connections)'
    )
    assert describe(UnknownService("identity")) == "UnknownService: Unknown service `identity`"


def test_only_a_database_failure_can_be_blamed_on_the_message():
    """consumer.py asks the database itself only when the failure came from it; a service called over
    RPC being down is never the message's fault."""
    assert database_caused(
        raised(
            ServiceUnavailable("The database connection failed; try again."),
            pg_error(psycopg2.OperationalError, "57P01"),
        )
    )
    assert database_caused(ConnectionUnavailable("Timed out waiting for a connection"))
    assert not database_caused(ServiceUnavailable("The identity service did not answer within 10 s."))
    assert not database_caused(UnknownService("identity"))
