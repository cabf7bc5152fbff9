"""The shared anonymizer (services.common.anonymizer) on realistic case text, Russian and English."""

import pytest

from services.common.anonymizer import scrub

CORPUS = [
    (
        "Классный руководитель Мария Ивановна Петрова из школы № 57 жалуется директору.",
        ["Мария", "Петрова", "57"],
        ["[person]", "[school]"],
    ),
    (
        "Родители Сидорова пишут мне на почту teacher.anna@mail.ru и звонят на +7 (916) 123-45-67.",
        ["teacher.anna@mail.ru", "123-45-67"],
        ["[e-mail]", "[phone]"],
    ),
    (
        "После урока завуч Иван Сергеевич Кузнецов из ГБОУ СОШ №1234 в Москве отчитал меня при детях.",
        ["Кузнецов", "1234", "Москве"],
        ["[person]", "[place]"],
    ),
    (
        "My colleague Ivan Petrov shouts at my 7th form; call me at +7 916 555-12-34.",
        ["Ivan", "Petrov", "555-12-34"],
        ["[person]", "[phone]"],
    ),
    (
        "Mrs Brown from School No. 12 wrote to olga.smirnova@school12.org about her son.",
        ["Brown", "No. 12", "olga.smirnova"],
        ["[person]", "[school]", "[e-mail]"],
    ),
    ("I spoke with Anna yesterday, and John Smith complained to the head.", ["Anna", "John", "Smith"], ["[person]"]),
]


@pytest.mark.parametrize("text, secrets, placeholders", CORPUS)
def test_personal_data_becomes_placeholders(text, secrets, placeholders):
    scrubbed = scrub(text)
    for secret in secrets:
        assert secret not in scrubbed, scrubbed
    for placeholder in placeholders:
        assert placeholder in scrubbed, scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "Hope is not a plan. Will you help? Classroom management on Monday.",
        "Pupils of form 7 ignore homework and disrupt lessons.",
        "Ученики 7 класса не делают домашнее задание.",
        "Case a083e23b-8d3e-4296-9847-d241aea8da76 and 80192529-2774-4b75-8b15-fe262ccd60e8 are ids, not phones.",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert scrub(text) == text


def test_empty_text_stays_empty():
    assert scrub("") == "" and scrub(None) is None


@pytest.mark.parametrize(
    "text, expected",
    [  # the pilot replay's failures (issue 19)
        (
            "Восстановленный контакт с родителями продержался две недели.",
            "Восстановленный контакт с родителями продержался две недели.",
        ),
        ("Задания выкладываю в МЭШ, но родители не смотрят.", "Задания выкладываю в МЭШ, но родители не смотрят."),
        ("Семья живёт: ул. Профсоюзная, д. 12, кв. 5.", "Семья живёт: [address]."),
    ],
)
def test_the_pilots_failures(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "date",
    [
        "12.03.2014",
        "12/03/2014",
        "2014-03-12",
        "03/14/2014",
        "12 марта 2014 г.",
        "12 марта 2014 года",
        "12th of March 2014",
        "March 12, 2014",
        "12 Mar 2014",
        "12-Jan-2014",
    ],
)
def test_full_dates_in_every_common_format_are_replaced(date):
    assert scrub(f"Дата: {date}, потом урок.") == "Дата: [date], потом урок."


def test_a_day_or_a_year_alone_is_a_date_only_where_birth_is_said():
    assert (
        scrub("День рождения у него 5 мая, а контрольная 5 мая.") == "День рождения у него [date], а контрольная 5 мая."
    )
    assert scrub("Ученица 2013 г.р., в 2013 году школа открылась.") == "Ученица [date], в 2013 году школа открылась."
    assert scrub("She was born in 2011 and joined in 2019.") == "She was born in [date] and joined in 2019."


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Её страница vk.com/id48211730 и https://www.tiktok.com/@nika_05.", "Её страница [link] и [link]."),
        ("See mastodon.example/@anna or https://forum.example.org/u/kate_t.", "See [link] or [link]."),
        (
            "Her Insta is lily.rose09; she tags me as @msjones_teaches.",
            "Her Insta is [handle]; she tags me as [handle].",
        ),
        (
            "Материалы: https://example.org/rules и https://resh.edu.ru/subject/lesson/7589/.",
            "Материалы: https://example.org/rules и https://resh.edu.ru/subject/lesson/7589/.",
        ),
    ],
)
def test_profiles_of_any_network_go_and_links_to_materials_stay(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "school",
    [
        "Harris Academy Peckham",
        "Lincoln High",
        "PS 142",
        "Riverside Sixth Form College",
        "Oakwood Sixth Form",
        "Northern Lights Learning Trust",
        "St Mary's Catholic Primary School",
        "Ysgol Bryn Castell",
    ],
)
def test_named_english_schools_are_replaced(school):
    assert scrub(f"I teach at {school} this year.") == "I teach at [school] this year."


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Мама Артёма пишет, Артёму плохо, с Артёмом беда.", "Мама [person] пишет, [person] плохо, с [person] беда."),
        ("Звонила Петрова; Петровой я ответила.", "Звонила [person]; [person] я ответила."),
        ("I spoke to Kwame Mensah; Mensah agreed.", "I spoke to [person]; [person] agreed."),
        (
            "Сегодня Вовка с Серёжкой опоздали, Петьке я позвонила.",
            "Сегодня [person] с [person] опоздали, [person] я позвонила.",
        ),
        (
            "Мила сказала, что устала. Злата не делает домашнее задание.",
            "[person] сказала, что устала. [person] не делает домашнее задание.",
        ),
        ("Then Daisy Fletcher's mum wrote from the Co-op.", "Then [person]'s mum wrote from the Co-op."),
        (
            "Tom refuses to work. Harry keeps shouting; Jack was late. Oliver and Ben sit apart.",
            "[person] refuses to work. [person] keeps shouting; [person] was late. [person] and [person] sit apart.",
        ),
    ],
)
def test_every_form_of_a_found_name_goes(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Перед Масленицей и Днём учителя проводим Неделю математики.",
        "Надежда есть. Вера в себя важна.",
        "In May we have Sports Day and the Summer Fair; the Pupil Premium Grant pays for trips.",
        "The Duke of Edinburgh's Award expedition is in July; Key Stage 3 starts in September.",
        "В 2019-2020 учебном году; тираж 1 250 000 экземпляров; ISBN 978-5-09-087766-9.",
        "Дети написали письмо Деду Морозу; работаем по программе «Школа России» и УМК «Школа 2100».",
        "I teach English and Art, cover French and Drama, and run the Early Years unit; during Ramadan we adapt PE.",
    ],
)
def test_name_like_words_and_numbers_that_are_not_personal_stay(text):
    assert scrub(text) == text


@pytest.mark.parametrize(
    "address",
    [
        "ул. Профсоюзная, д. 12, кв. 5",
        "Ленинский проспект, д. 32, корп. 2, кв. 14",
        "ул. Вавилова, 54к1, кв. 33",
        "улице Гагарина, дом 8, квартира 21",
        "Flat 3, 12 Park Road",
        "45 W 34th St",
        "1234 N. Main St., Apt. #5",
        "221B Baker Street",
        "P.O. Box 1234",
    ],
)
def test_street_addresses_go_with_their_house_and_flat(address):
    assert scrub(f"Живут: {address}; всё.") == "Живут: [address]; всё."


def test_a_spelled_out_street_without_a_house_is_prose_not_an_address():
    assert scrub("Гуляли по улице Строителей и по набережной.") == "Гуляли по улице Строителей и по набережной."
