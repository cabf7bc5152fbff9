"""Gateway-only schemas of the library and forum routes (routes_library.py).

Bodies and single results are contracts/rpc_library.py's (the library service loads them again); the
library's page and the forum's views are in schemas.py beside the routes that were there first.
"""

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc_library import DraftSummarySchema, DraftViewSchema, SimilarItemViewSchema


class SimilarQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class SimilarListSchema(Schema):
    items = fields.List(
        fields.Nested(SimilarItemViewSchema), required=True, metadata={"description": "The most similar first"}
    )


class DraftListSchema(Schema):
    items = fields.List(
        fields.Nested(DraftSummarySchema),
        required=True,
        metadata={"description": "Pending: the oldest first; decided: the latest decisions first"},
    )
    waiting = fields.Integer(required=True, metadata={"description": "How many drafts wait for review"})


class MyDraftsQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    case_id = fields.String(
        load_default=None, validate=validate.Length(1, 64), metadata={"description": "Only the drafts of this case"}
    )


class DraftViewListSchema(Schema):
    items = fields.List(fields.Nested(DraftViewSchema), required=True, metadata={"description": "The newest first"})
