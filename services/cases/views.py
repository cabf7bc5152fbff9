"""Who may see a case, and what each viewer sees of it; the moderator's history."""

from contracts.errors import Forbidden, InvalidInput
from contracts.forum import new_thread_id
from contracts.question_bank import bank_as_dict
from contracts.rpc_identity import ACCESS_REASON_MIN
from services.cases.application import event_id
from services.cases.domain import WORKING
from services.cases.outgoing import CONTRACT_STAMP
from services.common.personal_data import jsonable  # noqa: F401 - research/cli.py reads events with it too

# Who acts in each recorded step (the history shows roles, not people).
ACTOR_ROLES = {
    "Created": "author",
    "MentorsProposed": "system",
    "MentorChosen": "author",
    "MentorAccepted": "mentor",
    "MentorDeclined": "mentor",
    "SecondOpinionRequested": "author",
    "Withdrawn": "author",
    "QuestionsAsked": "mentor",
    "QuestionsAnswered": "author",
    "RequestKept": "author",
    "CaseRedefined": "author",
    "SharedWithColleagues": "mentor",
    "ColleagueOpinionAdded": "colleague",
    "PublishedToForum": "author",
    "MessageSent": None,
    "SolutionProposed": "mentor",
    "Completed": "author",
    "Escalated": "system",
    "Flagged": "system",
    "MentorReleased": "system",
    "Reminded": "system",
    "Abandoned": "system",
    "Reopened": "author",
    "PublicationConsentWithdrawn": "author",
    "AuthorErased": "system",
}


def can_view(case, actor):
    user = actor["user_id"]
    return (
        actor["role"] == "moderator"
        or case.is_author(user)
        or case.is_chosen_mentor(user)
        or case.has_worked_on(user)
        or case.is_colleague(user)
    )


def require_view(case, actor):
    if not can_view(case, actor):
        raise Forbidden("You are not a participant of this case.")


def is_privileged(case, actor):
    return case.is_author(actor["user_id"]) or actor["role"] == "moderator"


def sees_author(case, actor):
    """Anonymous: nobody but the author and moderators. Personal: also the mentors who work on
    it; colleagues never (group discussion is with personal data removed)."""
    if is_privileged(case, actor):
        return True
    working_mentor = case.is_chosen_mentor(actor["user_id"]) or case.has_worked_on(actor["user_id"])
    return case.form["mode"] == "personal" and working_mentor


def require_reason(case, actor, reason):
    """A moderator opens an author's identity (any mode) only for a stated reason: the author
    reads it in their access log. The author and the case's mentor need none."""
    if (
        actor["role"] == "moderator"
        and not case.is_author(actor["user_id"])
        and len((reason or "").strip()) < ACCESS_REASON_MIN
    ):
        raise InvalidInput(
            "A moderator gives the reason for opening the author's identity.",
            {"reason": [f"Required of a moderator: at least {ACCESS_REASON_MIN} characters; the author will read it."]},
        )


def sees_messages(case, actor):
    return is_privileged(case, actor) or case.is_chosen_mentor(actor["user_id"]) or case.has_worked_on(actor["user_id"])


def case_view(case, actor):
    return {
        "id": str(case.id),
        "number": case.number,
        "state": case.state,
        "version": case.version,
        "revision": case.revision,
        "form": dict(case.form),
        "revisions": [dict(r) for r in case.revisions],
        "author_id": case.author_id if sees_author(case, actor) else None,
        "round": case.round,
        "proposed_mentors": [dict(p) for p in case.proposals],
        "mentor_id": case.mentor_id,
        "engagements": [dict(e) for e in case.engagements],
        "opinion": case.opinion,
        "questions": [_question_view(q) for q in case.questions],
        "decision": case.decision,
        "solutions": [dict(s) for s in case.solutions],
        "colleague_ids": list(case.colleague_ids),
        "opinions": [dict(o) for o in case.opinions],
        "forum_thread_ids": forum_thread_ids(case),
        "messages": [dict(m) for m in case.messages] if sees_messages(case, actor) else [],
        "reflection": dict(case.reflection) if case.reflection else None,
        "withdrawn_reason": case.withdrawn_reason,
        "abandoned": dict(case.abandoned) if case.abandoned else None,
        "waiting": _waiting_view(case),
        "publication_consent_withdrawn": case.consent_withdrawn,
        "flag": dict(case.flag) if case.flag else None,
        # on acceptance the mentor receives the question hints of the seed (6.2.1.2)
        "question_hints": bank_as_dict() if case.is_chosen_mentor(actor["user_id"]) and case.state in WORKING else [],
        "created_at": case.created_on.isoformat(),
        "updated_at": case.modified_on.isoformat(),
    }


def _waiting_view(case):
    """The step the case waits on, for whom, since when, and the reminders sent of it."""
    waiting = case.waiting_step()
    if waiting is None:
        return None
    return {
        "step": waiting[0],
        "waits_on": waiting[1],
        "since": case.wait_began().isoformat(),
        "reminders": case.reminded,
    }


def _question_view(q):
    return {k: q[k] for k in ("id", "bank_id", "text", "kind", "asked_by", "asked_at", "answer", "answered_at")}


def history_view(events):
    """Every event of the case in order: who acted (role), the revision it belongs to, and for a
    redefinition what changed against the previous revision. The moderator's full history."""
    items, revision, previous_form = [], 0, None
    for e in events:
        kind = type(e).__name__
        data = jsonable(
            {
                k: v
                for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", CONTRACT_STAMP)
            }
        )
        changes = None
        if kind == "Created":
            revision, previous_form = 1, data.get("form")
        elif kind == "CaseRedefined":
            revision += 1
            changes = form_changes(previous_form, data["form"])
            previous_form = data["form"]
        role = ACTOR_ROLES.get(kind)
        if kind == "MessageSent":
            role = "author" if data["sender_id"] == events[0].author_id else "mentor"
        items.append(
            {
                "version": e.originator_version,
                "type": kind,
                "occurred_at": e.timestamp.isoformat(),
                "actor_role": role or "system",
                "revision": revision,
                "changes": changes,
                "data": data,
            }
        )
    return items


def form_changes(before, after):
    return {
        field: {"before": (before or {}).get(field), "after": after.get(field)}
        for field in sorted(set(before or {}) | set(after))
        if (before or {}).get(field) != after.get(field)
    }


def steps_of(history, user_id):
    """The steps of a case's history that name the person as the one who acted or was addressed (a
    mentor, a colleague, a message's sender or recipient): their part of someone else's case."""

    def names(data):
        return user_id in (
            data.get("mentor_id"),
            data.get("sender_id"),
            data.get("recipient_id"),
            data.get("colleague_id"),
        ) or user_id in (data.get("colleague_ids") or ())

    return [step for step in history if names(step["data"])]


def forum_thread_ids(case):
    """The threads the case was published to: the one named, or the one its publication opened."""
    ids = []
    for publication in case.forum_publications:
        opened_by = publication.get("version")  # None only in a snapshot older than this field
        thread_id = publication["thread_id"] or (opened_by and str(new_thread_id(event_id(case.id, opened_by))))
        if thread_id and thread_id not in ids:
            ids.append(thread_id)
    return ids
