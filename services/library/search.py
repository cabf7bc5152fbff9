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
"""
import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime

from psycopg2 import sql

from contracts import vocabulary as v
from contracts.errors import InvalidInput
from services.library.tables import TS_CONFIG

RANK_CANDIDATES = 500
TOTAL_CAP = RANK_CANDIDATES
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
        count_params += args
        counts.append(sql.SQL("SELECT 1 FROM {} WHERE {}").format(
            sql.Identifier(TABLES[table_key]), sql.SQL(" AND ").join(where)))
        if after is not None:
            where = where + [sql.SQL("(published_at, id) < (%s, %s::uuid)")]
            args = args + [after["published_at"], after["id"]]
        params += args + [limit + 1]
        branches.append(sql.SQL(
            "(SELECT id, {kind} AS kind, published_at, NULL::real AS rank FROM {table} WHERE {where} "
            "ORDER BY published_at DESC, id DESC LIMIT %s)").format(
                kind=sql.Literal(table_key), table=sql.Identifier(TABLES[table_key]),
                where=sql.SQL(" AND ").join(where)))
    statement = sql.SQL(
        "SELECT (SELECT count(*) FROM ({counts} LIMIT %s) c) AS total, "
        "(SELECT coalesce(json_agg(p ORDER BY p.published_at DESC, p.id DESC), '[]') FROM "
        "(SELECT id, kind, published_at, rank FROM ({branches}) u "
        "ORDER BY published_at DESC, id DESC LIMIT %s) p) AS page").format(
            counts=sql.SQL(" UNION ALL ").join(counts), branches=sql.SQL(" UNION ALL ").join(branches))
    return statement, count_params + [TOTAL_CAP + 1] + params + [limit + 1]


def search_statement(q, rubric, kind, after, limit):
    """Best first among the most recent ``RANK_CANDIDATES`` matches; plus their count."""
    branches, params = [], []
    tsquery = sql.SQL("websearch_to_tsquery({}, %s)").format(sql.Literal(TS_CONFIG))
    for table_key, material_type in tables_for(kind):
        where, args = _filters(table_key, material_type, rubric)
        # The query inline (not from a CTE): the planner sees how common its terms are and picks
        # the GIN index for rare ones, the recency index (stopping early) for common ones.
        params += [q, q] + args + [RANK_CANDIDATES + 1]
        branches.append(sql.SQL(
            "(SELECT id, {kind} AS kind, published_at, ts_rank(search, {tsquery}) AS rank "
            "FROM {table} WHERE search @@ {tsquery} AND {where} "
            "ORDER BY published_at DESC, id DESC LIMIT %s)").format(
                kind=sql.Literal(table_key), table=sql.Identifier(TABLES[table_key]), tsquery=tsquery,
                where=sql.SQL(" AND ").join(where)))
    keyset, keyset_params = sql.SQL("true"), []
    if after is not None:
        keyset = sql.SQL("(rank < %s::real OR (rank = %s::real AND (published_at, id) < (%s, %s::uuid)))")
        keyset_params = [after["rank"], after["rank"], after["published_at"], after["id"]]
    statement = sql.SQL(
        "WITH candidates AS MATERIALIZED (SELECT * FROM ({branches}) u "
        "ORDER BY published_at DESC, id DESC LIMIT %s) "
        "SELECT (SELECT count(*) FROM candidates) AS total, "
        "(SELECT coalesce(json_agg(p ORDER BY p.rank::real DESC, p.published_at DESC, p.id DESC), '[]') FROM "
        "(SELECT id, kind, published_at, rank::text AS rank FROM candidates WHERE {keyset} "
        "ORDER BY candidates.rank DESC, published_at DESC, id DESC LIMIT %s) p) AS page").format(
            branches=sql.SQL(" UNION ALL ").join(branches), keyset=keyset)
    return statement, params + [RANK_CANDIDATES + 1] + keyset_params + [limit + 1]


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
    statement, params = (search_statement(q, rubric, kind, after, limit) if q
                         else browse_statement(rubric, kind, after, limit))
    cur.execute(statement, params)
    result = cur.fetchone()
    rows = [{**r, "published_at": datetime.fromisoformat(r["published_at"])} for r in result["page"]]
    return page_of(result["total"], rows, limit, key)
