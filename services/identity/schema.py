"""The identity service's tables (idempotent DDL, run at every start)."""

from services.common.shredding import PERSON_KEYS

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

# The access audit: every confidential read of an author's identity or questionnaire (who read,
# their role, on which case, why, when), for the author to list. Append-only: a trigger refuses
# UPDATE and a direct DELETE (rows go only with the author's account, by the cascade: depth > 1).
# The reader's id is kept even when their account goes (no reference to users).
ACCESS_AUDIT = """
CREATE TABLE IF NOT EXISTS access_audit (
    id bigserial PRIMARY KEY,
    author_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reader_id uuid NOT NULL,
    reader_role text NOT NULL CHECK (reader_role IN ('mentor', 'moderator', 'unknown')),
    case_id text NOT NULL,
    disclosed text[] NOT NULL,
    reason text NOT NULL DEFAULT '',
    read_at timestamptz NOT NULL DEFAULT now(),
    legacy_read_id bigint UNIQUE
)"""

ACCESS_AUDIT_AUTHOR_INDEX = """
CREATE INDEX IF NOT EXISTS access_audit_author_idx ON access_audit (author_id, id DESC)"""

ACCESS_AUDIT_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;  -- the author's account was deleted: their log goes with it
    END IF;
    RAISE EXCEPTION 'access_audit is append-only (% refused)', TG_OP;
END $$"""

ACCESS_AUDIT_APPEND_ONLY_TRIGGER = """
CREATE OR REPLACE TRIGGER access_audit_append_only BEFORE UPDATE OR DELETE ON access_audit
    FOR EACH ROW EXECUTE FUNCTION access_audit_append_only()"""

ACCESS_AUDIT_NO_TRUNCATE_TRIGGER = """
CREATE OR REPLACE TRIGGER access_audit_no_truncate BEFORE TRUNCATE ON access_audit
    FOR EACH STATEMENT EXECUTE FUNCTION access_audit_append_only()"""

# The reads logged before the audit (questionnaire_reads, no longer written) join it once: the
# reader's role from their account when it still exists; the author's own looks are not audited.
ACCESS_AUDIT_FROM_QUESTIONNAIRE_READS = """
INSERT INTO access_audit (author_id, reader_id, reader_role, case_id, disclosed, reason, read_at, legacy_read_id)
SELECT r.author_id, r.reader_id,
       CASE WHEN u.role IN ('mentor', 'moderator') THEN u.role ELSE 'unknown' END,
       r.case_id, ARRAY['identity', 'questionnaire'], '', r.read_at, r.id
FROM questionnaire_reads r LEFT JOIN users u ON u.id = r.reader_id
WHERE r.reader_id <> r.author_id
ON CONFLICT (legacy_read_id) DO NOTHING"""

# One row per sign-in: a token names its session; signing out or a password change revokes it.
SESSIONS = """
CREATE TABLE IF NOT EXISTS sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
)"""

SESSIONS_USER_INDEX = """
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id)"""

# Failed password checks and registrations (the sliding windows of services/identity/throttle.py):
# key is "account:<sha256 of the e-mail>", "account-address:<sha256 of e-mail and ip>",
# "address:<ip>" or "register:<ip>"; rows older than the longest window are pruned.
SIGN_IN_FAILURES = """
CREATE TABLE IF NOT EXISTS sign_in_failures (
    id bigserial PRIMARY KEY,
    key text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
)"""

SIGN_IN_FAILURES_KEY_INDEX = """
CREATE INDEX IF NOT EXISTS sign_in_failures_key_idx ON sign_in_failures (key, at)"""

SIGN_IN_FAILURES_AT_INDEX = """
CREATE INDEX IF NOT EXISTS sign_in_failures_at_idx ON sign_in_failures (at)"""

MENTOR_PHOTOS = """
CREATE TABLE IF NOT EXISTS mentor_photos (
    mentor_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    data bytea NOT NULL,
    etag text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

MENTOR_AVAILABILITY = """
CREATE TABLE IF NOT EXISTS mentor_availability (
    mentor_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    capacity integer NOT NULL CHECK (capacity BETWEEN 0 AND 50),
    away_periods jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

# The roll of mentors: one row per mentor who ever applied (no row: state 'none').
ACCREDITATIONS = """
CREATE TABLE IF NOT EXISTS accreditations (
    mentor_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('pending', 'accredited', 'rejected', 'suspended')),
    reason text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
)"""

ACCREDITATION_APPLICATIONS = """
CREATE TABLE IF NOT EXISTS accreditation_applications (
    id uuid PRIMARY KEY,
    mentor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    experience text NOT NULL,
    motivation text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by uuid,
    reason text
)"""

# At most one application waits per mentor, whatever the races.
ACCREDITATION_APPLICATIONS_PENDING_INDEX = """
CREATE UNIQUE INDEX IF NOT EXISTS accreditation_applications_pending_idx
    ON accreditation_applications (mentor_id) WHERE state = 'pending'"""

ACCREDITATION_APPLICATIONS_STATE_INDEX = """
CREATE INDEX IF NOT EXISTS accreditation_applications_state_idx
    ON accreditation_applications (state, submitted_at)"""

# Every application and decision, in order: the history of the roll.
ACCREDITATION_HISTORY = """
CREATE TABLE IF NOT EXISTS accreditation_history (
    id bigserial PRIMARY KEY,
    mentor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id uuid,
    action text NOT NULL CHECK (action IN ('applied', 'approved', 'rejected', 'suspended', 'reinstated')),
    reason text NOT NULL DEFAULT '',
    actor_id uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
)"""

ACCREDITATION_HISTORY_MENTOR_INDEX = """
CREATE INDEX IF NOT EXISTS accreditation_history_mentor_idx ON accreditation_history (mentor_id, id)"""

# Whether the account's owner proved the e-mail address (the one-time link, or a password reset,
# which also arrives by e-mail). Accounts that existed before verification was introduced are
# taken as verified (the column is added with now() for them), new ones start unverified.
USERS_EMAIL_VERIFIED = """
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz DEFAULT now()"""

USERS_EMAIL_VERIFIED_NO_DEFAULT = """
ALTER TABLE users ALTER COLUMN email_verified_at DROP DEFAULT"""

# One-time links sent by e-mail (services/identity/recovery.py): only the sha256 of a token is
# kept, so neither the database nor its backups hold a usable link.
ACCOUNT_TOKENS = """
CREATE TABLE IF NOT EXISTS account_tokens (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
)"""

ACCOUNT_TOKENS_USER_INDEX = """
CREATE INDEX IF NOT EXISTS account_tokens_user_idx ON account_tokens (user_id, purpose)"""

# Identity's own e-mails about an account (verification and reset links, "someone tried to register
# with your address", "failed sign-ins on your account"), written in the same transaction as the
# token they carry and sent by identity's timer with services/common/mail.py: secrets never travel
# in broker events. The body (which may hold a link) is blanked once the message is sent.
ACCOUNT_EMAIL_OUTBOX = """
CREATE TABLE IF NOT EXISTS account_email_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    recipient text NOT NULL,
    kind text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
)"""

ACCOUNT_EMAIL_OUTBOX_DUE_INDEX = """
CREATE INDEX IF NOT EXISTS account_email_outbox_due ON account_email_outbox (next_attempt_at)
    WHERE status = 'pending'"""

# When the owner was last told of a burst of failed sign-ins (once per burst: not again within the
# sign-in window).
SIGN_IN_ALERTS = """
CREATE TABLE IF NOT EXISTS sign_in_alerts (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    alerted_at timestamptz NOT NULL
)"""

# Reads of personal data by a service as itself (notifications reading an address to send an e-mail,
# services/common/actors.py SYSTEM_CALLERS) are in the author's access log too, as reader_role 'service'.
ACCESS_AUDIT_SERVICE_READERS = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'access_audit_reader_role_with_service') THEN
        ALTER TABLE access_audit DROP CONSTRAINT IF EXISTS access_audit_reader_role_check;
        ALTER TABLE access_audit ADD CONSTRAINT access_audit_reader_role_with_service
            CHECK (reader_role IN ('mentor', 'moderator', 'unknown', 'service'));
    END IF;
END $$"""

# What a gateway loads at start (identity.session_revocations): the revoked sessions not yet expired,
# and the accounts verified within a token's lifetime.
SESSIONS_REVOKED_INDEX = """
CREATE INDEX IF NOT EXISTS sessions_revoked_idx ON sessions (expires_at) WHERE revoked_at IS NOT NULL"""

USERS_EMAIL_VERIFIED_INDEX = """
CREATE INDEX IF NOT EXISTS users_email_verified_at_idx ON users (email_verified_at)"""

# ---- crypto-shredding (services/common/shredding.py, services/identity/sealing.py) -----------------
# The e-mail, names and other personal fields hold sealed text; sign-in and uniqueness go by the
# e-mail's keyed blind index (NULL on rows written before sealing, until the data pass seals them, and on
# erased accounts). Uniqueness moves from the e-mail to its index; a legacy row is found by its plain
# e-mail meanwhile (the partial index).
USERS_EMAIL_INDEX = """
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_index text"""

USERS_EMAIL_INDEX_UNIQUE = """
CREATE UNIQUE INDEX IF NOT EXISTS users_email_index_key ON users (email_index)"""

USERS_EMAIL_NOT_UNIQUE = """
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key"""

USERS_LEGACY_EMAIL_INDEX = """
CREATE INDEX IF NOT EXISTS users_legacy_email_idx ON users (email) WHERE email_index IS NULL"""

# An erased account keeps its id (other services' references still resolve), its role and dates; its
# sealed fields are unreadable (the key is gone) and it cannot sign in.
USERS_ERASED = """
ALTER TABLE users ADD COLUMN IF NOT EXISTS erased_at timestamptz"""

# Who erased whom, when and why (a moderator's written reason: the person's written request, named by
# its reference, never by the person's name). Ids and the reason only: no personal data of the person.
PERSON_ERASURES = """
CREATE TABLE IF NOT EXISTS person_erasures (
    person_id uuid PRIMARY KEY,
    requested_by text NOT NULL CHECK (requested_by IN ('self', 'moderator')),
    moderator_id uuid,
    reason text NOT NULL DEFAULT '',
    erased_at timestamptz NOT NULL DEFAULT now()
)"""

MIGRATIONS = (
    USERS,
    MENTOR_PROFILES,
    MENTOR_PROFILES_RUBRICS_INDEX,
    QUESTIONNAIRES,
    QUESTIONNAIRE_READS,
    QUESTIONNAIRE_READS_AUTHOR_INDEX,
    SESSIONS,
    SESSIONS_USER_INDEX,
    SIGN_IN_FAILURES,
    SIGN_IN_FAILURES_KEY_INDEX,
    SIGN_IN_FAILURES_AT_INDEX,
    MENTOR_PHOTOS,
    MENTOR_AVAILABILITY,
    ACCREDITATIONS,
    ACCREDITATION_APPLICATIONS,
    ACCREDITATION_APPLICATIONS_PENDING_INDEX,
    ACCREDITATION_APPLICATIONS_STATE_INDEX,
    ACCREDITATION_HISTORY,
    ACCREDITATION_HISTORY_MENTOR_INDEX,
    ACCESS_AUDIT,
    ACCESS_AUDIT_AUTHOR_INDEX,
    ACCESS_AUDIT_APPEND_ONLY_FUNCTION,
    ACCESS_AUDIT_APPEND_ONLY_TRIGGER,
    ACCESS_AUDIT_NO_TRUNCATE_TRIGGER,
    ACCESS_AUDIT_FROM_QUESTIONNAIRE_READS,
    USERS_EMAIL_VERIFIED,
    USERS_EMAIL_VERIFIED_NO_DEFAULT,
    ACCOUNT_TOKENS,
    ACCOUNT_TOKENS_USER_INDEX,
    ACCOUNT_EMAIL_OUTBOX,
    ACCOUNT_EMAIL_OUTBOX_DUE_INDEX,
    SIGN_IN_ALERTS,
    ACCESS_AUDIT_SERVICE_READERS,
    SESSIONS_REVOKED_INDEX,
    USERS_EMAIL_VERIFIED_INDEX,
    PERSON_KEYS,
    USERS_EMAIL_INDEX,
    USERS_EMAIL_INDEX_UNIQUE,
    USERS_EMAIL_NOT_UNIQUE,
    USERS_LEGACY_EMAIL_INDEX,
    USERS_ERASED,
    PERSON_ERASURES,
)
