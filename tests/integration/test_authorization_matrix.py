"""The authorization matrix (issue #9): every gateway route against every role, over real HTTP on
the real platform (the five services and the gateway in this process, real broker and databases).

ONE table, ``TABLE``, says for each (method, route template) what each role gets:
"ok" (any 2xx), 401, 403 or 404 exactly, or "4xx-validation" (400 or 409) where no request of
that role can succeed and the refusal is the right answer (rare; each one says why in its note).
``test_the_table_covers_every_route`` fails as soon as a route has no row (or a row no route).
Every denied cell (401/403/404) must answer the platform's error shape and leak nothing of
the resource: none of the world's secret values (the case's essence, the author's names,
e-mail and school, the case message, the colleague's opinion, the direct message, the pending
application's text) appears in its body. An allowed answer, too, tells a role none of the
secrets that are not its own (``UNKNOWN_TO``: a stranger to the case learns nothing of it, the
colleague nothing personal, the author nothing of the mentors' direct messages).

Roles: the visitor (no token), the case's author (a mentee), another mentee, the chosen mentor
(accepted the case), another accredited mentor (proposed but not chosen), the colleague the
mentor invited (an accredited mentor the case was shared with) and a moderator.

State: a cell never breaks another. Denied cells change nothing by definition. An allowed cell
that changes state works on a resource of its own, made for it in the state it needs (a fresh
case, material, post, event, application or mentor: ``fresh``), or is a repeatable write (the
same profile, availability, preferences); ``/me/password``, erasure (``DELETE /me``) and sign-out use a
throwaway user or session of the role's kind, so the role's own token stays valid.
"""

import uuid
from collections import namedtuple
from datetime import datetime, timedelta, timezone

import pytest

from services.gateway import openapi
from services.gateway.service import GatewayService
from tests.accounts import reset_token, verification_token
from tests.integration.gateway_platform import PASSWORD, start_platform
from tests.support import case_form, eventually

ROLES = ("visitor", "author", "other_mentee", "mentor", "other_mentor", "colleague", "moderator")
GLOBAL_ROLE = {
    "author": "mentee",
    "other_mentee": "mentee",
    "mentor": "mentor",
    "other_mentor": "mentor",
    "colleague": "mentor",
    "moderator": "moderator",
}
RUBRICS = ["urban-educational-projects", "self-management"]  # all three of our mentors advise in both
TAG = uuid.uuid4().hex[:8]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
DENIED = {401, 403, 404}
CODES = {400: "invalid_input", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}
# What each role may never read, even in an allowed answer (World.secrets names them). The essence
# is not here: the author published the case, impersonal, to the forum every signed-in user reads.
_PERSONAL = {"surname", "email", "school", "message"}
UNKNOWN_TO = {
    "visitor": _PERSONAL | {"essence", "opinion", "direct", "application"},
    "other_mentee": _PERSONAL | {"opinion", "direct", "application"},
    "other_mentor": _PERSONAL | {"opinion", "direct", "application"},
    "colleague": _PERSONAL | {"application"},  # group discussion is without personal data
    "author": {"direct", "application"},
    "mentor": {"application"},
    "moderator": set(),
}

Row = namedtuple("Row", "expect call note")


def row(expect, call=None, note=""):
    """``expect``: seven tokens in ROLES order; ``call(w, role, allowed)`` -> request kwargs."""
    tokens = expect.split()
    assert len(tokens) == len(ROLES), expect
    return Row(dict(zip(ROLES, [t if t in ("ok", "4xx-validation") else int(t) for t in tokens])), call, note)


# ---- how each route is called -----------------------------------------------------------------


def get(path):
    return lambda w, role, allowed: {"path": path.format(**w.ids)}


def send(path, body=None, method="POST"):
    def call(w, role, allowed):
        return {"method": method, "path": path.format(**w.ids), "json": body if body is not None else {}}

    return call


def on_case(state, suffix, body=lambda w, case: {}, method="POST"):
    """The main case for a denied cell; a fresh case in ``state`` for an allowed one."""

    def call(w, role, allowed):
        case = w.fresh_case(state) if allowed else w.case
        return {"method": method, "path": f"/api/v1/cases/{case['id']}{suffix}", "json": body(w, case)}

    return call


def password(w, role, allowed):
    """A throwaway user of the role's kind: the change signs out every other session."""
    token = w.throwaway(GLOBAL_ROLE.get(role)) if role != "visitor" else None
    return {
        "method": "PUT",
        "path": "/api/v1/me/password",
        "token": token,
        "json": {"current_password": PASSWORD, "new_password": "another long password"},
    }


def erase_own(w, role, allowed):
    """A throwaway user of the role's kind: erasure closes the account for good."""
    token = w.throwaway(GLOBAL_ROLE.get(role)) if role != "visitor" else None
    return {"method": "DELETE", "path": "/api/v1/me", "token": token, "json": {"password": PASSWORD}}


def erase_person(w, role, allowed):
    person_id = w.fresh_mentor() if allowed else w.ids["other_mentor_id"]
    return {
        "method": "POST",
        "path": f"/api/v1/people/{person_id}/erasure",
        "json": {"reason": "Written request no. 7"},
    }


def sign_out(w, role, allowed):
    token = w.api.sign_in(w.users[role]["email"]) if role != "visitor" else None
    return {"method": "POST", "path": "/api/v1/auth/sign-out", "token": token}


def direct_message(w, role, allowed):
    to = w.ids["colleague_id"] if role == "mentor" else w.ids["mentor_id"]
    return {"method": "POST", "path": "/api/v1/messages", "json": {"recipient_id": to, "text": "A word, please."}}


def message_thread(w, role, allowed):
    peer = w.ids["colleague_id"] if role == "mentor" else w.ids["mentor_id"]
    return {"path": f"/api/v1/messages/{peer}"}


def calendar_form():
    starts = datetime.now(timezone.utc) + timedelta(days=30)
    return {
        "title": f"Open seminar {TAG}",
        "format": "online",
        "starts_at": starts.isoformat(),
        "link": "https://example.org/seminar",
        "rubrics": RUBRICS,
    }


def cancel_event(w, role, allowed):
    event_id = w.fresh_event() if allowed else w.ids["event_id"]
    return {"method": "POST", "path": f"/api/v1/calendar/{event_id}/cancellation", "json": {"reason": "Moved."}}


def withdraw_news(w, role, allowed):
    item_id = w.fresh_news() if allowed else w.ids["news_id"]
    return {"method": "POST", "path": f"/api/v1/news/{item_id}/withdrawal", "json": {"reason": "Outdated."}}


def survey_form(**overrides):
    now = datetime.now(timezone.utc)
    form = {
        "title": f"How is the term going {TAG}",
        "audience": "both",
        "opens_at": now.isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "questions": [
            {"kind": "scale", "text": "How tired are you?"},
            {"kind": "single", "text": "Which form?", "options": ["5", "7"], "required": False},
        ],
    }
    return dict(form, **overrides)


def answer_survey(w, role, allowed):
    """A fresh open survey for an allowed cell (each person answers once); the world's for a denied one."""
    survey_id = w.fresh_survey() if allowed else w.ids["survey_id"]
    return {"method": "POST", "path": f"/api/v1/surveys/{survey_id}/answers", "json": {"answers": {"q1": 3}}}


def withdraw_material(w, role, allowed):
    entry_id = w.fresh_material() if allowed else w.ids["entry_id"]
    return {"method": "POST", "path": f"/api/v1/library/{entry_id}/withdrawal", "json": {"reason": "Outdated."}}


def on_draft(suffix, body=None, method="POST"):
    """The main case's (published) forum draft for a denied cell; a fresh waiting draft for an allowed one."""

    def call(w, role, allowed):
        draft_id = w.fresh_draft() if allowed else w.ids["draft_id"]
        return {"method": method, "path": f"/api/v1/library/drafts/{draft_id}{suffix}", "json": body or {}}

    return call


def hide_post(w, role, allowed):
    post_id = w.fresh_post() if allowed else w.ids["post_id"]
    return {"method": "POST", "path": f"/api/v1/forum/posts/{post_id}/hide", "json": {"reason": "Off topic."}}


def decide_application(decision, body):
    def call(w, role, allowed):
        application_id = w.fresh_application() if allowed else w.ids["application_id"]
        return {
            "method": "POST",
            "path": f"/api/v1/accreditation/applications/{application_id}/{decision}",
            "json": body,
        }

    return call


def suspend(w, role, allowed):
    mentor_id = w.fresh_mentor() if allowed else w.ids["other_mentor_id"]
    return {"method": "POST", "path": f"/api/v1/mentors/{mentor_id}/suspend", "json": {"reason": "Complaints."}}


def reinstate(w, role, allowed):
    mentor_id = w.fresh_mentor(suspended=True) if allowed else w.ids["suspended_id"]
    return {"method": "POST", "path": f"/api/v1/mentors/{mentor_id}/reinstate", "json": {}}


def register(w, role, allowed):
    return {
        "method": "POST",
        "path": "/api/v1/auth/register",
        "json": {
            "email": f"new-{uuid.uuid4().hex[:12]}@example.org",
            "password": PASSWORD,
            "role": "mentee",
            "first_name": "Nina",
            "last_name": "Novikova",
            "patronymic": "",
        },
    }


def email_verification(w, role, allowed):
    """The link e-mailed to a fresh unverified account (through the SMTP catcher)."""
    user, _ = w.api.register("mentee", verify=False)
    return {
        "method": "POST",
        "path": "/api/v1/auth/email-verification",
        "json": {"token": verification_token(user["email"])},
    }


def password_reset(w, role, allowed):
    return {
        "method": "POST",
        "path": "/api/v1/auth/password-reset",
        "json": {"email": f"reset-{uuid.uuid4().hex[:12]}@example.org"},
    }


def password_reset_confirm(w, role, allowed):
    """A throwaway account's reset link (the reset ends its sessions, not the role's)."""
    user, _ = w.api.register("mentee", verify=False)
    w.call("POST", "/api/v1/auth/password-reset", expect=202, json={"email": user["email"]})
    return {
        "method": "POST",
        "path": "/api/v1/auth/password-reset/confirm",
        "json": {"token": reset_token(user["email"]), "new_password": "another long password"},
    }


def sign_in(w, role, allowed):
    return {
        "method": "POST",
        "path": "/api/v1/auth/sign-in",
        "json": {"email": w.users["other_mentee"]["email"], "password": PASSWORD},
    }


def photo(w, role, allowed):
    return {
        "method": "PUT",
        "path": "/api/v1/me/mentor-profile/photo",
        "data": PNG,
        "headers": {"Content-Type": "image/png"},
    }


def questions_body(w, case):
    return {"questions": [{"bank_id": "goals-3", "kind": "clarifying"}]}


def answers_body(w, case):
    return {
        "answers": [{"question_id": q["id"], "text": "Calmly."} for q in case.get("questions") or []]
        or [{"question_id": "no-such-question", "text": "Calmly."}]
    }


def reflection_body(w, case):
    return {
        "problem_solved": "yes",
        "learned": "Talk first.",
        "helpfulness": {s["id"]: 5 for s in case.get("solutions") or []} or {"no-such-solution": 5},
    }


# ---- THE table ---------------------------------------------------------------------------------
#                                 visitor author o.mentee mentor o.mentor colleague moderator
TABLE = {
    # operations and reference: public
    ("GET", "/health"): row("ok ok ok ok ok ok ok", get("/health")),
    ("GET", "/ready"): row("ok ok ok ok ok ok ok", get("/ready")),
    ("GET", "/openapi.json"): row("ok ok ok ok ok ok ok", get("/openapi.json")),
    ("GET", "/api/v1/reference"): row("ok ok ok ok ok ok ok", get("/api/v1/reference")),
    ("GET", "/api/v1/question-bank"): row("401 ok ok ok ok ok ok", get("/api/v1/question-bank")),
    # auth and sessions
    ("POST", "/api/v1/auth/register"): row("ok ok ok ok ok ok ok", register, "a new e-mail per call"),
    ("POST", "/api/v1/auth/sign-in"): row("ok ok ok ok ok ok ok", sign_in),
    ("POST", "/api/v1/auth/sign-out"): row("401 ok ok ok ok ok ok", sign_out, "a session of its own per call"),
    ("PUT", "/api/v1/me/password"): row(
        "401 ok ok ok ok ok ok", password, "a throwaway user of the role's kind: the change ends other sessions"
    ),
    ("GET", "/api/v1/me"): row("401 ok ok ok ok ok ok", get("/api/v1/me")),
    ("DELETE", "/api/v1/me"): row("401 ok ok ok ok ok ok", erase_own, "a throwaway user of the role's kind: erased"),
    ("POST", "/api/v1/people/<person_id>/erasure"): row(
        "401 403 403 403 403 403 ok", erase_person, "a fresh mentor, erased by the moderator"
    ),
    ("POST", "/api/v1/auth/email-verification"): row(
        "ok ok ok ok ok ok ok", email_verification, "the link of a fresh unverified account per call"
    ),
    ("POST", "/api/v1/auth/email-verification/resend"): row(
        "401 ok ok ok ok ok ok", send("/api/v1/auth/email-verification/resend"), "nothing is sent to a verified account"
    ),
    ("POST", "/api/v1/auth/password-reset"): row("ok ok ok ok ok ok ok", password_reset, "any address"),
    ("POST", "/api/v1/auth/password-reset/confirm"): row(
        "ok ok ok ok ok ok ok", password_reset_confirm, "a throwaway account's link per call"
    ),
    # questionnaire: the mentee's own
    ("GET", "/api/v1/me/questionnaire"): row(
        "401 ok ok 404 404 404 404", get("/api/v1/me/questionnaire"), "one's own questionnaire: 404 for who has none"
    ),
    ("PUT", "/api/v1/me/questionnaire"): row(
        "401 ok ok 403 403 403 403",
        lambda w, role, allowed: {
            "method": "PUT",
            "path": "/api/v1/me/questionnaire",
            "json": w.questionnaires.get(role, w.questionnaires["other_mentee"]),
        },
        "the role's own questionnaire written again",
    ),
    ("GET", "/api/v1/me/questionnaire/reads"): row("401 ok ok ok ok ok ok", get("/api/v1/me/questionnaire/reads")),
    # mentors: profiles, photo, availability
    ("GET", "/api/v1/mentors"): row("ok ok ok ok ok ok ok", get("/api/v1/mentors")),
    ("GET", "/api/v1/mentors/<mentor_id>"): row("ok ok ok ok ok ok ok", get("/api/v1/mentors/{mentor_id}")),
    ("GET", "/api/v1/mentors/<mentor_id>/photo"): row("ok ok ok ok ok ok ok", get("/api/v1/mentors/{mentor_id}/photo")),
    ("GET", "/api/v1/me/mentor-profile"): row(
        "401 404 404 ok ok ok 404", get("/api/v1/me/mentor-profile"), "a user without a profile: 404 (as documented)"
    ),
    ("PUT", "/api/v1/me/mentor-profile"): row(
        "401 403 403 ok ok ok 403",
        lambda w, role, allowed: {"method": "PUT", "path": "/api/v1/me/mentor-profile", "json": w.profile},
        "the same profile again",
    ),
    ("PUT", "/api/v1/me/mentor-profile/photo"): row("401 403 403 ok ok ok 403", photo),
    ("GET", "/api/v1/me/availability"): row("401 403 403 ok ok ok 403", get("/api/v1/me/availability")),
    ("PUT", "/api/v1/me/availability"): row(
        "401 403 403 ok ok ok 403",
        send("/api/v1/me/availability", {"capacity": 50, "away_periods": []}, method="PUT"),
        "the same availability",
    ),
    # the roll of mentors
    ("GET", "/api/v1/me/accreditation"): row("401 403 403 ok ok ok 403", get("/api/v1/me/accreditation")),
    ("POST", "/api/v1/me/accreditation"): row(
        "401 403 403 4xx-validation 4xx-validation 4xx-validation 403",
        send("/api/v1/me/accreditation", {"experience": "Years.", "motivation": "Help."}),
        "our mentors are accredited already: 409 is the right answer to each",
    ),
    ("GET", "/api/v1/accreditation/applications"): row(
        "401 403 403 403 403 403 ok", get("/api/v1/accreditation/applications?state=pending")
    ),
    ("POST", "/api/v1/accreditation/applications/<application_id>/approve"): row(
        "401 403 403 403 403 403 ok", decide_application("approve", {}), "a fresh pending application"
    ),
    ("POST", "/api/v1/accreditation/applications/<application_id>/reject"): row(
        "401 403 403 403 403 403 ok",
        decide_application("reject", {"reason": "Not yet."}),
        "a fresh pending application",
    ),
    ("POST", "/api/v1/mentors/<mentor_id>/suspend"): row(
        "401 403 403 403 403 403 ok", suspend, "a fresh accredited mentor"
    ),
    ("POST", "/api/v1/mentors/<mentor_id>/reinstate"): row(
        "401 403 403 403 403 403 ok", reinstate, "a fresh suspended mentor"
    ),
    # cases
    ("POST", "/api/v1/cases"): row(
        "401 ok ok 403 403 403 403",
        lambda w, role, allowed: {
            "method": "POST",
            "path": "/api/v1/cases",
            "json": case_form(rubrics=RUBRICS, essence="Another case."),
        },
        "a new case per call",
    ),
    ("GET", "/api/v1/cases"): row("401 ok ok ok ok ok ok", get("/api/v1/cases")),
    ("GET", "/api/v1/cases/<case_id>"): row("401 ok 403 ok 403 ok ok", get("/api/v1/cases/{case_id}")),
    ("GET", "/api/v1/cases/<case_id>/similar"): row("401 ok 403 ok 403 ok ok", get("/api/v1/cases/{case_id}/similar")),
    ("GET", "/api/v1/cases/<case_id>/colleague-suggestions"): row(
        "401 403 403 ok 403 403 403", get("/api/v1/cases/{case_id}/colleague-suggestions")
    ),
    ("GET", "/api/v1/cases/<case_id>/question-suggestions"): row(
        "401 403 403 ok 403 403 ok",
        get("/api/v1/cases/{case_id}/question-suggestions"),
        "the case's mentor, who asks its questions, and moderators (issue #22)",
    ),
    ("GET", "/api/v1/cases/<case_id>/history"): row(
        "401 ok 403 403 403 403 ok", get("/api/v1/cases/{case_id}/history")
    ),
    ("GET", "/api/v1/cases/<case_id>/as-of"): row(
        "401 ok 403 403 403 403 ok", get("/api/v1/cases/{case_id}/as-of?version=1")
    ),
    ("GET", "/api/v1/cases/<case_id>/author"): row(
        "401 ok 403 ok 403 403 4xx-validation",
        get("/api/v1/cases/{case_id}/author"),
        "a moderator must give a reason: that is the POST; here a 400 names the missing reason",
    ),
    ("POST", "/api/v1/cases/<case_id>/author"): row(
        "401 ok 403 ok 403 403 ok",
        send("/api/v1/cases/{case_id}/author", {"reason": "Checking a complaint about this case"}),
        "the author card opened with a reason (audited)",
    ),
    ("GET", "/api/v1/me/access-log"): row("401 ok ok ok ok ok ok", get("/api/v1/me/access-log")),
    ("GET", "/api/v1/statistics"): row("401 403 403 403 403 403 ok", get("/api/v1/statistics")),
    ("GET", "/api/v1/statistics/question-suggestions"): row(
        "401 403 403 403 403 403 ok", get("/api/v1/statistics/question-suggestions")
    ),
    ("GET", "/api/v1/statistics/mentors"): row(
        "401 403 403 ok ok ok ok", get("/api/v1/statistics/mentors"), "a mentor gets only their own row"
    ),
    ("GET", "/api/v1/me/mentor-quality"): row(
        "401 403 403 ok ok ok ok", get("/api/v1/me/mentor-quality"), "a moderator's own: no row"
    ),
    ("POST", "/api/v1/cases/<case_id>/mentor"): row(
        "401 ok 403 403 403 403 403",
        on_case("choosing_mentor", "/mentor", lambda w, case: {"mentor_id": w.ids["mentor_id"]}),
    ),
    ("POST", "/api/v1/cases/<case_id>/accept"): row(
        "401 403 403 ok 403 403 403", on_case("awaiting_acceptance", "/accept")
    ),
    ("POST", "/api/v1/cases/<case_id>/decline"): row(
        "401 403 403 ok 403 403 403",
        on_case("awaiting_acceptance", "/decline", lambda w, case: {"reason": "On leave."}),
    ),
    ("POST", "/api/v1/cases/<case_id>/questions"): row(
        "401 403 403 ok 403 403 403", on_case("in_progress", "/questions", questions_body)
    ),
    ("POST", "/api/v1/cases/<case_id>/answers"): row(
        "401 ok 403 403 403 403 403", on_case("awaiting_answers", "/answers", answers_body)
    ),
    ("POST", "/api/v1/cases/<case_id>/keep-request"): row(
        "401 ok 403 403 403 403 403", on_case("awaiting_decision", "/keep-request")
    ),
    ("POST", "/api/v1/cases/<case_id>/revisions"): row(
        "401 ok 403 403 403 403 403",
        on_case(
            "awaiting_decision",
            "/revisions",
            lambda w, case: case_form(rubrics=RUBRICS, mode="personal", essence="Put more precisely."),
        ),
    ),
    ("POST", "/api/v1/cases/<case_id>/colleagues"): row(
        "401 403 403 ok 403 403 403",
        on_case("in_progress", "/colleagues", lambda w, case: {"colleague_ids": [w.ids["colleague_id"]]}),
    ),
    ("POST", "/api/v1/cases/<case_id>/opinions"): row(
        "401 403 403 403 403 ok 403", on_case("shared", "/opinions", lambda w, case: {"text": "Give him a role."})
    ),
    ("POST", "/api/v1/cases/<case_id>/forum"): row(
        "401 ok 403 403 403 403 403",
        on_case("in_progress", "/forum", lambda w, case: {"title": f"Thread {uuid.uuid4().hex[:6]}"}),
    ),
    ("POST", "/api/v1/cases/<case_id>/messages"): row(
        "401 ok 403 ok 403 403 403", on_case("in_progress", "/messages", lambda w, case: {"text": "Hello."})
    ),
    ("POST", "/api/v1/cases/<case_id>/solutions"): row(
        "401 403 403 ok 403 403 403",
        on_case("in_progress", "/solutions", lambda w, case: {"text": "Talk to him after class."}),
    ),
    ("POST", "/api/v1/cases/<case_id>/second-opinion"): row(
        "401 ok 403 403 403 403 403", on_case("solution_proposed", "/second-opinion")
    ),
    ("POST", "/api/v1/cases/<case_id>/completion"): row(
        "401 ok 403 403 403 403 403", on_case("solution_proposed", "/completion", reflection_body)
    ),
    ("POST", "/api/v1/cases/<case_id>/withdrawal"): row(
        "401 ok 403 403 403 403 403",
        on_case("choosing_mentor", "/withdrawal", lambda w, case: {"reason": "Solved it myself."}),
    ),
    ("POST", "/api/v1/cases/<case_id>/reopening"): row(
        "401 4xx-validation 403 403 403 403 403",
        on_case("in_progress", "/reopening"),
        "only an abandoned case reopens, and abandoning takes the schedule's days (an injected clock: "
        "tests/integration/test_case_reminders.py reopens one): to the author of a case at work, 409",
    ),
    # library and forum
    ("GET", "/api/v1/library"): row("401 ok ok ok ok ok ok", get("/api/v1/library")),
    ("GET", "/api/v1/library/<entry_id>"): row("401 ok ok ok ok ok ok", get("/api/v1/library/{entry_id}")),
    ("POST", "/api/v1/library/materials"): row(
        "401 403 403 403 403 403 ok",
        send(
            "/api/v1/library/materials",
            {
                "material_type": "article",
                "title": "Another article",
                "url": "https://example.org/a",
                "rubrics": RUBRICS,
            },
        ),
        "a new material per call",
    ),
    ("PATCH", "/api/v1/library/<entry_id>"): row(
        "401 403 403 403 403 403 ok",
        send("/api/v1/library/{entry_id}", {"title": "Classroom climate, revised"}, method="PATCH"),
        "the same edit again",
    ),
    ("POST", "/api/v1/library/<entry_id>/withdrawal"): row(
        "401 403 403 403 403 403 ok", withdraw_material, "a fresh material"
    ),
    # review before publication: moderators decide; the author reads their own drafts
    ("GET", "/api/v1/library/drafts"): row("401 403 403 403 403 403 ok", get("/api/v1/library/drafts")),
    ("GET", "/api/v1/library/drafts/<draft_id>"): row(
        "401 ok 404 404 404 404 ok",
        get("/api/v1/library/drafts/{draft_id}"),
        "the author's draft: nobody else's (404, as if absent)",
    ),
    ("PATCH", "/api/v1/library/drafts/<draft_id>"): row(
        "401 403 403 403 403 403 ok",
        on_draft("", {"texts": {"title": "A title a moderator wrote"}}, method="PATCH"),
        "a fresh draft",
    ),
    ("POST", "/api/v1/library/drafts/<draft_id>/publication"): row(
        "401 403 403 403 403 403 ok", on_draft("/publication"), "a fresh draft"
    ),
    ("POST", "/api/v1/library/drafts/<draft_id>/rejection"): row(
        "401 403 403 403 403 403 ok", on_draft("/rejection", {"reason": "Recognisable."}), "a fresh draft"
    ),
    ("GET", "/api/v1/me/publications"): row("401 ok ok ok ok ok ok", get("/api/v1/me/publications")),
    ("DELETE", "/api/v1/cases/<case_id>/publication-consent"): row(
        "401 ok 403 403 403 403 403", on_case("in_progress", "/publication-consent", method="DELETE")
    ),
    ("GET", "/api/v1/me/data"): row(
        "401 ok ok ok ok ok ok", get("/api/v1/me/data"), "one's own records only (UNKNOWN_TO holds for them too)"
    ),
    ("GET", "/api/v1/forum/threads"): row("401 ok ok ok ok ok ok", get("/api/v1/forum/threads")),
    ("GET", "/api/v1/forum/threads/<thread_id>"): row(
        "401 ok ok ok ok ok ok", get("/api/v1/forum/threads/{thread_id}")
    ),
    ("POST", "/api/v1/forum/threads/<thread_id>/posts"): row(
        "401 ok ok ok ok ok ok",
        send("/api/v1/forum/threads/{thread_id}/posts", {"text": "Same here."}),
        "a new post per call",
    ),
    ("POST", "/api/v1/forum/posts/<post_id>/hide"): row("401 403 403 403 403 403 ok", hide_post, "a fresh post"),
    # surveys: moderators create (accredited mentors too when moderators allow it: not in this world);
    # the audience (here mentees and mentors) answers once; the author and moderators read the results
    ("GET", "/api/v1/surveys/settings"): row("401 ok ok ok ok ok ok", get("/api/v1/surveys/settings")),
    ("PUT", "/api/v1/surveys/settings"): row(
        "401 403 403 403 403 403 ok",
        send("/api/v1/surveys/settings", {"mentors_may_create": False}, method="PUT"),
        "the same setting again",
    ),
    ("POST", "/api/v1/surveys"): row(
        "401 403 403 403 403 403 ok",
        lambda w, role, allowed: {"method": "POST", "path": "/api/v1/surveys", "json": survey_form()},
        "a new survey per call",
    ),
    ("GET", "/api/v1/surveys"): row("401 ok ok ok ok ok ok", get("/api/v1/surveys")),
    ("GET", "/api/v1/surveys/<survey_id>"): row("401 ok ok ok ok ok ok", get("/api/v1/surveys/{survey_id}")),
    ("POST", "/api/v1/surveys/<survey_id>/answers"): row(
        "401 ok ok ok ok ok 4xx-validation",
        answer_survey,
        "a fresh survey per allowed cell; a moderator is in no survey's audience: 400 naming 'survey'",
    ),
    ("GET", "/api/v1/surveys/<survey_id>/results"): row(
        "401 403 403 403 403 403 ok",
        get("/api/v1/surveys/{survey_id}/results"),
        "the author (the moderator) only; the asked: 403",
    ),
    ("GET", "/api/v1/surveys/<survey_id>/results.csv"): row(
        "401 403 403 403 403 403 ok", get("/api/v1/surveys/{survey_id}/results.csv")
    ),
    # inbox and preferences: the signed-in user's own
    ("GET", "/api/v1/inbox"): row("401 ok ok ok ok ok ok", get("/api/v1/inbox")),
    ("GET", "/api/v1/inbox/unread-count"): row("401 ok ok ok ok ok ok", get("/api/v1/inbox/unread-count")),
    ("POST", "/api/v1/inbox/<entry_id>/read"): row(
        "401 ok 404 404 404 404 404",
        send("/api/v1/inbox/{inbox_id}/read"),
        "the author's entry: nobody else's (404, as if absent)",
    ),
    ("POST", "/api/v1/inbox/read-all"): row("401 ok ok ok ok ok ok", send("/api/v1/inbox/read-all", {})),
    ("GET", "/api/v1/me/notification-preferences"): row(
        "401 ok ok ok ok ok ok", get("/api/v1/me/notification-preferences")
    ),
    ("PUT", "/api/v1/me/notification-preferences"): row(
        "401 ok ok ok ok ok ok",
        send("/api/v1/me/notification-preferences", {"email": {}}, method="PUT"),
        "nothing changed",
    ),
    # direct messages: mentors and moderators
    ("POST", "/api/v1/messages"): row("401 403 403 ok ok ok ok", direct_message, "a new message per call"),
    ("GET", "/api/v1/messages"): row("401 403 403 ok ok ok ok", get("/api/v1/messages")),
    ("GET", "/api/v1/messages/<user_id>"): row(
        "401 403 403 ok ok ok ok",
        message_thread,
        "mentor<->colleague hold the secret message; others see their own (empty) conversation with the mentor",
    ),
    # the events calendar: the event is the chosen mentor's
    ("POST", "/api/v1/calendar"): row(
        "401 ok ok ok ok ok ok",
        lambda w, role, allowed: {"method": "POST", "path": "/api/v1/calendar", "json": calendar_form()},
        "a new event per call",
    ),
    ("GET", "/api/v1/calendar"): row("401 ok ok ok ok ok ok", get("/api/v1/calendar")),
    ("GET", "/api/v1/calendar/<event_id>"): row("401 ok ok ok ok ok ok", get("/api/v1/calendar/{event_id}")),
    ("PATCH", "/api/v1/calendar/<event_id>"): row(
        "401 403 403 ok 403 403 403",
        send("/api/v1/calendar/{event_id}", {"title": f"Open seminar {TAG}"}, method="PATCH"),
        "the same title again",
    ),
    ("POST", "/api/v1/calendar/<event_id>/cancellation"): row(
        "401 403 403 ok 403 403 ok", cancel_event, "a fresh event"
    ),
    ("PUT", "/api/v1/calendar/<event_id>/attendance"): row(
        "401 ok ok ok ok ok ok", send("/api/v1/calendar/{event_id}/attendance", method="PUT")
    ),
    ("DELETE", "/api/v1/calendar/<event_id>/attendance"): row(
        "401 ok ok ok ok ok ok", send("/api/v1/calendar/{event_id}/attendance", method="DELETE")
    ),
    # news: everyone reads published items; moderators write, see every state and the history
    ("GET", "/api/v1/news"): row("ok ok ok ok ok ok ok", get("/api/v1/news")),
    ("GET", "/api/v1/news/<item_id>"): row("ok ok ok ok ok ok ok", get("/api/v1/news/{news_id}")),
    ("GET", "/api/v1/news/all"): row("401 403 403 403 403 403 ok", get("/api/v1/news/all")),
    ("GET", "/api/v1/news/<item_id>/history"): row("401 403 403 403 403 403 ok", get("/api/v1/news/{news_id}/history")),
    ("POST", "/api/v1/news"): row(
        "401 403 403 403 403 403 ok",
        send("/api/v1/news", {"title": f"News {TAG}", "text": "A seminar next week.", "rubrics": RUBRICS}),
        "a new item per call",
    ),
    ("PATCH", "/api/v1/news/<item_id>"): row(
        "401 403 403 403 403 403 ok",
        send("/api/v1/news/{news_id}", {"title": f"News {TAG}"}, method="PATCH"),
        "the same title again",
    ),
    ("POST", "/api/v1/news/<item_id>/withdrawal"): row("401 403 403 403 403 403 ok", withdraw_news, "a fresh item"),
}


# ---- the world ---------------------------------------------------------------------------------


class World:
    """The people and resources every cell works on, made through the API."""

    def __init__(self, api, test_env):
        self.api, self.test_env = api, test_env
        self.users, self.tokens, self.ids, self.questionnaires = {}, {"visitor": None}, {}, {}
        self.profile = {
            "rubrics": RUBRICS,
            "place_of_work": "Moscow City University",
            "institute": "Institute of Pedagogy",
            "position": "Teacher",
            "interests": "Projects",
            "links": [],
            "motto": "Listen.",
            "accepting_cases": True,
        }
        # applicants and throwaway mentors advise elsewhere: never proposed instead of our mentor
        self.outsider_profile = dict(self.profile, rubrics=["education-law"])
        self.secrets = {}

    def call(self, method, path, token=None, expect=200, **kwargs):
        response = self.api(method, path, token=token, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def person(self, role, key, **names):
        user, token = self.api.register(role, **names)
        self.users[key], self.tokens[key] = user, token
        return user, token

    def accredited(self, key=None):
        user, token = self.api.register("mentor", first_name="Pavel", last_name="Orlov")
        self.call("PUT", "/api/v1/me/mentor-profile", token, json=self.profile if key else self.outsider_profile)
        self.call("PUT", "/api/v1/me/availability", token, json={"capacity": 50, "away_periods": []})
        applied = self.call(
            "POST",
            "/api/v1/me/accreditation",
            token,
            expect=201,
            json={"experience": "Ten years.", "motivation": "To help."},
        )
        self.call(
            "POST",
            f"/api/v1/accreditation/applications/{applied['application']['id']}/approve",
            self.tokens["moderator"],
        )
        if key:
            self.users[key], self.tokens[key] = user, token
        return user, token

    def build(self):
        self.tokens["moderator"] = self.api.moderator(self.test_env)
        self.users["moderator"] = self.call("GET", "/api/v1/me", self.tokens["moderator"])
        for key in ("mentor", "colleague", "other_mentor"):
            self.accredited(key)
        surname = f"Secretova{TAG}"
        author, t_author = self.person("mentee", "author", first_name="Zinaida", last_name=surname)
        self.person("mentee", "other_mentee", first_name="Olga", last_name="Ivanova")
        for key, school in (("author", f"School No. {TAG} of secrets"), ("other_mentee", "School No. 7")):
            self.questionnaires[key] = {
                "school": school,
                "subjects": ["History"],
                "forms_taught": [7],
                "years_of_practice": 1,
            }
            self.call("PUT", "/api/v1/me/questionnaire", self.tokens[key], json=self.questionnaires[key])
        self.secrets = {
            "essence": f"My pupil {TAG} mocks me in front of the whole class.",
            "surname": surname,
            "email": author["email"],
            "school": f"School No. {TAG} of secrets",
            "message": f"Case message {TAG} only for my mentor.",
            "opinion": f"Colleague opinion {TAG}.",
            "direct": f"Direct message {TAG} between us.",
            "application": f"Application experience {TAG}.",
        }
        self.ids.update(
            mentor_id=self.users["mentor"]["id"],
            colleague_id=self.users["colleague"]["id"],
            other_mentor_id=self.users["other_mentor"]["id"],
        )

        # the case: personal, consent to colleagues and the forum; mentor accepted, colleague invited
        self.case = self.fresh_case("shared", essence=self.secrets["essence"])
        case_path = f"/api/v1/cases/{self.case['id']}"
        self.call("POST", f"{case_path}/messages", t_author, expect=201, json={"text": self.secrets["message"]})
        self.call(
            "POST",
            f"{case_path}/opinions",
            self.tokens["colleague"],
            expect=201,
            json={"text": self.secrets["opinion"]},
        )
        title = f"Mocked {TAG}"
        self.call("POST", f"{case_path}/forum", t_author, json={"title": title})
        self.call("GET", f"{case_path}/author", self.tokens["mentor"])  # a questionnaire read for the author
        self.ids["case_id"] = self.case["id"]

        photo_put = self.api(
            "PUT",
            "/api/v1/me/mentor-profile/photo",
            token=self.tokens["mentor"],
            data=PNG,
            headers={"Content-Type": "image/png"},
        )
        assert photo_put.status_code == 200, photo_put.text
        self.call(
            "POST",
            "/api/v1/messages",
            self.tokens["mentor"],
            expect=201,
            json={"recipient_id": self.ids["colleague_id"], "text": self.secrets["direct"]},
        )
        self.ids["event_id"] = self.fresh_event()
        self.ids["entry_id"] = self.fresh_material()
        self.ids["news_id"] = self.fresh_news()
        applicant, t_applicant = self.api.register("mentor")
        self.call("PUT", "/api/v1/me/mentor-profile", t_applicant, json=self.outsider_profile)
        self.ids["application_id"] = self.call(
            "POST",
            "/api/v1/me/accreditation",
            t_applicant,
            expect=201,
            json={"experience": self.secrets["application"], "motivation": "To help."},
        )["application"]["id"]
        self.ids["suspended_id"] = self.fresh_mentor(suspended=True)

        self.ids["draft_id"] = self.publish_forum_draft(self.case["id"])  # read by a moderator first
        thread = eventually(
            lambda: [t for t in self.call("GET", "/api/v1/forum/threads", t_author)["items"] if t["title"] == title],
            timeout=30,
            message="the forum thread",
        )[0]
        self.ids["thread_id"] = thread["id"]
        self.ids["post_id"] = self.fresh_post()
        self.ids["survey_id"] = self.fresh_survey()
        entries = eventually(
            lambda: self.call("GET", "/api/v1/inbox", t_author)["items"],
            timeout=30,
            message="an inbox entry for the author",
        )
        self.ids["inbox_id"] = entries[0]["id"]
        return self

    # ---- fresh resources for allowed cells that change state --------------------------------

    def fresh_case(self, state, **form):
        author, mentor = self.tokens["author"], self.tokens["mentor"]
        case = self.call(
            "POST",
            "/api/v1/cases",
            author,
            expect=201,
            json=case_form(
                rubrics=RUBRICS, mode="personal", group_discussion_consent=True, publication_consent=True, **form
            ),
        )
        path = f"/api/v1/cases/{case['id']}"

        def proposed():
            seen = self.call("GET", path, author)
            return seen if seen["state"] == "choosing_mentor" else None

        case = eventually(proposed, timeout=30, message="mentors proposed")
        assert self.ids["mentor_id"] in [p["mentor_id"] for p in case["proposed_mentors"]], case
        if state != "choosing_mentor":
            case = self.call("POST", f"{path}/mentor", author, json={"mentor_id": self.ids["mentor_id"]})
        if state not in ("choosing_mentor", "awaiting_acceptance"):
            case = self.call("POST", f"{path}/accept", mentor)
        if state == "shared":
            case = self.call("POST", f"{path}/colleagues", mentor, json={"colleague_ids": [self.ids["colleague_id"]]})
        if state in ("awaiting_answers", "awaiting_decision"):
            case = self.call("POST", f"{path}/questions", mentor, expect=201, json=questions_body(self, case))
        if state == "awaiting_decision":
            case = self.call("POST", f"{path}/answers", author, json=answers_body(self, case))
        if state == "solution_proposed":
            case = self.call("POST", f"{path}/solutions", mentor, expect=201, json={"text": "Try this."})
        assert case["state"] == ("in_progress" if state == "shared" else state), case["state"]
        return case

    def forum_draft(self, case_id):
        """The waiting forum draft of the author's case, as the author previews it."""
        return eventually(
            lambda: [
                d["id"]
                for d in self.call("GET", f"/api/v1/me/publications?case_id={case_id}", self.tokens["author"])["items"]
                if d["kind"] == "forum_post" and d["state"] == "pending"
            ],
            timeout=30,
            message="the forum draft",
        )[0]

    def publish_forum_draft(self, case_id):
        draft_id = self.forum_draft(case_id)
        self.call("POST", f"/api/v1/library/drafts/{draft_id}/publication", self.tokens["moderator"])
        return draft_id

    def fresh_draft(self):
        case = self.fresh_case("in_progress")
        self.call(
            "POST",
            f"/api/v1/cases/{case['id']}/forum",
            self.tokens["author"],
            json={"title": f"Thread {uuid.uuid4().hex[:6]}"},
        )
        return self.forum_draft(case["id"])

    def fresh_event(self):
        return self.call("POST", "/api/v1/calendar", self.tokens["mentor"], expect=201, json=calendar_form())["id"]

    def fresh_news(self):
        return self.call(
            "POST",
            "/api/v1/news",
            self.tokens["moderator"],
            expect=201,
            json={"title": f"News {TAG}", "text": "A seminar next week.", "rubrics": RUBRICS},
        )["id"]

    def fresh_material(self):
        return self.call(
            "POST",
            "/api/v1/library/materials",
            self.tokens["moderator"],
            expect=201,
            json={
                "material_type": "article",
                "title": "Classroom climate",
                "url": "https://example.org/climate",
                "rubrics": RUBRICS,
            },
        )["id"]

    def fresh_post(self):
        return self.call(
            "POST",
            f"/api/v1/forum/threads/{self.ids['thread_id']}/posts",
            self.tokens["other_mentee"],
            expect=201,
            json={"text": "Me too."},
        )["id"]

    def fresh_survey(self):
        """An open survey for mentees and mentors, once every mentor of the world is in its audience (the
        library learns who is accredited from identity's events)."""
        survey_id = self.call("POST", "/api/v1/surveys", self.tokens["moderator"], expect=201, json=survey_form())["id"]
        for key in ("mentor", "colleague", "other_mentor"):
            eventually(
                lambda: self.api("GET", f"/api/v1/surveys/{survey_id}", token=self.tokens[key]).status_code == 200,
                timeout=30,
                message=f"the survey visible to {key}",
            )
        return survey_id

    def fresh_application(self):
        _, token = self.api.register("mentor")
        self.call("PUT", "/api/v1/me/mentor-profile", token, json=self.outsider_profile)
        return self.call(
            "POST", "/api/v1/me/accreditation", token, expect=201, json={"experience": "Years.", "motivation": "Help."}
        )["application"]["id"]

    def fresh_mentor(self, suspended=False):
        user, _ = self.accredited()
        if suspended:
            self.call(
                "POST",
                f"/api/v1/mentors/{user['id']}/suspend",
                self.tokens["moderator"],
                json={"reason": "Complaints."},
            )
        return user["id"]

    def throwaway(self, global_role):
        if global_role == "moderator":
            return self.api.moderator(self.test_env)
        return self.api.register(global_role)[1]


@pytest.fixture(scope="module")
def world(start_module_service, test_env):
    return World(start_platform(start_module_service), test_env).build()


# ---- the tests ---------------------------------------------------------------------------------


def _route_keys():
    return {(route.method, route.url) for _, route in openapi.routes(GatewayService)}


def test_the_table_covers_every_route():
    routes = _route_keys()
    assert routes - set(TABLE) == set(), "routes without a row in TABLE"
    assert set(TABLE) - routes == set(), "rows of TABLE for routes that do not exist"


def _cells():
    """Denied cells first (they change nothing), then the allowed ones."""
    cells = [(key, role) for key in TABLE for role in ROLES]
    cells.sort(key=lambda cell: TABLE[cell[0]].expect[cell[1]] not in DENIED)
    return [pytest.param(key, role, id=f"{key[0]} {key[1]} as {role}") for key, role in cells]


@pytest.mark.parametrize("key, role", _cells())
def test_cell(world, key, role):
    expected = TABLE[key].expect[role]
    request = {"method": key[0], "token": world.tokens[role]}
    request.update(TABLE[key].call(world, role, expected == "ok"))
    method, path = request.pop("method"), request.pop("path")
    response = world.api(method, path, **request)
    status = response.status_code
    if expected == "ok":
        assert 200 <= status < 300, f"{method} {path} as {role}: {status} {response.text[:500]}"
    elif expected == "4xx-validation":
        assert status in (400, 409), f"{method} {path} as {role}: {status} {response.text[:500]}"
    else:
        assert status == expected, f"{method} {path} as {role}: {status} {response.text[:500]}"
    text = response.content.decode("utf-8", "replace")
    if expected == "ok":  # an allowed answer still tells nobody what is not theirs
        leaked = [name for name in UNKNOWN_TO[role] if world.secrets[name] in text]
        assert leaked == [], f"{method} {path} tells {role} {leaked}"
    else:
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message", "fields"} <= set(body["error"]) <= {"code", "message", "fields", "details"}
        assert body["error"]["code"] == CODES[status], body
        assert response.headers["Content-Type"] == "application/json"
        leaked = [name for name, value in world.secrets.items() if value in text]
        assert leaked == [], f"the denied answer leaks {leaked}: {text}"
