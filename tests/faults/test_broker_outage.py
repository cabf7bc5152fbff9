"""RabbitMQ stopped and started while cases are being filed (on a private node, never the shared
one): the gateway answers 503 with a clear error within its RPC timeout, every case accepted (201)
before or as the outage began reaches its consumers after it, and every service reconnects by itself."""

import uuid

import eventlet
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from tests.accounts import verification_token
from tests.faults.helpers import service_env
from tests.faults.private_broker import PrivateBroker
from tests.processes import ServiceProcess
from tests.support import case_form, eventually, free_port

pytestmark = pytest.mark.timeout(240)

RPC_TIMEOUT = 5
SERVICES = ("identity", "cases", "matching", "gateway")


@pytest.fixture
def outage_platform(test_env, tmp_path):
    broker = PrivateBroker(tmp_path / "rabbitmq")
    processes = []
    try:
        broker.start()
        port = free_port()
        env = service_env(test_env)
        env.update(AMQP_URI=broker.uri, GATEWAY_ADDRESS=f"127.0.0.1:{port}", RPC_TIMEOUT=str(RPC_TIMEOUT))
        processes.extend(ServiceProcess(name, env, tmp_path).start() for name in SERVICES)
        for process in processes[:-1]:
            process.wait_healthy(broker.uri, timeout=90)
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: requests.get(f"{base}/health", timeout=2).status_code == 200, timeout=60)
        yield broker, base, processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.kill()
        broker.close()


def _mentee(base):
    """A verified mentee (the link from the session's SMTP catcher): its Authorization header."""
    email = f"mentee-{uuid.uuid4().hex[:8]}@example.org"
    requests.post(
        f"{base}/api/v1/auth/register",
        timeout=30,
        json={
            "email": email,
            "password": "correct horse battery",
            "role": "mentee",
            "first_name": "Anna",
            "last_name": "Petrova",
        },
    ).raise_for_status()
    requests.post(
        f"{base}/api/v1/auth/email-verification", timeout=30, json={"token": verification_token(email)}
    ).raise_for_status()
    signed = requests.post(
        f"{base}/api/v1/auth/sign-in", timeout=30, json={"email": email, "password": "correct horse battery"}
    )
    signed.raise_for_status()
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def _file(base, auth, timeout=30):
    return requests.post(
        f"{base}/api/v1/cases", json=case_form(rubrics=["education-law"]), headers=auth, timeout=timeout
    )


def test_a_broker_outage_gives_503_loses_nothing_and_everyone_reconnects(outage_platform):
    broker, base, processes = outage_platform
    auth = _mentee(base)
    before = []
    for _ in range(5):
        response = _file(base, auth)
        assert response.status_code == 201, response.text
        before.append(response.json()["id"])

    racing = [eventlet.spawn(_file, base, auth, RPC_TIMEOUT + 20) for _ in range(8)]
    eventlet.sleep(0.05)
    broker.stop_app()  # while those are being filed: each is accepted (201) or refused (503)
    for thread in racing:
        response = thread.wait()
        assert response.status_code in (201, 503), response.text
        if response.status_code == 201:
            before.append(response.json()["id"])

    refused = _file(base, auth, timeout=RPC_TIMEOUT + 20)  # a hang (no answer) fails here
    assert refused.status_code == 503, refused.text
    error = refused.json()["error"]
    assert error["code"] == "service_unavailable" and "try again" in error["message"], error
    assert error["details"]["service"] in ("identity", "cases")  # who could not be reached

    broker.start_app()
    after = []

    def file_again():
        response = _file(base, auth)
        if response.status_code == 201:
            after.append(response.json()["id"])
        return response.status_code == 201

    eventually(file_again, timeout=90, interval=1, message="the gateway files cases again")
    for _ in range(4):
        response = _file(base, auth)
        assert response.status_code == 201, response.text
        after.append(response.json()["id"])

    def state(case_id):
        return requests.get(f"{base}/api/v1/cases/{case_id}", headers=auth, timeout=30).json()["state"]

    # cases -> relay -> matching -> relay -> cases: both consumers and both relays reconnected
    for case_id in before + after:
        eventually(
            lambda: state(case_id) == "no_mentor_found",
            timeout=90,
            interval=0.5,
            message=f"case {case_id} matched after the outage",
        )
    assert all(p.process.poll() is None for p in processes), "a service died instead of reconnecting"
    with ClusterRpcProxy({"AMQP_URI": broker.uri}, timeout=10) as rpc:
        for name in SERVICES[:-1]:
            assert getattr(rpc, name).health()["status"] == "ok"
