"""The shared anonymizer (services.common.anonymizer) on realistic case text, Russian and English."""
import pytest

from services.common.anonymizer import scrub

CORPUS = [
    ("Классный руководитель Мария Ивановна Петрова из школы № 57 жалуется директору.",
     ["Мария", "Петрова", "57"], ["[person]", "[school]"]),
    ("Родители Сидорова пишут мне на почту teacher.anna@mail.ru и звонят на +7 (916) 123-45-67.",
     ["teacher.anna@mail.ru", "123-45-67"], ["[e-mail]", "[phone]"]),
    ("После урока завуч Иван Сергеевич Кузнецов из ГБОУ СОШ №1234 в Москве отчитал меня при детях.",
     ["Кузнецов", "1234", "Москве"], ["[person]", "[place]"]),
    ("My colleague Ivan Petrov shouts at my 7th form; call me at +7 916 555-12-34.",
     ["Ivan", "Petrov", "555-12-34"], ["[person]", "[phone]"]),
    ("Mrs Brown from School No. 12 wrote to olga.smirnova@school12.org about her son.",
     ["Brown", "No. 12", "olga.smirnova"], ["[person]", "[school]", "[e-mail]"]),
    ("I spoke with Anna yesterday, and John Smith complained to the head.",
     ["Anna", "John", "Smith"], ["[person]"]),
]


@pytest.mark.parametrize("text, secrets, placeholders", CORPUS)
def test_personal_data_becomes_placeholders(text, secrets, placeholders):
    scrubbed = scrub(text)
    for secret in secrets:
        assert secret not in scrubbed, scrubbed
    for placeholder in placeholders:
        assert placeholder in scrubbed, scrubbed


@pytest.mark.parametrize("text", [
    "Hope is not a plan. Will you help? Classroom management on Monday.",
    "Pupils of form 7 ignore homework and disrupt lessons.",
    "Ученики 7 класса не делают домашнее задание.",
    "Case a083e23b-8d3e-4296-9847-d241aea8da76 and 80192529-2774-4b75-8b15-fe262ccd60e8 are ids, not phones.",
])
def test_ordinary_text_is_left_alone(text):
    assert scrub(text) == text


def test_empty_text_stays_empty():
    assert scrub("") == "" and scrub(None) is None
