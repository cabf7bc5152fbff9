"""Library and forum routes: moderators review drafts before anything is published and curate the
library; authors preview their drafts and withdraw consent; similar cases for a case; people write in
forum threads and moderators hide posts. The library service decides who may do what.

A mixin of GatewayService (it has the RPC proxies). Browsing and searching the library stays
``GET /api/v1/library`` in service.py (``q`` searches, no ``q`` browses).
"""

from contracts.errors import PlatformError
from contracts.rpc_cases import CaseViewSchema
from contracts.rpc_library import (
    DraftEditSchema,
    DraftQuerySchema,
    DraftViewSchema,
    ForumMessageSchema,
    LibraryEntryViewSchema,
    LibraryItemEditSchema,
    ModerationReasonSchema,
    NewMaterialSchema,
)
from services.common.logs import get_logger
from services.gateway.entrypoints import http
from services.gateway.http import request_key
from services.gateway.schemas import ForumPostViewSchema
from services.gateway.schemas_library import (
    DraftListSchema,
    DraftViewListSchema,
    MyDraftsQuerySchema,
    SimilarListSchema,
    SimilarQuerySchema,
)

logger = get_logger()

SIMILAR_ON_CREATE = 5
SIMILAR_TIMEOUT = 3.0  # seconds: filing a case never waits long for its suggestions


def similar_request(form, limit, author_id=None):
    """What the library compares: the case's essence and question, and its rubrics; the case's
    author (when the reader may know it), whose own items the library leaves out."""
    return {
        "text": f"{form.get('essence', '')}\n{form.get('question', '')}".strip() or "-",
        "rubrics": list(form.get("rubrics") or []),
        "limit": limit,
        "author_id": author_id,
    }


class LibraryRoutes:
    # ---- review: nothing is published before a moderator has read it ---------------------------

    @http(
        "GET",
        "/api/v1/library/drafts",
        query=DraftQuerySchema,
        returns=DraftListSchema,
        tag="library",
        summary="A moderator lists the drafts in a state (pending: waiting for review) and how many wait",
    )
    def list_drafts(self, request, actor, query):
        return self.library.list_drafts(actor, query)

    @http(
        "GET",
        "/api/v1/library/drafts/<draft_id>",
        returns=DraftViewSchema,
        tag="library",
        summary="A draft: for a moderator beside the author's original, every replaced span and suspicious "
        "token marked; for its author, the impersonal text to be published",
    )
    def get_draft(self, request, actor, draft_id):
        return self.library.get_draft(actor, draft_id)

    @http(
        "PATCH",
        "/api/v1/library/drafts/<draft_id>",
        body=DraftEditSchema,
        returns=DraftViewSchema,
        tag="library",
        errors=(409,),
        summary="A moderator edits a waiting draft's texts",
    )
    def edit_draft(self, request, actor, draft_id, body):
        return self.library.edit_draft(actor, draft_id, body)

    @http(
        "POST",
        "/api/v1/library/drafts/<draft_id>/publication",
        returns=DraftViewSchema,
        tag="library",
        errors=(409,),
        summary="A moderator publishes a waiting draft: to the library, or to the forum",
    )
    def publish_draft(self, request, actor, draft_id):
        return self.library.publish_draft(actor, draft_id)

    @http(
        "POST",
        "/api/v1/library/drafts/<draft_id>/rejection",
        body=ModerationReasonSchema,
        returns=DraftViewSchema,
        tag="library",
        errors=(409,),
        summary="A moderator rejects a waiting draft, with a reason: nothing of it is published",
    )
    def reject_draft(self, request, actor, draft_id, body):
        return self.library.reject_draft(actor, draft_id, body)

    @http(
        "GET",
        "/api/v1/me/publications",
        query=MyDraftsQuerySchema,
        returns=DraftViewListSchema,
        tag="library",
        summary="The signed-in author's drafts: the impersonal text each would publish, its state",
    )
    def my_drafts(self, request, actor, query):
        return self.library.my_drafts(actor, query["case_id"])

    @http(
        "DELETE",
        "/api/v1/cases/<case_id>/publication-consent",
        returns=CaseViewSchema,
        tag="cases",
        errors=(409,),
        summary="The author withdraws consent to publishing the case: its drafts are dropped, anything "
        "published of it leaves the library and the forum",
    )
    def withdraw_publication_consent(self, request, actor, case_id):
        return self._case_view(self.cases.withdraw_publication_consent(actor, case_id))

    # ---- curation (moderators) ------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/library/materials",
        body=NewMaterialSchema,
        returns=LibraryEntryViewSchema,
        status=201,
        tag="library",
        summary="A moderator adds a material: an article, a book or a link",
    )
    def add_library_material(self, request, actor, body):
        return self.library.add_material(actor, body)

    @http(
        "PATCH",
        "/api/v1/library/<entry_id>",
        body=LibraryItemEditSchema,
        returns=LibraryEntryViewSchema,
        tag="library",
        errors=(409,),
        summary="A moderator edits a library item: only the fields given change",
    )
    def edit_library_item(self, request, actor, entry_id, body):
        return self.library.edit_item(actor, entry_id, body)

    @http(
        "POST",
        "/api/v1/library/<entry_id>/withdrawal",
        body=ModerationReasonSchema,
        returns=LibraryEntryViewSchema,
        tag="library",
        summary="A moderator withdraws a library item, with a reason: it leaves browse, search and similar",
    )
    def withdraw_library_item(self, request, actor, entry_id, body):
        return self.library.withdraw_item(actor, entry_id, body)

    # ---- similar cases --------------------------------------------------------------------

    @http(
        "GET",
        "/api/v1/cases/<case_id>/similar",
        query=SimilarQuerySchema,
        returns=SimilarListSchema,
        tag="library",
        summary="Solved cases and library materials similar to a case, with score and why",
    )
    def similar_cases(self, request, actor, case_id, query):
        case = self.cases.get_case(actor, case_id)  # the cases service decides who may see the case
        return {
            "items": self.library.similar(
                actor, similar_request(case.get("form") or {}, query["limit"], case.get("author_id"))
            )
            or []
        }

    def similar_for_new_case(self, actor, case):
        """The first automatic answer to a new case; ``[]`` (and a warning) if the library fails:
        filing the case has already succeeded and must not fail for it."""
        try:
            found = self.library.similar.with_timeout(min(SIMILAR_TIMEOUT, self.library.timeout))(
                actor, similar_request(case.get("form") or {}, SIMILAR_ON_CREATE, case.get("author_id"))
            )
            return found or []
        except PlatformError as exc:
            logger.warning("similar_unavailable", case_id=case.get("id"), reason=exc.message)
        except Exception as exc:  # never fail a filed case for its suggestions
            logger.warning("similar_unavailable", case_id=case.get("id"), reason=type(exc).__name__)
        return []

    # ---- the forum ------------------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/forum/threads/<thread_id>/posts",
        body=ForumMessageSchema,
        returns=ForumPostViewSchema,
        status=201,
        idempotent=True,
        tag="forum",
        summary="Write in a forum thread, or reply to one of its posts "
        "(shown with your role and a pseudonym, never your name)",
    )
    def add_forum_post(self, request, actor, thread_id, body):
        return self.library.add_post(actor, thread_id, body, request_key(request))

    @http(
        "POST",
        "/api/v1/forum/posts/<post_id>/hide",
        body=ModerationReasonSchema,
        returns=ForumPostViewSchema,
        tag="forum",
        summary="A moderator hides a forum post, with a reason (moderators still see it)",
    )
    def hide_forum_post(self, request, actor, post_id, body):
        return self.library.hide_post(actor, post_id, body)
