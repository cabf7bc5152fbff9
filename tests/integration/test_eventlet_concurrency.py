"""Database waits must not block the eventlet hub: concurrent workers overlap their queries."""

import time

from nameko.rpc import rpc as rpc_entrypoint

from services.common.db import Database

SLEEP = 0.5


class SlowQueries:
    name = "slow_queries"
    db = Database()

    @rpc_entrypoint
    def wait_in_database(self, seconds):
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_sleep(%s)", (seconds,))
        return True


def test_twenty_concurrent_database_waits_take_about_as_long_as_one(start_service, rpc):
    start_service(SlowQueries, max_workers=20, DB_POOL_SIZE=20)
    started = time.monotonic()
    assert rpc.slow_queries.wait_in_database(SLEEP)
    one = time.monotonic() - started

    started = time.monotonic()
    replies = [rpc.slow_queries.wait_in_database.call_async(SLEEP) for _ in range(20)]
    assert all(reply.result() for reply in replies)
    twenty = time.monotonic() - started

    assert one >= SLEEP and twenty >= SLEEP
    assert twenty < SLEEP * 20 / 4, f"20 waits took {twenty:.2f}s, one took {one:.2f}s: the hub is blocked"
