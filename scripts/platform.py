"""Local runner: every service as its own `nameko run` process, on this machine.

    .venv/bin/python scripts/platform.py up            # start PostgreSQL/RabbitMQ if down, the services, demo data
    .venv/bin/python scripts/platform.py status        # which processes run, what /ready says
    .venv/bin/python scripts/platform.py logs [SERVICE] [-n N] [-f]
    .venv/bin/python scripts/platform.py demo          # load the demo accounts again (idempotent)
    .venv/bin/python scripts/platform.py down          # SIGTERM, wait, then SIGKILL

Logs go to .run/logs/<service>.log (structlog JSON), pids to .run/pids/<service>.pid.
Each service talks to RabbitMQ as its own user with the least permissions it needs
(services/common/broker_users.py): `up` creates them with `rabbitmqctl import_definitions`, from
the admin AMQP_URI below, with generated passwords kept in .run/broker/<service>.password.
Each process gets the variables its config.yaml reads: the value from this shell's
environment when set, else the config.yaml default (SERVICES/ENV_DEFAULTS below; the
docker-compose.yml and .env.example use the same names, tests/unit/test_deployment.py
keeps the three in step). The runner never reads .env: that file is for docker compose,
whose hosts are `postgres` and `rabbitmq`.

Only the standard library and requests; the tables below import without side effects.
"""

import os
import sys

# Run as `python scripts/platform.py`, this folder is sys.path[0] and this file would
# shadow the standard library's `platform` module for everything imported after it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

ROOT = os.path.dirname(_HERE)
RUN_DIR = os.path.join(ROOT, ".run")
LOG_DIR = os.path.join(RUN_DIR, "logs")
PID_DIR = os.path.join(RUN_DIR, "pids")

# ---- the table: services, their commands and the variables they read ---------------------

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
        "TOKEN_SECRET",
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


# ---- demo data ---------------------------------------------------------------------------

DEMO_PASSWORD = "demo-password-1"
DEMO_MENTEE = {
    "email": "mentee@demo.local",
    "password": DEMO_PASSWORD,
    "role": "mentee",
    "first_name": "Anna",
    "last_name": "Smirnova",
    "patronymic": "Sergeevna",
}
DEMO_MENTORS = [
    (
        {
            "email": "mentor1@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Elena",
            "last_name": "Petrova",
            "patronymic": "Viktorovna",
        },
        {
            "rubrics": ["class-management-motivation", "interaction-with-parents", "professional-ethics"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Pedagogy and Psychology of Education",
            "position": "Associate Professor, Department of Pedagogy",
            "interests": "Classroom climate, discipline without coercion, school-family partnership.",
            "links": ["https://www.mgpu.ru/"],
            "motto": "Every class can become a team.",
            "accepting_cases": True,
        },
    ),
    (
        {
            "email": "mentor2@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Dmitry",
            "last_name": "Volkov",
            "patronymic": "Andreevich",
        },
        {
            "rubrics": ["digital-technologies", "teaching-methods", "monitoring-evaluation"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Digital Education",
            "position": "Senior Lecturer, Department of Informatics Teaching Methods",
            "interests": "Blended learning, formative assessment, digital learning environments.",
            "links": [],
            "motto": "Technology serves pedagogy, not the other way round.",
            "accepting_cases": True,
        },
    ),
    (
        {
            "email": "mentor3@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Olga",
            "last_name": "Kuznetsova",
            "patronymic": "Ivanovna",
        },
        {
            "rubrics": ["personal-resources", "self-management", "families-at-risk", "interaction-with-parents"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Social Sciences",
            "position": "Professor, Department of Social Pedagogy",
            "interests": "Burnout prevention, early-career teachers, supporting families in difficult situations.",
            "links": [],
            "motto": "Take care of yourself first, then of the class.",
            "accepting_cases": True,
        },
    ),
]
# Applied, not yet decided: the demo moderator approves or rejects it.
DEMO_APPLICANT = (
    {
        "email": "mentor4@demo.local",
        "password": DEMO_PASSWORD,
        "role": "mentor",
        "first_name": "Sergey",
        "last_name": "Morozov",
        "patronymic": "Nikolaevich",
    },
    {
        "rubrics": ["education-law", "urban-educational-projects"],
        "place_of_work": "Moscow City University",
        "institute": "Institute of Law and Management",
        "position": "Associate Professor, Department of Education Law",
        "interests": "School regulations, rights of pupils and teachers, city education projects.",
        "links": [],
        "motto": "Know your rights, and the rights of your pupils.",
        "accepting_cases": True,
    },
)
DEMO_AVAILABILITY = {"capacity": 5, "away_periods": []}


def demo_application(form):
    return {
        "experience": f"{form['first_name']} {form['last_name']}: university lecturer, supervises the "
        "teaching practice of students and young teachers.",
        "motivation": "To help novice teachers through their first years at school.",
    }


DEMO_MODERATOR = {
    "email": "moderator@demo.local",
    "password": DEMO_PASSWORD,
    "first_name": "Irina",
    "last_name": "Sokolova",
    "patronymic": "Pavlovna",
}


# ---- small helpers -----------------------------------------------------------------------


def _say(message=""):
    print(message, flush=True)


def _reachable(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _is_local(host):
    return host in ("127.0.0.1", "localhost", "::1")


def _pid_file(service):
    return os.path.join(PID_DIR, f"{service}.pid")


def _log_file(service):
    return os.path.join(LOG_DIR, f"{service}.log")


def _running_pid(service, marker=None):
    """The pid of our `nameko run` of ``service`` if it is alive (a reused pid does not count);
    ``marker``: what else its command line must contain (the mail catcher's)."""
    try:
        with open(_pid_file(service)) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid  # no /proc: trust the pid
    if (marker or ("-m services.web" if service == WEB else f"services.{service}.service")) not in cmdline:
        return None
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
    except (OSError, IndexError):
        pass
    return pid


def _nameko_executable():
    beside = os.path.join(os.path.dirname(sys.executable), "nameko")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nameko")
    if not found:
        sys.exit('nameko is not installed: run `.venv/bin/pip install -e ".[test]"` first')
    return found


# ---- infrastructure ----------------------------------------------------------------------


def _wait_tcp(host, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reachable(host, port, 1.0):
            return True
        time.sleep(1)
    return False


def ensure_postgres():
    ports = {
        (urlsplit(setting(v)).hostname or "127.0.0.1", urlsplit(setting(v)).port or 5432)
        for v in ENV_DEFAULTS
        if v.endswith("_DATABASE_URL")
    }
    for host, port in sorted(ports):
        if _reachable(host, port):
            continue
        if not _is_local(host):
            sys.exit(f"PostgreSQL at {host}:{port} is not reachable (and not local: not starting it)")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions or not shutil.which("pg_ctlcluster"):
            sys.exit(f"PostgreSQL at {host}:{port} is down and no local cluster was found to start")
        _say(f"starting PostgreSQL {versions[-1]} ...")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
        if not _wait_tcp(host, port, 30):
            sys.exit(f"PostgreSQL did not come up on {host}:{port}")


def ensure_rabbitmq():
    parts = urlsplit(setting("AMQP_URI"))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if _reachable(host, port):
        return
    if not _is_local(host):
        sys.exit(f"RabbitMQ at {host}:{port} is not reachable (and not local: not starting it)")
    if not shutil.which("rabbitmq-server"):
        sys.exit(f"RabbitMQ at {host}:{port} is down and rabbitmq-server is not installed")
    _say("starting RabbitMQ ...")
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    if not _wait_tcp(host, port, 90):
        sys.exit(f"RabbitMQ did not come up on {host}:{port}")
    if shutil.which("rabbitmqctl"):
        subprocess.run(
            ["rabbitmqctl", "-q", "await_startup"],
            check=False,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


BROKER_DIR = os.path.join(RUN_DIR, "broker")  # each service's broker password (generated once, 0600)


def broker_passwords(services):
    """{service: password}: the one in .run/broker/<service>.password, else a new one written there."""
    import secrets

    os.makedirs(BROKER_DIR, mode=0o700, exist_ok=True)
    passwords = {}
    for service in services:
        path = os.path.join(BROKER_DIR, f"{service}.password")
        try:
            with open(path) as f:
                passwords[service] = f.read().strip()
        except OSError:
            passwords[service] = ""
        if not passwords[service]:
            passwords[service] = secrets.token_urlsafe(24)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(passwords[service] + "\n")
    return passwords


def ensure_broker_users(run=None):
    """Each service's own broker user on the admin AMQP_URI's vhost (services/common/broker_users.py),
    created or updated with ``rabbitmqctl import_definitions``: {service: its AMQP URI}. Without
    rabbitmqctl or with a remote broker: {} (every service uses AMQP_URI, as before), said aloud."""
    from services.common import broker_users

    admin = setting("AMQP_URI")
    if not (_is_local(urlsplit(admin).hostname or "127.0.0.1") and shutil.which("rabbitmqctl")):
        _say("broker users: not created (a remote broker, or no rabbitmqctl here): every service uses AMQP_URI")
        return {}
    passwords = broker_passwords(broker_users.SERVICES)
    broker_users.import_with_rabbitmqctl(
        broker_users.definitions(passwords, vhost=broker_users.vhost_of(admin)), run=run
    )
    _say(
        f"broker users: {', '.join(broker_users.user_name(s) for s in broker_users.SERVICES)} "
        f"(passwords in {os.path.relpath(BROKER_DIR, ROOT)}/)"
    )
    return {s: broker_users.service_uri(admin, s, passwords[s]) for s in broker_users.SERVICES}


MAIL_CATCHER = "mail"  # .run/pids/mail.pid, .run/logs/mail.log (not a service: no config.yaml)


def ensure_mail_catcher():
    """Notification e-mails locally go to an SMTP catcher that prints each one to .run/logs/mail.log:
    aiosmtpd, which comes with the test extra (`pip install -e ".[test]"`). Without it, or with a
    remote SMTP_HOST that is down, e-mails wait in the notifications outbox and are retried."""
    host, port = setting("SMTP_HOST"), int(setting("SMTP_PORT"))
    if _reachable(host, port, 1.0):
        return
    if not _is_local(host):
        _say(f"no SMTP server answers at {host}:{port}: notification e-mails wait and are retried")
        return
    import importlib.util

    if importlib.util.find_spec("aiosmtpd") is None:
        _say(
            f"no SMTP server at {host}:{port} and aiosmtpd is not installed (`.venv/bin/pip install -e "
            f'".[test]"`): notification e-mails wait and are retried'
        )
        return
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(PID_DIR, exist_ok=True)
    log = open(_log_file(MAIL_CATCHER), "ab")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{host}:{port}"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    finally:
        log.close()
    with open(_pid_file(MAIL_CATCHER), "w") as f:
        f.write(f"{process.pid}\n")
    if _wait_tcp(host, port, 15):
        _say(
            f"{'mail catcher':14} started on {host}:{port}, e-mails in {os.path.relpath(_log_file(MAIL_CATCHER), ROOT)}"
        )
    else:
        _say(f"the mail catcher did not come up on {host}:{port}: notification e-mails wait and are retried")


def stop_mail_catcher():
    pid = _running_pid(MAIL_CATCHER, marker="aiosmtpd")
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        _say("mail catcher stopped")
    _remove_pid(MAIL_CATCHER)


# ---- commands ----------------------------------------------------------------------------


def start_service(service, amqp_uri=None):
    """Start ``service``; ``amqp_uri``: its own broker user's (ensure_broker_users), else AMQP_URI."""
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(PID_DIR, exist_ok=True)
    env = dict(os.environ)
    env.update(service_env(service))
    if amqp_uri and "AMQP_URI" in env:
        env["AMQP_URI"] = amqp_uri
    env["PYTHONUNBUFFERED"] = "1"
    args = shlex.split(command(service))
    args[0] = sys.executable if service == WEB else _nameko_executable()
    log = open(_log_file(service), "ab")
    try:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    with open(_pid_file(service), "w") as f:
        f.write(f"{process.pid}\n")
    return process


def readiness(timeout=3.0):
    """(ok, {service: status}) from the gateway's /ready; ({}, message) when it does not answer."""
    import requests

    try:
        response = requests.get(f"{gateway_url()}/ready", timeout=timeout)
    except requests.RequestException as exc:
        return False, {"gateway": f"not answering ({type(exc).__name__})"}
    try:
        body = response.json()
    except ValueError:
        return False, {"gateway": f"HTTP {response.status_code}, not JSON"}
    services = body.get("services") or (body.get("error") or {}).get("details", {}).get("services") or {}
    summary = {name: s.get("status", "?") if isinstance(s, dict) else str(s) for name, s in services.items()}
    summary["gateway"] = "ok"
    return response.status_code == 200, summary


def wait_ready(processes, timeout=90.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for service, process in processes.items():
            if process is not None and process.poll() is not None:
                _say(f"\n{service} exited with status {process.returncode}; the end of {_log_file(service)}:")
                _tail(service, 30)
                return False
        ok, summary = readiness()
        if ok:
            return True
        waiting = sorted(name for name, status in summary.items() if status != "ok")
        if waiting != last:
            _say(f"  waiting for: {', '.join(waiting)}")
            last = waiting
        time.sleep(1)
    ok, summary = readiness()
    if ok:
        return True
    _say(f"\nnot ready after {timeout:.0f} s:")
    for name in sorted(summary):
        _say(f"  {name:14} {summary[name]}")
    for name in (s for s in SERVICES if s != WEB):
        if summary.get(name, "missing") != "ok":
            _say(f"  see {_log_file(name)}")
    return False


def cmd_up(args):
    running = {s: _running_pid(s) for s in SERVICES}
    if all(running.values()):
        ok, summary = readiness()
        _say(
            "already up"
            + ("" if ok else "; not ready: " + ", ".join(n for n, s in sorted(summary.items()) if s != "ok"))
        )
        _say(f"(`{_self()} status` for details, `{_self()} down` to stop)")
        return 0 if ok else 1
    ensure_postgres()
    ensure_rabbitmq()
    service_uris = ensure_broker_users()
    ensure_mail_catcher()
    port = int(gateway_url().rsplit(":", 1)[1])
    if not running["gateway"] and _reachable("127.0.0.1", port, 1.0):
        sys.exit(
            f"port {port} is taken by a process this runner did not start; "
            "stop it or set GATEWAY_ADDRESS=0.0.0.0:<port>"
        )
    processes = {}
    for service in SERVICES:
        if running[service]:
            _say(f"{service:14} already running (pid {running[service]})")
            processes[service] = None
            continue
        process = start_service(service, service_uris.get(service))
        processes[service] = process
        _say(f"{service:14} started (pid {process.pid}), log {os.path.relpath(_log_file(service), ROOT)}")
    _say(f"waiting for {gateway_url()}/ready ...")
    if not wait_ready(processes):
        _say(f"\nthe platform is not ready; `{_self()} logs <service>` shows why, `{_self()} down` stops it")
        return 1
    if not _wait_web(processes.get(WEB)):
        return 1
    _say("ready.\n")
    if load_demo() != 0:
        return 1
    print_walkthrough()
    _say(f"\nThe browser client: {web_url()}  (sign in as mentee@demo.local, password demo-password-1)")
    return 0


def _wait_web(process, timeout=30.0):
    """The browser client answers its home page (it needs only the gateway, which is ready)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            _say(f"\nweb exited with status {process.returncode}; the end of {_log_file(WEB)}:")
            _tail(WEB, 30)
            return False
        try:
            if requests.get(web_url(), timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    _say(f"\nthe browser client did not answer at {web_url()}; see {_log_file(WEB)}")
    return False


def cmd_down(args):
    stop_mail_catcher()
    stopping = {}
    for service in reversed(list(SERVICES)):
        pid = _running_pid(service)
        if pid is None:
            _remove_pid(service)
            continue
        try:
            os.killpg(pid, signal.SIGTERM)  # its own session (start_new_session): only this process tree
        except OSError:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        stopping[service] = pid
    if not stopping:
        _say("nothing is running")
        return 0
    _say("stopping " + ", ".join(stopping) + " ...")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_running_pid(s) for s in stopping):
        time.sleep(0.3)
    for service, pid in stopping.items():
        if _running_pid(service):
            _say(f"{service} did not stop in time: SIGKILL")
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):  # noqa: B023 - called at once
                try:
                    kill()
                    break
                except OSError:
                    continue
        _remove_pid(service)
    _say("stopped")
    return 0


def _remove_pid(service):
    try:
        os.remove(_pid_file(service))
    except OSError:
        pass


def cmd_status(args):
    any_running = False
    for service in SERVICES:
        pid = _running_pid(service)
        any_running = any_running or pid is not None
        _say(f"{service:14} {'running, pid ' + str(pid) if pid else 'stopped'}")
    catcher = _running_pid(MAIL_CATCHER, marker="aiosmtpd")
    _say(f"{'mail catcher':14} {'running, pid ' + str(catcher) if catcher else 'not started by this runner'}")
    ok, summary = readiness()
    _say(f"\n{gateway_url()}/ready: {'ready' if ok else 'NOT ready'}")
    for name in sorted(summary):
        _say(f"  {name:14} {summary[name]}")
    return 0 if ok else (1 if any_running else 3)


def _tail(service, lines):
    path = _log_file(service)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            text = f.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        _say(f"(no log yet at {path})")
        return
    for line in text:
        _say(line)


def cmd_logs(args):
    services = [args.service] if args.service else list(SERVICES)
    for service in services:
        if service not in SERVICES:
            sys.exit(f"no service {service!r}; one of: {', '.join(SERVICES)}")
    if args.follow:
        paths = [_log_file(s) for s in services if os.path.exists(_log_file(s))]
        if not paths:
            sys.exit("no logs yet")
        os.execvp("tail", ["tail", "-n", str(args.lines), "-F", *paths])
    for service in services:
        if len(services) > 1:
            _say(f"==> {os.path.relpath(_log_file(service), ROOT)} <==")
        _tail(service, args.lines)
    return 0


def cmd_demo(args):
    ok, summary = readiness()
    if not ok:
        _say("the platform is not ready: " + ", ".join(f"{n} {s}" for n, s in sorted(summary.items()) if s != "ok"))
        _say(f"start it with `{_self()} up`")
        return 1
    status = load_demo()
    if status == 0:
        print_walkthrough()
    return status


def load_demo():
    """Register the demo accounts through the gateway (existing ones are fine): the moderator, the
    mentee, three mentors on the roll of mentors (profile, availability, approved application) and one
    whose application waits for the moderator."""
    import requests

    base = f"{gateway_url()}/api/v1"
    session = requests.Session()

    def call(method, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return session.request(method, f"{base}{path}", headers=headers, timeout=15, **kwargs)

    def register(form):
        """Register (the answer is the same for an existing account) and confirm the e-mail as the
        operator does (the demo addresses receive no mail): ready to file cases and apply."""
        response = call("POST", "/auth/register", json=form)
        if response.status_code != 202:
            raise RuntimeError(f"register {form['email']}: HTTP {response.status_code} {response.text[:300]}")
        if not verify_email(form["email"]):
            raise RuntimeError(f"verify the e-mail of {form['email']}: see above")
        return "registered and verified"

    def sign_in(email):
        response = call("POST", "/auth/sign-in", json={"email": email, "password": DEMO_PASSWORD})
        if response.status_code != 200:
            raise RuntimeError(f"sign in {email}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()["access_token"]

    def expect(response, what, *statuses):
        if response.status_code not in statuses:
            raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def on_the_roll(form, profile, moderator_token, approve=True):
        """Register, write the profile and availability, apply; the moderator approves (idempotent)."""
        outcome = register(form)
        token = sign_in(form["email"])
        expect(call("PUT", "/me/mentor-profile", token=token, json=profile), f"mentor profile of {form['email']}", 200)
        expect(
            call("PUT", "/me/availability", token=token, json=DEMO_AVAILABILITY),
            f"availability of {form['email']}",
            200,
        )
        roll = expect(call("GET", "/me/accreditation", token=token), f"accreditation of {form['email']}", 200)
        if roll["state"] in ("none", "rejected"):
            roll = expect(
                call("POST", "/me/accreditation", token=token, json=demo_application(form)),
                f"application of {form['email']}",
                201,
            )
        if approve and roll["state"] == "pending":
            expect(
                call("POST", f"/accreditation/applications/{roll['application']['id']}/approve", token=moderator_token),
                f"approval of {form['email']}",
                200,
            )
            roll["state"] = "accredited"
        return outcome, roll["state"]

    _say("demo data:")
    outcome = create_moderator()  # first: the moderator keeps the roll of mentors
    if outcome is None:
        return 1
    _say(f"  moderator {DEMO_MODERATOR['email']:22} {outcome}")
    try:
        moderator_token = sign_in(DEMO_MODERATOR["email"])
        _say(f"  mentee    {DEMO_MENTEE['email']:22} {register(DEMO_MENTEE)}")
        sign_in(DEMO_MENTEE["email"])
        for form, profile in DEMO_MENTORS:
            outcome, state = on_the_roll(form, profile, moderator_token)
            _say(f"  mentor    {form['email']:22} {outcome}; {state}; profile: {', '.join(profile['rubrics'])}")
        form, profile = DEMO_APPLICANT
        outcome, state = on_the_roll(form, profile, moderator_token, approve=False)
        _say(f"  mentor    {form['email']:22} {outcome}; {state}: an application for the moderator to decide")
    except (requests.RequestException, RuntimeError) as exc:
        _say(f"  failed: {exc}")
        return 1
    _say(f"  every demo password: {DEMO_PASSWORD}\n")
    return 0


def create_moderator():
    """Moderators are never self-registered: the identity service's operator command makes one."""
    m = DEMO_MODERATOR
    env = dict(os.environ)
    env["IDENTITY_DATABASE_URL"] = setting("IDENTITY_DATABASE_URL")
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "services.identity.admin",
            "create-moderator",
            "--email",
            m["email"],
            "--password",
            m["password"],
            "--first-name",
            m["first_name"],
            "--last-name",
            m["last_name"],
            "--patronymic",
            m["patronymic"],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode == 0:
        return "created"
    if result.returncode == 1 and "already exists" in result.stderr:
        return "already exists"
    _say(
        f"  moderator: `python -m services.identity.admin create-moderator` failed "
        f"({result.returncode}): {(result.stderr or result.stdout).strip()[-500:]}"
    )
    return None


def verify_email(email):
    """The demo accounts are verified by the operator command (no mailbox reads the demo's links)."""
    env = dict(os.environ)
    env["IDENTITY_DATABASE_URL"] = setting("IDENTITY_DATABASE_URL")
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "services.identity.admin", "verify-email", "--email", email],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        _say(
            f"  `python -m services.identity.admin verify-email` failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )
    return result.returncode == 0


def _self():
    return ".venv/bin/python scripts/platform.py"


def print_walkthrough():
    base = gateway_url()
    from contracts.case_form import example_case_form  # the installed project's (README: pip install -e .)

    case = example_case_form()
    solution = {
        "text": "Agree on three class rules together with the pupils and keep to them every lesson; "
        "meet the parent committee with concrete, positive proposals.",
        "materials": [
            {"title": "Classroom management that works", "reference": "https://example.org/classroom-management"}
        ],
    }
    # the reflection rates each solution by its id: filled in by jq from $SOLUTION
    reflection = (
        '{problem_solved: "partly", helpfulness: {($s): 5}, actions: "Agreed rules with the class.", '
        'learned: "Involve the pupils in setting the rules.", comment: "Thank you!"}'
    )
    j = lambda obj: shlex.quote(json.dumps(obj, ensure_ascii=False))  # noqa: E731
    auth = lambda who: f'-H "Authorization: Bearer ${who}"'  # noqa: E731
    body = "-H 'Content-Type: application/json'"
    lines = [
        f"Try it (needs curl and jq; OpenAPI at {base}/openapi.json):",
        "",
        f"BASE={base}",
        "signin() { curl -s -X POST $BASE/api/v1/auth/sign-in "
        + body
        + ' -d "{\\"email\\":\\"$1\\",\\"password\\":\\"'
        + DEMO_PASSWORD
        + '\\"}" | jq -r .access_token; }',
        "",
        "# 1. the mentee files a case",
        f"MENTEE=$(signin {DEMO_MENTEE['email']})",
        f"CASE=$(curl -s -X POST $BASE/api/v1/cases {auth('MENTEE')} {body} -d {j(case)} | jq -r .id)",
        "",
        "# 2. a moment later matching has proposed mentors (state choosing_mentor); the mentee picks one",
        f"sleep 2; curl -s $BASE/api/v1/cases/$CASE {auth('MENTEE')} | jq '{{number, state, proposed_mentors: "
        '[.proposed_mentors[] | {mentor_id, score, name: (.profile.first_name + " " + .profile.last_name)}]}\'',
        f"MENTOR_ID=$(curl -s $BASE/api/v1/cases/$CASE {auth('MENTEE')} | jq -r '.proposed_mentors[0].mentor_id')",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/mentor {auth('MENTEE')} {body} "
        '-d "{\\"mentor_id\\":\\"$MENTOR_ID\\"}" | jq .state',
        "",
        "# 3. the chosen mentor (one of mentor1..3) is notified, accepts, writes a possible solution",
        "for n in 1 2 3; do T=$(signin mentor$n@demo.local); "
        f'[ "$(curl -s $BASE/api/v1/me {auth("T")} | jq -r .id)" = "$MENTOR_ID" ] && MENTOR=$T; done',
        f"curl -s $BASE/api/v1/inbox {auth('MENTOR')} | jq '.items[] | {{kind, text}}'",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/accept {auth('MENTOR')} | jq .state",
        f"SOLUTION=$(curl -s -X POST $BASE/api/v1/cases/$CASE/solutions {auth('MENTOR')} {body} -d {j(solution)} "
        "| jq -r '.solutions[-1].id'); echo $SOLUTION",
        "",
        "# 4. the mentee completes the case with a reflection sheet; with consent it becomes a draft for the"
        " library, which the mentee previews and a moderator reads, edits if need be, and publishes",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/completion {auth('MENTEE')} {body} "
        f'-d "$(jq -n --arg s "$SOLUTION" {shlex.quote(reflection)})" | jq .state',
        f"sleep 2; curl -s $BASE/api/v1/me/publications {auth('MENTEE')} | jq '.items[] | {{id, state, texts}}'",
        f"MODERATOR=$(signin {DEMO_MODERATOR['email']})",
        f"DRAFT=$(curl -s $BASE/api/v1/library/drafts {auth('MODERATOR')} | jq -r '.items[0].id')",
        f"curl -s -X POST $BASE/api/v1/library/drafts/$DRAFT/publication {auth('MODERATOR')} | jq .state",
        f"curl -s $BASE/api/v1/library {auth('MENTEE')} | jq '.items[] | {{id, rubrics, essence}}'",
        f"curl -s $BASE/api/v1/inbox {auth('MENTEE')} | jq '.items[] | {{kind, text}}'",
        f"curl -s $BASE/api/v1/cases/$CASE/history {auth('MENTEE')} | jq '[.items[].type]'",
        "",
        "# 5. the moderator keeps the roll of mentors: mentor4 has applied; approve (or reject with a reason)",
        f"curl -s $BASE/api/v1/accreditation/applications {auth('MODERATOR')} | jq '.items[] | {{id, "
        'name: (.profile.first_name + " " + .profile.last_name), rubrics: .profile.rubrics, experience}\'',
        f"APP=$(curl -s $BASE/api/v1/accreditation/applications {auth('MODERATOR')} | jq -r '.items[0].id')",
        f"curl -s -X POST $BASE/api/v1/accreditation/applications/$APP/approve {auth('MODERATOR')} | jq .state",
        "curl -s $BASE/api/v1/mentors | jq '[.items[] | .last_name]'   # public: the roll of mentors",
        "",
        "# follow one request through every service's log",
        f"curl -s -o /dev/null -X POST $BASE/api/v1/cases {auth('MENTEE')} {body} "
        f"-H 'X-Correlation-ID: demo-trace-1' -d {j(case)}",
        "sleep 2; grep -h demo-trace-1 .run/logs/*.log | jq -c '{service, event}'",
        "",
        f"Accounts: {DEMO_MENTEE['email']}, mentor1@demo.local .. mentor3@demo.local (accredited), "
        f"{DEMO_APPLICANT[0]['email']} (applied), "
        f"{DEMO_MODERATOR['email']}; password {DEMO_PASSWORD}.",
        f"Notification e-mails (the mail catcher's): {os.path.relpath(_log_file(MAIL_CATCHER), ROOT)}.",
        f"Stop with `{_self()} down`; see `{_self()} status` and `{_self()} logs [service]`.",
    ]
    _say("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="scripts/platform.py", description="Run the mentoring platform locally, one process per service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start PostgreSQL/RabbitMQ if down, every service, load the demo data")
    commands.add_parser("down", help="stop every service (SIGTERM, then SIGKILL)")
    commands.add_parser("status", help="which services run, and the gateway's /ready")
    logs = commands.add_parser("logs", help="the end of the services' logs")
    logs.add_argument("service", nargs="?", choices=list(SERVICES))
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    commands.add_parser("demo", help="load the demo accounts again (idempotent)")
    args = parser.parse_args(argv)
    handler = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "logs": cmd_logs, "demo": cmd_demo}
    return handler[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
