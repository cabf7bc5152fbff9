"""Gateway-only schemas of the communication routes: list envelopes.

Bodies, query strings and single results are contracts/rpc_notifications.py's (the notifications service
loads them again).
"""

from marshmallow import Schema, fields

from contracts.rpc_notifications import CalendarEventViewSchema, ConversationViewSchema


class ConversationListSchema(Schema):
    items = fields.List(
        fields.Nested(ConversationViewSchema),
        required=True,
        metadata={"description": "One per colleague, the latest conversation first"},
    )


class CalendarEventListSchema(Schema):
    items = fields.List(
        fields.Nested(CalendarEventViewSchema), required=True, metadata={"description": "Soonest first"}
    )
