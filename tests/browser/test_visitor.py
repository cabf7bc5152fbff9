"""A visitor, not signed in: the home page, the roll of mentors by rubric, a public profile."""


def test_visitor_browses_the_mentors_by_rubric_and_opens_a_profile(platform, web, browser):
    ethics, _ = platform.mentor(
        "Vera",
        "Etikova",
        ["professional-ethics"],
        position="Docent",
        place_of_work="Moscow City University",
        motto="Ask, then listen",
    )
    digital, _ = platform.mentor("Ivan", "Tsifrov", ["digital-technologies"])

    browser.go(web.url("/"))
    assert browser.text("h1").startswith("Твой наставник")
    browser.click_link("Посмотреть наставников")
    assert "Etikova Vera" in browser.wait_text("Etikova Vera")

    browser.select("#rubric", "professional-ethics")
    browser.click_button("Показать")
    browser.wait_text("Профессиональная этика", css="main .cards")
    listed = browser.text("main .cards")
    assert "Etikova Vera" in listed and "Tsifrov Ivan" not in listed

    browser.click_link("Etikova Vera")
    profile = browser.wait_text("Ask, then listen")
    assert "Moscow City University" in profile and "Профессиональная этика" in profile
    assert ethics["email"] not in browser.html  # a public profile never shows an e-mail
    assert digital["id"]
