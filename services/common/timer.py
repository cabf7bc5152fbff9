"""A nameko timer whose interval comes from the service's config (tests run it fast)."""
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
