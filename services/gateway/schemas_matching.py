"""Gateway schemas of matching's routes (services/gateway/routes_matching.py)."""

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc_matching import ProposedMentorSchema


class ColleagueQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=5,
        validate=validate.Range(1, 20),
        metadata={"description": "How many suggestions, 1-20 (default 5)"},
    )


class ColleagueSuggestionListSchema(Schema):
    items = fields.List(
        fields.Nested(ProposedMentorSchema),
        required=True,
        metadata={
            "description": "Accredited mentors advising in the case's rubrics, best first, with their public "
            "profiles (null when missing)"
        },
    )
