"""A mentor's availability: validation with field errors, canonical form, views. No I/O."""

from datetime import date

import pytest

from contracts.errors import InvalidInput
from contracts.rpc_identity import AvailabilitySchema
from contracts.validation import load
from services.identity import availability


def _load(data):
    return load(AvailabilitySchema(), data, what="availability")


def period(starts_on, ends_on):
    return {"starts_on": starts_on, "ends_on": ends_on}


def test_capacity_defaults_to_three_and_periods_to_none():
    assert _load({}) == {"capacity": 3, "away_periods": []}


def test_a_valid_availability_loads_dates():
    loaded = _load({"capacity": 0, "away_periods": [period("2026-07-01", "2026-07-01")]})
    assert loaded == {"capacity": 0, "away_periods": [{"starts_on": date(2026, 7, 1), "ends_on": date(2026, 7, 1)}]}
    assert _load({"capacity": 50})["capacity"] == 50


@pytest.mark.parametrize("capacity", [-1, 51, "3", 2.5, None, True])
def test_capacity_is_a_whole_number_from_0_to_50(capacity):
    with pytest.raises(InvalidInput) as caught:
        _load({"capacity": capacity})
    assert set(caught.value.fields) == {"capacity"}


def test_a_period_that_ends_before_it_starts_is_refused_on_its_end():
    with pytest.raises(InvalidInput) as caught:
        _load({"away_periods": [period("2026-07-01", "2026-07-14"), period("2026-08-10", "2026-08-01")]})
    assert caught.value.fields == {"away_periods": {"1": {"ends_on": ["Must not be before starts_on."]}}}


def test_bad_dates_and_missing_days_are_named():
    with pytest.raises(InvalidInput) as caught:
        _load(
            {
                "away_periods": [
                    period("2026-02-30", "2026-03-01"),
                    {"starts_on": "2026-03-01"},
                    period("tomorrow", "2026-03-01"),
                ]
            }
        )
    fields = caught.value.fields["away_periods"]
    assert set(fields) == {"0", "1", "2"}
    assert set(fields["0"]) == {"starts_on"} and set(fields["1"]) == {"ends_on"} and set(fields["2"]) == {"starts_on"}


def test_at_most_twenty_periods():
    days = [period(f"2026-01-{d:02d}", f"2026-01-{d:02d}") for d in range(1, 22)]
    assert len(_load({"away_periods": days[:20]})["away_periods"]) == 20
    with pytest.raises(InvalidInput) as caught:
        _load({"away_periods": days})
    assert set(caught.value.fields) == {"away_periods"}


def test_unknown_fields_are_refused():
    with pytest.raises(InvalidInput) as caught:
        _load({"capacity": 3, "open_cases": 1})
    assert set(caught.value.fields) == {"open_cases"}


def test_canonical_form_sorts_periods_and_drops_repeats():
    loaded = _load(
        {
            "capacity": 2,
            "away_periods": [
                period("2026-08-01", "2026-08-10"),
                period("2026-07-01", "2026-07-14"),
                period("2026-08-01", "2026-08-10"),
            ],
        }
    )
    assert availability.normalize_availability(loaded) == {
        "capacity": 2,
        "away_periods": [
            {"starts_on": date(2026, 7, 1), "ends_on": date(2026, 7, 14)},
            {"starts_on": date(2026, 8, 1), "ends_on": date(2026, 8, 10)},
        ],
    }


def test_views_of_stored_rows_and_of_the_defaults():
    assert availability.availability_view(None) == {"capacity": 3, "away_periods": [], "updated_at": None}
    stored = availability.stored_periods([{"starts_on": date(2026, 7, 1), "ends_on": date(2026, 7, 14)}])
    assert stored == [{"starts_on": "2026-07-01", "ends_on": "2026-07-14"}]
    view = availability.availability_view({"capacity": 0, "away_periods": stored, "updated_at": "2026-06-01T10:00:00"})
    assert view == {"capacity": 0, "away_periods": stored, "updated_at": "2026-06-01T10:00:00"}
