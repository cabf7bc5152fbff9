"""Surveys (issue #22 part 1): the list, creating one (moderators, and accredited mentors when moderators
allow it), answering one once, and its results: bars drawn on the server with the same numbers in a
table, and the CSV. The gateway decides who may do what; these pages only offer what it allows.

The creating form works without script: it has QUESTION_SLOTS question blocks, a blank one is left out,
and the gateway's errors (``questions.<n>.<field>``, numbered among the questions sent) are put back
next to the block they came from.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, flash, request

from contracts.surveys import AUDIENCES, QUESTION_KINDS, SCALE
from services.web.core import FormState, api, current_user, redirect_to, render, signed_in
from services.web.gateway import ApiError
from services.web.pages.community import given, utc_iso
from services.web.pages.moderation import bar_chart

bp = Blueprint("surveys", __name__)

QUESTION_SLOTS = 5
_QUESTION_ERROR = re.compile(r"^questions\.(\d+)(\..*)?$")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def survey_payload(form: FormState) -> tuple[dict[str, Any], list[int]]:
    """The definition to send and, for each question sent, the slot it came from."""
    questions, slots = [], []
    for slot in range(QUESTION_SLOTS):
        prefix = f"questions.{slot}."
        kind, text = form.get(prefix + "kind"), form.text(prefix + "text").strip()
        options = _lines(form.text(prefix + "options"))
        if not (kind or text or options):
            continue
        questions.append(given(kind=kind, text=text, options=options, required=form.checked(prefix + "required")))
        slots.append(slot)
    payload = given(
        title=form.text("title").strip(),
        audience=form.get("audience"),
        opens_at=utc_iso(form.get("opens_at")),
        closes_at=utc_iso(form.get("closes_at")),
        rubrics=form.getlist("rubrics"),
    )
    payload["questions"] = questions
    return payload, slots


def errors_by_slot(errors: dict[str, list[str]], slots: list[int]) -> dict[str, list[str]]:
    """The gateway names the n-th question sent; the page names the block it was typed in."""
    placed: dict[str, list[str]] = {}
    for name, messages in errors.items():
        match = _QUESTION_ERROR.match(name)
        if match and int(match.group(1)) < len(slots):
            name = f"questions.{slots[int(match.group(1))]}{match.group(2) or ''}"
        placed.setdefault(name, []).extend(messages)
    return placed


def answers_payload(form: FormState, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """``{question id: value}`` as the gateway takes it: a scale as a number, a multiple choice a list."""
    answers: dict[str, Any] = {}
    for q in questions:
        name = f"answers.{q['id']}"
        if q["kind"] == "multiple":
            value: Any = form.getlist(name)
        elif q["kind"] == "scale":
            value = form.integer(name)
        else:
            value = form.text(name) if q["kind"] == "text" else form.get(name)
        if value not in (None, "", []):
            answers[q["id"]] = value
    return answers


def result_charts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each question's bars (choices and scales; a text question: its texts), for the template."""
    return [
        {**q, "chart": bar_chart([(c["option"], c["count"]) for c in q["counts"]]) if q["counts"] else None}
        for q in results["questions"]
    ]


def _may_create(settings: dict[str, Any]) -> bool:
    role = (current_user() or {}).get("role")
    return role == "moderator" or (role == "mentor" and bool(settings.get("mentors_may_create")))


@bp.get("/surveys")
@signed_in()
def surveys() -> Any:
    settings = api().get("/api/v1/surveys/settings")
    items = api().get("/api/v1/surveys").get("items", [])
    return render("surveys/list.html", items=items, settings=settings, may_create=_may_create(settings))


@bp.post("/surveys/settings")
@signed_in("moderator")
def survey_settings() -> Any:
    form = FormState.from_request()
    api().put("/api/v1/surveys/settings", {"mentors_may_create": form.checked("mentors_may_create")})
    flash("surveys.settings.saved", "success")
    return redirect_to("surveys.surveys")


@bp.route("/surveys/new", methods=["GET", "POST"])
@signed_in("moderator", "mentor")
def survey_new() -> Any:
    form = FormState.from_request({f"questions.{slot}.required": True for slot in range(QUESTION_SLOTS)})
    context = {"slots": range(QUESTION_SLOTS), "kinds": QUESTION_KINDS, "audiences": AUDIENCES}
    if request.method == "POST":
        payload, slots = survey_payload(form)
        try:
            created = api().post("/api/v1/surveys", payload, idempotency_key=form.key)
        except ApiError as error:
            form.fail(error)
            form.errors = errors_by_slot(form.errors, slots)
            return render("surveys/new.html", form.status, form=form, **context)
        flash("surveys.created", "success")
        return redirect_to("surveys.survey", survey_id=created["id"])
    return render("surveys/new.html", form=form, **context)


@bp.route("/surveys/<uuid:survey_id>", methods=["GET", "POST"])
@signed_in()
def survey(survey_id: Any) -> Any:
    item = api().get(f"/api/v1/surveys/{survey_id}")
    form = FormState.from_request()
    if request.method == "POST":
        try:
            api().post(f"/api/v1/surveys/{survey_id}/answers", {"answers": answers_payload(form, item["questions"])})
        except ApiError as error:
            form.fail(error)
            return render("surveys/survey.html", form.status, survey=item, form=form, scale=SCALE)
        flash("surveys.answered", "success")
        return redirect_to("surveys.survey", survey_id=survey_id)
    return render("surveys/survey.html", survey=item, form=form, scale=SCALE)


@bp.get("/surveys/<uuid:survey_id>/results")
@signed_in()
def survey_results(survey_id: Any) -> Any:
    results = api().get(f"/api/v1/surveys/{survey_id}/results")
    return render("surveys/results.html", results=results, survey=results["survey"], questions=result_charts(results))


@bp.get("/surveys/<uuid:survey_id>/results.csv")
@signed_in()
def survey_results_csv(survey_id: Any) -> Any:
    answer = api().download(f"/api/v1/surveys/{survey_id}/results.csv")
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="survey-{survey_id}.csv"', "Cache-Control": "no-store"},
    )
