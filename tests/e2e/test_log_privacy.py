"""Log lines never carry personal data (issue 19, part 3): a whole journey over the real platform -
registration, questionnaire, the roll of mentors, a case with texts, questions and answers, messages,
a colleague's opinion, solutions, the reflection, the library and the forum, a direct message, erasure
of two of them - then
every service's log output (the JSON lines of services/common/logs.py, and anything else a process
printed) is read for any of the personal strings the journey used. Logs are kept by operators and
shipped to log stores no erasure reaches, so a name, an address or a sentence someone wrote must never
be in them; ids (opaque UUIDs) and correlation ids are fine.

The module starts its own platform (the e2e ``platform`` fixture is module scoped), so its logs hold
this journey and the services' start-up alone."""

import json

import pytest

from tests.support import case_form, eventually

pytestmark = pytest.mark.e2e

RUBRIC = "interaction-with-parents"  # no other e2e test files or advises in it: the proposals are ours

# Names nothing else in the platform's output could contain by chance.
MENTEE = ("Zlatoslava", "Kurochkina")
MENTOR = ("Svyatopolk", "Rzhevsky")
COLLEAGUE = ("Evpraksia", "Tugarina")
MODERATOR = ("Feofania", "Bezrukova")
PHONE = "+7 903 417-28-66"
PRIVATE_EMAIL = "z.kurochkina.home@example.net"

TEXTS = {
    "school": "Gymnasium Tridevyatoe",
    "institute": "Chernomorsky Pedagogical Institute",
    "essence": f"My pupil Yaroslav Gorbunkov hides under the desk; his mother calls me at {PHONE} nightly.",
    "question": "How do I calm the Gorbunkov family without breaking the rules of the lyceum?",
    "experience": "Thirty winters of teaching at the Lukomorye lyceum.",
    "own_question": "What would the headmistress Vasilisa Premudraya advise you?",
    "answer": f"She would write to {PRIVATE_EMAIL} and invite the mother for tea.",
    "message": "Thank you, I will try the kettle-and-biscuits talk tomorrow.",
    "reply": "Good luck with the kettle-and-biscuits talk.",
    "opinion": "Ask the school psychologist Koschei Bessmertny to sit in.",
    "solution": "Meet the Gorbunkov mother with the form tutor and agree one evening call a week.",
    "actions": "A tea with the mother on Thursday at the samovar.",
    "learned": "Listening before advising calmed the samovar mood.",
    "forum_title": "Evening calls from a worried mother",
    "forum_post": "We had a mother calling at midnight; a weekly slot with Baba Yaga Kostyanaya helped.",
    "direct": "Could you look at the kettle-and-biscuits case with me?",
}


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def _inbox_kinds(platform, token):
    return [e["kind"] for e in platform.call("GET", "/api/v1/inbox", token=token)["items"]]


def test_no_log_line_of_any_service_carries_the_personal_data_of_a_whole_journey(platform):
    mentee, t_mentee = platform.person("mentee", *MENTEE)
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=t_mentee,
        json={
            "school": TEXTS["school"],
            "subjects": ["History"],
            "forms_taught": [7],
            "years_of_practice": 1,
            "graduation_year": 2024,
            "graduation_institute": TEXTS["institute"],
        },
    )
    mentor, t_mentor = platform.mentor(
        *MENTOR, [RUBRIC], place_of_work=TEXTS["institute"], position="Docent", motto=TEXTS["experience"]
    )
    colleague, t_colleague = platform.mentor(*COLLEAGUE, ["self-management"])
    email, password = platform.moderator_account(*MODERATOR)
    t_moderator = platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})[
        "access_token"
    ]
    platform.call(
        "POST", "/api/v1/auth/sign-in", json={"email": mentee["email"], "password": "wrong password"}, expect=401
    )  # a refusal logs too

    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            mode="personal",
            group_discussion_consent=True,
            publication_consent=True,
            essence=TEXTS["essence"],
            question=TEXTS["question"],
        ),
    )
    path = f"/api/v1/cases/{case['id']}"
    platform.call(
        "POST", "/api/v1/cases", token=t_mentee, expect=400, json=case_form(essence=TEXTS["essence"] + "x" * 1000)
    )  # refused input is not logged either
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    platform.call("GET", f"{path}/author", token=t_mentor)  # the personal format: the questionnaire read

    asked = platform.call(
        "POST",
        f"{path}/questions",
        token=t_mentor,
        expect=201,
        json={
            "questions": [
                {"bank_id": "goals-3", "kind": "clarifying"},
                {"text": TEXTS["own_question"], "kind": "developing"},
            ]
        },
    )
    q1, q2 = asked["questions"]
    platform.call(
        "POST",
        f"{path}/answers",
        token=t_mentee,
        json={
            "answers": [
                {"question_id": q1["id"], "text": TEXTS["answer"]},
                {"question_id": q2["id"], "text": TEXTS["answer"]},
            ]
        },
    )
    platform.call("POST", f"{path}/keep-request", token=t_mentee)  # the answers settle it: the request stands
    platform.call("POST", f"{path}/colleagues", token=t_mentor, json={"colleague_ids": [colleague["id"]]})
    eventually(
        lambda: "opinion_requested" in _inbox_kinds(platform, t_colleague) or None, message="the colleague is asked"
    )
    platform.call("POST", f"{path}/opinions", token=t_colleague, expect=201, json={"text": TEXTS["opinion"]})
    platform.call("POST", f"{path}/messages", token=t_mentee, expect=201, json={"text": TEXTS["message"]})
    platform.call("POST", f"{path}/messages", token=t_mentor, expect=201, json={"text": TEXTS["reply"]})
    platform.call("POST", f"{path}/forum", token=t_mentee, json={"title": TEXTS["forum_title"]})
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={
            "text": TEXTS["solution"],
            "materials": [{"title": "Talking with parents", "reference": "https://example.org/parents"}],
        },
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={
            "problem_solved": "yes",
            "helpfulness": {solved["solutions"][0]["id"]: 5},
            "actions": TEXTS["actions"],
            "learned": TEXTS["learned"],
        },
    )

    platform.publish_draft(t_mentee, case["id"], "solved_case", t_moderator)
    platform.publish_draft(t_mentee, case["id"], "forum_post", t_moderator)
    eventually(
        lambda: platform.call("GET", f"/api/v1/library?rubric={RUBRIC}&kind=solved_case", token=t_colleague)["items"],
        timeout=30,
        message="the library entry",
    )

    def thread():
        threads = platform.call("GET", f"/api/v1/forum/threads?rubric={RUBRIC}", token=t_colleague)["items"]
        return next((t["id"] for t in threads if t["title"] == TEXTS["forum_title"]), None)

    thread_id = eventually(thread, message="the case's forum thread")
    platform.call(
        "POST",
        f"/api/v1/forum/threads/{thread_id}/posts",
        token=t_colleague,
        expect=201,
        json={"text": TEXTS["forum_post"]},
    )
    platform.call(
        "POST",
        "/api/v1/messages",
        token=t_mentor,
        expect=201,
        json={"recipient_id": colleague["id"], "text": TEXTS["direct"]},
    )
    eventually(
        lambda: "message_received" in _inbox_kinds(platform, t_mentor) or None,
        message="the mentor is told of the mentee's message",
    )
    platform.call("GET", "/api/v1/me/data", token=t_mentee)

    # erasure (crypto-shredding): the colleague erases their own account (a wrong password first), a
    # moderator the mentee's on her written request; every other service shreds its key of them
    platform.call("DELETE", "/api/v1/me", token=t_colleague, json={"password": "wrong password"}, expect=400)
    platform.call("DELETE", "/api/v1/me", token=t_colleague, json={"password": "correct horse battery"})
    platform.call(
        "POST",
        f"/api/v1/people/{mentee['id']}/erasure",
        token=t_moderator,
        json={"reason": "Written request no. 2026-41 of 1 December"},
    )
    for service in ("cases", "matching", "notifications", "library"):
        eventually(
            lambda service=service: all(
                any(
                    '"person_erased"' in line and person in line
                    for line in platform.processes[service].log_text().splitlines()
                )
                for person in (mentee["id"], colleague["id"])
            ),
            timeout=30,
            message=f"{service} shredded its keys of the erased",
        )

    personal = [
        *MENTEE,
        *MENTOR,
        *COLLEAGUE,
        *MODERATOR,
        mentee["email"],
        mentor["email"],
        colleague["email"],
        email,
        PRIVATE_EMAIL,
        PHONE,
        "417-28-66",
        "Gorbunkov",
        "Vasilisa",
        "Bessmertny",
        "Kostyanaya",
        *TEXTS.values(),
    ]
    logs = {name: process.log_text() for name, process in platform.processes.items()}
    assert all(logs.values()), "a service wrote no log line at all: the test would see nothing"
    # the services did log this journey, by its ids (opaque, so allowed): the files read are the right ones
    assert mentee["id"] in logs["identity"] and any('"event_type"' in text for text in logs.values())
    leaks = [
        (service, secret, line[:300])
        for service, text in logs.items()
        for line in text.splitlines()
        for secret in personal
        if _carries(line, secret)
    ]
    assert leaks == [], "personal data in the logs:\n" + "\n".join(map(str, leaks))


def _carries(line, secret):
    """The line holds the secret as written, or as JSON escapes it (a log line is JSON)."""
    return secret in line or json.dumps(secret)[1:-1] in line
