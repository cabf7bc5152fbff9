"""Clarifying questions learned from solved cases (services/cases/question_suggestions.py) against
today's suggestions, the hint bank alone (the baseline), in the same run.

    .venv/bin/python bench/bench_question_suggestions.py [--postgres postgresql://postgres@127.0.0.1:5432]
                                                          [--pool 10000] [--no-record]

1. Quality, leave-one-out: the 48 labelled solved cases of bench/question_labelled.py (Russian and
   English, each with the questions its mentor asked) go into the cases service's pool tables in the
   scratch database ``mentor_bench_questions`` (pool records made by ``pool_record``, so anonymized as
   in the service). For each case, with that case left out of the pool, the top 5 suggestions for its
   text and rubrics; printed for learned and bank-only:
   - recall@5: the share of the questions the mentors actually asked that are among the 5 (as is:
     the same bank hint, or the same text once normalised: ``use_of`` says "as_is");
   - cases with a hit: the share of cases where at least one asked question is among the 5.
2. Time to suggest with ``--pool`` (10,000) solved cases in the pool: synthetic cases made from the
   labelled ones (the same topic, rubrics and questions; the text a labelled case's essence and another
   sentence of its topic and language, completed at random times over a year), then each held-out
   query of the set (bench/question_labelled.py ``queries``) three times: p50 and p95 of ``suggest``
   (one cursor, SQL and ranking), beside the bank-only suggestions' time. Target: p95 at most 50 ms.

Appended to bench/RESULTS.md (unless ``--no-record``) with the machine's load.
"""

import argparse
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import psycopg2
import psycopg2.extras

psycopg2.extras.register_uuid()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import question_labelled  # noqa: E402
from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402

from services.cases import question_suggestions as qs  # noqa: E402
from services.common import migrations  # noqa: E402

BENCH_DB = "mentor_bench_questions"
TOP = 5
P95_TARGET_MS = 50.0
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def connect(url):
    conn = psycopg2.connect(url, cursor_factory=psycopg2.extras.RealDictCursor)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in migrations.statements("cases"):
            cur.execute(statement)
    return conn


def as_case(labelled):
    """A labelled case as the aggregate the pool reads (``pool_record``)."""
    form = {
        "essence": labelled["essence"],
        "difficulty": "",
        "question": labelled["question"],
        "rubrics": labelled["rubrics"],
    }
    revisions = [form, dict(form)] if labelled["redefined"] else [form]
    questions = [
        {"id": str(i), "bank_id": q.get("bank_id"), "text": q.get("text") or "", "kind": q["kind"], "revision": 1}
        for i, q in enumerate(labelled["questions"])
    ]
    return SimpleNamespace(
        state="completed",
        reflection={"problem_solved": labelled["problem_solved"]},
        revisions=revisions,
        questions=questions,
        publishes=labelled["publication_consent"],
    )


def quality(cur, labelled):
    """Leave-one-out recall@5 and cases with a hit, learned and bank-only."""
    rng = random.Random(3)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in labelled]
    records = [qs.pool_record(as_case(case)) for case in labelled]
    for n, (case_id, record) in enumerate(zip(ids, records)):
        qs.store(cur, case_id, record, START + timedelta(days=n))
    bank = qs.with_fallback([], TOP)
    figures = {"learned": [0, 0], "bank": [0, 0]}  # questions found, cases with a hit
    asked_total = 0
    for case_id, case, record in zip(ids, labelled, records):
        learned = qs.suggest(cur, qs.case_text({**case, "difficulty": ""}), case["rubrics"], case_id, TOP)
        asked = [(q["bank_id"], q["text"]) for q in record["questions"]]
        asked_total += len(asked)
        for name, suggestions in (("learned", learned), ("bank", bank)):
            found = sum(
                1 for bank_id, text in asked if any(qs.use_of(s["id"], bank_id, text) == qs.AS_IS for s in suggestions)
            )
            figures[name][0] += found
            figures[name][1] += 1 if found else 0
    return (
        {
            name: {"recall": found / asked_total, "hit_cases": hits / len(labelled)}
            for name, (found, hits) in figures.items()
        },
        ids,
        records,
    )


def fill_pool(cur, labelled, records, size):
    """``size`` synthetic solved cases made from the labelled ones (module docstring)."""
    rng = random.Random(17)
    others = {}
    for case in labelled:
        others.setdefault((case["topic"], case["language"]), []).append(case["essence"])
    for n in range(size):
        i = rng.randrange(len(labelled))
        case, record = labelled[i], records[i]
        extra = rng.choice(others[(case["topic"], case["language"])])
        synthetic = {
            **record,
            "text": f"{case['essence']} {extra} {case['question']}",
            "problem_solved": rng.choice(("yes", "partly", "no")),
            "publishes": rng.random() < 0.5,
            "questions": rng.sample(record["questions"], max(1, len(record["questions"]) - rng.randrange(2))),
        }
        qs.store(cur, uuid.UUID(int=rng.getrandbits(128)), synthetic, START + timedelta(minutes=rng.randrange(525600)))
        if n and n % 2000 == 0:
            print(f"  {n} synthetic cases", flush=True)
    cur.execute("ANALYZE question_pool_cases")
    cur.execute("ANALYZE question_pool_questions")


def timings(cur, rounds=3):
    """Milliseconds per suggestion: learned (``suggest``) and bank-only (``with_fallback``)."""
    learned, bank = [], []
    queries = question_labelled.queries()
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            qs.suggest(cur, qs.case_text({**query, "difficulty": ""}), query["rubrics"], None, TOP)
            learned.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            qs.with_fallback([], TOP)
            bank.append((time.perf_counter() - started) * 1000)
    return learned, bank


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_postgres_argument(parser)
    parser.add_argument("--pool", type=int, default=10000, help="solved cases in the pool for the timing")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    admin, url = fresh_database(args.postgres, BENCH_DB, "the cases service's question pool")
    labelled = question_labelled.cases()
    languages = {lang: sum(1 for c in labelled if c["language"] == lang) for lang in ("ru", "en")}
    print(
        f"labelled set: {len(labelled)} solved cases ({languages['ru']} Russian, {languages['en']} English), "
        f"{sum(len(c['questions']) for c in labelled)} questions asked"
    )
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            figures, _, records = quality(cur, labelled)
            for name, f in figures.items():
                print(f"{name:8} recall@{TOP} {f['recall']:.2f}   cases with a hit {f['hit_cases']:.2f}")
            print(f"filling the pool to {args.pool} solved cases ...", flush=True)
            fill_pool(cur, labelled, records, args.pool - len(labelled))
            learned_ms, bank_ms = timings(cur)
        p50, p95 = percentile(learned_ms, 0.5), percentile(learned_ms, 0.95)
        bank_p95 = percentile(bank_ms, 0.95)
        print(
            f"time to suggest at {args.pool} solved cases: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(target <= {P95_TARGET_MS:.0f} ms: {'met' if p95 <= P95_TARGET_MS else 'NOT met'}); "
            f"bank-only p95 {bank_p95:.3f} ms"
        )
    finally:
        conn.close()
        recreate(admin, BENCH_DB, drop_only=True)
    if not args.no_record:
        where = machine(args.postgres and url.rsplit("/", 1)[0] + "/postgres", (load_before, os.getloadavg()[0]))
        learned, bank = figures["learned"], figures["bank"]
        append_result(
            "bench_question_suggestions",
            f"{len(labelled)} labelled solved cases (ru+en), leave-one-out",
            f"learned recall@{TOP} {learned['recall']:.2f}, cases with a hit {learned['hit_cases']:.2f}",
            f"bank-only recall@{TOP} {bank['recall']:.2f}, cases with a hit {bank['hit_cases']:.2f}",
            f"{learned['recall'] / bank['recall']:.1f}x" if bank["recall"] else "n/a",
            where,
        )
        append_result(
            "bench_question_suggestions",
            f"time to suggest, {args.pool} solved cases in the pool",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= {P95_TARGET_MS:.0f} ms)",
            f"bank-only p95 {bank_p95:.3f} ms",
            f"{p95 / bank_p95:.0f}x" if bank_p95 else "n/a",
            where,
        )


if __name__ == "__main__":
    main()
