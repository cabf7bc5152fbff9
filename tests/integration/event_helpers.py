"""Hand-made integration events on the real broker, as a source service would publish them.

Consumers under test run with ``max_workers=1``: a queue then hands out one message at a
time (prefetch = max_workers) and acks it only after its handler returned, so once a later
"sentinel" event on the same queue is processed, every earlier copy has been handled too.
"""

from contextlib import contextmanager

import psycopg2
from kombu import Connection, Producer

from contracts.envelope import Envelope
from contracts.events import dump_payload
from contracts.topology import declare_topology, events_exchange


class Broker:
    def __init__(self, channel):
        self.channel = channel
        self.producer = Producer(channel)

    def publish(self, body, times=1):
        for _ in range(times):
            self.producer.publish(
                body,
                exchange=events_exchange(body["source"]),
                routing_key=body["type"],
                serializer="json",
                delivery_mode=2,
            )


def open_broker(amqp_uri):
    """A publisher that waits for the broker's confirm of each message, as the relays do: RabbitMQ 3.10
    measurably dropped unconfirmed publishes to a quorum queue whose consumer was requeueing a poison
    message (a test's missing events, not the platform's)."""
    conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
    channel = conn.channel()
    declare_topology(channel)
    return conn, Broker(channel)


def publish_all(amqp_uri, bodies):
    """Publish the events at once, confirmed, as their source would."""
    conn, broker = open_broker(amqp_uri)
    try:
        for body in bodies:
            broker.publish(body)
    finally:
        conn.release()


def envelope(event_type, aggregate_id, payload, source="cases", position=1):
    version, data = dump_payload(event_type, payload)
    return Envelope(
        type=event_type,
        source=source,
        aggregate_id=str(aggregate_id),
        payload=data,
        schema_version=version,
        position=position,
    ).to_message()


def count(db, service, query, *args):
    with db(service).cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()[0]


def processed(db, service, body):
    return count(db, service, "SELECT count(*) FROM processed_events WHERE event_id = %s", body["event_id"])


def give_up_emails(test_env, recipient=None):
    """Mark pending e-mails failed (only ``recipient``'s if given): a burst leaves thousands of rows for
    people identity never knew, and every later module's notifications sender, sharing the session's
    database, would spend its RPC timeouts on them before reaching its own test's e-mails."""
    conn = psycopg2.connect(test_env.database_url("notifications"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "UPDATE email_outbox SET status = 'failed', last_error = 'test burst' "
                "WHERE status = 'pending' AND (%(recipient)s::text IS NULL OR recipient = %(recipient)s)",
                {"recipient": recipient},
            )
    finally:
        conn.close()


def purge(amqp_uri, *queues):
    """Empty consumer queues before a module's consumer starts: other modules' services stop with
    events still queued (the queues outlive them), and those would leak into this module's state."""
    with Connection(amqp_uri) as conn:
        declare_topology(conn.default_channel)
        for queue in queues:
            conn.default_channel.queue_purge(queue)


@contextmanager
def consumer_under_test(start_module_service, test_env, service_cls, **config):
    """Start ``service_cls`` taking one message at a time (see above) and yield a Broker to feed it."""
    start_module_service(service_cls, max_workers=1, **config)
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        yield broker
    finally:
        conn.release()
