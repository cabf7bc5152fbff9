"""``python -m services.web``: serve the browser client with waitress (threads; no eventlet here)."""

import logging

from waitress import serve

from services.web import settings as web_settings
from services.web.app import create_app


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format='{"service": "web", "level": "%(levelname)s", "event": "%(message)s"}'
    )
    settings = web_settings.load()
    app = create_app(settings)
    logging.getLogger("web").info("web_listening address=%s gateway=%s", settings.address, settings.gateway_url)
    serve(app, host=settings.host, port=settings.port, threads=settings.threads, ident="mentor-web")


if __name__ == "__main__":
    main()
