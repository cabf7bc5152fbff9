"""The tests' one way to call a service's RPC as a user: sign the actor as the gateway would.

Every ``@rpc`` method that takes an ``actor`` runs only with the gateway's Ed25519 signature of that
actor for that call (services/common/actors.py). The test session's services get ``TEST_VERIFY_KEY``
(tests/conftest.py ``TestEnvironment.config`` and ``process_env``; the gateway ``TEST_SIGNING_KEY``), and
a test calling a service directly plays the gateway: ``signed_rpc(amqp_uri)`` (and the ``rpc`` fixture)
is a nameko ``ClusterRpcProxy`` whose every call with an actor (the ``actor`` keyword, or a first
argument that is ``{"user_id", "role"}``) carries a fresh token signed for that actor and method.
An attacker's plain ``ClusterRpcProxy`` sends none (tests/security/test_forged_actors.py).
"""

import contextlib
import time

from nameko.containers import WorkerContext
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy

from services.common.actors import ACTOR_KEY, load_signing_key, sign, sign_service

# the test session's pair (not the development pair of config.yaml: a test proves the keys are used)
# (a label: the pair derived from it, services/common/actors.py DERIVED_PREFIXES)
TEST_SIGNING_KEY = TEST_VERIFY_KEY = "test-only:session-actors"
# notifications' own pair (it reads contacts as itself: services/common/actors.py SYSTEM_CALLERS)
TEST_NOTIFICATIONS_SIGNING_KEY = TEST_NOTIFICATIONS_VERIFY_KEY = "test-only:session-notifications"
TOKEN_LIFETIME = 120.0  # seconds: a test's call may wait for a slow service under load

_KEY = load_signing_key(TEST_SIGNING_KEY)


def token(actor, audience, expires_at=None, key=None, now=None):
    """A token for ``actor`` calling ``audience`` ("service.method"), signed with the test key (or ``key``)."""
    expires_at = time.time() + TOKEN_LIFETIME if expires_at is None else expires_at
    return sign(key or _KEY, actor, audience, expires_at, now=now)


def service_token(service, audience, key=None, expires_at=None):
    """A service identity token (services/common/actors.py SYSTEM_CALLERS), by default notifications'."""
    key = key or load_signing_key(TEST_NOTIFICATIONS_SIGNING_KEY)
    return sign_service(key, service, audience, time.time() + TOKEN_LIFETIME if expires_at is None else expires_at)


def claimed_actor(args, kwargs):
    actor = kwargs.get("actor", args[0] if args else None)
    if isinstance(actor, dict) and isinstance(actor.get("user_id"), str) and isinstance(actor.get("role"), str):
        return actor
    return None


class SignedCluster:
    """``proxy.<service>.<method>(...)`` and ``.call_async(...)``, each call signed for its actor."""

    def __init__(self, standalone):
        self._standalone = standalone

    def __getattr__(self, service):
        if service.startswith("_"):
            raise AttributeError(service)
        return _SignedService(self._standalone, service)

    def __getitem__(self, service):
        return _SignedService(self._standalone, service)


class _SignedService:
    def __init__(self, standalone, service):
        self._standalone = standalone
        self._service = service

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return _SignedMethod(self._standalone, self._service, method)


class _SignedMethod:
    def __init__(self, standalone, service, method):
        self._standalone = standalone
        self._service = service
        self._method = method

    def _proxy(self, args, kwargs):
        base = self._standalone._worker_ctx
        data = dict(base.data)
        actor = claimed_actor(args, kwargs)
        if actor is not None:
            data[ACTOR_KEY] = token(actor, f"{self._service}.{self._method}")
        worker_ctx = WorkerContext(base.container, service=None, entrypoint=type(self._standalone).Dummy, data=data)
        cluster = ClusterProxy(worker_ctx, self._standalone._reply_listener)
        return getattr(getattr(cluster, self._service), self._method)

    def __call__(self, *args, **kwargs):
        return self._proxy(args, kwargs)(*args, **kwargs)

    def call_async(self, *args, **kwargs):
        return self._proxy(args, kwargs).call_async(*args, **kwargs)


@contextlib.contextmanager
def signed_rpc(amqp_uri, timeout=15, context_data=None):
    """A started ``ClusterRpcProxy`` on ``amqp_uri`` that signs every call's actor (see the module)."""
    standalone = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout, context_data=context_data)
    standalone.start()
    try:
        yield SignedCluster(standalone)
    finally:
        standalone.stop()
