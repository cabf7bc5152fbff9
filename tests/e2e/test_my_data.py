"""GET /api/v1/me/data over the real platform (issue 19, part 4): one document with every record about the
signed-in person in every service - account, questionnaire, cases and their events, messages, inbox,
access log, library drafts, a mentor's rows in matching - and nothing of another person's."""

import json
import random
import string

import pytest

from tests.support import case_form, eventually

pytestmark = pytest.mark.e2e

RUBRIC = "families-at-risk"  # no other e2e test files or advises in it: the rounds are ours
SECTIONS = {"user_id", "generated_at", "identity", "cases", "notifications", "library", "matching"}


def marker():
    return "".join(random.choices(string.ascii_lowercase, k=12))


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def file_case(platform, token, word):
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=token,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            essence=f"A pupil with hearing loss is left out of group work ({word}).",
            question=f"How do I include her ({word})?",
        ),
    )
    return case, f"/api/v1/cases/{case['id']}"


def test_a_person_downloads_everything_the_platform_holds_about_them_and_nothing_of_anyone_else(platform):
    mentee, t_mentee = platform.person("mentee", "Vera", "Kovalenko")
    other, t_other = platform.person("mentee", "Oksana", "Shevchuk")
    mentor, t_mentor = platform.mentor("Roman", "Belov", [RUBRIC])
    colleague, _ = platform.mentor("Gleb", "Sokolov", ["self-management"])
    mine_word, other_word = marker(), marker()
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=t_mentee,
        json={"school": f"Lyceum {mine_word}", "subjects": ["Biology"], "years_of_practice": 1},
    )
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=t_other,
        json={"school": f"Gymnasium {other_word}", "subjects": ["History"], "years_of_practice": 2},
    )

    # her case, worked on to completion: a message each way, the mentor reads her author card
    case, path = file_case(platform, t_mentee, mine_word)
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=20, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    platform.call("POST", f"{path}/messages", token=t_mentee, expect=201, json={"text": f"Thank you {mine_word}"})
    platform.call("POST", f"{path}/messages", token=t_mentor, expect=201, json={"text": "You are welcome."})
    platform.call("GET", f"{path}/author", token=t_mentor)
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={"text": "Seat her where she sees faces; agree signals.", "materials": []},
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}},
    )
    # the mentor writes to a colleague (direct messages are between mentors)
    platform.call(
        "POST",
        "/api/v1/messages",
        token=t_mentor,
        expect=201,
        json={"recipient_id": colleague["id"], "text": f"About a case {mine_word}"},
    )
    # another person's own case, and the draft the library keeps of hers
    others_case, others_path = file_case(platform, t_other, other_word)
    eventually(
        lambda: platform.call("GET", f"/api/v1/me/publications?case_id={case['id']}", token=t_mentee)["items"],
        timeout=30,
        message="her draft in the library",
    )
    eventually(
        lambda: (
            "solution_proposed" in [e["kind"] for e in platform.call("GET", "/api/v1/inbox", token=t_mentee)["items"]]
        ),
        message="her inbox",
    )

    platform.call("GET", "/api/v1/me/data", expect=401)
    data = platform.call("GET", "/api/v1/me/data", token=t_mentee)
    assert set(data) == SECTIONS and data["user_id"] == mentee["id"]
    identity = data["identity"]
    [account] = identity["users"]
    assert (account["email"], account["last_name"], account["role"]) == (mentee["email"], "Kovalenko", "mentee")
    assert "password_hash" not in account
    assert identity["questionnaires"][0]["school"] == f"Lyceum {mine_word}"
    [read] = [r for r in identity["access_audit"] if r["case_id"] == case["id"]]
    assert read["reader_role"] == "mentor" and "reader_id" not in read
    assert identity["sessions"] and all("token_hash" not in t for t in identity["account_tokens"])
    [mine] = data["cases"]["cases"]
    assert (mine["case_id"], mine["role"]) == (case["id"], "author")
    types = [e["type"] for e in mine["events"]]
    assert types[0] == "Created" and types.count("MessageSent") == 2 and types[-1] == "Completed"
    assert mine_word in mine["events"][0]["data"]["form"]["essence"]
    assert {"mentors_proposed", "mentor_accepted", "solution_proposed"} <= {
        e["kind"] for e in data["notifications"]["inbox"]
    }
    [draft] = data["library"]["publication_drafts"]
    assert draft["case_id"] == case["id"] and draft["kind"] == "solved_case" and draft["state"] == "pending"
    assert data["matching"] == {"mentors": [], "assignments": [], "mentor_stats": []}

    # nothing of anyone else's: not the other mentee's account, questionnaire, case, or her id
    text = json.dumps(data, ensure_ascii=False)
    for theirs in (other["id"], other["email"], "Shevchuk", other_word, others_case["id"], colleague["id"]):
        assert theirs not in text, theirs

    # the mentor's document: their own steps of her case, their rows in matching, their direct message
    theirs = platform.call("GET", "/api/v1/me/data", token=t_mentor)
    [worked] = theirs["cases"]["cases"]
    assert (worked["case_id"], worked["role"]) == (case["id"], "participant")
    steps = [e["type"] for e in worked["events"]]
    assert "Created" not in steps and {"MentorAccepted", "SolutionProposed", "MessageSent"} <= set(steps)
    assert [m["mentor_id"] for m in theirs["matching"]["mentors"]] == [mentor["id"]]
    assert [m["text"] for m in theirs["notifications"]["direct_messages"]] == [f"About a case {mine_word}"]
    assert theirs["identity"]["mentor_profiles"][0]["mentor_id"] == mentor["id"]
    mentor_text = json.dumps(theirs, ensure_ascii=False)
    for hers in (mentee["email"], "Kovalenko", f"Lyceum {mine_word}", other["id"], other_word):
        assert hers not in mentor_text, hers
