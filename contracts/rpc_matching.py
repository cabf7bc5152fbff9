"""The matching service's RPC payloads and results, shared by the gateway (HTTP bodies) and the
services; what several services share (the actor first) is contracts/rpc_common.py's.

matching:      suggest_colleagues(case_id, rubrics, exclude=(), limit=5) -> [ProposedMentor] (no actor: the
                   gateway asks only after cases.get_case(actor, case_id) let the case's mentor see it;
                   SuggestColleaguesSchema); get_mentor(mentor_id); get_proposals(case_id)
"""

from marshmallow import Schema, fields, validate

from contracts import vocabulary as v
from contracts.rpc_common import RubricList
from contracts.rpc_identity import MentorProfileViewSchema


class SuggestColleaguesSchema(Schema):
    """matching.suggest_colleagues: who could give an opinion on a case (collective format)."""

    case_id = fields.String(required=True, validate=validate.Length(1, 64))
    rubrics = RubricList(required=True, validate=validate.Length(min=1, error="Give the case's rubrics."))
    # a field of the contract that shadows Schema.exclude in mypy's eyes (marshmallow keeps them apart)
    exclude = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        load_default=list,  # type: ignore[assignment]
        validate=validate.Length(max=100),
    )
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class ProposedMentorSchema(Schema):
    """A proposed mentor and why: shared rubrics, open cases against capacity, the score
    (services/matching/ranking.py documents it)."""

    mentor_id = fields.String()
    matched_rubrics = fields.List(fields.String())
    score = fields.Float()
    load = fields.Integer(metadata={"description": "The mentor's open cases when proposed"})  # type: ignore[assignment]  # as exclude above
    capacity = fields.Integer(metadata={"description": "How many open cases the mentor takes at once"})
    recent_assignments = fields.Integer(
        metadata={
            "description": "Cases the mentor was chosen for lately (MATCHING_RECENT_DAYS); absent on older proposals"
        }
    )
    reasons = fields.List(
        fields.String(validate=validate.OneOf(v.PROPOSAL_REASONS)),
        metadata={
            "description": "Why the mentor came first among mentors of nearly the same score: fewer_recent_cases, "
            "less_recently_proposed; new_to_roll: no answer history yet. Absent on older proposals"
        },
    )
    profile = fields.Nested(MentorProfileViewSchema, allow_none=True)
