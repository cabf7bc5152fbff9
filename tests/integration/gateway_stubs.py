"""Stub services for the gateway tests (tests/integration/test_gateway.py): nameko services named like
the real ones, on the real broker. They return canned data, raise contracts errors, and record what
they were called with and under which correlation id (``CALLS``), which the tests assert on.
"""

import eventlet
from nameko.rpc import rpc

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.logs import CorrelationContext
from services.common.tokens import TokenSigner
from tests.support import case_form

RPC_TIMEOUT = 2
TOKEN_SECRET = "gateway-test-token-secret-0123456789"
CALLS = []  # (service.method, args, correlation id) as the stubs saw them


def record(stub, method, *args):
    CALLS.append((f"{stub.name}.{method}", args, stub.log))


def calls(name):
    return [c for c in CALLS if c[0] == name]


def health(name):
    return {"service": name, "status": "ok", "database": "ok", "uptime": 12}


PROFILE_M1 = {
    "mentor_id": "m1",
    "first_name": "Anna",
    "last_name": "Petrova",
    "patronymic": "Ivanovna",
    "rubrics": ["class-management-motivation"],
    "place_of_work": "MCU",
    "institute": "IPPO",
    "position": "Associate professor",
    "interests": "Classroom climate",
    "links": [],
    "motto": "Ask, then listen",
    "accepting_cases": True,
    "email": "anna@example.org",
}


def a_case(**overrides):
    case = {
        "id": "c-1",
        "number": "2026-0001",
        "state": "awaiting_choice",
        "version": 3,
        "revision": 1,
        "form": case_form(),
        "author_id": "u-mentee",
        "round": 1,
        "proposed_mentors": [
            {"mentor_id": "m1", "matched_rubrics": ["class-management-motivation"], "score": 0.9},
            {"mentor_id": "m2", "matched_rubrics": ["interaction-with-parents"], "score": 0.5},
        ],
        "mentor_id": None,
        "solutions": [],
        "reflection": None,
        "created_at": "2026-01-01T10:00:00+00:00",
        "updated_at": "2026-01-01T10:00:00+00:00",
        "internal_note": "never leaves the gateway",
    }
    case.update(overrides)
    return case


def refuse(case_id):
    """The refusals a case service answers with: not the actor's case, or not in a state that allows it."""
    if case_id == "not-yours":
        raise Forbidden("Only the author or the chosen mentor may do this.", details={"case_id": case_id})
    if case_id == "closed":
        raise Conflict("The case is completed; nothing more can be done.", details={"state": "completed"})


def acted(case_id, **overrides):
    """The CaseView after a journey command (no proposals left, so no profile lookup)."""
    return a_case(
        **dict({"id": case_id, "state": "in_progress", "mentor_id": "u-m", "proposed_mentors": []}, **overrides)
    )


class CasesStub:
    name = "cases"
    log = CorrelationContext("cases")

    @rpc
    def health(self):
        return health(self.name)

    @rpc
    def create_case(self, actor, form, request_id=None):
        record(self, "create_case", actor, form, request_id)
        return a_case(form=form, proposed_mentors=[])

    @rpc
    def list_cases(self, actor, filters=None):
        record(self, "list_cases", actor, filters)
        return {
            "items": [
                {
                    "id": "c-1",
                    "number": "2026-0001",
                    "state": "open",
                    "rubrics": ["self-management"],
                    "urgency": "urgent",
                    "author_email": "leak@example.org",
                }
            ],
            "next_cursor": None,
        }

    @rpc
    def get_case(self, actor, case_id):
        record(self, "get_case", actor, case_id)
        if case_id == "missing":
            raise NotFound("No case missing.")
        if case_id == "not-yours":
            raise Forbidden("Only the author and the chosen mentor see this case.", details={"case_id": case_id})
        if case_id == "slow":
            eventlet.sleep(RPC_TIMEOUT + 1)
        if case_id == "broken":
            raise RuntimeError("db password=hunter2 leaked in /srv/cases/secret.py")
        return a_case(id=case_id)

    @rpc
    def choose_mentor(self, actor, case_id, choice):
        record(self, "choose_mentor", actor, case_id, choice)
        if choice["mentor_id"] not in ("m1", "m2"):
            raise Conflict(
                "That mentor was not proposed for this case.",
                fields={"mentor_id": ["Not one of the proposed mentors."]},
                details={"state": "awaiting_choice"},
            )
        return a_case(id=case_id, state="awaiting_acceptance", mentor_id=choice["mentor_id"])

    @rpc
    def accept_case(self, actor, case_id):
        record(self, "accept_case", actor, case_id)
        return a_case(id=case_id, state="in_progress", mentor_id=actor["user_id"], proposed_mentors=[])

    @rpc
    def propose_solution(self, actor, case_id, solution, request_id=None):
        record(self, "propose_solution", actor, case_id, solution, request_id)
        return a_case(
            id=case_id,
            proposed_mentors=[],
            solutions=[dict(solution, id="s-1", mentor_id=actor["user_id"], created_at="2026-01-02T10:00:00+00:00")],
        )

    @rpc
    def complete_case(self, actor, case_id, reflection):
        record(self, "complete_case", actor, case_id, reflection)
        return a_case(id=case_id, state="completed", proposed_mentors=[], reflection=reflection)

    @rpc
    def get_history(self, actor, case_id):
        record(self, "get_history", actor, case_id)
        return [
            {
                "version": 1,
                "type": "CaseCreated",
                "occurred_at": "2026-01-01T10:00:00+00:00",
                "data": {"rubrics": ["self-management"]},
                "actor_ip": "10.0.0.1",
            },
            {
                "version": 7,
                "type": "CaseRedefined",
                "occurred_at": "2026-01-03T10:00:00+00:00",
                "actor_role": "author",
                "revision": 2,
                "data": {"revision": 2},
                "changes": {"essence": {"before": "a", "after": "b"}},
                "author_id": "u-mentee",
            },
        ]

    @rpc
    def decline_case(self, actor, case_id, reason):
        record(self, "decline_case", actor, case_id, reason)
        refuse(case_id)
        # back to the author's choice: a second round, with new proposals to show
        return a_case(
            id=case_id,
            round=2,
            engagements=[
                {
                    "mentor_id": actor["user_id"],
                    "round": 1,
                    "opinion": 1,
                    "outcome": "declined",
                    "reason": reason["reason"],
                    "email": "must-not-leak",
                }
            ],
        )

    @rpc
    def withdraw_case(self, actor, case_id, reason):
        record(self, "withdraw_case", actor, case_id, reason)
        refuse(case_id)
        return a_case(id=case_id, state="withdrawn", proposed_mentors=[], withdrawn_reason=reason["reason"])

    @rpc
    def ask_questions(self, actor, case_id, questions, request_id=None):
        record(self, "ask_questions", actor, case_id, questions, request_id)
        refuse(case_id)
        return acted(
            case_id,
            state="questions_asked",
            questions=[
                dict(
                    q,
                    id=f"q-{i}",
                    text=q["text"] or f"hint {q['bank_id']}",
                    asked_by=actor["user_id"],
                    asked_at="2026-01-02T10:00:00+00:00",
                    answer=None,
                    answered_at=None,
                    internal=True,
                )
                for i, q in enumerate(questions["questions"], 1)
            ],
        )

    @rpc
    def answer_questions(self, actor, case_id, answers):
        record(self, "answer_questions", actor, case_id, answers)
        refuse(case_id)
        return acted(
            case_id,
            state="questions_answered",
            questions=[
                {
                    "id": a["question_id"],
                    "bank_id": None,
                    "text": "Why?",
                    "kind": "clarifying",
                    "answer": a["text"],
                    "answered_at": "2026-01-02T11:00:00+00:00",
                }
                for a in answers["answers"]
            ],
        )

    @rpc
    def keep_request(self, actor, case_id):
        record(self, "keep_request", actor, case_id)
        refuse(case_id)
        return acted(case_id, decision="kept")

    @rpc
    def redefine_case(self, actor, case_id, form):
        record(self, "redefine_case", actor, case_id, form)
        refuse(case_id)
        return acted(case_id, revision=2, form=form, revisions=[case_form(), form], decision="redefined")

    @rpc
    def share_with_colleagues(self, actor, case_id, share):
        record(self, "share_with_colleagues", actor, case_id, share)
        refuse(case_id)
        return acted(case_id, colleague_ids=share["colleague_ids"])

    @rpc
    def add_opinion(self, actor, case_id, opinion, request_id=None):
        record(self, "add_opinion", actor, case_id, opinion, request_id)
        refuse(case_id)
        return acted(
            case_id,
            opinions=[
                {"colleague_id": actor["user_id"], "text": opinion["text"], "created_at": "2026-01-02T12:00:00+00:00"}
            ],
        )

    @rpc
    def publish_to_forum(self, actor, case_id, publication):
        record(self, "publish_to_forum", actor, case_id, publication)
        refuse(case_id)
        return acted(case_id, forum_thread_ids=[publication["thread_id"] or "t-new"])

    @rpc
    def send_message(self, actor, case_id, message, request_id=None):
        record(self, "send_message", actor, case_id, message, request_id)
        refuse(case_id)
        return acted(
            case_id,
            messages=[
                {
                    "sender_id": actor["user_id"],
                    "text": message["text"],
                    "sent_at": "2026-01-02T13:00:00+00:00",
                    "recipient_id": "u-m",
                }
            ],
        )

    @rpc
    def request_second_opinion(self, actor, case_id):
        record(self, "request_second_opinion", actor, case_id)
        refuse(case_id)
        return a_case(id=case_id, round=2, opinion=2)

    @rpc
    def author_for(self, actor, case_id):
        record(self, "author_for", actor, case_id)
        if case_id == "anonymous":
            raise Forbidden(
                "The author's identity is shown only to the mentor of a personal-mode case.",
                details={"case_id": case_id},
            )
        refuse(case_id)
        return {"author_id": "u-mentee", "mode": "personal"}

    @rpc
    def get_case_as_of(self, actor, case_id, as_of):
        record(self, "get_case_as_of", actor, case_id, as_of)
        refuse(case_id)
        return a_case(id=case_id, version=as_of["version"] or 2, state="awaiting_mentors", proposed_mentors=[])


QUESTIONNAIRE = {
    "school": "School No. 1234",
    "subjects": ["Mathematics"],
    "forms_taught": [5, 7],
    "years_of_practice": 2,
    "graduation_year": 2023,
    "graduation_institute": "MCU",
    "workload_hours_per_week": 24,
}
QUESTIONNAIRE_VIEW = dict(QUESTIONNAIRE, updated_at="2026-01-02T10:00:00+00:00")


class IdentityStub:
    name = "identity"
    log = CorrelationContext("identity")

    @rpc
    def health(self):
        return health(self.name)

    @rpc
    def register(self, form, client=None):
        record(self, "register", form)
        return {"status": "verification_sent", "email": form["email"], "password_hash": "argon2$..."}

    @rpc
    def authenticate(self, token):
        """The session check the gateway makes on every authenticated request (not recorded: it is
        plumbing, not the route's call); every genuine token's session is live and verified here."""
        return dict(TokenSigner(TOKEN_SECRET, 3600).verify(token), email_verified=True)

    @rpc
    def sign_in(self, credentials, client=None):
        record(self, "sign_in", credentials)
        return {
            "access_token": "tok",
            "token_type": "bearer",
            "expires_in": 3600,
            "user": {"id": "u-1", "email": credentials["email"], "role": "mentee"},
        }

    @rpc
    def get_user(self, actor, user_id):
        record(self, "get_user", actor, user_id)
        return {
            "id": user_id,
            "email": "me@example.org",
            "role": actor["role"],
            "first_name": "Olga",
            "last_name": "Smirnova",
            "patronymic": "",
            "created_at": "2026-01-01T10:00:00+00:00",
        }

    @rpc
    def update_mentor_profile(self, actor, profile):
        record(self, "update_mentor_profile", actor, profile)
        return dict(PROFILE_M1, **profile, mentor_id=actor["user_id"])

    @rpc
    def get_mentor_profile(self, mentor_id):
        record(self, "get_mentor_profile", mentor_id)
        if mentor_id != "m1":
            raise NotFound("No such mentor.")
        return PROFILE_M1

    @rpc
    def list_mentor_profiles(self, rubric=None):
        record(self, "list_mentor_profiles", rubric)
        return [PROFILE_M1]

    @rpc
    def get_public_profiles(self, mentor_ids):
        record(self, "get_public_profiles", mentor_ids)
        known = {"m1": PROFILE_M1, "u-c": dict(PROFILE_M1, mentor_id="u-c"), "u-d": dict(PROFILE_M1, mentor_id="u-d")}
        return [known[m] for m in mentor_ids if m in known]

    @rpc
    def get_questionnaire(self, actor):
        record(self, "get_questionnaire", actor)
        if actor["user_id"] == "u-new":
            raise NotFound("You have not filled the onboarding questionnaire yet.")
        return dict(QUESTIONNAIRE_VIEW, user_id=actor["user_id"])

    @rpc
    def update_questionnaire(self, actor, questionnaire):
        record(self, "update_questionnaire", actor, questionnaire)
        if actor["role"] != "mentee":
            raise Forbidden("Only a mentee fills the onboarding questionnaire.")
        return dict(questionnaire, updated_at="2026-01-03T10:00:00+00:00", user_id=actor["user_id"])

    @rpc
    def questionnaire_reads(self, actor):
        record(self, "questionnaire_reads", actor)
        return [
            {
                "reader_id": "u-m",
                "case_id": "c-1",
                "read_at": "2026-01-03T10:00:00+00:00",
                "id": 2,
                "author_id": actor["user_id"],
            },
            {
                "reader_id": "u-mod",
                "case_id": "c-2",
                "read_at": "2026-01-02T10:00:00+00:00",
                "id": 1,
                "author_id": actor["user_id"],
            },
        ]

    @rpc
    def author_card(self, actor, token, case_id, form):
        """Identity itself asks cases (the real one does; here the refusals are canned)."""
        record(self, "author_card", actor, token, case_id, form)
        if case_id == "anonymous":
            raise Forbidden(
                "The author's identity is shown only to the mentor of a personal-mode case.",
                details={"case_id": case_id},
            )
        refuse(case_id)
        if actor["role"] == "moderator" and len(form.get("reason", "")) < 10:
            raise InvalidInput(
                "A moderator gives the reason for opening the author's identity.",
                {"reason": ["Required of a moderator."]},
            )
        return {
            "user_id": "u-mentee",
            "first_name": "Anna",
            "last_name": "Smirnova",
            "patronymic": "",
            "email": "anna@example.org",
            "role": "mentee",
            "questionnaire": dict(QUESTIONNAIRE_VIEW, user_id="u-mentee"),
        }

    @rpc
    def access_log(self, actor, query):
        record(self, "access_log", actor, query)
        return {
            "items": [
                {
                    "id": "2",
                    "reader_role": "moderator",
                    "reader": "a moderator",
                    "mentor_id": None,
                    "disclosed": ["identity"],
                    "case_id": "c-1",
                    "reason": "A parent's complaint.",
                    "read_at": "2026-01-03T10:00:00+00:00",
                    "reader_id": "u-mod",
                }
            ],
            "next_before": "2",
        }


class NotificationsStub:
    name = "notifications"
    log = CorrelationContext("notifications")

    @rpc
    def health(self):
        return health(self.name)

    @rpc
    def inbox_page(self, actor, query):
        record(self, "inbox_page", actor, query)
        return {
            "items": [
                {
                    "id": "n-1",
                    "kind": "mentor_chosen",
                    "case_id": "c-1",
                    "case_number": "2026-0001",
                    "text": "You were chosen.",
                    "created_at": "2026-01-01T10:00:00+00:00",
                    "read_at": None,
                    "recipient_id": actor["user_id"],
                }
            ],
            "unread_count": 1,
            "next_before": None,
        }

    @rpc
    def mark_read(self, actor, entry_id):
        record(self, "mark_read", actor, entry_id)
        if entry_id != "n-1":
            raise NotFound("No such notification.")
        return {
            "id": entry_id,
            "kind": "mentor_chosen",
            "case_id": "c-1",
            "case_number": "2026-0001",
            "text": "You were chosen.",
            "created_at": "2026-01-01T10:00:00+00:00",
            "read_at": "2026-01-01T11:00:00+00:00",
        }


class LibraryStub:
    name = "library"
    log = CorrelationContext("library")

    @rpc
    def health(self):
        return health(self.name)

    @rpc
    def list_entries(self, actor, rubric=None):
        record(self, "list_entries", actor, rubric)
        return [
            {
                "id": "l-1",
                "kind": "solved_case",
                "rubrics": ["self-management"],
                "essence": "e",
                "author_id": "must-not-leak",
            }
        ]

    @rpc
    def search(self, actor, query):
        record(self, "search", actor, query)
        return {
            "items": [
                {
                    "id": "l-1",
                    "kind": "solved_case",
                    "rubrics": ["self-management"],
                    "essence": "e",
                    "author_id": "must-not-leak",
                }
            ],
            "total": 1,
            "total_exact": True,
            "next_cursor": None,
        }

    @rpc
    def similar(self, actor, request):
        record(self, "similar", actor, request)
        if "library-breaks" in request["text"]:
            raise RuntimeError("similar failed")
        return [
            {
                "id": "l-1",
                "kind": "solved_case",
                "rubrics": ["self-management"],
                "essence": "e",
                "score": 0.8,
                "text_score": 1.0,
                "rubric_score": 0.333,
                "matched_rubrics": ["self-management"],
                "author_id": "must-not-leak",
            }
        ]

    @rpc
    def add_material(self, actor, material):
        record(self, "add_material", actor, material)
        if actor["role"] != "moderator":
            raise Forbidden("Only moderators add library materials.")
        return {"id": "l-2", "kind": "material", **material, "added_by": "must-not-leak"}

    @rpc
    def add_post(self, actor, thread_id, post, request_key=None):
        record(self, "add_post", actor, thread_id, post, request_key)
        return {
            "id": "p-2",
            "kind": "message",
            "text": post["text"],
            "reply_to": post["reply_to"],
            "author": {"role": actor["role"], "label": "Mentee 1", "own": True},
            "author_id": "must-not-leak",
            "created_at": "2026-01-03T10:00:00+00:00",
        }

    @rpc
    def get_entry(self, actor, entry_id):
        record(self, "get_entry", actor, entry_id)
        return {"id": entry_id, "kind": "solved_case", "rubrics": ["self-management"], "essence": "e"}

    @rpc
    def list_threads(self, actor, rubric=None):
        record(self, "list_threads", actor, rubric)
        return [
            {
                "id": "t-1",
                "title": "Homework strike",
                "rubrics": ["class-management-motivation"],
                "posts_count": 2,
                "created_at": "2026-01-01T10:00:00+00:00",
                "updated_at": "2026-01-02T10:00:00+00:00",
                "case_ids": ["must-not-leak"],
            }
        ]

    @rpc
    def get_thread(self, actor, thread_id):
        record(self, "get_thread", actor, thread_id)
        if thread_id != "t-1":
            raise NotFound("No such thread.")
        return {
            "id": thread_id,
            "title": "Homework strike",
            "rubrics": ["class-management-motivation"],
            "created_at": "2026-01-01T10:00:00+00:00",
            "updated_at": "2026-01-02T10:00:00+00:00",
            "posts": [
                {
                    "id": "p-1",
                    "essence": "Pupils ignore homework.",
                    "question": "What now?",
                    "rubrics": ["class-management-motivation"],
                    "urgency": "urgent",
                    "created_at": "2026-01-01T10:00:00+00:00",
                    "case_id": "c-1",
                    "author_id": "u-mentee",
                }
            ],
        }


MATCHING_DATABASE = {"state": "unavailable"}


class MatchingStub:
    name = "matching"
    log = CorrelationContext("matching")

    @rpc
    def health(self):
        return {"service": "matching", "status": "ok", "database": MATCHING_DATABASE["state"]}


STUBS = (CasesStub, IdentityStub, NotificationsStub, LibraryStub, MatchingStub)
