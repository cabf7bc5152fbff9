"""News in the browser: a moderator writes an item (markup in it shown as text, its meeting link opening
safely), edits it, reads its history and withdraws it; a visitor reads the list and the item, and no
longer finds it once withdrawn; a mentee subscribes on the preferences page and finds the next item of
their rubric in the inbox."""

from selenium.webdriver.common.by import By

from tests.browser.conftest import sign_in
from tests.support import eventually

RUBRIC = "digital-technologies"


def test_a_moderator_publishes_edits_and_withdraws_and_a_visitor_reads(platform, web, new_browser):
    email, password = platform.moderator_account()
    moderator = sign_in(new_browser(), web, email, password)
    moderator.go(web.url("/news"))
    moderator.click_link("Написать новость")
    moderator.click_button("Опубликовать")  # nothing filled in: the errors stand next to their fields
    assert "Заполните это поле." in moderator.wait_text("Заполните", css="#title-error")
    moderator.fill("#title", "Webinar <b>on</b> digital tools")
    moderator.fill("#text", "We meet online.\n<script>alert(1)</script>")
    moderator.fill("#meeting_link", "javascript:alert(1)")
    moderator.click_button("Опубликовать")
    assert "https://" in moderator.wait_text("https://", css="#meeting_link-error")
    assert moderator.find("#title").get_attribute("value") == "Webinar <b>on</b> digital tools"  # kept
    moderator.fill("#meeting_link", "https://meet.example.org/room-1")
    moderator.check(f"input[name=rubrics][value={RUBRIC}]")
    moderator.click_button("Опубликовать")
    moderator.wait_text("Новость сохранена.")
    assert moderator.text("h1") == "Webinar <b>on</b> digital tools"
    item_url = moderator.url
    link = moderator.find("article a[href^='https://meet']")
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert "<script>alert(1)</script>" in moderator.text("article")

    moderator.click_link("Редактировать новость")
    moderator.fill("#title", "Webinar on digital tools")
    moderator.click_button("Сохранить")
    moderator.wait_text("Новость сохранена.")
    moderator.click_link("История изменений")
    history = moderator.wait_text("Версия 2")
    assert "Webinar <b>on</b> digital tools" in history and "Версия 1" in history

    visitor = new_browser(width=375)
    visitor.go(web.url("/news"))
    visitor.click_link("Webinar on digital tools")
    assert "We meet online." in visitor.wait_text("We meet online.")
    assert visitor.script("return document.documentElement.scrollWidth <= window.innerWidth")

    moderator.go(item_url)
    moderator.fill("#reason", "The webinar moved")
    moderator.script("window.confirm = () => true")
    moderator.click_button("Снять новость")
    assert "The webinar moved" in moderator.wait_text("Новость снята с публикации.")
    visitor.go(item_url)
    assert "Не найдено" in visitor.wait_text("Не найдено")
    visitor.go(web.url("/news"))
    assert "Webinar on digital tools" not in visitor.text()


def test_a_subscriber_finds_an_item_of_their_rubric_in_the_inbox(platform, web, new_browser):
    mentee, _ = platform.person("mentee", "Nina", "Podpischikova")
    browser = sign_in(new_browser(), web, mentee["email"])
    browser.go(web.url("/account/notifications"))
    browser.check("#news-subscribed")
    browser.check(f"input[name='news.rubrics'][value={RUBRIC}]")
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено")
    assert browser.find("#news-subscribed").is_selected()

    email, password = platform.moderator_account()
    token = platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})["access_token"]
    item = platform.call(
        "POST",
        "/api/v1/news",
        token=token,
        expect=201,
        json={"title": "Digital tools clinic", "text": "Open to all.", "rubrics": [RUBRIC]},
    )

    def announced():
        browser.go(web.url("/inbox"))
        return browser.driver.find_elements(By.CSS_SELECTOR, f"main a[href='/news/{item['id']}']")

    eventually(announced, timeout=30, message="the item reaches the inbox")
    browser.click_link("Открыть новость")
    assert "Open to all." in browser.wait_text("Open to all.")
