"""The services' nameko container: a second stop while one is under way waits for it.

`nameko run` answers every SIGTERM by spawning ``ServiceRunner.stop``. A second SIGTERM during a
graceful stop (an operator's second ``kill``, a supervisor that repeats its signal, a process group
signalled twice) ran ``ServiceContainer.stop`` again beside the first: the entrypoints' ``stop`` a
second time (nameko's timer asserts on it) and the first stop never returned, so the process hung
until SIGKILL, with its in-flight work. Every service names this class as ``SERVICE_CONTAINER_CLS``
in its config.yaml (nameko's own setting, read by ``get_container_cls``), so a repeated stop only
waits for the one already running (tests/faults/test_sigterm.py, tests/unit/test_service_configs.py).
"""

from nameko.containers import ServiceContainer


class GracefulContainer(ServiceContainer):
    """A ``ServiceContainer`` whose ``stop`` runs once; a later call waits until the container is down."""

    _stop_started = False

    def stop(self) -> None:
        if self._stop_started:
            try:
                self.wait()
            except Exception:  # noqa: BLE001  (it died of an error: the first stop's caller hears of it)
                pass
            return
        self._stop_started = True
        super().stop()
