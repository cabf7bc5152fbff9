"""Case creations per second through the gateway, 32 concurrent clients, beside a constant endpoint,
with the gateway's two ways of checking a session (GATEWAY_SESSION_CHECK) in the same run.

    .venv/bin/python bench/bench_gateway.py                       # 2 runs x 10 s each figure
    .venv/bin/python bench/bench_gateway.py --profile /tmp/gw     # + py-spy of every service under load

Starts the whole platform (bench/platform_run.py: the six services as `nameko run` processes,
as scripts/platform.py runs them, on scratch databases mentor_bench_gateway_*, the vhost
mentor_bench_gateway and a free port; all dropped at the end, also on Ctrl-C) and a bare nameko
HTTP entrypoint that answers a constant (bench/const_service.py, same max_workers as the
gateway). Registers and signs in 32 mentees through the API, then the same load generator
(bench/loadgen.py: 32 keep-alive clients, closed loop, in 2 processes) runs:

- **baseline**: POST /const with the case form as body (nameko's web server and a worker, nothing else);
- **figure** (``gateway``): POST /api/v1/cases with the case form as a signed-in mentee (201
  expected): the gateway checks the token and its session by itself (GATEWAY_SESSION_CHECK=local,
  services/gateway/sessions.py), RPCs cases.create_case (event store, index, relay wake),
  library.similar; meanwhile the relay publishes CaseCreated and matching, notifications and library
  consume it, cases records MentorsProposed: the whole platform works;
- **round trip** (``identity``): the same through a second gateway process with
  GATEWAY_SESSION_CHECK=identity, which asks identity.authenticate on every request (as before
  issue #18 part 3); its CPU counts that gateway instead of the first.

Prints req/s, p50, p99 of each, the ratio, and the generator's own CPU per request; appends one
line to bench/RESULTS.md for the gateway beside the constant endpoint and one for the local session
check beside the round trip (medians of the runs). With --profile, a further gateway run is sampled
with `py-spy record` on every service process and the hottest functions of each are printed.
The issue's target: >= 300 creations/s. Asserts nothing.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import requests  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loadgen  # noqa: E402  (bench/loadgen.py)
from platform_run import BenchPlatform, append_result, schedstat  # noqa: E402

from tests.support import case_form  # noqa: E402

TARGET = 300.0


def py_spy():
    beside = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return beside if os.access(beside, os.X_OK) else shutil.which("py-spy")


def profile_under_load(platform, urls, files, duration, out_dir):
    """py-spy record (raw collapsed stacks) of every service while the gateway is under load."""
    spy = py_spy()
    if spy is None:
        print('py-spy not installed (`.venv/bin/pip install -e ".[bench]"`): no profile')
        return
    os.makedirs(out_dir, exist_ok=True)
    recorders = {}
    for name, pid in platform.pids().items():
        path = os.path.join(out_dir, f"{name}.txt")
        recorders[name] = (
            path,
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(duration)),
                    "--rate",
                    "100",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    path,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
    result = loadgen.run(
        urls["gateway"], duration=duration, warmup=0.5, body=files["body"], tokens=files["tokens"], expect=201
    )
    print(f"\nprofiled run: {result['rate']:.0f} creations/s (py-spy sampling slows every process)")
    for name, (path, recorder) in recorders.items():
        recorder.wait(timeout=duration + 30)
        summarize(name, path)
    print(f"collapsed stacks in {out_dir} (e.g. flamegraph.pl or speedscope)")


def summarize(name, path, top=12):
    """The functions where ``name`` spends its samples: self (on top of the stack) and total."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"  {name}: no profile")
        return
    self_count, total_count, samples, idle = collections.Counter(), collections.Counter(), 0, 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        try:
            count = int(count)
        except ValueError:
            continue
        frames = stack.split(";")
        samples += count
        leaf = frames[-1]
        if any(w in leaf for w in ("epoll", "select (", "poll (", "wait (", "sleep (")) and "hub" in stack:
            idle += count
        self_count[short(leaf)] += count
        for frame in set(short(f) for f in frames):
            total_count[frame] += count
    if not samples:
        print(f"  {name}: no samples")
        return
    print(f"\n  {name}: {samples} samples, {100 * idle / samples:.0f} % waiting in the eventlet hub")
    print("    self %  function")
    for frame, count in self_count.most_common(top):
        print(f"    {100 * count / samples:5.1f}  {frame}")
    interesting = [
        (f, c)
        for f, c in total_count.most_common(200)
        if not any(s in f for s in ("eventlet/", "greenlet", "<module>", "threading.py", "run (nameko"))
    ]
    print("    total %  function (inclusive)")
    for frame, count in interesting[:top]:
        print(f"    {100 * count / samples:5.1f}  {frame}")


def short(frame):
    """'func (path/to/file.py:12)' -> 'func (file-ish path:12)' without the site-packages prefix."""
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in frame:
            head, _, tail = frame.partition("(")
            return f"{head}({tail.split(marker, 1)[1]}" if marker in tail else frame
    return frame


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--procs", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per figure (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=2, help="runs of both figures, medians reported (default 2)")
    parser.add_argument("--profile", metavar="DIR", help="then profile every service under load with py-spy")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with BenchPlatform("gateway") as platform:
        work = platform.log_dir  # removed with the logs at the end
        const_url, const = platform.start_constant(max_workers=32)
        session = requests.Session()
        print(f"registering {args.clients} mentees through the API ...", flush=True)
        tokens = [platform.person(session, "mentee")[1] for _ in range(args.clients)]
        files = {"body": os.path.join(work, "case.json"), "tokens": os.path.join(work, "tokens.json")}
        with open(files["body"], "w") as f:
            json.dump(case_form(), f)
        with open(files["tokens"], "w") as f:
            json.dump(tokens, f)
        # one case first: the route works and answers 201
        platform.call(session, "POST", "/api/v1/cases", token=tokens[0], expect=(201,), json=case_form())
        round_trip_url, round_trip = platform.start_gateway("gateway-identity", GATEWAY_SESSION_CHECK="identity")
        urls = {
            "constant": f"{const_url}/const",
            "gateway": f"{platform.base}/api/v1/cases",
            "identity": f"{round_trip_url}/api/v1/cases",
        }
        pids_of = {
            "constant": {"const": const.process.pid},
            "gateway": platform.pids(),
            "identity": dict(platform.pids(), gateway=round_trip.process.pid),
        }
        runs = collections.defaultdict(list)
        for number in range(args.runs):
            order = ["constant", "gateway", "identity"]
            order = order if number % 2 == 0 else order[::-1]
            print(f"\nrun {number + 1} (load average {os.getloadavg()[0]:.2f}):", flush=True)
            for what in order:
                pids = pids_of[what]
                before = {name: schedstat(pid) for name, pid in pids.items()}
                result = loadgen.run(
                    urls[what],
                    clients=args.clients,
                    procs=args.procs,
                    duration=args.duration,
                    warmup=args.warmup,
                    body=files["body"],
                    tokens=files["tokens"],
                    expect=201,
                )
                after = {name: schedstat(pid) for name, pid in pids.items()}
                runs[what].append(result)
                print(
                    f"  {what:9} {result['rate']:7.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                    f"p99 {result['p99_ms']:6.1f} ms  errors {result['errors']}  "
                    f"generator CPU {result['generator_cpu_ms_per_request']:.3f} ms/request",
                    flush=True,
                )
                # whole run (warm-up included): CPU per request, and time spent runnable but without a CPU
                n = max(result["requests"] * (args.duration + args.warmup) / args.duration, 1)
                cpu = {name: after[name][0] - before[name][0] for name in pids}
                waited = {name: after[name][1] - before[name][1] for name in pids}
                print(
                    "            CPU ms per request: "
                    + ", ".join(f"{name} {cpu[name] * 1000 / n:.2f}" for name in pids)
                    + f" (sum {sum(cpu.values()) * 1000 / n:.2f});",
                    flush=True,
                )
                print(
                    "            waiting for a CPU: "
                    + ", ".join(f"{name} {100 * waited[name] / (args.duration + args.warmup):.0f} %" for name in pids)
                    + " of the wall time",
                    flush=True,
                )
                runs[what + " cpu"].append(sum(cpu.values()) * 1000 / n)
        if args.profile:
            profile_under_load(platform, urls, files, args.duration, args.profile)
    load_after = os.getloadavg()[0]

    med = {
        what: {
            k: statistics.median(r[k] for r in runs[what])
            for k in ("rate", "p50_ms", "p99_ms", "errors", "generator_cpu_ms_per_request")
        }
        for what in ("gateway", "constant", "identity")
    }
    service_cpu = statistics.median(runs["gateway cpu"])
    round_trip_cpu = statistics.median(runs["identity cpu"])
    g, c, i = med["gateway"], med["constant"], med["identity"]
    ratio = g["rate"] / c["rate"]
    met = "met" if g["rate"] >= TARGET else "NOT met"
    print(f"\nmedians of {args.runs} runs, {args.clients} clients, load average {load_before:.1f} -> {load_after:.1f}:")
    print(
        f"  gateway case creations {g['rate']:.0f}/s (p50 {g['p50_ms']:.1f} ms, p99 {g['p99_ms']:.1f} ms; "
        f"target >= {TARGET:.0f}/s: {met})"
    )
    print(
        f"  with the round trip    {i['rate']:.0f}/s (p50 {i['p50_ms']:.1f} ms, p99 {i['p99_ms']:.1f} ms; "
        f"GATEWAY_SESSION_CHECK=identity), {round_trip_cpu:.1f} ms CPU per creation"
    )
    print(f"  constant endpoint      {c['rate']:.0f}/s (p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms)")
    print(
        f"  the six services used {service_cpu:.1f} ms CPU per creation (PostgreSQL and RabbitMQ not counted): "
        f"{2000 / service_cpu:.0f}/s at most on 2 otherwise idle cores"
    )
    print(
        f"  ratio {ratio:.2f}; the generator used {c['generator_cpu_ms_per_request']:.3f} ms CPU per request "
        f"(constant), {g['generator_cpu_ms_per_request']:.3f} (gateway)"
    )
    if not args.no_results:
        append_result(
            "bench_gateway",
            f"POST /api/v1/cases, {args.clients} keep-alive clients, {args.duration:g} s, median of {args.runs} runs",
            f"{g['rate']:,.0f} creations/s, p50 {g['p50_ms']:.1f} ms, p99 {g['p99_ms']:.1f} ms "
            f"(target >= {TARGET:.0f}/s: {met}; services' CPU {service_cpu:.1f} ms per creation)",
            f"bare nameko HTTP entrypoint (constant) {c['rate']:,.0f} req/s, p50 {c['p50_ms']:.1f} ms, "
            f"p99 {c['p99_ms']:.1f} ms",
            f"{ratio:.2f}",
            load_before,
            load_after,
        )
        append_result(
            "bench_gateway",
            f"POST /api/v1/cases, {args.clients} keep-alive clients, {args.duration:g} s, "
            f"median of {args.runs} runs: the session checked by the gateway itself "
            "(GATEWAY_SESSION_CHECK=local) beside identity.authenticate on every request",
            f"local: {g['rate']:,.0f} creations/s, p50 {g['p50_ms']:.1f} ms, services' CPU {service_cpu:.1f} ms "
            f"per creation",
            f"identity round trip: {i['rate']:,.0f} creations/s, p50 {i['p50_ms']:.1f} ms, services' CPU "
            f"{round_trip_cpu:.1f} ms per creation",
            f"{g['rate'] / i['rate']:.2f}",
            load_before,
            load_after,
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
