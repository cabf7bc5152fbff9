"""Communication routes: the inbox, e-mail preferences, direct messages between mentors and the
events calendar - all served by the notifications service, which decides who may do what.

A mixin of GatewayService (it has the RPC proxies). Dates cross RPC as ISO strings, so bodies
and queries with dates are dumped back through their schema before the call.
"""

from contracts.rpc_common import ReasonSchema
from contracts.rpc_notifications import (
    CalendarEventFormSchema,
    CalendarEventPatchSchema,
    CalendarEventViewSchema,
    CalendarQuerySchema,
    DirectMessageSchema,
    DirectMessageViewSchema,
    InboxEntryViewSchema,
    InboxPageSchema,
    InboxQuerySchema,
    MarkAllReadResultSchema,
    MarkAllReadSchema,
    MessageThreadQuerySchema,
    MessageThreadSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    UnreadCountSchema,
)
from contracts.validation import schema_of
from services.gateway.entrypoints import http
from services.gateway.http import request_key
from services.gateway.schemas_communication import CalendarEventListSchema, ConversationListSchema


class CommunicationRoutes:
    # ---- the inbox ------------------------------------------------------------------------

    @http(
        "GET",
        "/api/v1/inbox",
        query=InboxQuerySchema,
        returns=InboxPageSchema,
        tag="inbox",
        summary="The signed-in user's notifications, newest first, a page at a time, with the unread count "
        "(a moderator also sees the entries for every moderator)",
    )
    def inbox(self, request, actor, query):
        return self.notifications.inbox_page(actor, query)

    @http(
        "GET",
        "/api/v1/inbox/unread-count",
        returns=UnreadCountSchema,
        tag="inbox",
        summary="How many notifications the signed-in user has not read",
    )
    def inbox_unread_count(self, request, actor):
        return self.notifications.unread_count(actor)

    @http(
        "POST",
        "/api/v1/inbox/<entry_id>/read",
        returns=InboxEntryViewSchema,
        tag="inbox",
        summary="Mark a notification read",
    )
    def mark_read(self, request, actor, entry_id):
        return self.notifications.mark_read(actor, entry_id)

    @http(
        "POST",
        "/api/v1/inbox/read-all",
        body=MarkAllReadSchema,
        returns=MarkAllReadResultSchema,
        tag="inbox",
        summary="Mark every notification read, or those up to the newest one the reader has seen",
    )
    def mark_all_read(self, request, actor, body):
        return self.notifications.mark_all_read(actor, body)

    @http(
        "GET",
        "/api/v1/me/notification-preferences",
        returns=PreferencesSchema,
        tag="inbox",
        summary="Which kinds of notification also come by e-mail (all, unless turned off)",
    )
    def notification_preferences(self, request, actor):
        return self.notifications.get_preferences(actor)

    @http(
        "PUT",
        "/api/v1/me/notification-preferences",
        body=PreferencesUpdateSchema,
        returns=PreferencesSchema,
        tag="inbox",
        summary="Turn e-mail on or off per kind of notification",
    )
    def update_notification_preferences(self, request, actor, body):
        return self.notifications.update_preferences(actor, body)

    # ---- direct messages ------------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/messages",
        body=DirectMessageSchema,
        returns=DirectMessageViewSchema,
        status=201,
        idempotent=True,
        tag="messages",
        summary="A direct message to another mentor or a moderator (mentors and moderators "
        "only; a mentee writes on a personal-mode case)",
    )
    def send_direct_message(self, request, actor, body):
        return self.notifications.send_direct_message(actor, body, request_key(request))

    @http(
        "GET",
        "/api/v1/messages",
        returns=ConversationListSchema,
        tag="messages",
        summary="The signed-in mentor's conversations, the latest first, with unread counts",
    )
    def list_conversations(self, request, actor):
        return {"items": self.notifications.list_conversations(actor) or []}

    @http(
        "GET",
        "/api/v1/messages/<user_id>",
        query=MessageThreadQuerySchema,
        returns=MessageThreadSchema,
        tag="messages",
        summary="The conversation with one colleague, newest first; opening it reads it",
    )
    def message_thread(self, request, actor, user_id, query):
        return self.notifications.get_thread(actor, user_id, query)

    # ---- the events calendar --------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/calendar",
        body=CalendarEventFormSchema,
        returns=CalendarEventViewSchema,
        status=201,
        idempotent=True,
        tag="calendar",
        summary="Add an online event (with a link) or announce an offline one (with a place)",
    )
    def create_calendar_event(self, request, actor, body):
        return self.notifications.create_calendar_event(
            actor, schema_of(CalendarEventFormSchema).dump(body), request_key(request)
        )

    @http(
        "GET",
        "/api/v1/calendar",
        query=CalendarQuerySchema,
        returns=CalendarEventListSchema,
        tag="calendar",
        summary="Upcoming events, soonest first, by date range and rubric",
    )
    def list_calendar_events(self, request, actor, query):
        query = schema_of(CalendarQuerySchema).dump(query)
        return {"items": self.notifications.list_calendar_events(actor, query) or []}

    @http(
        "GET",
        "/api/v1/calendar/<event_id>",
        returns=CalendarEventViewSchema,
        tag="calendar",
        summary="One event, with its attendees count and whether the signed-in user attends",
    )
    def get_calendar_event(self, request, actor, event_id):
        return self.notifications.get_calendar_event(actor, event_id)

    @http(
        "PATCH",
        "/api/v1/calendar/<event_id>",
        body=CalendarEventPatchSchema,
        returns=CalendarEventViewSchema,
        tag="calendar",
        summary="The author edits the event (any of its fields); attendees are told of a new time or place",
    )
    def update_calendar_event(self, request, actor, event_id, body):
        return self.notifications.update_calendar_event(actor, event_id, schema_of(CalendarEventPatchSchema).dump(body))

    @http(
        "POST",
        "/api/v1/calendar/<event_id>/cancellation",
        body=ReasonSchema,
        returns=CalendarEventViewSchema,
        tag="calendar",
        summary="The author (or a moderator) cancels the event; attendees are told",
    )
    def cancel_calendar_event(self, request, actor, event_id, body):
        return self.notifications.cancel_calendar_event(actor, event_id, body)

    @http(
        "PUT",
        "/api/v1/calendar/<event_id>/attendance",
        returns=CalendarEventViewSchema,
        tag="calendar",
        summary='"I\'ll attend"',
    )
    def attend_calendar_event(self, request, actor, event_id):
        return self.notifications.attend(actor, event_id)

    @http(
        "DELETE",
        "/api/v1/calendar/<event_id>/attendance",
        returns=CalendarEventViewSchema,
        tag="calendar",
        summary="No longer attend",
    )
    def unattend_calendar_event(self, request, actor, event_id):
        return self.notifications.unattend(actor, event_id)
