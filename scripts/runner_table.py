"""The local runner's table (scripts/platform.py): the services, the command that runs each, the
variables each reads with their config.yaml defaults (docker-compose.yml and .env.example use the
same names; tests/unit/test_deployment.py keeps the three in step), and the addresses derived from them.

Only the standard library; importing it has no side effects.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


RUN_DIR = os.path.join(ROOT, ".run")


# Every variable a services/<name>/config.yaml reads, with the default that config.yaml gives.
ENV_DEFAULTS = {
    "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
    "LOG_LEVEL": "INFO",
    "METRICS_PORT": "0",  # one host, six services: /metrics not served unless each is given a port
    "RELAY_POLL_INTERVAL": "0.5",
    "RELAY_ENABLED": "true",
    "CASES_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_cases",
    "MATCHING_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_matching",
    "NOTIFICATIONS_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_notifications",
    "LIBRARY_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_library",
    "IDENTITY_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mentor_identity",
    "MIGRATE_ON_START": "true",  # `up` runs the histories first (migrate_databases): a service's own run finds nothing
    "MATCHING_K": "3",
    "MATCHING_RECENT_DAYS": "90",
    "MATCHING_TIE_MARGIN": "0.05",
    "ESCALATION_CHECK_INTERVAL": "60",
    "ESCALATION_AFTER_SECONDS": "7200",
    "PROPOSALS_OVERDUE_SECONDS": "900",
    "WAITING_SCHEDULE_URGENT": "3600 21600 / 86400",
    "WAITING_SCHEDULE_NEED_ADVICE": "86400 259200 / 604800",
    "WAITING_SCHEDULE_WANT_EXPERT_OPINION": "172800 604800 / 1209600",
    "OUTAGE_BACKOFF_INITIAL_SECONDS": "0.5",
    "OUTAGE_BACKOFF_MAX_SECONDS": "30",
    "LIBRARY_REVIEW": "moderator",
    "SURVEY_CHECK_INTERVAL": "30",
    "TOKEN_SECRET": "dev-only-token-secret-change-me",
    "IDENTITY_PERSON_KEYS_MASTER_KEY": "dev-only-person-keys-master-key-change-me",
    "NOTIFICATIONS_PERSON_KEYS_MASTER_KEY": "dev-only-notifications-person-keys-master-key-change-me",
    "LIBRARY_PERSON_KEYS_MASTER_KEY": "dev-only-library-person-keys-master-key-change-me",
    "CASES_PERSON_KEYS_MASTER_KEY": "dev-only-cases-person-keys-master-key-change-me",
    # signed actors (services/common/actors.py): development pairs, named by their labels
    "ACTOR_SIGNING_KEY": "dev-only:actors",
    "ACTOR_VERIFY_KEY": "dev-only:actors",
    "NOTIFICATIONS_SIGNING_KEY": "dev-only:notifications",
    "NOTIFICATIONS_VERIFY_KEY": "dev-only:notifications",
    "TOKEN_TTL_SECONDS": "3600",
    "GATEWAY_ADDRESS": "0.0.0.0:8000",
    "GATEWAY_SESSION_CHECK": "local",
    "RPC_TIMEOUT": "10",
    "CORS_ALLOW_ORIGIN": "*",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "1025",
    "SMTP_FROM": "noreply@mentor-platform.local",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": "false",
    "EMAIL_POLL_INTERVAL": "2",
    "EMAIL_ROUND_MAX": "2000",
    "EMAIL_MAX_ATTEMPTS": "8",
    "EMAIL_RETRY_SECONDS": "30",
    "NEWS_POLL_INTERVAL": "5",
    "TRUST_FORWARDED_FOR": "false",
    "WEB_PROXY_SECRET": "dev-only-web-proxy-secret-change-me",
    "GATEWAY_URL": "http://127.0.0.1:8000",
    "WEB_ADDRESS": "0.0.0.0:8080",
    "WEB_SECRET_KEY": "dev-only-web-secret-change-me",
    "WEB_COOKIE_SECURE": "false",
    "SIGN_IN_ACCOUNT_LIMIT": "5",
    "SIGN_IN_ADDRESS_LIMIT": "20",
    "SIGN_IN_WINDOW_SECONDS": "900",
    "SIGN_IN_ACCOUNT_MAX_DELAY_SECONDS": "5",
    "REGISTRATION_ADDRESS_LIMIT": "10",
    "REGISTRATION_WINDOW_SECONDS": "3600",
    "PASSWORD_HASH_TIME_COST": "3",
    "PASSWORD_HASH_MEMORY_KIB": "65536",
    "PASSWORD_HASH_PARALLELISM": "4",
    "PUBLIC_WEB_URL": "http://127.0.0.1:8080",
    "PASSWORD_RESET_TTL_SECONDS": "3600",
    "EMAIL_VERIFICATION_TTL_SECONDS": "604800",
    "ACCOUNT_EMAIL_POLL_INTERVAL": "2",
}


# Start order (all start at once; the order only decides the order of messages).
SERVICES = {
    "identity": (
        "AMQP_URI",
        "ACTOR_VERIFY_KEY",
        "NOTIFICATIONS_VERIFY_KEY",
        "IDENTITY_DATABASE_URL",
        "MIGRATE_ON_START",
        "TOKEN_SECRET",
        "IDENTITY_PERSON_KEYS_MASTER_KEY",
        "TOKEN_TTL_SECONDS",
        "LOG_LEVEL",
        "METRICS_PORT",
        "RELAY_POLL_INTERVAL",
        "RELAY_ENABLED",
        "SIGN_IN_ACCOUNT_LIMIT",
        "SIGN_IN_ADDRESS_LIMIT",
        "SIGN_IN_WINDOW_SECONDS",
        "RPC_TIMEOUT",
        "SIGN_IN_ACCOUNT_MAX_DELAY_SECONDS",
        "REGISTRATION_ADDRESS_LIMIT",
        "REGISTRATION_WINDOW_SECONDS",
        "PASSWORD_HASH_TIME_COST",
        "PASSWORD_HASH_MEMORY_KIB",
        "PASSWORD_HASH_PARALLELISM",
        "PUBLIC_WEB_URL",
        "PASSWORD_RESET_TTL_SECONDS",
        "EMAIL_VERIFICATION_TTL_SECONDS",
        "ACCOUNT_EMAIL_POLL_INTERVAL",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_FROM",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SMTP_STARTTLS",
        "EMAIL_MAX_ATTEMPTS",
        "EMAIL_RETRY_SECONDS",
    ),
    "cases": (
        "AMQP_URI",
        "ACTOR_VERIFY_KEY",
        "CASES_DATABASE_URL",
        "CASES_PERSON_KEYS_MASTER_KEY",
        "MIGRATE_ON_START",
        "LOG_LEVEL",
        "METRICS_PORT",
        "RELAY_POLL_INTERVAL",
        "RELAY_ENABLED",
        "ESCALATION_CHECK_INTERVAL",
        "ESCALATION_AFTER_SECONDS",
        "PROPOSALS_OVERDUE_SECONDS",
        "WAITING_SCHEDULE_URGENT",
        "WAITING_SCHEDULE_NEED_ADVICE",
        "WAITING_SCHEDULE_WANT_EXPERT_OPINION",
        "OUTAGE_BACKOFF_INITIAL_SECONDS",
        "OUTAGE_BACKOFF_MAX_SECONDS",
    ),
    "matching": (
        "AMQP_URI",
        "ACTOR_VERIFY_KEY",
        "MATCHING_DATABASE_URL",
        "MIGRATE_ON_START",
        "MATCHING_K",
        "MATCHING_RECENT_DAYS",
        "MATCHING_TIE_MARGIN",
        "LOG_LEVEL",
        "METRICS_PORT",
        "RELAY_POLL_INTERVAL",
        "RELAY_ENABLED",
        "OUTAGE_BACKOFF_INITIAL_SECONDS",
        "OUTAGE_BACKOFF_MAX_SECONDS",
    ),
    "notifications": (
        "AMQP_URI",
        "ACTOR_VERIFY_KEY",
        "NOTIFICATIONS_SIGNING_KEY",
        "NOTIFICATIONS_DATABASE_URL",
        "NOTIFICATIONS_PERSON_KEYS_MASTER_KEY",
        "MIGRATE_ON_START",
        "LOG_LEVEL",
        "METRICS_PORT",
        "RPC_TIMEOUT",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_FROM",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SMTP_STARTTLS",
        "EMAIL_POLL_INTERVAL",
        "EMAIL_ROUND_MAX",
        "EMAIL_MAX_ATTEMPTS",
        "EMAIL_RETRY_SECONDS",
        "OUTAGE_BACKOFF_INITIAL_SECONDS",
        "OUTAGE_BACKOFF_MAX_SECONDS",
        "NEWS_POLL_INTERVAL",
    ),
    "library": (
        "AMQP_URI",
        "ACTOR_VERIFY_KEY",
        "LIBRARY_DATABASE_URL",
        "LIBRARY_PERSON_KEYS_MASTER_KEY",
        "MIGRATE_ON_START",
        "LIBRARY_REVIEW",
        "LOG_LEVEL",
        "METRICS_PORT",
        "RELAY_POLL_INTERVAL",
        "OUTAGE_BACKOFF_INITIAL_SECONDS",
        "OUTAGE_BACKOFF_MAX_SECONDS",
        "SURVEY_CHECK_INTERVAL",
    ),
    "gateway": (
        "AMQP_URI",
        "ACTOR_SIGNING_KEY",
        "GATEWAY_ADDRESS",
        "TOKEN_SECRET",
        "TOKEN_TTL_SECONDS",
        "RPC_TIMEOUT",
        "GATEWAY_SESSION_CHECK",
        "CORS_ALLOW_ORIGIN",
        "TRUST_FORWARDED_FOR",
        "WEB_PROXY_SECRET",
        "LOG_LEVEL",
        "METRICS_PORT",
    ),
    # the browser client: not a nameko service, a client of the gateway's HTTP API (services/web)
    "web": ("GATEWAY_URL", "WEB_ADDRESS", "WEB_SECRET_KEY", "WEB_COOKIE_SECURE", "WEB_PROXY_SECRET"),
}


WEB = "web"


def command(service):
    """The one command line that runs ``service``, here and in docker-compose.yml."""
    if service == WEB:
        return "python -m services.web"
    return f"nameko run --config services/{service}/config.yaml services.{service}.service"


def web_url(environ=None):
    address = setting("WEB_ADDRESS", environ)
    host, _, port = address.rpartition(":")
    return f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"


def service_env(service, environ=None):
    """The variables ``service`` reads: the caller's value when set, else the config.yaml default."""
    environ = os.environ if environ is None else environ
    return {var: environ.get(var, ENV_DEFAULTS[var]) for var in SERVICES[service]}


def setting(var, environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(var, ENV_DEFAULTS[var])


def gateway_url(environ=None):
    address = setting("GATEWAY_ADDRESS", environ)
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port or 8000}"


def this_command():
    return ".venv/bin/python scripts/platform.py"
