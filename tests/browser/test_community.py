"""The community pages in the browser, on a real platform: the inbox badge that updates without a
reload and "mark all read"; messages between two mentors (a mentee is refused); a solved case found
in the library; a forum post and a moderator hiding it; a calendar event created and attended."""

import requests

from tests.browser.conftest import sign_in
from tests.support import case_form, eventually

RUBRIC = "urban-educational-projects"  # no other browser module files in it


def test_messages_between_two_mentors_and_the_inbox_badge_without_a_reload(platform, web, new_browser):
    writer, t_writer = platform.person("mentor", "Anton", "Pisarev")
    reader, t_reader = platform.person("mentor", "Boris", "Chitaev")
    for token in (t_writer, t_reader):  # a colleague's name comes from their public profile
        platform.call("PUT", "/api/v1/me/mentor-profile", token=token, json={"rubrics": [RUBRIC]})
    b_reader = sign_in(new_browser(), web, reader["email"])
    b_reader.go(web.url("/library"))
    assert b_reader.find("#unread-badge").text == ""

    # a notification is created while the page is open: the badge shows it without a reload
    platform.call(
        "POST",
        "/api/v1/messages",
        token=t_writer,
        expect=201,
        json={"recipient_id": reader["id"], "text": "Shall we run the webinar <b>together</b>?"},
    )
    eventually(
        lambda: b_reader.find("#unread-badge").text == "1",
        timeout=50,
        interval=1,
        message="the badge shows the unread notification without a reload",
    )
    assert b_reader.find("#unread-badge").get_attribute("aria-label") == "непрочитанных: 1"
    assert b_reader.url.endswith("/library")

    b_reader.go(web.url("/inbox"))
    inbox = b_reader.wait_text("Новое сообщение от коллеги")
    assert "Новое" in inbox and "непрочитанных: 1" in inbox
    b_reader.click_button("Отметить все прочитанными")
    assert "непрочитанных: 0" in b_reader.wait_text("Все уведомления отмечены прочитанными.")
    assert b_reader.all("main .inbox li.unread") == []

    # the conversation: the message inert, a reply written in the browser, seen by the writer
    b_reader.go(web.url("/messages"))
    b_reader.click_link("Pisarev Anton")
    thread = b_reader.wait_text("Shall we run the webinar <b>together</b>?")
    assert "Pisarev Anton" in thread
    b_reader.fill("#text", "Yes, on Thursday.")
    b_reader.click_button("Отправить")
    b_reader.wait_text("Yes, on Thursday.", css="main .messages")

    b_writer = sign_in(new_browser(width=375), web, writer["email"])
    b_writer.go(web.url("/messages"))
    b_writer.click_link("Chitaev Boris")
    assert "Yes, on Thursday." in b_writer.wait_text("Yes, on Thursday.", css="main .messages")
    b_writer.fill("#text", " ")
    b_writer.click_button("Отправить")
    assert "Заполните это поле." in b_writer.wait_text("Заполните это поле.", css="#text-error")  # blank: refused there

    # a visitor's badge request is a 401 JSON, not a redirect
    answer = requests.get(web.url("/inbox/unread"), allow_redirects=False, timeout=10)
    assert answer.status_code == 401 and answer.headers["Content-Type"].startswith("application/json")


def test_a_mentee_opening_messages_sees_not_allowed(platform, web, browser):
    mentee, _ = platform.person("mentee", "Vera", "Zapretova")
    sign_in(browser, web, mentee["email"])
    browser.go(web.url("/messages"))
    assert browser.text("h1") == "Нет доступа"
    assert "Traceback" not in browser.html


def _solved_case(platform):
    mentee, t_mentee = platform.person("mentee", "Galina", "Resheva")
    mentor, t_mentor = platform.mentor("Pavel", "Gorodov", [RUBRIC])
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            group_discussion_consent=True,
            publication_consent=True,
            essence="Pupils never visit the planetarium <script>alert(1)</script> although it is next door.",
            question="How do I bring my class to the planetarium?",
        ),
    )
    path = f"/api/v1/cases/{case['id']}"
    eventually(
        lambda: platform.call("GET", path, token=t_mentee)["state"] == "choosing_mentor",
        timeout=30,
        message="mentors proposed",
    )
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    platform.call("POST", f"{path}/forum", token=t_mentee, json={"title": "Planetarium next door"})
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={
            "text": "Make the visit a project: pupils plan the trip and present the sky of their birthdays.",
            "materials": [{"title": "Planetarium lessons", "reference": "https://example.org/planetarium"}],
        },
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}},
    )
    for kind in ("forum_post", "solved_case"):  # read by a moderator first (tests/browser/test_publication.py)
        platform.publish_draft(t_mentee, case["id"], kind)
    return (mentee, t_mentee), (mentor, t_mentor)


def test_library_search_finds_a_solved_case_and_a_moderator_hides_a_forum_post(platform, web, new_browser):
    (mentee, _), (mentor, t_mentor) = _solved_case(platform)
    eventually(
        lambda: platform.call("GET", "/api/v1/library?q=planetarium&kind=solved_case", token=t_mentor)["items"],
        timeout=30,
        message="the case is in the library",
    )

    reader, _ = platform.person("mentee", "Daria", "Chitatel")
    browser = sign_in(new_browser(), web, reader["email"])
    browser.go(web.url("/library"))
    browser.fill("#q", "планетарий OR planetarium")
    browser.select("#kind", "solved_case")
    browser.click_button("Найти")
    browser.wait_text("How do I bring my class to the planetarium?", css="main .cards")
    browser.click_link("How do I bring my class to the planetarium?")
    item = browser.wait_text("Возможные решения")
    assert "<script>alert(1)</script>" in item  # shown as the characters it is
    assert "Make the visit a project" in item and "Planetarium lessons" in item
    assert "Городские образовательные проекты" in item
    for secret in ("Resheva", "Gorodov", mentee["email"]):
        assert secret not in browser.html
    assert "Редактировать" not in item

    # the forum: the case's thread, a post written by a person, hidden by a moderator (reason required)
    browser.go(web.url(f"/forum?rubric={RUBRIC}"))
    browser.click_link("Planetarium next door")
    browser.wait_text("Кейс для обсуждения")
    browser.fill("#text", "We did this with the Moscow planetarium: book a month ahead.")
    browser.click_button("Отправить")
    post = browser.wait_text("We did this with the Moscow planetarium", css="main .posts")
    assert "Педагог" in post and "Daria" not in post
    thread_url = browser.url.split("#")[0]
    [mine] = [p for p in browser.all("main .posts > li") if "Moscow planetarium" in p.text]
    mine.find_element("link text", "Ответить").click()
    browser.wait_text("Ответ на сообщение #2.")
    browser.fill("#text", "And ask for the school discount.")
    browser.click_button("Отправить")
    assert "ответ на #2" in browser.wait_text("And ask for the school discount.", css="main .posts")

    email, password = platform.moderator_account()
    moderator = sign_in(new_browser(), web, email, password=password)
    moderator.go(thread_url)
    moderator.wait_text("We did this with the Moscow planetarium")
    [hide] = [p for p in moderator.all("main .posts > li") if "Moscow planetarium" in p.text]
    hide.find_element("css selector", "summary").click()
    post_id = hide.get_attribute("id").removeprefix("post-")
    moderator.click(f"#post-{post_id} button.danger")
    moderator.wait_text("Заполните это поле.", css=f"#reason-{post_id}-error")  # no reason: refused there
    moderator.fill(f"#reason-{post_id}", "Advertising")
    moderator.click(f"#post-{post_id} button.danger")
    moderator.wait_text("Сообщение скрыто.")
    assert "Скрыто модератором: Advertising" in moderator.text("main .posts")

    browser.go(thread_url)
    thread = browser.wait_text("Кейс для обсуждения")
    assert "Moscow planetarium" not in thread and "And ask for the school discount." in thread

    moderator.go(web.url("/library?kind=solved_case&q=planetarium"))
    moderator.click_link("How do I bring my class to the planetarium?")
    moderator.wait_text("Редактировать")
    assert "/moderation/library/" in moderator.find("main a.button").get_attribute("href")


def test_a_mentor_creates_an_event_and_a_mentee_will_attend(platform, web, new_browser):
    organiser, _ = platform.person("mentor", "Elena", "Sobytieva")
    browser = sign_in(new_browser(), web, organiser["email"])
    browser.go(web.url("/calendar"))
    browser.click_link("Добавить событие")
    browser.fill("#title", "Webinar: parents' meetings that work")
    browser.click_button("Добавить")  # no start time
    browser.wait_text("", css="#starts_at-error")
    assert browser.find("#title").get_attribute("value") == "Webinar: parents' meetings that work"

    browser.script(
        "document.getElementById('starts_at').value = '2031-03-15T15:00';"
        "document.getElementById('ends_at').value = '2031-03-15T16:30';"
    )
    browser.fill("#link", "https://meet.example.org/parents")
    browser.check("#rubrics-10")  # interaction-with-parents
    browser.click_button("Добавить")
    page = browser.wait_text("Изменить событие")
    assert "15.03.2031 15:00 UTC" in page and "https://meet.example.org/parents" in page
    assert "Взаимодействие с родителями" in page

    mentee, t_mentee = platform.person("mentee", "Fedor", "Gostev")
    guest = sign_in(new_browser(width=375), web, mentee["email"])
    guest.go(web.url("/calendar?rubric=interaction-with-parents&from=2031-03-01&to=2031-03-31"))
    card = guest.wait_text("Webinar: parents' meetings that work", css="main .events")
    assert "участников: 0" in card
    guest.click_button("Я приду")
    card = guest.wait_text("вы идёте", css="main .events")
    assert "участников: 1" in card
    [event] = platform.call("GET", "/api/v1/calendar?from=2031-03-01T00:00:00Z", token=t_mentee)["items"]
    assert event["attending"] is True
    guest.click_link("Webinar: parents' meetings that work")
    assert "Изменить событие" not in guest.wait_text("Не приду")
    assert "Отменить событие" not in guest.text()

    # its author cancels it (after a confirmation); the guest sees it cancelled with the reason
    browser.fill("#reason", "The speaker is ill")
    browser.click("main button.danger")
    browser.driver.switch_to.alert.accept()
    browser.wait_text("Событие отменено, участники уведомлены.")
    guest.go(guest.url)
    assert "Событие отменено: The speaker is ill" in guest.wait_text("Событие отменено")
