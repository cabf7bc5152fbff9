"""Question suggestions learned from solved cases (issue #22 part 3) on the real cases service,
RabbitMQ and PostgreSQL: the bank alone while nothing is solved; then the questions of similar
solved cases first, with their provenance counted right and anonymized; one unpublished case's own
wording never shown; which suggestion was used (as is or edited) recorded in the case's log and
counted for the moderators; the pool folded again from the start (a redelivered batch) unchanged.

cases runs on a database of its own here, so only this module's cases are in the pool.
"""

import psycopg2
import pytest

from contracts.errors import Forbidden
from contracts.question_bank import QUESTION_BANK
from services.cases.service import CasesService
from tests.actors import signed_rpc
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.support import actor, case_form, eventually

MODERATOR = actor("moderator")
BANK_ORDER = [hint.id for group in QUESTION_BANK for hint in group.hints]
BULLYING = dict(
    essence="A pupil of my 6th form is bullied by classmates during breaks; they hide his bag.",
    difficulty="The pupils deny everything and I have no proof of the bullying.",
    question="How do I stop the bullying in my class?",
    rubrics=["class-management-motivation"],
)
NAMED = "Did Ivan Petrov's mother tell you about the bullying?"
SHARED = "Who else saw the bullying during the breaks?"


@pytest.fixture(scope="module")
def world(start_module_service, test_env):
    url = test_env.database_url("cases_question_suggestions")
    purge(test_env.amqp_uri, "cases.matching-events")
    start_module_service(CasesService, DATABASE_URL=url)
    conn, broker = open_broker(test_env.amqp_uri)
    db = psycopg2.connect(url)
    db.autocommit = True
    with signed_rpc(test_env.amqp_uri, timeout=30) as rpc:
        yield broker, rpc, db
    db.close()
    conn.release()


def _working(world, mentee, mentor, **form):
    """A case filed, proposed, chosen and accepted: its mentor may ask questions."""
    broker, rpc, _ = world
    case = rpc.cases.create_case(mentee, case_form(**form))
    broker.publish(
        envelope(
            "MentorsMatched",
            case["id"],
            {
                "case_id": case["id"],
                "round": 1,
                "proposals": [{"mentor_id": mentor["user_id"], "matched_rubrics": [], "score": 1.0}],
            },
            source="matching",
        )
    )
    eventually(lambda: rpc.cases.get_case(mentee, case["id"])["state"] == "choosing_mentor", message="proposals")
    rpc.cases.choose_mentor(mentee, case["id"], {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case["id"])
    return case["id"]


def _solved(world, questions, solved="yes", redefine=False, **form):
    """A case through questions, answers (kept or redefined), a solution and the reflection sheet."""
    _, rpc, _ = world
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = _working(world, mentee, mentor, **form)
    asked = rpc.cases.ask_questions(mentor, case_id, {"questions": questions})
    rpc.cases.answer_questions(
        mentee, case_id, {"answers": [{"question_id": q["id"], "text": "An answer."} for q in asked["questions"]]}
    )
    if redefine:
        rpc.cases.redefine_case(mentee, case_id, case_form(**{**form, "essence": form["essence"] + " Again."}))
    else:
        rpc.cases.keep_request(mentee, case_id)
    solution = rpc.cases.propose_solution(mentor, case_id, {"text": "Talk to the class together."})["solutions"]
    rpc.cases.complete_case(mentee, case_id, {"problem_solved": solved, "helpfulness": {s["id"]: 4 for s in solution}})
    return case_id


def _suggest(world, mentor, case_id, limit=5):
    return world[1].cases.question_suggestions(mentor, case_id, {"limit": limit})["items"]


@pytest.fixture(scope="module")
def open_case(world):
    """The case a mentor is about to ask questions on, filed before any case was solved."""
    mentor = actor("mentor")
    return mentor, _working(world, actor("mentee"), mentor, **BULLYING)


def test_with_no_solved_case_the_bank_is_suggested_in_its_order(world, open_case):
    mentor, case_id = open_case
    items = _suggest(world, mentor, case_id)
    assert [s["bank_id"] for s in items] == BANK_ORDER[:5]
    assert {s["source"] for s in items} == {"bank"} and all(s["provenance"] is None for s in items)


def test_only_the_cases_mentor_and_moderators_get_suggestions(world, open_case):
    mentor, case_id = open_case
    with pytest.raises(Forbidden):
        _suggest(world, actor("mentor"), case_id)
    assert _suggest(world, MODERATOR, case_id)


@pytest.fixture(scope="module")
def solved_pool(world, open_case):
    """Three solved bullying cases (two solved, one not; one redefined after the questions) and one
    unrelated solved case, none consenting to publication but the last bullying one."""
    own = lambda text: {"text": text, "kind": "clarifying"}  # noqa: E731
    _solved(
        world,
        [own(SHARED), own(NAMED), {"bank_id": "options-8", "kind": "developing"}],
        solved="yes",
        redefine=True,
        publication_consent=False,
        **BULLYING,
    )
    _solved(
        world,
        [own(SHARED.upper()), own("Did Ivan Petrov's mother tell you about the bullying ?")],
        solved="no",
        publication_consent=False,
        **BULLYING,
    )
    _solved(
        world,
        [own(SHARED + "!"), own("Has the bullied boy a friend in the class?")],
        solved="partly",
        publication_consent=True,
        **BULLYING,
    )
    _solved(
        world,
        [own("Which textbook does the school use for algebra?")],
        solved="yes",
        publication_consent=False,
        essence="My algebra lessons in the 9th form run out of time before the exam topics.",
        difficulty="The textbook is long.",
        question="How do I plan the algebra course?",
        rubrics=["digital-technologies"],
    )
    return open_case


def test_questions_of_similar_solved_cases_come_first_with_their_provenance(world, solved_pool):
    mentor, case_id = solved_pool
    items = _suggest(world, mentor, case_id, limit=10)
    learned = [s for s in items if s["source"] == "learned"]
    assert learned[0]["text"].lower().startswith("who else saw the bullying")
    assert learned[0]["provenance"] == {"cases": 3, "yes": 1, "partly": 1, "no": 1, "redefined": 1}
    texts = [s["text"] for s in learned]
    assert "Has the bullied boy a friend in the class?" in texts  # one case, but it consented to publication
    assert not any("algebra" in t for t in texts)  # not a similar case
    assert items.index(learned[-1]) < items.index([s for s in items if s["source"] == "bank"][0])
    assert [s["bank_id"] for s in items if s["source"] == "bank"] == [b for b in BANK_ORDER if b != "options-8"][
        : len(items) - len(learned)
    ]


def test_suggestions_are_anonymized_and_grouped(world, solved_pool):
    mentor, case_id = solved_pool
    learned = [s for s in _suggest(world, mentor, case_id, limit=10) if s["source"] == "learned"]
    named = [s for s in learned if "mother" in s["text"]]
    assert len(named) == 1 and named[0]["provenance"]["cases"] == 2  # asked in two unpublished cases
    assert "Petrov" not in named[0]["text"] and "Ivan" not in named[0]["text"] and "[person]" in named[0]["text"]
    bank = [s for s in learned if s["bank_id"] == "options-8"]
    assert bank and bank[0]["provenance"]["redefined"] == 1


def test_the_suggestion_used_is_recorded_as_is_or_edited_and_counted(world, solved_pool):
    mentor, case_id = solved_pool
    _, rpc, _ = world
    learned = [s for s in _suggest(world, mentor, case_id) if s["source"] == "learned"]
    bank = [s for s in _suggest(world, mentor, case_id, limit=20) if s["source"] == "bank"][0]
    before = rpc.cases.question_suggestion_usage(MODERATOR)
    case = rpc.cases.ask_questions(
        mentor,
        case_id,
        {
            "questions": [
                {"text": learned[0]["text"], "kind": "clarifying", "suggestion_id": learned[0]["id"]},
                {"text": learned[1]["text"] + " And when?", "kind": "clarifying", "suggestion_id": learned[1]["id"]},
                {"bank_id": bank["bank_id"], "kind": "developing", "suggestion_id": bank["id"]},
                {"text": "My own question?", "kind": "clarifying"},
            ]
        },
    )
    assert len(case["questions"]) == 4
    history = rpc.cases.get_history(MODERATOR, case_id)
    asked = [item for item in history if item["type"] == "QuestionsAsked"][-1]["data"]["questions"]
    assert [(q.get("suggestion_id"), q.get("suggestion_use")) for q in asked] == [
        (learned[0]["id"], "as_is"),
        (learned[1]["id"], "edited"),
        (bank["id"], "as_is"),
        (None, None),
    ]
    after = rpc.cases.question_suggestion_usage(MODERATOR)
    assert after["learned"]["as_is"] - before["learned"]["as_is"] == 1
    assert after["learned"]["edited"] - before["learned"]["edited"] == 1
    assert after["bank"]["as_is"] - before["bank"]["as_is"] == 1
    assert after["questions_asked"] - before["questions_asked"] == 4
    with pytest.raises(Forbidden):
        rpc.cases.question_suggestion_usage(mentor)


def test_folding_the_log_again_changes_nothing(world, solved_pool):
    """A redelivered batch (the fold's position back at the start): the same rows, the same word counts."""
    mentor, case_id = solved_pool
    _, _, db = world
    first = _suggest(world, mentor, case_id, limit=10)

    def snapshot():
        with db.cursor() as cur:
            cur.execute("SELECT lexeme, cases FROM question_pool_lexemes WHERE cases > 0 ORDER BY lexeme")
            lexemes = cur.fetchall()
            cur.execute("SELECT case_id, seq, key, text, redefined FROM question_pool_questions ORDER BY 1, 2")
            questions = cur.fetchall()
            cur.execute("SELECT question_id, source, use FROM question_suggestion_uses ORDER BY 1")
            return lexemes, questions, cur.fetchall()

    before = snapshot()
    with db.cursor() as cur:
        cur.execute("UPDATE relay_position SET position = 0 WHERE relay = 'question-pool'")
    assert _suggest(world, mentor, case_id, limit=10) == first
    with db.cursor() as cur:
        cur.execute("SELECT position FROM relay_position WHERE relay = 'question-pool'")
        assert cur.fetchone()[0] > 0
    assert snapshot() == before
