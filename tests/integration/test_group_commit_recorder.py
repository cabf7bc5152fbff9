"""The group-commit recorder (services/common/library_internals/eventsourcing_group_commit.py) on a real PostgreSQL.

Greenlets in this process (pytest runs monkey-patched) and plain threads in a second process
write at once: notification ids must come out strictly increasing, gap-free and visible in
order; a conflicting command must fail alone; a batch that fails as a whole must fail only its
own commands, and the next batch must go through.

To put chosen commands into one batch, a test holds the table lock itself: the writer's
current batch waits for it, the next commands queue up behind, and releasing the lock lets
the queued ones go as one batch.
"""

import json
import os
import subprocess
import sys
import uuid

import eventlet
import psycopg2
import pytest
from eventsourcing import postgres
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import Environment

from contracts.errors import Conflict, ServiceUnavailable
from services.cases.application import CasesApplication, postgres_env
from services.cases.outgoing import CONTRACT_STAMP
from services.common.db import ensure_database
from services.common.library_internals.eventsourcing_group_commit import Factory, GroupCommitFailed
from services.common.logs import set_correlation_id
from tests.support import case_form, eventually

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def url(test_env):
    url = test_env.database_url("group_commit")
    ensure_database(url)
    return url


@pytest.fixture
def sql(url):
    """Run SQL on a connection of the test's own (autocommit unless told)."""
    connections = []

    def connect(autocommit=True):
        conn = psycopg2.connect(url)
        conn.autocommit = autocommit
        connections.append(conn)
        return conn

    def run(statement, params=None):
        conn = connections[0] if connections else connect()
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None

    run.connect = connect
    yield run
    for conn in connections:
        conn.close()


@pytest.fixture
def recorders(url):
    """``open(name)``: a group-commit recorder of its own (own datastore, writer, connection);
    several with one name share the table ``<name>_events``, like processes of one service."""
    factories = []

    def open_recorder(name, kind="application", **settings):
        env = postgres_env(url, pool_size=4, recorder="group_commit")
        env.update(settings)
        factory = Factory(Environment(name, env))
        factories.append(factory)
        return factory.process_recorder() if kind == "process" else factory.application_recorder()

    yield open_recorder
    for factory in factories:
        factory.close()


def new_name():
    return f"gc{uuid.uuid4().hex[:10]}"


def events(count=1, originator_id=None, version=1, topic="tests:Event", state=None):
    originator_id = originator_id or uuid.uuid4()
    return [StoredEvent(originator_id, version + i, topic, state or uuid.uuid4().bytes * 20) for i in range(count)]


def stored(sql, table):
    return {
        (row[0], row[1]): row[2]
        for row in sql(f"SELECT originator_id::text, originator_version, notification_id FROM {table}")
    }


def spawn(recorder, stored_events, **kwargs):
    return eventlet.spawn(recorder.insert_events, stored_events, **kwargs)


def outcome(thread, timeout=30):
    """The greenlet's result or exception; a caller left waiting fails the test instead of hanging it."""
    with eventlet.Timeout(timeout, AssertionError(f"a caller still waits after {timeout}s")):
        try:
            return thread.wait()
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            return exc


class TableLock:
    """Hold ``LOCK TABLE ... IN EXCLUSIVE MODE`` as the recorder does, from a test connection."""

    def __init__(self, sql, table):
        self.sql, self.table = sql, table
        self.conn = sql.connect(autocommit=False)

    def __enter__(self):
        with self.conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
        return self

    def waiters(self):
        with self.sql.connect().cursor() as cur:
            cur.execute("SELECT l.pid FROM pg_locks l WHERE NOT l.granted AND l.relation = %s::regclass", (self.table,))
            return [row[0] for row in cur.fetchall()]

    def __exit__(self, *exc):
        self.conn.commit()


def hold_batch(recorder, lock, first):
    """Start a batch of ``first`` that waits for the test's lock; returns its greenlet."""
    thread = spawn(recorder, first)
    eventually(
        lambda: len(lock.waiters()) == 1 and recorder.writer.queued == 0, message="the writer waits for the table lock"
    )
    return thread


# ---- ordering across greenlets, threads and processes ------------------------------------


def test_concurrent_writers_in_two_processes_get_gap_free_ids_visible_in_order(url, sql, recorders):
    name = new_name()
    table = f"{name}_events"
    here = [recorders(name), recorders(name)]  # two recorders, two connections, in this process
    reader = recorders(name)
    other = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.group_commit_writer", url, name, "4", "40"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen, gaps, done, results, failures = [], [], [], [], []

    def read_the_log():
        """Tail the log like a relay: every page must continue exactly where the last ended."""
        position = 0
        while True:
            page = reader.select_notifications(start=position + 1, limit=50)
            for notification in page:
                if notification.id != position + 1:
                    gaps.append((position, notification.id))
                position = notification.id
                seen.append(notification.id)
            if done and not page:
                return
            eventlet.sleep(0)

    def client(recorder, number):
        try:
            for i in range(25):
                batch = events(count=(number + i) % 3 + 1)
                results.append((batch, recorder.insert_events(batch)))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    tail = eventlet.spawn(read_the_log)
    try:
        with eventlet.Timeout(120):
            assert other.stdout.readline().strip() == "ready"
            other.stdin.write("go\n")
            other.stdin.flush()
            clients = [eventlet.spawn(client, recorder, n) for recorder in here for n in range(8)]
            for thread in clients:
                thread.wait()
            report = json.loads(other.stdout.readline())
            assert other.wait(timeout=60) == 0
            done.append(True)
            tail.wait()
    finally:
        done.append(True)
        tail.kill()
        if other.poll() is None:
            other.kill()

    assert failures == []
    assert report["failures"] == []
    total = sum(len(batch) for batch, _ in results) + sum(len(versions) for _, versions, _ in report["results"])
    ours = [i for _, ids in results for i in ids]
    theirs = [i for _, _, ids in report["results"] for i in ids]
    assert sorted(ours + theirs) == list(range(1, total + 1)), "every id once, none missing"
    assert min(theirs) < max(ours) and min(ours) < max(theirs), "the two processes' batches interleaved"

    rows = stored(sql, table)
    assert len(rows) == total
    for batch, ids in results:  # each caller got the ids its events were stored under, consecutive
        assert [rows[(str(e.originator_id), e.originator_version)] for e in batch] == ids
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    for originator_id, versions, ids in report["results"]:
        assert [rows[(originator_id, v)] for v in versions] == ids

    assert gaps == [], "a reader saw id n+1 before n"
    assert seen == list(range(1, total + 1))
    for recorder in here:  # commands were batched, and the other process batched too
        assert recorder.writer.batches < recorder.writer.commands
    assert report["batches"] < report["commands"]


# ---- conflicts -----------------------------------------------------------------------------


def test_conflicting_commands_on_one_version_exactly_one_wins(sql, recorders):
    name = new_name()
    first, second = recorders(name), recorders(name)
    aggregate = uuid.uuid4()
    first.insert_events(events(originator_id=aggregate))

    contenders = [events(originator_id=aggregate, version=2) for _ in range(12)]
    bystanders = [events(count=2) for _ in range(10)]
    threads = [spawn(first if i % 2 else second, batch) for i, batch in enumerate(contenders)]
    others = [spawn(first if i % 2 else second, batch) for i, batch in enumerate(bystanders)]
    results = [outcome(thread) for thread in threads]

    winners = [(batch, ids) for batch, ids in zip(contenders, results) if isinstance(ids, list)]
    losers = [error for error in results if not isinstance(error, list)]
    assert len(winners) == 1
    assert len(losers) == 11 and all(type(error) is IntegrityError for error in losers)
    [(winner, _)] = winners
    [(state,)] = sql(
        f"SELECT state FROM {name}_events WHERE originator_id = %s AND originator_version = 2", (str(aggregate),)
    )
    assert bytes(state) == winner[0].state

    bystander_ids = [outcome(thread) for thread in others]
    assert all(isinstance(ids, list) and len(ids) == 2 for ids in bystander_ids)
    [(count, high)] = sql(f"SELECT count(*), max(notification_id) FROM {name}_events")
    assert count == high == 1 + 1 + 20, "the losers left no gap"


def test_a_conflicting_command_fails_alone_and_its_batch_commits(sql, recorders):
    name = new_name()
    recorder = recorders(name)
    taken = events()
    recorder.insert_events(taken)  # id 1

    with TableLock(sql, f"{name}_events") as lock:
        first = hold_batch(recorder, lock, events())
        before = recorder.writer.batches
        b, c, d = events(), [StoredEvent(taken[0].originator_id, 1, "tests:Event", b"again")], events()
        queued = [spawn(recorder, batch) for batch in (b, c, d)]
        eventually(lambda: recorder.writer.queued == 3, message="three commands queued")
    assert outcome(first) == [2]
    results = [outcome(thread) for thread in queued]

    assert results[0] == [3] and results[2] == [4]
    assert type(results[1]) is IntegrityError and "already exists" in str(results[1])
    assert recorder.writer.batches == before + 2, "the first batch, then b, c and d together"
    rows = stored(sql, f"{name}_events")
    assert sorted(rows.values()) == [1, 2, 3, 4]
    assert rows[(str(taken[0].originator_id), 1)] == 1


def test_a_duplicate_tracking_record_fails_its_command_alone(sql, recorders):
    name = new_name()
    recorder = recorders(name, kind="process")
    recorder.insert_events(events(), tracking=Tracking("upstream", 1))

    with TableLock(sql, f"{name}_events") as lock:
        first = hold_batch(recorder, lock, events())
        again = spawn(recorder, events(), tracking=Tracking("upstream", 1))
        fresh = spawn(recorder, events(), tracking=Tracking("upstream", 2))
        eventually(lambda: recorder.writer.queued == 2, message="two commands queued")
    assert outcome(first) == [2]
    assert type(outcome(again)) is IntegrityError
    assert outcome(fresh) == [3]
    assert recorder.max_tracking_id("upstream") == 2
    assert recorder.has_tracking_id("upstream", 2)
    [(count,)] = sql(f"SELECT count(*) FROM {name}_events")
    assert count == 3


# ---- batches that fail as a whole -----------------------------------------------------------


def test_a_batch_whose_commit_fails_fails_only_its_own_commands(sql, recorders):
    name = new_name()
    table = f"{name}_events"
    recorder = recorders(name)
    recorder.insert_events(events())  # creates the writer's connection; id 1
    sql(
        "CREATE OR REPLACE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'poisoned event %', NEW.originator_id; END $$"
    )
    sql(
        f"CREATE CONSTRAINT TRIGGER reject_poison AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED "
        f"FOR EACH ROW WHEN (NEW.topic = 'poison') EXECUTE FUNCTION reject_poison()"
    )

    with TableLock(sql, table) as lock:
        first = hold_batch(recorder, lock, events())
        b, poison, c = events(), events(topic="poison"), events(count=2)
        doomed = [spawn(recorder, batch) for batch in (b, poison, c)]
        eventually(lambda: recorder.writer.queued == 3, message="three commands queued")
    assert outcome(first) == [2]
    errors = [outcome(thread) for thread in doomed]
    for error in errors:
        assert type(error) is GroupCommitFailed
        assert "failed while committing; nothing of it was written" in str(error)
        assert "poisoned event" in str(error)

    assert recorder.insert_events(events()) == [3], "the next batch commits, without a gap"
    rows = stored(sql, table)
    assert sorted(rows.values()) == [1, 2, 3]
    assert not any((str(e.originator_id), e.originator_version) in rows for e in b + poison + c)


def test_a_killed_connection_fails_its_batch_and_the_next_batch_reconnects(sql, recorders):
    name = new_name()
    table = f"{name}_events"
    recorder = recorders(name)
    recorder.insert_events(events())  # id 1

    with TableLock(sql, table) as lock:
        victim = hold_batch(recorder, lock, events(count=2))
        [writer_pid] = lock.waiters()
        survivor_events = events()
        survivor = spawn(recorder, survivor_events)
        eventually(lambda: recorder.writer.queued == 1, message="the next command queued")
        sql("SELECT pg_terminate_backend(%s)", (writer_pid,))
        eventually(
            lambda: lock.waiters() not in ([], [writer_pid]),
            message="the writer reconnects (and its new connection waits for the lock)",
        )
    error = outcome(victim)
    assert type(error) is GroupCommitFailed
    assert "nothing of it was written" in str(error)
    assert outcome(survivor) == [2]
    rows = stored(sql, table)
    assert sorted(rows.values()) == [1, 2], "the victim's two events are not there, and left no gap"
    assert rows[(str(survivor_events[0].originator_id), 1)] == 2


def test_a_leader_killed_mid_batch_hands_over_and_the_ids_stay_gap_free(sql, recorders):
    """The caller writing a batch is a nameko worker greenlet, which may be killed (shutdown)."""
    name = new_name()
    table = f"{name}_events"
    recorder = recorders(name)
    recorder.insert_events(events())  # id 1

    with TableLock(sql, table) as lock:
        leader_events = events()
        leader = hold_batch(recorder, lock, leader_events)
        follower_events = events()
        follower = spawn(recorder, follower_events)
        eventually(lambda: recorder.writer.queued == 1, message="the next command queued")
        leader.kill()
        eventually(lambda: len(lock.waiters()) == 2, message="the follower leads the next batch on a new connection")

    follower_ids = outcome(follower)
    rows = stored(sql, table)
    # The killed batch's statement had reached PostgreSQL whole: it may still commit, in order.
    assert sorted(rows.values()) == list(range(1, len(rows) + 1))
    assert follower_ids == [max(rows.values())]
    assert rows[(str(follower_events[0].originator_id), 1)] == follower_ids[0]
    assert recorder.insert_events(events()) == [follower_ids[0] + 1]


def test_an_idle_connection_killed_between_batches_is_replaced_before_the_next(sql, recorders):
    name = new_name()
    recorder = recorders(name)
    assert recorder.insert_events(events()) == [1]
    recorder.writer.link.ping_after_idle = 0  # check before every batch (by default after a second idle)
    [(pid,)] = sql(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'BEGIN; SET LOCAL lock_timeout%%' AND pid <> pg_backend_pid()"
    )
    sql("SELECT pg_terminate_backend(%s)", (pid,))
    eventually(lambda: not sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)))
    assert recorder.insert_events(events()) == [2]


# ---- compatibility -------------------------------------------------------------------------


def test_a_stock_recorder_on_the_same_table_continues_the_ids(url, recorders):
    """During a switch-over another process may still run eventsourcing's own recorder."""
    name = new_name()
    recorder = recorders(name)
    for _ in range(3):
        recorder.insert_events(events(count=2))
    stock = postgres.Factory(Environment(name, postgres_env(url, pool_size=2, recorder="stock")))
    try:
        assert stock.application_recorder().insert_events(events()) == [7]
    finally:
        stock.close()
    assert recorder.insert_events(events()) == [8]
    assert [n.id for n in recorder.select_notifications(start=1, limit=100)] == list(range(1, 9))


def test_notifications_are_read_as_eventsourcings_own_recorder_reads_them(url, recorders):
    """The relay's read (no stop, no topics) takes its own path: same rows, same fields, same order."""
    name = new_name()
    recorder = recorders(name)
    for count in (3, 1, 4):
        recorder.insert_events(events(count=count))
    stock = postgres.Factory(Environment(name, postgres_env(url, pool_size=2, recorder="stock")))
    try:
        stock_recorder = stock.application_recorder()
        for start, limit in [(1, 100), (1, 3), (4, 2), (8, 10), (9, 5)]:
            ours = recorder.select_notifications(start=start, limit=limit)
            theirs = stock_recorder.select_notifications(start=start, limit=limit)
            assert ours == theirs and [type(n) for n in ours] == [type(n) for n in theirs]
            assert all(type(n.state) is bytes and isinstance(n.originator_id, uuid.UUID) for n in ours)
        assert len(recorder.select_notifications(start=1, limit=100)) == 8
        # with a stop or topics: eventsourcing's own statement
        assert recorder.select_notifications(start=2, limit=10, stop=5) == stock_recorder.select_notifications(
            start=2, limit=10, stop=5
        )
    finally:
        stock.close()


def test_the_cases_application_turns_a_lost_race_into_a_conflict(url, monkeypatch):
    monkeypatch.setenv("CASES_RECORDER", "group_commit")
    app = CasesApplication(env=postgres_env(url, pool_size=4))
    try:
        assert type(app.recorder).__name__ == "GroupCommitApplicationRecorder"
        author = str(uuid.uuid4())
        case = app.create_case(uuid.uuid4(), "MC-GC-1", author, case_form())
        loaded = eventlet.event.Event()
        both_loaded = []

        def withdraw():
            def command(case):
                both_loaded.append(case.version)
                if len(both_loaded) == 2:
                    loaded.send()
                loaded.wait()  # both load version 1 before either saves
                case.withdraw(author, "changed my mind")

            return app.change(case.id, command)

        threads = [eventlet.spawn(withdraw) for _ in range(2)]
        results = [outcome(thread) for thread in threads]
        assert both_loaded == [1, 1]
        assert sum(isinstance(result, Conflict) for result in results) == 1
        [(saved, _)] = [result for result in results if not isinstance(result, Exception)]
        assert saved.version == 2
        assert app.get_case(case.id).state == saved.state
        assert [
            n.originator_version
            for n in app.recorder.select_notifications(start=1, limit=10)
            if n.originator_id == case.id
        ] == [1, 2]
    finally:
        app.close()


def test_the_cases_application_answers_a_failed_batch_with_service_unavailable(url, sql, monkeypatch):
    monkeypatch.setenv("CASES_RECORDER", "group_commit")
    app = CasesApplication(env=postgres_env(url, pool_size=2))
    try:
        author = str(uuid.uuid4())
        case = app.create_case(uuid.uuid4(), "MC-GC-2", author, case_form())
        with TableLock(sql, "cases_events") as lock:
            change = eventlet.spawn(app.change, case.id, lambda c: c.withdraw(author, "changed my mind"))
            eventually(lambda: len(lock.waiters()) == 1, message="the batch waits for the table lock")
            [writer_pid] = lock.waiters()
            sql("SELECT pg_terminate_backend(%s)", (writer_pid,))
            eventually(lambda: lock.waiters() not in ([], [writer_pid]), message="the writer reconnects")
        error = outcome(change)
        assert type(error) is ServiceUnavailable
        assert error.message == "The case store could not commit the change; reload the case and retry."
        assert isinstance(error.__cause__, GroupCommitFailed)
        assert app.get_case(case.id).version == 1, "nothing was written"
        assert app.change(case.id, lambda c: c.withdraw(author, "changed my mind"))[0].version == 2
    finally:
        app.close()


@pytest.mark.parametrize("save", ["fast", "stock"])
def test_the_cases_application_saves_the_same_events_the_fast_and_the_stock_way(url, monkeypatch, save):
    """CASES_SAVE=stock (eventsourcing's own save) is one setting away from the fast save
    (services/common/library_internals/eventsourcing_application.py): both store the same events, each
    checked against its contract and stamped with the request's correlation id before it is stored."""
    monkeypatch.setenv("CASES_SAVE", save)
    app = CasesApplication(env=postgres_env(url, pool_size=2))
    try:
        assert app.fast_save is (save == "fast")
        author = str(uuid.uuid4())
        set_correlation_id(f"save-{save}")
        case = app.create_case(uuid.uuid4(), f"MC-SAVE-{save}", author, case_form())
        app.change(case.id, lambda c: c.withdraw(author, "changed my mind"))
        events = app.history(case.id)
        assert [type(e).__name__ for e in events] == ["Created", "Withdrawn"]
        assert [e.correlation_id for e in events] == [f"save-{save}"] * 2
        assert getattr(events[0], CONTRACT_STAMP, None) is not None  # checked and stamped before it was stored
    finally:
        set_correlation_id("")
        app.close()
