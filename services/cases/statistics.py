"""The moderators' statistics of cases, from the case index (services/cases/index.py).

SQL does the counting and the percentiles (percentile_cont: linear interpolation between the two
nearest times); the pure functions below shape the rows: every rubric of the rubricator in its
order (seed Figure 2), every state and every urgency, zeros included, so a chart never loses a bar.
A case counts under each of the rubrics of its current form.
"""
from datetime import timedelta

from contracts.rubrics import RUBRICS
from contracts.vocabulary import URGENCIES
from services.cases import domain as d

# The order of the journey, for the per-state counts.
STATE_ORDER = (d.AWAITING_PROPOSALS, d.NO_MENTOR_FOUND, d.CHOOSING_MENTOR, d.AWAITING_ACCEPTANCE, d.IN_PROGRESS,
               d.AWAITING_ANSWERS, d.AWAITING_DECISION, d.SOLUTION_PROPOSED, d.COMPLETED, d.WITHDRAWN,
               d.ABANDONED)


def period_condition(filters):
    """SQL condition and arguments: filed between ``filed_from`` and ``filed_to`` (dates, UTC, inclusive)."""
    where, args = [], []
    if filters.get("filed_from"):
        where.append("created_at >= (%s::date)::timestamp AT TIME ZONE 'UTC'")
        args.append(filters["filed_from"])
    if filters.get("filed_to"):
        where.append("created_at < (%s::date)::timestamp AT TIME ZONE 'UTC'")
        args.append(filters["filed_to"] + timedelta(days=1))
    return (f"WHERE {' AND '.join(where)}" if where else ""), args


def query(cur, filters):
    """The raw figures: (total, {rubric: n}, {state: n}, {urgency: n}, {year: n}, response row)."""
    condition, args = period_condition(filters)
    cur.execute(f"SELECT count(*) AS n FROM case_index {condition}", args)
    total = cur.fetchone()["n"]
    cur.execute(f"SELECT rubric AS key, count(*) AS n FROM case_index, unnest(rubrics) AS rubric {condition} "
                f"GROUP BY rubric", args)
    rubrics = {row["key"]: row["n"] for row in cur.fetchall()}
    counts = {}
    for name, expression in (("state", "state"), ("urgency", "urgency"),
                             ("year", "extract(year FROM created_at AT TIME ZONE 'UTC')::int")):
        cur.execute(f"SELECT {expression} AS key, count(*) AS n FROM case_index {condition} GROUP BY 1", args)
        counts[name] = {row["key"]: row["n"] for row in cur.fetchall()}
    answered = "first_response_at IS NOT NULL AND response_chosen_at IS NOT NULL"
    cur.execute(
        "SELECT count(*) AS cases, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds, "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds "
        "FROM (SELECT extract(epoch FROM first_response_at - response_chosen_at)::float8 AS seconds "
        f"FROM case_index {condition + ' AND ' if condition else 'WHERE '}{answered}) AS answered", args)
    response = cur.fetchone()
    return total, rubrics, counts["state"], counts["urgency"], counts["year"], response


def by_rubric(counts):
    """Every rubric of the rubricator, in its order, with its label and count (0 if none)."""
    return [{"number": r.number, "slug": r.slug, "label": r.label, "count": int(counts.get(r.slug, 0))}
            for r in RUBRICS]


def ordered(counts, order):
    """``[{key, count}]``: every key of ``order`` in it (zeros included), then any other key, sorted."""
    keys = list(order) + sorted(k for k in counts if k not in order)
    return [{"key": k, "count": int(counts.get(k, 0))} for k in keys]


def by_year(counts):
    return [{"year": int(year), "count": int(n)} for year, n in sorted(counts.items())]


def response_time(row):
    def seconds(value):
        return None if value is None else float(value)
    return {"cases": int(row["cases"]), "median_seconds": seconds(row["median_seconds"]),
            "p90_seconds": seconds(row["p90_seconds"])}


def shape(filters, total, rubrics, states, urgencies, years, response):
    """The CaseStatistics document (contracts/statistics.py) from the raw figures."""
    def day(value):
        return value.isoformat() if value else None
    return {
        "filed_from": day(filters.get("filed_from")), "filed_to": day(filters.get("filed_to")),
        "total": int(total),
        "by_rubric": by_rubric(rubrics),
        "by_state": ordered(states, STATE_ORDER),
        "by_urgency": ordered(urgencies, URGENCIES),
        "by_year": by_year(years),
        "first_response": response_time(response),
    }
