"""Issue #20 parts 4-6 over real HTTP: the statistics a moderator can act on (months, modes, formats,
declines, second opinions, questions by kind, open cases by whose turn it is, library items by
rubric), the mentors' quality figures (moderators: all, sortable; a mentor: their own; nothing of a
mentee), the case list's summaries paged with a cursor, and the reference's labels.

The gateway, identity, cases and library run in this process on the real broker, on databases of
their own, so every count here is this module's. Matching's answers are published on the broker
as matching publishes them (as tests/integration/test_statistics_rpc.py does).
"""

import uuid
from datetime import datetime, timezone

import pytest

from services.cases.service import CasesService
from services.identity.admin import create_moderator, open_store
from services.identity.service import IdentityService
from services.library.service import LibraryService
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.integration.gateway_platform import PASSWORD, assert_error, start_platform
from tests.support import case_form, eventually

DATABASES = {"cases": "cases_figures_http", "identity": "identity_figures_http", "library": "library_figures_http"}


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    purge(test_env.amqp_uri, "cases.matching-events", "library.case-events")

    def start(service, **config):
        if service.name in DATABASES:
            config["DATABASE_URL"] = test_env.database_url(DATABASES[service.name])
        return start_module_service(service, **config)

    return start_platform(start, backends=(IdentityService, CasesService, LibraryService))


@pytest.fixture(scope="module")
def broker(test_env):
    conn, producer = open_broker(test_env.amqp_uri)
    yield producer
    conn.release()


@pytest.fixture(scope="module")
def people(api, test_env):
    mentee, mentee_token = api.register("mentee")
    first, first_token = api.register("mentor")
    second, second_token = api.register("mentor")
    email = f"moderator-{uuid.uuid4().hex[:12]}@example.org"
    store = open_store(test_env.database_url(DATABASES["identity"]))
    try:
        create_moderator(store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"})
    finally:
        store.close()
    as_actor = {"user_id": mentee["id"], "role": "mentee"}
    return {
        "mentee": as_actor,
        "mentee_token": mentee_token,
        "first": {"user_id": first["id"], "role": "mentor"},
        "first_token": first_token,
        "second": {"user_id": second["id"], "role": "mentor"},
        "second_token": second_token,
        "moderator_token": api.sign_in(email),
    }


def _propose(broker, rpc, mentee, case_id, round_, mentor_id):
    broker.publish(
        envelope(
            "MentorsMatched",
            case_id,
            {
                "case_id": case_id,
                "round": round_,
                "proposals": [{"mentor_id": mentor_id, "matched_rubrics": ["digital-technologies"], "score": 1.0}],
            },
            source="matching",
        )
    )
    eventually(lambda: rpc.cases.get_case(mentee, case_id)["round"] == round_, message="proposals recorded")


def _choose(broker, rpc, mentee, case_id, round_, mentor):
    _propose(broker, rpc, mentee, case_id, round_, mentor["user_id"])
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})


def _history_seconds(rpc, case_id, start_type, end_type, mentor_id):
    """From the case's own history: ``start_type`` -> the mentor's next ``end_type``, in seconds."""
    start = None
    for item in rpc.cases.get_history({"user_id": "m", "role": "moderator"}, case_id):
        if item["type"] == start_type and item["data"].get("mentor_id") == mentor_id:
            start = datetime.fromisoformat(item["occurred_at"])
        elif item["type"] == end_type and start and item["data"].get("mentor_id") == mentor_id:
            return (datetime.fromisoformat(item["occurred_at"]) - start).total_seconds()
    return None


@pytest.fixture(scope="module")
def journey(api, broker, people, rpc_module):
    """Three cases. Solved (anonymous): the first mentor accepts, asks a clarifying and two developing
    questions, shares the case with the second mentor (collective), proposes a solution; the author asks
    for a second opinion: the second mentor declines, a third accepts and solves; completed "partly",
    the solutions rated 4 and 2. Published (personal): to the forum, waiting for its author's choice of
    mentor. Filed: waiting for proposals."""
    rpc, mentee, first, second = rpc_module, people["mentee"], people["first"], people["second"]
    solved = rpc.cases.create_case(
        mentee,
        case_form(
            rubrics=["digital-technologies", "families-at-risk"], mode="anonymous", group_discussion_consent=True
        ),
    )
    sid = solved["id"]
    _choose(broker, rpc, mentee, sid, 1, first)
    rpc.cases.accept_case(first, sid)
    asked = rpc.cases.ask_questions(
        first,
        sid,
        {
            "questions": [
                {"bank_id": "swot-1", "kind": "clarifying"},
                {"bank_id": "goals-1", "kind": "developing"},
                {"text": "What would change for the pupils?", "kind": "developing"},
            ]
        },
    )
    rpc.cases.answer_questions(
        mentee, sid, {"answers": [{"question_id": q["id"], "text": "An answer."} for q in asked["questions"]]}
    )
    rpc.cases.keep_request(mentee, sid)
    rpc.cases.share_with_colleagues(first, sid, {"colleague_ids": [second["user_id"]]})
    first_solution = rpc.cases.propose_solution(first, sid, {"text": "Try a class charter."})["solutions"][0]["id"]
    rpc.cases.request_second_opinion(mentee, sid)
    _choose(broker, rpc, mentee, sid, 2, second)
    rpc.cases.decline_case(second, sid, {"reason": "Busy."})
    third = {"user_id": f"mentor-{uuid.uuid4().hex[:8]}", "role": "mentor"}
    _choose(broker, rpc, mentee, sid, 3, third)
    rpc.cases.accept_case(third, sid)
    case = rpc.cases.propose_solution(third, sid, {"text": "Meet the parents together."})
    second_solution = [s["id"] for s in case["solutions"] if s["id"] != first_solution][0]
    rpc.cases.complete_case(
        mentee, sid, {"problem_solved": "partly", "helpfulness": {first_solution: 4, second_solution: 2}}
    )

    published = rpc.cases.create_case(
        mentee,
        case_form(
            rubrics=["education-law"],
            group_discussion_consent=True,
            essence="The head teacher asks me to " + "rewrite " * 60,
        ),
    )
    _propose(broker, rpc, mentee, published["id"], 1, first["user_id"])
    rpc.cases.publish_to_forum(mentee, published["id"], {})
    filed = rpc.cases.create_case(mentee, case_form(rubrics=["education-law"]))
    return {
        "solved": sid,
        "published": published["id"],
        "filed": filed["id"],
        "third": third,
        "accept_seconds": _history_seconds(rpc, sid, "MentorChosen", "MentorAccepted", first["user_id"]),
    }


@pytest.fixture(scope="module")
def rpc_module(test_env):
    from tests.actors import signed_rpc

    with signed_rpc(test_env.amqp_uri, timeout=15) as proxy:
        yield proxy


def _counts(items):
    return {item["key"]: item["count"] for item in items}


def test_statistics_add_months_modes_formats_declines_second_opinions_questions_and_turns(api, people, journey):
    body = api("GET", "/api/v1/statistics", token=people["moderator_token"]).json()
    cases = body["cases"]
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    assert cases["total"] == 3 and cases["by_month"] == [{"month": month, "count": 3}]
    assert _counts(cases["by_mode"]) == {"personal": 2, "anonymous": 1}
    assert cases["by_format"] == [{"key": "collective", "count": 1}, {"key": "public", "count": 1}]
    assert cases["declines"] == {"count": 1, "cases": 1} and cases["second_opinions"] == 1
    assert cases["questions_by_kind"] == [{"key": "clarifying", "count": 1}, {"key": "developing", "count": 2}]
    assert cases["open_by_turn"] == [
        {"key": "author", "count": 1},
        {"key": "mentor", "count": 0},
        {"key": "system", "count": 1},
        {"key": "moderator", "count": 0},
    ]
    before = api("GET", "/api/v1/statistics?to=2020-12-31", token=people["moderator_token"]).json()["cases"]
    assert before["by_month"] == [] and before["declines"] == {"count": 0, "cases": 0}
    assert sum(before["by_rubric"][i]["count"] for i in range(12)) == 0


def test_statistics_count_library_items_by_rubric_in_rubricator_order(api, people, journey, rpc_module):
    rpc_module.library.add_material(
        {"user_id": "moderator-1", "role": "moderator"},
        {
            "material_type": "link",
            "title": "Class charters",
            "url": "https://example.org/charter",
            "rubrics": ["families-at-risk", "class-management-motivation"],
        },
    )

    def library():
        return api("GET", "/api/v1/statistics", token=people["moderator_token"]).json()["library"]

    assert library()["total"] == 1  # a draft waiting for review is not in the library yet
    # the solved case (consented) arrives through the cases relay as a draft; a moderator publishes it
    moderator = people["moderator_token"]

    def published():
        """Publish whatever waits (the forum post's draft too: it goes to the forum, not the library)."""
        for draft in api("GET", "/api/v1/library/drafts?state=pending", token=moderator).json()["items"]:
            assert api("POST", f"/api/v1/library/drafts/{draft['id']}/publication", token=moderator).ok
        return library() if library()["total"] == 2 else None

    counts = eventually(published, timeout=30, interval=0.5, message="the solved case in the library")
    assert [r["number"] for r in counts["by_rubric"]] == list(range(1, 13))
    assert {r["slug"]: r["count"] for r in counts["by_rubric"] if r["count"]} == {
        "digital-technologies": 1,
        "families-at-risk": 2,
        "class-management-motivation": 1,
    }
    assert counts["by_rubric"][3]["label"] == "Digital technologies"


def test_moderators_see_every_mentor_sorted_and_nothing_of_a_mentee(api, people, journey):
    first, second, third = people["first"]["user_id"], people["second"]["user_id"], journey["third"]["user_id"]
    response = api("GET", "/api/v1/statistics/mentors?sort=acceptance_rate&order=asc", token=people["moderator_token"])
    assert response.status_code == 200, response.text
    mentors = response.json()["items"]
    assert [m["mentor_id"] for m in mentors] == [second, first, third] or [m["mentor_id"] for m in mentors] == [
        second,
        third,
        first,
    ]  # first and third tie at 1.0
    by_id = {m["mentor_id"]: m for m in mentors}
    assert (by_id[second]["declined"], by_id[second]["decline_rate"], by_id[second]["acceptance_rate"]) == (1, 1.0, 0.0)
    one = by_id[first]
    assert (one["chosen"], one["accepted"], one["with_solution"], one["second_opinions"]) == (1, 1, 1, 1)
    assert one["second_opinion_rate"] == 1.0
    assert one["time_to_accept"]["count"] == 1
    assert one["time_to_accept"]["median_seconds"] == pytest.approx(journey["accept_seconds"], abs=1e-3)
    assert one["time_to_first_question"]["count"] == 1 and one["time_to_first_solution"]["count"] == 1
    assert one["solved"] == {"yes": 0, "partly": 1, "no": 0} and one["helpfulness_mean"] == 4.0
    assert [r["slug"] for r in one["by_rubric"]] == ["digital-technologies", "families-at-risk"]
    assert by_id[third]["helpfulness_mean"] == 2.0 and by_id[third]["second_opinion_rate"] is None
    text = response.text
    assert people["mentee"]["user_id"] not in text and journey["solved"] not in text

    by_help = api("GET", "/api/v1/statistics/mentors?sort=helpfulness_mean", token=people["moderator_token"]).json()
    assert [m["mentor_id"] for m in by_help["items"]] == [first, third, second]  # no rating: last
    only = api("GET", f"/api/v1/statistics/mentors?mentor_id={third}", token=people["moderator_token"]).json()
    assert [m["mentor_id"] for m in only["items"]] == [third]


def test_a_mentor_sees_only_their_own_figures(api, people, journey):
    own = api("GET", "/api/v1/me/mentor-quality", token=people["first_token"])
    assert own.status_code == 200 and [m["mentor_id"] for m in own.json()["items"]] == [people["first"]["user_id"]]
    theirs = api(
        "GET", f"/api/v1/statistics/mentors?mentor_id={people['second']['user_id']}", token=people["first_token"]
    ).json()
    assert [m["mentor_id"] for m in theirs["items"]] == [people["first"]["user_id"]]
    assert api("GET", "/api/v1/me/mentor-quality", token=people["moderator_token"]).json() == {"items": []}
    for path in ("/api/v1/me/mentor-quality", "/api/v1/statistics/mentors"):
        assert_error(api("GET", path, token=people["mentee_token"]), 403, "forbidden")
        assert_error(api("GET", path), 401, "unauthorized")
    error = assert_error(
        api("GET", "/api/v1/statistics/mentors?sort=charm", token=people["moderator_token"]), 400, "invalid_input"
    )
    assert set(error["fields"]) == {"sort"}


def test_the_case_list_carries_summaries_and_pages_with_a_cursor(api, people, journey):
    mine = api("GET", "/api/v1/cases", token=people["mentee_token"]).json()
    assert mine["next_cursor"] is None
    by_id = {c["id"]: c for c in mine["items"]}
    assert set(by_id) == {journey["solved"], journey["published"], journey["filed"]}
    published = by_id[journey["published"]]
    assert (
        published["excerpt"].startswith("The head teacher asks me to rewrite")
        and published["excerpt"].endswith("\u2026")
        and len(published["excerpt"]) <= 160
    )
    assert (published["mode"], published["state"], published["turn"]) == ("personal", "choosing_mentor", "author")
    assert published["rubrics"] == ["education-law"] and published["number"].startswith("MC-")
    assert published["turn_since"] <= published["updated_at"]
    assert (by_id[journey["filed"]]["turn"], by_id[journey["solved"]]["turn"]) == ("system", None)
    assert by_id[journey["solved"]]["mode"] == "anonymous"

    pages, cursor = [], None
    while True:
        page = api(
            "GET",
            "/api/v1/cases",
            token=people["moderator_token"],
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        ).json()
        pages.append([c["id"] for c in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 1]
    assert [i for p in pages for i in p] == [c["id"] for c in mine["items"]]  # newest change first, no repeats
    error = assert_error(
        api("GET", "/api/v1/cases?cursor=forged", token=people["moderator_token"]), 400, "invalid_input"
    )
    assert set(error["fields"]) == {"cursor"}
    assert_error(api("GET", "/api/v1/cases?limit=500", token=people["moderator_token"]), 400, "invalid_input")


def test_the_reference_labels_participants_and_question_kinds_and_hints_say_their_kind(api, people):
    reference = api("GET", "/api/v1/reference").json()
    assert [p["slug"] for p in reference["participant_labels"]] == reference["participants"]
    assert reference["participant_labels"][0] == {"slug": "parents", "label": "Parents"}
    assert reference["question_kinds"] == [
        {"slug": "clarifying", "label": "Clarifying"},
        {"slug": "developing", "label": "Developing"},
    ]
    bank = api("GET", "/api/v1/question-bank", token=people["mentee_token"]).json()["items"]
    kinds = {hint["id"]: hint["kind"] for group in bank for hint in group["hints"]}
    assert kinds["swot-1"] == "clarifying" and kinds["goals-1"] == "developing"
    assert set(kinds.values()) == {"clarifying", "developing"}
