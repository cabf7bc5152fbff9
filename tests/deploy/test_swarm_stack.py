"""The platform on Docker Swarm with replicas (issue 23, part 2): deploy/stack.yml (generated from
docker-compose.yml by operations/stack.py) deployed on a one-node swarm with a generated strong
environment; two replicas of every service, three of matching and notifications, every one healthy; the
whole case journey through the replicated gateway; a burst of 500 cases, every effect exactly once,
while RPC is spread over the replicas and the cases relay's leader and a matching replica are killed
(SIGKILL); a rolling update of cases' image under steady traffic without one failed request; then
`docker stack rm`, and the engine left as it was found (in a swarm or not).

The gateway and the mail catcher are reached through a probe container on the stack's overlay network
(tests/deploy/swarm_probe.py), published on 127.0.0.1: swarm publishes a port on every interface, and
two replicas on one node cannot publish the same one (deploy/stack-ports.yml, which publishes them, is
for one replica per node). The third-party images are the stand-ins of deploy/standins/build.sh.
"""

import secrets
import threading
import time
import uuid

import pytest
import requests

from operations.stack import STACK_FILE, load_yaml
from tests.deploy.compose_stack import (
    ComposePlatform,
    assert_each_case_proposed_and_told_once,
    build_standins,
    file_case_retrying,
    strong_env,
)
from tests.deploy.swarm_stack import SwarmStack, build_app_image, docker, metric_sum, swarm_state
from tests.e2e.test_case_journey import test_a_case_goes_from_filing_to_the_library as case_journey
from tests.support import case_form, eventually

pytestmark = pytest.mark.docker

BURST = 500  # cases
FILERS = 6  # clients filing at once
KILL_RELAY_LEADER_AT = 120  # cases filed when the cases relay's leader is killed
KILL_MATCHING_AT = 260  # and when one matching replica is
STACK = load_yaml(STACK_FILE.read_text())
ONE_SHOTS = {
    name for name, service in STACK["services"].items() if service["deploy"]["restart_policy"]["condition"] != "any"
}
REPLICAS = {name: service["deploy"]["replicas"] for name, service in STACK["services"].items() if name not in ONE_SHOTS}


@pytest.fixture(scope="module")
def stack():
    images = build_standins()
    tag = f"mentor-platform:swarm-test-{secrets.token_hex(4)}"
    build_app_image(tag, images["PYTHON_IMAGE"])
    joined = swarm_state() == "inactive"  # the test's own swarm: left at the end
    if joined:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    else:
        assert swarm_state() == "active", f"the engine's swarm is {swarm_state()}: not one to deploy on"
    env = strong_env(images, {"gateway": 8000, "web": 8080, "mailpit": 8025})
    env["PLATFORM_IMAGE"] = tag
    stack = SwarmStack(f"mentor-swarm-{secrets.token_hex(3)}", env)
    try:
        stack.deploy()
        eventually(
            lambda: stack.not_ready(ONE_SHOTS) == [],
            timeout=900,
            interval=5,
            message="every replica of the stack running and healthy",
            explain=lambda: f"waiting for {stack.not_ready(ONE_SHOTS)}",
        )
        stack.start_probe()
        eventually(
            lambda: requests.get(f"http://127.0.0.1:{stack.ports['gateway']}/ready", timeout=10).status_code == 200,
            timeout=180,
            interval=2,
            message="the gateway ready through the probe",
        )
        yield stack
    finally:
        try:
            stack.remove()
        finally:
            if joined:
                docker("swarm", "leave", "--force")
            for image in (tag, f"{tag}-rolled"):
                docker("rmi", "--force", image, check=False)
    assert swarm_state() == ("inactive" if joined else "active")


@pytest.fixture(scope="module")
def platform(stack):
    return ComposePlatform(stack)


def test_every_replica_is_running_and_healthy(stack):
    assert stack.services() == {name: (count, count) for name, count in REPLICAS.items()} | {
        name: (0, 1) for name in ONE_SHOTS
    }
    for service in REPLICAS:  # the running containers are exactly the replicas, each its own address
        assert len(stack.containers(service)) == REPLICAS[service], service
    image = docker(
        "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", f"{stack.name}_cases"
    )
    assert image.stdout.strip() == stack.env["PLATFORM_IMAGE"]


def test_the_case_journey_through_the_replicated_gateway(platform):
    case_journey(platform)


def _by_container(stack, service):
    """{container id: metric samples} of every running replica of ``service``."""
    containers = stack.containers(service)
    return {containers[address]: samples for address, samples in stack.scrape(service).items() if address in containers}


def _rpc_served(samples):
    return metric_sum(samples, "mentor_worker_duration_seconds_count", kind="rpc")


def test_a_burst_of_500_cases_is_handled_exactly_once_while_replicas_are_killed(stack, platform):
    mentee, token = platform.person("mentee", "Вера", "Роевая")
    mentor, _ = platform.mentor("Swarm", "Mentor", ["class-management-motivation"], capacity=50)
    filed, retried, errors, numbers = [], [], [], iter(range(BURST))
    lock = threading.Lock()

    def filer():
        try:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                case_id = file_case_retrying(platform, token, n, retried)
                with lock:
                    filed.append(case_id)
        except Exception as exc:  # reported by the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=filer) for _ in range(FILERS)]
    for thread in threads:
        thread.start()
    try:
        eventually(lambda: len(filed) >= KILL_RELAY_LEADER_AT or errors, timeout=300, message="the burst under way")
        # RPC spread: every replica of cases served calls, every gateway answered requests, every
        # matching and notifications replica took events from their shared queues
        spread = {
            "cases": {c: _rpc_served(s) for c, s in _by_container(stack, "cases").items()},
            "gateway": {
                c: metric_sum(s, "mentor_http_requests_total") for c, s in _by_container(stack, "gateway").items()
            },
            "matching": {
                c: metric_sum(s, "mentor_consumer_deliveries_total", queue="matching.case-events")
                for c, s in _by_container(stack, "matching").items()
            },
            "notifications": {
                c: metric_sum(s, "mentor_consumer_deliveries_total", queue="notifications.case-events")
                for c, s in _by_container(stack, "notifications").items()
            },
        }
        for service, counts in spread.items():
            assert len(counts) == REPLICAS[service] and all(counts.values()), f"{service} not spread: {spread}"

        # the cases relay's leader: the replica holding the position now (or, between batches, the one
        # that published most), killed without warning; another replica must take the position
        relays = {
            c: (
                metric_sum(s, "mentor_relay_leading", source="cases"),
                metric_sum(s, "mentor_relay_published_events_total", source="cases"),
            )
            for c, s in _by_container(stack, "cases").items()
        }
        leader = max(relays, key=lambda c: relays[c])
        assert relays[leader][1] > 0, relays
        docker("kill", "--signal", "KILL", leader)
        published_before = {c: published for c, (_, published) in relays.items() if c != leader}

        eventually(lambda: len(filed) >= KILL_MATCHING_AT or errors, timeout=300, message="the burst went on")
        matching = _by_container(stack, "matching")
        busiest = max(matching, key=lambda c: metric_sum(matching[c], "mentor_consumer_deliveries_total"))
        docker("kill", "--signal", "KILL", busiest)
    finally:
        for thread in threads:
            thread.join(timeout=900)
    assert not errors, errors
    assert len(filed) == BURST and not any(thread.is_alive() for thread in threads)

    assert_each_case_proposed_and_told_once(platform, token, filed, mentor["id"])
    ids = "ARRAY[" + ",".join(f"'{case_id}'" for case_id in filed) + "]"
    rounds = stack.sql(
        "mentor_cases",
        "SELECT originator_id, count(*) FROM cases_events WHERE topic LIKE '%:Case.MentorsProposed' "
        f"AND originator_id::text = ANY({ids}) GROUP BY originator_id",
    )
    assert sorted(case_id for case_id, _ in rounds) == sorted(filed) and {n for _, n in rounds} == {"1"}
    matched = stack.sql(
        "mentor_matching",
        "SELECT envelope->'payload'->>'case_id', count(*) FROM outbox "
        f"WHERE envelope->'payload'->>'case_id' = ANY({ids}) GROUP BY 1",
    )
    assert sorted(case_id for case_id, _ in matched) == sorted(filed) and {n for _, n in matched} == {"1"}

    # the position was taken by a replica other than the killed leader, which published after the kill
    after = {
        c: metric_sum(s, "mentor_relay_published_events_total", source="cases")
        for c, s in _by_container(stack, "cases").items()
    }
    assert leader not in after
    assert any(published > published_before.get(c, 0) for c, published in after.items()), (relays, after)
    eventually(
        lambda: stack.not_ready(ONE_SHOTS) == [], timeout=300, interval=5, message="the killed replicas replaced"
    )
    print(f"burst: {len(filed)} cases, {len(retried)} retried requests {retried[:10]}, spread {spread}")


def explain_failures(stack, failures):
    """The failed answers, and every log line of the gateway and cases that carries one's correlation id
    (the gateway logs the error it answered with, cases the exception behind it)."""
    ids = {failure[-1] for failure in failures if isinstance(failure[-1], str)}
    lines = [
        f"{service}: {line}"
        for service in ("gateway", "cases")
        for line in stack.log_text(service).splitlines()
        if any(correlation in line for correlation in ids)
    ]
    return f"{failures}\n" + "\n".join(lines[-60:])


def explain_update(stack):
    """Why swarm rolled the update back: its message, every cases task with its state and error, the
    health check's last answers of each cases container, and the last log lines of cases."""
    service = f"{stack.name}_cases"
    parts = [
        docker("service", "inspect", "--format", "{{json .UpdateStatus}}", service, check=False).stdout.strip(),
        docker(
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}",
            service,
            check=False,
        ).stdout.strip(),
    ]
    for container in docker(
        "ps", "-aq", "--filter", f"label=com.docker.swarm.service.name={service}", check=False
    ).stdout.split():
        health = docker(
            "inspect", "--format", "{{.State.Status}} {{json .State.Health}}", container, check=False
        ).stdout
        parts.append(f"{container}: {health.strip()[-1500:]}")
    parts.append("\n".join(stack.log_text("cases").splitlines()[-40:]))
    return "\n".join(parts)


def test_a_rolling_update_of_cases_loses_no_request(stack, platform):
    """cases rolls over to a new image tag, one replica at a time, each new one healthy before the old
    one stops, while clients file and read cases without retrying: not one request fails."""
    _, token = platform.person("mentee", "Роман", "Обновлёнов")
    mentor, _ = platform.mentor("Rolling", "Mentor", ["class-management-motivation"], capacity=50)
    rolled = f"{stack.env['PLATFORM_IMAGE']}-rolled"
    docker("tag", stack.env["PLATFORM_IMAGE"], rolled)
    base, headers = platform.base, {"Authorization": f"Bearer {token}"}
    filed, reads, failures, done = [], [], [], threading.Event()

    def file_cases():
        while not done.is_set():
            try:
                answer = requests.post(
                    f"{base}/api/v1/cases",
                    json=case_form(rubrics=["class-management-motivation"]),
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=60,
                )
                if answer.status_code == 201:
                    filed.append(answer.json()["id"])
                else:
                    failures.append(
                        ("file", answer.status_code, answer.text[:120], answer.headers.get("X-Correlation-ID"))
                    )
            except requests.RequestException as exc:
                failures.append(("file", repr(exc)))
            time.sleep(0.2)

    def read_cases():
        while not done.is_set():
            try:
                answer = requests.get(f"{base}/api/v1/cases?limit=20", headers=headers, timeout=60)
                if answer.status_code == 200:
                    reads.append(1)
                else:
                    failures.append(
                        ("read", answer.status_code, answer.text[:120], answer.headers.get("X-Correlation-ID"))
                    )
            except requests.RequestException as exc:
                failures.append(("read", repr(exc)))
            time.sleep(0.1)

    threads = [threading.Thread(target=file_cases), threading.Thread(target=read_cases)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)  # traffic before, during and after
        before = set(stack.containers("cases").values())
        docker(
            "service",
            "update",
            "--quiet",
            "--detach=false",
            "--no-resolve-image",
            "--image",
            rolled,
            f"{stack.name}_cases",
            timeout=600,
        )
        time.sleep(5)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == [], explain_failures(stack, failures)
    state = docker("service", "inspect", "--format", "{{.UpdateStatus.State}}", f"{stack.name}_cases").stdout.strip()
    assert state == "completed", explain_update(stack)
    after = stack.containers("cases")
    assert len(after) == REPLICAS["cases"] and not set(after.values()) & before  # every replica replaced
    for container in after.values():
        assert docker("inspect", "--format", "{{.Config.Image}}", container).stdout.strip().split("@")[0] == rolled
    assert len(filed) >= 10 and len(reads) >= 20, (len(filed), len(reads))
    assert_each_case_proposed_and_told_once(platform, token, filed, mentor["id"])
