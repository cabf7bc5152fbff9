"""Which event tells whom what: one inbox entry per person whose turn it is.

Texts name the case by its number only, never a person: on an anonymous case the mentor
must not learn who the author is, and nobody's id belongs in a sentence.

Entries for moderators are addressed to the role, ``MODERATORS``, not to each moderator: one
entry that every moderator's inbox lists, each with their own read state. So the event handler
needs no call to identity (which may be down) and a moderator who joins later still sees the
open flags; the e-mail is fanned out to the moderators at send time (services/notifications/email.py).
"""

MODERATORS = "@moderators"  # the recipient of entries for every moderator (never a user id: not a UUID)

FLAG_REASONS = {
    "no_mentor_found": "no mentor fits it",
    "acceptance_overdue": "the chosen mentor did not accept it in time",
    "proposals_overdue": "no mentors were proposed for it in time",
    "mentor_overdue": "its mentor has not answered it in time",
}

# What a reminder asks for, by the step that waits (contracts.vocabulary.WAITING_STEPS).
REMINDERS = {
    "choice": "please choose a mentor for your case {number}",
    "acceptance": "case {number} waits for you to accept or decline it",
    "solution": "case {number} waits for your questions or a possible solution",
    "answers": "your mentor's questions on case {number} wait for your answers",
    "decision": "case {number} waits for you to keep or redefine the request",
    "reflection": "case {number} waits for your reflection sheet (or a request for a second opinion)",
}

DECISIONS = {
    "approved": "Your accreditation was approved: you can now be proposed as a mentor.",
    "rejected": "Your accreditation application was rejected.",
    "suspended": "Your accreditation was suspended: you are not proposed as a mentor for now.",
    "reinstated": "Your accreditation was reinstated: you can be proposed as a mentor again.",
}


def inbox_entries(event_type, payload, audience=()):
    """[(recipient, kind, text)] for an event; the recipient is a user id or MODERATORS (``audience``:
    the ids a SurveyOpened asks, which the service looked up). Pure, so the wording is unit-tested."""
    if event_type == "SurveyOpened":
        closes = payload["closes_at"][:16].replace("T", " ")
        return [
            (user_id, "survey_opened", f"A survey is open for you until {closes} UTC: please answer it (Surveys).")
            for user_id in dict.fromkeys(audience)
        ]
    if event_type == "PersonErased":  # nobody is told by the inbox; the service shreds its key
        return []
    if event_type == "AccreditationRequested":
        return [
            (
                MODERATORS,
                "accreditation_requested",
                "A mentor applied for accreditation: please review the application.",
            )
        ]
    if event_type == "PublicationDrafted":
        what = "A solved case" if payload["kind"] == "solved_case" else "A case posted to the forum"
        return [
            (MODERATORS, "publication_drafted", f"{what} waits for review before publication: please read the draft.")
        ]
    if event_type == "AccreditationDecided":
        text = DECISIONS[payload["decision"]]
        reason = " ".join(payload["reason"].split())
        return [(payload["mentor_id"], "accreditation_decided", f"{text} Reason: {reason}" if reason else text)]
    number = payload["case_number"]
    if event_type == "MentorsProposed":
        if payload["mentor_ids"]:
            return [
                (payload["author_id"], "mentors_proposed", f"Mentors are proposed for your case {number}: choose one.")
            ]
        return [(payload["author_id"], "no_mentor_found", f"No mentor fits case {number} yet; moderators will help.")]
    if event_type == "MentorChosen":
        return [
            (
                payload["mentor_id"],
                "mentor_chosen",
                f"You were chosen as the mentor of case {number}: please accept or decline.",
            )
        ]
    if event_type == "MentorAccepted":
        return [(payload["author_id"], "mentor_accepted", f"Your mentor accepted case {number}.")]
    if event_type == "SolutionProposed":
        return [(payload["author_id"], "solution_proposed", f"A possible solution arrived for your case {number}.")]
    if event_type == "MentorDeclined":
        return [
            (
                payload["author_id"],
                "mentor_declined",
                f"The mentor declined case {number}; new mentors are being proposed.",
            )
        ]
    if event_type == "MentorReleased":
        if payload["reason"] == "mentor_erased":  # chosen or only proposed: the mentor is gone, not judged
            text = f"A mentor of case {number} left the platform; new mentors are being proposed: please choose again."
        else:  # suspended: no word about why, to the author
            text = (
                f"Your mentor can no longer work on case {number}; new mentors are being proposed: please choose again."
            )
        return [(payload["author_id"], "mentor_released", text)]
    if event_type == "CaseAuthorErased":  # the author's erasure closed it: who waited on it is told
        entries = []
        if payload["mentor_id"]:
            entries.append(
                (
                    payload["mentor_id"],
                    "case_author_left",
                    f"The author of case {number} left the platform: the case is closed; "
                    f"no further work on it is needed.",
                )
            )
        proposed = dict.fromkeys(m for m in payload["proposed_mentor_ids"] if m != payload["mentor_id"])
        entries += [
            (
                mentor_id,
                "case_author_left",
                f"The author of case {number}, for which you were proposed as a mentor, left the platform: "
                f"the case is closed.",
            )
            for mentor_id in proposed
        ]
        return entries
    if event_type == "CaseWithdrawn":
        if payload["mentor_id"] is None:
            return []  # nobody had taken the case up yet
        return [
            (payload["mentor_id"], "case_withdrawn", f"Case {number} was withdrawn; no further work on it is needed.")
        ]
    if event_type == "QuestionsAsked":
        count = payload["count"]
        questions = "a question" if count == 1 else f"{count} questions"
        return [
            (payload["author_id"], "questions_asked", f"Your mentor asked {questions} on case {number}: please answer.")
        ]
    if event_type == "QuestionsAnswered":
        return [(payload["mentor_id"], "questions_answered", f"Your questions on case {number} were answered.")]
    if event_type == "RequestKept":
        return [
            (
                payload["mentor_id"],
                "request_kept",
                f"The first version of the request in case {number} was kept; the case waits for you.",
            )
        ]
    if event_type == "CaseRedefined":
        return [
            (
                payload["mentor_id"],
                "case_redefined",
                f"Case {number} was redefined: revision {payload['revision']} waits for you.",
            )
        ]
    if event_type == "CaseSharedWithColleagues":
        colleagues = dict.fromkeys(c for c in payload["colleague_ids"] if c != payload["mentor_id"])
        return [
            (colleague_id, "opinion_requested", f"A colleague asks your opinion on case {number}.")
            for colleague_id in colleagues
        ]
    if event_type == "ColleagueOpinionAdded":
        return [(payload["mentor_id"], "colleague_opinion_added", f"A colleague added an opinion on case {number}.")]
    if event_type == "MessageSent":
        return [(payload["recipient_id"], "message_received", f"A new message arrived on case {number}.")]
    if event_type == "CaseEscalated":
        return [
            (
                payload["author_id"],
                "case_escalated",
                f"The chosen mentor did not accept case {number} in time; new mentors are being proposed.",
            ),
            (
                payload["mentor_id"],
                "case_reassigned",
                f"Case {number} was not accepted in time and is now offered to other mentors.",
            ),
        ]
    if event_type == "CaseReminded":
        return [(payload["recipient_id"], "reminder", f"Reminder: {REMINDERS[payload['step']].format(number=number)}.")]
    if event_type == "CaseAbandoned":
        entries = [
            (
                payload["author_id"],
                "case_abandoned",
                f"Case {number} waited too long for your step and was closed as abandoned; "
                f"you can reopen it on its page.",
            )
        ]
        if payload["mentor_id"]:
            entries.append(
                (
                    payload["mentor_id"],
                    "case_left",
                    f"The mentee did not continue case {number}: it was closed as abandoned.",
                )
            )
        return entries
    if event_type == "CaseReopened":
        if payload["mentor_id"] is None:
            return []
        return [(payload["mentor_id"], "case_reopened", f"Case {number} was reopened by its mentee.")]
    if event_type == "CaseCompleted":
        return [
            (mentor_id, "case_completed", f"Case {number}, which you worked on, was completed.")
            for mentor_id in payload.get("mentor_ids", [])
        ]
    if event_type == "CasePublishedToForum":
        return [
            (
                mentor_id,
                "case_posted_to_forum",
                f"Case {number}, which you worked on, was posted to the forum for discussion "
                f"(impersonal, once a moderator has read it).",
            )
            for mentor_id in payload.get("mentor_ids", [])
        ]
    if event_type == "SecondOpinionRequested":
        if not payload.get("mentor_id"):
            return []
        return [
            (
                payload["mentor_id"],
                "second_opinion_requested",
                f"The mentee of case {number} asked another mentor for a second opinion.",
            )
        ]
    if event_type == "CaseFlagged":
        return [
            (
                MODERATORS,
                "case_flagged",
                f"Case {number} needs a moderator: {FLAG_REASONS[payload['reason']]} (round {payload['round']}).",
            )
        ]
    return []
