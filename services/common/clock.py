"""The time a service's timers act at, injectable: tests move it on instead of waiting.

``CLOCK`` in a service's config (in-process only, as the tests run services) is a callable returning
an aware datetime; without it, the real time in UTC. Deadlines of hours or days (the cases'
reminders and expiry) are tested by moving such a clock forward (tests/integration/
test_case_reminders.py), with the production schedule.
"""

from datetime import datetime, timezone

from nameko.extensions import DependencyProvider


def utc_now():
    return datetime.now(timezone.utc)


class Clock(DependencyProvider):
    """``self.clock()``: now, as the service's clock tells it."""

    def setup(self):
        self.now = self.container.config.get("CLOCK") or utc_now

    def get_dependency(self, worker_ctx):
        return self.now
