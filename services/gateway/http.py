"""The HTTP side of the gateway as pure functions: JSON bodies in and out, the one error
shape, the bearer header, CORS and the correlation id. No I/O here, so all of it is unit-tested.

Every error body is exactly ``{"error": {"code", "message", "fields"}}`` plus ``"details"``
when there are any: ``PlatformError.to_dict()`` of contracts/errors.py.
"""
import json
import re

from werkzeug.wrappers import Response

from contracts.errors import InvalidInput, NotFound, PlatformError, Unauthorized
from services.common.logs import CORRELATION_HEADER, new_correlation_id

JSON_MIMETYPE = "application/json"
MAX_BODY_BYTES = 1024 * 1024
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", CORRELATION_HEADER, "Idempotency-Key")
CORS_MAX_AGE_SECONDS = 600
INTERNAL_ERROR_MESSAGE = ("Something went wrong on our side. It has been logged; quote the "
                          f"{CORRELATION_HEADER} of this response when reporting it.")

_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,64}")  # visible ASCII, as CorrelationContext keeps it


# ---- errors the gateway raises itself (they never cross RPC) ------------------------------

class MethodNotAllowed(PlatformError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(PlatformError):
    status = 413
    code = "payload_too_large"


class HttpError(PlatformError):
    """Any other werkzeug HTTP error, in the platform's shape."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code


class InternalError(PlatformError):
    status = 500
    code = "internal_error"

    def __init__(self):
        super().__init__(INTERNAL_ERROR_MESSAGE)


# ---- responses ----------------------------------------------------------------------------

def json_response(payload, status=200, headers=None):
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, headers=headers, mimetype=JSON_MIMETYPE)


def error_body(exc):
    """The body of an error response; anything but a PlatformError is a generic internal error."""
    if not isinstance(exc, PlatformError):
        exc = InternalError()
    return {"error": exc.to_dict()}


def error_status(exc):
    return exc.status if isinstance(exc, PlatformError) else 500


def error_response(exc, headers=None):
    return json_response(error_body(exc), error_status(exc), headers)


def from_http_exception(exc):
    """werkzeug's routing and body errors (404, 405, 413, ...) as PlatformErrors."""
    if exc.code == 404:
        return NotFound("There is no such route.")
    if exc.code == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or ())
        return MethodNotAllowed(f"This route does not accept that method; it accepts {', '.join(allowed)}.",
                                details={"allowed_methods": allowed})
    if exc.code == 413:
        return PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    code = re.sub(r"[^a-z0-9]+", "_", (exc.name or "http error").lower()).strip("_")
    return HttpError(exc.code or 500, code, exc.description or exc.name or "HTTP error.")


def http_exception_response(exc):
    error = from_http_exception(exc)
    headers = {}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.details["allowed_methods"])
    return error_response(error, headers)


# ---- requests -----------------------------------------------------------------------------

def parse_json_body(raw):
    """The request body as a JSON object; an empty body is ``{}`` (the schema then names what is missing)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("The request body is not valid UTF-8 JSON.",
                               {"_body": ["Not valid UTF-8."]}) from None
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except ValueError as exc:
        raise InvalidInput("The request body is not valid JSON.", {"_body": [f"Invalid JSON: {exc}"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.", {"_body": ["Expected a JSON object."]})
    return data


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header, or Unauthorized."""
    if not authorization or not authorization.strip():
        raise Unauthorized("Sign in first: this route needs an 'Authorization: Bearer <token>' header.",
                           {"Authorization": ["Missing bearer token."]})
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.",
                           {"Authorization": ["Expected 'Bearer <token>'."]})
    return token


def authenticate(signer, authorization):
    """The actor ``{"user_id", "role"}`` of a valid bearer token (TokenSigner raises Unauthorized)."""
    return signer.verify(bearer_token(authorization))


def correlation_id_from(header_value):
    """The client's X-Correlation-ID when it is sane (visible ASCII, <= 64), else a new one."""
    value = (header_value or "").strip()[:64]
    return value if _CORRELATION_ID.fullmatch(value) else new_correlation_id()


# ---- CORS ---------------------------------------------------------------------------------

def cors_headers(allow_origin, request_origin=None):
    """``allow_origin`` is ``*``, one origin, or a comma-separated list (the request's origin is echoed)."""
    allowed = [o.strip() for o in str(allow_origin or "").split(",") if o.strip()]
    if not allowed:
        return {}
    if "*" in allowed:
        value = "*"
    else:
        value = request_origin if request_origin in allowed else allowed[0]
    headers = {"Access-Control-Allow-Origin": value, "Access-Control-Expose-Headers": CORRELATION_HEADER}
    if value != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight_response(allowed_methods):
    """204 answer to an OPTIONS preflight of a route that accepts ``allowed_methods``."""
    methods = ", ".join(sorted(set(allowed_methods) | {"OPTIONS"}))
    response = Response(status=204, headers={
        "Allow": methods,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": ", ".join(CORS_ALLOW_HEADERS),
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    })
    del response.headers["Content-Type"]  # no body
    return response
