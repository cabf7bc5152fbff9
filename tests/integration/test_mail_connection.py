"""services/common/mail.py's Mailer against a real SMTP server (aiosmtpd in its own process): one
connection for a round of messages, opened again once when the server closed it (a restart), and a
server that is down is an error the caller retries (nothing is lost or sent twice by the Mailer)."""

from datetime import datetime, timezone

import pytest

from services.common.mail import Mailer, SmtpSettings, plain_message, send
from tests.integration.smtp_sink import SmtpSink


@pytest.fixture
def smtp(tmp_path):
    sink = SmtpSink(tmp_path / "maildir").start()
    yield sink
    sink.stop()


def _message(settings, n):
    return plain_message(
        settings,
        f"reader{n}@school.example.org",
        f"Message {n}",
        f"Body {n}.\n",
        f"mailer-test-{n}",
        datetime.now(timezone.utc),
    )


def test_a_round_of_messages_goes_over_one_connection(smtp):
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="noreply@mentor.test")
    with Mailer(settings) as mailer:
        mailer.send(_message(settings, 0))
        connection = mailer.smtp
        for n in range(1, 30):
            mailer.send(_message(settings, n))
            assert mailer.smtp is connection  # reused, not opened per message
    assert mailer.smtp is None  # closed with the round
    assert sorted(int(m["Subject"].split()[1]) for m in smtp.messages()) == list(range(30))


def test_a_connection_the_server_closed_is_opened_again_once(smtp):
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="noreply@mentor.test")
    with Mailer(settings) as mailer:
        mailer.send(_message(settings, 1))
        before = mailer.smtp
        smtp.stop()  # a restart of the server: the open connection is gone
        smtp.start()
        mailer.send(_message(settings, 2))
        assert mailer.smtp is not before
    assert [m["Subject"] for m in smtp.messages()] == ["Message 1", "Message 2"]


def test_a_server_that_is_down_is_an_error_for_the_caller_to_retry(smtp):
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="noreply@mentor.test")
    smtp.stop()
    try:
        with Mailer(settings) as mailer:
            with pytest.raises(ConnectionError):
                mailer.send(_message(settings, 1))
            assert mailer.smtp is None
        with pytest.raises(ConnectionError):
            send(_message(settings, 2), settings)
    finally:
        smtp.start()
    send(_message(settings, 3), settings)
    assert [m["Subject"] for m in smtp.messages()] == ["Message 3"]


def test_non_ascii_names_subjects_and_bodies_arrive_as_written(smtp):
    from email.utils import formataddr

    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="Платформа «Твой наставник» <noreply@mentor.test>")
    send(
        plain_message(
            settings,
            formataddr(("Анна Смирнова", "anna@school.example.org")),
            "Кейс MC-2026-000001: ответ",
            "Здравствуйте, Анна.\n\nНаставник ответил.\n",
            "mailer-test-ru",
            datetime.now(timezone.utc),
            {"X-Notification-Kind": "mentor_accepted"},
        ),
        settings,
    )
    [message] = smtp.messages(to="anna@school.example.org")
    assert message["To"].addresses[0].display_name == "Анна Смирнова"
    assert message["From"].addresses[0].display_name == "Платформа «Твой наставник»"
    assert message["Subject"] == "Кейс MC-2026-000001: ответ"
    assert message.get_content() == "Здравствуйте, Анна.\n\nНаставник ответил.\n"
    assert (
        message["Message-ID"] == "<mailer-test-ru@mentor.test>" and message["X-Notification-Kind"] == "mentor_accepted"
    )
