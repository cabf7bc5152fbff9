"""Which part of a pipelined batch the broker has confirmed, and so which log position is safe to record.

The relay publishes a whole batch on a channel in confirm mode without waiting, then collects the
broker's acks and nacks (each for one delivery tag, or with ``multiple`` for every tag up to it).
The position it may record is the one just before the first message not acked: everything before
it is in the broker, everything from it on is published again after a restart (at-least-once).
Pure bookkeeping, no I/O: the relay feeds it tags, tests feed it any order.
"""


class ConfirmTracker:
    """Delivery tags of one channel mapped to log positions, settled by acks and nacks."""

    def __init__(self):
        self._pending = {}  # delivery tag -> position, in publish order
        self._next_tag = 1  # RabbitMQ numbers a confirm channel's publishes 1, 2, 3, ...
        self._acked_through = 0  # every tag <= this was acked ("multiple" acks)
        self._acked = set()  # single acks beyond _acked_through
        self.nacked = set()

    def published(self, position):
        """Record the next publish on the channel; returns its delivery tag."""
        tag = self._next_tag
        self._next_tag += 1
        self._pending[tag] = position
        return tag

    def ack(self, delivery_tag, multiple=False):
        if multiple:
            self._acked_through = max(self._acked_through, delivery_tag)
            self._acked = {tag for tag in self._acked if tag > self._acked_through}
        elif delivery_tag > self._acked_through:
            self._acked.add(delivery_tag)

    def nack(self, delivery_tag, multiple=False):
        if multiple:
            self.nacked.update(tag for tag in self._pending if tag <= delivery_tag and not self._is_acked(tag))
        else:
            self.nacked.add(delivery_tag)

    def _is_acked(self, tag):
        return tag <= self._acked_through or tag in self._acked

    @property
    def settled(self):
        """True when the broker answered for every publish of the batch (ack or nack)."""
        if self._acked_through >= self._next_tag - 1:  # the usual case: one "multiple" ack covers all
            return True
        return all(self._is_acked(tag) or tag in self.nacked for tag in self._pending)

    def first_unconfirmed(self):
        """Position of the first publish (in order) not acked, or None if all were acked."""
        for tag, position in self._pending.items():
            if tag in self.nacked or not self._is_acked(tag):
                return position
        return None

    def reset_batch(self):
        """Forget the settled batch; tags keep counting on the same channel."""
        self._pending.clear()
        self.nacked.clear()
