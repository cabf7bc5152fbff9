"""Each service's own broker user gets nothing beyond its own traffic (issue #18, part 3), on real
`nameko run` processes.

"An attacker with a ClusterRpcProxy and the broker credentials of a service that is not the gateway
gets nothing": holding the credentials of matching, library, notifications, cases or identity
(services/common/broker_users.py), the broker itself refuses (ACCESS_REFUSED, naming the refused
routing key, queue or exchange) every call of the issue that service never makes (identity's
``get_user``, ``contact_for``, ``get_questionnaire``; cases' ``get_case``, ``get_history``,
``author_for``, ``withdraw_case``), consuming another service's queue, listening in on another
service's RPC requests or events, and publishing an event as another service (or straight into a
queue by its name). The calls a service does make (notifications asks identity, identity asks
cases) are the signed-actor check's to refuse: tests/security/test_forged_actors.py. That the
platform works under these users end to end: tests/e2e (its platform runs each service as its user).

Every refusal is asserted as the broker's, with the resource named: with one shared user (the
session's admin) each of these assertions fails - the request reaches identity or cases, the queue
is consumed, the forged event is routed.
"""

import uuid

import amqp
import kombu
import pytest
from amqp.exceptions import AccessRefused
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.topology import SUBSCRIPTIONS
from services.common import broker_users
from tests.accounts import mentee_with_an_anonymous_case
from tests.actors import signed_rpc
from tests.processes import services_as_own_users

pytestmark = pytest.mark.timeout(300)

ATTACKERS = ("matching", "library", "notifications", "cases", "identity")
REASON = {"reason": "I no longer need help with this case."}


@pytest.fixture(scope="module")
def platform(test_env, tmp_path_factory):
    """identity and cases, the services the issue's attacker reads and changes, each as its own user."""
    assert test_env.service_amqp_uri("cases") != test_env.amqp_uri, (
        "this session has no vhost of its own (rabbitmqctl on the broker's host): no per-service users"
    )
    with services_as_own_users(test_env, ("identity", "cases"), tmp_path_factory.mktemp("broker-users")) as processes:
        yield processes


@pytest.fixture(scope="module")
def victim(platform, test_env):
    """A verified mentee with a questionnaire and an anonymous case."""
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        return mentee_with_an_anonymous_case(
            gateway,
            "correct-horse-battery",
            {"school": "School No. 1541", "subjects": ["History"], "forms_taught": [7], "years_of_practice": 1},
        )


def issue_calls(author, case_id):
    """(service, method, args) of every read and change the issue's attacker made."""
    return [
        ("identity", "get_user", (author, author["user_id"])),
        ("identity", "contact_for", (author["user_id"],)),
        ("identity", "get_questionnaire", (author,)),
        ("cases", "get_case", (author, case_id)),
        ("cases", "get_history", (author, case_id)),
        ("cases", "author_for", (author, case_id)),
        ("cases", "withdraw_case", (author, case_id, REASON)),
    ]


def refused_by_broker(excinfo, *resources):
    """The broker's ACCESS_REFUSED for one of ``resources``, not a failed login (also ACCESS_REFUSED)."""
    text = str(excinfo.value)
    assert "ACCESS_REFUSED" in text or "403" in text, text
    assert "Login was refused" not in text, f"the attacker's credentials were not even accepted: {text}"
    assert any(r in text for r in resources), f"refused, but not for {resources}: {text}"


def raw_refusal(uri, action):
    """Run ``action(channel)`` as the user of ``uri``; the broker's refusal, or a failed assertion."""
    with kombu.Connection(uri, connect_timeout=10) as connection:
        channel = connection.channel()
        with pytest.raises(AccessRefused) as refused:
            action(channel)
            channel.basic_qos(0, 0, False)  # a round trip: an asynchronous refusal has arrived by now
        return refused


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_its_credentials_work_for_its_own_traffic(platform, test_env, attacker):
    """The control: the attacker's user logs in and may do what its service does (so every refusal
    below is of the resource, not of a wrong password)."""
    uri = test_env.service_amqp_uri(attacker)
    with kombu.Connection(uri, connect_timeout=10) as connection:
        connection.connect()
        assert connection.connected
    if attacker in ("identity", "cases"):
        with ClusterRpcProxy({"AMQP_URI": uri}, timeout=30) as rpc:
            assert getattr(rpc, attacker).health()["status"] == "ok"  # its own health check


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_the_broker_refuses_the_issues_calls(platform, victim, test_env, attacker):
    author, case_id = victim
    uri = test_env.service_amqp_uri(attacker)
    allowed = set(broker_users.CALLS.get(attacker, ()))
    attempted = 0
    for service, method, args in issue_calls(author, case_id):
        if service in allowed:
            continue  # a call it really makes: the signed actor's to refuse (test_forged_actors.py)
        with ClusterRpcProxy({"AMQP_URI": uri}, timeout=30) as rpc:
            with pytest.raises(AccessRefused) as refused:
                getattr(getattr(rpc, service), method)(*args)
        refused_by_broker(refused, f"topic '{service}.{method}'")
        attempted += 1
    assert attempted >= 3
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        assert gateway.cases.get_case(author, case_id)["state"] != "withdrawn"


def _others_queues(attacker):
    """Every queue the attacker's service does not consume: others' RPC queues and subscriptions, and
    every parked queue (the operator's, with the admin user)."""
    queues = [f"rpc-{s}" for s in broker_users.RPC_SERVERS if s != attacker]
    queues += [s.queue for s in SUBSCRIPTIONS if not s.queue.startswith(f"{attacker}.")]
    queues += [f"{s.queue}.parked" for s in SUBSCRIPTIONS]
    return queues


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_it_cannot_consume_another_services_queue(platform, test_env, attacker):
    uri = test_env.service_amqp_uri(attacker)
    for queue in _others_queues(attacker):
        refused = raw_refusal(uri, lambda channel: channel.basic_consume(queue, callback=lambda message: None))
        refused_by_broker(refused, f"queue '{queue}'")


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_it_cannot_listen_in_on_others_requests_or_events(platform, test_env, attacker):
    """A queue of its own (one its health check may make) bound to another service's RPC requests, or to
    every event of an exchange."""
    uri = test_env.service_amqp_uri(attacker)
    own = f"rpc.reply-{broker_users.STANDALONE}-{uuid.uuid4()}"

    def bind(exchange, key):
        def action(channel):
            channel.queue_declare(own, auto_delete=True, arguments={"x-expires": 60000})
            channel.queue_bind(own, exchange, key)

        return action

    for target in (s for s in broker_users.RPC_SERVERS if s != attacker):
        refused_by_broker(raw_refusal(uri, bind("nameko-rpc", f"{target}.*")), f"topic '{target}.*'")
    for source in sorted({s.source for s in SUBSCRIPTIONS}):
        # an exchange it reads: the key is refused; one it does not: the exchange
        refused_by_broker(raw_refusal(uri, bind(f"{source}.events", "#")), "topic '#'", f"exchange '{source}.events'")


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_it_cannot_publish_as_another_service(platform, test_env, attacker):
    """Not on another source's events exchange, not into a queue by its name (the default exchange),
    not into parking. The body is no envelope: should one get through, it is parked, not handled."""
    uri = test_env.service_amqp_uri(attacker)

    def publish(exchange, key):
        def action(channel):
            channel.confirm_select()
            channel.basic_publish(amqp.Message(b"forged", delivery_mode=2), exchange=exchange, routing_key=key)

        return action

    for subscription in (s for s in SUBSCRIPTIONS if s.source != attacker):
        exchange = f"{subscription.source}.events"
        refused_by_broker(raw_refusal(uri, publish(exchange, subscription.event_types[0])), f"exchange '{exchange}'")
    for subscription in SUBSCRIPTIONS:
        refused_by_broker(raw_refusal(uri, publish("", subscription.queue)), "exchange 'amq.default'")
    refused_by_broker(raw_refusal(uri, publish("parking", SUBSCRIPTIONS[0].queue)), "exchange 'parking'")
