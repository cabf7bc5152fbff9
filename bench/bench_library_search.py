"""How fast is the library's search at N items? Prints figures beside a baseline, asserts nothing.

    .venv/bin/python bench/bench_library_search.py [--items 100000] [--rounds 15] [--postgres URL]
        [--keep | --reuse | --drop] [--profile]

Fills the scratch database ``mentor_bench_library_<N>`` (created at the start, dropped at the
end unless --keep; an existing one is dropped first) with the library service's own schema
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
cap, and (c) the previous search statement (before issue #10's work: ranks computed in each
table's branch, the plan left to the planner alone), the first page of every query, run just
before or just after the service's (at random). p50 and
p95 per group; the target (issue #10) is p95 < 20 ms at 100,000 items and < 50 ms at 1,000,000
for every search group. One line per run is appended to bench/RESULTS.md.

The load is COPY (the server computes the stored tsvectors as rows arrive), then the schema's
indexes built once, then VACUUM ANALYZE: 1,000,000 items in about 5.5 minutes. ``--keep`` keeps
the scratch database (``mentor_bench_library_<N>``), ``--reuse`` runs the queries again on it
(after the schema's migrations, as a service start would), ``--drop`` drops it.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone

import psycopg2
import psycopg2.extras

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import library_corpus  # noqa: E402  (bench/library_corpus.py, beside this script)
from results import append_result, machine  # noqa: E402  (bench/results.py)
from scratch import add_postgres_argument, fresh_database, recreate, server_url  # noqa: E402

from services.common import migrations  # noqa: E402
from services.library import items, search  # noqa: E402
from services.library.tables import TS_CONFIG  # noqa: E402

BENCH_DB = "mentor_bench_library"
TARGET_P95_MS = {100_000: 20.0, 1_000_000: 50.0}  # issue #10: p95 by library size


def target_ms(n):
    return TARGET_P95_MS[100_000] if n <= 100_000 else TARGET_P95_MS[1_000_000]


START = 1_700_000_000  # the first item's publication time (epoch seconds); one a minute after it

RARE = library_corpus.RARE_RU[:8] + library_corpus.RARE_EN[:8]
COMMON = ["ученики", "домашние задания", "родителями", "урок", "homework", "parents", "pupils", "discipline"]
PAIRS = [
    "дисциплину родители",
    "контрольную жалуются",
    "homework parents",
    "test chat",
    "выгорание ученики",
    "bullying pupils",
]


def _copy_text(value):
    """One field of COPY's text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_row(values):
    return "\t".join(_copy_text(v) for v in values) + "\n"


def _array(values):
    return "{" + ",".join('"%s"' % v for v in values) + "}"


ENTRY_COPY = (
    "COPY library_entries (id, kind, rubrics, urgency, essence, actions_taken, difficulty, question, "
    "participants, solutions, clarifications, problem_solved, published_at) FROM STDIN"
)
MATERIAL_COPY = (
    "COPY library_materials (id, material_type, title, description, url, reference, rubrics, origin, "
    "published_at) FROM STDIN"
)


def deferred(statement):
    """Index statements of the schema, run after the bulk load (one sort each, not N inserts)."""
    return statement.lstrip().upper().startswith("CREATE INDEX")


def load(url, n, batch=20_000):
    """N items by COPY (the stored tsvectors computed by the server as rows arrive), then the
    schema's indexes built once over the loaded tables, then VACUUM ANALYZE."""
    started = time.perf_counter()
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)  # services.common.db sets one (green waits); COPY refuses it
    try:
        return _load(url, n, batch, started)
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def _load(url, n, batch, started):
    conn = psycopg2.connect(url)
    cases, materials = io.StringIO(), io.StringIO()

    def flush(cur):
        for buffer, statement in ((cases, ENTRY_COPY), (materials, MATERIAL_COPY)):
            if buffer.tell():
                buffer.seek(0)
                cur.copy_expert(statement, buffer)
                buffer.seek(0)
                buffer.truncate()

    with conn, conn.cursor() as cur:
        for statement in migrations.statements("library"):
            if not deferred(statement):
                cur.execute(statement)
        pending = 0
        for i, (kind, c) in enumerate(library_corpus.items(n)):
            at = datetime.fromtimestamp(START + 60 * i, timezone.utc).isoformat()
            if kind == "case":
                cases.write(
                    _copy_row(
                        (
                            uuid.uuid4(),
                            "solved_case",
                            _array(c["rubrics"]),
                            "need_advice",
                            c["essence"],
                            c["actions_taken"],
                            c["difficulty"],
                            c["question"],
                            "{}",
                            json.dumps(c["solutions"], ensure_ascii=False),
                            json.dumps(c["clarifications"], ensure_ascii=False),
                            "yes",
                            at,
                        )
                    )
                )
            else:
                materials.write(
                    _copy_row(
                        (
                            uuid.uuid4(),
                            c["material_type"],
                            c["title"],
                            c["description"],
                            c["url"],
                            c["reference"],
                            _array(c["rubrics"]),
                            "moderator",
                            at,
                        )
                    )
                )
            pending += 1
            if pending >= batch:
                flush(cur)
                pending = 0
                if (i + 1) % 200_000 == 0:
                    print(f"  {i + 1} items copied, {time.perf_counter() - started:.0f} s", flush=True)
        flush(cur)
    copied = time.perf_counter() - started
    with conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for statement in migrations.statements("library"):
            cur.execute(statement)  # the deferred indexes now (the rest is idempotent)
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in ("library_entries", "library_materials"):
            cur.execute(f"VACUUM ANALYZE {table}")
    conn.close()
    print(
        f"  copy {copied:.0f} s, indexes and VACUUM ANALYZE {time.perf_counter() - started - copied:.0f} s", flush=True
    )
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
    cur.execute(
        f"SELECT (SELECT count(*) FROM library_entries WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s))"
        f" + (SELECT count(*) FROM library_materials WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s))"
        f" AS n",
        (q, q),
    )
    return cur.fetchone()["n"]


def previous_page(cur, q):
    """First page as search.py ranked it before issue #10's work, for a same-run comparison: one
    statement, each table's matches ranked as found (every GIN match ranked before the recency
    cut), the plan left to the planner's estimates; then the items."""
    branches = " UNION ALL ".join(
        f"(SELECT id, '{kind}' AS kind, published_at, ts_rank(search, websearch_to_tsquery('{TS_CONFIG}', %(q)s)) "
        f"AS rank FROM {table} WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %(q)s) AND withdrawn_at IS NULL "
        f"ORDER BY published_at DESC, id DESC LIMIT %(cap)s)"
        for kind, table in search.TABLES.items()
    )
    cur.execute(
        f"""WITH candidates AS MATERIALIZED (SELECT * FROM ({branches}) u
                      ORDER BY published_at DESC, id DESC LIMIT %(cap)s)
                    SELECT (SELECT count(*) FROM candidates) AS total,
                      (SELECT coalesce(json_agg(p ORDER BY p.rank DESC, p.published_at DESC, p.id DESC), '[]')
                       FROM (SELECT id, kind, published_at, rank FROM candidates
                             ORDER BY rank DESC, published_at DESC, id DESC LIMIT 21) p) AS page""",
        {"q": q, "cap": search.RANK_CANDIDATES + 1},
    )
    rows = cur.fetchone()["page"][:20]
    return items.load(cur, rows)


def naive_ranked(cur, q):
    cur.execute(
        f"""SELECT id FROM (
                      SELECT id, published_at, ts_rank(search, websearch_to_tsquery('{TS_CONFIG}', %s)) AS rank
                        FROM library_entries WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s)
                      UNION ALL
                      SELECT id, published_at, ts_rank(search, websearch_to_tsquery('{TS_CONFIG}', %s))
                        FROM library_materials WHERE search @@ websearch_to_tsquery('{TS_CONFIG}', %s)) u
                    ORDER BY rank DESC, published_at DESC, id DESC LIMIT 21""",
        (q, q, q, q),
    )
    return cur.fetchall()


def percentiles(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def run(url, rounds, seed=11, baselines=True):
    conn = psycopg2.connect(url)
    conn.autocommit = True  # each query its own transaction, as each RPC
    cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    rng = random.Random(seed)
    groups = {
        name: []
        for name in (
            "rare terms, page 1",
            "common terms, page 1",
            "two words, page 1",
            "common terms, pages 2-3",
            "browse all, page 1",
            "browse all, pages 2-3",
            "browse by rubric, page 1",
            "baseline: count(*) @@",
            "naive: rank every match",
            "previous statement, page 1",
        )
    }
    matches = {}

    def first_page(group, q):
        """The service's first page and the previous statement's, back to back in a random order:
        neither always finds the pages the other just read."""
        first = rng.random() < 0.5
        if baselines and first:
            groups["previous statement, page 1"].append(timed(lambda: previous_page(cur, q))[0])
        ms, page = timed(lambda: service_page(cur, q=q))
        groups[group].append(ms)
        if baselines and not first:
            groups["previous statement, page 1"].append(timed(lambda: previous_page(cur, q))[0])
        return page

    for _round in range(rounds):
        for q in rng.sample(RARE, len(RARE)):
            first_page("rare terms, page 1", q)
        for q in rng.sample(COMMON, len(COMMON)):
            page = first_page("common terms, page 1", q)
            for _page in range(2):
                ms, page = timed(lambda: service_page(cur, q=q, cursor=page["next_cursor"]))
                groups["common terms, pages 2-3"].append(ms)
        for q in rng.sample(PAIRS, len(PAIRS)):
            first_page("two words, page 1", q)
        ms, page = timed(lambda: service_page(cur))
        groups["browse all, page 1"].append(ms)
        for _page in range(2):
            ms, page = timed(lambda: service_page(cur, cursor=page["next_cursor"]))
            groups["browse all, pages 2-3"].append(ms)
        rubric = rng.choice(library_corpus.RUBRIC_SLUGS)
        groups["browse by rubric, page 1"].append(timed(lambda: service_page(cur, rubric=rubric))[0])
        for q in (RARE[:4] + COMMON[:4] + PAIRS[:2]) if baselines else ():
            ms, n = timed(lambda: baseline_count(cur, q))
            matches[q] = n
            groups["baseline: count(*) @@"].append(ms)
            groups["naive: rank every match"].append(timed(lambda: naive_ranked(cur, q))[0])
    conn.close()
    return groups, matches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="library items to generate (default 100,000)")
    parser.add_argument("--rounds", type=int, default=15, help="times each query is run (default 15)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database at the end (to rerun queries with --reuse)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the scratch database kept by --keep: no load; the schema's migrations run "
        "on it as at a service start (implies --keep)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one round of the search groups under pyinstrument (Python side), no figures",
    )
    parser.add_argument("--drop", action="store_true", help="only drop the kept scratch database of --items")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    dbname = f"{BENCH_DB}_{args.items}"
    keep = args.keep or args.reuse
    if args.drop:
        recreate(server_url(args.postgres, "postgres"), dbname, drop_only=True)
        print(f"dropped {dbname}")
        return 0
    if args.reuse:
        admin, url = server_url(args.postgres, "postgres"), server_url(args.postgres, dbname)
        print(f"reusing database {dbname} (N = {args.items} items)", flush=True)
    else:
        admin, url = fresh_database(args.postgres, dbname, f"N = {args.items} items")
    try:
        if args.reuse:
            started = time.perf_counter()
            migrations.apply(url, migrations.history_directory("library"))  # what an upgrade runs
            print(f"migrations on the kept database: {time.perf_counter() - started:.1f} s", flush=True)
        else:
            elapsed = load(url, args.items)
            print(
                f"loaded {args.items} items in {elapsed:.1f} s (COPY, stored tsvectors, indexes, ANALYZE)", flush=True
            )
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                run(url, 1, baselines=False)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return 0
        groups, matches = run(url, args.rounds)
        where = machine(url)  # while the scratch database exists
    finally:
        if keep:
            print(f"kept database {dbname}: rerun with --items {args.items} --reuse; drop with --drop", flush=True)
        else:
            recreate(admin, dbname, drop_only=True)

    print()
    print(f"{'group':32} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8}")
    figures = {}
    for name, samples in groups.items():
        p50, p95 = percentiles(samples)
        figures[name] = (p50, p95)
        print(f"{name:32} {len(samples):5d} {p50:8.2f} {p95:8.2f}")
    print()
    print("matches per query (plain count): " + json.dumps(matches, ensure_ascii=False))
    searches = [n for n in groups if not n.startswith(("baseline", "naive", "browse", "previous"))]
    first_pages = [ms for n in ("rare terms, page 1", "common terms, page 1", "two words, page 1") for ms in groups[n]]
    first_p50, first_p95 = percentiles(first_pages)
    prev_p50, prev_p95 = percentiles(groups["previous statement, page 1"])
    worst = max(searches, key=lambda n: figures[n][1])
    worst_p95 = figures[worst][1]
    base_p95 = figures["baseline: count(*) @@"][1]
    naive_p95 = figures["naive: rank every match"][1]
    target = target_ms(args.items)
    verdict = "met" if worst_p95 < target else "NOT met"
    print(
        f"worst search p95: {worst_p95:.2f} ms ({worst}); baseline count(*) p95 {base_p95:.2f} ms "
        f"(ratio {worst_p95 / base_p95:.2f}); naive full ranking p95 {naive_p95:.2f} ms "
        f"(ratio {worst_p95 / naive_p95:.2f})"
    )
    print(
        f"all first pages: p50 {first_p50:.2f} ms, p95 {first_p95:.2f} ms; the previous statement (before "
        f"issue #10's work) p50 {prev_p50:.2f} ms, p95 {prev_p95:.2f} ms (ratio p95 {first_p95 / prev_p95:.2f})"
    )
    print(f"target p95 < {target:g} ms at {args.items} items: {verdict}")
    if not args.no_results:
        append_result(
            "bench_library_search",
            f"{args.items} items, {args.rounds} rounds",
            f"worst search p95 {worst_p95:.1f} ms ({worst}; target < {target:g}: {verdict}) "
            f"; all first pages p95 {first_p95:.1f} ms",
            f"previous statement first pages p95 {prev_p95:.1f} ms; "
            f"count(*) @@ p95 {base_p95:.1f} ms; naive rank-all p95 {naive_p95:.1f} ms",
            f"first pages vs previous {first_p95 / prev_p95:.2f}; worst vs count {worst_p95 / base_p95:.2f}",
            where,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
