"""The browser client's settings, from the environment (the same names in compose and the runner).

``WEB_SECRET_KEY`` signs the session cookie (which holds the person's access token) and the CSRF
tokens; in production it must pass the platform's secret rule (services/common/settings.py), as
every service's secrets do.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from services.common import settings as platform_settings

# ${NAME:default} lines of config.yaml: the one place the defaults are written (the local runner and
# docker-compose.yml are checked against it by tests/unit/test_deployment.py)
_CONFIG_VAR = re.compile(r"\$\{([A-Z0-9_]+):([^}]*)\}")
DEFAULTS = dict(_CONFIG_VAR.findall(Path(__file__).with_name("config.yaml").read_text()))
TUNING = {"WEB_DEFAULT_LANGUAGE": "ru", "WEB_GATEWAY_TIMEOUT": "15", "WEB_THREADS": "16"}


def _flag(value: str) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebSettings:
    gateway_url: str
    address: str
    secret_key: str
    proxy_secret: str
    cookie_secure: bool
    default_language: str
    gateway_timeout: float
    threads: int

    @property
    def host(self) -> str:
        return self.address.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])


def load(environ=None, enforce: bool = True) -> WebSettings:
    """The settings; refuses (InsecureSettings) a weak WEB_SECRET_KEY in production."""
    environ = os.environ if environ is None else environ
    values = {name: environ.get(name, default) for name, default in {**DEFAULTS, **TUNING}.items()}
    if enforce:
        platform_settings.enforce(
            {
                "WEB_SECRET_KEY": values["WEB_SECRET_KEY"],
                "WEB_PROXY_SECRET": values["WEB_PROXY_SECRET"],
                "PLATFORM_ENV": environ.get("PLATFORM_ENV", ""),
            },
            "web",
            environ,
        )
    return WebSettings(
        gateway_url=values["GATEWAY_URL"].rstrip("/"),
        address=values["WEB_ADDRESS"],
        secret_key=values["WEB_SECRET_KEY"],
        proxy_secret=values["WEB_PROXY_SECRET"],
        cookie_secure=_flag(values["WEB_COOKIE_SECURE"]),
        default_language=values["WEB_DEFAULT_LANGUAGE"] if values["WEB_DEFAULT_LANGUAGE"] in ("ru", "en") else "ru",
        gateway_timeout=float(values["WEB_GATEWAY_TIMEOUT"]),
        threads=int(values["WEB_THREADS"]),
    )
