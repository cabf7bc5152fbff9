"""Each service's schema as a numbered history of steps (yoyo-migrations), run once before the services
start: ``python -m services.common.migrations apply all`` (the ``mentor-migrate`` command; the compose
stack's one-shot ``migrate`` service; a step of ``scripts/platform.py up``).

A service's history is ``services/<service>/migrations/NNNN_what_it_does.py``: yoyo step files, each a
list of ``step("SQL")``, run in the order of their numbers, each in one transaction, and recorded by id in
the database's ``_yoyo_migration``. A schema change is a new file with the next number; a step already
released is never edited (a database that ran it will not run it again). Write each statement so that
running it twice does no harm: a run cut off between a step's commit and its record runs it again.

Why the rules below (the CI of 2026-12-06, tests/integration/test_migration_history.py keeps them):

- a run with nothing new to apply takes no lock that a running service's queries wait for (it reads
  ``_yoyo_migration``, nothing more): even ``ALTER TABLE ... IF NOT EXISTS`` takes an ACCESS EXCLUSIVE
  lock, and one run beside a running service deadlocked with its transactions;
- runs are serialized by a PostgreSQL advisory lock, released with its session whatever happens to the
  process (yoyo's own lock is a table row that a killed run leaves behind);
- every statement of a new step waits at most LOCK_TIMEOUT seconds for its table's lock, and the run is
  tried again after a pause (ATTEMPTS in all): a long transaction elsewhere delays the upgrade instead of
  stalling that table's traffic behind the waiting ALTER.

Services at start (``prepare``) apply their own history only when ``MIGRATE_ON_START`` is true (the
local runner's and the tests' default); otherwise they check that their database is at the head of
their history and refuse to start, naming the command, when it is not.
"""

import argparse
import os
import pathlib
import re
import sys
import threading
import time

import psycopg2
import psycopg2.errors

from services.common.db import ensure_database, require_utf8
from services.common.library_internals import yoyo_history

SERVICES = ("identity", "cases", "matching", "notifications", "library")  # the services with a database
SERVICES_ROOT = pathlib.Path(__file__).resolve().parents[1]
STEP_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.py$")

LOCK_TIMEOUT = 5  # seconds a new step's statement waits for its table's lock before the try is undone
ATTEMPTS = 12
RETRY_PAUSE = 0.5  # seconds, times the attempt's number: about 40 s of waiting in all
RUN_LOCK_WAIT = 300  # seconds a run waits for another run (a replica's start, the migrate service) to end
RUN_LOCK_KEY = "schema-migration"  # the key PostgresStore.migrate used: an older process's start waits too
LOCK_CONFLICTS = (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)
COMMAND = "python -m services.common.migrations apply"  # what the refusal names (mentor-migrate apply)


class HistoryError(ValueError):
    """A history directory whose files are not a numbered sequence 0001, 0002, ..."""


class MigrationRunning(RuntimeError):
    """Another run held this database's migration lock for longer than RUN_LOCK_WAIT."""


class DatabaseBehind(RuntimeError):
    """A service started with MIGRATE_ON_START false on a database that has not run its whole history."""


def history_directory(service):
    return SERVICES_ROOT / service / "migrations"


def step_ids(file_names):
    """The ids of a history's step files, in order: every ``.py`` file must be ``NNNN_name.py`` and the
    numbers 1, 2, 3 ... without gaps or repeats (two helpers adding step 0002 at once is an error here,
    not a step that one database runs and another skips)."""
    steps = []
    for name in file_names:
        if not name.endswith(".py"):
            continue
        match = STEP_FILE.match(name)
        if not match:
            raise HistoryError(f"{name}: a step file is named NNNN_what_it_does.py (lowercase, digits, _)")
        steps.append((int(match.group(1)), name[: -len(".py")]))
    steps.sort()
    numbers = [number for number, _ in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise HistoryError(f"the steps are numbered {numbers}, not 1 to {len(steps)} each once")
    return [step_id for _, step_id in steps]


def history(directory):
    """The step ids of the history in ``directory``, in order."""
    return step_ids(sorted(os.listdir(directory)))


def statements(service):
    """The SQL of every step of ``service``'s history, in order, read without a database: for what runs it
    by hand (tests that run it again on an older schema, a benchmark's bulk load that defers the indexes)
    and for the architecture map's tables."""
    directory = history_directory(service)
    return [sql for step_id in history(directory) for sql in yoyo_history.statements_of(directory / f"{step_id}.py")]


def pending_ids(history_ids, applied):
    """The steps of ``history_ids`` not in ``applied``, in order."""
    return [step_id for step_id in history_ids if step_id not in applied]


def behind_message(service, pending):
    return (
        f"the {service} database has not run {len(pending)} step(s) of its history "
        f"({', '.join(pending)}): run `{COMMAND} {service}` (mentor-migrate apply {service}; with compose, "
        f"`docker compose run --rm migrate`) before starting the service, or set MIGRATE_ON_START=true"
    )


def _connect(url):
    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True
    return conn


def status(url, directory):
    """(applied step ids, pending step ids) of the database at ``url``; reads only."""
    conn = _connect(url)
    try:
        applied = yoyo_history.applied_ids(conn)
    finally:
        conn.close()
    steps = history(directory)
    return [s for s in steps if s in applied], pending_ids(steps, applied)


def apply(url, directory):
    """Run the steps of the history in ``directory`` that the database at ``url`` has not run (the database
    is created if missing); the ids run, in order. Refuses a database that is not UTF-8 before anything
    else (DatabaseEncodingError). A lock conflict makes the whole run try again after a pause; the last
    one's LockNotAvailable is raised."""
    ensure_database(url)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _apply_once(url, directory)
        except LOCK_CONFLICTS:
            if attempt == ATTEMPTS:
                raise
        time.sleep(RETRY_PAUSE * attempt)
    raise AssertionError("unreachable")


def _apply_once(url, directory):
    steps = history(directory)
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            require_utf8(cur)
        if not pending_ids(steps, yoyo_history.applied_ids(conn)):
            return []  # nothing new: no lock taken
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = %s", (f"{RUN_LOCK_WAIT}s",))
            try:
                cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (RUN_LOCK_KEY,))
            except psycopg2.errors.LockNotAvailable:
                raise MigrationRunning(
                    f"another run has held the migration lock of this database for over {RUN_LOCK_WAIT} s "
                    "(pg_locks: locktype 'advisory'); not tried again"
                ) from None
        try:
            return yoyo_history.apply_pending(url, directory, LOCK_TIMEOUT)
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (RUN_LOCK_KEY,))
    finally:
        conn.close()


def require_current(url, service, directory=None):
    """Raise DatabaseBehind when the database at ``url`` has not run the whole history of ``service``."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            require_utf8(cur)
        pending = pending_ids(history(directory or history_directory(service)), yoyo_history.applied_ids(conn))
    finally:
        conn.close()
    if pending:
        raise DatabaseBehind(behind_message(service, pending))


def migrate_on_start(config):
    """MIGRATE_ON_START: true unless set to false (the compose stack sets it false: its migrate service
    runs the histories before any service starts)."""
    return str(config.get("MIGRATE_ON_START", "true")).strip().lower() not in ("0", "false", "no", "off")


_PREPARING = threading.Lock()


def prepare(container, url, service):
    """Make sure, once per container (service process) and database, that the database at ``url`` is at
    the head of ``service``'s history: apply it (MIGRATE_ON_START) or check it (DatabaseBehind). The
    service's Database and its relay both call it: nameko sets up a container's dependencies at once."""
    with _PREPARING:
        prepared = container.__dict__.setdefault("prepared_databases", set())
        if url in prepared:
            return
        if migrate_on_start(container.config):
            apply(url, history_directory(service))
        else:
            require_current(url, service)
        prepared.add(url)


def database_url(service, environ=None):
    """A service's database: ``<SERVICE>_DATABASE_URL`` as every service's config.yaml reads it, else the
    local default."""
    environ = os.environ if environ is None else environ
    return environ.get(f"{service.upper()}_DATABASE_URL") or f"postgresql://postgres@127.0.0.1:5432/mentor_{service}"


def _services(names):
    if "all" in names:
        return list(SERVICES)
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s) {', '.join(unknown)}: choose from {', '.join(SERVICES)} or all")
    return list(dict.fromkeys(names))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="mentor-migrate", description="Run or show the services' schema histories (services/<service>/migrations)."
    )
    parser.add_argument("command", choices=("apply", "status"))
    parser.add_argument("services", nargs="+", metavar="service", help=f"{', '.join(SERVICES)} or all")
    args = parser.parse_args(argv)
    behind = False
    for service in _services(args.services):
        url = database_url(service)
        directory = history_directory(service)
        if args.command == "apply":
            ran = apply(url, directory)
            print(f"{service}: " + (f"applied {', '.join(ran)}" if ran else "at the head, nothing to apply"))
        else:
            applied, pending = status(url, directory)
            behind = behind or bool(pending)
            print(f"{service}: applied {', '.join(applied) or 'nothing'}; pending {', '.join(pending) or 'nothing'}")
    return 1 if behind else 0


if __name__ == "__main__":
    sys.exit(main())
