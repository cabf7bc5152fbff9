"""Render ``research.analytics.Statistics`` to files: ``report.csv``, PNG plots and ``report.html``.

``report.csv`` is in long format, one figure a row: ``table, dimension, group, metric, value``.
- table ``summary``: dimension ``overall`` (group ``all``), ``rubric`` or ``urgency``; every metric of
  ``research.analytics.summarize`` (empty value when undefined, e.g. a rate with no denominator);
- table ``cases_by_month``: dimension ``rubric``, the rubric slug, metric the month ``YYYY-MM``,
  value the number of cases created;
- table ``mentor_quality``: dimension ``overall`` or a rubric slug, group a mentor's label in this
  report (``mentor 1`` is the one chosen most often; no id), every figure of
  services/cases/mentor_quality.py (times in seconds; the outcomes as ``solved_yes`` ...).

Rubrics come in the rubricator's order everywhere; the tables and plots name them ("6. Methods of
teaching the subject"), the CSV keeps their slugs.
"""

import base64
import csv
import html
import os

from contracts.rubrics import RUBRICS_BY_SLUG
from research.analytics import OUTCOMES, SUMMARY_COLUMNS

PLOTS = (
    ("cases_by_rubric.png", "Cases by rubric"),
    ("cases_by_rubric_over_time.png", "Cases by rubric over time (month of creation)"),
    ("time_to_acceptance_by_urgency.png", "Hours from creation to acceptance, by urgency"),
    ("reflection_outcomes_by_rubric.png", "Reflection outcomes (problem solved) by rubric"),
)
HTML_COLUMNS = (
    "cases",
    "accepted",
    "completed",
    "withdrawn",
    "questions_asked_total",
    "questions_clarifying",
    "questions_developing",
    "questions_asked_mean",
    "redefinitions_mean",
    "hours_to_acceptance_median",
    "hours_to_first_solution_median",
    "decline_rate",
    "second_opinion_rate",
    *(f"solved_{o}" for o in OUTCOMES),
)


MENTOR_COLUMNS = (
    "chosen",
    "acceptance_rate",
    "decline_rate",
    "time_to_accept",
    "time_to_first_question",
    "time_to_first_solution",
    "second_opinion_rate",
    "completed",
    "solved_yes",
    "solved_partly",
    "solved_no",
    "ratings",
    "helpfulness_mean",
)


def rubric_name(slug):
    """ "6. Methods of teaching the subject": the rubric's place and name (the slug if unknown)."""
    rubric = RUBRICS_BY_SLUG.get(slug)
    return f"{rubric.number}. {rubric.label}" if rubric else slug


def _mentor_row(figures):
    """One mentor's (or one mentor's rubric's) figures, flat: times by their median and p90."""
    row = {}
    for key, value in figures.items():
        if isinstance(value, dict) and "median_seconds" in value:
            row[key] = value["median_seconds"]
            row[f"{key}_p90"] = value["p90_seconds"]
        elif key == "solved":
            row.update({f"solved_{o}": value[o] for o in OUTCOMES})
        elif key not in ("mentor_id", "by_rubric", "number", "slug", "label"):
            row[key] = value
    return row


def mentor_rows(stats):
    """(label, rubric slug or "overall", flat figures) of every mentor, labelled by rank, never by id."""
    for rank, mentor in enumerate(stats.mentor_quality(), start=1):
        label = f"mentor {rank}"
        yield label, "overall", _mentor_row(mentor)
        for rubric in mentor["by_rubric"]:
            yield label, rubric["slug"], _mentor_row(rubric)


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def csv_rows(stats):
    for (dimension, group), summary in stats.groups().items():
        for metric in SUMMARY_COLUMNS:
            yield ("summary", dimension, group, metric, _fmt(summary[metric]))
    for (rubric, month), count in stats.by_month().items():
        yield ("cases_by_month", "rubric", rubric, month, str(count))
    for label, dimension, figures in mentor_rows(stats):
        for metric, value in figures.items():
            yield ("mentor_quality", dimension, label, metric, _fmt(value))


def write_csv(stats, path):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("table", "dimension", "group", "metric", "value"))
        writer.writerows(csv_rows(stats))


def _pyplot():
    """matplotlib comes with the ``research`` extra, which the service image leaves out: without it the
    report's figures are refused with a clear message (exit 2), like parquet without pyarrow."""
    try:
        import matplotlib
    except ImportError:
        from research.cli import CliError

        raise CliError(
            "the report's figures need matplotlib, which is not installed: "
            'pip install -c constraints.txt ".[research]"'
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(stats, out_dir):
    plt = _pyplot()
    groups = stats.groups()
    rubrics = {g: s for (d, g), s in groups.items() if d == "rubric"}
    paths = []

    def save(fig, name):
        path = os.path.join(out_dir, name)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
        plt.close(fig)
        paths.append(path)

    names = list(rubrics)  # the rubricator's order (Statistics.groups)
    labels = [rubric_name(r) for r in names]
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.bar(range(len(names)), [rubrics[r]["cases"] for r in names])
    ax.set_xticks(range(len(names)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("cases")
    ax.set_title(PLOTS[0][1])
    save(fig, PLOTS[0][0])

    by_month = stats.by_month()
    months = sorted({m for _, m in by_month})
    fig, ax = plt.subplots(figsize=(9, 5))
    for rubric in names:
        ax.plot(months, [by_month.get((rubric, m), 0) for m in months], marker="o", label=rubric_name(rubric))
    ax.set_ylabel("cases created")
    ax.set_title(PLOTS[1][1])
    if names:
        ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=45)
    save(fig, PLOTS[1][0])

    hours = stats.acceptance_hours("urgency")
    fig, ax = plt.subplots(figsize=(7, 5))
    urgencies = list(hours)  # not ``labels``: the rubrics' labels are used again below
    if urgencies:
        ax.boxplot([hours[u] for u in urgencies])
        ax.set_xticks(range(1, len(urgencies) + 1), urgencies)
    ax.set_ylabel("hours to acceptance")
    ax.set_title(PLOTS[2][1])
    save(fig, PLOTS[2][0])

    fig, ax = plt.subplots(figsize=(9, 5))
    bottom = [0] * len(names)
    for outcome in OUTCOMES:
        values = [rubrics[r][f"solved_{outcome}"] for r in names]
        ax.bar(range(len(names)), values, bottom=bottom, label=outcome)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(names)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("completed cases")
    ax.set_title(PLOTS[3][1])
    ax.legend(title="problem solved")
    save(fig, PLOTS[3][0])
    return paths


def _table(headers, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(stats, plot_paths, path):
    groups = stats.groups()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Cases report</title>",
        "<style>body{font-family:sans-serif} table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>",
        f"<h1>Cases report</h1><p>{len(stats.cases)} cases, {stats.events} events.</p>",
    ]
    for dimension in ("overall", "rubric", "urgency"):
        rows = [
            (rubric_name(g) if d == "rubric" else g, *(_fmt(s[c]) for c in HTML_COLUMNS))
            for (d, g), s in groups.items()
            if d == dimension
        ]
        parts.append(f"<h2>By {dimension}</h2>" + _table((dimension, *HTML_COLUMNS), rows))
    parts.append(
        "<h2>Cases by rubric and month</h2>"
        + _table(("rubric", "month", "cases"), [(rubric_name(r), m, n) for (r, m), n in stats.by_month().items()])
    )
    mentors = list(mentor_rows(stats))
    parts.append(
        "<h2>Mentor quality</h2><p>Times in seconds (median; p90 in the CSV): to accept from being "
        "chosen, to the first question and the first solution from accepting.</p>"
        + _table(
            ("mentor", *MENTOR_COLUMNS),
            [(label, *(_fmt(f.get(c)) for c in MENTOR_COLUMNS)) for label, d, f in mentors if d == "overall"],
        )
    )
    parts.append(
        "<h2>Mentor quality by rubric</h2>"
        + _table(
            ("mentor", "rubric", "engagements", "completed", *(f"solved_{o}" for o in OUTCOMES), "helpfulness_mean"),
            [
                (
                    label,
                    rubric_name(d),
                    f["engagements"],
                    f["completed"],
                    *(f[f"solved_{o}"] for o in OUTCOMES),
                    _fmt(f["helpfulness_mean"]),
                )
                for label, d, f in mentors
                if d != "overall"
            ],
        )
    )
    titles = dict(PLOTS)
    for plot in plot_paths:
        with open(plot, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        title = html.escape(titles.get(os.path.basename(plot), ""))
        parts.append(f"<h2>{title}</h2><img alt='{title}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(parts))


def write_report(stats, out_dir):
    """Write every file into ``out_dir`` (created if missing); return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "report.csv")
    write_csv(stats, csv_path)
    plots = write_plots(stats, out_dir)
    html_path = os.path.join(out_dir, "report.html")
    write_html(stats, plots, html_path)
    return [csv_path, *plots, html_path]
