"""The author withdraws consent to publication (issue 19, part 2): the aggregate's rule and what leaves
the service (PublicationConsentWithdrawn; a completion after it carries no text)."""

import pytest

from contracts.errors import Conflict, Forbidden
from contracts.events import dump_payload
from services.cases.domain import Case
from services.cases.outgoing import integration_payload
from services.common.clock import utc_now
from tests.support import case_form

AUTHOR, MENTOR = "author-1", "mentor-1"


def solved(**form):
    case = Case(number="MC-2026-000009", author_id=AUTHOR, form=case_form(**form))
    case.record_proposals(
        1, [{"mentor_id": MENTOR, "matched_rubrics": ["self-management"], "score": 1.0}], now=utc_now()
    )
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    case.accept(MENTOR, now=utc_now())
    case.propose_solution(MENTOR, "Agree class rules together.", [], now=utc_now())
    return case


def complete(case):
    case.complete(AUTHOR, {"problem_solved": "yes", "helpfulness": {case.solutions[0]["id"]: 5}})


def last_payload(case):
    event = case.collect_events()[-1]
    return integration_payload(event, case)


def test_only_the_author_withdraws_and_a_repeat_changes_nothing():
    case = solved()
    complete(case)
    with pytest.raises(Forbidden):
        case.withdraw_publication_consent(MENTOR)
    case.withdraw_publication_consent(AUTHOR)
    version = case.version
    case.withdraw_publication_consent(AUTHOR)
    assert case.version == version and case.consent_withdrawn and not case.publishes
    event_type, payload = integration_payload(case.collect_events()[-1], case)
    assert event_type == "PublicationConsentWithdrawn"
    assert payload == {"case_id": str(case.id), "case_number": "MC-2026-000009", "author_id": AUTHOR}
    dump_payload(event_type, payload)  # within its contract


def test_a_case_never_offered_for_publication_has_nothing_to_withdraw():
    case = solved(publication_consent=False)
    with pytest.raises(Conflict):
        case.withdraw_publication_consent(AUTHOR)


def test_a_completion_after_the_withdrawal_sends_no_text_to_the_library():
    case = solved()
    case.withdraw_publication_consent(AUTHOR)
    complete(case)
    event_type, payload = last_payload(case)
    assert event_type == "CaseCompleted"
    assert payload["publication_consent"] is False and payload["publication"] is None
    assert payload["author_id"] == AUTHOR


def test_a_consenting_completion_and_a_forum_post_name_their_author_for_the_preview():
    case = solved(group_discussion_consent=True)
    complete(case)
    event_type, payload = last_payload(case)
    assert payload["publication_consent"] is True and payload["author_id"] == AUTHOR
    assert dump_payload(event_type, payload)[0] == 3  # v3: v2 (the mentors) and the author
    case.publish_to_forum(AUTHOR, None, "A title")
    event_type, payload = last_payload(case)
    assert event_type == "CasePublishedToForum"
    assert (payload["case_id"], payload["author_id"]) == (str(case.id), AUTHOR)
    assert dump_payload(event_type, payload)[0] == 2
