"""Template helpers: the catalogue, the person, the vocabularies, dates.

Nothing here marks text as safe: every value a person wrote goes through Jinja2's autoescape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, session

from services.web import i18n
from services.web.core import current_user, language, t

RUBRICS = (
    "education-law",
    "professional-ethics",
    "class-management-motivation",
    "digital-technologies",
    "individualization",
    "teaching-methods",
    "monitoring-evaluation",
    "urban-educational-projects",
    "self-management",
    "interaction-with-parents",
    "personal-resources",
    "families-at-risk",
)


def label(kind: str, slug: str | None) -> str:
    """The person's-language label of a vocabulary value (rubric, participant, urgency, mode...)."""
    if slug is None:
        return ""
    key = f"{kind}.{slug}"
    return i18n.translate(language(), key) if i18n.has(key) else str(slug)


def parse_moment(value: str | None) -> datetime | None:
    """An ISO timestamp from the gateway ("...Z" too); None when empty or not one."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def when(value: str | None, with_time: bool = True) -> str:
    """An ISO timestamp from the gateway as the person reads dates (UTC)."""
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    pattern = (
        ("%d.%m.%Y %H:%M" if language() == "ru" else "%Y-%m-%d %H:%M")
        if with_time
        else ("%d.%m.%Y" if language() == "ru" else "%Y-%m-%d")
    )
    return moment.strftime(pattern) + (" UTC" if with_time and moment.tzinfo else "")


# What a sealed field of an erased person reads (services/common/shredding.py ERASED; the client imports
# nothing of the services, so a unit test keeps the two equal).
ERASED = "[erased]"


def person_name(user: dict[str, Any] | None) -> str:
    """ "Last First Patronymic"; an erased person's names read as that, in the person's language."""
    if not user:
        return ""
    parts = [p for p in (user.get("last_name"), user.get("first_name"), user.get("patronymic")) if p]
    if ERASED in parts:
        return t("person.erased")
    return " ".join(parts)


def shown(value: Any) -> Any:
    """What a template prints of every expression (Jinja's ``finalize``): a text sealed for a person since
    erased ("[erased]" from the services: a message, a question, an event's title...) reads as the
    erased names do, in the reader's language, wherever a page prints it. Anything else is unchanged
    (and still autoescaped)."""
    return t("person.erased") if value == ERASED else value


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.finalize = shown

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "t": t,
            "lang": language(),
            "user": current_user(),
            "label": label,
            "when": when,
            "person_name": person_name,
            "RUBRICS": RUBRICS,
            "request_path": request.full_path.rstrip("?") if request else "/",
            "session_expired": session.pop("expired", False)
            if request.endpoint and request.endpoint.endswith("sign_in")
            else False,
        }
