"""Gateway-only schemas: list envelopes, query strings, the error shape, reference data, health.

Request bodies and single results reuse contracts/rpc.py and contracts/case_form.py as they are.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc import (CaseSummarySchema, HistoryItemSchema, InboxEntryViewSchema,
                           LibraryEntryViewSchema, MentorProfileViewSchema)
from contracts.rubrics import RUBRIC_SLUGS


# ---- errors -------------------------------------------------------------------------------

class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid_input"})
    message = fields.String(required=True)
    # "fields" would shadow Schema.fields, hence the attribute/data_key pair
    field_errors = fields.Dict(keys=fields.String(), required=True, attribute="fields", data_key="fields",
                               metadata={"description": "Which input was wrong, and why: field name -> messages"})
    details = fields.Dict(keys=fields.String(), metadata={"description": "Extra facts, e.g. the current state"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


# ---- query strings ------------------------------------------------------------------------

class RubricQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busters and the like are ignored

    rubric = fields.String(load_default=None, validate=validate.OneOf(RUBRIC_SLUGS),
                           metadata={"description": "Only items tagged with this rubric (slug)"})


# ---- list envelopes -----------------------------------------------------------------------

class CaseSummaryListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)


class HistoryListSchema(Schema):
    items = fields.List(fields.Nested(HistoryItemSchema), required=True)


class InboxListSchema(Schema):
    items = fields.List(fields.Nested(InboxEntryViewSchema), required=True)


class LibraryEntryListSchema(Schema):
    items = fields.List(fields.Nested(LibraryEntryViewSchema), required=True)


class MentorProfileListSchema(Schema):
    items = fields.List(fields.Nested(MentorProfileViewSchema), required=True)


# ---- reference data -----------------------------------------------------------------------

class RubricSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    label = fields.String(required=True)
    comment = fields.String(required=True)


class ReferenceSchema(Schema):
    rubrics = fields.List(fields.Nested(RubricSchema), required=True)
    participants = fields.List(fields.String(), required=True)
    urgencies = fields.List(fields.String(), required=True)
    modes = fields.List(fields.String(), required=True)
    problem_solved = fields.List(fields.String(), required=True,
                                 metadata={"description": "Answers of the reflection sheet"})
    registration_roles = fields.List(fields.String(), required=True,
                                     metadata={"description": "Roles one may register with"})


# ---- operations ---------------------------------------------------------------------------

class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ServiceStatusSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok, or why not"})
    database = fields.String()
    message = fields.String()


class ReadinessSchema(Schema):
    status = fields.String(required=True)
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceStatusSchema), required=True)
