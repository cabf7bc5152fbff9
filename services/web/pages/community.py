"""What people share beyond one case: the inbox, the library, the forum, the calendar and
direct messages between colleagues (mentors and moderators)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, flash, jsonify, request, url_for

from services.web.core import FormState, api, current_user, redirect_to, render, signed_in, t
from services.web.gateway import ApiError
from services.web.templating import RUBRICS, parse_moment

bp = Blueprint("community", __name__)

PAGE = 20
LIBRARY_KINDS = ("solved_case", "material", "article", "book", "link")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """A filter from the query string, only when it is one of ``allowed`` (else no filter)."""
    return value if value in allowed else None


def given(**fields: Any) -> dict[str, Any]:
    """The fields the person filled in: a blank one is left out, so the gateway answers "required"
    for it (its "shorter than 1 character" would read oddly next to an empty field)."""
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


def utc_iso(value: str) -> str | None:
    """A ``datetime-local`` value ("2026-12-10T15:00", read as UTC) as ISO 8601 with its offset.

    Empty is None; anything else unreadable is passed as typed, for the gateway to name the field."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def local_input(value: str | None) -> str:
    """The gateway's ISO timestamp as a ``datetime-local`` value in UTC ("2026-12-10T15:00")."""
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M")


def day_start(value: str | None) -> str | None:
    """A ``date`` filter ("2026-12-10") as the start of that day in UTC; None if not a date."""
    try:
        return datetime.strptime((value or "").strip(), "%Y-%m-%d").strftime("%Y-%m-%dT00:00:00+00:00")
    except ValueError:
        return None


def day_end(value: str | None) -> str | None:
    try:
        return datetime.strptime((value or "").strip(), "%Y-%m-%d").strftime("%Y-%m-%dT23:59:59+00:00")
    except ValueError:
        return None


# -- the inbox ---------------------------------------------------------------------------


@bp.get("/inbox")
@signed_in()
def inbox() -> Any:
    before = request.args.get("before") or None
    page = api().get(
        "/api/v1/inbox", params={"limit": PAGE, "before": before if before and UUID.match(before) else None}
    )
    items = page.get("items", [])
    next_url = url_for("community.inbox", before=page["next_before"]) if page.get("next_before") else None
    return render(
        "community/inbox.html",
        items=items,
        unread=page.get("unread_count", 0),
        next_url=next_url,
        newest=items[0]["id"] if items and not before else None,
    )


@bp.get("/inbox/unread")
def inbox_unread() -> Any:
    """The badge's JSON: a visitor (or an ended session) gets 401 JSON, never a redirect."""
    if current_user() is None:
        return jsonify({"error": {"code": "unauthorized", "message": "sign in", "fields": {}}}), 401
    try:
        unread = int(api().get("/api/v1/inbox/unread-count").get("unread", 0))
    except ApiError as error:
        status = 401 if error.status == 401 else 503
        return jsonify({"error": {"code": error.code, "message": "", "fields": {}}}), status
    return jsonify({"unread": unread, "label": t("nav.unread", count=unread)})


@bp.post("/inbox/<uuid:entry_id>/read")
@signed_in()
def inbox_read(entry_id: Any) -> Any:
    api().post(f"/api/v1/inbox/{entry_id}/read")
    return redirect_to("community.inbox")


@bp.post("/inbox/read-all")
@signed_in()
def inbox_read_all() -> Any:
    """Up to the newest entry the person saw on the page: one that arrived since stays unread."""
    up_to = request.form.get("up_to") or None
    api().post("/api/v1/inbox/read-all", {"up_to": up_to} if up_to and UUID.match(up_to) else {})
    flash("inbox.all_read", "success")
    return redirect_to("community.inbox")


# -- the library -------------------------------------------------------------------------


@bp.get("/library")
@signed_in()
def library() -> Any:
    q = (request.args.get("q") or "").strip()[:200] or None
    rubric = _choice(request.args.get("rubric"), RUBRICS)
    kind = _choice(request.args.get("kind"), LIBRARY_KINDS)
    cursor = request.args.get("cursor") or None
    page = api().get(
        "/api/v1/library", params={"q": q, "rubric": rubric, "kind": kind, "cursor": cursor, "limit": PAGE}
    )
    next_url = (
        url_for(
            "community.library",
            **{k: v for k, v in (("q", q), ("rubric", rubric), ("kind", kind)) if v},
            cursor=page["next_cursor"],
        )
        if page.get("next_cursor")
        else None
    )
    return render(
        "community/library.html",
        items=page.get("items", []),
        total=page.get("total"),
        total_exact=page.get("total_exact", True),
        q=q or "",
        rubric=rubric,
        kind=kind,
        kinds=LIBRARY_KINDS,
        next_url=next_url,
    )


@bp.get("/library/<uuid:entry_id>")
@signed_in()
def library_item(entry_id: Any) -> Any:
    item = api().get(f"/api/v1/library/{entry_id}")
    return render("community/library_item.html", item=item)


# -- the forum ---------------------------------------------------------------------------


@bp.get("/forum")
@signed_in()
def forum() -> Any:
    rubric = _choice(request.args.get("rubric"), RUBRICS)
    threads = api().get("/api/v1/forum/threads", params={"rubric": rubric}).get("items", [])
    return render("community/forum.html", threads=threads, rubric=rubric)


def _thread_page(thread_id: Any, form: FormState, hide_form: FormState | None = None, status: int = 200) -> Any:
    thread = api().get(f"/api/v1/forum/threads/{thread_id}")
    numbers = {post["id"]: index for index, post in enumerate(thread.get("posts", []), start=1)}
    return render(
        "community/thread.html",
        status,
        thread=thread,
        form=form,
        hide_form=hide_form,
        numbers=numbers,
        pseudonym=pseudonym,
    )


def pseudonym(author: dict[str, Any] | None) -> str:
    """A forum author as "Mentee 2" in the reader's language: the role's label and the gateway's number."""
    author = author or {}
    number = str(author.get("label") or "").rsplit(" ", 1)[-1]
    role = (
        t(f"forum.author.{author.get('role')}")
        if author.get("role") in ("mentee", "mentor", "moderator")
        else str(author.get("label") or "")
    )
    return f"{role} {number}" if number.isdigit() else role


@bp.route("/forum/<uuid:thread_id>", methods=["GET", "POST"])
@signed_in()
def thread(thread_id: Any) -> Any:
    form = FormState.from_request(prefill={"reply_to": request.args.get("reply_to", "")})
    if request.method == "POST":
        payload = given(text=form.text("text").strip(), reply_to=form.get("reply_to"))
        try:
            api().post(f"/api/v1/forum/threads/{thread_id}/posts", payload, idempotency_key=form.key)
        except ApiError as error:
            form.fail(error)
            return _thread_page(thread_id, form, status=form.status)
        return redirect_to("community.thread", thread_id=thread_id)
    return _thread_page(thread_id, form)


@bp.post("/forum/<uuid:thread_id>/posts/<uuid:post_id>/hide")
@signed_in("moderator")
def hide_post(thread_id: Any, post_id: Any) -> Any:
    hide_form = FormState.from_request()
    try:
        api().post(f"/api/v1/forum/posts/{post_id}/hide", given(reason=hide_form.text(f"reason.{post_id}").strip()))
    except ApiError as error:
        hide_form.fail(error)
        if "reason" in hide_form.errors:  # the field is named per post on the page (unique ids)
            hide_form.errors[f"reason.{post_id}"] = hide_form.errors.pop("reason")
        hide_form.values["post_id"] = str(post_id)
        return _thread_page(thread_id, FormState(), hide_form, status=hide_form.status)
    flash("forum.hidden.done", "success")
    return redirect_to("community.thread", thread_id=thread_id)


# -- the calendar ------------------------------------------------------------------------


@bp.get("/calendar")
@signed_in()
def calendar() -> Any:
    rubric = _choice(request.args.get("rubric"), RUBRICS)
    date_from, date_to = request.args.get("from", ""), request.args.get("to", "")
    events = (
        api()
        .get("/api/v1/calendar", params={"rubric": rubric, "from": day_start(date_from), "to": day_end(date_to)})
        .get("items", [])
    )
    return render("community/calendar.html", events=events, rubric=rubric, date_from=date_from, date_to=date_to)


def event_payload(form: FormState, partial: bool = False) -> dict[str, Any]:
    """The event form as the gateway takes it; online events keep a link, offline ones a place."""
    online = form.get("format") == "online"
    payload: dict[str, Any] = {
        "title": form.get("title").strip(),
        "description": form.text("description").strip(),
        "format": form.get("format") or None,
        "starts_at": utc_iso(form.get("starts_at")),
        "ends_at": utc_iso(form.get("ends_at")),
        "link": (form.get("link").strip() or None) if online else None,
        "place": (form.get("place").strip() or None) if not online else None,
        "rubrics": form.getlist("rubrics"),
    }
    return payload if partial else given(**payload)


@bp.route("/calendar/new", methods=["GET", "POST"])
@signed_in()
def new_event() -> Any:
    form = FormState.from_request(prefill={"format": "online"})
    if request.method == "POST":
        try:
            event = api().post("/api/v1/calendar", event_payload(form), idempotency_key=form.key)
        except ApiError as error:
            form.fail(error)
            return render("community/event_form.html", form.status, form=form, event=None)
        return redirect_to("community.event", event_id=event["id"])
    return render("community/event_form.html", form=form, event=None)


def _may_edit(event: dict[str, Any]) -> bool:
    user = current_user() or {}
    return event.get("author_id") == user.get("id") and event.get("status") != "cancelled"


@bp.get("/calendar/<uuid:event_id>")
@signed_in()
def event(event_id: Any) -> Any:
    item = api().get(f"/api/v1/calendar/{event_id}")
    user = current_user() or {}
    return render(
        "community/event.html",
        event=item,
        may_edit=_may_edit(item),
        may_cancel=item.get("status") != "cancelled" and (_may_edit(item) or user.get("role") == "moderator"),
        cancel_form=FormState(),
    )


@bp.route("/calendar/<uuid:event_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_event(event_id: Any) -> Any:
    item = api().get(f"/api/v1/calendar/{event_id}")
    if not _may_edit(item):
        raise ApiError(403, "forbidden")
    form = FormState.from_request(
        prefill={
            **{k: item.get(k) for k in ("title", "description", "format", "link", "place", "rubrics")},
            "starts_at": local_input(item.get("starts_at")),
            "ends_at": local_input(item.get("ends_at")),
        }
    )
    if request.method == "POST":
        try:
            api().patch(f"/api/v1/calendar/{event_id}", event_payload(form, partial=True))
        except ApiError as error:
            form.fail(error)
            return render("community/event_form.html", form.status, form=form, event=item)
        flash("common.saved", "success")
        return redirect_to("community.event", event_id=event_id)
    return render("community/event_form.html", form=form, event=item)


@bp.post("/calendar/<uuid:event_id>/cancel")
@signed_in()
def cancel_event(event_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/calendar/{event_id}/cancellation", {"reason": form.text("reason").strip()})
    except ApiError as error:
        if error.status != 400:
            raise
        form.fail(error)
        item = api().get(f"/api/v1/calendar/{event_id}")
        return render(
            "community/event.html", form.status, event=item, may_edit=_may_edit(item), may_cancel=True, cancel_form=form
        )
    flash("calendar.cancelled.done", "success")
    return redirect_to("community.event", event_id=event_id)


@bp.post("/calendar/<uuid:event_id>/attendance")
@signed_in()
def attend(event_id: Any) -> Any:
    """ "I'll attend" (attend=yes) or "I won't" (attend=no); back to the page the button was on."""
    if request.form.get("attend") == "no":
        api().delete(f"/api/v1/calendar/{event_id}/attendance")
    else:
        api().put(f"/api/v1/calendar/{event_id}/attendance")
    if request.form.get("back") == "list":
        return redirect_to("community.calendar")
    return redirect_to("community.event", event_id=event_id)


# -- direct messages ---------------------------------------------------------------------


def colleague_names(ids: list[str]) -> dict[str, str]:
    """Names of colleagues from their public mentor profiles; a moderator has none (shown as a role)."""
    names: dict[str, str] = {}
    for peer_id in dict.fromkeys(ids):
        try:
            profile = api().get(f"/api/v1/mentors/{peer_id}")
        except ApiError as error:
            if error.status in (400, 404):
                continue
            raise
        names[peer_id] = " ".join(
            p for p in (profile.get("last_name"), profile.get("first_name"), profile.get("patronymic")) if p
        )
    return names


@bp.get("/messages")
@signed_in("mentor", "moderator")
def messages() -> Any:
    conversations = api().get("/api/v1/messages").get("items", [])
    mentors = api().get("/api/v1/mentors").get("items", [])
    me = (current_user() or {}).get("id")
    names = {m["mentor_id"]: " ".join(p for p in (m.get("last_name"), m.get("first_name")) if p) for m in mentors}
    names.update(colleague_names([c["peer_id"] for c in conversations if c["peer_id"] not in names]))
    return render(
        "community/messages.html",
        conversations=conversations,
        names=names,
        colleagues=[m for m in mentors if m["mentor_id"] != me],
    )


@bp.get("/messages/write")
@signed_in("mentor", "moderator")
def write_to() -> Any:
    """The "write to a colleague" chooser (a GET form): to that colleague's thread."""
    peer = request.args.get("to", "")
    if not UUID.match(peer):
        return redirect_to("community.messages")
    return redirect_to("community.conversation", user_id=peer)


@bp.route("/messages/<uuid:user_id>", methods=["GET", "POST"])
@signed_in("mentor", "moderator")
def conversation(user_id: Any) -> Any:
    form = FormState.from_request()
    if request.method == "POST":
        try:
            api().post(
                "/api/v1/messages",
                given(recipient_id=str(user_id), text=form.text("text").strip()),
                idempotency_key=form.key,
            )
        except ApiError as error:
            form.fail(error)
            return _conversation_page(user_id, form, form.status)
        return redirect_to("community.conversation", user_id=user_id)
    return _conversation_page(user_id, form)


def _conversation_page(user_id: Any, form: FormState, status: int = 200) -> Any:
    before = request.args.get("before") or None
    page = api().get(
        f"/api/v1/messages/{user_id}", params={"before": before if before and UUID.match(before) else None}
    )
    items = list(reversed(page.get("items", [])))  # oldest first, as a conversation reads
    older = (
        url_for("community.conversation", user_id=user_id, before=page["next_before"])
        if page.get("next_before")
        else None
    )
    name = colleague_names([str(user_id)]).get(str(user_id))
    return render(
        "community/conversation.html",
        status,
        items=items,
        peer_id=str(user_id),
        peer_name=name,
        form=form,
        older_url=older,
        me=(current_user() or {}).get("id"),
    )
