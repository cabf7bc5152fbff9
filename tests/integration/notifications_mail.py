"""identity and notifications sending e-mails to a real SMTP server, for the notification e-mail tests."""

from contextlib import contextmanager

from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import open_broker, purge

SMTP_FROM = "Mentor platform <noreply@mentor.test>"


@contextmanager
def notifications_mailing_to(smtp, start_module_service, test_env, **notifications_settings):
    """identity and notifications (with ``notifications_settings``, its workers and its e-mail
    schedule) sending to the SmtpSink ``smtp``; yields a publisher of hand-made events. Earlier modules
    leave events queued (a burst of hundreds): one at a time they would outlast a sentinel, so the
    notifications queues are purged first."""
    purge(test_env.amqp_uri, "notifications.case-events", "notifications.identity-events")
    start_module_service(IdentityService)
    start_module_service(
        NotificationsService, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_FROM=SMTP_FROM, **notifications_settings
    )
    conn, producer = open_broker(test_env.amqp_uri)
    try:
        yield producer
    finally:
        conn.release()
