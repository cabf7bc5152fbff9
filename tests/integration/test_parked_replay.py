"""The operator's replay of a parked event (services/common/parked.py) takes it out of parking only
once the broker confirmed the copy: a replay the consumer's queue refuses leaves it parked.

The refusal is a real broker's: a policy limits the queue to no message, rejecting publishes."""

import json
import subprocess
import sys

import pytest
from amqp.exceptions import MessageNacked
from kombu import Exchange

from services.common import parked
from tests.faults.helpers import Burst, queue_depth
from tests.integration.event_helpers import open_broker, purge
from tests.processes import ROOT
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
    subprocess.run(
        ["rabbitmqctl", "-q", "clear_policy", "-p", test_env._vhost, POLICY],  # if the test failed early
        capture_output=True,
        timeout=60,
    )
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
            conn.Producer().publish(
                {"filler": accepted},
                exchange=Exchange("", type="direct"),
                routing_key=QUEUE,
                serializer="json",
                delivery_mode=2,
            )
        except MessageNacked:
            return accepted
    raise AssertionError("the queue's policy never refused a publish")


def test_a_refused_replay_stays_parked_and_a_confirmed_one_leaves_parking(test_env, vhost):
    [body] = Burst("library", 1).events  # a CaseCompleted, as library.case-events takes them
    conn, _ = open_broker(test_env.amqp_uri)
    try:
        conn.Producer().publish(
            json.dumps(body),
            exchange=Exchange("", type="direct"),
            routing_key=QUEUE + ".parked",
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )
        _rabbitmqctl(
            "set_policy",
            "-p",
            vhost,
            "--apply-to",
            "queues",
            POLICY,
            f"^{QUEUE}$",
            json.dumps({"max-length": 0, "overflow": "reject-publish"}),
        )
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


DEPTH = 100_000


def _parked_command(test_env, *args):
    """The operator's command as a real process: (exit code, JSON lines printed, stderr)."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "services.common.parked", *args],
        cwd=ROOT,
        env=test_env.process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_a_body_nested_too_deep_to_parse_is_listed_raw_and_dropped_by_index_beside_a_replayable_event(test_env):
    """One parked body nested 100,000 deep (JSON no parser here reads: RecursionError) must not block
    the queue's tools: ``list`` shows it raw and truncated, ``drop --index`` removes it, and the event
    parked beside it is listed and replayed as usual."""
    purge(test_env.amqp_uri, QUEUE, QUEUE + ".parked")
    [good] = Burst("library", 1).events
    deep = b"[" * DEPTH + b"]" * DEPTH
    conn, _ = open_broker(test_env.amqp_uri)
    try:
        for body in (deep, json.dumps(good).encode()):
            conn.Producer().publish(
                body,
                exchange=Exchange("", type="direct"),
                routing_key=QUEUE + ".parked",
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )
    finally:
        conn.release()
    try:
        code, listed, stderr = _parked_command(test_env, "list", "--queue", QUEUE)
        assert code == 0, stderr
        assert [item["index"] for item in listed] == [1, 2]
        assert listed[0]["event_id"] is None and "not JSON" in listed[0]["unreadable"], listed[0]
        assert "[[[[" in listed[0]["body"][:10] and len(listed[0]["body"]) <= 300, listed[0]["body"][:400]
        assert listed[1]["event_id"] == good["event_id"] and listed[1]["unreadable"] is None
        assert _depths(test_env) == (2, 0)  # listing consumes nothing

        code, replayed, stderr = _parked_command(test_env, "replay", "--queue", QUEUE, "--event-id", good["event_id"])
        assert code == 0, stderr
        assert [item["event_id"] for item in replayed] == [good["event_id"]]
        assert _depths(test_env) == (1, 1)

        code, dropped, stderr = _parked_command(test_env, "drop", "--queue", QUEUE, "--index", "1")
        assert code == 0, stderr
        assert len(dropped) == 1 and dropped[0]["action"] == "drop" and "[[[[" in dropped[0]["body"][:10]
        assert _depths(test_env) == (0, 1)
    finally:
        purge(test_env.amqp_uri, QUEUE, QUEUE + ".parked")
