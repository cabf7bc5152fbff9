"""The case journey across cases, matching, notifications and library, over real RPC and events."""

import uuid

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput
from services.cases.service import CasesService
from services.library.service import LibraryService
from services.matching.ranking import score
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import purge
from tests.support import actor, case_form, eventually, mentor_snapshot


@pytest.fixture(scope="module")
def platform(start_module_service, test_env):
    # matching on its own database and empty queues: other modules' mentors of the same rubric
    # would otherwise outrank this test's mentor
    purge(test_env.amqp_uri, "matching.case-events", "matching.identity-events")
    start_module_service(MatchingService, DATABASE_URL=test_env.database_url("matching_case_flow"))
    for service in (CasesService, NotificationsService, LibraryService):
        start_module_service(service)
    return test_env


def publish_mentor(test_env, mentor_id, rubrics):
    """Announce a mentor to matching the way identity does: through an outbox and a relay."""
    from tests.integration.relay_helpers import publish_via_outbox

    publish_via_outbox(test_env, "identity", "MentorProfileUpdated", mentor_id, mentor_snapshot(mentor_id, rubrics))


def test_whole_journey_over_rpc(platform, rpc):
    mentee = actor("mentee")
    mentor_id = str(uuid.uuid4())
    publish_mentor(platform, mentor_id, ["class-management-motivation"])
    eventually(lambda: _known(rpc, mentor_id), message="matching learns the mentor")

    created = rpc.cases.create_case(mentee, case_form())
    assert created["number"].startswith("MC-")
    assert created["state"] == "awaiting_proposals"
    case_id = created["id"]

    proposed = eventually(lambda: _state(rpc, mentee, case_id, "choosing_mentor"), message="proposals recorded")
    [ours] = [p for p in proposed["proposed_mentors"] if p["mentor_id"] == mentor_id]
    reasons = ours.pop("reasons")  # the reasons reach the mentee
    assert ours == {
        "mentor_id": mentor_id,
        "matched_rubrics": ["class-management-motivation"],
        "load": 0,
        "capacity": 3,
        "score": score(0.5, 0, 3),
        "recent_assignments": 0,
    }
    assert "new_to_roll" in reasons  # no answers yet (the other reasons depend on the mentors it tied with)

    mentor = {"user_id": mentor_id, "role": "mentor"}
    assert rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor_id})["state"] == "awaiting_acceptance"
    with pytest.raises(Forbidden):
        rpc.cases.accept_case(actor("mentor"), case_id)
    assert rpc.cases.accept_case(mentor, case_id)["state"] == "in_progress"
    with pytest.raises(Conflict):
        rpc.cases.accept_case(mentor, case_id)
    solved = rpc.cases.propose_solution(
        mentor,
        case_id,
        {
            "text": "Agree three class rules together; call Mrs Brown at +7 916 123-45-67.",
            "materials": [{"title": "Classroom management basics", "reference": "https://example.org/cm"}],
        },
    )
    assert solved["state"] == "solution_proposed" and len(solved["solutions"]) == 1
    rating = {solved["solutions"][0]["id"]: 4}
    done = rpc.cases.complete_case(
        mentee, case_id, {"problem_solved": "partly", "helpfulness": rating, "actions": "Class meeting on Monday"}
    )
    assert done["state"] == "completed" and done["reflection"]["helpfulness"] == rating

    # chosen, then told of the completion (issue #20 part 2)
    mentor_kinds = eventually(lambda: _kinds_when(rpc, mentor, 2), message="mentor notified")
    assert sorted(mentor_kinds) == ["case_completed", "mentor_chosen"]
    mentee_kinds = eventually(lambda: _kinds_when(rpc, mentee, 3), message="mentee notified")
    assert mentee_kinds == ["mentors_proposed", "mentor_accepted", "solution_proposed"]

    def ours():  # other modules' solved cases share the library database and the form's question
        return next(
            (
                e
                for e in rpc.library.list_entries(mentee)
                if e["question"] == case_form()["question"]
                and e["solutions"]
                and e["solutions"][0]["text"].startswith("Agree three class rules")
            ),
            None,
        )

    # nothing is published before a moderator has read it: a draft waits, the author sees it impersonal
    [draft] = eventually(lambda: rpc.library.my_drafts(mentee, case_id)["items"], message="the library's draft")
    assert draft["state"] == "pending" and ours() is None
    assert "[phone]" in str(draft["texts"]) and "+7 916" not in str(draft["texts"])
    published = rpc.library.publish_draft(actor("moderator"), draft["id"])
    assert published["state"] == "published"
    entry = eventually(ours, message="library entry")
    text = str(entry)
    assert mentee["user_id"] not in text and mentor_id not in text and case_id not in text
    assert "[person]" in entry["solutions"][0]["text"] and "[phone]" in entry["solutions"][0]["text"]

    history = rpc.cases.get_history(actor("moderator"), case_id)
    assert [h["type"] for h in history] == [
        "Created",
        "MentorsProposed",
        "MentorChosen",
        "MentorAccepted",
        "SolutionProposed",
        "Completed",
    ]
    listed = rpc.cases.list_cases(mentee)["items"]
    assert [c["id"] for c in listed] == [case_id] and listed[0]["state"] == "completed"


def test_anonymous_case_hides_author_from_mentor(platform, rpc):
    mentee = actor("mentee")
    mentor_id = str(uuid.uuid4())
    publish_mentor(platform, mentor_id, ["education-law"])
    eventually(lambda: _known(rpc, mentor_id))
    case_id = rpc.cases.create_case(mentee, case_form(mode="anonymous", rubrics=["education-law"]))["id"]
    eventually(lambda: _state(rpc, mentee, case_id, "choosing_mentor"))
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor_id})
    seen_by_mentor = rpc.cases.get_case({"user_id": mentor_id, "role": "mentor"}, case_id)
    assert seen_by_mentor["author_id"] is None
    assert mentee["user_id"] not in str(seen_by_mentor)
    assert rpc.cases.get_case(mentee, case_id)["author_id"] == mentee["user_id"]
    with pytest.raises(Forbidden):
        rpc.cases.get_case(actor("mentee"), case_id)


def test_invalid_form_is_refused_and_nothing_is_stored(platform, rpc, db):
    mentee = actor("mentee")
    for bad, field in (
        (case_form(essence="x" * 1001), "essence"),
        (case_form(rubrics=["astrology"]), "rubrics"),
        ({k: v for k, v in case_form().items() if k != "question"}, "question"),
    ):
        with pytest.raises(InvalidInput) as refused:
            rpc.cases.create_case(mentee, bad)
        assert field in refused.value.fields
    with db("cases").cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_events")
        assert cur.fetchone()[0] == 0 or _authored_by(cur, mentee) == 0
    assert rpc.cases.list_cases(mentee) == {"items": [], "next_cursor": None}


def _authored_by(cur, mentee):
    cur.execute("SELECT count(*) FROM case_index WHERE author_id = %s", (mentee["user_id"],))
    return cur.fetchone()[0]


def _known(rpc, mentor_id):
    try:
        return rpc.matching.get_mentor(mentor_id)
    except Exception:
        return None


def _state(rpc, who, case_id, state):
    case = rpc.cases.get_case(who, case_id)
    return case if case["state"] == state else None


def _kinds_when(rpc, who, count):
    kinds = [e["kind"] for e in reversed(rpc.notifications.list_inbox(who))]
    return kinds if len(kinds) >= count else None
