"""Root test configuration: real RabbitMQ and PostgreSQL, isolated per test session.

Which servers: TEST_AMQP_URI / TEST_POSTGRES_URL if set, else the local ones on
127.0.0.1, else (when Docker is available) testcontainers. If none is reachable the
tests fail: they never skip. Each session gets its own RabbitMQ vhost (when rabbitmqctl
can make one) and its own databases, dropped at the end.
"""

import eventlet

eventlet.monkey_patch()  # first: nameko's pytest plugin no longer does it

import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import hypothesis  # noqa: E402
import psycopg2  # noqa: E402
import pytest  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from psycopg2 import sql  # noqa: E402

from services.common import broker_users  # noqa: E402
from services.identity.sealing import DEVELOPMENT_MASTER_KEY  # noqa: E402
from services.library.sealing import DEVELOPMENT_MASTER_KEY as LIBRARY_DEVELOPMENT_MASTER_KEY  # noqa: E402
from services.notifications.sealing import DEVELOPMENT_MASTER_KEY as NOTIFICATIONS_DEVELOPMENT_MASTER_KEY  # noqa: E402
from tests import accounts  # noqa: E402
from tests.actors import (  # noqa: E402
    TEST_NOTIFICATIONS_SIGNING_KEY,
    TEST_NOTIFICATIONS_VERIFY_KEY,
    TEST_SIGNING_KEY,
    TEST_VERIFY_KEY,
    signed_rpc,
)  # noqa: E402
from tests.integration.smtp_sink import SmtpSink  # noqa: E402

LOCAL_AMQP = "pyamqp://guest:guest@127.0.0.1:5672/"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
SERVICES = ("cases", "matching", "notifications", "library", "identity", "gateway")
TOKEN_SECRET = "test-token-secret-0123456789abcdef"
# identity's settings in every test session: the account e-mails (verification and reset links) go to
# the session's catcher, polled fast; registrations are limited per address, and every test client is
# 127.0.0.1 (the limit's own test starts identity with a small one); a cheap argon2id (one pass over
# 1 MiB: still the real hash, but the suite's thousands of registrations and sign-ins spent most of its
# CPU at the production cost: two registration-heavy modules took 160 s instead of 77; passwords.py)
ACCOUNT_SETTINGS = {
    "ACCOUNT_EMAIL_POLL_INTERVAL": 0.1,
    "REGISTRATION_ADDRESS_LIMIT": 1000000,
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def _reachable(url, default_port):
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _docker_available():
    return (
        shutil.which("docker") is not None and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )


# ---- the quick local loop: `pytest -m "not slow"` (unit tests and the fast integration tests) ----------
# CI runs everything. "slow" is every test of the folders that start whole platforms or break them, and
# the integration modules that take seconds a test or tens of seconds in all (measured with --junitxml
# on this machine, 2026-12-06 and 2026-12-07: over 10 s a module, or over 1.5 s a test); the rest of
# tests/integration (about 20 modules, among them test_gateway's 61 requests) runs in the quick loop.
SLOW_FOLDERS = {"e2e", "browser", "faults", "security", "deploy"}
SLOW_INTEGRATION_MODULES = {
    "test_library_sealing",
    "test_gateway_fuzz",
    "test_authorization_matrix",
    "test_identity_people",
    "test_gateway_people",
    "test_communication_http",
    "test_audited_access",
    "test_gateway_hygiene",
    "test_statistics_rpc",
    "test_notifications_email",
    "test_graceful_shutdown",
    "test_identity_service",
    "test_gateway_tokens",
    "test_batch_consumer",
    "test_case_reminders",
    "test_broker_setup_http",
    # 2026-12-07
    "test_backup_restore",
    "test_case_flags_and_escalation",
    "test_case_flow_rpc",
    "test_gateway_colleague_suggestions",
    "test_gateway_figures",
    "test_gateway_session_feed",
    "test_gateway_statistics",
    "test_gateway_without_identity",
    "test_identity_account_email",
    "test_library_review",
    "test_matching_availability",
    "test_metrics",
    "test_news_items",
    "test_notifications_email_pause",
    "test_notifications_email_wake",
    "test_notifications_inbox",
    "test_parked_replay",
    "test_production_settings",
    "test_proposals_watchdog",
    "test_redelivery",
    "test_relay_recovery",
    "test_research_rebuild",
    "test_research_rebuild_matching",
    "test_rpc_deadline",
    "test_schema_migration",
    "test_surveys_http",
    # new modules of 2026-12-07 over 1.5 s a test
    "test_anonymizer_models",
    "test_identity_erasure",
    "test_migration_upgrade",
    "test_person_erased_consumers",
    "test_cases_person_erased",  # four services, two erasures: about 45 s
    "test_cases_sealing",  # a case through every step that writes text, two erasures: about 9 s, 3 tests
}
FOLDER_MARKERS = {"e2e": "e2e", "browser": "browser"}
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


# Hypothesis' examples per property (tests/unit/test_fast_load.py): the full count in CI, a tenth in the
# quick loop, which runs every property on fewer payloads; a property may still set its own count.
EXAMPLES = {"full": 150, "quick": 15}


def pytest_configure(config):
    quick = config.getoption("markexpr", "").replace(" ", "") == "notslow"
    for name, count in EXAMPLES.items():
        hypothesis.settings.register_profile(name, max_examples=count)
    hypothesis.settings.load_profile("quick" if quick else "full")


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder, *_ = os.path.relpath(str(item.path), TESTS_DIR).split(os.sep)
        module = os.path.splitext(os.path.basename(str(item.path)))[0]
        if folder in SLOW_FOLDERS or (folder == "integration" and module in SLOW_INTEGRATION_MODULES):
            item.add_marker(pytest.mark.slow)
        if folder in FOLDER_MARKERS:
            item.add_marker(getattr(pytest.mark, FOLDER_MARKERS[folder]))


class TestEnvironment:
    """Where this session's brokers and databases are, and how to build a service config."""

    def __init__(self, amqp_base, postgres_base):
        self.token = uuid.uuid4().hex[:8]
        self.postgres_base = postgres_base.rstrip("/")
        self.amqp_uri, self._vhost = self._isolated_vhost(amqp_base)
        self.databases = []
        self._broker_passwords = None  # the session's broker user per service, made on first use
        # the session's SMTP catcher: identity's account e-mails, read by tests/accounts.py
        self._maildir = tempfile.mkdtemp(prefix="mentor-test-mail-")
        self.mail = SmtpSink(os.path.join(self._maildir, "mail")).start()

    def _isolated_vhost(self, amqp_base):
        parts = urlsplit(amqp_base)
        if parts.hostname in ("127.0.0.1", "localhost") and shutil.which("rabbitmqctl"):
            vhost = f"mentor-test-{self.token}"
            for args in (
                ["add_vhost", vhost],
                ["set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*"],
            ):
                subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
            return f"{parts.scheme}://{parts.netloc}/{vhost}", vhost
        return amqp_base, None

    @property
    def broker_namespace(self):
        """Prefix of this session's broker users (test-<token>-mentor-<service>), removed at its end."""
        return f"test-{self.token}-"

    def service_amqp_uri(self, service):
        """``service``'s own broker user on this session's vhost, with the least permissions of
        services/common/broker_users.py (made with the topology on first use, deleted at the end).
        Without a vhost of its own (a remote or containerized broker) the session's shared URI."""
        if self._vhost is None:
            return self.amqp_uri
        if self._broker_passwords is None:
            passwords = {s: secrets.token_urlsafe(24) for s in broker_users.SERVICES}
            broker_users.import_with_rabbitmqctl(
                broker_users.definitions(passwords, vhost=self._vhost, namespace=self.broker_namespace)
            )
            self._broker_passwords = passwords
        return broker_users.service_uri(
            self.amqp_uri, service, self._broker_passwords[service], namespace=self.broker_namespace
        )

    def database_url(self, service):
        name = f"mentor_test_{self.token}_{service}"
        if name not in self.databases:
            self.databases.append(name)
        return f"{self.postgres_base}/{name}"

    def config(self, service, **overrides):
        config = {
            "AMQP_URI": self.amqp_uri,
            "DATABASE_URL": self.database_url(service),
            "TOKEN_SECRET": TOKEN_SECRET,
            # the gateway signs the acting user with the private key, every service checks with the
            # public one (services/common/actors.py; tests/actors.py signs as the gateway would)
            "ACTOR_VERIFY_KEY": TEST_VERIFY_KEY,
            "SERVICE_SIGNING_KEY": TEST_NOTIFICATIONS_SIGNING_KEY if service == "notifications" else None,
            "SERVICE_VERIFY_KEYS": f"notifications={TEST_NOTIFICATIONS_VERIFY_KEY}",
            "PLATFORM_ENV": "test",  # whatever the shell says: test secrets are not production ones
            "TOKEN_TTL_SECONDS": 3600,
            "LOG_LEVEL": "INFO",
            "RELAY_POLL_INTERVAL": 0.1,
            "RPC_TIMEOUT": 10,
            "max_workers": 10,
        }
        if service == "gateway":
            config["ACTOR_SIGNING_KEY"] = TEST_SIGNING_KEY
        if service == "identity":
            config.update(ACCOUNT_SETTINGS, SMTP_HOST="127.0.0.1", SMTP_PORT=self.mail.port)
            # config.yaml's development key, which the operator command (tests/accounts.py too) falls back to
            config["PERSON_KEYS_MASTER_KEY"] = DEVELOPMENT_MASTER_KEY
        if service == "notifications":  # its own config.yaml's development key, as `nameko run` reads it
            config["PERSON_KEYS_MASTER_KEY"] = NOTIFICATIONS_DEVELOPMENT_MASTER_KEY
        if service == "library":  # its own config.yaml's development key, as `nameko run` reads it
            config["PERSON_KEYS_MASTER_KEY"] = LIBRARY_DEVELOPMENT_MASTER_KEY
        config.update(overrides)
        return config

    def process_env(self):
        """Environment variables for `nameko run` processes using the services' own config.yaml."""
        env = dict(os.environ)
        env.update(
            {
                "AMQP_URI": self.amqp_uri,
                "TOKEN_SECRET": TOKEN_SECRET,
                "RELAY_POLL_INTERVAL": "0.1",
                "PLATFORM_ENV": "test",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(self.mail.port),
                "ACTOR_SIGNING_KEY": TEST_SIGNING_KEY,
                "ACTOR_VERIFY_KEY": TEST_VERIFY_KEY,
                # notifications' own key (only it reads contacts as itself), identity its public one
                "NOTIFICATIONS_SIGNING_KEY": TEST_NOTIFICATIONS_SIGNING_KEY,
                "NOTIFICATIONS_VERIFY_KEY": TEST_NOTIFICATIONS_VERIFY_KEY,
            }
        )
        env.update({name: str(value) for name, value in ACCOUNT_SETTINGS.items()})
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service)
        return env

    def cleanup(self):
        # each rabbitmqctl call boots an Erlang VM (seconds on a busy machine): the vhost's and the session's
        # users' deletions all run at once, beside the databases' drops
        deletions = []

        def start(args, **_):
            deletions.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        if self._vhost:
            start(["rabbitmqctl", "-q", "delete_vhost", self._vhost])
        if self._broker_passwords is not None:
            broker_users.delete_with_rabbitmqctl(self._broker_passwords, self.broker_namespace, run=start)
        conn = psycopg2.connect(f"{self.postgres_base}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in self.databases:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.close()
        for deletion in deletions:
            deletion.wait(timeout=60)
        self.mail.stop()
        shutil.rmtree(self._maildir, ignore_errors=True)


@pytest.fixture(scope="session")
def test_env():
    amqp = os.environ.get("TEST_AMQP_URI", LOCAL_AMQP)
    postgres = os.environ.get("TEST_POSTGRES_URL", LOCAL_POSTGRES)
    started = []
    if not (_reachable(amqp, 5672) and _reachable(postgres, 5432)) and _docker_available():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.rabbitmq import RabbitMqContainer

        pg = PostgresContainer("postgres:15", username="postgres", password="postgres").start()
        mq = RabbitMqContainer("rabbitmq:3.10").start()
        started = [pg, mq]
        postgres = f"postgresql://postgres:postgres@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}"
        amqp = f"pyamqp://guest:guest@{mq.get_container_host_ip()}:{mq.get_exposed_port(5672)}/"
    assert _reachable(amqp, 5672), f"RabbitMQ is not reachable at {amqp}: start it (see README)"
    assert _reachable(postgres, 5432), f"PostgreSQL is not reachable at {postgres}: start it (see README)"
    env = TestEnvironment(amqp, postgres)
    accounts.use_environment(env)
    yield env
    env.cleanup()
    for container in started:
        container.stop()


class ContainerSet:
    """Nameko containers run in this process, on the real broker and database."""

    def __init__(self, test_env):
        self.test_env = test_env
        self.containers = []

    def __call__(self, service_cls, **overrides):
        container = ServiceContainer(service_cls, self.test_env.config(service_cls.name, **overrides))
        try:
            container.start()
        except BaseException:
            # a container that failed half-way through its start is killed, not stopped: stopping
            # waits for consumers that never became ready (nameko's QueueConsumer), for ever
            container.kill()
            raise
        self.containers.append(container)
        return container

    STOP_TIMEOUT = 60  # seconds; a container that has not stopped by then is killed

    def stop_all(self):
        """In parallel: each container takes about 2 s to stop its consumers."""
        pool = eventlet.GreenPool()
        for container in self.containers:
            pool.spawn(self._stop, container)
        pool.waitall()
        self.containers = []

    def _stop(self, container):
        """Stop, bounded: a test run once hung for good in a module's teardown after a gateway's tests
        (2026-12-06: closing a pool connection still in use, since fixed in PostgresStore.close); a
        container that does not stop in time is killed, and says so on stderr."""
        try:
            with eventlet.Timeout(self.STOP_TIMEOUT):
                container.stop()
        except eventlet.Timeout:
            sys.stderr.write(f"\n{container.service_name} did not stop within {self.STOP_TIMEOUT} s: killed\n")
            container.kill()


@pytest.fixture
def start_service(test_env):
    """Start a nameko service for one test (stopped after it)."""
    containers = ContainerSet(test_env)
    yield containers
    containers.stop_all()


@pytest.fixture(scope="module")
def start_module_service(test_env):
    """Start a nameko service shared by a module's tests (each stop costs about 2 s)."""
    containers = ContainerSet(test_env)
    yield containers
    containers.stop_all()


@pytest.fixture
def rpc(test_env):
    """A standalone RPC client with a timeout (nameko's proxies have none by default) that signs each
    call's actor as the gateway would (tests/actors.py)."""
    with signed_rpc(test_env.amqp_uri, timeout=15) as proxy:
        yield proxy


@pytest.fixture
def db(test_env):
    """A psycopg2 connection to one service's test database (autocommit), one per service and
    test: helpers polled inside ``eventually`` must not open a connection per poll."""
    connections = {}

    def connect(service):
        conn = connections.get(service)
        if conn is None or conn.closed:
            conn = connections[service] = psycopg2.connect(test_env.database_url(service))
            conn.autocommit = True
        return conn

    yield connect
    for conn in connections.values():
        conn.close()
