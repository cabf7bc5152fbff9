"""A moderator in the browser: the accreditation queue (approve; reject, a reason required), suspend
and reinstate a mentor, add a library material and withdraw it, the statistics charts; a mentee
opening the moderators' pages is not allowed."""

from datetime import datetime, timezone

from selenium.webdriver.common.by import By

from tests.browser.conftest import sign_in
from tests.support import case_form, eventually

RUBRIC = "families-at-risk"  # the rubricator's 12th


def applicant(platform, first, last):
    """A mentor with a profile and a pending application; returns (user, token, application id)."""
    user, token = platform.person("mentor", first, last)
    platform.call(
        "PUT",
        "/api/v1/me/mentor-profile",
        token=token,
        json={"rubrics": ["self-management"], "position": f"Lecturer {last}"},
    )
    applied = platform.call(
        "POST",
        "/api/v1/me/accreditation",
        token=token,
        expect=201,
        json={"experience": f"{first} {last}: ten years of teaching.", "motivation": "To help young teachers."},
    )
    return user, token, applied["application"]["id"]


def test_a_moderator_decides_applications_and_the_roll(platform, web, browser):
    approved_user, approved_token, approved_id = applicant(platform, "Petr", "Odobrenov")
    rejected_user, rejected_token, rejected_id = applicant(platform, "Roman", "Otkazov")
    email, password = platform.moderator_account()
    sign_in(browser, web, email, password)

    browser.go(web.url("/moderation/accreditation"))
    rejected_card = f"#application-{rejected_id}"
    assert "Otkazov Roman" in browser.wait_text("Otkazov Roman", css=rejected_card)
    assert "Lecturer Otkazov" in browser.text(rejected_card)
    browser.click_button("Отклонить", scope=rejected_card)  # no reason
    assert "Поле не может быть пустым." in browser.wait_text("пустым", css=f"#reason-{rejected_id}-error")
    assert platform.call("GET", "/api/v1/me/accreditation", token=rejected_token)["state"] == "pending"
    browser.fill(f"#reason-{rejected_id}", "Please describe your <mentoring> experience.")
    browser.click_button("Отклонить", scope=rejected_card)
    browser.wait_text("Заявка отклонена.")
    roll = platform.call("GET", "/api/v1/me/accreditation", token=rejected_token)
    assert roll["state"] == "rejected" and roll["reason"] == "Please describe your <mentoring> experience."

    browser.click_button("Одобрить", scope=f"#application-{approved_id}")
    browser.wait_text("Заявка одобрена")
    assert platform.call("GET", "/api/v1/me/accreditation", token=approved_token)["state"] == "accredited"
    browser.click_link("Отклонённые")
    assert "Please describe your <mentoring> experience." in browser.wait_text("Otkazov Roman")

    # suspend (a reason required) and reinstate the approved mentor
    browser.go(web.url(f"/moderation/mentors/{approved_user['id']}"))
    assert "В реестре наставников" in browser.wait_text("В реестре", css="#roll-state")
    browser.click_button("Приостановить аккредитацию")
    assert "Поле не может быть пустым." in browser.wait_text("пустым", css="#reason-error")
    browser.fill("#reason", "Complaints to be looked into.")
    browser.click_button("Приостановить аккредитацию")
    browser.wait_text("Аккредитация приостановлена.")
    assert "Не в реестре" in browser.text("#roll-state")
    assert platform.call("GET", "/api/v1/me/accreditation", token=approved_token)["state"] == "suspended"
    browser.click_button("Восстановить в реестре")
    browser.wait_text("Наставник восстановлен в реестре.")
    assert "В реестре наставников" in browser.text("#roll-state")
    assert platform.call("GET", "/api/v1/me/accreditation", token=approved_token)["state"] == "accredited"


def test_a_moderator_adds_a_material_and_withdraws_it(platform, web, browser):
    email, password = platform.moderator_account()
    sign_in(browser, web, email, password)
    browser.go(web.url("/moderation/library"))
    browser.check("#material_type-3")  # a link, with no address and no rubric -> errors next to them
    browser.fill("#title", "Families in crisis: where to turn")
    browser.click_button("Добавить материал")
    browser.wait_text("Проверьте отмеченные поля.")
    assert browser.find("#rubrics-error").text and browser.find("#title").get_attribute("value") == (
        "Families in crisis: where to turn"
    )
    browser.fill("#url", "https://example.org/crisis")
    browser.check("#rubrics-12")
    browser.click_button("Добавить материал")
    browser.wait_text("Материал добавлен в библиотеку.")
    item_id = browser.url.rstrip("/").rsplit("/", 1)[1]
    item = platform.call("GET", f"/api/v1/library/{item_id}", token=platform.moderator())
    assert item["material_type"] == "link" and item["url"] == "https://example.org/crisis"
    assert item["rubrics"] == [RUBRIC]

    browser.fill("#description", "A list of services for families at risk.")
    browser.click_button("Сохранить")
    browser.wait_text("Сохранено.")
    assert browser.find("#description").get_attribute("value") == "A list of services for families at risk."

    browser.click_button("Снять с публикации")  # no reason
    assert "Поле не может быть пустым." in browser.wait_text("пустым", css="#reason-error")
    browser.fill("#reason", "The page is gone.")
    browser.click_button("Снять с публикации")
    browser.wait_text("Материал снят с публикации.")
    assert "The page is gone." in browser.text("#withdrawn")
    assert platform.call("GET", f"/api/v1/library/{item_id}", token=platform.moderator())["withdrawn_reason"] == (
        "The page is gone."
    )


def test_the_statistics_chart_and_the_refusals(platform, web, browser, new_browser):
    moderator_token = platform.moderator()

    def rubric_count():
        stats = platform.call("GET", "/api/v1/statistics", token=moderator_token)
        return next(row["count"] for row in stats["cases"]["by_rubric"] if row["slug"] == RUBRIC)

    before = rubric_count()
    mentee, mentee_token = platform.person("mentee", "Elena", "Statova")
    for essence in ("A pupil's family has stopped answering the school.", "A pupil comes to school hungry."):
        platform.call(
            "POST",
            "/api/v1/cases",
            token=mentee_token,
            expect=201,
            headers={"Idempotency-Key": essence[:20]},
            json=case_form(essence=essence, rubrics=[RUBRIC]),
        )
    expected = eventually(lambda: rubric_count() == before + 2 and before + 2, message="both cases counted")
    stats = platform.call("GET", "/api/v1/statistics", token=moderator_token)

    email, password = platform.moderator_account()
    sign_in(browser, web, email, password)
    browser.go(web.url("/statistics"))
    browser.wait_text("Количество кейсов по рубрикам")
    # the chart: twelve rows in the rubricator's order, the 12th with its number of cases
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#by-rubric svg[role=img] g.row")
    assert len(rows) == 12
    assert browser.find("#by-rubric svg[role=img]").get_attribute("aria-label") == "Количество кейсов по рубрикам"
    labels = [row.find_element(By.CSS_SELECTOR, "text.label").text for row in rows]
    assert labels[0] == "1. Образовательное право" and labels[11] == "12. Работа с семьями группы риска"
    assert rows[11].find_element(By.CSS_SELECTOR, "text.value").text == str(expected)
    assert int(rows[11].find_element(By.CSS_SELECTOR, "rect.bar").get_attribute("width")) > 0
    table_row = browser.driver.find_elements(By.CSS_SELECTOR, "#by-rubric tbody tr")[11].text
    assert "Работа с семьями группы риска" in table_row and table_row.endswith(str(expected))

    # users per year: the table (and its chart) as the route gives them
    year = datetime.now(timezone.utc).year
    this_year = next(row for row in stats["registrations"] if row["year"] == year)
    year_row = next(
        r.text
        for r in browser.driver.find_elements(By.CSS_SELECTOR, "#registrations tbody tr")
        if r.text.startswith(str(year))
    )
    assert year_row.split() == [
        str(year),
        str(this_year["mentees"]),
        str(this_year["mentors"]),
        str(this_year["accredited_mentors"]),
    ]
    assert browser.driver.find_elements(By.CSS_SELECTOR, "#registrations svg[role=img] rect.bar")

    # a mentee is not allowed on the moderators' pages
    mentee_browser = new_browser()
    sign_in(mentee_browser, web, mentee["email"])
    for path in ("/moderation", "/statistics", "/moderation/accreditation"):
        mentee_browser.go(web.url(path))
        assert mentee_browser.text("h1") == "Нет доступа", path
        assert "Количество кейсов" not in mentee_browser.html
