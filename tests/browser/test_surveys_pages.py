"""Surveys in the browser, on a real platform: a moderator creates one (the gateway's errors next to the
block they name, also when a blank block came before); a mentee finds it from the inbox at 375 px,
is told what a required question lacks, answers once; the moderator reads the results as bars with
the same numbers in a table, and downloads the CSV."""

import csv
import io

import requests

from tests.browser.conftest import sign_in
from tests.support import eventually


def _session_of(browser):
    session = requests.Session()
    for cookie in browser.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def test_create_answer_once_and_read_the_results(platform, web, new_browser):
    mentee, _ = platform.person("mentee", "Irina", "Oprosova")  # in the audience before the survey opens
    email, password = platform.moderator_account()
    moderator = sign_in(new_browser(), web, email, password)
    moderator.go(web.url("/surveys"))
    moderator.click_link("Новый опрос")
    moderator.fill("#title", "Первый месяц в школе")
    moderator.click("#audience-3")  # mentees and mentors
    moderator.script(
        "document.getElementById('opens_at').value = '2020-01-01T08:00';"
        "document.getElementById('closes_at').value = '2040-01-01T08:00';"
    )
    # the first block left blank; the second a choice with one option: the error lands on the second
    moderator.select("#questions-1-kind", "single")
    moderator.fill("#questions-1-text", "Сколько у вас классов?")
    moderator.fill("#questions-1-options", "Один")
    moderator.click_button("Создать опрос")
    error = moderator.wait_text("Нужно не меньше двух вариантов", css="#questions-1-options-error")
    assert "двух" in error
    assert moderator.find("#title").get_attribute("value") == "Первый месяц в школе"

    moderator.fill("#questions-1-options", "Один\nДва\nТри и больше")
    moderator.select("#questions-2-kind", "scale")
    moderator.fill("#questions-2-text", "Насколько вы уверены на уроке?")
    moderator.select("#questions-3-kind", "text")
    moderator.fill("#questions-3-text", "Что бы вы изменили?")
    moderator.click("#questions-3-required")  # optional
    moderator.click_button("Создать опрос")
    page = moderator.wait_text("Опрос создан.")
    assert "Первый месяц в школе" in page and "Открыт" in page
    survey_url = moderator.url

    # the mentee: from the inbox to the survey, at 375 px
    browser = sign_in(new_browser(width=375), web, mentee["email"])

    def told():
        browser.go(web.url("/inbox"))
        return "Открыт опрос для вас" in browser.text()

    eventually(told, timeout=40, interval=1, message="the survey's inbox entry")
    browser.click_link("Открыть опросы")
    browser.click_link("Первый месяц в школе")
    browser.wait_text("Ответ анонимен")
    browser.click_button("Отправить ответ")  # nothing chosen: the required questions say so
    browser.wait_text("", css="#answers-q1-error")
    assert browser.find("#answers-q2-error").text
    browser.click("#answers-q1-2")  # "Два"
    browser.click("#answers-q2-4")  # 4
    browser.fill("#answers-q3", "Больше времени на подготовку, меньше отчётов.")
    browser.click_button("Отправить ответ")
    assert "Вы уже ответили на этот опрос." in browser.wait_text("Спасибо! Ваш ответ записан анонимно.")
    assert browser.all("main form button") == [] or "Отправить ответ" not in browser.text()

    # the moderator: the results, bars and a table with the same numbers, and the CSV
    moderator.go(survey_url)
    moderator.click_link("Результаты (ответов: 1)")
    page = moderator.wait_text("Ответов: 1")
    assert "Больше времени на подготовку, меньше отчётов." in page
    assert moderator.all("main svg[role=img]") and len(moderator.all("main table")) == 2
    rows = [r.text for r in moderator.all("main table tbody tr")]
    assert "Два 1" in rows and "Один 0" in rows and "4 1" in rows
    assert "среднее 4.0" in page
    download = _session_of(moderator).get(moderator.find("main a[download]").get_attribute("href"), timeout=20)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert ["q1", "single", "Сколько у вас классов?", "Два", "1"] in table

    # the mentee may not read the results
    browser.go(survey_url + "/results")
    assert browser.text("h1") == "Нет доступа"
