"""The library's pure search pieces: cursors, the statements' parameters, pages, and similar
cases' terms and scores."""

import math
from datetime import datetime, timedelta, timezone

import pytest
from psycopg2 import sql

from contracts.errors import InvalidInput
from services.library import search, similar

AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def placeholders(composed):
    """How many %s a psycopg2 composition holds (without a connection to render it)."""
    if isinstance(composed, sql.Composed):
        return sum(placeholders(part) for part in composed.seq)
    if isinstance(composed, sql.SQL):
        return composed.string.count("%s")
    return 0


def row(rank=None, at=AT, id_="8f7b2f8e-2b8a-4a8e-9d59-6b3f7c9f0a11"):
    return {"id": id_, "kind": "solved_case", "published_at": at, "rank": rank}


# ---- cursors ----------------------------------------------------------------------------------


def test_a_cursor_names_the_last_rows_place_and_its_query():
    key = search.fingerprint("homework", None, None)
    cursor = search.encode_cursor(row(rank="0.0607927"), key)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe as it is
    assert search.decode_cursor(cursor, key, ranked=True) == {
        "published_at": AT,
        "id": "8f7b2f8e-2b8a-4a8e-9d59-6b3f7c9f0a11",
        "rank": "0.0607927",
    }
    browse_key = search.fingerprint(None, "education-law", None)
    browse = search.encode_cursor(row(), browse_key)
    assert search.decode_cursor(browse, browse_key, ranked=False) == {
        "published_at": AT,
        "id": "8f7b2f8e-2b8a-4a8e-9d59-6b3f7c9f0a11",
    }


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c, k: (c, search.fingerprint("other words", None, None), True),  # another query's cursor
        lambda c, k: (c, k, False),  # a search cursor used to browse
        lambda c, k: ("not base64 at all!", k, True),
        lambda c, k: (c[:-4], k, True),  # truncated
        lambda c, k: ("eyJmIjoiYWJjIn0", k, True),  # {"f":"abc"}: valid JSON, not ours
        lambda c, k: (search.encode_cursor(row(rank="0.5", id_="not-a-uuid"), k), k, True),
    ],
)
def test_a_cursor_of_another_query_or_a_broken_one_is_refused(tamper):
    key = search.fingerprint("homework", None, None)
    cursor = search.encode_cursor(row(rank="0.5"), key)
    with pytest.raises(InvalidInput) as refused:
        search.decode_cursor(*tamper(cursor, key))
    assert set(refused.value.fields) == {"cursor"}


def test_a_rank_that_is_not_a_number_is_refused():
    key = search.fingerprint("homework", None, None)
    with pytest.raises(InvalidInput):
        search.decode_cursor(search.encode_cursor(row(rank="1; DROP TABLE x"), key), key, ranked=True)


def test_the_fingerprint_covers_words_rubric_and_kind():
    prints = {
        search.fingerprint(q, r, k)
        for q, r, k in [("a", None, None), ("b", None, None), ("a", "education-law", None), ("a", None, "book")]
    }
    assert len(prints) == 4
    assert search.fingerprint(None, None, None) == search.fingerprint("", None, None)


# ---- statements -------------------------------------------------------------------------------


def test_kinds_select_tables_and_material_types():
    assert search.tables_for(None) == [("solved_case", None), ("material", None)]
    assert search.tables_for("solved_case") == [("solved_case", None)]
    assert search.tables_for("material") == [("material", None)]
    assert search.tables_for("book") == [("material", "book")]


@pytest.mark.parametrize("rubric", [None, "education-law"])
@pytest.mark.parametrize("kind", [None, "solved_case", "material", "link"])
@pytest.mark.parametrize("after", [None, {"published_at": AT, "id": "x", "rank": "0.5"}])
def test_every_statement_has_a_parameter_for_each_placeholder(rubric, kind, after):
    statement, params = search.search_statement("homework", rubric, kind, after, 20)
    assert placeholders(statement) == len(params)
    assert params[-1] == 21  # one more row than asked: is there a next page?
    statement, params = search.browse_statement(rubric, kind, after, 20)
    assert placeholders(statement) == len(params)
    assert params[-1] == 21
    assert search.TOTAL_CAP + 1 in params  # the count stops past the cap


def test_only_the_most_recent_candidates_are_ranked():
    statement, params = search.search_statement("homework", None, None, None, 20)
    assert params.count(search.RANK_CANDIDATES + 1) == 3  # each table, then their union
    _, only_cases = search.search_statement("homework", None, "solved_case", None, 20)
    assert only_cases.count(search.RANK_CANDIDATES + 1) == 2


# ---- pages ------------------------------------------------------------------------------------


def test_a_page_has_a_cursor_only_when_more_rows_follow():
    key = search.fingerprint(None, None, None)
    rows = [row(at=AT - timedelta(minutes=i), id_=f"00000000-0000-0000-0000-00000000000{i}") for i in range(3)]
    full = search.page_of(3, rows, 2, key)
    assert [r["id"] for r in full["rows"]] == [rows[0]["id"], rows[1]["id"]]
    assert search.decode_cursor(full["next_cursor"], key, ranked=False)["id"] == rows[1]["id"]
    assert full["total"] == 3 and full["total_exact"] is True
    last = search.page_of(3, rows[:2], 2, key)
    assert last["next_cursor"] is None and len(last["rows"]) == 2
    capped = search.page_of(search.TOTAL_CAP + 1, rows[:1], 2, key)
    assert capped["total"] == search.TOTAL_CAP and capped["total_exact"] is False


# ---- similar cases ----------------------------------------------------------------------------


def test_significant_terms_skip_short_numeric_and_common_words():
    counts = [("homework", 1), ("ученик", 3), ("7", 2), ("on", 5), ("chess", 2), ("2024", 1), ("club", 2)]
    assert similar.pick_terms(counts) == ["ученик", "chess", "club", "homework"]  # most repeated first
    assert similar.pick_terms(counts, common={"ученик", "homework"}) == ["chess", "club"]
    assert similar.pick_terms(counts, common={"ученик", "homework", "chess", "club"}) == [
        "ученик",
        "chess",
        "club",
        "homework",
    ]  # only common words: better than nothing
    assert similar.pick_terms(counts, max_terms=2) == ["ученик", "chess"]
    assert similar.pick_terms([]) == []


def test_the_or_query_quotes_every_lexeme():
    assert similar.or_query(["chess", "кружок"]) == "'chess' | 'кружок'"
    assert similar.or_query(["o'neil", "a\\b"]) == "'o''neil' | 'a\\\\b'"
    assert similar.or_query([]) == ""


TEN = {f"t{n}": 1.0 for n in range(10)}  # ten terms of equal weight


def test_the_text_score_is_absolute_not_relative_to_the_best_match():
    """Ten terms: five found in the essence or question is a full match; a weak best match stays weak."""
    assert similar.text_score(["t0", "t1", "t2", "t3", "t4"], [], TEN) == 1.0
    assert similar.text_score(["t0"], ["t0"], TEN) == 0.2  # one word of ten, however good the others are
    assert similar.text_score([], ["t0", "t1"], TEN) == 0.2  # words only in the solutions count half
    assert similar.text_score(["t0"], [], {"t0": 1.0}) == 1.0 and similar.text_score([], [], TEN) == 0.0
    assert similar.text_score(["x"], ["y"], {}) == 0.0


def test_common_words_weigh_less_repeated_ones_more():
    """ln(1/f) / ln(1/f_rare): a word in half the items says little; unlisted words are rare."""
    weights = similar.term_weights(
        ["урок", "травл", "чат"], {"урок": 0.5, "чат": 0.01, "other": 0.0001}, repeats={"травл": 3}
    )
    assert weights["травл"] == 2.0  # unlisted: rare, 1.0; said three times: counted twice at most
    assert weights["урок"] == pytest.approx(math.log(2) / math.log(10000))
    assert weights["чат"] == pytest.approx(0.5)
    assert similar.term_weights(["a", "b"], {}) == {"a": 1.0, "b": 1.0}  # no statistics yet


def test_the_outcome_is_what_the_author_reported():
    assert similar.outcome("yes", 5) == 1.0 and similar.outcome("no", 1) == 0.0
    assert similar.outcome("partly", None) == 0.5 and similar.outcome("yes", 3) == 0.75
    assert similar.outcome(None, None) == similar.NEUTRAL_OUTCOME  # a moderator's material


def item(item_id, rubrics, head=(), anywhere=(), solved="yes", helpfulness=None, published_at=AT):
    return {
        "id": item_id,
        "kind": "solved_case",
        "rubrics": rubrics,
        "head_terms": list(head),
        "terms": list(head) + list(anywhere),
        "problem_solved": solved,
        "helpfulness": helpfulness,
        "published_at": published_at,
    }


def test_relevance_weighs_text_and_shared_rubrics_and_says_why():
    weights = {f"t{n}": 1.0 for n in range(8)}
    found = similar.assess(
        item("a", ["education-law", "self-management"], ["t0", "t1"], ["t2"], "yes", 4.5),
        weights,
        ["self-management", "families-at-risk"],
    )
    text = (2 + 0.5) / 4
    rubric = similar.RUBRIC_AREA + (1 - similar.RUBRIC_AREA) * 0.5
    assert found["text_score"] == round(text, 4) and found["rubric_score"] == round(rubric, 4)
    assert found["relevance"] == round(0.6 * text + 0.4 * rubric, 4)
    assert found["outcome_score"] == round((1 + 3.5 / 4) / 2, 4)
    assert found["score"] == pytest.approx(found["relevance"] + 0.1 * (found["outcome_score"] - 0.5), abs=1e-4)
    assert found["matched_rubrics"] == ["self-management"]
    assert found["reasons"] == ["shared_rubrics", "similar_words", "problem_solved", "helpful_solution"]
    no_rubrics = similar.assess(item("b", ["x"], ["t0", "t1"], [], "partly"), {"t0": 1.0, "t1": 1.0}, [])
    assert no_rubrics["relevance"] == 1.0 and no_rubrics["reasons"] == ["similar_words", "problem_partly_solved"]


def test_one_shared_word_said_once_is_no_text_match():
    weights = {"choir": 1.0, "citi": 1.0}
    assert similar.assess(item("a", ["x"], ["citi"]), weights, [], {"choir": 1, "citi": 1})["text_score"] == 0.0
    assert similar.assess(item("a", ["x"], ["citi"]), weights, [], {"choir": 1, "citi": 2})["text_score"] == 1.0


def test_nothing_below_the_floor_a_shared_rubric_alone_or_a_stray_word_is_not_enough():
    law = ["education-law"]
    rubric_only = item("rubric-only", law)
    stray_words = item("stray-words", ["self-management"], ["t0", "t1"])  # two words of ten, no shared rubric
    both = item("both", law, ["t0", "t1"])
    assert [r["id"] for r in similar.rank_candidates([rubric_only, stray_words, both], TEN, law, 5)] == ["both"]
    assert similar.rank_candidates([rubric_only, stray_words], TEN, law, 5) == []  # "no similar case yet"


def test_what_worked_comes_first_among_equally_relevant_then_the_newest():
    law = ["education-law"]
    older = AT - timedelta(days=1)
    words = ["t0", "t1", "t2"]
    candidates = [
        item("failed", law, words, (), "no", 1),
        item("solved", law, words, (), "yes", 5, older),
        item("partly", law, words, (), "partly", 3),
        item("solved-new", law, words, (), "yes", 5),
    ]
    ranked = similar.rank_candidates(candidates, {w: 1.0 for w in words + ["t3", "t4", "t5"]}, law, 3)
    assert [r["id"] for r in ranked] == ["solved-new", "solved", "partly"]
    assert all(r["relevance"] == 1.0 for r in ranked)  # the same relevance: the outcome orders them
    assert similar.rank_candidates([], TEN, law, 5) == []


def test_a_more_relevant_item_still_beats_a_better_outcome():
    law = ["education-law"]
    close = item("close", law, ["t0", "t1", "t2", "t3"], (), "no", 2)
    loose = item("loose", law, ["t0", "t1"], (), "yes", 5)
    assert [r["id"] for r in similar.rank_candidates([loose, close], TEN, law, 2)] == ["close", "loose"]


def test_the_candidates_statement_excludes_the_authors_and_counts_the_terms():
    statement, params = similar.candidates_statement(["chess", "club"], ["education-law"], {"u-2", "u-1"})
    assert placeholders(statement) == len(params)
    assert params.count(["u-1", "u-2"]) == 4  # both tables, both branches
    assert params.count(["chess", "club"]) == 8 and "'chess' | 'club'" in params
    statement, params = similar.candidates_statement([], ["education-law"])
    assert placeholders(statement) == len(params) and params.count([]) == 6  # per table: no terms (twice), nobody


# ---- how each table is read -------------------------------------------------------------------


def sample(kind, hits, sampled=search.SAMPLE_ROWS, size=1_000_000):
    return {"kind": kind, "sampled": sampled, "hits": hits, "size": size}


def test_common_words_are_walked_rare_ones_left_to_the_planner():
    cap = search.RANK_CANDIDATES + 1
    walks = search.plan_walks([sample("solved_case", search.SAMPLE_ROWS // 2), sample("material", 2)])
    assert walks == {"solved_case": max(search.SAMPLE_ROWS, math.ceil(search.WALK_MARGIN * cap / 0.5))}
    assert search.plan_walks([sample("solved_case", 0), sample("material", 0)]) == {}
    # a share where a walk (cap / share rows) costs what the GIN index does (share * size heap reads)
    share = math.sqrt(cap / (search.WALK_COST_RATIO * 1_000_000))
    hits = math.ceil(share * search.SAMPLE_ROWS)
    assert "solved_case" in search.plan_walks([sample("solved_case", hits)])
    assert search.plan_walks([sample("solved_case", hits - 1)]) == {}
    assert search.plan_walks([sample("solved_case", hits, size=10_000)]) == {}  # a small table: GIN is cheap
    # a table smaller than the sample: the walk reads it whole
    assert search.plan_walks([sample("material", 3, sampled=40, size=40)]) == {"material": 2 * search.SAMPLE_ROWS}


def test_only_queries_of_several_words_are_sampled():
    assert not search.sampled("homework") and not search.sampled("  ученики ")
    assert search.sampled("homework parents") and search.sampled('"домашние задания"')
    assert search.sampled("e-learning")  # two words to the parser


def test_a_walked_table_reads_at_most_so_many_rows():
    statement, params = search.search_statement("homework", None, None, None, 20, {"material": 4321})
    assert placeholders(statement) == len(params) and 4321 in params
    assert params.count(search.RANK_CANDIDATES + 1) == 3 and params.count(search.RANK_CANDIDATES) == 1
    statement, params = search.sample_statement("homework", "education-law", "book")
    assert placeholders(statement) == len(params) and params[-1] == search.SAMPLE_ROWS
