"""The real platform in this process for gateway tests over real HTTP: the five services and
the gateway (on a free port) as nameko containers on the session's broker and databases.

    @pytest.fixture(scope="module")
    def api(start_module_service):
        return start_platform(start_module_service)
"""

import base64
import json
import uuid

import requests

from services.cases.service import CasesService
from services.gateway.service import GatewayService
from services.identity.service import IdentityService
from services.library.service import LibraryService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.accounts import accepted, verify_over_http
from tests.support import eventually, free_port

BACKENDS = (IdentityService, MatchingService, CasesService, NotificationsService, LibraryService)
PASSWORD = "correct horse battery"


class Api:
    """requests against one gateway, with the sign-up helpers the tests share."""

    def __init__(self, url):
        self.url = url
        self.session = requests.Session()

    def __call__(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def register(self, role="mentee", verify=True, **fields):
        """A new user of ``role``: ``(user, access token)``; its e-mail verified by the link e-mailed
        to it (through the session's SMTP catcher) unless ``verify`` is false."""
        email = f"{role}-{uuid.uuid4().hex[:12]}@example.org"
        form = {
            "email": email,
            "password": PASSWORD,
            "role": role,
            "first_name": "Anna",
            "last_name": "Petrova",
            "patronymic": "",
        }
        form.update(fields)
        created = self("POST", "/api/v1/auth/register", json=form)
        assert created.status_code == 202, created.text
        assert created.json() == accepted(form["email"]), created.text
        if verify:
            verified = verify_over_http(self, form["email"])
            assert verified.status_code == 200 and verified.json() == {"verified": True}, verified.text
        signed = self("POST", "/api/v1/auth/sign-in", json={"email": form["email"], "password": form["password"]})
        assert signed.status_code == 200, signed.text
        return signed.json()["user"], signed.json()["access_token"]

    def moderator(self, test_env):
        """A moderator (never self-registered: made as the operator command does): its access token."""
        from services.identity.admin import create_moderator, open_store

        email = f"moderator-{uuid.uuid4().hex[:12]}@example.org"
        store = open_store(test_env.database_url("identity"))
        try:
            create_moderator(
                store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"}
            )
        finally:
            store.close()
        return self.sign_in(email)

    def sign_in(self, email, password=PASSWORD):
        signed = self("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})
        assert signed.status_code == 200, signed.text
        return signed.json()["access_token"]


def start_platform(start, backends=BACKENDS, **gateway_config):
    """Start ``backends`` and a gateway with ``start`` (start_service / start_module_service);
    the Api once every backend answers the gateway's /ready."""
    for service in backends:
        start(service)
    port = free_port()
    start(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", CORS_ALLOW_ORIGIN="*", **gateway_config)
    api = Api(f"http://127.0.0.1:{port}")
    if backends == BACKENDS:
        eventually(lambda: api("GET", "/ready").status_code == 200, timeout=60, message="the platform is ready")
    return api


def assert_error(response, status, code):
    """The platform's one error shape: ``{"error": {"code", "message", "fields"[, "details"]}}``."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]) <= {"code", "message", "fields", "details"}
    assert body["error"]["code"] == code, body
    assert response.headers["X-Correlation-ID"]
    return body["error"]


def b64(data):
    """Unpadded base64url, as itsdangerous and JWT write their parts."""
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
