"""A moderator's pages: the dashboard, the accreditation queue, a mentor's place on the roll, erasing a
person on their written request, library curation, and the statistics drawn as charts.

The charts are server-rendered SVG built in the template from numbers computed here (``bar_chart``):
no script, no library, the same numbers in a table beside each chart for screen readers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request, url_for

from contracts import vocabulary as v
from contracts.rpc_identity import ERASURE_REASON_MIN, ErasureReasonSchema
from services.web import i18n
from services.web.core import FormState, api, language, redirect_to, render, signed_in, t
from services.web.gateway import ApiError
from services.web.pages.mentoring import refine_errors, rubric_options
from services.web.templating import RUBRICS, label

bp = Blueprint("moderation", __name__)

APPLICATION_STATES = ("pending", "approved", "rejected")
MATERIAL_TYPES = ("article", "book", "link")


def decision_failed(form: FormState, error: ApiError) -> FormState:
    """``form.fail``, with a 409 told as what it is here: someone decided first (not "the case changed")."""
    form.fail(error)
    if error.status == 409:
        form.banner = t("moderation.conflict")
    return form


@bp.app_context_processor
def moderation_helpers() -> dict[str, Any]:
    """For every page: a mentor's own figures (services/web/pages/mentoring.py) draw the same table."""
    return {
        "rubric_options": rubric_options,
        "state_label": state_label,
        "duration": duration,
        "percent": percent,
        "quality_columns": MENTOR_COLUMNS,
    }


def state_label(key: str) -> str:
    """A case state's label in the person's language (the key itself for a state added later)."""
    return t(f"statistics.state.{key}") if i18n.has(f"statistics.state.{key}") else key


def duration(seconds: float | None) -> str:
    """A span of time as a person reads it: seconds under a minute, minutes under an hour, then hours."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return t("statistics.seconds", count=max(round(seconds), 0) if seconds >= 1 else f"{seconds:.1f}")
    if seconds < 3600:
        return t("statistics.minutes", count=round(seconds / 60))
    hours, minutes = divmod(round(seconds / 60), 60)
    return t("statistics.hours", hours=hours, minutes=minutes)


# ---- the dashboard ---------------------------------------------------------------------------


@bp.get("/moderation")
@signed_in("moderator")
def dashboard() -> Any:
    flagged = api().get("/api/v1/cases", params={"flagged": "true", "limit": 200})
    pending = api().get("/api/v1/accreditation/applications", params={"state": "pending"})
    drafts = api().get("/api/v1/library/drafts", params={"state": "pending"})
    return render(
        "moderation/dashboard.html",
        flagged=len(flagged.get("items") or []),
        pending=len(pending.get("items") or []),
        drafts=drafts.get("waiting", 0),
    )


# ---- the accreditation queue -----------------------------------------------------------------


def _queue_page(state: str, failed: tuple[str, FormState] | None = None, status: int = 200) -> Any:
    listing = api().get("/api/v1/accreditation/applications", params={"state": state})
    return render(
        "moderation/accreditation.html",
        status,
        state=state,
        applications=listing.get("items") or [],
        failed_id=failed[0] if failed else None,
        failed_form=failed[1] if failed else None,
    )


@bp.get("/moderation/accreditation")
@signed_in("moderator")
def accreditation_queue() -> Any:
    state = request.args.get("state", "pending")
    return _queue_page(state if state in APPLICATION_STATES else "pending")


@bp.post("/moderation/accreditation/<uuid:application_id>/approve")
@signed_in("moderator")
def approve(application_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/accreditation/applications/{application_id}/approve")
    except ApiError as error:
        decision_failed(form, error)
        return _queue_page("pending", (str(application_id), form), form.status)
    flash("moderation.application.approved", "success")
    return redirect_to("moderation.accreditation_queue")


@bp.post("/moderation/accreditation/<uuid:application_id>/reject")
@signed_in("moderator")
def reject(application_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(
            f"/api/v1/accreditation/applications/{application_id}/reject", {"reason": form.text("reason").strip()}
        )
    except ApiError as error:
        decision_failed(form, error)
        return _queue_page("pending", (str(application_id), form), form.status)
    flash("moderation.application.rejected", "success")
    return redirect_to("moderation.accreditation_queue")


# ---- a mentor on the roll --------------------------------------------------------------------


def _mentor_page(mentor_id: Any, form: FormState | None = None, status: int = 200) -> Any:
    profile = api().get(f"/api/v1/mentors/{mentor_id}")
    return render("moderation/mentor.html", status, mentor=profile, form=form or FormState())


@bp.get("/moderation/mentors/<uuid:mentor_id>")
@signed_in("moderator")
def mentor(mentor_id: Any) -> Any:
    """A mentor's page; without a profile (erased: identity deletes it, or never written) the page says
    so rather than the bare "not found", since an erased mentor's link stays on the roll's pages."""
    try:
        return _mentor_page(mentor_id)
    except ApiError as error:
        if error.status != 404:
            raise
        return render(
            "error.html", 404, title=t("moderation.mentor.missing.title"), text=t("moderation.mentor.missing")
        )


@bp.post("/moderation/mentors/<uuid:mentor_id>/suspend")
@signed_in("moderator")
def suspend(mentor_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/mentors/{mentor_id}/suspend", {"reason": form.text("reason").strip()})
    except ApiError as error:
        decision_failed(form, error)
        return _mentor_page(mentor_id, form, form.status)
    flash("moderation.mentor.suspended", "success")
    return redirect_to("moderation.mentor", mentor_id=mentor_id)


@bp.post("/moderation/mentors/<uuid:mentor_id>/reinstate")
@signed_in("moderator")
def reinstate(mentor_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/mentors/{mentor_id}/reinstate")
    except ApiError as error:
        decision_failed(form, error)
        return _mentor_page(mentor_id, form, form.status)
    flash("moderation.mentor.reinstated", "success")
    return redirect_to("moderation.mentor", mentor_id=mentor_id)


# ---- erasing a person on their written request -----------------------------------------------

ERASURE_LIMITS = {"min": ERASURE_REASON_MIN, "max": v.DECISION_REASON_MAX}


def erasure_subject(person_id: Any, case_id: str | None) -> dict[str, Any]:
    """Whom the erasure page names, as the moderator came to them: the author of the case they came from
    (``?case=``: its number only; a moderator reads the author's name only with a reason, on the case's
    history), else a mentor by their public profile, else the account's id alone (an erased mentor's
    profile is gone)."""
    gateway = api()
    if case_id:
        try:
            case = gateway.get(f"/api/v1/cases/{case_id}")
        except ApiError as error:
            if error.status not in (400, 404):
                raise
            case = None
        if case and case.get("author_id") == str(person_id):
            return {"case": case, "back": url_for("cases.history", case_id=case["id"])}
    try:
        profile = gateway.get(f"/api/v1/mentors/{person_id}")
    except ApiError as error:
        if error.status != 404:
            raise
        profile = None
    if profile:
        return {"mentor": profile, "back": url_for("moderation.mentor", mentor_id=person_id)}
    return {"back": url_for("moderation.dashboard")}


def erasure_unconfirmed(form: FormState) -> FormState:
    """Not confirmed: nothing is sent. The reason is checked meanwhile by the API's own schema (the same
    messages the gateway would answer), so one answer names every field to put right."""
    reason = {"reason": form.text("reason").strip()}
    form.errors = i18n.field_errors(language(), ErasureReasonSchema().validate(reason))
    form.errors["confirm"] = [t("moderation.erase.confirm.required")]
    form.banner = t("error.form")
    form.status = 400
    return form


def erasure_failed(form: FormState, error: ApiError) -> FormState:
    """``form.fail``, with identity's refusals told as what they are here: a 403 is a moderator's account
    (one's own included), which the operator closes; a 404 names no account."""
    form.fail(error)
    if error.status == 403:
        form.banner = t("moderation.erase.refused")
    elif error.status == 404:
        form.banner = t("moderation.erase.no_person")
    return form


@bp.route("/moderation/people/<uuid:person_id>/erasure", methods=["GET", "POST"])
@signed_in("moderator")
def erasure(person_id: Any) -> Any:
    """Erase a mentee's or mentor's data on their written request (POST /api/v1/people/<id>/erasure): the
    reason names the request and is recorded with the moderator; a ticked confirmation first. Done: the
    dashboard with a message (the person's pages now read "not found"). Again for an erased person:
    identity answers the same and changes nothing."""
    case_id = request.args.get("case") or None
    form = FormState.from_request()
    if request.method == "POST":
        if not form.checked("confirm"):
            erasure_unconfirmed(form)
        else:
            try:
                api().post(f"/api/v1/people/{person_id}/erasure", {"reason": form.text("reason").strip()})
            except ApiError as error:
                erasure_failed(form, error)
            else:
                flash("moderation.erase.done", "success")
                return redirect_to("moderation.dashboard")
    return render(
        "moderation/erasure.html",
        form.status,
        form=form,
        person_id=str(person_id),
        subject=erasure_subject(person_id, case_id),
        action=url_for("moderation.erasure", person_id=person_id, case=case_id),
        limits=ERASURE_LIMITS,
    )


# ---- library curation ------------------------------------------------------------------------


def material_payload(form: FormState, edit: bool) -> dict[str, Any]:
    """The material as the gateway takes it. A new one omits empty optional texts; an edit also sends
    an emptied description or reference (clearing one is a change), but never an empty url, which
    the gateway refuses as not a URL."""
    payload: dict[str, Any] = {
        "material_type": form.get("material_type"),
        "rubrics": form.getlist("rubrics"),
        "title": form.text("title").strip(),
    }
    for name in ("description", "url", "reference"):
        value = form.text(name).strip()
        if value or (edit and name != "url"):
            payload[name] = value
    return payload


@bp.route("/moderation/library", methods=["GET", "POST"])
@signed_in("moderator")
def library() -> Any:
    form = FormState.from_request(prefill={"material_type": "article"})
    if request.method == "POST":
        try:
            created = api().post(
                "/api/v1/library/materials", material_payload(form, edit=False), idempotency_key=form.key
            )
        except ApiError as error:
            form.fail(error)
            return render("moderation/library.html", form.status, form=form, materials=_materials())
        flash("moderation.material.added", "success")
        return redirect_to("moderation.library_item", entry_id=created["id"])
    return render("moderation/library.html", form=form, materials=_materials())


def _materials() -> list[dict[str, Any]]:
    return api().get("/api/v1/library", params={"kind": "material", "limit": 50}).get("items") or []


def _item_page(
    entry_id: Any, form: FormState | None = None, withdraw_form: FormState | None = None, status: int = 200
) -> Any:
    item = api().get(f"/api/v1/library/{entry_id}")
    if form is None:
        form = FormState.from_request(
            prefill={
                "material_type": item.get("material_type"),
                "title": item.get("title"),
                "description": item.get("description"),
                "url": item.get("url"),
                "reference": item.get("reference"),
                "rubrics": item.get("rubrics") or [],
            }
        )
    return render(
        "moderation/library_item.html", status, item=item, form=form, withdraw_form=withdraw_form or FormState()
    )


@bp.route("/moderation/library/<uuid:entry_id>", methods=["GET", "POST"])
@signed_in("moderator")
def library_item(entry_id: Any) -> Any:
    if request.method == "POST":
        form = FormState.from_request()
        try:
            api().patch(f"/api/v1/library/{entry_id}", material_payload(form, edit=True))
        except ApiError as error:
            form.fail(error)
            return _item_page(entry_id, form, status=form.status)
        flash("common.saved", "success")
        return redirect_to("moderation.library_item", entry_id=entry_id)
    return _item_page(entry_id)


@bp.post("/moderation/library/<uuid:entry_id>/withdrawal")
@signed_in("moderator")
def withdraw(entry_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/library/{entry_id}/withdrawal", {"reason": form.text("reason").strip()})
    except ApiError as error:
        form.fail(error)
        return _item_page(entry_id, withdraw_form=form, status=form.status)
    flash("moderation.material.withdrawn", "success")
    return redirect_to("moderation.library_item", entry_id=entry_id)


# ---- statistics ------------------------------------------------------------------------------

LABEL_HEIGHT = 16  # each row: its label on a line of its own, the bar under it (readable at 375 px)
BAR_HEIGHT = 18
ROW_GAP = 10
PLOT_WIDTH = 300
VALUE_WIDTH = 48


def bar_chart(rows: list[tuple[str, int]]) -> dict[str, Any]:
    """Horizontal bars, one per (label, value), in the given order: the geometry of an SVG.

    Pure arithmetic so it is unit-tested; the template only draws it. A zero value gets no bar
    but keeps its row and its number, so every category of the figure is shown."""
    top = max((value for _, value in rows), default=0)
    row_height = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    bars = []
    for index, (name, value) in enumerate(rows):
        y = index * row_height
        width = round(PLOT_WIDTH * value / top) if top else 0
        bars.append(
            {
                "label": name,
                "value": value,
                "label_y": y + LABEL_HEIGHT - 4,
                "y": y + LABEL_HEIGHT,
                "width": width,
                "value_x": width + 6,
                "value_y": y + LABEL_HEIGHT + BAR_HEIGHT - 5,
            }
        )
    return {
        "bars": bars,
        "width": PLOT_WIDTH + VALUE_WIDTH,
        "height": max(len(rows) * row_height - ROW_GAP, 1),
        "bar_height": BAR_HEIGHT,
    }


def in_rubricator_order(by_rubric: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statistics' rubric rows in the rubricator's order (seed Table 2), every rubric present."""
    counts = {row.get("slug"): int(row.get("count") or 0) for row in by_rubric}
    return [
        {"number": index, "slug": slug, "count": counts.get(slug, 0)} for index, slug in enumerate(RUBRICS, start=1)
    ]


@bp.get("/statistics")
@signed_in("moderator")
def statistics() -> Any:
    form = FormState(request.args.copy())
    params = {"from": request.args.get("from") or None, "to": request.args.get("to") or None}
    try:
        stats = api().get("/api/v1/statistics", params=params)
    except ApiError as error:
        if error.status != 400:
            raise
        form.fail(error)
        refine_errors(form, error, {r"to": (r"(?i)before", "statistics.error.order")})
        stats = api().get("/api/v1/statistics")
    cases = stats.get("cases") or {}
    rubrics = in_rubricator_order(cases.get("by_rubric") or [])
    library_rubrics = in_rubricator_order((stats.get("library") or {}).get("by_rubric") or [])
    registrations = sorted(stats.get("registrations") or [], key=lambda row: row.get("year") or 0)
    rubric_chart = bar_chart([(f"{row['number']}. {label('rubric', row['slug'])}", row["count"]) for row in rubrics])
    year_rows: list[tuple[str, int]] = []
    for row in registrations:
        year_rows.append((t("statistics.year_mentees", year=row.get("year")), int(row.get("mentees") or 0)))
        year_rows.append((t("statistics.year_mentors", year=row.get("year")), int(row.get("mentors") or 0)))
    month_chart = bar_chart([(row["month"], int(row.get("count") or 0)) for row in cases.get("by_month") or []])
    library_chart = bar_chart(figure_rows(cases, library_rubrics)["library_rows"])
    return render(
        "moderation/statistics.html",
        form.status if form.errors else 200,
        form=form,
        cases=cases,
        rubrics=rubrics,
        rubric_chart=rubric_chart,
        registrations=registrations,
        year_chart=bar_chart(year_rows),
        month_chart=month_chart,
        library=stats.get("library") or {},
        library_chart=library_chart,
        **figure_rows(cases, library_rubrics),
    )


def figure_rows(cases: dict[str, Any], library_rubrics: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Each table of the statistics page as (label, count) rows, labelled in the person's language, in
    the API's order (which keeps every category, zeros included)."""

    def rows(items: list[dict[str, Any]] | None, name: Any) -> list[tuple[str, int]]:
        return [(name(row["key"]), int(row.get("count") or 0)) for row in items or []]

    declines = cases.get("declines") or {}
    return {
        "state_rows": rows(cases.get("by_state"), state_label),
        "turn_rows": rows(cases.get("open_by_turn"), lambda key: t(f"statistics.turn.{key}")),
        "urgency_rows": rows(cases.get("by_urgency"), lambda key: label("urgency", key)),
        "mode_rows": rows(cases.get("by_mode"), lambda key: label("mode", key)),
        "work_rows": [
            (t("statistics.declines"), int(declines.get("count") or 0)),
            (t("statistics.declined_cases"), int(declines.get("cases") or 0)),
            (t("statistics.second_opinions"), int(cases.get("second_opinions") or 0)),
            *rows(cases.get("questions_by_kind"), lambda key: t(f"statistics.questions.{key}")),
            *rows(cases.get("by_format"), lambda key: t(f"statistics.format.{key}")),
        ],
        "month_rows": [(row["month"], int(row.get("count") or 0)) for row in cases.get("by_month") or []],
        "year_rows": [(str(row["year"]), int(row.get("count") or 0)) for row in cases.get("by_year") or []],
        "library_rows": [(f"{row['number']}. {label('rubric', row['slug'])}", row["count"]) for row in library_rubrics],
    }


# ---- mentor quality --------------------------------------------------------------------------

# The columns of the mentors' table, each sortable by the API's figure of the same name.
MENTOR_COLUMNS = (
    "chosen",
    "acceptance_rate",
    "decline_rate",
    "time_to_accept",
    "time_to_first_question",
    "time_to_first_solution",
    "second_opinion_rate",
    "completed",
    "helpfulness_mean",
)


def sort_links(sort: str, order: str) -> dict[str, dict[str, str]]:
    """Per column: the link that sorts by it (descending first; the sorted column's link flips its
    order) and its aria-sort value, so the table sorts with links alone: by keyboard, without script."""
    links = {}
    for column in MENTOR_COLUMNS:
        current = column == sort
        next_order = ("asc" if order == "desc" else "desc") if current else "desc"
        links[column] = {
            "href": f"?sort={column}&order={next_order}",
            "aria_sort": ("descending" if order == "desc" else "ascending") if current else "none",
        }
    return links


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def mentor_names() -> dict[str, str]:
    """Mentor id -> name, from the public roll (one request); a mentor not on it shows by id."""
    return {
        m["mentor_id"]: " ".join(filter(None, (m.get("first_name"), m.get("last_name"))))
        for m in api().get("/api/v1/mentors").get("items") or []
        if m.get("mentor_id")
    }


@bp.get("/statistics/mentors")
@signed_in("moderator")
def mentor_quality() -> Any:
    sort = request.args.get("sort", "chosen")
    order = request.args.get("order", "desc")
    if sort not in MENTOR_COLUMNS or order not in ("asc", "desc"):
        sort, order = "chosen", "desc"
    mentors = api().get("/api/v1/statistics/mentors", params={"sort": sort, "order": order}).get("items") or []
    return render(
        "moderation/mentor_quality.html",
        mentors=mentors,
        names=mentor_names(),
        sort=sort,
        order=order,
        links=sort_links(sort, order),
    )
