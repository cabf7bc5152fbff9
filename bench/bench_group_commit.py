"""Case commands from concurrent clients: stock recorder vs group commit. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_group_commit.py [-n 4000] [--runs 3] [--record]
        [--postgres postgresql://postgres@127.0.0.1:5432] [--profile out.html]

Each run measures, N writes each, one transaction (or one command) per write:

1. raw psycopg2 (the baseline): one INSERT per transaction into a table shaped like the event
   store (``notification_id bigserial``), from 1 and from 4 threads, each on its own
   connection - 4 connections get PostgreSQL's own group commit of concurrent transactions;
2. stock: ``CasesApplication.save(Case(...))`` through eventsourcing 9.2's recorder (a table
   lock per insert), from 1 and 4 clients;
3. group commit: the same with CASES_RECORDER=group_commit (services.common.library_internals.eventsourcing_group_commit), from
   1 and 4 clients.

Clients of 2 and 3 run in two models: threads, and eventlet greenlets after ``monkey_patch()``
(one OS thread, psycopg2 through eventlet's wait callback): the model of the nameko service.
Every measurement runs in a fresh process of its own (``--measure``), one after the other in
each run, so the machine's load hits all of them alike; the figures printed at the end are
medians over the runs. After each group-commit measurement the notification ids are checked
gap-free. ``--record`` appends the medians to bench/RESULTS.md. ``--profile FILE.html``
profiles one extra 4-greenlet group-commit measurement with pyinstrument (extra ``bench``).
Uses the scratch database ``mentor_bench_group_commit``, dropped at the end. See bench/README.md.
"""

import sys

if "--mode=eventlet" in sys.argv:  # a measurement process in the service's model: patch first
    import eventlet

    eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import psycopg2  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_case_append import BASELINE_TABLE, FORM  # noqa: E402
from results import append_result, machine  # noqa: E402  (bench/results.py)
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py)

from services.cases.application import CasesApplication, postgres_env  # noqa: E402
from services.cases.domain import Case  # noqa: E402

BENCH_DB = "mentor_bench_group_commit"
TARGET = 0.8  # issue #10: case commands from 4 clients >= 0.8x the raw 4-connection rate
MEASUREMENTS = [  # (label, kind, clients, mode)
    ("raw psycopg2, 1 conn", "raw", 1, "threads"),
    ("raw psycopg2, 4 conn", "raw", 4, "threads"),
    ("stock recorder, 1 thread", "stock", 1, "threads"),
    ("stock recorder, 4 threads", "stock", 4, "threads"),
    ("stock recorder, 4 greenlets", "stock", 4, "eventlet"),
    ("group commit, 1 thread", "group_commit", 1, "threads"),
    ("group commit, 4 threads", "group_commit", 4, "threads"),
    ("group commit, 1 greenlet", "group_commit", 1, "eventlet"),
    ("group commit, 4 greenlets", "group_commit", 4, "eventlet"),
]
BASELINE = "raw psycopg2, 4 conn"
HEADLINE = "group commit, 4 greenlets"  # the cases service's model


# ---- one measurement (in its own process) ------------------------------------------------


def run_clients(clients, n, work):
    """``work(state, i)`` n times split over ``clients`` threads (greenlets under eventlet)."""
    per_client = [n // clients + (1 if c < n % clients else 0) for c in range(clients)]
    ready = threading.Barrier(clients + 1)
    errors = []

    def client(c, count):
        state = work.setup(c)
        ready.wait()
        try:
            for i in range(count):
                work(state, i)
        except Exception as exc:  # reported, not hidden
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(c, count)) for c, count in enumerate(per_client)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return n / elapsed


class RawInsert:
    """One INSERT per transaction, each client on its own connection."""

    def __init__(self, url):
        self.url = url
        self.state = json.dumps({"number": "2025-000001", "author_id": str(uuid.uuid4()), "form": FORM}).encode()

    def setup(self, client):
        return psycopg2.connect(self.url)

    def __call__(self, conn, i):
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO baseline_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                (str(uuid.uuid4()), 1, "services.cases.domain:Case.Created", self.state),
            )


class SaveCase:
    """``app.save`` of a new Case, as the cases service stores a filed case."""

    def __init__(self, app):
        self.app = app
        self.author = str(uuid.uuid4())

    def setup(self, client):
        return None

    def __call__(self, state, i):
        self.app.save(Case(number=f"BENCH-{i:06d}", author_id=self.author, form=FORM))


def execute(url, statement):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
        rows = cur.fetchall() if cur.description else None
    conn.close()
    return rows


def measure(url, kind, clients, n, profile=None):
    """One figure: writes per second (and commands per batch for group commit)."""
    if kind == "raw":
        execute(url, "DROP TABLE IF EXISTS baseline_events; " + BASELINE_TABLE)
        return {"rate": run_clients(clients, n, RawInsert(url))}
    app = CasesApplication(env=postgres_env(url, pool_size=clients + 1, recorder=kind))
    try:
        execute(url, "TRUNCATE cases_events")
        app.save(Case(number="WARMUP", author_id=str(uuid.uuid4()), form=FORM))  # connect outside the timing
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled")
            profiler.start()
        result = {"rate": run_clients(clients, n, SaveCase(app))}
        if profiler:
            profiler.stop()
            with open(profile, "w") as out:
                out.write(profiler.output_html())
            result["profile"] = profiler.output_text(unicode=False, color=False)
        if kind == "group_commit":
            writer = app.recorder.writer
            result["per_batch"] = writer.commands / writer.batches
            ((count, low, high),) = execute(
                url, "SELECT count(*), min(notification_id), max(notification_id) FROM cases_events"
            )
            if count != high - low + 1:
                raise AssertionError(f"notification ids have gaps: {count} rows over {low}..{high}")
        return result
    finally:
        app.close()


def measure_in_process(url, kind, clients, mode, n, profile=None):
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--measure",
        kind,
        "--clients",
        str(clients),
        f"--mode={mode}",
        "-n",
        str(n),
        "--url",
        url,
    ] + (["--profile", profile] if profile else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {kind}/{clients}/{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the whole benchmark ------------------------------------------------------------------


def show(figures, baseline):
    for label, *_ in MEASUREMENTS:
        figure = figures[label]
        extra = f"   {figure['per_batch']:.1f} commands/batch" if "per_batch" in figure else ""
        print(f"{label:30} {figure['rate']:8.0f} /s   {figure['rate'] / baseline:5.2f}x raw 4 conn{extra}")


def record(medians, args, load):
    raw4 = medians[BASELINE]["rate"]
    rate = {label: figure["rate"] for label, figure in medians.items()}
    append_result(
        "bench_group_commit",
        f"Case saves, n={args.n} per figure, median of {args.runs} runs",
        f"group commit, 4 greenlets (the service's model): {rate[HEADLINE]:,.0f}/s (target >= {TARGET}x: "
        f"{'met' if rate[HEADLINE] / raw4 >= TARGET else 'NOT met'}); 4 threads "
        f"{rate['group commit, 4 threads']:,.0f}/s; 1 greenlet {rate['group commit, 1 greenlet']:,.0f}/s, "
        f"1 thread {rate['group commit, 1 thread']:,.0f}/s",
        f"raw psycopg2 INSERT per tx, 4 conn (threads) {raw4:,.0f}/s, 1 conn {rate['raw psycopg2, 1 conn']:,.0f}/s; "
        f"stock recorder 4 threads {rate['stock recorder, 4 threads']:,.0f}/s, 4 greenlets "
        f"{rate['stock recorder, 4 greenlets']:,.0f}/s, 1 thread {rate['stock recorder, 1 thread']:,.0f}/s",
        f"{rate[HEADLINE] / raw4:.2f} (4 threads {rate['group commit, 4 threads'] / raw4:.2f}; "
        f"stock 4 threads {rate['stock recorder, 4 threads'] / raw4:.2f})",
        machine(args.url, load),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=4000, help="writes per measurement (default 4000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument("--profile", metavar="FILE.html", help="profile a 4-greenlet group-commit measurement")
    parser.add_argument("--record", action="store_true", help="append the medians to bench/RESULTS.md")
    parser.add_argument("--measure", choices=("raw", "stock", "group_commit"), help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("threads", "eventlet"), default="threads", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.url, args.measure, args.clients, args.n, args.profile)))
        return 0

    admin, args.url = fresh_database(args.postgres, BENCH_DB, f"N = {args.n}, {args.runs} run(s)")
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.2f} (1 min) on {os.cpu_count()} cores", flush=True)
    try:
        execute(args.url, BASELINE_TABLE)
        CasesApplication(env=postgres_env(args.url, pool_size=1, recorder="stock")).close()  # its tables
        runs = []
        for number in range(args.runs):
            # The load of a shared machine drifts: each run starts at another measurement.
            order = MEASUREMENTS[number % len(MEASUREMENTS) :] + MEASUREMENTS[: number % len(MEASUREMENTS)]
            figures = {
                label: measure_in_process(args.url, kind, clients, mode, args.n) for label, kind, clients, mode in order
            }
            runs.append(figures)
            print(f"\nrun {number + 1} (load average {os.getloadavg()[0]:.2f}):")
            show(figures, figures[BASELINE]["rate"])
        medians = {
            label: {key: statistics.median(run[label][key] for run in runs) for key in runs[0][label]}
            for label, *_ in MEASUREMENTS
        }
        raw4 = medians[BASELINE]["rate"]
        print(f"\nmedians of {args.runs} run(s):")
        show(medians, raw4)
        for label in (HEADLINE, "group commit, 4 threads"):
            ratio = medians[label]["rate"] / raw4
            per_run = statistics.median(run[label]["rate"] / run[BASELINE]["rate"] for run in runs)
            print(
                f"{label}: {ratio:.2f}x the raw 4-connection rate (median of the runs' own ratios "
                f"{per_run:.2f}x; target >= {TARGET}x: {'met' if ratio >= TARGET else 'NOT met'})"
            )
        load_after = os.getloadavg()[0]
        print(f"load average after: {load_after:.2f} (1 min)")
        if args.record:
            record(medians, args, (load_before, load_after))
        if args.profile:
            result = measure_in_process(args.url, "group_commit", 4, "eventlet", args.n, args.profile)
            print(
                f"\nprofile of a 4-greenlet group-commit measurement ({result['rate']:.0f} /s under the "
                f"profiler), written to {args.profile}:\n{result['profile']}"
            )
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
