"""Audited confidential access: a moderator opens an author's identity (and questionnaire) with a
reason; the author lists every such read.

Why POST for the moderator's read: it records an audit entry (not a safe, repeatable GET), and the
reason stays in the body, out of URLs (browser history, proxy logs, Referer). The response is the
card itself (200) and is never cached. GET on the same path stays the mentor's plain read.

A mixin of GatewayService (it has the RPC proxies). Identity decides: it authenticates the token
itself, asks cases.author_for (which refuses anybody but the author, moderators and the mentors
working on a personal-mode case, and a moderator without a reason), then reads and records.
"""

from contracts.rpc_identity import AccessLogPageSchema, AccessLogQuerySchema, AccessReasonSchema, AuthorCardSchema
from services.gateway.entrypoints import http


class AuditRoutes:
    @http(
        "POST",
        "/api/v1/cases/<case_id>/author",
        body=AccessReasonSchema,
        returns=AuthorCardSchema,
        tag="cases",
        summary="Open the author card with a reason (required of a moderator, at least 10 "
        "characters: 400 otherwise); the author reads the reason in their access log",
    )
    def open_case_author(self, request, actor, case_id, body):
        return self.identity.author_card(actor, request.access_token, case_id, body)

    @http(
        "GET",
        "/api/v1/me/access-log",
        query=AccessLogQuerySchema,
        returns=AccessLogPageSchema,
        tag="questionnaire",
        summary="Who opened the signed-in user's identity or questionnaire, on which "
        "case and why (a moderator is shown as such), newest first, by pages",
    )
    def access_log(self, request, actor, query):
        return self.identity.access_log(actor, query)
