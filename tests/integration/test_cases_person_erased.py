"""An erased person leaves the cases in progress cleanly (issue 19, part 3), on the real identity,
matching, cases and notifications over RabbitMQ and PostgreSQL, each on a database of this module's own
(the proposals and the statistics are this module's only). A moderator erases the person; identity
publishes PersonErased and:

- for a mentee: their case whose author was choosing among proposals and their case a mentor works on
  close (counted as withdrawn), and each mentor waiting on them is told once in the inbox, naming no one;
  their completed case stays as it was, and the completed figures with it; matching frees the mentor;
- for a mentor working on a case: the case goes back to matching for a new round without them, and its
  author is told once that the mentor left the platform.

Then identity's PersonErased is delivered again, as published: nothing more happens (no case event, no
inbox entry). cases takes one message at a time (max_workers=1, tests/integration/event_helpers.py), so
once a later erasure is handled the repeated one was too."""

import uuid
from types import SimpleNamespace

import psycopg2
import pytest

from contracts.errors import NotFound
from services.cases.sealing import FORM_TEXTS
from services.cases.service import CasesService
from services.common.shredding import ERASED
from services.identity.admin import create_moderator, open_store
from services.identity.service import IdentityService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.accounts import register_over_rpc
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.support import case_form, eventually

PASSWORD = "correct horse battery"
DATABASES = ("identity", "matching", "cases", "notifications")
# every queue the four services' events reach (the library's too: it does not run here)
QUEUES = (
    "cases.identity-events",
    "cases.matching-events",
    "matching.case-events",
    "matching.identity-events",
    "notifications.case-events",
    "notifications.identity-events",
    "library.case-events",
    "library.identity-events",
)
PROFILE = {
    "place_of_work": "School 1",
    "institute": "Institute of Pedagogy",
    "position": "Teacher",
    "interests": "Classroom climate",
    "links": [],
    "motto": "Ask, then listen.",
    "accepting_cases": True,
}
APPLICATION = {"experience": "Fifteen years at school.", "motivation": "Novices should not be alone."}
REASON = {"reason": "The person's written request no. 2026-41."}


@pytest.fixture(scope="module")
def platform(start_module_service, test_env):
    purge(test_env.amqp_uri, *QUEUES)
    urls = {name: test_env.database_url(f"erased_cases_{name}") for name in DATABASES}
    start_module_service(IdentityService, DATABASE_URL=urls["identity"])
    start_module_service(MatchingService, DATABASE_URL=urls["matching"])
    start_module_service(CasesService, DATABASE_URL=urls["cases"], max_workers=1)
    start_module_service(NotificationsService, DATABASE_URL=urls["notifications"], EMAIL_POLL_INTERVAL=3600)
    store = open_store(urls["identity"])
    try:
        moderator = create_moderator(
            store,
            {
                "email": f"moderator-{uuid.uuid4().hex[:12]}@example.org",
                "password": PASSWORD,
                "first_name": "Maria",
                "last_name": "Moderova",
            },
        )
    finally:
        store.close()
    conn, broker = open_broker(test_env.amqp_uri)
    cases_db = psycopg2.connect(urls["cases"])
    cases_db.autocommit = True
    yield SimpleNamespace(
        broker=broker, urls=urls, cases_db=cases_db, moderator={"user_id": moderator["id"], "role": "moderator"}
    )
    cases_db.close()
    conn.release()
    purge(test_env.amqp_uri, *QUEUES)


def person(rpc, platform, role, first_name, last_name):
    form = {
        "email": f"{role}.{uuid.uuid4().hex[:10]}@example.org",
        "password": PASSWORD,
        "role": role,
        "first_name": first_name,
        "last_name": last_name,
        "patronymic": "",
    }
    user = register_over_rpc(rpc, form, verify=True, database_url=platform.urls["identity"])
    return {"user_id": user["id"], "role": role}


def accredited_mentor(rpc, platform, first_name, last_name, rubric):
    """A mentor on the roll, advising in ``rubric``, whom matching knows."""
    mentor = person(rpc, platform, "mentor", first_name, last_name)
    rpc.identity.update_mentor_profile(mentor, {**PROFILE, "rubrics": [rubric]})
    applied = rpc.identity.apply_for_accreditation(mentor, APPLICATION)
    rpc.identity.approve_application(platform.moderator, applied["application"]["id"])
    eventually(lambda: (matching_view(rpc, mentor) or {}).get("accredited"), message="matching knows the mentor")
    return mentor


def matching_view(rpc, mentor):
    try:
        return rpc.matching.get_mentor(mentor["user_id"])
    except NotFound:
        return None


def case_of(rpc, platform, case_id):
    return rpc.cases.get_case(platform.moderator, case_id)


def filed_and_proposed(rpc, platform, mentee, rubric, *mentors):
    """A case of ``mentee`` whose first round proposed (at least) ``mentors``: its id."""
    case_id = rpc.cases.create_case(mentee, case_form(rubrics=[rubric]), None)["id"]
    case = eventually(
        lambda: (lambda c: c if c["state"] == "choosing_mentor" else None)(case_of(rpc, platform, case_id)),
        message="mentors proposed",
    )
    proposed = {p["mentor_id"] for p in case["proposed_mentors"]}
    assert {m["user_id"] for m in mentors} <= proposed, case["proposed_mentors"]
    return case_id


def worked_on(rpc, platform, mentee, rubric, mentor, *others):
    """A case ``mentor`` accepted (in progress): its id."""
    case_id = filed_and_proposed(rpc, platform, mentee, rubric, mentor, *others)
    rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor["user_id"]})
    assert rpc.cases.accept_case(mentor, case_id)["state"] == "in_progress"
    return case_id


def told(rpc, user, kind):
    return [e for e in rpc.notifications.list_inbox(user) if e["kind"] == kind]


def told_exactly(rpc, user, kind, count):
    return eventually(
        lambda: (lambda entries: entries if len(entries) == count else None)(told(rpc, user, kind)),
        message=f"{count} {kind} entries",
    )


def emails(platform, user, kind):
    """How many e-mail copies of ``kind`` notifications queued for ``user`` (sent or not)."""
    with psycopg2.connect(platform.urls["notifications"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM email_outbox WHERE recipient = %s AND kind = %s", (user["user_id"], kind))
        found = cur.fetchone()[0]
    conn.close()
    return found


def recorded(platform, event_name):
    """How many events of the kind the cases log holds (in this module's database)."""
    with platform.cases_db.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_events WHERE topic LIKE %s", (f"%:Case.{event_name}",))
        return cur.fetchone()[0]


def by_state(rpc, platform):
    """The moderators' figures of cases by state."""
    return {s["key"]: s["count"] for s in rpc.cases.statistics(platform.moderator)["by_state"]}


def erased_form(form):
    """A case form as it reads once its author is erased: its texts ``[erased]``, the rest as it was."""
    return {k: ERASED if k in FORM_TEXTS and v else v for k, v in form.items()}


def deliver_again(platform, person_id):
    """identity's PersonErased of ``person_id`` published again as it was (the same event id), then a
    later erasure of nobody in particular; returns once cases handled the later one."""
    with psycopg2.connect(platform.urls["identity"]) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT envelope || jsonb_build_object('position', position) FROM outbox "
            "WHERE envelope->>'type' = 'PersonErased' AND envelope->>'aggregate_id' = %s",
            (person_id,),
        )
        [(published,)] = cur.fetchall()
    conn.close()
    platform.broker.publish(published)
    sentinel = str(uuid.uuid4())
    platform.broker.publish(envelope("PersonErased", sentinel, {"person_id": sentinel}, source="identity"))

    def tombstone():
        with platform.cases_db.cursor() as cur:
            cur.execute("SELECT erased_at FROM person_keys WHERE person_id = %s", (sentinel,))
            return cur.fetchone()

    eventually(tombstone, message="cases handled the later erasure")


def test_an_erased_mentees_cases_in_progress_close_and_their_mentors_are_told_once(rpc, platform):
    mentee = person(rpc, platform, "mentee", "Zinaida", "Erasova")
    working_mentor = accredited_mentor(rpc, platform, "Pavel", "Orlov", "education-law")
    other_mentor = accredited_mentor(rpc, platform, "Olga", "Ivanova", "education-law")

    done = worked_on(rpc, platform, mentee, "education-law", working_mentor)  # completed
    solved = rpc.cases.propose_solution(working_mentor, done, {"text": "A class council.", "materials": []}, None)
    rpc.cases.complete_case(mentee, done, {"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}})
    working = worked_on(rpc, platform, mentee, "education-law", working_mentor)  # in progress
    choosing = filed_and_proposed(rpc, platform, mentee, "education-law", working_mentor, other_mentor)
    completed_before = case_of(rpc, platform, done)
    eventually(lambda: matching_view(rpc, working_mentor)["load"] == 1, message="matching counts the open case")
    before = by_state(rpc, platform)

    assert rpc.identity.erase_person(platform.moderator, mentee["user_id"], REASON)["erased"] is True

    for case_id in (working, choosing):
        eventually(lambda case_id=case_id: case_of(rpc, platform, case_id)["state"] == "withdrawn", message="closed")
    [to_mentor_of_working, to_mentor_as_proposed] = sorted(
        told_exactly(rpc, working_mentor, "case_author_left", 2), key=lambda e: str(e["case_id"]) != working
    )
    [to_other] = told_exactly(rpc, other_mentor, "case_author_left", 1)
    assert tuple(str(e["case_id"]) for e in (to_mentor_of_working, to_mentor_as_proposed, to_other)) == (
        working,
        choosing,
        choosing,
    )
    assert "left the platform: the case is closed" in to_mentor_of_working["text"]
    assert "you were proposed" in to_other["text"]
    # each with its e-mail copy, by the kind's own switch (on unless turned off)
    assert [emails(platform, mentor, "case_author_left") for mentor in (working_mentor, other_mentor)] == [2, 1]
    for entry in (to_mentor_of_working, to_mentor_as_proposed, to_other):
        assert "Zinaida" not in entry["text"] and "Erasova" not in entry["text"], entry["text"]
    history = rpc.cases.get_history(platform.moderator, working)
    assert [(s["type"], s["actor_role"]) for s in history[-1:]] == [("AuthorErased", "system")]

    # the completed case is as it was but for the author's texts, which read [erased] (sealed with their
    # key: services/cases/sealing.py; the mentor's solution stays theirs), and so are the completed
    # figures; the closed ones count as withdrawn
    assert case_of(rpc, platform, done) == {
        **completed_before,
        "form": erased_form(completed_before["form"]),
        "revisions": [erased_form(r) for r in completed_before["revisions"]],
    }
    assert case_of(rpc, platform, done)["solutions"][0]["text"] == "A class council."
    after = by_state(rpc, platform)
    assert after["completed"] == before["completed"] >= 1
    assert after["withdrawn"] == before["withdrawn"] + 2
    assert (after["in_progress"], after["choosing_mentor"]) == (
        before["in_progress"] - 1,
        before["choosing_mentor"] - 1,
    )
    eventually(lambda: matching_view(rpc, working_mentor)["load"] == 0, message="matching frees the mentor")

    # delivered again: nothing more
    versions = {case_id: case_of(rpc, platform, case_id)["version"] for case_id in (done, working, choosing)}
    closures = recorded(platform, "AuthorErased")
    deliver_again(platform, mentee["user_id"])
    assert {case_id: case_of(rpc, platform, case_id)["version"] for case_id in versions} == versions
    assert recorded(platform, "AuthorErased") == closures == 2
    assert [len(told(rpc, mentor, "case_author_left")) for mentor in (working_mentor, other_mentor)] == [2, 1]
    assert [emails(platform, mentor, "case_author_left") for mentor in (working_mentor, other_mentor)] == [2, 1]


def test_an_erased_mentors_case_goes_to_a_new_round_and_its_author_is_told_once(rpc, platform):
    mentee = person(rpc, platform, "mentee", "Vera", "Lebedeva")
    leaving = accredited_mentor(rpc, platform, "Ilya", "Uhodov", "digital-technologies")
    staying = accredited_mentor(rpc, platform, "Nina", "Ostaeva", "digital-technologies")
    case_id = worked_on(rpc, platform, mentee, "digital-technologies", leaving, staying)
    round_before = case_of(rpc, platform, case_id)["round"]

    assert rpc.identity.erase_person(platform.moderator, leaving["user_id"], REASON)["erased"] is True

    case = eventually(
        lambda: (lambda c: c if c["state"] == "choosing_mentor" and c["round"] > round_before else None)(
            case_of(rpc, platform, case_id)
        ),
        message="a new round",
    )
    proposed = [p["mentor_id"] for p in case["proposed_mentors"]]
    assert leaving["user_id"] not in proposed and staying["user_id"] in proposed, proposed
    assert case["mentor_id"] is None and case["engagements"][-1]["outcome"] == "released"
    [released] = told_exactly(rpc, mentee, "mentor_released", 1)
    assert str(released["case_id"]) == case_id
    assert "left the platform" in released["text"] and "suspend" not in released["text"], released["text"]
    assert "Uhodov" not in released["text"]
    [step] = [s for s in rpc.cases.get_history(platform.moderator, case_id) if s["type"] == "MentorReleased"]
    assert step["data"]["reason"] == "mentor_erased"

    # delivered again: nothing more
    version = case_of(rpc, platform, case_id)["version"]
    deliver_again(platform, leaving["user_id"])
    assert case_of(rpc, platform, case_id)["version"] == version
    assert len(told(rpc, mentee, "mentor_released")) == 1
    assert recorded(platform, "MentorReleased") == 1
