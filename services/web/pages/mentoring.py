"""A mentor's own pages: the profile editor with the photo, availability, and the roll of mentors.

The photo is a form of its own (multipart to this client, then the raw image to the gateway): a
photo that fails never costs the person what they typed in the profile, and a too-big upload is
answered next to the photo field even when it is refused before its form could be read.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from services.web import i18n
from services.web.core import FormState, api, language, redirect_to, render, signed_in, t
from services.web.gateway import ApiError
from services.web.templating import RUBRICS, label

bp = Blueprint("mentoring", __name__)

PHOTO_MAX_BYTES = 2 * 1024 * 1024  # the gateway's limit (README: at most 2 MB)
PHOTO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
AWAY_ROWS_EMPTY = 3  # empty rows offered for new away periods: adding works without JS


def rubric_options() -> list[tuple[str, str, str]]:
    """The 12 rubrics in the rubricator's order, each with its label and comment, for checkboxes."""
    return [(slug, label("rubric", slug), label("rubric_comment", slug)) for slug in RUBRICS]


@bp.context_processor
def mentoring_helpers() -> dict[str, Any]:
    return {"rubric_options": rubric_options}


def collapse_errors(form: FormState, field: str) -> None:
    """Put the errors of a list field's items (``links.0``) next to the one control for the list."""
    for name in [n for n in form.errors if n.startswith(field + ".")]:
        form.errors.setdefault(field, []).extend(form.errors.pop(name))


def refine_errors(form: FormState, error: ApiError, rules: dict[str, tuple[str, str]]) -> None:
    """A clearer translation for messages the shared patterns only call "not accepted":
    ``rules`` maps a field name's pattern to (a message's regex, catalogue key)."""
    flat: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and all(isinstance(m, str) for m in value):
            flat[path] = value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}")
        elif isinstance(value, str):
            flat[path] = [value]

    walk(error.fields, "")
    for path, messages in flat.items():
        for field_pattern, (message_pattern, key) in rules.items():
            if re.fullmatch(field_pattern, path) and any(re.search(message_pattern, m) for m in messages):
                form.errors[path] = [i18n.translate(language(), key)]


def photo_type(data: bytes) -> str | None:
    """The image's media type by its first bytes (never by the file name the browser sends)."""
    for magic, media_type in PHOTO_TYPES.items():
        if data.startswith(magic):
            return media_type
    return None


# ---- the profile ----------------------------------------------------------------------------


def _profile_or_none() -> dict[str, Any] | None:
    try:
        return api().get("/api/v1/me/mentor-profile")
    except ApiError as error:
        if error.status == 404:  # no profile written yet
            return None
        raise


def _profile_prefill(profile: dict[str, Any] | None) -> dict[str, Any]:
    if profile is None:
        return {"accepting_cases": True}
    return {
        "rubrics": profile.get("rubrics") or [],
        "place_of_work": profile.get("place_of_work"),
        "institute": profile.get("institute"),
        "position": profile.get("position"),
        "interests": profile.get("interests"),
        "links": "\n".join(profile.get("links") or []),
        "motto": profile.get("motto"),
        "accepting_cases": bool(profile.get("accepting_cases")),
    }


def _profile_page(
    form: FormState, profile: dict[str, Any] | None, photo_form: FormState | None = None, status: int = 200
) -> Any:
    return render("mentoring/profile.html", status, form=form, profile=profile, photo_form=photo_form or FormState())


@bp.route("/profile", methods=["GET", "POST"])
@signed_in("mentor")
def profile() -> Any:
    current = _profile_or_none()
    form = FormState.from_request(prefill=_profile_prefill(current))
    if request.method == "POST":
        payload = {
            "rubrics": form.getlist("rubrics"),
            "links": [line.strip() for line in form.text("links").split("\n") if line.strip()],
            "accepting_cases": form.checked("accepting_cases"),
        }
        for name in ("place_of_work", "institute", "position", "interests", "motto"):
            payload[name] = form.text(name).strip()
        try:
            api().put("/api/v1/me/mentor-profile", payload)
        except ApiError as error:
            form.fail(error)
            refine_errors(form, error, {r"rubrics": (r"(?i)at least one", "profile.error.rubrics")})
            collapse_errors(form, "links")
            return _profile_page(form, current, status=form.status)
        flash("profile.saved", "success")
        return redirect_to("mentoring.profile")
    return _profile_page(form, current)


@bp.errorhandler(RequestEntityTooLarge)
def photo_too_large(_: RequestEntityTooLarge) -> Any:
    """A file bigger than this client takes at all: refused before its form is read."""
    photo_form = FormState()
    photo_form.status = 400
    photo_form.errors = {"photo": [t("profile.photo.too_big")]}
    current = _profile_or_none()
    return _profile_page(FormState(_prefill_values(current)), current, photo_form, 400)


def _prefill_values(profile: dict[str, Any] | None) -> MultiDict:
    """The stored profile as form values: the profile form beside a failed photo shows what is saved."""
    values = MultiDict()
    for name, value in _profile_prefill(profile).items():
        for item in value if isinstance(value, list) else [value]:
            values.add(name, "on" if item is True else "" if item in (False, None) else str(item))
    return values


@bp.post("/profile/photo")
@signed_in("mentor")
def photo() -> Any:
    photo_form = FormState(key=request.form.get("idempotency_key"))
    upload = request.files.get("photo")
    data = upload.read(PHOTO_MAX_BYTES + 1) if upload else b""
    media_type = photo_type(data)
    problem = (
        "profile.photo.missing"
        if not data
        else "profile.photo.too_big"
        if len(data) > PHOTO_MAX_BYTES
        else "profile.photo.wrong_type"
        if media_type is None
        else None
    )
    if problem is None:
        try:
            _put_photo(data, media_type)
        except ApiError as error:
            photo_form.fail(error)
            collapse_errors(photo_form, "photo")
            if error.status == 413:
                photo_form.errors = {"photo": [t("profile.photo.too_big")]}
            elif error.status == 415 or (error.status == 400 and photo_form.errors):
                photo_form.errors = {"photo": [t("profile.photo.wrong_type")]}
            elif error.status == 404:
                photo_form.errors = {"photo": [t("profile.photo.profile_first")]}
            current = _profile_or_none()
            return _profile_page(FormState(_prefill_values(current)), current, photo_form, photo_form.status)
        flash("profile.photo.saved", "success")
        return redirect_to("mentoring.profile")
    photo_form.status = 400
    photo_form.errors = {"photo": [t(problem)]}
    current = _profile_or_none()
    return _profile_page(FormState(_prefill_values(current)), current, photo_form, 400)


def _put_photo(data: bytes, media_type: str) -> Any:
    """The raw image as the body (the gateway takes image/jpeg or image/png, not multipart)."""
    return api().call("PUT", "/api/v1/me/mentor-profile/photo", data=data, headers={"Content-Type": media_type})


# ---- availability ---------------------------------------------------------------------------


def _away_rows(form: FormState) -> list[int]:
    """Indexes of the away-period rows to show: every submitted or stored one, plus empty ones."""
    indexes = {
        int(m.group(1))
        for name in form.values.keys()
        if (m := re.fullmatch(r"away_periods\.(\d+)\.(starts_on|ends_on)", name))
    }
    filled = max(indexes) + 1 if indexes else 0
    return list(range(filled + AWAY_ROWS_EMPTY))


@bp.route("/profile/availability", methods=["GET", "POST"])
@signed_in("mentor")
def availability() -> Any:
    if request.method == "POST":
        form = FormState.from_request()
    else:
        current = api().get("/api/v1/me/availability")
        prefill: dict[str, Any] = {"capacity": current.get("capacity")}
        for index, period in enumerate(current.get("away_periods") or []):
            prefill[f"away_periods.{index}.starts_on"] = period.get("starts_on")
            prefill[f"away_periods.{index}.ends_on"] = period.get("ends_on")
        form = FormState.from_request(prefill=prefill)
    if request.method == "POST":
        # rows are sent as typed (a removed row is one left empty); numbering is the page's, and the
        # gateway's errors name the index of the list it was sent, so keep the two in step
        rows, sent_index = [], {}
        for index in _away_rows(form):
            starts = form.get(f"away_periods.{index}.starts_on").strip()
            ends = form.get(f"away_periods.{index}.ends_on").strip()
            if form.checked(f"away_periods.{index}.remove") or (not starts and not ends):
                continue
            sent_index[len(rows)] = index
            rows.append({"starts_on": starts, "ends_on": ends})
        payload = {"capacity": form.integer("capacity"), "away_periods": rows}
        if payload["capacity"] is None:
            payload.pop("capacity")
        try:
            api().put("/api/v1/me/availability", payload)
        except ApiError as error:
            form.fail(error)
            refine_errors(
                form,
                error,
                {
                    r"away_periods\.\d+\.ends_on": (r"(?i)before", "availability.error.order"),
                    r"away_periods\.\d+\.(starts_on|ends_on)": (r"(?i)not a valid date", "availability.error.date"),
                },
            )
            renumbered: dict[str, list[str]] = {}
            for name, messages in form.errors.items():
                match = re.fullmatch(r"away_periods\.(\d+)\.(.+)", name)
                if match and int(match.group(1)) in sent_index:
                    name = f"away_periods.{sent_index[int(match.group(1))]}.{match.group(2)}"
                renumbered[name] = messages
            form.errors = renumbered
            return render("mentoring/availability.html", form.status, form=form, rows=_away_rows(form))
        flash("common.saved", "success")
        return redirect_to("mentoring.availability")
    return render("mentoring/availability.html", form=form, rows=_away_rows(form))


# ---- the mentor's own figures -----------------------------------------------------------------


@bp.get("/profile/quality")
@signed_in("mentor")
def quality() -> Any:
    """The figures moderators see of this mentor (the same table, services/cases/mentor_quality.py)."""
    mentors = api().get("/api/v1/me/mentor-quality").get("items") or []
    return render("mentoring/quality.html", mentors=mentors, names=None, links=None)


# ---- the roll of mentors --------------------------------------------------------------------


@bp.route("/profile/accreditation", methods=["GET", "POST"])
@signed_in("mentor")
def accreditation() -> Any:
    form = FormState.from_request()
    not_verified = False
    if request.method == "POST":
        payload = {"experience": form.text("experience").strip(), "motivation": form.text("motivation").strip()}
        try:
            api().post("/api/v1/me/accreditation", payload, idempotency_key=form.key)
        except ApiError as error:
            if error.status == 403 and error.code == "email_not_verified":
                not_verified = True
                form.status = 403
            else:
                form.fail(error)
                if error.status == 409:  # applied already (another tab), or accredited meanwhile
                    form.banner = t("accreditation.conflict")
                if error.status == 404 or (error.status == 400 and not form.errors):
                    form.banner = t("accreditation.profile_first")
            roll = api().get("/api/v1/me/accreditation")
            return render("mentoring/accreditation.html", form.status, form=form, roll=roll, not_verified=not_verified)
        flash("accreditation.applied", "success")
        return redirect_to("mentoring.accreditation")
    roll = api().get("/api/v1/me/accreditation")
    return render("mentoring/accreditation.html", form=form, roll=roll, not_verified=not_verified)
