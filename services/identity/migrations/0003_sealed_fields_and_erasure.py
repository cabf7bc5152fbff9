"""Crypto-shredding (services/common/shredding.py, services/identity/sealing.py): the persons' keys; the
e-mail's keyed blind index, by which sign-in and uniqueness go once the e-mail is sealed (NULL on rows written
before sealing, until the data pass seals them, and on erased accounts; a legacy row is found by its plain
e-mail meanwhile, the partial index); an erased account keeps its id, role and dates (other services'
references still resolve) and cannot sign in; who erased whom, when and why (ids and the reason only).
Each ALTER of the busy users table is a step of its own."""

from yoyo import step

__depends__: set[str] = set()

steps = [
    step("""
CREATE TABLE IF NOT EXISTS person_keys (
    person_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
)
"""),
    step("""
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_index text
"""),
    step("""
CREATE UNIQUE INDEX IF NOT EXISTS users_email_index_key ON users (email_index)
"""),
    step("""
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key
"""),
    step("""
CREATE INDEX IF NOT EXISTS users_legacy_email_idx ON users (email) WHERE email_index IS NULL
"""),
    step("""
ALTER TABLE users ADD COLUMN IF NOT EXISTS erased_at timestamptz
"""),
    step("""
CREATE TABLE IF NOT EXISTS person_erasures (
    person_id uuid PRIMARY KEY,
    requested_by text NOT NULL CHECK (requested_by IN ('self', 'moderator')),
    moderator_id uuid,
    reason text NOT NULL DEFAULT '',
    erased_at timestamptz NOT NULL DEFAULT now()
)
"""),
]
