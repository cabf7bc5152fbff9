"""Compose's broker-setup (``python -m services.common.broker_users apply``) on a real RabbitMQ with the
management API, as compose's ``rabbitmq:3.10-management`` has it: a private node (the shared broker has
no management plugin and must not be reconfigured). After it, each service's user logs in with its
password from the environment and has exactly its rights, and the event topology exists."""

import uuid

import amqp
import kombu
import pytest
from amqp.exceptions import AccessRefused

from contracts.topology import SUBSCRIPTIONS
from services.common import broker_users
from tests.faults.private_broker import PrivateBroker

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    node = PrivateBroker(tmp_path_factory.mktemp("rabbitmq-management"), management=True).start()
    try:
        yield node
    finally:
        node.close()


def environment(broker, **overrides):
    environ = {
        "RABBITMQ_MANAGEMENT_URL": broker.management_url,
        "RABBITMQ_DEFAULT_USER": "guest",
        "RABBITMQ_DEFAULT_PASS": "guest",
        "PLATFORM_ENV": "production",
    }
    environ.update({broker_users.password_variable(s): f"{s}-{uuid.uuid4().hex}" for s in broker_users.SERVICES})
    environ.update(overrides)
    return environ


def uri(broker, environ, service):
    return broker_users.service_uri(broker.uri, service, environ[broker_users.password_variable(service)])


def test_broker_setup_creates_each_services_user_with_its_rights_and_the_topology(broker):
    environ = environment(broker)
    assert broker_users.main(["apply"], environ=environ) == 0
    with kombu.Connection(broker.uri) as admin:  # the topology is there before any service starts
        channel = admin.channel()
        for s in SUBSCRIPTIONS:
            channel.queue_declare(s.queue, passive=True)
            channel.queue_declare(f"{s.queue}.parked", passive=True)
        channel.exchange_declare("nameko-rpc", "topic", durable=True, auto_delete=False)
    with kombu.Connection(uri(broker, environ, "matching")) as matching:
        channel = matching.channel()
        channel.confirm_select()  # basic_publish_confirm: waits for the broker's answer to each
        channel.basic_publish_confirm(amqp.Message(b"{}"), exchange="matching.events", routing_key="MentorsMatched")
        with pytest.raises(AccessRefused) as refused:
            channel.basic_publish_confirm(amqp.Message(b"{}"), exchange="nameko-rpc", routing_key="identity.get_user")
        assert "identity.get_user" in str(refused.value)


def test_setting_up_again_changes_the_passwords(broker):
    first = environment(broker)
    broker_users.main(["apply"], environ=first)
    second = environment(broker)
    broker_users.main(["apply"], environ=second)
    with kombu.Connection(uri(broker, second, "cases")) as cases:
        cases.connect()
    with pytest.raises(AccessRefused):
        with kombu.Connection(uri(broker, first, "cases")) as stale:
            stale.connect()


def test_broker_setup_refuses_a_weak_password_and_creates_nothing(broker):
    environ = environment(broker, LIBRARY_BROKER_PASSWORD="library")
    with pytest.raises(SystemExit) as refused:
        broker_users.main(["apply"], environ=dict(environ, GATEWAY_BROKER_PASSWORD="g" * 40))
    assert "LIBRARY_BROKER_PASSWORD" in str(refused.value) and "GATEWAY_BROKER_PASSWORD" in str(refused.value)
    with pytest.raises(AccessRefused):
        with kombu.Connection(uri(broker, environ, "library")) as library:
            library.connect()
