"""What a person meets around their session: it ends elsewhere (a password changed on another
device ends every other session) while they are typing a case; the next submission takes them to
sign-in and, once signed in again, back to the same page with what they typed. And the language
switch: Russian by default, English on request, kept across pages."""

import os
import signal
import time

from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_case_pages import reload_until
from tests.browser.test_community import RUBRIC, _solved_case
from tests.support import eventually


def test_an_ended_session_returns_to_sign_in_and_back_to_the_form_as_typed(platform, web, browser):
    mentee, token = platform.person("mentee", "Irina", "Sessiyeva")
    sign_in(browser, web, mentee["email"])
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "Мои семиклассники не делают домашние задания.")
    browser.fill("#question", "Как вернуть интерес к домашней работе?")
    browser.check("input[name=rubrics][value=class-management-motivation]")

    # meanwhile, on another device, the password changes: every other session ends
    new_password = PASSWORD + " renewed"
    platform.call(
        "PUT", "/api/v1/me/password", token=token, json={"current_password": PASSWORD, "new_password": new_password}
    )

    browser.click_button("Подать кейс")
    browser.find("#email")  # the sign-in page, not an error page
    assert "/sign-in" in browser.url and "next=" in browser.url
    assert "Сеанс завершён" in browser.text("main")

    browser.fill("#email", mentee["email"])
    browser.fill("#password", new_password)
    browser.click("main form button[type=submit]")
    browser.find(".who")
    assert browser.url.endswith("/cases/new")
    assert browser.find("#essence").get_attribute("value") == "Мои семиклассники не делают домашние задания."
    assert browser.find("#question").get_attribute("value") == "Как вернуть интерес к домашней работе?"
    assert browser.find("input[name=rubrics][value=class-management-motivation]").is_selected()
    # nothing was filed by the refused submission
    assert (
        platform.call(
            "GET",
            "/api/v1/cases",
            token=platform.call(
                "POST", "/api/v1/auth/sign-in", json={"email": mentee["email"], "password": new_password}
            )["access_token"],
        )["items"]
        == []
    )


def test_russian_by_default_and_english_on_request(platform, web, browser):
    browser.go(web.url("/"))
    assert browser.find("html").get_attribute("lang") == "ru"
    assert "Наставники" in browser.text("nav")
    browser.click("header form.lang button")
    browser.wait_text("Mentors", css="nav")
    assert browser.find("html").get_attribute("lang") == "en"
    browser.go(web.url("/sign-in"))
    assert browser.text("h1") == "Sign in"
    browser.fill("#email", "nobody@example.org")
    browser.fill("#password", "wrong password")
    browser.click("main form button[type=submit]")
    browser.wait_text("Wrong e-mail or password.")  # the answer is a new page: read it once it is there
    assert browser.find("#email").get_attribute("value") == "nobody@example.org"


def test_a_503_keeps_the_form_says_so_and_sending_again_files_the_case_once(platform, web, browser):
    """The cases service frozen past the gateway's RPC timeout: the filing answers 503 "we do not know
    whether it was done", with the form as typed; sent again (the same Idempotency-Key) once the
    service is back, the case exists exactly once."""
    mentee, token = platform.person("mentee", "Olga", "Povtorova")
    sign_in(browser, web, mentee["email"])
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "Родители не приходят на собрания.")
    browser.fill("#question", "Как договориться с родителями о встречах?")
    browser.check("input[name=rubrics][value=interaction-with-parents]")
    cases = platform.processes["cases"].process
    os.kill(cases.pid, signal.SIGSTOP)
    try:
        browser.click_button("Подать кейс")
        banner = browser.wait_text("Отправьте форму ещё раз", css="#form-banner", timeout=40)
        assert "не знаем" in banner.lower() or "Мы не знаем" in banner
        assert browser.find("#essence").get_attribute("value") == "Родители не приходят на собрания."
    finally:
        os.kill(cases.pid, signal.SIGCONT)
    browser.click_button("Подать кейс")
    browser.find("#case-essence")
    assert "Родители не приходят на собрания." in browser.text("#case-essence")
    listed = eventually(
        lambda: platform.call("GET", "/api/v1/cases", token=token)["items"], timeout=20, message="the case is listed"
    )
    time.sleep(2)  # a late duplicate would show by now
    assert len(platform.call("GET", "/api/v1/cases", token=token)["items"]) == 1 == len(listed)


def test_right_after_filing_the_author_sees_similar_solved_cases(platform, web, browser):
    _solved_case(platform)  # a solved "planetarium" case in the library
    mentee, token = platform.person("mentee", "Vera", "Pokhozheva")
    eventually(
        lambda: platform.call("GET", "/api/v1/library?q=planetarium&kind=solved_case", token=token)["items"],
        timeout=30,
        message="the solved case is in the library",
    )
    sign_in(browser, web, mentee["email"])
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "My pupils find the planetarium boring; how do I make a visit worth it?")
    browser.fill("#question", "How do I prepare a planetarium visit?")
    browser.check(f"input[name=rubrics][value={RUBRIC}]")
    browser.click_button("Подать кейс")
    browser.find("#case-essence")
    reload_until(browser, browser.url, "Решённый кейс", css="main")
    similar = browser.text("#similar")
    assert "planetarium" in similar.lower() and "Решённый кейс" in similar
    # why it is suggested: the rubric, the words, and that it worked (solved, rated 5)
    assert "Те же рубрики" in similar and "Проблему удалось решить" in similar
    assert "Автор оценил решение как полезное" in similar

    # a case like nothing in the library: the honest answer, not the nearest unrelated case
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "Учительница пения просит заменить её на уроках в субботу без предупреждения.")
    browser.fill("#question", "Обязан ли я выходить на замену в субботу?")
    browser.check(f"input[name=rubrics][value={RUBRIC}]")  # the planetarium case's rubric: not enough alone
    browser.click_button("Подать кейс")
    browser.wait_text("Учительница пения", css="#case-essence")
    assert "Похожих решённых кейсов и материалов пока нет" in browser.wait_text("пока нет", css="#similar-none")
    assert not browser.all("#similar")


def test_a_form_kept_across_sign_in_is_never_shown_to_another_person(platform, web, browser):
    """A shared staff-room computer: one teacher's session ends while she types; a colleague signs in
    on the same browser and opens the same page: the form is empty."""
    first, token = platform.person("mentee", "Nadezhda", "Pervaya")
    second, _ = platform.person("mentee", "Lyubov", "Vtoraya")
    sign_in(browser, web, first["email"])
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "Личное: конфликт с завучем.")
    browser.fill("#question", "Как мне быть?")
    browser.check("input[name=rubrics][value=professional-ethics]")
    # a third session of hers: ended by the same change as the browser's, it says when the gateway knows
    other = platform.call("POST", "/api/v1/auth/sign-in", json={"email": first["email"], "password": PASSWORD})
    platform.call(
        "PUT",
        "/api/v1/me/password",
        token=token,
        json={"current_password": PASSWORD, "new_password": PASSWORD + " renewed"},
    )
    eventually(
        lambda: platform.call("GET", "/api/v1/me", token=other["access_token"], expect=401) or True,
        timeout=30,
        message="the gateway refuses the sessions the password change ended",
    )
    browser.click_button("Подать кейс")
    browser.find("#email")
    browser.fill("#email", second["email"])
    browser.fill("#password", PASSWORD)
    browser.click("main form button[type=submit]")
    browser.find(".who")
    assert browser.url.endswith("/cases/new")
    assert browser.find("#essence").get_attribute("value") == ""
