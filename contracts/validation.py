"""Helpers to run a contract schema and turn its complaints into one InvalidInput."""
from marshmallow import ValidationError, validate

from contracts.errors import InvalidInput

# Regexp uses re.match (anchored at the start): "\s*\S" means "contains a non-blank character".
not_blank = validate.Regexp(r"\s*\S", error="Must not be blank.")


def load(schema, data, what="request"):
    """Validate ``data`` with ``schema``; raise InvalidInput naming every bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(f"The {what} body must be a JSON object.", {"_schema": ["Expected an object."]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(f"The {what} has invalid fields.", _flatten(exc.messages)) from None


def _flatten(messages):
    """marshmallow nests list errors by index; keep them, but as JSON-safe string keys."""
    if isinstance(messages, dict):
        return {str(k): _flatten(v) for k, v in messages.items()}
    return messages
