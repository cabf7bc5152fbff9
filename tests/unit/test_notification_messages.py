"""Who is told what for each case and identity event; texts name the case number and never a person."""

import re
import uuid

import pytest

from contracts.events import payload_schema
from contracts.notification_kinds import KINDS
from contracts.topology import SUBSCRIPTIONS_BY_QUEUE
from services.notifications.messages import MODERATORS, inbox_entries

NUMBER = "MC-2026-000042"
AUTHOR, MENTOR, SENDER, RECIPIENT = (str(uuid.uuid4()) for _ in range(4))
COLLEAGUES = [str(uuid.uuid4()), str(uuid.uuid4())]
CASE_ID = str(uuid.uuid4())


def payload(event_type, version=1, **fields):
    data = {"case_id": CASE_ID, "case_number": NUMBER, **fields}
    assert not payload_schema(event_type, version).validate(data), "the sample follows the contract"
    return data


NEXT_ROUND = {"author_id": AUTHOR, "next_round": 2, "rubrics": ["education-law"], "excluded_mentor_ids": [MENTOR]}

# event type -> (payload, [(recipient, kind)], a phrase the text must carry)
CASES = {
    "MentorsProposed": (
        payload("MentorsProposed", round=1, author_id=AUTHOR, mentor_ids=[MENTOR]),
        [(AUTHOR, "mentors_proposed")],
        "choose one",
    ),
    "MentorChosen": (
        payload("MentorChosen", round=1, mentor_id=MENTOR),
        [(MENTOR, "mentor_chosen")],
        "accept or decline",
    ),
    "MentorAccepted": (
        payload("MentorAccepted", mentor_id=MENTOR, author_id=AUTHOR),
        [(AUTHOR, "mentor_accepted")],
        "accepted",
    ),
    "SolutionProposed": (
        payload("SolutionProposed", solution_id=str(uuid.uuid4()), mentor_id=MENTOR, author_id=AUTHOR),
        [(AUTHOR, "solution_proposed")],
        "possible solution",
    ),
    "MentorDeclined": (
        payload("MentorDeclined", mentor_id=MENTOR, **NEXT_ROUND),
        [(AUTHOR, "mentor_declined")],
        "new mentors are being proposed",
    ),
    "CaseWithdrawn": (payload("CaseWithdrawn", mentor_id=MENTOR), [(MENTOR, "case_withdrawn")], "withdrawn"),
    "QuestionsAsked": (
        payload("QuestionsAsked", author_id=AUTHOR, mentor_id=MENTOR, count=3),
        [(AUTHOR, "questions_asked")],
        "3 questions",
    ),
    "QuestionsAnswered": (payload("QuestionsAnswered", mentor_id=MENTOR), [(MENTOR, "questions_answered")], "answered"),
    "RequestKept": (payload("RequestKept", mentor_id=MENTOR), [(MENTOR, "request_kept")], "first version"),
    "CaseRedefined": (
        payload("CaseRedefined", mentor_id=MENTOR, revision=2, rubrics=["education-law"]),
        [(MENTOR, "case_redefined")],
        "revision 2",
    ),
    "CaseSharedWithColleagues": (
        payload("CaseSharedWithColleagues", mentor_id=MENTOR, colleague_ids=COLLEAGUES),
        [(c, "opinion_requested") for c in COLLEAGUES],
        "asks your opinion",
    ),
    "ColleagueOpinionAdded": (
        payload("ColleagueOpinionAdded", mentor_id=MENTOR, colleague_id=COLLEAGUES[0]),
        [(MENTOR, "colleague_opinion_added")],
        "opinion",
    ),
    "MessageSent": (
        payload("MessageSent", sender_id=SENDER, recipient_id=RECIPIENT),
        [(RECIPIENT, "message_received")],
        "message",
    ),
    "CaseEscalated": (
        payload("CaseEscalated", mentor_id=MENTOR, urgency="urgent", **NEXT_ROUND),
        [(AUTHOR, "case_escalated"), (MENTOR, "case_reassigned")],
        "in time",
    ),
    "CaseFlagged": (
        payload("CaseFlagged", reason="no_mentor_found", round=2),
        [(MODERATORS, "case_flagged")],
        "needs a moderator",
    ),
    "MentorReleased": (
        payload("MentorReleased", mentor_id=MENTOR, reason="mentor_suspended", **NEXT_ROUND),
        [(AUTHOR, "mentor_released")],
        "choose again",
    ),
    "CaseReminded": (
        payload("CaseReminded", step="decision", recipient_id=AUTHOR, number=1),
        [(AUTHOR, "reminder")],
        "keep or redefine",
    ),
    "CaseAbandoned": (
        payload("CaseAbandoned", author_id=AUTHOR, mentor_id=MENTOR, step="reflection"),
        [(AUTHOR, "case_abandoned"), (MENTOR, "case_left")],
        "abandoned",
    ),
    "CaseReopened": (
        payload("CaseReopened", author_id=AUTHOR, mentor_id=MENTOR),
        [(MENTOR, "case_reopened")],
        "reopened",
    ),
    "CaseCompleted": (
        payload(
            "CaseCompleted",
            2,
            rubrics=["education-law"],
            problem_solved="yes",
            publication_consent=False,
            publication=None,
            mentor_ids=COLLEAGUES,
        ),
        [(c, "case_completed") for c in COLLEAGUES],
        "completed",
    ),
    "CasePublishedToForum": (
        payload(
            "CasePublishedToForum",
            2,
            thread_id=None,
            title="Rules",
            essence="Pupils shout.",
            question="How to calm them?",
            rubrics=["education-law"],
            urgency="need_advice",
            author_id=AUTHOR,
            mentor_ids=[MENTOR],
        ),
        [(MENTOR, "case_posted_to_forum")],
        "posted to the forum",
    ),
    "SecondOpinionRequested": (
        payload("SecondOpinionRequested", 2, mentor_id=MENTOR, **NEXT_ROUND),
        [(MENTOR, "second_opinion_requested")],
        "second opinion",
    ),
    "CaseAuthorErased": (
        payload("CaseAuthorErased", mentor_id=MENTOR, proposed_mentor_ids=[]),
        [(MENTOR, "case_author_left")],
        "left the platform: the case is closed",
    ),
}

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def test_every_event_of_the_notifications_queue_is_covered():
    assert set(SUBSCRIPTIONS_BY_QUEUE["notifications.case-events"].event_types) == set(CASES)


@pytest.mark.parametrize("event_type", sorted(CASES))
def test_the_right_person_is_told_naming_only_the_case_number(event_type):
    data, expected, phrase = CASES[event_type]
    entries = inbox_entries(event_type, data)
    assert [(user_id, kind) for user_id, kind, _ in entries] == expected
    ids = {v for v in data.values() if isinstance(v, str) and v != NUMBER}
    ids |= {i for v in data.values() if isinstance(v, list) for i in v}
    for _, _, text in entries:
        assert NUMBER in text and phrase in text, text
        assert not UUID.search(text), text
        assert not any(i in text for i in ids), text
        assert not re.search(r"\b(author|mentee)'s\b|\bby (the )?(author|mentor|colleague)\b", text), text


def test_the_mentor_declined_wording():
    data, _, _ = CASES["MentorDeclined"]
    assert inbox_entries("MentorDeclined", data)[0][2] == (
        f"The mentor declined case {NUMBER}; new mentors are being proposed."
    )


@pytest.mark.parametrize("step", ["choice", "acceptance", "solution", "answers", "decision", "reflection"])
def test_every_waiting_step_has_its_reminder(step):
    [(recipient, kind, text)] = inbox_entries(
        "CaseReminded", payload("CaseReminded", step=step, recipient_id=MENTOR, number=2)
    )
    assert (recipient, kind) == (MENTOR, "reminder") and text.startswith("Reminder: ") and NUMBER in text


def test_a_case_abandoned_or_reopened_before_any_mentor_tells_only_its_author():
    abandoned = payload("CaseAbandoned", author_id=AUTHOR, mentor_id=None, step="choice")
    assert [(r, k) for r, k, _ in inbox_entries("CaseAbandoned", abandoned)] == [(AUTHOR, "case_abandoned")]
    assert inbox_entries("CaseReopened", payload("CaseReopened", author_id=AUTHOR, mentor_id=None)) == []


def test_a_case_withdrawn_before_any_mentor_tells_nobody():
    assert inbox_entries("CaseWithdrawn", payload("CaseWithdrawn", mentor_id=None)) == []


def test_a_single_question_reads_naturally():
    [(_, _, text)] = inbox_entries(
        "QuestionsAsked", payload("QuestionsAsked", author_id=AUTHOR, mentor_id=MENTOR, count=1)
    )
    assert "a question" in text


def test_a_case_redefined_names_the_revision():
    [(_, _, text)] = inbox_entries(
        "CaseRedefined", payload("CaseRedefined", mentor_id=MENTOR, revision=3, rubrics=["education-law"])
    )
    assert "revision 3" in text and "redefined" in text


def test_sharing_tells_each_colleague_once_and_not_the_sharing_mentor():
    data = payload(
        "CaseSharedWithColleagues",
        mentor_id=MENTOR,
        colleague_ids=[COLLEAGUES[0], MENTOR, COLLEAGUES[1], COLLEAGUES[0]],
    )
    entries = inbox_entries("CaseSharedWithColleagues", data)
    assert [e[0] for e in entries] == COLLEAGUES
    assert {e[2] for e in entries} == {f"A colleague asks your opinion on case {NUMBER}."}


def test_no_mentors_found_and_unknown_events():
    data = payload("MentorsProposed", round=2, author_id=AUTHOR, mentor_ids=[])
    assert inbox_entries("MentorsProposed", data)[0][:2] == (AUTHOR, "no_mentor_found")
    assert inbox_entries("CaseCompleted", {"case_number": NUMBER}) == []


def test_every_kind_told_is_a_kind_one_can_turn_off():
    told = {kind for data, expected, _ in CASES.values() for _, kind in expected}
    assert told <= set(KINDS)


def test_an_escalation_tells_the_mentee_and_the_silent_mentor_apart():
    data, _, _ = CASES["CaseEscalated"]
    (_, _, to_mentee), (_, _, to_mentor) = inbox_entries("CaseEscalated", data)
    assert "new mentors are being proposed" in to_mentee
    assert "offered to other mentors" in to_mentor


def test_flags_name_their_reason_for_the_moderators():
    [(to, _, text)] = inbox_entries("CaseFlagged", payload("CaseFlagged", reason="acceptance_overdue", round=1))
    assert to == MODERATORS and "did not accept it in time" in text and "round 1" in text
    assert not UUID.search(MODERATORS)  # never mistaken for a user id
    [(to, _, text)] = inbox_entries("CaseFlagged", payload("CaseFlagged", reason="proposals_overdue", round=2))
    assert to == MODERATORS and "no mentors were proposed for it in time" in text and "round 2" in text


def identity_payload(event_type, **fields):
    assert not payload_schema(event_type, 1).validate(fields), "the sample follows the contract"
    return fields


def test_every_event_of_the_identity_queue_is_covered():
    assert set(SUBSCRIPTIONS_BY_QUEUE["notifications.identity-events"].event_types) == {
        "AccreditationRequested",
        "AccreditationDecided",
        "PersonErased",
    }


def test_an_erasure_makes_no_inbox_entry():
    assert inbox_entries("PersonErased", identity_payload("PersonErased", person_id=MENTOR)) == []


def test_an_accreditation_application_alerts_the_moderators_without_naming_the_mentor():
    data = identity_payload("AccreditationRequested", application_id=str(uuid.uuid4()), mentor_id=MENTOR)
    [(to, kind, text)] = inbox_entries("AccreditationRequested", data)
    assert (to, kind) == (MODERATORS, "accreditation_requested")
    assert "applied for accreditation" in text and MENTOR not in text and not UUID.search(text)


@pytest.mark.parametrize(
    "decision, phrase",
    [("approved", "approved"), ("rejected", "rejected"), ("suspended", "suspended"), ("reinstated", "reinstated")],
)
def test_the_mentor_learns_the_decision_and_its_reason(decision, phrase):
    data = identity_payload(
        "AccreditationDecided",
        mentor_id=MENTOR,
        application_id=None,
        decision=decision,
        reason="  Please add links\n to your works. ",
    )
    [(to, kind, text)] = inbox_entries("AccreditationDecided", data)
    assert (to, kind) == (MENTOR, "accreditation_decided")
    assert phrase in text and text.endswith("Reason: Please add links to your works.")


def test_a_decision_without_a_reason_has_no_empty_reason():
    data = identity_payload(
        "AccreditationDecided", mentor_id=MENTOR, application_id=str(uuid.uuid4()), decision="approved", reason=""
    )
    [(_, _, text)] = inbox_entries("AccreditationDecided", data)
    assert "Reason" not in text


def test_a_survey_that_opened_tells_each_person_asked_once_naming_no_text():
    payload = {"survey_id": "s-1", "audience": "both", "rubrics": [], "closes_at": "2026-12-13T10:30:00+00:00"}
    entries = inbox_entries("SurveyOpened", payload, ["u1", "u2", "u1"])
    assert entries == [
        (user, "survey_opened", "A survey is open for you until 2026-12-13 10:30 UTC: please answer it (Surveys).")
        for user in ("u1", "u2")
    ]
    assert inbox_entries("SurveyOpened", payload) == []  # nobody asked (yet)


def test_a_mentor_who_left_the_platform_is_named_as_gone_not_suspended():
    erased = payload("MentorReleased", mentor_id=MENTOR, reason="mentor_erased", **NEXT_ROUND)
    [(to, kind, text)] = inbox_entries("MentorReleased", erased)
    assert (to, kind) == (AUTHOR, "mentor_released")
    assert text == (
        f"A mentor of case {NUMBER} left the platform; new mentors are being proposed: please choose again."
    )
    suspended, _, _ = CASES["MentorReleased"]
    [(_, _, told_of_suspension)] = inbox_entries("MentorReleased", suspended)
    assert "left the platform" not in told_of_suspension and "suspend" not in told_of_suspension


def test_an_erased_authors_case_tells_its_proposed_mentors_once_each_and_nobody_else():
    data = payload(
        "CaseAuthorErased", mentor_id=None, proposed_mentor_ids=[COLLEAGUES[0], COLLEAGUES[1], COLLEAGUES[0]]
    )
    entries = inbox_entries("CaseAuthorErased", data)
    assert [(to, kind) for to, kind, _ in entries] == [(c, "case_author_left") for c in COLLEAGUES]
    assert all("you were proposed" in text and "the case is closed" in text for _, _, text in entries)
    nobody = payload("CaseAuthorErased", mentor_id=None, proposed_mentor_ids=[])
    assert inbox_entries("CaseAuthorErased", nobody) == []
