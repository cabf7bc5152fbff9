"""The researchers' CLI on a real event store: anonymized export, filters, and the timeline."""

import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from research.cli import main
from services.cases.application import open_application
from services.common.clock import utc_now
from services.common.db import ensure_database
from tests.support import case_form

KEY = "research-key-1"
NAME, EMAIL = "Ivan Petrov", "ivan.petrov@example.org"


def _id():
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def store(test_env):
    """Three cases driven through the domain, saved with the real application."""
    url = test_env.database_url("research")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    people = {k: _id() for k in ("author_a", "author_b", "author_c", "m1", "m2", "m3", "colleague")}

    def proposal(mentor_id, rubric="class-management-motivation"):
        return {"mentor_id": mentor_id, "matched_rubrics": [rubric], "score": 1.0}

    a = _new_case(
        app,
        "MC-2026-000101",
        people["author_a"],
        case_form(
            essence=f"{NAME} from 7B shouts at classmates; his mother wrote from {EMAIL}.",
            question=f"How do I talk with {NAME}'s parents?",
            group_discussion_consent=True,
            rubrics=["class-management-motivation"],
        ),
    )
    a.record_proposals(1, [proposal(people["m1"]), proposal(people["m2"])], now=utc_now())
    a.choose_mentor(people["author_a"], people["m1"], now=utc_now())
    a.decline(people["m1"], f"I teach {NAME}'s sister.")
    a.record_proposals(2, [proposal(people["m2"])], now=utc_now())
    a.choose_mentor(people["author_a"], people["m2"], now=utc_now())
    a.accept(people["m2"], now=utc_now())
    qids = a.ask_questions(
        people["m2"],
        [{"bank_id": None, "text": f"Does {NAME} behave so in every lesson?", "kind": "clarifying"}],
        now=utc_now(),
    )
    a.answer_questions(
        people["author_a"], [{"question_id": qids[0], "text": f"Only with me; write {EMAIL}."}], now=utc_now()
    )
    a.redefine(
        people["author_a"],
        case_form(
            essence=f"{NAME} disrupts only my lessons.", rubrics=["digital-technologies"], group_discussion_consent=True
        ),
        now=utc_now(),
    )
    a.share_with_colleagues(people["m2"], [people["colleague"]])
    a.add_opinion(people["colleague"], f"Ask {NAME} to help you with the projector.", now=utc_now())
    a.send_message(people["author_a"], f"Thank you! {NAME} was calmer today.", now=utc_now())
    sid = a.propose_solution(
        people["m2"],
        f"Give {NAME} a role in the lesson.",
        [{"title": "Class roles", "reference": "https://example.org/roles", "rubrics": []}],
        now=utc_now(),
    )
    a.complete(
        people["author_a"],
        {
            "problem_solved": "yes",
            "helpfulness": {sid: 5},
            "actions": f"Talked to {NAME}.",
            "learned": "Roles help.",
            "comment": "",
        },
    )
    app.save(a)

    b = _new_case(
        app, "MC-2026-000102", people["author_b"], case_form(mode="anonymous", rubrics=["interaction-with-parents"])
    )
    b.record_proposals(1, [proposal(people["m3"], "interaction-with-parents")], now=utc_now())
    b.choose_mentor(people["author_b"], people["m3"], now=utc_now())
    b.accept(people["m3"], now=utc_now())
    b.withdraw(people["author_b"], "Solved it myself.")
    app.save(b)

    c = _new_case(app, "MC-2026-000103", people["author_c"], case_form(rubrics=["digital-technologies"]))
    app.save(c)

    yield {
        "url": url,
        "app": app,
        "people": people,
        "cases": {"a": a, "b": b, "c": c},
        "texts": [NAME, EMAIL, "Petrov", "example.org/roles"],
    }
    app.close()


def _new_case(app, number, author_id, form):
    from services.cases.domain import Case

    return Case.file(uuid.uuid4(), number, author_id, form)


def export(store, tmp_path, *extra, name="out.jsonl"):
    target = tmp_path / name
    code = main(["export", "--database-url", store["url"], "--key", KEY, "--output", str(target), *extra])
    assert code == 0
    return target.read_text(encoding="utf-8")


def rows_of(text):
    return [json.loads(line) for line in text.splitlines()]


def all_events(store):
    expected = []
    for case in store["cases"].values():
        expected.extend(store["app"].history(case.id))
    return expected


def test_the_export_has_every_event_in_log_order(store, tmp_path):
    rows = rows_of(export(store, tmp_path))
    from services.cases.application import event_id

    expected = sorted(all_events(store), key=lambda e: e.timestamp)
    assert len(rows) == len(expected) == sum(c.version for c in store["cases"].values())
    assert [r["event_id"] for r in rows] == [str(event_id(e.originator_id, e.originator_version)) for e in expected]
    assert {r["type"] for r in rows} >= {
        "Created",
        "MentorsProposed",
        "MentorDeclined",
        "QuestionsAsked",
        "CaseRedefined",
        "ColleagueOpinionAdded",
        "MessageSent",
        "SolutionProposed",
        "Completed",
        "Withdrawn",
    }
    assert set(rows[0]) == {"event_id", "case", "version", "type", "occurred_at", "data", "erased_fields"}
    assert all(r["erased_fields"] == [] for r in rows)  # nobody erased yet
    per_case = {}
    for r in rows:
        per_case.setdefault(r["case"], []).append(r["version"])
    assert all(v == list(range(1, len(v) + 1)) for v in per_case.values()) and len(per_case) == 3


def test_no_id_number_name_or_email_appears_anywhere(store, tmp_path):
    text = export(store, tmp_path)
    secrets = list(store["people"].values()) + [str(c.id) for c in store["cases"].values()]
    secrets += [c.number for c in store["cases"].values()] + [NAME, "Petrov", EMAIL]
    for secret in secrets:
        assert secret not in text, secret
    rows = rows_of(text)
    created = next(r for r in rows if r["type"] == "Created" and "[person]" in r["data"]["form"]["essence"])
    assert "[e-mail]" in created["data"]["form"]["essence"] and "number" not in created["data"]
    assert "author_id" in created["data"] and len(created["data"]["author_id"]) == 16


def test_the_same_key_gives_the_same_pseudonyms_another_key_others(store, tmp_path):
    first, again = rows_of(export(store, tmp_path)), rows_of(export(store, tmp_path, name="again.jsonl"))
    assert first == again
    target = tmp_path / "other.jsonl"
    assert main(["export", "--database-url", store["url"], "--key", "another-key", "--output", str(target)]) == 0
    other = rows_of(target.read_text())
    assert [r["event_id"] for r in other] == [r["event_id"] for r in first]
    assert {r["case"] for r in other}.isdisjoint({r["case"] for r in first})
    chosen = [r["data"]["mentor_id"] for r in first if r["type"] == "MentorChosen"]
    assert len(set(chosen)) == 3  # m1 and m2 on case a, m3 on case b: distinct pseudonyms
    declined = next(r for r in first if r["type"] == "MentorDeclined")
    proposed_round_1 = next(r for r in first if r["type"] == "MentorsProposed" and r["data"]["round"] == 1)
    assert declined["data"]["mentor_id"] in {p["mentor_id"] for p in proposed_round_1["data"]["proposals"]}


def test_filters_by_type_time_and_rubric(store, tmp_path):
    everything = rows_of(export(store, tmp_path))
    created = rows_of(export(store, tmp_path, "--type", "Created", "CaseRedefined", name="t.jsonl"))
    assert [r["type"] for r in created] == [r["type"] for r in everything if r["type"] in ("Created", "CaseRedefined")]
    middle = everything[len(everything) // 2]["occurred_at"]
    later = rows_of(export(store, tmp_path, "--since", middle, name="s.jsonl"))
    earlier = rows_of(export(store, tmp_path, "--until", middle, name="u.jsonl"))
    assert earlier + later == everything and later[0]["occurred_at"] == middle
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat()
    assert export(store, tmp_path, "--since", future, name="f.jsonl") == ""

    parents = rows_of(export(store, tmp_path, "--rubric", "interaction-with-parents", name="r1.jsonl"))
    assert len({r["case"] for r in parents}) == 1 and len(parents) == store["cases"]["b"].version
    # Case a is "class management" until it is redefined as "digital technologies" (case c from the start).
    digital = rows_of(export(store, tmp_path, "--rubric", "digital-technologies", name="r2.jsonl"))
    a_rows = [r for r in everything if r["case"] == digital[0]["case"]]
    redefined_at = next(r["version"] for r in a_rows if r["type"] == "CaseRedefined")
    assert [r["version"] for r in digital if r["case"] == a_rows[0]["case"]] == list(
        range(redefined_at, store["cases"]["a"].version + 1)
    )
    assert len({r["case"] for r in digital}) == 2


def test_csv_parses_with_the_same_rows(store, tmp_path):
    jsonl = rows_of(export(store, tmp_path))
    table = list(csv.DictReader(io.StringIO(export(store, tmp_path, "--format", "csv", name="out.csv"))))
    assert list(table[0]) == ["event_id", "case", "version", "type", "occurred_at", "data", "erased_fields"]
    assert [
        {
            **r,
            "version": int(r["version"]),
            "data": json.loads(r["data"]),
            "erased_fields": json.loads(r["erased_fields"]),
        }
        for r in table
    ] == jsonl


def test_drop_text_removes_free_text(store, tmp_path):
    rows = rows_of(export(store, tmp_path, "--drop-text"))
    text = json.dumps(rows)
    for field in ('"essence"', '"question"', '"text"', '"reason"', '"actions"', '"learned"', '"[person]"'):
        assert field not in text, field
    created = next(r for r in rows if r["type"] == "Created")
    assert created["data"]["form"]["rubrics"] and created["data"]["form"]["mode"]
    completed = next(r for r in rows if r["type"] == "Completed")
    assert completed["data"]["reflection"]["problem_solved"] == "yes"
    assert list(completed["data"]["reflection"]["helpfulness"].values()) == [5]


def test_a_missing_key_refuses_with_exit_2(store, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RESEARCH_PSEUDONYM_KEY", raising=False)
    assert main(["export", "--database-url", store["url"], "--output", str(tmp_path / "x")]) == 2
    assert "pseudonym key is required" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    monkeypatch.setenv("RESEARCH_PSEUDONYM_KEY", KEY)
    assert main(["export", "--database-url", store["url"], "--output", str(tmp_path / "y")]) == 0
    assert (tmp_path / "y").read_text() == export(store, tmp_path)


def test_the_installed_entry_point_exports_to_stdout(store):
    exe = shutil.which("mentor-research", path=os.path.dirname(sys.executable))
    assert exe, "pip install -e . installs the mentor-research script"
    env = {**os.environ, "RESEARCH_PSEUDONYM_KEY": KEY}
    done = subprocess.run(
        [exe, "export", "--database-url", store["url"], "--type", "Created"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(rows_of(done.stdout)) == 3 and NAME not in done.stdout
    refused = subprocess.run(
        [exe, "export", "--database-url", store["url"]],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "RESEARCH_PSEUDONYM_KEY"},
        timeout=120,
    )
    assert refused.returncode == 2 and "pseudonym key" in refused.stderr


def test_the_timeline_prints_every_event_and_a_past_state(store):
    case = store["cases"]["a"]
    out = io.StringIO()
    assert main(["timeline", "--database-url", store["url"], str(case.id), "--version", "1"], stdout=out) == 0
    text = out.getvalue()
    history, state = text.split("\nstate at version 1:\n")
    lines = history.strip().splitlines()[2:]
    assert len(lines) == case.version
    for e, line in zip(store["app"].history(case.id), lines):
        assert line.split()[:3] == [str(e.originator_version), e.timestamp.isoformat(), type(e).__name__]
    redefined = next(line for line in lines if "CaseRedefined" in line)
    assert " author " in redefined and '"rubrics"' in redefined and '"essence"' in redefined
    past = json.loads(state)
    assert past["version"] == 1 and past["revision"] == 1 and past["state"] == "awaiting_proposals"
    assert past["form"]["rubrics"] == ["class-management-motivation"] and NAME in past["form"]["essence"]


def test_the_timeline_of_an_unknown_case_fails_clearly(store, capsys):
    assert main(["timeline", "--database-url", store["url"], str(uuid.uuid4())]) == 1
    assert "No case" in capsys.readouterr().err


def test_an_erased_persons_texts_are_exported_as_erased_and_named(store, tmp_path):
    """Last in the module: it erases case b's author (their key, as the cases service does on
    PersonErased). Their texts export as "[erased]" and each row names them; the others' rows do not
    change, and the events are all still there."""
    import psycopg2

    from services.common import shredding

    before = rows_of(export(store, tmp_path, name="before.jsonl"))
    conn = psycopg2.connect(store["url"])
    try:
        with conn, conn.cursor() as cur:
            shredding.erase_key(cur, store["people"]["author_b"])
    finally:
        conn.close()
    after = rows_of(export(store, tmp_path, name="after.jsonl"))
    assert [r["event_id"] for r in after] == [r["event_id"] for r in before]
    b_case = next(r["case"] for r in after if r["type"] == "Withdrawn")
    changed = {r["type"]: r for r in after if r["erased_fields"]}
    assert set(changed) == {"Created", "Withdrawn"} and all(r["case"] == b_case for r in changed.values())
    assert changed["Withdrawn"]["erased_fields"] == ["reason"]
    assert changed["Withdrawn"]["data"]["reason"] == shredding.ERASED
    assert set(changed["Created"]["erased_fields"]) >= {"form.essence", "form.question"}
    assert changed["Created"]["data"]["form"]["essence"] == shredding.ERASED
    assert changed["Created"]["data"]["form"]["rubrics"] == ["interaction-with-parents"]
    unchanged = [r for r in before if r["case"] != b_case]
    assert [r for r in after if r["case"] != b_case] == unchanged
