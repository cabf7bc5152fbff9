"""Erasure by crypto-shredding in identity, on the real RabbitMQ and PostgreSQL (issue 19, part 3):
identity's tables hold a person's fields sealed with their key, never in plaintext (a ``pg_dump`` of the
whole database is the scanner, bytes included); erasing them (themselves with their password, or a
moderator with a written reason) deletes the key, closes the account and publishes PersonErased, the id
alone; everyone else's data reads as before; rows written before sealing keep working and get sealed."""

import base64
import subprocess
import uuid

import pytest
from psycopg2.extras import RealDictCursor

from contracts.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from services.common.db import PostgresStore
from services.common.shredding import ERASED
from services.identity.admin import create_moderator
from services.identity.passwords import PasswordHashing
from services.identity.service import IdentityService
from tests.accounts import email_index, register_over_rpc
from tests.support import eventually

PASSWORD = "correct-horse-battery"


def marker(prefix):
    """A word found nowhere else: what the scans look for."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def identity(start_module_service):
    # the data pass every half second: a row written in plaintext is sealed within the test
    return start_module_service(IdentityService, LEGACY_SEAL_INTERVAL=0.5)


@pytest.fixture
def identity_db(identity, db):
    return db("identity")


@pytest.fixture(scope="module")
def moderator(identity, test_env):
    store = PostgresStore(test_env.database_url("identity"), 1)
    try:
        user = create_moderator(
            store,
            {
                "email": f"mod.{uuid.uuid4().hex[:10]}@example.org",
                "password": PASSWORD,
                "first_name": "Maria",
                "last_name": "Moderova",
            },
        )
    finally:
        store.close()
    return {"user_id": user["id"], "role": "moderator"}


def _actor(user):
    return {"user_id": user["id"], "role": user["role"]}


def _person(rpc, role):
    """A verified account whose every personal field holds a marker; its user view, token and markers."""
    words = {name: marker(name) for name in ("First", "Last", "Patronymic", "mail")}
    email = f"{words['mail'].lower()}@example.org"
    user = register_over_rpc(
        rpc,
        {
            "email": email,
            "password": PASSWORD,
            "role": role,
            "first_name": words["First"],
            "last_name": words["Last"],
            "patronymic": words["Patronymic"],
        },
        verify=True,
    )
    token = rpc.identity.sign_in({"email": email, "password": PASSWORD})["access_token"]
    return user, token, words


def _fill_in_a_mentee(rpc, mentee):
    words = {name: marker(name) for name in ("School", "Subject", "Institute")}
    rpc.identity.update_questionnaire(
        _actor(mentee),
        {
            "school": words["School"],
            "subjects": [words["Subject"]],
            "forms_taught": [5, 6],
            "years_of_practice": 2,
            "graduation_year": 2023,
            "graduation_institute": words["Institute"],
            "workload_hours_per_week": 18,
        },
    )
    return words


PHOTO_MARK = b"PhotoMarkBytes" + uuid.uuid4().hex.encode()


def _fill_in_a_mentor(rpc, mentor):
    words = {
        name: marker(name) for name in ("Work", "Institute", "Position", "Interests", "Motto", "Link", "Exp", "Why")
    }
    rpc.identity.update_mentor_profile(
        _actor(mentor),
        {
            "rubrics": ["digital-technologies"],
            "place_of_work": words["Work"],
            "institute": words["Institute"],
            "position": words["Position"],
            "interests": words["Interests"],
            "links": [f"https://example.org/{words['Link']}"],
            "motto": words["Motto"],
            "accepting_cases": True,
        },
    )
    png = b"\x89PNG\r\n\x1a\n" + PHOTO_MARK + bytes(range(256))
    rpc.identity.set_mentor_photo(_actor(mentor), {"content_type": "image/png", "data": base64.b64encode(png).decode()})
    rpc.identity.update_availability(_actor(mentor), {"capacity": 4, "away_periods": []})
    rpc.identity.apply_for_accreditation(
        _actor(mentor), {"experience": f"Years of {words['Exp']}", "motivation": f"Because {words['Why']}"}
    )
    return words


def _dump(test_env):
    """The whole identity database as pg_dump writes it (text: every table, every row, bytea as hex)."""
    return subprocess.run(
        ["pg_dump", "--data-only", test_env.database_url("identity")], check=True, capture_output=True, timeout=120
    ).stdout.decode()


def _plaintexts(words, email):
    return [*words.values(), email, PHOTO_MARK.hex(), PHOTO_MARK.decode()]


def _found(dump, plaintexts):
    return [text for text in plaintexts if text in dump or text.lower() in dump.lower()]


def _rows(conn, query, *args):
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(query, args)
        return cur.fetchall()


def _outbox(conn, event_type, aggregate_id):
    return [
        row["envelope"]
        for row in _rows(
            conn,
            "SELECT envelope FROM outbox WHERE envelope->>'type' = %s AND envelope->>'aggregate_id' = %s "
            "ORDER BY position",
            event_type,
            aggregate_id,
        )
    ]


def test_identity_keeps_every_personal_field_sealed_and_erasure_leaves_no_plaintext(
    rpc, identity_db, test_env, moderator
):
    mentee, mentee_token, mentee_words = _person(rpc, "mentee")
    mentee_words.update(_fill_in_a_mentee(rpc, mentee))
    mentor, _, mentor_words = _person(rpc, "mentor")
    mentor_words.update(_fill_in_a_mentor(rpc, mentor))
    bystander, bystander_token, bystander_words = _person(rpc, "mentee")
    bystander_words.update(_fill_in_a_mentee(rpc, bystander))
    # an account e-mail waiting to go (it names the person, at their address): someone registers again
    rpc.identity.register(
        {
            "email": mentee["email"],
            "password": "a-test-password-again",
            "role": "mentee",
            "first_name": "X",
            "last_name": "Y",
        }
    )
    everyone = _plaintexts(mentee_words, mentee["email"]) + _plaintexts(mentor_words, mentor["email"])

    # sealed at rest: no plaintext of any of them in the database, yet every read opens it
    assert _found(_dump(test_env), everyone + _plaintexts(bystander_words, bystander["email"])) == []
    assert rpc.identity.get_user(_actor(mentee), mentee["id"])["first_name"] == mentee_words["First"]
    assert rpc.identity.get_questionnaire(_actor(mentee))["school"] == mentee_words["School"]
    assert rpc.identity.get_mentor_profile(mentor["id"])["motto"] == mentor_words["Motto"]
    assert PHOTO_MARK in base64.b64decode(rpc.identity.get_mentor_photo(mentor["id"])["data"])
    mine = rpc.identity.records_of(_actor(mentee))
    assert mine["users"][0]["email"] == mentee["email"] and "email_index" not in mine["users"][0]
    assert mine["questionnaires"][0]["subjects"] == [mentee_words["Subject"]]

    # a wrong password erases nothing
    with pytest.raises(InvalidInput) as refused:
        rpc.identity.erase_own_account(_actor(mentee), mentee_token, {"password": "not-the-password"})
    assert set(refused.value.fields) == {"password"}
    assert rpc.identity.get_user(_actor(mentee), mentee["id"])["last_name"] == mentee_words["Last"]

    # the mentee erases themselves; a moderator erases the mentor on their written request
    erased = rpc.identity.erase_own_account(_actor(mentee), mentee_token, {"password": PASSWORD})
    assert erased == {"person_id": mentee["id"], "erased": True, "revoked_sessions": 1}
    with pytest.raises(InvalidInput) as short:
        rpc.identity.erase_person(moderator, mentor["id"], {"reason": "asked"})
    assert set(short.value.fields) == {"reason"}
    with pytest.raises(Forbidden):
        rpc.identity.erase_person(_actor(bystander), mentor["id"], {"reason": "Written request no. 2026-17"})
    reason = "Written request no. 2026-17 of 2026-12-01"
    assert rpc.identity.erase_person(moderator, mentor["id"], {"reason": reason})["erased"] is True
    again = rpc.identity.erase_person(moderator, mentor["id"], {"reason": reason})
    assert again == {"person_id": mentor["id"], "erased": True, "revoked_sessions": 0}  # the same, nothing new
    with pytest.raises(Forbidden):
        rpc.identity.erase_person(moderator, moderator["user_id"], {"reason": reason})
    with pytest.raises(NotFound):
        rpc.identity.erase_person(moderator, str(uuid.uuid4()), {"reason": reason})

    # none of their plaintext anywhere in the database; their keys are gone, the ids stay
    dump = _dump(test_env)
    assert _found(dump, everyone) == []
    assert reason in dump and mentee["id"] in dump  # the scanner reads the tables: what is not personal is there
    keys = _rows(
        identity_db,
        "SELECT person_id::text, wrapped_key, erased_at FROM person_keys WHERE person_id = ANY(%s::uuid[])",
        [mentee["id"], mentor["id"]],
    )
    assert len(keys) == 2 and all(k["wrapped_key"] is None and k["erased_at"] for k in keys)
    accounts = _rows(
        identity_db,
        "SELECT id::text, email_index, password_hash, erased_at FROM users WHERE id = ANY(%s::uuid[])",
        [mentee["id"], mentor["id"]],
    )
    assert len(accounts) == 2 and all(
        a["erased_at"] and a["email_index"] is None and a["password_hash"] == "" for a in accounts
    )
    for table, column in (
        ("questionnaires", "user_id"),
        ("mentor_profiles", "mentor_id"),
        ("mentor_photos", "mentor_id"),
        ("account_email_outbox", "user_id"),
        ("account_tokens", "user_id"),
    ):
        assert (
            _rows(identity_db, f"SELECT 1 FROM {table} WHERE {column} = ANY(%s::uuid[])", [mentee["id"], mentor["id"]])
            == []
        ), table
    [record] = _rows(
        identity_db,
        "SELECT requested_by, moderator_id::text, reason FROM person_erasures WHERE person_id = %s",
        mentor["id"],
    )
    assert record == {"requested_by": "moderator", "moderator_id": moderator["user_id"], "reason": reason}

    # what is left reads "[erased]"; no sign-in, no session; the address is free again
    view = rpc.identity.get_user(moderator, mentee["id"])
    assert (view["first_name"], view["last_name"], view["email"]) == (ERASED, ERASED, ERASED)
    with pytest.raises(Unauthorized):
        rpc.identity.sign_in({"email": mentee["email"], "password": PASSWORD})
    with pytest.raises(Unauthorized):
        rpc.identity.authenticate(mentee_token)
    with pytest.raises(NotFound):
        rpc.identity.get_mentor_profile(mentor["id"])
    assert mentor["id"] not in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]

    # the events: the sessions ended, the mentor takes no case, PersonErased with the id alone
    [revoked] = _outbox(identity_db, "SessionsRevoked", mentee["id"])[-1:]
    assert revoked["payload"]["reason"] == "account_erased"
    assert _outbox(identity_db, "MentorProfileUpdated", mentor["id"])[-1]["payload"]["accepting_cases"] is False
    for person in (mentee, mentor):
        [event] = _outbox(identity_db, "PersonErased", person["id"])  # once, however often asked
        assert event["payload"] == {"person_id": person["id"]}

    # everyone else reads as before
    theirs = rpc.identity.records_of(_actor(bystander))
    assert theirs["users"][0]["first_name"] == bystander_words["First"]
    assert theirs["questionnaires"][0]["school"] == bystander_words["School"]
    assert rpc.identity.sign_in({"email": bystander["email"], "password": PASSWORD})["user"]["id"] == bystander["id"]
    assert rpc.identity.authenticate(bystander_token)["user_id"] == bystander["id"]


def test_rows_written_before_sealing_keep_working_and_get_sealed(rpc, identity_db, identity):
    """An account and questionnaire stored in plaintext (as before this change) sign in and read as they
    are; the data pass seals them; a registration of the same address still finds the account taken."""
    user_id, email, first, school = (
        str(uuid.uuid4()),
        f"{marker('legacy')}@example.org",
        marker("Old"),
        marker("OldSchool"),
    )
    with identity_db.cursor() as cur:
        cur.execute(
            "INSERT INTO users (id, email, password_hash, role, first_name, last_name, patronymic, email_verified_at) "
            "VALUES (%s, %s, %s, 'mentee', %s, 'Plain', '', now())",
            (user_id, email, PasswordHashing().hash(PASSWORD), first),
        )
        cur.execute(
            "INSERT INTO questionnaires (user_id, school, subjects, years_of_practice) VALUES (%s, %s, %s, 1)",
            (user_id, school, ["Plain subject"]),
        )
    signed = rpc.identity.sign_in({"email": email, "password": PASSWORD})
    assert signed["user"]["id"] == user_id and signed["user"]["first_name"] == first

    def sealed():
        [row] = _rows(identity_db, "SELECT email, email_index, first_name FROM users WHERE id = %s", user_id)
        [q] = _rows(identity_db, "SELECT school, subjects FROM questionnaires WHERE user_id = %s", user_id)
        return row["email_index"] == email_index(email) and all(
            value.startswith("shred:v1:") for value in (row["email"], row["first_name"], q["school"], *q["subjects"])
        )

    eventually(sealed, timeout=30, message="the data pass sealed the legacy rows")
    assert rpc.identity.sign_in({"email": email, "password": PASSWORD})["user"]["first_name"] == first
    assert rpc.identity.get_questionnaire({"user_id": user_id, "role": "mentee"})["school"] == school
    rpc.identity.register(
        {"email": email, "password": "a-test-password-again", "role": "mentee", "first_name": "A", "last_name": "B"}
    )
    assert _rows(identity_db, "SELECT count(*) AS n FROM users WHERE email_index = %s", email_index(email)) == [
        {"n": 1}
    ]


def test_a_legacy_account_erased_before_the_data_pass_keeps_no_plaintext(
    rpc, identity_db, identity, moderator, test_env
):
    """Erasure overwrites what is still plaintext (the key alone could not shred it)."""
    user_id, email, first = str(uuid.uuid4()), f"{marker('legacyerase')}@example.org", marker("Gone")
    with identity_db.cursor() as cur:
        cur.execute(
            "INSERT INTO users (id, email, password_hash, role, first_name, last_name, patronymic, email_verified_at) "
            "VALUES (%s, %s, 'x', 'mentee', %s, 'Plain', '', now())",
            (user_id, email, first),
        )
    assert rpc.identity.erase_person(moderator, user_id, {"reason": "Written request no. 2026-18"})["erased"]
    assert _found(_dump(test_env), [email, first]) == []
    assert [e["payload"] for e in _outbox(identity_db, "PersonErased", user_id)] == [{"person_id": user_id}]
