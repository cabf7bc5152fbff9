"""A 503 does not leave a command behind (issue #18, part 2): a request the gateway gave up on is never
carried out later. Once cases was stopped (SIGSTOP) and once not running at all, each longer than the
gateway's RPC_TIMEOUT: the case filed meanwhile answers 503 saying its outcome is unknown, and after
cases comes back no such case exists - not in its database, not in the author's list."""

import os
import signal
import time
import uuid

import pytest
import requests

from tests.accounts import register_over_rpc
from tests.actors import signed_rpc
from tests.faults.helpers import queue_depth, service_env
from tests.integration.event_helpers import count
from tests.processes import ServiceProcess
from tests.support import case_form, eventually, free_port

pytestmark = pytest.mark.timeout(240)

RPC_TIMEOUT = 2
PASSWORD = "correct horse battery"


@pytest.fixture
def short_timeout_platform(test_env, services, tmp_path):
    """identity, cases and a gateway that gives up after RPC_TIMEOUT seconds; returns (base, cases, start_cases)."""
    services("identity", RPC_TIMEOUT=str(RPC_TIMEOUT))
    cases = services("cases", RPC_TIMEOUT=str(RPC_TIMEOUT))
    port = free_port()
    env = service_env(test_env)
    env.update(GATEWAY_ADDRESS=f"127.0.0.1:{port}", RPC_TIMEOUT=str(RPC_TIMEOUT))
    gateway = ServiceProcess("gateway", env, tmp_path).start()
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        eventually(up, timeout=60, message="gateway up")
        yield base, cases, lambda: services("cases", RPC_TIMEOUT=str(RPC_TIMEOUT))
    finally:
        gateway.kill()


def _mentee(test_env):
    """Registered and signed in at identity directly, with time to spare: argon2 on a loaded machine
    may take longer than the gateway's short RPC_TIMEOUT, which is for the cases service here."""
    email = f"deadline-{uuid.uuid4().hex[:8]}@example.org"
    with signed_rpc(test_env.amqp_uri, timeout=60) as rpc:
        user = register_over_rpc(
            rpc,
            {"email": email, "password": PASSWORD, "role": "mentee", "first_name": "Anna", "last_name": "Petrova"},
            verify=True,
        )
        token = rpc.identity.sign_in({"email": email, "password": PASSWORD})["access_token"]
    return user["id"], {"Authorization": f"Bearer {token}"}


def _file_without_key(base, auth):
    started = time.monotonic()
    response = requests.post(
        f"{base}/api/v1/cases", json=case_form(rubrics=["education-law"]), headers=auth, timeout=RPC_TIMEOUT + 30
    )
    return response, time.monotonic() - started


def _assert_unknown_outcome(response):
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "service_unavailable", error
    assert error["details"] == {"service": "cases", "outcome": "unknown"}, error  # sent; maybe done, maybe not


def _cases_of(db, author_id):
    return count(db, "cases", "SELECT count(*) FROM case_index WHERE author_id = %s", author_id)


def _listed(base, auth):
    """The author's case list, or None while the gateway cannot have it from cases."""
    response = requests.get(f"{base}/api/v1/cases", headers=auth, timeout=30)
    return response.json()["items"] if response.status_code == 200 else None


def _assert_never_created(db, base, auth, author_id, cases_log):
    """Cases is back and answering; well past the deadline, still no case of this author anywhere."""
    eventually(lambda: _listed(base, auth) is not None, timeout=60, message="cases answers the gateway again")
    time.sleep(5)  # a request carried out late would have been by now (each takes milliseconds)
    assert _cases_of(db, author_id) == 0, cases_log()
    [items] = eventually(
        lambda: (lambda items: None if items is None else [items])(_listed(base, auth)),
        timeout=60,
        message="the author's list",
    )
    assert items == [], items


def test_a_case_filed_while_cases_is_frozen_is_never_created_after_the_503(test_env, db, short_timeout_platform):
    base, cases, _ = short_timeout_platform
    author_id, auth = _mentee(test_env)
    pid = cases.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        refused = [_file_without_key(base, auth) for _ in range(3)]
        for response, took in refused:
            _assert_unknown_outcome(response)
            assert took < RPC_TIMEOUT + 15, took  # the gateway's deadline, not a hang
        time.sleep(RPC_TIMEOUT + 1)  # every deadline is over while cases is still frozen
    finally:
        os.kill(pid, signal.SIGCONT)
    _assert_never_created(db, base, auth, author_id, cases.tail)
    # the frozen process had already taken the requests: it refused them itself, unexecuted
    eventually(
        lambda: "rpc_deadline_passed" in cases.log_text(),
        timeout=30,
        message="cases refused the late requests",
        explain=cases.tail,
    )


def test_a_case_filed_while_cases_is_down_expires_in_the_broker(test_env, db, short_timeout_platform):
    base, cases, start_cases = short_timeout_platform
    author_id, auth = _mentee(test_env)
    cases.stop()  # its durable queue rpc-cases stays: a request waits there for it
    response, _ = _file_without_key(base, auth)
    _assert_unknown_outcome(response)
    eventually(
        lambda: queue_depth(test_env.amqp_uri, "rpc-cases") == 0,
        timeout=30,
        message="the broker dropped the expired request",
    )
    start_cases()
    _assert_never_created(db, base, auth, author_id, cases.tail)
