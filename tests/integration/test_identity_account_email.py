"""Identity's account e-mails over a real SMTP server that goes away and comes back: an e-mail
written with its link is never lost (retried with backoff until the server takes it), never sent
twice, and its body (the link) does not outlive its sending. Identity runs in this process with its
own aiosmtpd (not the session's catcher), so stopping it disturbs no other test."""

import uuid

import pytest
from psycopg2.extras import RealDictCursor

from services.identity.sealing import DEVELOPMENT_MASTER_KEY, Vault
from services.identity.service import IdentityService
from tests.accounts import email_index
from tests.integration.smtp_sink import SmtpSink, link_token
from tests.support import eventually

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    sink = SmtpSink(tmp_path_factory.mktemp("account-smtp") / "maildir")
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def identity(start_module_service, smtp):
    start_module_service(
        IdentityService,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
        EMAIL_RETRY_SECONDS=0.2,
        EMAIL_MAX_ATTEMPTS=1000,
        SMTP_FROM="Mentor platform <accounts@mentor.test>",
    )


@pytest.fixture
def identity_db(identity, db):
    return db("identity")


def outbox(conn, email):
    """The account e-mails to ``email``, their bodies opened (sealed in the table: services/identity/sealing.py)."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(
            "SELECT kind, status, attempts, last_error, body FROM account_email_outbox "
            "WHERE user_id = (SELECT id FROM users WHERE email_index = %s)",
            (email_index(email),),
        )
        rows = Vault(DEVELOPMENT_MASTER_KEY).open_rows(cur, cur.fetchall())
    return [(r["kind"], r["status"], r["attempts"], r["last_error"], r["body"]) for r in rows]


def test_an_account_email_waits_out_an_smtp_outage_and_is_sent_once(rpc, identity_db, smtp):
    email = f"anna.{uuid.uuid4().hex[:10]}@example.org"
    rpc.identity.register(
        {"email": email, "password": PASSWORD, "role": "mentee", "first_name": "Anna", "last_name": "Petrova"}
    )
    # no SMTP server yet: attempts fail and are retried, the row (with its link) waits
    [(kind, status, attempts, error, body)] = eventually(
        lambda: [r for r in outbox(identity_db, email) if r[2] >= 3], message="three failed attempts"
    )
    assert (kind, status) == ("email_verification", "pending")
    assert "verify-email?token=" in body and error and "Error" in error
    smtp.start()
    message = eventually(
        lambda: (
            smtp.account_emails(email, "email_verification") and smtp.account_emails(email, "email_verification")[0]
        ),
        message="sent after the outage",
    )
    [(kind, status, attempts, error, body)] = eventually(
        lambda: [r for r in outbox(identity_db, email) if r[1] == "sent"], message="recorded as sent"
    )
    assert error is None and body == ""  # the link lives only in the person's mailbox now
    assert message["From"] == "Mentor platform <accounts@mentor.test>" and message["To"] == email
    assert len(smtp.account_emails(email)) == 1
    assert rpc.identity.verify_email({"token": link_token(message)}) == {"verified": True}
