"""PostgreSQL access that cooperates with eventlet: a small pool and one transaction helper.

psycopg2 blocks in C unless a wait callback is installed; with ``wait_select`` every
query yields to the eventlet hub, so one slow query never stalls the other workers.
"""

import os
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import eventlet
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from nameko.extensions import DependencyProvider
from psycopg2 import sql

from contracts.errors import ServiceUnavailable
from services.common.library_internals.psycopg2_pool import (  # noqa: F401  (idle_and_open: db's public name)
    KeepingPool,
    connections_in_use,
    idle_and_open,
)

psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
psycopg2.extras.register_uuid()

CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
PING_TIMEOUT = 2.0  # seconds: a health check must answer well within the gateway's /ready (2 s a service)
DATABASE_ENCODING = "UTF8"  # people write Cyrillic: SQL_ASCII would take their bytes unchecked and LATIN1 refuse them


class DatabaseEncodingError(RuntimeError):
    """A service's database is not UTF-8: the service refuses to start rather than fail on the first
    Cyrillic text (a SQL_ASCII cluster, one initialised under the C locale, answered every such request 500)."""


def encoding_refusal(database, encoding):
    """Why a service must not run on ``database`` whose ENCODING is ``encoding``, or None when it may."""
    if encoding == DATABASE_ENCODING:
        return None
    return (
        f"database {database!r} has ENCODING {encoding!r}, but the platform needs ENCODING "
        f"'{DATABASE_ENCODING}': create it with CREATE DATABASE ... ENCODING '{DATABASE_ENCODING}' "
        f"TEMPLATE template0 (deploy/postgres/init.sh does), move the data over and start again"
    )


def require_utf8(cur):
    """Raise DatabaseEncodingError when the connected database is not UTF-8 (checked at every start)."""
    cur.execute(
        "SELECT current_database() AS database, pg_encoding_to_char(encoding) AS encoding "
        "FROM pg_database WHERE datname = current_database()"
    )
    row = cur.fetchone()
    database, encoding = (row["database"], row["encoding"]) if isinstance(row, dict) else row
    refusal = encoding_refusal(database, encoding)
    if refusal:
        raise DatabaseEncodingError(refusal)


def ensure_database(url):
    """Create the service's database if it does not exist (the local runner and tests need it), UTF-8
    whatever the cluster's default (template0: template1 may have another encoding)."""
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                try:
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} ENCODING {} TEMPLATE template0").format(
                            sql.Identifier(dbname), sql.Literal(DATABASE_ENCODING)
                        )
                    )
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass
    finally:
        conn.close()


class StockPool(psycopg2.pool.ThreadedConnectionPool):
    """psycopg2's own pool as it comes (``minconn=0``: a new connection for every transaction), the
    stock path beside ``KeepingPool`` (``DB_POOL=stock``): what to run if an upgrade of psycopg2 breaks
    the kept pool (tests/unit/test_library_internals.py says when to re-check it)."""

    def __init__(self, maxconn, *args, **kwargs):
        super().__init__(0, maxconn, *args, **kwargs)

    def checkout(self):
        return self.getconn()


POOLS = {"kept": KeepingPool, "stock": StockPool}


def pool_class(name=None):
    """The pool of ``name``, else of the environment's ``DB_POOL``, else the kept one."""
    name = name or os.environ.get("DB_POOL") or "kept"
    if name not in POOLS:
        raise ValueError(f"DB_POOL must be one of {', '.join(sorted(POOLS))}, not {name!r}")
    return POOLS[name]


class PostgresStore:
    """A bounded pool; ``transaction()`` commits on success and rolls back on any error.
    ``pool``: "kept" (the default) or "stock" (see ``pool_class``)."""

    def __init__(self, url, max_connections=10, pool=None):
        self.url = url
        self._pool = pool_class(pool)(max_connections, url, connect_timeout=5)
        self._slots = threading.BoundedSemaphore(max_connections)

    @contextmanager
    def transaction(self):
        self._slots.acquire()
        conn = None
        broken = False
        try:
            try:
                conn = self._pool.checkout()
            except CONNECTION_ERRORS as exc:
                raise ServiceUnavailable("The database is unreachable.") from exc
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
                conn.commit()
            except BaseException as exc:
                broken = isinstance(exc, CONNECTION_ERRORS) or bool(conn.closed)
                if not broken:
                    try:
                        conn.rollback()
                    except CONNECTION_ERRORS:
                        broken = True
                if isinstance(exc, CONNECTION_ERRORS):
                    raise ServiceUnavailable("The database connection failed; try again.") from exc
                raise
        finally:
            if conn is not None:
                self._pool.putconn(conn, close=broken)
            self._slots.release()

    def ping(self, timeout=PING_TIMEOUT):
        """Whether the database takes a NEW connection and answers on it within ``timeout`` seconds.

        Not through the pool: a kept connection can still answer while the database refuses new ones
        (``ALLOW_CONNECTIONS false``, too many clients), which the workers need as soon as one is cut;
        and a pool whose every slot a stuck worker holds would make the check wait for them. The
        deadline is eventlet's (the connect and the query yield to the hub): libpq's connect_timeout
        is whole seconds, at least 2. Raises ServiceUnavailable if not."""
        timer = eventlet.Timeout(timeout)
        conn = None
        try:
            conn = psycopg2.connect(self.url, connect_timeout=max(2, int(timeout + 0.999)))
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SET statement_timeout = %s", (int(timeout * 1000),))
                cur.execute("SELECT 1")
                return cur.fetchone()[0] == 1
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            raise ServiceUnavailable(f"The database did not answer within {timeout:g} s.") from None
        except CONNECTION_ERRORS as exc:
            raise ServiceUnavailable("The database is unreachable.") from exc
        finally:
            timer.cancel()
            if conn is not None:
                conn.close()

    CLOSE_WAIT_SECONDS = 5.0

    def close(self):
        """Close every connection, first waiting (green, at most CLOSE_WAIT_SECONDS) for those still in
        use: a query in flight outside any worker (the replay guard's insert in an RPC consumer) holds
        psycopg2's connection lock while it waits for the server, and closing that connection from here
        blocked the whole process for good (a stopping service froze; seen 2026-12-06)."""
        waited = 0.0
        while connections_in_use(self._pool) and waited < self.CLOSE_WAIT_SECONDS:
            eventlet.sleep(0.05)
            waited += 0.05
        self._pool.closeall()


class Database(DependencyProvider):
    """Gives workers the service's PostgresStore; at start creates the database if missing and brings it
    to the head of ``history``'s numbered steps, or refuses to start when it is behind and
    MIGRATE_ON_START is false (services/common/migrations.py ``prepare``). ``history`` None: no tables of
    its own (a test's service that only runs queries)."""

    def __init__(self, history=None, url_key="DATABASE_URL"):
        self.history = history
        self.url_key = url_key
        self.store = None

    def setup(self):
        from services.common import migrations  # it imports this module

        url = self.container.config[self.url_key]
        ensure_database(url)
        if self.history is not None:
            migrations.prepare(self.container, url, self.history)
        self.store = PostgresStore(url, int(self.container.config.get("DB_POOL_SIZE", 10)))

    def stop(self):
        if self.store is not None:
            self.store.close()

    def get_dependency(self, worker_ctx):
        return self.store
