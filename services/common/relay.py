"""The relay: publishes a service's events to RabbitMQ from its own durable log.

It holds a row lock on its position (one relay per source across processes), reads the
log after that position, publishes each event with publisher confirms, and only then
records the new position in the same database. A crash or broker outage anywhere in
between means the batch is published again after restart: at-least-once, never lost;
consumers are idempotent on the envelope's event id.
"""
import threading
import time

import kombu
import structlog
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

from contracts.topology import declare_topology, events_exchange
from services.common.db import PostgresStore, ensure_database
from services.common.logs import configure, get_logger
from services.common.schema import RELAY_POSITION

log = get_logger()


class EventRelay(DependencyProvider):
    """Runs the relay loop in a managed green thread; ``wake()`` shortens the wait after a commit."""

    def __init__(self, source, reader, poll_interval=0.5, batch_size=200):
        self.source = source
        self.reader = reader
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._running = False
        self._wakeup = threading.Event()
        self._connection = None
        self._producer = None

    def setup(self):
        config = self.container.config
        configure(self.source, config.get("LOG_LEVEL", "INFO"))
        self.amqp_uri = config[AMQP_URI_CONFIG_KEY]
        self.poll_interval = float(config.get("RELAY_POLL_INTERVAL", self.poll_interval))
        url = config["DATABASE_URL"]
        ensure_database(url)
        self.store = PostgresStore(url, 2)
        self.store.migrate([RELAY_POSITION])
        with self.store.transaction() as cur:
            cur.execute("INSERT INTO relay_position (relay) VALUES (%s) ON CONFLICT DO NOTHING",
                        (self.source,))
        self.reader.setup(self.container, self.store)

    def start(self):
        if str(self.container.config.get("RELAY_ENABLED", "true")).lower() in ("0", "false", "no"):
            log.warning("relay_disabled", source=self.source)  # events wait in the log until a relay runs
            return
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier=f"relay:{self.source}")

    def stop(self):
        self._running = False
        self._wakeup.set()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.wait()
        self._disconnect()
        self.store.close()

    def kill(self):
        self._running = False
        self._wakeup.set()
        self._disconnect()

    def get_dependency(self, worker_ctx):
        return self

    def wake(self):
        self._wakeup.set()

    def _run(self):
        structlog.contextvars.bind_contextvars(service=self.container.service_name, relay=self.source)
        failures = 0
        while self._running:
            try:
                published = self.pump()
                failures = 0
            except Exception as exc:  # broker or database down: back off, reconnect, go on
                failures += 1
                published = 0
                self._disconnect()
                log.warning("relay_failed", source=self.source, error=repr(exc), attempt=failures)
                time.sleep(min(5.0, 0.2 * 2 ** failures))
            if not published and self._running:
                self._wakeup.wait(self.poll_interval)
                self._wakeup.clear()

    def pump(self):
        """Publish one batch; returns how many events were published."""
        with self.store.transaction() as cur:
            cur.execute("SELECT position FROM relay_position WHERE relay = %s FOR UPDATE SKIP LOCKED",
                        (self.source,))
            row = cur.fetchone()
            if row is None:
                return 0  # another process of this service holds the relay
            last, messages = self.reader.read(row["position"], self.batch_size)
            if messages:
                producer = self._ensure_producer()
                exchange = events_exchange(self.source)
                for message in messages:
                    producer.publish(
                        message, exchange=exchange, routing_key=message["type"],
                        serializer="json", delivery_mode=2, retry=False,
                        headers={"nameko.correlation_id": message.get("correlation_id", "")},
                    )
                    log.info("event_published", event_type=message["type"], position=message["position"],
                             event_id=message["event_id"], correlation_id=message.get("correlation_id"))
            if last != row["position"]:
                cur.execute("UPDATE relay_position SET position = %s, updated_at = now() WHERE relay = %s",
                            (last, self.source))
            return len(messages)

    def _ensure_producer(self):
        if self._producer is None:
            self._connection = kombu.Connection(self.amqp_uri, transport_options={"confirm_publish": True},
                                                connect_timeout=5)
            channel = self._connection.channel()
            declare_topology(channel)  # queues exist before the first publish: nothing is dropped
            self._producer = kombu.Producer(channel)
        return self._producer

    def _disconnect(self):
        self._producer = None
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                pass
            self._connection = None
