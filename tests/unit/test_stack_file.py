"""The swarm stack files (deploy/stack.yml, deploy/stack-ports.yml) are docker-compose.yml converted by
operations/stack.py, never a hand conversion: a change to the compose file that is not regenerated
fails here. Pure: reads files only (tests/deploy/test_swarm_stack.py deploys the result)."""

import textwrap

import pytest

from operations import stack

COMPOSE = stack.load_yaml(stack.COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def generated():
    return {path: stack.load_yaml(text) for path, text in stack.generated().items()}


def test_the_stack_files_are_a_fresh_generation_of_the_compose_file():
    for path, text in stack.generated().items():
        assert path.exists() and path.read_text() == text, (
            f"{path.relative_to(stack.ROOT)} differs from docker-compose.yml: run `python -m operations.stack`"
        )


def test_every_compose_service_is_in_the_stack_with_its_settings(generated):
    services = generated[stack.STACK_FILE]["services"]
    assert set(services) == set(COMPOSE["services"])
    for name, service in COMPOSE["services"].items():
        converted = services[name]
        for key in ("command", "environment", "healthcheck", "stop_grace_period", "init"):
            assert converted.get(key) == service.get(key), f"{name}: {key}"
        assert set(converted.get("depends_on", [])) == set(service.get("depends_on", []))


def test_swarm_takes_only_the_short_depends_on_and_no_compose_only_keys(generated):
    for name, service in generated[stack.STACK_FILE]["services"].items():
        assert isinstance(service.get("depends_on", []), list), name
        assert not set(service) & {"build", "pull_policy", "restart", "container_name", "ports"}, name


def test_replicas_two_of_every_service_three_of_matching_and_notifications(generated):
    services = generated[stack.STACK_FILE]["services"]
    replicas = {name: service["deploy"]["replicas"] for name, service in services.items()}
    assert replicas == {
        "rabbitmq": 1,
        "postgres": 1,
        "mailpit": 1,
        "broker-setup": 1,
        "identity": 2,
        "cases": 2,
        "matching": 3,
        "notifications": 3,
        "library": 2,
        "gateway": 2,
        "web": 2,
    } | {name: 1 for name, service in COMPOSE["services"].items() if stack.is_one_shot(service)}


def test_every_service_resolves_by_dns_round_robin_and_rolls_one_replica_at_a_time(generated):
    for name, service in generated[stack.STACK_FILE]["services"].items():
        deploy = service["deploy"]
        assert deploy["endpoint_mode"] == "dnsrr", name
        if stack.is_one_shot(COMPOSE["services"][name]):
            assert deploy["restart_policy"]["condition"] == "on-failure" and "update_config" not in deploy, name
            continue
        assert deploy["restart_policy"]["condition"] == "any", name
        update = deploy["update_config"]
        assert update["parallelism"] == 1 and update["failure_action"] == "rollback", name
        # a data volume is never shared by an old and a new server
        assert update["order"] == ("stop-first" if name in ("postgres", "rabbitmq") else "start-first"), name


def test_the_app_image_is_chosen_by_a_variable_and_the_overlay_network_is_attachable(generated):
    document = generated[stack.STACK_FILE]
    for name, service in COMPOSE["services"].items():
        expected = stack.PLATFORM_IMAGE if service["image"] == stack.APP_IMAGE else service["image"]
        assert document["services"][name]["image"] == expected
    assert document["networks"]["default"] == {"driver": "overlay", "attachable": True}


def test_the_postgres_init_script_travels_as_a_config_runnable_as_compose_mounts_it(generated):
    document = generated[stack.STACK_FILE]
    (config,) = document["services"]["postgres"]["configs"]
    assert config["target"] == "/docker-entrypoint-initdb.d/10-mentor-databases.sh"
    assert config["mode"] == 0o555  # executed, not sourced: the script sets -euo pipefail
    assert (stack.STACK_FILE.parent / document["configs"][config["source"]]["file"]).resolve() == (
        stack.ROOT / "deploy" / "postgres" / "init.sh"
    )


def test_only_ports_published_beyond_the_loopback_are_published_in_host_mode(generated):
    services = generated[stack.PORTS_FILE]["services"]
    assert set(services) == {"gateway", "web"}  # mailpit's page: compose binds it to 127.0.0.1 alone
    assert services["gateway"]["ports"] == [
        {"target": 8000, "published": "${GATEWAY_PORT:-8000}", "protocol": "tcp", "mode": "host"}
    ]
    for service in services.values():
        assert service["deploy"] == {"placement": {"max_replicas_per_node": 1}}


def test_a_new_one_shot_job_is_converted_as_a_job():
    """Any compose service with restart "no" (broker-setup, a migration) runs once in the swarm."""
    compose = textwrap.dedent(
        """
        services:
          migrate:
            image: mentor-platform:latest
            restart: "no"
            command: python -m operations.migrate
            depends_on:
              postgres:
                condition: service_healthy
          cases:
            image: mentor-platform:latest
            restart: unless-stopped
            ports: ["127.0.0.1:9000:9000", "9001:9001/udp"]
            depends_on:
              migrate:
                condition: service_completed_successfully
        """
    )
    document = stack.load_yaml(stack.generated(compose)[stack.STACK_FILE])
    migrate, cases = document["services"]["migrate"], document["services"]["cases"]
    assert migrate["deploy"]["replicas"] == 1 and migrate["deploy"]["restart_policy"]["condition"] == "on-failure"
    assert migrate["depends_on"] == ["postgres"] and cases["depends_on"] == ["migrate"]
    assert cases["deploy"]["replicas"] == 2 and "restart" not in cases
    ports = stack.load_yaml(stack.generated(compose)[stack.PORTS_FILE])["services"]
    assert ports["cases"]["ports"] == [{"target": 9001, "published": "9001", "protocol": "udp", "mode": "host"}]


def test_a_port_the_converter_cannot_read_is_refused_by_name():
    with pytest.raises(ValueError, match="9000-9001"):
        stack.parse_port("9000-9001")  # a range of container ports
