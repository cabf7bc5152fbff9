"""The gateway's HTTP entrypoint and web server (the nameko-examples gateway pattern, extended).

``@http(method, url, body=..., query=..., returns=..., status=..., auth=...)`` declares a route
once; the same declaration drives the request handling and the OpenAPI document:

- before the worker runs, the entrypoint authenticates the bearer token (``auth``), validates
  the query string and the JSON body with their schemas, and passes ``actor``, ``query`` and
  ``body`` to the handler with the path values - no RPC ever sees unvalidated input (query
  parameters the schema does not name, e.g. cache-busters, are dropped, not refused);
- authentication is in two steps: the entrypoint checks the token's signature and expiry (no
  I/O: a forged or expired token costs no RPC), then the worker checks its session against the
  gateway's own view of revoked sessions and changed accounts, kept current by identity's events
  (services/gateway/sessions.py: no round trip; ``identity.authenticate`` only while that view is
  not loaded, or always with GATEWAY_SESSION_CHECK=identity); the handler gets the actor.
  ``request.client_address`` is the caller's address (X-Forwarded-For only behind
  TRUST_FORWARDED_FOR proxies);
- a route with ``body_media`` takes a raw body of those media types (an image) as ``RawBody``;
  one with ``returns_media`` answers its own werkzeug Response (the image);
- request hygiene comes first: a JSON body is ``application/json`` (else 415) of at most
  ``max_body`` bytes (else 413; 1 MiB unless the route says otherwise), bounded in nesting and
  item counts, and no text of a body, query or path holds what cannot be stored (a NUL, an
  unpaired surrogate): 400 naming the field (services/gateway/http.py);
- the handler's return value is dumped through ``returns`` (so no field the contract does not
  name leaves the gateway) with status ``status``;
- a PlatformError the handler raises (from a service, across RPC) is rendered with its status
  and logged as a refusal without a traceback; anything else is a generic 500, logged in full.

nameko's own web server answers unknown routes and wrong methods with werkzeug's HTML pages
and knows nothing of CORS. ``GatewayWebServer`` answers them in the platform's error shape,
answers a CORS preflight on every route, and stamps every response with ``X-Correlation-ID``
(the client's, or a new one, which is also the worker's and so every RPC's) and CORS headers.
"""

import functools
import time
from dataclasses import dataclass

from eventlet.event import Event
from marshmallow import EXCLUDE
from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, UnicodeConverter
from werkzeug.wrappers import Request, Response

from contracts.errors import PlatformError, ServiceUnavailable
from contracts.validation import load, schema_of
from services.common import metrics
from services.common.logs import CORRELATION_HEADER, get_logger
from services.common.rpc import OUTCOME_NOT_DONE
from services.common.tokens import TokenSigner
from services.gateway import http as h

log = get_logger(service="gateway")

CORRELATION_ENVIRON_KEY = "gateway.correlation_id"
QUIET_PATHS = ("/health", "/ready")  # probes: logged at debug only
MAX_PATH_VALUE = 64


@dataclass(frozen=True)
class Route:
    method: str
    url: str
    body: type = None
    query: type = None
    returns: type = None
    status: int = 200
    auth: bool = True
    summary: str = ""
    tag: str = ""
    max_body: int = h.MAX_BODY_BYTES  # bytes; a JSON body over it is 413
    body_media: tuple = ()  # a raw (not JSON) body of these media types, e.g. an image: handler gets RawBody
    returns_media: tuple = ()  # the handler answers a werkzeug Response of these media types itself
    errors: tuple = ()  # further statuses the route answers (409, 429...), for the OpenAPI document
    idempotent: bool = False  # honours an Idempotency-Key header (a retry creates nothing twice)


@dataclass(frozen=True)
class RawBody:
    """A raw request body (``Route.body_media``): its media type and bytes, at most ``max_body``."""

    media_type: str
    data: bytes


class ApiRequest(Request):
    max_content_length = h.MAX_BODY_BYTES


class IdConverter(UnicodeConverter):
    """Path values (ids) are 1..64 characters; a longer one is simply not a route (404)."""

    def __init__(self, map, minlength=1, maxlength=MAX_PATH_VALUE, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)


# ---- the server ---------------------------------------------------------------------------


class GatewayWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        started = time.monotonic()
        request = ApiRequest(environ, shallow=True)
        correlation_id = h.correlation_id_from(request.headers.get(CORRELATION_HEADER))
        environ[CORRELATION_ENVIRON_KEY] = correlation_id
        adapter = self.url_map.bind_to_environ(environ)
        route = metrics.UNMATCHED_ROUTE
        try:
            if request.method == "OPTIONS":
                allowed = adapter.allowed_methods()
                if not allowed:
                    raise WerkzeugNotFound()
                response = h.preflight_response(allowed)
            else:
                provider, values = adapter.match()
                route = provider.url  # the rule's template: one series per route, whatever the ids
                request.path_values = values
                response = provider.handle_request(request)
        except HTTPException as exc:
            response = h.http_exception_response(exc)
        except Exception as exc:  # never a traceback to the client
            log.error("request_failed", correlation_id=correlation_id, exc_info=exc)
            response = h.error_response(exc)
        config = self.server.container.config
        response.headers.update(h.cors_headers(config.get("CORS_ALLOW_ORIGIN", "*"), request.headers.get("Origin")))
        response.headers[CORRELATION_HEADER] = correlation_id
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")  # JSON text is never sniffed as HTML
        took = time.monotonic() - started
        (log.debug if request.path in QUIET_PATHS else log.info)(
            "http_request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round(took * 1000, 1),
            correlation_id=correlation_id,
        )
        metrics.http_answered(
            request.method if route != metrics.UNMATCHED_ROUTE else "-", route, response.status_code, took
        )
        return response(environ, start_response)


class GatewayWebServer(WebServer):
    def get_wsgi_app(self):
        return GatewayWsgiApp(self)

    def unregister_provider(self, provider):
        """A stopping container stops its entrypoints first: stop taking connections right then.
        nameko's server keeps accepting until every worker has finished, so a steady load would
        keep a SIGTERMed gateway alive past its grace period; now requests already accepted finish
        and new ones are refused (a client or load balancer retries them elsewhere)."""
        self._stop_accepting()
        super().unregister_provider(provider)

    def _stop_accepting(self):
        if self._is_accepting and self._gt is not None:
            self._is_accepting = False
            self._gt.kill()
            self._sock.close()

    def make_url_map(self):
        # no redirects (a wrong path is a plain 404), and bounded path values
        url_map = Map(merge_slashes=False, converters={"default": IdConverter, "string": IdConverter})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map

    def context_data_from_headers(self, request):
        correlation_id = request.environ.get(CORRELATION_ENVIRON_KEY) or h.correlation_id_from(
            request.headers.get(CORRELATION_HEADER)
        )
        return {"correlation_id": correlation_id}


# ---- the entrypoint -----------------------------------------------------------------------


class HttpEntrypoint(HttpRequestHandler):
    server = GatewayWebServer()

    def __init__(
        self,
        method,
        url,
        body=None,
        query=None,
        returns=None,
        status=200,
        auth=True,
        summary="",
        tag="",
        max_body=h.MAX_BODY_BYTES,
        body_media=(),
        returns_media=(),
        errors=(),
        idempotent=False,
        **kwargs,
    ):
        super().__init__(method, url, **kwargs)
        self.route = Route(
            method,
            url,
            body,
            query,
            returns,
            status,
            auth,
            summary,
            tag,
            max_body,
            tuple(body_media),
            tuple(returns_media),
            tuple(errors),
            idempotent,
        )
        # Schemas built once, not per request: building one (fields copied, nested schemas bound) cost
        # more than using it (bench/README.md, the gateway's profile). Body and response schemas are
        # the classes' shared instances (``schema_of``); a query schema is the route's own, lenient one.
        self.schemas = {
            "body": schema_of(body) if body else None,
            "query": query(unknown=EXCLUDE) if query else None,
            "returns": schema_of(returns) if returns else None,
        }
        self.tokens = None
        self.trusted_proxies = 0
        self.web_proxy_secret = ""

    def setup(self):
        super().setup()
        config = self.container.config
        self.trusted_proxies = h.trusted_proxy_count(config.get("TRUST_FORWARDED_FOR", 0))
        self.web_proxy_secret = str(config.get("WEB_PROXY_SECRET") or "")
        if self.route.auth:
            self.tokens = TokenSigner(config["TOKEN_SECRET"], config.get("TOKEN_TTL_SECONDS", 3600))

    def get_entrypoint_parameters(self, request):
        """Authenticate and validate (pure, no I/O): the handler gets only checked input."""
        kwargs = dict(request.path_values)
        route = self.route
        proxies = self.trusted_proxies + h.web_proxy_hops(
            request.headers.get(h.WEB_PROXY_HEADER), self.web_proxy_secret
        )
        request.client_address = h.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), proxies)
        if route.auth:
            # the signature and expiry here, without I/O; the session in the worker (see http())
            request.token_claims = h.authenticate(self.tokens, request.headers.get("Authorization"))
            kwargs["actor"] = {"user_id": request.token_claims["user_id"], "role": request.token_claims["role"]}
            request.access_token = h.bearer_token(request.headers.get("Authorization"))
        h.check_text_values(request.path_values)
        if route.query is not None:
            kwargs["query"] = load(self.schemas["query"], request.args.to_dict(), "query")
            h.check_text_values(kwargs["query"])
        if route.body is not None:
            kwargs["body"] = load(self.schemas["body"], self.json_body(request))
        elif route.body_media:
            kwargs["body"] = self.raw_body(request)
        return (request,), kwargs

    def raw_body(self, request):
        """A raw body of one of ``route.body_media`` (else 415), at most ``route.max_body`` bytes (else 413)."""
        limit = self.route.max_body
        media_type = h.media_type(request.headers.get("Content-Type"))
        if media_type not in self.route.body_media:
            raise h.UnsupportedMediaType(
                f"Send the body as one of {', '.join(self.route.body_media)}.",
                {"Content-Type": [f"Expected one of: {', '.join(self.route.body_media)}."]},
            )
        return RawBody(media_type, read_body(request, limit))

    def json_body(self, request):
        """The body as a JSON object: sent as application/json, at most ``route.max_body`` bytes
        (checked on Content-Length first, then while reading: a chunked body has none)."""
        limit = self.route.max_body
        content_type = request.headers.get("Content-Type")
        h.check_json_content_type(content_type, has_body=bool(request.content_length))  # before reading
        raw = read_body(request, limit)
        h.check_json_content_type(content_type, has_body=bool(raw))  # a chunked body has no length
        return h.parse_json_body(raw)

    def handle_request(self, request):
        request.shallow = False
        correlation_id = request.environ.get(CORRELATION_ENVIRON_KEY)
        try:
            context_data = self.server.context_data_from_headers(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
        except Exception as exc:
            _log_failure(exc, correlation_id=correlation_id)
            return self.response_from_exception(exc)
        event = Event()
        try:
            self.container.spawn_worker(
                self,
                args,
                kwargs,
                context_data=context_data,
                handle_result=functools.partial(self.handle_result, event),
            )
        except ContainerBeingKilled:
            return h.error_response(
                ServiceUnavailable("The gateway is shutting down; try again.", details={"outcome": OUTCOME_NOT_DONE})
            )
        try:
            result = event.wait()
        except Exception as exc:  # already logged in full by nameko and CorrelationContext
            return self.response_from_exception(h.with_outcome(exc, request.method))
        result = h.with_outcome(result, request.method)
        try:
            return self.response_from_result(result)
        except Exception as exc:  # e.g. a result its schema cannot dump
            _log_failure(exc, correlation_id=correlation_id)
            return self.response_from_exception(exc)

    def response_from_result(self, result):
        if isinstance(result, PlatformError):
            return h.error_response(result)
        if isinstance(result, Response):
            return result
        route = self.route
        payload = self.schemas["returns"].dump(result) if route.returns is not None else result
        return h.json_response(payload, route.status)

    def response_from_exception(self, exc):
        if isinstance(exc, HTTPException):
            return h.http_exception_response(exc)
        return h.error_response(exc)


def read_body(request, limit):
    """The body's bytes, at most ``limit`` (413 otherwise): refused on Content-Length before
    reading, else while reading (a chunked body has no length)."""
    if request.content_length is not None and request.content_length > limit:
        raise h.payload_too_large(limit)
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # eventlet's wsgi.input undoes the chunking but does not say so: without this
        # werkzeug would read a body of unknown length as empty
        request.environ["wsgi.input_terminated"] = True
    request.max_content_length = limit + 1  # werkzeug stops quietly at its maximum: one byte over tells
    try:
        data = request.get_data()
    except RequestEntityTooLarge:
        raise h.payload_too_large(limit) from None
    if len(data) > limit:
        raise h.payload_too_large(limit)
    return data


def _log_failure(exc, **context):
    """Refusals (4xx) at info without a traceback; 5xx PlatformErrors at warning; bugs in full."""
    if isinstance(exc, HTTPException) or (isinstance(exc, PlatformError) and exc.status < 500):
        log.info(
            "request_refused",
            code=getattr(exc, "code", None),
            reason=getattr(exc, "message", None) or getattr(exc, "description", None),
            **context,
        )
    elif isinstance(exc, PlatformError):
        log.warning("request_failed", code=exc.code, reason=exc.message, **context)
    else:
        log.error("request_failed", exc_info=exc, **context)


def http(method, url, **route):
    """Declare a gateway route (see the module docstring); the handler's PlatformErrors
    become its result, so nameko does not log a refusal as a worker failure with a traceback."""

    authenticated = route.get("auth", True)

    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, request, **kwargs):
            try:
                if authenticated:
                    # the token's session must be live: the gateway's view says so (identity's events
                    # keep it current), or identity itself while that view is not loaded; 401 otherwise.
                    # The services get the actor only; whether the e-mail is verified stays on the
                    # request (routes_people.require_verified_email)
                    session = self.sessions.session(request.token_claims)
                    if session is None:  # a session this process has not seen yet, or no view loaded
                        session = self.identity.authenticate(request.access_token)
                        self.sessions.seen(request.token_claims)
                    request.email_verified = bool(session.get("email_verified"))
                    kwargs["actor"] = {"user_id": session["user_id"], "role": session["role"]}
                    # every RPC from here on carries this actor, signed for that call (services/common/actors.py)
                    self.acting_user.act_as(dict(kwargs["actor"], email_verified=request.email_verified))
                return fn(self, request, **kwargs)
            except PlatformError as exc:
                _log_failure(exc)  # the worker's correlation id is bound
                return exc

        return HttpEntrypoint.decorator(method, url, **route)(handler)

    return decorate
