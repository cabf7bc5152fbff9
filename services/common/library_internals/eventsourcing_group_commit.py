"""Group commit for eventsourcing 9.2's PostgreSQL recorder.

The stock ``PostgresApplicationRecorder`` takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` in every
insert transaction so that notification ids commit in order (a reader tailing the log never
sees id n+1 before n). The price is that concurrent writers queue for the lock one commit at a
time. Here the commands of concurrent callers are queued instead, and one writer at a time
per recorder commits everything queued in one transaction: the lock is taken once per batch,
so the order guarantee still holds across processes, and a commit is paid once per batch.

Guarantees (those of the stock recorder, and one more):

- notification ids are assigned under the table lock, committed in order, and returned to
  each caller for its own events (``insert_events`` returns them as the stock recorder does);
- a command whose (originator_id, originator_version) already exists fails alone with
  eventsourcing's ``IntegrityError`` (its application turns that into a concurrency conflict)
  while the rest of its batch commits; so does a duplicate tracking record (process recorder);
- ids are *gap-free*: they are ``max(notification_id) + 1..n`` computed under the lock, not
  drawn from the column's sequence, so neither a conflicting command nor a failed batch leaves
  a hole (the stock recorder leaves one per rolled-back insert). The sequence is moved to the
  new maximum in each batch, so a stock recorder on the same table (another process, during a
  switch-over) keeps working;
- a batch that fails as a whole (lost connection, lock timeout, an error at COMMIT such as a
  deferred constraint) fails only its own commands, each with ``GroupCommitFailed`` saying
  whether it was written. When the error leaves that open (the connection died around COMMIT)
  the writer reconnects, terminates its old backend (so that transaction is over) and looks for
  the batch's first event: found, the batch committed and its callers get their ids; not found,
  it did not. Only if that check is impossible (or the writer itself is killed mid-batch) does
  the error say the outcome is unknown. The next batch proceeds on a new connection.

How a batch is written, in one round trip: ``BEGIN; SET LOCAL lock_timeout; LOCK TABLE;
EXECUTE <prepared insert of every event of the batch>; COMMIT; SELECT <its last id>`` (the
last id is kept in a session setting, as the result of a statement before COMMIT is not
returned). No savepoints there: more than 64 subtransactions in one transaction would slow
every other session's snapshots. Only if the insert fails (some command conflicts) is the
batch rolled back and written again command by command, each under its own SAVEPOINT, to fail
the failing commands alone and commit the others.

Who writes, and gathering: see ``GroupCommitWriter`` (no writer thread: a caller leads).

Concurrency: callers wait on ``threading`` locks looked up at run time, so this works with
plain threads (benchmarks, scripts) and with eventlet greenlets once ``eventlet.monkey_patch()``
has run (the nameko services, where it was measured fastest): construct the recorder after
patching. Under eventlet psycopg2 must yield to the hub while PostgreSQL works; eventlet's
patching and ``services.common.db`` install the wait callback, and so does the writer if it
finds none.

Use: ``PERSISTENCE_MODULE=services.common.library_internals.eventsourcing_group_commit:Factory`` in the application's
environment, the ``POSTGRES_*`` settings as for ``eventsourcing.postgres`` (the cases service:
CASES_RECORDER, see services/cases/application.py). Each recorder has one connection of its own
for writing, opened on the first insert (a recorder only read from never opens it; reads use
eventsourcing's pool as before); ``Application.close()`` closes it.

Private parts used (eventsourcing 9.2, ``eventsourcing/postgres.py``): the recorders' SQL statements
(``insert_events_statement`` and the tracking insert, ``_insert_events``'s order of work), the
datastore's ``pool.pre_ping`` and the class of ``Factory.datastore`` (swapped for ``CheckedDatastore``
at run time), and a pooled connection's ``_pg_conn``. tests/unit/test_library_internals.py pins the
version. Stock path: ``CASES_RECORDER=stock`` (services/cases/application.py), eventsourcing's own
recorder, tested beside this one in tests/integration/test_group_commit_recorder.py.
"""

import contextlib
import threading
import time
from uuid import UUID

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from eventsourcing import postgres
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    Notification,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)
from eventsourcing.utils import retry

from services.common.library_internals.psycopg2_pool import idle_and_open

WRITTEN_AGAINST = ("eventsourcing", "9.2.22")
RECHECK = (
    "eventsourcing/postgres.py: PostgresApplicationRecorder/PostgresProcessRecorder's insert statements, "
    "table lock and returned notification ids; PostgresDatastore.get_connection, pool.pre_ping and a "
    "connection's _pg_conn; then run tests/integration/test_group_commit_recorder.py and "
    "bench/bench_group_commit.py against CASES_RECORDER=stock"
)

MAX_BATCH_EVENTS = 1000  # a batch's INSERT stays under a megabyte; a bigger command goes alone
GATHER_TIMEOUT = 0.0005  # seconds a batch may wait for callers known to be coming back
PING_AFTER_IDLE = 1.0  # seconds: like the pool's pre-ping, check a connection idle this long
TERMINATE_TIMEOUT_MS = 5000  # waiting for the old backend to end before checking an outcome
CLOSE_TIMEOUT = 30.0  # seconds ``close()`` lets queued commands finish

LAST_ID_SETTING = "group_commit.last_id"
INSERT_STATEMENT = "group_commit_insert"

_TRANSLATED = (  # psycopg2 -> eventsourcing, as eventsourcing.postgres.PostgresTransaction does
    (psycopg2.InterfaceError, InterfaceError),
    (psycopg2.DataError, DataError),
    (psycopg2.OperationalError, OperationalError),
    (psycopg2.IntegrityError, IntegrityError),
    (psycopg2.InternalError, InternalError),
    (psycopg2.ProgrammingError, ProgrammingError),
    (psycopg2.NotSupportedError, NotSupportedError),
    (psycopg2.DatabaseError, DatabaseError),
)


class GroupCommitFailed(OperationalError):
    """The batch this command was in failed as a whole (not because of this command)."""


def translate(exc):
    """The eventsourcing exception class a stock recorder raises for this psycopg2 error."""
    for pg_class, es_class in _TRANSLATED:
        if isinstance(exc, pg_class):
            return es_class
    return PersistenceError


class _Command:
    """One caller's ``insert_events``: its rows in, its notification ids or its error out."""

    __slots__ = ("stored_events", "tracking", "literals", "notification_ids", "error", "lead", "_signal", "_woken")

    def __init__(self, stored_events, tracking=None, literals=()):
        self.stored_events = stored_events
        self.tracking = tracking
        self.literals = literals  # SQL literals of the rows, built by the caller (the leader only joins)
        self.notification_ids = None
        self.error = None  # (eventsourcing exception class, message, cause or None)
        self.lead = False  # set before waking the caller when it is to lead the next batch
        self._signal = threading.Lock()  # held until woken: lighter than an Event, green or not
        self._signal.acquire()
        self._woken = False

    def fail(self, error_class, message, cause=None):
        self.notification_ids = None
        self.error = (error_class, message, cause)

    def wait(self):
        self._signal.acquire()

    def wake(self):
        """Only ever called by the current leader, so no race on ``_woken``."""
        if not self._woken:
            self._woken = True
            self._signal.release()


_topic_literals = {}


def _topic_literal(topic):
    """Topics are few (one per event class): quote each once."""
    literal = _topic_literals.get(topic)
    if literal is None:
        literal = "'" + topic.replace("'", "''") + "'"  # standard_conforming_strings is on
        if len(_topic_literals) < 10_000:
            _topic_literals[topic] = literal
    return literal


def _row_literals(stored_events):
    """Array elements for the prepared insert: uuid, version, topic, state (bytea as hex).
    Each is safe by construction: a UUID's text, an int, a quoted topic, hex digits."""
    return (
        ",".join("'%s'" % _uuid(event.originator_id) for event in stored_events),
        ",".join(str(int(event.originator_version)) for event in stored_events),
        ",".join(_topic_literal(event.topic) for event in stored_events),
        ",".join("'\\x%s'" % bytes(event.state).hex() for event in stored_events),
    )


def _uuid(value):
    return value if isinstance(value, UUID) else UUID(str(value))


class GroupCommitWriter:
    """Queues the commands of concurrent callers and commits them in batches, one at a time.

    There is no writer thread: the caller that finds nobody writing leads. It takes what is
    queued (its own command first), writes that batch on the recorder's connection, hands every
    command of the batch its result, and if more commands queued up meanwhile, wakes the first
    of their callers to lead the next batch. A lone caller thus writes its own command without
    any thread switch; under load one caller writes for many. Leading one batch only bounds
    how long a leader is kept from its own work.

    Gathering: while a batch is written the next commands queue up, and the callers of the
    batch, once woken, come back a moment later. Taking the queue at once would split the
    callers into two groups that alternate (half the batch it could be), so after a batch of s
    commands with q more queued, the next leader waits until s + q are queued (the callers
    known to be active), but never longer than ``gather_timeout``: PostgreSQL's commit_delay,
    only when other callers are known to be coming. A lone caller never waits.
    """

    def __init__(self, recorder, max_batch_events=MAX_BATCH_EVENTS, gather_timeout=GATHER_TIMEOUT):
        self.recorder = recorder
        self.max_batch_events = max_batch_events
        self.gather_timeout = gather_timeout
        self.link = _Link(recorder)
        self._cond = threading.Condition(threading.Lock())
        self._queue = []  # invariant: not empty => somebody leads
        self._leading = False
        self._closed = False
        self._expected = 1  # commands expected in the next batch
        self._wake_at = None  # while a leader gathers: the queue length that wakes it
        self.batches = 0  # counters, for tests and benchmarks
        self.commands = 0

    @property
    def queued(self):
        """Commands waiting for a batch (not those of the batch being written)."""
        return len(self._queue)

    def submit(self, command):
        with self._cond:
            if self._closed:
                raise GroupCommitFailed("The recorder is closed; nothing was written.")
            self._queue.append(command)
            lead = not self._leading
            if lead:
                self._leading = True
            elif self._wake_at is not None and len(self._queue) >= self._wake_at:
                self._cond.notify_all()
        if not lead:
            command.wait()
            lead = command.lead  # woken to lead the next batch, not with a result
        if lead:
            self._lead()
        if command.error is not None:
            error_class, message, cause = command.error
            raise error_class(message) from cause
        return command.notification_ids

    def close(self, timeout=CLOSE_TIMEOUT):
        """Refuse new commands, let those queued be written (for ``timeout`` seconds at most),
        then close the connection."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            while self._leading and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
        self.link.close()

    def _lead(self):
        batch = self._take()
        try:
            self.recorder._write_batch(self.link, batch)
        except BaseException as exc:  # killed mid-batch: never leave the others waiting
            self.link.close()  # whatever the connection was doing, its transaction is over
            for command in batch:
                if command.notification_ids is None and command.error is None:
                    command.fail(
                        GroupCommitFailed,
                        f"The batch's writer was interrupted ({exc!r}); whether it was written is unknown.",
                    )
            raise
        finally:
            with self._cond:
                self.batches += 1
                self.commands += len(batch)
                self._expected = len(batch) + len(self._queue)
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
                    self._cond.notify_all()  # a closer may be waiting
            for command in batch:
                command.wake()
            if successor is not None:
                successor.lead = True
                successor.wake()

    def _take(self):
        with self._cond:
            if len(self._queue) < self._expected and self.gather_timeout and not self._closed:
                self._wake_at = self._expected
                deadline = time.monotonic() + self.gather_timeout
                while len(self._queue) < self._expected:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                self._wake_at = None
            size, events = 0, 0
            for command in self._queue:
                events += len(command.stored_events)
                if size and events > self.max_batch_events:
                    break
                size += 1
            batch, self._queue = self._queue[:size], self._queue[size:]
            return batch


class GroupCommitApplicationRecorder(postgres.PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose ``insert_events`` joins a group commit."""

    def __init__(self, datastore, events_table_name="stored_events", **kwargs):
        super().__init__(datastore, events_table_name, **kwargs)
        self.writer = GroupCommitWriter(self)

    # ---- readers ----------------------------------------------------------------------

    def select_notifications(self, start, limit, stop=None, topics=()):
        """eventsourcing's, the same rows in the same order; the common call (no ``stop``, no
        ``topics``: the relay's) reads them as tuples, where eventsourcing's ``DictCursor`` builds a
        dict per row (a quarter of the cases relay's reading, bench/README.md "Relay")."""
        if stop is not None or topics:
            return super().select_notifications(start, limit, stop, topics)
        return self._select_notifications_from(start, limit)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing's
    def _select_notifications_from(self, start, limit):
        with self.datastore.get_connection() as conn, conn.transaction(commit=False):
            with conn._pg_conn.cursor() as cur:  # a plain cursor: rows as tuples
                cur.execute(self._select_from_statement, (start, limit))
                return [
                    Notification(
                        id=row[0], originator_id=row[1], originator_version=row[2], topic=row[3], state=bytes(row[4])
                    )
                    for row in cur.fetchall()
                ]

    @property
    def _select_from_statement(self):
        return (
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        )

    # ---- callers ----------------------------------------------------------------------

    def insert_events(self, stored_events, **kwargs):
        """Blocks until the batch holding these events has committed; returns their ids."""
        tracking = self._tracking(kwargs)
        if not stored_events and tracking is None:
            return []
        stored_events = list(stored_events)
        return self.writer.submit(_Command(stored_events, tracking, literals=_row_literals(stored_events)))

    def _tracking(self, kwargs):
        return None  # an application recorder ignores tracking, as the stock one does

    def close(self):
        self.writer.close()

    # ---- the writer: one batch ------------------------------------------------------------

    def _write_batch(self, link, batch):
        """Commit the batch and give each command its ids or its error (never raises)."""
        try:
            cur = link.cursor()
        except psycopg2.Error as exc:
            link.close()
            return self._fail(batch, exc, "connecting", written=False)
        try:
            self._commit_at_once(link, cur, batch)
            return
        except psycopg2.Error as exc:
            if not link.in_failed_transaction():
                return self._settle(link, batch, exc, "committing")
            link.rollback()
            if self._is_batch_error(exc):  # lock timeout, cancelled: no command's fault
                return self._fail(batch, exc, "inserting", written=False)
        # Some command failed: again one by one, so that it fails alone.
        try:
            self._commit_one_by_one(link, link.cursor(ping=False), batch)
        except psycopg2.Error as exc:
            if link.in_failed_transaction():
                link.rollback()
                return self._fail(batch, exc, "inserting", written=False)
            return self._settle(link, [c for c in batch if c.error is None], exc, "committing", everyone=batch)

    def _commit_at_once(self, link, cur, batch):
        statements = [self._begin_and_lock()]
        trackings = [command.tracking for command in batch if command.tracking is not None]
        if trackings:
            statements.append(self._insert_tracking_sql(cur, trackings))
        with_events = [command for command in batch if command.stored_events]
        if with_events:
            statements.append(self._insert_events_sql(with_events))
        statements.append("COMMIT")
        if with_events:
            statements.append(f"SELECT current_setting('{LAST_ID_SETTING}', true)")
        cur.execute("; ".join(statements))
        link.last_used = time.monotonic()
        if with_events:
            last = int(cur.fetchone()[0])
            self._succeed(batch, last - sum(len(command.stored_events) for command in batch) + 1)
        else:
            self._succeed(batch, 0)

    def _commit_one_by_one(self, link, cur, batch):
        """Each command under its own SAVEPOINT: a failing one fails alone, the others commit."""
        cur.execute(self._begin_and_lock())
        for command in batch:
            statements = ["SAVEPOINT group_commit_command"]
            if command.tracking is not None:
                statements.append(self._insert_tracking_sql(cur, [command.tracking]))
            if command.stored_events:
                statements.append(self._insert_events_sql([command]))
            try:
                cur.execute("; ".join(statements))
                if command.stored_events:
                    last = int(cur.fetchone()[0])
                    count = len(command.stored_events)
                    command.notification_ids = list(range(last - count + 1, last + 1))
                else:
                    command.notification_ids = []
                cur.execute("RELEASE SAVEPOINT group_commit_command")
            except psycopg2.Error as exc:
                if self._is_batch_error(exc):
                    raise
                cur.execute("ROLLBACK TO SAVEPOINT group_commit_command; RELEASE SAVEPOINT group_commit_command")
                command.fail(translate(exc), str(exc).strip(), exc)
        cur.execute("COMMIT")
        link.last_used = time.monotonic()

    @staticmethod
    def _succeed(commands, first_id):
        """Hand out consecutive ids in batch order, from ``first_id``."""
        next_id = first_id
        for command in commands:
            count = len(command.stored_events)
            command.notification_ids = list(range(next_id, next_id + count))
            next_id += count

    def _settle(self, link, committed, exc, step, everyone=None):
        """The transaction ended in an error around COMMIT: find out whether it committed."""
        everyone = committed if everyone is None else everyone
        try:
            written = self._probe(link, committed)
        except (psycopg2.Error, LookupError):
            link.close()
            return self._fail(everyone, exc, step, written=None)
        if written is None:
            return self._fail(everyone, exc, step, written=False)
        if written is not True:  # the first id of the batch
            self._succeed(committed, written)
        # else: the ids were known before COMMIT (one by one); they stand

    def _probe(self, link, commands):
        """Did these commands commit? None if not; True or the first notification id if so.

        If the connection is gone its backend may still be finishing the transaction, so it is
        terminated first (and waited for); then the first event (or tracking record) decides,
        the batch being atomic."""
        if link.conn is None or link.conn.closed:
            old_backend = link.backend
            link.close()
            link.cursor(ping=False)
            if old_backend is not None:
                link.terminate(old_backend)
        with link.conn.cursor() as cur:
            for command in commands:
                if command.stored_events:
                    first = command.stored_events[0]
                    cur.execute(
                        f"SELECT notification_id, state FROM {self.events_table_name} "
                        "WHERE originator_id = %s AND originator_version = %s",
                        (first.originator_id, first.originator_version),
                    )
                    row = cur.fetchone()
                    if row is None or bytes(row[1]) != bytes(first.state):
                        return None
                    known = command.notification_ids
                    return True if known else row[0] - self._offset(commands, command)
                if command.tracking is not None:
                    return self._probe_tracking(cur, command.tracking)
        raise LookupError("nothing to look for")

    @staticmethod
    def _offset(commands, command):
        offset = 0
        for other in commands:
            if other is command:
                return offset
            offset += len(other.stored_events)
        return offset

    def _probe_tracking(self, cur, tracking):
        raise LookupError("an application recorder records no tracking")

    def _fail(self, commands, exc, step, written):
        if written is None:
            outcome = "whether it was written is unknown (the connection was lost around COMMIT)"
        else:
            outcome = "nothing of it was written; retrying is safe"
        message = (
            f"Group commit of a batch of {len(commands)} command(s) failed while {step}; {outcome}: "
            f"{str(exc).strip() or type(exc).__name__}"
        )
        for command in commands:
            command.fail(GroupCommitFailed, message, exc)

    @staticmethod
    def _is_batch_error(exc):
        """Errors that are no command's fault: connection, lock timeout, cancellation, shutdown."""
        return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))

    # ---- SQL --------------------------------------------------------------------------

    def _begin_and_lock(self):
        # An autocommit connection with an explicit BEGIN: the whole batch is one round trip.
        return "BEGIN; " + "; ".join(self.lock_statements)

    def _insert_events_sql(self, commands):
        """EXECUTE the prepared insert with every row of these commands, in order."""
        if len(commands) == 1:
            ids, versions, topics, states = commands[0].literals
        else:
            ids, versions, topics, states = (",".join(parts) for parts in zip(*(c.literals for c in commands)))
        return (
            f"EXECUTE {INSERT_STATEMENT}(ARRAY[{ids}]::uuid[], ARRAY[{versions}]::bigint[], "
            f"ARRAY[{topics}]::text[], ARRAY[{states}]::bytea[])"
        )

    def _prepare_insert(self, cur):
        """Rows 1..n get notification ids max + 1..max + n: computed under the lock, so gap-free
        and in commit order. The sequence follows the new maximum (for stock recorders), which
        is also kept in a session setting: read back after COMMIT, it gives the batch its ids."""
        table = self.events_table_name
        cur.execute("SELECT pg_get_serial_sequence(%s, 'notification_id')", (table,))
        sequence = cur.fetchone()[0]
        last = "MAX(notification_id)"
        if sequence:
            last = f"setval({cur.mogrify('%s', (sequence,)).decode()}::regclass, {last})"
        cur.execute(
            f"PREPARE {INSERT_STATEMENT}(uuid[], bigint[], text[], bytea[]) AS "
            f"WITH inserted AS (INSERT INTO {table} (originator_id, originator_version, topic, state, notification_id) "
            f"SELECT r.i, r.v, r.t, r.s, m.n + r.p FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS r(i, v, t, s, p) "
            f"CROSS JOIN (SELECT COALESCE(MAX(notification_id), 0) AS n FROM {table}) AS m "
            f"RETURNING notification_id) "
            f"SELECT set_config('{LAST_ID_SETTING}', ({last})::text, false) FROM inserted"
        )

    def _insert_tracking_sql(self, cur, trackings):
        raise AssertionError("only a process recorder records tracking")  # pragma: no cover


class _Link:
    """A writer's own connection: autocommit (each batch says BEGIN ... COMMIT itself), the
    insert prepared, checked before use after being idle (like the pool's pre-ping)."""

    ping_after_idle = PING_AFTER_IDLE

    def __init__(self, recorder):
        self.recorder = recorder
        self.conn = None
        self.backend = None  # (pid, backend_start): which backend to end if the connection is lost
        self.last_used = 0.0

    def cursor(self, ping=True):
        conn = self.conn
        if (
            conn is not None
            and not conn.closed
            and ping
            and self.ping_after_idle is not None
            and time.monotonic() - self.last_used > self.ping_after_idle
        ):
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                self.last_used = time.monotonic()
            except psycopg2.Error:
                self.close()
                conn = None
        if conn is None or conn.closed:
            conn = self.connect()
        return conn.cursor()

    def connect(self):
        _green_psycopg2()
        self.close()
        pool = self.recorder.datastore.pool
        conn = psycopg2.connect(
            dbname=pool.dbname,
            host=pool.host,
            port=pool.port,
            user=pool.user,
            password=pool.password,
            connect_timeout=pool.connect_timeout,
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    f"SET idle_in_transaction_session_timeout = '{pool.idle_in_transaction_session_timeout}s'; "
                    "SET standard_conforming_strings = on; "
                    "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                )
                self.backend = cur.fetchone()
                self.recorder._prepare_insert(cur)
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        self.last_used = time.monotonic()
        return conn

    def in_failed_transaction(self):
        conn = self.conn
        return (
            conn is not None
            and not conn.closed
            and conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
        )

    def rollback(self):
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")
        except psycopg2.Error:
            self.close()

    def terminate(self, backend):
        pid, started = backend
        with self.conn.cursor() as cur:
            wait = ", %s" if self.conn.server_version >= 140000 else ""
            cur.execute(
                f"SELECT pg_terminate_backend(pid{wait}) FROM pg_stat_activity WHERE pid = %s AND backend_start = %s",
                ((TERMINATE_TIMEOUT_MS,) if wait else ()) + (pid, started),
            )
            cur.fetchall()
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND backend_start = %s", (pid, started))
            if cur.fetchone()[0]:
                raise LookupError(f"backend {pid} is still running")

    def close(self):
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed:
            try:
                conn.close()
            except psycopg2.Error:
                pass


class GroupCommitProcessRecorder(GroupCommitApplicationRecorder, postgres.PostgresProcessRecorder):
    """The process recorder: each command's tracking record commits (or conflicts) with its events."""

    def _tracking(self, kwargs):
        return kwargs.get("tracking")

    def _insert_tracking_sql(self, cur, trackings):
        values = ",".join(cur.mogrify("(%s,%s)", (t.application_name, t.notification_id)).decode() for t in trackings)
        return f"INSERT INTO {self.tracking_table_name} VALUES {values}"

    def _probe_tracking(self, cur, tracking):
        cur.execute(
            f"SELECT 1 FROM {self.tracking_table_name} WHERE application_name = %s AND notification_id = %s",
            (tracking.application_name, tracking.notification_id),
        )
        return True if cur.fetchone() else None


class Factory(postgres.Factory):
    """``eventsourcing.postgres.Factory`` with the group-commit recorders (snapshots stay stock).

    One setting besides eventsourcing's ``POSTGRES_*``: ``GROUP_COMMIT_GATHER_TIMEOUT`` (seconds,
    default 0.0005; 0 never waits for callers to come back, see GroupCommitWriter)."""

    GROUP_COMMIT_GATHER_TIMEOUT = "GROUP_COMMIT_GATHER_TIMEOUT"
    application_recorder_class = GroupCommitApplicationRecorder
    process_recorder_class = GroupCommitProcessRecorder

    def __init__(self, env):
        super().__init__(env)
        self._recorders = []
        # eventsourcing's pre-ping sends SELECT 1 before every transaction of the pool (a large part of
        # loading a case, bench/RESULTS.md); KeepingPool's check, without a round trip, replaces it.
        if self.datastore.pool.pre_ping:
            self.datastore.pool.pre_ping = False
            self.datastore.__class__ = CheckedDatastore

    def application_recorder(self):
        return self._configure(super().application_recorder())

    def process_recorder(self):
        return self._configure(super().process_recorder())

    def _configure(self, recorder):
        gather_timeout = self.env.get(self.GROUP_COMMIT_GATHER_TIMEOUT)
        if gather_timeout:
            try:
                recorder.writer.gather_timeout = float(gather_timeout)
            except ValueError:
                raise EnvironmentError(
                    f"{self.GROUP_COMMIT_GATHER_TIMEOUT} must be a number of seconds, not {gather_timeout!r}"
                ) from None
        self._recorders.append(recorder)
        return recorder

    def close(self):
        for recorder in self._recorders:
            recorder.close()
        super().close()


class CheckedDatastore(postgres.PostgresDatastore):
    """eventsourcing's datastore, whose pooled connections are checked the way ``KeepingPool``
    checks its own (``db.idle_and_open``): one the server has cut is closed and another taken."""

    @contextlib.contextmanager
    def get_connection(self):
        while True:
            conn = self.pool.get_connection()
            if idle_and_open(conn._pg_conn):
                break
            conn.close()
            self.pool.put_connection(conn)  # a closed connection leaves the pool
        try:
            yield conn
        finally:
            self.pool.put_connection(conn)


def _green_psycopg2():
    """Under eventlet psycopg2 must yield to the hub while it waits (eventlet's patching and
    services.common.db see to it; this covers a process that did neither)."""
    if psycopg2.extensions.get_wait_callback() is None:
        try:
            from eventlet import patcher
        except ImportError:  # pragma: no cover
            return
        if patcher.is_monkey_patched("socket"):
            psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
