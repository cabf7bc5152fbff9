"""Events stored in an older shape load into today's Case (eventsourcing's ``class_version`` and
upcast methods, through the library's own mapper): the five events that record when (``at``) since
their version 2 (services/cases/domain.py, TimedSinceV2)."""

import pytest

from services.cases.domain import Case
from services.common.clock import utc_now
from tests.support import case_form
from tests.unit.stored_events import as_stored, as_stored_in_version_1
from tests.unit.test_case_aggregate import AUTHOR, MENTOR, questioned_case

TIMED = ("MentorsProposed", "MentorChosen", "MentorAccepted", "RequestKept", "CaseRedefined")


def journey_events():
    """A case that went through each of the five, redefined once and then kept."""
    case = questioned_case()
    case.redefine(AUTHOR, case_form(essence="Second version."), now=utc_now())
    ids = case.ask_questions(MENTOR, [{"bank_id": None, "text": "And now?", "kind": "clarifying"}], now=utc_now())
    case.answer_questions(AUTHOR, [{"question_id": ids[0], "text": "Better."}], now=utc_now())
    case.keep_request(AUTHOR, now=utc_now())
    return case, case.collect_events()


def replay(events):
    case = None
    for event in events:
        case = event.mutate(case)
    return case


def test_the_journey_emits_each_timed_event_and_today_they_are_stored_as_version_2():
    _, events = journey_events()
    assert {type(e).__name__ for e in events} >= set(TIMED)
    for event in events:
        if type(event).__name__ in TIMED:
            assert type(event).class_version == 2
            assert as_stored(event).at == event.at is not None


@pytest.mark.parametrize("name", TIMED)
def test_a_version_1_event_without_a_time_loads_with_none(name):
    case, events = journey_events()
    old = [as_stored_in_version_1(e) if type(e).__name__ == name else e for e in events]
    assert all(e.at is None for e in old if type(e).__name__ == name)
    replayed = replay(old)
    assert (replayed.state, replayed.revision, replayed.mentor_id, len(replayed.questions)) == (
        case.state,
        case.revision,
        case.mentor_id,
        len(case.questions),
    )


def test_an_event_stored_with_its_time_before_it_had_a_version_keeps_its_time():
    _, events = journey_events()
    chosen = next(e for e in events if isinstance(e, Case.MentorChosen))
    assert as_stored(chosen, class_version=None).at == chosen.at  # "at" present, no class_version recorded


def test_a_whole_stream_of_version_1_events_replays_to_the_same_case():
    case, events = journey_events()
    old = [as_stored_in_version_1(e) if type(e).__name__ in TIMED else as_stored(e) for e in events]
    replayed = replay(old)
    assert replayed.revisions == case.revisions and replayed.questions == case.questions
    assert replayed.engagements == case.engagements and replayed.state == case.state == "in_progress"
