"""nameko's RPC, both ends, with deadlines: the one place that relies on nameko's internals.

Written against nameko 2.14.1 (``nameko/rpc.py``: ``Rpc.handle_message``, ``MethodProxy.__init__``
building its ``Publisher`` from the proxy's options, ``MethodProxy._call`` publishing with
``get_message_headers(worker_ctx)`` as extra headers, ``ReplyListener._reply_events``; and
``nameko/extensions.py``: ``Entrypoint.check_signature``). Check this module when upgrading nameko:
tests/unit/test_library_internals.py pins the version. There is no stock path to switch to: the deadlines
are what keeps a request its caller gave up on from being carried out later (below), not a speed-up.

**Why deadlines.** A caller gives up after ``RPC_TIMEOUT`` and answers 503; without a deadline its
request would wait in ``rpc-<service>`` (or in a stopped consumer's prefetch) and be carried out
later, when nobody waits for it any more - 172 cases were once created that way after their authors
had been told 503 (issue #18). So every call made through ``TimedRpcProxy``:

- is published with a per-message TTL (AMQP ``expiration``) of the time left to its deadline: the
  broker drops a request its caller gave up on while it is still queued;
- carries the deadline itself (wall-clock seconds since the epoch) in its context data, the header
  ``nameko.rpc_deadline``. A call made while handling a call keeps the earlier of its own deadline and
  the one it inherited.

and every ``@rpc`` entrypoint refuses a request whose deadline has passed, twice: when the message
arrives (it is answered and acked without a worker) and again when its worker starts (a worker may
wait for a free slot in nameko's pool). A request without a deadline (an operator's
``ClusterRpcProxy``, the health check) is carried out as before. The deadline compares wall clocks
of two hosts: keep them NTP-synchronized (a skew of ``s`` seconds moves every deadline by ``s``).

**Who acts.** The same entrypoint refuses, without a worker, a call to a method taking an ``actor`` that
lacks the gateway's signature of that actor for that call, and a contact read (``SYSTEM_CALLERS``) whose
caller does not prove it is a service allowed to make it; the proxy signs as the gateway's acting user
or as the calling service. Both are in services/common/actors.py.

**What a 503 says** (``details.outcome``): ``not_done`` when the request certainly was not and will not
be carried out (nobody consumes the service's queue, the broker refused the connection, the deadline
had passed); ``unknown`` when it was sent and no answer came in time: it may have been carried out
(then only before its deadline), or not. Refusals (400/401/403/404/409/429) are answers, not
failures: nameko logs them as a one-line warning instead of an error with a traceback.
"""

import errno
import functools
import inspect
import socket
import time

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.exceptions import IncorrectSignature, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, Rpc, RpcProxy

from contracts.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from services.common.actors import (
    ACTOR_KEY,
    SERVICE_KEY,
    SYSTEM_CALLERS,
    ActorCheck,
    ActorRefused,
    ServiceCheck,
    ServiceSigner,
    actor_position,
    token_for,
)
from services.common.logs import get_logger

EXPECTED = (InvalidInput, Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests)
DEFAULT_TIMEOUT = 10.0
BROKER_ERRORS = (OSError, OperationalError, AmqpConnectionError)
DEADLINE_KEY = "rpc_deadline"  # the context data key; nameko sends it as the header nameko.rpc_deadline
OUTCOME_UNKNOWN = "unknown"
OUTCOME_NOT_DONE = "not_done"

WRITTEN_AGAINST = ("nameko", "2.14.1")
RECHECK = (
    "nameko/rpc.py: Rpc.handle_message, MethodProxy.__init__ (its Publisher from the proxy's options), "
    "MethodProxy._call (headers from get_message_headers(worker_ctx)), ReplyListener._reply_events and "
    "get_reply_event; nameko/extensions.py Entrypoint.check_signature; then run tests/unit/test_gateway_rpc.py "
    "and tests/integration/test_rpc_deadline.py"
)
log = get_logger()


# ---- the receiving end --------------------------------------------------------------------


def deadline_passed(deadline, now=None):
    """True when ``deadline`` (epoch seconds, as the header carries it) is over; a missing or unreadable
    deadline never is (a caller that sends none waits as long as it likes)."""
    if not isinstance(deadline, (int, float)) or isinstance(deadline, bool):
        return False
    return (time.time() if now is None else now) >= deadline


def too_late(service, method, deadline):
    """The refusal of a request that arrived (or got a worker) after its caller's deadline."""
    late_by = round(time.time() - float(deadline), 3)
    log.warning("rpc_deadline_passed", rpc=f"{service}.{method}", late_by_seconds=late_by)
    return ServiceUnavailable(
        f"The request reached {service} after its caller had given up; it was not carried out.",
        details={"service": service, "outcome": OUTCOME_NOT_DONE},
    )


class RpcDeadline(DependencyProvider):
    """``rpc_deadline = RpcDeadline()`` on every service with ``@rpc`` methods: the worker's deadline
    (or None), which ``rpc`` checks when the worker starts. DeadlineRpc refuses to start without it."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get(DEADLINE_KEY)


class DeadlineRpc(Rpc):
    """nameko's ``Rpc`` entrypoint that refuses, without a worker, a request past its deadline, and a
    request to a method taking an ``actor`` without the gateway's signature for that actor and call
    (services/common/actors.py); the method gets the verified actor."""

    actor_check = None
    service_check = None

    def setup(self):
        if not any(isinstance(d, RpcDeadline) for d in self.container.dependencies):
            raise RuntimeError(
                f"{self.container.service_name} has @rpc methods but no RpcDeadline dependency: "
                "declare rpc_deadline = RpcDeadline() (services/common/rpc.py)"
            )
        position = actor_position(getattr(self.container.service_cls, self.method_name))
        if position is not None:
            self.actor_check = ActorCheck(self.container, self.method_name, position)
        if f"{self.container.service_name}.{self.method_name}" in SYSTEM_CALLERS:
            self.service_check = ServiceCheck(self.container, self.method_name)
        super().setup()

    def handle_message(self, body, message):
        headers = message.headers or {}
        deadline = headers.get(f"{self.header_prefix}.{DEADLINE_KEY}")
        if deadline_passed(deadline):
            refusal = too_late(self.container.service_name, self.method_name, deadline)
            # answered (nobody reads it: the caller is gone) and acked, so the broker forgets it
            self.rpc_consumer.handle_result(message, None, (type(refusal), refusal, None))
            return
        redelivered = bool((message.delivery_info or {}).get("redelivered"))  # its first replica died unacked
        if self.actor_check is not None and isinstance(body, dict):
            try:
                body = self.actor_check.verified_body(
                    headers, body, f"{self.header_prefix}.{ACTOR_KEY}", redelivered=redelivered
                )
            except ActorRefused as refused:
                self.rpc_consumer.handle_result(message, None, (type(refused.error), refused.error, None))
                return
        if self.service_check is not None:
            try:
                self.service_check.check(headers, f"{self.header_prefix}.{SERVICE_KEY}", redelivered=redelivered)
            except ActorRefused as refused:
                self.rpc_consumer.handle_result(message, None, (type(refused.error), refused.error, None))
                return
        super().handle_message(body, message)

    def check_signature(self, args, kwargs):
        """nameko's check against the method as written, not the deadline check wrapped around it."""
        fn = inspect.unwrap(getattr(self.container.service_cls, self.method_name))
        try:
            inspect.getcallargs(fn, None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from exc


def rpc(fn):
    """``@rpc``: a nameko RPC entrypoint with the platform's refusals expected and deadlines enforced."""

    @functools.wraps(fn)
    def checked(self, *args, **kwargs):
        deadline = getattr(self, "rpc_deadline", None)
        if deadline_passed(deadline):
            raise too_late(type(self).name, fn.__name__, deadline)
        return fn(self, *args, **kwargs)

    return DeadlineRpc.decorator(expected_exceptions=EXPECTED)(checked)


# ---- the calling end ----------------------------------------------------------------------


def deadline_for(worker_ctx, timeout):
    """The deadline of a call made now with ``timeout``: the earlier of now + timeout and the deadline
    of the call being handled, if any."""
    own = time.time() + timeout
    inherited = worker_ctx.data.get(DEADLINE_KEY) if worker_ctx is not None else None
    try:
        return min(own, float(inherited)) if inherited is not None else own
    except (TypeError, ValueError):
        return own


class DeadlinePassedBeforeSending(Exception):
    """The call's deadline (inherited from the call being handled) was over before it was published."""


class DeadlineMethodProxy(MethodProxy):
    """nameko's ``MethodProxy`` that publishes the request with its deadline, as a header and as the
    message's TTL."""

    def __init__(
        self, worker_ctx, service_name, method_name, reply_listener, deadline=None, service_signer=None, **options
    ):
        self.deadline = deadline
        self.service_signer = service_signer
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)

    def get_message_headers(self, worker_ctx):
        # MethodProxy._call asks for the headers just before it publishes: the TTL is the time left now
        left = self.deadline - time.time()
        if left <= 0:
            raise DeadlinePassedBeforeSending()
        self.publisher.expiration = max(left, 0.001)  # kombu: seconds, sent as whole milliseconds
        headers = super().get_message_headers(worker_ctx)
        headers[self._get_header_name(DEADLINE_KEY)] = self.deadline
        token = token_for(worker_ctx, self.service_name, self.method_name, self.deadline)
        if token is not None:  # the gateway acting for a signed-in user; else a received token travels on
            headers[self._get_header_name(ACTOR_KEY)] = token
        if self.service_signer is not None:  # a service calling as itself (services/common/actors.py)
            own = self.service_signer.token(self.service_name, self.method_name, self.deadline)
            if own is not None:
                headers[self._get_header_name(SERVICE_KEY)] = own
        return headers


def refused_before_sending(exc):
    """True when a broker error proves the request never reached the broker (connection refused or
    the host unknown, anywhere in the exception's chain); any other error might have come after."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ConnectionRefusedError, socket.gaierror)):
            return True
        if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable(service, reason, timeout=None, outcome=OUTCOME_UNKNOWN):
    """The ServiceUnavailable for a failed call to ``service``; ``reason`` is the exception that stopped it."""
    if isinstance(reason, eventlet.Timeout):
        message = f"The {service} service did not answer within {timeout:g} s; try again later."
    elif isinstance(reason, UnknownService):
        message = f"The {service} service is not running; try again later."
    else:
        message = f"The {service} service cannot be reached: the message broker connection failed."
    return ServiceUnavailable(message, details={"service": service, "outcome": outcome})


class TimedRpcProxy(RpcProxy):
    """``RpcProxy`` whose calls carry a deadline and raise ServiceUnavailable after ``RPC_TIMEOUT``
    seconds (nameko's own waits for a reply forever). The same long-lived dependency: one reply
    queue per process, pooled broker connections, the worker's context data - the correlation id,
    the deadline - in the message headers. Errors the service raised itself pass through."""

    def setup(self):
        super().setup()
        self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        self.service_signer = ServiceSigner.from_config(self.container)

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(
            worker_ctx,
            self.target_service,
            self.rpc_reply_listener,
            self.timeout,
            dict(self.options, service_signer=self.service_signer),
        )


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
            proxy = DeadlineMethodProxy(
                self.worker_ctx,
                self.service_name,
                method_name,
                listener,
                deadline=deadline_for(self.worker_ctx, timeout),
                **self.options,
            )
            return proxy(*args, **kwargs)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise  # an outer timer's, not this call's
            # sent, or perhaps sent (its confirm was late): it may be carried out until its deadline
            raise unavailable(self.service_name, exc, timeout, OUTCOME_UNKNOWN) from None
        except DeadlinePassedBeforeSending:
            raise unavailable(self.service_name, eventlet.Timeout(None), timeout, OUTCOME_NOT_DONE) from None
        except UnknownService as exc:  # the broker returned it: no queue is bound for the service
            raise unavailable(self.service_name, exc, outcome=OUTCOME_NOT_DONE) from None
        except BROKER_ERRORS as exc:
            raise unavailable(
                self.service_name, exc, outcome=OUTCOME_NOT_DONE if refused_before_sending(exc) else OUTCOME_UNKNOWN
            ) from None
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
