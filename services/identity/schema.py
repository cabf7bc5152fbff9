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

QUESTIONNAIRES = """
CREATE TABLE IF NOT EXISTS questionnaires (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    school text NOT NULL,
    subjects text[] NOT NULL DEFAULT '{}',
    forms_taught integer[] NOT NULL DEFAULT '{}',
    years_of_practice integer NOT NULL CHECK (years_of_practice BETWEEN 0 AND 60),
    graduation_year integer CHECK (graduation_year BETWEEN 1950 AND 2100),
    graduation_institute text NOT NULL DEFAULT '',
    workload_hours_per_week integer CHECK (workload_hours_per_week BETWEEN 0 AND 80),
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

# Who looked at an author's questionnaire (the author card), on which case: kept even when the
# reader's account goes (no reference to users), dropped with the author's.
QUESTIONNAIRE_READS = """
CREATE TABLE IF NOT EXISTS questionnaire_reads (
    id bigserial PRIMARY KEY,
    author_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reader_id uuid NOT NULL,
    case_id text NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now()
)"""

QUESTIONNAIRE_READS_AUTHOR_INDEX = """
CREATE INDEX IF NOT EXISTS questionnaire_reads_author_idx ON questionnaire_reads (author_id, read_at DESC, id DESC)"""

MIGRATIONS = (USERS, MENTOR_PROFILES, MENTOR_PROFILES_RUBRICS_INDEX, QUESTIONNAIRES, QUESTIONNAIRE_READS,
              QUESTIONNAIRE_READS_AUTHOR_INDEX)
