"""The HTTP side of the gateway as pure functions: JSON bodies in and out, the one error
shape, the bearer header, CORS and the correlation id. No I/O here, so all of it is unit-tested.

Every error body is exactly ``{"error": {"code", "message", "fields"}}`` plus ``"details"``
when there are any: ``PlatformError.to_dict()`` of contracts/errors.py.
"""

import hmac
import ipaddress
import json
import math
import re
import uuid

from werkzeug.http import parse_options_header
from werkzeug.wrappers import Response

from contracts.errors import InvalidInput, NotFound, PlatformError, ServiceUnavailable, TooManyRequests, Unauthorized
from services.common.logs import CORRELATION_HEADER, new_correlation_id
from services.common.rpc import OUTCOME_UNKNOWN

JSON_MIMETYPE = "application/json"
MAX_BODY_BYTES = 1024 * 1024  # the default of @http(max_body=...): a route may allow more (or less)
MAX_JSON_DEPTH = 32  # nesting of arrays and objects; the contracts need 4
MAX_JSON_ITEMS = 1000  # elements of one array, members of one object; the contracts need 20
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", CORRELATION_HEADER, "Idempotency-Key")
CORS_MAX_AGE_SECONDS = 600
INTERNAL_ERROR_MESSAGE = (
    "Something went wrong on our side. It has been logged; quote the "
    f"{CORRELATION_HEADER} of this response when reporting it."
)

_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,64}")  # visible ASCII, as CorrelationContext keeps it


# ---- errors the gateway raises itself (they never cross RPC) ------------------------------


class MethodNotAllowed(PlatformError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(PlatformError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(PlatformError):
    status = 415
    code = "unsupported_media_type"


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


def error_headers(exc):
    """Headers an error implies: Retry-After (seconds) on 429."""
    if isinstance(exc, TooManyRequests):
        retry_after = exc.details.get("retry_after")
        if isinstance(retry_after, (int, float)) and retry_after > 0:
            return {"Retry-After": str(math.ceil(retry_after))}
    return {}


def error_response(exc, headers=None):
    return json_response(error_body(exc), error_status(exc), {**error_headers(exc), **(headers or {})})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def with_outcome(exc, method):
    """A 503 to a request that changes something says in ``details.outcome`` whether it was done:
    ``not_done`` (certainly not: retry freely) when the failing layer knows it (services/common/rpc.py),
    else ``unknown`` (it may have been: retry with the same Idempotency-Key, or look first). A read
    changes nothing, so its 503 has no outcome. Anything else passes unchanged."""
    if not isinstance(exc, ServiceUnavailable):
        return exc
    details = dict(exc.details)
    if method in SAFE_METHODS:
        details.pop("outcome", None)
    else:
        details.setdefault("outcome", OUTCOME_UNKNOWN)
    exc.details = details
    return exc


def from_http_exception(exc):
    """werkzeug's routing and body errors (404, 405, 413, ...) as PlatformErrors."""
    if exc.code == 404:
        return NotFound("There is no such route.")
    if exc.code == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or ())
        return MethodNotAllowed(
            f"This route does not accept that method; it accepts {', '.join(allowed)}.",
            details={"allowed_methods": allowed},
        )
    if exc.code == 413:
        return payload_too_large(MAX_BODY_BYTES)
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
            raise InvalidInput("The request body is not valid UTF-8 JSON.", {"_body": ["Not valid UTF-8."]}) from None
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:  # far deeper than MAX_JSON_DEPTH: the parser gave up first
        raise _too_deep() from None
    except ValueError as exc:
        raise InvalidInput("The request body is not valid JSON.", {"_body": [f"Invalid JSON: {exc}"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.", {"_body": ["Expected a JSON object."]})
    check_json_structure(data)
    return data


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _too_deep():
    return InvalidInput(
        "The request body is nested too deeply.", {"_body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]}
    )


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "Must not contain NUL (\\u0000) characters."
SURROGATE_MESSAGE = "Must not contain unpaired surrogates (\\ud800-\\udfff): that is not Unicode text."


def text_problem(value):
    """Why the string ``value`` cannot be stored as text (PostgreSQL refuses NUL, UTF-8 refuses
    lone surrogates, which JSON's \\ud800 escapes can carry), or None. Anything else - control
    and RTL marks, combining characters, emoji, markup, SQL - is stored and returned verbatim."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def check_json_structure(data):
    """Refuse (400, naming the field) a body the contracts can never accept and the services
    cannot store: nesting deeper than MAX_JSON_DEPTH, an array or object of more than
    MAX_JSON_ITEMS, a key or string value with a NUL or an unpaired surrogate. Iterative, so
    no body can exhaust the stack."""
    problems = []  # (path, message)
    stack = [((), data, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                problems.append((path, problem))
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if len(value) > MAX_JSON_ITEMS:
            raise InvalidInput(
                "The request body has too many items.",
                _nest(path or ("_body",), [f"More than {MAX_JSON_ITEMS} items."]),
            )
        if isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:  # named as it came, escaped: the field name itself is the problem
                    problems.append((path + (_escaped(key),), f"Field name: {problem}"))
                else:
                    stack.append((path + (key,), item, depth + 1))
        else:
            stack.extend((path + (str(i),), item, depth + 1) for i, item in enumerate(value))
    if problems:
        fields = {}
        for path, message in sorted(problems):
            _merge(fields, path, message)
        raise InvalidInput("The request has text that cannot be stored.", fields)


def check_text_values(values):
    """The same text check for flat string values: path variables and query parameters."""
    fields = {
        name: [text_problem(value)] for name, value in values.items() if isinstance(value, str) and text_problem(value)
    }
    if fields:
        raise InvalidInput("The request has text that cannot be stored.", fields)


def _escaped(text):
    """``text`` with NUL and surrogates as JSON-style escapes, safe to put in a response."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _nest(path, messages):
    """``("questions", "0", "text")`` -> ``{"questions": {"0": {"text": messages}}}``, marshmallow's shape."""
    for part in reversed(path):
        messages = {part: messages}
    return messages


def _merge(fields, path, message):
    node = fields
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):  # an escaped bad name equal to a real one: one message is enough
            return
    messages = node.setdefault(path[-1], [])
    if isinstance(messages, list):
        messages.append(message)


def check_json_content_type(content_type, has_body):
    """A JSON body comes as ``application/json`` (a charset, if named, is UTF-8: JSON's only one).
    An empty body reads as ``{}`` whatever its Content-Type (eventlet says text/plain for none)."""
    if not has_body:
        return
    mimetype, options = parse_options_header(content_type or "")
    charset = (options.get("charset") or "utf-8").strip().lower()
    if mimetype.lower() != JSON_MIMETYPE or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"Send the request body as {JSON_MIMETYPE} (UTF-8), not {(content_type or 'untyped')[:100]}.",
            {"Content-Type": [f"Expected {JSON_MIMETYPE}."]},
        )


def payload_too_large(limit):
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.", details={"max_bytes": limit})


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header, or Unauthorized."""
    if not authorization or not authorization.strip():
        raise Unauthorized(
            "Sign in first: this route needs an 'Authorization: Bearer <token>' header.",
            {"Authorization": ["Missing bearer token."]},
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized(
            "The Authorization header must be 'Bearer <token>'.", {"Authorization": ["Expected 'Bearer <token>'."]}
        )
    return token


def authenticate(signer, authorization):
    """The claims ``{"user_id", "role", "session_id", "email_verified"}`` of a genuine, unexpired bearer
    token (TokenSigner raises Unauthorized); whether its session is still live is the worker's question
    (services/gateway/sessions.py, entrypoints.http)."""
    return signer.claims(bearer_token(authorization))


def trusted_proxy_count(setting):
    """TRUST_FORWARDED_FOR: how many proxies in front of the gateway append to X-Forwarded-For.
    false/0/absent: none, the header is ignored (anyone can write it); true: one; or a number."""
    if isinstance(setting, bool):
        return int(setting)
    text = str(setting if setting is not None else "").strip().lower()
    if text in ("", "false", "no", "off", "0"):
        return 0
    if text in ("true", "yes", "on"):
        return 1
    try:
        return max(0, int(text))
    except ValueError:
        raise ValueError(f"TRUST_FORWARDED_FOR must be true, false or a number of proxies, not {setting!r}") from None


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 128  # longer keys are cut to this


def request_key(request):
    """What makes a creating request safe to repeat: the client's ``Idempotency-Key`` (a retry
    after a lost response, or after a 503 whose outcome is unknown, creates nothing twice) or,
    without one, a key of this HTTP request (an RPC redelivered after a service crash is still
    applied once)."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    return key[:IDEMPOTENCY_KEY_MAX] if key else uuid.uuid4().hex


WEB_PROXY_HEADER = "X-Proxy-Secret"


def web_proxy_hops(presented, secret):
    """1 when the request comes from the platform's browser client (it presents WEB_PROXY_SECRET),
    which appends the browser's address to X-Forwarded-For; else 0. Without this, every person using
    the browser client would share its address, and with it the per-address sign-in and
    registration limits; with TRUST_FORWARDED_FOR instead, any direct API client could write the
    header and escape those limits."""
    if not secret or not presented:
        return 0
    return 1 if hmac.compare_digest(str(presented).encode(), str(secret).encode()) else 0


def client_address(remote_addr, forwarded_for=None, trusted_proxies=0):
    """The client's IP address: the TCP peer, or - behind ``trusted_proxies`` proxies - the address
    the outermost trusted proxy saw (the n-th entry of X-Forwarded-For from the right; entries
    further left were written by the client and prove nothing). None when it is not an address."""
    address = remote_addr
    if trusted_proxies > 0 and forwarded_for:
        hops = [hop.strip() for hop in str(forwarded_for).split(",") if hop.strip()]
        if hops:
            address = hops[-min(trusted_proxies, len(hops))]
    try:
        return ipaddress.ip_address((address or "").strip()).compressed
    except ValueError:
        return None


def media_type(content_type):
    """``image/png; x=y`` -> ``image/png`` (lower case, parameters dropped); '' when absent."""
    mimetype, _ = parse_options_header(content_type or "")
    return mimetype.lower()


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
    # Retry-After (on 429) is not a CORS-safelisted response header: a browser app must be let read it
    headers = {
        "Access-Control-Allow-Origin": value,
        "Access-Control-Expose-Headers": f"{CORRELATION_HEADER}, Retry-After",
    }
    if value != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight_response(allowed_methods):
    """204 answer to an OPTIONS preflight of a route that accepts ``allowed_methods``."""
    methods = ", ".join(sorted(set(allowed_methods) | {"OPTIONS"}))
    response = Response(
        status=204,
        headers={
            "Allow": methods,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": ", ".join(CORS_ALLOW_HEADERS),
            "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        },
    )
    del response.headers["Content-Type"]  # no body
    return response
