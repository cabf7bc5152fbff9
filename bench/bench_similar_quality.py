"""Which text similarity finds the right solved case for a new one? Prints hits, asserts nothing.

    .venv/bin/python bench/bench_similar_quality.py [--postgres postgresql://postgres@127.0.0.1:5432]

Twelve hand-written solved cases on six topics (each topic once in Russian, once in English)
go into the scratch database ``mentor_bench_similar`` (created, then dropped) with the library's
own schema; twelve new cases, paraphrased (other words, other grammatical forms), ask for
similar ones. Compared, without rubrics (text alone):

- the library's method (services/library/similar.py ``find``): an OR query of the new case's
  stemmed words, ranked by ``ts_rank`` over the stored vectors;
- pg_trgm ``similarity(essence || question, new text)`` and ``word_similarity``.

Printed per method: how often the first answer has the right topic (hit@1) and the mean
reciprocal rank of the first right answer (MRR). A paraphrase in the other language cannot be
found by either (no translation): the same-language case is the one to find.
"""
import argparse
import os
import sys
import uuid

import psycopg2
import psycopg2.extras
from psycopg2.extras import Json

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402
from services.common.db import PostgresStore  # noqa: E402
from services.library import similar  # noqa: E402
from services.library.tables import SCHEMA  # noqa: E402

BENCH_DB = "mentor_bench_similar"
CASES = [
    ("bullying", "Одноклассники травят ученика 6 класса в общем чате, пишут оскорбления и выкладывают фото.",
     "Как остановить травлю в чате?"),
    ("bullying", "A group of girls in my 8th form bullies a new pupil online and excludes her from group work.",
     "How do I stop the bullying?"),
    ("homework", "Ученики 7 класса перестали делать домашние задания после каникул.",
     "Как вернуть мотивацию к домашней работе?"),
    ("homework", "My 9th formers never hand in homework and say it is pointless.", "How do I make homework meaningful?"),
    ("parents", "Родители пишут мне в мессенджер ночью и требуют исправить оценки ребёнку.",
     "Как выстроить границы в общении с родителями?"),
    ("parents", "A mother complains to the head about every grade her son gets and calls me at night.",
     "How do I set boundaries with parents?"),
    ("law", "Администрация требует, чтобы я вёл дополнительные занятия бесплатно, без приказа.",
     "Законно ли это по Трудовому кодексу?"),
    ("law", "The school asks me to work extra hours without a contract amendment.", "Is that legal under the labour code?"),
    ("burnout", "Я чувствую выгорание, не сплю, на уроках срываюсь на учеников.",
     "Как восстановить силы и не уйти из профессии?"),
    ("burnout", "After the first year I feel exhausted and burned out, I cry after lessons.", "How do I recover my energy?"),
    ("digital", "Не получается провести урок в формате перевёрнутого класса, ученики не смотрят видео дома.",
     "Как организовать перевёрнутый класс?"),
    ("digital", "Online lessons fail: pupils switch off cameras and do not answer in the digital platform.",
     "How do I engage pupils in online lessons?"),
]
QUERIES = [
    ("bullying", "В моём классе ученика травят одноклассники, в чате оскорбления. Что делать с травлей?"),
    ("bullying", "Pupils bully a classmate in the class chat and post insulting photos."),
    ("homework", "Дети не выполняют домашнюю работу и говорят, что задания бессмысленны."),
    ("homework", "Students stopped doing homework after the holidays."),
    ("parents", "Мама ученика звонит поздно вечером и требует поставить другую оценку."),
    ("parents", "Parents send me messages at night demanding better grades."),
    ("law", "Директор заставляет работать сверхурочно без дополнительного соглашения, это законно?"),
    ("law", "I am made to teach extra lessons for free without any order. Is it legal?"),
    ("burnout", "Постоянная усталость, выгорание, хочу уволиться после первого года."),
    ("burnout", "I am exhausted and think of leaving teaching, I have no energy."),
    ("digital", "Ученики не смотрят видео к уроку, перевёрнутый класс не работает."),
    ("digital", "My flipped classroom does not work, pupils ignore the videos at home."),
]


def fill(url):
    store = PostgresStore(url, 1)
    store.migrate(SCHEMA)
    topics = {}
    with store.transaction() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for topic, essence, question in CASES:
            entry = uuid.uuid4()
            topics[str(entry)] = topic
            cur.execute("INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty, "
                        "question, participants, solutions, problem_solved) VALUES (%s, 'solved_case', "
                        "'{education-law}', 'urgent', %s, '', '', %s, '{}', %s, 'yes')",
                        (entry, essence, question, Json([])))
    store.close()
    return topics


def ranked_ids(cur, method, text):
    if method == "library: OR query + ts_rank":
        return [f["id"] for f in similar.find(cur, text, [], len(CASES))]
    expression = {"pg_trgm similarity": "similarity(essence || ' ' || question, %s)",
                  "pg_trgm word_similarity": "word_similarity(%s, essence || ' ' || question)"}[method]
    cur.execute(f"SELECT id::text FROM library_entries ORDER BY {expression} DESC, id", (text,))
    return [r["id"] for r in cur.fetchall()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    admin, url = fresh_database(args.postgres, BENCH_DB, f"{len(CASES)} cases, {len(QUERIES)} new cases")
    try:
        topics = fill(url)
        conn = psycopg2.connect(url)
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        print(f"\n{'method':30} {'hit@1':>7} {'MRR':>6}")
        for method in ("library: OR query + ts_rank", "pg_trgm similarity", "pg_trgm word_similarity"):
            hits, reciprocal = 0, 0.0
            for topic, text in QUERIES:
                ranked = [topics[i] for i in ranked_ids(cur, method, text)]
                hits += bool(ranked) and ranked[0] == topic
                reciprocal += next((1 / (n + 1) for n, t in enumerate(ranked) if t == topic), 0.0)
            print(f"{method:30} {hits:3d}/{len(QUERIES):<3d} {reciprocal / len(QUERIES):6.2f}")
        conn.close()
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
