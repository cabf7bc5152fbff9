"""One RabbitMQ user per service, with the least permissions the platform's traffic needs (issue #18).

Why: the gateway faces the internet, and any service may one day be compromised. With one shared
broker user, whoever holds any service's credentials can call every RPC of every service, read any
queue (every event, every reply) and publish events as any service. With a user per service the
broker itself refuses what that service never does: a ``ClusterRpcProxy`` holding matching's
credentials cannot even send a request to identity or cases (ACCESS_REFUSED), consume another
service's queue or publish on another service's events exchange.

This module is the one place the users and their rights are written; everything else derives from
it: the local runner (scripts/platform.py ``up``: ``rabbitmqctl import_definitions``), the test
platform (tests/conftest.py, users namespaced to the session's vhost) and docker compose (the
one-shot ``broker-setup`` service runs ``python -m services.common.broker_users apply``, which posts
the same definitions to the management API). tests/unit/test_broker_permission_table.py checks the table
against the services' own RPC proxies, entrypoints, relays and subscriptions, and compose against
the table.

What each service does on the broker, and so may do (RabbitMQ's configure / write / read regexes,
plus *topic permissions*, which check the routing key on a topic exchange):

- an RPC server (every service but the gateway) declares and consumes ``rpc-<service>``, bound to
  ``nameko-rpc`` with the key ``<service>.*``, and publishes its replies to ``nameko-rpc`` with the
  caller's reply key (a UUID);
- an RPC caller declares and consumes its reply queues ``rpc.reply-<service>-<uuid>`` (key: the uuid)
  and publishes requests to ``nameko-rpc`` with the keys ``<target>.<method>`` of the services it
  calls (CALLS) and no other: topic permission ``^(UUID|target\\.[^.]+)$``;
- the container health check (services/common/healthcheck.py, run with the service's own
  credentials) is a standalone proxy: reply queues ``rpc.reply-standalone_rpc_proxy-<uuid>``, and
  the one request ``<service>.health``;
- an event publisher (a source in contracts/topology.py) publishes on its own ``<source>.events``
  only, and (re)declares the queues of its consumers and their ``.parked`` queues before the first
  publish (its relay: configure, and write/read for the bindings; never read on those queues);
- an event consumer declares and consumes its own subscription queues, bound to the source's
  exchange with the event types it subscribes to (topic read permission on exactly those);
- a broadcast's receiver (contracts/topology.py BROADCASTS: each gateway process's session feed)
  declares and consumes queues ``<prefix>.<32 hex digits>`` of its own, bound to the source's exchange
  with the broadcast's event types (topic read permission on those), and declares that exchange.

Nobody may publish to the default exchange (it reaches any queue by name, past every topic
permission) nor to ``parking``: the broker itself dead-letters to it. Because creating a queue that
dead-letters needs read on it and write on ``parking``, the setup declares the whole topology first
(as the admin: the ``exchanges``, ``queues`` and ``bindings`` of the definitions); the services then
only re-declare, which needs configure alone.

What remains (RabbitMQ cannot express less): a service may delete the exchanges and queues it
declares (nameko and kombu declare them at every start); a publisher may delete its consumers'
queues. That is denial of service, never disclosure or forgery.

Operators' tools (services.common.parked, a ClusterRpcProxy) need the admin user, not a service's.
"""

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from contracts.topology import BROADCAST_QUEUE_SUFFIX, BROADCASTS, DELIVERY_LIMIT, PARKING_EXCHANGE, SUBSCRIPTIONS

RPC_EXCHANGE = "nameko-rpc"
STANDALONE = "standalone_rpc_proxy"  # nameko's service name of a standalone ClusterRpcProxy
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# every service that talks to the broker (services/web talks only HTTP to the gateway)
SERVICES = ("identity", "cases", "matching", "notifications", "library", "gateway")
# who serves RPC (has @rpc entrypoints) and whom each service calls (its RpcProxy dependencies)
RPC_SERVERS = ("identity", "cases", "matching", "notifications", "library")
CALLS = {
    "gateway": ("cases", "identity", "library", "matching", "notifications"),
    "identity": ("cases",),  # the author card: who may see an author
    "notifications": ("identity",),  # contacts and roles for the inbox and e-mails
}
USER_PREFIX = "mentor-"  # the broker user of a service: mentor-<service> (tests add their namespace)


def user_name(service, namespace=""):
    return f"{namespace}{USER_PREFIX}{service}"


def password_variable(service):
    """The .env variable holding ``service``'s broker password (compose)."""
    return f"{service.upper()}_BROKER_PASSWORD"


def _alternatives(patterns):
    """``^(a|b)$`` of regex ``patterns``; ``^$`` (matches no name) when there are none."""
    patterns = sorted(set(patterns))
    return f"^({'|'.join(patterns)})$" if patterns else "^$"


def _names(names):
    return [re.escape(n) for n in names]


def _exchange(source):
    return f"{source}.events"


def _consumer(subscription):
    """The service consuming a subscription's queue: its name's first part (``matching.case-events``)."""
    return subscription.queue.split(".", 1)[0]


def _receiver(broadcast):
    """The service whose every process receives a broadcast: its prefix's first part (``gateway.sessions``)."""
    return broadcast.prefix.split(".", 1)[0]


@dataclass(frozen=True)
class TopicGrant:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class Grant:
    """A service's rights: the configure / write / read regexes and its topic permissions."""

    service: str
    configure: str
    write: str
    read: str
    topics: tuple


def grant(service):
    """What ``service`` may do, derived from the tables above and contracts/topology.py."""
    if service not in SERVICES:
        raise KeyError(f"no broker user for {service!r}; one of {', '.join(SERVICES)}")
    configure, write, read = [], [], []
    rpc_read, rpc_write = [], []
    calls = CALLS.get(service, ())
    uses_rpc = service in RPC_SERVERS or bool(calls)
    if uses_rpc:
        configure.append(re.escape(RPC_EXCHANGE))
        write.append(re.escape(RPC_EXCHANGE))
        read.append(re.escape(RPC_EXCHANGE))
    if service in RPC_SERVERS:
        own = re.escape(f"rpc-{service}")
        configure.append(own), write.append(own), read.append(own)
        rpc_read.append(re.escape(f"{service}.*"))
        rpc_write.append(UUID)  # replies, to the caller's reply key
        # the container's health check: a standalone proxy asking this service's health
        standalone = re.escape(f"rpc.reply-{STANDALONE}-") + UUID
        configure.append(standalone), write.append(standalone), read.append(standalone)
        rpc_write.append(re.escape(f"{service}.health"))
        rpc_read.append(UUID)
    if calls:
        replies = re.escape(f"rpc.reply-{service}-") + UUID
        configure.append(replies), write.append(replies), read.append(replies)
        rpc_read.append(UUID)
        rpc_write.extend(re.escape(f"{target}.") + r"[^.]+" for target in calls)
    topics = []
    if uses_rpc:
        topics.append(TopicGrant(RPC_EXCHANGE, _alternatives(rpc_write), _alternatives(rpc_read)))
    published = [s for s in SUBSCRIPTIONS if s.source == service]
    if published:  # its relay: its exchange, its consumers' queues and their parking
        exchange = _exchange(service)
        queues = [s.queue for s in published] + [f"{s.queue}.parked" for s in published]
        configure.extend(_names([exchange, PARKING_EXCHANGE.name, *queues]))
        write.extend(_names([exchange, *queues]))
        read.extend(_names([exchange, PARKING_EXCHANGE.name]))
    consumed = [s for s in SUBSCRIPTIONS if _consumer(s) == service]
    for subscription in consumed:
        exchange = _exchange(subscription.source)
        configure.extend(_names([subscription.queue, exchange]))
        write.extend(_names([subscription.queue]))
        read.extend(_names([subscription.queue, exchange]))
    received = [b for b in BROADCASTS if _receiver(b) == service]
    for broadcast in received:
        queues = re.escape(f"{broadcast.prefix}.") + BROADCAST_QUEUE_SUFFIX
        exchange = re.escape(_exchange(broadcast.source))
        configure.extend([queues, exchange]), write.append(queues), read.extend([queues, exchange])
    sources = {s.source for s in published} | {s.source for s in consumed} | {b.source for b in received}
    for source in sorted(sources):
        bound = {
            t
            for s in SUBSCRIPTIONS
            if s.source == source and (source == service or _consumer(s) == service)
            for t in s.event_types
        } | {t for b in received if b.source == source for t in b.event_types}
        # its own exchange: any event type it logs (an unsubscribed type too); another's: nothing
        topics.append(TopicGrant(_exchange(source), ".*" if source == service else "^$", _alternatives(_names(bound))))
    return Grant(service, _alternatives(configure), _alternatives(write), _alternatives(read), tuple(topics))


def topology_definitions(vhost):
    """The exchanges, queues and bindings of contracts/topology.py as definitions (declared by the admin
    before any service starts: see the module's docstring)."""
    sources = sorted({s.source for s in SUBSCRIPTIONS})
    exchanges = [
        {
            "name": _exchange(s),
            "vhost": vhost,
            "type": "topic",
            "durable": True,
            "auto_delete": False,
            "internal": False,
            "arguments": {},
        }
        for s in sources
    ]
    exchanges.append(
        {
            "name": PARKING_EXCHANGE.name,
            "vhost": vhost,
            "type": "direct",
            "durable": True,
            "auto_delete": False,
            "internal": False,
            "arguments": {},
        }
    )
    queues, bindings = [], []
    for s in SUBSCRIPTIONS:
        queues.append(
            {
                "name": s.queue,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": {
                    "x-queue-type": "quorum",
                    "x-delivery-limit": DELIVERY_LIMIT,
                    "x-dead-letter-exchange": PARKING_EXCHANGE.name,
                    "x-dead-letter-routing-key": s.queue,
                },
            }
        )
        queues.append(
            {"name": f"{s.queue}.parked", "vhost": vhost, "durable": True, "auto_delete": False, "arguments": {}}
        )
        bindings.extend(
            {
                "source": _exchange(s.source),
                "vhost": vhost,
                "destination": s.queue,
                "destination_type": "queue",
                "routing_key": t,
                "arguments": {},
            }
            for t in s.event_types
        )
        bindings.append(
            {
                "source": PARKING_EXCHANGE.name,
                "vhost": vhost,
                "destination": f"{s.queue}.parked",
                "destination_type": "queue",
                "routing_key": s.queue,
                "arguments": {},
            }
        )
    return {"exchanges": exchanges, "queues": queues, "bindings": bindings}


def definitions(passwords, vhost="/", namespace=""):
    """RabbitMQ definitions (``rabbitmqctl import_definitions``, or POST /api/definitions): one user per
    service in ``passwords`` ({service: password}), its permissions and topic permissions on ``vhost``,
    and the topology. Importing them again updates the passwords and rights (idempotent)."""
    users, permissions, topic_permissions = [], [], []
    for service in sorted(passwords):
        g, user = grant(service), user_name(service, namespace)
        users.append({"name": user, "password": passwords[service], "tags": ""})
        permissions.append({"user": user, "vhost": vhost, "configure": g.configure, "write": g.write, "read": g.read})
        topic_permissions.extend(
            {"user": user, "vhost": vhost, "exchange": t.exchange, "write": t.write, "read": t.read} for t in g.topics
        )
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        **topology_definitions(vhost),
    }


def service_uri(base_uri, service, password, namespace=""):
    """``base_uri`` (the broker and vhost) with ``service``'s own user and password."""
    parts = urlsplit(base_uri)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user_name(service, namespace), safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def vhost_of(uri):
    """The vhost an AMQP URI names (``/`` when it names none)."""
    path = urlsplit(uri).path
    return "/" if path in ("", "/") else path[1:]


def import_with_rabbitmqctl(document, run=None, timeout=120):
    """Import ``document`` into the local node with ``rabbitmqctl import_definitions`` (one call, about
    3 s, however many users: the runner and the test platform). On standard input: no file holds the
    passwords (and rabbitmqctl runs as the rabbitmq user, who could not read ours)."""
    import subprocess

    run = run or subprocess.run
    run(
        ["rabbitmqctl", "-q", "import_definitions", "--format", "json"],
        input=json.dumps(document).encode(),
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def delete_with_rabbitmqctl(services, namespace, run=None, timeout=60):
    import subprocess

    run = run or subprocess.run
    for service in services:
        run(["rabbitmqctl", "-q", "delete_user", user_name(service, namespace)], capture_output=True, timeout=timeout)


# ---- compose: the one-shot broker-setup service ---------------------------------------------------


def apply_over_http(management_url, admin_user, admin_password, document, timeout=30, attempts=30, pause=2.0):
    """POST ``document`` to the management API's /api/definitions (compose's RabbitMQ image has it). The
    broker answers its health check a little before the API listens: a refused connection or a 503 is
    tried again, ``attempts`` times ``pause`` seconds apart; any other answer is final."""
    import time

    import requests

    url = f"{management_url.rstrip('/')}/api/definitions"
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(url, json=document, auth=(admin_user, admin_password), timeout=timeout)
        except requests.ConnectionError:
            response = None
        if response is not None and response.status_code in (200, 201, 204):
            return
        if response is not None and response.status_code != 503:
            raise RuntimeError(f"the broker refused the definitions: HTTP {response.status_code} {response.text[:300]}")
        if attempt < attempts:
            time.sleep(pause)
    raise RuntimeError(f"the management API at {management_url} did not answer after {attempts} attempts")


def passwords_from_environment(environ):
    """{service: password} from ``<SERVICE>_BROKER_PASSWORD``; in production each must pass the password
    rule of services/common/settings.py (the services' own AMQP_URI check refuses them too)."""
    from services.common.settings import PASSWORD_MIN_LENGTH, PRODUCTION, platform_env, weakness

    passwords, problems = {}, []
    production = platform_env({}, environ) == PRODUCTION
    for service in SERVICES:
        name = password_variable(service)
        value = environ.get(name, "")
        reason = weakness(value, PASSWORD_MIN_LENGTH) if production else (None if value else "is empty")
        if reason:
            problems.append(f"{name} {reason}")
        passwords[service] = value
    if problems:
        raise SystemExit("broker-setup refuses: " + "; ".join(problems) + " (see .env.example)")
    return passwords


def main(argv=None, environ=None):
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m services.common.broker_users",
        description="Create one RabbitMQ user per service with least permissions.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "apply",
        help="post the users, rights and topology to the management API (compose); "
        "reads RABBITMQ_MANAGEMENT_URL, RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, "
        "RABBITMQ_VHOST and <SERVICE>_BROKER_PASSWORD",
    )
    commands.add_parser("show", help="print each service's rights (no passwords)")
    args = parser.parse_args(argv)
    if args.command == "show":
        for service in SERVICES:
            g = grant(service)
            print(
                json.dumps(
                    {
                        "user": user_name(service),
                        "configure": g.configure,
                        "write": g.write,
                        "read": g.read,
                        "topics": [t.__dict__ for t in g.topics],
                    }
                )
            )
        return 0
    document = definitions(passwords_from_environment(environ), vhost=environ.get("RABBITMQ_VHOST", "/"))
    apply_over_http(
        environ.get("RABBITMQ_MANAGEMENT_URL", "http://rabbitmq:15672"),
        environ["RABBITMQ_DEFAULT_USER"],
        environ["RABBITMQ_DEFAULT_PASS"],
        document,
    )
    print(f"broker users: {', '.join(user_name(s) for s in SERVICES)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
