"""The signed-in person's own account: who they are, their e-mail's verification, their password,
a mentee's onboarding questionnaire (and who read it), e-mail preferences, the access log, and the
download of everything the platform holds about them (GET /api/v1/me/data), and erasing it all (DELETE
/api/v1/me)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from contracts.rubrics import ordered_rubrics
from services.web.core import (
    FormState,
    api,
    current_user,
    redirect_to,
    remember_user,
    render,
    sign_out_session,
    signed_in,
)
from services.web.gateway import ApiError

bp = Blueprint("account", __name__)

FORMS = tuple(range(1, 12))  # the school forms a mentee may teach, 1 to 11


def split_list(text: str) -> list[str]:
    """A comma- or line-separated list as typed, without blanks ("math, physics\\nart")."""
    return [item.strip() for line in text.replace("\r\n", "\n").split("\n") for item in line.split(",") if item.strip()]


def merge_item_errors(form: FormState, *names: str) -> None:
    """The gateway names an item of a list ("subjects.0"): show its error on the list's field."""
    for key in list(form.errors):
        base = key.split(".", 1)[0]
        if base in names and key != base:
            form.errors.setdefault(base, [])
            for message in form.errors.pop(key):
                if message not in form.errors[base]:
                    form.errors[base].append(message)


def _questionnaire() -> dict[str, Any] | None:
    try:
        return api().get("/api/v1/me/questionnaire")
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def _account_page(password_form: FormState, status: int = 200) -> Any:
    me = api().get("/api/v1/me")
    user = current_user()
    if user is not None and user.get("email_verified") != me.get("email_verified"):
        remember_user(me)
    missing_questionnaire = me.get("role") == "mentee" and _questionnaire() is None
    return render(
        "account/account.html", status, me=me, form=password_form, missing_questionnaire=missing_questionnaire
    )


@bp.get("/account")
@signed_in()
def account() -> Any:
    return _account_page(FormState.from_request())


@bp.get("/account/data")
@signed_in()
def my_data() -> Any:
    """The person's data as a JSON file to keep (the gateway's one document, as it is)."""
    document = api().get("/api/v1/me/data")
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"},
    )


@bp.post("/account/password")
@signed_in()
def change_password() -> Any:
    form = FormState.from_request()
    try:
        api().put(
            "/api/v1/me/password",
            {"current_password": form.get("current_password"), "new_password": form.get("new_password")},
        )
    except ApiError as error:
        form.fail(error)
        form.values.pop("current_password", None)
        form.values.pop("new_password", None)
        return _account_page(form, form.status)
    flash("account.password.changed", "success")
    return redirect_to("account.account")


@bp.route("/account/erase", methods=["GET", "POST"])
@signed_in()
def erase_account() -> Any:
    """Erase one's own data for good (DELETE /api/v1/me), confirmed with the password: a wrong one is shown
    next to the field; once erased the session ends here too and the person lands on the home page."""
    form = FormState.from_request()
    if request.method == "POST":
        try:
            api().delete("/api/v1/me", json={"password": form.get("password")})
        except ApiError as error:
            form.fail(error)
            form.values.pop("password", None)
            return render("account/erase.html", form.status, form=form)
        sign_out_session()
        flash("account.erase.done", "success")
        return redirect_to("public.home")
    return render("account/erase.html", form=form)


@bp.post("/account/verification")
@signed_in()
def resend_verification() -> Any:
    api().post("/api/v1/auth/email-verification/resend")
    flash("account.verification.sent", "success")
    return redirect_to("account.account")


@bp.route("/account/questionnaire", methods=["GET", "POST"])
@signed_in("mentee")
def questionnaire() -> Any:
    current = _questionnaire() if request.method == "GET" else None
    suggested = _own_case_rubrics() if request.method == "GET" and not (current or {}).get("rubrics") else []
    prefill = dict(current or {})
    if current:
        prefill["subjects"] = "\n".join(current.get("subjects") or [])
    elif suggested:  # a first filling starts from the rubrics of the mentee's cases, ticked and said so
        prefill["rubrics"] = suggested
    form = FormState.from_request(prefill=prefill)
    if request.method == "POST":
        payload = {
            "school": form.get("school").strip(),
            "subjects": split_list(form.get("subjects")),
            "forms_taught": [int(v) if v.isdigit() else v for v in form.getlist("forms_taught")],
            "years_of_practice": form.integer("years_of_practice"),
            "graduation_year": form.integer("graduation_year"),
            "graduation_institute": form.get("graduation_institute").strip(),
            "workload_hours_per_week": form.integer("workload_hours_per_week"),
            "rubrics": form.getlist("rubrics"),
        }
        try:
            api().put("/api/v1/me/questionnaire", payload)
        except ApiError as error:
            form.fail(error)
            merge_item_errors(form, "subjects", "forms_taught", "rubrics")
            return render("account/questionnaire.html", form.status, form=form, forms=FORMS, reads=None, filled=True)
        flash("common.saved", "success")
        return redirect_to("account.questionnaire")
    reads = api().get("/api/v1/me/questionnaire/reads").get("items", []) if current else []
    return render(
        "account/questionnaire.html",
        form=form,
        forms=FORMS,
        reads=reads,
        filled=current is not None,
        updated_at=(current or {}).get("updated_at"),
        suggested=suggested,
    )


def _own_case_rubrics() -> list[str]:
    """The rubrics of the mentee's own cases (the latest 200), in the rubricator's order: offered as
    rubrics of interest to a mentee who has declared none, ticked only on a first filling, never saved
    before the mentee saves. None when the cases service cannot say: a suggestion is no reason to fail
    the page."""
    try:
        items = api().get("/api/v1/cases", params={"limit": 200}).get("items", [])
    except ApiError as error:
        if error.status < 500:
            raise
        return []
    return ordered_rubrics(*(item.get("rubrics") or [] for item in items))


def _profile_rubrics() -> list[str]:
    """A mentor's advisory rubrics: the rubrics of interest a first news subscription starts from."""
    if (current_user() or {}).get("role") != "mentor":
        return []
    try:
        return list(api().get("/api/v1/me/mentor-profile").get("rubrics") or [])
    except ApiError as error:
        if error.status == 404:
            return []
        raise


@bp.route("/account/notifications", methods=["GET", "POST"])
@signed_in()
def notifications() -> Any:
    stored = api().get("/api/v1/me/notification-preferences")
    preferences = stored.get("items", [])
    news = stored.get("news") or {"subscribed": False, "rubrics": []}
    suggested = [] if news["subscribed"] or news["rubrics"] else _profile_rubrics()
    form = FormState.from_request(
        prefill={
            **{f"email.{p['kind']}": bool(p.get("email")) for p in preferences},
            "news.subscribed": news["subscribed"],
            "news.rubrics": news["rubrics"] or suggested,
        }
    )
    context = {"preferences": preferences, "suggested": bool(suggested)}
    if request.method == "POST":
        wanted = {p["kind"]: form.checked(f"email.{p['kind']}") for p in preferences}
        subscription = {"subscribed": form.checked("news.subscribed"), "rubrics": form.getlist("news.rubrics")}
        try:
            api().put("/api/v1/me/notification-preferences", {"email": wanted, "news": subscription})
        except ApiError as error:
            form.fail(error)
            return render("account/notifications.html", form.status, form=form, **context)
        flash("common.saved", "success")
        return redirect_to("account.notifications")
    return render("account/notifications.html", form=form, **context)


@bp.get("/account/access-log")
@signed_in()
def access_log() -> Any:
    before = request.args.get("before") or None
    page = api().get("/api/v1/me/access-log", params={"limit": 20, "before": before})
    next_url = url_for("account.access_log", before=page["next_before"]) if page.get("next_before") else None
    return render("account/access_log.html", entries=page.get("items", []), next_url=next_url)
