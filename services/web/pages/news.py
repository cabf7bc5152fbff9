"""News (the information portal): everyone reads published items, newest first, a page at a time;
moderators write, edit, withdraw and read every version (the editor's list is /news/desk).

A moderator reading an item gets it through the history route, which shows scheduled and withdrawn
items too (the public route answers 404 for them: the public never learns of a withdrawn item)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request, url_for

from services.web.core import FormState, api, current_user, redirect_to, render, signed_in
from services.web.gateway import ApiError
from services.web.pages.community import local_input, utc_iso
from services.web.templating import RUBRICS

bp = Blueprint("news", __name__)

PAGE = 20
STATES = ("scheduled", "published", "withdrawn")


def _is_moderator() -> bool:
    return (current_user() or {}).get("role") == "moderator"


def _filter(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def news_payload(form: FormState, item: dict[str, Any] | None = None) -> dict[str, Any]:
    """The editor's form as the gateway takes it. A new item without a time is published now; an
    item already published keeps its time (the field is not shown, so not sent)."""
    payload: dict[str, Any] = {
        "title": form.get("title").strip(),
        "text": form.text("text").strip(),
        "rubrics": form.getlist("rubrics"),
        "meeting_link": form.get("meeting_link").strip() or None,
    }
    if item is None or item.get("state") == "scheduled":
        payload["publish_at"] = utc_iso(form.get("publish_at"))
    if item is None:
        payload = {k: v for k, v in payload.items() if v not in (None, "")}
    return payload


@bp.get("/news")
def news() -> Any:
    rubric = _filter(request.args.get("rubric"), RUBRICS)
    page = api().get(
        "/api/v1/news", params={"limit": PAGE, "rubric": rubric, "cursor": request.args.get("cursor") or None}
    )
    next_url = url_for("news.news", rubric=rubric, cursor=page["next_cursor"]) if page.get("next_cursor") else None
    return render(
        "news/list.html", items=page.get("items", []), rubric=rubric, next_url=next_url, moderator=_is_moderator()
    )


@bp.get("/news/desk")
@signed_in("moderator")
def desk() -> Any:
    state = _filter(request.args.get("state"), STATES)
    page = api().get(
        "/api/v1/news/all", params={"limit": PAGE, "state": state, "cursor": request.args.get("cursor") or None}
    )
    next_url = url_for("news.desk", state=state, cursor=page["next_cursor"]) if page.get("next_cursor") else None
    return render("news/desk.html", items=page.get("items", []), state=state, states=STATES, next_url=next_url)


@bp.route("/news/new", methods=["GET", "POST"])
@signed_in("moderator")
def new_item() -> Any:
    form = FormState.from_request()
    if request.method == "POST":
        try:
            item = api().post("/api/v1/news", news_payload(form), idempotency_key=form.key)
        except ApiError as error:
            form.fail(error)
            return render("news/form.html", form.status, form=form, item=None)
        flash("news.saved", "success")
        return redirect_to("news.item", item_id=item["id"])
    return render("news/form.html", form=form, item=None)


def _history(item_id: Any) -> dict[str, Any]:
    return api().get(f"/api/v1/news/{item_id}/history")


@bp.get("/news/<uuid:item_id>")
def item(item_id: Any) -> Any:
    if _is_moderator():
        return render("news/item.html", item=_history(item_id)["item"], moderator=True, withdraw_form=FormState())
    return render("news/item.html", item=api().get(f"/api/v1/news/{item_id}"), moderator=False)


@bp.route("/news/<uuid:item_id>/edit", methods=["GET", "POST"])
@signed_in("moderator")
def edit(item_id: Any) -> Any:
    current = _history(item_id)["item"]
    if current["state"] == "withdrawn":
        raise ApiError(409, "conflict")
    form = FormState.from_request(
        prefill={
            **{k: current.get(k) for k in ("title", "text", "rubrics")},
            "meeting_link": current.get("meeting_link") or "",
            "publish_at": local_input(current.get("publish_at")),
        }
    )
    if request.method == "POST":
        try:
            api().patch(f"/api/v1/news/{item_id}", news_payload(form, current))
        except ApiError as error:
            form.fail(error)
            return render("news/form.html", form.status, form=form, item=current)
        flash("news.saved", "success")
        return redirect_to("news.item", item_id=item_id)
    return render("news/form.html", form=form, item=current)


@bp.post("/news/<uuid:item_id>/withdraw")
@signed_in("moderator")
def withdraw(item_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/news/{item_id}/withdrawal", {"reason": form.text("reason").strip()})
    except ApiError as error:
        if error.status != 400:
            raise
        form.fail(error)
        return render("news/item.html", form.status, item=_history(item_id)["item"], moderator=True, withdraw_form=form)
    flash("news.withdrawn.done", "success")
    return redirect_to("news.item", item_id=item_id)


@bp.get("/news/<uuid:item_id>/history")
@signed_in("moderator")
def history(item_id: Any) -> Any:
    found = _history(item_id)
    return render("news/history.html", item=found["item"], versions=found["versions"])
