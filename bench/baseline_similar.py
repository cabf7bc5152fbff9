"""Today's similar cases, kept for bench/bench_similar_quality.py only (the service's
services/library/similar.py before the absolute relevance, its floor and the outcome): the
baseline the new ranking is measured beside, in the same run.

Text: the new case's own words (stemmed by the library's text search configuration) become an
OR query; words found in more than ``COMMON_TERM_FREQUENCY`` of the library's items (read from
the planner's statistics of the ``search`` column, ``pg_stats.most_common_elems``: no scan) say
nothing about the topic and are left out, like stop words. Candidates match the query or share a
rubric; each gets

    score = TEXT_WEIGHT * text_score + RUBRIC_WEIGHT * rubric_score
    text_score   = ts_rank / the best ts_rank among the candidates (0..1)
    rubric_score = shared rubrics / the new case's rubrics (0..1)

(without rubrics asked, score = text_score). Measured on hand-labelled Russian and English
cases (bench/bench_similar_quality.py), this OR-query ranking put the right topic first more
often than pg_trgm's similarity or word_similarity, and needs no extension.
"""

from psycopg2 import sql

from services.library.search import CASE, MATERIAL
from services.library.tables import TS_CONFIG

TEXT_WEIGHT, RUBRIC_WEIGHT = 0.7, 0.3
MAX_TERMS = 24
MIN_TERM_LENGTH = 3
COMMON_TERM_FREQUENCY = 0.2
TEXT_CANDIDATES = 500
RUBRIC_CANDIDATES = 100
TABLES = {CASE: "library_entries", MATERIAL: "library_materials"}


# ---- pure pieces -----------------------------------------------------------------------------


def pick_terms(lexeme_counts, common=(), max_terms=MAX_TERMS):
    """The significant lexemes of a text: most repeated first, short ones and numbers dropped,
    the library's commonest words dropped unless nothing else is left."""
    usable = [(lex, n) for lex, n in lexeme_counts if len(lex) >= MIN_TERM_LENGTH and not lex.isdigit()]
    usable.sort(key=lambda item: (-item[1], item[0]))
    common = set(common)
    rare = [lex for lex, _ in usable if lex not in common]
    return (rare or [lex for lex, _ in usable])[:max_terms]


def or_query(terms):
    """A tsquery text matching any of the (already normalized) lexemes, quoted for the parser."""
    return " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)


def score(rank, best_rank, item_rubrics, asked_rubrics):
    """``(score, text_score, rubric_score, matched_rubrics)`` of one candidate."""
    text_score = rank / best_rank if best_rank > 0 else 0.0
    matched = [r for r in asked_rubrics if r in set(item_rubrics)]
    if not asked_rubrics:
        return round(text_score, 4), round(text_score, 4), 0.0, []
    rubric_score = len(matched) / len(asked_rubrics)
    return (
        round(TEXT_WEIGHT * text_score + RUBRIC_WEIGHT * rubric_score, 4),
        round(text_score, 4),
        round(rubric_score, 4),
        matched,
    )


def rank_candidates(candidates, asked_rubrics, limit):
    """The best ``limit`` candidates (dicts with id, kind, rubrics, rank, published_at), scored."""
    best = max((c["rank"] for c in candidates), default=0.0)
    scored = []
    for c in candidates:
        total, text_score, rubric_score, matched = score(c["rank"], best, c["rubrics"], asked_rubrics)
        scored.append(
            {
                "id": c["id"],
                "kind": c["kind"],
                "published_at": c["published_at"],
                "score": total,
                "text_score": text_score,
                "rubric_score": rubric_score,
                "matched_rubrics": matched,
            }
        )
    scored.sort(key=lambda s: (-s["score"], -s["published_at"].timestamp(), s["id"]))
    return scored[:limit]


# ---- running them ----------------------------------------------------------------------------


def terms_of(cur, text):
    cur.execute(
        f"SELECT lexeme, coalesce(array_length(positions, 1), 1) AS n FROM unnest(to_tsvector('{TS_CONFIG}', %s))",
        (text,),
    )
    counts = [(r["lexeme"], r["n"]) for r in cur.fetchall()]
    cur.execute(
        "SELECT DISTINCT u.lexeme FROM pg_stats s, "
        "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(lexeme, frequency) "
        "WHERE s.tablename = ANY(%s) AND s.attname = 'search' AND u.lexeme IS NOT NULL "
        "AND u.frequency > %s",
        (list(TABLES.values()), COMMON_TERM_FREQUENCY),
    )
    return pick_terms(counts, {r["lexeme"] for r in cur.fetchall()})


def candidates_statement(query, rubrics):
    branches, params = [], []
    for kind, table in TABLES.items():
        select = sql.SQL(
            "SELECT id::text, {kind} AS kind, rubrics, published_at, {rank} AS rank FROM {table} "
            "WHERE withdrawn_at IS NULL AND "
        ).format(
            kind=sql.Literal(kind),
            table=sql.Identifier(table),
            rank=sql.SQL("ts_rank(search, %s::tsquery)") if query else sql.SQL("0::real"),
        )
        rank_params = [query] if query else []
        if query:
            branches.append(sql.SQL("({} search @@ %s::tsquery ORDER BY published_at DESC LIMIT %s)").format(select))
            params += rank_params + [query, TEXT_CANDIDATES]
        if rubrics:
            branches.append(sql.SQL("({} rubrics && %s ORDER BY published_at DESC LIMIT %s)").format(select))
            params += rank_params + [list(rubrics), RUBRIC_CANDIDATES]
    return sql.SQL(" UNION ").join(branches), params


def find(cur, text, rubrics, limit):
    """Scored references (id, kind, score, text_score, rubric_score, matched_rubrics), best first."""
    query = or_query(terms_of(cur, text))
    if not query and not rubrics:
        return []
    statement, params = candidates_statement(query, rubrics)
    cur.execute(statement, params)
    return rank_candidates(cur.fetchall(), list(rubrics), limit)
