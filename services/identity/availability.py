"""A mentor's availability: how many open cases at once, and periods away. Private (never on the
public profile); matching reads it from the MentorProfileUpdated snapshot. No I/O."""

from datetime import date

from contracts import vocabulary as v
from contracts.rpc_identity import AvailabilityViewSchema
from contracts.validation import schema_of

DEFAULTS = {"capacity": v.DEFAULT_CAPACITY, "away_periods": [], "updated_at": None}


def normalize_availability(availability):
    """Availability loaded by AvailabilitySchema, made canonical: periods in date order, no repeats."""
    periods = sorted({(p["starts_on"], p["ends_on"]) for p in availability["away_periods"]})
    return {
        "capacity": availability["capacity"],
        "away_periods": [{"starts_on": start, "ends_on": end} for start, end in periods],
    }


def _day(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def stored_periods(periods):
    """Periods as JSON stores them (ISO dates)."""
    return [
        {"starts_on": _day(p["starts_on"]).isoformat(), "ends_on": _day(p["ends_on"]).isoformat()}
        for p in periods or ()
    ]


def periods_of(row):
    """The away periods of a stored row (or of the defaults), as dates."""
    return [
        {"starts_on": _day(p["starts_on"]), "ends_on": _day(p["ends_on"])}
        for p in ((row or {}).get("away_periods") or ())
    ]


def capacity_of(row):
    return row["capacity"] if row and row.get("capacity") is not None else v.DEFAULT_CAPACITY


def availability_view(row):
    """The mentor's own view; the defaults (capacity 3, no periods) before the first write."""
    updated = (row or {}).get("updated_at")
    return schema_of(AvailabilityViewSchema).dump(
        {
            "capacity": capacity_of(row),
            "away_periods": stored_periods(periods_of(row)),
            "updated_at": updated.isoformat() if hasattr(updated, "isoformat") else updated,
        }
    )
