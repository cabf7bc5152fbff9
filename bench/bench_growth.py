"""Does the cases store stay fast as it grows? Append rate and case loads at 10k, 100k and 1M events,
and whether snapshots pay. Prints figures beside raw baselines, asserts nothing.

    .venv/bin/python bench/bench_growth.py [--sizes 10000,100000,1000000] [--appends 1000] [--loads 300]
        [--runs 3] [--app-fill 100000] [--no-record] [--postgres postgresql://postgres@127.0.0.1:5432]

In the scratch database ``mentor_bench_growth`` (created, then dropped) the cases store
(``CasesApplication(env=postgres_env(url))``, the service's default recorder) grows to each size in
turn with bench_replay.py's seeded journeys (about 10 events a case): through the application (100
cases a save) up to ``--app-fill`` events, beyond it by a bulk path (the same journeys, each event
encoded by the application's own mapper, ``COPY``-ed into the table). A raw table of the same shape
(``baseline_events``: same columns, primary key and notification index) is kept at the same size
(``INSERT ... SELECT`` of the same rows). At each size, interleaved in chunks so that load drifts hit
both alike, ``--runs`` times (medians printed):

- append: ``--appends`` ``CasesApplication.save`` of a new case (one event, one transaction, one
  client), beside raw psycopg2 ``INSERT``s of the same event state, one per transaction, into
  ``baseline_events``;
- load: ``repository.get`` of ``--loads`` random cases of the journeys (one each, cold-ish), beside a
  raw ``SELECT`` of the same case's rows by ``originator_id`` (what the repository reads; no decoding).

Then, at the last size, snapshots: cases of 10 (typical), 50 and 200 events (messages make a case
long) loaded 200 times each by (1) the application as it is (no snapshots), (2) the same with
snapshotting enabled and a snapshot of each case's last version (the best case for snapshots), (3)
snapshotting enabled, a snapshot 9 events behind (an interval of 10: the typical case), beside (4)
the raw SELECT of the case's rows. Appends one row per size and one for snapshots to
bench/RESULTS.md unless ``--no-record``. See bench/README.md.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_replay import form, journeys  # noqa: E402  (bench/, beside this script)
from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402

from services.cases.application import CasesApplication, postgres_env  # noqa: E402
from services.cases.domain import Case  # noqa: E402
from services.common.clock import utc_now  # noqa: E402

BENCH_DB = "mentor_bench_growth"
SIZES = (10_000, 100_000, 1_000_000)
BULK_CHUNK = 20_000  # events a COPY
CHUNK = 100  # appends of one kind before switching to the other kind
WARM_UP = 20
LONG_CASES = (10, 50, 200)
LOADS_LONG = 200
FORM = form(random.Random(0))
BASELINE_TABLE = """
CREATE TABLE baseline_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX baseline_events_notification_id_idx ON baseline_events (notification_id)"""


class SnapshottingCases(CasesApplication):
    name = "cases"  # the same tables (a subclass would otherwise be named after itself)
    is_snapshotting_enabled = True


# ---- growing the store -----------------------------------------------------------------------


class Store:
    """The scratch store: the cases table grown by the app or in bulk, the baseline table kept alike."""

    def __init__(self, url):
        self.url = url
        self.app = CasesApplication(env=postgres_env(url, pool_size=2))
        self.made = journeys(seed=7)
        self.events = 0
        self.copied = 0  # last notification id of cases_events copied to baseline_events
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(BASELINE_TABLE)

    def count(self, table):
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")
            return cur.fetchone()[0]

    def grow(self, size, app_fill):
        """Grow cases_events to about ``size`` events; returns (events/s of each path used)."""
        rates = {}
        self.events = self.count("cases_events")
        if self.events < min(size, app_fill):
            rates["app"] = self._grow_app(min(size, app_fill))
        if self.events < size:
            rates["bulk"] = self._grow_bulk(size)
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO baseline_events (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM cases_events "
                "WHERE notification_id > %s ORDER BY notification_id",
                (self.copied,),
            )
            cur.execute("SELECT max(notification_id) FROM cases_events")
            self.copied = cur.fetchone()[0]
            cur.execute("VACUUM ANALYZE cases_events")
            cur.execute("VACUUM ANALYZE baseline_events")
            cur.execute("CHECKPOINT")  # the bulk load's dirty pages written now, not during the measurements
        return rates

    def _grow_app(self, upto):
        started, before, batch = time.perf_counter(), self.events, []
        while self.events < upto:
            case = next(self.made)
            self.events += len(case.pending_events)
            batch.append(case)
            if len(batch) == 100:
                self.app.save(*batch)
                batch = []
        if batch:
            self.app.save(*batch)
        return (self.events - before) / (time.perf_counter() - started)

    def _grow_bulk(self, upto):
        """The same journeys, each event through the app's mapper, COPY-ed: the rows app.save writes,
        20,000 events a transaction instead of 100 cases a save."""
        started, before = time.perf_counter(), self.events
        to_stored_event = self.app.mapper.to_stored_event
        while self.events < upto:
            buffer, rows = io.StringIO(), 0
            while rows < BULK_CHUNK and self.events + rows < upto:
                for domain_event in next(self.made).collect_events():
                    stored = to_stored_event(domain_event)
                    buffer.write(
                        f"{stored.originator_id}\t{stored.originator_version}\t{stored.topic}\t"
                        f"\\\\x{stored.state.hex()}\n"
                    )
                    rows += 1
            buffer.seek(0)
            with self.conn.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("LOCK TABLE cases_events IN EXCLUSIVE MODE")  # ids in commit order, as the recorders
                cur.copy_expert(
                    "COPY cases_events (originator_id, originator_version, topic, state) FROM STDIN", buffer
                )
                cur.execute("COMMIT")
            self.events += rows
        return (self.events - before) / (time.perf_counter() - started)

    def close(self):
        self.app.close()
        self.conn.close()


# ---- measuring ---------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(seconds):
    """rate /s, p50 ms, p95 ms of a list of per-operation times."""
    return {
        "rate": len(seconds) / sum(seconds),
        "p50": 1000 * statistics.median(seconds),
        "p95": 1000 * percentile(seconds, 0.95),
    }


def medians(summaries):
    return {key: statistics.median(s[key] for s in summaries) for key in summaries[0]}


def measure_appends(store, n):
    """(raw, app) per-transaction times; the two kinds alternate in chunks of CHUNK."""
    state = store.app.mapper.to_stored_event(
        Case.file(uuid.uuid4(), "GROWTH-0", str(uuid.uuid4()), FORM).collect_events()[0]
    ).state
    conn = psycopg2.connect(store.url)
    raw, app = [], []
    author = str(uuid.uuid4())
    for _ in range(WARM_UP):  # connections made, statements prepared, outside the timing
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO baseline_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, 'services.cases.domain:Case.Created', %s)",
                (str(uuid.uuid4()), state),
            )
        store.app.save(Case.file(uuid.uuid4(), "GROWTH-WARM-UP", author, FORM))
    for chunk in range(0, n, CHUNK):
        for _ in range(min(CHUNK, n - chunk)):
            started = time.perf_counter()
            with conn, conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO baseline_events (originator_id, originator_version, topic, state) "
                    "VALUES (%s, 1, 'services.cases.domain:Case.Created', %s)",
                    (str(uuid.uuid4()), state),
                )
            raw.append(time.perf_counter() - started)
        for i in range(min(CHUNK, n - chunk)):
            case = Case.file(uuid.uuid4(), f"GROWTH-{chunk + i}", author, FORM)
            started = time.perf_counter()
            store.app.save(case)
            app.append(time.perf_counter() - started)
    conn.close()
    return summary(raw), summary(app)


def random_cases(url, k, seed):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT setseed(%s)", (seed,))
        # the generated journeys' cases (every one has a second event), not the one-event appends
        cur.execute(
            "SELECT originator_id FROM cases_events WHERE originator_version = 2 ORDER BY random() LIMIT %s", (k,)
        )
        ids = [row[0] for row in cur.fetchall()]
    conn.close()
    return ids


def raw_select(cur, case_id):
    cur.execute(
        "SELECT originator_version, topic, state FROM cases_events WHERE originator_id = %s "
        "ORDER BY originator_version",
        (case_id,),
    )
    return len(cur.fetchall())


def measure_loads(store, k, seed):
    """(raw, app, events per case) over k random cases; each case read once by each path."""
    conn = psycopg2.connect(store.url)
    cur = conn.cursor()
    raw, app, events = [], [], []
    for case_id in random_cases(store.url, k, seed):
        started = time.perf_counter()
        events.append(raw_select(cur, case_id))
        conn.rollback()
        raw.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.app.repository.get(case_id)
        app.append(time.perf_counter() - started)
    conn.close()
    return summary(raw), summary(app), statistics.fmean(events)


def long_case(length):
    """A case of ``length`` events: filed, proposed, chosen, accepted, then messages."""
    author, mentor = str(uuid.uuid4()), str(uuid.uuid4())
    case = Case.file(uuid.uuid4(), f"LONG-{length}", author, {**FORM, "mode": "personal"})
    case.record_proposals(1, [{"mentor_id": mentor, "matched_rubrics": [], "score": 1.0}], now=utc_now())
    case.choose_mentor(author, mentor, now=utc_now())
    case.accept(mentor, now=utc_now())
    while case.version < length:
        case.send_message(author if case.version % 2 else mentor, "A message of a long case, " * 8, now=utc_now())
    return case


def measure_snapshots(store):
    """{length: {path: median ms}} for long cases loaded LOADS_LONG times by each path."""
    env = postgres_env(store.url, pool_size=2)
    snapshotting = SnapshottingCases(env=env)
    conn = psycopg2.connect(store.url)
    cur = conn.cursor()
    results = {}
    for length in LONG_CASES:
        behind = long_case(length)  # snapshot 9 events behind its last version
        latest = long_case(length)  # snapshot at its last version
        store.app.save(behind, latest)
        snapshotting.take_snapshot(latest.id)
        if length > 10:
            snapshotting.take_snapshot(behind.id, version=length - 9)
        paths = {
            "no snapshots": lambda: store.app.repository.get(latest.id),
            "snapshot at the last version": lambda: snapshotting.repository.get(latest.id),
            "snapshot 9 events behind" if length > 10 else "snapshots on, none taken": lambda: (
                snapshotting.repository.get(behind.id)
            ),
            "raw SELECT of its rows": lambda: (raw_select(cur, latest.id), conn.rollback()),
        }
        times = {path: [] for path in paths}
        for _ in range(LOADS_LONG):
            for path, load in paths.items():
                started = time.perf_counter()
                load()
                times[path].append(time.perf_counter() - started)
        results[length] = {path: 1000 * statistics.median(ts) for path, ts in times.items()}
        results[length]["snapshot bytes"] = _snapshot_bytes(store.url, latest.id)
    snapshotting.close()
    conn.close()
    return results


def _snapshot_bytes(url, case_id):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT length(state) FROM cases_snapshots WHERE originator_id = %s "
            "ORDER BY originator_version DESC LIMIT 1",
            (case_id,),
        )
        size = cur.fetchone()[0]
    conn.close()
    return size


# ---- the command -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in SIZES),
        help="store sizes in events, ascending (default 10000,100000,1000000)",
    )
    parser.add_argument("--appends", type=int, default=1000, help="appends of each kind per size (default 1000)")
    parser.add_argument("--loads", type=int, default=300, help="random cases loaded per size (default 300)")
    parser.add_argument(
        "--runs", type=int, default=3, help="append and load measurements per size; medians (default 3)"
    )
    parser.add_argument(
        "--app-fill",
        type=int,
        default=100_000,
        help="grow through the application up to this many events, in bulk beyond (default 100k)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append rows to bench/RESULTS.md")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    admin, url = fresh_database(args.postgres, BENCH_DB, f"sizes {sizes}")
    store = None
    try:
        store = Store(url)
        for size in sizes:
            load_before = os.getloadavg()[0]
            grown = store.grow(size, args.app_fill)
            events, baseline_rows = store.count("cases_events"), store.count("baseline_events")
            print(
                f"\n{events:,} events in cases_events ({baseline_rows:,} in baseline_events); grown by "
                + ", ".join(f"{path} {rate:,.0f} events/s" for path, rate in grown.items())
                + f"; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            runs = [
                (measure_appends(store, args.appends), measure_loads(store, args.loads, seed=(run + 1) / 10))
                for run in range(args.runs)
            ]
            raw_a, app_a = (medians([r[0][i] for r in runs]) for i in (0, 1))
            raw_l, app_l = (medians([r[1][i] for r in runs]) for i in (0, 1))
            per_case = statistics.fmean(r[1][2] for r in runs)
            print(
                f"  append, 1 tx each:  app {app_a['rate']:7,.0f}/s (p50 {app_a['p50']:.2f} ms, p95 "
                f"{app_a['p95']:.2f} ms)   raw INSERT {raw_a['rate']:7,.0f}/s (p50 {raw_a['p50']:.2f} ms, "
                f"p95 {raw_a['p95']:.2f} ms)   ratio {app_a['rate'] / raw_a['rate']:.2f}"
            )
            print(
                f"  load one case ({per_case:.1f} events on average): app p50 {app_l['p50']:.2f} ms, p95 "
                f"{app_l['p95']:.2f} ms   raw SELECT p50 {raw_l['p50']:.2f} ms, p95 {raw_l['p95']:.2f} ms   "
                f"ratio (raw/app p50) {raw_l['p50'] / app_l['p50']:.2f}",
                flush=True,
            )
            if not args.no_record:
                append_result(
                    "bench_growth",
                    f"cases store at {events:,} events ({args.appends} appends, "
                    f"{args.loads} case loads of {per_case:.1f} events on average; "
                    f"medians of {args.runs} runs)",
                    f"append {app_a['rate']:,.0f}/s (p50 {app_a['p50']:.2f} ms); load a case p50 "
                    f"{app_l['p50']:.2f} ms, p95 {app_l['p95']:.2f} ms",
                    f"raw INSERT per tx {raw_a['rate']:,.0f}/s (p50 {raw_a['p50']:.2f} ms); raw SELECT of its rows "
                    f"p50 {raw_l['p50']:.2f} ms, p95 {raw_l['p95']:.2f} ms",
                    f"append {app_a['rate'] / raw_a['rate']:.2f}; load {raw_l['p50'] / app_l['p50']:.2f}",
                    machine(args.postgres, (load_before, os.getloadavg()[0])),
                )
        with store.conn.cursor() as cur:  # how long cases are (the generated journeys; long cases come next)
            cur.execute(
                "SELECT percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY n), max(n) "
                "FROM (SELECT max(originator_version) AS n FROM cases_events GROUP BY originator_id) AS c"
            )
            (p50, p90, p99), longest = cur.fetchone()
        print(f"\nevents a case: p50 {p50}, p90 {p90}, p99 {p99}, max {longest}")
        load_before = os.getloadavg()[0]
        snapshots = measure_snapshots(store)
        print("\nsnapshots: median ms to load one case (200 loads each)")
        for length, figures in snapshots.items():
            print(
                f"  {length:4d} events: "
                + ", ".join(
                    f"{path} {ms:.2f}" if path != "snapshot bytes" else f"snapshot {ms:,} bytes"
                    for path, ms in figures.items()
                )
            )
        if not args.no_record:
            cells = "; ".join(
                f"{length} events: none {f['no snapshots']:.2f} ms, snapshot at last "
                f"{f['snapshot at the last version']:.2f} ms"
                for length, f in snapshots.items()
            )
            raws = "; ".join(f"{length} events {f['raw SELECT of its rows']:.2f} ms" for length, f in snapshots.items())
            ratios = "; ".join(
                f"{length}: {f['no snapshots'] / f['snapshot at the last version']:.2f}x"
                for length, f in snapshots.items()
            )
            typical = snapshots[LONG_CASES[0]]
            append_result(
                "bench_growth",
                f"snapshots: median load of one case, {LOADS_LONG} loads, store at "
                f"{store.count('cases_events'):,} events (events a case p50 {p50}, "
                f"p99 {p99})",
                f"{cells}; a {LONG_CASES[0]}-event case with snapshots on, none taken "
                f"{typical['snapshots on, none taken']:.2f} ms",
                f"raw SELECT of its rows: {raws}",
                f"speed-up by a snapshot at the last version: {ratios}",
                machine(args.postgres, (load_before, os.getloadavg()[0])),
            )
    finally:
        if store is not None:
            store.close()
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
