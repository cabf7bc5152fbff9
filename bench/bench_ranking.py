"""How fast does matching rank one case among 10,000 mentors? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_ranking.py [--mentors 10000] [--runs 300]
                                            [--postgres postgresql://postgres@127.0.0.1:5432]

Fills matching's own schema (services/matching/migrations) in the scratch database
``mentor_bench_ranking`` (created at the start, dropped at the end; an existing one is dropped first):
N mentors through ``readmodel.upsert_mentor`` (seeded: 1-4 rubrics each, 90 % accredited, 90 %
accepting cases, capacity 0-5, 10 % away today), and their ``mentor_stats`` (open cases 0-capacity,
a median response time for 70 %). Then, for ``--runs`` cases of 1-3 random rubrics:

(a) baseline: a plain ``SELECT *`` of every row of ``mentors`` into tuples (what a scan costs);
(b) the real path of a round: ``readmodel.candidates(k=3)`` (the SQL filter: rubric overlap,
    accredited, accepting, free capacity, not away, not excluded; then the score in SQL, keeping
    only the rows that could make the top 3) + ``ranking.rank`` (the exact score and order in
    Python), as MatchingService._propose runs it (without recording the round);
(c) for comparison, the same without the SQL cut: every eligible row goes to Python (what (b) was
    before the optimization). Each run also checks that (b) and (c) propose the same mentors.

It prints p50/p95/mean of each in milliseconds and whether (b)'s p95 meets the target of < 20 ms.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py)

from contracts.rubrics import RUBRIC_SLUGS  # noqa: E402
from services.common import migrations  # noqa: E402
from services.matching import readmodel  # noqa: E402
from services.matching.ranking import rank  # noqa: E402

BENCH_DB = "mentor_bench_ranking"
TARGET_MS = 20.0
K = 3


def fill(url, n_mentors, seed=1):
    rng = random.Random(seed)
    today = datetime.now(timezone.utc).date()
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        for statement in migrations.statements("matching"):
            cur.execute(statement)
        stats = []
        for position in range(1, n_mentors + 1):
            mentor_id = str(uuid.UUID(int=rng.getrandbits(128)))
            capacity = rng.randint(0, 5)
            away = []
            if rng.random() < 0.10:  # away today
                away.append(
                    {
                        "starts_on": today - timedelta(days=rng.randint(0, 5)),
                        "ends_on": today + timedelta(days=rng.randint(0, 5)),
                    }
                )
            if rng.random() < 0.20:  # a past period
                away.append({"starts_on": today - timedelta(days=60), "ends_on": today - timedelta(days=40)})
            readmodel.upsert_mentor(
                cur,
                {
                    "mentor_id": mentor_id,
                    "rubrics": rng.sample(RUBRIC_SLUGS, rng.randint(1, 4)),
                    "accepting_cases": rng.random() < 0.9,
                    "accredited": rng.random() < 0.9,
                    "capacity": capacity,
                    "away_periods": away,
                },
                position,
            )
            median = rng.uniform(600, 5 * 86400) if rng.random() < 0.7 else None
            stats.append((mentor_id, rng.randint(0, capacity), 0 if median is None else rng.randint(1, 40), median))
        psycopg2.extras.execute_values(
            cur, "INSERT INTO mentor_stats (mentor_id, open_cases, responses, median_response_seconds) VALUES %s", stats
        )
        cur.execute("ANALYZE mentors")
        cur.execute("ANALYZE mentor_stats")
    conn.close()
    return time.perf_counter() - started


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(label, samples_ms, extra=""):
    return (
        f"{label:56s} p50 {percentile(samples_ms, 50):7.2f} ms  p95 {percentile(samples_ms, 95):7.2f} ms  "
        f"mean {statistics.fmean(samples_ms):7.2f} ms{extra}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentors", type=int, default=10_000, help="mentors in the table (default 10,000)")
    parser.add_argument("--runs", type=int, default=300, help="cases ranked (default 300)")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    admin, url = fresh_database(args.postgres, BENCH_DB, f"{args.mentors} mentors, {args.runs} cases")
    try:
        elapsed = fill(url, args.mentors)
        print(f"filled {args.mentors} mentors in {elapsed:.1f} s", flush=True)
        rng = random.Random(2)
        cases = [rng.sample(RUBRIC_SLUGS, rng.randint(1, 3)) for _ in range(args.runs)]
        conn = psycopg2.connect(url)
        conn.autocommit = True
        today = datetime.now(timezone.utc).date()
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT mentor_id FROM mentors ORDER BY mentor_id LIMIT 100")
            some = [r["mentor_id"] for r in cur.fetchall()]

            plain = conn.cursor()  # tuples, no dict per row: the cheapest read of the table

            def scan_once():
                plain.execute("SELECT * FROM mentors")
                return plain.fetchall()

            def rank_once(rubrics, exclude, k=K):
                found = readmodel.candidates(cur, rubrics, exclude=exclude, today=today, k=k)
                return found, rank(rubrics, found, k=K, exclude=exclude, today=today)

            for rubrics in cases[:20]:  # warm-up (caches, plans), not counted
                scan_once()
                rank_once(rubrics, ())
            scan, ranked, uncut, candidates_seen, uncut_seen = [], [], [], [], []
            for rubrics in cases:
                started = time.perf_counter()
                rows = scan_once()
                scan.append((time.perf_counter() - started) * 1000)
                exclude = rng.sample(some, 2)  # a later round's exclusions
                started = time.perf_counter()
                found, proposals = rank_once(rubrics, exclude)
                ranked.append((time.perf_counter() - started) * 1000)
                candidates_seen.append(len(found))
                started = time.perf_counter()
                everyone, same = rank_once(rubrics, exclude, k=None)
                uncut.append((time.perf_counter() - started) * 1000)
                uncut_seen.append(len(everyone))
                assert proposals == same, "the SQL cut changed a ranking"
        conn.close()
        print()
        print(summary(f"(a) SELECT * FROM mentors ({len(rows)} rows)", scan))
        print(
            summary(
                "(b) readmodel.candidates(k=3) + ranking.rank",
                ranked,
                f"  ({statistics.fmean(candidates_seen):.0f} rows reach Python on average)",
            )
        )
        print(
            summary(
                "(c) the same without the SQL cut (every eligible row)",
                uncut,
                f"  ({statistics.fmean(uncut_seen):.0f} rows reach Python on average)",
            )
        )
        p95 = percentile(ranked, 95)
        print()
        print(
            f"ratio (b)/(a) at p50: {percentile(ranked, 50) / percentile(scan, 50):.2f}; "
            f"target for (b): p95 < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'}"
        )
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
