"""Identity's people features through real RPC on the real RabbitMQ and PostgreSQL: sessions and
revocable tokens, sign-in throttling, password change, the mentor's photo, availability and the
roll of mentors (accreditation) with the events they put in the outbox."""

import base64
import time
import uuid

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from nameko.containers import ServiceContainer

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from services.common.db import PostgresStore
from services.common.tokens import SALT, TokenSigner
from services.identity.admin import create_moderator
from services.identity.service import IdentityService
from tests.accounts import register_over_rpc

PASSWORD = "correct-horse-battery"
PROFILE = {
    "rubrics": ["digital-technologies", "monitoring-evaluation"],
    "place_of_work": "MSPU",
    "institute": "Institute of System Projects",
    "position": "Junior Researcher",
    "interests": "Measurements in education",
    "links": ["https://example.org/works"],
    "motto": "We cannot control what we cannot measure.",
    "accepting_cases": True,
}
APPLICATION = {
    "experience": "Twelve years of teaching mathematics; I supervise student teachers.",
    "motivation": "I want to help novice teachers through their first years.",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"\x10JFIF" + bytes(200)


@pytest.fixture(scope="module")
def identity(test_env):
    container = ServiceContainer(IdentityService, test_env.config("identity"))
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="module")
def moderator(identity, test_env):
    """A moderator made as the operator does (services.identity.admin), then signed in."""
    store = PostgresStore(test_env.database_url("identity"), 1)
    email = f"moderator.{uuid.uuid4().hex[:10]}@example.org"
    try:
        user = create_moderator(
            store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"}
        )
    finally:
        store.close()
    return {"user_id": user["id"], "role": "moderator"}


@pytest.fixture
def identity_db(identity, db):
    return db("identity")


def _address():
    """A fresh client address per test (TEST-NET-2): failures of other tests never add up with ours."""
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _email(prefix="user"):
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.org"


def _register(rpc, role="mentee", email=None):
    """A new account's user view; a mentor's verified through the SMTP catcher (to apply for the roll)."""
    return register_over_rpc(
        rpc,
        {
            "email": email or _email(role),
            "password": PASSWORD,
            "role": role,
            "first_name": "Anna",
            "last_name": "Petrova",
            "patronymic": "",
        },
        verify=role == "mentor",
    )


def _sign_in(rpc, email, password=PASSWORD, client=None):
    return rpc.identity.sign_in({"email": email, "password": password}, client)


def _actor(user):
    return {"user_id": user["id"], "role": user["role"]}


def _scalar(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def _events(conn, mentor_id, event_type=None):
    """The outbox envelopes about one mentor, oldest first."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT envelope FROM outbox WHERE envelope->>'aggregate_id' = %s "
            "AND (%s::text IS NULL OR envelope->>'type' = %s) ORDER BY position",
            (mentor_id, event_type, event_type),
        )
        return [row[0] for row in cur.fetchall()]


def _mentor_with_profile(rpc):
    mentor = _register(rpc, role="mentor")
    rpc.identity.update_mentor_profile(_actor(mentor), PROFILE)
    return mentor


# ---- sessions ------------------------------------------------------------------------------


def test_a_token_names_a_live_session_until_sign_out(rpc, identity_db, test_env):
    user = _register(rpc)
    token = _sign_in(rpc, user["email"])["access_token"]
    claims = TokenSigner(test_env.config("identity")["TOKEN_SECRET"], 3600).claims(token)
    assert _scalar(identity_db, "SELECT user_id::text FROM sessions WHERE id = %s", claims["session_id"]) == user["id"]
    assert rpc.identity.authenticate(token) == {"user_id": user["id"], "role": "mentee", "email_verified": False}

    other = _sign_in(rpc, user["email"])["access_token"]  # a second device: its own session
    assert rpc.identity.sign_out(token) == {"status": "signed_out"}
    with pytest.raises(Unauthorized, match="session has ended"):
        rpc.identity.authenticate(token)
    assert rpc.identity.authenticate(other) == {"user_id": user["id"], "role": "mentee", "email_verified": False}
    assert rpc.identity.sign_out(token) == {"status": "signed_out"}  # twice is harmless
    assert (
        _scalar(identity_db, "SELECT count(*) FROM sessions WHERE user_id = %s AND revoked_at IS NULL", user["id"]) == 1
    )


def test_expired_tampered_foreign_and_ended_tokens_are_refused(rpc, identity_db, test_env):
    secret = test_env.config("identity")["TOKEN_SECRET"]
    user = _register(rpc)
    token = _sign_in(rpc, user["email"])["access_token"]
    claims = TokenSigner(secret, 3600).claims(token)

    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 7200

    expired = URLSafeTimedSerializer(secret, salt=SALT, signer=PastSigner).dumps(
        {"sub": user["id"], "role": "mentee", "sid": claims["session_id"]}
    )
    foreign = TokenSigner("another-secret-0123456789abcdef", 3600).issue(user["id"], "moderator", claims["session_id"])
    # a genuine signature over a session that never existed, and over another user's session
    unknown_session = TokenSigner(secret, 3600).issue(user["id"], "mentee", str(uuid.uuid4()))
    stranger = _register(rpc)
    borrowed = TokenSigner(secret, 3600).issue(stranger["id"], "mentee", claims["session_id"])
    for bad, message in (
        (expired, "expired"),
        (foreign, "not valid"),
        (token[:-3] + "abc", "not valid"),
        (unknown_session, "session has ended"),
        (borrowed, "session has ended"),
        ("", "not valid"),
        (None, "not valid"),
    ):
        with pytest.raises(Unauthorized, match=message):
            rpc.identity.authenticate(bad)

    # the database's clock decides when a session ends, whatever the token says
    with identity_db.cursor() as cur:
        cur.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = %s", (claims["session_id"],)
        )
    with pytest.raises(Unauthorized):
        rpc.identity.authenticate(token)


def test_the_actor_carries_the_stored_role_not_the_claimed_one(rpc, test_env):
    user = _register(rpc)
    token = _sign_in(rpc, user["email"])["access_token"]
    session_id = TokenSigner(test_env.config("identity")["TOKEN_SECRET"], 3600).claims(token)["session_id"]
    forged_role = TokenSigner(test_env.config("identity")["TOKEN_SECRET"], 3600).issue(
        user["id"], "moderator", session_id
    )
    assert rpc.identity.authenticate(forged_role) == {"user_id": user["id"], "role": "mentee", "email_verified": False}


# ---- sign-in throttling --------------------------------------------------------------------


def test_the_sixth_wrong_password_is_refused_unchecked_with_retry_after(rpc, identity_db):
    user, client = _register(rpc), _address()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            _sign_in(rpc, user["email"], "wrong-password", client)
    with pytest.raises(TooManyRequests) as caught:
        _sign_in(rpc, user["email"], "wrong-password", client)
    assert caught.value.status == 429 and 850 <= caught.value.details["retry_after"] <= 900
    # the account from this address is limited, not the account (issue 18: others must not lock the
    # owner out): from anywhere else the right password waits the account's short delay at most
    with pytest.raises(TooManyRequests):
        _sign_in(rpc, user["email"].upper(), PASSWORD, client)
    elsewhere = _address()
    try:
        signed = _sign_in(rpc, user["email"], PASSWORD, elsewhere)
    except TooManyRequests as delayed:
        assert delayed.details["retry_after"] <= 5
        time.sleep(delayed.details["retry_after"])
        signed = _sign_in(rpc, user["email"], PASSWORD, elsewhere)
    assert signed["user"]["id"] == user["id"]
    # refusals do not count: the window still holds exactly the five failures
    assert (
        _scalar(
            identity_db,
            "SELECT count(*) FROM sign_in_failures WHERE key LIKE 'address:%%' AND key = %s",
            f"address:{client}",
        )
        == 5
    )


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(rpc):
    known, unknown, client = _register(rpc)["email"], _email("nobody"), _address()
    answers = {}
    for email in (known, unknown):
        refusals = []
        for _ in range(5):
            with pytest.raises(Unauthorized) as caught:
                _sign_in(rpc, email, "wrong-password", client)
            refusals.append((type(caught.value), caught.value.message, caught.value.fields, caught.value.details))
        with pytest.raises(TooManyRequests) as caught:
            _sign_in(rpc, email, "wrong-password", client)
        refusals.append((type(caught.value), caught.value.message, caught.value.fields, sorted(caught.value.details)))
        answers[email] = refusals
    assert answers[known] == answers[unknown]


def test_too_many_failures_from_one_address_stop_every_account_from_there(rpc):
    client = _address()
    for _ in range(4):  # four accounts, five failures each: 20 from the address, none over its own limit
        victim = _register(rpc)
        for _ in range(5):
            with pytest.raises(Unauthorized):
                _sign_in(rpc, victim["email"], "wrong-password", client)
    fresh = _register(rpc)
    with pytest.raises(TooManyRequests):
        _sign_in(rpc, fresh["email"], PASSWORD, client)
    assert _sign_in(rpc, fresh["email"], PASSWORD, _address())["user"]["id"] == fresh["id"]  # elsewhere: fine


def test_a_right_password_clears_the_accounts_failures(rpc, identity_db):
    user = _register(rpc)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            _sign_in(rpc, user["email"], "wrong-password", _address())
    assert _sign_in(rpc, user["email"], PASSWORD, _address())["user"]["id"] == user["id"]
    for _ in range(5):  # a fresh budget of five
        with pytest.raises(Unauthorized):
            _sign_in(rpc, user["email"], "wrong-password", _address())
    with pytest.raises(TooManyRequests):
        _sign_in(rpc, user["email"], "wrong-password", _address())


def test_the_window_is_shared_through_the_database(rpc, identity_db, test_env):
    """A second identity process (another container on the same database) sees the same failures."""
    user, client = _register(rpc), _address()
    second = ServiceContainer(IdentityService, test_env.config("identity"))
    second.start()
    try:
        for _ in range(5):  # the RPC queue hands these to either process
            with pytest.raises(Unauthorized):
                _sign_in(rpc, user["email"], "wrong-password", client)
        for _ in range(2):  # so both processes refuse the next ones
            with pytest.raises(TooManyRequests):
                _sign_in(rpc, user["email"], PASSWORD, client)
    finally:
        second.stop()


# ---- password change -----------------------------------------------------------------------


def test_a_password_change_keeps_this_session_and_ends_every_other(rpc, identity_db):
    user = _register(rpc)
    here = _sign_in(rpc, user["email"])["access_token"]
    elsewhere = [_sign_in(rpc, user["email"])["access_token"] for _ in range(2)]
    changed = rpc.identity.change_password(
        _actor(user), here, {"current_password": PASSWORD, "new_password": "a-brand-new-password"}, _address()
    )
    assert changed == {"revoked_sessions": 2}
    assert rpc.identity.authenticate(here)["user_id"] == user["id"]
    for token in elsewhere:
        with pytest.raises(Unauthorized):
            rpc.identity.authenticate(token)
    with pytest.raises(Unauthorized):
        _sign_in(rpc, user["email"], PASSWORD, _address())
    assert _sign_in(rpc, user["email"], "a-brand-new-password", _address())["user"]["id"] == user["id"]
    assert _scalar(identity_db, "SELECT password_hash FROM users WHERE id = %s", user["id"]).startswith("$argon2id$")


def test_a_wrong_current_password_is_a_field_error_and_is_throttled(rpc, identity_db):
    user = _register(rpc)
    token = _sign_in(rpc, user["email"])["access_token"]
    other = _sign_in(rpc, user["email"])["access_token"]
    stored = _scalar(identity_db, "SELECT password_hash FROM users WHERE id = %s", user["id"])
    form = {"current_password": "not-my-password", "new_password": "a-brand-new-password"}
    for _ in range(5):
        with pytest.raises(InvalidInput) as caught:
            rpc.identity.change_password(_actor(user), token, form, _address())
        assert caught.value.fields == {"current_password": ["The current password is not correct."]}
    with pytest.raises(TooManyRequests):
        rpc.identity.change_password(_actor(user), token, dict(form, current_password=PASSWORD), _address())
    # nothing changed: the password, the other session
    assert _scalar(identity_db, "SELECT password_hash FROM users WHERE id = %s", user["id"]) == stored
    assert rpc.identity.authenticate(other)["user_id"] == user["id"]


def test_a_password_change_is_validated_and_only_ones_own(rpc):
    user, stranger = _register(rpc), _register(rpc)
    token = _sign_in(rpc, user["email"])["access_token"]
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.change_password(_actor(user), token, {"current_password": PASSWORD, "new_password": "short"})
    assert set(caught.value.fields) == {"new_password"}
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.change_password(_actor(user), token, {"current_password": PASSWORD, "new_password": PASSWORD})
    assert set(caught.value.fields) == {"new_password"}
    with pytest.raises(Forbidden):  # another user's token does not change this user's password
        rpc.identity.change_password(
            _actor(stranger), token, {"current_password": PASSWORD, "new_password": "a-brand-new-password"}
        )


# ---- the photo -----------------------------------------------------------------------------


def test_a_mentor_uploads_a_photo_and_anyone_reads_it(rpc):
    mentor = _mentor_with_profile(rpc)
    assert rpc.identity.get_mentor_profile(mentor["id"])["photo_url"] is None
    view = rpc.identity.set_mentor_photo(
        _actor(mentor), {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    )
    assert view["content_type"] == "image/png" and view["size"] == len(PNG)
    assert view["photo_url"].startswith(f"/api/v1/mentors/{mentor['id']}/photo?v=")
    assert rpc.identity.get_mentor_profile(mentor["id"])["photo_url"] == view["photo_url"]
    photo = rpc.identity.get_mentor_photo(mentor["id"])
    assert base64.b64decode(photo["data"]) == PNG and photo["content_type"] == "image/png"

    replaced = rpc.identity.set_mentor_photo(
        _actor(mentor), {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}
    )
    assert replaced["photo_url"] != view["photo_url"]  # a new version, a new URL
    assert base64.b64decode(rpc.identity.get_mentor_photo(mentor["id"])["data"]) == JPEG


def test_photos_that_are_not_what_they_say_or_not_a_mentors_are_refused(rpc, identity_db):
    mentor, mentee = _register(rpc, role="mentor"), _register(rpc)
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.set_mentor_photo(
            _actor(mentor), {"content_type": "image/png", "data": base64.b64encode(JPEG).decode()}
        )
    assert set(caught.value.fields) == {"photo"}
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.set_mentor_photo(_actor(mentor), {"content_type": "image/gif", "data": "R0lGODlh"})
    assert set(caught.value.fields) == {"content_type"}
    with pytest.raises(Forbidden):
        rpc.identity.set_mentor_photo(
            _actor(mentee), {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
        )
    with pytest.raises(Forbidden):  # a forged role does not help
        rpc.identity.set_mentor_photo(
            {"user_id": mentee["id"], "role": "mentor"},
            {"content_type": "image/png", "data": base64.b64encode(PNG).decode()},
        )
    assert (
        _scalar(
            identity_db, "SELECT count(*) FROM mentor_photos WHERE mentor_id IN (%s, %s)", mentor["id"], mentee["id"]
        )
        == 0
    )
    for missing in (mentor["id"], str(uuid.uuid4()), "junk"):
        with pytest.raises(NotFound):
            rpc.identity.get_mentor_photo(missing)


# ---- availability --------------------------------------------------------------------------


def test_availability_defaults_then_written_with_its_snapshot(rpc, identity_db):
    mentor = _mentor_with_profile(rpc)
    assert rpc.identity.get_availability(_actor(mentor)) == {"capacity": 3, "away_periods": [], "updated_at": None}
    before = len(_events(identity_db, mentor["id"]))
    written = rpc.identity.update_availability(
        _actor(mentor),
        {
            "capacity": 1,
            "away_periods": [
                {"starts_on": "2026-08-01", "ends_on": "2026-08-10"},
                {"starts_on": "2026-07-01", "ends_on": "2026-07-14"},
            ],
        },
    )
    assert written["capacity"] == 1 and written["updated_at"]
    assert written["away_periods"] == [
        {"starts_on": "2026-07-01", "ends_on": "2026-07-14"},
        {"starts_on": "2026-08-01", "ends_on": "2026-08-10"},
    ]
    assert rpc.identity.get_availability(_actor(mentor)) == written
    events = _events(identity_db, mentor["id"])
    assert len(events) == before + 1
    assert (events[-1]["type"], events[-1]["schema_version"]) == ("MentorProfileUpdated", 2)
    assert events[-1]["payload"] == {
        "mentor_id": mentor["id"],
        "rubrics": PROFILE["rubrics"],
        "accepting_cases": True,
        "accredited": False,
        "capacity": 1,
        "away_periods": written["away_periods"],
    }
    # private: never on the public profile
    assert "capacity" not in rpc.identity.get_mentor_profile(mentor["id"])


def test_invalid_availability_names_each_field_and_changes_nothing(rpc, identity_db):
    mentor = _mentor_with_profile(rpc)
    before = len(_events(identity_db, mentor["id"]))
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.update_availability(
            _actor(mentor), {"capacity": 51, "away_periods": [{"starts_on": "2026-07-14", "ends_on": "2026-07-01"}]}
        )
    assert caught.value.fields == {
        "capacity": ["Must be greater than or equal to 0 and less than or equal to 50."],
        "away_periods": {"0": {"ends_on": ["Must not be before starts_on."]}},
    }
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.update_availability(
            _actor(mentor), {"away_periods": [{"starts_on": "2026-07-01", "ends_on": "2026-07-01"}] * 21}
        )
    assert set(caught.value.fields) == {"away_periods"}
    assert len(_events(identity_db, mentor["id"])) == before
    assert rpc.identity.get_availability(_actor(mentor))["updated_at"] is None


def test_only_mentors_have_an_availability(rpc, moderator):
    mentee = _register(rpc)
    for actor in (_actor(mentee), moderator, {"user_id": mentee["id"], "role": "mentor"}):
        with pytest.raises(Forbidden):
            rpc.identity.get_availability(actor)
        with pytest.raises(Forbidden):
            rpc.identity.update_availability(actor, {"capacity": 2})


# ---- the roll of mentors -------------------------------------------------------------------


def test_apply_approve_suspend_reinstate_with_events_and_history(rpc, identity_db, moderator):
    mentor = _mentor_with_profile(rpc)
    assert rpc.identity.get_accreditation(_actor(mentor))["state"] == "none"
    assert mentor["id"] not in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]

    applied = rpc.identity.apply_for_accreditation(_actor(mentor), APPLICATION)
    assert applied["state"] == "pending" and applied["application"]["state"] == "pending"
    assert applied["application"]["experience"] == APPLICATION["experience"]
    application_id = applied["application"]["id"]
    [requested] = _events(identity_db, mentor["id"], "AccreditationRequested")
    assert requested["payload"] == {"application_id": application_id, "mentor_id": mentor["id"]}
    with pytest.raises(Conflict) as caught:
        rpc.identity.apply_for_accreditation(_actor(mentor), APPLICATION)
    assert caught.value.details == {"state": "pending"}

    pending = rpc.identity.list_accreditation_applications(moderator, "pending")
    [mine] = [a for a in pending if a["id"] == application_id]
    assert mine["mentor_id"] == mentor["id"] and mine["profile"]["last_name"] == "Petrova"
    assert mine["motivation"] == APPLICATION["motivation"] and "email" not in mine["profile"]

    approved = rpc.identity.approve_application(moderator, application_id)
    assert approved["state"] == "approved" and approved["decided_at"] and approved["profile"]["accredited"] is True
    assert application_id not in [a["id"] for a in rpc.identity.list_accreditation_applications(moderator)]
    assert application_id in [a["id"] for a in rpc.identity.list_accreditation_applications(moderator, "approved")]
    assert rpc.identity.get_accreditation(_actor(mentor))["state"] == "accredited"
    assert mentor["id"] in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]
    with pytest.raises(Conflict):
        rpc.identity.approve_application(moderator, application_id)  # decided once
    with pytest.raises(Conflict):
        rpc.identity.apply_for_accreditation(_actor(mentor), APPLICATION)

    suspended = rpc.identity.suspend_mentor(moderator, mentor["id"], {"reason": "  Complaints from mentees.  "})
    assert suspended["state"] == "suspended" and suspended["reason"] == "Complaints from mentees."
    assert mentor["id"] not in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]
    assert rpc.identity.get_mentor_profile(mentor["id"])["accredited"] is False  # readable, not on the roll
    with pytest.raises(Conflict):
        rpc.identity.suspend_mentor(moderator, mentor["id"], {"reason": "Again"})
    reinstated = rpc.identity.reinstate_mentor(moderator, mentor["id"])
    assert reinstated["state"] == "accredited" and reinstated["reason"] is None
    assert mentor["id"] in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]

    decided = [
        (e["payload"]["decision"], e["payload"]["application_id"], e["payload"]["reason"])
        for e in _events(identity_db, mentor["id"], "AccreditationDecided")
    ]
    assert decided == [
        ("approved", application_id, ""),
        ("suspended", None, "Complaints from mentees."),
        ("reinstated", None, ""),
    ]
    snapshots = [e["payload"]["accredited"] for e in _events(identity_db, mentor["id"], "MentorProfileUpdated")]
    assert snapshots == [False, False, True, False, True]  # profile, application, approve, suspend, reinstate
    with identity_db.cursor() as cur:
        cur.execute(
            "SELECT action, reason, actor_id::text FROM accreditation_history WHERE mentor_id = %s ORDER BY id",
            (mentor["id"],),
        )
        history = cur.fetchall()
    assert history == [
        ("applied", "", mentor["id"]),
        ("approved", "", moderator["user_id"]),
        ("suspended", "Complaints from mentees.", moderator["user_id"]),
        ("reinstated", "", moderator["user_id"]),
    ]


def test_a_rejection_gives_a_reason_and_the_mentor_may_apply_again(rpc, identity_db, moderator):
    mentor = _mentor_with_profile(rpc)
    first = rpc.identity.apply_for_accreditation(_actor(mentor), APPLICATION)["application"]["id"]
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.reject_application(moderator, first, {"reason": "   "})
    assert set(caught.value.fields) == {"reason"}
    rejected = rpc.identity.reject_application(moderator, first, {"reason": "Tell us about your mentoring."})
    assert rejected["state"] == "rejected" and rejected["reason"] == "Tell us about your mentoring."
    own = rpc.identity.get_accreditation(_actor(mentor))
    assert own["state"] == "rejected" and own["reason"] == "Tell us about your mentoring."
    assert own["application"]["reason"] == "Tell us about your mentoring."
    assert mentor["id"] not in [p["mentor_id"] for p in rpc.identity.list_mentor_profiles()]
    [decided] = _events(identity_db, mentor["id"], "AccreditationDecided")
    assert decided["payload"] == {
        "mentor_id": mentor["id"],
        "application_id": first,
        "decision": "rejected",
        "reason": "Tell us about your mentoring.",
    }

    again = rpc.identity.apply_for_accreditation(_actor(mentor), dict(APPLICATION, experience="More, now."))
    assert again["state"] == "pending" and again["application"]["id"] != first and again["reason"] is None
    assert rpc.identity.get_accreditation(_actor(mentor))["application"]["experience"] == "More, now."


def test_applying_needs_a_mentor_with_a_profile_and_a_valid_statement(rpc, identity_db):
    bare, mentee = _register(rpc, role="mentor"), _register(rpc)
    with pytest.raises(Conflict, match="profile"):
        rpc.identity.apply_for_accreditation(_actor(bare), APPLICATION)
    with pytest.raises(Forbidden):
        rpc.identity.apply_for_accreditation(_actor(mentee), APPLICATION)
    with pytest.raises(Forbidden):
        rpc.identity.get_accreditation(_actor(mentee))
    mentor = _mentor_with_profile(rpc)
    with pytest.raises(InvalidInput) as caught:
        rpc.identity.apply_for_accreditation(_actor(mentor), {"experience": "", "motivation": "m" * 2001})
    assert set(caught.value.fields) == {"experience", "motivation"}
    assert (
        _scalar(
            identity_db,
            "SELECT count(*) FROM accreditation_applications WHERE mentor_id IN (%s, %s, %s)",
            bare["id"],
            mentee["id"],
            mentor["id"],
        )
        == 0
    )
    assert _events(identity_db, mentor["id"], "AccreditationRequested") == []


def test_only_moderators_keep_the_roll(rpc, identity_db, moderator):
    mentor = _mentor_with_profile(rpc)
    application_id = rpc.identity.apply_for_accreditation(_actor(mentor), APPLICATION)["application"]["id"]
    mentee = _register(rpc)
    forged = {"user_id": mentee["id"], "role": "moderator"}  # the stored account is a mentee's
    for actor in (_actor(mentor), _actor(mentee), forged):
        with pytest.raises(Forbidden):
            rpc.identity.list_accreditation_applications(actor)
        with pytest.raises(Forbidden):
            rpc.identity.approve_application(actor, application_id)
        with pytest.raises(Forbidden):
            rpc.identity.reject_application(actor, application_id, {"reason": "No."})
        with pytest.raises(Forbidden):
            rpc.identity.suspend_mentor(actor, mentor["id"], {"reason": "No."})
        with pytest.raises(Forbidden):
            rpc.identity.reinstate_mentor(actor, mentor["id"])
    assert rpc.identity.get_accreditation(_actor(mentor))["state"] == "pending"
    assert _events(identity_db, mentor["id"], "AccreditationDecided") == []
    for missing in (str(uuid.uuid4()), "junk"):
        with pytest.raises(NotFound):
            rpc.identity.approve_application(moderator, missing)
        with pytest.raises(NotFound):
            rpc.identity.suspend_mentor(moderator, missing, {"reason": "x"})
    with pytest.raises(NotFound):  # a mentee is not on any roll
        rpc.identity.suspend_mentor(moderator, mentee["id"], {"reason": "x"})
    with pytest.raises(InvalidInput):
        rpc.identity.list_accreditation_applications(moderator, "accredited")
