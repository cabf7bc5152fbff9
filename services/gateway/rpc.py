"""RPC into the services, with a deadline.

nameko's in-service ``RpcProxy`` waits for a reply forever. ``TimedRpcProxy`` is the same
long-lived dependency (one reply queue per gateway process, pooled broker connections,
the worker's context data - the correlation id - in the message headers), but every call
runs under ``eventlet.Timeout(RPC_TIMEOUT)``. A timeout, an unknown service (nothing
consumes its RPC queue) or a broker connection error becomes ``ServiceUnavailable`` (503)
naming the service. Errors the service raised itself (contracts.errors) pass through.
"""
import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcProxy

from contracts.errors import ServiceUnavailable

DEFAULT_TIMEOUT = 10.0
BROKER_ERRORS = (OSError, OperationalError, AmqpConnectionError)


def unavailable(service, reason, timeout=None):
    """The ServiceUnavailable for a failed call to ``service``; ``reason`` is the exception that stopped it."""
    if isinstance(reason, eventlet.Timeout):
        message = f"The {service} service did not answer within {timeout:g} s; try again later."
    elif isinstance(reason, UnknownService):
        message = f"The {service} service is not running; try again later."
    else:
        message = f"The {service} service cannot be reached: the message broker connection failed."
    return ServiceUnavailable(message, details={"service": service})


class TimedRpcProxy(RpcProxy):
    """``RpcProxy`` whose calls raise ServiceUnavailable after ``RPC_TIMEOUT`` seconds."""

    def setup(self):
        super().setup()
        self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                 self.timeout, self.options)


class TimedServiceProxy:
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, options):
        self.worker_ctx = worker_ctx
        self.service_name = service_name
        self.reply_listener = reply_listener
        self.timeout = timeout
        self.options = options

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return TimedMethodProxy(self, name, self.timeout)

    def call(self, method_name, timeout, args, kwargs):
        listener = _TrackingListener(self.reply_listener)
        timer = eventlet.Timeout(timeout)
        try:
            proxy = MethodProxy(self.worker_ctx, self.service_name, method_name, listener, **self.options)
            return proxy(*args, **kwargs)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            raise unavailable(self.service_name, exc, timeout) from None
        except (UnknownService, *BROKER_ERRORS) as exc:
            raise unavailable(self.service_name, exc) from None
        finally:
            timer.cancel()
            listener.forget()


class TimedMethodProxy:
    def __init__(self, service_proxy, method_name, timeout):
        self.service_proxy = service_proxy
        self.method_name = method_name
        self.timeout = timeout

    def with_timeout(self, seconds):
        return TimedMethodProxy(self.service_proxy, self.method_name, seconds)

    def __call__(self, *args, **kwargs):
        return self.service_proxy.call(self.method_name, self.timeout, args, kwargs)

    def __repr__(self):
        return f"<timed proxy method: {self.service_proxy.service_name}.{self.method_name}>"


class _TrackingListener:
    """Passes through to nameko's shared ReplyListener and remembers the call's correlation id,
    so a call abandoned on timeout does not leave its reply event behind for ever."""

    def __init__(self, listener):
        self._listener = listener
        self._correlation_id = None

    @property
    def routing_key(self):
        return self._listener.routing_key

    def get_reply_event(self, correlation_id):
        self._correlation_id = correlation_id
        return self._listener.get_reply_event(correlation_id)

    def forget(self):
        if self._correlation_id is not None:
            # nameko pops the event when the reply arrives; an abandoned call's stays otherwise
            self._listener._reply_events.pop(self._correlation_id, None)
