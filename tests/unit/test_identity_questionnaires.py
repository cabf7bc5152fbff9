"""The mentee's questionnaire and the author card: the contract, the rules and the views (no I/O)."""

from datetime import datetime, timezone

import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.events import dump_payload
from contracts.rpc_identity import QuestionnaireSchema
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import load
from services.identity import questionnaires

MENTEE_ID = "0b8f3c1e-2a4d-4e6f-8a1b-3c5d7e9f1a2b"
AT = datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)


def questionnaire(**overrides):
    data = {
        "school": "School No. 1234, Moscow",
        "subjects": ["Mathematics", "Informatics"],
        "forms_taught": [7, 5],
        "years_of_practice": 2,
    }
    data.update(overrides)
    return data


def test_the_least_questionnaire_gets_its_defaults():
    data = load(QuestionnaireSchema(), {"school": "School 1", "subjects": [], "years_of_practice": 0})
    assert data == {
        "school": "School 1",
        "subjects": [],
        "forms_taught": [],
        "years_of_practice": 0,
        "graduation_year": None,
        "graduation_institute": "",
        "workload_hours_per_week": None,
        "rubrics": [],
    }


def test_the_limits_are_accepted():
    data = load(
        QuestionnaireSchema(),
        questionnaire(
            school="s" * 200,
            subjects=["x" * 60] * 20,
            forms_taught=list(range(1, 12)),
            years_of_practice=60,
            graduation_year=2100,
            graduation_institute="i" * 200,
            workload_hours_per_week=80,
            rubrics=list(RUBRIC_SLUGS),
        ),
    )
    assert data["forms_taught"] == list(range(1, 12)) and data["years_of_practice"] == 60
    assert data["rubrics"] == list(RUBRIC_SLUGS)
    low = load(QuestionnaireSchema(), questionnaire(graduation_year=1950, workload_hours_per_week=0))
    assert (low["graduation_year"], low["workload_hours_per_week"]) == (1950, 0)


@pytest.mark.parametrize(
    "field, value",
    [
        ("school", "s" * 201),
        ("school", None),
        ("subjects", ["x" * 61]),
        ("subjects", [""]),
        ("subjects", ["   "]),
        ("subjects", ["Maths"] * 21),
        ("subjects", "Maths"),
        ("forms_taught", [0]),
        ("forms_taught", [12]),
        ("forms_taught", [5, 5]),
        ("years_of_practice", 61),
        ("years_of_practice", -1),
        ("years_of_practice", "2"),
        ("years_of_practice", 2.5),
        ("years_of_practice", None),
        ("graduation_year", 1949),
        ("graduation_year", 2101),
        ("graduation_institute", "i" * 201),
        ("workload_hours_per_week", 81),
        ("workload_hours_per_week", -1),
        ("rubrics", ["no-such-rubric"]),
        ("rubrics", ["self-management", "self-management"]),
        ("rubrics", "self-management"),
        ("rubrics", None),
    ],
)
def test_a_bad_field_is_named(field, value):
    with pytest.raises(InvalidInput) as refused:
        load(QuestionnaireSchema(), questionnaire(**{field: value}))
    assert list(refused.value.fields) == [field]


@pytest.mark.parametrize("missing", ["school", "subjects", "years_of_practice"])
def test_required_fields(missing):
    data = questionnaire()
    del data[missing]
    with pytest.raises(InvalidInput) as refused:
        load(QuestionnaireSchema(), data)
    assert list(refused.value.fields) == [missing]


def test_normalized_text_subjects_and_forms():
    data = questionnaires.normalize_questionnaire(
        load(
            QuestionnaireSchema(),
            questionnaire(
                school="  School 1  ",
                subjects=[" Maths", "Maths ", "Physics"],
                forms_taught=[9, 5, 7],
                graduation_institute="  MCU ",
                rubrics=["families-at-risk", "education-law"],
            ),
        )
    )
    assert data == {
        "school": "School 1",
        "subjects": ["Maths", "Physics"],
        "forms_taught": [5, 7, 9],
        "years_of_practice": 2,
        "graduation_year": None,
        "graduation_institute": "MCU",
        "workload_hours_per_week": None,
        "rubrics": ["education-law", "families-at-risk"],  # the rubricator's order
    }


def test_the_interests_event_carries_the_mentee_and_rubrics_only():
    row = dict(
        questionnaires.normalize_questionnaire(
            load(QuestionnaireSchema(), questionnaire(rubrics=["self-management", "education-law"]))
        ),
        updated_at=AT,
    )
    payload = questionnaires.interests_payload(MENTEE_ID, row)
    assert payload == {"mentee_id": MENTEE_ID, "rubrics": ["education-law", "self-management"]}
    assert dump_payload(questionnaires.INTERESTS_EVENT, payload) == (1, payload)  # within its contract
    assert questionnaires.interests_payload(MENTEE_ID, dict(row, rubrics=None))["rubrics"] == []


def test_only_a_mentee_fills_the_questionnaire():
    assert questionnaires.authorize_questionnaire_edit({"user_id": MENTEE_ID, "role": "mentee"}) == MENTEE_ID
    for actor in (
        {"user_id": MENTEE_ID, "role": "mentor"},
        {"user_id": MENTEE_ID, "role": "moderator"},
        {"user_id": "not-a-uuid", "role": "mentee"},
    ):
        with pytest.raises(Forbidden):
            questionnaires.authorize_questionnaire_edit(actor)
    questionnaires.require_mentee_account({"role": "mentee"})
    for row in (None, {"role": "mentor"}):
        with pytest.raises(Forbidden):
            questionnaires.require_mentee_account(row)


def test_the_author_card_shows_names_and_questionnaire_only():
    user = {
        "id": MENTEE_ID,
        "email": "anna@example.org",
        "password_hash": "$argon2id$x",
        "role": "mentee",
        "first_name": "Anna",
        "last_name": "Smirnova",
        "patronymic": None,
        "created_at": AT,
    }
    row = dict(
        questionnaires.normalize_questionnaire(load(QuestionnaireSchema(), questionnaire())),
        updated_at=AT,
        user_id=MENTEE_ID,
    )
    card = questionnaires.author_card(user, row)
    assert card == {
        "user_id": MENTEE_ID,
        "first_name": "Anna",
        "last_name": "Smirnova",
        "patronymic": "",
        "questionnaire": {
            "school": "School No. 1234, Moscow",
            "subjects": ["Mathematics", "Informatics"],
            "forms_taught": [5, 7],
            "years_of_practice": 2,
            "graduation_year": None,
            "graduation_institute": "",
            "workload_hours_per_week": None,
            "rubrics": [],
            "updated_at": "2026-01-02T10:00:00+00:00",
        },
    }
    assert questionnaires.author_card(user, None)["questionnaire"] is None


def test_case_id_argument():
    assert questionnaires.case_id_argument("c-1") == "c-1"
    for bad in ("  ", "x" * 65, None, 7):
        with pytest.raises(InvalidInput) as refused:
            questionnaires.case_id_argument(bad)
        assert set(refused.value.fields) == {"case_id"}
