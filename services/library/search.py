"""Browse and full-text search of the library: one page of items, newest or best first.

Both item tables (solved cases in ``library_entries``, materials in ``library_materials``)
are read together; withdrawn items never appear. Pages are keyset pages: ``next_cursor`` is
an opaque token naming the last item's place in the order (and the query it belongs to), so
an item published between two requests neither repeats nor shifts a page.

Browse (no ``q``): newest first, unbounded, through the partial ``*_recent`` indexes.
Search: ``websearch_to_tsquery`` (quotes, ``or``, ``-word``) in the library's text search
configuration, ranked by ``ts_rank`` (weights A essence/question/title > B solutions/description
> C the rest), ties newest first. Ranking is the costly part (every matching vector is read),
so only the ``RANK_CANDIDATES`` most recent matches are ranked: a rare term ranks all its
matches; a term found in half the library ranks its most recent 500, in milliseconds instead of
a sequential scan (bench/bench_library_search.py; 1000 candidates doubled the time of queries
matching about a tenth of the library). ``total`` counts matches up to ``TOTAL_CAP``;
``total_exact`` is false beyond it ("500+"). A search therefore pages through at most 500
items: enough for a person; browsing pages through everything.

Finding those candidates costs either a walk down the recency index (about 500 / share rows
for words in a given share of the items) or the GIN index (every match read at a random place
of the table to learn its time): the planner picks by its estimates, good for one word, not for
several that go together; for those a sample of the newest rows decides (``plan_walks``).
Ranks are computed on the candidates alone. bench/README.md has the figures and what limits them.
"""

import base64
import binascii
import hashlib
import json
import math
import re
import time
import uuid
from datetime import datetime

from psycopg2 import sql

from contracts import vocabulary as v
from contracts.errors import InvalidInput
from services.library.tables import TS_CONFIG

RANK_CANDIDATES = 500
TOTAL_CAP = RANK_CANDIDATES
SAMPLE_ROWS = 400  # newest items of each table tested to judge how common the words are
WALK_COST_RATIO = 4.0  # a match found by GIN (a random heap read) costs about 4 rows of a recency walk
WALK_MARGIN = 2.0  # a walk reads up to twice the rows the sample predicts, then the planner's way
WORD = re.compile(r"\w+")
SAMPLE_FROM_ITEMS = 250_000  # smaller libraries: the planner's way for every query (see library_size)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

CASE, MATERIAL = v.LIBRARY_KINDS
KIND_FILTERS = (*v.LIBRARY_KINDS, *v.MATERIAL_TYPES)  # a material type selects materials of that type

TABLES = {CASE: "library_entries", MATERIAL: "library_materials"}


# ---- pure pieces -----------------------------------------------------------------------------


def fingerprint(q, rubric, kind):
    """Ties a cursor to the query it continues: a cursor of another query is refused."""
    return hashlib.sha256(json.dumps([q or "", rubric, kind]).encode()).hexdigest()[:12]


def encode_cursor(row, query_fingerprint):
    """The last row's sort key, as an opaque URL-safe token (rank kept as text: exact as real)."""
    key = {"f": query_fingerprint, "p": row["published_at"].isoformat(), "i": str(row["id"])}
    if row.get("rank") is not None:
        key["r"] = str(row["rank"])
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor, query_fingerprint, ranked):
    """The sort key in ``cursor``; InvalidInput for a token not made by this query."""
    bad = InvalidInput("Invalid cursor.", {"cursor": ["Not a cursor of this query: start again without it."]})
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or key.get("f") != query_fingerprint or ("r" in key) != ranked:
            raise bad
        after = {"published_at": datetime.fromisoformat(key["p"]), "id": str(uuid.UUID(key["i"]))}
        if ranked:
            float(key["r"])  # a number, passed on as text: exactly the real it was printed from
            after["rank"] = key["r"]
        return after
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise bad from None


def tables_for(kind):
    """(table key, material type or None) pairs a kind filter reads."""
    if kind is None:
        return [(CASE, None), (MATERIAL, None)]
    if kind == CASE:
        return [(CASE, None)]
    return [(MATERIAL, None if kind == MATERIAL else kind)]


def _filters(table_key, material_type, rubric):
    where = [sql.SQL("withdrawn_at IS NULL")]
    params = []
    if rubric is not None:
        where.append(sql.SQL("rubrics @> %s"))
        params.append([rubric])
    if material_type is not None and table_key == MATERIAL:
        where.append(sql.SQL("material_type = %s"))
        params.append(material_type)
    return where, params


def browse_statement(rubric, kind, after, limit):
    """Newest first: each table's page from its recency index, merged; plus a capped count."""
    branches, counts, params, count_params = [], [], [], []
    for table_key, material_type in tables_for(kind):
        where, args = _filters(table_key, material_type, rubric)
        count_params += args + [TOTAL_CAP + 1]
        # Ordered like the page: the planner walks the recency index and stops at the cap, where
        # a bare filter (rubrics @> ...) had it read the rubric's whole GIN posting list first.
        counts.append(
            sql.SQL("(SELECT 1 FROM {} WHERE {} ORDER BY published_at DESC, id DESC LIMIT %s)").format(
                sql.Identifier(TABLES[table_key]), sql.SQL(" AND ").join(where)
            )
        )
        if after is not None:
            where = where + [sql.SQL("(published_at, id) < (%s, %s::uuid)")]
            args = args + [after["published_at"], after["id"]]
        params += args + [limit + 1]
        branches.append(
            sql.SQL(
                "(SELECT id, {kind} AS kind, published_at, NULL::real AS rank FROM {table} WHERE {where} "
                "ORDER BY published_at DESC, id DESC LIMIT %s)"
            ).format(
                kind=sql.Literal(table_key), table=sql.Identifier(TABLES[table_key]), where=sql.SQL(" AND ").join(where)
            )
        )
    statement = sql.SQL(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM ({counts}) u LIMIT %s) c) AS total, "
        "(SELECT coalesce(json_agg(p ORDER BY p.published_at DESC, p.id DESC), '[]') FROM "
        "(SELECT id, kind, published_at, rank FROM ({branches}) u "
        "ORDER BY published_at DESC, id DESC LIMIT %s) p) AS page"
    ).format(counts=sql.SQL(" UNION ALL ").join(counts), branches=sql.SQL(" UNION ALL ").join(branches))
    return statement, count_params + [TOTAL_CAP + 1] + params + [limit + 1]


def sample_statement(q, rubric, kind):
    """How many of each table's ``SAMPLE_ROWS`` most recent items match, and the table's size."""
    parts, params = [], []
    tsquery = sql.SQL("websearch_to_tsquery({}, %s)").format(sql.Literal(TS_CONFIG))
    for table_key, material_type in tables_for(kind):
        where, args = _filters(table_key, material_type, rubric)
        params += [q] + args + [SAMPLE_ROWS]
        parts.append(
            sql.SQL(
                "SELECT {kind} AS kind, count(*) AS sampled, count(*) FILTER (WHERE search @@ {tsquery}) AS hits, "
                "(SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = {regclass}::regclass) AS size "
                "FROM (SELECT search FROM {table} WHERE {where} ORDER BY published_at DESC, id DESC LIMIT %s) s"
            ).format(
                kind=sql.Literal(table_key),
                tsquery=tsquery,
                regclass=sql.Literal(TABLES[table_key]),
                table=sql.Identifier(TABLES[table_key]),
                where=sql.SQL(" AND ").join(where),
            )
        )
    return sql.SQL(" UNION ALL ").join(parts), params


_sizes = {"until": 0.0, "items": 0}


def library_size(cur):
    """Items in both tables as the statistics last counted them (``reltuples``), re-read once a
    minute per process: below ``SAMPLE_FROM_ITEMS`` a misjudged plan costs a few milliseconds, less
    than the sample's round trip."""
    now = time.monotonic()
    if now >= _sizes["until"]:
        cur.execute(
            "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::bigint AS items FROM pg_class "
            "WHERE oid IN ('library_entries'::regclass, 'library_materials'::regclass)"
        )
        _sizes.update(until=now + 60, items=cur.fetchone()["items"])
    return _sizes["items"]


def sampled(q):
    """Whether a query is worth a sample: the planner estimates one word well from the column's
    statistics (how often each lexeme occurs), not how several words go together."""
    return len(WORD.findall(q)) > 1


def plan_walks(samples):
    """``{table key: rows to walk}`` for the tables whose matches are found faster by walking the
    recency index than through the GIN index, judged from the sample (``sample_statement``).

    Walking finds the ``RANK_CANDIDATES`` most recent matches of a term in a share ``f`` of the
    items after about ``RANK_CANDIDATES / f`` rows; the GIN index finds all ``f * size`` matches,
    each then read at a random place of the table (about ``WALK_COST_RATIO`` rows of a walk) to
    learn its time. The planner judges this from its statistics, which miss how words go together
    ("домашние задания": both words, always together, estimated ten times rarer than they are);
    the sample measures it. A table (after the filters) smaller than the sample is walked whole,
    with room for as many rows again published in between."""
    walks = {}
    for sample in samples:
        seen, hits, size = sample["sampled"], sample["hits"], max(float(sample["size"]), sample["sampled"])
        if not hits:
            continue
        if seen < SAMPLE_ROWS:
            walks[sample["kind"]] = 2 * SAMPLE_ROWS
            continue
        share = hits / seen
        if share * share * WALK_COST_RATIO * size >= RANK_CANDIDATES + 1:
            walks[sample["kind"]] = max(SAMPLE_ROWS, math.ceil(WALK_MARGIN * (RANK_CANDIDATES + 1) / share))
    return walks


def search_statement(q, rubric, kind, after, limit, walks=None):
    """Best first among the most recent ``RANK_CANDIDATES`` matches; plus their count, and how
    many each table found (``found``: a walk that found fewer than the cap may have stopped short).

    A table's branch finds its most recent matches either as the planner sees fit (the GIN index
    for rare words, the recency index for common ones), or, for a table in ``walks``, by walking
    at most that many of its newest rows. ``ts_rank`` runs above each branch's ``LIMIT``
    subquery: on the rows the merge takes, not on every match the GIN index finds (which it did
    when the rank was in the branch's own select list: the sort came after it)."""
    walks = walks or {}
    walked, walk_params, branches, params = [], [], [], []
    tsquery = sql.SQL("websearch_to_tsquery({}, %s)").format(sql.Literal(TS_CONFIG))
    for table_key, material_type in tables_for(kind):
        where, args = _filters(table_key, material_type, rubric)
        fields = dict(
            kind=sql.Literal(table_key),
            table=sql.Identifier(TABLES[table_key]),
            tsquery=tsquery,
            where=sql.SQL(" AND ").join(where),
            walk=sql.Identifier(f"walk_{table_key}"),
        )
        if table_key in walks:
            # A subquery with a LIMIT is neither flattened nor given the outer WHERE: the newest
            # rows in index order, each tested, however rare the planner thinks the words are.
            # Materialized whole (cap + 1 rows at most) to count what it found.
            walk_params += [q] + args + [walks[table_key], q, RANK_CANDIDATES + 1]
            walked.append(
                sql.SQL(
                    "{walk} AS MATERIALIZED (SELECT id, {kind} AS kind, published_at, ts_rank(search, {tsquery}) AS rank "
                    "FROM (SELECT id, published_at, search FROM (SELECT id, published_at, search FROM {table} "
                    "WHERE {where} ORDER BY published_at DESC, id DESC LIMIT %s) w "
                    "WHERE search @@ {tsquery} ORDER BY published_at DESC, id DESC LIMIT %s) found), "
                ).format(**fields)
            )
            branches.append(sql.SQL("(SELECT * FROM {walk} ORDER BY published_at DESC, id DESC)").format(**fields))
        else:
            # The query inline (not from a CTE): the planner sees how common its terms are and picks
            # the GIN index for rare ones, the recency index (stopping early) for common ones. The
            # rank outside the LIMIT: computed for the rows the merge takes, not for every match.
            params += [q, q] + args + [RANK_CANDIDATES + 1]
            branches.append(
                sql.SQL(
                    "(SELECT id, {kind} AS kind, published_at, ts_rank(search, {tsquery}) AS rank "
                    "FROM (SELECT id, published_at, search FROM {table} WHERE search @@ {tsquery} AND {where} "
                    "ORDER BY published_at DESC, id DESC LIMIT %s) recent)"
                ).format(**fields)
            )
    keyset, keyset_params = sql.SQL("true"), []
    if after is not None:
        keyset = sql.SQL("(rank < %s::real OR (rank = %s::real AND (published_at, id) < (%s, %s::uuid)))")
        keyset_params = [after["rank"], after["rank"], after["published_at"], after["id"]]
    found = sql.SQL("json_build_object({})").format(
        sql.SQL(", ").join(
            sql.SQL("{}, (SELECT count(*) FROM {})").format(sql.Literal(key), sql.Identifier(f"walk_{key}"))
            for key, _ in tables_for(kind)
            if key in walks
        )
    )
    # The branches merged in time order (a Merge Append: each read only as far as the merge needs).
    statement = sql.SQL(
        "WITH {walked}top AS MATERIALIZED (SELECT * FROM ({branches}) u "
        "ORDER BY published_at DESC, id DESC LIMIT %s), "
        "candidates AS (SELECT * FROM top ORDER BY published_at DESC, id DESC LIMIT %s) "
        "SELECT (SELECT count(*) FROM top) AS total, {found} AS found, "
        "(SELECT coalesce(json_agg(p ORDER BY p.rank::real DESC, p.published_at DESC, p.id DESC), '[]') FROM "
        "(SELECT id, kind, published_at, rank::text AS rank FROM candidates WHERE {keyset} "
        "ORDER BY candidates.rank DESC, published_at DESC, id DESC LIMIT %s) p) AS page"
    ).format(
        walked=sql.SQL("").join(walked), branches=sql.SQL(" UNION ALL ").join(branches), keyset=keyset, found=found
    )
    return statement, (walk_params + params + [RANK_CANDIDATES + 1, RANK_CANDIDATES] + keyset_params + [limit + 1])


def page_of(total, rows, limit, query_fingerprint):
    """The page envelope: at most ``limit`` rows, a cursor when more follow, the capped total."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "total": min(total, TOTAL_CAP),
        "total_exact": total <= TOTAL_CAP,
        "next_cursor": encode_cursor(rows[-1], query_fingerprint) if more else None,
        "rows": rows,
    }


# ---- running them ----------------------------------------------------------------------------


def find(cur, q=None, rubric=None, kind=None, limit=DEFAULT_LIMIT, cursor=None):
    """One page of ``(id, kind, published_at, rank)`` rows with ``total``, ``total_exact`` and
    ``next_cursor``; the caller loads the items (``load_items``)."""
    q = (q or "").strip() or None
    key = fingerprint(q, rubric, kind)
    after = decode_cursor(cursor, key, ranked=q is not None) if cursor else None
    if q is None:
        cur.execute(*browse_statement(rubric, kind, after, limit))
        result = cur.fetchone()
    else:
        samples = []
        if sampled(q) and library_size(cur) >= SAMPLE_FROM_ITEMS:
            cur.execute(*sample_statement(q, rubric, kind))
            samples = cur.fetchall()
        walks = plan_walks(samples)
        cur.execute(*search_statement(q, rubric, kind, after, limit, walks))
        result = cur.fetchone()
        short = {
            k
            for k, rows in walks.items()
            if result["found"].get(k, 0) <= RANK_CANDIDATES
            and next(s["sampled"] for s in samples if s["kind"] == k) >= SAMPLE_ROWS
        }
        if short:  # the walk may have stopped before the cap: these tables again, as the planner sees fit
            cur.execute(
                *search_statement(
                    q, rubric, kind, after, limit, {k: rows for k, rows in walks.items() if k not in short}
                )
            )
            result = cur.fetchone()
    rows = [{**r, "published_at": datetime.fromisoformat(r["published_at"])} for r in result["page"]]
    return page_of(result["total"], rows, limit, key)
