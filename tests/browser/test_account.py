"""A person's own account in the browser: the password changed (a wrong current one first: the
error next to that field), e-mail preferences, and a mentee's questionnaire offered on the account
page and filled, rubrics of interest too (a bad value first: the error next to it, nothing typed lost);
a first questionnaire starts from the rubrics of the mentee's cases, ticked and said so, saved only by
saving; a mentee who declared none is told them, unticked."""

from tests.browser.conftest import PASSWORD, sign_in
from tests.support import case_form, eventually

RUBRIC_BOX = 'input[name="rubrics"][value="%s"]'  # a rubric of interest's checkbox on the questionnaire


def test_a_person_changes_the_password_after_a_wrong_current_one(platform, web, browser):
    user, _ = platform.person("mentor", "Oleg", "Parolev")
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account"))
    page = browser.text()
    assert user["email"] in page and "Parolev Oleg" in page and "Наставник" in page

    browser.fill("#current_password", "not my password")
    browser.fill("#new_password", "a brand new secret 42")
    browser.click_button("Сменить пароль")
    assert "Пароль не подходит." in browser.wait_text("Пароль не подходит.", css="#current_password-error")
    assert browser.find("#current_password").get_attribute("aria-invalid") == "true"
    assert browser.find("#current_password").get_attribute("value") == ""  # never echoed back

    browser.fill("#current_password", PASSWORD)
    browser.fill("#new_password", "a brand new secret 42")
    browser.click_button("Сменить пароль")
    browser.wait_text("Пароль изменён")
    assert browser.url.endswith("/account")

    # the new password is the one that works now
    platform.call("POST", "/api/v1/auth/sign-in", json={"email": user["email"], "password": PASSWORD}, expect=401)
    platform.call("POST", "/api/v1/auth/sign-in", json={"email": user["email"], "password": "a brand new secret 42"})


def test_a_person_turns_off_an_email_notification_kind(platform, web, browser):
    user, token = platform.person("mentee", "Nina", "Pochtova")
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account"))
    browser.click_link("Уведомления на почту")
    assert "Для вашего кейса подобраны наставники" in browser.wait_text("Присылать на почту")
    box = browser.find("#email-mentors_proposed")
    assert box.is_selected()  # all on by default
    box.click()
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено.")
    assert not browser.find("#email-mentors_proposed").is_selected()
    assert browser.find("#email-solution_proposed").is_selected()
    wanted = {
        p["kind"]: p["email"] for p in platform.call("GET", "/api/v1/me/notification-preferences", token=token)["items"]
    }
    assert wanted["mentors_proposed"] is False and wanted["solution_proposed"] is True


def test_a_mentee_is_offered_the_questionnaire_and_fills_it_after_a_bad_value(platform, web, browser):
    user, token = platform.person("mentee", "Olga", "Anketova")
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account"))
    assert "Заполните анкету" in browser.text()
    browser.click_link("Заполнить анкету")
    browser.wait_text("Образовательная организация")

    browser.fill("#school", "School No. 57")
    browser.fill("#subjects", "математика, физика\nастрономия")
    browser.check("#forms_taught-5")
    browser.check("#forms_taught-6")
    assert "Рубрики, которые вам интересны" in browser.text() and "Самоменеджмент" in browser.text()
    browser.check(RUBRIC_BOX % "self-management")
    browser.check(RUBRIC_BOX % "education-law")
    browser.fill("#years_of_practice", "two")
    browser.click_button("Сохранить")
    assert "Введите целое число." in browser.wait_text("Введите целое число.", css="#years_of_practice-error")
    # what was typed is all still there
    assert browser.find("#school").get_attribute("value") == "School No. 57"
    assert "астрономия" in browser.find("#subjects").get_attribute("value")
    assert browser.find("#forms_taught-5").is_selected() and browser.find("#forms_taught-6").is_selected()
    assert browser.find(RUBRIC_BOX % "self-management").is_selected()
    assert browser.find(RUBRIC_BOX % "education-law").is_selected()
    platform.call("GET", "/api/v1/me/questionnaire", token=token, expect=404)  # nothing saved

    browser.fill("#years_of_practice", "2")
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено.")
    saved = platform.call("GET", "/api/v1/me/questionnaire", token=token)
    assert saved["school"] == "School No. 57" and saved["subjects"] == ["математика", "физика", "астрономия"]
    assert saved["forms_taught"] == [5, 6] and saved["years_of_practice"] == 2
    assert saved["rubrics"] == ["education-law", "self-management"]  # the rubricator's order
    assert "Анкету ещё никто не читал." in browser.text()
    # the page shows what is saved, and a rubric unticked is saved so
    assert browser.find(RUBRIC_BOX % "self-management").is_selected()
    assert not browser.find(RUBRIC_BOX % "families-at-risk").is_selected()
    browser.script("arguments[0].click()", browser.find(RUBRIC_BOX % "education-law"))
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено.")
    assert platform.call("GET", "/api/v1/me/questionnaire", token=token)["rubrics"] == ["self-management"]
    browser.go(web.url("/account"))
    assert "Заполните анкету" not in browser.text()


def test_a_first_questionnaire_offers_the_rubrics_of_the_mentees_cases(platform, web, browser):
    user, token = platform.person("mentee", "Kira", "Kejsova")
    rubrics = ["self-management", "education-law"]
    case = platform.call("POST", "/api/v1/cases", token=token, expect=201, json=case_form(rubrics=rubrics))
    eventually(
        lambda: [c["id"] for c in platform.call("GET", "/api/v1/cases", token=token)["items"]] == [case["id"]],
        timeout=30,
        message="the case listed",
    )
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account/questionnaire"))
    named = "(Образовательное право, Самоменеджмент)"  # the rubricator's order
    assert f"Отмечены рубрики ваших кейсов {named}" in browser.wait_text("Рубрики, которые вам интересны")
    assert browser.find(RUBRIC_BOX % "self-management").is_selected()
    assert browser.find(RUBRIC_BOX % "education-law").is_selected()
    assert not browser.find(RUBRIC_BOX % "families-at-risk").is_selected()
    platform.call("GET", "/api/v1/me/questionnaire", token=token, expect=404)  # a suggestion saves nothing

    browser.fill("#school", "School No. 12")
    browser.fill("#subjects", "history")
    browser.fill("#years_of_practice", "1")
    browser.script("arguments[0].click()", browser.find(RUBRIC_BOX % "education-law"))
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено.")
    assert platform.call("GET", "/api/v1/me/questionnaire", token=token)["rubrics"] == ["self-management"]
    assert "ваших кейсов" not in browser.text()  # declared: no suggestion any more

    # declared none: the rubrics of the cases are named, not ticked, so saving keeps none
    browser.script("arguments[0].click()", browser.find(RUBRIC_BOX % "self-management"))
    browser.click_button("Сохранить")
    browser.wait_text("Рубрики ваших кейсов: Образовательное право, Самоменеджмент.")
    assert not browser.find(RUBRIC_BOX % "self-management").is_selected()
    assert not browser.find(RUBRIC_BOX % "education-law").is_selected()
    saved_at = platform.call("GET", "/api/v1/me/questionnaire", token=token)["updated_at"]
    browser.click_button("Сохранить")
    eventually(
        lambda: platform.call("GET", "/api/v1/me/questionnaire", token=token)["updated_at"] != saved_at,
        timeout=15,
        message="saved again",
    )
    assert platform.call("GET", "/api/v1/me/questionnaire", token=token)["rubrics"] == []


def test_the_access_log_page_opens_for_a_new_person(platform, web, browser):
    user, _ = platform.person("mentee", "Lev", "Zhurnalov")
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account/access-log"))
    assert "Ваши данные никто не открывал." in browser.wait_text("Журнал доступа")
