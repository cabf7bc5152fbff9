"""The OpenAPI 3 document, generated with apispec from the routes' own declarations.

Each ``@http`` route names its body, query and result schemas; this module reads them off the
service class, so the document cannot drift from what the gateway actually does.
"""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields, validate
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from contracts.validation import BLANK_CHARACTERS, NotBlank, unique
from services.common.logs import CORRELATION_HEADER
from services.gateway.entrypoints import HttpEntrypoint
from services.gateway.http import IDEMPOTENCY_KEY_MAX
from services.gateway.schemas import ErrorSchema

IDEMPOTENCY_HEADER = "Idempotency-Key"
TITLE = "Mentor platform API"
VERSION = "1.0.0"
OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "bearerAuth"
DESCRIPTION = (
    'Distance case-mentoring of novice teachers. JSON in and out; lists are {"items": [...]}. '
    "Protected routes need 'Authorization: Bearer <token>' (POST /api/v1/auth/sign-in). "
    'Every error is {"error": {"code", "message", "fields"}} (+ "details"). '
    f"Every response carries {CORRELATION_HEADER}; send your own to trace a request. "
    "Every route answers a CORS preflight (OPTIONS). "
    f"Send an {IDEMPOTENCY_HEADER} header (any unique string, at most 128 characters) with every request "
    "that creates something: a retry with the same key creates nothing twice. "
    "A 503 to a request that changes something says in 'details.outcome' whether it was carried out: "
    "'not_done' (certainly not: retry) or 'unknown' (it may have been, before the platform gave up: "
    f"retry with the same {IDEMPOTENCY_HEADER}, or look first). A request is never carried out after its 503. "
    "Text that cannot be stored - a NUL (\\u0000) or an unpaired surrogate - in any body field, path or query "
    "value is a 400 naming the field (every string's pattern excludes NUL). Rules a schema cannot state are in "
    "the descriptions of their fields; they are 400s naming the field too."
)

# The NUL rule as a pattern, for every string without a format or a closed set of values; a not-blank
# string's pattern ("[^<blank>]", contracts.validation.NotBlank) becomes the same with a non-blank
# character somewhere. JSON Schema applies a pattern as a search, so these are anchored.
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = rf"^[^\x00]*[^\x00{BLANK_CHARACTERS}][^\x00]*$"
_NOT_BLANK_SEARCH = NotBlank().regex.pattern  # what apispec writes for a NotBlank validator
# A URL (format "url": marshmallow's Url, or an http(s) link) as the server surely takes it: http(s),
# a host with a top-level domain, a plain path. Other URLs the server takes are not excluded from use,
# only from what the document promises.
URL_PATTERN = r"^https?://(?:[a-z0-9]{1,20}\.){1,3}[a-z]{2,6}(?:/[A-Za-z0-9._~-]{0,40}){0,5}$"

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
        responses["503"] = _error(
            "A service did not answer in time or is not running; 'details.outcome' is "
            "'not_done' (certainly not carried out: retry) or 'unknown' (it may have been: "
            f"retry with the same {IDEMPOTENCY_HEADER})"
        )
    responses["default"] = _error("Unexpected error (internal_error)")

    op = {
        "operationId": name,
        "summary": route.summary,
        "tags": [route.tag] if route.tag else [],
        # an id in the path is never blank (identity refuses a blank case id with a 400)
        "parameters": [
            {
                "name": var,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NOT_BLANK_PATTERN},
            }
            for var in path_variables(route.url)
        ],
        "responses": responses,
        "security": [{SECURITY_SCHEME: []}] if route.auth else [],
    }
    op["parameters"].append(
        {
            "name": CORRELATION_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 64},
            "description": "Trace id: 1-64 visible ASCII characters; a new one is made when absent or not like that",
        }
    )
    if route.idempotent:
        op["parameters"].append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
                "description": "Send one (e.g. a UUID) with every creating request: a retry with "
                "the same key creates nothing twice (also after a 503 whose outcome is unknown). Longer keys are cut to "
                f"{IDEMPOTENCY_KEY_MAX} characters.",
            }
        )
    if route.query is not None:
        op["parameters"].append({"in": "query", "schema": route.query})
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
    elif route.body_media:
        op["requestBody"] = {"required": True, "content": {media: {"schema": _BINARY} for media in route.body_media}}
    return op


def _rules_of_collections(self, field, ret, **kwargs):
    """apispec attribute function: what our validators of lists and dicts mean in JSON Schema.
    ``unique`` -> uniqueItems; a Dict's Length -> min/maxProperties (apispec writes min/maxLength);
    a Dict whose keys are a closed set -> those properties only."""
    extra = {}
    if isinstance(field, fields.List) and any(v is unique for v in field.validators):
        extra["uniqueItems"] = True
    if isinstance(field, fields.Dict):
        if "minLength" in ret:
            extra["minProperties"] = ret.pop("minLength")
        if "maxLength" in ret:
            extra["maxProperties"] = ret.pop("maxLength")
        key_field = field.key_field
        choices = next(
            (v.choices for v in (key_field.validators if key_field else ()) if isinstance(v, validate.OneOf)), None
        )
        if choices is not None:
            value = ret.get("additionalProperties") or {}
            extra["properties"] = {choice: value for choice in choices}
            extra["additionalProperties"] = False
    return extra


def _state_text_rules(node):
    """Every string schema of the document (bodies, parameters, components) without a format or an
    enum gets the NUL rule as its pattern; a not-blank one the not-blank pattern with it; a URL the
    URL pattern."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "url" and "pattern" not in node:
            node["pattern"] = URL_PATTERN
        elif node.get("type") == "string" and "format" not in node and "enum" not in node:
            pattern = node.get("pattern")
            if pattern is None:
                node["pattern"] = NO_NUL_PATTERN
            elif pattern == _NOT_BLANK_SEARCH:
                node["pattern"] = NOT_BLANK_PATTERN
        for value in node.values():
            _state_text_rules(value)
    elif isinstance(node, list):
        for value in node:
            _state_text_rules(value)


def _state_schema_rules(document, converter):
    """Rules of a whole schema, declared on the marshmallow class as ``OPENAPI_RULES`` (e.g.
    ``{"minProperties": 1}`` for "give at least one field"), merged into its component."""
    components = document.get("components", {}).get("schemas", {})
    for key, name in converter.refs.items():
        rules = getattr(key[0], "OPENAPI_RULES", None)
        if rules and name in components:
            components[name].update(rules)


def build(service_cls):
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": DESCRIPTION},
    )
    plugin.converter.add_attribute_function(_rules_of_collections)
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "The access_token of POST /api/v1/auth/sign-in"},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    paths = {}
    for name, route in routes(service_cls):
        paths.setdefault(openapi_path(route.url), {})[route.method.lower()] = operation(name, route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _state_schema_rules(document, plugin.converter)
    _state_text_rules(document)
    return document


def document(service_cls):
    """The document, built once per service class."""
    if service_cls not in _cache:
        _cache[service_cls] = build(service_cls)
    return _cache[service_cls]
