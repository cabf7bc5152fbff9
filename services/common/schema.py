"""DDL shared by every service that consumes or publishes integration events."""

from services.common.shredding import PERSON_KEYS

PROCESSED_EVENTS = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id uuid PRIMARY KEY,
    consumer text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
)"""

OUTBOX = """
CREATE TABLE IF NOT EXISTS outbox (
    position bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    envelope jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""

RELAY_POSITION = """
CREATE TABLE IF NOT EXISTS relay_position (
    relay text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

CONSUMER_TABLES = (PROCESSED_EVENTS,)
PUBLISHER_TABLES = (OUTBOX, RELAY_POSITION)

# Each service's keys of the persons whose fields it seals (services/common/shredding.py): made on first
# use, a tombstone once the person is erased (PersonErased).
PERSON_KEYS_TABLES = (PERSON_KEYS,)
