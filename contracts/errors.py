"""Structured errors that cross RPC intact and map one-to-one onto HTTP statuses.

Each is registered with nameko so the caller gets the same class back, with its
``fields`` (which input was wrong, and why) and ``details`` (e.g. the current state).
"""

import math
from typing import Any

from nameko.exceptions import deserialize_to_instance


class PlatformError(Exception):
    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, fields: dict[str, Any] | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, fields or {}, details or {})
        self.message = message
        self.fields = fields or {}
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "fields": self.fields}
        if self.details:
            body["details"] = self.details
        return body


@deserialize_to_instance
class InvalidInput(PlatformError):
    status = 400
    code = "invalid_input"


@deserialize_to_instance
class ContractBroken(InvalidInput, ValueError):
    """A command would record an event whose integration payload breaks its contract (contracts/events.py):
    e.g. a field over its maximum length. Refused before anything is stored (services/cases/outgoing.py),
    as invalid input naming the payload's field (400), not as a failure of the service."""


@deserialize_to_instance
class Unauthorized(PlatformError):
    status = 401
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(PlatformError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class MentorSuspended(Forbidden):
    """The acting (or chosen) mentor is suspended from the roll of mentors: no action on cases."""

    code = "mentor_suspended"


@deserialize_to_instance
class EmailNotVerified(Forbidden):
    """The account has not confirmed its e-mail address yet (filing a case, applying for the roll)."""

    code = "email_not_verified"


@deserialize_to_instance
class NotFound(PlatformError):
    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(PlatformError):
    status = 409
    code = "conflict"


@deserialize_to_instance
class ServiceUnavailable(PlatformError):
    status = 503
    code = "service_unavailable"


@deserialize_to_instance
class TooManyRequests(PlatformError):
    """Too many failed attempts (sign-in, password change); ``details["retry_after"]`` is the
    number of seconds until the next attempt may succeed (the gateway's Retry-After)."""

    status = 429
    code = "too_many_requests"

    def __init__(
        self, message: str, fields: dict[str, Any] | None = None, details: dict[str, Any] | None = None
    ) -> None:
        # whole seconds; across RPC nameko carries the details as text, so they are read back here
        details = dict(details or {})
        if "retry_after" in details:
            try:
                details["retry_after"] = max(1, math.ceil(float(details["retry_after"])))
            except (TypeError, ValueError):
                del details["retry_after"]
        super().__init__(message, fields, details)
