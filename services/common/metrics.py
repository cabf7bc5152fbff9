"""Prometheus metrics of every service (prometheus_client), served on ``METRICS_PORT``.

What an operator must be able to watch (README, Operators: "Metrics"; the alerting rules are in
deploy/prometheus/alerts.yml):
- every worker's duration by entrypoint and kind (RPC, event, HTTP, timer) and outcome: the RPC
  latency histograms;
- at the gateway, requests, statuses and latencies per route (the route's template, never the path a
  client sent: ids and typos would make a series each);
- per consumer queue, deliveries, redeliveries, and messages parked (unreadable at once, or failed for
  the last allowed time);
- each relay's lag: events stored but not yet confirmed by the broker, and the age of the oldest;
- which replica's relay publishes (``mentor_relay_leading``: 1 in the one that held the relay's
  position at its last attempt) and how many events each published: with several replicas of a
  service, the relay publishes from one at a time (services/common/relay.py);
- e-mails queued, sent and failed;
- whether the service's database answers (``mentor_service_ready``).

Counters live in the process, so a restart starts them again at zero (Prometheus' ``rate`` and
``increase`` allow for that). The lag and readiness are read when scraped, not on the relay's hot
path: a scrape costs each relay two indexed queries and each database a ping.

Several services may share a process (the tests run them so): series carry the service's name, one
collector serves them all, and the first METRICS_PORT opened in a process serves it all.
"""

import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from services.common.logs import get_logger

log = get_logger()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

WORKER_SECONDS = Histogram(
    "mentor_worker_duration_seconds",
    "Time a worker took, by entrypoint (RPC latency for kind=rpc)",
    ["service", "kind", "entrypoint", "outcome"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "mentor_http_requests_total",
    "HTTP requests the gateway answered, by route and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "mentor_http_request_duration_seconds",
    "Time the gateway took to answer, by route",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
DELIVERIES = Counter("mentor_consumer_deliveries_total", "Messages delivered to a consumer", ["queue"])
REDELIVERIES = Counter(
    "mentor_consumer_redeliveries_total",
    "Messages delivered again (after a failure, a requeue or a consumer's crash)",
    ["queue"],
)
PARKED = Counter(
    "mentor_consumer_parked_total",
    "Messages sent to <queue>.parked: unreadable at once, or failed at their last allowed delivery",
    ["queue", "reason"],
)
EMAILS = Counter(
    "mentor_emails_total",
    "Notification e-mails by what became of them (queued, sent, "
    "failed: given up after the last attempt; retried: an attempt failed)",
    ["outcome"],
)
RELAY_PUBLISHED = Counter(
    "mentor_relay_published_events_total",
    "Events this process's relay published and the broker confirmed, by source",
    ["source"],
)

UNMATCHED_ROUTE = "unmatched"


def database_name(url):
    """A database's name (never its URL: that may hold a password): one process may hold several
    services' or replicas' stores (the tests do), and each needs a series of its own."""
    return urlsplit(url).path.lstrip("/") or "?"


def entrypoint_kind(entrypoint):
    """rpc, event, http or timer: what kind of entrypoint started a worker (by nameko class names,
    so this module needs none of the entrypoint modules)."""
    names = {cls.__name__ for cls in type(entrypoint).__mro__}
    for kind, markers in (
        ("rpc", ("Rpc",)),
        ("event", ("EventSubscriber", "Consumer")),
        ("http", ("HttpRequestHandler",)),
        ("timer", ("Timer",)),
    ):
        if names & set(markers):
            return kind
    return "other"


def delivery_count(message):
    """How many times the broker has already returned the message to its queue (quorum queues say
    so in ``x-delivery-count``; 0 on a first delivery)."""
    headers = getattr(message, "headers", None) or {}
    try:
        return int(headers.get("x-delivery-count") or 0)
    except (TypeError, ValueError):
        return 0


def message_delivered(queue, message):
    DELIVERIES.labels(queue).inc()
    if message.delivery_info.get("redelivered"):
        REDELIVERIES.labels(queue).inc()


def message_parked(queue, reason):
    PARKED.labels(queue, reason).inc()


def message_failed(queue, message, delivery_limit):
    """A handler failed and the message goes back to its queue: if that return is one more than the
    queue allows, the broker parks it now."""
    if delivery_count(message) + 1 > delivery_limit:
        message_parked(queue, "delivery_limit")


def http_answered(method, route, status, seconds):
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def relay_published(source, count):
    if count:
        RELAY_PUBLISHED.labels(source).inc(count)


def email_outcome(outcome, count=1):
    if count:
        EMAILS.labels(outcome).inc(count)


# ---- read when scraped: relay lag and readiness ------------------------------------------------


class ScrapedFigures:
    """The one collector of what is read at scrape time, for every relay and database of the process."""

    def __init__(self):
        self._lock = threading.Lock()
        self.relays = {}  # id -> (service, relay)
        self.databases = {}  # id -> (service, store)

    def add(self, table, key, value):
        with self._lock:
            table[key] = value

    def remove(self, table, key):
        with self._lock:
            table.pop(key, None)

    def collect(self):
        with self._lock:
            relays, databases = list(self.relays.values()), list(self.databases.values())
        labels = ["service", "source", "database"]
        events = GaugeMetricFamily(
            "mentor_relay_lag_events", "Events stored but not yet confirmed by the broker", labels=labels
        )
        age = GaugeMetricFamily(
            "mentor_relay_lag_seconds", "Age of the oldest event not yet confirmed (0 when none waits)", labels=labels
        )
        for service, relay in relays:
            try:
                count, oldest = relay.backlog()
            except Exception as exc:  # the database is down: the lag is unknown, readiness says why
                log.warning("metrics_relay_lag_unknown", source=relay.source, error=repr(exc)[:200])
                continue
            where = [service, relay.source, database_name(relay.store.url)]
            events.add_metric(where, count)
            waited = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest is not None else 0.0
            age.add_metric(where, max(0.0, waited))
        leading = GaugeMetricFamily(
            "mentor_relay_leading",
            "1 when this process held the relay's position at its last attempt (it publishes now), else 0",
            labels=["service", "source"],
        )
        for service, relay in relays:
            leading.add_metric([service, relay.source], 1.0 if relay.leading else 0.0)
        ready = GaugeMetricFamily(
            "mentor_service_ready", "1 when the service's database answers within 2 s", labels=["service", "database"]
        )
        for service, store in databases:
            try:
                answered = 1.0 if store.ping() else 0.0
            except Exception:
                answered = 0.0
            ready.add_metric([service, database_name(store.url)], answered)
        yield from (events, age, leading, ready)


SCRAPED = ScrapedFigures()
REGISTRY.register(SCRAPED)

_servers = {}  # port -> server: one per process and port
_servers_lock = threading.Lock()


def serve(port, address="0.0.0.0"):
    """Serve /metrics on ``port`` unless this process already does."""
    with _servers_lock:
        if port not in _servers:
            _servers[port] = start_http_server(port, addr=address)
            log.info("metrics_served", port=port)


class Metrics(DependencyProvider):
    """Every service declares it: times its workers, registers its database for readiness and serves
    the process's metrics on METRICS_PORT (unset or 0: not served; the figures are kept anyway)."""

    def __init__(self, store_attribute="db"):
        self.store_attribute = store_attribute
        self._started = {}

    def setup(self):
        port = int(self.container.config.get("METRICS_PORT") or 0)
        if port:
            serve(port, self.container.config.get("METRICS_ADDRESS", "0.0.0.0"))

    def start(self):
        for provider in self.container.dependencies:  # the service's Database, once set up
            if provider.attr_name == self.store_attribute and getattr(provider, "store", None) is not None:
                SCRAPED.add(SCRAPED.databases, id(self), (self.container.service_name, provider.store))

    def stop(self):
        SCRAPED.remove(SCRAPED.databases, id(self))

    kill = stop

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        WORKER_SECONDS.labels(
            self.container.service_name,
            entrypoint_kind(worker_ctx.entrypoint),
            worker_ctx.entrypoint.method_name,
            "ok" if exc_info is None else "error",
        ).observe(time.monotonic() - started)
