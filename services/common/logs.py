"""structlog JSON logs with a correlation id that follows a request through every service.

The gateway mints the id (or takes the client's X-Correlation-ID); nameko carries it in
``worker_ctx.data`` to every RPC callee, and the relays stamp it on every event envelope,
whose consumers bind it again. ``grep <id>`` over all services' logs shows one request.
"""

import logging
import sys
import uuid
from contextvars import ContextVar

import structlog
from nameko.extensions import DependencyProvider
from structlog.tracebacks import ExceptionDictTransformer

from services.common import settings

CORRELATION_HEADER = "X-Correlation-ID"
_correlation_id = ContextVar("correlation_id", default="")
_configured = False
# tracebacks as JSON, each frame without its local variables: those hold passwords, tokens and
# personal data (a failed register() would log the password it was given)
TRACEBACKS = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))


def current_correlation_id():
    return _correlation_id.get()


def set_correlation_id(value):
    _correlation_id.set(value or "")
    structlog.contextvars.bind_contextvars(correlation_id=value or "")


def new_correlation_id():
    return uuid.uuid4().hex


def configure(service_name, level="INFO"):
    """Idempotent: route stdlib and structlog through one JSON renderer on stdout."""
    global _configured
    if _configured:
        return
    _configured = True
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=shared
        + [
            TRACEBACKS,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(sort_keys=True),
            foreign_pre_chain=shared + [structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.contextvars.bind_contextvars(service=service_name)


def get_logger(**initial):
    return structlog.get_logger(**initial)


class CorrelationContext(DependencyProvider):
    """Binds the worker's correlation id (and entrypoint) into the structlog context."""

    def __init__(self, service_name):
        self.service_name = service_name

    def setup(self):
        configure(self.service_name, self.container.config.get("LOG_LEVEL", "INFO"))
        # every service declares this dependency, so every service checks its secrets here
        settings.enforce(self.container.config, self.service_name)

    @staticmethod
    def _correlation_id(worker_ctx):
        """The worker's id, decided once: nameko calls get_dependency *before* worker_setup."""
        cid = worker_ctx.data.get("correlation_id")
        if not cid and worker_ctx.args:
            request = worker_ctx.args[0]
            headers = getattr(request, "headers", None)
            if headers is not None:
                cid = headers.get(CORRELATION_HEADER, "")[:64]
        cid = cid or new_correlation_id()
        worker_ctx.data["correlation_id"] = cid
        return cid

    def worker_setup(self, worker_ctx):
        cid = self._correlation_id(worker_ctx)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(service=self.service_name, entrypoint=worker_ctx.entrypoint.method_name)
        envelope = worker_ctx.args[0] if worker_ctx.args else None
        if getattr(envelope, "event_id", None) is not None:  # an event handler: name what it handles
            structlog.contextvars.bind_contextvars(event_type=envelope.type, event_id=str(envelope.event_id))
        set_correlation_id(cid)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if exc_info is not None:
            from contracts.errors import PlatformError

            exc = exc_info[1]
            if isinstance(exc, PlatformError) and exc.status < 500:
                get_logger().info("request_refused", code=exc.code, reason=exc.message)
            else:
                get_logger().error("worker_failed", exc_info=exc_info)

    def get_dependency(self, worker_ctx):
        return self._correlation_id(worker_ctx)
