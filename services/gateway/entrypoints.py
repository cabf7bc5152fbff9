"""The gateway's HTTP entrypoint and web server (the nameko-examples gateway pattern, extended).

``@http(method, url, body=..., query=..., returns=..., status=..., auth=...)`` declares a route
once; the same declaration drives the request handling and the OpenAPI document:

- before the worker runs, the entrypoint authenticates the bearer token (``auth``), validates
  the query string and the JSON body with their schemas, and passes ``actor``, ``query`` and
  ``body`` to the handler with the path values - no RPC ever sees unvalidated input (query
  parameters the schema does not name, e.g. cache-busters, are dropped, not refused);
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
from werkzeug.exceptions import HTTPException, NotFound as WerkzeugNotFound
from werkzeug.routing import Map, UnicodeConverter
from werkzeug.wrappers import Request, Response

from contracts.errors import PlatformError, ServiceUnavailable
from contracts.validation import load
from services.common.logs import CORRELATION_HEADER, get_logger
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
        try:
            if request.method == "OPTIONS":
                allowed = adapter.allowed_methods()
                if not allowed:
                    raise WerkzeugNotFound()
                response = h.preflight_response(allowed)
            else:
                provider, values = adapter.match()
                request.path_values = values
                response = provider.handle_request(request)
        except HTTPException as exc:
            response = h.http_exception_response(exc)
        except Exception as exc:  # never a traceback to the client
            log.error("request_failed", correlation_id=correlation_id, exc_info=exc)
            response = h.error_response(exc)
        config = self.server.container.config
        response.headers.update(h.cors_headers(config.get("CORS_ALLOW_ORIGIN", "*"),
                                               request.headers.get("Origin")))
        response.headers[CORRELATION_HEADER] = correlation_id
        response.headers.setdefault("Cache-Control", "no-store")
        (log.debug if request.path in QUIET_PATHS else log.info)(
            "http_request", method=request.method, path=request.path, status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1), correlation_id=correlation_id)
        return response(environ, start_response)


class GatewayWebServer(WebServer):

    def get_wsgi_app(self):
        return GatewayWsgiApp(self)

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
            request.headers.get(CORRELATION_HEADER))
        return {"correlation_id": correlation_id}


# ---- the entrypoint -----------------------------------------------------------------------

class HttpEntrypoint(HttpRequestHandler):
    server = GatewayWebServer()

    def __init__(self, method, url, body=None, query=None, returns=None, status=200, auth=True,
                 summary="", tag="", **kwargs):
        super().__init__(method, url, **kwargs)
        self.route = Route(method, url, body, query, returns, status, auth, summary, tag)
        self.tokens = None

    def setup(self):
        super().setup()
        if self.route.auth:
            config = self.container.config
            self.tokens = TokenSigner(config["TOKEN_SECRET"], config.get("TOKEN_TTL_SECONDS", 3600))

    def get_entrypoint_parameters(self, request):
        """Authenticate and validate (pure, no I/O): the handler gets only checked input."""
        kwargs = dict(request.path_values)
        route = self.route
        if route.auth:
            kwargs["actor"] = h.authenticate(self.tokens, request.headers.get("Authorization"))
        if route.query is not None:
            kwargs["query"] = load(route.query(unknown=EXCLUDE), request.args.to_dict(), "query")
        if route.body is not None:
            kwargs["body"] = load(route.body(), h.parse_json_body(request.get_data()))
        return (request,), kwargs

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
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=functools.partial(self.handle_result, event))
        except ContainerBeingKilled:
            return h.error_response(ServiceUnavailable("The gateway is shutting down; try again."))
        try:
            result = event.wait()
        except Exception as exc:  # already logged in full by nameko and CorrelationContext
            return self.response_from_exception(exc)
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
        payload = route.returns().dump(result) if route.returns is not None else result
        return h.json_response(payload, route.status)

    def response_from_exception(self, exc):
        if isinstance(exc, HTTPException):
            return h.http_exception_response(exc)
        return h.error_response(exc)


def _log_failure(exc, **context):
    """Refusals (4xx) at info without a traceback; 5xx PlatformErrors at warning; bugs in full."""
    if isinstance(exc, HTTPException) or (isinstance(exc, PlatformError) and exc.status < 500):
        log.info("request_refused", code=getattr(exc, "code", None),
                 reason=getattr(exc, "message", None) or getattr(exc, "description", None), **context)
    elif isinstance(exc, PlatformError):
        log.warning("request_failed", code=exc.code, reason=exc.message, **context)
    else:
        log.error("request_failed", exc_info=exc, **context)


def http(method, url, **route):
    """Declare a gateway route (see the module docstring); the handler's PlatformErrors
    become its result, so nameko does not log a refusal as a worker failure with a traceback."""

    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, request, **kwargs):
            try:
                return fn(self, request, **kwargs)
            except PlatformError as exc:
                _log_failure(exc)  # the worker's correlation id is bound
                return exc
        return HttpEntrypoint.decorator(method, url, **route)(handler)

    return decorate
