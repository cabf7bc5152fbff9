"""Personal and anonymous mode side by side, in the browser: the mentor of the anonymous case never sees
its author's name, e-mail or school on any page they can open (the author card's URL is refused); the
mentor of the personal one opens the author card. A mentee opening another's case gets "not allowed"."""

import uuid

from tests.browser.conftest import sign_in
from tests.browser.test_case_pages import file_case
from tests.support import eventually


def _choose_and_accept(platform, author_token, case_id, mentor, mentor_token):
    def proposed():
        case = platform.call("GET", f"/api/v1/cases/{case_id}", token=author_token)
        return mentor["id"] in {p["mentor_id"] for p in case["proposed_mentors"]}

    eventually(proposed, timeout=30, interval=0.5, message="the mentor is proposed")
    platform.call(
        "POST",
        f"/api/v1/cases/{case_id}/mentor",
        token=author_token,
        json={"mentor_id": mentor["id"]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def test_anonymous_author_stays_hidden_and_personal_author_card_shows(platform, web, new_browser):
    hidden_guide, hidden_token = platform.mentor("Boris", "Slepov", ["self-management"])
    open_guide, open_token = platform.mentor("Gleb", "Otkrytov", ["personal-resources"])
    mentee, mentee_token = platform.person("mentee", "Taisia", "Anonimova")
    school = f"Школа № {uuid.uuid4().int % 9000 + 1000} Северного округа"
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=mentee_token,
        json={
            "school": school,
            "subjects": ["History"],
            "forms_taught": [6, 7],
            "years_of_practice": 1,
            "graduation_year": 2024,
            "graduation_institute": "MCU",
            "workload_hours_per_week": 20,
        },
    )

    author = sign_in(new_browser(), web, mentee["email"])
    author.go(web.url("/cases/new"))
    assert "Наставник не увидит ваше имя" in author.text("main form")
    anonymous = file_case(
        author, web, "Planning my week never works.", "Where do I start?", "self-management", mode="anonymous"
    )
    personal = file_case(author, web, "I am tired by Wednesday.", "How do I rest?", "personal-resources")
    _choose_and_accept(platform, mentee_token, anonymous, hidden_guide, hidden_token)
    _choose_and_accept(platform, mentee_token, personal, open_guide, open_token)
    platform.call("POST", f"/api/v1/cases/{personal}/accept", token=open_token)

    # the anonymous case's mentor: accepts, asks, reads the answer; never the author's identity
    guide = sign_in(new_browser(), web, hidden_guide["email"])
    guide.go(web.url(f"/cases/{anonymous}"))
    assert guide.all("#author-card-link") == [], "no author card on an anonymous case"
    guide.click_button("Принять кейс")
    guide.wait_text("Задать вопросы")
    guide.fill("#written-0-text", "What did you try first?")
    guide.check("input[name='written.0.kind'][value=clarifying]")
    guide.click_button("Задать вопросы")
    guide.wait_text("Автор отвечает на вопросы", css="#case-status")
    author.go(web.url(f"/cases/{anonymous}"))
    author.find("textarea[name^='answer.']").send_keys("A paper planner, for a week.")
    author.click_button("Отправить ответы")
    author.wait_text("сохраните запрос", css="#case-status")

    secrets = ("Anonimova", "Taisia", mentee["email"], school)
    for path in (
        "/cases",
        f"/cases/{anonymous}",
        "/inbox",
        f"/cases/{anonymous}/author",
        f"/cases/{anonymous}/history",
        f"/cases/{personal}",
    ):
        guide.go(web.url(path))
        page = guide.html
        for secret in secrets:
            assert secret not in page, f"{secret!r} on {path}"
    guide.go(web.url(f"/cases/{anonymous}"))
    assert "A paper planner, for a week." in guide.text("#timeline")
    guide.go(web.url(f"/cases/{anonymous}/author"))
    assert guide.text("h1") == "Нет доступа"

    # the personal case's mentor opens the author card: names and school
    other = sign_in(new_browser(), web, open_guide["email"])
    other.go(web.url(f"/cases/{personal}"))
    other.click_link("Карточка автора (личный формат)")
    card = other.text("#author-card")
    assert "Anonimova Taisia" in card and school in card

    # the case moved on while the mentor typed a question: 409, the banner offers a reload, the text is kept
    other.go(web.url(f"/cases/{personal}"))
    other.fill("#written-0-text", "How many hours do you sleep?")
    other.check("input[name='written.0.kind'][value=clarifying]")
    platform.call(
        "POST",
        f"/api/v1/cases/{personal}/solutions",
        token=open_token,
        json={"text": "Rest on Sundays.", "materials": []},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=201,
    )
    other.click_button("Задать вопросы")
    assert "Кто-то уже изменил этот кейс" in other.text("#form-banner")
    assert other.find("#written-0-text").get_attribute("value") == "How many hours do you sleep?"
    other.click_link("Обновить страницу")
    assert "Rest on Sundays." in other.wait_text("Rest on Sundays.", css="#timeline")

    # messages only in personal mode: the author writes, the mentor reads
    author.go(web.url(f"/cases/{anonymous}"))
    assert author.all("#message") == []
    author.go(web.url(f"/cases/{personal}"))
    author.fill("#message", "Thank you, I will try it on Sunday.")
    author.click_button("Отправить")
    author.wait_text("Thank you, I will try it on Sunday.", css="#timeline")
    other.go(web.url(f"/cases/{personal}"))
    assert "Thank you, I will try it on Sunday." in other.text("#timeline")

    # a second opinion, once: the case goes back to matching and the button is gone
    author.go(web.url(f"/cases/{personal}"))
    author.driver.execute_script("window.confirm = function () { return true; }")
    author.click_button("Попросить второе мнение")
    assert "Запрошено второе мнение" in author.wait_text("Запрошено второе мнение", css="#timeline")
    assert "Попросить второе мнение" not in author.text("main")

    # another mentee opening this case: "not allowed", never a stack trace
    stranger, _ = platform.person("mentee", "Petr", "Chuzhoy")
    nosy = sign_in(new_browser(), web, stranger["email"])
    for path in (f"/cases/{personal}", f"/cases/{anonymous}/history", f"/cases/{personal}/complete"):
        nosy.go(web.url(path))
        assert nosy.text("h1") == "Нет доступа", path
        assert "Traceback" not in nosy.html and "I am tired by Wednesday." not in nosy.html


def test_an_unverified_mentee_is_told_to_confirm_the_address_and_keeps_the_form(platform, web, browser):
    email = f"mentee-{uuid.uuid4().hex[:8]}@example.org"
    platform.call(
        "POST",
        "/api/v1/auth/register",
        expect=202,
        json={
            "email": email,
            "password": "correct horse battery",
            "role": "mentee",
            "first_name": "Nina",
            "last_name": "Nepodtverzhdena",
        },
    )
    sign_in(browser, web, email)
    browser.go(web.url("/cases/new"))
    browser.fill("#essence", "My first case, before confirming my address.")
    browser.fill("#question", "What now?")
    browser.check("input[name=rubrics][value=education-law]")
    browser.click_button("Подать кейс")
    assert "подтвердите адрес" in browser.text("#not-verified")
    browser.find("#not-verified a[href='/account']")
    assert browser.find("#essence").get_attribute("value") == "My first case, before confirming my address."


def test_the_mentor_asks_a_suggested_colleague_who_adds_an_opinion(platform, web, new_browser):
    guide, guide_token = platform.mentor("Fedor", "Vedushchy", ["monitoring-evaluation"])
    colleague, _ = platform.mentor("Klara", "Kollegova", ["monitoring-evaluation"], position="Senior lecturer")
    mentee, mentee_token = platform.person("mentee", "Lev", "Sovetov")
    author = sign_in(new_browser(), web, mentee["email"])
    case_id = file_case(
        author, web, "My grades differ from my colleague's.", "Who is right?", "monitoring-evaluation", consent=True
    )
    _choose_and_accept(platform, mentee_token, case_id, guide, guide_token)
    platform.call("POST", f"/api/v1/cases/{case_id}/accept", token=guide_token)

    mentor_page = sign_in(new_browser(), web, guide["email"])
    mentor_page.go(web.url(f"/cases/{case_id}"))
    box = mentor_page.find(f"input[name=colleague_ids][value='{colleague['id']}']")
    assert "Kollegova Klara" in mentor_page.find(f"label[for={box.get_attribute('id')}]").text
    mentor_page.check(f"#{box.get_attribute('id')}")
    mentor_page.click_button("Поделиться кейсом")
    mentor_page.find("#timeline")

    second = sign_in(new_browser(), web, colleague["email"])
    second.go(web.url(f"/cases/{case_id}"))
    second.fill("#opinion", "Compare both against the written criteria first.")
    second.click_button("Отправить мнение")
    second.wait_text("Compare both against the written criteria first.", css="#timeline")
    mentor_page.go(web.url(f"/cases/{case_id}"))
    assert "Compare both against the written criteria first." in mentor_page.text("#timeline")
    author.go(web.url(f"/cases/{case_id}"))
    assert "Кейс показан коллегам" in author.text("#timeline")

    # with the consent, the author posts the case, impersonal, to the forum
    author.fill("#title", "Two teachers, two grades")
    author.click_button("Вынести обезличенно на форум")
    assert "Вынесен на форум" in author.wait_text("Вынесен на форум", css="#timeline")
    # and goes from the case to its thread (the forum shows it once a moderator has published it)
    platform.publish_draft(mentee_token, case_id, "forum_post")
    author.wait_text("Кейс уже на форуме:", css="main")
    thread_url = author.find("main a[href^='/forum/']").get_attribute("href")

    def thread_open():
        author.go(thread_url)
        return "Two teachers, two grades" in author.text("main")

    eventually(thread_open, timeout=30, interval=0.5, message="the case's forum thread opens")
