"""``mentor-research surveys``: every survey answer, for researchers, from the library's database.

One row per answered question of each fact of a survey's stream (``survey_answers``: no person, no
time), with the survey's definition beside it. The survey's author becomes a pseudonym (the same
hmac as ``export``, so it joins with the cases export under the same key), free-text answers are
scrubbed by the anonymizer (or dropped with --drop-text); nothing in the library links an answer to
who gave it, so neither does this. Read-only: one server-side cursor, constant memory.
"""

import sys

COLUMNS = (
    "survey",
    "title",
    "audience",
    "rubrics",
    "opens_at",
    "closes_at",
    "author",
    "answer_seq",
    "question_id",
    "kind",
    "question",
    "answer",
)
PAGE_SIZE = 1000


def survey_rows(facts, pseudonym, drop_text=False, anonymize=None):
    """Rows of ``facts``: (survey row, seq, answers) in order; each answered question a row."""
    if anonymize is None:
        from services.common.anonymizer import scrub as anonymize
    for survey, seq, answers in facts:
        for q in survey["questions"]:
            if q["id"] not in answers:
                continue
            value = answers[q["id"]]
            if q["kind"] == "text":
                if drop_text:
                    continue
                value = anonymize(value)
            yield {
                "survey": survey["id"],
                "title": survey["title"],
                "audience": survey["audience"],
                "rubrics": list(survey["rubrics"]),
                "opens_at": survey["opens_at"].isoformat(),
                "closes_at": survey["closes_at"].isoformat(),
                "author": pseudonym(survey["author_id"]),
                "answer_seq": seq,
                "question_id": q["id"],
                "kind": q["kind"],
                "question": q["text"],
                "answer": value,
            }


def read_facts(conn):
    """(survey, seq, answers) of every survey's stream, surveys by creation, facts by seq."""
    import psycopg2.extras

    surveys = {}
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT id::text, author_id, title, audience, rubrics, opens_at, closes_at, questions FROM surveys")
        surveys = {row["id"]: row for row in cur.fetchall()}
    with conn.cursor(name="survey_facts") as cur:  # server-side: the answers page by page
        cur.itersize = PAGE_SIZE
        cur.execute(
            "SELECT a.survey_id::text, a.seq, a.answers FROM survey_answers a JOIN surveys s "
            "ON s.id = a.survey_id ORDER BY s.created_at, a.survey_id, a.seq"
        )
        for survey_id, seq, answers in cur:
            yield surveys[survey_id], seq, answers


def run(args, stdout, pseudonym):
    import psycopg2

    from research.cli import CliError, write_rows

    try:
        conn = psycopg2.connect(args.library_url)
    except psycopg2.Error as error:
        raise CliError(f"cannot read the library database: {error}".strip(), code=1) from None
    conn.set_session(readonly=True)
    try:
        count = write_rows(
            survey_rows(read_facts(conn), pseudonym, drop_text=args.drop_text),
            args.format,
            args.output,
            stdout,
            COLUMNS,
        )
    finally:
        conn.close()
    print(f"exported {count} survey answers", file=sys.stderr)
    return 0
