"""The e-mail side of notifications without a server: backoff, giving up, the message, the settings."""

import smtplib
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from services.notifications.email import MAX_BACKOFF_SECONDS, RetryPolicy, SmtpSettings, build_message, permanent

ROW = {
    "id": "5a0c1f0e-8f59-4a57-9c36-2d5a3c3f7a10",
    "kind": "mentor_chosen",
    "text": "You were chosen as the mentor of case MC-2026-000042: please accept or decline.",
    "created_at": datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc),
    "attempts": 1,
}
CONTACT = {
    "user_id": "u1",
    "email": "elena.petrova@school.example.org",
    "display_name": "Elena Petrova",
    "role": "mentor",
}
SETTINGS = SmtpSettings(host="127.0.0.1", port=1025, sender="Mentor platform <noreply@mentor.example.org>")


def test_backoff_doubles_from_the_base_up_to_an_hour():
    policy = RetryPolicy(max_attempts=8, base_seconds=30)
    assert [policy.backoff(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert policy.backoff(40) == MAX_BACKOFF_SECONDS
    assert policy.backoff(0) == 30  # never shorter than the base


def test_a_row_is_given_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=3, base_seconds=1)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


def test_policy_and_settings_come_from_config_as_nameko_reads_it():
    policy = RetryPolicy.from_config({"EMAIL_MAX_ATTEMPTS": "5", "EMAIL_RETRY_SECONDS": "0.5"})
    assert (policy.max_attempts, policy.base_seconds) == (5, 0.5)
    settings = SmtpSettings.from_config(
        {
            "SMTP_HOST": "mail.example.org",
            "SMTP_PORT": 587,
            "SMTP_USER": "",
            "SMTP_PASSWORD": "",
            "SMTP_STARTTLS": False,
            "SMTP_FROM": "a@b.org",
        }
    )
    assert (settings.host, settings.port, settings.user, settings.starttls, settings.sender) == (
        "mail.example.org",
        587,
        "",
        False,
        "a@b.org",
    )
    assert SmtpSettings.from_config({"SMTP_STARTTLS": "true"}).starttls is True
    assert SmtpSettings.from_config({"SMTP_STARTTLS": "false"}).starttls is False
    assert SmtpSettings.from_config({}).sender  # a sender even when unset


@pytest.mark.parametrize(
    "exc, expected",
    [
        (smtplib.SMTPRecipientsRefused({"a@b.org": (550, b"no such mailbox")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.org": (450, b"mailbox busy")}), False),
        (smtplib.SMTPRecipientsRefused({"a@b.org": (550, b"no"), "c@d.org": (451, b"later")}), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError(111, "refused"), False),
        (smtplib.SMTPDataError(554, b"rejected"), False),  # may be content or policy: retried, then given up
    ],
)
def test_only_a_definite_refusal_of_every_recipient_is_permanent(exc, expected):
    assert permanent(exc) is expected


def test_the_message_names_the_recipient_and_the_step_and_keeps_its_id_across_attempts():
    message = build_message(ROW, CONTACT, SETTINGS)
    parsed = message_from_bytes(message.as_bytes(), policy=default)
    assert parsed["To"] == "Elena Petrova <elena.petrova@school.example.org>"
    assert parsed["From"] == "Mentor platform <noreply@mentor.example.org>"
    assert parsed["Subject"] == ROW["text"]
    assert parsed["Message-ID"] == f"<{ROW['id']}@mentor.example.org>"
    assert parsed["X-Notification-Kind"] == "mentor_chosen"
    body = parsed.get_content()
    assert body.startswith("Hello, Elena Petrova.") and ROW["text"] in body and "preferences" in body
    again = build_message(dict(ROW, attempts=4), CONTACT, SETTINGS)
    assert again["Message-ID"] == message["Message-ID"]


def test_a_long_text_makes_a_short_subject():
    message = build_message(dict(ROW, text="x" * 400), CONTACT, SETTINGS)
    assert len(message["Subject"]) == 150 and message["Subject"].endswith("...")
