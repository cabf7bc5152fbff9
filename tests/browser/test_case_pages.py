"""A case end to end in the browser: a mentee files it (a refused first try keeps what was typed), picks
the proposed mentor, the mentor accepts and asks two questions (one from the hint bank), the mentee
answers and redefines the request (the timeline shows what changed), the mentor proposes a solution
with a material, the mentee completes it with the reflection sheet; a moderator reads the history, a
past version, and the author card only after giving a reason. And what a person wrote stays text."""

import os

import pytest
from selenium.common.exceptions import NoAlertPresentException

from tests.browser.conftest import sign_in
from tests.support import eventually

SHOTS = os.environ.get("CASE_SCREENSHOTS")  # a folder: save the pages seen, to look at them


def shot(browser, name):
    if SHOTS:
        browser.screenshot(os.path.join(SHOTS, f"{name}.png"))


def reload_until(browser, url, text, css="main", timeout=30):
    """Open ``url`` again until ``text`` shows in ``css`` (the platform's events take a moment)."""

    def there():
        browser.go(url)
        return text in browser.text(css)

    eventually(there, timeout=timeout, interval=0.5, message=f"{text!r} on {url}")


def file_case(browser, web, essence, question, rubric, mode="personal", consent=False):
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", essence)
    browser.fill("#question", question)
    browser.check(f"input[name=rubrics][value={rubric}]")
    browser.check(f"input[name=mode][value={mode}]")
    if consent:
        browser.check("#group_discussion_consent")
    browser.click_button("Подать кейс")
    browser.find("#case-essence")
    return browser.url.rstrip("/").split("/cases/")[1].split("?")[0]


def test_a_case_from_filing_to_reflection_and_its_history(platform, web, new_browser):
    mentor, _ = platform.mentor("Olga", "Proektova", ["urban-educational-projects"], position="Docent")
    mentee, _ = platform.person("mentee", "Anna", "Zhurnalova")
    author = sign_in(new_browser(), web, mentee["email"])

    # a blank essence: the error next to the essence, everything else as typed
    author.go(web.url("/cases/new"))
    author.fill("#question", "How do I plan a museum lesson?")
    author.fill("#actions_taken", "Read the museum's site.")
    author.check("input[name=rubrics][value=urban-educational-projects]")
    author.check("input[name=participants][value=parents]")
    author.click_button("Подать кейс")
    error = author.text("#essence-error")
    assert error, "the essence's error shows next to it"
    assert author.find("#essence").get_attribute("aria-invalid") == "true"
    assert author.find("#question").get_attribute("value") == "How do I plan a museum lesson?"
    assert author.find("#actions_taken").get_attribute("value") == "Read the museum's site."
    assert author.find("input[name=rubrics][value=urban-educational-projects]").is_selected()
    assert author.find("input[name=participants][value=parents]").is_selected()
    assert "Наставник увидит ваше имя" in author.text("main form")  # what each mode lets the mentor see
    shot(author, "case-new-error")

    author.fill("#essence", "My 6th form visits the city museum next month.")
    author.click_button("Подать кейс")
    author.find("#case-essence")
    case_id = author.url.split("/cases/")[1].split("?")[0]
    case_url = web.url(f"/cases/{case_id}")

    # the proposal: the mentor's profile and why they were proposed; the author picks them
    reload_until(author, case_url, "Proektova Olga", css="main")
    proposed = author.text("#proposed")
    assert "Docent" in proposed and "Городские образовательные проекты" in proposed
    assert "Кейсов за последнее время: 0" in proposed and "Новый наставник" in proposed  # the fair order's why
    assert "Ваш ход: выберите наставника" in author.text("#case-status")
    shot(author, "case-choose")
    author.click_button("Выбрать: Proektova Olga")
    assert "Наставник принимает кейс" in author.wait_text("Наставник принимает кейс", css="#case-status")

    # the mentor accepts and asks two questions: one from the bank, one written
    guide = sign_in(new_browser(), web, mentor["email"])
    guide.go(case_url)
    assert "Ваш ход: примите кейс" in guide.text("#case-status")
    guide.click_button("Принять кейс")
    guide.wait_text("Задать вопросы", css="main")
    first_hint = guide.find("input[name^='bank.']")
    bank_question = guide.find(f"label[for={first_hint.get_attribute('id')}]").text
    guide.check(f"#{first_hint.get_attribute('id')}")
    guide.check("input[name=bank_kind][value=clarifying]")
    guide.fill("#written-0-text", "Which exhibits fit your syllabus?")
    guide.check("input[name='written.0.kind'][value=developing]")
    shot(guide, "case-mentor-ask")
    guide.click_button("Задать вопросы")
    guide.wait_text("Автор отвечает на вопросы", css="#case-status")

    # the author answers both, then redefines the request
    author.go(case_url)
    answers = author.all("textarea[name^='answer.']")
    assert len(answers) == 2
    assert bank_question in author.text("main") and "Which exhibits fit your syllabus?" in author.text("main")
    for index, field in enumerate(answers):
        field.send_keys(f"Answer number {index + 1}")
    author.click_button("Отправить ответы")
    author.wait_text("сохраните запрос или переформулируйте", css="#case-status")
    author.click_link("Переформулировать")
    assert author.find("#essence").get_attribute("value") == "My 6th form visits the city museum next month."
    assert author.find("input[name=participants][value=parents]").is_selected()  # the whole form, prefilled
    author.fill("#essence", "My 6th form visits the history museum in two weeks.")
    author.click_button("Сохранить новую редакцию")
    changed = author.wait_text("Запрос переформулирован", css="#timeline")
    redefinition = author.text(".event-CaseRedefined")
    assert "My 6th form visits the city museum next month." in author.text(".event-CaseRedefined del")
    assert "My 6th form visits the history museum in two weeks." in author.text(".event-CaseRedefined ins")
    assert "Суть проблемы" in redefinition and "Answer number 1" in changed
    shot(author, "case-timeline")

    # the mentor proposes a solution with a material
    guide.go(case_url)
    guide.fill("#solution", "Give each pupil one exhibit to present.")
    guide.fill("#materials-0-title", "Museum pedagogy handbook")
    guide.fill("#materials-0-reference", "https://example.org/museum-pedagogy")
    guide.click_button("Отправить решение")
    guide.wait_text("Автор знакомится с решением", css="#case-status")

    # the author completes the case with the reflection sheet, rating the solution
    author.go(case_url)
    assert "Museum pedagogy handbook" in author.text("#timeline")
    author.click_link("Завершить кейс: лист рефлексии")
    author.check("input[name=problem_solved][value=partly]")
    author.click_button("Завершить кейс")  # no rating yet: refused, the answer kept
    author.find(".field-error")  # next to the rating of the solution
    assert author.find("select[name^='helpfulness.']").get_attribute("aria-invalid") == "true"
    assert author.find("input[name=problem_solved][value=partly]").is_selected()
    rating = author.find("select[name^='helpfulness.']")
    author.select(f"#{rating.get_attribute('id')}", "4")
    author.fill("#learned", "Pupils present better than they listen.")
    author.click_button("Завершить кейс")
    assert "Кейс завершён" in author.wait_text("Кейс завершён", css="#timeline")

    # a moderator reads the history, a past version, and the author card only with a reason
    email, password = platform.moderator_account()
    moderator = sign_in(new_browser(), web, email, password=password)
    moderator.go(web.url("/cases?state=completed&rubric=urban-educational-projects"))
    listed = moderator.text("#case-list")
    assert "Городские образовательные проекты" in listed and "Завершён" in listed
    moderator.go(web.url("/cases?state=choosing_mentor&rubric=urban-educational-projects"))
    assert moderator.all("#case-list") == []
    moderator.go(case_url)
    moderator.click_link("Полная история и версии кейса")
    history = moderator.text("#timeline")
    for step in (
        "Кейс подан",
        "Наставник выбран",
        "Наставник задал вопросы",
        "Запрос переформулирован",
        "Предложено решение",
        "Кейс завершён",
    ):
        assert step in history
    moderator.select("#version", "2")
    moderator.click_button("Показать")
    as_of = moderator.text("#as-of")
    assert "My 6th form visits the city museum next month." in as_of and "Выбор наставника" in as_of
    assert "history museum" not in as_of
    assert "Zhurnalova" not in moderator.text("main")
    moderator.fill("#reason", "short")
    moderator.click_button("Открыть карточку")
    assert moderator.text("#reason-error")
    moderator.fill("#reason", "Checking a complaint about this case's mentor.")
    moderator.click_button("Открыть карточку")
    assert "Zhurnalova Anna" in moderator.wait_text("Zhurnalova Anna", css="#author-card")
    shot(moderator, "case-history")


def _assert_inert(browser, text):
    assert browser.all("main img") == [], "no element was made of what a person wrote"
    with pytest.raises(NoAlertPresentException):
        _ = browser.driver.switch_to.alert.text  # reading it is what raises when no alert is open
    assert text in browser.text("main")


def test_markup_in_a_case_is_shown_as_text_everywhere(platform, web, new_browser):
    mentor, _ = platform.mentor("Semyon", "Semeynov", ["families-at-risk"])
    mentee, _ = platform.person("mentee", "Inna", "Tegova")
    markup = "<img src=x onerror=alert(1)>"
    author = sign_in(new_browser(), web, mentee["email"])
    case_id = file_case(author, web, markup, "Is this <b>bold</b>?", "families-at-risk")
    case_url = web.url(f"/cases/{case_id}")
    assert author.text("#case-essence") == markup
    _assert_inert(author, markup)

    reload_until(author, case_url, "Semeynov Semyon")
    author.click_button("Выбрать: Semeynov Semyon")
    author.wait_text("Наставник принимает кейс", css="#case-status")
    author.go(web.url("/cases"))
    _assert_inert(author, markup)

    guide = sign_in(new_browser(), web, mentor["email"])
    guide.go(case_url)
    assert guide.text("#case-essence") == markup
    _assert_inert(guide, markup)
    guide.go(web.url("/cases"))
    _assert_inert(guide, markup)

    # the mentor declines with a reason; the author sees it in the timeline, then withdraws the case
    guide.go(case_url)
    guide.fill("#reason", "Fully booked this month.")
    guide.click_button("Отказаться")
    reload_until(author, case_url, "Наставник отказался", css="#timeline")  # the decline may still be on its way
    assert "Fully booked this month." in author.text("#timeline")
    author.fill("#reason", "Solved it with a colleague.")
    author.driver.execute_script("window.confirm = function () { return true; }")
    author.click_button("Отозвать")
    assert "Solved it with a colleague." in author.wait_text("Кейс отозван", css="#timeline")
    assert author.all("#reason") == []  # nothing left to do on a withdrawn case
