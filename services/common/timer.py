"""A nameko timer whose interval comes from the service's config (tests run it fast), and one that
can also be woken at once (work was just queued) by the service's own code (``TimerWake``)."""

from eventlet import Timeout
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from nameko.timer import Timer


class ConfiguredTimer(Timer):
    """``@configured_timer("CHECK_INTERVAL", default=60)``: fires every ``config[key]`` seconds."""

    def __init__(self, key, default, eager=False, **kwargs):
        self.key = key
        self.default = default
        super().__init__(interval=default, eager=eager, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.key, self.default))
        super().setup()


configured_timer = ConfiguredTimer.decorator


class WakeableTimer(ConfiguredTimer):
    """``@wakeable_timer("POLL_INTERVAL", default=2.0)``: fires every interval, and as soon as
    ``wake()`` is called; a wake while its worker runs fires it once more right after. One worker at
    a time, as nameko's timer: work queued meanwhile is found by the run that follows."""

    def __init__(self, key, default, eager=False, **kwargs):
        super().__init__(key, default, eager=eager, **kwargs)
        self._signal = Event()
        self._stopping = False

    def wake(self):
        if not self._signal.ready():
            self._signal.send(True)

    def stop(self):
        self._stopping = True
        self.wake()
        self.gt.wait()

    def _run(self):
        first = not self.eager
        while not self._stopping:
            if first or not self._signal.ready():
                with Timeout(self.interval, exception=False):
                    self._signal.wait()
            first = False
            if self._signal.ready():
                self._signal.reset()
            if self._stopping:
                break
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()


wakeable_timer = WakeableTimer.decorator


class TimerWake(DependencyProvider):
    """``wake = TimerWake("send_emails")``; ``self.wake()`` fires that wakeable timer of this process
    now (in other processes it fires at its interval)."""

    def __init__(self, method_name):
        self.method_name = method_name

    def get_dependency(self, worker_ctx):
        timers = [
            e for e in self.container.entrypoints if isinstance(e, WakeableTimer) and e.method_name == self.method_name
        ]

        def wake():
            for timer in timers:
                timer.wake()

        return wake
