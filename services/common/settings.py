"""In production, secrets come from the environment: a service refuses to start on a default,
example or empty secret.

``PLATFORM_ENV`` (the service config's key, else the environment variable) is ``development``
(the default: the config.yaml defaults work as they are), ``test`` or ``production``; any other
value refuses to start, so a typo never quietly means development. The Docker image sets
``PLATFORM_ENV=production`` (deploy/Dockerfile).

In production every setting of the service's config is checked (never logging a value):

- a secret (a name ending in SECRET or KEY, e.g. TOKEN_SECRET): at least 32 characters, at
  least 10 different ones, not a well-known default and not a placeholder (change-me,
  dev-only, example...);
- a password (a name ending in PASSWORD, e.g. SMTP_PASSWORD): the same, at least 12
  characters; empty only when its ``*_USER`` is empty too (no login at all);
- an actor key (ACTOR_SIGNING_KEY, private, the gateway's; ACTOR_VERIFY_KEY, public, every
  service's; SERVICE_SIGNING_KEY, notifications' own, and SERVICE_VERIFY_KEYS, identity's list of the
  public ones, from NOTIFICATIONS_SIGNING_KEY and NOTIFICATIONS_VERIFY_KEY: services/common/actors.py): valid Ed25519 keys, not the development pairs of config.yaml;
  a private one is a secret as above, a public one is no secret, so only that;
- a URL with network credentials (AMQP_URI, DATABASE_URL and any other ``scheme://host``
  of a broker or database): it carries a password, which passes the password rule and is
  not the user name; the user is not RabbitMQ's ``guest``. A URL without a host (a Unix
  socket, peer authentication) needs none;
- AMQP_URI names the service's own broker user (``mentor-<service>``, with the least permissions:
  services/common/broker_users.py), never a shared or an admin one;
- identity's password hashing cost (PASSWORD_HASH_*) is at least OWASP's floor for argon2id
  (services/identity/passwords.py).

``enforce`` runs when a service starts (services/common/logs.py ``CorrelationContext.setup``:
every service declares that dependency): one ``insecure_settings`` error log line naming each
problem, then ``InsecureSettings`` - ``nameko run`` exits non-zero before the service serves.
"""

import os
import re
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

ENVIRONMENTS = ("development", "test", "production")
DEFAULT_ENVIRONMENT = "development"
PRODUCTION = "production"

SECRET_MIN_LENGTH = 32
PASSWORD_MIN_LENGTH = 12
MIN_DISTINCT = 10
WELL_KNOWN = {
    "guest",
    "postgres",
    "password",
    "passwd",
    "admin",
    "administrator",
    "root",
    "secret",
    "mentor",
    "rabbitmq",
    "changeit",
    "letmein",
    "qwerty",
    "123456",
    "12345678",
    "test",
    "default",
}
PLACEHOLDER_MARKS = (
    "change-me",
    "changeme",
    "change_me",
    "dev-only",
    "devonly",
    "example",
    "placeholder",
    "insecure",
    "not-secret",
    "notsecret",
    "do-not-use",
    "replace-me",
    "your-",
)
CREDENTIAL_SCHEMES = {
    "amqp",
    "amqps",
    "pyamqp",
    "librabbitmq",
    "postgres",
    "postgresql",
    "redis",
    "rediss",
    "mysql",
    "mongodb",
    "smtp",
    "smtps",
}
FORBIDDEN_USERS = {"guest"}  # RabbitMQ's default account

_SECRET_NAME = re.compile(r"(SECRET|(^|_)KEY)$")
_PASSWORD_NAME = re.compile(r"(PASSWORD|PASSWD)$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ACTOR_KEYS = ("ACTOR_SIGNING_KEY", "ACTOR_VERIFY_KEY", "SERVICE_SIGNING_KEY", "SERVICE_VERIFY_KEYS")


class InsecureSettings(RuntimeError):
    """The service must not start with these settings."""


def platform_env(config, environ=None):
    environ = os.environ if environ is None else environ
    value = config.get("PLATFORM_ENV") or environ.get("PLATFORM_ENV") or DEFAULT_ENVIRONMENT
    return str(value).strip().lower()


def problems(config, environ=None, service=None):
    """What is wrong with ``config`` (of ``service``, when named) for its PLATFORM_ENV: a list of
    messages without values."""
    env = platform_env(config, environ)
    if env not in ENVIRONMENTS:
        return [f"PLATFORM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env[:40]!r}"]
    if env != PRODUCTION:
        return []
    found = []
    for key in sorted(k for k in config if isinstance(k, str)):
        value = config[key]
        if key.upper() in _ACTOR_KEYS:
            found.extend(f"{key} {reason}" for reason in actor_key_problems(key.upper(), value))
        elif _SECRET_NAME.search(key.upper()):
            reason = weakness(value, SECRET_MIN_LENGTH)
            if reason:
                found.append(f"{key} {reason}")
        elif _PASSWORD_NAME.search(key.upper()):
            if _no_login(config, key, value):
                continue
            reason = weakness(value, PASSWORD_MIN_LENGTH)
            if reason:
                found.append(f"{key} {reason}")
        elif isinstance(value, str) and _URL.match(value.strip()):
            found.extend(f"{key} ({masked(value)}): {reason}" for reason in url_problems(value))
    found.extend(broker_user_problems(config, service))
    found.extend(password_hash_problems(config))
    return found


def password_hash_problems(config):
    """identity's argon2id cost (PASSWORD_HASH_*): not below OWASP's floor in production."""
    if not any(str(key).startswith("PASSWORD_HASH_") for key in config):
        return []
    from services.identity.passwords import HashParameters  # here: only identity's config has them

    try:
        return HashParameters.from_config(config).below_floor()
    except ValueError as exc:
        return [str(exc)]


def broker_user_problems(config, service):
    """A service must connect as its own broker user: with a shared one, whoever holds any service's
    credentials may do what every service does (issue #18)."""
    from services.common import broker_users  # here: it imports the topology (kombu), settings is imported early

    uri = config.get("AMQP_URI")
    if service not in broker_users.SERVICES or not isinstance(uri, str) or not _URL.match(uri.strip()):
        return []
    user = unquote(urlsplit(uri.strip()).username or "")
    expected = broker_users.user_name(service)
    if user == expected:
        return []
    return [
        f"AMQP_URI ({masked(uri)}): the user {user[:40]!r} is not {service}'s own broker user {expected!r} "
        f"(services/common/broker_users.py)"
    ]


def actor_key_problems(name, value):
    """Why an actor key (services/common/actors.py) is unfit for production: a list of phrases."""
    from services.common import actors  # here: actors logs through services.common.logs, which imports us

    if value is None or not str(value).strip():
        return ["is empty"]
    if any(mark in str(value) for mark in actors.DERIVED_PREFIXES):
        return ["is (or holds) a development or test key (dev-only:..., test-only:...)"]
    private = name in (actors.SIGNING_KEY_SETTING, actors.SERVICE_SIGNING_KEY_SETTING)
    # a private key is a secret; a public one is not, but a placeholder is still a placeholder
    reason = weakness(value, SECRET_MIN_LENGTH if private else 1) or actors.key_problem(name, value)
    return [reason] if reason else []


def weakness(value, min_length):
    """Why ``value`` is no secret (a phrase), or None."""
    if value is None or not str(value).strip():
        return "is empty"
    text = str(value).strip()
    lowered = text.lower()
    if lowered in WELL_KNOWN:
        return "is a well-known default"
    mark = next((m for m in PLACEHOLDER_MARKS if m in lowered), None)
    if mark:
        return f"is a placeholder (it contains {mark!r})"
    if len(text) < min_length:
        return f"is shorter than {min_length} characters"
    if len(set(text)) < MIN_DISTINCT:
        return f"has fewer than {MIN_DISTINCT} different characters"
    return None


def url_problems(url):
    parts = urlsplit(url.strip())
    if not parts.hostname:
        return []  # a Unix socket: the operating system authenticates
    if parts.scheme.lower() not in CREDENTIAL_SCHEMES and parts.username is None:
        return []  # e.g. a web address: it names no account
    found = []
    user = parts.username or ""
    password = parts.password
    if password is None:
        password = (parse_qs(parts.query).get("password") or [None])[0]
    if user.lower() in FORBIDDEN_USERS:
        found.append(f"the user {user!r} is a well-known default account")
    if not password:
        found.append("it carries no password")
        return found
    reason = weakness(password, PASSWORD_MIN_LENGTH)
    if reason:
        found.append(f"the password {reason}")
    elif user and password.lower() == user.lower():
        found.append("the password is the user name")
    return found


def masked(url):
    """``url`` with its password replaced by ``***``, for a log line."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}"
    netloc = f"{parts.username}:***@{parts.hostname}{':' + str(parts.port) if parts.port else ''}"
    return f"{parts.scheme}://{netloc}"


def _no_login(config, key, value):
    """An empty ``X_PASSWORD`` with an empty ``X_USER``: no login is configured at all."""
    if value not in (None, ""):
        return False
    prefix = key.upper()[: -len("PASSWORD")] if key.upper().endswith("PASSWORD") else key.upper()[: -len("PASSWD")]
    user_keys = [k for k in config if isinstance(k, str) and k.upper() in (prefix + "USER", prefix + "USERNAME")]
    return bool(user_keys) and all(not config[k] for k in user_keys)


def enforce(config, service, environ=None):
    """Refuse to start (log, then raise InsecureSettings) when ``config`` is not fit for its PLATFORM_ENV."""
    found = problems(config, environ, service)
    if not found:
        return
    env = platform_env(config, environ)
    structlog.get_logger().error("insecure_settings", service=service, platform_env=env[:40], problems=found)
    raise InsecureSettings(
        f"{service} refuses to start (PLATFORM_ENV={env[:40]}): "
        + "; ".join(found)
        + ". Set the secrets in the environment (see .env.example)."
    )
