"""Some data in every area, written through the gateway's API, so that each role's pages have content
to show: the accessibility test (tests/browser/test_accessibility.py) walks them and, with
SCREENSHOTS_DIR set, saves what it sees (docs/screenshots).

One mentee, two accredited mentors, a mentor waiting for accreditation, one moderator; a
personal-mode case taken to completion (questions, a redefinition, messages, a forum thread, a
solution with its material: it also fills the library, once a moderator has published its drafts; one
more forum post of it waits for review), an anonymous-mode case waiting for the
author's answers, personal-mode cases at the author's decision and with a solution to complete, a
case waiting for its author to choose a mentor; a calendar event; a message between the mentors.
"""

import struct
import zlib
from datetime import datetime, timedelta, timezone

import requests

from tests.support import case_form, eventually

RUBRIC = "self-management"  # no other browser module files in it


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def portrait_png(size=96):
    """A small PNG portrait (a soft gradient): a mentor's photo without any image library."""
    rows = b"".join(b"\x00" + bytes(v for x in range(size) for v in (40 + x, 90 + y // 2, 160)) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _question_and_answer(platform, path, t_mentor, t_mentee):
    asked = platform.call(
        "POST",
        f"{path}/questions",
        token=t_mentor,
        expect=201,
        json={
            "questions": [
                {"bank_id": "goals-3", "kind": "clarifying"},
                {"text": "What have you already tried that helped a little?", "kind": "developing"},
            ]
        },
    )
    platform.call(
        "POST",
        f"{path}/answers",
        token=t_mentee,
        json={
            "answers": [
                {"question_id": q["id"], "text": "Evenings free of work, and lessons I enjoy giving."}
                for q in asked["questions"]
            ]
        },
    )


def _accepted_case(platform, t_mentee, t_mentor, mentor, mode, essence, question):
    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(rubrics=[RUBRIC], mode=mode, essence=essence, question=question),
    )
    path = f"/api/v1/cases/{case['id']}"
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    return case["id"]


def _answered(platform, survey_id, token, answers):
    """The answer is taken once the library knows the mentor is accredited (identity's events)."""
    response = requests.post(
        f"{platform.base}/api/v1/surveys/{survey_id}/answers",
        json={"answers": answers},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    return response.status_code == 201


def seed(platform):
    mentee, t_mentee = platform.person("mentee", "Anna", "Smirnova")
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=t_mentee,
        json={
            "school": "School No. 1541",
            "subjects": ["History"],
            "forms_taught": [7, 8],
            "years_of_practice": 1,
            "graduation_year": 2024,
            "graduation_institute": "Moscow City University",
        },
    )
    mentor, t_mentor = platform.mentor(
        "Pavel",
        "Orlov",
        [RUBRIC, "professional-ethics"],
        place_of_work="Moscow City University",
        position="Associate professor",
        motto="Ask before you advise.",
        interests="Classroom climate, first years.",
    )
    photo = requests.put(
        f"{platform.base}/api/v1/me/mentor-profile/photo",
        data=portrait_png(),
        timeout=20,
        headers={"Authorization": f"Bearer {t_mentor}", "Content-Type": "image/png"},
    )
    assert photo.status_code == 200, photo.text
    colleague, t_colleague = platform.mentor("Irina", "Volkova", [RUBRIC], place_of_work="School No. 57")
    moderator_email, password = platform.moderator_account("Maria", "Moderova")
    t_moderator = platform.call("POST", "/api/v1/auth/sign-in", json={"email": moderator_email, "password": password})[
        "access_token"
    ]

    # a personal-mode case, solved and completed: its page has a whole timeline; it fills the library
    solved = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            mode="personal",
            group_discussion_consent=True,
            publication_consent=True,
            essence="I plan every evening until midnight and still come to lessons unprepared.",
            question="How do I plan lessons in reasonable time?",
        ),
    )
    path = f"/api/v1/cases/{solved['id']}"
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    _question_and_answer(platform, path, t_mentor, t_mentee)
    platform.call(
        "POST",
        f"{path}/revisions",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            mode="personal",
            group_discussion_consent=True,
            publication_consent=True,
            essence="I plan every evening until midnight; the plans are good but I am exhausted in class.",
            question="How do I plan lessons in reasonable time?",
        ),
    )
    platform.call("POST", f"{path}/messages", token=t_mentee, expect=201, json={"text": "Thank you for taking it."})
    platform.call("POST", f"{path}/forum", token=t_mentee, json={"title": "Planning lessons in reasonable time"})
    answer = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={
            "text": "Plan by weeks, not by evenings: one template, reused and adjusted.",
            "materials": [{"title": "Weekly lesson planning", "reference": "https://example.org/planning"}],
        },
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={
            "problem_solved": "yes",
            "helpfulness": {answer["solutions"][0]["id"]: 5},
            "actions": "A weekly template.",
            "learned": "Plan less, reuse more.",
        },
    )
    # a moderator publishes both (nothing is published unread); a second forum post waits for review
    for kind in ("forum_post", "solved_case"):
        platform.publish_draft(t_mentee, solved["id"], kind, t_moderator)
    platform.call(
        "POST", f"{path}/forum", token=t_mentee, json={"title": "Planning with Anna Smirnova, 8 916 555-00-11"}
    )

    # an anonymous-mode case in progress with the same mentor
    anonymous = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            mode="anonymous",
            urgency="urgent",
            essence="A parent writes to me at night and expects answers at once.",
            question="How do I set limits with a parent politely?",
        ),
    )
    a_path = f"/api/v1/cases/{anonymous['id']}"
    eventually(lambda: _state(platform, a_path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{a_path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{a_path}/accept", token=t_mentor)
    platform.call(
        "POST",
        f"{a_path}/questions",
        token=t_mentor,
        expect=201,
        json={"questions": [{"bank_id": "goals-3", "kind": "clarifying"}]},
    )  # waits for the author's answers

    # personal-mode cases at the author's decision (keep or redefine) and with a solution to complete
    deciding = _accepted_case(
        platform,
        t_mentee,
        t_mentor,
        mentor,
        "personal",
        "My colleagues do not share materials and I prepare everything alone.",
        "How do I start sharing materials with colleagues?",
    )
    _question_and_answer(platform, f"/api/v1/cases/{deciding}", t_mentor, t_mentee)
    proposed = _accepted_case(
        platform,
        t_mentee,
        t_mentor,
        mentor,
        "personal",
        "I check notebooks until late at night every day.",
        "How do I check notebooks faster?",
    )
    platform.call(
        "POST",
        f"/api/v1/cases/{proposed}/solutions",
        token=t_mentor,
        expect=201,
        json={"text": "Check a sample each day and the whole set once a week, with a short rubric.", "materials": []},
    )

    # a case waiting for its author to choose a mentor
    choosing = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            essence="My lessons run over time and the bell always interrupts the summary.",
            question="How do I keep time in a lesson?",
        ),
    )
    eventually(
        lambda: _state(platform, f"/api/v1/cases/{choosing['id']}", t_mentee, "choosing_mentor"),
        timeout=30,
        message="mentors proposed",
    )

    # a mentor who has applied for the roll and waits for a moderator
    applicant, t_applicant = platform.person("mentor", "Oleg", "Sokolov")
    platform.call(
        "PUT",
        "/api/v1/me/mentor-profile",
        token=t_applicant,
        json={"rubrics": [RUBRIC], "place_of_work": "Moscow City University", "position": "Lecturer"},
    )
    platform.call(
        "POST",
        "/api/v1/me/accreditation",
        token=t_applicant,
        expect=201,
        json={
            "experience": "Ten years of teaching history and supervising student teachers.",
            "motivation": "To help novice teachers through their first years at school.",
        },
    )

    starts = (datetime.now(timezone.utc) + timedelta(days=7)).replace(microsecond=0)
    platform.call(
        "POST",
        "/api/v1/calendar",
        token=t_mentor,
        expect=201,
        json={
            "title": "Planning clinic for first-year teachers",
            "description": "Bring a week of your lessons.",
            "format": "online",
            "starts_at": starts.isoformat().replace("+00:00", "Z"),
            "link": "https://example.org/clinic",
            "rubrics": [RUBRIC],
        },
    )
    platform.call(
        "POST",
        "/api/v1/messages",
        token=t_mentor,
        expect=201,
        json={"recipient_id": colleague["id"], "text": "Could you look at a planning case with me?"},
    )
    # news: a published item with a meeting link (the public pages), a scheduled one (the moderators' desk)
    news = platform.call(
        "POST",
        "/api/v1/news",
        token=t_moderator,
        expect=201,
        json={
            "title": "Online meeting: the first year at school",
            "text": "Bring your questions.\nWe start at 18:00.",
            "rubrics": [RUBRIC],
            "meeting_link": "https://example.org/meeting",
        },
    )
    platform.call(
        "POST",
        "/api/v1/news",
        token=t_moderator,
        expect=201,
        json={"title": "Next month's webinar", "text": "Details soon.", "publish_at": starts.isoformat()},
    )
    eventually(
        lambda: platform.call("GET", f"/api/v1/library?rubric={RUBRIC}", token=t_mentee)["items"],
        timeout=30,
        message="the completed case reaches the library",
    )

    # a survey for everyone, open for a week: the mentor has answered it (its results have numbers), the
    # mentee has not (the answering form)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    survey = platform.call(
        "POST",
        "/api/v1/surveys",
        token=t_moderator,
        expect=201,
        json={
            "title": "How is your first term going?",
            "audience": "both",
            "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(days=7)).isoformat(),
            "questions": [
                {"kind": "single", "text": "Which forms do you teach most?", "options": ["5-6", "7-9", "10-11"]},
                {
                    "kind": "multiple",
                    "text": "What helps you most?",
                    "options": ["Colleagues", "A mentor", "The library"],
                    "required": False,
                },
                {"kind": "scale", "text": "How confident do you feel in class?"},
                {"kind": "text", "text": "What would you change in your first year?", "required": False},
            ],
        },
    )
    eventually(
        lambda: _answered(
            platform,
            survey["id"],
            t_mentor,
            {"q1": "7-9", "q2": ["A mentor", "Colleagues"], "q3": 4, "q4": "More time to observe colleagues' lessons."},
        ),
        timeout=30,
        message="the mentor answers the survey",
    )
    return {
        "mentee": mentee,
        "mentor": mentor,
        "colleague": colleague,
        "moderator_email": moderator_email,
        "tokens": {"mentee": t_mentee, "mentor": t_mentor, "moderator": t_moderator},
        "survey": survey["id"],
        "cases": {
            "solved": solved["id"],
            "anonymous": anonymous["id"],
            "choosing": choosing["id"],
            "deciding": deciding,
            "proposed": proposed,
        },
        "news": news["id"],
    }
