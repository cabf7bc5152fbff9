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

Then the labelled set (bench/similar_labelled.py): 96 solved cases on sixteen topics (three Russian,
three English each; topics share rubrics; seeded outcomes and helpfulness) and 68 new cases, 64 on
those topics (paraphrased, with the rubrics a mentee would tick, a quarter with a stray one) and 4 on
topics the library has nothing on. After ``ANALYZE`` (a live library has statistics), each new case
asks for 5 suggestions with its rubrics from today's ranking (bench/baseline_similar.py: text
relative to the best match, no floor, no outcome) and from services/library/similar.py, and prints:

- precision@3: the share of the first three suggestions shown that are on the case's topic
  (a case shown nothing counts apart: "nothing shown"); also strict, over three places;
- nDCG@5 with graded gains (on the topic: 2 if its problem was solved, 1.5 partly, 1 not; else 0),
  the ideal being the topic's six cases best first: rewards relevant and "what worked" first; and
  the same over the cases in the new case's language alone (the other language's are found by
  their rubric only, which the floor does not take for enough: no translation);
- unrelated first: cases whose first suggestion is off their topic (target: none), and of the four
  unanswerable ones, how many were shown anything.

Target: precision@3 >= 0.8 with no unrelated first suggestion; appended to bench/RESULTS.md with
today's figures beside (unless ``--no-record``).
"""

import argparse
import math
import os
import statistics
import sys
import uuid

import psycopg2
import psycopg2.extras
from psycopg2.extras import Json

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import baseline_similar  # noqa: E402  (bench/baseline_similar.py: today's ranking)
import similar_labelled  # noqa: E402
from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402

from services.common import migrations  # noqa: E402
from services.common.db import PostgresStore  # noqa: E402
from services.library import similar  # noqa: E402

BENCH_DB = "mentor_bench_similar"
LABELLED_DB = "mentor_bench_similar_labelled"
CASES = [
    (
        "bullying",
        "Одноклассники травят ученика 6 класса в общем чате, пишут оскорбления и выкладывают фото.",
        "Как остановить травлю в чате?",
    ),
    (
        "bullying",
        "A group of girls in my 8th form bullies a new pupil online and excludes her from group work.",
        "How do I stop the bullying?",
    ),
    (
        "homework",
        "Ученики 7 класса перестали делать домашние задания после каникул.",
        "Как вернуть мотивацию к домашней работе?",
    ),
    (
        "homework",
        "My 9th formers never hand in homework and say it is pointless.",
        "How do I make homework meaningful?",
    ),
    (
        "parents",
        "Родители пишут мне в мессенджер ночью и требуют исправить оценки ребёнку.",
        "Как выстроить границы в общении с родителями?",
    ),
    (
        "parents",
        "A mother complains to the head about every grade her son gets and calls me at night.",
        "How do I set boundaries with parents?",
    ),
    (
        "law",
        "Администрация требует, чтобы я вёл дополнительные занятия бесплатно, без приказа.",
        "Законно ли это по Трудовому кодексу?",
    ),
    (
        "law",
        "The school asks me to work extra hours without a contract amendment.",
        "Is that legal under the labour code?",
    ),
    (
        "burnout",
        "Я чувствую выгорание, не сплю, на уроках срываюсь на учеников.",
        "Как восстановить силы и не уйти из профессии?",
    ),
    (
        "burnout",
        "After the first year I feel exhausted and burned out, I cry after lessons.",
        "How do I recover my energy?",
    ),
    (
        "digital",
        "Не получается провести урок в формате перевёрнутого класса, ученики не смотрят видео дома.",
        "Как организовать перевёрнутый класс?",
    ),
    (
        "digital",
        "Online lessons fail: pupils switch off cameras and do not answer in the digital platform.",
        "How do I engage pupils in online lessons?",
    ),
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
    migrations.apply(url, migrations.history_directory("library"))
    store = PostgresStore(url, 1)
    topics = {}
    with store.transaction() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for topic, essence, question in CASES:
            entry = uuid.uuid4()
            topics[str(entry)] = topic
            cur.execute(
                "INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty, "
                "question, participants, solutions, problem_solved) VALUES (%s, 'solved_case', "
                "'{education-law}', 'urgent', %s, '', '', %s, '{}', %s, 'yes')",
                (entry, essence, question, Json([])),
            )
    store.close()
    return topics


def ranked_ids(cur, method, text):
    if method == "library: OR query + ts_rank":
        return [f["id"] for f in baseline_similar.find(cur, text, [], len(CASES))]
    expression = {
        "pg_trgm similarity": "similarity(essence || ' ' || question, %s)",
        "pg_trgm word_similarity": "word_similarity(%s, essence || ' ' || question)",
    }[method]
    cur.execute(f"SELECT id::text FROM library_entries ORDER BY {expression} DESC, id", (text,))
    return [r["id"] for r in cur.fetchall()]


# ---- the labelled set: today's ranking beside the new one -----------------------------------------

GAIN = {"yes": 2.0, "partly": 1.5, "no": 1.0}
TARGET_PRECISION = 0.8


def fill_labelled(url):
    """The labelled library in a fresh schema; ``{id: item}``."""
    migrations.apply(url, migrations.history_directory("library"))
    store = PostgresStore(url, 1)
    items = {}
    with store.transaction() as cur:
        for n, item in enumerate(similar_labelled.library()):
            entry = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:bench-similar:{n}"))  # reproducible ties
            items[entry] = item
            cur.execute(
                "INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty, "
                "question, participants, solutions, problem_solved, helpfulness) VALUES (%s, 'solved_case', "
                "%s, 'need_advice', %s, '', '', %s, '{}', %s, %s, %s)",
                (
                    entry,
                    item["rubrics"],
                    item["essence"],
                    item["question"],
                    Json([{"text": item["solution"], "materials": [], "helpfulness": item["helpfulness"]}]),
                    item["problem_solved"],
                    item["helpfulness"],
                ),
            )
    with store.transaction() as cur:
        cur.execute("ANALYZE library_entries")
    store.close()
    return items


def dcg(gains):
    return sum(g / math.log2(n + 2) for n, g in enumerate(gains))


def judge(cur, find, items, queries):
    """Precision@3 (of what is shown, and strict), nDCG@5, unrelated first suggestions."""
    shown_precision, strict, ndcg, ndcg_same, unrelated, nothing, unanswered_shown = [], [], [], [], 0, 0, 0
    for q in queries:
        ranked = [items[r["id"]] for r in find(cur, q["text"], q["rubrics"], 5)]
        if q["topic"] is None:
            unanswered_shown += bool(ranked)
            continue
        on_topic = [r["topic"] == q["topic"] for r in ranked]
        if not ranked:
            nothing += 1
        else:
            shown_precision.append(sum(on_topic[:3]) / len(on_topic[:3]))
            unrelated += not on_topic[0]
        strict.append(sum(on_topic[:3]) / 3)
        for found, language in ((ndcg, None), (ndcg_same, q["language"])):
            judged = [i for i in items.values() if i["topic"] == q["topic"] and language in (None, i["language"])]
            ideal = sorted((GAIN[i["problem_solved"]] for i in judged), reverse=True)
            found.append(dcg([GAIN[r["problem_solved"]] if r in judged else 0.0 for r in ranked]) / dcg(ideal[:5]))
    return {
        "precision": statistics.mean(shown_precision) if shown_precision else 0.0,
        "strict": statistics.mean(strict),
        "ndcg": statistics.mean(ndcg),
        "ndcg_same": statistics.mean(ndcg_same),
        "unrelated": unrelated,
        "nothing": nothing,
        "answerable": sum(q["topic"] is not None for q in queries),
        "unanswered": sum(q["topic"] is None for q in queries),
        "unanswered_shown": unanswered_shown,
    }


def new_find(cur, text, rubrics, limit):
    return similar.find(cur, text, rubrics, limit)


def describe(name, r):
    return (
        f"{name:34} precision@3 {r['precision']:.2f} (strict {r['strict']:.2f}), nDCG@5 {r['ndcg']:.2f} "
        f"(same language {r['ndcg_same']:.2f}), "
        f"unrelated first {r['unrelated']}/{r['answerable']}, nothing shown {r['nothing']}, "
        f"unanswerable shown something {r['unanswered_shown']}/{r['unanswered']}"
    )


def labelled(server, record):
    queries = similar_labelled.queries()
    admin, url = fresh_database(
        server, LABELLED_DB, f"labelled set: {len(similar_labelled.library())} solved cases, {len(queries)} new cases"
    )
    load_before = os.getloadavg()[0]
    try:
        items = fill_labelled(url)
        conn = psycopg2.connect(url)
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        old = judge(cur, baseline_similar.find, items, queries)
        new = judge(cur, new_find, items, queries)
        conn.close()
    finally:
        recreate(admin, LABELLED_DB, drop_only=True)
    print(describe("today's (relative text, no floor)", old))
    print(describe("new (absolute, floor, outcome)", new))
    met = new["precision"] >= TARGET_PRECISION and new["unrelated"] == 0
    print(f"target: precision@3 >= {TARGET_PRECISION} and no unrelated first suggestion: {'met' if met else 'NOT met'}")
    if record:
        append_result(
            "bench_similar_quality",
            f"labelled set: {len(items)} solved cases on 16 topics (ru/en, shared rubrics), {len(queries)} new cases "
            f"({new['answerable']} on those topics, {new['unanswered']} on none), 5 suggestions each",
            f"new: precision@3 {new['precision']:.2f} of what is shown (strict {new['strict']:.2f}), nDCG@5 "
            f"{new['ndcg']:.2f} (same language {new['ndcg_same']:.2f}), unrelated first {new['unrelated']}, nothing "
            f"shown {new['nothing']}, unanswerable "
            f"shown {new['unanswered_shown']}/{new['unanswered']} (target p@3 >= 0.8, no unrelated first: "
            f"{'met' if met else 'NOT met'})",
            f"today's: precision@3 {old['precision']:.2f} (strict {old['strict']:.2f}), nDCG@5 {old['ndcg']:.2f} "
            f"(same language {old['ndcg_same']:.2f}), "
            f"unrelated first {old['unrelated']}, unanswerable shown {old['unanswered_shown']}/{old['unanswered']}",
            f"p@3 {new['precision'] / old['precision']:.2f}x, nDCG@5 {new['ndcg'] / old['ndcg']:.2f}x"
            if old["precision"] and old["ndcg"]
            else "-",
            machine(server.rstrip("/") + "/postgres", load=(load_before, os.getloadavg()[0])),
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_postgres_argument(parser)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
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
    labelled(args.postgres, not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
