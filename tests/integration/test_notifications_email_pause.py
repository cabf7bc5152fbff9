"""The e-mail sender when identity does not answer: the row it was on counts a failed attempt, the
rest of the round goes back untouched (due now, attempt not counted), so one round costs one
RPC_TIMEOUT, not one per row, and a graceful stop is not held up for minutes."""

import uuid

import pytest
from kombu import Connection, Exchange, Queue

from services.notifications.service import NotificationsService
from tests.integration.event_helpers import give_up_emails
from tests.support import eventually

ROWS = 5


@pytest.fixture
def silent_identity(test_env):
    """identity's RPC queue exists (so a request is routed) but nothing consumes it."""
    queue = Queue(
        "rpc-identity",
        exchange=Exchange("nameko-rpc", durable=True, type="topic"),
        routing_key="identity.*",
        durable=True,
    )
    with Connection(test_env.amqp_uri) as conn:
        queue(conn.default_channel).declare()
        conn.default_channel.queue_purge("rpc-identity")
    yield
    with Connection(test_env.amqp_uri) as conn:  # no later identity should answer these requests
        conn.default_channel.queue_purge("rpc-identity")


def test_a_silent_identity_pauses_the_round_and_puts_the_rest_back(start_service, test_env, db, silent_identity):
    start_service(NotificationsService, RPC_TIMEOUT=0.3, EMAIL_POLL_INTERVAL=1.5, EMAIL_RETRY_SECONDS=600)
    give_up_emails(test_env)  # only this test's rows are due
    event_id = str(uuid.uuid4())
    with db("notifications").cursor() as cur:
        cur.execute(
            "INSERT INTO email_outbox (source_event_id, recipient, kind, text) "
            "SELECT %s, 'user-' || n, 'mentor_chosen', 'You were chosen.' FROM generate_series(1, %s) n",
            (event_id, ROWS),
        )

    def rows():
        with db("notifications").cursor() as cur:
            cur.execute(
                "SELECT attempts, status, last_error, next_attempt_at <= now() FROM email_outbox "
                "WHERE source_event_id = %s ORDER BY attempts DESC",
                (event_id,),
            )
            return cur.fetchall()

    def paused_after_one():
        tried, *rest = rows()
        return (
            tried[0] == 1
            and tried[2].startswith("ServiceUnavailable")
            and rest == [(0, "pending", None, True)] * (ROWS - 1)
        )

    eventually(
        paused_after_one, timeout=10, interval=0.05, message="one row tried, the others put back untouched and due"
    )
    # every later round tries one more row; none is given up or tried twice before its backoff
    eventually(
        lambda: all(attempts == 1 for attempts, *_ in rows()),
        timeout=30,
        message="each row tried once, a round at a time",
    )
    assert {status for _, status, *_ in rows()} == {"pending"}
    give_up_emails(test_env)
