"""The OpenAPI 3 document, generated with apispec from the routes' own declarations.

Each ``@http`` route names its body, query and result schemas; this module reads them off the
service class, so the document cannot drift from what the gateway actually does.
"""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.logs import CORRELATION_HEADER
from services.gateway.entrypoints import HttpEntrypoint
from services.gateway.schemas import ErrorSchema

IDEMPOTENCY_HEADER = "Idempotency-Key"
# The creating routes whose handler passes the client's Idempotency-Key on (request_key): a unit test
# keeps this list equal to the handlers that do (tests/unit/test_gateway_openapi.py).
KEYED_ROUTES = frozenset({"create_case", "ask_questions", "add_opinion", "send_message", "propose_solution",
                          "add_forum_post"})
TITLE = "Mentor platform API"
VERSION = "1.0.0"
OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "bearerAuth"
DESCRIPTION = (
    "Distance case-mentoring of novice teachers. JSON in and out; lists are {\"items\": [...]}. "
    "Protected routes need 'Authorization: Bearer <token>' (POST /api/v1/auth/sign-in). "
    "Every error is {\"error\": {\"code\", \"message\", \"fields\"}} (+ \"details\"). "
    f"Every response carries {CORRELATION_HEADER}; send your own to trace a request. "
    "Every route answers a CORS preflight (OPTIONS). "
    f"Send an {IDEMPOTENCY_HEADER} header (any unique string, at most 128 characters) with every request "
    "that creates something: a retry with the same key creates nothing twice. "
    "A 503 to a request that changes something says in 'details.outcome' whether it was carried out: "
    "'not_done' (certainly not: retry) or 'unknown' (it may have been, before the platform gave up: "
    f"retry with the same {IDEMPOTENCY_HEADER}, or look first). A request is never carried out after its 503."
)

_PATH_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_cache = {}


def routes(service_cls):
    """``(handler name, Route)`` of every HTTP entrypoint of ``service_cls``, in declaration order."""
    members = {}  # route mixins first (base classes), then the class itself; a subclass overrides
    for cls in reversed(service_cls.__mro__):
        members.update(vars(cls))
    found = []
    for name, member in members.items():
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, HttpEntrypoint):
                found.append((name, entrypoint.route))
    return found


def openapi_path(url):
    """werkzeug ``/cases/<case_id>`` (or ``<string:case_id>``) -> OpenAPI ``/cases/{case_id}``."""
    return _PATH_VARIABLE.sub(r"{\1}", url)


def path_variables(url):
    return _PATH_VARIABLE.findall(url)


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": ErrorSchema}}}


_BINARY = {"type": "string", "format": "binary"}
_ERRORS = {
    409: "Not in a state that allows this ('details' names the state)",
    429: "Too many failed attempts: wait the Retry-After header's seconds ('details.retry_after')",
}


def operation(name, route):
    responses = {}
    ok = {"description": route.summary or "OK"}
    if route.returns_media:
        ok["content"] = {media: {"schema": _BINARY} for media in route.returns_media}
    elif route.returns is not None:
        ok["content"] = {"application/json": {"schema": route.returns}}
    else:
        ok["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses[str(route.status)] = ok
    if route.body is not None or route.query is not None:
        responses["400"] = _error("Invalid input: 'fields' names each wrong field")
    if route.body is not None:
        responses["413"] = _error(f"The body is larger than {route.max_body} bytes")
        responses["415"] = _error("The body is not sent as application/json")
    if route.body_media:
        responses["400"] = _error("The body is not the image its content type says")
        responses["413"] = _error(f"The body is larger than {route.max_body} bytes")
        responses["415"] = _error(f"The body is not one of {', '.join(route.body_media)}")
    if route.auth:
        responses["401"] = _error("Missing, invalid or expired bearer token")
        responses["403"] = _error("The signed-in user may not do this")
    if path_variables(route.url):
        responses["404"] = _error("No such resource")
    if route.method in ("POST", "PUT") and route.url.startswith("/api/v1/cases/"):
        responses["409"] = _error("The case is not in a state that allows this")
    for status in route.errors:
        responses.setdefault(str(status), _error(_ERRORS.get(status, "Refused")))
    if route.method in ("GET", "HEAD"):
        responses["503"] = _error("A service did not answer in time or is not running")
    else:
        responses["503"] = _error("A service did not answer in time or is not running; 'details.outcome' is "
                                  "'not_done' (certainly not carried out: retry) or 'unknown' (it may have been: "
                                  f"retry with the same {IDEMPOTENCY_HEADER})")
    responses["default"] = _error("Unexpected error (internal_error)")

    op = {
        "operationId": name,
        "summary": route.summary,
        "tags": [route.tag] if route.tag else [],
        "parameters": [{"name": var, "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
                       for var in path_variables(route.url)],
        "responses": responses,
        "security": [{SECURITY_SCHEME: []}] if route.auth else [],
    }
    op["parameters"].append({"name": CORRELATION_HEADER, "in": "header", "required": False,
                             "schema": {"type": "string", "maxLength": 64},
                             "description": "Trace id; a new one is made when absent"})
    if name in KEYED_ROUTES:
        op["parameters"].append({"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 128},
                                 "description": "Send one on every creating request: a retry with the same key "
                                                "creates nothing twice (also after a 503 whose outcome is unknown)"})
    if route.query is not None:
        op["parameters"].append({"in": "query", "schema": route.query})
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
    elif route.body_media:
        op["requestBody"] = {"required": True, "content": {media: {"schema": _BINARY} for media in route.body_media}}
    return op


def build(service_cls):
    spec = APISpec(title=TITLE, version=VERSION, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()], info={"description": DESCRIPTION})
    spec.components.security_scheme(SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "The access_token of POST /api/v1/auth/sign-in"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths = {}
    for name, route in routes(service_cls):
        paths.setdefault(openapi_path(route.url), {})[route.method.lower()] = operation(name, route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document(service_cls):
    """The document, built once per service class."""
    if service_cls not in _cache:
        _cache[service_cls] = build(service_cls)
    return _cache[service_cls]
