"""yoyo-migrations, used by services/common/migrations.py: the parts of its behaviour that its public API
(``get_backend``, ``read_migrations``, ``to_apply``, ``apply_migrations``) does not promise.

Relied on (yoyo-migrations 9.0, ``yoyo/backends/base.py``, ``yoyo/migrations.py``,
``yoyo/connections.py``):

- which steps a database has run is the table ``_yoyo_migration``, one row per step with its
  ``migration_id`` (the file's name without ``.py``): a service's start reads it with one SELECT
  (``applied_ids``), without ``get_backend``, which creates yoyo's tables and a scratch table;
- ``apply_migrations`` takes no lock of its own (yoyo's CLI wraps it in ``backend.lock()``, a row of
  ``yoyo_lock`` that a killed process leaves behind until ``yoyo break-lock``): the platform holds a
  PostgreSQL advisory lock around it instead, which dies with its session;
- each step file runs on a new connection (``apply_one``: ``self.copy()``) opened from the URL, whose
  query arguments go to ``psycopg2.connect``: ``options=-c lock_timeout=...`` in the URL is how every
  statement of a step waits for its table's lock a bounded time (``backend_url``);
- a ``.py`` step file's ``step(sql)`` calls find their collector as ``__yoyo_collector__`` among the
  calling module's globals (``statements_of``: the SQL a step file holds, read without a database).
"""

import runpy
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from yoyo import get_backend, read_migrations

WRITTEN_AGAINST = ("yoyo-migrations", "9.0.0")
RECHECK = (
    "yoyo/backends/base.py: _yoyo_migration still has migration_id, apply_migrations still takes no lock "
    "and apply_one still runs each step on self.copy() opened from the URL (its query arguments given to "
    "psycopg2.connect, yoyo/connections.py parse_uri and backends/core/postgresql.py connect); "
    "yoyo/migrations.py: step() still finds __yoyo_collector__ in the caller's globals and calls its add_step"
)

APPLIED_TABLE = "_yoyo_migration"


def backend_url(url, lock_timeout_seconds):
    """``url`` (postgresql://...) with every statement's lock wait bounded: yoyo hands the query's
    ``options`` to psycopg2.connect for the steps' own connections."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-c lock_timeout={int(lock_timeout_seconds * 1000)}"))
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))


def applied_ids(conn):
    """The ids of the steps the database behind the psycopg2 connection ``conn`` has run (an empty set
    before yoyo's first run): reads only, no lock that a running service's queries wait for."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (APPLIED_TABLE,))
        if not cur.fetchone()[0]:
            return set()
        cur.execute(f"SELECT migration_id FROM {APPLIED_TABLE}")
        return {row[0] for row in cur.fetchall()}


def apply_pending(url, directory, lock_timeout_seconds):
    """Run the steps of ``directory`` the database at ``url`` has not run, in order; the ids run.
    The caller holds the migration lock (yoyo's own is not taken)."""
    backend = get_backend(backend_url(url, lock_timeout_seconds))
    try:
        pending = backend.to_apply(read_migrations(str(directory)))
        backend.apply_migrations(pending)
        return [migration.id for migration in pending]
    finally:
        backend.connection.close()


class _Collector:
    def __init__(self):
        self.statements = []

    def add_step(self, apply, rollback=None, ignore_errors=None):
        if not isinstance(apply, str):
            raise TypeError("a step of the platform's histories is SQL text")
        self.statements.append(apply)


def statements_of(path):
    """The SQL statements of the step file at ``path``, in order, read without a database."""
    collector = _Collector()
    runpy.run_path(str(path), init_globals={"__yoyo_collector__": collector})
    return collector.statements
