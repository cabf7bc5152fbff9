"""The problem-case form (seed 6.2.1.1), validated identically at the gateway and in cases."""

from typing import Any

from marshmallow import Schema, fields, validate

from contracts import vocabulary as v
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import not_blank, unique


class CaseFormSchema(Schema):
    essence = fields.String(
        required=True,
        validate=[validate.Length(1, v.ESSENCE_MAX), not_blank],
        metadata={"description": "Essence of the problem"},
    )
    actions_taken = fields.String(
        load_default="", validate=validate.Length(max=v.ACTIONS_MAX), metadata={"description": "Actions already taken"}
    )
    difficulty = fields.String(
        load_default="",
        validate=validate.Length(max=v.DIFFICULTY_MAX),
        metadata={"description": "Why it is difficult to solve alone"},
    )
    question = fields.String(
        required=True,
        validate=[validate.Length(1, v.QUESTION_MAX), not_blank],
        metadata={"description": "Question to a mentor"},
    )
    participants = fields.List(
        fields.String(validate=validate.OneOf(v.PARTICIPANTS)), load_default=list, validate=unique
    )
    rubrics = fields.List(
        fields.String(validate=validate.OneOf(RUBRIC_SLUGS)),
        required=True,
        validate=[validate.Length(min=1, error="Choose at least one rubric."), unique],
        metadata={"description": "Problem fields (rubricator slugs)"},
    )
    mode = fields.String(required=True, validate=validate.OneOf(v.MODES))
    group_discussion_consent = fields.Boolean(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(v.URGENCIES))
    publication_consent = fields.Boolean(required=True)


# A valid case form: the one the demo's walk-through, the tests (tests/support.case_form) and the
# benchmarks file, kept here once so the three cannot drift from the schema above or from each other.
EXAMPLE_CASE_FORM = {
    "essence": "Pupils of my 7th form ignore homework and disrupt lessons.",
    "actions_taken": "Talked to the class, wrote to parents.",
    "difficulty": "I am new at the school and have no allies yet.",
    "question": "How do I restore discipline without losing the class's trust?",
    "participants": ["pupils-form-7", "parents"],
    "rubrics": ["class-management-motivation", "interaction-with-parents"],
    "mode": "personal",
    "group_discussion_consent": False,
    "urgency": "need_advice",
    "publication_consent": True,
}


def example_case_form(**overrides: Any) -> dict[str, Any]:
    """A fresh copy of EXAMPLE_CASE_FORM with ``overrides`` applied (lists copied too)."""
    form = {key: list(value) if isinstance(value, list) else value for key, value in EXAMPLE_CASE_FORM.items()}
    form.update(overrides)
    return form
