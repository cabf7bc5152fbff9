"""The identity service's tables (idempotent DDL, run at every start)."""

USERS = """
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('mentee', 'mentor', 'moderator')),
    first_name text NOT NULL,
    last_name text NOT NULL,
    patronymic text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
)"""

MENTOR_PROFILES = """
CREATE TABLE IF NOT EXISTS mentor_profiles (
    mentor_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    rubrics text[] NOT NULL,
    place_of_work text NOT NULL DEFAULT '',
    institute text NOT NULL DEFAULT '',
    position text NOT NULL DEFAULT '',
    interests text NOT NULL DEFAULT '',
    links text[] NOT NULL DEFAULT '{}',
    motto text NOT NULL DEFAULT '',
    accepting_cases boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

MENTOR_PROFILES_RUBRICS_INDEX = """
CREATE INDEX IF NOT EXISTS mentor_profiles_rubrics_idx ON mentor_profiles USING gin (rubrics)"""

MIGRATIONS = (USERS, MENTOR_PROFILES, MENTOR_PROFILES_RUBRICS_INDEX)
