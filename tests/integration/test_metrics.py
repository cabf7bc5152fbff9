"""Every service's Prometheus metrics (services/common/metrics.py), scraped over HTTP from the real
platform while it works: the figures an operator alerts on move (deploy/prometheus/alerts.yml)."""

import json
import uuid

import pytest
import requests
from kombu import Connection, Exchange, Producer
from prometheus_client.parser import text_string_to_metric_families

from contracts.topology import DELIVERY_LIMIT, SUBSCRIPTIONS
from services.common import outbox
from services.common.db import PostgresStore
from services.matching.service import MatchingService
from tests.faults.helpers import queue_depth
from tests.integration.event_helpers import envelope, purge
from tests.integration.gateway_platform import start_platform
from tests.support import case_form, eventually, free_port

pytestmark = pytest.mark.usefixtures("platform")


@pytest.fixture(scope="module")
def metrics_port():
    return free_port()


@pytest.fixture(scope="module")
def platform(start_module_service, metrics_port, test_env):
    # earlier modules' events still queued for the consumers (the queues outlive their services) would be
    # handled before this module's two unreadable messages, past its wait (CI, the other lane beside it)
    purge(test_env.amqp_uri, *(subscription.queue for subscription in SUBSCRIPTIONS))
    api = start_platform(start_module_service, METRICS_PORT=metrics_port)
    return api


@pytest.fixture(scope="module")
def mentee(platform):
    return platform.register("mentee")


def scrape(port):
    """{(name, frozenset(labels)): value} of one scrape."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, response.text


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_every_service_says_its_database_answers(metrics_port, test_env):
    samples, _ = scrape(metrics_port)
    for service in ("identity", "cases", "matching", "notifications", "library"):
        database = test_env.database_url(service).rsplit("/", 1)[1]
        assert value(samples, "mentor_service_ready", service=service, database=database) == 1.0, service


def test_gateway_requests_are_counted_per_route_never_per_path(platform, mentee, metrics_port):
    _, token = mentee
    route = dict(method="GET", route="/api/v1/cases/<case_id>", status="404")
    before, _ = scrape(metrics_port)
    case_id = str(uuid.uuid4())
    assert platform("GET", f"/api/v1/cases/{case_id}", token=token).status_code == 404
    assert platform("GET", f"/nowhere/{case_id}").status_code == 404
    after, text = scrape(metrics_port)
    assert (
        value(after, "mentor_http_requests_total", **route) == value(before, "mentor_http_requests_total", **route) + 1
    )
    unmatched = dict(method="-", route="unmatched", status="404")
    assert value(after, "mentor_http_requests_total", **unmatched) >= 1
    assert (
        value(after, "mentor_http_request_duration_seconds_count", method="GET", route="/api/v1/cases/<case_id>") >= 1
    )
    assert case_id not in text  # ids a client sent never make series


def test_filing_a_case_moves_rpc_latency_consumer_deliveries_and_relay_figures(
    platform, mentee, metrics_port, test_env
):
    _, token = mentee
    rpc = dict(service="cases", kind="rpc", entrypoint="create_case", outcome="ok")
    delivered = dict(queue="matching.case-events")
    before, _ = scrape(metrics_port)
    filed = platform("POST", "/api/v1/cases", token=token, json=case_form())
    assert filed.status_code == 201, filed.text

    def moved():
        after, _ = scrape(metrics_port)
        return (
            value(after, "mentor_worker_duration_seconds_count", **rpc)
            > value(before, "mentor_worker_duration_seconds_count", **rpc)
            and value(after, "mentor_consumer_deliveries_total", **delivered)
            > value(before, "mentor_consumer_deliveries_total", **delivered)
        ) and after

    after = eventually(moved, timeout=30, message="the RPC and the event delivery counted")
    # no mentor fits (this platform has none): the case is flagged, the moderators' e-mail queued
    eventually(
        lambda: (
            value(scrape(metrics_port)[0], "mentor_emails_total", outcome="queued")
            > value(before, "mentor_emails_total", outcome="queued")
        ),
        timeout=30,
        message="the moderators' e-mail counted as queued",
    )
    database = test_env.database_url("cases").rsplit("/", 1)[1]
    lag = dict(service="cases", source="cases", database=database)
    assert ("mentor_relay_lag_events", frozenset(lag.items())) in after  # the cases relay is watched
    eventually(
        lambda: value(scrape(metrics_port)[0], "mentor_relay_lag_events", **lag) == 0,
        timeout=30,
        message="the cases relay caught up",
    )


def test_a_relay_that_does_not_publish_shows_its_lag_growing(start_service, metrics_port, test_env):
    url = test_env.database_url("metrics_stalled_matching")
    start_service(MatchingService, DATABASE_URL=url, RELAY_ENABLED="false")
    store = PostgresStore(url, 1)
    try:
        with store.transaction() as cur:
            outbox.append(
                cur,
                "matching",
                "MentorsMatched",
                str(uuid.uuid4()),
                {"case_id": str(uuid.uuid4()), "round": 1, "proposals": []},
            )
    finally:
        store.close()
    lag = dict(service="matching", source="matching", database=url.rsplit("/", 1)[1])
    first, _ = scrape(metrics_port)
    assert value(first, "mentor_relay_lag_events", **lag) == 1
    waited = value(first, "mentor_relay_lag_seconds", **lag)
    eventually(
        lambda: value(scrape(metrics_port)[0], "mentor_relay_lag_seconds", **lag) > waited + 1,
        timeout=10,
        message="the lag's age grows",
    )


def test_unreadable_messages_are_counted_as_parked(metrics_port, test_env):
    queue = "matching.case-events"
    before, _ = scrape(metrics_port)
    with Connection(test_env.amqp_uri) as conn:
        producer = Producer(conn.channel())
        exchange = Exchange("cases.events", type="topic", durable=True)
        producer.publish(
            b"{not json",
            exchange=exchange,
            routing_key="CaseCreated",
            content_type="application/json",
            content_encoding="utf-8",
        )
        producer.publish(
            json.dumps({"type": "CaseCreated", "schema_version": 99}),
            exchange=exchange,
            routing_key="CaseCreated",
            content_type="application/json",
        )

    def counted():
        after, _ = scrape(metrics_port)
        return value(after, "mentor_consumer_parked_total", queue="(not JSON)", reason="unreadable") > value(
            before, "mentor_consumer_parked_total", queue="(not JSON)", reason="unreadable"
        ) and value(after, "mentor_consumer_parked_total", queue=queue, reason="unreadable") > value(
            before, "mentor_consumer_parked_total", queue=queue, reason="unreadable"
        )

    try:
        eventually(
            counted,
            timeout=30,
            message="both parked messages counted",
            explain=lambda: f"{queue} holds {queue_depth(test_env.amqp_uri, queue)} messages",
        )
    finally:
        purge(test_env.amqp_uri, queue + ".parked")  # the session's other tests read parked queues


def test_a_message_failing_at_its_last_delivery_is_counted_as_parked_once(metrics_port, test_env):
    """The broker parks a message that failed DELIVERY_LIMIT + 1 times; the consumer counts it at that
    last failure (x-delivery-count), not at the earlier ones: every message parked since the queue was
    emptied is counted once (other modules' events can fail here too: each of them as well)."""
    queue = "cases.matching-events"
    parked = dict(queue=queue, reason="delivery_limit")
    purge(test_env.amqp_uri, queue + ".parked")
    before, _ = scrape(metrics_port)
    missing_case = str(uuid.uuid4())  # the cases service cannot record proposals for a case it lacks
    poisoned = envelope(
        "MentorsMatched", missing_case, {"case_id": missing_case, "round": 1, "proposals": []}, source="matching"
    )
    with Connection(test_env.amqp_uri) as conn:
        Producer(conn.channel()).publish(
            json.dumps(poisoned),
            exchange=Exchange("matching.events", type="topic", durable=True),
            routing_key="MentorsMatched",
            content_type="application/json",
        )
    try:
        eventually(
            lambda: poisoned["event_id"] in parked_event_ids(test_env.amqp_uri, queue + ".parked"),
            timeout=60,
            message="the poison parked by the broker",
        )

        def counted_once_each():
            after, _ = scrape(metrics_port)
            increase = value(after, "mentor_consumer_parked_total", **parked) - value(
                before, "mentor_consumer_parked_total", **parked
            )
            return increase == queue_depth(test_env.amqp_uri, queue + ".parked") and after

        after = eventually(counted_once_each, timeout=30, message="each parked message counted once")
        assert (
            value(after, "mentor_consumer_redeliveries_total", queue=queue)
            >= value(before, "mentor_consumer_redeliveries_total", queue=queue) + DELIVERY_LIMIT
        )
    finally:
        purge(test_env.amqp_uri, queue + ".parked")


def parked_event_ids(amqp_uri, queue):
    """The event ids of the messages parked in ``queue``, read without taking them."""
    ids = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while True:
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            ids.append(json.loads(message.body).get("event_id"))
        channel.close()  # unacked: every message goes back to the queue
    return ids
