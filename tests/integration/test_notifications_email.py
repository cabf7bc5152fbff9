"""Notification e-mails end to end: events on the real broker, the real notifications and identity
services, a real SMTP server (aiosmtpd) that the tests read, and the real databases."""

import uuid

import pytest

from services.identity.admin import create_moderator, open_store
from tests.accounts import register_over_rpc
from tests.integration.event_helpers import envelope
from tests.integration.notifications_mail import notifications_mailing_to
from tests.integration.smtp_sink import SmtpSink
from tests.support import eventually

MAX_ATTEMPTS = 30


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    with SmtpSink(tmp_path_factory.mktemp("smtp") / "maildir") as sink:
        yield sink


@pytest.fixture(scope="module")
def broker(start_module_service, test_env, smtp):
    # one message at a time (see event_helpers); a fast sender and short backoff for the tests
    with notifications_mailing_to(
        smtp,
        start_module_service,
        test_env,
        max_workers=1,
        EMAIL_POLL_INTERVAL=0.1,
        EMAIL_RETRY_SECONDS=0.2,
        EMAIL_MAX_ATTEMPTS=MAX_ATTEMPTS,
    ) as producer:
        yield producer


@pytest.fixture(scope="module")
def identity_store(test_env, broker):
    store = open_store(test_env.database_url("identity"))
    yield store
    store.close()


class Person(dict):
    """The actor dict RPCs take, with the e-mail the test reads the mailbox by."""

    def __init__(self, user_id, role, email):
        super().__init__(user_id=user_id, role=role)
        self.email = email


def register(rpc, role, first_name="Elena", last_name="Petrova"):
    email = f"{role}.{uuid.uuid4().hex[:10]}@school.example.org"
    user = register_over_rpc(
        rpc,
        {
            "email": email,
            "password": "correct horse battery",
            "role": role,
            "first_name": first_name,
            "last_name": last_name,
        },
    )
    return Person(user["id"], role, email)


def moderator(identity_store, first_name="Maria"):
    email = f"moderator.{uuid.uuid4().hex[:10]}@platform.example.org"
    user = create_moderator(
        identity_store,
        {"email": email, "password": "correct horse battery", "first_name": first_name, "last_name": "Moderova"},
    )
    return Person(user["id"], "moderator", email)


def case_event(event_type, number=None, **fields):
    case_id = str(uuid.uuid4())
    number = number or f"MC-2026-{uuid.uuid4().int % 1000000:06d}"
    return envelope(event_type, case_id, {"case_id": case_id, "case_number": number, **fields})


class Tables:
    """notifications' tables, read over one connection per test (polling opens no new ones)."""

    def __init__(self, conn):
        self.conn = conn

    def rows(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def outbox(self, body):
        """(recipient, status, attempts, last_error) of the e-mails of one event."""
        return self.rows(
            "SELECT recipient, status, attempts, last_error FROM email_outbox "
            "WHERE source_event_id = %s ORDER BY recipient",
            body["event_id"],
        )

    def processed(self, body):
        return self.rows("SELECT 1 FROM processed_events WHERE event_id = %s", body["event_id"])


@pytest.fixture
def tables(db):
    return Tables(db("notifications"))


def sentinel(broker, tables):
    """With max_workers=1, once this is processed every event published before it was handled."""
    body = case_event("MessageSent", sender_id=str(uuid.uuid4()), recipient_id=str(uuid.uuid4()))
    broker.publish(body)
    eventually(lambda: tables.processed(body), message="sentinel processed")


def test_the_chosen_mentor_is_emailed_once_although_the_event_arrives_twice(broker, rpc, tables, smtp):
    mentor = register(rpc, "mentor")
    body = case_event("MentorChosen", round=1, mentor_id=mentor["user_id"])
    number = body["payload"]["case_number"]
    broker.publish(body, times=2)
    sentinel(broker, tables)
    eventually(lambda: tables.outbox(body) and tables.outbox(body)[0][1] == "sent", message="e-mail sent")

    [(recipient, status, attempts, last_error)] = tables.outbox(body)  # one row for the two deliveries
    assert (recipient, status, attempts, last_error) == (mentor["user_id"], "sent", 1, None)
    [message] = smtp.messages(to=mentor.email)
    assert message["To"] == f"Elena Petrova <{mentor.email}>"
    assert message["Subject"] == f"You were chosen as the mentor of case {number}: please accept or decline."
    assert message["X-Notification-Kind"] == "mentor_chosen"
    assert "Hello, Elena Petrova." in message.get_content()
    [entry] = rpc.notifications.list_inbox({"user_id": mentor["user_id"], "role": "mentor"})
    assert entry["kind"] == "mentor_chosen" and entry["case_number"] == number


def test_an_email_waits_out_an_smtp_outage_and_arrives_after_it(broker, rpc, tables, smtp):
    mentee = register(rpc, "mentee", first_name="Anna", last_name="Smirnova")
    smtp.stop()
    try:
        body = case_event("MentorAccepted", mentor_id=str(uuid.uuid4()), author_id=mentee["user_id"])
        broker.publish(body)
        # the inbox entry does not wait for the e-mail
        eventually(lambda: rpc.notifications.list_inbox(mentee), message="inbox entry during the outage")
        failed = eventually(
            lambda: [r for r in tables.outbox(body) if r[2] >= 2 and r[1] == "pending"],
            message="retried during the outage",
        )
        assert failed[0][3] and "Connection" in failed[0][3]  # last_error says why
        assert smtp.messages(to=mentee.email) == []
    finally:
        smtp.start()
    # the next retry comes at most one backoff after the server is back
    [message] = eventually(lambda: smtp.messages(to=mentee.email), timeout=30, message="e-mail after the outage")
    assert "Your mentor accepted case" in message["Subject"]
    eventually(lambda: tables.outbox(body)[0][1] == "sent", message="row marked sent")
    [(_, _, attempts, last_error)] = tables.outbox(body)
    assert attempts >= 2 and last_error is None  # at least one failed attempt, then the one that went out


def test_an_email_that_keeps_failing_is_given_up_and_kept_as_failed(broker, rpc, tables, smtp):
    mentor = register(rpc, "mentor")
    smtp.stop()
    try:
        body = case_event("QuestionsAnswered", mentor_id=mentor["user_id"])
        broker.publish(body)
        eventually(lambda: tables.outbox(body) and tables.outbox(body)[0][2] >= 1, message="a first failed attempt")
        with tables.conn.cursor() as cur:  # as if it had failed for a long time already
            cur.execute(
                "UPDATE email_outbox SET attempts = %s WHERE source_event_id = %s", (MAX_ATTEMPTS - 1, body["event_id"])
            )
        eventually(lambda: tables.outbox(body)[0][1] == "failed", message="given up")
    finally:
        smtp.start()
    [(_, status, attempts, last_error)] = tables.outbox(body)
    assert status == "failed" and attempts >= MAX_ATTEMPTS and last_error
    assert rpc.notifications.list_inbox({"user_id": mentor["user_id"], "role": "mentor"})  # the entry stays


def test_a_recipient_identity_does_not_know_is_given_up_at_once(broker, rpc, tables):
    ghost = str(uuid.uuid4())
    body = case_event("MentorChosen", round=1, mentor_id=ghost)
    broker.publish(body)
    eventually(lambda: tables.outbox(body) and tables.outbox(body)[0][1] == "failed", message="given up")
    [(_, _, attempts, last_error)] = tables.outbox(body)
    assert attempts == 1 and last_error.startswith("NotFound")


def test_a_kind_turned_off_sends_no_email_but_keeps_the_inbox_entry(broker, rpc, tables, smtp):
    mentor = register(rpc, "mentor")
    actor = {"user_id": mentor["user_id"], "role": "mentor"}
    prefs = rpc.notifications.update_preferences(actor, {"email": {"mentor_chosen": False}})
    assert {i["kind"]: i["email"] for i in prefs["items"]}["mentor_chosen"] is False
    chosen = case_event("MentorChosen", round=1, mentor_id=mentor["user_id"])
    withdrawn = case_event("CaseWithdrawn", mentor_id=mentor["user_id"])  # still on: the control
    broker.publish(chosen)
    broker.publish(withdrawn)
    sentinel(broker, tables)
    [message] = eventually(lambda: smtp.messages(to=mentor.email), message="the control e-mail")
    assert message["X-Notification-Kind"] == "case_withdrawn"
    assert tables.outbox(chosen) == []  # no e-mail was ever queued for the kind turned off
    kinds = sorted(e["kind"] for e in rpc.notifications.list_inbox(actor))
    assert kinds == ["case_withdrawn", "mentor_chosen"]


def test_moderators_are_alerted_of_flags_and_applications_each_with_their_own_read_state(
    broker, rpc, tables, smtp, identity_store
):
    first, second = moderator(identity_store, "Maria"), moderator(identity_store, "Irina")
    rpc.notifications.update_preferences(second, {"email": {"case_flagged": False}})
    mentor = register(rpc, "mentor")
    flagged = case_event("CaseFlagged", reason="no_mentor_found", round=2)
    number = flagged["payload"]["case_number"]
    applied = envelope(
        "AccreditationRequested",
        mentor["user_id"],
        {"application_id": str(uuid.uuid4()), "mentor_id": mentor["user_id"]},
        source="identity",
    )
    broker.publish(flagged, times=2)
    broker.publish(applied)

    def listed(who):
        return {
            e["kind"]: e
            for e in rpc.notifications.list_inbox(who)
            if e["case_number"] == number or e["kind"] == "accreditation_requested"
        }

    for who in (first, second):
        entries = eventually(lambda: len(listed(who)) == 2 and listed(who), message="both alerts listed")
        assert entries["case_flagged"]["audience"] == "moderators"
        assert entries["case_flagged"]["text"] == f"Case {number} needs a moderator: no mentor fits it (round 2)."
        assert entries["accreditation_requested"]["case_id"] is None
    assert (
        len(tables.rows("SELECT id FROM inbox WHERE source_event_id = %s", flagged["event_id"])) == 1
    )  # one entry for every moderator, once
    assert rpc.notifications.list_inbox({"user_id": mentor["user_id"], "role": "mentor"}) == []

    # one moderator reads the flag: the other's stays unread
    before = rpc.notifications.unread_count(second)["unread"]
    read = rpc.notifications.mark_read(first, listed(first)["case_flagged"]["id"])
    assert read["read_at"] is not None and read["audience"] == "moderators"
    assert listed(second)["case_flagged"]["read_at"] is None
    assert rpc.notifications.unread_count(second)["unread"] == before
    result = rpc.notifications.mark_all_read(second)
    assert result["unread"] == 0 and result["marked"] >= 2
    assert listed(second)["case_flagged"]["read_at"] is not None

    # e-mails: each moderator gets each alert, unless they turned that kind off
    eventually(
        lambda: all({r[0]: r[1] for r in tables.outbox(applied)}.get(m["user_id"]) == "sent" for m in (first, second)),
        message="applications e-mailed to both",
    )  # the fan-out sends them one by one
    eventually(
        lambda: {r[0]: r[1] for r in tables.outbox(flagged)}.get(first["user_id"]) == "sent", message="flag e-mailed"
    )
    to_first = sorted(m["X-Notification-Kind"] for m in smtp.messages(to=first.email))
    to_second = sorted(m["X-Notification-Kind"] for m in smtp.messages(to=second.email))
    assert to_first == ["accreditation_requested", "case_flagged"]
    assert to_second == ["accreditation_requested"]
    statuses = {r[0]: r[1] for r in tables.outbox(flagged)}
    assert statuses["@moderators"] == "fanned_out" and second["user_id"] not in statuses


def test_the_mentor_reads_the_accreditation_decision_in_inbox_and_email(broker, rpc, smtp):
    mentor = register(rpc, "mentor")
    decided = envelope(
        "AccreditationDecided",
        mentor["user_id"],
        {
            "mentor_id": mentor["user_id"],
            "application_id": str(uuid.uuid4()),
            "decision": "rejected",
            "reason": "Add links to your works.",
        },
        source="identity",
    )
    broker.publish(decided)
    [message] = eventually(lambda: smtp.messages(to=mentor.email), message="decision e-mailed")
    assert "Reason: Add links to your works." in message.get_content()
    [entry] = rpc.notifications.list_inbox({"user_id": mentor["user_id"], "role": "mentor"})
    assert entry["kind"] == "accreditation_decided" and entry["audience"] == "personal"
