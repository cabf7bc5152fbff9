"""What a visitor sees: the home page, the roll of mentors, registration, sign-in and recovery."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for

from services.web.core import (
    FormState,
    api,
    current_user,
    remember_user,
    render,
    safe_next,
    sign_in_session,
    sign_out_session,
    t,
)
from services.web.gateway import ApiError

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> Any:
    return render("public/home.html")


@bp.get("/health")
def health() -> Any:
    """This client is up (the gateway's own readiness is its /ready)."""
    return {"status": "ok"}


@bp.get("/mentors")
def mentors() -> Any:
    rubric = request.args.get("rubric") or None
    listing = api().get("/api/v1/mentors", params={"rubric": rubric})
    items = listing.get("items", listing) if isinstance(listing, dict) else listing
    return render("public/mentors.html", mentors=items, rubric=rubric)


@bp.get("/mentors/<uuid:mentor_id>")
def mentor(mentor_id: Any) -> Any:
    profile = api().get(f"/api/v1/mentors/{mentor_id}")
    return render("public/mentor.html", mentor=profile)


@bp.get("/mentors/<uuid:mentor_id>/photo")
def mentor_photo(mentor_id: Any) -> Any:
    """The photo through this site: the page's CSP loads images from here only."""
    answer = api().raw("GET", f"/api/v1/mentors/{mentor_id}/photo")
    if answer.status_code != 200 or answer.headers.get("Content-Type") not in ("image/jpeg", "image/png"):
        abort(404)
    response = Response(answer.content, mimetype=answer.headers["Content-Type"])
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    form = FormState.from_request()
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        try:
            answer = api().post(
                "/api/v1/auth/sign-in", {"email": form.get("email").strip(), "password": form.get("password")}
            )
        except ApiError as error:
            if error.status == 401:  # wrong e-mail or password: a form error, not an expired session
                form.status, form.banner = 400, t("sign_in.wrong")
                form.values.pop("password", None)
                return render("public/sign_in.html", form.status, form=form, next=target)
            form.fail(error)
            form.values.pop("password", None)
            return render("public/sign_in.html", form.status, form=form, next=target)
        sign_in_session(answer["access_token"], answer["user"])
        return redirect(target, code=303)
    return render("public/sign_in.html", form=form, next=target)


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    form = FormState.from_request(prefill={"role": request.args.get("role", "mentee")})
    if request.method == "POST":
        payload = {name: form.get(name).strip() for name in ("email", "first_name", "last_name", "patronymic")}
        payload.update(password=form.get("password"), role=form.get("role"))
        if not payload["patronymic"]:
            payload.pop("patronymic")
        try:
            api().post("/api/v1/auth/register", payload)
        except ApiError as error:
            form.fail(error)
            form.values.pop("password", None)
            return render("public/register.html", form.status, form=form)
        return render("public/registered.html", email=payload["email"])
    return render("public/register.html", form=form)


@bp.post("/sign-out")
def sign_out() -> Any:
    if current_user():
        try:
            api().post("/api/v1/auth/sign-out")
        except ApiError:
            pass  # the session ends here whatever the gateway says
    sign_out_session()
    return redirect(url_for("public.home"), code=303)


@bp.post("/language")
def language() -> Any:
    lang = request.form.get("lang")
    response = redirect(safe_next(request.form.get("next")), code=303)
    if lang in ("ru", "en"):
        response.set_cookie(
            "lang", lang, max_age=365 * 86400, samesite="Lax", secure=current_app.config["WEB"].cookie_secure
        )
    return response


@bp.get("/verify-email")
def verify_email() -> Any:
    """The link of the verification e-mail: confirms it with one POST, shown as a page."""
    token = request.args.get("token", "")
    try:
        api().post("/api/v1/auth/email-verification", {"token": token})
    except ApiError as error:
        if error.status in (400, 404):
            return render("public/verified.html", 400, ok=False)
        raise
    user = current_user()
    if user:
        user["email_verified"] = True
        remember_user(user)
    return render("public/verified.html", ok=True)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> Any:
    form = FormState.from_request()
    if request.method == "POST":
        try:
            api().post("/api/v1/auth/password-reset", {"email": form.get("email").strip()})
        except ApiError as error:
            form.fail(error)
            return render("public/forgot_password.html", form.status, form=form)
        return render("public/forgot_password.html", form=form, sent=True)
    return render("public/forgot_password.html", form=form)


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> Any:
    form = FormState.from_request(prefill={"token": request.args.get("token", "")})
    if request.method == "POST":
        try:
            api().post(
                "/api/v1/auth/password-reset/confirm",
                {"token": form.get("token"), "new_password": form.get("new_password")},
            )
        except ApiError as error:
            form.fail(error)
            form.values.pop("new_password", None)
            return render("public/reset_password.html", form.status, form=form)
        sign_out_session()
        flash("reset.done", "success")
        return redirect(url_for("public.sign_in"), code=303)
    return render("public/reset_password.html", form=form)
