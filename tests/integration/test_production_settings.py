"""A service started in production with default, example or empty secrets refuses to start:
one `insecure_settings` log line naming each problem (no value), a non-zero exit, nothing
served. In development the same defaults start as ever."""

import json
import socket

import pytest
from nameko.containers import ServiceContainer

from services.common.settings import InsecureSettings
from services.gateway.service import GatewayService
from tests.processes import ServiceProcess
from tests.support import free_port

EXIT_TIMEOUT = 60


def refusal(process):
    """The process's exit status and its `insecure_settings` log line."""
    status = process.process.wait(timeout=EXIT_TIMEOUT)
    lines = [json.loads(line) for line in process.log_text().splitlines() if line.startswith("{")]
    refused = [line for line in lines if line.get("event") == "insecure_settings"]
    return status, refused, process.log_text()


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        process.kill()


def test_services_refuse_to_start_in_production_with_default_secrets(test_env, tmp_path, processes):
    env = test_env.process_env()  # the local broker's guest account, databases without a password
    env["PLATFORM_ENV"] = "production"
    env.pop("TOKEN_SECRET", None)  # identity and the gateway fall back to config.yaml's dev-only secret
    env["GATEWAY_ADDRESS"] = f"127.0.0.1:{free_port()}"
    started = [ServiceProcess(name, env, tmp_path).start() for name in ("identity", "cases", "gateway")]
    processes.extend(started)

    placeholder = "TOKEN_SECRET is a placeholder (it contains 'change-me')"
    for process in started:
        status, refused, text = refusal(process)
        assert status != 0, text[-2000:]
        [line] = refused
        assert line["level"] == "error" and line["service"] == process.name
        assert line["platform_env"] == "production"
        problems = line["problems"]
        assert any(p.startswith("AMQP_URI (pyamqp://guest:***@") and "'guest'" in p for p in problems)
        assert any(f"is not {process.name}'s own broker user 'mentor-{process.name}'" in p for p in problems)
        no_password = "DATABASE_URL (postgresql://127.0.0.1:5432): it carries no password"
        assert (no_password in problems) == (process.name != "gateway"), problems
        assert (placeholder in problems) == (process.name != "cases"), problems
        # the test session's cheap argon2id (tests/conftest.py ACCOUNT_SETTINGS) is refused too
        cheap = ["PASSWORD_HASH_TIME_COST is below 2", "PASSWORD_HASH_MEMORY_KIB is below 19456"]
        assert all((p in problems) == (process.name == "identity") for p in cheap), problems
        for secret in ("dev-only-token-secret-change-me", "guest:guest"):
            assert secret not in text  # the log names settings, never their values


def test_an_unknown_platform_env_refuses_too(test_env, tmp_path, processes):
    env = test_env.process_env()
    env["PLATFORM_ENV"] = "prod"  # a typo is not quietly development
    library = ServiceProcess("library", env, tmp_path).start()
    processes.append(library)
    status, refused, text = refusal(library)
    assert status != 0, text[-2000:]
    assert refused and refused[0]["problems"] == [
        "PLATFORM_ENV must be one of development, test, production, not 'prod'"
    ]


def test_the_gateway_container_refuses_before_it_listens(test_env):
    port = free_port()
    config = test_env.config(
        "gateway",
        PLATFORM_ENV="production",
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        TOKEN_SECRET="change-me-to-a-long-random-secret",
    )
    container = ServiceContainer(GatewayService, config)
    try:
        with pytest.raises(InsecureSettings) as caught:
            container.start()
    finally:
        container.kill()
    assert "TOKEN_SECRET is a placeholder" in str(caught.value)
    assert "AMQP_URI" in str(caught.value)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens


def test_in_development_the_defaults_work_as_before(test_env, tmp_path, processes):
    env = test_env.process_env()
    env.pop("TOKEN_SECRET", None)  # config.yaml's dev-only default
    env.pop("PLATFORM_ENV", None)
    identity = ServiceProcess("identity", env, tmp_path).start()
    processes.append(identity)
    identity.wait_healthy(test_env.amqp_uri)
    assert "insecure_settings" not in identity.log_text()
