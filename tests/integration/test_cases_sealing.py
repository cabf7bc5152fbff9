"""The texts persons write into cases are sealed with their writer's key (issue 19, part 3;
services/cases/sealing.py), on the real cases service over RabbitMQ and PostgreSQL, on a database of
this module's own (every one of its tables is scanned).

A case goes through every step that writes text (the form, a decline's reason, questions, answers, a
redefinition, messages both ways, a colleague's opinion, a forum title, a solution with materials, a
completion with its reflection; another case is withdrawn with a reason), in Russian and English. Then:

- the event store's bytes and every text column of every cases table hold none of those texts (as
  UTF-8, JSON-escaped or hex); the question pool (anonymized questions, the form's stemmed words, by
  design in the clear for the suggestions) is scanned only after the erasures;
- the participants still read every text over RPC;
- the author is erased (identity's PersonErased): their texts read "[erased]", the mentor's still read,
  the whole log replays, the statistics are unchanged; then the mentor too; and no table (the pool
  included) keeps a text, a word or a lexeme of either.
"""

import json
import uuid

import psycopg2
import pytest

from services.cases.application import open_application
from services.cases.service import CasesService
from services.common.shredding import ERASED, KeyStore, erase_key
from tests.actors import signed_rpc
from tests.integration.event_helpers import envelope, open_broker
from tests.support import actor, case_form, eventually

RUBRIC = "class-management-motivation"


def token():
    return uuid.uuid4().hex[:12]


def ru(words):
    """A Russian text with a unique ASCII token (found in any encoding)."""
    return f"{words} метка{token()}"


TEXTS = {
    "essence": ru("Ученица Снежана Крылова плачет на уроках географии"),
    "actions_taken": ru("Поговорила с классным руководителем Зоей Петровной"),
    "difficulty": ru("Родители Снежаны не отвечают на звонки"),
    "question": ru("Как вернуть доверие девочки"),
    "decline": f"On leave until spring, marker {token()}",
    "question_asked": ru("Когда именно начались слёзы у Снежаны"),
    "answer": ru("После переезда семьи на улицу Профсоюзная"),
    "redefined_essence": ru("Снежана замкнулась после конфликта с одноклассницей Вероникой"),
    "message_mentee": ru("Спасибо, завтра попробую поговорить"),
    "message_mentor": ru("Напишите, как прошла беседа"),
    "opinion": ru("Коллега советует встретиться с психологом школы номер 1543"),
    "forum_title": ru("Девочка плачет на уроках"),
    "solution": ru("Предлагаю провести классный час о дружбе"),
    "material_title": ru("Книга Ирины Медведевой"),
    "material_reference": f"https://example.org/{token()}",
    "reflection_actions": ru("Провела классный час в четверг"),
    "reflection_learned": ru("Важно слушать молча"),
    "reflection_comment": ru("Снежана улыбнулась впервые за месяц"),
    "withdrawal": ru("Вопрос решился сам, Снежана перешла в другую школу"),
}
AUTHORS = (
    "essence",
    "actions_taken",
    "difficulty",
    "question",
    "answer",
    "redefined_essence",
    "message_mentee",
    "forum_title",
    "reflection_actions",
    "reflection_learned",
    "reflection_comment",
    "withdrawal",
)
MENTORS = ("question_asked", "message_mentor", "solution", "material_title", "material_reference")


@pytest.fixture(scope="module")
def cases(start_module_service, test_env):
    url = test_env.database_url("cases_sealing")
    start_module_service(CasesService, DATABASE_URL=url, max_workers=1)
    conn, broker = open_broker(test_env.amqp_uri)
    db = psycopg2.connect(url)
    db.autocommit = True
    yield broker, db, url
    db.close()
    conn.release()


def proposals(broker, case_id, round, *mentor_ids):
    """Matching's answer for a round, as matching publishes it."""
    broker.publish(
        envelope(
            "MentorsMatched",
            case_id,
            {
                "case_id": case_id,
                "round": round,
                "proposals": [{"mentor_id": m, "matched_rubrics": [RUBRIC], "score": 1.0} for m in mentor_ids],
            },
            source="matching",
        )
    )


def erase(broker, db, person_id):
    broker.publish(envelope("PersonErased", person_id, {"person_id": person_id}, source="identity"))

    def tombstone():
        with db.cursor() as cur:
            cur.execute("SELECT erased_at FROM person_keys WHERE person_id = %s", (person_id,))
            row = cur.fetchone()
            return row and row[0]

    eventually(tombstone, message="cases erased the key")


def forms(text):
    """The encodings a stored text could take: UTF-8, JSON with \\u escapes, and the hex of both."""
    escaped = json.dumps(text)[1:-1]
    return {text, escaped, text.encode().hex(), escaped.encode().hex()}


def leaks(db, names, skip_tables=()):
    """(table, text name) of every text of ``names`` found in any table of the database, as row text
    (every column, bytea as hex) or as the event store's raw bytes."""
    found = []
    with db.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        tables = [t for (t,) in cur.fetchall() if t not in skip_tables]
        dumps = {}
        for table in tables:
            cur.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t")  # noqa: S608
            dumps[table] = cur.fetchone()[0]
        cur.execute("SELECT state FROM cases_events")
        raw = b"\n".join(bytes(state) for (state,) in cur.fetchall())
    for name in names:
        text = TEXTS[name]
        marker = text.rsplit(" ", 1)[-1]
        for table, dump in dumps.items():
            if any(form in dump for form in forms(text)) or marker in dump:
                found.append((table, name))
        if text.encode() in raw or marker.encode() in raw or json.dumps(text).encode() in raw:
            found.append(("cases_events bytes", name))
    return found


def pool_lexemes_of(db, names):
    """Stemmed words of the texts ``names`` that the question pool still holds."""
    with db.cursor() as cur:
        cur.execute(
            "SELECT array_agg(DISTINCT l) FROM unnest(to_tsvector('russian', %s)) AS w(l, p, wt) "
            "WHERE length(l) >= 3 AND l !~ '^[0-9]+$'",
            (" ".join(TEXTS[n].rsplit(" ", 1)[0] for n in names),),
        )
        lexemes = cur.fetchone()[0] or []
        cur.execute("SELECT lexeme FROM question_pool_lexemes WHERE lexeme = ANY(%s)", (lexemes,))
        pooled = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT coalesce(array_agg(l), '{}') FROM question_pool_cases, unnest(lexemes) l")
        pooled |= set(cur.fetchone()[0]) & set(lexemes)
    return pooled


@pytest.fixture(scope="module")
def journey(cases, test_env):
    with signed_rpc(test_env.amqp_uri, timeout=15) as rpc:
        return walk(cases, rpc)


def walk(cases, rpc):
    """A case through every step that writes text, and another withdrawn with a reason."""
    broker, db, _ = cases
    mentee, first, mentor, colleague, moderator = (
        actor("mentee"),
        actor("mentor"),
        actor("mentor"),
        actor("mentor"),
        actor("moderator"),
    )
    form = case_form(
        rubrics=[RUBRIC],
        mode="personal",
        group_discussion_consent=True,
        publication_consent=False,
        **{k: TEXTS[k] for k in ("essence", "actions_taken", "difficulty", "question")},
    )
    case_id = rpc.cases.create_case(mentee, form)["id"]

    def state_is(state):
        return eventually(lambda: rpc.cases.get_case(moderator, case_id)["state"] == state, message=state)

    proposals(broker, case_id, 1, first["user_id"], mentor["user_id"])
    state_is("choosing_mentor")
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": first["user_id"]})
    rpc.cases.decline_case(first, case_id, {"reason": TEXTS["decline"]})
    proposals(broker, case_id, 2, mentor["user_id"])
    state_is("choosing_mentor")
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case_id)
    asked = rpc.cases.ask_questions(
        mentor, case_id, {"questions": [{"text": TEXTS["question_asked"], "kind": "clarifying"}]}
    )
    question_id = asked["questions"][0]["id"]
    rpc.cases.answer_questions(mentee, case_id, {"answers": [{"question_id": question_id, "text": TEXTS["answer"]}]})
    rpc.cases.redefine_case(mentee, case_id, {**form, "essence": TEXTS["redefined_essence"]})
    rpc.cases.send_message(mentee, case_id, {"text": TEXTS["message_mentee"]})
    rpc.cases.send_message(mentor, case_id, {"text": TEXTS["message_mentor"]})
    rpc.cases.share_with_colleagues(mentor, case_id, {"colleague_ids": [colleague["user_id"]]})
    rpc.cases.add_opinion(colleague, case_id, {"text": TEXTS["opinion"]})
    rpc.cases.publish_to_forum(mentee, case_id, {"title": TEXTS["forum_title"]})
    solved = rpc.cases.propose_solution(
        mentor,
        case_id,
        {
            "text": TEXTS["solution"],
            "materials": [{"title": TEXTS["material_title"], "reference": TEXTS["material_reference"]}],
        },
    )
    rpc.cases.complete_case(
        mentee,
        case_id,
        {
            "problem_solved": "yes",
            "helpfulness": {solved["solutions"][0]["id"]: 5},
            "actions": TEXTS["reflection_actions"],
            "learned": TEXTS["reflection_learned"],
            "comment": TEXTS["reflection_comment"],
        },
    )
    other_id = rpc.cases.create_case(mentee, case_form(rubrics=[RUBRIC], essence=TEXTS["essence"] + " 2"))["id"]
    rpc.cases.withdraw_case(mentee, other_id, {"reason": TEXTS["withdrawal"]})
    # the listing, the figures and the question pool caught up with the log
    eventually(lambda: len(rpc.cases.list_cases(moderator, {})["items"]) == 2, message="listed")
    rpc.cases.question_suggestion_usage(moderator)
    return {
        "mentee": mentee,
        "mentor": mentor,
        "colleague": colleague,
        "moderator": moderator,
        "case_id": case_id,
        "other_id": other_id,
    }


def texts_seen(view):
    """The texts of ``TEXTS`` a case view shows (by name), and which read "[erased]"."""
    shown = json.dumps(view, ensure_ascii=False)
    return {name for name, text in TEXTS.items() if text in shown}


def test_no_table_holds_a_text_in_the_clear_and_the_participants_read_them(cases, journey, rpc):
    _, db, _ = cases
    pool = ("question_pool_cases", "question_pool_lexemes", "question_pool_questions")
    assert leaks(db, TEXTS, skip_tables=pool) == []

    case = rpc.cases.get_case(journey["mentee"], journey["case_id"])
    assert case["form"]["essence"] == TEXTS["redefined_essence"]
    assert {"redefined_essence", "answer", "message_mentee", "message_mentor", "solution", "opinion"} <= texts_seen(
        case
    )
    assert case["reflection"]["comment"] == TEXTS["reflection_comment"]
    assert case["solutions"][0]["materials"][0] == {
        "title": TEXTS["material_title"],
        "reference": TEXTS["material_reference"],
        "rubrics": [],
    }
    assert rpc.cases.get_case(journey["mentee"], journey["other_id"])["withdrawn_reason"] == TEXTS["withdrawal"]
    mentor_view = rpc.cases.get_case(journey["mentor"], journey["case_id"])
    assert mentor_view["questions"][0]["text"] == TEXTS["question_asked"]
    assert mentor_view["questions"][0]["answer"] == TEXTS["answer"]
    history = json.dumps(rpc.cases.get_history(journey["moderator"], journey["case_id"]), ensure_ascii=False)
    assert TEXTS["decline"] in history and TEXTS["forum_title"] in history and TEXTS["essence"] in history
    listed = rpc.cases.list_cases(journey["mentee"], {})["items"]
    assert {c["excerpt"] for c in listed} >= {TEXTS["redefined_essence"]}


def test_an_erased_persons_texts_read_erased_and_nothing_of_them_remains(cases, journey, rpc):
    broker, db, url = cases
    moderator = journey["moderator"]
    figures = rpc.cases.statistics(moderator)

    erase(broker, db, journey["mentee"]["user_id"])
    case = eventually(
        lambda: (lambda c: c if c["form"]["essence"] == ERASED else None)(
            rpc.cases.get_case(moderator, journey["case_id"])
        ),
        message="the author's texts read [erased]",
    )
    assert texts_seen(case) & set(AUTHORS) == set()
    assert case["questions"][0]["answer"] == ERASED and case["reflection"]["comment"] == ERASED
    assert case["questions"][0]["text"] == TEXTS["question_asked"]  # the mentor's, still theirs
    assert case["solutions"][0]["text"] == TEXTS["solution"]
    assert case["opinions"][0]["text"] == TEXTS["opinion"]
    assert [m["text"] for m in case["messages"]] == [ERASED, TEXTS["message_mentor"]]
    assert rpc.cases.get_case(moderator, journey["other_id"])["withdrawn_reason"] == ERASED
    assert {c["excerpt"] for c in rpc.cases.list_cases(moderator, {})["items"]} == {ERASED}
    assert rpc.cases.statistics(moderator) == figures
    assert pool_lexemes_of(db, AUTHORS) == set()

    erase(broker, db, journey["mentor"]["user_id"])
    case = eventually(
        lambda: (lambda c: c if c["solutions"][0]["text"] == ERASED else None)(
            rpc.cases.get_case(moderator, journey["case_id"])
        ),
        message="the mentor's texts read [erased]",
    )
    assert case["questions"][0]["text"] == ERASED and case["solutions"][0]["materials"][0]["title"] == ERASED
    assert case["opinions"][0]["text"] == TEXTS["opinion"]  # the colleague was not erased
    assert rpc.cases.statistics(moderator) == figures
    eventually(lambda: rpc.cases.question_suggestion_usage(moderator) is not None, message="pool caught up")
    assert leaks(db, [*AUTHORS, *MENTORS]) == []
    assert pool_lexemes_of(db, AUTHORS) == set()

    app = open_application(url, pool_size=1)  # the whole log replays, every case rebuilt
    try:
        with db.cursor() as cur:
            cur.execute("SELECT DISTINCT originator_id FROM cases_events")
            ids = [row[0] for row in cur.fetchall()]
        assert {app.get_case(i).state for i in ids} == {"completed", "withdrawn"}
    finally:
        app.close()


def test_keys_for_sealing_are_made_once_read_in_one_query_and_never_again_after_erasure(cases):
    """KeyStore.keys_for_sealing (services/common/shredding.py), which the cases application uses
    for each batch of events: a key is made on first use only, read back the same, and an erased
    person gets None, their tombstone never replaced by a new key."""
    _, db, _ = cases
    store = KeyStore("a test master key, thirty-two characters")
    known, new, erased = (str(uuid.uuid4()) for _ in range(3))
    with db.cursor() as cur:
        first = store.keys_for_sealing(cur, [known, erased])
        erase_key(cur, erased)
        again = store.keys_for_sealing(cur, [known, new, erased, known.upper()])
        assert again[known] == first[known] is not None and again[new] is not None
        assert again[erased] is None and set(again) == {known, new, erased}
        assert store.keys_for_sealing(cur, [new]) == {new: again[new]}
        cur.execute("SELECT wrapped_key FROM person_keys WHERE person_id = %s", (erased,))
        assert cur.fetchone()[0] is None
