"""A transactional outbox for services that are not event-sourced (identity, matching).

An event is written in the same transaction as the state change it reports; the relay
publishes it later. Writers take a transaction-scoped advisory lock so positions commit
in order and the relay never skips a row that commits late.
"""

import json

from contracts.envelope import Envelope
from contracts.events import dump_payload
from services.common.logs import current_correlation_id
from services.common.relay import Outgoing


def append(cur, source, event_type, aggregate_id, payload):
    version, data = dump_payload(event_type, payload)
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('outbox'))")
    envelope = Envelope(
        type=event_type,
        source=source,
        aggregate_id=str(aggregate_id),
        payload=data,
        schema_version=version,
        correlation_id=current_correlation_id(),
    )
    cur.execute(
        "INSERT INTO outbox (event_id, envelope) VALUES (%s, %s) RETURNING position",
        (envelope.event_id, json.dumps(envelope.to_message())),
    )
    return cur.fetchone()["position"]


class OutboxReader:
    """Reads the outbox after a position, for the relay."""

    def __init__(self, source):
        self.source = source

    def setup(self, container, store):
        self.store = store

    def read(self, after, limit):
        with self.store.transaction() as cur:
            cur.execute(
                "SELECT position, envelope->>'type' AS type, envelope->>'event_id' AS event_id, "
                "coalesce(envelope->>'correlation_id', '') AS correlation_id, "
                "(envelope || jsonb_build_object('position', position))::text AS body "
                "FROM outbox WHERE position > %s ORDER BY position LIMIT %s",
                (after, limit),
            )
            rows = cur.fetchall()
        messages = [Outgoing(**row) for row in rows]
        last = rows[-1]["position"] if rows else after
        return last, messages

    def backlog(self, after):
        """(rows after ``after``, the oldest one's created_at or None)."""
        with self.store.transaction() as cur:
            cur.execute("SELECT count(*) AS count, min(created_at) AS oldest FROM outbox WHERE position > %s", (after,))
            row = cur.fetchone()
        return row["count"], row["oldest"]
