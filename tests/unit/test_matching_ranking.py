"""matching's ranking: eligibility (accredited, accepting, capacity, away, excluded), the documented
score (overlap, free capacity, response history shrunk towards neutral) and the fair order of close
scores (fewest recent assignments, then least recently proposed, then score, then id)."""

from datetime import date, datetime, timedelta, timezone

import pytest

from services.matching.ranking import (
    FEWER_RECENT_CASES,
    LESS_RECENTLY_PROPOSED,
    NEUTRAL_SPEED,
    NEW_TO_ROLL,
    PRIOR_RESPONSES,
    RESPONSE_REFERENCE_SECONDS,
    TIE_MARGIN,
    Candidate,
    rank,
    score,
    speed,
)

LAW, ETHICS, DIGITAL = "education-law", "professional-ethics", "digital-technologies"
TODAY = date(2026, 3, 10)
HOUR = 3600.0


def mentor(mentor_id, rubrics, **kw):
    kw.setdefault("accredited", True)
    return Candidate(mentor_id, frozenset(rubrics), **kw)


def ids(proposals):
    return [p["mentor_id"] for p in proposals]


CANDIDATES = [
    mentor("m-a", {LAW, ETHICS}),
    mentor("m-b", {LAW}),
    mentor("m-c", {LAW, ETHICS}),
    mentor("m-d", {ETHICS}, accepting_cases=False),
    mentor("m-e", {DIGITAL}),
]


# ---- the score --------------------------------------------------------------------------


def test_the_score_is_the_documented_weighted_sum():
    assert score(1.0, 0, 3) == round(0.6 + 0.25 + 0.15 * NEUTRAL_SPEED, 4) == 0.925
    assert score(0.5, 0, 3) == 0.625
    assert score(1.0, 2, 4, median_response_seconds=RESPONSE_REFERENCE_SECONDS) == round(0.6 + 0.125 + 0.075, 4)
    assert score(1.0, 0, 3, median_response_seconds=0, responses=1) == round(0.6 + 0.25 + 0.15 * 0.625, 4)


def test_speed_is_neutral_without_history_and_halves_at_a_day():
    assert speed(None) == NEUTRAL_SPEED == speed(RESPONSE_REFERENCE_SECONDS) == 0.5
    assert speed(RESPONSE_REFERENCE_SECONDS, responses=50) == 0.5
    assert speed(3 * RESPONSE_REFERENCE_SECONDS, responses=10**6) == pytest.approx(0.25, abs=1e-5)
    assert speed(HOUR) > speed(2 * HOUR) > speed(None) > speed(2 * RESPONSE_REFERENCE_SECONDS)


def test_speed_trusts_history_in_proportion_to_its_length():
    """One instant answer is not a record: (1 * 1.0 + 3 * 0.5) / 4; a long record nears its own speed."""
    assert speed(0, responses=1) == (1.0 + PRIOR_RESPONSES * NEUTRAL_SPEED) / (1 + PRIOR_RESPONSES) == 0.625
    assert speed(0, responses=0) == speed(0, responses=1)  # a median means at least one answer
    assert speed(0, responses=1) < speed(0, responses=5) < speed(0, responses=100) < 1.0
    assert speed(0, responses=10**6) == pytest.approx(1.0, abs=1e-5)


def test_a_proposal_carries_its_reasons():
    [proposal] = rank(
        [LAW, ETHICS],
        [
            mentor(
                "m-a",
                {LAW, DIGITAL},
                capacity=4,
                load=1,
                recent_assignments=2,
                median_response_seconds=HOUR,
                responses=4,
            )
        ],
        today=TODAY,
    )
    assert proposal == {
        "mentor_id": "m-a",
        "matched_rubrics": [LAW],
        "score": score(0.5, 1, 4, HOUR, 4),
        "load": 1,
        "capacity": 4,
        "recent_assignments": 2,
        "reasons": [],
    }
    [newcomer] = rank([LAW], [mentor("m-b", {LAW})])
    assert newcomer["reasons"] == [NEW_TO_ROLL] and newcomer["recent_assignments"] == 0


# ---- overlap ----------------------------------------------------------------------------


def test_more_overlap_ranks_first_ties_on_id_unrelated_and_not_accepting_left_out():
    proposals = rank([LAW, ETHICS], CANDIDATES, k=5)
    assert ids(proposals) == ["m-a", "m-c", "m-b"]
    assert proposals[0]["matched_rubrics"] == [LAW, ETHICS] and proposals[0]["score"] == 0.925
    assert proposals[2]["matched_rubrics"] == [LAW] and proposals[2]["score"] == 0.625


def test_overlap_is_the_share_of_the_cases_rubrics():
    three = [LAW, ETHICS, DIGITAL]
    [proposal] = rank(three, [mentor("m-a", {LAW, ETHICS})])
    assert proposal["score"] == score(2 / 3, 0, 3)


def test_equal_histories_break_on_mentor_id_whatever_the_input_order():
    same = [mentor(f"m-{c}", {LAW}) for c in "zyxw"]
    assert ids(rank([LAW], same, k=4)) == ["m-w", "m-x", "m-y", "m-z"]
    assert ids(rank([LAW], list(reversed(same)), k=2)) == ["m-w", "m-x"]


# ---- eligibility --------------------------------------------------------------------------


def test_an_unaccredited_mentor_is_never_proposed():
    assert rank([LAW], [mentor("m-a", {LAW}, accredited=False)]) == []
    assert rank([LAW], [Candidate("m-a", frozenset({LAW}))]) == []  # not accredited unless said so


def test_capacity_free_places_rank_and_a_full_mentor_is_never_proposed():
    full = mentor("m-a", {LAW}, capacity=2, load=2)
    over = mentor("m-b", {LAW}, capacity=1, load=3)
    none = mentor("m-c", {LAW}, capacity=0, load=0)
    busy = mentor("m-d", {LAW}, capacity=4, load=3)
    free = mentor("m-e", {LAW}, capacity=4, load=0)
    assert ids(rank([LAW], [full, over, none, busy, free], k=5)) == ["m-e", "m-d"]


def test_free_capacity_can_outweigh_the_id_but_not_much_overlap():
    loaded = mentor("m-a", {LAW, ETHICS}, capacity=4, load=3)
    idle = mentor("m-b", {LAW, ETHICS}, capacity=4, load=0)
    half = mentor("m-c", {LAW}, capacity=4, load=0)
    assert ids(rank([LAW, ETHICS], [loaded, idle, half], k=3)) == ["m-b", "m-a", "m-c"]


def test_a_mentor_away_today_is_never_proposed_inclusive_dates():
    def away(start, end):
        return mentor("m-a", {LAW}, away_periods=((start, end),))

    assert rank([LAW], [away(date(2026, 3, 1), date(2026, 3, 10))], today=TODAY) == []
    assert rank([LAW], [away(date(2026, 3, 10), date(2026, 3, 20))], today=TODAY) == []
    assert ids(rank([LAW], [away(date(2026, 3, 1), date(2026, 3, 9))], today=TODAY)) == ["m-a"]
    assert ids(rank([LAW], [away(date(2026, 3, 11), date(2026, 4, 1))], today=TODAY)) == ["m-a"]


def test_response_history_faster_median_ranks_higher_no_history_neutral():
    fast = mentor("m-c", {LAW}, median_response_seconds=HOUR)
    newcomer = mentor("m-a", {LAW})
    slow = mentor("m-b", {LAW}, median_response_seconds=3 * RESPONSE_REFERENCE_SECONDS)
    assert ids(rank([LAW], [newcomer, slow, fast], k=3)) == ["m-c", "m-a", "m-b"]
    day = mentor("m-0", {LAW}, median_response_seconds=RESPONSE_REFERENCE_SECONDS)
    assert rank([LAW], [day])[0]["score"] == rank([LAW], [newcomer])[0]["score"]  # neutral = one day


def test_colleague_suggestions_relax_capacity_and_accepting_but_not_accreditation_or_absence():
    full = mentor("m-a", {LAW}, capacity=1, load=1)
    closed = mentor("m-b", {LAW}, accepting_cases=False)
    away = mentor("m-c", {LAW}, away_periods=((TODAY, TODAY),))
    unaccredited = mentor("m-d", {LAW}, accredited=False)
    found = rank(
        [LAW],
        [full, closed, away, unaccredited],
        k=5,
        today=TODAY,
        require_free_capacity=False,
        require_accepting=False,
    )
    assert ids(found) == ["m-b", "m-a"]
    assert found[1]["score"] == score(1.0, 1, 1)


# ---- exclusion and k --------------------------------------------------------------------


def test_excluded_mentors_are_never_proposed():
    assert ids(rank([LAW, ETHICS], CANDIDATES, k=5, exclude=["m-a", "m-b"])) == ["m-c"]


def test_exclusion_frees_a_place_within_k_for_the_next_mentor():
    assert ids(rank([LAW], CANDIDATES, k=2)) == ["m-a", "m-b"]
    assert ids(rank([LAW], CANDIDATES, k=2, exclude={"m-a"})) == ["m-b", "m-c"]


@pytest.mark.parametrize("exclude", [["nobody"], None, (), iter([])])
def test_excluding_unknown_ids_or_nothing_changes_nothing(exclude):
    assert rank([LAW], CANDIDATES, k=3, exclude=exclude) == rank([LAW], CANDIDATES, k=3)


def test_excluding_every_fitting_mentor_or_a_case_without_rubrics_proposes_nobody():
    assert rank([LAW], CANDIDATES, k=3, exclude=("m-a", "m-b", "m-c")) == []
    assert rank([], CANDIDATES, k=3) == []
    assert rank([LAW], CANDIDATES, k=0) == []


# ---- the fair order -----------------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_a_tie_goes_to_the_mentor_with_fewest_recent_assignments_not_the_smallest_id():
    busy = mentor("m-a", {LAW}, recent_assignments=4, median_response_seconds=HOUR, responses=6)
    calm = mentor("m-b", {LAW}, recent_assignments=1, median_response_seconds=HOUR, responses=6)
    idle = mentor("m-c", {LAW}, recent_assignments=0, median_response_seconds=HOUR, responses=6)
    proposals = rank([LAW], [busy, calm, idle], k=3)
    assert ids(proposals) == ["m-c", "m-b", "m-a"]
    assert proposals[0]["reasons"] == [FEWER_RECENT_CASES] and proposals[1]["reasons"] == [FEWER_RECENT_CASES]
    assert proposals[2]["reasons"] == []  # nobody left behind it


def test_then_the_least_recently_proposed_never_proposed_first():
    history = dict(median_response_seconds=HOUR, responses=6, recent_assignments=1)
    lately = mentor("m-a", {LAW}, last_proposed_at=T0 + timedelta(days=9), **history)
    long_ago = mentor("m-b", {LAW}, last_proposed_at=T0, **history)
    never = mentor("m-c", {LAW}, **history)
    proposals = rank([LAW], [lately, long_ago, never], k=3)
    assert ids(proposals) == ["m-c", "m-b", "m-a"]
    assert [p["reasons"] for p in proposals] == [[LESS_RECENTLY_PROPOSED], [LESS_RECENTLY_PROPOSED], []]


def test_a_newcomer_ties_with_one_fast_answer_and_gets_the_tie_with_fewer_cases():
    """The pilot year's loop: one instant answer (1.0) outranked everyone without history (0.925)."""
    lucky = mentor("m-a", {LAW}, median_response_seconds=1, responses=1, recent_assignments=1)
    newcomer = mentor("m-z", {LAW})
    first = rank([LAW], [lucky, newcomer], k=2)
    assert first[0]["score"] - first[1]["score"] < TIE_MARGIN or first[1]["score"] - first[0]["score"] < TIE_MARGIN
    assert ids(first) == ["m-z", "m-a"]
    assert first[0]["reasons"] == [FEWER_RECENT_CASES, NEW_TO_ROLL]


def test_fairness_never_overrides_a_clearly_better_fit():
    """Beyond the margin the score decides: rubric overlap and free capacity still come first."""
    both = mentor("m-a", {LAW, ETHICS}, recent_assignments=9)
    half = mentor("m-b", {LAW})
    nearly_full = mentor("m-c", {LAW, ETHICS}, capacity=4, load=3)
    assert ids(rank([LAW, ETHICS], [half, nearly_full, both], k=3)) == ["m-a", "m-c", "m-b"]


def test_the_tie_window_is_measured_from_the_best_mentor_left():
    """0.925, 0.9 and 0.86: the first two tie (m-b has fewer cases), then m-a is the best left and
    m-c is not within the margin of it, though m-c would have tied with m-b."""
    top = mentor("m-a", {LAW}, recent_assignments=5)
    mid = mentor("m-b", {LAW}, capacity=10, load=1, recent_assignments=3)
    low = mentor(
        "m-c",
        {LAW},
        capacity=5,
        load=1,
        recent_assignments=0,
        median_response_seconds=RESPONSE_REFERENCE_SECONDS * 3,
        responses=2,
    )
    proposals = rank([LAW], [top, mid, low], k=3)
    scores = {p["mentor_id"]: p["score"] for p in proposals}
    assert scores == {"m-a": 0.925, "m-b": 0.9, "m-c": 0.86}
    assert ids(proposals) == ["m-b", "m-a", "m-c"]


def test_no_margin_is_the_plain_score_order():
    busy = mentor("m-a", {LAW}, recent_assignments=4, median_response_seconds=HOUR, responses=6)
    idle = mentor("m-b", {LAW}, median_response_seconds=2 * HOUR, responses=6)
    assert ids(rank([LAW], [idle, busy], k=2, tie_margin=0)) == ["m-a", "m-b"]
    assert ids(rank([LAW], [idle, busy], k=2)) == ["m-b", "m-a"]
