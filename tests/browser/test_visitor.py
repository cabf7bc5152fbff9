"""A visitor, not signed in: the home page, the roll of mentors by rubric, a public profile."""
from tests.browser.conftest import sign_in  # noqa: F401


def test_visitor_browses_the_mentors_by_rubric_and_opens_a_profile(platform, web, page):
    ethics, _ = platform.mentor("Vera", "Etikova", ["professional-ethics"], position="Docent",
                                place_of_work="Moscow City University", motto="Ask, then listen")
    digital, _ = platform.mentor("Ivan", "Tsifrov", ["digital-technologies"])

    page.goto(web.url("/"))
    assert page.locator("h1").inner_text().startswith("Твой наставник")
    page.get_by_role("link", name="Посмотреть наставников").click()
    assert "Etikova Vera" in page.locator("main").inner_text()

    page.select_option("#rubric", "professional-ethics")
    page.get_by_role("button", name="Показать").click()
    listed = page.locator("main .cards").inner_text()
    assert "Etikova Vera" in listed and "Tsifrov Ivan" not in listed

    page.get_by_role("link", name="Etikova Vera").click()
    profile = page.locator("main").inner_text()
    assert "Moscow City University" in profile and "Ask, then listen" in profile and "Профессиональная этика" in profile
    assert ethics["email"] not in page.content()  # a public profile never shows an e-mail
    assert digital["id"]
