"""Similar solved cases and materials for a new case: the system's first automatic answer
(seed 6.2, step 1), "what worked" first.

Text: the new case's own words (stemmed by the library's text search configuration) are its
terms; words found in more than ``COMMON_TERM_FREQUENCY`` of the library's items (read from the
planner's statistics of the ``search`` column, ``pg_stats.most_common_elems``: no scan) say
nothing about the topic and are left out, like stop words. Candidates contain a term or share a
rubric. Each gets an absolute relevance, comparable from one query to the next (not relative to
the best candidate: a weak best match is still weak)::

    relevance    = TEXT_WEIGHT * text_score + RUBRIC_WEIGHT * rubric_score
                   (no rubrics asked: text_score alone)
    text_score   = min(1, found terms / (FULL_TEXT_SHARE * the query's terms)), a term found
                   only outside the item's essence and question (a material's title) counting
                   BODY_TERM_WEIGHT
    rubric_score = shared rubrics / the new case's rubrics

Nothing below ``MIN_RELEVANCE`` is shown: shared rubrics alone (0.4) are not enough, and
neither is a common word or two without a shared rubric; "no similar case yet" is then the
honest answer. Among the relevant, what worked comes first::

    score   = relevance * (1 - OUTCOME_WEIGHT + OUTCOME_WEIGHT * outcome)
    outcome = mean of: the problem solved (yes 1, partly 0.5, no 0) and the solutions'
              mean helpfulness ((h - 1) / 4, from the author's reflection); 0.5 if neither is
              known (a material a moderator added)

The author's own items (``exclude_authors``: the library keeps each item's author for this
alone and never shows it) are left out. Each suggestion says why (``reasons``):
``shared_rubrics``, ``similar_words``, ``problem_solved`` / ``problem_partly_solved``,
``helpful_solution`` (rated 4 or 5). Measured on a labelled Russian and English set against
the relative ranking it replaced (bench/bench_similar_quality.py; figures in bench/RESULTS.md).
"""
from psycopg2 import sql

from contracts.vocabulary import SIMILAR_REASONS
from services.library.search import CASE, MATERIAL
from services.library.tables import TS_CONFIG

TEXT_WEIGHT, RUBRIC_WEIGHT = 0.6, 0.4
FULL_TEXT_SHARE = 0.5
BODY_TERM_WEIGHT = 0.5
MIN_RELEVANCE = 0.45
OUTCOME_WEIGHT = 0.3
SOLVED = {"yes": 1.0, "partly": 0.5, "no": 0.0}
NEUTRAL_OUTCOME = 0.5
HELPFUL = 4  # a solution rated this or better is "helpful"
MAX_TERMS = 24
MIN_TERM_LENGTH = 3
COMMON_TERM_FREQUENCY = 0.2
TEXT_CANDIDATES = 500
RUBRIC_CANDIDATES = 100
TABLES = {CASE: "library_entries", MATERIAL: "library_materials"}
SHARED_RUBRICS, SIMILAR_WORDS, PROBLEM_SOLVED, PROBLEM_PARTLY_SOLVED, HELPFUL_SOLUTION = SIMILAR_REASONS


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


def text_score(head_hits, hits, terms):
    """How much of the query's ``terms`` an item holds: ``head_hits`` in its essence and question
    (a material's title), ``hits`` anywhere; 1.0 from ``FULL_TEXT_SHARE`` of them on."""
    if terms <= 0:
        return 0.0
    found = head_hits + BODY_TERM_WEIGHT * max(hits - head_hits, 0)
    return min(1.0, found / max(1.0, FULL_TEXT_SHARE * terms))


def outcome(problem_solved, helpfulness):
    """What the author reported of it, 0..1 (module docstring); neutral when nothing is known."""
    parts = [SOLVED[problem_solved]] if problem_solved in SOLVED else []
    if helpfulness is not None:
        parts.append((float(helpfulness) - 1) / 4)
    return sum(parts) / len(parts) if parts else NEUTRAL_OUTCOME


def reasons_for(text, matched, problem_solved, helpfulness):
    reasons = []
    if matched:
        reasons.append(SHARED_RUBRICS)
    if text > 0:
        reasons.append(SIMILAR_WORDS)
    if problem_solved == "yes":
        reasons.append(PROBLEM_SOLVED)
    elif problem_solved == "partly":
        reasons.append(PROBLEM_PARTLY_SOLVED)
    if helpfulness is not None and helpfulness >= HELPFUL:
        reasons.append(HELPFUL_SOLUTION)
    return reasons


def assess(candidate, terms, asked_rubrics):
    """One candidate (a dict with id, kind, rubrics, published_at, head_hits, hits, problem_solved,
    helpfulness) scored, with its reasons; ``terms``: how many terms the query has."""
    text = text_score(candidate["head_hits"], candidate["hits"], terms)
    matched = [r for r in asked_rubrics if r in set(candidate["rubrics"])]
    rubric = len(matched) / len(asked_rubrics) if asked_rubrics else 0.0
    relevance = TEXT_WEIGHT * text + RUBRIC_WEIGHT * rubric if asked_rubrics else text
    worked = outcome(candidate.get("problem_solved"), candidate.get("helpfulness"))
    return {"id": candidate["id"], "kind": candidate["kind"], "published_at": candidate["published_at"],
            "score": round(relevance * (1 - OUTCOME_WEIGHT + OUTCOME_WEIGHT * worked), 4),
            "relevance": round(relevance, 4), "text_score": round(text, 4), "rubric_score": round(rubric, 4),
            "outcome_score": round(worked, 4), "matched_rubrics": matched,
            "reasons": reasons_for(text, matched, candidate.get("problem_solved"), candidate.get("helpfulness"))}


def rank_candidates(candidates, terms, asked_rubrics, limit, min_relevance=MIN_RELEVANCE):
    """The best ``limit`` candidates at or above ``min_relevance``, best first (then newest)."""
    scored = [s for s in (assess(c, terms, asked_rubrics) for c in candidates) if s["relevance"] >= min_relevance]
    scored.sort(key=lambda s: (-s["score"], -s["relevance"], -s["published_at"].timestamp(), s["id"]))
    return scored[:limit]


# ---- running them ----------------------------------------------------------------------------

def terms_of(cur, text):
    cur.execute(f"SELECT lexeme, coalesce(array_length(positions, 1), 1) AS n "
                f"FROM unnest(to_tsvector('{TS_CONFIG}', %s))", (text,))
    counts = [(r["lexeme"], r["n"]) for r in cur.fetchall()]
    cur.execute("SELECT DISTINCT u.lexeme FROM pg_stats s, "
                "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(lexeme, frequency) "
                "WHERE s.tablename = ANY(%s) AND s.attname = 'search' AND u.lexeme IS NOT NULL "
                "AND u.frequency > %s", (list(TABLES.values()), COMMON_TERM_FREQUENCY))
    return pick_terms(counts, {r["lexeme"] for r in cur.fetchall()})


def candidates_statement(terms, rubrics, exclude_authors=()):
    """Items holding a term or sharing a rubric (the most recent of each branch), with how many
    of the terms each holds (in its essence and question, and anywhere) and its outcome."""
    query = or_query(terms)
    branches, params = [], []
    for kind, table in TABLES.items():
        select = sql.SQL(
            "SELECT id::text, {kind} AS kind, rubrics, published_at, problem_solved, helpfulness, "
            "(SELECT count(*) FROM unnest(tsvector_to_array(ts_filter(search, '{{a}}'))) l "
            " WHERE l = ANY(%s::text[])) AS head_hits, "
            "(SELECT count(*) FROM unnest(tsvector_to_array(search)) l WHERE l = ANY(%s::text[])) AS hits "
            "FROM {table} WHERE withdrawn_at IS NULL AND (author_id IS NULL OR author_id <> ALL(%s::text[])) AND "
        ).format(kind=sql.Literal(kind), table=sql.Identifier(table))
        common = [list(terms), list(terms), sorted(set(exclude_authors))]
        if query:
            branches.append(sql.SQL("({} search @@ %s::tsquery ORDER BY published_at DESC LIMIT %s)").format(select))
            params += common + [query, TEXT_CANDIDATES]
        if rubrics:
            branches.append(sql.SQL("({} rubrics && %s ORDER BY published_at DESC LIMIT %s)").format(select))
            params += common + [list(rubrics), RUBRIC_CANDIDATES]
    return sql.SQL(" UNION ").join(branches), params


def find(cur, text, rubrics, limit, exclude_authors=()):
    """Scored references (id, kind, score, relevance, text_score, rubric_score, outcome_score,
    matched_rubrics, reasons), best first; none below the floor; none of ``exclude_authors``."""
    terms = terms_of(cur, text)
    if not terms and not rubrics:
        return []
    statement, params = candidates_statement(terms, rubrics, exclude_authors)
    cur.execute(statement, params)
    return rank_candidates(cur.fetchall(), len(terms), list(rubrics), limit)
