"""What the services need before they start, locally: PostgreSQL and RabbitMQ (started when down and
local), each database at the head of its service's schema history (services/common/migrations.py), each
service's own broker user (services/common/broker_users.py), and an SMTP catcher.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from runner_processes import (
    is_local,
    log_file,
    make_run_dirs,
    pid_file,
    reachable,
    remove_pid,
    running_pid,
    say,
)
from runner_table import (
    ENV_DEFAULTS,
    ROOT,
    RUN_DIR,
    setting,
)


def wait_tcp(host, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reachable(host, port, 1.0):
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
        if reachable(host, port):
            continue
        if not is_local(host):
            sys.exit(f"PostgreSQL at {host}:{port} is not reachable (and not local: not starting it)")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions or not shutil.which("pg_ctlcluster"):
            sys.exit(f"PostgreSQL at {host}:{port} is down and no local cluster was found to start")
        say(f"starting PostgreSQL {versions[-1]} ...")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
        if not wait_tcp(host, port, 30):
            sys.exit(f"PostgreSQL did not come up on {host}:{port}")


MIGRATE_COMMAND = ("-m", "services.common.migrations", "apply", "all")  # compose's migrate service runs the same


def migrate_databases():
    """Run every service's schema history on its database before any service starts (the services then
    find nothing to apply), as compose's one-shot ``migrate`` service does; stops ``up`` when it fails."""
    env = dict(os.environ)
    env.update({name: setting(name) for name in ENV_DEFAULTS if name.endswith("_DATABASE_URL")})
    say("migrations: bringing every database to the head of its service's history ...")
    result = subprocess.run([sys.executable, "-W", "ignore", *MIGRATE_COMMAND], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"the migrations failed (status {result.returncode}, above): no service was started")


def ensure_rabbitmq():
    parts = urlsplit(setting("AMQP_URI"))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if reachable(host, port):
        return
    if not is_local(host):
        sys.exit(f"RabbitMQ at {host}:{port} is not reachable (and not local: not starting it)")
    if not shutil.which("rabbitmq-server"):
        sys.exit(f"RabbitMQ at {host}:{port} is down and rabbitmq-server is not installed")
    say("starting RabbitMQ ...")
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    if not wait_tcp(host, port, 90):
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
    if not (is_local(urlsplit(admin).hostname or "127.0.0.1") and shutil.which("rabbitmqctl")):
        say("broker users: not created (a remote broker, or no rabbitmqctl here): every service uses AMQP_URI")
        return {}
    passwords = broker_passwords(broker_users.SERVICES)
    broker_users.import_with_rabbitmqctl(
        broker_users.definitions(passwords, vhost=broker_users.vhost_of(admin)), run=run
    )
    say(
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
    if reachable(host, port, 1.0):
        return
    if not is_local(host):
        say(f"no SMTP server answers at {host}:{port}: notification e-mails wait and are retried")
        return
    import importlib.util

    if importlib.util.find_spec("aiosmtpd") is None:
        say(
            f"no SMTP server at {host}:{port} and aiosmtpd is not installed (`.venv/bin/pip install -e "
            f'".[test]"`): notification e-mails wait and are retried'
        )
        return
    make_run_dirs()
    log = open(log_file(MAIL_CATCHER), "ab")
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
    with open(pid_file(MAIL_CATCHER), "w") as f:
        f.write(f"{process.pid}\n")
    if wait_tcp(host, port, 15):
        say(f"{'mail catcher':14} started on {host}:{port}, e-mails in {os.path.relpath(log_file(MAIL_CATCHER), ROOT)}")
    else:
        say(f"the mail catcher did not come up on {host}:{port}: notification e-mails wait and are retried")


def stop_mail_catcher():
    pid = running_pid(MAIL_CATCHER, marker="aiosmtpd")
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        say("mail catcher stopped")
    remove_pid(MAIL_CATCHER)
