"""The Docker Swarm stack files, derived from docker-compose.yml (the one source): ``python -m
operations.stack`` rewrites deploy/stack.yml and deploy/stack-ports.yml, and tests/unit/test_stack_file.py
fails, naming that command, when they differ from a fresh generation.

What changes from compose to swarm, and why:
- ``depends_on`` becomes the short list (swarm refuses the long form and orders nothing anyway: a service
  started before its broker, database or one-shot is ready fails, and swarm starts it again);
- every long-running service gets a restart policy of ``any``; a one-shot (compose's ``restart: "no"``,
  e.g. broker-setup) runs once, retried ``on-failure`` until its dependencies answer;
- replicas: ``REPLICAS`` for the platform's services (2, matching and notifications 3), one for the
  infrastructure (its data lives on one node's volume) and the one-shots;
- ``endpoint_mode: dnsrr``: a service's name resolves to every replica's address (virtual-IP load
  balancing is left out: it failed with 'No route to host' on kernels like the CI's, and the clients
  here spread their own connections; RPC is spread by RabbitMQ anyway);
- rolling updates one replica at a time, the new one started and healthy before the old one stops
  (``start-first``), rolled back on failure; a service with a data volume stops first (two PostgreSQL
  servers on one data directory would corrupt it);
- a file bind-mounted from the repository (the PostgreSQL init script) becomes a swarm config, which
  swarm carries to whichever node runs the service;
- the app image is ``${PLATFORM_IMAGE:-mentor-platform:latest}``: on several machines it comes from a
  registry; a new tag rolls the services over;
- no port is published in deploy/stack.yml: the services reach each other on the stack's overlay network
  (attachable: a proxy or a probe container joins it). deploy/stack-ports.yml, given as a second ``-c``,
  publishes the gateway and the browser client in host mode (swarm's ingress routing mesh is left out
  for the reason above), one replica of each per node (two cannot bind one port). A port compose binds
  to the loopback only (mailpit's page, which has no login) is not published: swarm binds every interface.
"""

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
STACK_FILE = ROOT / "deploy" / "stack.yml"
PORTS_FILE = ROOT / "deploy" / "stack-ports.yml"
APP_IMAGE = "mentor-platform:latest"
PLATFORM_IMAGE = "${PLATFORM_IMAGE:-mentor-platform:latest}"
STACK_VERSION = "3.8"  # the first with placement.max_replicas_per_node
DEFAULT_REPLICAS = 2
REPLICAS = {"matching": 3, "notifications": 3}  # the busiest consumers of case events
DROPPED = ("build", "pull_policy", "restart", "container_name")  # compose-only: swarm refuses or ignores them
# one replica at a time; a new one counts as updated once healthy and still running 10 s later
ROLLING = {"parallelism": 1, "delay": "2s", "failure_action": "rollback", "monitor": "10s", "order": "start-first"}
RESTART_DELAY = "5s"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
SHORT_PORT = re.compile(r"^(?:(?P<host>.+):)?(?P<target>\d+)(?:/(?P<protocol>tcp|udp))?$")

HEADER = """\
# Made by `python -m operations.stack` from docker-compose.yml: do not edit by hand
# (tests/unit/test_stack_file.py fails when it differs from a fresh generation).
"""
STACK_HEADER = (
    HEADER
    + """\
# The platform on Docker Swarm (README, Operators: "On Docker Swarm"). `docker stack deploy` does not
# read .env; it interpolates its own environment:
#   set -a; . ./.env; set +a
#   docker stack deploy --with-registry-auth -c deploy/stack.yml -c deploy/stack-ports.yml mentor
"""
)
PORTS_HEADER = (
    HEADER
    + """\
# Given after deploy/stack.yml: publishes the gateway and the browser client on each node running one
# (host mode: one replica of each per node; put a load balancer in front of the nodes).
"""
)


def load_yaml(text):
    """YAML as written: ``${VAR:-default}`` stays text. nameko's config loader teaches PyYAML's SafeLoader,
    process-wide, to replace ``${...}`` by the environment (with its own default syntax); a loader holding
    YAML's own resolvers only is immune to that, whatever was imported before."""

    class PlainLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = {
            first: [(tag, pattern) for tag, pattern in resolvers if tag.startswith("tag:yaml.org,2002:")]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    return yaml.load(text, Loader=PlainLoader)  # a SafeLoader: builds no objects


def is_one_shot(service):
    """A job that runs to completion (compose's ``restart: "no"``), not a server."""
    return str(service.get("restart", "")).lower() in ("no", "false")


def is_app(service):
    return service.get("image") == APP_IMAGE


def has_data_volume(service):
    """A named volume (not a file from the repository): the service's state lives on its node."""
    return any(not str(volume).startswith(("./", "/")) for volume in service.get("volumes", []))


def repository_files(name, service):
    """[(config name, source path relative to the repository, target, read-only)] of the files the
    service bind-mounts from the repository (``./path:target[:ro]``)."""
    found = []
    for volume in service.get("volumes", []):
        parts = str(volume).split(":")
        if parts[0].startswith("./"):
            source = parts[0][2:]
            found.append((f"{name}-{Path(source).name}", source, parts[1]))
    return found


def parse_port(spec):
    """(host part or None, target, protocol) of a short-syntax port ``[host:]target[/protocol]``."""
    match = SHORT_PORT.match(str(spec))
    if match is None:
        raise ValueError(f"docker-compose.yml: a port spelled {spec!r}: only [host:]container[/protocol] is read")
    return match["host"], int(match["target"]), match["protocol"] or "tcp"


def published_ports(service):
    """The long-syntax host-mode ports of a service's published ports, the loopback-only ones left out."""
    ports = []
    for spec in service.get("ports", []):
        host, target, protocol = parse_port(spec)
        if host is None or host.split(":")[0] in LOOPBACK:
            continue  # not published by compose, or on this machine's loopback alone
        ports.append({"target": target, "published": host, "protocol": protocol, "mode": "host"})
    return ports


def deploy_section(name, service):
    one_shot = is_one_shot(service)
    replicas = 1 if one_shot or not is_app(service) else REPLICAS.get(name, DEFAULT_REPLICAS)
    order = "stop-first" if has_data_volume(service) else "start-first"
    deploy = {"mode": "replicated", "replicas": replicas, "endpoint_mode": "dnsrr"}
    if one_shot:
        deploy["restart_policy"] = {"condition": "on-failure", "delay": RESTART_DELAY}
    else:
        deploy["restart_policy"] = {"condition": "any", "delay": RESTART_DELAY}
        deploy["update_config"] = {**ROLLING, "order": order}
        deploy["rollback_config"] = {"parallelism": 1, "order": order}
    return deploy


def stack_service(name, service):
    converted = {}
    for key, value in service.items():
        if key in DROPPED or key == "ports":
            continue
        if key == "image" and value == APP_IMAGE:
            value = PLATFORM_IMAGE
        elif key == "depends_on" and isinstance(value, dict):
            value = list(value)
        elif key == "volumes":
            value = [v for v in value if not str(v).startswith("./")]
            if not value:
                continue
        converted[key] = value
    files = repository_files(name, service)
    if files:
        converted["configs"] = [
            {"source": config, "target": target, "mode": file_mode(source)} for config, source, target in files
        ]
    converted["deploy"] = deploy_section(name, service)
    return converted


def file_mode(source):
    """0555 for an executable script (PostgreSQL's entrypoint runs it rather than sourcing it), else 0444."""
    return 0o555 if (ROOT / source).stat().st_mode & 0o111 else 0o444


def stack(compose):
    """deploy/stack.yml's content: every compose service converted, on an attachable overlay network."""
    services = {name: stack_service(name, service) for name, service in compose["services"].items()}
    configs = {
        config: {"file": os.path.relpath(ROOT / source, STACK_FILE.parent)}  # a path is read from the file's folder
        for name, service in compose["services"].items()
        for config, source, _ in repository_files(name, service)
    }
    document = {"version": STACK_VERSION, "services": services}
    document["networks"] = {"default": {"driver": "overlay", "attachable": True}}
    if compose.get("volumes"):
        document["volumes"] = {name: volume or {} for name, volume in compose["volumes"].items()}
    if configs:
        document["configs"] = configs
    return document


def ports(compose):
    """deploy/stack-ports.yml's content: the published ports, one replica per node of each service."""
    services = {}
    for name, service in compose["services"].items():
        published = published_ports(service)
        if published:
            services[name] = {"ports": published}
            if is_app(service) and not is_one_shot(service):
                services[name]["deploy"] = {"placement": {"max_replicas_per_node": 1}}
    return {"version": STACK_VERSION, "services": services}


def render(header, document):
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=1000)


def generated(compose_text=None):
    """{path: text} of both stack files, from docker-compose.yml (or ``compose_text``)."""
    compose = load_yaml(compose_text if compose_text is not None else COMPOSE_FILE.read_text())
    return {STACK_FILE: render(STACK_HEADER, stack(compose)), PORTS_FILE: render(PORTS_HEADER, ports(compose))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date (exit 1)")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
