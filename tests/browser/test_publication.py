"""Publication under review in the browser (issue 19): the author previews the impersonal text of a
completed case; a moderator sees how many drafts wait, opens one beside the original with the replaced
spans and suspicious tokens marked (markup the author typed shown as its characters), edits it, is told
a rejection needs a reason, and publishes it; the author withdraws consent for another case's draft."""

import requests
from selenium.webdriver.common.by import By

from tests.browser.conftest import sign_in
from tests.support import case_form, eventually

RUBRIC = "teaching-methods"  # no other browser module files or advises in it


def completed_case(platform, t_mentee, t_mentor, mentor, essence, question):
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(rubrics=[RUBRIC], publication_consent=True, essence=essence, question=question),
    )
    path = f"/api/v1/cases/{case['id']}"
    eventually(
        lambda: platform.call("GET", path, token=t_mentee)["state"] == "choosing_mentor",
        timeout=30,
        message="mentors proposed",
    )
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={"text": "Keep one evening a week free of school work.", "materials": []},
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}},
    )
    return eventually(
        lambda: platform.call("GET", f"/api/v1/me/publications?case_id={case['id']}", token=t_mentee)["items"],
        timeout=30,
        message="the draft",
    )[0], case


def test_a_moderator_reviews_a_draft_beside_the_original_and_the_author_withdraws_another(platform, web, new_browser):
    mentee, t_mentee = platform.person("mentee", "Alla", "Ustalova")
    mentor, t_mentor = platform.mentor("Boris", "Resursov", [RUBRIC])
    draft, case = completed_case(
        platform,
        t_mentee,
        t_mentor,
        mentor,
        "Tatiana Morozova <b>bold</b> calls me at 8 916 555-12-12 every night.",
        "How do I rest when a colleague calls at night?",
    )
    other, other_case = completed_case(
        platform, t_mentee, t_mentor, mentor, "I work at weekends too.", "How do I keep my weekends?"
    )

    # the author previews what would be published: impersonal, waiting for review
    author = sign_in(new_browser(), web, mentee["email"])
    author.go(web.url("/account"))
    author.click_link("Мои публикации")
    author.click_link(draft["headline"])
    text = author.wait_text("Ждёт проверки")
    assert "Tatiana Morozova" not in text and "555-12-12" not in text and "[person]" in text

    # the moderator: how many wait, the draft beside the original, every mark escaped
    email, password = platform.moderator_account("Nina", "Proverova")
    moderator = sign_in(new_browser(), web, email, password)
    moderator.go(web.url("/moderation"))
    assert "Ждут проверки:" in moderator.text("#drafts")
    moderator.click_link("Открыть черновики")
    moderator.click_link(draft["headline"])
    moderator.wait_text("Текст автора")
    original = moderator.find("#text-essence .original")
    replaced = [m.text for m in original.find_elements(By.CSS_SELECTOR, "mark.mark-replaced")]
    assert any("Tatiana Morozova" in m for m in replaced), replaced
    assert "<b>bold</b>" in original.text and not original.find_elements(By.TAG_NAME, "b")  # characters, not markup
    on_draft = moderator.find("#text-essence .draft")
    assert on_draft.find_elements(By.CSS_SELECTOR, "mark.mark-replaced")
    assert "Tatiana" not in on_draft.text

    # edit, then a rejection without a reason is refused next to its field, then publish
    moderator.fill("#texts-essence", "A colleague calls me every night.")
    moderator.click_button("Сохранить черновик")
    moderator.wait_text("Черновик сохранён.")
    moderator.click_button("Отклонить")
    assert "Поле не может быть пустым." in moderator.wait_text("пустым", css="#reason-error")
    moderator.driver.execute_script("window.confirm = function () { return true; }")
    moderator.click_button("Опубликовать")
    moderator.wait_text("Опубликовано.")
    assert platform.call("GET", f"/api/v1/library/drafts/{draft['id']}", token=t_mentee)["state"] == "published"
    entry = eventually(
        lambda: [
            e
            for e in platform.call("GET", f"/api/v1/library?rubric={RUBRIC}&kind=solved_case", token=t_mentor)["items"]
            if e["question"] == "How do I rest when a colleague calls at night?"
        ],
        message="published to the library",
    )[0]
    assert entry["essence"] == "A colleague calls me every night."

    # the author takes back consent for the other case: its draft is never published
    author.go(web.url(f"/account/publications/{other['id']}"))
    author.driver.execute_script("window.confirm = function () { return true; }")
    author.click_button("Отозвать согласие на публикацию")
    author.wait_text("Согласие отозвано.")
    assert "Отозван автором" in author.text("main")
    assert platform.call("GET", f"/api/v1/cases/{other_case['id']}", token=t_mentee)["publication_consent_withdrawn"]
    moderator.go(web.url("/moderation/drafts"))
    assert other["headline"] not in moderator.text("main")


def test_a_person_downloads_their_data_from_the_account_page(platform, web, browser):
    mentee, _ = platform.person("mentee", "Dina", "Skachkova")
    sign_in(browser, web, mentee["email"])
    browser.go(web.url("/account"))
    link = browser.find("a[href='/account/data']")
    assert link.get_attribute("download") is not None
    cookies = {c["name"]: c["value"] for c in browser.driver.get_cookies()}
    answer = requests.get(web.url("/account/data"), cookies=cookies, timeout=30)
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    document = answer.json()
    assert document["user_id"] == mentee["id"] and document["identity"]["users"][0]["email"] == mentee["email"]
