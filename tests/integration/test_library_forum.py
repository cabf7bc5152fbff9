"""The library's forum ("What to do? Looking for a way out together") and clarifications in
library entries, projected from hand-made case events on the real broker."""

import uuid
from datetime import datetime

import pytest

from contracts.errors import InvalidInput, NotFound
from services.library.service import FORUM_NAMESPACE, LibraryService
from tests.integration.event_helpers import consumer_under_test, envelope, processed
from tests.support import actor, eventually

READER = actor("mentee")
PII = ("Ivan", "Petrov", "ivan.petrov@mail.ru", "No. 5")


@pytest.fixture(scope="module")
def library(start_module_service, test_env):
    # about search, curation and the forum, not review: published at once (tests/integration/test_library_review.py)
    with consumer_under_test(start_module_service, test_env, LibraryService, LIBRARY_REVIEW="automatic") as broker:
        yield broker


def forum_post(thread_id=None, title="Homework strike in the 7th form", **overrides):
    payload = {
        "thread_id": thread_id,
        "title": title,
        "essence": "Pupils of my 7th form refuse to do homework.",
        "question": "How do I get them back to work without threats?",
        "rubrics": ["class-management-motivation"],
        "urgency": "need_advice",
        "case_id": str(uuid.uuid4()),
        "case_number": "MC-2026-000101",
        "author_id": str(uuid.uuid4()),
        **overrides,
    }
    # The library publishes neither the case nor its author (the draft keeps them for the author's preview).
    return envelope("CasePublishedToForum", uuid.uuid4(), payload)


def thread_of(body):
    return str(uuid.uuid5(FORUM_NAMESPACE, f"thread:{body['event_id']}"))


def listed(rpc, thread_id, rubric=None):
    return next((t for t in rpc.library.list_threads(READER, rubric) if t["id"] == thread_id), None)


def test_a_post_without_a_thread_opens_one(library, rpc):
    body = forum_post()
    library.publish(body)
    thread = eventually(lambda: listed(rpc, thread_of(body)), message="thread listed")
    assert thread["title"] == "Homework strike in the 7th form"
    assert thread["rubrics"] == ["class-management-motivation"] and thread["posts_count"] == 1
    assert thread["created_at"] == thread["updated_at"]
    full = rpc.library.get_thread(READER, thread["id"])
    assert set(full) == {"id", "title", "rubrics", "created_at", "updated_at", "posts"}
    [post] = full["posts"]
    assert set(post) == {"id", "kind", "essence", "question", "rubrics", "urgency", "created_at"}
    assert post["kind"] == "case"
    assert post["essence"] == "Pupils of my 7th form refuse to do homework."
    assert post["question"] == "How do I get them back to work without threats?"
    assert post["urgency"] == "need_advice"


def test_a_post_joins_the_thread_it_names_and_the_thread_gathers_rubrics(library, rpc):
    first = forum_post(rubrics=["interaction-with-parents"])
    library.publish(first)
    thread_id = thread_of(first)
    before = eventually(lambda: listed(rpc, thread_id), message="thread listed")
    second = forum_post(
        thread_id=thread_id,
        title="Another title, ignored for an existing thread",
        essence="Parents write to me at night.",
        rubrics=["education-law", "interaction-with-parents"],
        urgency="urgent",
    )
    library.publish(second)
    after = eventually(
        lambda: (listed(rpc, thread_id) or {}).get("posts_count") == 2 and listed(rpc, thread_id),
        message="second post counted",
    )
    assert after["title"] == before["title"]
    assert after["rubrics"] == ["education-law", "interaction-with-parents"]  # in the rubricator's order
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"])
    assert after["created_at"] == before["created_at"]
    posts = rpc.library.get_thread(READER, thread_id)["posts"]
    assert [p["essence"] for p in posts] == [
        "Pupils of my 7th form refuse to do homework.",
        "Parents write to me at night.",
    ]
    assert [p["urgency"] for p in posts] == ["need_advice", "urgent"]
    assert rpc.library.list_threads(READER)[0]["id"] == thread_id  # the most recently active first
    assert listed(rpc, thread_id, "education-law") is not None
    assert listed(rpc, thread_id, "families-at-risk") is None


@pytest.mark.parametrize("unknown", [str(uuid.uuid4()), "not-a-thread-id"])
def test_a_post_naming_an_unknown_thread_opens_a_new_one(library, rpc, unknown):
    body = forum_post(thread_id=unknown, title="Unknown thread named")
    library.publish(body)
    thread = eventually(lambda: listed(rpc, thread_of(body)), message="new thread listed")
    assert thread["title"] == "Unknown thread named" and thread["posts_count"] == 1
    with pytest.raises(NotFound):
        rpc.library.get_thread(READER, unknown)


def test_names_addresses_and_schools_are_scrubbed_from_title_and_post(library, rpc):
    body = forum_post(
        title="Ivan Petrov from school No. 5",
        essence="My colleague Ivan Petrov from school No. 5 mocks me; write to ivan.petrov@mail.ru.",
        question="Should I tell the head about Ivan Petrov (ivan.petrov@mail.ru)?",
    )
    library.publish(body)
    thread = eventually(lambda: rpc.library.get_thread(READER, thread_of(body)), message="thread created")
    [post] = thread["posts"]
    for text in (thread["title"], post["essence"], post["question"]):
        for secret in PII:
            assert secret not in text, text
    assert "[person]" in thread["title"] and "[school]" in thread["title"]
    assert all(placeholder in post["essence"] for placeholder in ("[person]", "[school]", "[e-mail]"))
    assert "[e-mail]" in post["question"]


def test_without_a_title_the_thread_is_named_by_the_scrubbed_question(library, rpc):
    question = (
        "Ivan Petrov, the head of my department, keeps giving me the hardest classes; "
        "how do I say no without ruining our relationship for years?"
    )
    body = forum_post(title="", question=question)
    library.publish(body)
    thread = eventually(lambda: rpc.library.get_thread(READER, thread_of(body)), message="thread created")
    scrubbed = thread["posts"][0]["question"]
    assert scrubbed.startswith("[person], the head of my department")
    assert thread["title"] == scrubbed[:80].rstrip() and len(thread["title"]) <= 80


def test_a_redelivered_post_is_counted_once(library, rpc, db):
    first = forum_post(title="Delivered twice")
    thread_id = thread_of(first)
    library.publish(first)
    eventually(lambda: listed(rpc, thread_id), message="thread listed")
    again = forum_post(thread_id=thread_id, essence="A second post.")
    library.publish(again, times=2)
    library.publish(first)  # the first one again, after the thread has grown
    sentinel = forum_post(title="Sentinel")
    library.publish(sentinel)  # max_workers=1: once it is processed, every copy before it was handled
    eventually(lambda: processed(db, "library", sentinel), message="sentinel processed")

    assert listed(rpc, thread_id)["posts_count"] == 2
    assert [p["essence"] for p in rpc.library.get_thread(READER, thread_id)["posts"]] == [
        "Pupils of my 7th form refuse to do homework.",
        "A second post.",
    ]
    titles = [t["title"] for t in rpc.library.list_threads(READER)]
    assert titles.count("Delivered twice") == 1
    with db("library").cursor() as cur:
        cur.execute("SELECT count(*) FROM forum_posts WHERE thread_id = %s", (thread_id,))
        assert cur.fetchone()[0] == 2


def test_list_threads_refuses_an_unknown_rubric_and_get_thread_an_unknown_id(library, rpc):
    with pytest.raises(InvalidInput) as refused:
        rpc.library.list_threads(READER, "astrology")
    assert set(refused.value.fields) == {"rubric"}
    with pytest.raises(NotFound):
        rpc.library.get_thread(READER, str(uuid.uuid4()))
    with pytest.raises(InvalidInput) as refused:
        rpc.library.list_threads({"user_id": "u-1", "role": "hacker"})
    assert "role" in str(refused.value.fields)


def completed(essence, clarifications=None):
    case_id = str(uuid.uuid4())
    publication = {
        "essence": essence,
        "actions_taken": "",
        "difficulty": "",
        "question": "What now?",
        "participants": [],
        "rubrics": ["education-law"],
        "urgency": "urgent",
        "solutions": [{"text": "Read the law.", "materials": []}],
    }
    if clarifications is not None:
        publication["clarifications"] = clarifications
    return envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000777",
            "rubrics": ["education-law"],
            "problem_solved": "yes",
            "publication_consent": True,
            "author_id": str(uuid.uuid4()),
            "publication": publication,
        },
    )


def entry_with(rpc, essence):
    return next((e for e in rpc.library.list_entries(READER, "education-law") if e["essence"] == essence), None)


def test_a_library_entry_keeps_the_clarifications_scrubbed(library, rpc):
    essence = f"Clarified case {uuid.uuid4()}"
    library.publish(
        completed(
            essence,
            [
                {
                    "question": "What is the goal behind solving it?",
                    "kind": "developing",
                    "answer": "I want Ivan Petrov from school No. 5 to stop shouting; he reads ivan.petrov@mail.ru.",
                },
                {"question": "Who else knows about it?", "kind": "clarifying", "answer": None},
            ],
        )
    )
    entry = eventually(lambda: entry_with(rpc, essence), message="library entry listed")
    first, second = entry["clarifications"]
    assert first["question"] == "What is the goal behind solving it?" and first["kind"] == "developing"
    for secret in PII:
        assert secret not in first["answer"], first["answer"]
    assert "[person]" in first["answer"] and "[e-mail]" in first["answer"]
    assert second == {"question": "Who else knows about it?", "kind": "clarifying", "answer": None}
    assert rpc.library.get_entry(READER, entry["id"])["clarifications"] == entry["clarifications"]


def test_a_publication_without_clarifications_has_none(library, rpc):
    essence = f"Unclarified case {uuid.uuid4()}"
    library.publish(completed(essence))
    entry = eventually(lambda: entry_with(rpc, essence), message="library entry listed")
    assert entry["clarifications"] == []
