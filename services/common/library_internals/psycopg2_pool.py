"""psycopg2's connection pool, kept and checked (services/common/db.py's PostgresStore): the parts that
read and rely on ``psycopg2.pool.AbstractConnectionPool``'s private state.

Private parts used (psycopg2 2.9, ``lib/pool.py``): ``_lock`` and ``_pool`` (the idle connections) in
``KeepingPool.checkout``; the rule of ``_putconn`` that keeps a connection given back while fewer than
``minconn`` are idle (``KeepingPool.__init__`` sets ``minconn`` to ``maxconn``); ``_used`` (the
connections handed out) in ``connections_in_use``. tests/unit/test_library_internals.py pins the version.

Stock path: ``DB_POOL=stock`` (services/common/db.py ``pool_class``) uses psycopg2's own
``ThreadedConnectionPool`` (``minconn=0``), which opens a new connection for every transaction.
"""

import select

import psycopg2.pool

WRITTEN_AGAINST = ("psycopg2-binary", "2.9.13")
RECHECK = (
    "psycopg2/pool.py: AbstractConnectionPool still keeps idle connections in _pool, handed-out ones "
    "in _used (key -> connection), guards them with _lock in ThreadedConnectionPool, and _putconn "
    "still keeps a returned connection while fewer than minconn are idle"
)


class KeepingPool(psycopg2.pool.ThreadedConnectionPool):
    """psycopg2's pool opens ``minconn`` connections at once and closes every connection given back
    while ``minconn`` are idle: with ``minconn=0`` it never kept one, and every transaction paid a
    new connection (a backend fork and authentication; bench/RESULTS.md, bench/README.md,
    bench_gateway.py). This one opens connections as they are needed and keeps up to ``maxconn``.
    A kept connection the server has cut meanwhile (a restart, a failover, pg_terminate_backend)
    has something to read - its FATAL message or end of file - where a live idle one has nothing:
    such a one is closed and another taken, without a round trip for the check."""

    def __init__(self, maxconn, *args, **kwargs):
        super().__init__(0, maxconn, *args, **kwargs)
        self.minconn = maxconn  # psycopg2's _putconn keeps a connection while fewer than minconn are idle

    def checkout(self):
        while True:
            with self._lock:
                kept = bool(self._pool)
            conn = self.getconn()
            if not kept or idle_and_open(conn):
                return conn
            self.putconn(conn, close=True)


def idle_and_open(conn):
    """A kept psycopg2 connection is usable: open, and nothing from the server waiting to be read
    (a cut connection has its FATAL message or end of file there). No round trip."""
    if conn.closed:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def connections_in_use(pool):
    """How many of ``pool``'s connections are handed out now (psycopg2's private ``_used`` map)."""
    return len(pool._used)
