"""Idempotent event consumers vs a raw kombu consumer (issue #10, "Consumers"). Prints figures, asserts nothing.

    .venv/bin/python bench/bench_consumer.py [-n 20000] [--runs 3] [--record]
        [--postgres postgresql://postgres@127.0.0.1:5432] [--amqp amqp://guest:guest@127.0.0.1:5672//]
        [--py-spy DIR]

Each measurement drains N persistent ~500-byte event envelopes (MentorProfileUpdated v2, 2,000
mentors) from a quorum queue declared with the platform's arguments (``contracts.topology.consumer_queue``:
x-delivery-limit, dead-lettering to ``parking``), filled before the consumer starts. The queue and its
exchange are this run's own (``bench.consumer-<id>...``, ``bench-<id>.events``), deleted at the end.

1. **raw kombu** (the baseline): one kombu Consumer, prefetch 10 (the platform's: nameko's prefetch is
   max_workers = 10), JSON decoded, each message acked on arrival; also with prefetch 100;
2. **nameko, no database**: the real ``EventSubscriber`` in a nameko container (max_workers 10), a
   handler that does nothing: what nameko and envelope validation cost per message;
3. **current idempotent path**: the same with a handler shaped like matching's projection: its own
   transaction, ``first_delivery`` (INSERT into processed_events) + ``readmodel.upsert_mentor``;
4. **batched tracking**: ``services.common.batch_consumer.BatchEventSubscriber`` (prefetch 100, batches of
   at most 100): one transaction and one multi-row ``first_deliveries`` insert per batch, then
   ``upsert_mentor`` for each new event (a round trip each);
5. **batched** (the headline): the same with ``readmodel.upsert_mentors``, the same upserts sent in one
   round trip: matching's real ``on_mentor_profile_updated`` since issue #10.

The clock of each runs from the first message handled to the N-th handled (2-4: committed). Every
measurement runs in a fresh process (eventlet-patched for nameko), the order rotated from run to run;
medians are printed. ``--record`` appends a line to bench/RESULTS.md; ``--py-spy DIR`` records each
measurement of the first run with py-spy (extra ``bench``) as collapsed stacks and prints where the
consumer process spends its samples. Scratch database ``mentor_bench_consumer``, dropped at the end.
"""

import sys

if "--measure" in sys.argv and not any(a in sys.argv for a in ("raw", "raw100")):
    import eventlet  # nameko's model: patch before anything else is imported

    eventlet.monkey_patch()

import argparse  # noqa: E402
import collections  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import psycopg2  # noqa: E402
from kombu import Connection, Consumer, Producer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from results import append_result, machine  # noqa: E402  (bench/results.py)
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py)

from contracts.envelope import Envelope  # noqa: E402
from contracts.events import dump_payload  # noqa: E402
from contracts.rubrics import RUBRIC_SLUGS  # noqa: E402
from contracts.topology import SUBSCRIPTIONS_BY_QUEUE, Subscription, consumer_queue, events_exchange  # noqa: E402

BENCH_DB = "mentor_bench_consumer"
TARGET = 0.3  # issue #10: an idempotent consumer keeps >= 0.3x the raw kombu consume rate
PLATFORM_PREFETCH = 10  # nameko: prefetch = max_workers, 10 in every services/*/config.yaml
BATCH_PREFETCH = 100
BATCH_SIZE = 100
EVENT_TYPE = "MentorProfileUpdated"
MENTORS = 2000
MEASUREMENTS = [  # (label, kind)
    ("raw kombu, prefetch 10", "raw"),
    ("raw kombu, prefetch 100", "raw100"),
    ("nameko EventSubscriber, no database", "nameko_noop"),
    ("current: EventSubscriber + first_delivery + upsert", "current"),
    ("batched tracking, an upsert round trip per event", "batched_each"),
    ("batched: first_deliveries + upsert_mentors (matching's)", "batched"),
]
BASELINE = "raw kombu, prefetch 10"
BASELINE_BATCH_PREFETCH = "raw kombu, prefetch 100"
HEADLINE = "batched: first_deliveries + upsert_mentors (matching's)"
CURRENT = "current: EventSubscriber + first_delivery + upsert"


# ---- the messages and the queue -------------------------------------------------------------


def subscription(tag):
    return Subscription(f"bench.consumer-{tag}", f"bench-{tag}", (EVENT_TYPE,))


def envelopes(n, seed):
    """N MentorProfileUpdated v2 envelopes of about 500 bytes (JSON), over MENTORS mentors."""
    rng = random.Random(seed)
    mentors = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(MENTORS)]
    for position in range(1, n + 1):
        periods = [
            {"starts_on": datetime.date(2027, m, 1), "ends_on": datetime.date(2027, m, 10 + rng.randrange(10))}
            for m in range(1, 1 + rng.randrange(0, 3))
        ]
        payload = {
            "mentor_id": rng.choice(mentors),
            "rubrics": rng.sample(RUBRIC_SLUGS, rng.randrange(1, 3)),
            "accepting_cases": rng.random() < 0.9,
            "accredited": rng.random() < 0.9,
            "capacity": rng.randrange(0, 6),
            "away_periods": periods,
        }
        version, data = dump_payload(EVENT_TYPE, payload)
        yield Envelope(
            type=EVENT_TYPE,
            source="identity",
            aggregate_id=payload["mentor_id"],
            payload=data,
            schema_version=version,
            position=position,
            correlation_id=uuid.uuid4().hex,
        ).to_message()


def fill(amqp, sub, n, seed):
    """Declare the queue as the platform does and publish N persistent messages; returns the mean size."""
    with Connection(amqp) as conn:
        channel = conn.channel()
        queue = consumer_queue(sub)(channel)
        queue.declare()
        producer = Producer(channel, exchange=events_exchange(sub.source))
        size = 0
        for body in envelopes(n, seed):
            size += len(json.dumps(body))
            producer.publish(body, routing_key=EVENT_TYPE, serializer="json", delivery_mode=2)
        deadline = time.monotonic() + 120
        while channel.queue_declare(sub.queue, passive=True).message_count < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sub.queue}: the published messages did not all arrive")
            time.sleep(0.1)
    return size / n


def delete_queue(amqp, sub):
    with Connection(amqp) as conn:
        conn.default_channel.queue_delete(sub.queue)


def delete_exchange(amqp, sub):
    with Connection(amqp) as conn:
        conn.default_channel.exchange_delete(events_exchange(sub.source).name)


# ---- one measurement (in its own process) ------------------------------------------------


def measure_raw(amqp, sub, n, prefetch):
    state = {"count": 0, "t0": None}

    def on_message(body, message):
        if state["t0"] is None:
            state["t0"], state["cpu0"] = time.perf_counter(), cpu_seconds()
        message.ack()
        state["count"] += 1

    with Connection(amqp) as conn:
        channel = conn.channel()
        consumer = Consumer(channel, queues=[consumer_queue(sub)], callbacks=[on_message], accept=["json"])
        consumer.qos(prefetch_count=prefetch)
        consumer.consume()
        while state["count"] < n:
            conn.drain_events(timeout=30)
        elapsed, cpu = time.perf_counter() - state["t0"], cpu_seconds() - state["cpu0"]
        consumer.cancel()
    return {"rate": n / elapsed, "seconds": elapsed, "cpu_us": 1e6 * cpu / n, "cpu_share": cpu / elapsed}


def cpu_seconds():
    """CPU time (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_nameko(amqp, url, sub, n, kind):
    from eventlet.event import Event
    from nameko.containers import ServiceContainer

    from services.common.batch_consumer import first_deliveries, subscribe_batch
    from services.common.consumer import first_delivery, subscribe
    from services.common.db import Database
    from services.matching import readmodel

    SUBSCRIPTIONS_BY_QUEUE[sub.queue] = sub  # the bench's own queue, read by the entrypoints
    state = {"count": 0, "t0": None, "batches": 0}
    done = Event()

    def handled(k):
        state["count"] += k
        if state["count"] >= n and not done.ready():
            state["cpu1"] = cpu_seconds()
            done.send(time.perf_counter())

    def started():
        if state["t0"] is None:
            state["t0"], state["cpu0"] = time.perf_counter(), cpu_seconds()

    class NoopService:
        name = "bench_consumer"

        @subscribe(sub.queue)
        def on_event(self, envelope):
            started()
            handled(1)

    class CurrentService:
        name = "bench_consumer"
        db = Database("matching")

        @subscribe(sub.queue)
        def on_event(self, envelope):
            started()
            with self.db.transaction() as cur:
                if first_delivery(cur, envelope, self.name):
                    readmodel.upsert_mentor(cur, envelope.payload, envelope.position, envelope.schema_version)
            handled(1)

    class BatchedEachService:
        name = "bench_consumer"
        db = Database("matching")

        @subscribe_batch(sub.queue)
        def on_events(self, envelopes):
            started()
            with self.db.transaction() as cur:
                for envelope in first_deliveries(cur, envelopes, self.name):
                    readmodel.upsert_mentor(cur, envelope.payload, envelope.position, envelope.schema_version)
            state["batches"] += 1
            handled(len(envelopes))

    class BatchedService:  # matching's profile handler as it would be batched (readmodel.upsert_mentors)
        name = "bench_consumer"
        db = Database("matching")

        @subscribe_batch(sub.queue)
        def on_events(self, envelopes):
            started()
            with self.db.transaction() as cur:
                readmodel.upsert_mentors(cur, first_deliveries(cur, envelopes, self.name))
            state["batches"] += 1
            handled(len(envelopes))

    service = {
        "nameko_noop": NoopService,
        "current": CurrentService,
        "batched_each": BatchedEachService,
        "batched": BatchedService,
    }[kind]
    config = {
        "AMQP_URI": amqp,
        "DATABASE_URL": url,
        "max_workers": PLATFORM_PREFETCH,
        "LOG_LEVEL": "WARNING",
        "EVENT_BATCH_PREFETCH": BATCH_PREFETCH,
        "EVENT_BATCH_SIZE": BATCH_SIZE,
    }
    container = ServiceContainer(service, config)
    container.start()
    try:
        with eventlet.Timeout(300):
            t1 = done.wait()
    finally:
        container.stop()
    elapsed, cpu = t1 - state["t0"], state["cpu1"] - state["cpu0"]
    figure = {"rate": n / elapsed, "seconds": elapsed, "cpu_us": 1e6 * cpu / n, "cpu_share": cpu / elapsed}
    if kind.startswith("batched"):
        figure["per_batch"] = n / max(state["batches"], 1)
    return figure


def measure(args):
    sub = subscription(args.tag)
    if args.measure in ("raw", "raw100"):
        return measure_raw(args.amqp, sub, args.n, PLATFORM_PREFETCH if args.measure == "raw" else BATCH_PREFETCH)
    return measure_nameko(args.amqp, args.url, sub, args.n, args.measure)


def measure_in_process(args, kind, run, py_spy_dir=None):
    sub = subscription(args.tag)
    size = fill(args.amqp, sub, args.n, seed=run)
    truncate(args.url)
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--measure",
        kind,
        "-n",
        str(args.n),
        "--tag",
        args.tag,
        "--url",
        args.url,
        "--amqp",
        args.amqp,
    ]
    if py_spy_dir:
        command = [
            py_spy(),
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "-o",
            os.path.join(py_spy_dir, f"{kind}.txt"),
            "--",
        ] + command
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    finally:
        delete_queue(args.amqp, sub)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {kind} failed:\n{done.stderr[-3000:]}")
    figure = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    figure["size"] = size
    return figure


def truncate(url):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('processed_events') IS NOT NULL AND to_regclass('mentors') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("TRUNCATE processed_events, mentors")
    conn.close()


def py_spy():
    found = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(found):
        raise SystemExit("--py-spy needs py-spy: .venv/bin/pip install -e '.[bench]'")
    return found


def summarize_profile(path, top=12):
    """Where the samples of one collapsed-stack file go: own (leaf) frames and a few inclusive ones."""
    leaf, inclusive, total = collections.Counter(), collections.Counter(), 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            count = int(count)
            total += count
            frames = [
                frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
                for frame in stack.split(";")
                if frame
            ]
            if frames:
                leaf[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    lines = [f"  {total} samples; own time:"]
    lines += [f"    {100 * c / total:5.1f}%  {frame}" for frame, c in leaf.most_common(top)]
    lines.append("  inclusive (selected):")
    for needle in (
        "drain_events",
        "_read",
        "wait_select",
        "execute (",
        "commit",
        "read_envelope",
        "spawn_worker",
        "_run_worker",
        "ack (",
        "handle_message (",
        "send_all",
        "_basic_ack",
        "load (",
        "trampoline",
        "unpack_message_headers",
    ):
        best = max(((c, f) for f, c in inclusive.items() if needle in f), default=None)
        if best:
            lines.append(f"    {100 * best[0] / total:5.1f}%  {best[1]}")
    return "\n".join(lines)


# ---- the whole benchmark ------------------------------------------------------------------


def show(figures):
    base, base100 = figures[BASELINE]["rate"], figures[BASELINE_BATCH_PREFETCH]["rate"]
    for label, _ in MEASUREMENTS:
        figure = figures[label]
        extra = f"   {figure['per_batch']:.1f} messages/batch" if "per_batch" in figure else ""
        print(
            f"{label:60} {figure['rate']:8.0f} msg/s  {figure['rate'] / base:5.2f}x raw p10  "
            f"{figure['rate'] / base100:5.2f}x raw p100   CPU {figure['cpu_us']:5.0f} us/msg "
            f"({100 * figure['cpu_share']:3.0f}% of a core){extra}"
        )


def record(medians, args, load, size):
    rate = {label: figure["rate"] for label, figure in medians.items()}
    base, base100 = rate[BASELINE], rate[BASELINE_BATCH_PREFETCH]
    met = rate[HEADLINE] / base >= TARGET
    append_result(
        "bench_consumer",
        f"{args.n} persistent {size:.0f}-byte envelopes from a quorum queue, median of {args.runs} runs",
        f"batched consumer (first_deliveries + upserts, prefetch {BATCH_PREFETCH}, "
        f"{medians[HEADLINE]['per_batch']:.0f} msgs/batch): {rate[HEADLINE]:,.0f} msg/s (target >= {TARGET}x: "
        f"{'met' if met else 'NOT met'}); batched tracking with a round trip per upsert "
        f"{rate['batched tracking, an upsert round trip per event']:,.0f} msg/s; "
        f"current per-message path {rate[CURRENT]:,.0f} msg/s; nameko without "
        f"database {rate['nameko EventSubscriber, no database']:,.0f} msg/s",
        f"raw kombu consume + ack, prefetch {PLATFORM_PREFETCH} {base:,.0f} msg/s "
        f"(prefetch {BATCH_PREFETCH}: {base100:,.0f} msg/s)",
        f"{rate[HEADLINE] / base:.2f} (vs raw prefetch {BATCH_PREFETCH}: {rate[HEADLINE] / base100:.2f}; "
        f"current {rate[CURRENT] / base:.2f})",
        machine(args.url, load),
    )


def main(argv=None):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the queue and database on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20000, help="messages per measurement (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument("--record", action="store_true", help="append the medians to bench/RESULTS.md")
    parser.add_argument("--py-spy", metavar="DIR", help="record the first run's measurements with py-spy")
    parser.add_argument(
        "--amqp",
        default=os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        help="the broker (default $BENCH_AMQP_URL or the local one)",
    )
    parser.add_argument(
        "--only", help="comma-separated kinds to measure (default all): " + ",".join(kind for _, kind in MEASUREMENTS)
    )
    parser.add_argument("--measure", choices=[kind for _, kind in MEASUREMENTS], help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args)))
        return 0

    args.tag = uuid.uuid4().hex[:10]
    measurements = [(label, kind) for label, kind in MEASUREMENTS if not args.only or kind in args.only.split(",")]
    admin, args.url = fresh_database(args.postgres, BENCH_DB, f"N = {args.n}, {args.runs} run(s)")
    load_before = os.getloadavg()[0]
    print(
        f"load average before: {load_before:.2f} (1 min) on {os.cpu_count()} cores; queue "
        f"{subscription(args.tag).queue}",
        flush=True,
    )
    if args.py_spy:
        os.makedirs(args.py_spy, exist_ok=True)
    try:
        runs = []
        for number in range(args.runs):
            order = measurements[number % len(measurements) :] + measurements[: number % len(measurements)]
            figures = {}
            for label, kind in order:
                figures[label] = measure_in_process(args, kind, number, args.py_spy if number == 0 else None)
                print(f"  {label}: {figures[label]['rate']:.0f} msg/s", flush=True)
            runs.append(figures)
            if len(figures) == len(MEASUREMENTS):
                print(f"\nrun {number + 1} (load average {os.getloadavg()[0]:.2f}):")
                show(figures)
        medians = {
            label: {key: statistics.median(run[label][key] for run in runs) for key in runs[0][label]}
            for label, _ in measurements
        }
        load_after = os.getloadavg()[0]
        if len(medians) == len(MEASUREMENTS):
            print(f"\nmedians of {args.runs} run(s), envelopes of {medians[BASELINE]['size']:.0f} bytes:")
            show(medians)
            base = medians[BASELINE]["rate"]
            for label in (HEADLINE, CURRENT):
                ratio = medians[label]["rate"] / base
                per_run = statistics.median(run[label]["rate"] / run[BASELINE]["rate"] for run in runs)
                print(
                    f"{label}: {ratio:.2f}x the raw kombu rate at the platform's prefetch (median of the runs' "
                    f"own ratios {per_run:.2f}x; target >= {TARGET}x: {'met' if ratio >= TARGET else 'NOT met'})"
                )
            if args.record:
                record(medians, args, (load_before, load_after), medians[BASELINE]["size"])
        print(f"load average after: {load_after:.2f} (1 min)")
        if args.py_spy:
            for label, kind in measurements:
                path = os.path.join(args.py_spy, f"{kind}.txt")
                if os.path.exists(path):
                    print(f"\npy-spy, {label} ({path}):\n{summarize_profile(path)}")
    finally:
        delete_queue(args.amqp, subscription(args.tag))
        delete_exchange(args.amqp, subscription(args.tag))
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
