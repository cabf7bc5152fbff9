"""E-mails go out as they are queued (issue #20): the notifications sender is woken when an event
queued e-mails, and one round sends every due row (batch after batch), so with a poll interval far
longer than the test a burst of e-mails still arrives at once. Real broker, identity, notifications,
SMTP server (aiosmtpd) and databases."""

import uuid

import pytest

from tests.accounts import register_over_rpc
from tests.integration.event_helpers import envelope
from tests.integration.notifications_mail import notifications_mailing_to
from tests.integration.smtp_sink import SmtpSink
from tests.support import eventually

BURST = 45  # more than two claimed batches (services/notifications/email.py BATCH_SIZE)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    with SmtpSink(tmp_path_factory.mktemp("smtp") / "maildir") as sink:
        yield sink


@pytest.fixture(scope="module")
def broker(start_module_service, test_env, smtp):
    # the timer alone would send nothing during this module: only a wake does
    with notifications_mailing_to(smtp, start_module_service, test_env, EMAIL_POLL_INTERVAL=3600) as producer:
        yield producer


def test_a_burst_of_emails_goes_out_as_it_is_queued(broker, rpc, smtp):
    email = f"mentor.{uuid.uuid4().hex[:10]}@school.example.org"
    mentor = register_over_rpc(
        rpc,
        {
            "email": email,
            "password": "correct horse battery",
            "role": "mentor",
            "first_name": "Elena",
            "last_name": "Petrova",
        },
    )
    numbers = [f"MC-2026-{900000 + n:06d}" for n in range(BURST)]
    for number in numbers:
        case_id = str(uuid.uuid4())
        broker.publish(
            envelope(
                "MentorChosen",
                case_id,
                {"case_id": case_id, "case_number": number, "round": 1, "mentor_id": mentor["id"]},
            )
        )
    arrived = eventually(
        lambda: len(smtp.messages(to=email)) == BURST and smtp.messages(to=email),
        timeout=60,
        message="every e-mail of the burst, long before the sender's next tick",
    )
    assert sorted(m["Subject"].split("case ")[1].split(":")[0] for m in arrived) == numbers
