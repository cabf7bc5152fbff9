"""A moderator erases a person on their written request in the browser (issue 19, part 3): a mentor from
the mentor's page (an empty reason first: the error next to the field, nothing erased; then no
confirmation: nothing erased either), a mentee from the history of their case; the erased person cannot
sign in and their pages read as erased or not found. A moderator's account, one's own included, is
refused, and the page says why."""

import requests

from tests.browser.conftest import PASSWORD, sign_in
from tests.support import case_form, eventually

RUBRIC = "families-at-risk"  # test_moderation counts it before this module runs; no later module files in it


def _untick(browser, css):
    element = browser.find(css)
    if element.is_selected():
        browser.script("arguments[0].click()", element)


def _token_refused(platform, token):
    answer = requests.get(f"{platform.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=20)
    return answer.status_code == 401


def test_a_moderator_erases_a_mentor_with_a_reason_after_an_empty_one(platform, web, browser, new_browser):
    mentor, mentor_token = platform.person("mentor", "Egor", "Stertov")
    platform.call("PUT", "/api/v1/me/mentor-profile", token=mentor_token, json={"rubrics": [RUBRIC]})
    email, password = platform.moderator_account()
    sign_in(browser, web, email, password)

    browser.go(web.url(f"/moderation/mentors/{mentor['id']}"))
    browser.wait_text("Stertov Egor", css="h1")
    browser.click_link("Удалить данные этого наставника")
    assert "Наставник: Stertov Egor" in browser.wait_text("Наставник:", css="#erasure-subject")
    effects = browser.text("#erasure-effects")
    assert "сеансы завершаются" in effects and "нечитаемыми" in effects and "библиотеки" in effects
    assert "необратимо" in browser.text("main")

    # an empty reason, confirmed: the API's error next to the field, nothing erased
    browser.check("#confirm")
    browser.click_button("Удалить данные навсегда")
    assert "От 10 до 1000 символов." in browser.wait_text("От 10", css="#reason-error")
    assert browser.find("#reason").get_attribute("aria-invalid") == "true"
    assert platform.call("GET", "/api/v1/me", token=mentor_token)["last_name"] == "Stertov"

    # a reason (markup stays text), not confirmed: the error next to the box, nothing sent
    typed = "<b>Written request</b> No. 17 of 3 May"
    browser.fill("#reason", typed)
    _untick(browser, "#confirm")
    browser.click_button("Удалить данные навсегда")
    assert "Подтвердите удаление" in browser.wait_text("Подтвердите", css="#confirm-error")
    assert browser.find("#reason").get_attribute("value") == typed
    assert not browser.all("main b")
    assert platform.call("GET", "/api/v1/me", token=mentor_token)["last_name"] == "Stertov"

    browser.check("#confirm")
    browser.click_button("Удалить данные навсегда")
    browser.wait_text("Данные удалены, учётная запись закрыта.")
    assert browser.url.rstrip("/").endswith("/moderation")

    # the person cannot sign in, in the browser as through the API, and their token is refused
    other = new_browser()
    other.go(web.url("/sign-in"))
    other.fill("#email", mentor["email"])
    other.fill("#password", PASSWORD)
    other.click("main form button[type=submit]")
    other.wait_text("Неверная почта или пароль.")
    platform.call("POST", "/api/v1/auth/sign-in", json={"email": mentor["email"], "password": PASSWORD}, expect=401)
    # the gateway learns the ended sessions from identity's SessionsRevoked
    eventually(lambda: _token_refused(platform, mentor_token), message="the erased mentor's token is refused")

    # the mentor's page reads as erased or never written, not as the mentor
    browser.go(web.url(f"/moderation/mentors/{mentor['id']}"))
    assert browser.wait_text("Наставник не найден", css="h1") == "Наставник не найден"
    assert "данные наставника удалены" in browser.text("main") and "Stertov" not in browser.text("main")


def test_a_moderator_erases_a_mentee_from_their_cases_history(platform, web, browser):
    mentee, mentee_token = platform.person("mentee", "Vera", "Udalova")
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=mentee_token,
        expect=201,
        json=case_form(rubrics=[RUBRIC], essence="A school garden project stalls after the first month."),
    )
    email, password = platform.moderator_account()
    sign_in(browser, web, email, password)

    browser.go(web.url(f"/cases/{case['id']}/history"))
    browser.click_link("Удалить данные автора кейса")
    subject = browser.wait_text("Автор кейса", css="#erasure-subject")
    assert str(case["number"]) in subject and "Udalova" not in browser.text("main")  # no name without a reason
    browser.fill("#reason", "Written request No. 18 of 4 May")
    browser.check("#confirm")
    browser.click_button("Удалить данные навсегда")
    browser.wait_text("Данные удалены, учётная запись закрыта.")
    platform.call("POST", "/api/v1/auth/sign-in", json={"email": mentee["email"], "password": PASSWORD}, expect=401)

    # the case stays; its author card, opened with a reason, reads as erased
    browser.go(web.url(f"/cases/{case['id']}/history"))
    browser.fill("#reason", "Checking the erasure took effect.")
    browser.click_button("Открыть карточку")
    assert browser.wait_text("Данные удалены", css="#author-card h2") == "Данные удалены"
    assert "Udalova" not in browser.text("main")


def test_a_moderators_own_account_is_refused_and_the_page_says_why(platform, web, browser):
    email, password = platform.moderator_account("Olga", "Samova")
    me = platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})["user"]
    sign_in(browser, web, email, password)
    browser.go(web.url(f"/moderation/people/{me['id']}/erasure"))
    assert me["id"] in browser.wait_text("Учётная запись", css="#erasure-subject")
    browser.fill("#reason", "Written request No. 19 of 5 May")
    browser.check("#confirm")
    browser.click_button("Удалить данные навсегда")
    banner = browser.wait_text("учётная запись модератора", css="#form-banner")
    assert "её закрывает оператор" in banner
    assert "Samova" in browser.text(".who")  # still signed in
    platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})
