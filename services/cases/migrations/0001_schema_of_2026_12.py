"""Cases's schema as the platform's code of December 2026 made it at every start (the case index, standing, mentor quality and question suggestions, the relay's position, the replay guard's accepted_jtis; eventsourcing creates its own event table), every
statement in the order that code ran it; the first step of the history (services/common/migrations.py).

Every statement is idempotent, so on a database that code made this step changes nothing, and on a new
database it makes the same schema. Frozen: a change of the schema is a new numbered step, never an edit here.
Each statement's comment names the constant that held it in that code (commit 2087f25; those modules no longer
hold DDL).
"""

from yoyo import step

__depends__: set[str] = set()

steps = [
    # services.cases.index.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS case_index (
        case_id uuid PRIMARY KEY,
        number text NOT NULL UNIQUE,
        author_id text NOT NULL,
        mentor_id text,
        state text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    )
"""),
    step("""
ALTER TABLE case_index ADD COLUMN IF NOT EXISTS participant_ids text[] NOT NULL DEFAULT '{}'
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_author ON case_index (author_id)
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_participants ON case_index USING gin (participant_ids)
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_mentor ON case_index (mentor_id)
"""),
    step("""
ALTER TABLE case_index ADD COLUMN IF NOT EXISTS flag_reason text
"""),
    step("""
ALTER TABLE case_index ADD COLUMN IF NOT EXISTS chosen_at timestamptz
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_flagged ON case_index (updated_at) WHERE flag_reason IS NOT NULL
"""),
    step("""
DROP INDEX IF EXISTS case_index_overdue
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_awaiting_proposals ON case_index (updated_at) WHERE state = 'awaiting_proposals' AND flag_reason IS NULL
"""),
    step("""
CREATE SEQUENCE IF NOT EXISTS case_number_seq
"""),
    step("""
CREATE TABLE IF NOT EXISTS relay_position (
    relay text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""),
    step("""
INSERT INTO relay_position (relay) VALUES ('case-index') ON CONFLICT DO NOTHING
"""),
    step("""
DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = 'case_index'
                         AND column_name = 'first_response_at') THEN
            ALTER TABLE case_index ADD COLUMN IF NOT EXISTS response_chosen_at timestamptz,
                                   ADD COLUMN IF NOT EXISTS first_response_at timestamptz;
            UPDATE relay_position SET position = 0 WHERE relay = 'case-index';
        END IF;
    END $$
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_created ON case_index (created_at)
"""),
    step("""
ALTER TABLE case_index ADD COLUMN IF NOT EXISTS waiting_since timestamptz
"""),
    step("""
ALTER TABLE case_index ADD COLUMN IF NOT EXISTS reminders_sent integer NOT NULL DEFAULT 0
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_waiting ON case_index (coalesce(waiting_since, updated_at)) WHERE state IN ('choosing_mentor', 'awaiting_acceptance', 'in_progress', 'awaiting_answers', 'awaiting_decision', 'solution_proposed')
"""),
    step("""
DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = 'case_index'
                         AND column_name = 'turn_since') THEN
            ALTER TABLE case_index ADD COLUMN IF NOT EXISTS excerpt text NOT NULL DEFAULT '',
                                   ADD COLUMN IF NOT EXISTS mode text,
                                   ADD COLUMN IF NOT EXISTS turn text,
                                   ADD COLUMN IF NOT EXISTS collective boolean NOT NULL DEFAULT false,
                                   ADD COLUMN IF NOT EXISTS public boolean NOT NULL DEFAULT false,
                                   ADD COLUMN IF NOT EXISTS second_opinion boolean NOT NULL DEFAULT false,
                                   ADD COLUMN IF NOT EXISTS declines integer NOT NULL DEFAULT 0,
                                   ADD COLUMN IF NOT EXISTS clarifying_questions integer NOT NULL DEFAULT 0,
                                   ADD COLUMN IF NOT EXISTS developing_questions integer NOT NULL DEFAULT 0,
                                   ADD COLUMN IF NOT EXISTS turn_since timestamptz;
            UPDATE relay_position SET position = 0 WHERE relay = 'case-index';
        END IF;
    END $$
"""),
    step("""
CREATE INDEX IF NOT EXISTS case_index_page ON case_index (updated_at DESC, case_id DESC)
"""),
    # services.cases.standing.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS mentor_standing (
        mentor_id text PRIMARY KEY,
        suspended boolean NOT NULL,
        source_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    # services.cases.mentor_quality.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS mentor_engagements (
        case_id uuid NOT NULL,
        seq integer NOT NULL,
        mentor_id text NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (case_id, seq)
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS mentor_engagements_mentor ON mentor_engagements (mentor_id)
"""),
    step("""
INSERT INTO relay_position (relay) VALUES ('mentor-engagements') ON CONFLICT DO NOTHING
"""),
    # services.cases.question_suggestions.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS question_pool_cases (
        case_id uuid PRIMARY KEY,
        rubrics text[] NOT NULL,
        lexemes text[] NOT NULL,
        problem_solved text NOT NULL,
        publishes boolean NOT NULL,
        completed_at timestamptz NOT NULL
    )
"""),
    step("""
ALTER TABLE question_pool_cases ADD COLUMN IF NOT EXISTS search tsvector NOT NULL DEFAULT ''
"""),
    step("""
CREATE INDEX IF NOT EXISTS question_pool_cases_search ON question_pool_cases USING gin (search)
"""),
    step("""
CREATE TABLE IF NOT EXISTS question_pool_questions (
        case_id uuid NOT NULL,
        seq integer NOT NULL,
        key text NOT NULL,
        text text NOT NULL,
        kind text NOT NULL,
        bank_id text,
        redefined boolean NOT NULL,
        PRIMARY KEY (case_id, seq)
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS question_pool_lexemes (lexeme text PRIMARY KEY, cases integer NOT NULL)
"""),
    step("""
CREATE TABLE IF NOT EXISTS question_suggestion_uses (
        question_id text PRIMARY KEY,
        case_id uuid NOT NULL,
        source text NOT NULL,
        use text NOT NULL,
        asked_at timestamptz
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS question_suggestion_uses_case ON question_suggestion_uses (case_id)
"""),
    step("""
INSERT INTO relay_position (relay) VALUES ('question-pool') ON CONFLICT DO NOTHING
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
