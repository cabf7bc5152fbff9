"""Each service's resident memory at rest after start, and after 100,000 events went through.

    .venv/bin/python bench/bench_memory.py                    # until 100,000 events are published
    .venv/bin/python bench/bench_memory.py --events 20000

Starts the whole platform (bench/platform_run.py: six `nameko run` processes as
scripts/platform.py runs them, scratch databases mentor_bench_memory_*, vhost mentor_bench_memory,
a free port; all removed at the end, also on Ctrl-C) and, as the baseline, the bare nameko HTTP
service of bench_gateway.py (bench/const_service.py). RSS is VmRSS of each `nameko run` process
(/proc/<pid>/status; the service runs in that process, on green threads).

1. at rest: once every service is ready and the demo-like accounts exist (6 accredited mentors,
   32 mentees), after 5 s idle;
2. then case creations through the gateway (bench/loadgen.py, 32 keep-alive clients) until the
   relays have published ``--events`` events in all (the sum of the relay positions of cases,
   matching and identity: every case is CaseCreated, MentorsMatched and MentorsProposed, each
   then consumed by matching, cases, notifications and library), then until every queue of the
   vhost is empty, then 5 s idle: RSS again.

Prints both per service beside the bare nameko process, and appends a line to bench/RESULTS.md.
Asserts nothing.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import psycopg2  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loadgen  # noqa: E402  (bench/loadgen.py)
from bench_e2e_latency import seed_mentors  # noqa: E402
from platform_run import BenchPlatform, append_result, rss_kb  # noqa: E402

from tests.support import case_form  # noqa: E402

RELAYS = ("cases", "matching", "identity")


def published(platform):
    """Events the relays have published and the broker confirmed, in all (their recorded positions)."""
    total = 0
    for service in RELAYS:
        conn = psycopg2.connect(platform.database_url(service))
        try:
            with conn.cursor() as cur:
                # the relay's own row (cases also keeps its case index's position in this table)
                cur.execute("SELECT coalesce(sum(position), 0) FROM relay_position WHERE relay = %s", (service,))
                total += int(cur.fetchone()[0])
        finally:
            conn.close()
    return total


def queued(platform):
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", platform.vhost, "name", "messages"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and not parts[0].startswith("name"):
            total += int(parts[1])
    return total


def snapshot(platform, const):
    rss = {name: rss_kb(pid) for name, pid in platform.pids().items()}
    rss["bare nameko (baseline)"] = rss_kb(const.process.pid)
    return rss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events published in all (default 100,000)")
    parser.add_argument("--chunk", type=float, default=30.0, help="seconds of load between two counts")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with BenchPlatform("memory") as platform:
        work = platform.log_dir  # removed with the logs at the end
        _, const = platform.start_constant(max_workers=32)
        session = requests.Session()
        seed_mentors(platform, session, 6, case_form()["rubrics"])
        tokens = [platform.person(session, "mentee")[1] for _ in range(32)]
        body, tokens_file = os.path.join(work, "case.json"), os.path.join(work, "tokens.json")
        with open(body, "w") as f:
            json.dump(case_form(), f)
        with open(tokens_file, "w") as f:
            json.dump(tokens, f)
        time.sleep(5)
        at_rest = snapshot(platform, const)
        print("at rest: " + ", ".join(f"{k} {v / 1024:.1f} MB" for k, v in at_rest.items()), flush=True)
        cases = 0
        while True:
            count = published(platform)
            now = snapshot(platform, const)
            print(
                f"  {count:,} events published, {cases:,} cases filed, {(time.monotonic() - started) / 60:.1f} min "
                f"(load average {os.getloadavg()[0]:.1f}); RSS MB: "
                + " ".join(f"{k.split()[0]} {v / 1024:.0f}" for k, v in now.items() if k in platform.processes),
                flush=True,
            )
            if count >= args.events:
                break
            result = loadgen.run(
                f"{platform.base}/api/v1/cases",
                clients=32,
                procs=2,
                duration=args.chunk,
                warmup=0,
                body=body,
                tokens=tokens_file,
                expect=201,
            )
            cases += result["requests"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and queued(platform):
            time.sleep(2)
        left = queued(platform)
        count = published(platform)
        time.sleep(5)
        after = snapshot(platform, const)
    load_after = os.getloadavg()[0]

    print(
        f"\n{count:,} events published ({cases:,} cases through the gateway), {left} messages left in queues; "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    print(f"  {'process':24} {'at rest':>10} {'after':>10} {'growth':>10}")
    for name in at_rest:
        print(
            f"  {name:24} {at_rest[name] / 1024:8.1f} MB {after[name] / 1024:8.1f} MB "
            f"{(after[name] - at_rest[name]) / 1024:+8.1f} MB"
        )
    if not args.no_results:
        services = [n for n in at_rest if n != "bare nameko (baseline)"]
        base_rest = at_rest["bare nameko (baseline)"]
        append_result(
            "bench_memory",
            f"RSS at rest, then after {count:,} events published ({cases:,} cases via the gateway)",
            "; ".join(f"{n} {at_rest[n] / 1024:.0f} -> {after[n] / 1024:.0f} MB" for n in services),
            f"bare nameko HTTP process {base_rest / 1024:.0f} MB at rest",
            "largest/bare " + f"{max(after[n] for n in services) / base_rest:.1f}",
            load_before,
            load_after,
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
