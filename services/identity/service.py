"""The identity nameko service: a thin shell over accounts, passwords, profiles and questionnaires.

Run: ``nameko run --config services/identity/config.yaml services.identity.service``
"""
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider

from contracts.errors import Conflict, NotFound, Unauthorized
from contracts.rpc import (ActorSchema, HealthSchema, MentorProfileSchema, QuestionnaireSchema, RegisterSchema,
                           SignInSchema, TokenViewSchema)
from contracts.validation import load
from services.common import outbox
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.outbox import OutboxReader
from services.common.relay import EventRelay
from services.common.rpc import rpc
from services.common.schema import PUBLISHER_TABLES
from services.common.tokens import TokenSigner
from services.identity import profiles, questionnaires, repository
from services.identity.accounts import (
    EMAIL_TAKEN,
    SIGN_IN_FAILED,
    authorize_profile_edit,
    authorize_view_user,
    new_user,
    normalize_email,
    parse_id,
    require_mentor_account,
    user_id_argument,
    user_view,
)
from services.identity.passwords import PasswordHashing
from services.identity.schema import MIGRATIONS

SERVICE = "identity"
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
        self.hashing = PasswordHashing()
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


class IdentityService:
    name = SERVICE

    log = CorrelationContext(SERVICE)
    db = Database(migrations=list(MIGRATIONS) + list(PUBLISHER_TABLES))
    relay = EventRelay(SERVICE, OutboxReader(SERVICE))
    tokens = Tokens()
    passwords = Passwords()

    # ---- accounts ------------------------------------------------------------------

    @rpc
    def register(self, form):
        data = load(RegisterSchema(), form, what="registration form")
        email = normalize_email(data["email"])
        with self.db.transaction() as cur:
            taken = repository.user_by_email(cur, email) is not None
        if taken:
            raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
        user = new_user(data, self.passwords.hash(data["password"]))
        with self.db.transaction() as cur:
            row = repository.insert_user(cur, user)
            if row is None:  # registered concurrently since the check above
                raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
        logger.info("user_registered", user_id=str(row["id"]), role=row["role"])
        return user_view(row)

    @rpc
    def sign_in(self, credentials):
        data = load(SignInSchema(), credentials, what="sign-in request")
        with self.db.transaction() as cur:
            row = repository.user_by_email(cur, normalize_email(data["email"]))
        stored_hash = row["password_hash"] if row else None
        verification = self.passwords.verify(stored_hash, data["password"])
        if not verification.ok:
            logger.info("sign_in_refused", user_id=str(row["id"]) if row else None)
            raise Unauthorized(SIGN_IN_FAILED)
        if verification.needs_rehash:
            new_hash = self.passwords.hash(data["password"])
            with self.db.transaction() as cur:
                repository.replace_password_hash(cur, row["id"], stored_hash, new_hash)
        logger.info("signed_in", user_id=str(row["id"]), role=row["role"])
        return TokenViewSchema().dump({
            "access_token": self.tokens.issue(row["id"], row["role"]),
            "token_type": "bearer",
            "expires_in": self.tokens.ttl,
            "user": user_view(row),
        })

    @rpc
    def get_user(self, actor, user_id):
        actor = load(ActorSchema(), actor, what="actor")
        user_id_argument(user_id)
        authorize_view_user(actor, user_id)
        wanted = parse_id(user_id)
        row = None
        if wanted is not None:
            with self.db.transaction() as cur:
                row = repository.user_by_id(cur, wanted)
        if row is None:
            raise NotFound("No such user.")
        return user_view(row)

    # ---- mentor profiles -----------------------------------------------------------

    @rpc
    def update_mentor_profile(self, actor, profile):
        actor = load(ActorSchema(), actor, what="actor")
        mentor_id = authorize_profile_edit(actor)
        data = profiles.normalize_profile(load(MentorProfileSchema(), profile, what="profile"))
        with self.db.transaction() as cur:
            require_mentor_account(repository.user_by_id(cur, mentor_id, lock=True))
            repository.upsert_profile(cur, mentor_id, data)
            position = outbox.append(cur, SERVICE, profiles.EVENT_TYPE, mentor_id,
                                     profiles.event_payload(mentor_id, data))
            row = repository.profile(cur, mentor_id)
        self.relay.wake()
        logger.info("mentor_profile_updated", mentor_id=mentor_id, outbox_position=position)
        return profiles.public_view(row)

    @rpc
    def get_mentor_profile(self, mentor_id):
        wanted = parse_id(mentor_id)
        row = None
        if wanted is not None:
            with self.db.transaction() as cur:
                row = repository.profile(cur, wanted)
        if row is None:
            raise NotFound("No such mentor profile.")
        return profiles.public_view(row)

    @rpc
    def list_mentor_profiles(self, rubric=None):
        rubric = profiles.rubric_filter(rubric)
        with self.db.transaction() as cur:
            rows = repository.profiles(cur, rubric)
        return [profiles.public_view(row) for row in rows]

    @rpc
    def get_public_profiles(self, mentor_ids):
        ids = profiles.profile_ids(mentor_ids)
        with self.db.transaction() as cur:
            rows = repository.profiles_by_ids(cur, ids)
        return profiles.in_requested_order([profiles.public_view(row) for row in rows], ids)

    # ---- the mentee's questionnaire and the author card -----------------------------

    @rpc
    def update_questionnaire(self, actor, questionnaire):
        actor = load(ActorSchema(), actor, what="actor")
        mentee_id = questionnaires.authorize_questionnaire_edit(actor)
        data = questionnaires.normalize_questionnaire(
            load(QuestionnaireSchema(), questionnaire, what="questionnaire"))
        with self.db.transaction() as cur:
            questionnaires.require_mentee_account(repository.user_by_id(cur, mentee_id, lock=True))
            row = repository.upsert_questionnaire(cur, mentee_id, data)
        logger.info("questionnaire_updated", user_id=mentee_id)
        return questionnaires.questionnaire_view(row)

    @rpc
    def get_questionnaire(self, actor):
        actor = load(ActorSchema(), actor, what="actor")
        own = parse_id(actor["user_id"])
        row = None
        if own is not None:
            with self.db.transaction() as cur:
                row = repository.questionnaire(cur, own)
        if row is None:
            raise NotFound(questionnaires.NO_QUESTIONNAIRE)
        return questionnaires.questionnaire_view(row)

    @rpc
    def author_card(self, author_id, reader_id, case_id):
        """The author's names and questionnaire for the reader, on that case; the read is logged in
        the same transaction. No actor to check: the gateway calls this only after
        ``cases.author_for(actor, case_id)`` allowed the reader to see the author."""
        author_id, reader_id, case_id = questionnaires.card_arguments(author_id, reader_id, case_id)
        with self.db.transaction() as cur:
            user = repository.user_by_id(cur, author_id)
            if user is None:
                raise NotFound(questionnaires.NO_AUTHOR)
            card = questionnaires.author_card(user, repository.questionnaire(cur, author_id))
            repository.insert_questionnaire_read(cur, author_id, reader_id, case_id)
        logger.info("author_card_read", author_id=author_id, reader_id=reader_id, case_id=case_id,
                    with_questionnaire=card["questionnaire"] is not None)
        return card

    @rpc
    def questionnaire_reads(self, actor):
        actor = load(ActorSchema(), actor, what="actor")
        own = parse_id(actor["user_id"])
        if own is None:
            return []
        with self.db.transaction() as cur:
            rows = repository.questionnaire_reads(cur, own)
        return [questionnaires.read_view(row) for row in rows]

    # ---- operations ----------------------------------------------------------------

    @rpc
    def health(self):
        return HealthSchema().dump(health_report(SERVICE, self.db))
