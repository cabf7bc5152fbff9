"""The notifications service's tables (idempotent DDL, run at every start).

notifications is the communications service: the inbox, the e-mail outbox and preferences,
direct messages between mentors, the events calendar and the news items live in its one database. E-mail
addresses are never stored here: the sender asks identity for them at send time.
"""

from services.common.schema import CONSUMER_TABLES, PERSON_KEYS_TABLES

INBOX = """
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
)"""

INBOX_COLUMNS = (
    "ALTER TABLE inbox ADD COLUMN IF NOT EXISTS peer_id text",
    "ALTER TABLE inbox ADD COLUMN IF NOT EXISTS calendar_event_id text",
    "ALTER TABLE inbox ADD COLUMN IF NOT EXISTS news_item_id text",
)

INBOX_INDEX = "CREATE INDEX IF NOT EXISTS inbox_user ON inbox (user_id, created_at DESC)"
INBOX_UNREAD_INDEX = "CREATE INDEX IF NOT EXISTS inbox_unread ON inbox (user_id) WHERE read_at IS NULL"

# Each moderator's read state of the entries addressed to every moderator.
INBOX_READS = """
CREATE TABLE IF NOT EXISTS inbox_reads (
    entry_id uuid NOT NULL REFERENCES inbox (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, user_id)
)"""

# One e-mail per (event, recipient), written with the inbox entry; the sender retries with backoff.
EMAIL_OUTBOX = """
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
)"""

EMAIL_DUE_INDEX = (
    "CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending'"
)

PREFERENCES = """
CREATE TABLE IF NOT EXISTS notification_preferences (
    user_id text NOT NULL,
    kind text NOT NULL,
    email boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind)
)"""

DIRECT_MESSAGES = """
CREATE TABLE IF NOT EXISTS direct_messages (
    id uuid PRIMARY KEY,
    sender_id text NOT NULL,
    recipient_id text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at timestamptz
)"""

DIRECT_MESSAGES_INDEXES = (
    "CREATE INDEX IF NOT EXISTS direct_messages_sent ON direct_messages (sender_id, recipient_id, created_at DESC)",
    "CREATE INDEX IF NOT EXISTS direct_messages_received ON direct_messages (recipient_id, sender_id, created_at DESC)",
)

CALENDAR_EVENTS = """
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
)"""

CALENDAR_INDEXES = (
    "CREATE INDEX IF NOT EXISTS calendar_events_starts ON calendar_events (starts_at)",
    "CREATE INDEX IF NOT EXISTS calendar_events_rubrics ON calendar_events USING gin (rubrics)",
)

CALENDAR_ATTENDANCE = """
CREATE TABLE IF NOT EXISTS calendar_attendance (
    event_id uuid NOT NULL REFERENCES calendar_events (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
)"""

# News items (services/notifications/news.py): the current state, every version, who subscribed.
NEWS_ITEMS = """
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
)"""

NEWS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS news_items_newest ON news_items (publish_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS news_items_undelivered ON news_items (publish_at) "
    "WHERE status = 'active' AND notified_at IS NULL",
)

# Append-only: one row per create, edit and withdrawal, each a whole copy of the item as it then was.
NEWS_VERSIONS = """
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
)"""

NEWS_SUBSCRIPTIONS = """
CREATE TABLE IF NOT EXISTS news_subscriptions (
    user_id text PRIMARY KEY,
    subscribed boolean NOT NULL,
    rubrics text[] NOT NULL DEFAULT '{}',  -- rubrics of interest; empty: every item
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

MIGRATIONS = CONSUMER_TABLES + (
    INBOX,
    *INBOX_COLUMNS,
    INBOX_INDEX,
    INBOX_UNREAD_INDEX,
    INBOX_READS,
    EMAIL_OUTBOX,
    EMAIL_DUE_INDEX,
    PREFERENCES,
    DIRECT_MESSAGES,
    *DIRECT_MESSAGES_INDEXES,
    CALENDAR_EVENTS,
    *CALENDAR_INDEXES,
    CALENDAR_ATTENDANCE,
    NEWS_ITEMS,
    *NEWS_INDEXES,
    NEWS_VERSIONS,
    NEWS_SUBSCRIPTIONS,
    *PERSON_KEYS_TABLES,
)
