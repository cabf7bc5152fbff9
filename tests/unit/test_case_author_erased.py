"""A case whose author was erased (Case.close_for_erased_author) and one whose mentor was (release_mentor,
reason mentor_erased), without I/O: an unfinished case closes for good and names who waited on it; a
finished one stays as it is; a second erasure changes nothing; what leaves the service is ids only."""

from datetime import timedelta

import pytest

from contracts.errors import Conflict, Forbidden
from contracts.events import dump_payload
from services.cases import statistics
from services.cases.domain import CLOSED, WITHDRAWN
from services.cases.index import summary_figures
from services.cases.outgoing import integration_payload
from services.cases.views import history_view
from services.cases.waiting import parse_schedule
from services.common.clock import utc_now
from tests.unit.case_builders import AUTHOR, MENTOR, NUMBER, OTHER, chosen, filed, proposal, working
from tests.unit.case_builders import proposed as choosing

SCHEDULE = parse_schedule({"WAITING_SCHEDULE_NEED_ADVICE": "3600 / 36000"}, 7200)  # need_advice: closed after 10 h
REFLECTION = {"problem_solved": "yes", "actions": "", "learned": "", "comment": ""}


def solved():
    case = working()
    case.propose_solution(MENTOR, "Agree class rules together.", [], now=utc_now())
    return case


def completed():
    case = solved()
    case.complete(AUTHOR, {**REFLECTION, "helpfulness": {case.solutions[0]["id"]: 5}})
    return case


def withdrawn():
    case = working()
    case.withdraw(AUTHOR, "Solved it myself.")
    return case


def abandoned():
    """The author did not take their step in time (the sweep's Case.follow_up)."""
    case = solved()
    assert case.follow_up(case.wait_began() + timedelta(hours=10), SCHEDULE) is True
    assert case.state == "abandoned"
    return case


def published(case):
    """The integration event of the case's last new event, checked against its contract."""
    event_type, payload = integration_payload(case.collect_events()[-1], case)
    dump_payload(event_type, payload)
    return event_type, payload


# (make, the mentor told as the case's own, the mentors told as proposed)
UNFINISHED = {
    "awaiting proposals": (filed, None, []),
    "choosing a mentor": (choosing, None, [MENTOR, OTHER]),
    "awaiting acceptance": (chosen, MENTOR, []),
    "in progress": (working, MENTOR, []),
    "solution proposed": (solved, MENTOR, []),
    "abandoned": (abandoned, MENTOR, []),
}


@pytest.mark.parametrize("name", sorted(UNFINISHED))
def test_an_unfinished_case_of_an_erased_author_closes_naming_who_waited_on_it(name):
    make, mentor, proposed = UNFINISHED[name]
    case = make()
    case.collect_events()
    assert case.close_for_erased_author(now=utc_now()) is True
    assert case.state == WITHDRAWN and case.flag is None and case.abandoned is None and case.waiting_step() is None
    assert case.mentor_id == mentor  # they still open the case they worked on
    event_type, payload = published(case)
    assert event_type == "CaseAuthorErased"
    assert payload == {
        "case_id": str(case.id),
        "case_number": NUMBER,
        "mentor_id": mentor,
        "proposed_mentor_ids": proposed,
    }


@pytest.mark.parametrize("make", [completed, withdrawn])
def test_a_finished_case_stays_as_it_is(make):
    case = make()
    before = (case.state, case.version, case.reflection, case.withdrawn_reason)
    assert case.close_for_erased_author(now=utc_now()) is False
    assert (case.state, case.version, case.reflection, case.withdrawn_reason) == before


def test_a_second_erasure_closes_nothing_and_the_closed_case_takes_no_more_steps():
    case = working()
    assert case.close_for_erased_author(now=utc_now()) is True
    version = case.version
    assert case.close_for_erased_author(now=utc_now()) is False  # a redelivered PersonErased
    assert case.version == version
    with pytest.raises(Conflict):
        case.propose_solution(MENTOR, "Too late.", [], now=utc_now())
    with pytest.raises(Conflict):
        case.withdraw(AUTHOR)
    with pytest.raises(Conflict):
        case.reopen(AUTHOR, now=utc_now())
    with pytest.raises(Forbidden):
        case.reopen(MENTOR, now=utc_now())
    assert case.record_proposals(case.round + 1, [proposal(OTHER)], now=utc_now()) is False  # a late round


def test_the_closure_counts_as_withdrawn_and_waits_for_nobody():
    """The moderators' statistics count the case in the state withdrawn (by_state) and among no open
    turn; a completed case keeps counting as completed."""
    case = working()
    case.close_for_erased_author(now=utc_now())
    assert case.state in CLOSED and WITHDRAWN in statistics.STATE_ORDER
    assert summary_figures(case)["turn"] is None
    assert completed().state == "completed"


def test_the_history_shows_a_platform_step_and_a_replay_is_the_same():
    case = chosen()
    case.close_for_erased_author(now=utc_now())
    events = case.collect_events()
    step = history_view(events)[-1]
    assert (step["type"], step["actor_role"]) == ("AuthorErased", "system")
    assert step["data"]["mentor_id"] == MENTOR and step["data"]["proposed_mentor_ids"] == []
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.__dict__ == case.__dict__


@pytest.mark.parametrize("make", [choosing, chosen, working, solved])
def test_an_erased_mentor_is_released_with_its_own_reason(make):
    case = make()
    case.collect_events()
    assert case.release_mentor(MENTOR, "mentor_erased") is True
    assert (case.state, case.mentor_id) == ("awaiting_proposals", None)
    event_type, payload = published(case)
    assert event_type == "MentorReleased" and payload["reason"] == "mentor_erased"
    assert payload["mentor_id"] == MENTOR and MENTOR in payload["excluded_mentor_ids"]
    assert case.release_mentor(MENTOR, "mentor_erased") is False  # a redelivered PersonErased
