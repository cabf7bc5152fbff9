"""News routes (the information portal): everyone reads published items; moderators write, edit,
withdraw and read the history. The notifications service owns the items and decides who may do what.

A mixin of GatewayService (it has the RPC proxies). The public routes take no token (visitors read
the news), so they call the RPCs that take no actor and show published items only; a moderator's
view of every item in every state is its own route, ``/api/v1/news/all``.
"""

from contracts.news import (
    NewsDeskQuerySchema,
    NewsHistorySchema,
    NewsItemFormSchema,
    NewsItemPatchSchema,
    NewsItemViewSchema,
    NewsPageSchema,
    NewsQuerySchema,
    NewsWithdrawalSchema,
)
from contracts.validation import schema_of
from services.gateway.entrypoints import http
from services.gateway.http import request_key


class NewsRoutes:
    @http(
        "GET",
        "/api/v1/news",
        query=NewsQuerySchema,
        returns=NewsPageSchema,
        auth=False,
        tag="news",
        summary="Published news items, newest first, a page at a time (anyone, signed in or not)",
    )
    def list_news(self, request, query):
        return self.notifications.news_page(query)

    @http(
        "GET",
        "/api/v1/news/all",
        query=NewsDeskQuerySchema,
        returns=NewsPageSchema,
        tag="news",
        summary="Every news item, scheduled and withdrawn ones too, newest publication first (moderators)",
    )
    def news_desk(self, request, actor, query):
        return self.notifications.news_desk(actor, query)

    @http(
        "GET",
        "/api/v1/news/<item_id>",
        returns=NewsItemViewSchema,
        auth=False,
        tag="news",
        summary="One published news item (a scheduled or withdrawn one is 404)",
    )
    def get_news_item(self, request, item_id):
        return self.notifications.news_item(item_id)

    @http(
        "GET",
        "/api/v1/news/<item_id>/history",
        returns=NewsHistorySchema,
        tag="news",
        summary="A news item in any state with every version of it, oldest first (moderators)",
    )
    def news_history(self, request, actor, item_id):
        return self.notifications.news_history(actor, item_id)

    @http(
        "POST",
        "/api/v1/news",
        body=NewsItemFormSchema,
        returns=NewsItemViewSchema,
        status=201,
        idempotent=True,
        tag="news",
        summary="Publish a news item now or schedule it (moderators); subscribers whose rubrics "
        "it names are told when it is published",
    )
    def create_news(self, request, actor, body):
        return self.notifications.create_news(actor, schema_of(NewsItemFormSchema).dump(body), request_key(request))

    @http(
        "PATCH",
        "/api/v1/news/<item_id>",
        body=NewsItemPatchSchema,
        returns=NewsItemViewSchema,
        errors=(409,),
        tag="news",
        summary="Edit a news item (moderators): a new version; a withdrawn item is 409",
    )
    def edit_news(self, request, actor, item_id, body):
        return self.notifications.edit_news(actor, item_id, schema_of(NewsItemPatchSchema).dump(body))

    @http(
        "POST",
        "/api/v1/news/<item_id>/withdrawal",
        body=NewsWithdrawalSchema,
        returns=NewsItemViewSchema,
        errors=(409,),
        tag="news",
        summary="Withdraw a news item (moderators): gone for the public (404), kept with its history; "
        "a second withdrawal is 409",
    )
    def withdraw_news(self, request, actor, item_id, body):
        return self.notifications.withdraw_news(actor, item_id, body)
