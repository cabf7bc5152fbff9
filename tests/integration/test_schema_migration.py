"""A service's start migrates its database while other processes use it (replicas, the admin
commands, a restart during traffic). CI of 2026-12-06: the identity admin's migration ran
``ALTER TABLE users ADD COLUMN IF NOT EXISTS ...`` beside the running identity service, deadlocked with
its transactions and failed a module's 658 tests; a cases container restarted during a burst hung at
start behind the same kind of lock."""

import threading
import zlib

import psycopg2
import pytest

from contracts.errors import ServiceUnavailable
from services.common import db as db_module
from services.common.db import PostgresStore, ensure_database, statement_digest

TABLE = "CREATE TABLE IF NOT EXISTS notes (id int PRIMARY KEY, body text)"
COLUMN = "ALTER TABLE notes ADD COLUMN IF NOT EXISTS written_at timestamptz"
NEW_COLUMN = "ALTER TABLE notes ADD COLUMN IF NOT EXISTS read_at timestamptz"


@pytest.fixture
def url(test_env, request):
    url = test_env.database_url(f"migration_{zlib.crc32(request.node.name.encode()):08x}")
    ensure_database(url)
    return url


@pytest.fixture
def store(url):
    store = PostgresStore(url, 1)
    yield store
    store.close()


@pytest.fixture
def holder(url):
    """A connection of another process's, inside a transaction that wrote a row of ``notes``."""
    conn = psycopg2.connect(url)
    yield conn
    conn.rollback()
    conn.close()


def _hold_a_row(holder):
    with holder.cursor() as cur:
        cur.execute("INSERT INTO notes (id, body) VALUES (1, 'held')")  # ROW EXCLUSIVE until rollback


def _migrate_beside(store, statements, bound=60):
    """Migrate in a thread, so a migration stuck behind the holder fails this test instead of hanging it."""
    outcome = {}

    def run():
        try:
            store.migrate(statements)
            outcome["done"] = True
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), "the migration waited for the other transaction's lock"
    return outcome


def test_a_start_with_nothing_new_to_run_takes_no_lock_beside_a_writing_transaction(store, holder, url):
    store.migrate([TABLE, COLUMN])
    _hold_a_row(holder)
    assert _migrate_beside(store, [TABLE, COLUMN]) == {"done": True}
    with holder.cursor() as cur:  # the other transaction goes on and commits its row
        cur.execute("UPDATE notes SET body = 'still mine' WHERE id = 1")
    holder.commit()
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes")
        assert cur.fetchall() == [("still mine",)]


def test_a_new_statement_waits_for_its_lock_a_bounded_time_then_gives_up_recording_nothing(
    store, holder, url, monkeypatch
):
    store.migrate([TABLE, COLUMN])
    monkeypatch.setattr(db_module, "MIGRATION_LOCK_TIMEOUT", 1)
    monkeypatch.setattr(db_module, "MIGRATION_ATTEMPTS", 2)
    monkeypatch.setattr(db_module, "MIGRATION_RETRY_PAUSE", 0.1)
    _hold_a_row(holder)
    outcome = _migrate_beside(store, [TABLE, COLUMN, NEW_COLUMN])
    assert isinstance(outcome.get("error"), ServiceUnavailable), outcome
    assert isinstance(outcome["error"].__cause__, psycopg2.errors.LockNotAvailable)
    holder.rollback()
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_statements WHERE digest = %s", (statement_digest(NEW_COLUMN),))
        assert cur.fetchone()[0] == 0
        cur.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'read_at'"
        )
        assert cur.fetchone()[0] == 0
    assert _migrate_beside(store, [TABLE, COLUMN, NEW_COLUMN]) == {"done": True}  # the lock is free: it runs
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'read_at'"
        )
        assert cur.fetchone()[0] == 1


def test_a_new_statement_runs_once_the_other_transaction_ends(store, holder, url, monkeypatch):
    """The conflict outlasts one try: the migration tries again after a pause and then runs."""
    store.migrate([TABLE])
    monkeypatch.setattr(db_module, "MIGRATION_LOCK_TIMEOUT", 1)
    _hold_a_row(holder)
    threading.Timer(2.5, holder.rollback).start()
    assert _migrate_beside(store, [TABLE, COLUMN]) == {"done": True}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_statements WHERE digest = %s", (statement_digest(COLUMN),))
        assert cur.fetchone()[0] == 1


def test_each_statement_runs_once_however_often_it_is_listed(store, url):
    insert = "INSERT INTO notes (id, body) SELECT coalesce(max(id), 0) + 1, 'run' FROM notes"
    store.migrate([TABLE, insert])
    store.migrate([TABLE, insert, "  ".join(insert.split(" "))])  # re-indented: the same statement
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM notes")
        assert cur.fetchone()[0] == 1
