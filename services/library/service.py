"""library: the anonymized "History of solutions" (solved cases, projected from completed cases,
and materials: articles, books, links), and the forum "What to do? Looking for a way out
together" (threads opened by cases published to it, and what people write there).

Case text is scrubbed and impersonal: no case id, number, author or mentor. Nothing is published
before it is reviewed: a completion or a forum publication is a draft until a moderator publishes it
(services/library/review.py; ``LIBRARY_REVIEW``). Moderators curate (services/library/curation.py);
search and similar cases: search.py, similar.py; the forum's conversation: forum.py; the tables:
tables.py.
"""

import uuid

from contracts.errors import Forbidden, InvalidInput
from contracts.rpc_common import ActorSchema
from contracts.rpc_library import (
    DraftEditSchema,
    DraftQuerySchema,
    ForumMessageSchema,
    LibraryItemEditSchema,
    LibrarySearchSchema,
    ModerationReasonSchema,
    NewMaterialSchema,
    SimilarRequestSchema,
)
from contracts.rubrics import RUBRIC_SLUGS, counts_by_rubric
from contracts.surveys import SurveyAnswerSchema, SurveyDefinitionSchema, SurveySettingsSchema
from contracts.validation import load
from services.common import shredding
from services.common.anonymizer_models import AnonymizerModels
from services.common.consumer import first_delivery, subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.outbox import OutboxReader
from services.common.person_keys import PersonKeys
from services.common.personal_data import records
from services.common.relay import EventRelay
from services.common.rpc import RpcDeadline, rpc
from services.common.timer import configured_timer
from services.library import curation, forum, items, projection, review, sealing, search, similar, surveys

# re-exported: tests and older callers import these from here
from services.library.projection import (  # noqa: F401
    FORUM_NAMESPACE,
    THREAD_TITLE_FROM_QUESTION,
    anonymized_entry,
    forum_post,
    ordered_rubrics,
)

log = get_logger()

THREAD_COLUMNS = forum.THREAD_COLUMNS
# The person's tables for GET /api/v1/me/data: the drafts of their cases (the original while it waits)
# and what they wrote in the forum, the surveys they created and which surveys they answered (never what),
# and a mentee's rubrics of interest or a mentor's rubrics and accreditation as the library learned them
# (for surveys' audiences).
PERSONAL_TABLES = {
    "publication_drafts": (("author_id",), ()),
    "forum_messages": (("author_id",), ()),
    "surveys": (("author_id",), ()),
    "survey_respondents": (("user_id",), ()),
    "survey_mentees": (("mentee_id",), ()),
    "survey_mentors": (("mentor_id",), ()),
}


# What the library keeps of identity's events (library.identity-events), for surveys' audiences.
def forget_person(cur, vault, envelope):
    """A PersonErased: what of theirs is still plaintext (written before sealing) is sealed, then the
    library's key of the person goes (services/library/sealing.py ``erase``: their drafts' texts, forum
    messages and surveys' texts read "[erased]"), their drafts still waiting leave the review queue
    (``review.withdraw_erased``), their surveys not yet over close (``surveys.close_erased``), and its
    copies of them for surveys' audiences (their rubrics, their accreditation) go too - in one
    transaction. Returns the withdrawn drafts' ids."""
    person_id = envelope.payload["person_id"]
    sealing.erase(cur, vault, person_id)
    withdrawn = review.withdraw_erased(cur, person_id)
    surveys.close_erased(cur, person_id)
    cur.execute("DELETE FROM survey_mentors WHERE mentor_id = %s", (person_id,))
    cur.execute("DELETE FROM survey_mentees WHERE mentee_id = %s", (person_id,))
    return withdrawn


IDENTITY_FACTS = {
    "MentorProfileUpdated": surveys.remember_mentor,
    "MenteeInterestsUpdated": surveys.remember_mentee,
}
IDENTITY_TYPES = (*IDENTITY_FACTS, "PersonErased")  # what library.identity-events brings

SIMILAR_FIELDS = ("score", "relevance", "text_score", "rubric_score", "outcome_score", "matched_rubrics", "reasons")


def _timestamps(row, *names):
    return {**row, **{name: row[name].isoformat() for name in names}}


def _check_rubric(rubric):
    if rubric is not None and rubric not in RUBRIC_SLUGS:
        raise InvalidInput("Unknown rubric.", {"rubric": [f"Must be one of: {', '.join(RUBRIC_SLUGS)}."]})


def _actor(actor):
    return load(ActorSchema, actor, "actor")


def _moderator(actor, what):
    actor = _actor(actor)
    if actor["role"] != "moderator":
        raise Forbidden(f"Only moderators {what}.")
    return actor


class LibraryService:
    name = "library"

    log = CorrelationContext("library")
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    db = Database("library")
    anonymizer_models = AnonymizerModels()  # loaded at start, not by the first text it scrubs
    review_mode = review.ReviewMode()
    relay = EventRelay("library", OutboxReader("library"))  # the library's own log: drafts and decisions
    # drafts, forum messages and surveys' texts sealed with their writer's key (sealing.py)
    vault = PersonKeys(sealing.Vault)

    @subscribe("library.case-events")
    def on_case_event(self, envelope):
        """One queue, one entrypoint: dispatch on the event type."""
        if envelope.type in projection.HANDLED_TYPES:
            self._on_publication(envelope)
        elif envelope.type == "PublicationConsentWithdrawn":
            self._on_consent_withdrawn(envelope)
        else:  # the consumer only passes the queue's types; be explicit if topology and code drift
            raise ValueError(f"library.case-events: no handler for {envelope.type}")

    def _on_publication(self, envelope):
        """A consenting completion or a forum publication: a draft, reviewed before anything is published
        (published at once only with LIBRARY_REVIEW=automatic)."""
        with self.db.transaction() as cur:
            draft = projection.apply(cur, envelope, self.name, seal=self._draft_sealer(cur))
            published = review.drafted(cur, self.vault, draft, self.review_mode) if draft is not None else None
        if draft is None:
            return
        self.relay.wake()
        log.info(
            "publication_drafted",
            draft_id=draft["id"],
            kind=draft["kind"],
            rubrics=draft["rubrics"],
            review=self.review_mode,
            published=published is not None,
        )

    def _draft_sealer(self, cur):
        """A new draft's documents sealed with its author's key (ids that name no person: as they are)."""

        def seal(author_id, documents):
            if not sealing.is_person(author_id):
                return documents
            return self.vault.seal_documents(cur, author_id, documents)

        return seal

    def _on_consent_withdrawn(self, envelope):
        with self.db.transaction() as cur:
            withdrawn = (
                review.withdraw_consent(cur, envelope.payload["case_id"], envelope.payload["author_id"])
                if first_delivery(cur, envelope, self.name)
                else []
            )
        if withdrawn:
            self.relay.wake()
        log.info("publication_consent_withdrawn", case_id=envelope.payload["case_id"], drafts=withdrawn)

    # ---- the library ----------------------------------------------------------------------

    @rpc
    def list_entries(self, actor, rubric=None):
        """Solved cases, newest first (at most 200; ``search`` pages through everything)."""
        _actor(actor)
        _check_rubric(rubric)
        where, args = ("AND rubrics @> %s", ([rubric],)) if rubric else ("", ())
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT {items.ENTRY_COLUMNS} FROM library_entries WHERE withdrawn_at IS NULL {where} "
                f"ORDER BY published_at DESC, id DESC LIMIT 200",
                args,
            )
            return [items.view(r) for r in cur.fetchall()]

    @rpc
    def statistics(self, actor):
        """Moderators: the visible items (solved cases and materials) by rubric, in the rubricator's
        order (contracts/statistics.py LibraryStatistics); an item counts under each of its rubrics."""
        _moderator(actor, "see the library's statistics")
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT count(*) AS n FROM (SELECT id FROM library_entries WHERE withdrawn_at IS NULL "
                "UNION ALL SELECT id FROM library_materials WHERE withdrawn_at IS NULL) AS visible"
            )
            total = cur.fetchone()["n"]
            cur.execute(
                "SELECT rubric, count(*) AS n FROM (SELECT rubrics FROM library_entries "
                "WHERE withdrawn_at IS NULL UNION ALL SELECT rubrics FROM library_materials "
                "WHERE withdrawn_at IS NULL) AS visible, unnest(rubrics) AS rubric GROUP BY rubric"
            )
            counts = {row["rubric"]: row["n"] for row in cur.fetchall()}
        return {"total": int(total), "by_rubric": counts_by_rubric(counts)}

    @rpc
    def search(self, actor, query=None):
        """A page of items: newest first, or best first for ``q`` (services/library/search.py)."""
        actor = _actor(actor)
        query = load(LibrarySearchSchema, query or {}, "query")
        with self.db.transaction() as cur:
            page = search.find(cur, **query)
            return {
                "items": items.load(cur, page["rows"], actor["role"] == "moderator"),
                "total": page["total"],
                "total_exact": page["total_exact"],
                "next_cursor": page["next_cursor"],
            }

    @rpc
    def similar(self, actor, request):
        """Solved cases and materials like a new case's text and rubrics, each with its score and why;
        never an item of the case's author (``author_id``) nor of the reader."""
        actor = _actor(actor)
        request = load(SimilarRequestSchema, request)
        authors = {a for a in (request["author_id"], actor.get("user_id")) if a}
        with self.db.transaction() as cur:
            found = similar.find(cur, request["text"], request["rubrics"], request["limit"], exclude_authors=authors)
            views = {v["id"]: v for v in items.load(cur, found)}
        return [{**views[f["id"]], **{k: f[k] for k in SIMILAR_FIELDS}} for f in found if f["id"] in views]

    @rpc
    def get_entry(self, actor, entry_id):
        """One item, a solved case or a material; a withdrawn one only for moderators."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return items.get(cur, entry_id, actor["role"] == "moderator")

    @rpc
    def add_material(self, actor, material):
        actor = _moderator(actor, "add library materials")
        material = load(NewMaterialSchema, material)
        with self.db.transaction() as cur:
            item = curation.add_material(cur, actor["user_id"], material)
        log.info("library_material_added", item_id=item["id"], material_type=item["material_type"])
        return item

    @rpc
    def edit_item(self, actor, item_id, changes):
        actor = _moderator(actor, "edit library items")
        changes = load(LibraryItemEditSchema, changes)
        with self.db.transaction() as cur:
            item = curation.edit_item(cur, actor["user_id"], item_id, changes)
        log.info("library_item_edited", item_id=item["id"], fields=sorted(changes))
        return item

    @rpc
    def withdraw_item(self, actor, item_id, body):
        actor = _moderator(actor, "withdraw library items")
        body = load(ModerationReasonSchema, body)
        with self.db.transaction() as cur:
            item = curation.withdraw_item(cur, actor["user_id"], item_id, body["reason"])
        log.info("library_item_withdrawn", item_id=item["id"], kind=item["kind"])
        return item

    # ---- review: nothing is published before a moderator has read it (review.py) --------------

    @rpc
    def list_drafts(self, actor, query=None):
        """Drafts in a state (pending: the oldest first) and how many wait."""
        _moderator(actor, "review drafts")
        query = load(DraftQuerySchema, query or {}, "query")
        with self.db.transaction() as cur:
            return review.listing(cur, self.vault, query["state"])

    @rpc
    def waiting_drafts(self, actor):
        _moderator(actor, "review drafts")
        with self.db.transaction() as cur:
            return {"waiting": review.waiting(cur)}

    @rpc
    def get_draft(self, actor, draft_id):
        """A moderator: the draft beside the original, marked; its author: the impersonal text."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return review.readable(cur, self.vault, actor, draft_id)

    @rpc
    def my_drafts(self, actor, case_id=None):
        """The author's drafts (of one case), to preview what would be published."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return {"items": review.authored(cur, self.vault, actor["user_id"], case_id)}

    @rpc
    def edit_draft(self, actor, draft_id, body):
        actor = _moderator(actor, "edit drafts")
        texts = load(DraftEditSchema, body, "draft")["texts"]
        with self.db.transaction() as cur:
            view = review.edit(cur, self.vault, actor["user_id"], draft_id, texts)
        log.info("draft_edited", draft_id=view["id"], texts=sorted(texts))
        return view

    @rpc
    def publish_draft(self, actor, draft_id):
        actor = _moderator(actor, "publish drafts")
        with self.db.transaction() as cur:
            view = review.publish(cur, self.vault, actor["user_id"], draft_id)
        self.relay.wake()
        log.info("draft_published", draft_id=view["id"], kind=view["kind"])
        return view

    @rpc
    def reject_draft(self, actor, draft_id, body):
        actor = _moderator(actor, "reject drafts")
        body = load(ModerationReasonSchema, body)
        with self.db.transaction() as cur:
            view = review.reject(cur, self.vault, actor["user_id"], draft_id, body["reason"])
        self.relay.wake()
        log.info("draft_rejected", draft_id=view["id"], kind=view["kind"])
        return view

    @rpc
    def records_of(self, actor):
        """Everything the library holds about the signed-in person (GET /api/v1/me/data)."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return records(cur, PERSONAL_TABLES, actor["user_id"], self.vault.open_rows)

    # ---- the forum ------------------------------------------------------------------------

    @rpc
    def list_threads(self, actor, rubric=None):
        """Forum threads, the most recently active first; hidden posts are not counted."""
        _actor(actor)
        _check_rubric(rubric)
        where, args = ("WHERE t.rubrics @> %s", ([rubric],)) if rubric else ("", ())
        with self.db.transaction() as cur:
            cur.execute(
                f"""SELECT {THREAD_COLUMNS},
                                   (SELECT count(*) FROM forum_posts p
                                     WHERE p.thread_id = t.id AND p.hidden_at IS NULL)
                                 + (SELECT count(*) FROM forum_messages m
                                     WHERE m.thread_id = t.id AND m.hidden_at IS NULL) AS posts_count
                            FROM forum_threads t {where}
                            ORDER BY t.updated_at DESC, t.created_at DESC, t.id LIMIT 200""",
                args,
            )
            return [_timestamps(r, "created_at", "updated_at") for r in cur.fetchall()]

    @rpc
    def get_thread(self, actor, thread_id):
        """A thread with its posts, oldest first: case posts and messages (forum.py)."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return forum.thread_view(cur, self.vault, actor, thread_id)

    @rpc
    def add_post(self, actor, thread_id, post, request_key=None):
        """A signed-in person writes in a thread, optionally replying to one of its posts."""
        actor = _actor(actor)
        post = load(ForumMessageSchema, post)
        with self.db.transaction() as cur:
            view = forum.add_message(
                cur, self.vault, actor, thread_id, post["text"], post["reply_to"], request_key or uuid.uuid4().hex
            )
        log.info("forum_message_added", thread_id=str(thread_id), post_id=view["id"], reply=bool(post["reply_to"]))
        return view

    @rpc
    def hide_post(self, actor, post_id, body):
        actor = _moderator(actor, "hide forum posts")
        body = load(ModerationReasonSchema, body)
        with self.db.transaction() as cur:
            view = forum.hide_post(cur, self.vault, actor, post_id, body["reason"])
        log.info("forum_post_hidden", post_id=view["id"], kind=view["kind"])
        return view

    # ---- surveys (surveys.py) ----------------------------------------------------------------

    @subscribe("library.identity-events")
    def on_identity_event(self, envelope):
        """Mentors' rubrics and accreditation, and mentees' rubrics of interest, for surveys' audiences; a
        PersonErased shreds the library's key of the person and its copies of them (``forget_person``)."""
        if envelope.type not in IDENTITY_TYPES:
            raise ValueError(f"library.identity-events: no handler for {envelope.type}")
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            if envelope.type == "PersonErased":
                withdrawn = forget_person(cur, self.vault, envelope)
            else:
                IDENTITY_FACTS[envelope.type](cur, envelope)
        if envelope.type == "PersonErased":
            if withdrawn:
                self.relay.wake()
            log.info("person_erased", person_id=envelope.payload["person_id"], drafts_withdrawn=withdrawn)

    @configured_timer("LEGACY_SEAL_INTERVAL", 30.0, eager=True)
    def seal_legacy_rows(self):
        """The data pass: drafts, forum messages and surveys written in plaintext before sealing are sealed,
        a batch each tick (services/library/sealing.py); once none is left each tick is three cheap queries."""
        shredding.run_data_pass(self.db, lambda cur: sealing.seal_legacy_rows(cur, self.vault), log)

    @configured_timer("SURVEY_CHECK_INTERVAL", default=30)
    def announce_surveys(self):
        """A survey whose period began is announced once (SurveyOpened: its audience's inbox)."""
        with self.db.transaction() as cur:
            announced = surveys.announce_due(cur)
        if announced:
            self.relay.wake()
            log.info("surveys_announced", count=announced)

    @rpc
    def survey_settings(self, actor):
        _actor(actor)
        with self.db.transaction() as cur:
            return surveys.settings_view(cur)

    @rpc
    def update_survey_settings(self, actor, body):
        actor = _moderator(actor, "change who may create surveys")
        body = load(SurveySettingsSchema, body, "settings")
        with self.db.transaction() as cur:
            view = surveys.save_settings(cur, actor, body)
        log.info("survey_settings_changed", mentors_may_create=view["mentors_may_create"])
        return view

    @rpc
    def create_survey(self, actor, definition, request_key=None):
        actor = _actor(actor)
        definition = load(SurveyDefinitionSchema, definition, "survey")
        with self.db.transaction() as cur:
            view, announced = surveys.create(cur, self.vault, actor, definition, request_key or uuid.uuid4().hex)
        if announced:
            self.relay.wake()
        log.info(
            "survey_created",
            survey_id=view["id"],
            audience=view["audience"],
            questions=len(view["questions"]),
            announced=announced,
        )
        return view

    @rpc
    def list_surveys(self, actor):
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return {"items": surveys.listing(cur, self.vault, actor)}

    @rpc
    def get_survey(self, actor, survey_id):
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return surveys.readable(cur, self.vault, actor, survey_id)

    @rpc
    def answer_survey(self, actor, survey_id, body):
        actor = _actor(actor)
        body = load(SurveyAnswerSchema, body, "answer")
        with self.db.transaction() as cur:
            accepted = surveys.answer(cur, self.vault, actor, survey_id, body["answers"])
        log.info("survey_answered", survey_id=accepted["survey_id"])  # never who
        return accepted

    @rpc
    def survey_results(self, actor, survey_id):
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return surveys.results(cur, self.vault, actor, survey_id)

    @rpc
    def health(self):
        return health_report(self.name, self.db)
