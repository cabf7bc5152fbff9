"""An event consumer entrypoint: one queue per subscription, read envelopes, park poison.

- the queue and its bindings come from contracts.topology (declared identically by relays);
- a message that is not a readable envelope (not even JSON, see ParkingQueueConsumer) is logged
  and rejected straight to ``.parked``;
- a handler that raises because of the message is requeued; after DELIVERY_LIMIT deliveries the
  broker parks it;
- a handler that raises because a dependency is down (its database, a service it calls:
  services/common/outage.py) is not the message's fault: see "Outages" below;
- the message is acked only after the handler returned, i.e. after its transaction committed.
Handlers make themselves idempotent with ``first_delivery`` inside their own transaction.
A pure projection can take its events in batches instead: services/common/batch_consumer.py.

Outages. The queues are quorum queues with ``x-delivery-limit``, and RabbitMQ 3.x increments a
message's delivery count on *every* return to the queue: a requeue (basic.nack/reject), and also
its consumer's channel closing with the message unacked. So a message requeued while the database
is down spends a delivery per attempt, and an immediate requeue is redelivered at once: a 15 s
outage spent all five in milliseconds and parked every event (issue #18). Requeueing with a delay
does not exist in AMQP 0-9-1, and republishing a fresh copy (count 0) would need a publisher with
confirms in every consumer, reorder the queue, and briefly hold two copies.

Instead such a message is HELD: kept unacked in this process, neither acked nor requeued, so the
broker counts nothing (a delivery is counted only when the message goes back to the queue). While
the outage lasts the subscriber takes no more messages: every message the broker hands over is held
too, unhandled, and as held messages stay unacked the broker stops sending once the prefetch is
reached. After a backoff (exponential with jitter from OUTAGE_BACKOFF_INITIAL_SECONDS, 0.5 s,
doubling up to OUTAGE_BACKOFF_MAX_SECONDS, 30 s) the first held message is tried again, alone: this
trial is the probe, and it exercises exactly the dependency that failed (the database, or a service
called over RPC), with no second code path to keep in step with the handler. If the trial fails for
the same reason, it is held again and the next backoff is longer; any other outcome (success, or a
failure of the message itself, requeued and counted as usual) ends the outage, and every held
message is handled. No operator action, no restart.

One message could look like an outage by itself: one whose handling loses the database connection
(a statement that makes the server end its session, or run out of memory) while the database is
fine. Held as an outage, it would stop its queue for good. So after a trial fails on its database
connection, the database is asked directly (``PostgresStore.ping``: a new connection, 2 s); when
it answered BLAME_AFTER times in a row, the trial message is deemed the cause: requeued, counted,
parked in the end like any poison, and the outage ends. An RPC'd service being down is never
blamed on the message (nothing tells the two apart as reliably).

Limits, on purpose: held messages are bounded by the prefetch; a service stopped during an outage
requeues what it holds (one delivery each, as a crash would); RabbitMQ closes a channel that keeps
a message unacked longer than its ``consumer_timeout`` (30 min by default), which returns the
messages (one delivery each) - an outage of hours can still park events, an operator's concern then.
"""

import time
from collections import deque
from functools import partial

import eventlet
from eventlet.event import Event
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from contracts.envelope import UnreadableEnvelope, read_envelope
from contracts.topology import DELIVERY_LIMIT, SUBSCRIPTIONS_BY_QUEUE, consumer_queue
from services.common import metrics
from services.common.db import Database
from services.common.logs import get_logger
from services.common.outage import Backoff, database_caused, describe, is_dependency_outage

log = get_logger()

BLAME_AFTER = 3  # failed trials while the database itself answers: the message is the cause
UNDECODED_QUEUE = "(not JSON)"  # the metrics' queue label of a body kombu could not decode: it names no queue


class ParkingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except that a body kombu cannot decode (not JSON, or a content type
    not accepted) is parked like any unreadable envelope: kombu's default acks it, i.e. drops it."""

    def on_decode_error(self, message, exc):
        log.error(
            "envelope_rejected",
            routing_key=message.delivery_info.get("routing_key"),
            reason="message body is not JSON",
            content_type=message.content_type,
            error=repr(exc)[:300],
            body=repr(message.body)[:500],
        )
        message.reject(requeue=False)  # dead-lettered to <queue>.parked
        metrics.message_parked(UNDECODED_QUEUE, "unreadable")


class Outage:
    """One outage as a subscriber lives it: the messages held meanwhile, the backoff, the trial."""

    def __init__(self, backoff):
        self.backoff = backoff
        self.held = deque()  # [(envelope, message)], in delivery order
        self.since = time.monotonic()
        self.trials = 0
        self.trial = None  # the (envelope, message) being tried now
        self.trial_outcome = None  # an Event: None if the trial ended the outage, else its exception
        self.blamed = 0  # trials in a row that lost the database while the database answered


class EventSubscriber(Consumer):
    queue_consumer = ParkingQueueConsumer()

    def __init__(self, queue_name, **kwargs):
        self.subscription = SUBSCRIPTIONS_BY_QUEUE[queue_name]
        super().__init__(queue=consumer_queue(self.subscription), requeue_on_error=True, **kwargs)

    def setup(self):
        super().setup()
        self._outage = None
        self._stopping = False

    def stop(self):
        """The broker sends no more; what an outage holds goes back to the queue (see the module's
        docstring: one delivery each, as if this process had crashed)."""
        self._stopping = True
        super().stop()
        self._requeue_held()

    def read_or_park(self, body, message):
        """The message's envelope, or None after parking an unreadable one (never retried)."""
        metrics.message_delivered(self.subscription.queue, message)
        try:
            envelope = read_envelope(body)
            if envelope.type not in self.subscription.event_types:
                raise UnreadableEnvelope(f"event type {envelope.type} is not consumed by this queue")
        except UnreadableEnvelope as exc:
            log.error(
                "envelope_rejected",
                queue=self.subscription.queue,
                reason=exc.reason,
                errors=exc.errors,
                body=repr(body)[:500],
            )
            message.reject(requeue=False)  # dead-lettered to <queue>.parked
            metrics.message_parked(self.subscription.queue, "unreadable")
            return None
        return envelope

    def handle_message(self, body, message):
        envelope = self.read_or_park(body, message)
        if envelope is None:
            return
        if self._outage is not None:  # takes no more messages while its dependency is down
            self._outage.held.append((envelope, message))
            return
        self._run([(envelope, message)])

    def _run(self, items):
        """Handle one event in a worker (a batching subscriber: a batch)."""
        ((envelope, message),) = items
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = envelope.correlation_id or context_data.get("correlation_id")
        try:
            self.container.spawn_worker(
                self, (envelope,), {}, context_data=context_data, handle_result=partial(self._handled, items)
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def _handled(self, items, worker_ctx, result=None, exc_info=None):
        if exc_info is not None and is_dependency_outage(exc_info[1]):
            self._hold(items, exc_info[1])
        else:
            self.handle_message_processed(items[0][1], result, exc_info)
            self._trial_ended(items)
        return result, exc_info

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            log.warning(
                "event_handler_failed",
                queue=self.subscription.queue,
                error=repr(exc_info[1]),
                redelivered=message.delivery_info.get("redelivered"),
            )
            metrics.message_failed(self.subscription.queue, message, DELIVERY_LIMIT)
        super().handle_message_processed(message, result, exc_info)

    # ---- outages (see the module's docstring) ----------------------------------------------

    def _hold(self, items, exc):
        """Keep the messages unacked, uncounted; the first failure opens the outage."""
        if self._stopping:
            for _, message in items:
                self.queue_consumer.requeue_message(message)
            return
        outage = self._outage
        if outage is None:
            outage = self._outage = Outage(Backoff.from_config(self.container.config))
            log.warning("dependency_unavailable", queue=self.subscription.queue, error=describe(exc))
            self.container.spawn_managed_thread(
                partial(self._recover, outage), identifier=f"{self.subscription.queue}.recover"
            )
        if outage.trial is not None and len(items) == 1 and items[0] is outage.trial:
            outage.held.appendleft(outage.trial)  # still down: first in line for the next trial
            outage.trial = None
            outage.trial_outcome.send(exc)
        else:
            outage.held.extend(items)

    def _trial_ended(self, items):
        outage = self._outage
        if outage is not None and outage.trial is not None and len(items) == 1 and items[0] is outage.trial:
            outage.trial = None
            outage.trial_outcome.send(None)

    def _recover(self, outage):
        """After each backoff, try the first held message alone; once it no longer fails for the
        outage, handle everything held."""
        while True:
            eventlet.sleep(outage.backoff.next_delay())
            if self._stopping or self._outage is not outage:
                return
            if not outage.held:  # nothing to try with (all requeued): nothing left to wait for
                break
            outage.trial = outage.held.popleft()
            outage.trial_outcome = Event()
            outage.trials += 1
            self._run([outage.trial])
            failure = outage.trial_outcome.wait()
            if failure is None:
                break
            if self._blames_the_message(outage, failure):
                break
            log.info(
                "dependency_still_unavailable",
                queue=self.subscription.queue,
                trials=outage.trials,
                held=len(outage.held),
                seconds=round(time.monotonic() - outage.since, 1),
            )
        self._outage = None
        held = [(envelope, message) for envelope, message in outage.held if message.channel.connection]
        returned = len(outage.held) - len(held)  # the broker took those back when the connection dropped
        outage.held.clear()
        log.info(
            "dependency_recovered",
            queue=self.subscription.queue,
            trials=outage.trials,
            held=len(held),
            returned_by_broker=returned,
            seconds=round(time.monotonic() - outage.since, 1),
        )
        self._release(held)

    def _blames_the_message(self, outage, failure):
        """After a failed trial: True (the trial message requeued, counted) when it lost its database
        connection BLAME_AFTER times in a row while the database itself answered each time."""
        if self._stopping or not database_caused(failure) or not self._database_answers():
            outage.blamed = 0
            return False
        outage.blamed += 1
        if outage.blamed < BLAME_AFTER or not outage.held:
            return False
        envelope, message = outage.held.popleft()  # the trial, put back first in line
        log.error(
            "event_breaks_its_database_connection",
            queue=self.subscription.queue,
            event_id=str(envelope.event_id),
            event_type=envelope.type,
            trials=outage.blamed,
            error=describe(failure),
        )
        self.queue_consumer.requeue_message(message)  # counted: parked after DELIVERY_LIMIT
        metrics.message_failed(self.subscription.queue, message, DELIVERY_LIMIT)
        return True

    def _database_answers(self):
        """The service's own database takes a new connection and answers (its Database providers)."""
        stores = [d.store for d in self.container.dependencies if isinstance(d, Database) and d.store is not None]
        if not stores:
            return False
        try:
            return all(store.ping() for store in stores)
        except Exception:  # unavailable, or any other failure: not known to be up
            return False

    def _release(self, items):
        """The held messages after an outage, in their order (a new outage holds the rest again)."""
        for item in items:
            if self._outage is not None:
                self._outage.held.append(item)
            else:
                self._run([item])

    def _requeue_held(self):
        outage = self._outage
        if outage is None:
            return
        held = list(outage.held)
        outage.held.clear()
        for _, message in held:
            self.queue_consumer.requeue_message(message)
        if held:
            log.info("held_events_requeued", queue=self.subscription.queue, count=len(held))


subscribe = EventSubscriber.decorator


def first_delivery(cur, envelope, consumer):
    """Record the event as processed in the caller's transaction; False if it already was."""
    cur.execute(
        "INSERT INTO processed_events (event_id, consumer) VALUES (%s, %s) ON CONFLICT (event_id) DO NOTHING",
        (envelope.event_id, consumer),
    )
    return cur.rowcount == 1
