"""nameko's @timer with its interval read from the service config (tests poll faster)."""
from nameko.timer import Timer


class ConfigTimer(Timer):
    def __init__(self, config_key, default, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.config_key = config_key

    def setup(self):
        super().setup()
        self.interval = float(self.container.config.get(self.config_key, self.interval))


config_timer = ConfigTimer.decorator
