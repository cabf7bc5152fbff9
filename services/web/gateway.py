"""The one door to the platform: the gateway's public HTTP API, called for the person at hand.

Every call sends the person's bearer token (if signed in), the browser's address as
``X-Forwarded-For`` (the gateway throttles sign-ins per address; run it with
``TRUST_FORWARDED_FOR=1`` behind this client), the page's correlation id, and, for a creating
request, the form's ``Idempotency-Key``: a person who resubmits after a 503 creates nothing twice.

A non-2xx answer becomes ``ApiError`` carrying the gateway's structured error (``code``,
``fields``, ``details``): pages translate those, never the English ``message``.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

_local = threading.local()


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None

    def __str__(self) -> str:  # never the body: it may echo what the person typed
        return f"gateway answered {self.status} {self.code}"

    @property
    def outcome_unknown(self) -> bool:
        """A 503 after which the command may or may not have happened (retry with the same key)."""
        return self.status == 503 and (self.details.get("outcome") != "not_done")


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class Gateway:
    """Calls for one browser request: ``token`` and ``client_address`` are that person's."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        token: str | None = None,
        client_address: str | None = None,
        correlation_id: str | None = None,
        language: str | None = None,
        proxy_secret: str | None = None,
    ):
        self.base_url = base_url
        self.timeout = timeout
        self.token = token
        self.client_address = client_address
        self.correlation_id = correlation_id or uuid.uuid4().hex
        self.language = language
        self.proxy_secret = proxy_secret

    def _headers(self, idempotency_key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"X-Correlation-ID": self.correlation_id, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.client_address:
            headers["X-Forwarded-For"] = self.client_address
        if self.proxy_secret:  # the gateway then trusts this X-Forwarded-For (services/gateway/http.py)
            headers["X-Proxy-Secret"] = self.proxy_secret
        if self.language:
            headers["Accept-Language"] = self.language
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        headers.update(extra or {})
        return headers

    def raw(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """The gateway's answer as it is (photos, CSV); ApiError only when it cannot be reached."""
        params = {k: v for k, v in (params or {}).items() if v not in (None, "", [])}
        try:
            return _session().request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                data=data,
                headers=self._headers(idempotency_key, headers),
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise ApiError(503, "gateway_timeout", details={"outcome": "unknown"}) from None
        except requests.ConnectionError:
            raise ApiError(503, "gateway_unreachable", details={"outcome": "not_done"}) from None

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.raw(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        if not response.content:
            return None
        return response.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def download(self, path: str, **kwargs: Any) -> requests.Response:
        """A file the gateway answers (a survey's CSV) as it is; ApiError for an error answer."""
        response = self.raw("GET", path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, json=json if json is not None else {}, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.call("PUT", path, json=json if json is not None else {}, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.call("PATCH", path, json=json if json is not None else {}, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call("DELETE", path, **kwargs)


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json().get("error") or {}
    except ValueError:
        body = {}
    retry_after = response.headers.get("Retry-After")
    return ApiError(
        status=response.status_code,
        code=str(body.get("code") or f"http_{response.status_code}"),
        message=str(body.get("message") or ""),
        fields=body.get("fields") or {},
        details=body.get("details") or {},
        retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None,
    )
