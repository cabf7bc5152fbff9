"""Surveys over real HTTP (issue #22 part 1): identity, notifications, the library and the gateway on the
real broker and databases. A moderator creates a survey; the people asked get an inbox entry and answer
once, anonymously; bad answers are refused naming their field and change nothing; the author reads
aggregates (free text anonymized) as JSON and CSV; the results rebuilt from each survey's stream of facts
equal the running ones; nothing stored links an answer to a person."""

import csv
import io
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras
import pytest

from services.identity.service import IdentityService
from services.library import surveys
from services.library.service import LibraryService
from services.notifications.service import NotificationsService
from tests.faults.helpers import queue_depth
from tests.integration.event_helpers import envelope, open_broker, processed
from tests.integration.gateway_platform import assert_error, start_platform
from tests.support import eventually

QUEUE = "library.identity-events"
BACKENDS = (IdentityService, NotificationsService)  # and the library, started with a quick announcing timer
PROFILE = {
    "rubrics": ["self-management"],
    "place_of_work": "School",
    "institute": "Institute",
    "position": "Teacher",
    "interests": "",
    "links": [],
    "motto": "",
    "accepting_cases": True,
}
QUESTIONS = [
    {"kind": "single", "text": "Which form do you teach most?", "options": ["5", "7", "9"]},
    {"kind": "multiple", "text": "What helps you?", "options": ["Peers", "Mentor", "Library"], "required": False},
    {"kind": "scale", "text": "How tired are you?"},
    {"kind": "text", "text": "What would you change?", "required": False},
]


@pytest.fixture(scope="module")
def api(start_module_service):
    start_module_service(LibraryService, SURVEY_CHECK_INTERVAL=0.5)
    api = start_platform(start_module_service, backends=BACKENDS)
    eventually(lambda: api("GET", "/health").status_code == 200, timeout=30, message="gateway up")
    return api


@pytest.fixture(scope="module")
def moderator(api, test_env):
    return api.moderator(test_env)


def accredited_mentor(api, moderator, rubrics=("self-management",)):
    user, token = api.register("mentor")
    assert api("PUT", "/api/v1/me/mentor-profile", token=token, json=dict(PROFILE, rubrics=list(rubrics))).ok
    applied = api("POST", "/api/v1/me/accreditation", token=token, json={"experience": "Years.", "motivation": "Help."})
    assert applied.status_code == 201, applied.text
    approved = api(
        "POST", f"/api/v1/accreditation/applications/{applied.json()['application']['id']}/approve", token=moderator
    )
    assert approved.status_code == 200, approved.text
    return user, token


def survey_form(**overrides):
    now = datetime.now(timezone.utc)
    form = {
        "title": f"How is the term going? {uuid.uuid4().hex[:6]}",
        "audience": "both",
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "questions": QUESTIONS,
    }
    form.update(overrides)
    return form


def create(api, token, expect=201, key=None, **overrides):
    response = api(
        "POST",
        "/api/v1/surveys",
        token=token,
        json=survey_form(**overrides),
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code == expect, response.text
    return response.json()


def answer(api, token, survey_id, answers):
    return api("POST", f"/api/v1/surveys/{survey_id}/answers", token=token, json={"answers": answers})


def survey_entries(api, token, kind="survey_opened"):
    return [e for e in api("GET", "/api/v1/inbox", token=token).json()["items"] if e["kind"] == kind]


def visible(api, token, survey_id):
    return api("GET", f"/api/v1/surveys/{survey_id}", token=token).status_code == 200


def library_db(test_env):
    conn = psycopg2.connect(test_env.database_url("library"), cursor_factory=psycopg2.extras.RealDictCursor)
    conn.autocommit = True
    return conn


def responses(api, moderator, survey_id):
    return api("GET", f"/api/v1/surveys/{survey_id}/results", token=moderator).json()["responses"]


def test_the_audience_is_told_answers_once_and_the_author_reads_aggregates(api, moderator, test_env):
    mentee, t_mentee = api.register("mentee")
    _, t_other_mentee = api.register("mentee")
    _, t_mentor = accredited_mentor(api, moderator)
    _, t_unaccredited = api.register("mentor")

    key = uuid.uuid4().hex
    survey = create(api, moderator, key=key)
    assert create(api, moderator, key=key)["id"] == survey["id"]  # a retried request is one survey
    assert (survey["state"], survey["own"], survey["responses"], survey["can_answer"]) == ("open", True, 0, False)
    assert [q["id"] for q in survey["questions"]] == ["q1", "q2", "q3", "q4"]

    # the inbox: each mentee and the accredited mentor, once; not the unaccredited mentor, not the moderator
    for token in (t_mentee, t_other_mentee):
        eventually(lambda: survey_entries(api, token), timeout=30, message="the survey's inbox entry")
    eventually(lambda: survey_entries(api, t_mentor), timeout=30, message="the mentor's inbox entry")
    [entry] = survey_entries(api, t_mentee)
    assert "Surveys" in entry["text"] and survey["title"] not in entry["text"]
    assert survey_entries(api, t_unaccredited) == [] and survey_entries(api, moderator) == []
    assert not visible(api, t_unaccredited, survey["id"])

    seen = api("GET", f"/api/v1/surveys/{survey['id']}", token=t_mentee).json()
    assert (seen["can_answer"], seen["answered"], seen["responses"]) == (True, False, None)
    assert [s["id"] for s in api("GET", "/api/v1/surveys", token=t_mentee).json()["items"]].count(survey["id"]) == 1

    given = answer(
        api,
        t_mentee,
        survey["id"],
        {
            "q1": "7",
            "q2": ["Mentor", "Peers"],
            "q3": 4,
            "q4": "Мария Ивановна Петрова из школы № 57 мне очень помогла.",
        },
    )
    assert given.status_code == 201 and given.json() == {"survey_id": survey["id"], "answered": True}
    assert answer(api, t_other_mentee, survey["id"], {"q1": "7", "q3": 2}).status_code == 201
    eventually(lambda: visible(api, t_mentor, survey["id"]), timeout=30, message="the mentor in the audience")
    assert answer(api, t_mentor, survey["id"], {"q1": "9", "q2": ["Library"], "q3": 5}).status_code == 201

    # a second answer: a structured error naming the survey, and nothing counted
    error = assert_error(answer(api, t_mentee, survey["id"], {"q1": "5", "q3": 1}), 400, "invalid_input")
    assert error["fields"] == {"survey": ["Already answered: once only."]}
    seen = api("GET", f"/api/v1/surveys/{survey['id']}", token=t_mentee).json()
    assert (seen["can_answer"], seen["answered"]) == (False, True)

    # the results: aggregates only, free text through the anonymizer
    results = api("GET", f"/api/v1/surveys/{survey['id']}/results", token=moderator)
    assert results.status_code == 200, results.text
    body = results.json()
    assert body["responses"] == 3
    q1, q2, q3, q4 = body["questions"]
    assert q1["counts"] == [{"option": "5", "count": 0}, {"option": "7", "count": 2}, {"option": "9", "count": 1}]
    assert {c["option"]: c["count"] for c in q2["counts"]} == {"Peers": 1, "Mentor": 1, "Library": 1}
    assert (q3["mean"], q3["answered"]) == (3.67, 3)
    [text] = q4["texts"]
    assert "Петрова" not in text and "57" not in text and "[person]" in text and "помогла" in text
    assert mentee["id"] not in results.text
    assert_error(api("GET", f"/api/v1/surveys/{survey['id']}/results", token=t_mentee), 403, "forbidden")

    # the CSV: the same numbers
    download = api("GET", f"/api/v1/surveys/{survey['id']}/results.csv", token=moderator)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["question_id", "kind", "question", "answer", "count"]
    assert ["q1", "single", "Which form do you teach most?", "7", "2"] in rows
    assert ["q3", "scale", "How tired are you?", "mean", "3.67"] in rows
    assert not any("Петрова" in cell for row in rows for cell in row)

    # the facts rebuild the results; nothing stored links an answer to a person
    with library_db(test_env) as conn, conn.cursor() as cur:
        cur.execute("SELECT questions FROM surveys WHERE id = %s", (survey["id"],))
        questions = cur.fetchone()["questions"]
        facts = surveys.facts(cur, survey["id"])
        cur.execute("SELECT results FROM survey_results WHERE survey_id = %s", (survey["id"],))
        assert surveys.fold(questions, facts) == cur.fetchone()["results"]
        assert len(facts) == 3 and facts[0]["q1"] == "7"
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN ('survey_answers', 'survey_respondents')"
        )
        columns = {(r["table_name"], r["column_name"]) for r in cur.fetchall()}
        assert columns == {
            ("survey_answers", "survey_id"),
            ("survey_answers", "seq"),
            ("survey_answers", "answers"),
            ("survey_respondents", "survey_id"),
            ("survey_respondents", "user_id"),
        }
    conn.close()


def test_answers_that_do_not_fit_are_refused_naming_the_field_and_change_nothing(api, moderator):
    _, t_mentee = api.register("mentee")
    survey = create(api, moderator)
    for answers, field in (
        ({"q3": 3}, "answers.q1"),  # a required question missing
        ({"q1": "8", "q3": 3}, "answers.q1"),  # a choice not offered
        ({"q1": "7", "q2": ["Coach"], "q3": 3}, "answers.q2"),
        ({"q1": "7", "q3": 6}, "answers.q3"),  # outside 1-5
        ({"q1": "7", "q3": 3, "q7": "x"}, "answers.q7"),
    ):
        error = assert_error(answer(api, t_mentee, survey["id"], answers), 400, "invalid_input")
        assert list(error["fields"]) == [field], error
    assert_error(api("POST", f"/api/v1/surveys/{survey['id']}/answers", token=t_mentee, json={}), 400, "invalid_input")
    assert responses(api, moderator, survey["id"]) == 0
    assert answer(api, t_mentee, survey["id"], {"q1": "5", "q3": 3}).status_code == 201  # still free to answer


def test_answers_outside_the_period_are_refused(api, moderator):
    _, t_mentee = api.register("mentee")
    now = datetime.now(timezone.utc)
    later = create(
        api, moderator, opens_at=(now + timedelta(days=1)).isoformat(), closes_at=(now + timedelta(days=2)).isoformat()
    )
    assert later["state"] == "scheduled"
    error = assert_error(answer(api, t_mentee, later["id"], {"q1": "5", "q3": 3}), 400, "invalid_input")
    assert error["fields"] == {"survey": ["The survey has not opened yet."]}
    assert not visible(api, t_mentee, later["id"])  # the audience sees it once it opens

    closing = create(api, moderator, closes_at=(now + timedelta(seconds=3)).isoformat())
    eventually(lambda: datetime.now(timezone.utc) > now + timedelta(seconds=3.5), timeout=10, message="closed")
    error = assert_error(answer(api, t_mentee, closing["id"], {"q1": "5", "q3": 3}), 400, "invalid_input")
    assert error["fields"] == {"survey": ["The survey is closed."]}
    assert responses(api, moderator, closing["id"]) == 0


def test_a_survey_opening_later_is_announced_when_it_opens(api, moderator):
    _, t_mentee = api.register("mentee")
    now = datetime.now(timezone.utc)
    survey = create(api, moderator, opens_at=(now + timedelta(seconds=2)).isoformat())
    assert survey["state"] == "scheduled"
    time.sleep(0.5)
    assert survey_entries(api, t_mentee) == []  # not before it opens
    eventually(lambda: survey_entries(api, t_mentee), timeout=30, message="the entry once it opened")
    assert visible(api, t_mentee, survey["id"])


def test_malformed_definitions_name_their_field(api, moderator):
    now = datetime.now(timezone.utc)
    for overrides, field in (
        ({"closes_at": (now - timedelta(days=8)).isoformat()}, "closes_at"),
        ({"questions": []}, "questions"),
        ({"audience": "parents"}, "audience"),
        ({"questions": [{"kind": "single", "text": "Which?", "options": ["one"]}]}, "questions"),
        ({"questions": [{"kind": "scale", "text": "How?", "options": ["a", "b"]}]}, "questions"),
    ):
        response = api("POST", "/api/v1/surveys", token=moderator, json=survey_form(**overrides))
        error = assert_error(response, 400, "invalid_input")
        assert field in error["fields"], error
    closed_already = survey_form(
        opens_at=(now - timedelta(days=2)).isoformat(), closes_at=(now - timedelta(days=1)).isoformat()
    )
    error = assert_error(api("POST", "/api/v1/surveys", token=moderator, json=closed_already), 400, "invalid_input")
    assert error["fields"] == {"closes_at": ["Must be in the future."]}


def test_accredited_mentors_create_surveys_only_when_moderators_allow_it(api, moderator):
    _, t_mentor = accredited_mentor(api, moderator)
    _, t_newcomer = api.register("mentor")
    _, t_mentee = api.register("mentee")

    def set_to(allowed):
        return api("PUT", "/api/v1/surveys/settings", token=moderator, json={"mentors_may_create": allowed})

    try:
        assert set_to(False).json() == {"mentors_may_create": False}
        assert_error(api("POST", "/api/v1/surveys", token=t_mentor, json=survey_form()), 403, "forbidden")
        assert set_to(True).json() == {"mentors_may_create": True}
        assert api("GET", "/api/v1/surveys/settings", token=t_mentee).json() == {"mentors_may_create": True}
        own = eventually(
            lambda: (lambda r: r.json() if r.status_code == 201 else None)(
                api("POST", "/api/v1/surveys", token=t_mentor, json=survey_form(audience="mentees"))
            ),
            timeout=30,
            message="the accredited mentor creates a survey",
        )
        assert own["own"] is True
        assert_error(api("POST", "/api/v1/surveys", token=t_newcomer, json=survey_form()), 403, "forbidden")
        assert_error(api("POST", "/api/v1/surveys", token=t_mentee, json=survey_form()), 403, "forbidden")
        assert answer(api, t_mentee, own["id"], {"q1": "5", "q3": 3}).status_code == 201
        assert api("GET", f"/api/v1/surveys/{own['id']}/results", token=t_mentor).json()["responses"] == 1
        assert api("GET", f"/api/v1/surveys/{own['id']}/results", token=moderator).status_code == 200
        assert_error(
            api("PUT", "/api/v1/surveys/settings", token=t_mentor, json={"mentors_may_create": False}), 403, "forbidden"
        )
    finally:
        set_to(False)


def fill_questionnaire(api, token, rubrics=None):
    """The mentee's onboarding questionnaire, with these rubrics of interest (None: the field left out)."""
    form = {"school": "School No. 57", "subjects": ["Mathematics"], "years_of_practice": 2}
    if rubrics is not None:
        form["rubrics"] = list(rubrics)
    return api("PUT", "/api/v1/me/questionnaire", token=token, json=form)


def survey_mentee(test_env, mentee_id):
    """What the library knows of a mentee for surveys' audiences: (rubrics, source position), or None."""
    with library_db(test_env) as conn, conn.cursor() as cur:
        cur.execute("SELECT rubrics, source_position FROM survey_mentees WHERE mentee_id = %s", (mentee_id,))
        row = cur.fetchone()
    conn.close()
    return (row["rubrics"], row["source_position"]) if row else None


def test_a_survey_by_rubric_asks_only_the_mentees_and_mentors_of_those_rubrics(api, moderator, test_env, rpc):
    mentor_in, t_in = accredited_mentor(api, moderator, rubrics=("self-management",))
    _, t_out = accredited_mentor(api, moderator, rubrics=("education-law",))
    mentee_in, tm_in = api.register("mentee")
    mentee_other, tm_other = api.register("mentee")
    _, tm_none = api.register("mentee")
    _, tm_no_questionnaire = api.register("mentee")
    assert fill_questionnaire(api, tm_in, ["personal-resources", "self-management"]).json()["rubrics"] == [
        "self-management",
        "personal-resources",
    ]
    assert fill_questionnaire(api, tm_other, ["education-law"]).ok
    assert fill_questionnaire(api, tm_none).json()["rubrics"] == []  # none declared
    for mentee, rubrics in ((mentee_in, ["self-management", "personal-resources"]), (mentee_other, ["education-law"])):
        eventually(
            lambda m=mentee, r=rubrics: (survey_mentee(test_env, m["id"]) or (None,))[0] == r,
            timeout=30,
            message="the library learns the mentee's rubrics of interest",
        )

    survey = create(api, moderator, audience="both", rubrics=["self-management"])
    for token in (t_in, tm_in):
        eventually(lambda t=token: survey_entries(api, t), timeout=30, message="the people of the rubric are told")
    eventually(lambda: visible(api, t_in, survey["id"]), timeout=30, message="the mentor sees it")
    assert visible(api, tm_in, survey["id"])
    # one event wrote all the survey's entries at once: the others have none, and do not see it
    for token in (t_out, tm_other, tm_none, tm_no_questionnaire):
        assert survey_entries(api, token) == []
        assert not visible(api, token, survey["id"])
        assert_error(answer(api, token, survey["id"], {"q1": "5", "q3": 3}), 404, "not_found")
    assert answer(api, tm_in, survey["id"], {"q1": "5", "q3": 3}).status_code == 201

    # a survey without rubrics asks every mentee, whatever they declared
    unrestricted = create(api, moderator, audience="mentees")
    for token in (tm_in, tm_other, tm_none, tm_no_questionnaire):
        eventually(lambda t=token: survey_entries(api, t) and visible(api, t, unrestricted["id"]), timeout=30)
    assert survey_entries(api, t_out) == []
    # what the library keeps of a mentor for audiences is among what it holds about them (GET /me/data)
    [kept] = rpc.library.records_of({"user_id": mentor_in["id"], "role": "mentor"})["survey_mentors"]
    assert kept["accredited"] is True and kept["rubrics"] == ["self-management"]


def test_an_unknown_rubric_of_interest_is_refused_naming_the_field_and_changes_nothing(api, test_env):
    mentee, token = api.register("mentee")
    assert fill_questionnaire(api, token, ["self-management"]).ok
    eventually(lambda: survey_mentee(test_env, mentee["id"]), timeout=30, message="the library learns the rubrics")
    before = api("GET", "/api/v1/me/questionnaire", token=token).json()
    response = api(
        "PUT",
        "/api/v1/me/questionnaire",
        token=token,
        json={"school": "Lyceum 7", "subjects": ["Physics"], "years_of_practice": 3, "rubrics": ["astrology"]},
    )
    error = assert_error(response, 400, "invalid_input")
    assert list(error["fields"]) == ["rubrics"], error
    assert api("GET", "/api/v1/me/questionnaire", token=token).json() == before
    assert survey_mentee(test_env, mentee["id"])[0] == ["self-management"]


def test_the_same_interests_event_twice_and_an_older_one_leave_the_newest_state(api, test_env, db, rpc):
    """library.identity-events' MenteeInterestsUpdated handler: a duplicate delivery and an older snapshot
    arriving late change nothing (idempotent by event id, newest by identity's outbox position)."""
    mentee_id = str(uuid.uuid4())
    newer = envelope(
        "MenteeInterestsUpdated",
        mentee_id,
        {"mentee_id": mentee_id, "rubrics": ["families-at-risk"]},
        source="identity",
        position=10**9 + 2,
    )
    older = envelope(
        "MenteeInterestsUpdated",
        mentee_id,
        {"mentee_id": mentee_id, "rubrics": ["education-law"]},
        source="identity",
        position=10**9 + 1,
    )
    conn, broker = open_broker(test_env.amqp_uri)
    try:
        broker.publish(newer, times=2)
        broker.publish(older)
    finally:
        conn.release()
    eventually(
        lambda: processed(db, "library", newer) and processed(db, "library", older),
        timeout=30,
        message="both events handled",
    )
    eventually(lambda: queue_depth(test_env.amqp_uri, QUEUE) == 0, timeout=30, message="the copies were taken")
    assert survey_mentee(test_env, mentee_id) == (["families-at-risk"], 10**9 + 2)
    assert queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 0
    # the mentee finds it among what the library holds about them (GET /api/v1/me/data)
    assert rpc.library.records_of({"user_id": mentee_id, "role": "mentee"})["survey_mentees"] == [
        {"mentee_id": mentee_id, "rubrics": ["families-at-risk"], "source_position": 10**9 + 2}
    ]


def test_the_researchers_export_has_every_answer_and_no_person(api, moderator, test_env, tmp_path):
    from research.anonymize import Pseudonymizer
    from research.cli import main

    _, t_mentee = api.register("mentee")
    me = api("GET", "/api/v1/me", token=moderator).json()
    survey = create(api, moderator)
    given = answer(
        api,
        t_mentee,
        survey["id"],
        {"q1": "9", "q2": ["Peers"], "q3": 5, "q4": "Звоните мне: +7 916 123-45-67, Ольга Сергеевна."},
    )
    assert given.status_code == 201, given.text
    out = tmp_path / "surveys.csv"
    assert (
        main(
            [
                "surveys",
                "--library-url",
                test_env.database_url("library"),
                "--key",
                "k-1",
                "--format",
                "csv",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["survey"] == survey["id"]]
    assert [(r["question_id"], r["answer"]) for r in rows][:3] == [("q1", "9"), ("q2", '["Peers"]'), ("q3", "5")]
    assert {r["author"] for r in rows} == {Pseudonymizer("k-1")(me["id"])}
    text = rows[3]["answer"]
    assert "916" not in text and "Ольга" not in text and "[phone]" in text
    assert set(rows[0]) == {
        "survey",
        "title",
        "audience",
        "rubrics",
        "opens_at",
        "closes_at",
        "author",
        "answer_seq",
        "question_id",
        "kind",
        "question",
        "answer",
    }  # no respondent, no time of answering

    dropped = tmp_path / "surveys.jsonl"
    assert (
        main(
            [
                "surveys",
                "--library-url",
                test_env.database_url("library"),
                "--key",
                "k-1",
                "--drop-text",
                "--output",
                str(dropped),
            ]
        )
        == 0
    )
    kinds = {json.loads(line)["kind"] for line in dropped.open(encoding="utf-8")}
    assert "text" not in kinds and {"single", "multiple", "scale"} <= kinds
    assert main(["surveys", "--library-url", test_env.database_url("library")]) == 2  # no key: refused
