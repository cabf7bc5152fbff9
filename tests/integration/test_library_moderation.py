"""Moderators curate the library (add, edit, withdraw) and the forum (hide posts); signed-in people
write in forum threads. Over RPC, on items projected from hand-made events on the real broker."""

import random
import string
import uuid

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.library.projection import FORUM_NAMESPACE, entry_id
from services.library.service import LibraryService
from tests.integration.event_helpers import consumer_under_test, envelope, processed
from tests.support import actor, eventually

MODERATOR = actor("moderator")
MENTEE = actor("mentee")
MENTOR = actor("mentor")


@pytest.fixture(scope="module")
def library(start_module_service, test_env):
    # about search, curation and the forum, not review: published at once (tests/integration/test_library_review.py)
    with consumer_under_test(start_module_service, test_env, LibraryService, LIBRARY_REVIEW="automatic") as broker:
        yield broker


def tag():
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


def completed(essence, materials=()):
    case_id = str(uuid.uuid4())
    return envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000002",
            "rubrics": ["professional-ethics"],
            "problem_solved": "partly",
            "publication_consent": True,
            "author_id": str(uuid.uuid4()),
            "publication": {
                "essence": essence,
                "actions_taken": "",
                "difficulty": "",
                "question": "How do I answer?",
                "participants": [],
                "rubrics": ["professional-ethics"],
                "urgency": "urgent",
                "solutions": [{"text": "Talk in private first.", "materials": list(materials)}],
            },
        },
    )


def publish_all(library, db, *bodies):
    for body in bodies:
        library.publish(body)
    eventually(lambda: processed(db, "library", bodies[-1]), message="events processed")


def found(rpc, q, who=MENTEE, **query):
    return [i["id"] for i in rpc.library.search(who, {"q": q, **query})["items"]]


def similar_ids(rpc, text):
    return [
        i["id"] for i in rpc.library.similar(MENTEE, {"text": text, "rubrics": ["professional-ethics"], "limit": 20})
    ]


# ---- the library ------------------------------------------------------------------------------


def test_a_moderator_adds_materials_others_may_not(library, rpc):
    word = tag()
    link = {
        "material_type": "link",
        "title": f"Speech strategies {word}",
        "url": "https://example.org/speech",
        "rubrics": ["professional-ethics", "education-law"],
        "description": "How to say no politely.",
    }
    added = rpc.library.add_material(MODERATOR, link)
    assert added["kind"] == "material" and added["origin"] == "moderator" and added["entry_id"] is None
    assert added["rubrics"] == ["education-law", "professional-ethics"]  # the rubricator's order
    book = rpc.library.add_material(
        MODERATOR,
        {
            "material_type": "book",
            "title": "Конфликтология",
            "reference": f"Анцупов А. Я. Конфликтология {word}. СПб., 2013.",
            "rubrics": ["professional-ethics"],
        },
    )
    assert found(rpc, f"speech {word}") == [added["id"]]
    assert found(rpc, f"конфликтологии {word}", kind="book") == [book["id"]]
    assert found(rpc, f"politely {word}") == [added["id"]]  # the description is searched too

    for who in (MENTEE, MENTOR):
        with pytest.raises(Forbidden):
            rpc.library.add_material(who, link)
    for incomplete, field in (
        ({**link, "url": None}, "url"),
        ({**link, "material_type": "book"}, "reference"),
        ({**link, "material_type": "article", "url": None}, "url"),
    ):
        with pytest.raises(InvalidInput) as refused:
            rpc.library.add_material(MODERATOR, incomplete)
        assert set(refused.value.fields) == {field}
    with pytest.raises(InvalidInput) as refused:
        rpc.library.add_material(MODERATOR, {"material_type": "poster", "title": " ", "url": "nope", "rubrics": []})
    assert set(refused.value.fields) == {"material_type", "title", "url", "rubrics"}
    assert sorted(found(rpc, word, kind="material")) == sorted([added["id"], book["id"]])  # nothing else added


def test_a_moderator_edits_an_item_and_a_redelivery_does_not_undo_it(library, rpc, db):
    word, new_word = tag(), tag()
    body = completed(f"A colleague {word} mocks me in the staff room.")
    publish_all(library, db, body)
    item_id = str(entry_id(body["event_id"]))

    edited = rpc.library.edit_item(
        MODERATOR,
        item_id,
        {"essence": f"A colleague {new_word} mocks me.", "rubrics": ["personal-resources", "professional-ethics"]},
    )
    assert edited["essence"] == f"A colleague {new_word} mocks me." and edited["edited_at"]
    assert edited["rubrics"] == ["professional-ethics", "personal-resources"]
    assert found(rpc, new_word) == [item_id] and found(rpc, word) == []  # the search follows the edit
    assert found(rpc, new_word, rubric="personal-resources") == [item_id]

    publish_all(library, db, body, completed(f"Sentinel {tag()}"))  # the same CaseCompleted again
    assert rpc.library.get_entry(MENTEE, item_id)["essence"] == f"A colleague {new_word} mocks me."

    for who in (MENTEE, MENTOR):
        with pytest.raises(Forbidden):
            rpc.library.edit_item(who, item_id, {"essence": "Mine now."})
    with pytest.raises(InvalidInput) as refused:
        rpc.library.edit_item(MODERATOR, item_id, {"title": "A case has no title"})
    assert set(refused.value.fields) == {"title"}
    with pytest.raises(InvalidInput):
        rpc.library.edit_item(MODERATOR, item_id, {})
    with pytest.raises(NotFound):
        rpc.library.edit_item(MODERATOR, str(uuid.uuid4()), {"essence": "Nobody's."})
    with db("library").cursor() as cur:
        cur.execute(
            "SELECT action, moderator_id, changes->'essence'->>'before' FROM library_moderation WHERE item_id = %s",
            (item_id,),
        )
        assert cur.fetchall() == [("edited", MODERATOR["user_id"], f"A colleague {word} mocks me in the staff room.")]


def test_a_withdrawn_item_leaves_browse_search_and_similar_and_stays_withdrawn(library, rpc, db):
    word = tag()
    body = completed(
        f"The head teacher {word} shouts at me at meetings.",
        materials=[{"title": f"Assertiveness {word}", "reference": "https://example.org/assert"}],
    )
    publish_all(library, db, body)
    item_id = str(entry_id(body["event_id"]))
    [material_id] = found(rpc, word, kind="material")
    assert item_id in found(rpc, word) and item_id in similar_ids(rpc, f"Head teacher {word} shouts")
    assert item_id in [
        i["id"] for i in rpc.library.search(MENTEE, {"rubric": "professional-ethics", "limit": 100})["items"]
    ]

    for who in (MENTEE, MENTOR):
        with pytest.raises(Forbidden):
            rpc.library.withdraw_item(who, item_id, {"reason": "I don't like it"})
    with pytest.raises(InvalidInput) as refused:
        rpc.library.withdraw_item(MODERATOR, item_id, {"reason": "  "})
    assert set(refused.value.fields) == {"reason"}

    withdrawn = rpc.library.withdraw_item(MODERATOR, item_id, {"reason": "Names a real school."})
    assert withdrawn["withdrawn_reason"] == "Names a real school." and withdrawn["withdrawn_at"]
    again = rpc.library.withdraw_item(MODERATOR, item_id, {"reason": "Another reason"})
    assert again["withdrawn_reason"] == "Names a real school."  # idempotent: the first reason stays

    assert found(rpc, word) == [] and found(rpc, word, who=MODERATOR) == []  # the material went with it
    assert item_id not in similar_ids(rpc, f"Head teacher {word} shouts")
    assert item_id not in [
        i["id"] for i in rpc.library.search(MENTEE, {"rubric": "professional-ethics", "limit": 100})["items"]
    ]
    assert item_id not in [e["id"] for e in rpc.library.list_entries(MENTEE)]
    for hidden in (item_id, material_id):
        with pytest.raises(NotFound):
            rpc.library.get_entry(MENTEE, hidden)
        assert rpc.library.get_entry(MODERATOR, hidden)["withdrawn_reason"] == "Names a real school."
    with pytest.raises(Conflict):
        rpc.library.edit_item(MODERATOR, item_id, {"essence": "Back again?"})

    publish_all(library, db, body, completed(f"Sentinel {tag()}"))  # a redelivered CaseCompleted
    assert found(rpc, word) == []
    with pytest.raises(NotFound):
        rpc.library.get_entry(MENTEE, item_id)


# ---- the forum --------------------------------------------------------------------------------


def thread(library, rpc):
    body = envelope(
        "CasePublishedToForum",
        uuid.uuid4(),
        {
            "thread_id": None,
            "title": "Marks and parents",
            "essence": "Parents dispute every mark.",
            "question": "How do I explain my grading?",
            "rubrics": ["monitoring-evaluation"],
            "urgency": "need_advice",
            "case_id": str(uuid.uuid4()),
            "case_number": "MC-2026-000102",
            "author_id": str(uuid.uuid4()),
        },
    )
    library.publish(body)
    thread_id = str(uuid.uuid5(FORUM_NAMESPACE, f"thread:{body['event_id']}"))
    eventually(lambda: rpc.library.get_thread(MENTEE, thread_id), message="thread projected")
    return thread_id


def test_people_write_and_reply_in_a_thread_as_pseudonyms(library, rpc):
    thread_id = thread(library, rpc)
    [case_post] = rpc.library.get_thread(MENTEE, thread_id)["posts"]
    mentee_two = actor("mentee")

    first = rpc.library.add_post(MENTEE, thread_id, {"text": "Same here: show the criteria first."}, "key-1")
    assert first["author"] == {"role": "mentee", "label": "Mentee 1", "own": True}
    assert first["kind"] == "message" and first["reply_to"] is None
    assert (
        rpc.library.add_post(MENTEE, thread_id, {"text": "Same here: show the criteria first."}, "key-1")["id"]
        == first["id"]
    )  # a retried request posts once
    reply = rpc.library.add_post(MENTOR, thread_id, {"text": "Agreed; publish a rubric.", "reply_to": first["id"]})
    assert reply["reply_to"] == first["id"] and reply["author"]["label"] == "Mentor 1"
    other = rpc.library.add_post(mentee_two, thread_id, {"text": "I do it too.", "reply_to": case_post["id"]})
    assert other["author"]["label"] == "Mentee 2"

    seen = rpc.library.get_thread(MENTOR, thread_id)
    assert [p["kind"] for p in seen["posts"]] == ["case", "message", "message", "message"]
    assert [p.get("author", {}).get("label") for p in seen["posts"]] == [None, "Mentee 1", "Mentor 1", "Mentee 2"]
    assert [p.get("author", {}).get("own") for p in seen["posts"]] == [None, False, True, False]
    text = str(seen)
    for secret in (MENTEE["user_id"], MENTOR["user_id"], mentee_two["user_id"], "author_id"):
        assert secret not in text
    listed = next(t for t in rpc.library.list_threads(MENTEE) if t["id"] == thread_id)
    assert listed["posts_count"] == 4 and rpc.library.list_threads(MENTEE)[0]["id"] == thread_id

    with pytest.raises(NotFound):
        rpc.library.add_post(MENTEE, str(uuid.uuid4()), {"text": "Anyone?"})
    for reply_to in (str(uuid.uuid4()), "not-a-post"):
        with pytest.raises(InvalidInput) as refused:
            rpc.library.add_post(MENTEE, thread_id, {"text": "Hm.", "reply_to": reply_to})
        assert set(refused.value.fields) == {"reply_to"}
    with pytest.raises(InvalidInput) as refused:
        rpc.library.add_post(MENTEE, thread_id, {"text": "   "})
    assert set(refused.value.fields) == {"text"}
    assert len(rpc.library.get_thread(MENTEE, thread_id)["posts"]) == 4


def test_a_moderator_hides_a_post_others_no_longer_see_it(library, rpc):
    thread_id = thread(library, rpc)
    rude = rpc.library.add_post(MENTEE, thread_id, {"text": "You are all useless."})
    kind = rpc.library.add_post(MENTOR, thread_id, {"text": "Let us keep calm."})

    for who in (MENTEE, MENTOR):
        with pytest.raises(Forbidden):
            rpc.library.hide_post(who, rude["id"], {"reason": "Rude."})
    hidden = rpc.library.hide_post(MODERATOR, rude["id"], {"reason": "Insults other members."})
    assert hidden["hidden"] is True and hidden["hidden_reason"] == "Insults other members."

    for who in (MENTEE, MENTOR):  # the author too: hidden is hidden
        posts = rpc.library.get_thread(who, thread_id)["posts"]
        assert [p["id"] for p in posts if p["kind"] == "message"] == [kind["id"]]
        assert "hidden" not in str(posts)
    moderated = rpc.library.get_thread(MODERATOR, thread_id)["posts"]
    assert [(p["id"], p.get("hidden", False)) for p in moderated if p["kind"] == "message"] == [
        (rude["id"], True),
        (kind["id"], False),
    ]
    assert next(t for t in rpc.library.list_threads(MENTEE) if t["id"] == thread_id)["posts_count"] == 2
    with pytest.raises(InvalidInput):  # nobody but moderators can answer a post they cannot see
        rpc.library.add_post(MENTOR, thread_id, {"text": "Quoting it.", "reply_to": rude["id"]})

    [case_post] = [p for p in moderated if p["kind"] == "case"]
    rpc.library.hide_post(MODERATOR, case_post["id"], {"reason": "Identifies the school."})
    assert [p["kind"] for p in rpc.library.get_thread(MENTEE, thread_id)["posts"]] == ["message"]
    with pytest.raises(NotFound):
        rpc.library.hide_post(MODERATOR, str(uuid.uuid4()), {"reason": "Gone."})
    with pytest.raises(InvalidInput):
        rpc.library.hide_post(MODERATOR, kind["id"], {})
