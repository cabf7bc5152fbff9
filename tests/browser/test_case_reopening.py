"""An abandoned case in the browser: the mentee who did not answer their mentor's questions in time is
reminded (the inbox shows it), the case closes as abandoned, and its page offers to reopen it; reopened,
it waits for the answers again, where it stood.

The platform runs as real processes, which take no injected clock: this module gives them a short
schedule for expert-opinion cases (a reminder after 3 s, expiry after 20 s) on databases of its own.
"""

import pytest

from tests.browser.conftest import sign_in
from tests.support import case_form, eventually

RUBRIC = "personal-resources"


@pytest.fixture(scope="module")
def platform_databases():
    return "browser_reopening"  # the short schedule must not close other modules' cases


@pytest.fixture(scope="module")
def platform_settings():
    return {"WAITING_SCHEDULE_WANT_EXPERT_OPINION": "3 / 20", "ESCALATION_CHECK_INTERVAL": "0.5"}


def _state(platform, case_id, token, state):
    case = platform.call("GET", f"/api/v1/cases/{case_id}", token=token)
    return case if case["state"] == state else None


def test_the_mentee_reopens_a_case_closed_as_abandoned(platform, web, new_browser):
    mentor, t_mentor = platform.mentor("Vera", "Zhdanova", [RUBRIC])
    mentee, t_mentee = platform.person("mentee", "Oleg", "Pozdnov")
    case_id = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            urgency="want_expert_opinion",
            essence="I lose my voice by Thursday every week.",
            question="How do I spare my voice in lessons?",
        ),
    )["id"]
    eventually(lambda: _state(platform, case_id, t_mentee, "choosing_mentor"), timeout=30, message="proposed")
    platform.call("POST", f"/api/v1/cases/{case_id}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"/api/v1/cases/{case_id}/accept", token=t_mentor)
    platform.call(
        "POST",
        f"/api/v1/cases/{case_id}/questions",
        token=t_mentor,
        expect=201,
        json={"questions": [{"text": "How many lessons do you give a day?", "kind": "clarifying"}]},
    )
    eventually(
        lambda: _state(platform, case_id, t_mentee, "abandoned"),
        timeout=60,
        interval=0.5,
        message="the unanswered case closed as abandoned",
    )

    author = sign_in(new_browser(), web, mentee["email"])
    author.go(web.url("/inbox"))
    inbox = author.wait_text("Напоминание: кейс ждёт вашего шага")
    assert "Кейс закрыт без продолжения — его можно открыть снова" in inbox
    author.go(web.url(f"/cases/{case_id}"))
    assert "Закрыт без продолжения" in author.text("#case-status")
    assert "ответы на вопросы" in author.text("section[aria-labelledby=reopen-h]")
    author.click_button("Открыть кейс снова")
    author.wait_text("Ждёт ответов на вопросы", css="#case-status")
    assert author.find("textarea[name^='answer.']") and author.all("section[aria-labelledby=reopen-h]") == []
    history = platform.call("GET", f"/api/v1/cases/{case_id}/history", token=t_mentee)["items"]
    assert [h["type"] for h in history][-3:] == ["Reminded", "Abandoned", "Reopened"]
