"""The whole case journey over HTTP through the gateway, every service a real `nameko run`
process on the real RabbitMQ and PostgreSQL."""

import json
import random
import string
import uuid

import pytest

from tests.support import case_form, eventually

pytestmark = pytest.mark.e2e


def test_a_case_goes_from_filing_to_the_library(platform):
    mentee, mentee_token = platform.person("mentee", "Anna", "Smirnova")
    # on the roll of mentors (applied, approved by a moderator): only then is a mentor proposed
    mentor, mentor_token = platform.mentor(
        "Pavel",
        "Orlov",
        ["class-management-motivation", "professional-ethics"],
        place_of_work="Moscow City University",
        position="Associate professor",
        motto="Ask before you advise.",
    )
    profile = platform.call("GET", f"/api/v1/mentors/{mentor['id']}")  # public: no token
    assert profile["mentor_id"] == mentor["id"] and "email" not in profile and profile["accredited"] is True
    assert mentor["id"] in [p["mentor_id"] for p in platform.call("GET", "/api/v1/mentors")["items"]]

    correlation_id = f"e2e-{uuid.uuid4().hex}"
    # a word of its own, to find this case in a library other tests may have filled (shared database)
    marker = "".join(random.choices(string.ascii_lowercase, k=12))
    form = case_form(
        essence="My colleague Ivan Petrov shouts at my 7th form; call me at +7 916 555-12-34.",
        question=f"How do I restore discipline without losing the class's trust ({marker})?",
    )
    key = {"Idempotency-Key": uuid.uuid4().hex}
    created = platform.call(
        "POST",
        "/api/v1/cases",
        token=mentee_token,
        json=form,
        headers={"X-Correlation-ID": correlation_id, **key},
        expect=201,
    )
    retried = platform.call("POST", "/api/v1/cases", token=mentee_token, json=form, headers=key, expect=201)
    assert retried["id"] == created["id"]  # a retry after a lost response files nothing new
    assert len(platform.call("GET", "/api/v1/cases", token=mentee_token)["items"]) == 1
    assert created["number"].startswith("MC-") and created["state"] == "awaiting_proposals"
    assert created["form"]["essence"] == form["essence"] and created["author_id"] == mentee["id"]
    case_path = f"/api/v1/cases/{created['id']}"

    proposed = eventually(
        lambda: _case_in(platform, case_path, mentee_token, "choosing_mentor"), message="mentors proposed"
    )
    [proposal] = [p for p in proposed["proposed_mentors"] if p["mentor_id"] == mentor["id"]]
    assert proposal["matched_rubrics"] == ["class-management-motivation"]
    assert proposal["profile"]["last_name"] == "Orlov" and "email" not in proposal["profile"]

    chosen = platform.call("POST", f"{case_path}/mentor", token=mentee_token, json={"mentor_id": mentor["id"]})
    assert chosen["state"] == "awaiting_acceptance" and chosen["mentor_id"] == mentor["id"]
    inbox = eventually(
        lambda: [e for e in platform.call("GET", "/api/v1/inbox", token=mentor_token)["items"] if e["case_id"]]
    )  # the case's entries (the accreditation decision has none)
    assert [e["kind"] for e in inbox] == ["mentor_chosen"] and inbox[0]["case_number"] == created["number"]

    accepted = platform.call("POST", f"{case_path}/accept", token=mentor_token)
    assert accepted["state"] == "in_progress"
    solved = platform.call(
        "POST",
        f"{case_path}/solutions",
        token=mentor_token,
        expect=201,
        json={
            "text": "Talk to Ivan Petrov privately first, then agree class rules together.",
            "materials": [{"title": "Classroom management", "reference": "https://example.org/cm"}],
        },
    )
    assert solved["state"] == "solution_proposed"
    assert solved["solutions"][0]["materials"][0]["title"] == "Classroom management"
    mentee_inbox = eventually(lambda: _kinds(platform, mentee_token, "solution_proposed"))
    assert {"mentors_proposed", "mentor_accepted", "solution_proposed"} <= set(mentee_inbox)

    completed = platform.call(
        "POST",
        f"{case_path}/completion",
        token=mentee_token,
        json={
            "problem_solved": "partly",
            "helpfulness": {solved["solutions"][0]["id"]: 4},
            "actions": "A class meeting on Monday.",
            "learned": "Start with the person, not the rule.",
        },
    )
    assert completed["state"] == "completed"
    assert completed["reflection"]["helpfulness"] == {solved["solutions"][0]["id"]: 4}

    platform.publish_draft(mentee_token, created["id"], "solved_case")  # read by a moderator first
    entries = eventually(
        lambda: [
            e
            for e in platform.call("GET", f"/api/v1/library?q={marker}", token=mentor_token)["items"]
            if e.get("question") == form["question"]
        ],  # materials have no question
        message="library entry",
    )
    [entry] = entries
    text = str(entry)
    for secret in (mentee["id"], mentor["id"], created["id"], "Smirnova", mentee["email"], "Petrov", "555-12-34"):
        assert secret not in text
    assert "[person]" in entry["essence"] and "[phone]" in entry["essence"]
    assert platform.call("GET", f"/api/v1/library/{entry['id']}", token=mentee_token)["id"] == entry["id"]
    platform.call("GET", "/api/v1/library", expect=401)

    # One request, followed through every service by its correlation id.
    for service in ("gateway", "cases", "matching", "notifications"):
        assert correlation_id in platform.processes[service].log_text(), f"{service} lost the correlation id"
    handled = [
        json.loads(line)
        for line in platform.processes["notifications"].log_text().splitlines()
        if correlation_id in line and line.startswith("{")
    ]
    assert {"MentorsProposed"} <= {entry.get("event_type") for entry in handled}  # which event, in every line
    assert all(entry["service"] == "notifications" for entry in handled)


def test_invalid_cases_are_refused_naming_the_field_and_nothing_is_stored(platform):
    _, token = platform.person("mentee", "Olga", "Ivanova")
    for bad, field in (
        (case_form(essence="x" * 1001), "essence"),
        (case_form(rubrics=["astrology"]), "rubrics"),
        ({k: v for k, v in case_form().items() if k != "question"}, "question"),
    ):
        error = platform.call("POST", "/api/v1/cases", token=token, json=bad, expect=400)["error"]
        assert error["code"] == "invalid_input" and field in error["fields"]
    assert platform.call("GET", "/api/v1/cases", token=token)["items"] == []
    platform.call("POST", "/api/v1/cases", json=case_form(), expect=401)


def _case_in(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def _kinds(platform, token, wanted):
    kinds = [e["kind"] for e in platform.call("GET", "/api/v1/inbox", token=token)["items"]]
    return kinds if wanted in kinds else None
