"""The pure map of which texts of which case event are sealed, with whose key (services/cases/sealing.py)."""

import uuid

import pytest

from services.cases import sealing
from services.cases.domain import Case
from services.common import shredding

AUTHOR, MENTOR = str(uuid.uuid4()), str(uuid.uuid4())
KEYS = {AUTHOR: shredding.new_key(), MENTOR: shredding.new_key()}

EVENTS = {  # kind -> (its state, the writer, the texts sealed, what stays plain)
    "Created": (
        {"author_id": AUTHOR, "form": {"essence": "Суть", "question": "Вопрос", "rubrics": ["r"], "urgency": "urgent"}},
        AUTHOR,
        ["Суть", "Вопрос"],
        {"author_id": AUTHOR, "rubrics": ["r"], "urgency": "urgent"},
    ),
    "CaseRedefined": ({"form": {"essence": "Иначе", "mode": "personal"}}, AUTHOR, ["Иначе"], {"mode": "personal"}),
    "QuestionsAsked": (
        {"mentor_id": MENTOR, "questions": [{"id": "q1", "text": "Когда?", "kind": "clarifying", "bank_id": None}]},
        MENTOR,
        ["Когда?"],
        {"id": "q1", "kind": "clarifying"},
    ),
    "QuestionsAnswered": ({"answers": [{"question_id": "q1", "text": "Вчера"}]}, AUTHOR, ["Вчера"], {}),
    "MessageSent": ({"sender_id": MENTOR, "recipient_id": AUTHOR, "text": "Привет"}, MENTOR, ["Привет"], {}),
    "SolutionProposed": (
        {
            "mentor_id": MENTOR,
            "text": "Решение",
            "materials": [{"title": "Книга", "reference": "Ссылка", "rubrics": ["r"]}],
        },
        MENTOR,
        ["Решение", "Книга", "Ссылка"],
        {"rubrics": ["r"]},
    ),
    "ColleagueOpinionAdded": ({"colleague_id": MENTOR, "text": "Мнение"}, MENTOR, ["Мнение"], {}),
    "Completed": (
        {"reflection": {"problem_solved": "yes", "helpfulness": {"s": 5}, "learned": "Урок", "comment": ""}},
        AUTHOR,
        ["Урок"],
        {"problem_solved": "yes", "helpfulness": {"s": 5}},
    ),
    "Withdrawn": ({"reason": "Причина"}, AUTHOR, ["Причина"], {}),
    "MentorDeclined": ({"mentor_id": MENTOR, "reason": "Отпуск", "next_round": 2}, MENTOR, ["Отпуск"], {}),
    "PublishedToForum": ({"thread_id": None, "title": "Заголовок"}, AUTHOR, ["Заголовок"], {}),
}


def test_every_event_class_with_a_persons_text_is_mapped_and_nothing_else():
    kinds = {name for name, value in vars(Case).items() if isinstance(value, type) and issubclass(value, Case.Event)}
    assert set(sealing.SEALED) <= kinds
    # the events that carry no text a person typed: ids, rounds, times, the system's reason codes
    assert kinds - set(sealing.SEALED) >= {"MentorsProposed", "MentorChosen", "MentorAccepted", "MentorReleased"}


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_the_writer_of_each_event(kind):
    state, writer, _, _ = EVENTS[kind]
    assert sealing.writer_of(kind, state, author_id=AUTHOR) == writer


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_sealing_replaces_exactly_the_texts_and_opening_gives_them_back(kind):
    state, writer, texts, plain = EVENTS[kind]
    assert sorted(t for t in sealing.texts_of(kind, state) if t) == sorted(texts)
    sealed = {**state, **sealing.map_texts(kind, state, sealing.sealer(KEYS[writer], writer))}
    stored = repr(sealed)
    assert not any(text in stored for text in texts)
    assert all(repr(value)[1:-1] in stored for value in plain.values())
    assert {shredding.subject_of(t) for t in sealing.texts_of(kind, sealed) if t} == {writer}
    opened = {**sealed, **sealing.map_texts(kind, sealed, sealing.opener(KEYS.get))}
    assert opened == state
    assert sealing.erased_fields(kind, opened) == []


def test_the_state_given_is_never_changed_in_place():
    form = {"essence": "Суть", "rubrics": ["r"]}
    state = {"author_id": AUTHOR, "form": form}
    changed = sealing.map_texts("Created", state, sealing.sealer(KEYS[AUTHOR], AUTHOR))
    assert form == {"essence": "Суть", "rubrics": ["r"]} and state["form"] is form
    assert changed["form"] is not form and set(changed) == {"form"}


def test_an_erased_writers_texts_are_stored_and_read_as_erased_and_named():
    state = EVENTS["SolutionProposed"][0]
    erased_now = {**state, **sealing.map_texts("SolutionProposed", state, sealing.sealer(None, MENTOR))}
    assert erased_now["text"] == shredding.ERASED
    sealed = {**state, **sealing.map_texts("SolutionProposed", state, sealing.sealer(KEYS[MENTOR], MENTOR))}
    opened = {**sealed, **sealing.map_texts("SolutionProposed", sealed, sealing.opener(lambda person: None))}
    assert opened["text"] == shredding.ERASED and opened["materials"][0]["rubrics"] == ["r"]
    assert sealing.erased_fields("SolutionProposed", opened) == [
        "text",
        "materials.0.title",
        "materials.0.reference",
    ]


def test_sealing_twice_seals_once_and_plaintext_of_old_events_opens_as_it_is():
    seal = sealing.sealer(KEYS[AUTHOR], AUTHOR)
    once = seal("Текст")
    assert seal(once) == once and seal("") == ""
    assert sealing.opener(KEYS.get)("written before sealing") == "written before sealing"
    assert sealing.map_texts("MentorChosen", {"mentor_id": MENTOR}, seal) == {}
    assert sealing.writer_of("MentorChosen", {"mentor_id": MENTOR}, AUTHOR) is None


def test_only_persons_ids_have_keys():
    assert sealing.is_person(AUTHOR) and sealing.is_person(uuid.UUID(MENTOR))
    assert not sealing.is_person("system") and not sealing.is_person(None) and not sealing.is_person("")
