"""Gateway schemas of the people routes (services/gateway/routes_people.py): list envelopes and
query strings. Bodies and single results are the contracts' (contracts/rpc_identity.py)."""

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts import vocabulary as v
from contracts.rpc_identity import ApplicationReviewSchema


class ApplicationStateQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(
        load_default="pending",
        validate=validate.OneOf(v.APPLICATION_STATES),
        metadata={"description": "pending (default), approved or rejected"},
    )


class ApplicationReviewListSchema(Schema):
    items = fields.List(
        fields.Nested(ApplicationReviewSchema),
        required=True,
        metadata={"description": "Oldest first, as they wait for review"},
    )


class MyDataSchema(Schema):
    """Everything the platform holds about the signed-in person, by service; each service's section is
    ``{table: [rows]}`` of its own tables (cases: ``{"cases": [...]}``, each with its events)."""

    user_id = fields.String(required=True)
    generated_at = fields.String(required=True)
    identity = fields.Dict(
        required=True,
        metadata={
            "description": "The account (users), profile, photo (its size), availability, questionnaire, who read it "
            "(access log: roles, never a moderator's id), sessions, accreditation, account e-mails"
        },
    )
    cases = fields.Dict(
        required=True,
        metadata={
            "description": "cases: every case filed (with all its events) and one's own steps in cases one worked on"
        },
    )
    notifications = fields.Dict(
        required=True,
        metadata={"description": "inbox, e-mails, preferences, direct messages sent and received, calendar events"},
    )
    library = fields.Dict(
        required=True,
        metadata={
            "description": "publication_drafts of one's cases (the original while waiting), forum messages, the "
            "surveys one created and which surveys one answered (never what)"
        },
    )
    matching = fields.Dict(required=True, metadata={"description": "a mentor's snapshot, assignments, load"})
