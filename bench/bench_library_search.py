"""How fast is the library's search at N items? Prints figures beside a baseline, asserts nothing.

    .venv/bin/python bench/bench_library_search.py [--items 100000] [--rounds 15] [--postgres URL]

Fills the scratch database ``mentor_bench_library`` (created at the start, dropped at the end;
an existing one is dropped first) with the library service's own schema
(services/library/tables.py) and N generated items (bench/library_corpus.py: Russian and
English case text, 80 % solved cases, 20 % materials, one a minute), then times, through the
service's real code (``search.find`` then ``items.load``, in one transaction: what
``library.search`` does):

- rare terms (about one item in a thousand has each), common terms (up to half the library),
  and two-word queries, first pages ranked best first, 20 a page;
- the next two pages of the common queries (keyset cursors);
- browsing (no words), all and by rubric, first and next pages;

beside (a) the baseline: a plain ``count(*)`` of the matches with ``@@`` (what even a bare
total costs; PostgreSQL picks the GIN index or a sequential scan as it sees fit), and (b) a
naive ranked query: ``ORDER BY ts_rank(...) LIMIT 20`` over every match, without the candidate
cap. p50 and p95 per group; the target is p95 < 50 ms at 100,000 items for every search group.
One line per run is appended to bench/RESULTS.md (figure, baseline, ratio, machine, date).
"""
import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone

import psycopg2
import psycopg2.extras
from psycopg2.extras import Json, execute_values

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import library_corpus  # noqa: E402  (bench/library_corpus.py, beside this script)
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402
from services.common.db import PostgresStore  # noqa: E402
from services.library import items, search  # noqa: E402
from services.library.tables import SCHEMA, TS_CONFIG  # noqa: E402

BENCH_DB = "mentor_bench_library"
TARGET_P95_MS = 50.0
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
RESULTS_HEADER = ("# Benchmark results\n\nOne line per run, appended by the bench scripts. Compare lines of "
                  "one machine only.\n\n| date (UTC) | benchmark | workload | figure | baseline | ratio | machine |\n"
                  "|---|---|---|---|---|---|---|\n")
START = 1_700_000_000  # the first item's publication time (epoch seconds); one a minute after it

RARE = library_corpus.RARE_RU[:8] + library_corpus.RARE_EN[:8]
COMMON = ["ученики", "домашние задания", "родителями", "урок", "homework", "parents", "pupils", "discipline"]
PAIRS = ["дисциплину родители", "контрольную жалуются", "homework parents", "test chat", "выгорание ученики",
         "bullying pupils"]


def load(url, n, batch=5000):
    started = time.perf_counter()
    conn = psycopg2.connect(url)
    cases, materials = [], []

    def flush(cur):
        if cases:
            execute_values(cur, "INSERT INTO library_entries (id, kind, rubrics, urgency, essence, actions_taken, "
                                "difficulty, question, participants, solutions, clarifications, problem_solved, "
                                "published_at) VALUES %s", cases,
                           template="(%s, 'solved_case', %s, 'need_advice', %s, %s, %s, %s, '{}', %s, %s, 'yes', "
                                    "to_timestamp(%s))", page_size=1000)
        if materials:
            execute_values(cur, "INSERT INTO library_materials (id, material_type, title, description, url, "
                                "reference, rubrics, origin, published_at) VALUES %s", materials,
                           template="(%s, %s, %s, %s, %s, %s, %s, 'moderator', to_timestamp(%s))", page_size=1000)
        cases.clear()
        materials.clear()

    with conn, conn.cursor() as cur:
        for i, (kind, c) in enumerate(library_corpus.items(n)):
            at = START + 60 * i
            if kind == "case":
                cases.append((uuid.uuid4(), c["rubrics"], c["essence"], c["actions_taken"], c["difficulty"],
                              c["question"], Json(c["solutions"]), Json(c["clarifications"]), at))
            else:
                materials.append((uuid.uuid4(), c["material_type"], c["title"], c["description"], c["url"],
                                  c["reference"], c["rubrics"], at))
            if len(cases) + len(materials) >= batch:
                flush(cur)
        flush(cur)
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in ("library_entries", "library_materials"):
            cur.execute(f"VACUUM ANALYZE {table}")
    conn.close()
    return time.perf_counter() - started


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def service_page(cur, **query):
    """What library.search does: the page of references, then its items."""
    page = search.find(cur, **query)
    page["items"] = items.load(cur, page["rows"])
    return page


def baseline_count(cur, q):
    cur.execute(f"SELECT (SELECT count(*) FROM library_entries WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s))"
                f" + (SELECT count(*) FROM library_materials WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s))"
                f" AS n", (q, q))
    return cur.fetchone()["n"]


def naive_ranked(cur, q):
    cur.execute(f"""SELECT id FROM (
                      SELECT id, published_at, ts_rank(search, websearch_to_tsquery('{TS_CONFIG}', %s)) AS rank
                        FROM library_entries WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s)
                      UNION ALL
                      SELECT id, published_at, ts_rank(search, websearch_to_tsquery('{TS_CONFIG}', %s))
                        FROM library_materials WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s)) u
                    ORDER BY rank DESC, published_at DESC, id DESC LIMIT 21""", (q, q, q, q))
    return cur.fetchall()


def percentiles(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def run(url, rounds, seed=11):
    conn = psycopg2.connect(url)
    conn.autocommit = True  # each query its own transaction, as each RPC
    cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    rng = random.Random(seed)
    groups = {name: [] for name in ("rare terms, page 1", "common terms, page 1", "two words, page 1",
                                    "common terms, pages 2-3", "browse all, page 1", "browse all, pages 2-3",
                                    "browse by rubric, page 1", "baseline: count(*) @@", "naive: rank every match")}
    matches = {}
    for _ in range(rounds):
        for q in rng.sample(RARE, len(RARE)):
            groups["rare terms, page 1"].append(timed(lambda: service_page(cur, q=q))[0])
        for q in rng.sample(COMMON, len(COMMON)):
            ms, page = timed(lambda: service_page(cur, q=q))
            groups["common terms, page 1"].append(ms)
            for _page in range(2):
                ms, page = timed(lambda: service_page(cur, q=q, cursor=page["next_cursor"]))
                groups["common terms, pages 2-3"].append(ms)
        for q in rng.sample(PAIRS, len(PAIRS)):
            groups["two words, page 1"].append(timed(lambda: service_page(cur, q=q))[0])
        ms, page = timed(lambda: service_page(cur))
        groups["browse all, page 1"].append(ms)
        for _page in range(2):
            ms, page = timed(lambda: service_page(cur, cursor=page["next_cursor"]))
            groups["browse all, pages 2-3"].append(ms)
        rubric = rng.choice(library_corpus.RUBRIC_SLUGS)
        groups["browse by rubric, page 1"].append(timed(lambda: service_page(cur, rubric=rubric))[0])
        for q in RARE[:4] + COMMON[:4] + PAIRS[:2]:
            ms, n = timed(lambda: baseline_count(cur, q))
            matches[q] = n
            groups["baseline: count(*) @@"].append(ms)
            groups["naive: rank every match"].append(timed(lambda: naive_ranked(cur, q))[0])
    conn.close()
    return groups, matches


def machine(url):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0].split()[0]
    conn.close()
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return f"{cpu}, {os.cpu_count()} cores{load}, PostgreSQL {version}"


def append_result(line):
    new = not os.path.exists(RESULTS)
    with open(RESULTS, "a", encoding="utf-8") as f:
        if new:
            f.write(RESULTS_HEADER)
        f.write(line + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="library items to generate (default 100,000)")
    parser.add_argument("--rounds", type=int, default=15, help="times each query is run (default 15)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    admin, url = fresh_database(args.postgres, BENCH_DB, f"N = {args.items} items")
    try:
        store = PostgresStore(url, 1)
        store.migrate(SCHEMA)
        store.close()
        elapsed = load(url, args.items)
        print(f"loaded {args.items} items in {elapsed:.1f} s (stored tsvectors, GIN indexes, ANALYZE)", flush=True)
        groups, matches = run(url, args.rounds)
        where = machine(url)
    finally:
        recreate(admin, BENCH_DB, drop_only=True)

    print()
    print(f"{'group':32} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8}")
    figures = {}
    for name, samples in groups.items():
        p50, p95 = percentiles(samples)
        figures[name] = (p50, p95)
        print(f"{name:32} {len(samples):5d} {p50:8.2f} {p95:8.2f}")
    print()
    print("matches per query (plain count): " + json.dumps(matches, ensure_ascii=False))
    searches = [n for n in groups if not n.startswith(("baseline", "naive", "browse"))]
    worst = max(searches, key=lambda n: figures[n][1])
    worst_p95 = figures[worst][1]
    base_p95 = figures["baseline: count(*) @@"][1]
    naive_p95 = figures["naive: rank every match"][1]
    verdict = "met" if worst_p95 < TARGET_P95_MS else "NOT met"
    print(f"worst search p95: {worst_p95:.2f} ms ({worst}); baseline count(*) p95 {base_p95:.2f} ms "
          f"(ratio {worst_p95 / base_p95:.2f}); naive full ranking p95 {naive_p95:.2f} ms "
          f"(ratio {worst_p95 / naive_p95:.2f})")
    print(f"target p95 < {TARGET_P95_MS:g} ms at {args.items} items: {verdict}")
    if not args.no_results:
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        append_result(f"| {date} | bench_library_search | {args.items} items, {args.rounds} rounds "
                      f"| worst search p95 {worst_p95:.1f} ms ({worst}; target < {TARGET_P95_MS:g}: {verdict}) "
                      f"| count(*) @@ p95 {base_p95:.1f} ms; naive rank-all p95 {naive_p95:.1f} ms "
                      f"| {worst_p95 / base_p95:.2f} / {worst_p95 / naive_p95:.2f} | {where} |")
        print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
