"""Cases: "my cases" (and the moderators' list and flagged queue), filing, the case page with the
actions of whoever may act now, redefinition, completion, and the full history.

The case page is one template fed by ``_case_page``: every action posts to its own URL and, on a
refused request, renders the same page again with that action's FormState (what the person typed,
the errors next to their fields, the 409 banner with reload) in its slot; on success it redirects
(303) back to the case. What a person may do is decided by the gateway; the page only offers the
actions the case's state and the person's part in it allow, and shows the gateway's refusal if it
still refuses.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for
from werkzeug.datastructures import MultiDict

from contracts import vocabulary as v
from services.web.core import FormState, api, current_user, redirect_to, render, signed_in
from services.web.gateway import ApiError

bp = Blueprint("cases", __name__)

FORM_FIELDS = (
    "essence",
    "actions_taken",
    "difficulty",
    "question",
    "participants",
    "rubrics",
    "mode",
    "group_discussion_consent",
    "urgency",
    "publication_consent",
)
LIMITS = {
    "essence": v.ESSENCE_MAX,
    "actions_taken": v.ACTIONS_MAX,
    "difficulty": v.DIFFICULTY_MAX,
    "question": v.QUESTION_MAX,
    "answer": v.ANSWER_MAX,
    "question_text": v.QUESTION_TEXT_MAX,
    "solution": v.SOLUTION_MAX,
    "reflection": v.REFLECTION_TEXT_MAX,
    "material_title": v.MATERIAL_TITLE_MAX,
    "reference": v.REFERENCE_MAX,
    "text": 2000,
    "reason": 1000,
    "forum_title": v.FORUM_TITLE_MAX,
}
VOCABULARY = {
    "participants": v.PARTICIPANTS,
    "urgencies": v.URGENCIES,
    "modes": v.MODES,
    "problem_solved": v.PROBLEM_SOLVED,
}
MATERIAL_SLOTS = 3  # material rows offered with a solution (empty rows are left out)
WRITTEN_SLOTS = 2  # own questions offered beside the hint bank
FILTERS = ("state", "rubric", "urgency", "mentor_id", "waiting_hours", "flagged")
STATES = (
    "awaiting_proposals",
    "no_mentor_found",
    "choosing_mentor",
    "awaiting_acceptance",
    "in_progress",
    "awaiting_answers",
    "awaiting_decision",
    "solution_proposed",
    "completed",
    "withdrawn",
    "abandoned",
)
WORKING = ("in_progress", "awaiting_answers", "awaiting_decision", "solution_proposed")

# Whose turn it is in each state: "author", "mentor", "system" (the platform), "moderator" or nobody.
TURN = v.TURN_BY_STATE


def turn_of(state: str, role: str | None, is_author: bool = False, is_mentor: bool = False) -> str:
    """The catalogue key saying what a case waits for and whether it is the reader's turn.

    ``waits.<state>`` names the step; ``.you`` is appended when that step is the reader's own (the
    author's steps for the author, the mentor's for the case's mentor, a flag for a moderator)."""
    whose = TURN.get(state)
    mine = (
        (whose == "author" and is_author)
        or (whose == "mentor" and is_mentor)
        or (whose == "moderator" and role == "moderator")
    )
    return f"waits.{state}.you" if mine else f"waits.{state}"


def form_payload(form: FormState) -> dict[str, Any]:
    """The case form as the gateway takes it, from what was typed (nothing dropped: the gateway judges)."""
    return {
        "essence": form.text("essence"),
        "actions_taken": form.text("actions_taken"),
        "difficulty": form.text("difficulty"),
        "question": form.text("question"),
        "participants": form.getlist("participants"),
        "rubrics": form.getlist("rubrics"),
        "mode": form.get("mode") or None,
        "group_discussion_consent": form.checked("group_discussion_consent"),
        "urgency": form.get("urgency") or None,
        "publication_consent": form.checked("publication_consent"),
    }


def remap_errors(form: FormState, names: dict[str, str]) -> None:
    """Move errors the gateway named by list index (``answers.0.text``) onto the form's own fields."""
    moved: dict[str, list[str]] = {}
    for key, messages in form.errors.items():
        target = key
        for prefix, name in names.items():
            if key == prefix or key.startswith(prefix + "."):
                target = name
                break
        moved.setdefault(target, []).extend(messages)
    form.errors = moved


def timeline_from_case(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps a mentor or colleague may see, from the case itself (they get no history):
    the filing, questions and answers, solutions, opinions and messages, oldest first."""
    items: list[dict[str, Any]] = [
        {
            "type": "Created",
            "occurred_at": case.get("created_at"),
            "actor_role": "author",
            "data": {"form": case.get("revisions", [case.get("form")])[0]},
        }
    ]
    if case.get("questions"):
        by_time: dict[str, list[dict[str, Any]]] = {}
        for question in case["questions"]:
            by_time.setdefault(question.get("asked_at") or "", []).append(question)
        for asked_at, questions in by_time.items():
            items.append(
                {
                    "type": "QuestionsAsked",
                    "occurred_at": asked_at,
                    "actor_role": "mentor",
                    "data": {"questions": questions},
                }
            )
            answered = [q for q in questions if q.get("answer")]
            if answered:
                items.append(
                    {
                        "type": "QuestionsAnswered",
                        "occurred_at": answered[0].get("answered_at"),
                        "actor_role": "author",
                        "data": {"answers": [{"question_id": q["id"], "text": q["answer"]} for q in answered]},
                    }
                )
    for solution in case.get("solutions", []):
        items.append(
            {
                "type": "SolutionProposed",
                "occurred_at": solution.get("created_at"),
                "actor_role": "mentor",
                "data": {**solution, "solution_id": solution.get("id")},
            }
        )
    for opinion in case.get("opinions", []):
        items.append(
            {
                "type": "ColleagueOpinionAdded",
                "occurred_at": opinion.get("at") or opinion.get("created_at"),
                "actor_role": "colleague",
                "data": opinion,
            }
        )
    for message in case.get("messages", []):
        items.append(
            {
                "type": "MessageSent",
                "occurred_at": message.get("sent_at"),
                "actor_role": "mentor" if message.get("sender_id") == case.get("mentor_id") else "author",
                "data": message,
            }
        )
    return sorted(items, key=lambda item: item.get("occurred_at") or "")


def question_texts(case: dict[str, Any], history: list[dict[str, Any]] | None) -> dict[str, str]:
    """Question id -> its text, to show each answer under its question."""
    texts = {q["id"]: q.get("text", "") for q in case.get("questions", [])}
    for item in history or []:
        for question in (item.get("data") or {}).get("questions", []) or []:
            texts.setdefault(question.get("id"), question.get("text", ""))
    return texts


# ---- lists --------------------------------------------------------------------------------


@bp.get("/cases")
@signed_in()
def my_cases() -> Any:
    user = current_user()
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    params = {k: val for k, val in filters.items() if val}
    cursor = request.args.get("cursor", "").strip()
    paging = {k: request.args[k].strip() for k in ("limit",) if request.args.get(k, "").strip()}  # page size kept
    # one request: each summary carries its excerpt, mode and whose turn since when (no GET per case)
    listing = api().get("/api/v1/cases", params={**params, **paging, **({"cursor": cursor} if cursor else {})})
    next_cursor = listing.get("next_cursor")
    filter_form = FormState(MultiDict(params))
    params.update(paging)
    return render(
        "cases/list.html",
        cases=listing.get("items", []),
        filters=filter_form,
        states=STATES,
        turn_of=turn_of,
        vocabulary=VOCABULARY,
        flagged_view=filters["flagged"] == "true",
        me=user,
        next_page=url_for("cases.my_cases", **params, cursor=next_cursor) if next_cursor else None,
        first_page=url_for("cases.my_cases", **params) if cursor else None,
    )


# ---- filing -------------------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in("mentee")
def new_case() -> Any:
    form = FormState.from_request(prefill={"mode": "personal", "urgency": "need_advice"})
    if request.method == "POST":
        try:
            created = api().post("/api/v1/cases", form_payload(form), idempotency_key=form.key)
        except ApiError as error:
            form.fail(error)
            not_verified = error.code == "email_not_verified"
            if not_verified:
                form.banner = None  # the page's own banner says it, with the way to the account page
            return render(
                "cases/new.html",
                form.status,
                form=form,
                limits=LIMITS,
                vocabulary=VOCABULARY,
                not_verified=not_verified,
            )
        return redirect_to("cases.case", case_id=created["id"], filed=1)
    return render("cases/new.html", form=form, limits=LIMITS, vocabulary=VOCABULARY, not_verified=False)


# ---- the case page ------------------------------------------------------------------------


def _part(case: dict[str, Any]) -> dict[str, bool]:
    user = current_user() or {}
    me = user.get("id")
    return {
        "author": bool(me) and case.get("author_id") == me,
        "mentor": bool(me) and case.get("mentor_id") == me and user.get("role") == "mentor",
        "colleague": bool(me) and me in (case.get("colleague_ids") or []),
        "moderator": user.get("role") == "moderator",
    }


def _case_page(case_id: str, forms: dict[str, FormState] | None = None, status: int = 200) -> Any:
    gateway = api()
    case = gateway.get(f"/api/v1/cases/{case_id}")
    part = _part(case)
    history = None
    if part["author"] or part["moderator"]:
        history = gateway.get(f"/api/v1/cases/{case_id}/history").get("items", [])
    timeline = history if history is not None else timeline_from_case(case)
    bank, suggestions, learned = [], [], []
    similar = None  # not asked (or the library rests): no claim either way; [] is "no similar case yet"
    failed = set(forms or {})  # a refused form is shown again, as typed, whatever the case's state now
    if part["mentor"] and (case["state"] in ("in_progress", "awaiting_answers") or "questions" in failed):
        bank = gateway.get("/api/v1/question-bank").get("items", [])
        learned = learned_suggestions(gateway, case_id)
    consent = case.get("form", {}).get("group_discussion_consent")
    if part["mentor"] and consent and case["state"] in WORKING:
        try:
            suggestions = gateway.get(f"/api/v1/cases/{case_id}/colleague-suggestions").get("items", [])
        except ApiError as error:
            if error.status not in (400, 403, 409):
                raise
    if part["author"] and case["state"] in ("awaiting_proposals", "choosing_mentor", "no_mentor_found"):
        try:
            similar = gateway.get(f"/api/v1/cases/{case_id}/similar").get("items", [])
        except ApiError as error:
            if error.status != 503:  # the library resting is no reason to hide the case
                raise
    forms = dict(forms or {})
    picked = next((s for s in learned if s["id"] == request.args.get("use")), None)
    if picked and "questions" not in forms:  # "use this question" without JS: the first own question, filled
        forms["questions"] = FormState.from_request(
            {"written.0.text": picked["text"], "written.0.kind": picked["kind"], "written.0.suggestion": picked["id"]}
        )
    for name in (
        "choose",
        "decline",
        "questions",
        "answers",
        "message",
        "withdraw",
        "solution",
        "colleagues",
        "opinion",
        "forum",
        "second_opinion",
        "keep",
        "accept",
        "reopen",
    ):
        forms.setdefault(name, FormState())
    unanswered = [q for q in case.get("questions", []) if not q.get("answer")]
    return render(
        "cases/case.html",
        status,
        case=case,
        part=part,
        timeline=timeline,
        bank=bank,
        learned=learned,
        suggestions=suggestions,
        similar=similar,
        forms=forms,
        limits=LIMITS,
        unanswered=unanswered,
        question_texts=question_texts(case, history),
        filed=request.args.get("filed") == "1",
        material_slots=range(MATERIAL_SLOTS),
        written_slots=range(WRITTEN_SLOTS),
        turn_of=turn_of,
        working=WORKING,
        failed=failed,
        request_path=url_for("cases.case", case_id=case_id),
    )  # reload: the case, not the action's URL


def learned_suggestions(gateway: Any, case_id: str) -> list[dict[str, Any]]:
    """The questions learned from similar solved cases (anonymized, with their provenance), shown
    before the bank; none when the cases service cannot say (the bank is still there)."""
    try:
        items = gateway.get(f"/api/v1/cases/{case_id}/question-suggestions").get("items", [])
    except ApiError as error:
        if error.status not in (403, 409, 503):
            raise
        return []
    return [item for item in items if item.get("source") == "learned"]


@bp.get("/cases/<case_id>")
@signed_in()
def case(case_id: str) -> Any:
    return _case_page(case_id)


def _act(
    case_id: str, name: str, path: str, payload: Any, remap: dict[str, str] | None = None, then: str = "cases.case"
) -> Any:
    """POST one action of the case page with its form's Idempotency-Key (a resubmission after a 503
    creates nothing twice); then back to the case, or the page again with this form's errors."""
    form = FormState.from_request()
    try:
        api().post(
            f"/api/v1/cases/{case_id}/{path}", payload(form) if callable(payload) else payload, idempotency_key=form.key
        )
    except ApiError as error:
        if error.status in (404,):
            raise
        form.fail(error)
        if remap:
            remap_errors(form, remap)
        return _case_page(case_id, {name: form}, form.status)
    return redirect_to(then, case_id=case_id) if then == "cases.case" else redirect_to(then)


@bp.post("/cases/<case_id>/mentor")
@signed_in("mentee")
def choose_mentor(case_id: str) -> Any:
    return _act(case_id, "choose", "mentor", lambda f: {"mentor_id": f.get("mentor_id")})


@bp.post("/cases/<case_id>/accept")
@signed_in("mentor")
def accept(case_id: str) -> Any:
    return _act(case_id, "accept", "accept", {})


@bp.post("/cases/<case_id>/decline")
@signed_in("mentor")
def decline(case_id: str) -> Any:
    # a mentor who declined may no longer open the case: back to their list
    return _act(case_id, "decline", "decline", lambda f: {"reason": f.text("reason")}, then="cases.my_cases")


@bp.post("/cases/<case_id>/questions")
@signed_in("mentor")
def ask(case_id: str) -> Any:
    form = FormState.from_request()
    bank = api().get("/api/v1/question-bank").get("items", [])
    questions, names = questions_payload(form, bank)
    return _act(case_id, "questions", "questions", {"questions": questions}, names)


def questions_payload(form: FormState, bank: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The questions the asking form sends, and which field each error the gateway names goes to:
    the bank hints ticked (one checkbox group per group of the bank, "bank.<group slug>"), each with
    its suggestion id from the bank as served, so the cases service records the hint's use as it
    does a learned suggestion's; then the own questions typed, with the learned suggestion they
    were taken from (if one was)."""
    suggestion_of = {hint["id"]: hint.get("suggestion_id") for group in bank for hint in group.get("hints", [])}
    questions: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    chosen = [bank_id for key in form.values.keys() if key.startswith("bank.") for bank_id in form.getlist(key)]
    for bank_id in chosen:
        names[f"questions.{len(questions)}"] = "bank"
        questions.append(
            {"bank_id": bank_id, "kind": form.get("bank_kind") or None, "suggestion_id": suggestion_of.get(bank_id)}
        )
    for slot in range(WRITTEN_SLOTS):
        text = form.text(f"written.{slot}.text")
        if text.strip():
            index = len(questions)
            names[f"questions.{index}.text"] = f"written.{slot}.text"
            names[f"questions.{index}.kind"] = f"written.{slot}.kind"
            names[f"questions.{index}"] = f"written.{slot}.text"
            questions.append(
                {
                    "text": text,
                    "kind": form.get(f"written.{slot}.kind") or None,
                    "suggestion_id": form.get(f"written.{slot}.suggestion") or None,
                }
            )
    names["questions"] = "bank"
    return questions, names


@bp.post("/cases/<case_id>/answers")
@signed_in("mentee")
def answer(case_id: str) -> Any:
    form = FormState.from_request()
    answers, names = [], {"answers": "answers"}
    for key in form.values.keys():
        if key.startswith("answer.") and form.text(key).strip():
            names[f"answers.{len(answers)}"] = key
            answers.append({"question_id": key[len("answer.") :], "text": form.text(key)})
    return _act(case_id, "answers", "answers", {"answers": answers}, names)


@bp.post("/cases/<case_id>/keep-request")
@signed_in("mentee")
def keep_request(case_id: str) -> Any:
    return _act(case_id, "keep", "keep-request", {})


@bp.post("/cases/<case_id>/messages")
@signed_in("mentee", "mentor")
def message(case_id: str) -> Any:
    return _act(case_id, "message", "messages", lambda f: {"text": f.text("message")}, {"text": "message"})


@bp.post("/cases/<case_id>/second-opinion")
@signed_in("mentee")
def second_opinion(case_id: str) -> Any:
    return _act(case_id, "second_opinion", "second-opinion", {})


@bp.post("/cases/<case_id>/reopening")
@signed_in("mentee")
def reopen(case_id: str) -> Any:
    return _act(case_id, "reopen", "reopening", {})


@bp.post("/cases/<case_id>/withdrawal")
@signed_in("mentee")
def withdraw(case_id: str) -> Any:
    return _act(case_id, "withdraw", "withdrawal", lambda f: {"reason": f.text("reason")})


@bp.post("/cases/<case_id>/forum")
@signed_in("mentee")
def to_forum(case_id: str) -> Any:
    return _act(case_id, "forum", "forum", lambda f: {"title": f.text("title").strip() or None})


@bp.post("/cases/<case_id>/colleagues")
@signed_in("mentor")
def share(case_id: str) -> Any:
    return _act(case_id, "colleagues", "colleagues", lambda f: {"colleague_ids": f.getlist("colleague_ids")})


@bp.post("/cases/<case_id>/opinions")
@signed_in("mentor")
def opinion(case_id: str) -> Any:
    return _act(case_id, "opinion", "opinions", lambda f: {"text": f.text("opinion")}, {"text": "opinion"})


@bp.post("/cases/<case_id>/solutions")
@signed_in("mentor")
def solution(case_id: str) -> Any:
    form = FormState.from_request()
    materials, names = [], {}
    for slot in range(MATERIAL_SLOTS):
        row = {
            "title": form.text(f"materials.{slot}.title"),
            "reference": form.text(f"materials.{slot}.reference"),
            "rubrics": form.getlist(f"materials.{slot}.rubrics"),
        }
        if row["title"].strip() or row["reference"].strip():
            names[f"materials.{len(materials)}"] = f"materials.{slot}"
            materials.append(row)
    remap = {
        f"{k}.{field}": f"{target}.{field}"
        for k, target in names.items()
        for field in ("title", "reference", "rubrics")
    }
    remap["text"] = "solution"  # "text" is the message's too, on the same page
    return _act(case_id, "solution", "solutions", {"text": form.text("solution"), "materials": materials}, remap)


# ---- redefinition, completion --------------------------------------------------------------


@bp.route("/cases/<case_id>/revise", methods=["GET", "POST"])
@signed_in("mentee")
def revise(case_id: str) -> Any:
    current = api().get(f"/api/v1/cases/{case_id}")
    form = FormState.from_request(prefill=current.get("form") or {})
    if request.method == "POST":
        try:
            api().post(f"/api/v1/cases/{case_id}/revisions", form_payload(form), idempotency_key=form.key)
        except ApiError as error:
            if error.status == 404:
                raise
            form.fail(error)
            return render(
                "cases/revise.html", form.status, form=form, case=current, limits=LIMITS, vocabulary=VOCABULARY
            )
        return redirect_to("cases.case", case_id=case_id)
    return render("cases/revise.html", form=form, case=current, limits=LIMITS, vocabulary=VOCABULARY)


@bp.route("/cases/<case_id>/complete", methods=["GET", "POST"])
@signed_in("mentee")
def complete(case_id: str) -> Any:
    current = api().get(f"/api/v1/cases/{case_id}")
    form = FormState.from_request()
    if request.method == "POST":
        helpfulness = {s["id"]: form.integer(f"helpfulness.{s['id']}") for s in current.get("solutions", [])}
        payload = {
            "problem_solved": form.get("problem_solved") or None,
            "helpfulness": helpfulness,
            "actions": form.text("actions"),
            "learned": form.text("learned"),
            "comment": form.text("comment"),
        }
        try:
            api().post(f"/api/v1/cases/{case_id}/completion", payload, idempotency_key=form.key)
        except ApiError as error:
            if error.status == 404:
                raise
            form.fail(error)
            remap_errors(form, {f"helpfulness.{sid}": f"helpfulness.{sid}" for sid in helpfulness})
            return render(
                "cases/complete.html", form.status, form=form, case=current, limits=LIMITS, vocabulary=VOCABULARY
            )
        return redirect_to("cases.case", case_id=case_id)
    return render("cases/complete.html", form=form, case=current, limits=LIMITS, vocabulary=VOCABULARY)


# ---- the author card, the history --------------------------------------------------------


@bp.get("/cases/<case_id>/author")
@signed_in("mentor")
def author_card(case_id: str) -> Any:
    """The chosen mentor of a personal-mode case; the gateway refuses anyone else (403 page)."""
    case = api().get(f"/api/v1/cases/{case_id}")
    card = api().get(f"/api/v1/cases/{case_id}/author")
    return render("cases/author.html", case=case, card=card)


@bp.route("/cases/<case_id>/history", methods=["GET", "POST"])
@signed_in("mentee", "moderator")
def history(case_id: str) -> Any:
    """Every step, the case as of a version, and for a moderator the author card after a reason.

    The card is shown in the answer to its POST, not after a redirect: it is personal data read for
    this one reason (the author sees the read in their access log), so it is kept in no session
    cookie and a reload asks again."""
    gateway = api()
    case = gateway.get(f"/api/v1/cases/{case_id}")
    items = gateway.get(f"/api/v1/cases/{case_id}/history").get("items", [])
    version = request.args.get("version", "").strip()
    as_of = None
    if version:
        as_of = gateway.get(f"/api/v1/cases/{case_id}/as-of", params={"version": version})
    card, form = None, FormState.from_request()
    if request.method == "POST":
        try:
            card = gateway.post(f"/api/v1/cases/{case_id}/author", {"reason": form.text("reason")})
        except ApiError as error:
            if error.status == 404:
                raise
            form.fail(error)
    return render(
        "cases/history.html",
        form.status,
        case=case,
        items=items,
        as_of=as_of,
        version=version,
        card=card,
        form=form,
        limits=LIMITS,
        question_texts=question_texts(case, items),
        history_url=url_for("cases.history", case_id=case_id),
    )
