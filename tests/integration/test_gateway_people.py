"""People over real HTTP: the gateway and the real identity service in this process, on the real
broker and database. Sessions (sign-out, password change), sign-in throttling with Retry-After,
tokens that are forged, expired or of an ended session, the public profile and photo, availability
and the roll of mentors with the events identity publishes.

The gateway trusts one proxy (TRUST_FORWARDED_FOR=1): each test signs in from its own address in
X-Forwarded-For, so the per-address window of one test never counts another's failures.
"""

import time
import uuid

import eventlet
import kombu
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contracts.topology import events_exchange
from services.common.db import PostgresStore
from services.common.tokens import SALT, TokenSigner
from services.identity.admin import create_moderator
from services.identity.service import IdentityService
from tests.integration.gateway_platform import PASSWORD, assert_error, start_platform

ADDRESS_LIMIT = 8
PROFILE = {
    "rubrics": ["class-management-motivation", "professional-ethics"],
    "place_of_work": "Moscow City University",
    "institute": "Institute of Pedagogy",
    "position": "Associate professor",
    "interests": "Classroom climate",
    "links": ["https://example.org/works"],
    "motto": "Ask, then listen.",
    "accepting_cases": True,
}
APPLICATION = {
    "experience": "Fifteen years at school, eight supervising practicums.",
    "motivation": "Novice teachers should not be alone with their first classes.",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0" + bytes(300)


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    start_module_service(IdentityService, SIGN_IN_ADDRESS_LIMIT=ADDRESS_LIMIT)
    return start_platform(start_module_service, backends=(), TRUST_FORWARDED_FOR=1)


@pytest.fixture(scope="module")
def moderator(api, test_env):
    """A moderator made by the operator command's function, signed in over HTTP: its token."""
    email = f"moderator-{uuid.uuid4().hex[:12]}@example.org"
    store = PostgresStore(test_env.database_url("identity"), 1)
    try:
        create_moderator(store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"})
    finally:
        store.close()
    return api.sign_in(email)


@pytest.fixture(scope="module")
def secret(test_env):
    return test_env.config("gateway")["TOKEN_SECRET"]


def here():
    """A fresh client address, as the trusted proxy appends it; the entry before it is what a client
    wrote itself (the same in every test), which the gateway must not believe."""
    return {"X-Forwarded-For": f"192.0.2.77, 203.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 254 + 1}"}


def sign_in(api, email, password=PASSWORD, headers=None):
    return api("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password}, headers=headers or here())


def mentor_with_profile(api):
    user, token = api.register("mentor")
    response = api("PUT", "/api/v1/me/mentor-profile", token=token, json=PROFILE)
    assert response.status_code == 200, response.text
    return user, token


def accredited_mentor(api, moderator):
    user, token = mentor_with_profile(api)
    applied = api("POST", "/api/v1/me/accreditation", token=token, json=APPLICATION)
    assert applied.status_code == 201, applied.text
    approved = api(
        "POST", f"/api/v1/accreditation/applications/{applied.json()['application']['id']}/approve", token=moderator
    )
    assert approved.status_code == 200, approved.text
    return user, token


# ---- sessions ------------------------------------------------------------------------------


def test_after_sign_out_the_token_is_refused_at_once(api):
    user, token = api.register()
    other = api.sign_in(user["email"])
    assert api("GET", "/api/v1/me", token=token).json()["id"] == user["id"]
    signed_out = api("POST", "/api/v1/auth/sign-out", token=token)
    assert signed_out.status_code == 200 and signed_out.json() == {"status": "signed_out"}
    error = assert_error(api("GET", "/api/v1/me", token=token), 401, "unauthorized")
    assert "session has ended" in error["message"]
    assert_error(api("POST", "/api/v1/auth/sign-out", token=token), 401, "unauthorized")
    assert api("GET", "/api/v1/me", token=other).status_code == 200  # another device stays signed in


def test_forged_expired_foreign_and_unknown_session_tokens_are_401(api, secret):
    user, token = api.register()
    session_id = TokenSigner(secret, 3600).claims(token)["session_id"]

    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 7200

    expired = URLSafeTimedSerializer(secret, salt=SALT, signer=PastSigner).dumps(
        {"sub": user["id"], "role": "mentee", "sid": session_id}
    )
    # payload.timestamp.signature (the payload may itself start with "." when compressed)
    _, stamp, signature = token.rsplit(".", 2)
    forged_payload = (
        URLSafeTimedSerializer(secret, salt=SALT)
        .dumps({"sub": user["id"], "role": "moderator", "sid": session_id})
        .rsplit(".", 2)[0]
    )
    tampered = f"{forged_payload}.{stamp}.{signature}"  # moderator claims under the mentee's signature
    assert tampered != token
    bad = {
        "expired": expired,
        "tampered": tampered,
        "other key": TokenSigner("another-secret-0123456789abcdef", 3600).issue(user["id"], "moderator", session_id),
        "unknown session": TokenSigner(secret, 3600).issue(user["id"], "mentee", str(uuid.uuid4())),
        "truncated": token[:-4],
    }
    for what, forged in bad.items():
        for method, path in (
            ("GET", "/api/v1/me"),
            ("GET", "/api/v1/me/availability"),
            ("POST", "/api/v1/auth/sign-out"),
        ):
            response = api(method, path, token=forged)
            assert response.status_code == 401, (what, path, response.text)
            assert_error(response, 401, "unauthorized")
    assert "expired" in api("GET", "/api/v1/me", token=expired).json()["error"]["message"]
    assert api("GET", "/api/v1/me", token=token).status_code == 200  # the genuine one still works


def test_a_password_change_signs_out_every_other_session(api):
    user, token = api.register()
    others = [api.sign_in(user["email"]) for _ in range(2)]
    changed = api(
        "PUT",
        "/api/v1/me/password",
        token=token,
        headers=here(),
        json={"current_password": PASSWORD, "new_password": "a whole new password"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked_sessions": 2}
    for other in others:
        assert_error(api("GET", "/api/v1/me", token=other), 401, "unauthorized")
    assert api("GET", "/api/v1/me", token=token).status_code == 200
    assert_error(sign_in(api, user["email"]), 401, "unauthorized")
    assert sign_in(api, user["email"], "a whole new password").status_code == 200


def test_a_wrong_current_password_is_a_field_error(api):
    user, token = api.register()
    error = assert_error(
        api(
            "PUT",
            "/api/v1/me/password",
            token=token,
            headers=here(),
            json={"current_password": "not it", "new_password": "a whole new password"},
        ),
        400,
        "invalid_input",
    )
    assert error["fields"] == {"current_password": ["The current password is not correct."]}
    error = assert_error(
        api("PUT", "/api/v1/me/password", token=token, json={"current_password": PASSWORD}), 400, "invalid_input"
    )
    assert list(error["fields"]) == ["new_password"]
    assert api("GET", "/api/v1/me", token=token).status_code == 200


# ---- sign-in throttling --------------------------------------------------------------------


def test_the_sixth_wrong_password_is_429_with_retry_after(api):
    user, _ = api.register()
    address = here()
    for _ in range(5):
        assert_error(sign_in(api, user["email"], "wrong password", address), 401, "unauthorized")
    refused = sign_in(api, user["email"], "wrong password", address)
    error = assert_error(refused, 429, "too_many_requests")
    assert 850 <= int(refused.headers["Retry-After"]) <= 900
    assert error["details"] == {"retry_after": int(refused.headers["Retry-After"])}
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    # limited per account and address (issue 18: others must not lock the owner out): from elsewhere the
    # right password waits the account's short delay at most, then gets in
    elsewhere = here()
    response = sign_in(api, user["email"], PASSWORD, elsewhere)
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) <= 5
        time.sleep(int(response.headers["Retry-After"]))
        response = sign_in(api, user["email"], PASSWORD, elsewhere)
    assert response.status_code == 200, response.text


def test_an_unknown_email_gets_the_same_answers_as_a_wrong_password(api):
    user, _ = api.register()
    answers = {}
    for email in (user["email"], f"nobody-{uuid.uuid4().hex[:12]}@example.org"):
        address, seen = here(), []
        for _ in range(6):
            response = sign_in(api, email, "wrong password", address)
            body = response.json()["error"]
            body.get("details", {}).pop("retry_after", None)
            seen.append(
                (response.status_code, body, "Retry-After" in response.headers, response.headers["Content-Type"])
            )
        answers[email] = seen
    known, unknown = answers.values()
    assert known == unknown
    assert [s[0] for s in known] == [401] * 5 + [429]


def test_too_many_failures_from_one_address_are_429_for_any_account(api):
    address = here()
    for _ in range(ADDRESS_LIMIT // 4):  # 4 failures per account: no account reaches its own limit
        victim, _ = api.register()
        for _ in range(4):
            assert_error(sign_in(api, victim["email"], "wrong password", address), 401, "unauthorized")
    fresh, _ = api.register()
    refused = sign_in(api, fresh["email"], PASSWORD, address)
    assert_error(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) > 0
    assert sign_in(api, fresh["email"], PASSWORD, here()).status_code == 200  # from another address: fine


# ---- public profiles and the photo ---------------------------------------------------------


def test_a_visitor_reads_a_profile_and_its_photo_but_never_an_email(api, moderator):
    user, token = accredited_mentor(api, moderator)
    uploaded = api(
        "PUT", "/api/v1/me/mentor-profile/photo", token=token, data=PNG, headers={"Content-Type": "image/png"}
    )
    assert uploaded.status_code == 200, uploaded.text
    photo_url = uploaded.json()["photo_url"]
    assert photo_url.startswith(f"/api/v1/mentors/{user['id']}/photo?v=")

    profile = api("GET", f"/api/v1/mentors/{user['id']}")  # no token: a visitor
    assert profile.status_code == 200, profile.text
    assert profile.json()["photo_url"] == photo_url and profile.json()["accredited"] is True
    assert user["email"] not in profile.text and "email" not in profile.json()
    assert {"capacity", "away_periods", "experience", "motivation"}.isdisjoint(profile.json())
    listed = api("GET", "/api/v1/mentors")
    assert user["id"] in [p["mentor_id"] for p in listed.json()["items"]] and user["email"] not in listed.text

    photo = api("GET", photo_url)
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["Content-Type"] == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in photo.headers["Cache-Control"]
    unchanged = api("GET", photo_url, headers={"If-None-Match": photo.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""

    replaced = api(
        "PUT", "/api/v1/me/mentor-profile/photo", token=token, data=JPEG, headers={"Content-Type": "image/jpeg"}
    )
    assert replaced.json()["photo_url"] != photo_url
    again = api("GET", f"/api/v1/mentors/{user['id']}/photo")
    assert again.content == JPEG and again.headers["Content-Type"] == "image/jpeg"
    assert again.headers["ETag"] != photo.headers["ETag"]
    assert_error(api("GET", f"/api/v1/mentors/{uuid.uuid4()}/photo"), 404, "not_found")


def test_photos_too_large_of_another_type_or_not_what_they_say_are_refused(api):
    user, token = mentor_with_profile(api)

    def put(data, content_type):
        return api(
            "PUT",
            "/api/v1/me/mentor-profile/photo",
            token=token,
            data=data,
            headers={"Content-Type": content_type} if content_type else {},
        )

    error = assert_error(put(PNG + bytes(2 * 1024 * 1024), "image/png"), 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 2 * 1024 * 1024}
    assert_error(put(b"GIF89a" + bytes(20), "image/gif"), 415, "unsupported_media_type")
    assert_error(put(PNG, "application/json"), 415, "unsupported_media_type")
    assert_error(put(PNG, None), 415, "unsupported_media_type")
    error = assert_error(put(JPEG, "image/png"), 400, "invalid_input")
    assert list(error["fields"]) == ["photo"]
    assert_error(put(b"", "image/png"), 400, "invalid_input")
    _, mentee = api.register()
    assert_error(
        api("PUT", "/api/v1/me/mentor-profile/photo", token=mentee, data=PNG, headers={"Content-Type": "image/png"}),
        403,
        "forbidden",
    )
    assert_error(
        api("PUT", "/api/v1/me/mentor-profile/photo", data=PNG, headers={"Content-Type": "image/png"}),
        401,
        "unauthorized",
    )
    assert api("GET", f"/api/v1/mentors/{user['id']}").json()["photo_url"] is None
    assert_error(api("GET", f"/api/v1/mentors/{user['id']}/photo"), 404, "not_found")


def test_an_unaccredited_mentor_is_not_in_the_public_list(api, moderator):
    pending_user, pending = mentor_with_profile(api)
    api("POST", "/api/v1/me/accreditation", token=pending, json=APPLICATION)
    bare_user, _ = mentor_with_profile(api)
    accredited_user, _ = accredited_mentor(api, moderator)
    listed = [p["mentor_id"] for p in api("GET", "/api/v1/mentors").json()["items"]]
    assert accredited_user["id"] in listed
    assert pending_user["id"] not in listed and bare_user["id"] not in listed
    by_rubric = [p["mentor_id"] for p in api("GET", "/api/v1/mentors?rubric=professional-ethics").json()["items"]]
    assert accredited_user["id"] in by_rubric and pending_user["id"] not in by_rubric
    own = api("GET", "/api/v1/me/mentor-profile", token=pending).json()  # one sees one's own, unlisted
    assert own["mentor_id"] == pending_user["id"] and own["accredited"] is False


# ---- availability --------------------------------------------------------------------------


def test_a_mentor_keeps_an_availability_others_get_403(api):
    _, token = mentor_with_profile(api)
    assert api("GET", "/api/v1/me/availability", token=token).json() == {
        "capacity": 3,
        "away_periods": [],
        "updated_at": None,
    }
    written = api(
        "PUT",
        "/api/v1/me/availability",
        token=token,
        json={"capacity": 2, "away_periods": [{"starts_on": "2026-07-01", "ends_on": "2026-07-14"}]},
    )
    assert written.status_code == 200, written.text
    assert written.json()["away_periods"] == [{"starts_on": "2026-07-01", "ends_on": "2026-07-14"}]
    error = assert_error(
        api(
            "PUT",
            "/api/v1/me/availability",
            token=token,
            json={"capacity": 99, "away_periods": [{"starts_on": "2026-07-14", "ends_on": "2026-07-01"}]},
        ),
        400,
        "invalid_input",
    )
    assert set(error["fields"]) == {"capacity", "away_periods"}
    assert error["fields"]["away_periods"] == {"0": {"ends_on": ["Must not be before starts_on."]}}
    assert api("GET", "/api/v1/me/availability", token=token).json()["capacity"] == 2  # unchanged
    _, mentee = api.register()
    assert_error(api("GET", "/api/v1/me/availability", token=mentee), 403, "forbidden")
    assert_error(api("PUT", "/api/v1/me/availability", token=mentee, json={"capacity": 1}), 403, "forbidden")


# ---- the roll of mentors -------------------------------------------------------------------


class IdentityEvents:
    """A test queue on identity's exchange, bound before anything happens."""

    TYPES = ("AccreditationRequested", "AccreditationDecided", "MentorProfileUpdated")

    def __init__(self, amqp_uri):
        self.connection = kombu.Connection(amqp_uri, connect_timeout=5)
        channel = self.connection.channel()
        self.queue = kombu.Queue(
            f"test.people-events.{uuid.uuid4().hex[:8]}",
            exchange=events_exchange("identity"),
            bindings=[kombu.binding(events_exchange("identity"), routing_key=t) for t in self.TYPES],
            exclusive=True,
        )(channel)
        self.queue.declare()
        self.seen = []

    def about(self, mentor_id, until, timeout=15):
        """Every event about ``mentor_id`` received until ``until(events)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.queue.get(no_ack=True)
            if message is not None:
                self.seen.append(message.decode())
                continue
            mine = [e for e in self.seen if e["aggregate_id"] == mentor_id]
            if until(mine):
                return mine
            assert time.monotonic() < deadline, f"events not published: {[e['type'] for e in mine]}"
            eventlet.sleep(0.05)

    def close(self):
        self.connection.close()


def test_moderators_approve_reject_suspend_and_reinstate_with_events(api, moderator, test_env):
    events = IdentityEvents(test_env.amqp_uri)
    try:
        user, token = mentor_with_profile(api)
        applied = api("POST", "/api/v1/me/accreditation", token=token, json=APPLICATION)
        assert applied.status_code == 201 and applied.json()["state"] == "pending"
        application_id = applied.json()["application"]["id"]
        assert_error(api("POST", "/api/v1/me/accreditation", token=token, json=APPLICATION), 409, "conflict")

        listed = api("GET", "/api/v1/accreditation/applications", token=moderator)
        assert listed.status_code == 200, listed.text
        [mine] = [a for a in listed.json()["items"] if a["id"] == application_id]
        assert mine["profile"]["mentor_id"] == user["id"] and mine["experience"] == APPLICATION["experience"]
        assert user["email"] not in listed.text

        rejected = api(
            "POST",
            f"/api/v1/accreditation/applications/{application_id}/reject",
            token=moderator,
            json={"reason": "Please tell us about your mentoring practice."},
        )
        assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
        assert (
            api("GET", "/api/v1/me/accreditation", token=token).json()["reason"]
            == "Please tell us about your mentoring practice."
        )
        second = api("POST", "/api/v1/me/accreditation", token=token, json=APPLICATION).json()["application"]["id"]
        approved = api("POST", f"/api/v1/accreditation/applications/{second}/approve", token=moderator)
        assert approved.status_code == 200 and approved.json()["state"] == "approved"
        assert api("GET", "/api/v1/me/accreditation", token=token).json()["state"] == "accredited"

        error = assert_error(
            api("POST", f"/api/v1/mentors/{user['id']}/suspend", token=moderator, json={}), 400, "invalid_input"
        )
        assert list(error["fields"]) == ["reason"]
        suspended = api(
            "POST",
            f"/api/v1/mentors/{user['id']}/suspend",
            token=moderator,
            json={"reason": "Complaints under review."},
        )
        assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
        assert user["id"] not in [p["mentor_id"] for p in api("GET", "/api/v1/mentors").json()["items"]]
        reinstated = api("POST", f"/api/v1/mentors/{user['id']}/reinstate", token=moderator)
        assert reinstated.status_code == 200 and reinstated.json()["state"] == "accredited"
        assert_error(api("POST", f"/api/v1/mentors/{user['id']}/reinstate", token=moderator), 409, "conflict")

        published = events.about(
            user["id"],
            lambda mine: (
                len([e for e in mine if e["type"] == "AccreditationDecided"]) == 4
                and mine[-1]["type"] == "MentorProfileUpdated"
            ),
        )
    finally:
        events.close()
    requested = [e["payload"] for e in published if e["type"] == "AccreditationRequested"]
    assert requested == [
        {"application_id": application_id, "mentor_id": user["id"]},
        {"application_id": second, "mentor_id": user["id"]},
    ]
    decided = [
        (e["payload"]["decision"], e["payload"]["application_id"])
        for e in published
        if e["type"] == "AccreditationDecided"
    ]
    assert decided == [("rejected", application_id), ("approved", second), ("suspended", None), ("reinstated", None)]
    snapshots = [e for e in published if e["type"] == "MentorProfileUpdated"]
    assert all(e["schema_version"] == 2 for e in snapshots)
    # the last snapshot after each step: profile, apply, reject, apply, approve, suspend, reinstate
    assert [e["payload"]["accredited"] for e in snapshots] == [False, False, False, False, True, False, True]
    for event in published:  # personal data stays out of the events
        text = str(event["payload"])
        assert user["email"] not in text and APPLICATION["experience"] not in text and "Petrova" not in text


def test_non_moderators_get_403_and_visitors_401_on_the_roll(api, moderator):
    user, token = mentor_with_profile(api)
    application_id = api("POST", "/api/v1/me/accreditation", token=token, json=APPLICATION).json()["application"]["id"]
    _, mentee = api.register()
    routes = [
        ("GET", "/api/v1/accreditation/applications", None),
        ("POST", f"/api/v1/accreditation/applications/{application_id}/approve", None),
        ("POST", f"/api/v1/accreditation/applications/{application_id}/reject", {"reason": "No."}),
        ("POST", f"/api/v1/mentors/{user['id']}/suspend", {"reason": "No."}),
        ("POST", f"/api/v1/mentors/{user['id']}/reinstate", None),
    ]
    for method, path, body in routes:
        kwargs = {"json": body} if body is not None else {}
        for who in (token, mentee):
            assert_error(api(method, path, token=who, **kwargs), 403, "forbidden")
        assert_error(api(method, path, **kwargs), 401, "unauthorized")
    assert api("GET", "/api/v1/me/accreditation", token=token).json()["state"] == "pending"
    assert_error(api("POST", "/api/v1/me/accreditation", token=mentee, json=APPLICATION), 403, "forbidden")
    assert_error(
        api("GET", "/api/v1/accreditation/applications?state=accredited", token=moderator), 400, "invalid_input"
    )
