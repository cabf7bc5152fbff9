"""Container health check: exit 0 when the service answers healthy, 1 otherwise.

    python -m services.common.healthcheck cases            # calls cases.health() over RPC
    python -m services.common.healthcheck gateway          # GET http://127.0.0.1:<port>/health
    python -m services.common.healthcheck web              # the browser client's /health

Backend services are asked over RabbitMQ (AMQP_URI, as the service itself reads it) with
a timeout; healthy means ``health()["status"] == "ok"`` (its database answers too). That call
reaches whichever replica of the service takes it, not necessarily the one in this container: so
where the process serves its metrics (METRICS_PORT, as in compose and the stack), this container's
own process must also say it is ready (``mentor_service_ready`` of each of its databases is 1 on
127.0.0.1:METRICS_PORT). Else a replica that hangs or never came up would be called healthy
because another one answered - and a rolling update would stop the old replica for a new one that
is not serving yet. The
gateway is asked over HTTP on the port of GATEWAY_ADDRESS: only whether it is up, not
whether the others are (that is /ready), so one sick service never restarts the gateway.
One line of JSON on stdout says what was found.
"""

import argparse
import json
import os
import signal
import sys
import warnings
from urllib.error import URLError
from urllib.request import urlopen

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_GATEWAY_ADDRESS = "0.0.0.0:8000"
DEFAULT_WEB_ADDRESS = "0.0.0.0:8080"
HTTP_SERVICES = ("gateway", "web")


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def check_rpc(service, amqp_uri, timeout):
    warnings.simplefilter("ignore")  # eventlet's deprecation notice is not a health finding
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as proxy:
        report = getattr(proxy, service).health()
    healthy = isinstance(report, dict) and report.get("status") == "ok"
    return healthy, report


READY_METRIC = "mentor_service_ready"
OWN_PROCESS_TIMEOUT = 3.0  # seconds for this container's own /metrics (its database ping is bounded by 2 s)


def readiness_of(metrics_text, service):
    """{database: value} of the service's readiness lines in a /metrics page (Prometheus text format)."""
    found = {}
    for line in metrics_text.splitlines():
        if not line.startswith(READY_METRIC + "{") or f'service="{service}"' not in line:
            continue
        labels, _, value = line.rpartition("} ")
        database = labels.partition('database="')[2].partition('"')[0]
        found[database] = float(value)
    return found


def check_own_process(service, port, timeout):
    """Whether the service's process in this container is up and its databases answer (its metrics)."""
    with urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        databases = readiness_of(response.read().decode(), service)
    return bool(databases) and all(value == 1.0 for value in databases.values()), {"databases": databases}


def check_http(address, timeout):
    port = address.rpartition(":")[2] or "8000"
    url = f"http://127.0.0.1:{port}/health"
    with urlopen(url, timeout=timeout) as response:
        body = json.loads(response.read().decode() or "{}")
        healthy = response.status == 200 and body.get("status") == "ok"
    return healthy, body


def check(service, timeout, environ=None):
    environ = os.environ if environ is None else environ
    if service == "web":  # the browser client: up, whether or not the gateway is
        return check_http(environ.get("WEB_ADDRESS", DEFAULT_WEB_ADDRESS), timeout)
    if service in HTTP_SERVICES:
        return check_http(environ.get("GATEWAY_ADDRESS", DEFAULT_GATEWAY_ADDRESS), timeout)
    port = environ.get("METRICS_PORT") or "0"
    if port == "0":  # no metrics served: the service's answer is all there is to ask
        return check_rpc(service, environ.get("AMQP_URI", DEFAULT_AMQP_URI), timeout)
    # this process first, on the loopback (cheap, and a short wait: a busy machine leaves the RPC its time)
    try:
        own, own_report = check_own_process(service, port, min(timeout, OWN_PROCESS_TIMEOUT))
    except (OSError, ValueError) as exc:  # nothing listens: this container's process is not up
        own, own_report = False, {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if not own:
        return False, {"this_process": own_report}
    healthy, report = check_rpc(service, environ.get("AMQP_URI", DEFAULT_AMQP_URI), timeout)
    return healthy, {"service": report, "this_process": own_report}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m services.common.healthcheck", description="Exit 0 when the service is healthy, 1 otherwise."
    )
    parser.add_argument("service", help="cases, matching, notifications, library, identity, gateway or web")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    # a hard stop too: connecting to an unreachable broker may retry longer than the RPC timeout
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(args.timeout * 2 + 1)))
    try:
        healthy, report = check(args.service, args.timeout)
    except _Timeout:
        healthy, report = False, {"error": f"no answer within {args.timeout * 2 + 1:.0f} s"}
    except (Exception, URLError) as exc:  # anything that is not a healthy answer is unhealthy
        healthy, report = False, {"error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        signal.alarm(0)
    print(json.dumps({"service": args.service, "healthy": healthy, "report": report}, default=str))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
