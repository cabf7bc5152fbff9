"""The library's tables: idempotent DDL run at every start (services/common/db.py ``migrate``).

Search: each item table keeps a stored, generated ``search`` tsvector with a GIN index.
PostgreSQL's ``russian`` configuration stems Cyrillic words with the Russian Snowball stemmer
and ASCII words with the English one (``\\dF+ russian``: asciiword -> english_stem), so one
vector makes Russian and English text both findable, each word in any grammatical form; a
second, ``english`` vector would index the Latin words twice and the Cyrillic ones not at all.
Weights: A the essence and question of a case (a material's title), B the solutions (a
material's description), C the rest (actions taken, difficulty, clarifications; a reference).

Review (services/library/review.py): a consenting completion or a forum publication is first a row of
``publication_drafts`` (the original, while it waits, beside the impersonal draft a moderator edits);
only a decision, written to the library's outbox as ``PublicationDecided`` (its own log, which the rebuild
replays), puts it into the item and forum tables.

The outcome columns (``problem_solved``, ``helpfulness``) and ``author_id`` serve similar cases
(services/library/similar.py); ``author_id`` never leaves the service.

Curation (services/library/curation.py) is the library's own data, not derived from any
event: ``edited_*`` and ``withdrawn_*`` columns on the items, materials added by moderators
(``origin = 'moderator'``), hidden forum posts, and the journal ``library_moderation``.
"""

from services.common.schema import CONSUMER_TABLES, PERSON_KEYS_TABLES, PUBLISHER_TABLES

TS_CONFIG = "russian"

_CURATION_COLUMNS = (
    "edited_at timestamptz",
    "edited_by text",
    "withdrawn_at timestamptz",
    "withdrawn_by text",
    "withdrawn_reason text",
)
_HIDING_COLUMNS = ("hidden_at timestamptz", "hidden_by text", "hidden_reason text")


def _add_columns(table, columns):
    return f"ALTER TABLE {table} " + ", ".join(f"ADD COLUMN IF NOT EXISTS {c}" for c in columns)


SCHEMA = (
    CONSUMER_TABLES
    + PUBLISHER_TABLES
    + (
        """CREATE TABLE IF NOT EXISTS library_entries (
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
    )""",
        "CREATE INDEX IF NOT EXISTS library_entries_rubrics ON library_entries USING gin (rubrics)",
        "ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS clarifications jsonb NOT NULL DEFAULT '[]'",
        _add_columns("library_entries", _CURATION_COLUMNS),
        f"""ALTER TABLE library_entries ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{TS_CONFIG}', essence || ' ' || question), 'A') ||
        setweight(to_tsvector('{TS_CONFIG}', solutions), 'B') ||
        setweight(to_tsvector('{TS_CONFIG}', actions_taken || ' ' || difficulty), 'C') ||
        setweight(to_tsvector('{TS_CONFIG}', jsonb_path_query_array(clarifications, '$[*].question')), 'C') ||
        setweight(to_tsvector('{TS_CONFIG}', jsonb_path_query_array(clarifications, '$[*].answer')), 'C')
    ) STORED""",
        "CREATE INDEX IF NOT EXISTS library_entries_search ON library_entries USING gin (search)",
        # The vector stays in the row (storage MAIN: the text columns are compressed or moved to TOAST
        # first): a search tests and ranks it without a TOAST lookup per row. Catalog only; rows
        # written before keep their TOASTed vector until rewritten (VACUUM FULL, or any update).
        "ALTER TABLE library_entries ALTER COLUMN search SET STORAGE MAIN",
        "CREATE INDEX IF NOT EXISTS library_entries_recent ON library_entries (published_at DESC, id DESC) "
        "WHERE withdrawn_at IS NULL",
        # Type-2 materials: articles, books, links; from solutions (origin 'solution', entry_id the
        # solved case they were attached to) or added by a moderator (origin 'moderator').
        f"""CREATE TABLE IF NOT EXISTS library_materials (
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
        {", ".join(_CURATION_COLUMNS)},
        search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{TS_CONFIG}', title), 'A') ||
            setweight(to_tsvector('{TS_CONFIG}', description), 'B') ||
            setweight(to_tsvector('{TS_CONFIG}', reference), 'C')
        ) STORED
    )""",
        "CREATE INDEX IF NOT EXISTS library_materials_rubrics ON library_materials USING gin (rubrics)",
        "CREATE INDEX IF NOT EXISTS library_materials_search ON library_materials USING gin (search)",
        "ALTER TABLE library_materials ALTER COLUMN search SET STORAGE MAIN",
        "CREATE INDEX IF NOT EXISTS library_materials_recent ON library_materials (published_at DESC, id DESC) "
        "WHERE withdrawn_at IS NULL",
        "CREATE INDEX IF NOT EXISTS library_materials_entry ON library_materials (entry_id)",
        # What worked (similar.py ranks it first): an entry's problem_solved and its solutions' mean
        # helpfulness; a material from a solution carries its case's problem_solved and that solution's
        # helpfulness (null for a moderator's). ``author_id``: the case's author, only to keep their own
        # items out of their suggestions; never selected into a view (items.py).
        _add_columns("library_entries", ("helpfulness real", "author_id text")),
        _add_columns("library_materials", ("problem_solved text", "helpfulness real", "author_id text")),
        """CREATE TABLE IF NOT EXISTS library_moderation (
        id bigserial PRIMARY KEY,
        item_id uuid NOT NULL,
        item_table text NOT NULL,
        action text NOT NULL,
        moderator_id text NOT NULL,
        reason text NOT NULL DEFAULT '',
        changes jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now()
    )""",
        "CREATE INDEX IF NOT EXISTS library_moderation_item ON library_moderation (item_id, id)",
        """CREATE TABLE IF NOT EXISTS forum_threads (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        rubrics text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
        "CREATE INDEX IF NOT EXISTS forum_threads_rubrics ON forum_threads USING gin (rubrics)",
        "CREATE INDEX IF NOT EXISTS forum_threads_updated ON forum_threads (updated_at DESC)",
        """CREATE TABLE IF NOT EXISTS forum_posts (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES forum_threads (id),
        essence text NOT NULL,
        question text NOT NULL,
        rubrics text[] NOT NULL,
        urgency text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
        "CREATE INDEX IF NOT EXISTS forum_posts_thread ON forum_posts (thread_id, created_at)",
        _add_columns("forum_posts", _HIDING_COLUMNS),
        # What signed-in people write in a thread: their own words, kept as written, with the author
        # (for moderation; shown only as a role and a per-thread pseudonym).
        f"""CREATE TABLE IF NOT EXISTS forum_messages (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES forum_threads (id),
        author_id text NOT NULL,
        author_role text NOT NULL,
        text text NOT NULL,
        reply_to uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        {", ".join(_HIDING_COLUMNS)}
    )""",
        "CREATE INDEX IF NOT EXISTS forum_messages_thread ON forum_messages (thread_id, created_at)",
        # Drafts waiting for (or decided by) a moderator: services/library/review.py. ``original`` holds the
        # author's text only while the draft waits; a decision empties it (the published text is ``draft``).
        """CREATE TABLE IF NOT EXISTS publication_drafts (
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
    )""",
        "CREATE INDEX IF NOT EXISTS publication_drafts_state ON publication_drafts (state, created_at)",
        "CREATE INDEX IF NOT EXISTS publication_drafts_author ON publication_drafts (author_id, created_at)",
        "CREATE INDEX IF NOT EXISTS publication_drafts_case ON publication_drafts (case_id)",
        # Surveys (services/library/surveys.py): the definition; each survey's stream of answers (facts, no
        # person, no time); who answered (no answer); the running results; moderators' setting; mentors'
        # rubrics and accreditation from identity's MentorProfileUpdated, for the audience.
        """CREATE TABLE IF NOT EXISTS surveys (
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
    )""",
        "CREATE INDEX IF NOT EXISTS surveys_unannounced ON surveys (opens_at) WHERE announced_at IS NULL",
        """CREATE TABLE IF NOT EXISTS survey_answers (
        survey_id uuid NOT NULL REFERENCES surveys (id),
        seq integer NOT NULL,
        answers jsonb NOT NULL,
        PRIMARY KEY (survey_id, seq)
    )""",
        """CREATE TABLE IF NOT EXISTS survey_respondents (
        survey_id uuid NOT NULL REFERENCES surveys (id),
        user_id text NOT NULL,
        PRIMARY KEY (survey_id, user_id)
    )""",
        """CREATE TABLE IF NOT EXISTS survey_results (
        survey_id uuid PRIMARY KEY REFERENCES surveys (id),
        results jsonb NOT NULL
    )""",
        """CREATE TABLE IF NOT EXISTS survey_settings (
        name text PRIMARY KEY,
        value jsonb NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
    )""",
        """CREATE TABLE IF NOT EXISTS survey_mentors (
        mentor_id text PRIMARY KEY,
        accredited boolean NOT NULL,
        rubrics text[] NOT NULL,
        source_position bigint NOT NULL
    )""",
    )
    + PERSON_KEYS_TABLES
)
