"""A person erases their own account in the browser (issue 19, part 3): from the account page, confirmed
with the password (a wrong one first: the error next to the field, nothing erased), then signed out, on
the home page, and the account is gone for sign-in and for its old token alike."""

from tests.browser.conftest import PASSWORD, sign_in


def _accept_confirmations(browser):
    """The erase button asks first (static/app.js, data-confirm): the test answers yes."""
    browser.script("window.confirm = function () { return true; };")


def test_a_person_erases_their_account_after_a_wrong_password(platform, web, browser):
    user, token = platform.person("mentee", "Erika", "Stiraeva")
    sign_in(browser, web, user["email"])
    browser.go(web.url("/account"))
    browser.click_link("Удалить мою учётную запись и данные")
    assert "Удаление необратимо" in browser.wait_text("Удаление необратимо")

    _accept_confirmations(browser)
    browser.fill("#password", "not my password")
    browser.click_button("Удалить навсегда")
    assert "Пароль не подходит." in browser.wait_text("Пароль не подходит.", css="#password-error")
    assert browser.find("#password").get_attribute("aria-invalid") == "true"
    assert browser.find("#password").get_attribute("value") == ""  # never echoed back
    assert platform.call("GET", "/api/v1/me", token=token)["last_name"] == "Stiraeva"  # nothing erased

    _accept_confirmations(browser)
    browser.fill("#password", PASSWORD)
    browser.click_button("Удалить навсегда")
    browser.wait_text("Ваша учётная запись и данные удалены.")
    assert browser.url.rstrip("/") == web.url("").rstrip("/")  # the home page, signed out
    assert "/sign-in" in [a.get_attribute("pathname") for a in browser.all("header a")]

    platform.call("POST", "/api/v1/auth/sign-in", json={"email": user["email"], "password": PASSWORD}, expect=401)
    platform.call("GET", "/api/v1/me", token=token, expect=401)
