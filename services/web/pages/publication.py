"""Publication under review: the moderators' review of drafts and the author's preview.

Nothing a person wrote is published before a moderator has read it (the library's LIBRARY_REVIEW). A
moderator opens a draft beside the author's original: every span the anonymizer replaced and every
token that may still identify someone is marked (the gateway's marks: offsets over the text). The page
cuts the text into pieces at the marks (``pieces``) and the template writes each piece as escaped text,
a marked one inside ``<mark>``: the person's text is never rendered as markup. The moderator edits the
draft's texts, publishes it, or rejects it with a reason. The author sees the impersonal text of each of
their drafts and may withdraw consent to publishing the case.

  /moderation/drafts[?state=]     the queue (pending first) and the decided drafts, by state
  /moderation/drafts/<id>         the review page: edit (POST), /publication, /rejection
  /account/publications[/<id>]    the author's drafts; /withdrawal takes back consent for the case
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request
from werkzeug.exceptions import NotFound

from services.web.core import FormState, api, redirect_to, render, signed_in, t
from services.web.gateway import ApiError
from services.web.pages.moderation import decision_failed

bp = Blueprint("publication", __name__)

DRAFT_STATES = ("pending", "published", "rejected", "withdrawn")
MARK_KINDS = ("replaced", "name", "digits", "at", "url", "date")
TEXT_LIMIT = 5000  # the gateway's limit of an edited text (the field's own may be lower: its error says)


def pieces(text: str, marks: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """``text`` cut at ``marks`` (``{start, end, kind}``): ``[(piece, kind or None)]`` in order, covering the
    whole text. Marks out of range or overlapping an earlier one are cut to what is left (pure)."""
    text, out, at = text or "", [], 0
    for mark in sorted(marks or (), key=lambda m: (m.get("start", 0), m.get("end", 0))):
        start, end = max(int(mark.get("start", 0)), at), min(int(mark.get("end", 0)), len(text))
        if start >= end:
            continue
        if start > at:
            out.append((text[at:start], None))
        kind = mark.get("kind")
        out.append((text[start:end], kind if kind in MARK_KINDS else "name"))
        at = end
    if at < len(text):
        out.append((text[at:], None))
    return out


def text_label(path: str) -> str:
    """A draft text's label from its path ("solutions.0.materials.1.title" -> "Solution 1, material 2: title")."""
    parts = path.split(".")
    if len(parts) == 1:
        return t(f"publication.text.{parts[0]}")
    if parts[0] == "clarifications":
        return t(f"publication.text.clarification.{parts[2]}", n=int(parts[1]) + 1)
    if len(parts) == 3:
        return t("publication.text.solution", n=int(parts[1]) + 1)
    return t(f"publication.text.material.{parts[4]}", n=int(parts[1]) + 1, m=int(parts[3]) + 1)


@bp.context_processor
def publication_helpers() -> dict[str, Any]:
    return {"pieces": pieces, "text_label": text_label, "mark_kinds": MARK_KINDS}


# ---- the moderators' review ------------------------------------------------------------------


@bp.get("/moderation/drafts")
@signed_in("moderator")
def drafts() -> Any:
    state = request.args.get("state", "pending")
    state = state if state in DRAFT_STATES else "pending"
    listing = api().get("/api/v1/library/drafts", params={"state": state})
    return render(
        "publication/drafts.html", state=state, drafts=listing.get("items") or [], waiting=listing.get("waiting", 0)
    )


def _review_page(
    draft_id: Any, form: FormState | None = None, reject_form: FormState | None = None, status: int = 200
) -> Any:
    draft = api().get(f"/api/v1/library/drafts/{draft_id}")
    if form is None:
        form = FormState.from_request(prefill={f"texts.{item['path']}": item["draft"] for item in draft["texts"]})
    return render(
        "publication/review.html",
        status,
        draft=draft,
        form=form,
        reject_form=reject_form or FormState(),
        text_limit=TEXT_LIMIT,
    )


@bp.route("/moderation/drafts/<uuid:draft_id>", methods=["GET", "POST"])
@signed_in("moderator")
def review(draft_id: Any) -> Any:
    if request.method == "POST":
        form = FormState.from_request()
        current = {item["path"]: item["draft"] for item in api().get(f"/api/v1/library/drafts/{draft_id}")["texts"]}
        changed = {
            path: form.text(f"texts.{path}")
            for path in current
            if f"texts.{path}" in form.values and form.text(f"texts.{path}") != current[path]
        }
        if changed:
            try:
                api().patch(f"/api/v1/library/drafts/{draft_id}", {"texts": changed})
            except ApiError as error:
                decision_failed(form, error)
                return _review_page(draft_id, form, status=form.status)
        flash("publication.saved" if changed else "publication.unchanged", "success")
        return redirect_to("publication.review", draft_id=draft_id)
    return _review_page(draft_id)


@bp.post("/moderation/drafts/<uuid:draft_id>/publication")
@signed_in("moderator")
def publish(draft_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/library/drafts/{draft_id}/publication")
    except ApiError as error:
        decision_failed(form, error)
        return _review_page(draft_id, form, status=form.status)
    flash("publication.published", "success")
    return redirect_to("publication.drafts")


@bp.post("/moderation/drafts/<uuid:draft_id>/rejection")
@signed_in("moderator")
def reject(draft_id: Any) -> Any:
    form = FormState.from_request()
    try:
        api().post(f"/api/v1/library/drafts/{draft_id}/rejection", {"reason": form.text("reason").strip()})
    except ApiError as error:
        decision_failed(form, error)
        return _review_page(draft_id, reject_form=form, status=form.status)
    flash("publication.rejected", "success")
    return redirect_to("publication.drafts")


# ---- the author's preview ----------------------------------------------------------------------


@bp.get("/account/publications")
@signed_in()
def my_publications() -> Any:
    return render("publication/mine.html", drafts=api().get("/api/v1/me/publications").get("items") or [])


def _my_draft(draft_id: Any) -> dict[str, Any]:
    draft = api().get(f"/api/v1/library/drafts/{draft_id}")
    if not draft.get("case_id"):
        raise NotFound()
    return draft


@bp.get("/account/publications/<uuid:draft_id>")
@signed_in()
def my_publication(draft_id: Any) -> Any:
    return render("publication/preview.html", draft=_my_draft(draft_id), form=FormState())


@bp.post("/account/publications/<uuid:draft_id>/withdrawal")
@signed_in()
def withdraw_consent(draft_id: Any) -> Any:
    form = FormState.from_request()
    draft = _my_draft(draft_id)
    try:
        api().delete(f"/api/v1/cases/{draft['case_id']}/publication-consent")
    except ApiError as error:
        form.fail(error)
        return render("publication/preview.html", form.status, draft=draft, form=form)
    flash("publication.consent_withdrawn", "success")
    return redirect_to("publication.my_publications")
