"""Notifications' schema as the platform's code of December 2026 made it at every start (processed events, services/notifications/schema.py, the replay guard's accepted_jtis), every
statement in the order that code ran it; the first step of the history (services/common/migrations.py).

Every statement is idempotent, so on a database that code made this step changes nothing, and on a new
database it makes the same schema. Frozen: a change of the schema is a new numbered step, never an edit here.
Each statement's comment names the constant that held it in that code (commit 2087f25; those modules no longer
hold DDL).
"""

from yoyo import step

__depends__: set[str] = set()

steps = [
    # services.common.schema.PROCESSED_EVENTS
    step("""
CREATE TABLE IF NOT EXISTS processed_events (
    event_id uuid PRIMARY KEY,
    consumer text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
)
"""),
    # services.notifications.schema.INBOX
    step("""
CREATE TABLE IF NOT EXISTS inbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id text NOT NULL,  -- a user id, or '@moderators' for an entry every moderator sees
    kind text NOT NULL,
    case_id text,
    case_number text,
    text text NOT NULL,
    source_event_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,  -- personal entries; shared ones keep their read state in inbox_reads
    UNIQUE (source_event_id, user_id)
)
"""),
    # services.notifications.schema.INBOX_COLUMNS
    step("""
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS peer_id text
"""),
    step("""
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS calendar_event_id text
"""),
    step("""
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS news_item_id text
"""),
    # services.notifications.schema.INBOX_INDEX
    step("""
CREATE INDEX IF NOT EXISTS inbox_user ON inbox (user_id, created_at DESC)
"""),
    # services.notifications.schema.INBOX_UNREAD_INDEX
    step("""
CREATE INDEX IF NOT EXISTS inbox_unread ON inbox (user_id) WHERE read_at IS NULL
"""),
    # services.notifications.schema.INBOX_READS
    # Each moderator's read state of the entries addressed to every moderator.
    step("""
CREATE TABLE IF NOT EXISTS inbox_reads (
    entry_id uuid NOT NULL REFERENCES inbox (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, user_id)
)
"""),
    # services.notifications.schema.EMAIL_OUTBOX
    # One e-mail per (event, recipient), written with the inbox entry; the sender retries with backoff.
    step("""
CREATE TABLE IF NOT EXISTS email_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_event_id uuid NOT NULL,
    recipient text NOT NULL,  -- a user id, or '@moderators': fanned out to each moderator when sent
    kind text NOT NULL,
    text text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'fanned_out')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    UNIQUE (source_event_id, recipient)
)
"""),
    # services.notifications.schema.EMAIL_DUE_INDEX
    step("""
CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending'
"""),
    # services.notifications.schema.PREFERENCES
    step("""
CREATE TABLE IF NOT EXISTS notification_preferences (
    user_id text NOT NULL,
    kind text NOT NULL,
    email boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind)
)
"""),
    # services.notifications.schema.DIRECT_MESSAGES
    step("""
CREATE TABLE IF NOT EXISTS direct_messages (
    id uuid PRIMARY KEY,
    sender_id text NOT NULL,
    recipient_id text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at timestamptz
)
"""),
    # services.notifications.schema.DIRECT_MESSAGES_INDEXES
    step("""
CREATE INDEX IF NOT EXISTS direct_messages_sent ON direct_messages (sender_id, recipient_id, created_at DESC)
"""),
    step("""
CREATE INDEX IF NOT EXISTS direct_messages_received ON direct_messages (recipient_id, sender_id, created_at DESC)
"""),
    # services.notifications.schema.CALENDAR_EVENTS
    step("""
CREATE TABLE IF NOT EXISTS calendar_events (
    id uuid PRIMARY KEY,
    author_id text NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    format text NOT NULL CHECK (format IN ('online', 'offline')),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz CHECK (ends_at > starts_at),
    link text,
    place text,
    rubrics text[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason text,
    cancelled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (format <> 'online' OR link IS NOT NULL),
    CHECK (format <> 'offline' OR place IS NOT NULL)
)
"""),
    # services.notifications.schema.CALENDAR_INDEXES
    step("""
CREATE INDEX IF NOT EXISTS calendar_events_starts ON calendar_events (starts_at)
"""),
    step("""
CREATE INDEX IF NOT EXISTS calendar_events_rubrics ON calendar_events USING gin (rubrics)
"""),
    # services.notifications.schema.CALENDAR_ATTENDANCE
    step("""
CREATE TABLE IF NOT EXISTS calendar_attendance (
    event_id uuid NOT NULL REFERENCES calendar_events (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
)
"""),
    # services.notifications.schema.NEWS_ITEMS
    # News items (services/notifications/news.py): the current state, every version, who subscribed.
    step("""
CREATE TABLE IF NOT EXISTS news_items (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    text text NOT NULL,
    rubrics text[] NOT NULL DEFAULT '{}',
    meeting_link text,
    publish_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    version integer NOT NULL DEFAULT 1,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    withdraw_reason text,
    notified_at timestamptz  -- when its subscribers were told (once; never for a withdrawn item)
)
"""),
    # services.notifications.schema.NEWS_INDEXES
    step("""
CREATE INDEX IF NOT EXISTS news_items_newest ON news_items (publish_at DESC, id DESC)
"""),
    step("""
CREATE INDEX IF NOT EXISTS news_items_undelivered ON news_items (publish_at) WHERE status = 'active' AND notified_at IS NULL
"""),
    # services.notifications.schema.NEWS_VERSIONS
    # Append-only: one row per create, edit and withdrawal, each a whole copy of the item as it then was.
    step("""
CREATE TABLE IF NOT EXISTS news_versions (
    item_id uuid NOT NULL REFERENCES news_items (id),
    version integer NOT NULL,
    change text NOT NULL CHECK (change IN ('created', 'edited', 'withdrawn')),
    title text NOT NULL,
    text text NOT NULL,
    rubrics text[] NOT NULL,
    meeting_link text,
    publish_at timestamptz NOT NULL,
    reason text,
    editor_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, version)
)
"""),
    # services.notifications.schema.NEWS_SUBSCRIPTIONS
    step("""
CREATE TABLE IF NOT EXISTS news_subscriptions (
    user_id text PRIMARY KEY,
    subscribed boolean NOT NULL,
    rubrics text[] NOT NULL DEFAULT '{}',  -- rubrics of interest; empty: every item
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""),
    # services.common.actors.ACCEPTED_JTIS
    step("""
CREATE TABLE IF NOT EXISTS accepted_jtis (
    jti text PRIMARY KEY,
    expires_at timestamptz NOT NULL
)
"""),
    # services.common.actors.ACCEPTED_JTIS_EXPIRY_INDEX
    step("""
CREATE INDEX IF NOT EXISTS accepted_jtis_expiry_idx ON accepted_jtis (expires_at)
"""),
]
