"""The operator's replay of a parked event (services/common/parked.py) takes it out of parking only
once the broker confirmed the copy: a replay the consumer's queue refuses leaves it parked.

The refusal is a real broker's: a policy limits the queue to no message, rejecting publishes."""
import json
import subprocess

import pytest
from amqp.exceptions import MessageNacked
from kombu import Exchange

from services.common import parked
from tests.faults.helpers import Burst, queue_depth
from tests.integration.event_helpers import open_broker, purge
from tests.support import eventually

QUEUE = "library.case-events"  # no consumer of it runs in this module
POLICY = "test-refuse-replays"


def _rabbitmqctl(*args):
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def vhost(test_env):
    assert test_env._vhost, "this test sets a policy with rabbitmqctl on the session's own vhost"
    purge(test_env.amqp_uri, QUEUE, QUEUE + ".parked")
    yield test_env._vhost
    subprocess.run(["rabbitmqctl", "-q", "clear_policy", "-p", test_env._vhost, POLICY],  # if the test failed early
                   capture_output=True, timeout=60)
    purge(test_env.amqp_uri, QUEUE, QUEUE + ".parked")


def _policy_applied(vhost):
    rows = [line.split("\t") for line in _rabbitmqctl("list_queues", "-p", vhost, "name", "policy").splitlines()]
    return any(row[0] == QUEUE and row[1:] == [POLICY] for row in rows)


def _depths(test_env):
    """(parked, queued) messages of the queue."""
    return queue_depth(test_env.amqp_uri, QUEUE + ".parked"), queue_depth(test_env.amqp_uri, QUEUE)


def _fill_until_refused(conn):
    """Publish fillers until the full queue refuses one (a quorum queue may take one over its limit)."""
    for accepted in range(5):
        try:
            conn.Producer().publish({"filler": accepted}, exchange=Exchange("", type="direct"), routing_key=QUEUE,
                                    serializer="json", delivery_mode=2)
        except MessageNacked:
            return accepted
    raise AssertionError("the queue's policy never refused a publish")


def test_a_refused_replay_stays_parked_and_a_confirmed_one_leaves_parking(test_env, vhost):
    [body] = Burst("library", 1).events  # a CaseCompleted, as library.case-events takes them
    conn, _ = open_broker(test_env.amqp_uri)
    try:
        conn.Producer().publish(json.dumps(body), exchange=Exchange("", type="direct"), routing_key=QUEUE + ".parked",
                                content_type="application/json", content_encoding="utf-8", delivery_mode=2)
        _rabbitmqctl("set_policy", "-p", vhost, "--apply-to", "queues", POLICY, f"^{QUEUE}$",
                     json.dumps({"max-length": 0, "overflow": "reject-publish"}))
        eventually(lambda: _policy_applied(vhost), message="the policy applies to the queue")
        fillers = _fill_until_refused(conn)


        with pytest.raises(parked.ReplayRefused, match=body["event_id"]):
            parked.run("replay", [QUEUE], event_ids=[body["event_id"]], amqp_uri=test_env.amqp_uri)
        assert _depths(test_env) == (1, fillers)  # still parked, not lost

        _rabbitmqctl("clear_policy", "-p", vhost, POLICY)
        eventually(lambda: not _policy_applied(vhost), message="the policy is cleared")
        assert parked.run("replay", [QUEUE], event_ids=[body["event_id"]], amqp_uri=test_env.amqp_uri) == 1
        assert _depths(test_env) == (0, fillers + 1)
    finally:
        conn.release()
