"""A handler that raises on one poisoned event: the broker redelivers it a bounded number of times
(quorum queue x-delivery-limit), then parks it in ``<queue>.parked`` with the reason; the consumer goes
on with the next events; the operator command lists it and, after the fix, replays it exactly once."""

import json
import subprocess
import sys

import pytest

from contracts.topology import DELIVERY_LIMIT
from tests.faults.helpers import Burst, broker_snapshot, cure, poison, queue_depth
from tests.integration.event_helpers import count
from tests.processes import ROOT
from tests.support import eventually

pytestmark = pytest.mark.timeout(120)

QUEUE = "notifications.case-events"


def parked_command(test_env, *args):
    """The operator's command, as a real process against this session's broker."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "services.common.parked", *args],
        cwd=ROOT,
        env=test_env.process_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_poisoned_event_is_retried_parked_listed_and_replayed_after_the_fix(test_env, services, db):
    process = services("notifications")
    burst = Burst("notifications", 21)
    poisoned, rest = burst.events[0], burst.events[1:]
    poison(db, poisoned["event_id"])
    try:
        burst.publish(test_env.amqp_uri)  # the poisoned event first

        eventually(
            lambda: queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 1,
            timeout=60,
            message="the poisoned event is parked",
        )
        eventually(
            lambda: burst.effects(db) == len(rest),
            timeout=60,
            message="the consumer went on with the next events",
            explain=lambda: (
                f"effects: {burst.effects(db)} of {len(rest)}; queue "
                f"{queue_depth(test_env.amqp_uri, QUEUE)}, parked "
                f"{queue_depth(test_env.amqp_uri, QUEUE + '.parked')}; broker:\n"
                f"{broker_snapshot(test_env)}\nlog tail:\n" + "\n".join(process.log_text().splitlines()[-60:])
            ),
        )
        failures = [
            line
            for line in process.log_text().splitlines()
            if "event_handler_failed" in line and poisoned["event_id"] in line
        ]
        assert len(failures) == DELIVERY_LIMIT + 1  # the first delivery and DELIVERY_LIMIT redeliveries

        [listed] = parked_command(test_env, "list", "--queue", QUEUE)
        assert listed["event_id"] == poisoned["event_id"] and listed["type"] == "MentorChosen"
        assert listed["reason"] == "delivery_limit" and listed["unreadable"] is None
        assert queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 1  # listing consumes nothing
    finally:
        cure(db)

    [replayed] = parked_command(test_env, "replay", "--queue", QUEUE, "--event-id", poisoned["event_id"])
    assert replayed["action"] == "replay"
    eventually(lambda: burst.effects(db) == len(burst.events), timeout=60, message="the replayed event took effect")
    assert burst.processed(db) == len(burst.events)
    assert queue_depth(test_env.amqp_uri, f"{QUEUE}.parked") == 0
    assert parked_command(test_env, "list", "--queue", QUEUE) == []
    assert (
        count(db, "notifications", "SELECT count(*) FROM inbox WHERE source_event_id = %s", poisoned["event_id"]) == 1
    )
