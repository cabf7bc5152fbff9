"""The moderators' statistics of cases, from the case index (services/cases/index.py).

SQL does the counting and the percentiles (percentile_cont: linear interpolation between the two
nearest times); the pure functions below shape the rows: every rubric of the rubricator in its
order (seed Figure 2), every state, urgency, mode, format, question kind and turn, zeros included,
so a chart never loses a bar. A case counts under each of the rubrics of its current form. The open
cases (neither completed nor withdrawn) are counted by whose turn it is (contracts/vocabulary.py TURNS).
"""

from datetime import timedelta

from contracts.question_bank import QUESTION_KINDS
from contracts.rubrics import counts_by_rubric
from contracts.vocabulary import FORMATS, MODES, TURNS, URGENCIES
from services.cases import domain as d

# The order of the journey, for the per-state counts.
STATE_ORDER = (
    d.AWAITING_PROPOSALS,
    d.NO_MENTOR_FOUND,
    d.CHOOSING_MENTOR,
    d.AWAITING_ACCEPTANCE,
    d.IN_PROGRESS,
    d.AWAITING_ANSWERS,
    d.AWAITING_DECISION,
    d.SOLUTION_PROPOSED,
    d.COMPLETED,
    d.WITHDRAWN,
    d.ABANDONED,
)


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


GROUPINGS = {  # name -> the SQL expression a count is grouped by
    "state": "state",
    "urgency": "urgency",
    "mode": "mode",
    "year": "extract(year FROM created_at AT TIME ZONE 'UTC')::int",
    "month": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')",
}


def query(cur, filters):
    """The raw figures, by name: total, rubrics, the GROUPINGS ({key: n} each), turn (open cases),
    sums (declines, second opinions, questions by kind, formats) and response (the first answers)."""
    condition, args = period_condition(filters)
    also = condition + " AND " if condition else "WHERE "
    figures = {}
    cur.execute(f"SELECT count(*) AS n FROM case_index {condition}", args)
    figures["total"] = cur.fetchone()["n"]
    cur.execute(
        f"SELECT rubric AS key, count(*) AS n FROM case_index, unnest(rubrics) AS rubric {condition} GROUP BY rubric",
        args,
    )
    figures["rubrics"] = {row["key"]: row["n"] for row in cur.fetchall()}
    for name, expression in GROUPINGS.items():
        cur.execute(f"SELECT {expression} AS key, count(*) AS n FROM case_index {condition} GROUP BY 1", args)
        figures[name] = {row["key"]: row["n"] for row in cur.fetchall() if row["key"] is not None}
    cur.execute(f"SELECT turn AS key, count(*) AS n FROM case_index {also}turn IS NOT NULL GROUP BY 1", args)
    figures["turn"] = {row["key"]: row["n"] for row in cur.fetchall()}
    cur.execute(
        "SELECT coalesce(sum(declines), 0) AS declines, count(*) FILTER (WHERE declines > 0) AS declined, "
        "count(*) FILTER (WHERE second_opinion) AS second_opinions, "
        "coalesce(sum(clarifying_questions), 0) AS clarifying, "
        "coalesce(sum(developing_questions), 0) AS developing, "
        "count(*) FILTER (WHERE collective) AS collective, count(*) FILTER (WHERE public) AS public "
        f"FROM case_index {condition}",
        args,
    )
    figures["sums"] = cur.fetchone()
    answered = "first_response_at IS NOT NULL AND response_chosen_at IS NOT NULL"
    cur.execute(
        "SELECT count(*) AS cases, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds, "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds "
        "FROM (SELECT extract(epoch FROM first_response_at - response_chosen_at)::float8 AS seconds "
        f"FROM case_index {also}{answered}) AS answered",
        args,
    )
    figures["response"] = cur.fetchone()
    return figures


by_rubric = counts_by_rubric


def ordered(counts, order):
    """``[{key, count}]``: every key of ``order`` in it (zeros included), then any other key, sorted."""
    keys = list(order) + sorted(k for k in counts if k not in order)
    return [{"key": k, "count": int(counts.get(k, 0))} for k in keys]


def by_year(counts):
    return [{"year": int(year), "count": int(n)} for year, n in sorted(counts.items())]


def response_time(row):
    def seconds(value):
        return None if value is None else float(value)

    return {
        "cases": int(row["cases"]),
        "median_seconds": seconds(row["median_seconds"]),
        "p90_seconds": seconds(row["p90_seconds"]),
    }


def shape(filters, figures):
    """The CaseStatistics document (contracts/statistics.py) from ``query``'s raw figures."""

    def day(value):
        return value.isoformat() if value else None

    sums = figures["sums"]
    return {
        "filed_from": day(filters.get("filed_from")),
        "filed_to": day(filters.get("filed_to")),
        "total": int(figures["total"]),
        "by_rubric": by_rubric(figures["rubrics"]),
        "by_state": ordered(figures["state"], STATE_ORDER),
        "by_urgency": ordered(figures["urgency"], URGENCIES),
        "by_year": by_year(figures["year"]),
        "by_month": [{"month": month, "count": int(n)} for month, n in sorted(figures["month"].items())],
        "by_mode": ordered(figures["mode"], MODES),
        "by_format": ordered({"collective": sums["collective"], "public": sums["public"]}, FORMATS),
        "declines": {"count": int(sums["declines"]), "cases": int(sums["declined"])},
        "second_opinions": int(sums["second_opinions"]),
        "questions_by_kind": ordered(
            {"clarifying": sums["clarifying"], "developing": sums["developing"]}, QUESTION_KINDS
        ),
        "open_by_turn": ordered(figures["turn"], TURNS),
        "first_response": response_time(figures["response"]),
    }
