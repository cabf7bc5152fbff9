"""The mentee's onboarding questionnaire and the author card: who may write it, its canonical
form and its views. No I/O.

The questionnaire is kept for monitoring; a mentor sees it only on the author card of a
personal-mode case they work on, a moderator only with a reason (the cases service decides:
``cases.author_for``), and every such look is in the author's access log (audit.py).
"""

from contracts.errors import Forbidden, InvalidInput
from contracts.rpc_identity import AuthorCardSchema, QuestionnaireViewSchema
from contracts.rubrics import ordered_rubrics
from contracts.validation import schema_of
from services.identity.accounts import parse_id, unique

NOT_A_MENTEE = "Only a mentee fills the onboarding questionnaire."
NO_QUESTIONNAIRE = "You have not filled the onboarding questionnaire yet."
NO_AUTHOR = "No such author."
INTERESTS_EVENT = "MenteeInterestsUpdated"
MAX_CASE_ID = 64  # like every path value of the gateway
FIELDS = (
    "school",
    "subjects",
    "forms_taught",
    "years_of_practice",
    "graduation_year",
    "graduation_institute",
    "workload_hours_per_week",
    "rubrics",
)


def authorize_questionnaire_edit(actor):
    """Only a mentee fills the questionnaire; returns the mentee's id."""
    mentee_id = parse_id(actor["user_id"])
    if actor["role"] != "mentee" or mentee_id is None:
        raise Forbidden(NOT_A_MENTEE)
    return mentee_id


def require_mentee_account(user_row):
    """The account behind the actor must (still) exist and be a mentee's."""
    if user_row is None or user_row["role"] != "mentee":
        raise Forbidden(NOT_A_MENTEE)


def normalize_questionnaire(questionnaire):
    """A questionnaire loaded by QuestionnaireSchema, made canonical: free text without surrounding
    blanks, subjects without repeats (in the mentee's order), forms in ascending order, rubrics of
    interest in the rubricator's order."""
    return {
        "school": questionnaire["school"].strip(),
        "subjects": unique(subject.strip() for subject in questionnaire["subjects"]),
        "forms_taught": sorted(questionnaire.get("forms_taught") or []),
        "years_of_practice": questionnaire["years_of_practice"],
        "graduation_year": questionnaire.get("graduation_year"),
        "graduation_institute": (questionnaire.get("graduation_institute") or "").strip(),
        "workload_hours_per_week": questionnaire.get("workload_hours_per_week"),
        "rubrics": ordered_rubrics(questionnaire.get("rubrics") or []),
    }


def interests_payload(mentee_id, questionnaire_row):
    """The MenteeInterestsUpdated payload: the mentee and their rubrics of interest, nothing else of the
    questionnaire (the library needs no school, subject or name to know whom a survey asks)."""
    return {"mentee_id": str(mentee_id), "rubrics": list(questionnaire_row["rubrics"] or [])}


def _timestamp(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def questionnaire_view(row):
    """The questionnaire as its author (and, on the card, its reader) sees it; other keys are dropped."""
    data = {field: row.get(field) for field in FIELDS}
    data["subjects"] = list(data["subjects"] or [])
    data["forms_taught"] = list(data["forms_taught"] or [])
    data["rubrics"] = list(data["rubrics"] or [])
    data["graduation_institute"] = data["graduation_institute"] or ""
    data["updated_at"] = _timestamp(row["updated_at"])
    return schema_of(QuestionnaireViewSchema).dump(data)


def author_card(user_row, questionnaire_row):
    """Names and the questionnaire (or None): never the e-mail, the role or the password hash."""
    return schema_of(AuthorCardSchema).dump(
        {
            "user_id": str(user_row["id"]),
            "first_name": user_row["first_name"],
            "last_name": user_row["last_name"],
            "patronymic": user_row["patronymic"] or "",
            "questionnaire": questionnaire_view(questionnaire_row) if questionnaire_row is not None else None,
        }
    )


def case_id_argument(case_id):
    """The case of an author card request, checked like every gateway path value (InvalidInput)."""
    if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > MAX_CASE_ID:
        raise InvalidInput(
            "The author card request has invalid fields.",
            {"case_id": [f"Expected a case id of 1 to {MAX_CASE_ID} characters."]},
        )
    return case_id
