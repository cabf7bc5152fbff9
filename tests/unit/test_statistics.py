"""The moderators' statistics, pure parts: zero-filled rubricator order (seed Figure 2), states and
urgencies, the period filter, and registrations per year without holes (seed Table 1).
The counts and percentiles themselves are SQL: tests/integration/test_statistics_rpc.py checks them."""

from datetime import date

import pytest

from contracts.errors import InvalidInput
from contracts.rubrics import RUBRIC_SLUGS
from contracts.statistics import CaseStatisticsSchema, StatisticsFilterSchema
from contracts.validation import load
from services.cases import statistics
from services.identity.statistics import per_year


def test_every_rubric_in_rubricator_order_with_labels_and_zeros():
    rows = statistics.by_rubric(
        {"interaction-with-parents": 11, "class-management-motivation": 11, "digital-technologies": 3}
    )
    assert [r["slug"] for r in rows] == list(RUBRIC_SLUGS)
    assert [r["number"] for r in rows] == list(range(1, 13))
    assert rows[2] == {
        "number": 3,
        "slug": "class-management-motivation",
        "label": "Class management and motivation",
        "count": 11,
    }
    assert rows[3]["count"] == 3 and rows[9]["count"] == 11
    assert sum(r["count"] for r in rows) == 25 and rows[0]["count"] == 0 and rows[11]["count"] == 0


def test_states_and_urgencies_keep_their_order_and_zeros():
    states = statistics.ordered({"completed": 2, "choosing_mentor": 1}, statistics.STATE_ORDER)
    assert [s["key"] for s in states] == list(statistics.STATE_ORDER)
    assert {s["key"]: s["count"] for s in states if s["count"]} == {"completed": 2, "choosing_mentor": 1}
    assert statistics.ordered({"urgent": 1, "later": 4}, ("urgent", "need_advice")) == [
        {"key": "urgent", "count": 1},
        {"key": "need_advice", "count": 0},
        {"key": "later", "count": 4},
    ]


def test_the_period_includes_both_days():
    condition, args = statistics.period_condition({"filed_from": date(2021, 1, 1), "filed_to": date(2021, 12, 31)})
    assert condition.count("%s") == 2 and ">=" in condition and "<" in condition
    assert args == [date(2021, 1, 1), date(2022, 1, 1)]
    assert statistics.period_condition({"filed_from": None, "filed_to": None}) == ("", [])


def test_the_filter_refuses_a_reversed_or_malformed_period():
    assert load(StatisticsFilterSchema(), {"from": "2021-01-01", "to": "2021-01-01"}) == {
        "filed_from": date(2021, 1, 1),
        "filed_to": date(2021, 1, 1),
    }
    with pytest.raises(InvalidInput) as reversed_:
        load(StatisticsFilterSchema(), {"from": "2021-02-01", "to": "2021-01-01"})
    assert set(reversed_.value.fields) == {"to"}
    with pytest.raises(InvalidInput) as malformed:
        load(StatisticsFilterSchema(), {"from": "yesterday"})
    assert set(malformed.value.fields) == {"from"}


def test_the_document_shape():
    doc = CaseStatisticsSchema().dump(
        statistics.shape(
            {"filed_from": date(2021, 1, 1), "filed_to": None},
            {
                "total": 3,
                "rubrics": {"education-law": 2, "self-management": 2},
                "state": {"completed": 2, "in_progress": 1},
                "urgency": {"urgent": 3},
                "year": {2021: 2, 2019: 1},
                "month": {"2021-03": 2, "2019-12": 1},
                "mode": {"anonymous": 3},
                "turn": {"mentor": 1},
                "sums": {
                    "declines": 4,
                    "declined": 2,
                    "second_opinions": 1,
                    "clarifying": 5,
                    "developing": 2,
                    "collective": 1,
                    "public": 0,
                },
                "response": {"cases": 2, "median_seconds": 1.5, "p90_seconds": 2.7},
            },
        )
    )
    assert doc["filed_from"] == "2021-01-01" and doc["filed_to"] is None and doc["total"] == 3
    assert doc["by_year"] == [{"year": 2019, "count": 1}, {"year": 2021, "count": 2}]
    assert doc["by_month"] == [{"month": "2019-12", "count": 1}, {"month": "2021-03", "count": 2}]
    assert [u["key"] for u in doc["by_urgency"]] == ["urgent", "need_advice", "want_expert_opinion"]
    assert doc["by_mode"] == [{"key": "personal", "count": 0}, {"key": "anonymous", "count": 3}]
    assert doc["by_format"] == [{"key": "collective", "count": 1}, {"key": "public", "count": 0}]
    assert doc["declines"] == {"count": 4, "cases": 2} and doc["second_opinions"] == 1
    assert doc["questions_by_kind"] == [{"key": "clarifying", "count": 5}, {"key": "developing", "count": 2}]
    assert doc["open_by_turn"] == [
        {"key": "author", "count": 0},
        {"key": "mentor", "count": 1},
        {"key": "system", "count": 0},
        {"key": "moderator", "count": 0},
    ]
    assert doc["first_response"] == {"cases": 2, "median_seconds": 1.5, "p90_seconds": 2.7}
    empty = statistics.response_time({"cases": 0, "median_seconds": None, "p90_seconds": None})
    assert empty == {"cases": 0, "median_seconds": None, "p90_seconds": None}


def test_registrations_per_year_fill_the_years_between():
    rows = [
        {"year": 2018, "mentees": 9, "mentors": 2, "accredited_mentors": 2},
        {"year": 2021, "mentees": 98, "mentors": 40, "accredited_mentors": 31},
    ]
    assert per_year(rows) == [
        {"year": 2018, "mentees": 9, "mentors": 2, "accredited_mentors": 2},
        {"year": 2019, "mentees": 0, "mentors": 0, "accredited_mentors": 0},
        {"year": 2020, "mentees": 0, "mentors": 0, "accredited_mentors": 0},
        {"year": 2021, "mentees": 98, "mentors": 40, "accredited_mentors": 31},
    ]
    assert per_year([]) == []
