"""The gateway's own view of sessions: a bearer token is checked without a round trip to identity.

**Why.** The gateway used to ask ``identity.authenticate`` on every authenticated request: one RPC and
a database read per request, for an answer that changes only when someone signs out, changes or resets
a password, or verifies their e-mail (issue #18, part 3). Now the token carries what the gateway needs
(services/common/tokens.py: user, role, e-mail verified, session id; HMAC-signed by identity, checked
with no I/O) and each gateway process keeps what a token cannot say in memory:

- the sessions revoked (``SessionsRevoked`` from identity's outbox): their tokens are refused, 401;
- the accounts changed since their tokens were issued (``AccountChanged``: the e-mail got verified):
  the account's state overrides the token's claims (the latest by outbox position wins);
- the sessions it has seen live: the first request of a session a process has not seen yet asks
  ``identity.authenticate`` once, so a token naming a session identity never opened (which only a
  holder of TOKEN_SECRET could sign) is still refused; every later request of it costs no RPC.

Each entry is kept for a token's lifetime (TOKEN_TTL_SECONDS) after the gateway learned it: every token
it concerns was issued before, so has expired by then. Applying an event twice changes nothing.

**Feed.** Every gateway process must see every event, so each reads them from a queue of its own
(contracts/topology.py ``SESSION_FEED``: ``gateway.sessions.<random>``, exclusive, gone with its
connection) rather than a shared one. Events published while that queue does not exist reach nobody,
so right after it is bound - at start, and after every reconnection - the process loads the current
state with one RPC (``identity.session_revocations``), through a worker of the ``@session_feed``
method; events arriving meanwhile are applied too (revocations only add, accounts go by position).

**Until the view is loaded** (starting, the broker connection lost, the RPC failed: retried with a
backoff) the gateway asks ``identity.authenticate`` for each request, as before: correct, only slower.
``GATEWAY_SESSION_CHECK=identity`` keeps it so for good (the bench compares both).

**How late.** identity writes the events in the transaction that ends the sessions and wakes its relay
(published with confirms, at least once): a gateway refuses a revoked token within milliseconds, well
inside the issue's 1 s; the gateway that carried the sign-out itself refuses the token at once. A later
event can only come from identity's relay or the broker being down (then a sign-out itself fails, or is
published when they return); a lost connection is noticed within the heartbeat (HEARTBEAT_SECONDS) and
the view is not used until it is reloaded. Changing the password is checked by identity itself against
the session it knows (a stale view cannot change a password).
"""

import socket
import time
import uuid
from functools import partial

import eventlet
import kombu
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider, Entrypoint

from contracts.envelope import UnreadableEnvelope, read_envelope
from contracts.errors import Unauthorized
from contracts.topology import SESSION_FEED, broadcast_queue, events_exchange
from services.common.logs import get_logger
from services.common.tokens import SESSION_ENDED

log = get_logger()

SETTING = "GATEWAY_SESSION_CHECK"
LOCAL, IDENTITY = "local", "identity"
HEARTBEAT_SECONDS = 10  # a silently dead broker connection is noticed within about twice this
PRUNE_EVERY = 1.0  # seconds between sweeps of expired entries
RETRY_INITIAL, RETRY_MAX = 0.2, 5.0  # seconds: backoff of reconnecting and of reloading the snapshot


def mode_of(config):
    """GATEWAY_SESSION_CHECK: ``local`` (the default: the view, identity while it is not loaded) or
    ``identity`` (a round trip on every request, as before)."""
    mode = str(config.get(SETTING) or LOCAL).strip().lower()
    if mode not in (LOCAL, IDENTITY):
        raise ValueError(f"{SETTING} must be {LOCAL} or {IDENTITY}, not {mode!r}")
    return mode


def backoff(attempt):
    return min(RETRY_MAX, RETRY_INITIAL * 2 ** max(0, attempt - 1))


class SessionView:
    """What one gateway process knows beyond the tokens: revoked sessions and changed accounts. Pure."""

    def __init__(self, ttl_seconds, clock=time.monotonic):
        self.ttl = float(ttl_seconds)
        self.clock = clock
        self.live = False  # loaded for the current feed connection: else identity is asked
        self._revoked = {}  # session id -> when to forget it
        self._seen = {}  # session id -> (its user, when to forget it): identity confirmed it once
        self._accounts = {}  # user id -> (position, {"role", "email_verified"}, when to forget it)
        self._next_prune = 0.0

    def session(self, claims):
        """The session of a token's ``claims`` (TokenSigner.claims) as ``{"user_id", "role",
        "email_verified"}``; Unauthorized when it was revoked; None when identity must answer: the view
        is not live, or the session was not seen yet (then ``seen`` once identity confirmed it)."""
        if not self.live:
            return None
        self._prune()
        session_id = claims["session_id"]
        if session_id in self._revoked:
            raise Unauthorized(SESSION_ENDED)
        seen = self._seen.get(session_id)
        if seen is None or seen[0] != claims["user_id"]:
            return None
        session = {"user_id": claims["user_id"], "role": claims["role"], "email_verified": claims["email_verified"]}
        changed = self._accounts.get(claims["user_id"])
        if changed is not None:
            session.update(changed[1])
        return session

    def seen(self, claims):
        """identity confirmed the session of ``claims`` live (authenticate): believed from now on, until
        it is revoked (a revocation wins, whenever it arrives) or a token's lifetime has passed. Not
        recorded while the view is not live (GATEWAY_SESSION_CHECK=identity: it would only grow)."""
        if self.live:
            self._seen[claims["session_id"]] = (claims["user_id"], self.clock() + self.ttl)

    def revoke(self, session_ids):
        forget_at = self.clock() + self.ttl
        for session_id in session_ids:
            self._revoked[str(session_id)] = forget_at
        self._prune()

    def account(self, user_id, role, email_verified, position):
        """The account's state as of outbox ``position``; an older one than known changes nothing."""
        known = self._accounts.get(user_id)
        if known is None or position >= known[0]:
            self._accounts[user_id] = (
                position,
                {"role": role, "email_verified": bool(email_verified)},
                self.clock() + self.ttl,
            )

    def apply(self, envelope):
        """One event of the feed (an Envelope); idempotent."""
        payload = envelope.payload
        if envelope.type == "SessionsRevoked":
            self.revoke(payload["session_ids"])
        elif envelope.type == "AccountChanged":
            self.account(payload["user_id"], payload["role"], payload["email_verified"], envelope.position)

    def load(self, snapshot):
        """identity.session_revocations()'s answer, merged into what the events said meanwhile."""
        self.revoke(snapshot["revoked_sessions"])
        for account in snapshot["accounts"]:
            self.account(account["user_id"], account["role"], account["email_verified"], snapshot["position"])

    def _prune(self):
        now = self.clock()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        self._revoked = {k: t for k, t in self._revoked.items() if t > now}
        self._seen = {k: v for k, v in self._seen.items() if v[1] > now}
        self._accounts = {k: v for k, v in self._accounts.items() if v[2] > now}

    def __len__(self):
        return len(self._revoked) + len(self._accounts) + len(self._seen)


class SessionFeed(Entrypoint):
    """``@session_feed`` on the gateway method that returns ``identity.session_revocations()``: keeps
    the process's SessionView current from identity's events, and runs that method (a worker, with the
    gateway's RPC proxies) after every (re)connection of its queue."""

    def setup(self):
        config = self.container.config
        self.mode = mode_of(config)
        self.view = SessionView(int(config.get("TOKEN_TTL_SECONDS", 3600)))
        self.amqp_uri = config[AMQP_URI_CONFIG_KEY]
        self._running = False
        self._connection = None
        self.queue_name = None  # the queue of the current connection
        self._generation = 0  # one per connection: a snapshot loads only into the connection it followed
        self._snapshot = {"pending": False, "attempts": 0, "next_at": 0.0}

    def start(self):
        if self.mode != LOCAL:
            log.info("session_check", mode=self.mode)  # every request asks identity
            return
        self._running = True
        self.container.spawn_managed_thread(self._follow, identifier="session-feed")

    def stop(self):
        self._running = False
        self.view.live = False
        self._close()

    def kill(self):
        self.stop()

    def _follow(self):
        failures = 0
        while self._running:
            try:
                self._consume()
                failures = 0
            except Exception as exc:  # the broker is down or cut us off: reconnect; identity answers meanwhile
                self.view.live = False
                self._close()
                if not self._running:
                    break
                failures += 1
                log.warning("session_feed_lost", error=repr(exc)[:300], attempt=failures)
                eventlet.sleep(backoff(failures))

    def _consume(self):
        name = f"{SESSION_FEED.prefix}.{uuid.uuid4().hex}"
        # named like its queue (the management UI, rabbitmqctl list_connections client_properties)
        connection = self._connection = kombu.Connection(
            self.amqp_uri,
            heartbeat=HEARTBEAT_SECONDS,
            connect_timeout=5,
            transport_options={"client_properties": {"connection_name": name}},
        )
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        events_exchange(SESSION_FEED.source)(channel).declare()
        # no acks: an event lost with the connection is in the snapshot loaded after reconnecting
        consumer = kombu.Consumer(
            channel,
            queues=[broadcast_queue(SESSION_FEED, name)],
            no_ack=True,
            callbacks=[self._on_message],
            accept=["json"],
        )
        consumer.consume()
        self.queue_name = name
        self._generation += 1
        self._snapshot.update(attempts=0, next_at=0.0)
        log.info("session_feed_bound", queue=name)
        while self._running:
            if not self.view.live:
                self._load_snapshot()
            try:
                connection.drain_events(timeout=1.0)
            except socket.timeout:
                pass
            connection.heartbeat_check()  # sends ours when due; raises when the broker's are missing

    def _on_message(self, body, message):
        try:
            envelope = read_envelope(body)
            if envelope.type not in SESSION_FEED.event_types:
                raise UnreadableEnvelope(f"event type {envelope.type} is not in the session feed")
        except UnreadableEnvelope as exc:
            # what it said is not known: identity's state is loaded again (the view unused meanwhile)
            log.error("session_event_unreadable", reason=exc.reason, errors=exc.errors, body=repr(body)[:300])
            self.view.live = False
            self._snapshot.update(attempts=0, next_at=0.0)
            return
        self.view.apply(envelope)
        log.info(
            "session_event_applied",
            event_type=envelope.type,
            event_id=str(envelope.event_id),
            position=envelope.position,
            correlation_id=envelope.correlation_id,
        )

    def _load_snapshot(self):
        """Run the ``@session_feed`` method in a worker (one at a time, with a backoff after a failure)."""
        state = self._snapshot
        if state["pending"] or time.monotonic() < state["next_at"]:
            return
        state["pending"] = True
        try:
            self.container.spawn_worker(self, (), {}, handle_result=partial(self._loaded, self._generation))
        except ContainerBeingKilled:
            state["pending"] = False

    def _loaded(self, generation, worker_ctx, result, exc_info):
        state = self._snapshot
        state["pending"] = False
        if exc_info is None and generation == self._generation and self._running:
            self.view.load(result)
            self.view.live = True
            state["attempts"] = 0
            log.info(
                "sessions_loaded",
                revoked_sessions=len(result["revoked_sessions"]),
                accounts=len(result["accounts"]),
                position=result["position"],
            )
        elif exc_info is not None:
            state["attempts"] += 1
            state["next_at"] = time.monotonic() + backoff(state["attempts"])
            log.warning("sessions_not_loaded", error=repr(exc_info[1])[:300], attempt=state["attempts"])
        return result, exc_info

    def _close(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # already gone
                pass


session_feed = SessionFeed.decorator


class LiveSessions(DependencyProvider):
    """``sessions = LiveSessions()`` on the gateway: the process's SessionView (of its ``@session_feed``)."""

    def setup(self):
        feeds = [e for e in self.container.entrypoints if isinstance(e, SessionFeed)]
        if len(feeds) != 1:
            raise RuntimeError("LiveSessions needs exactly one @session_feed method on the service")
        self.feed = feeds[0]

    def get_dependency(self, worker_ctx):
        return self.feed.view
