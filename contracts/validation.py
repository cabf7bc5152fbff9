"""Helpers to run a contract schema and turn its complaints into one InvalidInput."""
import functools

from marshmallow import ValidationError, validate

from contracts.errors import InvalidInput

# Regexp uses re.match (anchored at the start): "\s*\S" means "contains a non-blank character".
not_blank = validate.Regexp(r"\s*\S", error="Must not be blank.")


@functools.lru_cache(maxsize=None)
def schema_of(schema_class):
    """One instance of a schema class, reused: building one (its fields copied, nested schemas
    bound) costs more than a load, and marshmallow schemas keep no state between loads and dumps."""
    return schema_class()


def load(schema, data, what="request"):
    """Validate ``data`` with ``schema`` (an instance, or a class: its one instance, ``schema_of``);
    raise InvalidInput naming every bad field."""
    if isinstance(schema, type):
        schema = schema_of(schema)
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
