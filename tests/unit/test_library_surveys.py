"""Surveys' pure rules (services/library/surveys.py, contracts/surveys.py): definitions, who is asked,
which answers fit, and results folded from the stream of facts; the CSV the gateway writes."""

from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import InvalidInput
from contracts.surveys import SurveyDefinitionSchema
from contracts.validation import load
from services.gateway.routes_surveys import results_csv
from services.library import surveys

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
QUESTIONS = surveys.numbered(
    [
        {"kind": "single", "text": "Which form?", "required": True, "options": ["5", "7", "9"]},
        {"kind": "multiple", "text": "What helps?", "required": False, "options": ["Peers", "Mentor", "Library"]},
        {"kind": "scale", "text": "How tired?", "required": True, "options": []},
        {"kind": "text", "text": "Anything else?", "required": False, "options": []},
    ]
)


def definition(**overrides):
    form = {
        "title": "Term survey",
        "audience": "both",
        "opens_at": NOW.isoformat(),
        "closes_at": (NOW + timedelta(days=3)).isoformat(),
        "questions": [{"kind": "single", "text": "Which form?", "options": ["5", "7"]}],
    }
    form.update(overrides)
    return form


def field_errors(call):
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.fields


def test_questions_are_numbered_and_required_by_default():
    loaded = load(SurveyDefinitionSchema, definition())
    [q] = surveys.numbered(loaded["questions"])
    assert q == {"id": "q1", "kind": "single", "text": "Which form?", "required": True, "options": ["5", "7"]}
    assert [q["id"] for q in QUESTIONS] == ["q1", "q2", "q3", "q4"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"closes_at": NOW.isoformat()}, "closes_at"),
        ({"audience": "parents"}, "audience"),
        ({"rubrics": ["no-such-rubric"]}, "rubrics"),
        ({"questions": []}, "questions"),
        ({"title": "   "}, "title"),
        ({"questions": [{"kind": "single", "text": "Which?", "options": ["only one"]}]}, "questions"),
        ({"questions": [{"kind": "scale", "text": "How?", "options": ["1", "2"]}]}, "questions"),
        ({"questions": [{"kind": "multiple", "text": "Which?", "options": ["a", "a"]}]}, "questions"),
        ({"questions": [{"kind": "ranking", "text": "Rank"}]}, "questions"),
    ],
)
def test_malformed_definitions_name_their_field(overrides, field):
    fields = field_errors(lambda: load(SurveyDefinitionSchema, definition(**overrides)))
    assert field in fields, fields


def test_a_choice_question_error_names_its_options():
    fields = field_errors(
        lambda: load(
            SurveyDefinitionSchema, definition(questions=[{"kind": "single", "text": "Which?", "options": ["one"]}])
        )
    )
    assert fields["questions"]["0"] == {"options": ["A choice needs at least two options."]}


def test_state_follows_the_period():
    survey = {"opens_at": NOW, "closes_at": NOW + timedelta(hours=1)}
    assert surveys.state_of(survey, NOW - timedelta(seconds=1)) == "scheduled"
    assert surveys.state_of(survey, NOW) == "open"
    assert surveys.state_of(survey, NOW + timedelta(hours=1)) == "closed"


def test_audience_by_role_accreditation_and_rubrics():
    both = {"audience": "both", "rubrics": []}
    by_rubric = {"audience": "mentors", "rubrics": ["self-management"]}
    accredited = {"accredited": True, "rubrics": ["self-management", "education-law"]}
    assert surveys.in_audience(both, "mentee")
    assert not surveys.in_audience(both, "moderator")
    assert not surveys.in_audience({"audience": "mentors", "rubrics": []}, "mentee")
    assert surveys.in_audience(both, "mentor", accredited)
    assert not surveys.in_audience(both, "mentor", dict(accredited, accredited=False))
    assert not surveys.in_audience(both, "mentor", None)  # nothing known of the mentor yet
    assert surveys.in_audience(by_rubric, "mentor", accredited)
    assert not surveys.in_audience(by_rubric, "mentor", dict(accredited, rubrics=["education-law"]))
    # a mentee: every one when the survey has no rubrics, else those whose rubrics of interest meet them
    mentees_by_rubric = {"audience": "mentees", "rubrics": ["self-management", "personal-resources"]}
    assert surveys.in_audience(both, "mentee", {"rubrics": []})
    assert surveys.in_audience(both, "mentee", {"rubrics": ["education-law"]})
    assert surveys.in_audience(mentees_by_rubric, "mentee", {"rubrics": ["personal-resources", "education-law"]})
    assert not surveys.in_audience(mentees_by_rubric, "mentee", {"rubrics": ["education-law"]})
    assert not surveys.in_audience(mentees_by_rubric, "mentee", {"rubrics": []})  # none declared
    assert not surveys.in_audience(mentees_by_rubric, "mentee", None)  # nothing known of the mentee yet
    assert not surveys.in_audience(dict(by_rubric, audience="both"), "mentee", {"rubrics": ["education-law"]})
    assert surveys.in_audience(dict(by_rubric, audience="both"), "mentee", {"rubrics": ["self-management"]})


GOOD = {"q1": "7", "q2": ["Library", "Peers"], "q3": 4, "q4": "Fine."}


def test_good_answers_are_stored_in_the_surveys_order():
    assert surveys.checked_answers(QUESTIONS, GOOD) == {"q1": "7", "q2": ["Peers", "Library"], "q3": 4, "q4": "Fine."}
    assert surveys.checked_answers(QUESTIONS, {"q1": "5", "q3": 1, "q2": [], "q4": ""}) == {"q1": "5", "q3": 1}


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"q1": None}, "answers.q1", "This question needs an answer."),
        ({"q3": ""}, "answers.q3", "This question needs an answer."),
        ({"q1": "8"}, "answers.q1", "Not one of the options offered."),
        ({"q1": ["7"]}, "answers.q1", "Not one of the options offered."),
        ({"q2": ["Peers", "Coach"]}, "answers.q2", "Not one of the options offered."),
        ({"q2": "Peers"}, "answers.q2", "A list of options is expected."),
        ({"q2": ["Peers", "Peers"]}, "answers.q2", "An option is chosen twice."),
        ({"q3": 6}, "answers.q3", "A whole number from 1 to 5 is expected."),
        ({"q3": 0}, "answers.q3", "A whole number from 1 to 5 is expected."),
        ({"q3": 2.5}, "answers.q3", "A whole number from 1 to 5 is expected."),
        ({"q3": True}, "answers.q3", "A whole number from 1 to 5 is expected."),
        ({"q3": "4"}, "answers.q3", "A whole number from 1 to 5 is expected."),
        ({"q4": "   "}, "answers.q4", "Text is expected."),
        ({"q4": "x" * 2001}, "answers.q4", "At most 2000 characters, and no NUL."),
        ({"q9": "7"}, "answers.q9", "No such question in this survey."),
    ],
)
def test_answers_that_do_not_fit_name_the_question(change, field, message):
    answers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert field_errors(lambda: surveys.checked_answers(QUESTIONS, answers)) == {field: [message]}


def mark(text):
    return f"<{text}>"


def test_results_fold_from_the_facts_as_they_were_counted_in():
    facts = [
        surveys.checked_answers(QUESTIONS, a)
        for a in (GOOD, {"q1": "5", "q3": 2}, {"q1": "7", "q2": ["Mentor"], "q3": 5, "q4": "Call Anna."})
    ]
    running = surveys.empty_results(QUESTIONS)
    for answers in facts:
        running = surveys.apply(running, QUESTIONS, answers, anonymize=mark)
    assert running == surveys.fold(QUESTIONS, facts, anonymize=mark)
    assert running["responses"] == 3
    q = running["questions"]
    assert q["q1"] == {"answered": 3, "counts": {"5": 1, "7": 2, "9": 0}, "sum": 0, "texts": []}
    assert q["q2"]["counts"] == {"Peers": 1, "Mentor": 1, "Library": 1} and q["q2"]["answered"] == 2
    assert q["q3"]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1} and q["q3"]["sum"] == 11
    assert q["q4"]["texts"] == ["<Fine.>", "<Call Anna.>"]  # free text only as the anonymizer left it

    view = surveys.results_view({"id": "s"}, QUESTIONS, running)
    scale = view["questions"][2]
    assert (scale["mean"], scale["answered"]) == (3.67, 3)
    assert view["questions"][0]["counts"] == [
        {"option": "5", "count": 1},
        {"option": "7", "count": 2},
        {"option": "9", "count": 0},
    ]
    assert view["questions"][0]["mean"] is None


def test_the_csv_has_every_count_and_no_formula():
    facts = [{"q1": "7", "q3": 4, "q4": '=HYPERLINK("http://evil.example")'}]
    view = surveys.results_view({"id": "s"}, QUESTIONS, surveys.fold(QUESTIONS, facts, anonymize=str))
    text = results_csv(view)
    assert text.startswith("\ufeffquestion_id,kind,question,answer,count\r\n")
    lines = text.lstrip("\ufeff").splitlines()
    assert "q1,single,Which form?,7,1" in lines and "q1,single,Which form?,answered,1" in lines
    assert "q3,scale,How tired?,mean,4.0" in lines and "q3,scale,How tired?,4,1" in lines
    assert any(line.startswith("q4,text,Anything else?,\"'=HYPERLINK") for line in lines), lines


def test_every_refusal_is_named_at_once():
    assert field_errors(lambda: surveys.checked_answers(QUESTIONS, {"q2": ["Coach"], "q5": 1})) == {
        "answers.q5": ["No such question in this survey."],
        "answers.q1": ["This question needs an answer."],
        "answers.q2": ["Not one of the options offered."],
        "answers.q3": ["This question needs an answer."],
    }
