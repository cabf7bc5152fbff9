"""The library's schema as the platform's code of December 2026 made it at every start (processed events, the outbox, services/library/tables.py, the relay's position, the replay guard's accepted_jtis), every
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
    # services.library.tables.SCHEMA
    step("""
CREATE TABLE IF NOT EXISTS library_entries (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        essence text NOT NULL,
        actions_taken text NOT NULL,
        difficulty text NOT NULL,
        question text NOT NULL,
        participants text[] NOT NULL,
        solutions jsonb NOT NULL,
        problem_solved text NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_entries_rubrics ON library_entries USING gin (rubrics)
"""),
    step("""
ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS clarifications jsonb NOT NULL DEFAULT '[]'
"""),
    step("""
ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS edited_at timestamptz, ADD COLUMN IF NOT EXISTS edited_by text, ADD COLUMN IF NOT EXISTS withdrawn_at timestamptz, ADD COLUMN IF NOT EXISTS withdrawn_by text, ADD COLUMN IF NOT EXISTS withdrawn_reason text
"""),
    step("""
ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('russian', essence || ' ' || question), 'A') ||
        setweight(to_tsvector('russian', solutions), 'B') ||
        setweight(to_tsvector('russian', actions_taken || ' ' || difficulty), 'C') ||
        setweight(to_tsvector('russian', jsonb_path_query_array(clarifications, '$[*].question')), 'C') ||
        setweight(to_tsvector('russian', jsonb_path_query_array(clarifications, '$[*].answer')), 'C')
    ) STORED
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_entries_search ON library_entries USING gin (search)
"""),
    step("""
ALTER TABLE library_entries ALTER COLUMN search SET STORAGE MAIN
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_entries_recent ON library_entries (published_at DESC, id DESC) WHERE withdrawn_at IS NULL
"""),
    step("""
CREATE TABLE IF NOT EXISTS library_materials (
        id uuid PRIMARY KEY,
        material_type text NOT NULL,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        url text,
        reference text NOT NULL DEFAULT '',
        rubrics text[] NOT NULL,
        entry_id uuid REFERENCES library_entries (id),
        origin text NOT NULL,
        added_by text,
        published_at timestamptz NOT NULL DEFAULT now(),
        edited_at timestamptz, edited_by text, withdrawn_at timestamptz, withdrawn_by text, withdrawn_reason text,
        search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('russian', title), 'A') ||
            setweight(to_tsvector('russian', description), 'B') ||
            setweight(to_tsvector('russian', reference), 'C')
        ) STORED
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_materials_rubrics ON library_materials USING gin (rubrics)
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_materials_search ON library_materials USING gin (search)
"""),
    step("""
ALTER TABLE library_materials ALTER COLUMN search SET STORAGE MAIN
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_materials_recent ON library_materials (published_at DESC, id DESC) WHERE withdrawn_at IS NULL
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_materials_entry ON library_materials (entry_id)
"""),
    step("""
ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS helpfulness real, ADD COLUMN IF NOT EXISTS author_id text
"""),
    step("""
ALTER TABLE library_materials ADD COLUMN IF NOT EXISTS problem_solved text, ADD COLUMN IF NOT EXISTS helpfulness real, ADD COLUMN IF NOT EXISTS author_id text
"""),
    step("""
CREATE TABLE IF NOT EXISTS library_moderation (
        id bigserial PRIMARY KEY,
        item_id uuid NOT NULL,
        item_table text NOT NULL,
        action text NOT NULL,
        moderator_id text NOT NULL,
        reason text NOT NULL DEFAULT '',
        changes jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS library_moderation_item ON library_moderation (item_id, id)
"""),
    step("""
CREATE TABLE IF NOT EXISTS forum_threads (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        rubrics text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS forum_threads_rubrics ON forum_threads USING gin (rubrics)
"""),
    step("""
CREATE INDEX IF NOT EXISTS forum_threads_updated ON forum_threads (updated_at DESC)
"""),
    step("""
CREATE TABLE IF NOT EXISTS forum_posts (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES forum_threads (id),
        essence text NOT NULL,
        question text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS forum_posts_thread ON forum_posts (thread_id, created_at)
"""),
    step("""
ALTER TABLE forum_posts ADD COLUMN IF NOT EXISTS hidden_at timestamptz, ADD COLUMN IF NOT EXISTS hidden_by text, ADD COLUMN IF NOT EXISTS hidden_reason text
"""),
    step("""
CREATE TABLE IF NOT EXISTS forum_messages (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES forum_threads (id),
        author_id text NOT NULL,
        author_role text NOT NULL,
        text text NOT NULL,
        reply_to uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        hidden_at timestamptz, hidden_by text, hidden_reason text
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS forum_messages_thread ON forum_messages (thread_id, created_at)
"""),
    step("""
CREATE TABLE IF NOT EXISTS publication_drafts (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        source_event_id uuid NOT NULL,
        case_id text,
        author_id text,
        rubrics text[] NOT NULL,
        original jsonb NOT NULL,
        draft jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        reason text NOT NULL DEFAULT '',
        decided_by text,
        decided_at timestamptz,
        edited_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS publication_drafts_state ON publication_drafts (state, created_at)
"""),
    step("""
CREATE INDEX IF NOT EXISTS publication_drafts_author ON publication_drafts (author_id, created_at)
"""),
    step("""
CREATE INDEX IF NOT EXISTS publication_drafts_case ON publication_drafts (case_id)
"""),
    step("""
CREATE TABLE IF NOT EXISTS surveys (
        id uuid PRIMARY KEY,
        author_id text NOT NULL,
        title text NOT NULL,
        audience text NOT NULL,
        rubrics text[] NOT NULL,
        opens_at timestamptz NOT NULL,
        closes_at timestamptz NOT NULL,
        questions jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        announced_at timestamptz
    )
"""),
    step("""
CREATE INDEX IF NOT EXISTS surveys_unannounced ON surveys (opens_at) WHERE announced_at IS NULL
"""),
    step("""
CREATE TABLE IF NOT EXISTS survey_answers (
        survey_id uuid NOT NULL REFERENCES surveys (id),
        seq integer NOT NULL,
        answers jsonb NOT NULL,
        PRIMARY KEY (survey_id, seq)
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS survey_respondents (
        survey_id uuid NOT NULL REFERENCES surveys (id),
        user_id text NOT NULL,
        PRIMARY KEY (survey_id, user_id)
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS survey_results (
        survey_id uuid PRIMARY KEY REFERENCES surveys (id),
        results jsonb NOT NULL
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS survey_settings (
        name text PRIMARY KEY,
        value jsonb NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
    )
"""),
    step("""
CREATE TABLE IF NOT EXISTS survey_mentors (
        mentor_id text PRIMARY KEY,
        accredited boolean NOT NULL,
        rubrics text[] NOT NULL,
        source_position bigint NOT NULL
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
