"""The browser client's Flask application: pages, security headers, CSRF, errors.

Security, as the platform promises it to people:
- the access token lives only in the session cookie: signed, HttpOnly, SameSite=Lax, Secure when
  ``WEB_COOKIE_SECURE`` (set it behind TLS); never in page script or localStorage;
- every state-changing request carries a CSRF token (Flask-WTF's CSRFProtect);
- a Content-Security-Policy with no inline script or style at all, frames refused;
- Jinja2 autoescapes every template: what a person wrote is shown as text, never as markup.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.web import i18n
from services.web import settings as web_settings
from services.web.core import SignInRequired, current_user, language, render, t
from services.web.gateway import ApiError
from services.web.templating import register_template_helpers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

csrf = CSRFProtect()


def create_app(settings: web_settings.WebSettings | None = None) -> Flask:
    settings = settings or web_settings.load()
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config.update(
        WEB=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="mentor_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # the cookie is written only when the session changes: a background request (the inbox
        # badge's refresh) answered after a sign-out must not set the old session back
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: a long form is never refused for its age
        WTF_CSRF_SSL_STRICT=settings.cookie_secure,
        MAX_CONTENT_LENGTH=3 * 1024 * 1024,  # a 2 MB photo and its multipart wrapping
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    csrf.init_app(app)
    register_template_helpers(app)
    _register_pages(app)
    _register_errors(app)

    @app.before_request
    def correlate() -> None:
        g.correlation_id = uuid.uuid4().hex

    @app.after_request
    def secure_headers(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if g.get("keep_lang"):
            response.set_cookie("lang", g.keep_lang, max_age=365 * 86400, samesite="Lax", secure=settings.cookie_secure)
        return response

    return app


def _register_pages(app: Flask) -> None:
    """Every area of the client is a blueprint of services/web/pages/ (see PAGES there)."""
    from services.web.pages import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(SignInRequired)
    def to_sign_in(_: SignInRequired) -> Any:
        session.pop("token", None)
        session.pop("user", None)
        session["expired"] = True
        target = request.full_path if request.method == "GET" else request.path
        return redirect(url_for("public.sign_in", next=target.rstrip("?")), code=303)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Any:
        if error.status == 401:
            return to_sign_in(SignInRequired())
        lang = language()
        if error.status == 403:
            code_key = f"error.code.{error.code}"
            detail = i18n.translate(lang, code_key) if i18n.has(code_key) else t("error.forbidden")
            return render("error.html", 403, title=t("error.forbidden.title"), text=detail)
        if error.status == 404:
            return render("error.html", 404, title=t("error.not_found.title"), text=t("error.not_found"))
        if error.status == 503:
            return render(
                "error.html", 503, title=t("error.unavailable.title"), text=t("error.unavailable"), retry=True
            )
        if error.status == 429:
            text = t("error.too_many", seconds=error.retry_after) if error.retry_after else t("error.too_many.later")
            return render("error.html", 429, title=t("error.title"), text=text, retry=True)
        app.logger.warning("gateway_error status=%s code=%s", error.status, error.code)
        return render(
            "error.html", 502 if error.status >= 500 else error.status, title=t("error.title"), text=t("error.internal")
        )

    @app.errorhandler(CSRFError)
    def csrf_error(_: CSRFError) -> Any:
        return render("error.html", 400, title=t("error.title"), text=t("error.csrf"), retry=True)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Any:
        return render("error.html", 404, title=t("error.not_found.title"), text=t("error.not_found"))

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> Any:
        return render("error.html", 405, title=t("error.forbidden.title"), text=t("error.forbidden"))

    @app.errorhandler(500)
    def internal(_: Exception) -> Any:
        return render("error.html", 500, title=t("error.title"), text=t("error.internal"))


__all__ = ["create_app", "current_user"]
