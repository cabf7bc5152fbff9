"""The identity service through real RPC, on the real RabbitMQ and PostgreSQL (see conftest)."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import eventlet
import kombu
import pytest
from nameko.containers import ServiceContainer

from contracts.envelope import read_envelope
from contracts.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from contracts.topology import events_exchange
from services.common.db import PostgresStore
from services.common.tokens import TokenSigner
from services.identity.admin import create_moderator
from services.identity.service import IdentityService
from tests.accounts import accepted, email_index, register_over_rpc
from tests.actors import signed_rpc

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def identity(test_env):
    """One identity service for the module (like conftest's start_service, which is per test:
    stopping a nameko container costs ~2 s). Tests use fresh e-mails, so they do not interfere."""
    container = ServiceContainer(IdentityService, test_env.config("identity"))
    container.start()
    yield container
    container.stop()


@pytest.fixture
def identity_db(identity, db):
    return db("identity")


def _email(prefix="user"):
    return f"{prefix}.{uuid.uuid4().hex[:10]}@School.Example.org"


def _register(rpc, role="mentee", email=None, password=PASSWORD, **names):
    form = {
        "email": email or _email(role),
        "password": password,
        "role": role,
        "first_name": names.get("first_name", "Anna"),
        "last_name": names.get("last_name", "Petrova"),
        "patronymic": names.get("patronymic", "Sergeevna"),
    }
    return register_over_rpc(rpc, form, verify=role == "mentor")  # a mentor may apply for the roll


def _actor(user):
    return {"user_id": user["id"], "role": user["role"]}


def _scalar(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


PROFILE = {
    "rubrics": ["digital-technologies", "monitoring-evaluation"],
    "place_of_work": "MSPU",
    "institute": "Institute of System Projects",
    "position": "Junior Researcher",
    "interests": "Measurements in psychology and education",
    "links": ["https://example.org/works"],
    "motto": "We cannot control what we cannot measure.",
    "accepting_cases": True,
}


# ---- accounts ------------------------------------------------------------------------


def test_register_then_sign_in_issues_a_token_for_that_user(rpc, identity_db, test_env):
    email = _email("mentee")
    user = _register(rpc, email=email)
    assert user["email"] == email.lower()
    assert (user["role"], user["first_name"], user["last_name"], user["patronymic"]) == (
        "mentee",
        "Anna",
        "Petrova",
        "Sergeevna",
    )
    assert "password" not in user and "password_hash" not in user
    stored = _scalar(identity_db, "SELECT password_hash FROM users WHERE id = %s", user["id"])
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    token = rpc.identity.sign_in({"email": email.upper(), "password": PASSWORD})
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert token["user"] == user
    signer = TokenSigner(test_env.config("identity")["TOKEN_SECRET"], 3600)
    assert signer.verify(token["access_token"]) == {"user_id": user["id"], "role": "mentee"}


def test_wrong_password_and_unknown_email_are_refused_alike(rpc, identity):
    user = _register(rpc)
    with pytest.raises(Unauthorized) as wrong:
        rpc.identity.sign_in({"email": user["email"], "password": PASSWORD + "x"})
    with pytest.raises(Unauthorized) as unknown:
        rpc.identity.sign_in({"email": _email("nobody"), "password": PASSWORD})
    assert wrong.value.status == 401
    assert wrong.value.message == unknown.value.message
    assert wrong.value.fields == unknown.value.fields == {}


def test_a_duplicate_email_is_answered_as_a_new_one_and_is_stored_once(rpc, identity_db):
    # issue 18: registration never tells whether an address has an account (was: 409 "already exists")
    email = _email("twice")
    first = _register(rpc, email=email)
    again = rpc.identity.register(
        {
            "email": email.upper(),
            "password": "another-password",
            "role": "mentor",
            "first_name": "Anna",
            "last_name": "Petrova",
        }
    )
    assert again == accepted(email)
    assert _scalar(identity_db, "SELECT count(*) FROM users WHERE email_index = %s", email_index(email)) == 1
    # the first account is untouched: its password still works, the second one does not
    assert rpc.identity.sign_in({"email": email, "password": PASSWORD})["user"]["id"] == first["id"]
    with pytest.raises(Unauthorized):
        rpc.identity.sign_in({"email": email, "password": "another-password"})


def test_invalid_registration_names_each_field_and_stores_nothing(rpc, identity_db):
    before = _scalar(identity_db, "SELECT count(*) FROM users")
    with pytest.raises(InvalidInput) as info:
        rpc.identity.register(
            {
                "email": "not-an-email",
                "password": "short",
                "role": "moderator",
                "first_name": "   ",
                "last_name": "Petrova",
            }
        )
    assert info.value.status == 400
    assert set(info.value.fields) == {"email", "password", "role", "first_name"}
    email = _email("short")
    with pytest.raises(InvalidInput) as info:
        _register(rpc, email=email, password="short")
    assert set(info.value.fields) == {"password"}
    assert _scalar(identity_db, "SELECT count(*) FROM users WHERE email_index = %s", email_index(email)) == 0
    assert _scalar(identity_db, "SELECT count(*) FROM users") == before


def test_get_user_only_self_or_moderator(rpc, identity, test_env):
    alice, bob = _register(rpc), _register(rpc, role="mentor")
    assert rpc.identity.get_user(_actor(alice), alice["id"]) == alice
    with pytest.raises(Forbidden) as info:
        rpc.identity.get_user(_actor(alice), bob["id"])
    assert info.value.status == 403
    with pytest.raises(Forbidden):
        rpc.identity.get_user({"user_id": bob["id"], "role": "mentor"}, alice["id"])

    # a moderator exists only through the operator command
    email = _email("moderator")
    command = [
        sys.executable,
        "-m",
        "services.identity.admin",
        "create-moderator",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--first-name",
        "Olga",
        "--last-name",
        "Ivanova",
    ]
    created = subprocess.run(command, cwd=REPO, env=test_env.process_env(), capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    again = subprocess.run(command, cwd=REPO, env=test_env.process_env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert "already exists" in again.stderr

    moderator = rpc.identity.sign_in({"email": email, "password": PASSWORD})["user"]
    assert moderator["role"] == "moderator"
    assert rpc.identity.get_user(_actor(moderator), bob["id"]) == bob
    with pytest.raises(NotFound):
        rpc.identity.get_user(_actor(moderator), str(uuid.uuid4()))
    with pytest.raises(NotFound):
        rpc.identity.get_user(_actor(moderator), "not-a-uuid")


# ---- mentor profiles -----------------------------------------------------------------


def test_profile_update_and_its_event_commit_in_one_transaction(rpc, identity_db):
    mentor = _register(rpc, role="mentor")
    count_events = lambda: _scalar(  # noqa: E731 (its verified e-mail's AccountChanged is not counted)
        identity_db,
        "SELECT count(*) FROM outbox WHERE envelope->>'aggregate_id' = %s "
        "AND envelope->>'type' = 'MentorProfileUpdated'",
        mentor["id"],
    )
    count_profiles = lambda: _scalar(  # noqa: E731
        identity_db, "SELECT count(*) FROM mentor_profiles WHERE mentor_id = %s", mentor["id"]
    )

    # Hold the lock outbox.append takes: the update blocks between writing the profile and the event.
    with identity_db.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(hashtext('outbox'))")
    try:
        reply = rpc.identity.update_mentor_profile.call_async(_actor(mentor), PROFILE)
        deadline = time.monotonic() + 10
        while not _scalar(
            identity_db,
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND NOT l.granted "
            "AND a.datname = current_database() AND a.query LIKE '%%outbox%%'",
        ):
            assert time.monotonic() < deadline, "the update never reached the outbox"
            eventlet.sleep(0.02)
        # the profile row is written but not committed: nobody sees it without its event
        assert count_profiles() == 0
        assert count_events() == 0
    finally:
        with identity_db.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext('outbox'))")
    view = reply.result()
    assert view["rubrics"] == PROFILE["rubrics"]
    assert count_profiles() == 1
    assert count_events() == 1
    envelope = _scalar(
        identity_db,
        "SELECT envelope FROM outbox WHERE envelope->>'aggregate_id' = %s "
        "AND envelope->>'type' = 'MentorProfileUpdated'",
        mentor["id"],
    )
    assert (envelope["type"], envelope["schema_version"]) == ("MentorProfileUpdated", 2)
    assert envelope["payload"] == {
        "mentor_id": mentor["id"],
        "rubrics": PROFILE["rubrics"],
        "accepting_cases": True,
        "accredited": False,
        "capacity": 3,
        "away_periods": [],
    }

    # every further update appends exactly one more event
    rpc.identity.update_mentor_profile(_actor(mentor), dict(PROFILE, accepting_cases=False))
    assert count_profiles() == 1
    assert count_events() == 2


def test_only_a_mentor_keeps_a_profile_and_a_refusal_writes_nothing(rpc, identity_db):
    mentee = _register(rpc)
    profile_events = "SELECT count(*) FROM outbox WHERE envelope->>'type' = 'MentorProfileUpdated'"
    events_before = _scalar(identity_db, profile_events)
    with pytest.raises(Forbidden):
        rpc.identity.update_mentor_profile(_actor(mentee), PROFILE)
    # a forged role does not help: the stored account is a mentee's
    with pytest.raises(Forbidden):
        rpc.identity.update_mentor_profile({"user_id": mentee["id"], "role": "mentor"}, PROFILE)
    mentor = _register(rpc, role="mentor")
    with pytest.raises(InvalidInput) as info:
        rpc.identity.update_mentor_profile(_actor(mentor), dict(PROFILE, rubrics=["astrology"], links=["not a url"]))
    assert set(info.value.fields) == {"rubrics", "links"}
    assert (
        _scalar(
            identity_db, "SELECT count(*) FROM mentor_profiles WHERE mentor_id IN (%s, %s)", mentee["id"], mentor["id"]
        )
        == 0
    )
    assert _scalar(identity_db, profile_events) == events_before


def test_relay_publishes_mentor_profile_updated_to_rabbitmq(identity, test_env, identity_db):
    correlation_id = f"test-{uuid.uuid4().hex}"
    with kombu.Connection(test_env.amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        queue = kombu.Queue(
            f"test.identity-events.{uuid.uuid4().hex[:8]}",
            exchange=events_exchange("identity"),
            routing_key="MentorProfileUpdated",
            exclusive=True,
        )(channel)
        queue.declare()  # declares the exchange too, bound before the update

        with signed_rpc(test_env.amqp_uri, timeout=15, context_data={"correlation_id": correlation_id}) as rpc:
            mentor = _register(rpc, role="mentor")
            rpc.identity.update_mentor_profile(_actor(mentor), PROFILE)

        body, deadline = None, time.monotonic() + 10
        while body is None:
            message = queue.get(no_ack=True)
            if message is not None and message.decode()["aggregate_id"] == mentor["id"]:
                body = message.decode()
            elif message is None:
                assert time.monotonic() < deadline, "MentorProfileUpdated was not published"
                eventlet.sleep(0.05)

    assert set(body) == {
        "event_id",
        "type",
        "schema_version",
        "source",
        "aggregate_id",
        "position",
        "occurred_at",
        "correlation_id",
        "payload",
    }
    assert (body["type"], body["schema_version"], body["source"]) == ("MentorProfileUpdated", 2, "identity")
    assert body["correlation_id"] == correlation_id
    assert body["payload"] == {
        "mentor_id": mentor["id"],
        "rubrics": PROFILE["rubrics"],
        "accepting_cases": True,
        "accredited": False,
        "capacity": 3,
        "away_periods": [],
    }
    position, event_id = _scalar(
        identity_db,
        "SELECT ARRAY[position::text, event_id::text] FROM outbox "
        "WHERE envelope->>'aggregate_id' = %s "
        "AND envelope->>'type' = 'MentorProfileUpdated'",
        mentor["id"],
    )
    assert (body["position"], body["event_id"]) == (int(position), event_id)
    envelope = read_envelope(body)  # what every consumer does: the envelope and payload contracts hold
    assert str(envelope.event_id) == event_id


def _accredit(rpc, moderator, mentor):
    applied = rpc.identity.apply_for_accreditation(
        _actor(mentor), {"experience": "Ten years of teaching.", "motivation": "To help novices."}
    )
    rpc.identity.approve_application(moderator, applied["application"]["id"])


def test_public_profiles_never_show_the_email(rpc, identity, test_env):
    mentor = _register(rpc, role="mentor", first_name="Irina", last_name="Sokolova", patronymic="Petrovna")
    other = _register(rpc, role="mentor")
    without_profile = _register(rpc, role="mentor")
    unaccredited = _register(rpc, role="mentor")
    rpc.identity.update_mentor_profile(_actor(mentor), PROFILE)
    rpc.identity.update_mentor_profile(_actor(other), dict(PROFILE, rubrics=["families-at-risk"]))
    rpc.identity.update_mentor_profile(_actor(unaccredited), PROFILE)
    store = PostgresStore(test_env.database_url("identity"), 1)
    try:
        moderator = create_moderator(
            store, {"email": _email("moderator"), "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"}
        )
    finally:
        store.close()
    for accredited in (mentor, other):
        _accredit(rpc, {"user_id": moderator["id"], "role": "moderator"}, accredited)

    profile = rpc.identity.get_mentor_profile(mentor["id"])
    assert "email" not in profile and mentor["email"] not in json.dumps(profile)
    assert (profile["mentor_id"], profile["first_name"], profile["last_name"], profile["patronymic"]) == (
        mentor["id"],
        "Irina",
        "Sokolova",
        "Petrovna",
    )
    assert {k: profile[k] for k in PROFILE} == PROFILE
    assert profile["accredited"] is True and profile["photo_url"] is None
    assert rpc.identity.get_mentor_profile(unaccredited["id"])["accredited"] is False  # readable by id

    listed = rpc.identity.list_mentor_profiles()
    ids = [p["mentor_id"] for p in listed]
    assert mentor["id"] in ids and other["id"] in ids and without_profile["id"] not in ids
    assert unaccredited["id"] not in ids  # the public list is the roll of mentors
    assert all(p["accredited"] for p in listed)
    assert all("email" not in p for p in listed)
    assert mentor["email"] not in json.dumps(listed)
    by_rubric = [p["mentor_id"] for p in rpc.identity.list_mentor_profiles(rubric="monitoring-evaluation")]
    assert mentor["id"] in by_rubric and other["id"] not in by_rubric
    with pytest.raises(InvalidInput) as info:
        rpc.identity.list_mentor_profiles(rubric="astrology")
    assert list(info.value.fields) == ["rubric"]

    shown = rpc.identity.get_public_profiles(
        [other["id"], str(uuid.uuid4()), "junk", mentor["id"], without_profile["id"]]
    )
    assert [p["mentor_id"] for p in shown] == [other["id"], mentor["id"]]
    assert mentor["email"] not in json.dumps(shown) and other["email"] not in json.dumps(shown)

    for missing in (without_profile["id"], str(uuid.uuid4()), "junk"):
        with pytest.raises(NotFound):
            rpc.identity.get_mentor_profile(missing)


# ---- the mentee's questionnaire and the author card ------------------------------------

QUESTIONNAIRE = {
    "school": "School No. 1234, Moscow",
    "subjects": ["Mathematics", "Informatics"],
    "forms_taught": [7, 5, 9],
    "years_of_practice": 2,
    "graduation_year": 2023,
    "graduation_institute": "Moscow City University",
    "workload_hours_per_week": 24,
    "rubrics": ["education-law", "self-management"],
}
INTERESTS_EVENTS = (
    "SELECT envelope FROM outbox WHERE envelope->>'aggregate_id' = %s "
    "AND envelope->>'type' = 'MenteeInterestsUpdated' ORDER BY position"
)


def _interests_events(conn, mentee_id):
    """The MenteeInterestsUpdated envelopes identity's outbox holds for one mentee, oldest first."""
    with conn.cursor() as cur:
        cur.execute(INTERESTS_EVENTS, (mentee_id,))
        return [row[0] for row in cur.fetchall()]


def test_a_mentee_writes_and_rewrites_the_questionnaire(rpc, identity_db):
    mentee = _register(rpc)
    with pytest.raises(NotFound):
        rpc.identity.get_questionnaire(_actor(mentee))

    view = rpc.identity.update_questionnaire(
        _actor(mentee),
        dict(QUESTIONNAIRE, school="  School No. 1234, Moscow ", rubrics=["self-management", "education-law"]),
    )
    assert {k: view[k] for k in QUESTIONNAIRE} == dict(QUESTIONNAIRE, forms_taught=[5, 7, 9])  # rubricator's order
    assert view["updated_at"] and set(view) == set(QUESTIONNAIRE) | {"updated_at"}
    assert rpc.identity.get_questionnaire(_actor(mentee)) == view

    # an upsert: the second write replaces the first, optional fields fall back to their defaults
    again = rpc.identity.update_questionnaire(
        _actor(mentee), {"school": "Lyceum 7", "subjects": ["Physics"], "years_of_practice": 3}
    )
    assert {k: again[k] for k in QUESTIONNAIRE} == {
        "school": "Lyceum 7",
        "subjects": ["Physics"],
        "forms_taught": [],
        "years_of_practice": 3,
        "graduation_year": None,
        "graduation_institute": "",
        "workload_hours_per_week": None,
        "rubrics": [],
    }
    assert again["updated_at"] >= view["updated_at"]
    assert rpc.identity.get_questionnaire(_actor(mentee)) == again
    assert _scalar(identity_db, "SELECT count(*) FROM questionnaires WHERE user_id = %s", mentee["id"]) == 1

    # each save told the library the rubrics of interest, and nothing else of the questionnaire
    first, second = _interests_events(identity_db, mentee["id"])
    assert (first["source"], first["schema_version"]) == ("identity", 1)
    assert first["payload"] == {"mentee_id": mentee["id"], "rubrics": ["education-law", "self-management"]}
    assert second["payload"] == {"mentee_id": mentee["id"], "rubrics": []}


def test_an_invalid_questionnaire_names_each_field_and_stores_nothing(rpc, identity_db):
    mentee = _register(rpc)
    with pytest.raises(InvalidInput) as info:
        rpc.identity.update_questionnaire(
            _actor(mentee),
            {
                "school": "s" * 201,
                "subjects": ["x" * 61],
                "forms_taught": [0, 5, 5],
                "years_of_practice": "2",
                "graduation_year": 1900,
                "workload_hours_per_week": 81,
                "rubrics": ["self-management", "no-such-rubric"],
            },
        )
    assert info.value.status == 400
    assert set(info.value.fields) == {
        "school",
        "subjects",
        "forms_taught",
        "years_of_practice",
        "graduation_year",
        "workload_hours_per_week",
        "rubrics",
    }
    with pytest.raises(InvalidInput) as info:
        rpc.identity.update_questionnaire(_actor(mentee), dict(QUESTIONNAIRE, rubrics=["no-such-rubric"]))
    assert list(info.value.fields) == ["rubrics"] and "Must be one of" in str(info.value.fields["rubrics"])
    with pytest.raises(InvalidInput) as info:
        rpc.identity.update_questionnaire(_actor(mentee), {"graduation_institute": "MCU"})
    assert set(info.value.fields) == {"school", "subjects", "years_of_practice"}
    with pytest.raises(InvalidInput) as info:
        rpc.identity.update_questionnaire(_actor(mentee), dict(QUESTIONNAIRE, years_of_practice=61))
    assert set(info.value.fields) == {"years_of_practice"}
    assert _scalar(identity_db, "SELECT count(*) FROM questionnaires WHERE user_id = %s", mentee["id"]) == 0
    assert _interests_events(identity_db, mentee["id"]) == []  # nor an event
    with pytest.raises(NotFound):
        rpc.identity.get_questionnaire(_actor(mentee))


def test_a_mentor_cannot_write_a_questionnaire(rpc, identity_db):
    mentor = _register(rpc, role="mentor")
    with pytest.raises(Forbidden) as info:
        rpc.identity.update_questionnaire(_actor(mentor), QUESTIONNAIRE)
    assert info.value.status == 403
    # a forged role does not help: the stored account is a mentor's
    with pytest.raises(Forbidden):
        rpc.identity.update_questionnaire({"user_id": mentor["id"], "role": "mentee"}, QUESTIONNAIRE)
    assert _scalar(identity_db, "SELECT count(*) FROM questionnaires WHERE user_id = %s", mentor["id"]) == 0
    with pytest.raises(NotFound):
        rpc.identity.get_questionnaire(_actor(mentor))


# The author card and its access log: tests/integration/test_audited_access.py (with the cases service).


def test_health_reports_the_database(rpc, identity):
    assert rpc.identity.health() == {"service": "identity", "status": "ok", "database": "ok"}
