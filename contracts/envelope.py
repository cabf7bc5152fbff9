"""The one versioned envelope every integration event travels in."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from contracts import fast_load


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # newer producers may add envelope fields; payloads stay strict

    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(1, 100))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    source = fields.String(required=True, validate=validate.Length(1, 64))
    aggregate_id = fields.String(required=True, validate=validate.Length(max=64))  # an id (case, mentor)
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    correlation_id = fields.String(load_default="", validate=validate.Length(max=64))  # as services/common/logs cuts it
    payload = fields.Dict(required=True)


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    aggregate_id: str
    payload: dict[str, Any]
    position: int = 0
    schema_version: int = 1
    correlation_id: str = ""
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def to_message(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "type": self.type,
            "schema_version": self.schema_version,
            "source": self.source,
            "aggregate_id": str(self.aggregate_id),
            "position": self.position,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id or "",
            "payload": self.payload,
        }


class UnreadableEnvelope(Exception):
    """A message a consumer cannot read: it is logged and parked, never retried."""

    def __init__(self, reason: str, errors: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or {}


# one instance: building a marshmallow schema costs more than a load (it keeps no state between loads)
_ENVELOPE_SCHEMA = EnvelopeSchema()


def read_envelope(body: Any) -> Envelope:
    """Parse and validate a message body: the envelope, then its payload by the event's contract."""
    from contracts.events import payload_schema  # local: events imports this module

    if not isinstance(body, dict):
        raise UnreadableEnvelope("message body is not a JSON object")
    try:
        data = _ENVELOPE_SCHEMA.load(body)
    except ValidationError as exc:
        raise UnreadableEnvelope("invalid envelope", exc.messages) from None
    schema = payload_schema(data["type"], data["schema_version"])
    if schema is None:
        raise UnreadableEnvelope(f"unknown event type or schema version: {data['type']} v{data['schema_version']}")
    try:
        data["payload"] = fast_load.load(schema, data["payload"])
    except ValidationError as exc:
        raise UnreadableEnvelope("invalid payload", exc.messages) from None
    return Envelope(**data)
