"""Audited confidential access on the real identity and cases services (real RabbitMQ, PostgreSQL).

identity.author_card trusts no caller: the reader is the user of a live token, with their stored
role; identity asks cases.author_for itself; a moderator must give a reason; every read by a
mentor or a moderator is an access_audit row the author lists (access_log).
"""

import json
import uuid

import psycopg2
import pytest

from contracts.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from services.cases.service import CasesService
from services.common.db import PostgresStore
from services.identity.admin import create_moderator
from services.identity.service import IdentityService
from tests.accounts import register_over_rpc
from tests.integration.event_helpers import envelope, open_broker
from tests.support import case_form, eventually

PASSWORD = "correct-horse-battery"
REASON = {"reason": "A parent complained about this case to the school."}
QUESTIONNAIRE = {"school": "School No. 1541", "subjects": ["History"], "forms_taught": [7], "years_of_practice": 1}


@pytest.fixture(scope="module")
def broker(start_module_service, test_env):
    start_module_service(IdentityService, DB_POOL_SIZE=4)
    start_module_service(CasesService, DB_POOL_SIZE=4)
    conn, broker = open_broker(test_env.amqp_uri)
    yield broker
    conn.release()


@pytest.fixture
def identity_db(broker, db):
    return db("identity")


def _person(rpc, role, last_name="Smirnova"):
    """A registered account, signed in: (actor, token)."""
    email = f"{role}.{uuid.uuid4().hex[:10]}@school.example.org"
    user = register_over_rpc(
        rpc, {"email": email, "password": PASSWORD, "role": role, "first_name": "Anna", "last_name": last_name}
    )
    return _signed_in(rpc, user, email)


def _signed_in(rpc, user, email):
    token = rpc.identity.sign_in({"email": email, "password": PASSWORD})["access_token"]
    return {"user_id": user["id"], "role": user["role"]}, token


def _moderator(rpc, test_env):
    email = f"moderator.{uuid.uuid4().hex[:10]}@school.example.org"
    store = PostgresStore(test_env.database_url("identity"), 1)
    try:
        user = create_moderator(
            store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"}
        )
    finally:
        store.close()
    return _signed_in(rpc, user, email)


def _accepted_case(rpc, broker, mentee, mentor, mode):
    """A case filed by ``mentee``, proposed to, chosen and accepted by ``mentor`` (as matching would)."""
    case = rpc.cases.create_case(mentee, case_form(mode=mode))
    broker.publish(
        envelope(
            "MentorsMatched",
            case["id"],
            {
                "case_id": case["id"],
                "round": 1,
                "proposals": [
                    {"mentor_id": mentor["user_id"], "matched_rubrics": case["form"]["rubrics"][:1], "score": 1.0}
                ],
            },
            source="matching",
        )
    )
    eventually(lambda: rpc.cases.get_case(mentee, case["id"])["state"] == "choosing_mentor", message="proposals")
    rpc.cases.choose_mentor(mentee, case["id"], {"mentor_id": mentor["user_id"]})
    rpc.cases.accept_case(mentor, case["id"])
    return case["id"]


def _audit_rows(conn, author_id):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM access_audit WHERE author_id = %s", (author_id,))
        return cur.fetchone()[0]


def test_a_moderator_opens_an_anonymous_author_only_with_a_reason_and_the_author_sees_it(
    rpc, broker, identity_db, test_env
):
    (mentee, _), (mentor, t_mentor) = _person(rpc, "mentee"), _person(rpc, "mentor", "Orlov")
    moderator, t_moderator = _moderator(rpc, test_env)
    rpc.identity.update_questionnaire(mentee, QUESTIONNAIRE)
    case_id = _accepted_case(rpc, broker, mentee, mentor, "anonymous")

    with pytest.raises(Forbidden):  # the mentor of an anonymous case: never, reason or not
        rpc.identity.author_card(mentor, t_mentor, case_id, REASON)
    for form in ({}, {"reason": "   "}, {"reason": "curious"}):  # none, blank, too short
        with pytest.raises(InvalidInput) as refused:
            rpc.identity.author_card(moderator, t_moderator, case_id, form)
        assert list(refused.value.fields) == ["reason"]
    assert _audit_rows(identity_db, mentee["user_id"]) == 0

    card = rpc.identity.author_card(moderator, t_moderator, case_id, REASON)
    assert (card["user_id"], card["last_name"], card["questionnaire"]["school"]) == (
        mentee["user_id"],
        "Smirnova",
        "School No. 1541",
    )
    assert _audit_rows(identity_db, mentee["user_id"]) == 1

    page = rpc.identity.access_log(mentee, {})
    assert page["next_before"] is None
    [entry] = page["items"]
    assert {k: entry[k] for k in ("reader_role", "reader", "mentor_id", "disclosed", "case_id", "reason")} == {
        "reader_role": "moderator",
        "reader": "a moderator",
        "mentor_id": None,
        "disclosed": ["identity", "questionnaire"],
        "case_id": case_id,
        "reason": REASON["reason"],
    }
    assert entry["read_at"]
    assert moderator["user_id"] not in json.dumps(page) and "Moderova" not in json.dumps(page)
    assert rpc.identity.questionnaire_reads(mentee) == [  # the old listing: the same log, no moderator id
        {"reader_id": None, "case_id": case_id, "read_at": entry["read_at"]}
    ]
    assert rpc.identity.access_log(moderator, {})["items"] == []  # one's own log only


def test_the_personal_mode_mentor_reads_without_a_reason_and_strangers_are_refused(rpc, broker, identity_db):
    (mentee, t_mentee), (mentor, t_mentor) = _person(rpc, "mentee"), _person(rpc, "mentor", "Orlov")
    (stranger, t_stranger), (other_mentee, t_other_mentee) = _person(rpc, "mentor", "Volkova"), _person(rpc, "mentee")
    case_id = _accepted_case(rpc, broker, mentee, mentor, "personal")

    card = rpc.identity.author_card(mentor, t_mentor, case_id)  # no form at all: no reason needed
    assert card["last_name"] == "Smirnova" and card["questionnaire"] is None and "email" not in card
    for reader, token in ((stranger, t_stranger), (other_mentee, t_other_mentee)):
        with pytest.raises(Forbidden):
            rpc.identity.author_card(reader, token, case_id, REASON)
    rpc.identity.author_card(mentee, t_mentee, case_id)  # the author's own look: no disclosure
    assert _audit_rows(identity_db, mentee["user_id"]) == 1

    [entry] = rpc.identity.access_log(mentee, {})["items"]
    assert (
        entry["reader_role"],
        entry["reader"],
        entry["mentor_id"],
        entry["disclosed"],
        entry["case_id"],
        entry["reason"],
    ) == ("mentor", "your mentor", mentor["user_id"], ["identity"], case_id, "")
    assert [r["reader_id"] for r in rpc.identity.questionnaire_reads(mentee)] == [mentor["user_id"]]


def test_a_forged_actor_or_a_borrowed_token_is_refused_and_records_nothing(rpc, broker, identity_db, test_env):
    (mentee, _), (mentor, t_mentor) = _person(rpc, "mentee"), _person(rpc, "mentor", "Orlov")
    stranger, t_stranger = _person(rpc, "mentor", "Volkova")
    case_id = _accepted_case(rpc, broker, mentee, mentor, "anonymous")

    # a mentor claiming to be a moderator: identity takes the role from the account, cases refuses
    with pytest.raises(Forbidden):
        rpc.identity.author_card(dict(stranger, role="moderator"), t_stranger, case_id, REASON)
    # somebody else's id with one's own token, or the actor of a moderator who never signed in
    with pytest.raises(Forbidden):
        rpc.identity.author_card({"user_id": mentor["user_id"], "role": "moderator"}, t_stranger, case_id, REASON)
    with pytest.raises(Unauthorized):
        rpc.identity.author_card({"user_id": str(uuid.uuid4()), "role": "moderator"}, "forged", case_id, REASON)
    # a signed-out session no longer reads
    rpc.identity.sign_out(t_mentor)
    with pytest.raises(Unauthorized):
        rpc.identity.author_card(mentor, t_mentor, case_id)
    assert _audit_rows(identity_db, mentee["user_id"]) == 0

    moderator, t_moderator = _moderator(rpc, test_env)
    with pytest.raises(NotFound):
        rpc.identity.author_card(moderator, t_moderator, str(uuid.uuid4()), REASON)
    with pytest.raises(InvalidInput) as refused:
        rpc.identity.author_card(moderator, t_moderator, "x" * 65, REASON)
    assert list(refused.value.fields) == ["case_id"]


def test_the_log_pages_newest_first_and_is_append_only(rpc, broker, identity_db, test_env):
    (mentee, _), (mentor, _) = _person(rpc, "mentee"), _person(rpc, "mentor", "Orlov")
    moderator, t_moderator = _moderator(rpc, test_env)
    case_id = _accepted_case(rpc, broker, mentee, mentor, "personal")
    for i in range(3):
        rpc.identity.author_card(moderator, t_moderator, case_id, {"reason": f"Review number {i} of this case."})

    first = rpc.identity.access_log(mentee, {"limit": 2})
    assert [e["reason"] for e in first["items"]] == ["Review number 2 of this case.", "Review number 1 of this case."]
    second = rpc.identity.access_log(mentee, {"limit": 2, "before": first["next_before"]})
    assert [e["reason"] for e in second["items"]] == ["Review number 0 of this case."]
    assert second["next_before"] is None
    with pytest.raises(InvalidInput):
        rpc.identity.access_log(mentee, {"before": "not-an-id"})

    for statement in (
        "UPDATE access_audit SET reason = 'nothing to see' WHERE author_id = %s",
        "DELETE FROM access_audit WHERE author_id = %s",
    ):
        with pytest.raises(psycopg2.errors.RaiseException), identity_db.cursor() as cur:
            cur.execute(statement, (mentee["user_id"],))
    assert _audit_rows(identity_db, mentee["user_id"]) == 3
    # the log goes only with the author's account (the cascade)
    with identity_db.cursor() as cur:
        cur.execute("DELETE FROM users WHERE id = %s", (mentee["user_id"],))
    assert _audit_rows(identity_db, mentee["user_id"]) == 0
