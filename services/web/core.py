"""What every page uses: the gateway for this request, the person, rendering, and forms.

A page handler is thin: it reads the form, calls the gateway, and renders. Failures are handled
in one place:

- ``ApiError`` raised while *showing* a page goes to the app's error handler (services/web/app.py):
  401 -> sign-in and back, 403 -> "not allowed", 404 -> "not found", 503 -> "try again".
- while *submitting* a form, ``FormState.fail(error)`` keeps everything the person typed, puts each
  field's translated error next to that field, and a banner for 409 (reload offered), 503 (sending
  again is safe: the same Idempotency-Key is kept) and 429; a 401 stashes the form and goes to
  sign-in, which returns to the page with the form filled in again.
"""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from services.web import i18n
from services.web.gateway import ApiError, Gateway

STASH_LIMIT = 3000  # bytes of form text kept across a sign-in (the session is a cookie)


def language() -> str:
    lang = request.cookies.get("lang") or current_app.config["WEB"].default_language
    return lang if lang in i18n.LANGUAGES else "ru"


def t(key: str, **values: Any) -> str:
    return i18n.translate(language(), key, **values)


def api() -> Gateway:
    """The gateway, acting for the person of this browser request."""
    if "api" not in g:
        settings = current_app.config["WEB"]
        g.api = Gateway(
            settings.gateway_url,
            settings.gateway_timeout,
            token=session.get("token"),
            client_address=request.remote_addr,
            correlation_id=g.get("correlation_id"),
            language=language(),
            proxy_secret=settings.proxy_secret,
        )
    return g.api


def current_user() -> dict[str, Any] | None:
    """The signed-in person as the session remembers them (id, role, names); None for a visitor."""
    return session.get("user") if session.get("token") else None


def sign_in_session(token: str, user: dict[str, Any]) -> None:
    """A fresh session for ``token``; a form stashed when the last one ended is kept for its page."""
    stash = session.get("stash")
    session.clear()
    if stash:
        session["stash"] = stash
    session.permanent = True
    session["token"] = token
    remember_user(user)


def remember_user(user: dict[str, Any]) -> None:
    session["user"] = {
        k: user.get(k) for k in ("id", "role", "first_name", "last_name", "patronymic", "email_verified")
    }


def sign_out_session() -> None:
    lang = request.cookies.get("lang")
    session.clear()
    if lang:
        g.keep_lang = lang


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    if not target:
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.home")
    return target


class SignInRequired(Exception):
    """Raised to leave for sign-in; the app's handler redirects with ``next``."""


def signed_in(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only for a signed-in person (of one of ``roles``, if given); else sign-in or "not allowed"."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                raise SignInRequired()
            if roles and user.get("role") not in roles:
                raise ApiError(403, "forbidden")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def render(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, **context), status


class FormState:
    """A form's values, its errors and its Idempotency-Key, kept across a failed submission."""

    def __init__(self, values: MultiDict | None = None, key: str | None = None):
        self.values: MultiDict = values if values is not None else MultiDict()
        self.key = key or uuid.uuid4().hex
        self.errors: dict[str, list[str]] = {}
        self.banner: str | None = None
        self.banner_kind = "error"
        self.conflict = False
        self.status = 200

    @classmethod
    def from_request(cls, prefill: dict[str, Any] | None = None) -> "FormState":
        """On POST the submitted values; on GET a form stashed before a sign-in, else ``prefill``."""
        if request.method == "POST":
            return cls(MultiDict(request.form), request.form.get("idempotency_key"))
        stashed = session.get("stash")
        if stashed and stashed.get("path") == request.path:  # another page's form waits for its own
            session.pop("stash")
            if stashed.get("user_id") == (current_user() or {}).get("id"):  # never another person's text
                return cls(MultiDict(stashed["values"]), stashed.get("key"))
        values = MultiDict()
        for name, value in (prefill or {}).items():
            if isinstance(value, (list, tuple)):
                for item in value:
                    values.add(name, "" if item is None else str(item))
            elif isinstance(value, bool):
                values.add(name, "on" if value else "")
            elif value is not None:
                values.add(name, str(value))
        return cls(values)

    # -- reading -----------------------------------------------------------------------
    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.values.getlist(name)

    def text(self, name: str) -> str:
        return self.values.get(name, "").replace("\r\n", "\n")

    def checked(self, name: str) -> bool:
        return self.values.get(name) in ("on", "true", "1", "yes")

    def integer(self, name: str) -> int | str | None:
        """An int when it reads as one; else the text itself, for the gateway to name the field."""
        raw = self.values.get(name, "").strip()
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            return raw

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    # -- failing -----------------------------------------------------------------------
    def fail(self, error: ApiError) -> "FormState":
        """Record ``error`` for re-rendering the form as typed; 401 leaves for sign-in."""
        lang = language()
        self.status = error.status
        if error.status == 401:
            self.stash()
            raise SignInRequired()
        if error.status == 400:
            self.errors = i18n.field_errors(lang, error.fields)
            self.banner = i18n.translate(lang, "error.form")
            if not self.errors:
                self.banner = (
                    i18n.translate(lang, f"error.code.{error.code}")
                    if i18n.has(f"error.code.{error.code}")
                    else i18n.translate(lang, "error.field.invalid")
                )
        elif error.status == 409:
            self.conflict = True
            self.banner = i18n.translate(lang, "error.conflict")
            self.errors = i18n.field_errors(lang, error.fields)
        elif error.status == 503:
            self.banner = i18n.translate(
                lang, "error.unavailable.unknown" if error.outcome_unknown else "error.unavailable"
            )
        elif error.status == 429:
            self.banner = (
                i18n.translate(lang, "error.too_many", seconds=error.retry_after)
                if error.retry_after
                else i18n.translate(lang, "error.too_many.later")
            )
        else:
            code_key = f"error.code.{error.code}"
            self.banner = (
                i18n.translate(lang, code_key)
                if i18n.has(code_key)
                else i18n.translate(
                    lang,
                    "error.forbidden"
                    if error.status == 403
                    else "error.not_found"
                    if error.status == 404
                    else "error.internal",
                )
            )
            self.errors = i18n.field_errors(lang, error.fields)
        return self

    def stash(self) -> None:
        values = [(k, v) for k, v in self.values.items(multi=True) if k != "csrf_token"]
        if sum(len(k) + len(v.encode()) for k, v in values) <= STASH_LIMIT:
            session["stash"] = {
                "path": request.path,
                "values": values,
                "key": self.key,
                "user_id": (session.get("user") or {}).get("id"),
            }


def redirect_to(endpoint: str, **values: Any) -> Any:
    return redirect(url_for(endpoint, **values), code=303)
