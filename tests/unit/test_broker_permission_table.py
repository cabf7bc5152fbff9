"""The broker users' table (services/common/broker_users.py) against what the services really do, and
the places that derive from it: docker-compose.yml, .env.example and the local runner. Pure: imports
the service classes and reads files; the broker's own refusals are tests/security/test_broker_users.py."""

import importlib
import json
import re
import stat
import uuid
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR, DependencyProvider
from nameko.rpc import Rpc, RpcProxy

from contracts.topology import SESSION_FEED, SUBSCRIPTIONS, consumer_queue
from services.common import broker_users
from services.common.consumer import EventSubscriber
from services.common.relay import EventRelay
from tests.unit.test_deployment import ROOT, env_example

# importing test_deployment loaded scripts/platform.py, which put its parts (scripts/runner_*.py) on sys.path
infrastructure = importlib.import_module("runner_infrastructure")

UUID = "0f6c2d8e-1b7a-4c3e-9d2f-5a6b7c8d9e0f"


def service_class(service):
    module = importlib.import_module(f"services.{service}.service")
    [cls] = [c for c in vars(module).values() if isinstance(c, type) and getattr(c, "name", None) == service]
    return cls


def extensions(cls):
    """(dependency providers, entrypoints) declared on a service class."""
    dependencies = [v for v in vars(cls).values() if isinstance(v, DependencyProvider)]
    entrypoints = [e for v in vars(cls).values() for e in getattr(v, ENTRYPOINT_EXTENSIONS_ATTR, ())]
    return dependencies, entrypoints


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_the_table_is_what_the_service_does(service):
    dependencies, entrypoints = extensions(service_class(service))
    assert (service in broker_users.RPC_SERVERS) == any(isinstance(e, Rpc) for e in entrypoints), (
        f"{service}: RPC_SERVERS must list exactly the services with @rpc methods"
    )
    calls = sorted({d.target_service for d in dependencies if isinstance(d, RpcProxy)})
    assert calls == sorted(broker_users.CALLS.get(service, ())), (
        f"{service} calls {calls} over RPC: services/common/broker_users.py CALLS must say so"
    )
    relays = {d.source for d in dependencies if isinstance(d, EventRelay)}
    assert relays <= {service}, f"{service} relays another source's events: {relays}"
    subscribed = {e.subscription.queue for e in entrypoints if isinstance(e, EventSubscriber)}
    assert subscribed == {s.queue for s in SUBSCRIPTIONS if s.queue.split(".")[0] == service}, (
        f"{service} consumes {subscribed}: a subscription queue is named <consumer>.<what>"
    )
    if relays:
        assert any(s.source == service for s in SUBSCRIPTIONS), f"{service} publishes events nobody consumes"


def matches(pattern, name):
    return re.search(pattern, name) is not None


def topic(grant, exchange):
    found = [t for t in grant.topics if t.exchange == exchange]
    return found[0] if found else None


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_rpc_requests_only_to_the_services_it_calls(service):
    g = broker_users.grant(service)
    rpc = topic(g, broker_users.RPC_EXCHANGE)
    assert rpc is not None, "nameko-rpc without topic permissions lets any routing key through"
    for target in broker_users.RPC_SERVERS:
        allowed = target in broker_users.CALLS.get(service, ())
        for method in ("get_user", "contact_for", "get_case", "withdraw_case"):
            assert matches(rpc.write, f"{target}.{method}") == allowed, (service, target, method)
        assert matches(rpc.write, f"{target}.health") == (allowed or target == service)
        # listening in: binding a queue to another service's requests
        assert matches(rpc.read, f"{target}.*") == (target == service)
        assert not matches(rpc.read, "#") and not matches(rpc.read, f"{target}.#")
    assert matches(rpc.read, UUID) and not matches(rpc.read, f"{UUID}x")  # its reply queues' keys
    assert matches(rpc.write, UUID) == (service in broker_users.RPC_SERVERS)  # replies


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_queues_only_its_own(service):
    g = broker_users.grant(service)
    for other in broker_users.SERVICES:
        mine = other == service
        assert matches(g.read, f"rpc-{other}") == (mine and other in broker_users.RPC_SERVERS)
        assert matches(g.read, f"rpc.reply-{other}-{UUID}") == (mine and other in broker_users.CALLS)
    for s in SUBSCRIPTIONS:
        assert matches(g.read, s.queue) == s.queue.startswith(f"{service}."), s.queue
        assert not matches(g.read, f"{s.queue}.parked")  # the operator's, with the admin user
        # a publisher (re)declares its consumers' queues, and needs no more than configure and binding
        assert matches(g.configure, s.queue) == (s.queue.startswith(f"{service}.") or s.source == service)


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_events_only_on_its_own_exchange(service):
    g = broker_users.grant(service)
    for exchange in ("amq.default", "parking", "amq.topic", "amq.direct"):
        assert not matches(g.write, exchange), exchange
    for source in {s.source for s in SUBSCRIPTIONS}:
        assert matches(g.write, f"{source}.events") == (source == service)
        read = topic(g, f"{source}.events")
        subscribed = {
            t for s in SUBSCRIPTIONS if s.source == source and s.queue.startswith(f"{service}.") for t in s.event_types
        }
        if source != service and read is not None:
            for event_type in {t for s in SUBSCRIPTIONS for t in s.event_types}:
                assert matches(read.read, event_type) == (event_type in subscribed), (source, event_type)
            assert not matches(read.read, "#") and read.write == "^$"
        if source != service and read is None:
            assert not subscribed and not matches(g.read, f"{source}.events")


def test_the_definitions_topology_is_the_services_topology():
    document = broker_users.definitions({"cases": "x" * 24}, vhost="v")
    queues = {q["name"]: q for q in document["queues"]}
    for s in SUBSCRIPTIONS:
        assert queues[s.queue]["arguments"] == consumer_queue(s).queue_arguments
        bound = {
            b["routing_key"]
            for b in document["bindings"]
            if b["destination"] == s.queue and b["source"] == f"{s.source}.events"
        }
        assert bound == set(s.event_types)
        assert f"{s.queue}.parked" in queues
    [user] = document["users"]
    assert user == {"name": "mentor-cases", "password": "x" * 24, "tags": ""}  # no tag: no management access
    assert {p["user"] for p in document["permissions"]} == {"mentor-cases"}


def compose(raw=False):
    """docker-compose.yml; ``raw``: its strings as written (nameko's yaml setup, done by other tests,
    teaches safe_load to expand ${...}; BaseLoader knows no merge keys)."""
    text = (ROOT / "docker-compose.yml").read_text()
    return yaml.load(text, Loader=yaml.BaseLoader) if raw else yaml.safe_load(text)


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_compose_runs_each_service_as_its_own_user(service):
    spec = compose()["services"][service]
    variable = broker_users.password_variable(service)
    raw = compose(raw=True)["services"][service]["environment"]["AMQP_URI"]
    assert f"${{{variable}:?" in raw, f"{service}'s AMQP_URI must carry ${{{variable}}}"
    uri = urlsplit(re.sub(r"\$\{[^}]*\}", "PASSWORD", raw))
    assert uri.hostname == "rabbitmq" and unquote(uri.username) == broker_users.user_name(service)
    assert uri.password == "PASSWORD"
    assert spec["depends_on"]["broker-setup"]["condition"] == "service_completed_successfully"
    assert variable in env_example()


def test_compose_broker_setup_applies_the_table():
    services = compose()["services"]
    setup = services["broker-setup"]
    assert setup["command"] == "python -m services.common.broker_users apply"
    assert setup["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    needed = {broker_users.password_variable(s) for s in broker_users.SERVICES}
    needed |= {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_MANAGEMENT_URL", "PLATFORM_ENV"}
    assert needed <= set(setup["environment"])
    assert "management" in services["rabbitmq"]["image"]  # the API broker-setup posts to
    assert "broker-setup" not in services["web"].get("depends_on", [])  # no broker for the browser client


def test_broker_setup_refuses_weak_passwords_in_production(monkeypatch):
    posted = []
    monkeypatch.setattr(broker_users, "apply_over_http", lambda *args: posted.append(args))
    environ = dict(env_example())  # PLATFORM_ENV=production, change-me passwords
    with pytest.raises(SystemExit) as refused:
        broker_users.main(["apply"], environ=environ)
    assert "CASES_BROKER_PASSWORD is a placeholder" in str(refused.value) and not posted
    assert "change-me-broker" not in str(refused.value)  # names, never values
    for service in broker_users.SERVICES:
        environ[broker_users.password_variable(service)] = f"{service}-Zq8vT3kL0pW7xR2n"
    assert broker_users.main(["apply"], environ=environ) == 0
    [(url, user, password, document)] = posted
    assert url == "http://rabbitmq:15672" and user == environ["RABBITMQ_DEFAULT_USER"]
    assert {u["name"]: u["password"] for u in document["users"]}["mentor-gateway"] == "gateway-Zq8vT3kL0pW7xR2n"


def test_the_runner_creates_the_users_and_keeps_their_passwords(monkeypatch, tmp_path):
    imported = []

    def fake_rabbitmqctl(args, input=None, **kwargs):
        imported.append((args, json.loads(input)))

    monkeypatch.setattr(infrastructure, "BROKER_DIR", str(tmp_path / "broker"))
    monkeypatch.setattr(infrastructure.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.delenv("AMQP_URI", raising=False)
    uris = infrastructure.ensure_broker_users(run=fake_rabbitmqctl)
    [(args, document)] = imported
    assert args[:3] == ["rabbitmqctl", "-q", "import_definitions"]
    passwords = {u["name"]: u["password"] for u in document["users"]}
    assert set(uris) == set(broker_users.SERVICES)
    for service, uri in uris.items():
        parts = urlsplit(uri)
        assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", 5672, "/")
        assert parts.username == broker_users.user_name(service)
        assert parts.password == passwords[parts.username] and len(parts.password) >= 24
        path = tmp_path / "broker" / f"{service}.password"
        assert path.read_text().strip() == parts.password and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert infrastructure.ensure_broker_users(run=fake_rabbitmqctl) == uris  # the same passwords next time


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_only_the_gateway_receives_the_session_feed_and_only_its_events(service):
    g = broker_users.grant(service)
    queue = f"{SESSION_FEED.prefix}.{uuid.uuid4().hex}"
    is_gateway = service == "gateway"
    assert matches(g.read, queue) == matches(g.configure, queue) == matches(g.write, queue) == is_gateway
    assert not matches(g.read, f"{SESSION_FEED.prefix}.anything-else")
    read = topic(g, "identity.events")
    for event_type in SESSION_FEED.event_types:
        assert (read is not None and matches(read.read, event_type)) == is_gateway
    if is_gateway:
        assert read.write == "^$" and not matches(read.read, "MentorProfileUpdated")
        assert not matches(g.write, "identity.events")  # it reads identity's events, never publishes them
