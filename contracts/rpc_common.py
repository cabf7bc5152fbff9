"""What the services' RPC contracts share: the actor, a rubric list, a UUID's spelling, a reason,
the health check.

Each service's payloads and results, shared by the gateway (HTTP bodies) and the services, are in
its own module: contracts/rpc_cases.py, rpc_identity.py, rpc_notifications.py, rpc_library.py,
rpc_matching.py (as the gateway's schemas_*.py are split).

Every RPC that acts for a person takes ``actor = {"user_id": str, "role": str}`` first (ActorSchema);
the service, not the gateway, decides whether that actor may act (the gateway only authenticates).

every service: health() -> {"service", "status", "database"}
"""

from typing import Any

from marshmallow import Schema, fields, validate

from contracts import vocabulary as v
from contracts.rubrics import RUBRIC_SLUGS

# An id the services parse as a UUID (uuid.UUID also takes other spellings; this is the one they write).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def RubricList(**kw: Any) -> fields.List[str]:  # noqa: N802 (named as the field classes it stands beside)
    return fields.List(fields.String(validate=validate.OneOf(RUBRIC_SLUGS)), **kw)


class ActorSchema(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(v.ROLES))


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class HealthSchema(Schema):
    service = fields.String()
    status = fields.String()
    database = fields.String()
