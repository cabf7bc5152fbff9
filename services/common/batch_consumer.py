"""A batching event consumer: one worker, one transaction and one tracking insert for many events.

``@subscribe_batch(queue)`` decorates a handler that takes a *list* of envelopes, in delivery order.
The handler writes everything in ONE transaction and records the events with ``first_deliveries``
(one multi-row ``INSERT INTO processed_events``) which returns only the events not processed before,
each once (a duplicate inside the batch is dropped too). Every message of the batch is acked only
after the handler returned, i.e. after the commit.

How messages are grouped (like a group commit): a message that arrives while no batch of this
queue is running starts one at once (after ``EVENT_BATCH_LINGER_MS``, 0 by default), so a quiet
queue adds no latency; messages that arrive while a batch runs wait for it and go together as the
next batch, at most ``EVENT_BATCH_SIZE`` (a full batch starts at once in another worker). The queue's
prefetch (``EVENT_BATCH_PREFETCH``, default 10 x max_workers) bounds how many are held unacked.

The guarantees of ``services.common.consumer.EventSubscriber`` are kept:
- an unreadable envelope is parked at once (never batched, never retried);
- if a batch handler raises, nothing of it was committed; each of its events is then handled
  alone (a batch of one), so a poison event fails alone: it is requeued, and after DELIVERY_LIMIT
  deliveries the broker parks it, while the others are applied and acked;
- a message delivered again (``redelivered``: after a failure, a requeue or a consumer crash) is
  suspect and always handled alone;
- a SIGKILL loses nothing: unacked messages (the running batch and the ones waiting) are redelivered;
- a batch that fails because a dependency is down (the database) is held whole, uncounted, and the
  subscriber takes no more until a trial of one event succeeds (consumer.py, "Outages"); then what
  was held goes on in batches again.
"""

import time
from contextlib import contextmanager
from functools import partial

import eventlet
import structlog
from nameko.exceptions import ContainerBeingKilled

from services.common.consumer import EventSubscriber, ParkingQueueConsumer
from services.common.logs import current_correlation_id, get_logger, set_correlation_id
from services.common.outage import is_dependency_outage

log = get_logger()

DEFAULT_BATCH_SIZE = 100
DEFAULT_PREFETCH_PER_WORKER = 10


class BatchingQueueConsumer(ParkingQueueConsumer):
    """Its own connection and channel (a separate shared extension), with a larger prefetch: one
    worker handles a whole batch, so the unacked messages are no longer bounded by max_workers."""

    @property
    def prefetch_count(self):
        config = self.container.config
        return int(config.get("EVENT_BATCH_PREFETCH") or DEFAULT_PREFETCH_PER_WORKER * self.container.max_workers)

    def handle_message(self, provider, body, message):
        """In the consumer's own thread (nameko starts a thread per message): a batching entrypoint
        only reads the envelope and queues it, and never waits (workers start from threads of their own)."""
        provider.handle_message(body, message)


class BatchEventSubscriber(EventSubscriber):
    queue_consumer = BatchingQueueConsumer()

    def setup(self):
        super().setup()
        config = self.container.config
        self.batch_size = max(1, int(config.get("EVENT_BATCH_SIZE") or DEFAULT_BATCH_SIZE))
        self.linger = float(config.get("EVENT_BATCH_LINGER_MS") or 0) / 1000.0
        self._pending = []  # [(envelope, message)] waiting for the next batch
        self._running = 0  # batches of this queue in workers now
        self._timer = None
        self._stopping = False

    def stop(self):
        self._stopping = True
        super().stop()  # the broker sends no more; then what is waiting gets a worker now, before
        batch, self._pending = self._pending, []  # the container waits for its workers
        if batch:
            self._running += 1
            self._spawn(batch)

    # ---- grouping -----------------------------------------------------------------------

    def handle_message(self, body, message):
        envelope = self.read_or_park(body, message)
        if envelope is None:
            return
        if self._outage is not None:  # takes no more messages while its dependency is down
            self._outage.held.append((envelope, message))
            return
        if message.delivery_info.get("redelivered") or self._stopping:
            self._start([(envelope, message)])
            return
        self._pending.append((envelope, message))
        if len(self._pending) >= self.batch_size:
            self._dispatch()
        elif self._running == 0:
            if not self.linger:
                self._dispatch()
            elif self._timer is None:
                self._timer = self.container.spawn_managed_thread(self._linger_then_dispatch)

    def _linger_then_dispatch(self):
        eventlet.sleep(self.linger)
        self._timer = None
        if self._running == 0:
            self._dispatch()

    def _dispatch(self):
        batch, self._pending = self._pending, []
        if not batch:
            return
        if self._outage is not None:  # what waited for the batch that met the outage waits with it
            self._outage.held.extend(batch)
            return
        self._start(batch)

    def _run(self, items):
        """A trial after an outage, or one held event (consumer.py): a batch of its own."""
        self._start(items)

    def _release(self, items):
        """What an outage held, in batches again (a new outage holds the rest again)."""
        for offset in range(0, len(items), self.batch_size):
            chunk = items[offset : offset + self.batch_size]
            if self._outage is not None:
                self._outage.held.extend(chunk)
            else:
                self._start(chunk)

    def _start(self, batch):
        """Never waits: the batch counts as running at once, its worker starts from a new thread."""
        self._running += 1
        self.container.spawn_managed_thread(partial(self._spawn, batch))

    def _spawn(self, batch):
        """One worker for the batch; waits while every worker is busy (the next batch grows)."""
        first_message = batch[0][1]
        context_data = self.unpack_message_headers(first_message)
        if len(batch) == 1:
            context_data["correlation_id"] = batch[0][0].correlation_id or context_data.get("correlation_id")
        else:
            context_data.pop("correlation_id", None)  # a batch's own id; each event binds its own
        try:
            self.container.spawn_worker(
                self,
                ([envelope for envelope, _ in batch],),
                {},
                context_data=context_data,
                handle_result=partial(self._batch_result, batch, time.monotonic()),
            )
        except ContainerBeingKilled:
            self._running -= 1
            for _, message in batch:
                self.queue_consumer.requeue_message(message)

    def _batch_result(self, batch, started, worker_ctx, result=None, exc_info=None):
        try:
            if exc_info is None:
                for _, message in batch:
                    self.queue_consumer.ack_message(message)
                if len(batch) > 1:
                    log.info(
                        "event_batch_handled",
                        queue=self.subscription.queue,
                        size=len(batch),
                        ms=round((time.monotonic() - started) * 1000, 1),
                    )
                self._trial_ended(batch)
            elif is_dependency_outage(exc_info[1]):  # not the events' fault: held whole, uncounted
                self._hold(batch, exc_info[1])
            elif len(batch) == 1:  # the per-message path: requeued, parked after DELIVERY_LIMIT
                self.handle_message_processed(batch[0][1], result, exc_info)
                self._trial_ended(batch)
            else:  # nothing was committed: each event alone, so that a poison one fails alone
                log.warning(
                    "event_batch_failed",
                    queue=self.subscription.queue,
                    size=len(batch),
                    error=type(exc_info[1]).__name__,
                )
                for item in batch:
                    self._start([item])
        finally:
            self._running -= 1
            if self._pending and self._running == 0:
                self._dispatch()
        return result, exc_info


subscribe_batch = BatchEventSubscriber.decorator


def first_deliveries(cur, envelopes, consumer):
    """Record the events as processed in the caller's transaction with one multi-row INSERT; returns
    the envelopes not processed before, in their order, each event once (later copies dropped)."""
    unique = {}
    for envelope in envelopes:
        unique.setdefault(envelope.event_id, envelope)
    if not unique:
        return []
    # sorted ids: two batches sharing events take their index locks in one order, never a deadlock
    ids = sorted(unique)
    cur.execute(
        "INSERT INTO processed_events (event_id, consumer) "
        "SELECT e, %s FROM unnest(%s::uuid[]) AS e ORDER BY e "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        (consumer, ids),
    )
    fresh = {row["event_id"] if isinstance(row, dict) else row[0] for row in cur.fetchall()}
    return [envelope for event_id, envelope in unique.items() if event_id in fresh]


@contextmanager
def event_context(envelope):
    """Inside a batch handler: log lines name this event and its correlation id, as a handler of
    one event's do (services.common.logs.CorrelationContext binds them for a one-event worker)."""
    previous = current_correlation_id()
    structlog.contextvars.bind_contextvars(event_type=envelope.type, event_id=str(envelope.event_id))
    set_correlation_id(envelope.correlation_id or previous)
    try:
        yield envelope
    finally:
        structlog.contextvars.unbind_contextvars("event_type", "event_id")
        set_correlation_id(previous)
