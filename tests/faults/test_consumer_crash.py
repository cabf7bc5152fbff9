"""A consumer killed with SIGKILL in the middle of a burst, then restarted: every event has its effect
exactly once (nothing lost with the unacked deliveries, nothing doubled by their redelivery)."""

import signal

import pytest

from tests.faults.helpers import Burst
from tests.support import eventually

pytestmark = pytest.mark.timeout(300)

BURST = 500  # the figure; about 5 s per consumer here


# notifications consumes in batches: tests/faults/test_batch_consumer_crash.py kills it mid-burst
@pytest.mark.parametrize("consumer", ["matching", "library"])
def test_a_consumer_killed_mid_burst_ends_with_every_effect_once(test_env, services, db, consumer):
    # the whole burst waits in the queue before the consumer starts (publishing with confirms is
    # slower than consuming), so that the kill lands in the middle of it
    burst = Burst(consumer, BURST).publish(test_env.amqp_uri)
    process = services(consumer)
    eventually(lambda: burst.effects(db) >= 20, timeout=60, message="the burst is being consumed")
    process.kill(signal.SIGKILL)
    assert process.process.returncode == -signal.SIGKILL
    done_at_kill = burst.effects(db)
    assert done_at_kill < len(burst.events), "the burst finished before the kill: nothing was in flight"

    services(consumer)
    burst.wait_all_processed(db, test_env, timeout=180)
    assert burst.effects(db) == len(burst.events)
