"""A 503 does not leave a command behind (issue #18, part 2): a request the gateway gave up on is never
carried out later. Once cases was stopped (SIGSTOP) and once not running at all, each longer than the
gateway's RPC_TIMEOUT: the case filed meanwhile answers 503 saying its outcome is unknown, and after
cases comes back no such case exists - not in its database, not in the author's list."""
import os
import signal
import socket
import time
import uuid

import pytest
import requests

from tests.faults.helpers import queue_depth, service_env
from tests.integration.event_helpers import count
from tests.processes import ServiceProcess
from tests.support import case_form, eventually

pytestmark = pytest.mark.timeout(240)

RPC_TIMEOUT = 2
PASSWORD = "correct horse battery"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def short_timeout_platform(test_env, services, tmp_path):
    """identity, cases and a gateway that gives up after RPC_TIMEOUT seconds; returns (base, cases, start_cases)."""
    services("identity", RPC_TIMEOUT=str(RPC_TIMEOUT))
    cases = services("cases", RPC_TIMEOUT=str(RPC_TIMEOUT))
    port = _free_port()
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


def _mentee(base):
    email = f"deadline-{uuid.uuid4().hex[:8]}@example.org"
    registered = requests.post(f"{base}/api/v1/auth/register", timeout=30, json={
        "email": email, "password": PASSWORD, "role": "mentee", "first_name": "Anna", "last_name": "Petrova"})
    assert registered.status_code == 201, registered.text
    signed = requests.post(f"{base}/api/v1/auth/sign-in", timeout=30, json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return registered.json()["id"], {"Authorization": f"Bearer {signed.json()['access_token']}"}


def _file_without_key(base, auth):
    started = time.monotonic()
    response = requests.post(f"{base}/api/v1/cases", json=case_form(rubrics=["education-law"]), headers=auth,
                             timeout=RPC_TIMEOUT + 30)
    return response, time.monotonic() - started


def _assert_unknown_outcome(response):
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "service_unavailable", error
    assert error["details"] == {"service": "cases", "outcome": "unknown"}, error  # sent; maybe done, maybe not


def _cases_of(db, author_id):
    return count(db, "cases", "SELECT count(*) FROM case_index WHERE author_id = %s", author_id)


def _assert_never_created(db, base, auth, author_id, cases_log):
    """Cases is back and answering; well past the deadline, still no case of this author anywhere."""
    eventually(lambda: requests.get(f"{base}/api/v1/cases", headers=auth, timeout=30).status_code == 200,
               timeout=60, message="cases answers the gateway again")
    time.sleep(5)  # a request carried out late would have been by now (each takes milliseconds)
    assert _cases_of(db, author_id) == 0, cases_log()
    listed = requests.get(f"{base}/api/v1/cases", headers=auth, timeout=30)
    assert listed.status_code == 200 and listed.json()["items"] == [], listed.text


def test_a_case_filed_while_cases_is_frozen_is_never_created_after_the_503(test_env, db, short_timeout_platform):
    base, cases, _ = short_timeout_platform
    author_id, auth = _mentee(base)
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
    eventually(lambda: "rpc_deadline_passed" in cases.log_text(), timeout=30,
               message="cases refused the late requests", explain=cases.tail)


def test_a_case_filed_while_cases_is_down_expires_in_the_broker(test_env, db, short_timeout_platform):
    base, cases, start_cases = short_timeout_platform
    author_id, auth = _mentee(base)
    cases.stop()  # its durable queue rpc-cases stays: a request waits there for it
    response, _ = _file_without_key(base, auth)
    _assert_unknown_outcome(response)
    eventually(lambda: queue_depth(test_env.amqp_uri, "rpc-cases") == 0, timeout=30,
               message="the broker dropped the expired request")
    start_cases()
    _assert_never_created(db, base, auth, author_id, cases.tail)
