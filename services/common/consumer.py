"""An event consumer entrypoint: one queue per subscription, read envelopes, park poison.

- the queue and its bindings come from contracts.topology (declared identically by relays);
- a message that is not a readable envelope (not even JSON, see ParkingQueueConsumer) is logged
  and rejected straight to ``.parked``;
- a handler that raises is requeued; after DELIVERY_LIMIT deliveries the broker parks it;
- the message is acked only after the handler returned, i.e. after its transaction committed.
Handlers make themselves idempotent with ``first_delivery`` inside their own transaction.
A pure projection can take its events in batches instead: services/common/batch_consumer.py.
"""
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from contracts.envelope import UnreadableEnvelope, read_envelope
from contracts.topology import SUBSCRIPTIONS_BY_QUEUE, consumer_queue
from services.common.logs import get_logger

log = get_logger()


class ParkingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except that a body kombu cannot decode (not JSON, or a content type
    not accepted) is parked like any unreadable envelope: kombu's default acks it, i.e. drops it."""

    def on_decode_error(self, message, exc):
        log.error("envelope_rejected", routing_key=message.delivery_info.get("routing_key"),
                  reason="message body is not JSON", content_type=message.content_type,
                  error=repr(exc)[:300], body=repr(message.body)[:500])
        message.reject(requeue=False)  # dead-lettered to <queue>.parked


class EventSubscriber(Consumer):
    queue_consumer = ParkingQueueConsumer()

    def __init__(self, queue_name, **kwargs):
        self.subscription = SUBSCRIPTIONS_BY_QUEUE[queue_name]
        super().__init__(queue=consumer_queue(self.subscription), requeue_on_error=True, **kwargs)

    def read_or_park(self, body, message):
        """The message's envelope, or None after parking an unreadable one (never retried)."""
        try:
            envelope = read_envelope(body)
            if envelope.type not in self.subscription.event_types:
                raise UnreadableEnvelope(f"event type {envelope.type} is not consumed by this queue")
        except UnreadableEnvelope as exc:
            log.error("envelope_rejected", queue=self.subscription.queue, reason=exc.reason,
                      errors=exc.errors, body=repr(body)[:500])
            message.reject(requeue=False)  # dead-lettered to <queue>.parked
            return None
        return envelope

    def handle_message(self, body, message):
        envelope = self.read_or_park(body, message)
        if envelope is None:
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = envelope.correlation_id or context_data.get("correlation_id")
        handle_result = lambda worker_ctx, result=None, exc_info=None: self.handle_result(  # noqa: E731
            message, worker_ctx, result, exc_info)
        try:
            self.container.spawn_worker(self, (envelope,), {}, context_data=context_data,
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            log.warning("event_handler_failed", queue=self.subscription.queue,
                        error=repr(exc_info[1]), redelivered=message.delivery_info.get("redelivered"))
        super().handle_message_processed(message, result, exc_info)


subscribe = EventSubscriber.decorator


def first_delivery(cur, envelope, consumer):
    """Record the event as processed in the caller's transaction; False if it already was."""
    cur.execute("INSERT INTO processed_events (event_id, consumer) VALUES (%s, %s) "
                "ON CONFLICT (event_id) DO NOTHING", (envelope.event_id, consumer))
    return cur.rowcount == 1
