"""Matching's schema as the platform's code of December 2026 made it at every start (processed events, the outbox, the read model, the relay's position, the replay guard's accepted_jtis), every
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
    # services.common.schema.OUTBOX
    step("""
CREATE TABLE IF NOT EXISTS outbox (
    position bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    envelope jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""),
    # services.common.schema.RELAY_POSITION
    step("""
CREATE TABLE IF NOT EXISTS relay_position (
    relay text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""),
    # services.matching.readmodel.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS mentors (
        mentor_id text PRIMARY KEY,
        rubrics text[] NOT NULL,
        accepting_cases boolean NOT NULL,
        source_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
ALTER TABLE mentors ADD COLUMN IF NOT EXISTS accredited boolean NOT NULL DEFAULT false
"""),
    step("""
ALTER TABLE mentors ADD COLUMN IF NOT EXISTS capacity integer NOT NULL DEFAULT 3
"""),
    step("""
ALTER TABLE mentors ADD COLUMN IF NOT EXISTS away_periods jsonb NOT NULL DEFAULT '[]'
"""),
    step("""
ALTER TABLE mentors ADD COLUMN IF NOT EXISTS away datemultirange NOT NULL DEFAULT '{}'
"""),
    step("""
CREATE INDEX IF NOT EXISTS mentors_rubrics ON mentors USING gin (rubrics)
"""),
    step("""
CREATE TABLE IF NOT EXISTS proposals (
        case_id text NOT NULL,
        round integer NOT NULL,
        rubrics text[] NOT NULL,
        proposals jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (case_id, round)
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS cases (
        case_id text PRIMARY KEY,
        rubrics text[],
        rubrics_position bigint NOT NULL DEFAULT 0,
        released_position bigint NOT NULL DEFAULT 0
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS assignments (
        case_id text NOT NULL,
        mentor_id text NOT NULL,
        round integer,
        chosen_at timestamptz,
        chosen_position bigint,
        outcome text,
        outcome_at timestamptz,
        outcome_position bigint,
        response_seconds double precision,
        open boolean NOT NULL DEFAULT false,
        PRIMARY KEY (case_id, mentor_id)
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS assignments_mentor ON assignments (mentor_id)
"""),
    step("""
CREATE INDEX IF NOT EXISTS proposals_mentors ON proposals USING gin (proposals jsonb_path_ops)
"""),
    step("""
CREATE TABLE IF NOT EXISTS mentor_stats (
        mentor_id text PRIMARY KEY,
        open_cases integer NOT NULL DEFAULT 0,
        responses integer NOT NULL DEFAULT 0,
        median_response_seconds double precision
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
