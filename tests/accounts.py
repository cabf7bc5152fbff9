"""Accounts as a client makes them, for the tests: registration answers the same for every address
and sends a verification link by e-mail; an account that must file cases or apply for the roll of
mentors is verified through the session's real SMTP catcher (``test_env.mail``), never a shortcut.

The registration answer carries no id (it must not tell a new address from a registered one), so the
RPC helper reads the new account's id from identity's database, as the tests read other effects
there, rather than signing in (a session of its own would change the tests' session counts).
"""

import uuid

import psycopg2

from services.identity.sealing import DEVELOPMENT_MASTER_KEY, Vault
from tests.support import case_form, eventually

_SESSION = {}  # the session's TestEnvironment (tests/conftest.py's test_env sets it)


def use_environment(test_env):
    _SESSION["env"] = test_env


def environment():
    assert "env" in _SESSION, "the test_env fixture sets up the session's accounts helpers"
    return _SESSION["env"]


def accepted(email):
    """The one answer to every registration (new or already registered address)."""
    return {"status": "verification_sent", "email": email.strip().lower()}


def verification_token(email, count=1):
    """The token of the ``count``-th verification link e-mailed to ``email`` (waits for it)."""
    return environment().mail.link_token(email, "email_verification", count)


def reset_token(email, count=1):
    return environment().mail.link_token(email, "password_reset", count)


def email_index(email):
    """The blind index of ``email`` in identity's ``users`` (the e-mail itself is sealed there), under the
    development master key every test identity runs with (tests/conftest.py)."""
    return Vault(DEVELOPMENT_MASTER_KEY).email_index(email)


def account_id(email, database_url=None):
    """The id of the account of ``email`` from identity's database (the session's, or
    ``database_url``), None while there is none."""
    conn = psycopg2.connect(database_url or environment().database_url("identity"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT id::text FROM users WHERE email_index = %s", (email_index(email),))
            row = cur.fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def register_over_rpc(rpc, form, verify=False, database_url=None):
    """Register with identity's RPC as the gateway does: the new account's user view (verified
    through the SMTP catcher when ``verify``); ``database_url``: identity's, when not the session's."""
    assert rpc.identity.register(form) == accepted(form["email"])
    if verify:
        assert rpc.identity.verify_email({"token": verification_token(form["email"])}) == {"verified": True}
    user_id = eventually(lambda: account_id(form["email"], database_url), message="the account exists")
    return rpc.identity.get_user({"user_id": user_id, "role": form["role"]}, user_id)


def verify_over_http(call, email):
    """Open the verification link e-mailed to ``email`` as the browser client does:
    ``call(method, path, json=...)`` is the test's requests-like client; returns its response."""
    return call("POST", "/api/v1/auth/email-verification", json={"token": verification_token(email)})


def mentee_with_an_anonymous_case(rpc, password, questionnaire):
    """A verified mentee with ``questionnaire`` and an anonymous case, made over ``rpc`` with the
    gateway's role (tests/actors.py ``signed_rpc``), as the security tests' victim: ``(author, case_id)``."""
    email = f"victim.{uuid.uuid4().hex[:10]}@school.example.org"
    user = register_over_rpc(
        rpc,
        {"email": email, "password": password, "role": "mentee", "first_name": "Anna", "last_name": "Smirnova"},
        verify=True,
    )
    author = {"user_id": user["id"], "role": "mentee"}
    rpc.identity.update_questionnaire(author, questionnaire)
    case = rpc.cases.create_case(author, case_form(mode="anonymous"), None)
    return author, case["id"]
