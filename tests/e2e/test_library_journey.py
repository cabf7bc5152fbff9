"""The library and the forum over HTTP on real services: a case filed and completed through the
gateway is a draft its author previews and a moderator reviews (told by the inbox), then a searchable
library entry (and its material an item), a new case on the same topic gets it back as similar when
filed, people talk in the case's forum thread, and moderators curate both."""

import pytest

from tests.support import case_form, eventually

pytestmark = pytest.mark.e2e

RUBRIC = "individualization"  # no other e2e test advises or files in it: the rounds and the entries are ours


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def test_a_completed_case_is_found_and_comes_back_as_similar_to_a_new_one(platform):
    mentee, t_mentee = platform.person("mentee", "Anna", "Smirnova")
    mentor, t_mentor = platform.mentor("Pavel", "Orlov", [RUBRIC])
    t_moderator = platform.moderator()

    first = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            group_discussion_consent=True,
            publication_consent=True,
            essence="Nobody comes to the school chess club any more; the city tournament was cancelled.",
            question="How do I revive the chess club?",
        ),
    )
    assert isinstance(first["similar"], list)  # asked when filed, whatever the library holds yet
    path = f"/api/v1/cases/{first['id']}"
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=20, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    platform.call("POST", f"{path}/forum", token=t_mentee, json={"title": "Reviving a chess club"})
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={
            "text": "Join the district chess league and let pupils run the club's tournament themselves.",
            "materials": [{"title": "School chess clubs", "reference": "https://example.org/chess-clubs"}],
        },
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}},
    )

    # nothing is published before a moderator has read it: the author previews, the moderators are told
    drafts = eventually(
        lambda: (
            len(platform.call("GET", f"/api/v1/me/publications?case_id={first['id']}", token=t_mentee)["items"]) == 2
        ),
        timeout=30,
        message="the solved case and the forum post wait for review",
    )
    assert drafts
    assert platform.call("GET", "/api/v1/library?q=chess", token=t_mentor)["items"] == []
    assert "Reviving a chess club" not in str(platform.call("GET", "/api/v1/forum/threads", token=t_mentor))
    platform.call("GET", "/api/v1/library/drafts", token=t_mentee, expect=403)
    queue = platform.call("GET", "/api/v1/library/drafts", token=t_moderator)
    ours = [d for d in queue["items"] if d["case_id"] == first["id"]]
    assert len(ours) == 2 and queue["waiting"] >= 2
    review = platform.call("GET", f"/api/v1/library/drafts/{ours[0]['id']}", token=t_moderator)
    assert all("original" in t for t in review["texts"])
    eventually(
        lambda: (
            "publication_drafted"
            in [e["kind"] for e in platform.call("GET", "/api/v1/inbox", token=t_moderator)["items"]]
        ),
        message="the moderators' inbox entry",
    )
    platform.publish_draft(t_mentee, first["id"], "solved_case", t_moderator)
    platform.publish_draft(t_mentee, first["id"], "forum_post", t_moderator)

    # the library: found by its words, in another form too, and its material as an item of its own
    def found():
        items = platform.call("GET", "/api/v1/library?q=tournaments%20chess&kind=solved_case", token=t_mentor)["items"]
        return items[0] if items else None

    entry = eventually(found, timeout=20, message="the completed case is in the library")
    assert entry["question"] == "How do I revive the chess club?"
    for secret in (mentee["id"], mentor["id"], first["id"], "Smirnova", "Orlov"):
        assert secret not in str(entry)
    [material] = platform.call("GET", "/api/v1/library?q=chess&kind=link", token=t_mentee)["items"]
    assert material["entry_id"] == entry["id"] and material["url"] == "https://example.org/chess-clubs"
    page = platform.call("GET", f"/api/v1/library?rubric={RUBRIC}&limit=1", token=t_mentee)
    assert page["total"] == 2 and page["total_exact"] and page["next_cursor"]
    second_page = platform.call(
        "GET", f"/api/v1/library?rubric={RUBRIC}&limit=1&cursor={page['next_cursor']}", token=t_mentee
    )
    assert {page["items"][0]["id"], second_page["items"][0]["id"]} == {entry["id"], material["id"]}
    assert second_page["next_cursor"] is None

    # a new case on the same topic: the solved one comes back with it, and on asking again
    other, t_other = platform.person("mentee", "Irina", "Volkova")
    second = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_other,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC, "self-management"],
            essence="Our chess club is empty: pupils stopped coming after the tournament was cancelled.",
            question="What can I do to bring the pupils back to the club?",
        ),
    )
    assert second["similar"][0]["id"] == entry["id"], second["similar"]
    assert second["similar"][0]["matched_rubrics"] == [RUBRIC] and second["similar"][0]["score"] > 0
    again = platform.call("GET", f"/api/v1/cases/{second['id']}/similar", token=t_other)["items"]
    assert again[0]["id"] == entry["id"]
    platform.call("GET", f"/api/v1/cases/{second['id']}/similar", token=t_mentee, expect=403)  # not her case
    # what worked, from the reflection, and why it is suggested; never who wrote it
    assert second["similar"][0]["outcome_score"] == 1.0 and entry["solutions"][0]["helpfulness"] == 5
    assert {"shared_rubrics", "similar_words", "problem_solved", "helpful_solution"} <= set(
        second["similar"][0]["reasons"]
    )
    assert mentee["id"] not in str(second["similar"]) and mentee["id"] not in str(again)
    # the author files the same problem again: her own solved case is not offered back to her
    own = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            essence="Nobody comes to the school chess club any more; the tournament was cancelled.",
            question="How do I revive the chess club?",
        ),
    )
    assert entry["id"] not in [s["id"] for s in own["similar"]]
    assert entry["id"] not in [
        s["id"] for s in platform.call("GET", f"/api/v1/cases/{own['id']}/similar", token=t_mentee)["items"]
    ]  # nor when she looks again

    # the forum thread of the first case: people write as pseudonyms, a moderator hides a post
    def thread_of_case():
        threads = platform.call("GET", f"/api/v1/forum/threads?rubric={RUBRIC}", token=t_other)["items"]
        return next((t["id"] for t in threads if t["title"] == "Reviving a chess club"), None)

    thread_id = eventually(thread_of_case, message="the case's forum thread")
    posted = platform.call(
        "POST",
        f"/api/v1/forum/threads/{thread_id}/posts",
        token=t_other,
        expect=201,
        json={"text": "We had the same problem; a parents' chess evening helped."},
    )
    assert posted["author"] == {"role": "mentee", "label": "Mentee 1", "own": True}
    reply = platform.call(
        "POST",
        f"/api/v1/forum/threads/{thread_id}/posts",
        token=t_mentor,
        expect=201,
        json={"text": "Good idea: invite the parents to play.", "reply_to": posted["id"]},
    )
    thread = platform.call("GET", f"/api/v1/forum/threads/{thread_id}", token=t_mentee)
    assert [p["kind"] for p in thread["posts"]] == ["case", "message", "message"]
    assert mentee["email"] not in str(thread) and "Volkova" not in str(thread) and other["id"] not in str(thread)
    platform.call("POST", f"/api/v1/forum/posts/{reply['id']}/hide", token=t_mentee, json={"reason": "x"}, expect=403)
    platform.call("POST", f"/api/v1/forum/posts/{reply['id']}/hide", token=t_moderator, json={"reason": "Off topic."})
    assert [
        p["id"]
        for p in platform.call("GET", f"/api/v1/forum/threads/{thread_id}", token=t_mentee)["posts"]
        if p["kind"] == "message"
    ] == [posted["id"]]

    # moderators curate the library; the withdrawn case leaves search and similar
    platform.call("PATCH", f"/api/v1/library/{entry['id']}", token=t_mentor, json={"question": "Mine?"}, expect=403)
    edited = platform.call(
        "PATCH",
        f"/api/v1/library/{entry['id']}",
        token=t_moderator,
        json={"question": "How do I revive a school chess club?"},
    )
    assert edited["question"] == "How do I revive a school chess club?" and edited["edited_at"]
    added = platform.call(
        "POST",
        "/api/v1/library/materials",
        token=t_moderator,
        expect=201,
        json={
            "material_type": "book",
            "title": "Chess in school",
            "reference": "Chess in school. Moscow, 2018.",
            "rubrics": [RUBRIC],
        },
    )
    assert platform.call("GET", "/api/v1/library?q=chess&kind=book", token=t_mentee)["items"][0]["id"] == added["id"]
    platform.call("POST", f"/api/v1/library/{entry['id']}/withdrawal", token=t_mentee, json={"reason": "x"}, expect=403)
    platform.call(
        "POST",
        f"/api/v1/library/{entry['id']}/withdrawal",
        token=t_moderator,
        json={"reason": "Duplicate of an older entry."},
    )
    assert platform.call("GET", "/api/v1/library?q=chess&kind=solved_case", token=t_mentee)["items"] == []
    assert entry["id"] not in [
        s["id"] for s in platform.call("GET", f"/api/v1/cases/{second['id']}/similar", token=t_other)["items"]
    ]
    platform.call("GET", f"/api/v1/library/{entry['id']}", token=t_mentee, expect=404)
    assert (
        platform.call("GET", f"/api/v1/library/{entry['id']}", token=t_moderator)["withdrawn_reason"]
        == "Duplicate of an older entry."
    )
