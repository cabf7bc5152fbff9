"""library: the anonymized "History of solutions" (solved cases, projected from completed cases,
and materials: articles, books, links), and the forum "What to do? Looking for a way out
together" (threads opened by cases published to it, and what people write there).

Case text is scrubbed and impersonal: no case id, number, author or mentor. Moderators curate
(services/library/curation.py); search and similar cases: search.py, similar.py; the forum's
conversation: forum.py; the tables: tables.py.
"""
import uuid

from contracts.errors import Forbidden, InvalidInput
from contracts.rpc import (ActorSchema, ForumMessageSchema, LibraryItemEditSchema, LibrarySearchSchema,
                           ModerationReasonSchema, NewMaterialSchema, SimilarRequestSchema)
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import load
from services.common.consumer import subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.rpc import RpcDeadline, rpc
from services.library import curation, forum, items, projection, search, similar
# re-exported: tests and older callers import these from here
from services.library.projection import (  # noqa: F401
    FORUM_NAMESPACE, THREAD_TITLE_FROM_QUESTION, anonymized_entry, forum_post, ordered_rubrics)
from services.library.tables import SCHEMA  # noqa: F401  (research/rebuild.py migrates with it)

log = get_logger()

THREAD_COLUMNS = forum.THREAD_COLUMNS


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
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    db = Database(migrations=SCHEMA)

    @subscribe("library.case-events")
    def on_case_event(self, envelope):
        """One queue, one entrypoint: dispatch on the event type."""
        if envelope.type == "CaseCompleted":
            self._on_case_completed(envelope)
        elif envelope.type == "CasePublishedToForum":
            self._on_published_to_forum(envelope)
        else:  # the consumer only passes the queue's types; be explicit if topology and code drift
            raise ValueError(f"library.case-events: no handler for {envelope.type}")

    def _on_case_completed(self, envelope):
        with self.db.transaction() as cur:
            entry = projection.apply_case_completed(cur, envelope, self.name)
        if entry is not None:
            log.info("library_entry_created", rubrics=entry["rubrics"])

    def _on_published_to_forum(self, envelope):
        """A new thread, or a post added to the thread named (services/library/projection.py)."""
        with self.db.transaction() as cur:
            result = projection.apply_published_to_forum(cur, envelope, self.name)
        if result is None:
            return
        thread_id, new_thread, added, rubrics = result
        log.info("forum_post_added" if added else "forum_post_known", thread_id=str(thread_id),
                 new_thread=new_thread, rubrics=rubrics)

    # ---- the library ----------------------------------------------------------------------

    @rpc
    def list_entries(self, actor, rubric=None):
        """Solved cases, newest first (at most 200; ``search`` pages through everything)."""
        _actor(actor)
        _check_rubric(rubric)
        where, args = ("AND rubrics @> %s", ([rubric],)) if rubric else ("", ())
        with self.db.transaction() as cur:
            cur.execute(f"SELECT {items.ENTRY_COLUMNS} FROM library_entries WHERE withdrawn_at IS NULL {where} "
                        f"ORDER BY published_at DESC, id DESC LIMIT 200", args)
            return [items.view(r) for r in cur.fetchall()]

    @rpc
    def search(self, actor, query=None):
        """A page of items: newest first, or best first for ``q`` (services/library/search.py)."""
        actor = _actor(actor)
        query = load(LibrarySearchSchema, query or {}, "query")
        with self.db.transaction() as cur:
            page = search.find(cur, **query)
            return {"items": items.load(cur, page["rows"], actor["role"] == "moderator"),
                    "total": page["total"], "total_exact": page["total_exact"], "next_cursor": page["next_cursor"]}

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

    # ---- the forum ------------------------------------------------------------------------

    @rpc
    def list_threads(self, actor, rubric=None):
        """Forum threads, the most recently active first; hidden posts are not counted."""
        _actor(actor)
        _check_rubric(rubric)
        where, args = ("WHERE t.rubrics @> %s", ([rubric],)) if rubric else ("", ())
        with self.db.transaction() as cur:
            cur.execute(f"""SELECT {THREAD_COLUMNS},
                                   (SELECT count(*) FROM forum_posts p
                                     WHERE p.thread_id = t.id AND p.hidden_at IS NULL)
                                 + (SELECT count(*) FROM forum_messages m
                                     WHERE m.thread_id = t.id AND m.hidden_at IS NULL) AS posts_count
                            FROM forum_threads t {where}
                            ORDER BY t.updated_at DESC, t.created_at DESC, t.id LIMIT 200""", args)
            return [_timestamps(r, "created_at", "updated_at") for r in cur.fetchall()]

    @rpc
    def get_thread(self, actor, thread_id):
        """A thread with its posts, oldest first: case posts and messages (forum.py)."""
        actor = _actor(actor)
        with self.db.transaction() as cur:
            return forum.thread_view(cur, actor, thread_id)

    @rpc
    def add_post(self, actor, thread_id, post, request_key=None):
        """A signed-in person writes in a thread, optionally replying to one of its posts."""
        actor = _actor(actor)
        post = load(ForumMessageSchema, post)
        with self.db.transaction() as cur:
            view = forum.add_message(cur, actor, thread_id, post["text"], post["reply_to"],
                                     request_key or uuid.uuid4().hex)
        log.info("forum_message_added", thread_id=str(thread_id), post_id=view["id"], reply=bool(post["reply_to"]))
        return view

    @rpc
    def hide_post(self, actor, post_id, body):
        actor = _moderator(actor, "hide forum posts")
        body = load(ModerationReasonSchema, body)
        with self.db.transaction() as cur:
            view = forum.hide_post(cur, actor, post_id, body["reason"])
        log.info("forum_post_hidden", post_id=view["id"], kind=view["kind"])
        return view

    @rpc
    def health(self):
        return health_report(self.name, self.db)
