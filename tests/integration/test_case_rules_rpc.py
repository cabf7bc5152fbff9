"""Case rules that need the real store: optimistic concurrency, filtered lists, the author card gate."""

import uuid

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput
from services.cases.service import CasesService
from tests.integration.event_helpers import envelope, open_broker
from tests.support import actor, case_form, eventually


@pytest.fixture(scope="module")
def cases(start_module_service, test_env):
    start_module_service(CasesService, max_workers=20, DB_POOL_SIZE=20)
    conn, broker = open_broker(test_env.amqp_uri)
    yield broker
    conn.release()


def _case_with_mentor(broker, rpc, mentee, mentor_id, **form):
    """File a case and answer it with a proposal, as matching would."""
    case = rpc.cases.create_case(mentee, case_form(**form))
    broker.publish(
        envelope(
            "MentorsMatched",
            case["id"],
            {
                "case_id": case["id"],
                "round": 1,
                "proposals": [{"mentor_id": mentor_id, "matched_rubrics": case["form"]["rubrics"][:1], "score": 1.0}],
            },
            source="matching",
        )
    )
    return case


def _wait(rpc, who, case_id, state):
    return eventually(lambda: rpc.cases.get_case(who, case_id)["state"] == state, message=state)


def test_concurrent_commands_on_one_case_exactly_one_wins(cases, rpc, db):
    mentee, mentor = actor("mentee"), actor("mentor")
    case = _case_with_mentor(cases, rpc, mentee, mentor["user_id"])
    _wait(rpc, mentee, case["id"], "choosing_mentor")
    rpc.cases.choose_mentor(mentee, case["id"], {"mentor_id": mentor["user_id"]})

    replies = [rpc.cases.accept_case.call_async(mentor, case["id"]) for _ in range(20)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["state"])
        except Conflict as conflict:
            outcomes.append(("conflict", conflict.details.get("state")))
    assert outcomes.count("in_progress") == 1
    assert all(o == "in_progress" or o[0] == "conflict" for o in outcomes)
    with db("cases").cursor() as cur:
        cur.execute(
            "SELECT originator_version FROM cases_events WHERE originator_id = %s ORDER BY originator_version",
            (case["id"],),
        )
        versions = [row[0] for row in cur.fetchall()]
    assert versions == list(range(1, len(versions) + 1)) and len(versions) == 4  # no gap, no duplicate


def test_moderators_filter_cases_by_state_rubric_urgency_mentor_and_waiting_time(cases, rpc):
    mentee, mentor, moderator = actor("mentee"), actor("mentor"), actor("moderator")
    urgent = _case_with_mentor(cases, rpc, mentee, mentor["user_id"], urgency="urgent", rubrics=["education-law"])
    calm = rpc.cases.create_case(mentee, case_form(urgency="want_expert_opinion", rubrics=["self-management"]))
    _wait(rpc, mentee, urgent["id"], "choosing_mentor")
    rpc.cases.choose_mentor(mentee, urgent["id"], {"mentor_id": mentor["user_id"]})

    def ids(**filters):
        return {c["id"] for c in rpc.cases.list_cases(moderator, {**filters, "limit": 200})["items"]}

    assert urgent["id"] in ids(urgency="urgent") and calm["id"] not in ids(urgency="urgent")
    assert ids(mentor_id=mentor["user_id"]) == {urgent["id"]}
    assert urgent["id"] in ids(state="awaiting_acceptance", rubric="education-law")
    assert urgent["id"] not in ids(state="awaiting_acceptance", rubric="self-management")
    assert urgent["id"] in ids(waiting_hours=0) and urgent["id"] not in ids(waiting_hours=1)
    assert {c["id"] for c in rpc.cases.list_cases(mentee, {})["items"]} == {urgent["id"], calm["id"]}
    assert {c["id"] for c in rpc.cases.list_cases(mentor, {})["items"]} == {urgent["id"]}


@pytest.mark.parametrize("mode, mentor_may", [("personal", True), ("anonymous", False)])
def test_the_author_card_gate(cases, rpc, mode, mentor_may):
    mentee, mentor = actor("mentee"), actor("mentor")
    case = _case_with_mentor(cases, rpc, mentee, mentor["user_id"], mode=mode)
    _wait(rpc, mentee, case["id"], "choosing_mentor")
    rpc.cases.choose_mentor(mentee, case["id"], {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case["id"])
    if mentor_may:
        assert rpc.cases.author_for(mentor, case["id"]) == {"author_id": mentee["user_id"]}
    else:
        with pytest.raises(Forbidden):
            rpc.cases.author_for(mentor, case["id"])
    with pytest.raises(Forbidden):
        rpc.cases.author_for(actor("mentor"), case["id"])
    moderator = actor("moderator")
    with pytest.raises(InvalidInput) as refused:  # a moderator opens the author only with a reason
        rpc.cases.author_for(moderator, case["id"])
    assert list(refused.value.fields) == ["reason"]
    assert rpc.cases.author_for(moderator, case["id"], "A complaint about this case.") == {
        "author_id": mentee["user_id"]
    }
    assert rpc.cases.author_for(mentee, case["id"]) == {"author_id": mentee["user_id"]}  # the author: no reason
    assert uuid.UUID(case["id"])
