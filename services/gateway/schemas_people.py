"""Gateway schemas of the people routes (services/gateway/routes_people.py): list envelopes and
query strings. Bodies and single results are the contracts' (contracts/rpc.py)."""
from marshmallow import EXCLUDE, Schema, fields, validate

from contracts import vocabulary as v
from contracts.rpc import ApplicationReviewSchema


class ApplicationStateQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(load_default="pending", validate=validate.OneOf(v.APPLICATION_STATES),
                          metadata={"description": "pending (default), approved or rejected"})


class ApplicationReviewListSchema(Schema):
    items = fields.List(fields.Nested(ApplicationReviewSchema), required=True,
                        metadata={"description": "Oldest first, as they wait for review"})
