"""Render ``research.analytics.Statistics`` to files: ``report.csv``, PNG plots and ``report.html``.

``report.csv`` is in long format, one figure a row: ``table, dimension, group, metric, value``.
- table ``summary``: dimension ``overall`` (group ``all``), ``rubric`` or ``urgency``; every metric of
  ``research.analytics.summarize`` (empty value when undefined, e.g. a rate with no denominator);
- table ``cases_by_month``: dimension ``rubric``, the rubric slug, metric the month ``YYYY-MM``,
  value the number of cases created.
"""
import base64
import csv
import html
import os

from research.analytics import OUTCOMES, SUMMARY_COLUMNS

PLOTS = (
    ("cases_by_rubric.png", "Cases by rubric"),
    ("cases_by_rubric_over_time.png", "Cases by rubric over time (month of creation)"),
    ("time_to_acceptance_by_urgency.png", "Hours from creation to acceptance, by urgency"),
    ("reflection_outcomes_by_rubric.png", "Reflection outcomes (problem solved) by rubric"),
)
HTML_COLUMNS = ("cases", "accepted", "completed", "withdrawn", "questions_asked_mean", "redefinitions_mean",
                "hours_to_acceptance_median", "hours_to_first_solution_median", "decline_rate",
                "second_opinion_rate", *(f"solved_{o}" for o in OUTCOMES))


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


def write_csv(stats, path):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("table", "dimension", "group", "metric", "value"))
        writer.writerows(csv_rows(stats))


def _pyplot():
    import matplotlib
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

    names = sorted(rubrics)
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.bar(range(len(names)), [rubrics[r]["cases"] for r in names])
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("cases")
    ax.set_title(PLOTS[0][1])
    save(fig, PLOTS[0][0])

    by_month = stats.by_month()
    months = sorted({m for _, m in by_month})
    fig, ax = plt.subplots(figsize=(9, 5))
    for rubric in names:
        ax.plot(months, [by_month.get((rubric, m), 0) for m in months], marker="o", label=rubric)
    ax.set_ylabel("cases created")
    ax.set_title(PLOTS[1][1])
    if names:
        ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=45)
    save(fig, PLOTS[1][0])

    hours = stats.acceptance_hours("urgency")
    fig, ax = plt.subplots(figsize=(7, 5))
    labels = list(hours)
    if labels:
        ax.boxplot([hours[u] for u in labels])
        ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.set_ylabel("hours to acceptance")
    ax.set_title(PLOTS[2][1])
    save(fig, PLOTS[2][0])

    fig, ax = plt.subplots(figsize=(9, 5))
    bottom = [0] * len(names)
    for outcome in OUTCOMES:
        values = [rubrics[r][f"solved_{outcome}"] for r in names]
        ax.bar(range(len(names)), values, bottom=bottom, label=outcome)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
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
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Cases report</title>",
             "<style>body{font-family:sans-serif} table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>",
             f"<h1>Cases report</h1><p>{len(stats.cases)} cases, {stats.events} events.</p>"]
    for dimension in ("overall", "rubric", "urgency"):
        rows = [(g, *(_fmt(s[c]) for c in HTML_COLUMNS)) for (d, g), s in groups.items() if d == dimension]
        parts.append(f"<h2>By {dimension}</h2>" + _table((dimension, *HTML_COLUMNS), rows))
    parts.append("<h2>Cases by rubric and month</h2>"
                 + _table(("rubric", "month", "cases"), [(r, m, n) for (r, m), n in stats.by_month().items()]))
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
