"""End to end: CaseCreated committed -> MentorsProposed visible, over N cases, beside one raw broker hop.

    .venv/bin/python bench/bench_e2e_latency.py                   # 1000 cases at 20/s
    .venv/bin/python bench/bench_e2e_latency.py --cases 300 --rate 10 --poll-interval 0.5

Starts the whole platform (bench/platform_run.py: six `nameko run` processes as
scripts/platform.py runs them, scratch databases mentor_bench_e2e_*, vhost mentor_bench_e2e,
a free port; all removed at the end, also on Ctrl-C), seeds accredited mentors over the case's
rubrics as tests/e2e do (profile, availability, application, a moderator's approval; it waits
until matching knows them), then files N cases through the gateway at a steady rate.

A bench consumer (its own exclusive queue, declared before the first case) is bound to
``cases.events`` for CaseCreated and MentorsProposed and to ``matching.events`` for
MentorsMatched. Per case, on one clock (same machine):

  T0  CaseCreated.occurred_at   (the Created event's timestamp, set as the command records it)
  R0  CaseCreated received      (cases' relay published it: hop "cases relay")
  T1  MentorsMatched.occurred_at (matching consumed, ranked, wrote its outbox: hop "matching")
  R1  MentorsMatched received   (matching's relay: hop "matching relay")
  T2  MentorsProposed.occurred_at (cases consumed, recorded the proposals: hop "cases consume")
  R2  MentorsProposed received  (cases' relay: hop "cases relay 2")

The figure is R2 - T0 (p50/p95/p99; target p50 < 30 ms, p99 < 150 ms). The baseline: a raw
kombu publish (persistent, confirmed, as the relays publish) -> consume on the same broker, one
hop, measured in the same run. Appends one line to bench/RESULTS.md. Asserts nothing.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime  # noqa: E402

import kombu  # noqa: E402
import requests  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from platform_run import BenchPlatform, append_result, percentile, schedstat  # noqa: E402

from contracts.topology import events_exchange  # noqa: E402
from tests.support import case_form  # noqa: E402

TARGET_P50, TARGET_P99 = 30.0, 150.0
HOPS = (
    ("cases relay (CaseCreated)", "T0", "R0"),
    ("matching: consume, rank, outbox", "R0", "T1"),
    ("matching relay (MentorsMatched)", "T1", "R1"),
    ("cases: consume, record", "R1", "T2"),
    ("cases relay (MentorsProposed)", "T2", "R2"),
)


def ts(iso):
    return datetime.fromisoformat(iso).timestamp()


class Watcher:
    """The bench's own consumer: an exclusive queue bound before the first case."""

    def __init__(self, amqp_uri):
        self.connection = kombu.Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = kombu.Queue(
            f"bench-e2e-{uuid.uuid4().hex[:8]}",
            exclusive=True,
            auto_delete=True,
            bindings=[
                kombu.binding(events_exchange("cases"), routing_key="CaseCreated"),
                kombu.binding(events_exchange("cases"), routing_key="MentorsProposed"),
                kombu.binding(events_exchange("matching"), routing_key="MentorsMatched"),
            ],
        )
        for source in ("cases", "matching"):
            events_exchange(source)(self.channel).declare()
        self.queue(self.channel).declare()
        self.cases = {}
        self.proposed = 0
        self.running = True
        self.consumer = kombu.Consumer(
            self.channel, [self.queue], callbacks=[self.on_message], accept=["json"], no_ack=True
        )
        self.consumer.consume()
        self.thread = eventlet.spawn(self.run)

    def on_message(self, body, message):
        received = time.time()
        kind = body.get("type")
        payload = body.get("payload") or {}
        case = self.cases.setdefault(str(payload.get("case_id") or body.get("aggregate_id")), {})
        if kind == "CaseCreated":
            case.setdefault("T0", ts(body["occurred_at"]))
            case.setdefault("R0", received)
        elif kind == "MentorsMatched" and payload.get("round", 1) == 1:
            case.setdefault("T1", ts(body["occurred_at"]))
            case.setdefault("R1", received)
            case["matched"] = len(payload.get("proposals") or [])
        elif kind == "MentorsProposed" and "R2" not in case:
            case["T2"] = ts(body["occurred_at"])
            case["R2"] = received
            self.proposed += 1

    def run(self):
        while self.running:
            try:
                self.connection.drain_events(timeout=0.5)
            except Exception:  # socket.timeout
                continue

    def close(self):
        self.running = False
        self.thread.wait()
        self.connection.release()


def raw_hop(amqp_uri, n, rate):
    """One hop on the same broker: publish (persistent, confirmed) -> a consumer receives it."""
    exchange = kombu.Exchange("bench.raw-hop", type="topic", durable=False, auto_delete=True)
    queue = kombu.Queue(
        f"bench-raw-{uuid.uuid4().hex[:8]}", exchange=exchange, routing_key="hop", exclusive=True, auto_delete=True
    )
    received = {}
    done = threading.Event()

    def on_message(body, message):
        received[body["i"]] = time.time() - body["sent"]
        if len(received) >= n:
            done.set()

    with kombu.Connection(amqp_uri) as consumer_conn, kombu.Connection(amqp_uri) as producer_conn:
        channel = consumer_conn.channel()
        queue(channel).declare()
        consumer = kombu.Consumer(channel, [queue], callbacks=[on_message], accept=["json"], no_ack=True)
        consumer.consume()

        def drain():
            while not done.is_set():
                try:
                    consumer_conn.drain_events(timeout=0.5)
                except Exception:
                    continue

        drainer = eventlet.spawn(drain)
        producer = kombu.Producer(producer_conn.channel(), exchange=exchange)
        producer.channel.confirm_select()
        start = time.time()
        for i in range(n):
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            producer.publish(
                {"i": i, "sent": time.time(), "pad": "x" * 400}, routing_key="hop", serializer="json", delivery_mode=2
            )
        done.wait(30)
        drainer.kill()
    return [v * 1000 for v in received.values()]


def seed_mentors(platform, session, count, rubrics):
    moderator = platform.moderator(session)
    mentors = [platform.accredited_mentor(session, moderator, rubrics)["id"] for _ in range(count)]
    with ClusterRpcProxy({"AMQP_URI": platform.amqp_uri}, timeout=10) as rpc:
        deadline = time.monotonic() + 60
        for mentor_id in mentors:
            while time.monotonic() < deadline:
                try:
                    if rpc.matching.get_mentor(mentor_id)["accredited"]:
                        break
                except Exception:
                    pass
                time.sleep(0.2)
    return mentors


def file_cases(platform, tokens, n, rate):
    """POST n cases at ``rate`` per second (each on its own green thread, so a slow answer does not
    delay the next one); returns the ids and the failures."""
    form = case_form()
    pool = eventlet.GreenPool(64)
    sessions = [requests.Session() for _ in range(64)]
    ids, failures = [], []

    def post(i):
        session = sessions[i % len(sessions)]
        try:
            response = session.post(
                f"{platform.base}/api/v1/cases",
                json=form,
                timeout=30,
                headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
            )
            if response.status_code == 201:
                ids.append(response.json()["id"])
            else:
                failures.append(response.status_code)
        except requests.RequestException as exc:
            failures.append(type(exc).__name__)

    start = time.time()
    for i in range(n):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        pool.spawn_n(post, i)
    pool.waitall()
    return ids, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="cases filed per second (default 20)")
    parser.add_argument("--mentors", type=int, default=6, help="accredited mentors over the case's rubrics")
    parser.add_argument("--poll-interval", help="RELAY_POLL_INTERVAL for the services (default: config.yaml's)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)

    overrides = {"RELAY_POLL_INTERVAL": args.poll_interval} if args.poll_interval else {}
    load_before = os.getloadavg()[0]
    with BenchPlatform("e2e", overrides=overrides) as platform:
        session = requests.Session()
        rubrics = case_form()["rubrics"]
        print(f"seeding {args.mentors} accredited mentors over {', '.join(rubrics)} ...", flush=True)
        seed_mentors(platform, session, args.mentors, rubrics)
        tokens = [platform.person(session, "mentee")[1] for _ in range(8)]
        print(f"baseline: {args.cases} raw kombu publishes (persistent, confirmed) -> consume ...", flush=True)
        raw = raw_hop(platform.amqp_uri, args.cases, args.rate)
        watcher = Watcher(platform.amqp_uri)
        print(f"filing {args.cases} cases at {args.rate:g}/s (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
        before, started = {name: schedstat(pid) for name, pid in platform.pids().items()}, time.monotonic()
        ids, failures = file_cases(platform, tokens, args.cases, args.rate)
        deadline = time.monotonic() + 120
        while watcher.proposed < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        wall = time.monotonic() - started
        after = {name: schedstat(pid) for name, pid in platform.pids().items()}
        watcher.close()
        cases = {i: watcher.cases.get(i, {}) for i in ids}
    load_after = os.getloadavg()[0]

    complete = [c for c in cases.values() if all(k in c for k in ("T0", "R0", "T1", "R1", "T2", "R2"))]
    e2e = [(c["R2"] - c["T0"]) * 1000 for c in complete]
    missing = len(ids) - len(complete)
    no_mentor = sum(1 for c in complete if not c.get("matched"))
    print(
        f"\n{len(ids)} cases filed ({len(failures)} failed: {sorted(set(map(str, failures)))[:5]}), "
        f"{len(complete)} with MentorsProposed seen ({missing} missing, {no_mentor} with no mentor proposed); "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    print(
        "  while filing: "
        + ", ".join(
            f"{name} on a CPU {100 * (after[name][0] - before[name][0]) / wall:.0f} %, waiting for one "
            f"{100 * (after[name][1] - before[name][1]) / wall:.0f} %"
            for name in before
        )
        + " of the wall time"
    )
    p = {q: percentile(e2e, q) for q in (0.5, 0.95, 0.99)}
    b = {q: percentile(raw, q) for q in (0.5, 0.95, 0.99)}
    met = "met" if p[0.5] < TARGET_P50 and p[0.99] < TARGET_P99 else "NOT met"
    print(
        f"  CaseCreated committed -> MentorsProposed received: p50 {p[0.5]:.1f} ms, p95 {p[0.95]:.1f} ms, "
        f"p99 {p[0.99]:.1f} ms (target p50 < {TARGET_P50:g}, p99 < {TARGET_P99:g}: {met})"
    )
    print(
        f"  baseline, one raw hop publish -> consume: p50 {b[0.5]:.2f} ms, p95 {b[0.95]:.2f} ms, p99 {b[0.99]:.2f} ms"
    )
    print(f"  ratio p50 {p[0.5] / b[0.5]:.1f}x one hop (the path has 3 broker hops, 3 commits and a ranking)")
    print("  per hop (ms)                        p50      p95      p99")
    for label, a, z in HOPS:
        values = [(c[z] - c[a]) * 1000 for c in complete]
        print(
            f"    {label:32} {percentile(values, 0.5):7.1f}  {percentile(values, 0.95):7.1f}  "
            f"{percentile(values, 0.99):7.1f}"
        )
    if not args.no_results and e2e:
        poll = args.poll_interval or "0.5 (config)"
        append_result(
            "bench_e2e_latency",
            f"{len(ids)} cases via the gateway at {args.rate:g}/s, {args.mentors} mentors, RELAY_POLL_INTERVAL {poll}",
            f"CaseCreated -> MentorsProposed p50 {p[0.5]:.1f} ms, p95 {p[0.95]:.1f} ms, p99 {p[0.99]:.1f} ms "
            f"(target p50 < 30, p99 < 150: {met}; {missing} missing)",
            f"raw kombu publish (confirmed) -> consume, one hop: p50 {b[0.5]:.2f} ms, p99 {b[0.99]:.2f} ms",
            f"{p[0.5] / b[0.5]:.1f} (p50)",
            load_before,
            load_after,
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
