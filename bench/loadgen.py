"""A small closed-loop HTTP load generator: C keep-alive clients, each one request at a time.

    .venv/bin/python bench/loadgen.py --url http://127.0.0.1:8000/api/v1/cases --body FILE \
        --tokens FILE --clients 32 --procs 2 --warmup 2 --duration 10

Each client is a thread with its own persistent HTTP/1.1 connection and a request prebuilt as
bytes (method, path, headers, body; its own bearer token), parsing only the status line and
Content-Length of the answer: as little Python per request as possible, so the generator is
not what limits the figure (bench_gateway.py measures it against a constant endpoint). Clients
are spread over ``--procs`` processes so that one GIL does not serialize them. Prints one JSON
object: requests, errors (status not expected), seconds, req/s, latency percentiles (ms) and the
CPU seconds the generator itself used.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit


def build_request(url, method, body, token):
    parts = urlsplit(url)
    lines = [f"{method} {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def connect(url):
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock, buf):
    """(status, rest of buf): reads one response whole (Content-Length, or chunked to its end)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data
    head, _, buf = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while b"0\r\n\r\n" not in buf:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            buf += data
        buf = buf.partition(b"0\r\n\r\n")[2]
    else:
        length = length or 0
        while len(buf) < length:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            buf += data
        buf = buf[length:]
    return status, buf


def client(url, request, expect, start, warm_until, stop_at, out):
    latencies, errors, reconnects = [], 0, 0
    sock = connect(url)
    buf = b""
    time.sleep(max(0.0, start - time.time()))
    while True:
        t0 = time.perf_counter()
        now = time.time()
        if now >= stop_at:
            break
        try:
            sock.sendall(request)
            status, buf = read_response(sock, buf)
        except (OSError, ConnectionError):
            reconnects += 1
            sock.close()
            sock, buf = connect(url), b""
            continue
        elapsed = time.perf_counter() - t0
        if now >= warm_until:
            if status == expect:
                latencies.append(elapsed)
            else:
                errors += 1
    sock.close()
    out.append((latencies, errors, reconnects))


def worker(args):
    body = open(args.body, "rb").read() if args.body else None
    tokens = json.load(open(args.tokens)) if args.tokens else [None]
    ids = [int(i) for i in args.client_ids.split(",")]
    out, threads = [], []
    warm_until = args.start + args.warmup
    stop_at = warm_until + args.duration
    for i in ids:
        request = build_request(args.url, args.method, body, tokens[i % len(tokens)])
        threads.append(
            threading.Thread(
                target=client, args=(args.url, request, args.expect, args.start, warm_until, stop_at, out), daemon=True
            )
        )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for lat, _, _ in out for x in lat]
    cpu = os.times()
    json.dump(
        {
            "latencies": latencies,
            "errors": sum(e for _, e, _ in out),
            "reconnects": sum(r for _, _, r in out),
            "cpu": cpu.user + cpu.system,
        },
        sys.stdout,
    )


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(url, clients=32, procs=2, duration=10.0, warmup=2.0, method="POST", body=None, tokens=None, expect=201):
    """Run the generator in ``procs`` processes; returns the summary dict."""
    start = time.time() + 1.5  # every process connected before the first request
    groups = [list(range(p, clients, procs)) for p in range(procs)]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                "--url",
                url,
                "--method",
                method,
                "--expect",
                str(expect),
                "--start",
                repr(start),
                "--warmup",
                str(warmup),
                "--duration",
                str(duration),
                "--client-ids",
                ",".join(map(str, g)),
            ]
            + (["--body", body] if body else [])
            + (["--tokens", tokens] if tokens else []),
            stdout=subprocess.PIPE,
        )
        for g in groups
        if g
    ]
    results = []
    for child in children:
        stdout, _ = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"load generator process failed ({child.returncode})")
        results.append(json.loads(stdout))
    latencies = [x for r in results for x in r["latencies"]]
    n = len(latencies)
    return {
        "requests": n,
        "errors": sum(r["errors"] for r in results),
        "reconnects": sum(r["reconnects"] for r in results),
        "seconds": duration,
        "rate": n / duration,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "generator_cpu_s": sum(r["cpu"] for r in results),
        "generator_cpu_ms_per_request": sum(r["cpu"] for r in results) * 1000 / max(n, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--body", help="file with the request body (JSON)")
    parser.add_argument("--tokens", help="JSON file: a list of bearer tokens, client i uses tokens[i % n]")
    parser.add_argument("--expect", type=int, default=201)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--client-ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(
        json.dumps(
            run(
                args.url,
                args.clients,
                args.procs,
                args.duration,
                args.warmup,
                args.method,
                args.body,
                args.tokens,
                args.expect,
            )
        )
    )


if __name__ == "__main__":
    main()
