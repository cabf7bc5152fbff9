"""A platform of real `nameko run` processes for the end-to-end modules: shared by consecutive modules
that want the same one, stopped after its folder's last test (``RunningPlatform``)."""

import atexit
import subprocess
import sys
import uuid

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from tests.accounts import accepted, verification_token
from tests.processes import ROOT, ServiceProcess, stop_together
from tests.support import eventually, free_port

SERVICES = ("identity", "matching", "cases", "notifications", "library", "gateway")


@pytest.fixture(scope="module")
def platform_databases():
    """Whose databases the platform uses: None, the session's (every e2e module shares them and
    keeps to rubrics of its own); another suite names its own set (tests/browser: "browser")."""
    return None


@pytest.fixture(scope="module")
def platform_settings():
    """Settings of the platform's processes that a module changes (environment variables of their
    config.yaml), e.g. a short reminder schedule where real processes cannot take an injected clock."""
    return {}


@pytest.fixture(scope="module")
def platform(running_platform, test_env, tmp_path_factory, platform_databases, platform_settings):
    """The platform of this module: the one already running when the module before it, in this folder,
    wanted the same databases and settings (most modules do), else a new one (``RUNNING``)."""
    key = (platform_databases, tuple(sorted(platform_settings.items())))
    return running_platform.get(
        key, lambda: _started(test_env, tmp_path_factory, platform_databases, platform_settings)
    )


@pytest.fixture(scope="session")
def running_platform(test_env):
    """``RUNNING``, stopped at the latest before the session's broker and databases go (a session fixture
    set up after ``test_env`` is torn down before it): the last folder's platform stops here."""
    yield RUNNING
    RUNNING.stop()


class RunningPlatform:
    """The one platform running at a time. Consecutive modules of a folder that want the same one share
    it: starting six processes costs seconds a module. Never two at once (they would share the session's
    queues), and none outlives its folder (``pytest_runtest_teardown`` below): no stray consumer of
    theirs may take a later test's messages."""

    def __init__(self):
        self.key = None
        self.platform = None

    def get(self, key, start):
        if self.platform is None or key != self.key:
            self.stop()
            self.platform, self.key = start(), key
        return self.platform

    def stop(self):
        platform, self.platform, self.key = self.platform, None, None
        if platform is not None:
            stop_together(platform.processes.values())


RUNNING = RunningPlatform()
atexit.register(RUNNING.stop)  # an interrupted session


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """After the folder's last test (its module fixtures torn down), the platform stops. tests/browser's
    conftest imports this hook too."""
    if nextitem is None or nextitem.path.parent != item.path.parent:
        RUNNING.stop()


def _started(test_env, tmp_path_factory, platform_databases, platform_settings):
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    port = free_port()
    env = test_env.process_env()
    env.update(platform_settings)
    if platform_databases:
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = test_env.database_url(f"{platform_databases}_{service}")
    env["GATEWAY_ADDRESS"] = f"127.0.0.1:{port}"
    # each service as its own broker user, with only the rights it needs (services/common/broker_users.py)
    processes = [
        ServiceProcess(name, dict(env, AMQP_URI=test_env.service_amqp_uri(name)), log_dir).start() for name in SERVICES
    ]
    try:
        for process in processes[:-1]:
            process.wait_healthy(test_env.amqp_uri)
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: _ok(f"{base}/health"), timeout=60, message="gateway up")
    except BaseException:
        stop_together(processes)
        raise
    return Platform(base, processes, test_env, env)


def _ok(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


class Platform:
    """A client of the platform's gateway with the journeys' helpers. What reaches past HTTP (the
    e-mailed link, matching's view of a mentor, the operator's admin command) is in the three methods
    after ``call``, which tests/deploy/test_compose_stack.py's platform of containers replaces."""

    def __init__(self, base, processes, test_env, env):
        self.env = env  # the processes' environment (their databases)
        self.base = base
        self.processes = {p.name: p for p in processes}
        self.test_env = test_env

    def call(self, method, path, token=None, json=None, headers=None, expect=200):
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        response = requests.request(method, f"{self.base}{path}", json=json, headers=all_headers, timeout=20)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def verification_token(self, email):
        """The token of the verification link e-mailed to ``email`` (the session's SMTP catcher)."""
        return verification_token(email)

    def wait_accredited(self, mentor_id):
        """Returns once matching knows the mentor accredited (it learns it from identity's event)."""
        with ClusterRpcProxy({"AMQP_URI": self.test_env.amqp_uri}, timeout=10) as rpc:
            eventually(
                lambda: rpc.matching.get_mentor(mentor_id)["accredited"],
                message="matching learns the accredited mentor",
            )

    def create_moderator(self, email, password, first_name, last_name):
        """The operator's command that makes a moderator, run on the processes' identity database."""
        subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
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
            ],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def person(self, role, first_name, last_name):
        """A new account, its e-mail verified by the link e-mailed to it (the session's SMTP catcher)."""
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        answer = self.call(
            "POST",
            "/api/v1/auth/register",
            json={
                "email": email,
                "password": "correct horse battery",
                "role": role,
                "first_name": first_name,
                "last_name": last_name,
            },
            expect=202,
        )
        assert answer == accepted(email)
        assert self.call("POST", "/api/v1/auth/email-verification", json={"token": self.verification_token(email)}) == {
            "verified": True
        }
        token = self.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": "correct horse battery"})
        user = token["user"]
        assert user["email"] == email and user["role"] == role and user["email_verified"] is True
        assert token["token_type"] == "bearer" and "password" not in user
        return user, token["access_token"]

    def mentor(self, first_name, last_name, rubrics, capacity=5, **profile):
        """A mentor matching may propose: registered, profile and availability written, applied for
        the roll of mentors and approved by a moderator; returns once matching knows them accredited."""
        user, token = self.person("mentor", first_name, last_name)
        written = self.call("PUT", "/api/v1/me/mentor-profile", token=token, json={"rubrics": rubrics, **profile})
        assert written["mentor_id"] == user["id"] and "email" not in written and written["accredited"] is False
        self.call("PUT", "/api/v1/me/availability", token=token, json={"capacity": capacity})
        applied = self.call(
            "POST",
            "/api/v1/me/accreditation",
            token=token,
            expect=201,
            json={
                "experience": f"{first_name} {last_name}: years of teaching and of supervising student teachers.",
                "motivation": "To help novice teachers through their first years at school.",
            },
        )
        assert applied["state"] == "pending"
        approved = self.call(
            "POST", f"/api/v1/accreditation/applications/{applied['application']['id']}/approve", token=self.approver()
        )
        assert approved["state"] == "approved" and approved["profile"]["accredited"] is True
        self.wait_accredited(user["id"])
        return user, token

    def publish_draft(self, author_token, case_id, kind, moderator_token=None):
        """Nothing is published before a moderator has read it: waits for the case's waiting draft of
        ``kind`` (solved_case, forum_post) as its author previews it; a moderator publishes it."""

        def waiting():
            drafts = self.call("GET", f"/api/v1/me/publications?case_id={case_id}", token=author_token)["items"]
            return [d for d in drafts if d["kind"] == kind and d["state"] == "pending"]

        [draft] = eventually(waiting, timeout=30, message=f"the case's {kind} draft waits for review")
        published = self.call(
            "POST", f"/api/v1/library/drafts/{draft['id']}/publication", token=moderator_token or self.approver()
        )
        assert published["state"] == "published"
        return published

    def approver(self):
        """One moderator per platform who keeps the roll of mentors for ``mentor()``."""
        if getattr(self, "_approver", None) is None:
            self._approver = self.moderator()
        return self._approver

    def moderator(self):
        """A new moderator's access token (see ``moderator_account``)."""
        email, password = self.moderator_account()
        return self.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})["access_token"]

    def moderator_account(self, first_name="Maria", last_name="Moderova"):
        """Moderators never register: an operator creates one with the identity admin command.
        Returns the new moderator's (email, password)."""
        email = f"moderator-{uuid.uuid4().hex[:8]}@example.org"
        self.create_moderator(email, "correct horse battery", first_name, last_name)
        return email, "correct horse battery"
