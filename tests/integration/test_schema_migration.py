"""A schema history is applied while other processes use the database (replicas starting with
MIGRATE_ON_START, the migrate service beside a service still running, the admin commands).
CI of 2026-12-06: the identity admin's migration ran ``ALTER TABLE users ADD COLUMN IF NOT EXISTS ...``
beside the running identity service, deadlocked with its transactions and failed a module's 658 tests; a
cases container restarted during a burst hung at start behind the same kind of lock. These are the
properties services/common/migrations.py keeps for that (first proved of PostgresStore.migrate)."""

import threading
import zlib

import psycopg2
import pytest

from services.common import migrations
from services.common.db import ensure_database
from tests.support import write_history

TABLE = "CREATE TABLE IF NOT EXISTS notes (id int PRIMARY KEY, body text)"
COLUMN = "ALTER TABLE notes ADD COLUMN IF NOT EXISTS written_at timestamptz"
NEW_COLUMN = "ALTER TABLE notes ADD COLUMN IF NOT EXISTS read_at timestamptz"


@pytest.fixture
def url(test_env, request):
    url = test_env.database_url(f"migration_{zlib.crc32(request.node.name.encode()):08x}")
    ensure_database(url)
    return url


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


def _apply_beside(url, history, bound=60):
    """Apply in a thread, so a run stuck behind the holder fails this test instead of hanging it."""
    outcome = {}

    def run():
        try:
            outcome["ran"] = migrations.apply(url, history)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), "the migration waited for the other transaction's lock"
    return outcome


def _recorded(url):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")
        return [row[0] for row in cur.fetchall()]


def _has_column(url, column):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = %s",
            (column,),
        )
        return cur.fetchone()[0] == 1


def test_a_run_with_nothing_new_takes_no_lock_beside_a_writing_transaction(url, holder, tmp_path):
    history = write_history(tmp_path / "history", [TABLE, COLUMN])
    assert migrations.apply(url, history) == ["0001_step"]
    _hold_a_row(holder)
    assert _apply_beside(url, history) == {"ran": []}
    with holder.cursor() as cur:  # the other transaction goes on and commits its row
        cur.execute("UPDATE notes SET body = 'still mine' WHERE id = 1")
    holder.commit()
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes")
        assert cur.fetchall() == [("still mine",)]


def test_a_new_step_waits_for_its_lock_a_bounded_time_then_gives_up_recording_nothing(
    url, holder, tmp_path, monkeypatch
):
    history = write_history(tmp_path / "history", [TABLE, COLUMN])
    migrations.apply(url, history)
    write_history(history, [TABLE, COLUMN], [NEW_COLUMN])  # the next release's step
    monkeypatch.setattr(migrations, "LOCK_TIMEOUT", 1)
    monkeypatch.setattr(migrations, "ATTEMPTS", 2)
    monkeypatch.setattr(migrations, "RETRY_PAUSE", 0.1)
    _hold_a_row(holder)
    outcome = _apply_beside(url, history)
    assert isinstance(outcome.get("error"), psycopg2.errors.LockNotAvailable), outcome
    holder.rollback()
    assert _recorded(url) == ["0001_step"] and not _has_column(url, "read_at")
    assert _apply_beside(url, history) == {"ran": ["0002_step"]}  # the lock is free: it runs
    assert _recorded(url) == ["0001_step", "0002_step"] and _has_column(url, "read_at")


def test_a_new_step_runs_once_the_other_transaction_ends(url, holder, tmp_path, monkeypatch):
    """The conflict outlasts one try: the run is tried again after a pause and then goes through."""
    history = write_history(tmp_path / "history", [TABLE])
    migrations.apply(url, history)
    write_history(history, [TABLE], [COLUMN])
    monkeypatch.setattr(migrations, "LOCK_TIMEOUT", 1)
    _hold_a_row(holder)
    threading.Timer(2.5, holder.rollback).start()
    assert _apply_beside(url, history) == {"ran": ["0002_step"]}
    assert _recorded(url) == ["0001_step", "0002_step"] and _has_column(url, "written_at")


def test_each_step_runs_once_however_often_the_history_is_applied(url, tmp_path):
    insert = "INSERT INTO notes (id, body) SELECT coalesce(max(id), 0) + 1, 'run' FROM notes"
    history = write_history(tmp_path / "history", [TABLE, insert])
    assert migrations.apply(url, history) == ["0001_step"]
    assert migrations.apply(url, history) == []
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM notes")
        assert cur.fetchone()[0] == 1


def test_a_second_run_waits_for_the_first_and_then_finds_nothing_to_do(url, tmp_path):
    """Two runs at once (two replicas starting with MIGRATE_ON_START): one applies, the other waits on
    the advisory lock, then finds the step recorded and runs nothing."""
    history = write_history(tmp_path / "history", [TABLE, "SELECT pg_sleep(1)"])
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(_apply_beside(url, history))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert sorted(outcome.get("ran", outcome) for outcome in outcomes) == [[], ["0001_step"]]
    assert _recorded(url) == ["0001_step"]


def test_a_run_behind_a_stuck_run_gives_up_once_and_says_so(url, tmp_path, monkeypatch):
    """Another run holding the migration lock past RUN_LOCK_WAIT is not waited for again and again."""
    history = write_history(tmp_path / "history", [TABLE])
    monkeypatch.setattr(migrations, "RUN_LOCK_WAIT", 1)
    stuck = psycopg2.connect(url)
    try:
        with stuck.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (migrations.RUN_LOCK_KEY,))
        outcome = _apply_beside(url, history, bound=20)
    finally:
        stuck.close()
    assert isinstance(outcome.get("error"), migrations.MigrationRunning), outcome
    assert "over 1 s" in str(outcome["error"])
    assert _apply_beside(url, history) == {"ran": ["0001_step"]}  # the stuck run's session ended: free
