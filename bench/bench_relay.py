"""How fast does the relay move a service's log to RabbitMQ, every event confirmed? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_relay.py [--events 20000] [--cases-events 20000] [--runs 3] [--no-results]

Scratch database ``mentor_bench_relay`` and scratch vhost ``mentor-bench-relay`` (both created at the start,
dropped at the end), holding the platform's topology (contracts/topology.py: quorum queues, as in production).
N ``MentorProfileUpdated`` envelopes are written to an identity-shaped outbox, then published to
``identity.events`` (two consumer queues are bound to it in production; here the same):

(a) baseline: raw kombu ``Producer.publish`` of the same N bodies, persistent, no confirms;
(b) the way before pipelining: one publish at a time, each waiting for its confirm (kombu's
    ``confirm_publish``, what nameko's publisher does);
(c) the relay: ``EventRelay.pump`` until the outbox is drained (read a batch, publish it pipelined,
    collect the confirms, record the position), from position 0.

Then the cases relay: about M events of case journeys (bench_replay's generator) saved with the cases
application, and ``EventRelay("cases", CaseLogReader())`` pumped until drained: (d) as the service runs
it (each event mapped with its case moved one event on), beside (a') a raw unconfirmed publish of the
envelopes it produced. Queues are purged between measurements. See bench/README.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

import eventlet

eventlet.monkey_patch()  # as nameko runs the relay: green sockets, green psycopg2 waits

import kombu  # noqa: E402
import psycopg2.extensions  # noqa: E402
import psycopg2.extras  # noqa: E402

psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_replay import generate  # noqa: E402  (beside this script)
from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402

from contracts.topology import SUBSCRIPTIONS, consumer_queue, declare_topology, events_exchange  # noqa: E402
from services.cases.integration import CaseLogReader  # noqa: E402
from services.common import migrations, outbox  # noqa: E402
from services.common.db import PostgresStore  # noqa: E402
from services.common.logs import configure  # noqa: E402
from services.common.outbox import OutboxReader  # noqa: E402
from services.common.relay import EventRelay  # noqa: E402

BENCH_DB = "mentor_bench_relay"
VHOST = "mentor-bench-relay"
TARGET = 0.5  # issue #10: every event confirmed before its position is recorded, >= 0.5x raw unconfirmed


class _Container:
    def __init__(self, config):
        self.config = config
        self.service_name = "bench"


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def fill_outbox(store, n):
    rubrics = ["self-management", "teaching-methods", "interaction-with-parents"]
    with store.transaction() as cur:
        for _ in range(n):
            mentor_id = str(uuid.uuid4())
            outbox.append(
                cur,
                "identity",
                "MentorProfileUpdated",
                mentor_id,
                {
                    "mentor_id": mentor_id,
                    "rubrics": rubrics,
                    "accepting_cases": True,
                    "accredited": True,
                    "capacity": 3,
                    "away_periods": [],
                },
            )
    with store.transaction() as cur:
        cur.execute("SELECT envelope FROM outbox ORDER BY position")
        return [dict(row["envelope"]) for row in cur.fetchall()]


def purge(amqp_uri):
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        declare_topology(channel)
        for sub in SUBSCRIPTIONS:
            consumer_queue(sub)(channel).purge()


def raw_publish(amqp_uri, source, bodies, confirm):
    options = {"confirm_publish": True} if confirm else {}
    with kombu.Connection(amqp_uri, transport_options=options) as conn:
        channel = conn.channel()
        declare_topology(channel)
        producer = kombu.Producer(channel)
        exchange = events_exchange(source)
        started = time.perf_counter()
        for body in bodies:
            producer.publish(
                body,
                exchange=exchange,
                routing_key=body["type"],
                serializer="json",
                delivery_mode=2,
                retry=False,
                headers={"nameko.correlation_id": body.get("correlation_id", "")},
            )
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed


def relay_rate(amqp_uri, url, source, reader, expected):
    relay = EventRelay(source, reader)
    relay.container = _Container({"AMQP_URI": amqp_uri, "DATABASE_URL": url})
    relay.setup()
    with relay.store.transaction() as cur:
        cur.execute("UPDATE relay_position SET position = 0 WHERE relay = %s", (source,))
    relay._ensure_producer()  # connect and declare outside the timing, as a running relay has
    published = 0
    started = time.perf_counter()
    while n := relay.pump():
        published += n
    elapsed = time.perf_counter() - started
    relay._disconnect()
    relay.store.close()
    assert published == expected, (published, expected)
    return published / elapsed


def cases_envelopes(amqp_uri, url):
    """Every envelope the cases relay produces from the log (one read, no publish)."""
    reader = CaseLogReader()
    reader.setup(_Container({"DATABASE_URL": url}), None)
    envelopes, after = [], 0
    while True:
        last, page = reader.read(after, 1000)
        if last == after:
            break
        envelopes += [json.loads(message.body) for message in page]
        after = last
    reader.app.close()
    return envelopes


def measure(args, amqp_uri, url, store, bodies):
    bodies[:] = fill_outbox(store, args.events)
    figures = {}
    purge(amqp_uri)
    figures["a"] = raw_publish(amqp_uri, "identity", bodies, confirm=False)
    purge(amqp_uri)
    figures["b"] = raw_publish(amqp_uri, "identity", bodies[: args.confirmed_each], confirm=True)
    purge(amqp_uri)
    figures["c"] = relay_rate(amqp_uri, url, "identity", OutboxReader("identity"), len(bodies))
    purge(amqp_uri)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="outbox events per run (default 20,000)")
    parser.add_argument("--cases-events", type=int, default=20_000, help="case events (default 20,000)")
    parser.add_argument(
        "--confirmed-each",
        type=int,
        default=3000,
        help="publishes for (b), each waiting for its confirm (default 3,000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument(
        "--amqp",
        default=os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
        help="broker URL without a vhost (the vhost is created with the local rabbitmqctl)",
    )
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    configure("bench", "INFO")  # as the services log: a JSON line per published event (here to /dev/null)
    sys.stdout = real_stdout

    load_before = os.getloadavg()[0]
    admin, url = fresh_database(args.postgres, BENCH_DB, "created now, dropped at the end")
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    amqp_uri = f"{args.amqp.rstrip('/')}/{VHOST}"
    migrations.apply(url, migrations.history_directory("matching"))  # an outbox and relay_position
    store = PostgresStore(url, 2)
    try:
        runs, bodies = [], []
        for run in range(args.runs):
            with store.transaction() as cur:
                cur.execute("TRUNCATE outbox")
            runs.append(measure(args, amqp_uri, url, store, bodies))
            print(f"run {run + 1}: " + ", ".join(f"({k}) {v:,.0f}/s" for k, v in runs[-1].items()), flush=True)
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

        stored, cases, _ = generate(url, args.cases_events)
        envelopes = cases_envelopes(amqp_uri, url)
        cases_runs = []
        for _run in range(args.runs):
            purge(amqp_uri)
            raw = raw_publish(amqp_uri, "cases", envelopes, confirm=False)
            purge(amqp_uri)
            relayed = relay_rate(amqp_uri, url, "cases", CaseLogReader(), len(envelopes))
            cases_runs.append((raw, relayed))
            print(f"cases: (a') {raw:,.0f}/s, (d) {relayed:,.0f}/s", flush=True)
        purge(amqp_uri)
        raw_cases = statistics.median(r[0] for r in cases_runs)
        relay_cases = statistics.median(r[1] for r in cases_runs)
    finally:
        store.close()
        recreate(admin, BENCH_DB, drop_only=True)
        rabbitmqctl("delete_vhost", VHOST)
    load = (load_before, os.getloadavg()[0])

    ratio, ratio_b, ratio_cases = med["c"] / med["a"], med["b"] / med["a"], relay_cases / raw_cases
    print()
    size = sum(len(json.dumps(b)) for b in bodies) / len(bodies)
    print(f"identity outbox, {args.events:,} events of {size:.0f} bytes, medians of {args.runs} runs:")
    print(f"(a) raw kombu publish, no confirms      {med['a']:10,.0f}/s   1.00x")
    print(f"(b) one publish, wait for its confirm   {med['b']:10,.0f}/s   {ratio_b:.2f}x")
    print(
        f"(c) relay, pipelined confirms           {med['c']:10,.0f}/s   {ratio:.2f}x  "
        f"(target >= {TARGET}x: {'met' if ratio >= TARGET else 'NOT met'})"
    )
    print(f"cases log, {len(envelopes):,} envelopes of {stored:,} events ({cases:,} cases):")
    print(f"(a') raw kombu publish, no confirms     {raw_cases:10,.0f}/s   1.00x")
    print(f"(d) cases relay, mapped + pipelined     {relay_cases:10,.0f}/s   {ratio_cases:.2f}x")
    if not args.no_results:
        append_result(
            "bench_relay",
            f"{args.events:,} outbox events + {len(envelopes):,} case envelopes, "
            f"median of {args.runs} runs, quorum queues",
            f"relay (pipelined confirms) {med['c']:,.0f}/s (target >= {TARGET}x: "
            f"{'met' if ratio >= TARGET else 'NOT met'}); cases relay {relay_cases:,.0f}/s",
            f"raw kombu publish, no confirms {med['a']:,.0f}/s (cases bodies {raw_cases:,.0f}/s); "
            f"a confirm per publish {med['b']:,.0f}/s",
            f"{ratio:.2f} (cases {ratio_cases:.2f}; confirm each {ratio_b:.2f})",
            machine(admin, load),
        )


if __name__ == "__main__":
    main()
