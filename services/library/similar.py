"""Similar solved cases and materials for a new case: the system's first automatic answer
(seed 6.2, step 1), "what worked" first.

Text: the new case's own words (stemmed by the library's text search configuration) are its
terms; words found in more than ``COMMON_TERM_FREQUENCY`` of the library's items are left out,
like stop words, and the others weigh by how rare they are (``term_weights``: the planner's
statistics of the ``search`` column, ``pg_stats.most_common_elems``, so no scan; a word the case
repeats counts twice). Candidates contain a term or share a rubric. Each gets an absolute
relevance, comparable from one query to the next (not relative to the best candidate: a weak
best match stays weak)::

    relevance    = TEXT_WEIGHT * text_score + RUBRIC_WEIGHT * rubric_score
                   (no rubrics asked: text_score alone)
    text_score   = min(1, weight of the terms found / (FULL_TEXT_SHARE * weight of all terms)),
                   a term found only outside the essence and question (a material's title)
                   counting BODY_TERM_WEIGHT; 0 when the item shares one word the case says once
    rubric_score = RUBRIC_AREA + (1 - RUBRIC_AREA) * shared / the case's rubrics if it shares
                   any (the same area; the stray rubric a mentee ticks decides little), else 0

Nothing below ``MIN_RELEVANCE`` is shown: shared rubrics alone (0.4) are not enough, and
neither are a few common words without a shared rubric; "no similar case yet" is then the
honest answer. Among the relevant, what worked comes first::

    score   = relevance + OUTCOME_WEIGHT * (outcome - 0.5)
    outcome = mean of: the problem solved (yes 1, partly 0.5, no 0) and the solutions' mean
              helpfulness ((h - 1) / 4, from the author's reflection); 0.5 if neither is known
              (a material a moderator added)

The author's own items (``exclude_authors``: the library keeps each item's author for this
alone and never shows it) are left out. Each suggestion says why (``reasons``):
``shared_rubrics``, ``similar_words``, ``problem_solved`` / ``problem_partly_solved``,
``helpful_solution`` (rated 4 or 5). The weights and the floor were chosen on the labelled Russian
and English set of bench/bench_similar_quality.py, which measures them beside the relative
ranking they replaced (figures in bench/RESULTS.md).
"""

import math

from psycopg2 import sql

from contracts.vocabulary import SIMILAR_REASONS
from services.common.text_search import or_query
from services.library.search import CASE, MATERIAL
from services.library.tables import TS_CONFIG

TEXT_WEIGHT, RUBRIC_WEIGHT = 0.6, 0.4
FULL_TEXT_SHARE = 0.5
BODY_TERM_WEIGHT = 0.5
MIN_RELEVANCE = 0.45
OUTCOME_WEIGHT = 0.1
MIN_SHARED_TERMS = 2  # one word in common (said once) is a coincidence, not a topic
MAX_REPEATS = 2
RUBRIC_AREA = 0.85  # sharing any rubric: the same area; covering more of the case's rubrics adds the rest
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


def term_weights(terms, frequencies, repeats=None):
    """How much each term says about the topic: ``ln(1/f) / ln(1/f_rare)`` (0..1), with ``f`` the
    share of the library's items holding it (``frequencies``: the planner's statistics, which list
    the commoner lexemes) and ``f_rare`` the rarest share listed; unlisted terms are rare (1.0);
    without statistics (a new library) 1. A term the case repeats (``repeats``) counts twice at most."""
    repeats = repeats or {}
    listed = [f for f in frequencies.values() if f and 0 < f < 1]
    rare = min(listed) if listed else None
    weights = {}
    for t in terms:
        idf = 1.0 if rare is None else math.log(1 / max(frequencies.get(t) or rare, rare)) / math.log(1 / rare)
        weights[t] = idf * min(repeats.get(t, 1), MAX_REPEATS)
    return weights


def text_score(head_terms, terms, weights):
    """How much of the query's weighted terms (``weights``) an item holds: ``head_terms`` found in its
    essence and question (a material's title), ``terms`` found anywhere; 1.0 from ``FULL_TEXT_SHARE``
    of the query's weight on."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    head = set(head_terms)
    found = sum(weights.get(t, 0.0) * (1.0 if t in head else BODY_TERM_WEIGHT) for t in set(terms) | head)
    return min(1.0, found / (FULL_TEXT_SHARE * total))


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


def assess(candidate, weights, asked_rubrics, repeats=None):
    """One candidate (a dict with id, kind, rubrics, published_at, head_terms, terms, problem_solved,
    helpfulness) scored, with its reasons; ``weights``: the query's terms and their weights,
    ``repeats``: how often the case says each (a single shared word said once is no text match)."""
    shared = set(candidate["head_terms"]) | set(candidate["terms"])
    said = sum(min(repeats.get(t, 1), MAX_REPEATS) for t in shared) if repeats is not None else len(shared)
    text = text_score(candidate["head_terms"], candidate["terms"], weights) if said >= MIN_SHARED_TERMS else 0.0
    matched = [r for r in asked_rubrics if r in set(candidate["rubrics"])]
    rubric = RUBRIC_AREA + (1 - RUBRIC_AREA) * len(matched) / len(asked_rubrics) if matched else 0.0
    relevance = TEXT_WEIGHT * text + RUBRIC_WEIGHT * rubric if asked_rubrics else text
    worked = outcome(candidate.get("problem_solved"), candidate.get("helpfulness"))
    return {
        "id": candidate["id"],
        "kind": candidate["kind"],
        "published_at": candidate["published_at"],
        "score": round(relevance + OUTCOME_WEIGHT * (worked - NEUTRAL_OUTCOME), 4),
        "relevance": round(relevance, 4),
        "text_score": round(text, 4),
        "rubric_score": round(rubric, 4),
        "outcome_score": round(worked, 4),
        "matched_rubrics": matched,
        "reasons": reasons_for(text, matched, candidate.get("problem_solved"), candidate.get("helpfulness")),
    }


def rank_candidates(candidates, weights, asked_rubrics, limit, repeats=None, min_relevance=MIN_RELEVANCE):
    """The best ``limit`` candidates at or above ``min_relevance``, best first (then newest)."""
    scored = [
        s for s in (assess(c, weights, asked_rubrics, repeats) for c in candidates) if s["relevance"] >= min_relevance
    ]
    scored.sort(key=lambda s: (-s["score"], -s["relevance"], -s["published_at"].timestamp(), s["id"]))
    return scored[:limit]


# ---- running them ----------------------------------------------------------------------------


def terms_of(cur, text):
    """The text's significant terms, their weights (``term_weights``) and how often it says each."""
    cur.execute(
        f"SELECT lexeme, coalesce(array_length(positions, 1), 1) AS n FROM unnest(to_tsvector('{TS_CONFIG}', %s))",
        (text,),
    )
    counts = [(r["lexeme"], r["n"]) for r in cur.fetchall()]
    # the listed shares of the text's lexemes (the higher of the two tables), and the rarest listed
    cur.execute(
        "SELECT u.lexeme, max(u.frequency) AS frequency FROM pg_stats s, "
        "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(lexeme, frequency) "
        "WHERE s.tablename = ANY(%s) AND s.attname = 'search' AND u.lexeme IS NOT NULL "
        "AND (u.lexeme = ANY(%s) OR u.frequency = (SELECT min(f) FROM unnest(s.most_common_elem_freqs) f)) "
        "GROUP BY u.lexeme",
        (list(TABLES.values()), [lex for lex, _ in counts]),
    )
    frequencies = {r["lexeme"]: r["frequency"] for r in cur.fetchall()}
    terms = pick_terms(counts, {lex for lex, f in frequencies.items() if f > COMMON_TERM_FREQUENCY})
    repeats = dict(counts)
    return terms, term_weights(terms, frequencies, repeats), repeats


def candidates_statement(terms, rubrics, exclude_authors=()):
    """Items holding a term or sharing a rubric (the most recent of each branch), with the terms
    each holds (in its essence and question, and anywhere) and its outcome."""
    query = or_query(terms)
    branches, params = [], []
    for kind, table in TABLES.items():
        select = sql.SQL(
            "SELECT id::text, {kind} AS kind, rubrics, published_at, problem_solved, helpfulness, "
            "ARRAY(SELECT l FROM unnest(tsvector_to_array(ts_filter(search, '{{a}}'))) l "
            "      WHERE l = ANY(%s::text[])) AS head_terms, "
            "ARRAY(SELECT l FROM unnest(tsvector_to_array(search)) l WHERE l = ANY(%s::text[])) AS terms "
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
    terms, weights, repeats = terms_of(cur, text)
    if not terms and not rubrics:
        return []
    statement, params = candidates_statement(terms, rubrics, exclude_authors)
    cur.execute(statement, params)
    return rank_candidates(cur.fetchall(), weights, list(rubrics), limit, repeats)
