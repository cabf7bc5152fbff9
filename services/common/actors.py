"""Signed actors: a service believes only the acting user the gateway signed for this very call.

**Why.** Anyone holding the broker credentials (today one user for every service, the gateway's
included) could call ``cases.withdraw_case(actor={"user_id": <the author>, ...})`` and be believed
(issue #18, part 3). Now the gateway signs the acting user for every RPC it makes, and every ``@rpc``
method that takes an ``actor`` runs only with a verified one.

**The token** (``nameko.signed_actor``, a context-data header like the deadline): compact,
``base64url(JSON claims) "." base64url(Ed25519 signature of those bytes)``, claims
``{user_id, role, email_verified, aud, iat, exp, jti}``:

- ``aud`` is the one call it was signed for, ``"<service>.<method>"``;
- ``exp`` is that call's RPC deadline (services/common/rpc.py): the token dies with the request;
- ``jti`` is random; each service remembers the jtis it accepted until they expire, in a table of its own
  database shared by all its processes (``ReplayGuard``: a token captured on its way to one replica
  cannot be played again at another), and refuses one seen before (replay).

Asymmetric on purpose: only the gateway holds ``ACTOR_SIGNING_KEY`` (private); every service holds
``ACTOR_VERIFY_KEY`` (public). A compromised service can verify but cannot forge.

**Forwarding.** A service acting for the user in another call (identity's author card asks
``cases.author_for``) sends the same token on: nameko copies a worker's context data, hence the token,
into the headers of every call it makes. The receiving method accepts a token whose ``aud`` is itself or
one of the calls listed for it in ``DELEGATIONS`` (one table, so every delegation is visible here);
any other audience is refused. A forwarded token is still single-use per receiving service.

**Refusals** happen in the RPC entrypoint before any worker runs (``DeadlineRpc.handle_message``):
missing, forged, expired or replayed -> 401 ``Unauthorized``; a token for another call or for another
user than the ``actor`` argument -> 403 ``Forbidden``; each logged ``actor_refused`` with the reason
and the rpc, never the token. The method then gets the verified ``{"user_id", "role"}``.

**Services as themselves.** Timers and event handlers act as the system and take no actor; methods
without an ``actor`` parameter are not checked, except the personal-data reads in ``SYSTEM_CALLERS``
(identity's ``contact_for`` and ``moderator_contacts``): only the services listed there may call them,
each proving who it is with a token ``{service, aud, iat, exp, jti}`` signed with its own Ed25519 key
(``SERVICE_SIGNING_KEY``; the callee holds ``SERVICE_VERIFY_KEYS``, ``name=<public key>,...``), in the
header ``nameko.service_identity``, checked and replay-guarded the same way. A compromised gateway
cannot read contacts as notifications, nor notifications act as a user.

Why the forwarding rule is a table rather than a list of audiences in the token: the gateway does not
know which services a call will reach, and the callee is where the trust decision belongs. The cost: a
token captured from ``identity.author_card`` could be played once at ``cases.author_for`` before identity
forwards it (it expires with the request's deadline, at most ``MAX_LIFETIME``). Development and test
keys are labels (``DERIVED_PREFIXES``) that production refuses.
"""

import base64
import binascii
import hashlib
import inspect
import json
import threading
import time
import uuid

import psycopg2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nameko.extensions import DependencyProvider

from contracts.errors import Forbidden, PlatformError, ServiceUnavailable, Unauthorized
from services.common.db import Database
from services.common.logs import get_logger

ACTOR_KEY = "signed_actor"  # the context data key; nameko sends it as the header nameko.signed_actor
SIGNING_KEY_SETTING = "ACTOR_SIGNING_KEY"
VERIFY_KEY_SETTING = "ACTOR_VERIFY_KEY"
ACTOR_PARAMETER = "actor"
MAX_TOKEN_LENGTH = 2048
DEFAULT_LIFETIME = 10.0  # seconds, for a call made without a deadline
MAX_LIFETIME = 3600.0  # seconds: a token living longer is refused (it bounds the replay memory too)

# A key written "dev-only:<label>" or "test-only:<label>" is derived from that text (sha256 as the
# private key's seed): the same text names both halves of a pair, and such a pair is public, so
# worthless - the config.yaml defaults and the test session's. The production settings check
# (services/common/settings.py) refuses them.
DERIVED_PREFIXES = ("dev-only:", "test-only:")
DEV_SIGNING_KEY = DEV_VERIFY_KEY = "dev-only:actors"

# "<service>.<method>" -> the calls whose token it accepts, forwarded by the service handling them
DELEGATIONS = {
    "cases.author_for": frozenset({"identity.author_card"}),
}

# Personal-data reads that take no user: "<service>.<method>" -> the services that may call them, each
# proving who it is with its own key (SERVICE_SIGNING_KEY; the callee holds SERVICE_VERIFY_KEYS).
SYSTEM_CALLERS = {
    "identity.contact_for": frozenset({"notifications"}),
    "identity.moderator_contacts": frozenset({"notifications"}),
    "identity.survey_audience": frozenset({"notifications"}),
}
SERVICE_KEY = "service_identity"  # the context data key of a service identity token
SERVICE_SIGNING_KEY_SETTING = "SERVICE_SIGNING_KEY"
SERVICE_VERIFY_KEYS_SETTING = "SERVICE_VERIFY_KEYS"
DEV_SERVICE_SIGNING_KEY = DEV_SERVICE_VERIFY_KEY = "dev-only:notifications"  # notifications' development pair

log = get_logger()


class ActorRefused(Exception):
    """Why a token is not believed; ``error`` is what the caller gets."""

    def __init__(self, reason, error):
        super().__init__(reason)
        self.reason = reason
        self.error = error


def _unauthorized(reason):
    return ActorRefused(
        reason,
        Unauthorized("The acting user of this call is not signed by the gateway; refused.", details={"reason": reason}),
    )


def _forbidden(reason):
    return ActorRefused(
        reason, Forbidden("The acting user's signature is not for this call; refused.", details={"reason": reason})
    )


# ---- keys -----------------------------------------------------------------------------------


def _key_bytes(text):
    try:
        return base64.b64decode(str(text).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


def derived(text):
    """True for a development or test key, written as its label (``DERIVED_PREFIXES``)."""
    return str(text or "").strip().startswith(DERIVED_PREFIXES)


def _derived_key(text):
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(text.encode()).digest())


def load_signing_key(text):
    """An Ed25519 private key from base64 (the raw 32 bytes), PEM (PKCS8) or a development label."""
    text = str(text or "").strip()
    if derived(text):
        return _derived_key(text)
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{SIGNING_KEY_SETTING} is not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_key_bytes(text))


def load_verify_key(text):
    """An Ed25519 public key from base64 (the raw 32 bytes), PEM (SubjectPublicKeyInfo) or a
    development label (the public half of the pair it names)."""
    text = str(text or "").strip()
    if derived(text):
        return _derived_key(text).public_key()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{VERIFY_KEY_SETTING} is not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(_key_bytes(text))


def key_problem(name, value):
    """Why ``value`` of the setting ``name`` (an actor key) is unusable, or None (never the value)."""
    load = {
        SIGNING_KEY_SETTING: load_signing_key,
        SERVICE_SIGNING_KEY_SETTING: load_signing_key,
        SERVICE_VERIFY_KEYS_SETTING: load_service_verify_keys,
    }.get(name, load_verify_key)
    try:
        load(value)
    except Exception:
        return "is not an Ed25519 key (base64 of its 32 bytes, or PEM)"
    return None


# ---- tokens ---------------------------------------------------------------------------------


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(private_key, actor, audience, expires_at, now=None):
    """The token for ``actor`` (``{"user_id", "role", "email_verified"?}``) calling ``audience``."""
    now = time.time() if now is None else now
    claims = {
        "user_id": str(actor["user_id"]),
        "role": str(actor["role"]),
        "email_verified": bool(actor.get("email_verified", False)),
        "aud": audience,
        "iat": round(now, 3),
        "exp": round(float(expires_at), 3),
        "jti": uuid.uuid4().hex,
    }
    body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(private_key.sign(body))}"


def _decoded(token):
    """(signed bytes, signature, claims) of a well-formed token; ActorRefused("missing"/"malformed")."""
    if not token:
        raise _unauthorized("missing")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise _unauthorized("malformed")
    body_text, signature_text = token.split(".")
    try:
        body, signature = _unb64(body_text), _unb64(signature_text)
        claims = json.loads(body)
    except (binascii.Error, ValueError):
        raise _unauthorized("malformed") from None
    if not isinstance(claims, dict):
        raise _unauthorized("malformed")
    return body, signature, claims


def _checked(public_key, body, signature, claims, names, audiences, now):
    """``claims`` when ``public_key`` signed ``body``, its string claims ``names`` are there, it has not
    expired and its audience is one of ``audiences``."""
    if public_key is None:
        raise _unauthorized("forged")  # claims to come from a service whose key we do not hold
    try:
        public_key.verify(signature, body)
    except InvalidSignature:
        raise _unauthorized("forged") from None
    try:
        expires_at = float(claims["exp"])
        values = [claims[name] for name in names + ("aud", "jti")]
    except (ValueError, KeyError, TypeError):
        raise _unauthorized("malformed") from None
    if not all(isinstance(v, str) and v for v in values):
        raise _unauthorized("malformed")
    now = time.time() if now is None else now
    if now >= expires_at:
        raise _unauthorized("expired")
    if expires_at - now > MAX_LIFETIME:
        raise _unauthorized("lifetime_too_long")
    if claims["aud"] not in audiences:
        raise _forbidden("wrong_audience")
    return claims


def verify(public_key, token, audiences, now=None):
    """The claims of ``token`` when the gateway signed it for one of ``audiences`` and it is not
    expired; ActorRefused otherwise (replay is the caller's ReplayGuard)."""
    body, signature, claims = _decoded(token)
    return _checked(public_key, body, signature, claims, ("user_id", "role"), audiences, now)


def sign_service(private_key, service, audience, expires_at, now=None):
    """A service identity token: ``service`` itself (no user) calling ``audience``."""
    now = time.time() if now is None else now
    claims = {
        "service": service,
        "aud": audience,
        "iat": round(now, 3),
        "exp": round(float(expires_at), 3),
        "jti": uuid.uuid4().hex,
    }
    body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(private_key.sign(body))}"


def verify_service(public_keys, token, audience, callers, now=None):
    """The claims of a service identity token from one of ``callers`` (service names), signed with that
    service's key from ``public_keys`` for ``audience``; ActorRefused otherwise."""
    body, signature, claims = _decoded(token)
    service = claims.get("service")
    if service not in callers:
        raise _forbidden("service_not_allowed")
    return _checked(public_keys.get(service), body, signature, claims, ("service",), {audience}, now)


def load_service_verify_keys(text):
    """SERVICE_VERIFY_KEYS, ``"notifications=<base64 public key>,other=..."``: {service: public key}."""
    keys = {}
    for item in str(text or "").split(","):
        if item.strip():
            name, _, key = item.partition("=")
            keys[name.strip()] = load_verify_key(key.strip())
    return keys


PRUNE_EVERY = 10.0  # seconds between one process's sweeps of expired jtis


class ReplayGuard:
    """The jtis every process of one service accepted, each kept until its token expires: a table
    (``accepted_jtis``) in the service's own database, so that a token accepted by one replica is
    refused by every other. One INSERT ... ON CONFLICT DO NOTHING per token (atomic across processes:
    of two concurrent uses exactly one inserts); expired rows are deleted by each process every
    PRUNE_EVERY seconds. psycopg2 with wait_select (services/common/db.py): the query yields to the
    eventlet hub. ``store`` is a PostgresStore, or a callable that returns it (the service's Database
    is set up after its entrypoints); the table is in every RPC service's schema history (0001)."""

    def __init__(self, store):
        self._store = store
        self._next_prune = 0.0

    def store(self):
        return self._store() if callable(self._store) else self._store

    def accept(self, jti, expires_at, now=None, redelivered=False):
        """Record ``jti``; ActorRefused("replayed") if any process of the service accepted it before and
        it has not expired, ("replay_guard_unavailable", 503) when the database cannot tell. A request
        the broker ``redelivered`` (the replica that took it first died before it acked) whose jti was
        accepted is ("redelivered", 503, outcome unknown): that replica may have carried it out, and the
        client, not the broker, may send it again (with its Idempotency-Key)."""
        now = time.time() if now is None else now
        try:
            with self.store().transaction() as cur:
                if now >= self._next_prune:
                    self._next_prune = now + PRUNE_EVERY
                    cur.execute("DELETE FROM accepted_jtis WHERE expires_at < to_timestamp(%s)", (now,))
                cur.execute(
                    "INSERT INTO accepted_jtis (jti, expires_at) VALUES (%s, to_timestamp(%s)) "
                    "ON CONFLICT (jti) DO NOTHING",
                    (str(jti)[:200], float(expires_at)),
                )
                inserted = cur.rowcount == 1
        except (PlatformError, psycopg2.Error) as exc:  # the database is down: nothing is believed unchecked
            from services.common.rpc import OUTCOME_NOT_DONE  # rpc.py imports this module

            log.warning("replay_guard_unavailable", error=repr(exc)[:300], cause=repr(exc.__cause__)[:300])
            raise ActorRefused(
                "replay_guard_unavailable",
                ServiceUnavailable(
                    "The service cannot check this call's signature now; it was not carried out. Try again.",
                    details={"outcome": OUTCOME_NOT_DONE},
                ),
            ) from exc
        if not inserted and redelivered:
            from services.common.rpc import OUTCOME_UNKNOWN  # rpc.py imports this module

            raise ActorRefused(
                "redelivered",
                ServiceUnavailable(
                    "The service was interrupted while handling this call; it may have been carried out.",
                    details={"outcome": OUTCOME_UNKNOWN},
                ),
            )
        if not inserted:
            raise _unauthorized("replayed")


def _database_of(container):
    """The service's own database (its one Database dependency): where its replay guard keeps the jtis."""
    stores = [d for d in container.dependencies if isinstance(d, Database)]
    if len(stores) != 1:
        raise RuntimeError(
            f"{container.service_name} checks signed actors, so it needs exactly one Database "
            "dependency for its replay guard (services/common/actors.py)"
        )
    return lambda: stores[0].store


_GUARDS_LOCK = threading.Lock()


def replay_guard(container):
    """The one ReplayGuard of a container (service process): its entrypoints share it."""
    with _GUARDS_LOCK:
        guard = getattr(container, "replay_guard", None)  # kept on the container: dies with it
        if guard is None:
            guard = container.replay_guard = ReplayGuard(_database_of(container))
        return guard


# ---- the receiving end (used by services/common/rpc.py's DeadlineRpc) -----------------------


def actor_position(fn):
    """The index of ``fn``'s ``actor`` parameter among the call's positional arguments (self not
    counted), or None when the method takes no actor."""
    names = list(inspect.signature(inspect.unwrap(fn)).parameters)
    return names.index(ACTOR_PARAMETER) - 1 if ACTOR_PARAMETER in names else None


class ActorCheck:
    """One ``@rpc`` method's check: its audiences, the service's public key and replay guard."""

    def __init__(self, container, method_name, position):
        self.rpc = f"{container.service_name}.{method_name}"
        self.position = position
        self.audiences = frozenset({self.rpc}) | DELEGATIONS.get(self.rpc, frozenset())
        setting = container.config.get(VERIFY_KEY_SETTING)
        if not setting:
            raise RuntimeError(
                f"{container.service_name} has @rpc methods that take an actor but no "
                f"{VERIFY_KEY_SETTING} setting (services/common/actors.py)"
            )
        self.public_key = load_verify_key(setting)
        self.guard = replay_guard(container)

    def verified_body(self, headers, body, header_name, redelivered=False):
        """``body`` with its ``actor`` argument replaced by the verified actor; ActorRefused (logged)
        when the token does not hold. A body without args/kwargs passes unchanged (nameko refuses it).
        ``redelivered``: the broker's flag on the request (ReplayGuard.accept)."""
        args, kwargs = body.get("args"), body.get("kwargs")
        if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
            return body
        try:
            claims = verify(self.public_key, (headers or {}).get(header_name), self.audiences)
            claimed = args[self.position] if len(args) > self.position else kwargs.get(ACTOR_PARAMETER)
            if not (
                isinstance(claimed, dict)
                and claimed.get("user_id") == claims["user_id"]
                and claimed.get("role") == claims["role"]
            ):
                raise _forbidden("actor_mismatch")
            self.guard.accept(claims["jti"], float(claims["exp"]), redelivered=redelivered)
        except ActorRefused as refusal:
            log.warning(
                "actor_refused",
                rpc=self.rpc,
                reason=refusal.reason,
                correlation_id=_correlation_id(headers, header_name),
            )
            raise
        actor = {"user_id": claims["user_id"], "role": claims["role"]}
        if len(args) > self.position:
            args = list(args)
            args[self.position] = actor
        else:
            kwargs = dict(kwargs, **{ACTOR_PARAMETER: actor})
        return dict(body, args=args, kwargs=kwargs)


class ServiceCheck:
    """The check of a personal-data read that takes no user (``SYSTEM_CALLERS``): only the services
    listed for it, each with a token signed with its own key for this call, once."""

    def __init__(self, container, method_name):
        self.rpc = f"{container.service_name}.{method_name}"
        self.callers = SYSTEM_CALLERS[self.rpc]
        self.public_keys = load_service_verify_keys(container.config.get(SERVICE_VERIFY_KEYS_SETTING))
        self.guard = replay_guard(container)

    def check(self, headers, header_name, redelivered=False):
        """The calling service's name; ActorRefused (logged) when it cannot prove it."""
        try:
            claims = verify_service(self.public_keys, (headers or {}).get(header_name), self.rpc, self.callers)
            self.guard.accept(claims["jti"], float(claims["exp"]), redelivered=redelivered)
        except ActorRefused as refusal:
            log.warning(
                "actor_refused",
                rpc=self.rpc,
                reason=refusal.reason,
                correlation_id=_correlation_id(headers, header_name),
            )
            raise
        return claims["service"]


def _correlation_id(headers, header_name):
    """The request's correlation id (the refusal runs before a worker binds it), for the log line."""
    prefix = header_name.rsplit(".", 1)[0]
    value = (headers or {}).get(f"{prefix}.correlation_id")
    return str(value)[:64] if value is not None else None


# ---- the signing end (the gateway) ----------------------------------------------------------


class ActorSigner:
    """The gateway's signer for one worker's acting user (set by ``act_as``)."""

    def __init__(self, private_key):
        self.private_key = private_key

    def token(self, actor, service, method, deadline):
        return sign(self.private_key, actor, f"{service}.{method}", deadline)


class ActingUser(DependencyProvider):
    """``acting_user = ActingUser()`` on the gateway: ``self.acting_user.act_as(actor)`` makes every
    RPC the worker sends from then on carry a token for ``actor``, signed for that call
    (services/common/rpc.py ``DeadlineMethodProxy`` asks ``token_for``)."""

    def setup(self):
        self.signer = ActorSigner(load_signing_key(self.container.config[SIGNING_KEY_SETTING]))

    def get_dependency(self, worker_ctx):
        return _WorkerActing(self.signer, worker_ctx)


class _WorkerActing:
    def __init__(self, signer, worker_ctx):
        self.signer = signer
        self.worker_ctx = worker_ctx

    def act_as(self, actor):
        self.worker_ctx.acting_user = (self.signer, dict(actor))


class ServiceSigner:
    """A service's own identity, for the calls it makes as itself (``SYSTEM_CALLERS``)."""

    def __init__(self, service, private_key):
        self.service = service
        self.private_key = private_key

    @classmethod
    def from_config(cls, container):
        setting = container.config.get(SERVICE_SIGNING_KEY_SETTING)
        return cls(container.service_name, load_signing_key(setting)) if setting else None

    def token(self, service, method, deadline):
        audience = f"{service}.{method}"
        if audience not in SYSTEM_CALLERS:
            return None  # proves nothing the callee asks for
        expires_at = deadline if deadline is not None else time.time() + DEFAULT_LIFETIME
        return sign_service(self.private_key, self.service, audience, expires_at)


def token_for(worker_ctx, service, method, deadline):
    """The token a call from ``worker_ctx`` to ``service.method`` carries when the worker acts for a
    signed-in user (the gateway's ``act_as``), else None (the worker's context data may still hold a
    token it received, which nameko forwards)."""
    acting = getattr(worker_ctx, "acting_user", None) if worker_ctx is not None else None
    if acting is None:
        return None
    signer, actor = acting
    return signer.token(actor, service, method, deadline if deadline is not None else time.time() + DEFAULT_LIFETIME)


def generate():
    """A new key pair, base64 of the raw 32 bytes each: (private, public)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(private).decode("ascii"), base64.b64encode(public).decode("ascii")


if __name__ == "__main__":  # python -m services.common.actors generate
    import sys

    if sys.argv[1:] != ["generate"]:
        sys.exit("usage: python -m services.common.actors generate")
    private_key, public_key = generate()
    print(f"ACTOR_SIGNING_KEY={private_key}\nACTOR_VERIFY_KEY={public_key}")
