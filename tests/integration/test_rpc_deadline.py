"""The receiving end of RPC deadlines (services/common/rpc.py), on a real broker and database: a
request whose caller's deadline has passed is refused unexecuted, one within it is carried out, one
without a deadline (an operator's ClusterRpcProxy) too; a service with @rpc methods cannot start
without the worker-side check."""

import time
import uuid

import pytest
from nameko.containers import ServiceContainer

from contracts.errors import ServiceUnavailable
from services.cases.service import CasesService
from services.common.rpc import DEADLINE_KEY, rpc
from tests.actors import signed_rpc
from tests.integration.event_helpers import count
from tests.support import actor, case_form


@pytest.fixture
def cases(start_service):
    start_service(CasesService)


def _caller(test_env, deadline):
    return signed_rpc(test_env.amqp_uri, timeout=15, context_data={DEADLINE_KEY: deadline})


def _cases_of(db, author):
    return count(db, "cases", "SELECT count(*) FROM case_index WHERE author_id = %s", author["user_id"])


def test_a_request_past_its_deadline_is_refused_unexecuted(test_env, db, cases):
    author = actor("mentee")
    with _caller(test_env, time.time() - 1) as late:
        with pytest.raises(ServiceUnavailable) as refused:
            late.cases.create_case(author, case_form(), str(uuid.uuid4()))
    assert refused.value.details == {"service": "cases", "outcome": "not_done"}
    assert "after its caller had given up" in refused.value.message
    assert _cases_of(db, author) == 0


def test_a_request_within_its_deadline_or_without_one_is_carried_out(test_env, db, cases, rpc):
    author = actor("mentee")
    with _caller(test_env, time.time() + 30) as timely:
        assert timely.cases.create_case(author, case_form())["state"] == "awaiting_proposals"
    assert rpc.cases.create_case(author, case_form())["state"] == "awaiting_proposals"  # no deadline at all
    assert _cases_of(db, author) == 2


class Forgetful:
    name = "forgetful_deadline_test"

    @rpc
    def ping(self):
        return "pong"


def test_a_service_with_rpc_methods_and_no_deadline_check_does_not_start(test_env):
    container = ServiceContainer(Forgetful, {"AMQP_URI": test_env.amqp_uri})
    with pytest.raises(RuntimeError, match="RpcDeadline"):
        container.start()
    container.kill()
