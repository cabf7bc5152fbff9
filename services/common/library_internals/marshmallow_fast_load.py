"""Recognize, without running marshmallow, a payload that its schema loads unchanged.

Every event payload is loaded by its contract twice on its way (when the cases service saves the
event, and when each consumer reads it), and a marshmallow ``load`` of a six-field payload is a
large part of the Python of a case command (bench/RESULTS.md, "Figures behind the fenced speed work").
Nearly every
payload is plain JSON that the schema accepts as it is: strings, integers, booleans, lists and
nested objects of the right types, every required key present, no unknown key. ``unchanged(schema)``
builds, once per schema, a check that says True only for such a payload: marshmallow would load
it without an error into an equal dict. Anything else (a wrong type, a missing or unknown key, a
failed validator) gets False, and the caller runs marshmallow as before, which then decides:
an error, a converted value or a default. So the check may be conservative, never lenient.

A schema the check cannot judge exactly (hooks, renamed keys, field types that convert, such
as dates, UUIDs or floats) gets no check (None): always marshmallow. Proven against marshmallow
itself on generated payloads (tests/unit/test_fast_load.py).

Private part used (marshmallow 4, ``marshmallow/schema.py``): ``Schema._hooks``, the schema's
``pre_load``/``post_load``/validator hooks by kind, read to leave a schema with any hook to marshmallow;
also the public but loosely specified field attributes ``data_key``, ``attribute``, ``load_default``,
``as_string``, ``truthy``/``falsy``, ``inner``, ``validators``. tests/unit/test_library_internals.py
pins the version. Stock path: ``PAYLOAD_FAST_LOAD=off`` in the environment (every payload loaded by
marshmallow; read at import).
"""

import functools
import os
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing

WRITTEN_AGAINST = ("marshmallow", "4.4.0")
RECHECK = (
    "marshmallow/schema.py: Schema._hooks still maps hook kinds to the schema's hooks (empty when none), "
    "and fields.String/Integer/Boolean/List/Nested still load the types the check accepts unchanged; "
    "run tests/unit/test_fast_load.py (hypothesis against marshmallow itself)"
)
ENABLED = os.environ.get("PAYLOAD_FAST_LOAD", "on") != "off"

# says whether one value (a payload, or a field's value) loads unchanged
Check = Callable[[Any], bool]

_SCALARS: dict[type[fields.Field[Any]], type] = {fields.String: str, fields.Integer: int, fields.Boolean: bool}


class _Unsupported(Exception):
    """This schema or field is left to marshmallow."""


def unchanged(schema: Schema) -> Check | None:
    """A function ``check(payload) -> bool`` (True: ``schema.load(payload) == payload``, no error),
    or None when this schema is always to be loaded by marshmallow."""
    try:
        return _schema_check(schema)
    except _Unsupported:
        return None


def _schema_check(schema: Any) -> Check:
    if not isinstance(schema, Schema) or schema.many or any(schema._hooks.values()):
        raise _Unsupported
    checks: dict[str, Check] = {}
    required: set[str] = set()
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None or "." in name:
            raise _Unsupported
        checks[name] = _field_check(field)
        if field.required or field.load_default is not missing:
            required.add(name)  # absent: an error, or a default that changes the payload
    known = frozenset(checks)

    def check(payload: Any) -> bool:
        if type(payload) is not dict or not required.issubset(payload) or not known.issuperset(payload):
            return False
        for name, value in payload.items():
            if not checks[name](value):
                return False
        return True

    return check


def _field_check(field: Any) -> Check:
    """Check of one present value: True only if ``field.deserialize`` returns it (or an equal
    value) and its validators pass."""
    if field.pre_load or field.post_load:
        raise _Unsupported
    kind = type(field)
    if kind in _SCALARS:
        value_type = _SCALARS[kind]
        if kind is fields.Integer and field.as_string:
            raise _Unsupported  # loads as a str
        if kind is fields.Boolean and (True not in field.truthy or False not in field.falsy):
            raise _Unsupported

        def of_type(value: Any) -> bool:
            return type(value) is value_type
    elif kind is fields.List:
        inner = _field_check(field.inner)

        def of_type(value: Any) -> bool:
            return type(value) is list and all(inner(each) for each in value)
    elif kind is fields.Nested and not field.many:
        nested = _schema_check(field.schema)
        of_type = nested  # type: ignore[assignment]  # a Check, as the functions above are
    else:
        raise _Unsupported
    validators = tuple(field.validators)
    allow_none: bool = field.allow_none

    def check(value: Any) -> bool:
        if value is None:
            return allow_none
        if not of_type(value):
            return False
        for validator in validators:
            try:
                if validator(value) is False:
                    return False
            except ValidationError:
                return False
        return True

    return check


@functools.lru_cache(maxsize=None)
def _cached(schema: Schema) -> Check | None:
    return unchanged(schema)


def load(schema: Schema, payload: Any) -> Any:
    """``schema.load(payload)``, the payload itself when the check proves it loads unchanged.
    For schemas kept as one instance per class (``schema_of``): the check is cached per instance."""
    if not ENABLED:
        return schema.load(payload)
    check = _cached(schema)
    if check is not None and check(payload):
        return payload
    return schema.load(payload)
