"""Many clients acting on one case at once: exactly the allowed commands win, every other one is
refused with 409 naming the case's current state (also the chosen mentor's declines that lose to the
first one, although the loser is no longer the chosen mentor when its turn comes), and the case's event stream (the cases_events
table of eventsourcing 9.2) stays contiguous: no gap, no duplicate version."""

import pytest

from contracts.errors import Conflict, Forbidden
from tests.integration.event_helpers import envelope, open_broker
from tests.support import actor, case_form, eventually

pytestmark = pytest.mark.timeout(120)

ACCEPTS = 50
REDEFINITIONS = 25
DECLINES = 50


def _all_at_once(method, n, *args):
    """``n`` RPCs published together (the cases service works on up to max_workers of them at once);
    returns (answers, refusals)."""
    pending = [method.call_async(*args) for _ in range(n)]
    outcomes = []
    for reply in pending:
        try:
            outcomes.append(reply.result())
        except Conflict as exc:
            outcomes.append(exc)
    return [o for o in outcomes if not isinstance(o, Exception)], [o for o in outcomes if isinstance(o, Exception)]


def _stream(db, case_id):
    with db("cases").cursor() as cur:
        cur.execute(
            "SELECT originator_version, topic FROM cases_events WHERE originator_id = %s::uuid "
            "ORDER BY originator_version",
            (case_id,),
        )
        return cur.fetchall()


def _case_awaiting(test_env, rpc, mentee, mentor):
    """A new case of ``mentee`` whose chosen mentor is ``mentor`` (awaiting acceptance)."""
    case_id = rpc.cases.create_case(mentee, case_form())["id"]
    conn, broker = open_broker(test_env.amqp_uri)  # matching's answer, as matching would publish it
    try:
        proposal = {"mentor_id": mentor["user_id"], "matched_rubrics": ["interaction-with-parents"], "score": 1.0}
        broker.publish(
            envelope(
                "MentorsMatched", case_id, {"case_id": case_id, "round": 1, "proposals": [proposal]}, source="matching"
            )
        )
    finally:
        conn.release()
    eventually(lambda: rpc.cases.get_case(mentee, case_id)["state"] == "choosing_mentor")
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    return case_id


def test_concurrent_accepts_and_redefinitions_let_exactly_the_allowed_ones_win(test_env, services, rpc, db):
    services("cases")
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = _case_awaiting(test_env, rpc, mentee, mentor)

    accepted, refused = _all_at_once(rpc.cases.accept_case, ACCEPTS, mentor, case_id)
    assert len(accepted) == 1 and accepted[0]["state"] == "in_progress"
    assert len(refused) == ACCEPTS - 1
    assert all(exc.details.get("state") == "in_progress" for exc in refused), {e.message for e in refused}

    [question] = rpc.cases.ask_questions(
        mentor, case_id, {"questions": [{"kind": "clarifying", "text": "How many pupils are in the class?"}]}
    )["questions"]
    rpc.cases.answer_questions(mentee, case_id, {"answers": [{"question_id": question["id"], "text": "Twenty."}]})
    form = case_form(essence="Pupils of my 7th form ignore homework; the head teacher does not help.")
    redefined, refused = _all_at_once(rpc.cases.redefine_case, REDEFINITIONS, mentee, case_id, form)
    assert len(redefined) == 1 and redefined[0]["state"] == "in_progress"
    assert len(refused) == REDEFINITIONS - 1
    assert all(exc.details.get("state") == "in_progress" for exc in refused), {e.message for e in refused}

    stream = _stream(db, case_id)
    assert [row[0] for row in stream] == list(range(1, len(stream) + 1))
    topics = [row[1].rsplit(".", 1)[-1] for row in stream]
    assert topics.count("MentorAccepted") == 1 and topics.count("CaseRedefined") == 1, topics
    assert topics[-4:] == ["MentorAccepted", "QuestionsAsked", "QuestionsAnswered", "CaseRedefined"], topics


def test_concurrent_declines_let_one_win_and_the_others_get_409(test_env, services, rpc, db):
    services("cases")
    mentee, mentor = actor("mentee"), actor("mentor")
    case_id = _case_awaiting(test_env, rpc, mentee, mentor)

    # a 403 (Forbidden) here is not caught by _all_at_once: it fails the test
    declined, refused = _all_at_once(rpc.cases.decline_case, DECLINES, mentor, case_id, {"reason": "On leave."})
    assert len(declined) == 1 and declined[0]["state"] == "awaiting_proposals"
    assert len(refused) == DECLINES - 1
    assert all(exc.details.get("state") == "awaiting_proposals" for exc in refused), {e.message for e in refused}
    topics = [row[1].rsplit(".", 1)[-1] for row in _stream(db, case_id)]
    assert topics.count("MentorDeclined") == 1, topics

    # someone never chosen for the case is still refused as such (403), not told of a conflict
    stranger = actor("mentor")
    with pytest.raises(Forbidden):
        rpc.cases.decline_case(stranger, case_id, {"reason": "Not mine."})
