"""Helpers to run a contract schema and turn its complaints into one InvalidInput."""

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError, fields, validate

from contracts.errors import InvalidInput

SchemaT = TypeVar("SchemaT", bound=Schema)

# What counts as blank, spelled out (a regular expression character class): Python's "\s" and
# JavaScript's "\s" (ECMA-262, the dialect of OpenAPI's "pattern") differ (\x1c-\x1f and \x85 are
# whitespace only to Python, \ufeff only to JavaScript), so the server and the OpenAPI document state
# the same explicit set, their union, and a client validating by the document agrees with the server.
BLANK_CHARACTERS = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


class NotBlank(validate.Regexp):
    """Some character that is not blank (``BLANK_CHARACTERS``). A Regexp, so apispec states its pattern
    (``[^...]``, which JSON Schema applies as a search: "contains a non-blank character"), searched
    here the same way (marshmallow's Regexp would anchor it at the start)."""

    def __init__(self) -> None:
        super().__init__(f"[^{BLANK_CHARACTERS}]", error="Must not be blank.")

    def __call__(self, value: Any) -> Any:  # str (marshmallow's Regexp also takes bytes)
        if self.regex.search(value) is None:
            raise ValidationError(self._format_error(value))
        return value


not_blank = NotBlank()


def unique(values: list[Any]) -> None:
    """A list validator: no value twice. The OpenAPI document states it as uniqueItems
    (services/gateway/openapi.py recognizes this function)."""
    if len(set(values)) != len(values):
        raise ValidationError("Values must not repeat.")


# The offsets places on Earth use run from -12:00 to +14:00; PostgreSQL refuses some beyond (a 500
# once), and nobody means 2030-01-01T10:00+23:59. Allowed: Z, or +-HH:MM up to 14:00.
MAX_UTC_OFFSET = timedelta(hours=14)
MOMENT_OFFSET_PATTERN = r"(?:[Zz]|[+-](?:0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)$"


class Moment(fields.AwareDateTime):
    """An aware date-time (ISO 8601 with Z or an offset) that is a real instant: its offset within
    +-14:00 and the instant within Python's years 1-9999 in UTC. Anything else is a field error
    (400 naming the field), not a failure further on. The OpenAPI document states the offset rule
    as a pattern (``MOMENT_OFFSET_PATTERN``)."""

    default_error_messages = {
        "offset": "The time zone offset must be within -14:00 and +14:00.",
        "range": "Must be a moment between the years 1 and 9999 in UTC.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": MOMENT_OFFSET_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        offset = moment.utcoffset()
        assert offset is not None  # an AwareDateTime has one
        if abs(offset) > MAX_UTC_OFFSET or offset % timedelta(minutes=1):
            raise self.make_error("offset")
        try:
            moment.astimezone(timezone.utc)
        except OverflowError:
            raise self.make_error("range") from None
        return moment


@functools.lru_cache(maxsize=None)
def schema_of(schema_class: type[SchemaT]) -> SchemaT:
    """One instance of a schema class, reused: building one (its fields copied, nested schemas
    bound) costs more than a load, and marshmallow schemas keep no state between loads and dumps."""
    return schema_class()


def load(schema: Schema | type[Schema], data: Any, what: str = "request") -> Any:
    """Validate ``data`` with ``schema`` (an instance, or a class: its one instance, ``schema_of``);
    raise InvalidInput naming every bad field."""
    instance = schema_of(schema) if isinstance(schema, type) else schema
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(f"The {what} body must be a JSON object.", {"_schema": ["Expected an object."]})
    try:
        return instance.load(data)
    except ValidationError as exc:
        raise InvalidInput(f"The {what} has invalid fields.", field_errors(exc.messages)) from None


def field_errors(messages: Any) -> Any:
    """marshmallow nests list errors by index; keep them, but as JSON-safe string keys."""
    if isinstance(messages, dict):
        return {str(k): field_errors(v) for k, v in messages.items()}
    return messages
