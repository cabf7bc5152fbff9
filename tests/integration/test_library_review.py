"""Nothing is published before a moderator has read it (issue 19, part 2): the library with its default
LIBRARY_REVIEW=moderator, fed hand-made case events on the real broker, its decisions in its own log, the
moderators' inbox entry made by the real notifications service from the library's event."""

import random
import string
import uuid

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.library.projection import draft_id, entry_id
from services.library.service import LibraryService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import consumer_under_test, count, envelope, give_up_emails, processed
from tests.support import actor, eventually

MODERATOR = actor("moderator")
READER = actor("mentee")


LIBRARY_DB = "review_library"


@pytest.fixture(scope="module")
def library(start_module_service, test_env):
    start_module_service(NotificationsService, EMAIL_POLL_INTERVAL=3600)  # the inbox; no e-mail is sent here
    # a library database of this module's own: the moderators' list shows the oldest LIST_LIMIT pending
    # drafts, and other modules leave more than that in the session's shared one
    with consumer_under_test(
        start_module_service, test_env, LibraryService, DATABASE_URL=test_env.database_url(LIBRARY_DB)
    ) as broker:  # the default review: a moderator
        yield broker
    give_up_emails(test_env, "@moderators")


def tag():
    return "zr" + "".join(random.choices(string.ascii_lowercase, k=10))


def completed(author, essence, consent=True):
    case_id = str(uuid.uuid4())
    publication = {
        "essence": essence,
        "actions_taken": "Talked to Mrs Brown at +7 916 123-45-67.",
        "difficulty": "",
        "question": "How do I answer Ivan's parents?",
        "participants": ["parents"],
        "rubrics": ["interaction-with-parents"],
        "urgency": "need_advice",
        "solutions": [
            {
                "text": "Meet them with the head teacher.",
                "materials": [{"title": "Talking to parents", "reference": "https://example.org/p"}],
            }
        ],
        "clarifications": [{"question": "Who else knows?", "kind": "clarifying", "answer": "Only Olga."}],
    }
    return envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000019",
            "rubrics": ["interaction-with-parents"],
            "problem_solved": "yes",
            "publication_consent": consent,
            "author_id": author["user_id"],
            "publication": publication if consent else None,
        },
    )


def forum_post(author, title):
    return envelope(
        "CasePublishedToForum",
        uuid.uuid4(),
        {
            "thread_id": None,
            "title": title,
            "essence": "Parents write to me at night on 8 916 555-12-12.",
            "question": "How do I set limits?",
            "rubrics": ["interaction-with-parents"],
            "urgency": "need_advice",
            "case_id": str(uuid.uuid4()),
            "case_number": "MC-2026-000103",
            "author_id": author["user_id"],
        },
    )


def withdrawal(body, author):
    case_id = body["payload"]["case_id"]
    return envelope(
        "PublicationConsentWithdrawn",
        case_id,
        {"case_id": case_id, "case_number": "MC-2026-000019", "author_id": author["user_id"]},
    )


def deliver(library, db, *bodies):
    for body in bodies:
        library.publish(body)
    eventually(lambda: processed(db, LIBRARY_DB, bodies[-1]), message="events processed")


def found(rpc, word):
    """Everywhere a reader meets the library: search, the list, similar cases."""
    return (
        [i["id"] for i in rpc.library.search(READER, {"q": word})["items"]],
        [e["id"] for e in rpc.library.list_entries(READER) if word in e["essence"]],
        [
            i["id"]
            for i in rpc.library.similar(READER, {"text": word, "rubrics": ["interaction-with-parents"], "limit": 20})
            if word in str(i)
        ],
    )


def decisions(db, draft):
    with db(LIBRARY_DB).cursor() as cur:
        cur.execute(
            "SELECT envelope->>'type', envelope->'payload'->>'decision' FROM outbox "
            "WHERE envelope->'payload'->>'draft_id' = %s ORDER BY position",
            (draft,),
        )
        return cur.fetchall()


def test_a_consenting_completion_is_a_draft_until_a_moderator_publishes_it(library, rpc, db):
    author, word = actor("mentee"), tag()
    body = completed(author, f"Anna Petrova {word} told me that Ivan Sokolov skips lessons.")
    deliver(library, db, body)
    draft = str(draft_id(body["event_id"]))

    assert found(rpc, word) == ([], [], [])  # nothing reaches search, the list or similar cases
    with pytest.raises(NotFound):
        rpc.library.get_entry(MODERATOR, str(entry_id(body["event_id"])))
    listing = rpc.library.list_drafts(MODERATOR, {})
    assert draft in [d["id"] for d in listing["items"]] and listing["waiting"] >= 1
    assert rpc.library.waiting_drafts(MODERATOR)["waiting"] == listing["waiting"]
    for who in (READER, author):
        with pytest.raises(Forbidden):
            rpc.library.list_drafts(who, {})

    # the moderator reads it beside the original: replaced spans and suspicious tokens marked
    view = rpc.library.get_draft(MODERATOR, draft)
    texts = {t["path"]: t for t in view["texts"]}
    essence = texts["essence"]
    assert word in essence["original"] and "Anna Petrova" in essence["original"]
    assert "Anna Petrova" not in essence["draft"] and "[person]" in essence["draft"]
    replaced = [essence["original"][m["start"] : m["end"]] for m in essence["original_marks"]]
    assert "Anna Petrova" in replaced and "Ivan Sokolov" in replaced
    assert {"replaced"} <= {m["kind"] for m in essence["draft_marks"]}
    assert "[phone]" in texts["actions_taken"]["draft"]
    assert set(texts) >= {"question", "clarifications.0.answer", "solutions.0.text", "solutions.0.materials.0.title"}

    # its author previews the impersonal text only; anybody else is told it does not exist
    mine = rpc.library.get_draft(author, draft)
    assert all("original" not in t for t in mine["texts"]) and "Anna Petrova" not in str(mine)
    assert [d["id"] for d in rpc.library.my_drafts(author)["items"]] == [draft]
    with pytest.raises(NotFound):
        rpc.library.get_draft(READER, draft)

    # the moderators were told (notifications consumed the library's PublicationDrafted)
    [(drafted_id,)] = count_rows(
        db,
        "SELECT envelope->>'event_id' FROM outbox WHERE envelope->>'type' = "
        "'PublicationDrafted' AND envelope->'payload'->>'draft_id' = %s",
        draft,
    )
    eventually(
        lambda: (
            count(
                db,
                "notifications",
                "SELECT count(*) FROM inbox WHERE source_event_id = %s AND "
                "user_id = '@moderators' AND kind = 'publication_drafted'",
                drafted_id,
            )
            == 1
        ),
        message="the moderators' inbox entry",
    )

    # the moderator edits what the anonymizer missed, then publishes
    with pytest.raises(InvalidInput) as refused:
        rpc.library.edit_draft(MODERATOR, draft, {"texts": {"rubrics": "x", "essence": "ok"}})
    assert set(refused.value.fields) == {"texts.rubrics"}
    with pytest.raises(InvalidInput) as refused:
        rpc.library.edit_draft(MODERATOR, draft, {"texts": {"question": "q" * 501}})
    assert set(refused.value.fields) == {"texts.question"}
    with pytest.raises(Forbidden):
        rpc.library.edit_draft(author, draft, {"texts": {"question": "Mine"}})
    edited = rpc.library.edit_draft(
        MODERATOR,
        draft,
        {"texts": {"clarifications.0.answer": "Only a colleague.", "question": f"How do I answer the parents {word}?"}},
    )
    assert (
        edited["edited_at"]
        and {t["path"]: t["draft"] for t in edited["texts"]}["clarifications.0.answer"] == "Only a colleague."
    )
    published = rpc.library.publish_draft(MODERATOR, draft)
    assert published["state"] == "published" and "original" not in str(published["texts"])
    with pytest.raises(Conflict):
        rpc.library.publish_draft(MODERATOR, draft)
    with pytest.raises(Conflict):
        rpc.library.edit_draft(MODERATOR, draft, {"texts": {"question": "Too late"}})

    item = rpc.library.get_entry(READER, str(entry_id(body["event_id"])))
    assert item["question"] == f"How do I answer the parents {word}?"
    assert item["clarifications"][0]["answer"] == "Only a colleague."
    assert "Anna Petrova" not in str(item) and author["user_id"] not in str(item)
    assert [i for i in found(rpc, word)[0]] == [item["id"]]
    assert decisions(db, draft) == [("PublicationDrafted", None), ("PublicationDecided", "published")]
    # the author's original is kept only while the draft waits
    assert count_rows(db, "SELECT original::text FROM publication_drafts WHERE id = %s", draft) == [("{}",)]


def count_rows(db, query, *args):
    with db(LIBRARY_DB).cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()


def test_a_rejected_draft_is_never_published(library, rpc, db):
    author, word = actor("mentee"), tag()
    body = completed(author, f"The head {word} shouted at me.")
    deliver(library, db, body)
    draft = str(draft_id(body["event_id"]))
    with pytest.raises(InvalidInput) as refused:
        rpc.library.reject_draft(MODERATOR, draft, {"reason": "  "})
    assert set(refused.value.fields) == {"reason"}
    with pytest.raises(Forbidden):
        rpc.library.reject_draft(author, draft, {"reason": "Not mine to decide."})
    rejected = rpc.library.reject_draft(MODERATOR, draft, {"reason": "The school is recognisable."})
    assert (rejected["state"], rejected["reason"]) == ("rejected", "The school is recognisable.")
    assert rpc.library.get_draft(author, draft)["reason"] == "The school is recognisable."
    with pytest.raises(Conflict):
        rpc.library.publish_draft(MODERATOR, draft)
    assert found(rpc, word) == ([], [], [])
    assert decisions(db, draft) == [("PublicationDrafted", None), ("PublicationDecided", "rejected")]


def test_no_consent_no_draft(library, rpc, db):
    author = actor("mentee")
    body = completed(author, "Without consent.", consent=False)
    deliver(library, db, body, completed(actor("mentee"), "A sentinel: handled after it (one worker)."))
    assert rpc.library.my_drafts(author)["items"] == []


def test_a_case_posted_to_the_forum_waits_for_review_too(library, rpc, db):
    author, title = actor("mentee"), f"Night messages {tag()}"
    body = forum_post(author, title)
    deliver(library, db, body)
    draft = str(draft_id(body["event_id"]))
    assert title not in [t["title"] for t in rpc.library.list_threads(READER)]
    view = rpc.library.get_draft(MODERATOR, draft)
    assert view["kind"] == "forum_post" and [t["path"] for t in view["texts"]] == ["title", "essence", "question"]
    assert "[phone]" in view["texts"][1]["draft"]
    rpc.library.publish_draft(MODERATOR, draft)
    [thread] = [t for t in rpc.library.list_threads(READER) if t["title"] == title]
    posts = rpc.library.get_thread(READER, thread["id"])["posts"]
    assert len(posts) == 1 and "555-12-12" not in str(posts)


def test_the_authors_withdrawal_drops_the_draft_and_unpublishes_what_was_published(library, rpc, db):
    author, word = actor("mentee"), tag()
    waiting, published = completed(author, f"First {word}."), completed(author, f"Second {word}.")
    deliver(library, db, waiting, published)
    rpc.library.publish_draft(MODERATOR, str(draft_id(published["event_id"])))
    item_id = str(entry_id(published["event_id"]))
    assert rpc.library.get_entry(READER, item_id)

    stranger = withdrawal(waiting, actor("mentee"))  # the event names the case's author; another changes nothing
    deliver(library, db, stranger)
    assert rpc.library.get_draft(author, str(draft_id(waiting["event_id"])))["state"] == "pending"

    deliver(library, db, withdrawal(waiting, author), withdrawal(published, author))
    assert rpc.library.get_draft(author, str(draft_id(waiting["event_id"])))["state"] == "withdrawn"
    assert rpc.library.get_draft(author, str(draft_id(published["event_id"])))["state"] == "withdrawn"
    with pytest.raises(NotFound):
        rpc.library.get_entry(READER, item_id)
    assert (
        rpc.library.get_entry(MODERATOR, item_id)["withdrawn_reason"] == "The author withdrew consent to publication."
    )
    with pytest.raises(Conflict):
        rpc.library.publish_draft(MODERATOR, str(draft_id(waiting["event_id"])))
    assert found(rpc, word) == ([], [], [])

    again = withdrawal(published, author)  # a redelivered withdrawal (a new event) decides nothing twice
    deliver(library, db, again)
    assert decisions(db, str(draft_id(published["event_id"]))) == [
        ("PublicationDrafted", None),
        ("PublicationDecided", "published"),
        ("PublicationDecided", "withdrawn"),
    ]


def test_a_person_finds_their_drafts_and_forum_messages_in_their_records(library, rpc, db):
    author, word = actor("mentee"), tag()
    body = completed(author, f"Mine {word}.")
    deliver(library, db, body)
    records = rpc.library.records_of(author)
    [row] = records["publication_drafts"]
    assert row["id"] == str(draft_id(body["event_id"])) and word in row["original"]["essence"]
    assert records["forum_messages"] == []
    assert rpc.library.records_of(actor("mentee")) == {
        "publication_drafts": [],
        "forum_messages": [],
        "surveys": [],
        "survey_respondents": [],
        "survey_mentees": [],
        "survey_mentors": [],
    }
