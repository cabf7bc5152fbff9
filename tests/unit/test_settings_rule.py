"""The production rule for secrets, on the services' real config.yaml files and .env.example:
defaults, examples and empty secrets are refused in production, accepted in development."""

import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from nameko.cli.main import setup_yaml_parser
from structlog.testing import capture_logs

from services.common import actors, broker_users, settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/config.yaml"))
CONFIG_VAR = re.compile(r"\$\{([^}:\s]+)(?::([^}]*))?\}")


def env_example():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


COMPOSE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}")


def compose_environment(service, environ):
    """``environ`` (.env) plus what docker-compose.yml hands ``service``, interpolated: e.g. its own
    broker user's AMQP_URI, made of <SERVICE>_BROKER_PASSWORD."""
    # BaseLoader: nameko's setup_yaml_parser (service_config) teaches safe_load to expand ${...} itself
    spec = yaml.load((ROOT / "docker-compose.yml").read_text(), Loader=yaml.BaseLoader)["services"][service]
    values = dict(environ)
    for name, value in (spec.get("environment") or {}).items():
        values[name] = COMPOSE_VAR.sub(lambda m: environ.get(m.group(1), m.group(2) or ""), str(value))
    return values


def service_config(service, monkeypatch, environ):
    """services/<service>/config.yaml as `nameko run` reads it under ``environ`` (compose's, when it
    comes from .env: see compose_environment)."""
    text = (ROOT / "services" / service / "config.yaml").read_text()
    for name, _ in CONFIG_VAR.findall(text):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    setup_yaml_parser()
    return yaml.safe_load(text)


def strong(n=48):
    return secrets.token_urlsafe(n)


def strong_environment():
    """.env.example with every example secret replaced by a generated one, as an operator would."""
    values = env_example()
    for name, value in list(values.items()):
        if "change-me" in value:
            values[name] = value.replace(re.search(r"change-me[\w-]*", value).group(), strong(24))
    # the Ed25519 pairs are generated, not typed (python -m services.common.actors generate)
    for prefix in ("ACTOR", "NOTIFICATIONS"):
        values[f"{prefix}_SIGNING_KEY"], values[f"{prefix}_VERIFY_KEY"] = actors.generate()
    return values


def test_the_rule_applies_only_in_production():
    weak = {
        "TOKEN_SECRET": "dev-only-token-secret-change-me",
        "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_cases",
    }
    assert settings.problems(weak, environ={}) == []  # development by default
    assert settings.problems(dict(weak, PLATFORM_ENV="test"), environ={}) == []
    assert settings.problems(weak, environ={"PLATFORM_ENV": "Development"}) == []
    assert len(settings.problems(weak, environ={"PLATFORM_ENV": "production"})) == 4
    # the config's own key wins over the environment
    assert settings.problems(dict(weak, PLATFORM_ENV="development"), environ={"PLATFORM_ENV": "production"}) == []


@pytest.mark.parametrize("value", ["prod", "staging", "live", "PRODUCTION-1"])
def test_an_unknown_platform_env_refuses_whatever_the_secrets(value):
    found = settings.problems({"TOKEN_SECRET": strong()}, environ={"PLATFORM_ENV": value})
    assert len(found) == 1 and "PLATFORM_ENV must be one of development, test, production" in found[0]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_its_config_yaml_defaults_in_production(service, monkeypatch):
    config = service_config(service, monkeypatch, {})
    assert settings.problems(config, environ={}) == []  # development: the defaults work as they are
    found = settings.problems(config, environ={"PLATFORM_ENV": "production"})
    text = "\n".join(found)
    if service == "web":  # the browser client: no broker, no database; its two secrets
        assert any(p.startswith("WEB_SECRET_KEY is a placeholder") for p in found), found
        assert any(p.startswith("WEB_PROXY_SECRET is a placeholder") for p in found), found
        return
    assert "AMQP_URI" in text and "'guest'" in text
    if "DATABASE_URL" in config:
        assert "DATABASE_URL (postgresql://127.0.0.1:5432): it carries no password" in found
    if "TOKEN_SECRET" in config:
        assert "TOKEN_SECRET is a placeholder (it contains 'change-me')" in found
    assert config.get("TOKEN_SECRET", "\0") not in text  # no value in a message


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_the_env_example_values_in_production(service, monkeypatch):
    environ = compose_environment(service, env_example())  # what compose hands the container
    config = service_config(service, monkeypatch, environ)
    found = settings.problems(config, environ=environ)
    assert found, service  # .env.example says PLATFORM_ENV=production: its example values never run
    assert all("placeholder" in problem for problem in found), found


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_accepts_real_secrets_in_production(service, monkeypatch):
    environ = compose_environment(service, strong_environment())
    config = service_config(service, monkeypatch, environ)
    assert settings.platform_env(config, environ=environ) == "production"
    assert settings.problems(config, environ=environ, service=service) == []


@pytest.mark.parametrize("service", broker_users.SERVICES)
def test_a_service_connects_only_as_its_own_broker_user_in_production(service, monkeypatch):
    """A strong password is not enough: another service's user, or a shared admin, is refused."""
    environ = compose_environment(service, strong_environment())
    own = settings.problems(service_config(service, monkeypatch, environ), environ=environ, service=service)
    assert own == []
    password = urlsplit(environ["AMQP_URI"]).password
    for user in ("mentor", broker_users.user_name("gateway" if service != "gateway" else "cases")):
        environ["AMQP_URI"] = f"pyamqp://{user}:{password}@rabbitmq:5672/"
        found = settings.problems(service_config(service, monkeypatch, environ), environ=environ, service=service)
        assert found == [
            f"AMQP_URI (pyamqp://{user}:***@rabbitmq:5672): the user {user!r} is not {service}'s own "
            f"broker user {broker_users.user_name(service)!r} (services/common/broker_users.py)"
        ]
        assert password not in "".join(found)
    assert settings.problems(service_config(service, monkeypatch, environ), environ=environ) == []  # no service


@pytest.mark.parametrize(
    "value,reason",
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (None, "is empty"),
        ("secret", "is a well-known default"),
        ("Password", "is a well-known default"),
        ("change-me-to-a-long-random-secret", "is a placeholder (it contains 'change-me')"),
        ("dev-only-token-secret-0123456789abcdef", "is a placeholder (it contains 'dev-only')"),
        ("an-example-secret-0123456789abcdefghij", "is a placeholder (it contains 'example')"),
        ("Zx9-short", "is shorter than 32 characters"),
        ("ab" * 30, "has fewer than 10 different characters"),
    ],
)
def test_weak_secrets(value, reason):
    assert settings.weakness(value, settings.SECRET_MIN_LENGTH) == reason
    found = settings.problems({"TOKEN_SECRET": value}, environ={"PLATFORM_ENV": "production"})
    assert found == [f"TOKEN_SECRET {reason}"]


def test_any_secret_key_or_password_name_is_checked():
    config = {
        "SIGNING_KEY": "short",
        "API_KEY": "",
        "WEBHOOK_SECRET": strong(),
        "SMTP_USER": "mailer",
        "SMTP_PASSWORD": "guest",
        "TOKEN_TTL_SECONDS": 3600,
        "MATCHING_K": 3,
        "PLATFORM_ENV": "production",
    }
    assert settings.problems(config) == [
        "API_KEY is empty",
        "SIGNING_KEY is shorter than 32 characters",
        "SMTP_PASSWORD is a well-known default",
    ]


def test_an_empty_smtp_password_is_fine_only_without_a_user():
    production = {"PLATFORM_ENV": "production", "SMTP_HOST": "mailpit"}
    assert settings.problems(dict(production, SMTP_USER="", SMTP_PASSWORD="")) == []
    assert settings.problems(dict(production, SMTP_USER="mailer", SMTP_PASSWORD="")) == ["SMTP_PASSWORD is empty"]
    assert settings.problems(dict(production, SMTP_PASSWORD="")) == ["SMTP_PASSWORD is empty"]


@pytest.mark.parametrize(
    "url,expected",
    [
        (
            "pyamqp://guest:guest@rabbitmq:5672/",
            ["the user 'guest' is a well-known default account", "the password is a well-known default"],
        ),
        ("pyamqp://mentor@rabbitmq:5672/", ["it carries no password"]),
        ("pyamqp://rabbitmq:5672/", ["it carries no password"]),
        ("postgresql://postgres@db:5432/cases", ["it carries no password"]),
        ("postgresql://postgres:postgres@db:5432/cases", ["the password is a well-known default"]),
        ("postgresql://mentor_cases_role:MENTOR_CASES_ROLE@db/cases", ["the password is the user name"]),
        ("postgresql://cases:change-me-cases@db/cases", ["the password is a placeholder (it contains 'change-me')"]),
        ("postgresql://cases:Qx7z@db/cases", ["the password is shorter than 12 characters"]),
        ("postgresql://cases@db/cases?password=guest", ["the password is a well-known default"]),
        ("redis://:@cache:6379/0", ["it carries no password"]),
    ],
)
def test_urls_with_weak_credentials_are_refused_without_showing_the_password(url, expected):
    found = settings.problems({"DATABASE_URL": url}, environ={"PLATFORM_ENV": "production"})
    assert [f.split(": ", 1)[1] for f in found] == expected
    user, _, password = url.split("://")[1].split("@")[0].partition(":")
    if password and password != user:
        assert all(password not in f for f in found), found


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://cases:{strong(18)}@db:5432/cases",
        f"pyamqps://mentor:{strong(18)}@rabbitmq:5671/",
        "postgresql:///mentor_cases?host=/var/run/postgresql",  # a Unix socket: peer authentication
        "https://example.org/hook",  # names no account
    ],
)
def test_urls_with_real_credentials_or_none_needed_pass(url):
    assert settings.problems({"DATABASE_URL": url, "PLATFORM_ENV": "production"}) == []


def test_enforce_logs_one_line_then_raises():
    config = {
        "PLATFORM_ENV": "production",
        "TOKEN_SECRET": "dev-only-token-secret-change-me",
        "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
    }
    with capture_logs() as logs, pytest.raises(settings.InsecureSettings) as caught:
        settings.enforce(config, "gateway")
    [line] = logs
    assert line["event"] == "insecure_settings" and line["log_level"] == "error"
    assert line["service"] == "gateway" and line["platform_env"] == "production"
    assert line["problems"] == settings.problems(config, service="gateway")
    assert "TOKEN_SECRET" in str(caught.value) and "gateway refuses to start" in str(caught.value)
    for value in ("dev-only-token-secret-change-me", "guest:guest"):
        assert value not in str(caught.value) and value not in str(line)
    with capture_logs() as logs:
        settings.enforce(dict(config, PLATFORM_ENV="development"), "gateway")
    assert logs == []


def test_identity_refuses_a_password_hash_below_owasps_floor_in_production(monkeypatch):
    environ = compose_environment("identity", strong_environment())
    config = service_config("identity", monkeypatch, environ)
    assert settings.problems(config, environ=environ, service="identity") == []  # the defaults: RFC 9106's
    cheap = dict(config, PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="1024")
    assert settings.problems(cheap, environ=environ, service="identity") == [
        "PASSWORD_HASH_TIME_COST is below 2",
        "PASSWORD_HASH_MEMORY_KIB is below 19456",
    ]
    floor = dict(config, PASSWORD_HASH_TIME_COST="2", PASSWORD_HASH_MEMORY_KIB="19456", PASSWORD_HASH_PARALLELISM="1")
    assert settings.problems(floor, environ=environ, service="identity") == []
    typo = dict(config, PASSWORD_HASH_MEMORY_KIB="64M")
    assert settings.problems(typo, environ=environ, service="identity") == [
        "PASSWORD_HASH_MEMORY_KIB must be a whole number, not '64M'"
    ]
    assert settings.problems(cheap, environ={"PLATFORM_ENV": "test"}) == []  # the test sessions' cost
