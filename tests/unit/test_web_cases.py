"""The case pages' pure helpers: whose turn a state is, errors named by list index put back on the
form's own fields, the case form as the gateway takes it, and a mentor's timeline built from the case."""

from werkzeug.datastructures import MultiDict

from contracts.question_bank import bank_as_dict, bank_suggestion_id
from services.cases import domain
from services.web import i18n
from services.web.core import FormState
from services.web.pages.cases import (
    STATES,
    TURN,
    form_payload,
    questions_payload,
    remap_errors,
    timeline_from_case,
    turn_of,
)


def test_every_notification_kind_flag_recorded_step_and_mentees_waiting_step_has_a_label():
    """The inbox and the preferences label each kind; the case page each flag, history step and why a
    mentor was released, and an abandoned case the step that was not taken (a missing one would show
    its key)."""
    from contracts.notification_kinds import KIND_NAMES
    from contracts.vocabulary import FLAG_REASONS, RELEASE_REASONS
    from services.cases.views import ACTOR_ROLES
    from services.cases.waiting import STEPS

    keys = [f"notify.{kind}" for kind in KIND_NAMES] + [f"flag.{reason}" for reason in FLAG_REASONS]
    keys += [f"event.{event_type}" for event_type in ACTOR_ROLES]
    keys += [f"release.{reason}" for reason in RELEASE_REASONS]
    keys += [f"case.reopen.step.{step}" for step, waits_on in STEPS.values() if waits_on == "mentee"]
    assert [key for key in keys if not i18n.has(key)] == []


def test_every_state_of_the_domain_has_a_turn_and_labels_in_both_languages():
    states = {
        getattr(domain, name)
        for name in (
            "AWAITING_PROPOSALS",
            "NO_MENTOR_FOUND",
            "CHOOSING_MENTOR",
            "AWAITING_ACCEPTANCE",
            "IN_PROGRESS",
            "AWAITING_ANSWERS",
            "AWAITING_DECISION",
            "SOLUTION_PROPOSED",
            "COMPLETED",
            "WITHDRAWN",
            "ABANDONED",
        )
    }
    assert states == set(STATES) == set(TURN)
    for state in STATES:
        for key in (f"state.{state}", f"waits.{state}", f"waits.{state}.you"):
            assert i18n.has(key), key


def test_the_turn_is_the_readers_own_only_when_the_step_is_theirs():
    assert turn_of("choosing_mentor", "mentee", is_author=True) == "waits.choosing_mentor.you"
    assert turn_of("choosing_mentor", "mentor", is_mentor=True) == "waits.choosing_mentor"
    assert turn_of("awaiting_acceptance", "mentor", is_mentor=True) == "waits.awaiting_acceptance.you"
    assert turn_of("awaiting_acceptance", "mentor", is_mentor=False) == "waits.awaiting_acceptance"
    assert turn_of("awaiting_acceptance", "mentee", is_author=True) == "waits.awaiting_acceptance"
    assert turn_of("no_mentor_found", "moderator") == "waits.no_mentor_found.you"
    assert turn_of("completed", "mentee", is_author=True) == "waits.completed"


def test_errors_named_by_list_index_go_to_the_fields_that_were_typed():
    form = FormState(MultiDict())
    form.errors = {"answers.1.text": ["blank"], "answers": ["too many"], "other": ["x"]}
    remap_errors(form, {"answers.0": "answer.q-a", "answers.1": "answer.q-b", "answers": "answers"})
    assert form.errors == {"answer.q-b": ["blank"], "answers": ["too many"], "other": ["x"]}


def test_the_case_form_is_sent_whole_with_checkboxes_as_booleans_and_lists():
    form = FormState(
        MultiDict(
            [
                ("essence", "a\r\nb"),
                ("question", "q"),
                ("rubrics", "education-law"),
                ("rubrics", "professional-ethics"),
                ("mode", "anonymous"),
                ("group_discussion_consent", "on"),
                ("urgency", "urgent"),
            ]
        )
    )
    assert form_payload(form) == {
        "essence": "a\nb",
        "actions_taken": "",
        "difficulty": "",
        "question": "q",
        "participants": [],
        "rubrics": ["education-law", "professional-ethics"],
        "mode": "anonymous",
        "group_discussion_consent": True,
        "urgency": "urgent",
        "publication_consent": False,
    }
    assert form_payload(FormState(MultiDict()))["mode"] is None  # the gateway names the missing field


def test_a_ticked_bank_hint_is_sent_with_its_suggestion_id_so_its_use_is_recorded():
    bank = bank_as_dict()  # as the gateway serves it
    form = FormState(
        MultiDict(
            [
                ("bank.goals-and-motives", "goals-2"),
                ("bank.swot", "swot-1"),
                ("bank_kind", "developing"),
                ("written.0.text", "Who else knows?"),
                ("written.0.kind", "clarifying"),
                ("written.0.suggestion", "l-0123456789abcdef"),
                ("written.1.text", "  "),
            ]
        )
    )
    questions, names = questions_payload(form, bank)
    assert questions == [
        {"bank_id": "goals-2", "kind": "developing", "suggestion_id": bank_suggestion_id("goals-2")},
        {"bank_id": "swot-1", "kind": "developing", "suggestion_id": bank_suggestion_id("swot-1")},
        {"text": "Who else knows?", "kind": "clarifying", "suggestion_id": "l-0123456789abcdef"},
    ]
    assert names["questions.1"] == "bank" and names["questions.2.text"] == "written.0.text"
    assert questions_payload(FormState(MultiDict([("bank.swot", "swot-1")])), [])[0][0]["suggestion_id"] is None


def test_a_mentors_timeline_is_the_case_in_order_with_answers_under_their_questions():
    case = {
        "created_at": "2026-01-01T10:00:00+00:00",
        "form": {"essence": "now"},
        "revisions": [{"essence": "first"}],
        "mentor_id": "m",
        "questions": [
            {
                "id": "q1",
                "text": "Why?",
                "asked_at": "2026-01-02T10:00:00+00:00",
                "answer": "Because",
                "answered_at": "2026-01-03T10:00:00+00:00",
            },
            {"id": "q2", "text": "How?", "asked_at": "2026-01-02T10:00:00+00:00", "answer": None},
        ],
        "solutions": [{"id": "s1", "text": "Try", "materials": [], "created_at": "2026-01-04T10:00:00+00:00"}],
        "messages": [{"sender_id": "m", "text": "hi", "sent_at": "2026-01-01T12:00:00+00:00"}],
    }
    items = timeline_from_case(case)
    assert [i["type"] for i in items] == [
        "Created",
        "MessageSent",
        "QuestionsAsked",
        "QuestionsAnswered",
        "SolutionProposed",
    ]
    assert items[0]["data"]["form"] == {"essence": "first"}
    assert items[1]["actor_role"] == "mentor"
    assert [q["id"] for q in items[2]["data"]["questions"]] == ["q1", "q2"]
    assert items[3]["data"]["answers"] == [{"question_id": "q1", "text": "Because"}]
    assert items[4]["data"]["solution_id"] == "s1"


def test_the_history_names_why_a_mentor_was_released_and_an_authors_erasure_in_words():
    """A release's reason is a code of the platform (contracts.vocabulary.RELEASE_REASONS), shown by its
    label, never as the code; the closure by the author's erasure has its own step."""
    from flask import render_template_string

    from services.web import settings as web_settings
    from services.web.app import create_app

    app = create_app(web_settings.load({"PLATFORM_ENV": "test"}, enforce=False))

    def step(event_type, data):
        item = {"type": event_type, "occurred_at": "2026-12-07T04:00:00+00:00", "actor_role": "system", "data": data}
        with app.test_request_context("/"):
            return render_template_string('{% include "cases/_event.html" %}', item=item)

    released = step("MentorReleased", {"reason": "mentor_erased", "mentor_id": "m-1"})
    assert i18n.catalogue()["release.mentor_erased"]["ru"] in released and "mentor_erased" not in released
    assert i18n.catalogue()["event.AuthorErased"]["ru"] in step("AuthorErased", {"mentor_id": None})
