"""The survey pages' pure helpers (services/web/pages/surveys.py): the definition a form sends (blank
blocks left out), the gateway's errors put back on the block they came from, answers as the gateway
takes them, and the translated refusals."""

from werkzeug.datastructures import MultiDict

from services.web import i18n
from services.web.core import FormState
from services.web.pages.surveys import answers_payload, errors_by_slot, survey_payload


def form(**values):
    data = MultiDict()
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name.replace("__", "."), item)
    return FormState(data)


def test_blank_blocks_are_left_out_and_errors_go_back_to_their_block():
    typed = form(
        title=" Term ",
        audience="both",
        opens_at="2026-12-10T08:00",
        closes_at="2026-12-20T08:00",
        rubrics=["self-management"],
        questions__1__kind="single",
        questions__1__text="Which?",
        questions__1__options="A\r\n\r\n B \n",
        questions__1__required="on",
        questions__3__kind="text",
        questions__3__text="Else?",
    )
    payload, slots = survey_payload(typed)
    assert payload == {
        "title": "Term",
        "audience": "both",
        "opens_at": "2026-12-10T08:00:00+00:00",
        "closes_at": "2026-12-20T08:00:00+00:00",
        "rubrics": ["self-management"],
        "questions": [
            {"kind": "single", "text": "Which?", "options": ["A", "B"], "required": True},
            {"kind": "text", "text": "Else?", "required": False},
        ],
    }
    assert slots == [1, 3]
    assert errors_by_slot({"questions.1.text": ["x"], "questions.0": ["y"], "title": ["z"]}, slots) == {
        "questions.3.text": ["x"],
        "questions.1": ["y"],
        "title": ["z"],
    }


def test_answers_are_sent_as_the_gateway_takes_them():
    questions = [
        {"id": "q1", "kind": "single"},
        {"id": "q2", "kind": "multiple"},
        {"id": "q3", "kind": "scale"},
        {"id": "q4", "kind": "text"},
        {"id": "q5", "kind": "scale"},
    ]
    typed = form(answers__q1="7", answers__q2=["A", "C"], answers__q3="4", answers__q4="Line\r\nnext", answers__q5="x")
    assert answers_payload(typed, questions) == {"q1": "7", "q2": ["A", "C"], "q3": 4, "q4": "Line\nnext", "q5": "x"}
    assert answers_payload(form(), questions) == {}


def test_survey_refusals_are_translated():
    fields = {
        "survey": ["Already answered: once only."],
        "answers.q1": ["This question needs an answer."],
        "answers.q2": ["Not one of the options offered."],
        "answers.q3": ["A whole number from 1 to 5 is expected."],
    }
    assert i18n.field_errors("ru", fields) == {
        "survey": ["Вы уже ответили: ответить можно один раз."],
        "answers.q1": [i18n.translate("ru", "error.field.required")],
        "answers.q2": ["Такого варианта нет."],
        "answers.q3": ["Выберите число от 1 до 5."],
    }
