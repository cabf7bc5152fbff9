"""How much does event sourcing cost per case creation? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_case_append.py [-n 1000] [--postgres postgresql://postgres@127.0.0.1:5432]

1. baseline: N single-row INSERTs, one transaction each, with raw psycopg2 into a table
   shaped like the event store (originator_id uuid, originator_version int, topic text,
   state bytea, notification_id bigserial), the payload a JSON-encoded case form;
2. the real thing: N ``CasesApplication.save(Case(number=..., author_id=..., form=...))``
   through eventsourcing 9.2 on PostgreSQL, as the cases service stores a new case (one
   aggregate, one event, one transaction), without RabbitMQ, the relay or the listing index.

Both run in the scratch database ``mentor_bench``, created at the start and dropped at
the end (an existing one is dropped first). See bench/README.md.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid

import psycopg2
from psycopg2 import sql

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py, beside this script)

from contracts.case_form import EXAMPLE_CASE_FORM  # noqa: E402
from services.cases.application import CasesApplication, postgres_env  # noqa: E402
from services.cases.domain import Case  # noqa: E402

BENCH_DB = "mentor_bench"
FORM = EXAMPLE_CASE_FORM
BASELINE_TABLE = """
CREATE TABLE baseline_events (
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
)"""


def baseline(url, n):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(BASELINE_TABLE)
    state = json.dumps({"number": "2025-000001", "author_id": str(uuid.uuid4()), "form": FORM}).encode()
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        with conn, conn.cursor() as cur:  # one transaction per event
            cur.execute(
                "INSERT INTO baseline_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                (str(uuid.uuid4()), 1, "services.cases.domain:Case.Created", state),
            )
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, latencies


def cases_application(url, n):
    app = CasesApplication(env=postgres_env(url, pool_size=2))
    author = str(uuid.uuid4())
    app.save(Case(number="WARMUP", author_id=author, form=FORM))  # connect, outside the timing
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        app.save(Case(number=f"BENCH-{i + 1:06d}", author_id=author, form=FORM))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    app.close()
    return elapsed, latencies


def row_count(url, table):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        count = cur.fetchone()[0]
    conn.close()
    return count


def describe(name, n, elapsed, latencies):
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"{name:34} {n / elapsed:9.0f} /s   mean {statistics.fmean(ms):6.2f} ms   "
        f"median {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms"
    )
    return n / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="rows / cases per run (default 1000)")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    admin, url = fresh_database(args.postgres, BENCH_DB, f"N = {args.n}")
    try:
        raw_elapsed, raw_lat = baseline(url, args.n)
        es_elapsed, es_lat = cases_application(url, args.n)
        stored = row_count(url, "cases_events") - 1  # less the warm-up case
        print()
        raw_rate = describe("raw psycopg2 INSERT, 1 per tx", args.n, raw_elapsed, raw_lat)
        es_rate = describe("CasesApplication: Case created", args.n, es_elapsed, es_lat)
        print()
        print(f"events stored by the application: {stored} (table cases_events)")
        print(
            f"ratio: event-sourced case creation runs at {es_rate / raw_rate:.2f}x the raw insert rate "
            f"({raw_rate / es_rate:.1f}x slower; {1000 * (es_elapsed - raw_elapsed) / args.n:.2f} ms "
            f"more per case)"
        )
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
