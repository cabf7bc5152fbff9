"""Who may see a case, and what each viewer sees of it."""
import datetime
import uuid

from contracts.errors import Forbidden
from services.cases.domain import Case


def can_view(case, actor):
    return (actor["role"] == "moderator" or case.is_author(actor["user_id"])
            or case.is_chosen_mentor(actor["user_id"]))


def require_view(case, actor):
    if not can_view(case, actor):
        raise Forbidden("You are not a participant of this case.")


def hides_author(case, actor):
    """On an anonymous case nothing that identifies the author reaches the mentor."""
    return case.form["mode"] == "anonymous" and not (
        case.is_author(actor["user_id"]) or actor["role"] == "moderator")


def case_view(case, actor):
    return {
        "id": str(case.id),
        "number": case.number,
        "state": case.state,
        "version": case.version,
        "revision": case.revision,
        "form": dict(case.form),
        "author_id": None if hides_author(case, actor) else case.author_id,
        "round": case.round,
        "proposed_mentors": [dict(p) for p in case.proposals],
        "mentor_id": case.mentor_id,
        "solutions": [dict(s) for s in case.solutions],
        "reflection": dict(case.reflection) if case.reflection else None,
        "created_at": case.created_on.isoformat(),
        "updated_at": case.modified_on.isoformat(),
    }


def history_view(events):
    """Every event of the case, in order: the moderator's full iteration history."""
    return [{
        "version": e.originator_version,
        "type": type(e).__name__,
        "occurred_at": e.timestamp.isoformat(),
        "data": _jsonable({k: v for k, v in e.__dict__.items()
                           if k not in ("originator_id", "originator_version", "timestamp")}),
    } for e in events]


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


assert Case  # the views read the aggregate's public attributes only
