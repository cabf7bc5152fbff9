"""The identity nameko service: a thin shell over accounts, sessions, passwords, profiles, the roll
of mentors, availability and questionnaires.

Run: ``nameko run --config services/identity/config.yaml services.identity.service``
"""

import uuid

from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from contracts.errors import Forbidden, InvalidInput, NotFound, PlatformError, TooManyRequests, Unauthorized
from contracts.rpc_common import ActorSchema, HealthSchema
from contracts.rpc_identity import (
    AccessLogQuerySchema,
    AccessReasonSchema,
    AccreditationApplicationSchema,
    AvailabilitySchema,
    DecisionReasonSchema,
    EmailVerificationSchema,
    EmailVerifiedSchema,
    ErasureConfirmationSchema,
    ErasureReasonSchema,
    MentorProfileSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    PhotoUploadSchema,
    QuestionnaireSchema,
    RegisterSchema,
    RegistrationAcceptedSchema,
    SessionSchema,
    SignInSchema,
    StatusViewSchema,
    TokenViewSchema,
)
from contracts.statistics import RegistrationsSchema
from contracts.validation import load, schema_of
from services.common import mail, outbox, shredding
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.outbox import OutboxReader
from services.common.person_keys import PersonKeys
from services.common.personal_data import records
from services.common.relay import EventRelay
from services.common.rpc import RpcDeadline, TimedRpcProxy, rpc
from services.common.timer import configured_timer
from services.common.tokens import TokenSigner
from services.identity import (
    accreditation,
    audit,
    availability,
    case_gate,
    contacts,
    erasure,
    photos,
    profiles,
    questionnaires,
    recovery,
    repository,
    sealing,
    sessions,
    throttle,
)
from services.identity import statistics as registrations
from services.identity.accounts import (
    SESSION_ENDED,
    SIGN_IN_FAILED,
    WRONG_PASSWORD,
    authorize_profile_edit,
    authorize_view_user,
    new_user,
    normalize_email,
    parse_id,
    require_mentor_account,
    require_verified_email,
    user_id_argument,
    user_view,
)
from services.identity.passwords import HashParameters, PasswordHashing

SERVICE = "identity"
NOTIFICATIONS = "notifications"  # the one service that reads contacts as itself (services/common/actors.py)
logger = get_logger()


class Tokens(DependencyProvider):
    """The access-token signer, built once from TOKEN_SECRET / TOKEN_TTL_SECONDS (fails fast at start)."""

    def setup(self):
        config = self.container.config
        self.signer = TokenSigner(config["TOKEN_SECRET"], config.get("TOKEN_TTL_SECONDS", 3600))

    def get_dependency(self, worker_ctx):
        return self.signer


class Passwords(DependencyProvider):
    """argon2 hashing off the eventlet hub: each call runs in an OS thread (eventlet.tpool).

    A semaphore bounds how many hashes run at once (each takes ~64 MiB and a core for
    tens of milliseconds), so a burst of sign-ins cannot exhaust the container's memory.
    """

    def setup(self):
        # production's floor is checked with the other settings (services/common/settings.py)
        self.hashing = PasswordHashing(HashParameters.from_config(self.container.config).hasher())
        self._slots = Semaphore(int(self.container.config.get("PASSWORD_HASH_CONCURRENCY", 4)))
        self.hashing.dummy_hash  # noqa: B018 - computed now, not on the first unknown e-mail

    def hash(self, password):
        with self._slots:
            return tpool.execute(self.hashing.hash, password)

    def verify(self, stored_hash, password):
        with self._slots:
            return tpool.execute(self.hashing.verify, stored_hash, password)

    def get_dependency(self, worker_ctx):
        return self


class Throttle(DependencyProvider):
    """The sign-in and registration limits (SIGN_IN_*, REGISTRATION_*: throttle.Limits)."""

    def setup(self):
        self.limits = throttle.Limits.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.limits


class AccountMail(DependencyProvider):
    """Where the account e-mails' links lead and how long they work (PUBLIC_WEB_URL,
    PASSWORD_RESET_TTL_SECONDS, EMAIL_VERIFICATION_TTL_SECONDS), the SMTP server and retry policy
    (SMTP_*, EMAIL_MAX_ATTEMPTS, EMAIL_RETRY_SECONDS, as notifications reads them)."""

    def setup(self):
        config = self.container.config
        self.links = recovery.Settings.from_config(config)
        self.smtp = mail.SmtpSettings.from_config(config)
        self.policy = mail.RetryPolicy.from_config(config)

    def get_dependency(self, worker_ctx):
        return self


ACCOUNT_EMAIL_BATCH = 20
ACCOUNT_EMAIL_LEASE_SECONDS = 120.0  # longer than one SMTP exchange may take (timeout included)


NOT_A_MENTOR_AVAILABILITY = "Only a mentor keeps an availability."
NOT_A_MENTOR_ACCREDITATION = "Only a mentor applies for the roll of mentors."


# The person's tables for GET /api/v1/me/data: (columns holding their id, columns left out). Readers' and
# deciders' ids are other people's (a moderator's never shown to the author); the e-mail body may hold a
# one-time link.
PERSONAL_TABLES = {
    "users": (("id",), ("email_index",)),
    "mentor_profiles": (("mentor_id",), ()),
    "mentor_photos": (("mentor_id",), ()),
    "mentor_availability": (("mentor_id",), ()),
    "questionnaires": (("user_id",), ()),
    "questionnaire_reads": (("author_id",), ("reader_id",)),
    "access_audit": (("author_id",), ("reader_id",)),
    "sessions": (("user_id",), ()),
    "accreditations": (("mentor_id",), ()),
    "accreditation_applications": (("mentor_id",), ("decided_by",)),
    "accreditation_history": (("mentor_id",), ("actor_id",)),
    "account_tokens": (("user_id",), ()),
    "account_email_outbox": (("user_id",), ("body",)),
    "sign_in_alerts": (("user_id",), ()),
}


class IdentityService:
    name = SERVICE

    log = CorrelationContext(SERVICE)
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    db = Database("identity")
    relay = EventRelay(SERVICE, OutboxReader(SERVICE))
    tokens = Tokens()
    passwords = Passwords()
    limits = Throttle()
    account_mail = AccountMail()
    vault = PersonKeys(sealing.Vault)
    cases = TimedRpcProxy("cases")  # who may see an author (services/identity/case_gate.py)
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    config = Config()

    # ---- accounts ------------------------------------------------------------------

    @rpc
    def register(self, form, client=None):
        """A new account, unverified: its owner gets the verification link by e-mail. Never tells
        whether the address has an account: for an existing one the answer is the same and its owner
        is told by e-mail instead (the password is hashed in both cases, for the same time taken).
        At most REGISTRATION_ADDRESS_LIMIT registrations per ``client`` address in the window."""
        data = load(RegisterSchema, form, what="registration form")
        email = normalize_email(data["email"])
        self._count_registration(client)
        user = new_user(data, self.passwords.hash(data["password"]))
        links = self.account_mail.links
        with self.db.transaction() as cur:
            row = repository.insert_user(cur, self.vault, user)
            if row is None:  # registered before: the owner is told, the caller learns nothing
                existing = repository.user_by_email(cur, self.vault, email)
                if existing is not None and not repository.emailed_recently(  # (the account may have gone)
                    cur, existing["id"], "registration_attempt", recovery.REGISTRATION_ATTEMPT_QUIET_SECONDS
                ):
                    self._enqueue(cur, existing, recovery.registration_attempt_email(links, existing["first_name"]))
            else:
                self._enqueue_link(cur, row, recovery.VERIFY_EMAIL)
        if row is None:
            logger.info("registration_of_existing_address", user_id=str(existing["id"]) if existing else None)
        else:
            logger.info("user_registered", user_id=str(row["id"]), role=row["role"])
        return schema_of(RegistrationAcceptedSchema).dump({"status": "verification_sent", "email": email})

    def _count_registration(self, client):
        limits = throttle.registration_keys(self.limits, client)
        if not limits:
            return
        window = self.limits.registration_window
        with self.db.transaction() as cur:
            repository.lock_keys(cur, limits)
            now, attempts = repository.failure_times(cur, limits, window)
            try:
                throttle.check(attempts, limits, window, now, message=throttle.TOO_MANY_REGISTRATIONS)
            except TooManyRequests:
                logger.info("registration_throttled")
                raise
            repository.insert_failures(cur, limits, self.limits.retention)

    def _enqueue(self, cur, user, email):
        """One account e-mail ``(kind, subject, body)`` to ``user``, sent by send_account_emails."""
        kind, subject, body = email
        return repository.enqueue_email(cur, self.vault, user["id"], user["email"], kind, subject, body)

    def _enqueue_link(self, cur, user, purpose):
        """A new one-time link of ``purpose`` (its hash stored) and the e-mail that carries it."""
        links = self.account_mail.links
        token, token_hash = recovery.new_token()
        repository.insert_token(cur, token_hash, user["id"], purpose, links.ttl(purpose))
        compose = recovery.reset_email if purpose == recovery.RESET_PASSWORD else recovery.verification_email
        return self._enqueue(cur, user, compose(links, user["first_name"], token))

    @rpc
    def verify_email(self, form):
        """The link's token confirms the address (once; expired, used or unknown: 400 on ``token``)."""
        data = load(EmailVerificationSchema, form, what="verification")
        with self.db.transaction() as cur:
            user = repository.use_token(cur, self.vault, recovery.token_hash(data["token"]), recovery.VERIFY_EMAIL)
            if user is None:
                raise recovery.invalid_link()
            sessions.email_verified(cur, user["id"], repository.mark_email_verified(cur, user["id"]))
            repository.use_all_tokens(cur, user["id"], recovery.VERIFY_EMAIL)
        self.relay.wake()
        logger.info("email_verified", user_id=str(user["id"]))
        return schema_of(EmailVerifiedSchema).dump({"verified": True})

    @rpc
    def resend_verification(self, actor):
        """Another verification link to the signed-in user (none when already verified)."""
        actor = load(ActorSchema, actor, what="actor")
        user_id = parse_id(actor["user_id"])
        sent = False
        with self.db.transaction() as cur:
            user = repository.user_by_id(cur, user_id, lock=True, vault=self.vault) if user_id else None
            if user is None:
                raise Unauthorized(SESSION_ENDED)
            if (
                user["email_verified_at"] is None
                and repository.live_tokens(cur, user["id"], recovery.VERIFY_EMAIL) < recovery.MAX_LIVE_LINKS
            ):
                self._enqueue_link(cur, user, recovery.VERIFY_EMAIL)
                sent = True
        logger.info("verification_resent", user_id=user_id, sent=sent)
        return schema_of(StatusViewSchema).dump({"status": "sent"})

    @rpc
    def request_password_reset(self, form):
        """A reset link by e-mail when the address has an account (at most MAX_LIVE_LINKS working at
        once); the same answer when it has none, or has enough links already."""
        data = load(PasswordResetRequestSchema, form, what="password reset request")
        email = normalize_email(data["email"])
        sent = False
        with self.db.transaction() as cur:
            user = repository.user_by_email(cur, self.vault, email)
            if user is not None:
                repository.user_by_id(cur, user["id"], lock=True)  # concurrent requests count one by one
                if repository.live_tokens(cur, user["id"], recovery.RESET_PASSWORD) < recovery.MAX_LIVE_LINKS:
                    self._enqueue_link(cur, user, recovery.RESET_PASSWORD)
                    sent = True
        logger.info("password_reset_requested", user_id=str(user["id"]) if user else None, sent=sent)
        return schema_of(StatusViewSchema).dump({"status": "sent"})

    @rpc
    def reset_password(self, form):
        """A new password by the link's token (once, before it expires): every session of the account
        ends, every other reset link is void, and the e-mail counts as verified (the link came by it)."""
        data = load(PasswordResetSchema, form, what="password reset")
        new_hash = self.passwords.hash(data["new_password"])
        with self.db.transaction() as cur:
            user = repository.use_token(cur, self.vault, recovery.token_hash(data["token"]), recovery.RESET_PASSWORD)
            if user is None:
                raise recovery.invalid_link()
            user_id = str(user["id"])
            repository.set_password_hash(cur, user_id, new_hash)
            repository.use_all_tokens(cur, user_id, recovery.RESET_PASSWORD)
            sessions.email_verified(cur, user_id, repository.mark_email_verified(cur, user_id))
            repository.forget_failures(cur, (), [throttle.account_key(user["email"])])
            revoked = sessions.revoked(cur, user_id, repository.revoke_all_sessions(cur, user_id), "password_reset")
        self.relay.wake()
        logger.info("password_reset", user_id=user_id, revoked_sessions=revoked)
        return schema_of(PasswordChangedSchema).dump({"revoked_sessions": revoked})

    @configured_timer("ACCOUNT_EMAIL_POLL_INTERVAL", 2.0)
    def send_account_emails(self):
        """Send the due account e-mails; a failed one is retried with backoff (services/common/mail.py)."""
        settings = self.account_mail
        try:
            with self.db.transaction() as cur:
                rows = repository.claim_due_emails(cur, self.vault, ACCOUNT_EMAIL_BATCH, ACCOUNT_EMAIL_LEASE_SECONDS)
        except PlatformError as exc:  # the rows wait in the database; the next tick tries again
            logger.warning("account_email_sender_paused", reason=exc.message)
            return
        with mail.Mailer(settings.smtp) as mailer:  # one SMTP connection for the round
            for row in rows:
                self._send_account_email(mailer, settings, row)

    def _send_account_email(self, mailer, settings, row):
        try:
            mailer.send(
                mail.plain_message(
                    settings.smtp,
                    row["recipient"],
                    row["subject"],
                    row["body"],
                    row["id"],
                    row["created_at"],
                    {"X-Account-Email-Kind": row["kind"]},
                )
            )
        except Exception as exc:  # SMTP or network: retried, unless the server refused for good
            error = f"{type(exc).__name__}: {exc}"
            give_up = mail.permanent(exc) or settings.policy.gives_up(row["attempts"])
            with self.db.transaction() as cur:
                repository.email_failed_attempt(
                    cur, row["id"], error, give_up, settings.policy.backoff(row["attempts"])
                )
            log = logger.error if give_up else logger.warning
            log(
                "account_email_failed" if give_up else "account_email_attempt_failed",
                kind=row["kind"],
                outbox_id=row["id"],
                attempt=row["attempts"],
                error=error,
            )
            return
        with self.db.transaction() as cur:
            repository.email_sent(cur, row["id"])
        logger.info("account_email_sent", kind=row["kind"], outbox_id=row["id"], attempt=row["attempts"])

    @rpc
    def sign_in(self, credentials, client=None):
        """A token for a right e-mail and password. Wrong password and unknown e-mail are refused
        alike (same answer, same work: a dummy hash is verified); too many failures per account or
        per ``client`` address within the window are refused unchecked (TooManyRequests)."""
        data = load(SignInSchema, credentials, what="sign-in request")
        email = normalize_email(data["email"])
        failures, account_failures = self._begin_attempt(email, client)
        with self.db.transaction() as cur:
            row = repository.user_by_email(cur, self.vault, email)
        stored_hash = row["password_hash"] if row else None
        verification = self.passwords.verify(stored_hash, data["password"])
        if not verification.ok:
            logger.info("sign_in_refused", user_id=str(row["id"]) if row else None)
            self._alert_burst(row, account_failures)
            raise Unauthorized(SIGN_IN_FAILED)
        new_hash = self.passwords.hash(data["password"]) if verification.needs_rehash else None
        session_id = str(uuid.uuid4())
        with self.db.transaction() as cur:
            repository.forget_failures(cur, failures, throttle.success_keys(email, client))
            if new_hash is not None:
                repository.replace_password_hash(cur, row["id"], stored_hash, new_hash)
            repository.insert_session(cur, session_id, row["id"], self.tokens.ttl)
        logger.info("signed_in", user_id=str(row["id"]), role=row["role"], session_id=session_id)
        return schema_of(TokenViewSchema).dump(
            {
                "access_token": self.tokens.issue(
                    row["id"], row["role"], session_id, email_verified=row["email_verified_at"] is not None
                ),
                "token_type": "bearer",
                "expires_in": self.tokens.ttl,
                "user": user_view(row),
            }
        )

    def _begin_attempt(self, email, client):
        """Refuse the attempt when a key is over its limit or the account's delay lasts, else count it
        as failed already (so concurrent attempts, in any process, see it); returns the failure rows
        to drop on success and how many failures the account now has in the window."""
        limits = throttle.keys(self.limits, email, client)
        account = throttle.account_key(email)
        counted = [*limits, account]
        with self.db.transaction() as cur:
            repository.lock_keys(cur, counted)
            now, failures = repository.failure_times(cur, counted, self.limits.window)
            delay = self.limits.account_delay(failures.get(account, ()), now)
            try:
                throttle.check(failures, limits, self.limits.window, now, delay)
            except TooManyRequests as exc:
                logger.info(
                    "sign_in_throttled",
                    keys=sorted(k.split(":", 1)[0] for k in limits),
                    retry_after=exc.details.get("retry_after"),
                )
                raise
            ids = repository.insert_failures(cur, counted, self.limits.retention)
        return ids, len(failures.get(account, ())) + 1

    def _alert_burst(self, user, account_failures):
        """Tell the owner of a burst of failed sign-ins by e-mail, once per burst (not again within
        the window): from SIGN_IN_ACCOUNT_LIMIT failures on the account, from any addresses."""
        if user is None or account_failures < self.limits.account:
            return
        with self.db.transaction() as cur:
            if not repository.claim_alert(cur, user["id"], self.limits.window):
                return
            self._enqueue(
                cur,
                user,
                recovery.failed_sign_ins_email(
                    self.account_mail.links, user["first_name"], account_failures, self.limits.window
                ),
            )
        logger.info("sign_in_burst_alerted", user_id=str(user["id"]), failures=account_failures)

    @rpc
    def authenticate(self, token):
        """The actor of a token: genuine, unexpired, and of a live session (Unauthorized otherwise).
        The gateway asks only while its own view of sessions is not loaded (services/gateway/sessions.py),
        or on every request with GATEWAY_SESSION_CHECK=identity."""
        claims = self.tokens.claims(token if isinstance(token, str) else "")
        session_id = parse_id(claims["session_id"])
        row = None
        if session_id is not None:
            with self.db.transaction() as cur:
                row = repository.live_session(cur, session_id)
        if row is None or str(row["user_id"]) != parse_id(claims["user_id"]):
            raise Unauthorized(SESSION_ENDED)
        return schema_of(SessionSchema).dump(
            {"user_id": str(row["user_id"]), "role": row["role"], "email_verified": row["email_verified"]}
        )

    @rpc
    def sign_out(self, token):
        claims = self.tokens.claims(token if isinstance(token, str) else "")
        session_id, user_id = parse_id(claims["session_id"]), parse_id(claims["user_id"])
        revoked = 0
        if session_id is not None and user_id is not None:
            with self.db.transaction() as cur:
                revoked = sessions.revoked(
                    cur, user_id, repository.revoke_session(cur, session_id, user_id), "sign_out"
                )
            self.relay.wake()
        logger.info("signed_out", user_id=user_id, session_id=session_id, revoked=revoked)
        return schema_of(StatusViewSchema).dump({"status": "signed_out"})

    @rpc
    def session_revocations(self):
        """What a gateway loads when it starts or reconnects (then its events keep it current): the
        revoked sessions whose tokens have not expired, the accounts verified within a token's lifetime
        (services/identity/sessions.py). Ids only, no person's data."""
        with self.db.transaction() as cur:
            return sessions.revocations(cur, self.tokens.ttl)

    @rpc
    def change_password(self, actor, token, form, client=None):
        """Replace the password after checking the current one (throttled like a sign-in; a wrong
        one is a field error); every other session of the user is revoked, this one is kept."""
        actor = load(ActorSchema, actor, what="actor")
        data = load(PasswordChangeSchema, form, what="password change")
        claims = self.tokens.claims(token if isinstance(token, str) else "")
        user_id, session_id = parse_id(actor["user_id"]), parse_id(claims["session_id"])
        if user_id is None or parse_id(claims["user_id"]) != user_id or session_id is None:
            raise Forbidden("You may only change your own password.")
        with self.db.transaction() as cur:
            row = repository.user_by_id(cur, user_id, vault=self.vault)
            live = repository.live_session(cur, session_id)
        # the gateway's view of sessions may lag its events by a moment: a password is changed only from
        # a session identity itself knows to be live
        if row is None or live is None or str(live["user_id"]) != user_id:
            raise Unauthorized(SESSION_ENDED)
        failures, account_failures = self._begin_attempt(row["email"], client)
        if not self.passwords.verify(row["password_hash"], data["current_password"]).ok:
            logger.info("password_change_refused", user_id=user_id)
            self._alert_burst(row, account_failures)
            raise InvalidInput(WRONG_PASSWORD, {"current_password": [WRONG_PASSWORD]})
        new_hash = self.passwords.hash(data["new_password"])
        with self.db.transaction() as cur:
            repository.user_by_id(cur, user_id, lock=True)
            repository.set_password_hash(cur, user_id, new_hash)
            repository.forget_failures(cur, failures, throttle.success_keys(row["email"], client))
            revoked = sessions.revoked(
                cur, user_id, repository.revoke_other_sessions(cur, user_id, session_id), "password_change"
            )
        self.relay.wake()
        logger.info("password_changed", user_id=user_id, revoked_sessions=revoked)
        return schema_of(PasswordChangedSchema).dump({"revoked_sessions": revoked})

    # ---- erasure (crypto-shredding: services/common/shredding.py) --------------------------

    @rpc
    def erase_own_account(self, actor, token, form, client=None):
        """The signed-in person erases their data (``DELETE /api/v1/me``), confirming with their password
        (throttled like a sign-in; a wrong one is a 400 on ``password``), from a session identity knows
        to be live, as a password change."""
        actor = load(ActorSchema, actor, what="actor")
        data = load(ErasureConfirmationSchema, form, what="erasure")
        claims = self.tokens.claims(token if isinstance(token, str) else "")
        user_id, session_id = parse_id(actor["user_id"]), parse_id(claims["session_id"])
        if user_id is None or parse_id(claims["user_id"]) != user_id or session_id is None:
            raise Forbidden("You may only erase your own account here.")
        with self.db.transaction() as cur:
            row = repository.user_by_id(cur, user_id, vault=self.vault)
            live = repository.live_session(cur, session_id)
        if row is None or row["erased_at"] is not None or live is None or str(live["user_id"]) != user_id:
            raise Unauthorized(SESSION_ENDED)
        failures, account_failures = self._begin_attempt(row["email"], client)
        if not self.passwords.verify(row["password_hash"], data["password"]).ok:
            logger.info("erasure_refused", user_id=user_id)
            self._alert_burst(row, account_failures)
            raise InvalidInput(WRONG_PASSWORD, {"password": [WRONG_PASSWORD]})
        with self.db.transaction() as cur:
            repository.forget_failures(cur, failures)
        return self._erase(user_id, erasure.SELF, None, "")

    @rpc
    def erase_person(self, actor, person_id, form):
        """A moderator erases a person's data on their written request (the reason, 10+ characters, is
        recorded with the moderator's id). Mentees and mentors only; an erased person again: the same
        answer, nothing changes."""
        actor = load(ActorSchema, actor, what="actor")
        moderator_id = accreditation.authorize_moderator(actor)
        reason = load(ErasureReasonSchema, form, what="erasure")["reason"].strip()
        person_id = erasure.person_id_argument(person_id)
        with self.db.transaction() as cur:
            accreditation.require_moderator_account(repository.user_by_id(cur, moderator_id))
            erasure.require_erasable(repository.user_by_id(cur, person_id))
        return self._erase(person_id, erasure.MODERATOR, moderator_id, reason)

    def _erase(self, person_id, requested_by, moderator_id, reason):
        """In one transaction: every session ends (SessionsRevoked), the account closes
        (repository.erase_account), the person's key is deleted, a mentor's snapshot says they take no
        case, and PersonErased goes out through the outbox for every service to shred its own copies."""
        with self.db.transaction() as cur:
            user = repository.user_by_id(cur, person_id, lock=True, vault=self.vault)
            if user is None:
                raise NotFound(erasure.NO_PERSON)
            if user["erased_at"] is not None:
                return erasure.erased_view(person_id, 0)
            revoked = sessions.revoked(
                cur, person_id, repository.revoke_all_sessions(cur, person_id), erasure.SESSION_END_REASON
            )
            repository.forget_failures(cur, (), [throttle.account_key(user["email"])])
            repository.erase_account(cur, person_id, requested_by, moderator_id, reason)
            shredding.erase_key(cur, person_id)
            if user["role"] == "mentor":
                self._emit_snapshot(cur, person_id)
            outbox.append(cur, SERVICE, erasure.EVENT_TYPE, person_id, erasure.event_payload(person_id))
        self.relay.wake()
        logger.info(
            "person_erased",
            person_id=person_id,
            requested_by=requested_by,
            moderator_id=moderator_id,
            revoked_sessions=revoked,
        )
        return erasure.erased_view(person_id, revoked)

    @configured_timer("LEGACY_SEAL_INTERVAL", 30.0, eager=True)
    def seal_legacy_rows(self):
        """The data pass: rows written in plaintext before sealing are sealed, a batch per table each tick
        (services/identity/sealing.py); once none is left each tick is one cheap query per table."""
        shredding.run_data_pass(self.db, lambda cur: sealing.seal_legacy_rows(cur, self.vault), logger)

    @rpc
    def get_user(self, actor, user_id):
        actor = load(ActorSchema, actor, what="actor")
        user_id_argument(user_id)
        authorize_view_user(actor, user_id)
        row = self._one_by_id(
            user_id, lambda cur, wanted: repository.user_by_id(cur, wanted, vault=self.vault), "No such user."
        )
        if audit.audited(str(row["id"]), actor["user_id"]):  # a moderator reading somebody's account
            with self.db.transaction() as cur:
                audit.record(cur, row["id"], actor["user_id"], actor["role"], "", [audit.ACCOUNT], "")
        return user_view(row)

    @rpc
    def records_of(self, actor):
        """Everything identity holds about the signed-in person (GET /api/v1/me/data): no hash, no token,
        and not who among the moderators read them (their access log names roles, as it does)."""
        actor = load(ActorSchema, actor, what="actor")
        with self.db.transaction() as cur:
            return records(cur, PERSONAL_TABLES, actor["user_id"], self.vault.open_rows)

    # ---- mentor profiles -----------------------------------------------------------

    @rpc
    def update_mentor_profile(self, actor, profile):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor)
        data = profiles.normalize_profile(load(MentorProfileSchema, profile, what="profile"))
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id, lock=True))
            repository.upsert_profile(cur, self.vault, mentor_id, data)
            position = self._emit_snapshot(cur, mentor_id)
            row = repository.profile(cur, self.vault, mentor_id)
        self.relay.wake()
        logger.info("mentor_profile_updated", mentor_id=mentor_id, outbox_position=position)
        return profiles.public_view(row)

    @rpc
    def get_mentor_profile(self, mentor_id):
        row = self._one_by_id(
            mentor_id, lambda cur, wanted: repository.profile(cur, self.vault, wanted), "No such mentor profile."
        )
        return profiles.public_view(row)

    @rpc
    def list_mentor_profiles(self, rubric=None):
        """The public list: accredited mentors only."""
        rubric = profiles.rubric_filter(rubric)
        with self.db.transaction() as cur:
            rows = repository.accredited_profiles(cur, self.vault, rubric)
        return [profiles.public_view(row) for row in rows]

    @rpc
    def get_public_profiles(self, mentor_ids):
        ids = profiles.profile_ids(mentor_ids)
        with self.db.transaction() as cur:
            rows = repository.profiles_by_ids(cur, self.vault, ids)
        return profiles.in_requested_order([profiles.public_view(row) for row in rows], ids)

    def _one_by_id(self, raw_id, read, missing):
        """``read(cur, id)``'s row for an id from a request; NotFound for none or a malformed id."""
        wanted = parse_id(raw_id)
        row = None
        if wanted is not None:
            with self.db.transaction() as cur:
                row = read(cur, wanted)
        if row is None:
            raise NotFound(missing)
        return row

    def _emit_snapshot(self, cur, mentor_id):
        """MentorProfileUpdated v2, the mentor's whole matching state, in the caller's transaction."""
        profile_row, state, availability_row = repository.mentor_snapshot(cur, mentor_id)
        return outbox.append(
            cur,
            SERVICE,
            profiles.EVENT_TYPE,
            mentor_id,
            profiles.snapshot_payload(mentor_id, profile_row, state, availability_row),
        )

    @rpc
    def set_mentor_photo(self, actor, upload):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor)
        data = load(PhotoUploadSchema, upload, what="photo")
        raw = photos.decode(data["data"])
        kind = photos.check_photo(data["content_type"], raw)
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id, lock=True))
            row = repository.upsert_photo(cur, self.vault, mentor_id, kind, raw, photos.etag(raw))
        logger.info("mentor_photo_updated", mentor_id=mentor_id, content_type=kind, size=len(raw))
        return photos.photo_view(mentor_id, row)

    @rpc
    def get_mentor_photo(self, mentor_id):
        row = self._one_by_id(
            mentor_id, lambda cur, wanted: repository.photo(cur, self.vault, wanted), "This mentor has no photo."
        )
        return photos.photo(row)

    # ---- availability ---------------------------------------------------------------

    @rpc
    def get_availability(self, actor):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor, NOT_A_MENTOR_AVAILABILITY)
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id), NOT_A_MENTOR_AVAILABILITY)
            row = repository.availability(cur, mentor_id)
        return availability.availability_view(row)

    @rpc
    def update_availability(self, actor, form):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor, NOT_A_MENTOR_AVAILABILITY)
        data = availability.normalize_availability(load(AvailabilitySchema, form, what="availability"))
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id, lock=True), NOT_A_MENTOR_AVAILABILITY)
            row = repository.upsert_availability(
                cur, mentor_id, data["capacity"], availability.stored_periods(data["away_periods"])
            )
            position = self._emit_snapshot(cur, mentor_id)
        self.relay.wake()
        logger.info(
            "availability_updated",
            mentor_id=mentor_id,
            capacity=data["capacity"],
            away_periods=len(data["away_periods"]),
            outbox_position=position,
        )
        return availability.availability_view(row)

    # ---- the roll of mentors (accreditation) ------------------------------------------

    @rpc
    def apply_for_accreditation(self, actor, form):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor, NOT_A_MENTOR_ACCREDITATION)
        data = load(AccreditationApplicationSchema, form, what="application")
        application_id = str(uuid.uuid4())
        with self.db.transaction() as cur:
            account = repository.user_by_id(cur, mentor_id, lock=True)
            require_mentor_account(account, NOT_A_MENTOR_ACCREDITATION)
            require_verified_email(account)
            accreditation.require_profile(repository.profile(cur, self.vault, mentor_id))
            roll = repository.accreditation(cur, mentor_id, lock=True)
            state = accreditation.next_state(roll["state"] if roll else None, "apply")
            application = repository.insert_application(
                cur, self.vault, application_id, mentor_id, data["experience"].strip(), data["motivation"].strip()
            )
            roll = repository.set_accreditation(cur, mentor_id, state)
            repository.record_history(cur, mentor_id, application_id, "applied", "", mentor_id)
            outbox.append(
                cur,
                SERVICE,
                "AccreditationRequested",
                mentor_id,
                accreditation.requested_payload(application_id, mentor_id),
            )
            self._emit_snapshot(cur, mentor_id)
        self.relay.wake()
        logger.info("accreditation_requested", mentor_id=mentor_id, application_id=application_id)
        return accreditation.accreditation_view(mentor_id, roll, application)

    @rpc
    def get_accreditation(self, actor):
        actor = load(ActorSchema, actor, what="actor")
        mentor_id = authorize_profile_edit(actor, NOT_A_MENTOR_ACCREDITATION)
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id), NOT_A_MENTOR_ACCREDITATION)
            roll = repository.accreditation(cur, mentor_id)
            application = repository.latest_application(cur, self.vault, mentor_id)
        return accreditation.accreditation_view(mentor_id, roll, application)

    @rpc
    def list_accreditation_applications(self, actor, state="pending"):
        actor = load(ActorSchema, actor, what="actor")
        moderator_id = accreditation.authorize_moderator(actor)
        state = accreditation.state_filter(state)
        with self.db.transaction() as cur:
            accreditation.require_moderator_account(repository.user_by_id(cur, moderator_id))
            rows = repository.applications(cur, self.vault, state)
            found = repository.profiles_by_ids(cur, self.vault, list({str(row["mentor_id"]) for row in rows}))
        by_mentor = {str(row["mentor_id"]): profiles.public_view(row) for row in found}
        return [accreditation.review_view(row, by_mentor.get(str(row["mentor_id"]))) for row in rows]

    @rpc
    def approve_application(self, actor, application_id):
        return self._decide_application(actor, application_id, "approve", "")

    @rpc
    def reject_application(self, actor, application_id, form):
        actor_ = load(ActorSchema, actor, what="actor")
        accreditation.authorize_moderator(actor_)
        reason = load(DecisionReasonSchema, form, what="decision")["reason"].strip()
        return self._decide_application(actor, application_id, "reject", reason)

    @rpc
    def suspend_mentor(self, actor, mentor_id, form):
        actor_ = load(ActorSchema, actor, what="actor")
        accreditation.authorize_moderator(actor_)
        reason = load(DecisionReasonSchema, form, what="decision")["reason"].strip()
        return self._decide_roll(actor, mentor_id, "suspend", reason)

    @rpc
    def reinstate_mentor(self, actor, mentor_id):
        return self._decide_roll(actor, mentor_id, "reinstate", "")

    def _decide_application(self, actor, application_id, action, reason):
        actor = load(ActorSchema, actor, what="actor")
        moderator_id = accreditation.authorize_moderator(actor)
        application_id = accreditation.application_id_argument(application_id)
        with self.db.transaction() as cur:
            accreditation.require_moderator_account(repository.user_by_id(cur, moderator_id))
            found = repository.application(cur, self.vault, application_id)
            if found is None:
                raise NotFound(accreditation.NO_APPLICATION)
            mentor_id = str(found["mentor_id"])
            repository.user_by_id(cur, mentor_id, lock=True)  # the mentor's row first, as apply does
            application = repository.application(cur, self.vault, application_id, lock=True)
            accreditation.require_pending_application(application)
            self._decide(cur, moderator_id, mentor_id, application_id, action, reason)
            application = repository.decide_application(
                cur, self.vault, application_id, accreditation.application_state_after(action), moderator_id, reason
            )
            profile = repository.profile(cur, self.vault, mentor_id)
        self.relay.wake()
        return accreditation.review_view(application, profiles.public_view(profile) if profile else None)

    def _decide_roll(self, actor, mentor_id, action, reason):
        actor = load(ActorSchema, actor, what="actor")
        moderator_id = accreditation.authorize_moderator(actor)
        mentor_id = accreditation.mentor_id_argument(mentor_id)
        with self.db.transaction() as cur:
            accreditation.require_moderator_account(repository.user_by_id(cur, moderator_id))
            user = repository.user_by_id(cur, mentor_id, lock=True)
            if user is None or user["role"] != "mentor":
                raise NotFound(accreditation.NO_MENTOR)
            roll = self._decide(cur, moderator_id, mentor_id, None, action, reason)
            application = repository.latest_application(cur, self.vault, mentor_id)
        self.relay.wake()
        return accreditation.accreditation_view(mentor_id, roll, application)

    def _decide(self, cur, moderator_id, mentor_id, application_id, action, reason):
        """One decision on the roll, in the caller's transaction (the mentor's row locked): the new
        state, its history line, AccreditationDecided and the mentor's new snapshot."""
        roll = repository.accreditation(cur, mentor_id, lock=True)
        state = accreditation.next_state(roll["state"] if roll else None, action)
        roll = repository.set_accreditation(cur, mentor_id, state, reason)
        decision = accreditation.decision_of(action)
        repository.record_history(cur, mentor_id, application_id, decision, reason, moderator_id)
        outbox.append(
            cur,
            SERVICE,
            "AccreditationDecided",
            mentor_id,
            accreditation.decided_payload(mentor_id, application_id, action, reason),
        )
        self._emit_snapshot(cur, mentor_id)
        logger.info(
            "accreditation_decided",
            mentor_id=mentor_id,
            application_id=application_id,
            decision=decision,
            moderator_id=moderator_id,
            state=state,
        )
        return roll

    # ---- the mentee's questionnaire and the author card -----------------------------

    @rpc
    def update_questionnaire(self, actor, questionnaire):
        actor = load(ActorSchema, actor, what="actor")
        mentee_id = questionnaires.authorize_questionnaire_edit(actor)
        data = questionnaires.normalize_questionnaire(load(QuestionnaireSchema, questionnaire, what="questionnaire"))
        with self.db.transaction() as cur:
            questionnaires.require_mentee_account(repository.user_by_id(cur, mentee_id, lock=True))
            row = repository.upsert_questionnaire(cur, self.vault, mentee_id, data)
            position = outbox.append(
                cur,
                SERVICE,
                questionnaires.INTERESTS_EVENT,
                mentee_id,
                questionnaires.interests_payload(mentee_id, row),
            )
        self.relay.wake()
        logger.info("questionnaire_updated", user_id=mentee_id, outbox_position=position)
        return questionnaires.questionnaire_view(row)

    @rpc
    def get_questionnaire(self, actor):
        actor = load(ActorSchema, actor, what="actor")
        own = parse_id(actor["user_id"])
        row = None
        if own is not None:
            with self.db.transaction() as cur:
                row = repository.questionnaire(cur, self.vault, own)
        if row is None:
            raise NotFound(questionnaires.NO_QUESTIONNAIRE)
        return questionnaires.questionnaire_view(row)

    @rpc
    def author_card(self, actor, token, case_id, form=None):
        """The author's names and questionnaire for the reader, on that case, recorded in the access
        audit in the same transaction (with the reason: a moderator must give one).

        Trusts no caller: the reader is the user of ``token`` (a live session, the same user as
        ``actor``), with the role their account has; the case's author and the permission come from
        ``cases.author_for``, which identity asks itself."""
        actor = load(ActorSchema, actor, what="actor")
        reason = load(AccessReasonSchema, form or {}, what="reason")["reason"].strip()
        case_id = questionnaires.case_id_argument(case_id)
        reader = self._reader(actor, token)
        author = case_gate.author_for(self.cases, reader, case_id, reason)
        author_id = parse_id(author.get("author_id")) if isinstance(author, dict) else None
        if author_id is None:
            raise NotFound(questionnaires.NO_AUTHOR)
        with self.db.transaction() as cur:
            user = repository.user_by_id(cur, author_id, vault=self.vault)
            if user is None:
                raise NotFound(questionnaires.NO_AUTHOR)
            card = questionnaires.author_card(user, repository.questionnaire(cur, self.vault, author_id))
            entry_id = None
            if audit.audited(author_id, reader["user_id"]):
                entry_id = audit.record(
                    cur, author_id, reader["user_id"], reader["role"], case_id, audit.disclosed(card), reason
                )
        logger.info(
            "author_card_read",
            author_id=author_id,
            reader_id=reader["user_id"],
            role=reader["role"],
            case_id=case_id,
            audit_entry=entry_id,
            with_questionnaire=card["questionnaire"] is not None,
        )
        return card

    def _reader(self, actor, token):
        """The actor as identity knows them: the token's live session must be the actor's, and the
        role is the stored account's (a forged role or a borrowed id is refused)."""
        claims = self.tokens.claims(token if isinstance(token, str) else "")
        user_id, session_id = parse_id(actor["user_id"]), parse_id(claims["session_id"])
        if user_id is None or parse_id(claims["user_id"]) != user_id or session_id is None:
            raise Forbidden("You read an author card only as yourself.")
        with self.db.transaction() as cur:
            session = repository.live_session(cur, session_id)
        if session is None or str(session["user_id"]) != user_id:
            raise Unauthorized(SESSION_ENDED)
        return {"user_id": user_id, "role": session["role"]}

    @rpc
    def access_log(self, actor, query=None):
        """Who opened the actor's identity or questionnaire, on which case and why: newest first."""
        actor = load(ActorSchema, actor, what="actor")
        query = load(AccessLogQuerySchema, query or {}, what="query")
        before = audit.cursor_argument(query["before"])
        own = parse_id(actor["user_id"])
        if own is None:
            return {"items": [], "next_before": None}
        with self.db.transaction() as cur:
            rows = audit.entries(cur, own, query["limit"], before)
        return audit.page_view(rows, query["limit"])

    @rpc
    def questionnaire_reads(self, actor):
        """The access log in its first shape (kept for old clients): reader, case, time."""
        actor = load(ActorSchema, actor, what="actor")
        own = parse_id(actor["user_id"])
        if own is None:
            return []
        with self.db.transaction() as cur:
            rows = audit.author_card_reads(cur, own)
        return [audit.read_view(row) for row in rows]

    # ---- statistics ----------------------------------------------------------------

    @rpc
    def registrations_per_year(self, actor):
        """Mentees and mentors registered per year (seed Table 1): moderators only."""
        actor = load(ActorSchema, actor, what="actor")
        moderator_id = parse_id(actor["user_id"]) if actor["role"] == "moderator" else None
        with self.db.transaction() as cur:
            account = repository.user_by_id(cur, moderator_id) if moderator_id else None
            if account is None or account["role"] != "moderator":  # a forged role does not help
                raise Forbidden(registrations.NOT_A_MODERATOR)
            rows = registrations.registrations(cur)
        return schema_of(RegistrationsSchema).dump({"items": registrations.per_year(rows)})

    # ---- contacts, for other services only (never exposed by the gateway) -----------

    @rpc
    def contact_for(self, user_id):
        """E-mail and name of one account, for notifications to send an e-mail now (it keeps neither).
        Only notifications, proving it with its own key, may ask (services/common/actors.py
        SYSTEM_CALLERS, checked before this runs); each read is in the person's access log."""
        with self.db.transaction() as cur:
            row = self.vault.open_row(cur, contacts.contact(cur, contacts.wanted_id(user_id)))
            audit.record_service_reads(cur, [row["id"]], NOTIFICATIONS, [audit.CONTACT], audit.EMAIL_REASON)
            return contacts.contact_view(row)

    @rpc
    def moderator_contacts(self):
        """Every moderator's contact, for notifications alone (as contact_for), each read logged."""
        with self.db.transaction() as cur:
            rows = self.vault.open_rows(cur, contacts.moderators(cur))
            audit.record_service_reads(
                cur, [row["id"] for row in rows], NOTIFICATIONS, [audit.CONTACT], audit.EMAIL_REASON
            )
            return [contacts.contact_view(row) for row in rows]

    @rpc
    def survey_audience(self, roles, rubrics=()):
        """The ids of the people a survey asks (roles: mentee, mentor; when ``rubrics`` are given, mentors
        advising in one of them and mentees interested in one of them), for notifications alone
        (SYSTEM_CALLERS): ids only, no contact."""
        roles = [r for r in roles or () if r in ("mentee", "mentor")]
        with self.db.transaction() as cur:
            return contacts.survey_audience(cur, roles, [r for r in rubrics or () if isinstance(r, str)])

    @rpc
    def role_of(self, user_id):
        with self.db.transaction() as cur:
            row = contacts.contact(cur, contacts.wanted_id(user_id))
        return {"user_id": str(row["id"]), "role": row["role"]}

    # ---- operations ----------------------------------------------------------------

    @rpc
    def health(self):
        return schema_of(HealthSchema).dump(health_report(SERVICE, self.db))
