"""Issue 18 part 4 over real HTTP, through the real SMTP catcher: nobody but the owner can lock an
account, and an account can be verified and recovered by e-mail without the answers ever telling
whether an address has an account.

Identity and the gateway run in this process on the session's broker and databases; identity sends
its account e-mails to the session's aiosmtpd catcher (tests/conftest.py), which the tests read.
The gateway trusts one proxy (TRUST_FORWARDED_FOR=1): every test speaks from fresh addresses in
X-Forwarded-For, so no test's failures or registrations count against another's.
"""

import hashlib
import time
import uuid

import pytest

from services.identity.service import IdentityService
from tests.accounts import accepted, account_id, email_index, environment, reset_token, verification_token
from tests.integration.gateway_platform import PASSWORD, assert_error, start_platform
from tests.support import case_form, eventually

WEB = "https://mentor.example.org/app"
REGISTRATIONS_PER_ADDRESS = 3
MAX_DELAY = 5


@pytest.fixture(scope="module")
def api(start_module_service):
    start_module_service(
        IdentityService,
        PUBLIC_WEB_URL=WEB,
        REGISTRATION_ADDRESS_LIMIT=REGISTRATIONS_PER_ADDRESS,
        SIGN_IN_ACCOUNT_MAX_DELAY_SECONDS=MAX_DELAY,
    )
    return start_platform(start_module_service, backends=(), TRUST_FORWARDED_FOR=1)


@pytest.fixture
def identity_db(db):
    return db("identity")


def here():
    """A fresh client address, as the trusted proxy appends it (the first entry is the client's own
    claim, the same in every test, which the gateway must not believe)."""
    return {"X-Forwarded-For": f"192.0.2.77, 198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 254 + 1}"}


def new_email(prefix="anna"):
    return f"{prefix}.{uuid.uuid4().hex[:12]}@School.Example.org"


def register(api, email, password=PASSWORD, role="mentee", first_name="Anna", headers=None):
    return api(
        "POST",
        "/api/v1/auth/register",
        headers=headers or here(),
        json={"email": email, "password": password, "role": role, "first_name": first_name, "last_name": "Petrova"},
    )


def registered(api, role="mentee"):
    email = new_email(role)
    response = register(api, email, role=role)
    assert response.status_code == 202, response.text
    return email


def sign_in(api, email, password=PASSWORD, headers=None):
    return api("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password}, headers=headers or here())


def token_of(api, email, password=PASSWORD):
    response = sign_in(api, email, password)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def api_mail():
    """The session's SMTP catcher, where identity sends the account e-mails."""
    return environment().mail


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def scalar(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


# ---- nobody but the owner can lock an account -------------------------------------------------


def sign_in_patiently(api, email, password=PASSWORD, headers=None):
    """Sign in as the owner does: on a 429, wait its Retry-After (at most a few seconds) and retry.
    Returns the final response and the seconds waited."""
    headers = headers or here()
    waited = 0
    response = sign_in(api, email, password, headers)
    while response.status_code == 429:
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= MAX_DELAY, response.headers  # a delay, never a lockout
        waited += retry_after
        assert waited <= 2 * MAX_DELAY, "the owner is kept out"
        time.sleep(retry_after)
        response = sign_in(api, email, password, headers)
    return response, waited


def test_five_wrong_passwords_from_five_addresses_do_not_lock_the_owner_out(api):
    email = registered(api)
    for _ in range(5):
        assert_error(sign_in(api, email, "wrong password"), 401, "unauthorized")
    response, waited = sign_in_patiently(api, email)  # from a sixth address
    assert response.status_code == 200, response.text
    assert waited <= MAX_DELAY


def test_a_botnet_only_slows_the_account_down_and_the_owner_still_gets_in(api):
    email = registered(api)
    refused = []
    for _ in range(20):  # twenty addresses, one guess each, as fast as they can
        response = sign_in(api, email, "wrong password")
        assert response.status_code in (401, 429), response.text
        if response.status_code == 429:
            refused.append(int(response.headers["Retry-After"]))
    assert refused and max(refused) <= MAX_DELAY  # past the fifth failure: a few seconds between guesses
    response, _ = sign_in_patiently(api, email)
    assert response.status_code == 200, response.text


def test_one_address_is_still_stopped_for_the_window_on_one_account(api):
    email, address = registered(api), here()
    for _ in range(5):
        assert_error(sign_in(api, email, "wrong password", address), 401, "unauthorized")
    time.sleep(1.5)  # past the account's own delay: what is left is this address's limit on it
    refused = sign_in(api, email, "wrong password", address)
    error = assert_error(refused, 429, "too_many_requests")
    assert 850 <= int(refused.headers["Retry-After"]) <= 900
    assert error["details"] == {"retry_after": int(refused.headers["Retry-After"])}


def test_the_owner_is_told_of_a_burst_of_failures_once(api):
    email = registered(api)
    for _ in range(5):
        assert_error(sign_in(api, email, "wrong password"), 401, "unauthorized")
    alert = api_mail().wait_for_account_email(email, "failed_sign_ins")
    assert "5" in alert.get_body(("plain",)).get_content()
    for _ in range(2):  # the burst goes on, past the account's delay
        response, _ = sign_in_patiently(api, email, "wrong password")
        assert response.status_code == 401
    # a later e-mail to the owner arrives: any second alert, written before it, would have too
    assert api("POST", "/api/v1/auth/password-reset", json={"email": email}, headers=here()).status_code == 202
    api_mail().wait_for_account_email(email, "password_reset")
    assert len(api_mail().account_emails(email, "failed_sign_ins")) == 1


def test_wrong_passwords_on_an_unknown_address_are_answered_alike_and_mail_nobody(api):
    email = new_email("nobody")
    answers = [sign_in(api, email, "wrong password").status_code for _ in range(5)]
    assert answers == [401] * 5
    assert api_mail().account_emails(email) == []


# ---- e-mail verification --------------------------------------------------------------------


def test_a_new_account_confirms_its_email_by_a_one_time_link(api, identity_db):
    email = new_email()
    response = register(api, email)
    assert response.status_code == 202 and response.json() == accepted(email)
    assert response.json() == {"status": "verification_sent", "email": email.lower()}
    message = api_mail().wait_for_account_email(email, "email_verification")
    body = message.get_body(("plain",)).get_content()
    token = verification_token(email)
    assert f"{WEB}/verify-email?token={token}" in body
    assert "Подтвердите" in message["Subject"] and "Confirm" in message["Subject"]
    # only the token's hash is kept; the sent e-mail's body (with the link) is blanked in the outbox
    assert scalar(identity_db, "SELECT count(*) FROM account_tokens WHERE token_hash = %s", token) == 0
    assert scalar(identity_db, "SELECT count(*) FROM account_tokens WHERE token_hash = %s", sha256(token)) == 1
    # the row is blanked once the catcher has confirmed the e-mail: a moment after it arrives (the body is
    # sealed with the person's key meanwhile: services/identity/sealing.py)
    eventually(
        lambda: (
            scalar(
                identity_db,
                "SELECT count(*) FROM account_email_outbox WHERE body <> '' "
                "AND user_id = (SELECT id FROM users WHERE email_index = %s)",
                email_index(email),
            )
            == 0
        ),
        message="the sent e-mail's link blanked in the outbox",
    )
    assert scalar(identity_db, "SELECT count(*) FROM account_email_outbox WHERE body LIKE %s", f"%{token}%") == 0

    access = token_of(api, email)
    me = api("GET", "/api/v1/me", token=access).json()
    assert me["email_verified"] is False
    verified = api("POST", "/api/v1/auth/email-verification", json={"token": token})
    assert verified.status_code == 200 and verified.json() == {"verified": True}
    assert api("GET", "/api/v1/me", token=access).json()["email_verified"] is True
    again = assert_error(api("POST", "/api/v1/auth/email-verification", json={"token": token}), 400, "invalid_input")
    assert list(again["fields"]) == ["token"]


def test_a_wrong_token_is_a_400_on_the_token_field(api):
    for token in ("x" * 43, "not even close"):
        error = assert_error(
            api("POST", "/api/v1/auth/email-verification", json={"token": token}), 400, "invalid_input"
        )
        assert list(error["fields"]) == ["token"]
    assert list(
        assert_error(api("POST", "/api/v1/auth/email-verification", json={}), 400, "invalid_input")["fields"]
    ) == ["token"]


def test_an_expired_verification_link_is_refused_and_a_new_one_works(api, identity_db):
    email = registered(api)
    token = verification_token(email)
    assert (
        scalar(
            identity_db,
            "SELECT extract(epoch FROM expires_at - created_at)::int FROM account_tokens WHERE token_hash = %s",
            sha256(token),
        )
        == 7 * 24 * 3600
    )  # the default lifetime
    with identity_db.cursor() as cur:  # a week later (EMAIL_VERIFICATION_TTL_SECONDS)
        cur.execute(
            "UPDATE account_tokens SET created_at = created_at - interval '7 days', "
            "expires_at = expires_at - interval '7 days' WHERE token_hash = %s",
            (sha256(token),),
        )
    error = assert_error(api("POST", "/api/v1/auth/email-verification", json={"token": token}), 400, "invalid_input")
    assert list(error["fields"]) == ["token"]
    access = token_of(api, email)
    assert api("POST", "/api/v1/auth/email-verification/resend", token=access).status_code == 202
    assert (
        api("POST", "/api/v1/auth/email-verification", json={"token": verification_token(email, count=2)}).status_code
        == 200
    )


def test_until_verified_no_case_is_filed_and_no_application_made(api):
    mentee, mentor = registered(api, "mentee"), registered(api, "mentor")
    mentee_token, mentor_token = token_of(api, mentee), token_of(api, mentor)
    assert_error(api("POST", "/api/v1/cases", token=mentee_token, json=case_form()), 403, "email_not_verified")
    application = {"experience": "Fifteen years at school.", "motivation": "To help novice teachers."}
    assert_error(
        api("POST", "/api/v1/me/accreditation", token=mentor_token, json=application), 403, "email_not_verified"
    )
    assert api("POST", "/api/v1/auth/email-verification", json={"token": verification_token(mentor)}).status_code == 200
    # verified: the application is judged on its merits now (no profile yet: not email_not_verified)
    response = api("POST", "/api/v1/me/accreditation", token=mentor_token, json=application)
    assert response.json()["error"]["code"] != "email_not_verified", response.text


def test_resend_sends_a_new_link_and_one_verification_voids_every_link(api):
    email = registered(api)
    access = token_of(api, email)
    first = verification_token(email)
    resent = api("POST", "/api/v1/auth/email-verification/resend", token=access)
    assert resent.status_code == 202, resent.text
    second = verification_token(email, count=2)
    assert second != first
    assert api("POST", "/api/v1/auth/email-verification", json={"token": second}).status_code == 200
    assert_error(api("POST", "/api/v1/auth/email-verification", json={"token": first}), 400, "invalid_input")
    assert_error(api("POST", "/api/v1/auth/email-verification/resend"), 401, "unauthorized")


# ---- password reset ---------------------------------------------------------------------------


def test_a_reset_link_works_once_and_ends_every_session(api, identity_db):
    email = registered(api)
    sessions = [token_of(api, email), token_of(api, email)]
    requested = api("POST", "/api/v1/auth/password-reset", json={"email": email.upper()}, headers=here())
    assert requested.status_code == 202 and requested.json() == {"status": "sent"}
    message = api_mail().wait_for_account_email(email, "password_reset")
    token = reset_token(email)
    assert f"{WEB}/reset-password?token={token}" in message.get_body(("plain",)).get_content()
    assert (
        scalar(
            identity_db,
            "SELECT extract(epoch FROM expires_at - created_at)::int FROM account_tokens WHERE token_hash = %s",
            sha256(token),
        )
        == 3600
    )  # PASSWORD_RESET_TTL_SECONDS

    weak = assert_error(
        api("POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "short"}),
        400,
        "invalid_input",
    )
    assert list(weak["fields"]) == ["new_password"]
    done = api("POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "a new passphrase"})
    assert done.status_code == 200, done.text
    assert done.json() == {"revoked_sessions": 2}
    for session in sessions:
        assert_error(api("GET", "/api/v1/me", token=session), 401, "unauthorized")
    assert_error(sign_in(api, email), 401, "unauthorized")
    me = api("GET", "/api/v1/me", token=token_of(api, email, "a new passphrase")).json()
    assert me["email_verified"] is True  # the link came by e-mail: the address is proven
    used = assert_error(
        api("POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "another passphrase"}),
        400,
        "invalid_input",
    )
    assert list(used["fields"]) == ["token"]


def test_an_expired_reset_link_is_refused(api, identity_db):
    email = registered(api)
    assert api("POST", "/api/v1/auth/password-reset", json={"email": email}, headers=here()).status_code == 202
    token = reset_token(email)
    with identity_db.cursor() as cur:  # an hour later
        cur.execute(
            "UPDATE account_tokens SET created_at = created_at - interval '1 hour', "
            "expires_at = expires_at - interval '1 hour' WHERE token_hash = %s",
            (sha256(token),),
        )
    error = assert_error(
        api("POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "a new passphrase"}),
        400,
        "invalid_input",
    )
    assert list(error["fields"]) == ["token"]
    assert token_of(api, email)  # the password is unchanged


def test_a_reset_for_an_unknown_address_answers_the_same_and_mails_nobody(api):
    known, unknown = registered(api), new_email("nobody")
    answers = [
        api("POST", "/api/v1/auth/password-reset", json={"email": email}, headers=here()) for email in (known, unknown)
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(202, {"status": "sent"})] * 2
    api_mail().wait_for_account_email(known, "password_reset")
    assert api_mail().account_emails(unknown) == []


# ---- registration reveals nothing and is limited per address -----------------------------------


def test_registering_an_existing_address_answers_the_same_and_tells_the_owner(api):
    email = registered(api)
    verification_token(email)  # the owner's first e-mail has arrived
    again = register(api, email.upper(), password="someone else's password", first_name="Mallory")
    assert again.status_code == 202 and again.json() == accepted(email)
    attempt = api_mail().wait_for_account_email(email, "registration_attempt")
    body = attempt.get_body(("plain",)).get_content()
    assert "Anna" in body and "Mallory" not in body and WEB in body
    assert len(api_mail().account_emails(email, "email_verification")) == 1  # no new link for the stranger
    assert token_of(api, email)  # the owner's password still works
    assert_error(sign_in(api, email, "someone else's password"), 401, "unauthorized")
    # more attempts answer the same, and do not flood the owner's mailbox (once an hour)
    for _ in range(3):
        assert register(api, email, password="yet another password").json() == accepted(email)
    assert api("POST", "/api/v1/auth/password-reset", json={"email": email}, headers=here()).status_code == 202
    api_mail().wait_for_account_email(email, "password_reset")  # later than any further notice would be
    assert len(api_mail().account_emails(email, "registration_attempt")) == 1


def test_registration_is_limited_per_address(api):
    address = here()
    for _ in range(REGISTRATIONS_PER_ADDRESS):
        assert register(api, new_email(), headers=address).status_code == 202
    refused_email = new_email()
    refused = register(api, refused_email, headers=address)
    error = assert_error(refused, 429, "too_many_requests")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert error["details"] == {"retry_after": int(refused.headers["Retry-After"])}
    assert account_id(refused_email) is None
    assert register(api, refused_email, headers=here()).status_code == 202  # from elsewhere: fine


def test_asking_for_more_links_does_not_flood_the_owners_mailbox(api):
    email = registered(api)
    for _ in range(5):
        response = api("POST", "/api/v1/auth/password-reset", json={"email": email}, headers=here())
        assert (response.status_code, response.json()) == (202, {"status": "sent"})
    reset_token(email, count=3)
    # a later e-mail arrives (the registration attempt's): any fourth link, asked for before it, would have too
    assert register(api, email).status_code == 202
    api_mail().wait_for_account_email(email, "registration_attempt")
    assert len(api_mail().account_emails(email, "password_reset")) == 3


def test_an_operator_made_moderator_needs_no_verification(api, test_env):
    from services.common.db import PostgresStore
    from services.identity.admin import create_moderator

    email = new_email("moderator")
    store = PostgresStore(test_env.database_url("identity"), 1)
    try:
        create_moderator(store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "M"})
    finally:
        store.close()
    assert api("GET", "/api/v1/me", token=token_of(api, email)).json()["email_verified"] is True
