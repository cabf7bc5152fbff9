"""services.common.db.PostgresStore keeps its connections: psycopg2's pool with minconn=0 closed
every connection given back, so every transaction paid a new one (issue #10, bench_gateway.py).
A kept connection the server cut meanwhile is replaced, not handed to the next transaction."""

import psycopg2
import pytest

from services.common.db import PostgresStore, ensure_database


@pytest.fixture
def store(test_env):
    url = test_env.database_url("dbpool")
    ensure_database(url)
    store = PostgresStore(url, 3)
    yield store
    store.close()


def _backend_pid(store):
    with store.transaction() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return cur.fetchone()["pid"]


def _terminate(test_env, pid):
    conn = psycopg2.connect(f"{test_env.postgres_base}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until it has ended
    finally:
        conn.close()


def test_transactions_reuse_one_connection(store):
    first = _backend_pid(store)
    assert [_backend_pid(store) for _ in range(5)] == [first] * 5


def test_a_kept_connection_cut_by_the_server_is_replaced(store, test_env):
    first = _backend_pid(store)
    _terminate(test_env, first)
    # the next transaction does not fail on the dead connection: it gets a new one
    second = _backend_pid(store)
    assert second != first
    assert _backend_pid(store) == second


def test_concurrent_transactions_keep_at_most_the_pool_size(store):
    import eventlet

    def hold(_):
        with store.transaction() as cur:
            cur.execute("SELECT pg_sleep(0.05), pg_backend_pid() AS pid")
            return cur.fetchone()["pid"]

    pids = set(eventlet.GreenPool(6).imap(hold, range(12)))
    assert 1 <= len(pids) <= 3
    assert {_backend_pid(store) for _ in range(6)} <= pids


def test_the_cases_event_store_replaces_a_cut_connection_without_pinging_each_time(test_env):
    """eventsourcing's pre-ping (SELECT 1 before every transaction) is off in the cases store; the
    pool's connections are checked like PostgresStore's, so a cut one is still never handed out."""
    from services.cases.application import open_application

    url = test_env.database_url("dbpool_cases")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    datastore = app.recorder.datastore
    try:
        assert datastore.pool.pre_ping is False

        def pid():  # straight from the pool: no retry of eventsourcing's to hide a dead connection
            with datastore.get_connection() as conn:
                return conn._pg_conn.get_backend_pid()

        first = pid()
        assert pid() == first
        _terminate(test_env, first)
        second = pid()
        assert second != first
        with datastore.get_connection() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
        assert pid() == second
    finally:
        app.close()


def test_the_stock_pool_is_one_setting_away_and_opens_a_connection_per_transaction(test_env):
    """DB_POOL=stock (services/common/db.py ``pool_class``): psycopg2's own pool, which the kept pool
    (services/common/library_internals/psycopg2_pool.py) improves on; transactions work the same."""
    url = test_env.database_url("dbpool")
    ensure_database(url)
    store = PostgresStore(url, 3, pool="stock")
    try:
        pids = [_backend_pid(store) for _ in range(3)]
        assert len(set(pids)) == 3  # none kept: what the kept pool saves
        with store.transaction() as cur:
            cur.execute("SELECT 41 + 1 AS answer")
            assert cur.fetchone()["answer"] == 42
    finally:
        store.close()
