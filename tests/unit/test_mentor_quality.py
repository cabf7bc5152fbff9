"""Mentor quality, the pure fold and its figures (services/cases/mentor_quality.py): engagements from
a case's events, times from choice/acceptance, rates over answered engagements, second opinions,
reflection outcomes and helpfulness by rubric in the rubricator's order; the sort; the case list's
excerpt and cursor (services/cases/index.py)."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.statistics import MENTOR_SORTS, MentorQualityListSchema
from services.cases import index
from services.cases import mentor_quality as mq

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
CASE_A, CASE_B, CASE_C = "case-a", "case-b", "case-c"


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def feed(fold, case_id, *steps):
    for kind, minutes, fields in steps:
        fold.add_kind(kind, case_id, SimpleNamespace(timestamp=at(minutes), **fields))


@pytest.fixture
def records():
    fold = mq.MentorFold()
    # A: m1 accepts after 10 min, asks after 30 more, solves after 90; a second opinion goes to m2, who
    # accepts after 20 and solves; completed "partly", m1's solution rated 2, m2's 5.
    feed(
        fold,
        CASE_A,
        ("Created", 0, {"form": {"rubrics": ["professional-ethics", "education-law"]}}),
        ("MentorChosen", 0, {"mentor_id": "m1"}),
        ("MentorAccepted", 10, {"mentor_id": "m1"}),
        ("QuestionsAsked", 40, {"mentor_id": "m1"}),
        ("QuestionsAsked", 50, {"mentor_id": "m1"}),
        ("SolutionProposed", 100, {"mentor_id": "m1", "solution_id": "s1"}),
        ("SecondOpinionRequested", 110, {}),
        ("MentorChosen", 120, {"mentor_id": "m2"}),
        ("MentorAccepted", 140, {"mentor_id": "m2"}),
        ("SolutionProposed", 200, {"mentor_id": "m2", "solution_id": "s2"}),
        ("Completed", 300, {"reflection": {"problem_solved": "partly", "helpfulness": {"s1": 2, "s2": 5}}}),
    )
    # B: m1 declines, m2 accepts after 30 min, solves; completed "yes", rated 4.
    feed(
        fold,
        CASE_B,
        ("Created", 0, {"form": {"rubrics": ["families-at-risk"]}}),
        ("MentorChosen", 0, {"mentor_id": "m1"}),
        ("MentorDeclined", 5, {"mentor_id": "m1"}),
        ("MentorChosen", 10, {"mentor_id": "m2"}),
        ("MentorAccepted", 40, {"mentor_id": "m2"}),
        ("SolutionProposed", 60, {"mentor_id": "m2", "solution_id": "s3"}),
        ("Completed", 70, {"reflection": {"problem_solved": "yes", "helpfulness": {"s3": 4}}}),
    )
    # C: m3 lets an urgent case lapse; m1 is chosen and has not answered yet.
    feed(
        fold,
        CASE_C,
        ("Created", 0, {"form": {"rubrics": ["education-law"]}}),
        ("MentorChosen", 0, {"mentor_id": "m3"}),
        ("Escalated", 120, {"mentor_id": "m3"}),
        ("MentorChosen", 130, {"mentor_id": "m1"}),
    )
    return fold.records()


def by_id(mentors):
    return {m["mentor_id"]: m for m in mentors}


def test_engagements_carry_no_mentee(records):
    assert len(records) == 6
    assert all(
        set(r)
        == {
            "mentor_id",
            "rubrics",
            "opinion",
            "outcome",
            "accept_seconds",
            "first_question_seconds",
            "first_solution_seconds",
            "solutions",
            "second_opinion",
            "problem_solved",
            "ratings",
        }
        for r in records
    )


def test_times_rates_and_second_opinions(records):
    m1, m2, m3 = (by_id(mq.summarize(records))[m] for m in ("m1", "m2", "m3"))
    assert (m1["chosen"], m1["answered"], m1["accepted"], m1["declined"]) == (3, 2, 1, 1)  # C still to answer
    assert m1["acceptance_rate"] == 0.5 and m1["decline_rate"] == 0.5
    assert m1["time_to_accept"] == {"count": 1, "median_seconds": 600.0, "p90_seconds": 600.0}
    assert m1["time_to_first_question"]["median_seconds"] == 1800.0  # the first question, not the second
    assert m1["time_to_first_solution"]["median_seconds"] == 5400.0
    assert (m1["with_solution"], m1["second_opinions"], m1["second_opinion_rate"]) == (1, 1, 1.0)
    assert m2["acceptance_rate"] == 1.0 and m2["time_to_accept"]["count"] == 2
    assert m2["time_to_accept"]["median_seconds"] == 1500.0  # 1200 and 1800 s
    assert m2["time_to_accept"]["p90_seconds"] == pytest.approx(1200 + 0.9 * 600)
    assert m2["with_solution"] == 1 and m2["second_opinion_rate"] == 0.0  # only the first opinion counts
    assert (m3["answered"], m3["lapsed"], m3["acceptance_rate"], m3["decline_rate"]) == (1, 1, 0.0, 0.0)
    assert m3["time_to_accept"] == {"count": 0, "median_seconds": None, "p90_seconds": None}


def test_outcomes_and_helpfulness_overall_and_by_rubric_in_rubricator_order(records):
    m1, m2 = (by_id(mq.summarize(records))[m] for m in ("m1", "m2"))
    assert m1["completed"] == 1 and m1["solved"] == {"yes": 0, "partly": 1, "no": 0}
    assert (m1["ratings"], m1["helpfulness_mean"]) == (1, 2.0)
    assert m2["solved"] == {"yes": 1, "partly": 1, "no": 0} and m2["helpfulness_mean"] == 4.5
    assert [r["slug"] for r in m2["by_rubric"]] == ["education-law", "professional-ethics", "families-at-risk"]
    law = m2["by_rubric"][0]
    assert (law["number"], law["label"], law["engagements"], law["helpfulness_mean"]) == (1, "Education law", 1, 5.0)
    assert m2["by_rubric"][2]["solved"] == {"yes": 1, "partly": 0, "no": 0}
    MentorQualityListSchema().load(MentorQualityListSchema().dump({"items": mq.summarize(records)}))


def test_sorting_puts_mentors_without_the_figure_last(records):
    assert [m["mentor_id"] for m in mq.summarize(records, "time_to_accept", descending=False)] == ["m1", "m2", "m3"]
    assert [m["mentor_id"] for m in mq.summarize(records, "time_to_accept")] == ["m2", "m1", "m3"]
    assert [m["mentor_id"] for m in mq.summarize(records, "helpfulness_mean")] == ["m2", "m1", "m3"]
    assert set(mq.SORT_KEYS) == set(MENTOR_SORTS)


def test_who_reads_which_mentor():
    assert mq.require_reader({"user_id": "mod", "role": "moderator"}, "m9") == "m9"
    assert mq.require_reader({"user_id": "mod", "role": "moderator"}) is None
    assert mq.require_reader({"user_id": "m1", "role": "mentor"}, "m9") == "m1"
    with pytest.raises(Forbidden):
        mq.require_reader({"user_id": "u", "role": "mentee"})


def test_percentile_is_percentile_cont():
    assert mq.percentile([], 0.5) is None
    assert mq.percentile([4.0], 0.9) == 4.0
    assert mq.percentile([1, 2, 3, 4], 0.5) == 2.5 and mq.percentile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)


def test_the_excerpt_cuts_at_a_word():
    assert index.excerpt("  A short\nessence ") == "A short essence"
    long = "word " * 100
    cut = index.excerpt(long)
    assert len(cut) <= index.EXCERPT_CHARS and cut.endswith("\u2026") and cut[:-1].endswith("word")


def test_the_cursor_round_trips_and_a_forged_one_is_a_400_naming_it():
    row = {"updated_at": T0, "id": "6f1c2d4e-8a0b-4c7e-9f31-2b5d7e9a1c40"}
    assert index.decode_cursor(index.encode_cursor(row)) == (T0, row["id"])
    for forged in ("not-base64!", "e30", index.encode_cursor({"updated_at": T0, "id": "x"})):
        with pytest.raises(InvalidInput) as refused:
            index.decode_cursor(forged)
        assert set(refused.value.fields) == {"cursor"}
