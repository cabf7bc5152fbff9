"""Gateway-only schemas of the library and forum routes (routes_library.py).

Bodies and single results are contracts/rpc.py's (the library service loads them again); the
library's page and the forum's views are in schemas.py beside the routes that were there first.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc import SimilarItemViewSchema


class SimilarQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class SimilarListSchema(Schema):
    items = fields.List(fields.Nested(SimilarItemViewSchema), required=True,
                        metadata={"description": "The most similar first"})
