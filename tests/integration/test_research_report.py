"""`mentor-research report` on a real event store: CSV figures, PNG plots, HTML with embedded images."""

import base64
import csv
import io
import os
import re
import uuid

import pytest

from research.cli import main
from services.cases.application import open_application
from services.cases.domain import Case
from services.common.clock import utc_now
from services.common.db import ensure_database
from tests.support import case_form

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _id():
    return str(uuid.uuid4())


def _proposal(mentor_id):
    return {"mentor_id": mentor_id, "matched_rubrics": [], "score": 1.0}


@pytest.fixture(scope="module")
def store(test_env):
    url = test_env.database_url("report")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    author_a, author_b, author_c, m1, m2, m3 = (_id() for _ in range(6))

    # a: declined once, accepted, questions, redefined, solution, second opinion, completed "partly"
    a = Case.file(uuid.uuid4(), "MC-R-1", author_a, case_form(rubrics=["teaching-methods"], urgency="urgent"))
    a.record_proposals(1, [_proposal(m1), _proposal(m2)], now=utc_now())
    a.choose_mentor(author_a, m1, now=utc_now())
    a.decline(m1, "busy")
    a.record_proposals(2, [_proposal(m2)], now=utc_now())
    a.choose_mentor(author_a, m2, now=utc_now())
    a.accept(m2, now=utc_now())
    qids = a.ask_questions(
        m2,
        [
            {"bank_id": None, "text": "Which form?", "kind": "clarifying"},
            {"bank_id": None, "text": "What would the ideal lesson look like?", "kind": "developing"},
        ],
        now=utc_now(),
    )
    a.answer_questions(author_a, [{"question_id": q, "text": "7B."} for q in qids], now=utc_now())
    a.redefine(
        author_a, case_form(rubrics=["teaching-methods"], urgency="urgent", essence="More precisely."), now=utc_now()
    )
    s1 = a.propose_solution(m2, "Try group work.", [], now=utc_now())
    a.request_second_opinion(author_a)
    a.record_proposals(3, [_proposal(m3)], now=utc_now())
    a.choose_mentor(author_a, m3, now=utc_now())
    a.accept(m3, now=utc_now())
    s2 = a.propose_solution(m3, "Try roles.", [], now=utc_now())
    a.complete(
        author_a,
        {"problem_solved": "partly", "helpfulness": {s1: 3, s2: 4}, "actions": "", "learned": "", "comment": ""},
    )
    app.save(a)

    # b: accepted at once, one solution, completed "yes"
    b = Case.file(
        uuid.uuid4(),
        "MC-R-2",
        author_b,
        case_form(rubrics=["teaching-methods", "digital-technologies"], urgency="need_advice"),
    )
    b.record_proposals(1, [_proposal(m1)], now=utc_now())
    b.choose_mentor(author_b, m1, now=utc_now())
    b.accept(m1, now=utc_now())
    sb = b.propose_solution(m1, "Use a quiz.", [], now=utc_now())
    b.complete(author_b, {"problem_solved": "yes", "helpfulness": {sb: 5}, "actions": "", "learned": "", "comment": ""})
    app.save(b)

    # c: withdrawn before any mentor
    c = Case.file(uuid.uuid4(), "MC-R-3", author_c, case_form(rubrics=["digital-technologies"], urgency="urgent"))
    c.withdraw(author_c, "Solved it myself.")
    app.save(c)
    yield {"url": url, "cases": {"a": a, "b": b, "c": c}, "mentors": (m1, m2, m3), "authors": (author_a, author_b)}
    app.close()


@pytest.fixture(scope="module")
def report(store, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report") / "out"
    stdout = io.StringIO()
    assert main(["report", "--database-url", store["url"], "--out", str(out_dir)], stdout=stdout) == 0
    return out_dir, stdout.getvalue().split()


def _summary(out_dir):
    with open(out_dir / "report.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        table[(r["table"], r["dimension"], r["group"], r["metric"])] = r["value"]
    return table


def test_prints_the_paths_of_every_file(report):
    out_dir, printed = report
    names = sorted(os.path.basename(p) for p in printed)
    assert names == sorted(
        [
            "report.csv",
            "report.html",
            "cases_by_rubric.png",
            "cases_by_rubric_over_time.png",
            "time_to_acceptance_by_urgency.png",
            "reflection_outcomes_by_rubric.png",
        ]
    )
    assert all(os.path.exists(p) for p in printed)


def test_plots_are_png(report):
    out_dir, printed = report
    for path in printed:
        if path.endswith(".png"):
            with open(path, "rb") as f:
                data = f.read()
            assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_html_embeds_the_plots(report):
    out_dir, _ = report
    text = (out_dir / "report.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 4
    assert all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    assert "6. Methods of teaching the subject" in text and "<table>" in text  # rubrics by place and name
    assert text.index("4. Digital technologies") < text.index("6. Methods of teaching the subject")
    assert "MC-R-1" not in text and "Try roles." not in text  # aggregates only
    assert "<h2>Mentor quality</h2>" in text and "mentor 1" in text


def test_no_mentor_or_author_id_in_any_file(report, store):
    out_dir, _ = report
    text = (out_dir / "report.html").read_text(encoding="utf-8") + (out_dir / "report.csv").read_text(encoding="utf-8")
    assert not [i for i in (*store["mentors"], *store["authors"]) if i in text]


def test_csv_has_every_mentors_figures_overall_and_by_rubric(report):
    out_dir, _ = report
    t = _summary(out_dir)
    quality = {(d, g, m): v for (table, d, g, m), v in t.items() if table == "mentor_quality"}
    labels = {g for (_, g, _) in quality}
    assert labels == {"mentor 1", "mentor 2", "mentor 3"}
    # mentor 1 is chosen most often: m1 (chosen twice: a declined, b accepted and solved "yes", rated 5)
    assert quality[("overall", "mentor 1", "chosen")] == "2"
    assert float(quality[("overall", "mentor 1", "decline_rate")]) == pytest.approx(0.5)
    assert quality[("overall", "mentor 1", "solved_yes")] == "1"
    assert float(quality[("overall", "mentor 1", "helpfulness_mean")]) == 5.0
    assert quality[("digital-technologies", "mentor 1", "completed")] == "1"
    assert float(quality[("overall", "mentor 1", "time_to_accept")]) >= 0
    # the first opinion of a (m2: rated 3) was followed by a second opinion
    second = [g for (d, g, m), v in quality.items() if d == "overall" and m == "second_opinion_rate" and v == "1"]
    assert len(second) == 1 and quality[("overall", second[0], "helpfulness_mean")] == "3"


def test_csv_numbers_match_the_cases(report):
    out_dir, _ = report
    t = _summary(out_dir)

    def s(dim, group, metric):
        return t[("summary", dim, group, metric)]

    assert s("overall", "all", "cases") == "3"
    assert s("overall", "all", "accepted") == "2"
    assert s("overall", "all", "completed") == "2"
    assert s("overall", "all", "withdrawn") == "1"
    assert s("overall", "all", "mentors_chosen") == "4"
    assert s("overall", "all", "declines") == "1"
    assert float(s("overall", "all", "decline_rate")) == pytest.approx(0.25)
    assert float(s("overall", "all", "second_opinion_rate")) == pytest.approx(0.5)
    assert s("overall", "all", "questions_asked_total") == "2"  # questions, not rounds (one round)
    assert s("overall", "all", "question_rounds_total") == "1"
    assert (s("overall", "all", "questions_clarifying"), s("overall", "all", "questions_developing")) == ("1", "1")
    assert s("overall", "all", "redefinitions_total") == "1"
    assert s("rubric", "teaching-methods", "cases") == "2"
    assert s("rubric", "teaching-methods", "solved_yes") == "1"
    assert s("rubric", "teaching-methods", "solved_partly") == "1"
    assert s("rubric", "digital-technologies", "cases") == "2"
    assert s("rubric", "digital-technologies", "solved_yes") == "1"
    assert s("urgency", "urgent", "cases") == "2"
    assert s("urgency", "urgent", "declines") == "1"
    assert s("urgency", "need_advice", "decline_rate") == "0"
    assert s("urgency", "urgent", "second_opinions") == "1"
    assert float(s("urgency", "urgent", "hours_to_acceptance_mean")) >= 0
    assert s("rubric", "digital-technologies", "hours_to_acceptance_mean") != ""
    months = [k for k in t if k[0] == "cases_by_month" and k[2] == "teaching-methods"]
    assert sum(int(t[k]) for k in months) == 2
    rubric_rows = [g for (table, d, g, m) in t if table == "summary" and d == "rubric" and m == "cases"]
    assert rubric_rows == ["digital-technologies", "teaching-methods"]  # the rubricator's order (4, 6)


def test_unreachable_database_is_a_clear_error(tmp_path, capsys):
    code = main(["report", "--database-url", "postgresql://postgres@127.0.0.1:1/none", "--out", str(tmp_path)])
    assert code == 1
    assert "cannot read the cases event store" in capsys.readouterr().err


def test_a_log_with_more_rubrics_than_urgencies_is_plotted(test_env, tmp_path):
    """The plots by rubric label their bars with the rubrics, whatever the urgencies of the acceptance plot
    (its labels once replaced the rubrics' and matplotlib refused three bars with one label)."""
    url = test_env.database_url("report_one_urgency")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    try:
        mentor = _id()
        for number, rubrics in enumerate((["teaching-methods"], ["digital-technologies"], ["self-management"])):
            author = _id()
            case = Case.file(uuid.uuid4(), f"MC-U-{number}", author, case_form(rubrics=rubrics, urgency="urgent"))
            case.record_proposals(1, [_proposal(mentor)], now=utc_now())
            case.choose_mentor(author, mentor, now=utc_now())
            case.accept(mentor, now=utc_now())
            app.save(case)
    finally:
        app.close()
    assert main(["report", "--database-url", url, "--out", str(tmp_path / "out")], stdout=io.StringIO()) == 0
