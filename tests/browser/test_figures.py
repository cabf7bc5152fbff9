"""Issue #20 in the browser: a moderator sorts the mentors' quality table by keyboard (links in the
column headings, aria-sort telling which), a mentor reads their own figures, the statistics page
shows the new figures, and a case list pages with "next page" (its summaries carry the excerpt, with
no request per case)."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import sign_in
from tests.support import case_form, eventually

RUBRIC = "monitoring-evaluation"  # no other browser module files in it


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def _completed_case(platform, t_mentee, mentor, t_mentor, essence, rating):
    """A case the mentor accepted and solved, completed with the solution rated ``rating``."""
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        headers={"Idempotency-Key": essence[:30]},
        json=case_form(rubrics=[RUBRIC], essence=essence),
    )
    path = f"/api/v1/cases/{case['id']}"
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={"text": "Grade with a short rubric the class knows.", "materials": []},
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: rating}},
    )
    return case["id"]


def test_mentor_quality_sorted_by_keyboard_and_a_mentors_own_figures(platform, web, new_browser):
    kind, t_kind = platform.mentor("Vera", "Otsenkina", [RUBRIC], capacity=10)
    strict, t_strict = platform.mentor("Boris", "Strogov", [RUBRIC], capacity=10)
    mentee, t_mentee = platform.person("mentee", "Nina", "Kontrolova")
    _completed_case(platform, t_mentee, kind, t_kind, "Marks in my class are all fives and mean nothing.", 5)
    _completed_case(platform, t_mentee, strict, t_strict, "Pupils argue about every mark I give.", 2)

    email, password = platform.moderator_account()
    moderator = sign_in(new_browser(), web, email, password)
    moderator.go(web.url("/statistics"))
    moderator.wait_text("Открытые кейсы: чей ход")
    assert "Уточняющие вопросы" in moderator.text("#work") and "Кейсы со вторым мнением" in moderator.text("#work")
    assert len(moderator.all("#library-by-rubric svg[role=img] g.row")) == 12
    moderator.click("#mentor-quality-link")
    moderator.wait_text("Качество работы наставников", css="h1")

    ours = {"Vera Otsenkina", "Boris Strogov"}

    def names_in_order():  # our two mentors, in the table's order (the browser modules share their
        # databases: other modules' mentors may have rows too)
        names = [row.find_element(By.CSS_SELECTOR, "th").text for row in moderator.all("#mentor-quality tbody tr")]
        return [name for name in names if name in ours]

    def both_listed():  # the figures follow the completions' events: reload until both are there
        if set(names_in_order()) == ours:
            return True
        moderator.driver.refresh()
        return False

    eventually(both_listed, timeout=30, message="both mentors in the quality table")

    def row_of(name):
        return next(
            row
            for row in moderator.all("#mentor-quality tbody tr")
            if row.find_element(By.CSS_SELECTOR, "th").text == name
        )

    def sort_by_keyboard(column):
        link = moderator.find(f"#mentor-quality a.sort[data-column={column}]")
        link.send_keys(Keys.NULL)  # focus it, as Tab would
        moderator.driver.switch_to.active_element.send_keys(Keys.ENTER)
        eventually(lambda: f"sort={column}" in moderator.url, message=f"sorted by {column}")

    sort_by_keyboard("helpfulness_mean")
    assert names_in_order() == ["Vera Otsenkina", "Boris Strogov"]  # 5 before 2
    heading = moderator.find("#mentor-quality a.sort[data-column=helpfulness_mean]").find_element(By.XPATH, "..")
    assert heading.get_attribute("aria-sort") == "descending"
    assert "5.0" in row_of("Vera Otsenkina").text and "2.0" in row_of("Boris Strogov").text
    sort_by_keyboard("helpfulness_mean")  # again: the other way round
    assert "order=asc" in moderator.url and names_in_order() == ["Boris Strogov", "Vera Otsenkina"]
    heading = moderator.find("#mentor-quality a.sort[data-column=helpfulness_mean]").find_element(By.XPATH, "..")
    assert heading.get_attribute("aria-sort") == "ascending"
    assert mentee["first_name"] not in moderator.text() and "Kontrolova" not in moderator.text()

    # the mentor's own figures: one row, theirs
    own = sign_in(new_browser(), web, strict["email"])
    own.go(web.url("/profile/quality"))
    own.wait_text("Мои показатели", css="h1")
    rows = own.all("#mentor-quality tbody tr")
    assert len(rows) == 1 and rows[0].get_attribute("data-mentor") == strict["id"]
    assert "2.0" in rows[0].text and "Vera" not in own.text()
    assert own.text(".quality-rubrics")  # outcomes by rubric


def test_a_case_list_pages_with_next_page(platform, web, new_browser):
    mentee, t_mentee = platform.person("mentee", "Olga", "Stranitsyna")
    essences = (
        "The first of my three cases about marks.",
        "The second of my three cases about marks.",
        "The third of my three cases about marks.",
    )
    for essence in essences:
        platform.call(
            "POST",
            "/api/v1/cases",
            token=t_mentee,
            expect=201,
            headers={"Idempotency-Key": essence[:30]},
            json=case_form(rubrics=[RUBRIC], essence=essence),
        )
    author = sign_in(new_browser(), web, mentee["email"])
    author.go(web.url("/cases?limit=2"))
    author.find("#case-list")
    first_page = author.text("#case-list")
    assert essences[2] in first_page and essences[1] in first_page and essences[0] not in first_page  # newest first
    author.find("#next-page").send_keys(Keys.ENTER)
    eventually(lambda: essences[0] in (author.text("#case-list") or ""), message="the next page")
    assert essences[2] not in author.text("#case-list") and not author.all("#next-page")
    author.click_link("К началу списка")
    assert essences[2] in author.wait_text(essences[2], css="#case-list")
