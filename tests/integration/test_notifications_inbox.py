"""notifications on the real broker: a redelivered MessageSent reaches the recipient once."""

import uuid

import pytest

from services.notifications.service import NotificationsService
from tests.integration.event_helpers import envelope, open_broker, processed
from tests.support import actor, eventually


@pytest.fixture(scope="module")
def notifications(start_module_service, test_env):
    start_module_service(NotificationsService, max_workers=1)  # one message at a time: see event_helpers
    conn, broker = open_broker(test_env.amqp_uri)
    yield broker
    conn.release()


def message_sent(sender, recipient, number="MC-2026-000314"):
    case_id = str(uuid.uuid4())
    return envelope(
        "MessageSent",
        case_id,
        {
            "case_id": case_id,
            "case_number": number,
            "sender_id": sender["user_id"],
            "recipient_id": recipient["user_id"],
        },
    )


def test_a_message_delivered_twice_lands_in_the_recipients_inbox_once(notifications, rpc, db):
    sender, recipient = actor("mentor"), actor("mentee")
    body = message_sent(sender, recipient)
    notifications.publish(body, times=2)
    eventually(lambda: rpc.notifications.list_inbox(recipient), message="inbox entry")
    sentinel = message_sent(actor("mentor"), actor("mentee"))
    notifications.publish(sentinel)  # max_workers=1: once it is processed, both copies were handled
    eventually(lambda: processed(db, "notifications", sentinel), message="sentinel processed")

    [entry] = rpc.notifications.list_inbox(recipient)
    assert entry["kind"] == "message_received"
    assert entry["case_id"] == body["payload"]["case_id"] and entry["case_number"] == "MC-2026-000314"
    assert entry["text"] == "A new message arrived on case MC-2026-000314."
    assert entry["read_at"] is None
    assert rpc.notifications.list_inbox(sender) == []
