"""Questions learned from solved cases on the mentor's case page (issue #22 part 3): after two similar
cases were solved, the mentor of a third sees the question they share first, with its provenance
and before the bank; "use this question" fills the own-question field in place (with JS) or by a
reload (without), and the question asked as is is recorded as asked from that suggestion; a hint of the bank ticked is
recorded as that bank suggestion used as is."""

from contracts.question_bank import bank_suggestion_id
from tests.browser.conftest import sign_in
from tests.browser.world import _state
from tests.support import case_form, eventually

RUBRIC = "individualization"  # no other browser module files or advises in it
ESSENCE = "Two pupils of my 5th form read far below the class; during reading lessons they give up and chat."
QUESTION = "How do I individualize reading lessons for the weakest readers?"
LEARNED = "Which texts do the two weakest readers choose themselves at home?"


def _accepted(platform, t_mentee, t_mentor, mentor):
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC], mode="anonymous", essence=ESSENCE, question=QUESTION, publication_consent=False
        ),
    )
    path = f"/api/v1/cases/{case['id']}"
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    return case["id"]


def _solved(platform, t_mentee, t_mentor, mentor):
    case_id = _accepted(platform, t_mentee, t_mentor, mentor)
    path = f"/api/v1/cases/{case_id}"
    asked = platform.call(
        "POST",
        f"{path}/questions",
        token=t_mentor,
        expect=201,
        json={"questions": [{"text": LEARNED, "kind": "clarifying"}]},
    )
    platform.call(
        "POST",
        f"{path}/answers",
        token=t_mentee,
        json={"answers": [{"question_id": q["id"], "text": "Comics and football news."} for q in asked["questions"]]},
    )
    platform.call("POST", f"{path}/keep-request", token=t_mentee)
    solutions = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={"text": "Start each lesson from a text they chose."},
    )["solutions"]
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={"problem_solved": "yes", "helpfulness": {s["id"]: 5 for s in solutions}},
    )
    eventually(lambda: _state(platform, path, t_mentee, "completed"), timeout=30, message="completed")


def test_a_mentor_picks_a_question_learned_from_solved_cases(platform, web, new_browser):
    mentor, t_mentor = platform.mentor("Irina", "Chitaeva", [RUBRIC])
    mentee, t_mentee = platform.person("mentee", "Pavel", "Novikov")
    for _ in range(2):  # two cases: an own question of unpublished cases is shown once asked in two
        _solved(platform, t_mentee, t_mentor, mentor)
    case_id = _accepted(platform, t_mentee, t_mentor, mentor)

    guide = sign_in(new_browser(), web, mentor["email"])
    guide.go(web.url(f"/cases/{case_id}"))
    learned = guide.text(".learned-suggestions")
    assert LEARNED in learned
    assert "Задавали в похожих решённых кейсах: 2; проблема решена: 2" in learned
    section = guide.text("section[aria-labelledby=ask-h]")
    assert section.index(LEARNED) < section.index("Банк вопросов")  # learned first, then the bank

    # without JS: the link reloads the page with the question filled in
    link = guide.find(".learned-suggestions a[data-suggestion]")
    suggestion, href = link.get_attribute("data-suggestion"), link.get_attribute("href")
    guide.go(href)
    assert guide.find("#written-0-text").get_attribute("value") == LEARNED
    assert guide.find("#written-0-suggestion").get_attribute("value") == suggestion

    # with JS: the click fills the field in place
    guide.go(web.url(f"/cases/{case_id}"))
    guide.click_link("Взять этот вопрос")
    assert guide.find("#written-0-text").get_attribute("value") == LEARNED
    assert guide.find("input[name='written.0.kind'][value=clarifying]").is_selected()
    guide.click_button("Задать вопросы")
    guide.wait_text("Автор отвечает на вопросы", css="#case-status")

    history = platform.call("GET", f"/api/v1/cases/{case_id}/history", token=t_mentee)["items"]
    asked = [item for item in history if item["type"] == "QuestionsAsked"][-1]["data"]["questions"]
    assert [(q["text"], q.get("suggestion_use")) for q in asked] == [(LEARNED, "as_is")]


def test_a_bank_hint_ticked_records_its_use(platform, web, new_browser):
    mentor, t_mentor = platform.mentor("Boris", "Bankov", [RUBRIC])
    mentee, t_mentee = platform.person("mentee", "Olga", "Tikhonova")
    case_id = _accepted(platform, t_mentee, t_mentor, mentor)

    guide = sign_in(new_browser(), web, mentor["email"])
    guide.go(web.url(f"/cases/{case_id}"))
    guide.check("input[name='bank.swot'][value='swot-1']")
    guide.check("input[name=bank_kind][value=clarifying]")
    guide.click_button("Задать вопросы")
    guide.wait_text("Автор отвечает на вопросы", css="#case-status")

    history = platform.call("GET", f"/api/v1/cases/{case_id}/history", token=t_mentee)["items"]
    asked = [item for item in history if item["type"] == "QuestionsAsked"][-1]["data"]["questions"]
    assert [(q["bank_id"], q.get("suggestion_id"), q.get("suggestion_use")) for q in asked] == [
        ("swot-1", bank_suggestion_id("swot-1"), "as_is")
    ]
