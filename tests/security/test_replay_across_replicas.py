"""A captured signed actor cannot be played again at another replica (issue #18, part 3), on real
`nameko run` processes: two processes of the cases service on one database and one queue. The replay
guard (services/common/actors.py ReplayGuard) keeps every accepted jti in the service's own database,
so of one token sent again and again exactly one call is carried out, whichever process takes it, and
both processes refuse it (``actor_refused``, reason ``replayed``)."""

import uuid

import kombu
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import Unauthorized
from services.common.actors import ACTOR_KEY
from tests.actors import signed_rpc, token
from tests.processes import ServiceProcess
from tests.support import case_form, eventually

pytestmark = pytest.mark.timeout(300)

ATTEMPTS = 8  # the broker hands the requests to the two consumers in turn


@pytest.fixture(scope="module")
def replicas(test_env, tmp_path_factory):
    logs = tmp_path_factory.mktemp("replay-across-replicas")
    env = test_env.process_env()
    env.pop("PGAPPNAME", None)
    processes = []
    try:
        for number in (1, 2):  # started one after the other: each must consume before the next is counted
            process = ServiceProcess("cases", env, logs)
            process.log_path = logs / f"cases-{number}.log"
            processes.append(process.start())
            process.wait_healthy(test_env.amqp_uri, timeout=120)
        # the first answers health() for both: the second counts once it consumes the queue too
        eventually(
            lambda: consumers(test_env.amqp_uri, "rpc-cases") == 2,
            timeout=120,
            message="both replicas consume rpc-cases",
        )
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.kill()


def consumers(amqp_uri, queue):
    with kombu.Connection(amqp_uri) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).consumer_count


def replayed(process):
    return sum(1 for line in process.log_text().splitlines() if '"actor_refused"' in line and '"replayed"' in line)


def test_a_token_accepted_by_one_replica_is_refused_by_the_other(replicas, test_env):
    author = {"user_id": str(uuid.uuid4()), "role": "mentee"}
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        case_id = gateway.cases.create_case(author, case_form(), None)["id"]
    captured = token(author, "cases.get_case")
    outcomes = []
    with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data={ACTOR_KEY: captured}) as rpc:
        for _ in range(ATTEMPTS):
            try:
                outcomes.append(rpc.cases.get_case(author, case_id)["id"])
            except Unauthorized:
                outcomes.append("refused")
    assert outcomes.count(case_id) == 1 and outcomes.count("refused") == ATTEMPTS - 1, outcomes
    eventually(
        lambda: all(replayed(p) >= 1 for p in replicas),
        timeout=30,
        message="each replica refused the replayed token",
        explain=lambda: "\n".join(f"--- {p.log_path.name}\n{p.tail()}" for p in replicas),
    )
