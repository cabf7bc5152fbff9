"""The batching consumer (services/common/batch_consumer.py, notifications' inbox) SIGKILLed while it
consumes a burst in batches, then restarted: every event has its effect exactly once - the batches
in flight and the messages waiting for the next one were unacked, so the broker delivered them again."""

import json
import signal

import pytest

from tests.faults.helpers import Burst
from tests.integration.event_helpers import count
from tests.support import eventually

pytestmark = pytest.mark.timeout(300)

BURST = 2000


def batch_sizes(process):
    sizes = []
    for line in process.log_text().splitlines():
        if "event_batch_handled" in line:
            try:
                sizes.append(json.loads(line[line.index("{") :])["size"])
            except ValueError:
                continue
    return sizes


def transactions(db, burst):
    """How many transactions recorded the burst's events (a batch's events share its now())."""
    return count(
        db,
        "notifications",
        "SELECT count(DISTINCT processed_at) FROM processed_events WHERE event_id::text = ANY(%s)",
        [e["event_id"] for e in burst.events],
    )


def test_the_batching_consumer_killed_mid_burst_ends_with_every_effect_once(test_env, services, db):
    burst = Burst("notifications", BURST).publish(test_env.amqp_uri)  # all queued before the consumer starts
    process = services("notifications")
    eventually(lambda: burst.effects(db) >= 200, timeout=60, message="the burst is being consumed")
    process.kill(signal.SIGKILL)
    done_at_kill = burst.effects(db)
    assert done_at_kill < len(burst.events), "the burst finished before the kill: nothing was in flight"
    assert max(batch_sizes(process), default=0) > 1, "the burst was consumed in batches"

    services("notifications")
    burst.wait_all_processed(db, test_env, timeout=180)
    assert burst.effects(db) == len(burst.events)  # none lost, none doubled
    assert transactions(db, burst) < len(burst.events) / 2  # and mostly in batches
