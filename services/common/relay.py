"""The relay: publishes a service's events to RabbitMQ from its own durable log.

It holds a row lock on its position (one relay per source across processes), reads a batch
of the log after that position and publishes it pipelined: every message of the batch goes
out on a channel in confirm mode without waiting, then the broker's acks are collected
(``confirms.ConfirmTracker``). Only then does it record the new position, in the same
database: the last position before the first message not confirmed. A crash, a nack or a
broker outage anywhere in between means the rest is published again after restart:
at-least-once, never lost; consumers are idempotent on the envelope's event id.
"""

import socket
import threading
import time
from dataclasses import dataclass

import kombu
import structlog
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

from contracts.topology import declare_topology, events_exchange
from services.common import metrics, migrations
from services.common.confirms import ConfirmTracker
from services.common.db import PostgresStore, ensure_database
from services.common.logs import configure, get_logger

log = get_logger()


@dataclass(frozen=True)
class Outgoing:
    """One envelope for the relay: its JSON body, already serialized by the reader, and what routes and
    logs it (readers serialize once; the outbox hands PostgreSQL's own text of the stored JSON)."""

    position: int
    type: str
    event_id: str
    correlation_id: str
    body: str


class BatchNotConfirmed(Exception):
    """The broker nacked, or did not confirm in time, part of a batch; its position was not recorded."""


class EventRelay(DependencyProvider):
    """Runs the relay loop in a managed green thread; ``wake()`` shortens the wait after a commit.
    ``history``: the service whose numbered schema history holds the relay's tables (its ``relay_position``
    and, for an outbox, ``outbox``), by default the source's own."""

    def __init__(self, source, reader, poll_interval=0.5, batch_size=500, confirm_timeout=10.0, history=None):
        self.source = source
        self.history = history or source
        self.reader = reader
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.confirm_timeout = confirm_timeout
        self._running = False
        self._wakeup = threading.Event()
        self._connection = None
        self._producer = None
        self._confirms = None
        # whether this process held the position at its last attempt: with several replicas of a
        # service, the one publishing now (the lock is taken per batch, so it may move between them)
        self.leading = False

    def setup(self):
        config = self.container.config
        configure(self.source, config.get("LOG_LEVEL", "INFO"))
        self.amqp_uri = config[AMQP_URI_CONFIG_KEY]
        self.poll_interval = float(config.get("RELAY_POLL_INTERVAL", self.poll_interval))
        self.batch_size = int(config.get("RELAY_BATCH_SIZE", self.batch_size))
        self.confirm_timeout = float(config.get("RELAY_CONFIRM_TIMEOUT", self.confirm_timeout))
        url = config["DATABASE_URL"]
        ensure_database(url)
        migrations.prepare(self.container, url, self.history)  # its Database may be set up after it
        self.store = PostgresStore(url, 2)
        with self.store.transaction() as cur:
            cur.execute("INSERT INTO relay_position (relay) VALUES (%s) ON CONFLICT DO NOTHING", (self.source,))
        self.reader.setup(self.container, self.store)

    def start(self):
        # the lag is watched even with the relay disabled: then it only grows, which is worth an alert
        metrics.SCRAPED.add(metrics.SCRAPED.relays, id(self), (self.container.service_name, self))
        if str(self.container.config.get("RELAY_ENABLED", "true")).lower() in ("0", "false", "no"):
            log.warning("relay_disabled", source=self.source)  # events wait in the log until a relay runs
            return
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier=f"relay:{self.source}")

    def backlog(self):
        """(events stored after the recorded position, the time of the oldest or None): the lag
        metrics read it when scraped (services/common/metrics.py)."""
        with self.store.transaction() as cur:
            cur.execute("SELECT position FROM relay_position WHERE relay = %s", (self.source,))
            row = cur.fetchone()
        return self.reader.backlog(row["position"] if row else 0)

    def stop(self):
        metrics.SCRAPED.remove(metrics.SCRAPED.relays, id(self))
        self._running = False
        self._wakeup.set()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.wait()
        self._disconnect()
        self.store.close()

    def kill(self):
        metrics.SCRAPED.remove(metrics.SCRAPED.relays, id(self))
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
                time.sleep(min(5.0, 0.2 * 2**failures))
            if not published and self._running:
                self._wakeup.wait(self.poll_interval)
                self._wakeup.clear()

    def pump(self):
        """Publish one batch; returns how many events were published and confirmed."""
        unconfirmed = None
        with self.store.transaction() as cur:
            cur.execute("SELECT position FROM relay_position WHERE relay = %s FOR UPDATE SKIP LOCKED", (self.source,))
            row = cur.fetchone()
            if row is None:
                self.leading = False
                return 0  # another process of this service holds the relay
            self.leading = True
            last, messages = self.reader.read(row["position"], self.batch_size)
            confirmed = messages
            if messages:
                unconfirmed = self._publish_confirmed(messages)
                if unconfirmed is not None:
                    confirmed = [m for m in messages if m.position < unconfirmed]
                    last = unconfirmed - 1  # everything before it is in the broker or not published at all
            for message in confirmed:
                log.info(
                    "event_published",
                    event_type=message.type,
                    position=message.position,
                    event_id=message.event_id,
                    correlation_id=message.correlation_id,
                )
            metrics.relay_published(self.source, len(confirmed))
            if last != row["position"]:
                # Not waiting for the WAL flush: a position lost in a crash only publishes its events
                # again, and consumers drop what they already handled (the event id).
                cur.execute("SET LOCAL synchronous_commit = off")
                cur.execute(
                    "UPDATE relay_position SET position = %s, updated_at = now() WHERE relay = %s", (last, self.source)
                )
        if unconfirmed is not None:  # the confirmed prefix is recorded; back off and publish the rest again
            raise BatchNotConfirmed(
                f"{self.source}: position {unconfirmed} and later not confirmed "
                f"(nacked: {bool(self._confirms and self._confirms.nacked)})"
            )
        return len(confirmed)

    def _publish_confirmed(self, messages):
        """Publish every message, then wait for the broker's confirms; the first unconfirmed position or None."""
        producer = self._ensure_producer()
        tracker = self._confirms
        tracker.reset_batch()
        exchange = events_exchange(self.source)
        for message in messages:
            producer.publish(
                message.body,
                exchange=exchange,
                routing_key=message.type,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
                headers={"nameko.correlation_id": message.correlation_id},
            )
            tracker.published(message.position)
        deadline = time.monotonic() + self.confirm_timeout
        while not tracker.settled:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except socket.timeout:
                continue
        return tracker.first_unconfirmed()

    def _ensure_producer(self):
        if self._producer is None:
            self._connection = kombu.Connection(self.amqp_uri, connect_timeout=5)
            channel = self._connection.channel()
            declare_topology(channel, self.source)  # its consumers' queues exist before the first publish
            tracker = ConfirmTracker()
            channel.confirm_select()  # publishes are confirmed, but nothing waits for each one
            channel.events["basic_ack"].add(tracker.ack)
            channel.events["basic_nack"].add(tracker.nack)
            self._confirms = tracker
            self._producer = kombu.Producer(channel)
        return self._producer

    def _disconnect(self):
        self._producer = None
        self._confirms = None
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                pass
            self._connection = None
