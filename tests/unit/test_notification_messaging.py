"""Direct messages and preferences without a database: who may write to whom, one message per request."""

import pathlib

import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.notification_kinds import KINDS
from services.notifications import messaging
from services.notifications.preferences import preferences_view

MENTOR = {"user_id": "u-mentor", "role": "mentor"}
MODERATOR = {"user_id": "u-mod", "role": "moderator"}
MENTEE = {"user_id": "u-mentee", "role": "mentee"}
GATEWAY = pathlib.Path(__file__).resolve().parents[2] / "services" / "gateway"


def test_mentors_and_moderators_message_a_mentee_does_not():
    messaging.authorize(MENTOR)
    messaging.authorize(MODERATOR)
    with pytest.raises(Forbidden) as caught:
        messaging.authorize(MENTEE)
    assert "personal-mode case" in caught.value.message


@pytest.mark.parametrize(
    "sender, role", [(MENTOR, "mentor"), (MENTOR, "moderator"), (MODERATOR, "mentor"), (MODERATOR, "moderator")]
)
def test_colleagues_may_be_written_to(sender, role):
    messaging.check_recipient(sender, "u-someone", role)


def test_a_mentee_or_nobody_or_oneself_is_not_a_recipient():
    with pytest.raises(Forbidden) as caught:
        messaging.check_recipient(MENTOR, "u-mentee", "mentee")
    assert "recipient_id" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        messaging.check_recipient(MENTOR, "u-ghost", None)
    assert caught.value.fields == {"recipient_id": ["No such user."]}
    with pytest.raises(InvalidInput):
        messaging.check_recipient(MENTOR, MENTOR["user_id"], "mentor")


def test_a_repeated_request_is_one_message():
    assert messaging.message_id("u1", "k") == messaging.message_id("u1", "k")
    assert messaging.message_id("u1", "k") != messaging.message_id("u2", "k")
    assert messaging.message_id("u1", None) != messaging.message_id("u1", None)


def test_the_notification_of_a_message_names_nobody():
    assert messaging.NOTIFICATION_TEXT == "A colleague sent you a direct message."


def test_preferences_list_every_kind_on_unless_turned_off():
    view = preferences_view({"mentor_chosen": False})
    assert [item["kind"] for item in view["items"]] == list(KINDS)
    assert {item["kind"] for item in view["items"] if not item["email"]} == {"mentor_chosen"}
    assert all(item["label"] for item in view["items"])


def test_the_gateway_never_exposes_contacts():
    """contact_for / moderator_contacts / role_of are for services: e-mails never leave through HTTP."""
    source = "\n".join(p.read_text() for p in GATEWAY.glob("*.py"))
    for rpc_name in ("contact_for", "moderator_contacts", "role_of"):
        assert rpc_name not in source, rpc_name
