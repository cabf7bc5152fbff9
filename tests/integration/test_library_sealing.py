"""What people wrote is sealed at rest in the library (issue 19, part 3): real cases, matching and library
services on the real broker and databases (tests/integration/live_journey.py). A consenting completed case
makes a draft through the cases service, its author and another person write in the forum; every text,
JSON or array column of every table of the library's database is searched for those texts (Russian and
English, raw and JSON-escaped) and holds none, while the API reads them back. After the author's erasure
(identity's PersonErased on the broker) their waiting draft leaves the review queue withdrawn and reads
"[erased]", their forum message too, the published entry stays, a second PersonErased changes nothing, and
``mentor-research rebuild`` / ``verify library`` still reproduce the published library."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from psycopg2.extras import RealDictCursor

from services.common import shredding
from services.common.shredding import ERASED, SEALED_PREFIX
from services.library import sealing
from services.library.projection import AUTHOR_ERASED
from tests.integration import at_rest
from tests.integration.event_helpers import envelope, processed, publish_all
from tests.integration.live_journey import completed_journey
from tests.support import actor, case_form, eventually, run_research

PREFIX = "sealing"
LIBRARY_DB = f"{PREFIX}_library"
MODERATOR = actor("moderator")


@pytest.fixture(scope="module")
def journey(start_module_service, test_env):
    yield from completed_journey(start_module_service, test_env, PREFIX)


def escaped(texts):
    """Each text as stored raw and as a JSON string holds it (ASCII-escaped or not), without the quotes."""
    forms = set()
    for text in texts:
        forms |= {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return sorted(forms)


def found_in_database(db, needles):
    return at_rest.found_in_database(
        db(LIBRARY_DB),
        needles,
        {("forum_messages", "text"), ("publication_drafts", "original"), ("outbox", "envelope")},
    )


def rows(db, query, *args):
    with db(LIBRARY_DB).cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()


def solved_case(rpc, mentee, mentor, essence, solution):
    """A second case of the journey's mentee, solved by its mentor, with consent to publication: a draft."""
    case_id = rpc.cases.create_case(mentee, case_form(essence=essence, publication_consent=True))["id"]
    eventually(
        lambda: any(
            p["mentor_id"] == mentor["user_id"]
            for p in rpc.cases.get_case(mentee, case_id).get("proposed_mentors") or ()
        ),
        message="proposals recorded",
    )
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case_id)
    solved = rpc.cases.propose_solution(mentor, case_id, {"text": solution, "materials": []})
    rpc.cases.complete_case(
        mentee, case_id, {"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 4}}
    )
    return eventually(
        lambda: next((d for d in rpc.library.my_drafts(mentee, case_id)["items"] if d["state"] == "pending"), None),
        message="the completed case's draft waits for review",
    )


def erase(test_env, person_id):
    """Identity's PersonErased, as its relay publishes it after an erasure; returns the message."""
    body = envelope("PersonErased", person_id, {"person_id": person_id}, source="identity")
    publish_all(test_env.amqp_uri, [body])
    return body


def test_drafts_and_forum_messages_are_sealed_and_read_erased_after_the_authors_erasure(journey, rpc, db, test_env):
    mentee, mentor = journey["mentee"], journey["mentor"]
    tag = uuid.uuid4().hex[:10]
    essence = f'Ученик Пётр Сидоров срывает уроки {tag}; his mother Anna Sidorova says "he is bored" {tag}.'
    solution = f"Поговорите с классным руководителем {tag}, then agree the rules together."
    message = f'Спасибо всем {tag}! My pupil Petya cried "again" today.'
    other = f"Держитесь {tag}, it gets better."
    texts = (essence, solution, message, other, tag, f"срывает уроки {tag}", "Сидоров", 'cried "again"')

    draft = solved_case(rpc, mentee, mentor, essence, solution)
    [thread] = rpc.library.list_threads(MODERATOR)
    written = rpc.library.add_post(mentee, thread["id"], {"text": message, "reply_to": None})
    reader = actor("mentor")
    answered = rpc.library.add_post(reader, thread["id"], {"text": other, "reply_to": written["id"]})
    [entry] = rpc.library.list_entries(MODERATOR)
    published = rpc.library.get_entry(MODERATOR, entry["id"])

    # at rest: none of the texts anywhere in the library's database; the API opens them
    assert found_in_database(db, escaped(texts)) == {}
    [(sealed_text,)] = rows(db, "SELECT text FROM forum_messages WHERE id::text = %s", written["id"])
    assert sealed_text.startswith(f"{SEALED_PREFIX}{mentee['user_id']}:")
    [(original,)] = rows(db, "SELECT original->>'essence' FROM publication_drafts WHERE id::text = %s", draft["id"])
    assert original.startswith(f"{SEALED_PREFIX}{mentee['user_id']}:")
    view = rpc.library.get_draft(MODERATOR, draft["id"])
    shown = {t["path"]: t for t in view["texts"]}
    assert shown["essence"]["original"] == essence and "Сидоров" not in shown["essence"]["draft"]
    assert f"срывает уроки {tag}" in shown["essence"]["draft"] and shown["solutions.0.text"]["original"] == solution
    assert draft["id"] in [d["id"] for d in rpc.library.list_drafts(MODERATOR, {})["items"]]
    assert tag in rpc.library.my_drafts(mentee)["items"][0]["texts"][0]["draft"]
    posts = {p["id"]: p for p in rpc.library.get_thread(reader, thread["id"])["posts"]}
    assert (posts[written["id"]]["text"], posts[answered["id"]]["text"]) == (message, other)
    records = rpc.library.records_of(mentee)
    assert essence in [r["original"].get("essence") for r in records["publication_drafts"]]
    assert [r["text"] for r in records["forum_messages"]] == [message]
    # an edit stays the author's text until published: sealed too
    edited = rpc.library.edit_draft(MODERATOR, draft["id"], {"texts": {"question": f"Как быть {tag}?"}})
    assert {t["path"]: t["draft"] for t in edited["texts"]}["question"] == f"Как быть {tag}?"
    assert found_in_database(db, escaped([f"Как быть {tag}?"])) == {}

    first = erase(test_env, mentee["user_id"])
    withdrawn = eventually(
        lambda: (d := rpc.library.get_draft(MODERATOR, draft["id"]))["state"] == "withdrawn" and d,
        message="the erased author's waiting draft is withdrawn",
    )
    assert withdrawn["reason"] == AUTHOR_ERASED
    assert {t["draft"] for t in withdrawn["texts"]} <= {ERASED, ""} and ERASED in str(withdrawn)
    assert draft["id"] not in [d["id"] for d in rpc.library.list_drafts(MODERATOR, {})["items"]]
    assert draft["id"] in [d["id"] for d in rpc.library.list_drafts(MODERATOR, {"state": "withdrawn"})["items"]]
    posts = {p["id"]: p for p in rpc.library.get_thread(reader, thread["id"])["posts"]}
    assert (posts[written["id"]]["text"], posts[answered["id"]]["text"]) == (ERASED, other)
    assert rpc.library.get_entry(MODERATOR, entry["id"]) == published  # impersonal by review: it stays
    assert found_in_database(db, escaped(texts)) == {}
    # the decision in the library's log says why with ids only
    [(payload,)] = rows(
        db,
        "SELECT envelope->'payload' FROM outbox WHERE envelope->>'type' = 'PublicationDecided' "
        "AND envelope->'payload'->>'draft_id' = %s",
        draft["id"],
    )
    assert (payload["decision"], payload["reason"], payload["entry"]) == ("withdrawn", AUTHOR_ERASED, None)

    def state():
        return (
            rows(db, "SELECT count(*) FROM outbox"),
            rows(db, "SELECT id, state, original, draft FROM publication_drafts ORDER BY id"),
            rows(db, "SELECT id, text FROM forum_messages ORDER BY id"),
            rows(db, "SELECT person_id, wrapped_key, erased_at FROM person_keys ORDER BY person_id"),
        )

    assert processed(db, LIBRARY_DB, first)
    before = state()
    second = erase(test_env, mentee["user_id"])  # a second erasure (a new event) changes nothing
    eventually(lambda: processed(db, LIBRARY_DB, second), message="the second PersonErased handled")
    assert state() == before

    url = test_env.database_url(f"{PREFIX}_rebuilt")
    code, out = run_research(
        "rebuild", "library", "--cases-url", journey["cases"], "--library-url", journey["library"], "--into-url", url
    )
    assert code == 0, out
    code, out = run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)
    assert code == 0 and "live and rebuilt are equal" in out, out


def test_rows_written_before_sealing_are_sealed_by_the_data_pass(journey, rpc, db):
    writer, author, tag = actor("mentee"), str(uuid.uuid4()), uuid.uuid4().hex[:10]
    message, essence = f"Написано до шифрования {tag}", f"Written before sealing {tag}, by Олег Иванов."
    [thread] = rpc.library.list_threads(MODERATOR)
    message_id, draft = str(uuid.uuid4()), str(uuid.uuid4())
    db(LIBRARY_DB).autocommit = False  # committed after the control: the service's own pass cannot see them before
    with db(LIBRARY_DB).cursor() as cur:  # as the library stored them before this change
        cur.execute(
            "INSERT INTO forum_messages (id, thread_id, author_id, author_role, text) VALUES (%s, %s, %s, 'mentee', %s)",
            (message_id, thread["id"], writer["user_id"], message),
        )
        document = {"essence": essence, "question": f"Как быть {tag}?", "title": "", "rubrics": ["x"], "urgency": "u"}
        cur.execute(
            "INSERT INTO publication_drafts (id, kind, source_event_id, case_id, author_id, rubrics, original, draft) "
            "VALUES (%s, 'forum_post', %s, %s, %s, '{}', %s, %s)",
            (draft, str(uuid.uuid4()), str(uuid.uuid4()), author, json.dumps(document), json.dumps(document)),
        )
        survey = str(uuid.uuid4())
        questions = [
            {"id": "q1", "kind": "text", "text": f"Вопрос до шифрования {tag}", "required": True, "options": []}
        ]
        cur.execute(
            "INSERT INTO surveys (id, author_id, title, audience, rubrics, opens_at, closes_at, questions) "
            "VALUES (%s, %s, %s, 'mentees', '{}', now(), now() + interval '1 day', %s)",
            (survey, author, f"Опрос {tag}", json.dumps(questions)),
        )
    try:
        assert found_in_database(db, [tag])  # the test's rows hold plaintext until the pass
        db(LIBRARY_DB).commit()
    finally:
        db(LIBRARY_DB).rollback()  # nothing after the commit; the inserts if the control failed
        db(LIBRARY_DB).autocommit = True

    vault = sealing.Vault(sealing.DEVELOPMENT_MASTER_KEY)  # config.yaml's, as the running service's
    conn = db(LIBRARY_DB)
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        conn.autocommit = False
        try:
            while sealing.seal_legacy_rows(cur, vault):
                pass
            conn.commit()
        finally:
            conn.autocommit = True
    assert found_in_database(db, escaped([message, essence, tag, "Олег Иванов"])) == {}
    shown = rpc.library.get_survey(MODERATOR, survey)
    assert (shown["title"], shown["questions"][0]["text"]) == (f"Опрос {tag}", f"Вопрос до шифрования {tag}")
    [(urgency, rubrics)] = rows(
        db, "SELECT draft->>'urgency', draft->'rubrics' FROM publication_drafts WHERE id = %s", draft
    )
    assert (urgency, rubrics) == ("u", ["x"])  # what names nobody stays plain

    posts = {p["id"]: p for p in rpc.library.get_thread(writer, thread["id"])["posts"]}
    assert posts[message_id]["text"] == message
    view = rpc.library.get_draft(MODERATOR, draft)
    assert {t["path"]: t["original"] for t in view["texts"]}["essence"] == essence
    with db(LIBRARY_DB).cursor() as cur:
        cur.execute("SELECT erased_at FROM person_keys WHERE person_id = %s", (author,))
        assert cur.fetchone() == (None,)
    assert shredding.is_sealed(rows(db, "SELECT text FROM forum_messages WHERE id = %s", message_id)[0][0])


def test_a_case_of_an_author_erased_before_it_arrived_never_waits_for_review(journey, rpc, db, test_env):
    """The completion of an author whose PersonErased came first: the draft's texts are "[erased]" (no key
    is made again) and it is withdrawn at once, never in the moderators' queue."""
    author = str(uuid.uuid4())
    erasure = erase(test_env, author)
    eventually(lambda: processed(db, LIBRARY_DB, erasure), message="the PersonErased handled")
    case_id, tag = str(uuid.uuid4()), uuid.uuid4().hex[:10]
    publication = {
        "essence": f"Late {tag}.",
        "actions_taken": "",
        "difficulty": "",
        "question": f"Вопрос {tag}?",
        "participants": ["parents"],
        "rubrics": ["interaction-with-parents"],
        "urgency": "need_advice",
        "solutions": [{"text": f"Решение {tag}.", "materials": []}],
        "clarifications": [],
    }
    body = envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000042",
            "rubrics": ["interaction-with-parents"],
            "problem_solved": "yes",
            "publication_consent": True,
            "author_id": author,
            "publication": publication,
        },
    )
    publish_all(test_env.amqp_uri, [body])
    eventually(lambda: processed(db, LIBRARY_DB, body), message="the late completion handled")
    [draft] = rpc.library.my_drafts({"user_id": author, "role": "mentee"}, case_id)["items"]
    assert (draft["state"], draft["reason"]) == ("withdrawn", AUTHOR_ERASED)
    assert {t["draft"] for t in draft["texts"]} <= {ERASED, ""}
    assert draft["id"] not in [d["id"] for d in rpc.library.list_drafts(MODERATOR, {})["items"]]
    assert found_in_database(db, escaped([tag])) == {}
    assert rows(db, "SELECT wrapped_key FROM person_keys WHERE person_id = %s", author) == [(None,)]


def test_a_mentors_survey_is_sealed_and_closes_when_its_author_is_erased(journey, rpc, db, test_env):
    mentor, tag = journey["mentor"], uuid.uuid4().hex[:10]
    eventually(
        lambda: rows(db, "SELECT accredited FROM survey_mentors WHERE mentor_id = %s", mentor["user_id"]) == [(True,)],
        message="the library knows the journey's mentor is accredited",
    )
    rpc.library.update_survey_settings(MODERATOR, {"mentors_may_create": True})
    now = datetime.now(timezone.utc)
    title, single, free = f"Как идёт четверть {tag}?", f'Which form "mostly" {tag}?', f"Что бы вы изменили {tag}?"
    definition = {
        "title": title,
        "audience": "mentees",
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "questions": [
            {"kind": "single", "text": single, "options": ["5", "7"]},
            {"kind": "text", "text": free, "required": False},
        ],
    }
    survey = rpc.library.create_survey(mentor, definition, uuid.uuid4().hex)
    assert (survey["title"], [q["text"] for q in survey["questions"]]) == (title, [single, free])
    respondent = actor("mentee")
    rpc.library.answer_survey(respondent, survey["id"], {"answers": {"q1": "7", "q2": "Всё хорошо"}})
    assert found_in_database(db, escaped([title, single, free, tag])) == {}
    assert rpc.library.get_survey(respondent, survey["id"])["title"] == title
    assert [q["text"] for q in rpc.library.survey_results(mentor, survey["id"])["questions"]] == [single, free]
    assert rpc.library.records_of(mentor)["surveys"][0]["title"] == title

    erase(test_env, mentor["user_id"])
    closed = eventually(
        lambda: (s := rpc.library.get_survey(MODERATOR, survey["id"]))["title"] == ERASED and s,
        message="the erased author's survey reads [erased]",
    )
    assert closed["state"] == "closed" and [q["text"] for q in closed["questions"]] == [ERASED, ERASED]
    results = rpc.library.survey_results(MODERATOR, survey["id"])
    assert results["responses"] == 1 and results["questions"][0]["counts"] == [
        {"option": "5", "count": 0},
        {"option": "7", "count": 1},
    ]
    assert found_in_database(db, escaped([title, single, free, tag])) == {}


def test_an_erasure_seals_what_the_data_pass_has_not_reached_yet(journey, rpc, db, test_env):
    """A plaintext forum message (written before sealing) of a person erased before the data pass sealed it
    reads "[erased]" after their PersonErased, and its text is nowhere in the database."""
    writer, tag = actor("mentor"), uuid.uuid4().hex[:10]
    text = f"Старое сообщение {tag}"
    [thread] = rpc.library.list_threads(MODERATOR)
    message_id = str(uuid.uuid4())
    with db(LIBRARY_DB).cursor() as cur:
        cur.execute(
            "INSERT INTO forum_messages (id, thread_id, author_id, author_role, text) VALUES (%s, %s, %s, 'mentor', %s)",
            (message_id, thread["id"], writer["user_id"], text),
        )
    body = erase(test_env, writer["user_id"])
    eventually(lambda: processed(db, LIBRARY_DB, body), message="the PersonErased handled")
    posts = {p["id"]: p for p in rpc.library.get_thread(MODERATOR, thread["id"])["posts"]}
    assert posts[message_id]["text"] == ERASED
    assert found_in_database(db, escaped([text, tag])) == {}
