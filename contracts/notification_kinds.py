"""Every kind of notification, with the label a preferences screen shows.

The kind names an inbox entry (``InboxEntryView.kind``) and is the unit of the e-mail
preference (``GET/PUT /api/v1/me/notification-preferences``): one on/off per kind, on
unless the user turned it off.
"""

KINDS = {
    # the case journey, for the mentee (the author)
    "mentors_proposed": "Mentors were proposed for your case: choose one",
    "no_mentor_found": "No mentor fits your case yet",
    "mentor_accepted": "Your mentor accepted your case",
    "mentor_declined": "The mentor declined your case",
    "case_escalated": "Your case went unanswered and is offered to other mentors",
    "mentor_released": "Your mentor can no longer work on your case: choose again",
    "questions_asked": "Your mentor asked questions",
    "solution_proposed": "A possible solution arrived",
    "case_abandoned": "Your case was closed as abandoned: you can reopen it",
    # the case journey, for the mentor
    "mentor_chosen": "You were chosen as the mentor of a case",
    "case_reassigned": "A case you did not accept in time went to other mentors",
    "case_withdrawn": "A case you work on was withdrawn",
    "questions_answered": "Your questions were answered",
    "request_kept": "The mentee kept the first version of the request",
    "case_redefined": "The mentee redefined the case",
    "opinion_requested": "A colleague asks your opinion on a case",
    "colleague_opinion_added": "A colleague added an opinion",
    "message_received": "A new message on a personal-mode case",
    "case_completed": "A case you worked on was completed",
    "case_posted_to_forum": "A case you worked on was posted to the forum",
    "second_opinion_requested": "The mentee of your case asked for a second opinion",
    "case_left": "The mentee left a case you work on (closed as abandoned)",
    "case_reopened": "The mentee reopened a case you work on",
    "case_author_left": "The author of a case you work on or were proposed for left the platform: it is closed",
    # both: a step of a case waits for you (services/cases/waiting.py)
    "reminder": "A reminder: a case waits for your step",
    # accreditation
    "accreditation_decided": "A moderator decided on your accreditation",
    # moderators
    "case_flagged": "A case needs a moderator",
    "accreditation_requested": "A mentor applied for accreditation",
    "publication_drafted": "A draft waits for review before publication",
    # mentors and moderators among themselves
    "direct_message": "A colleague sent you a direct message",
    # the events calendar, for those who attend
    "calendar_event_changed": "An event you attend changed its time or place",
    "calendar_event_cancelled": "An event you attend was cancelled",
    # news items of one's rubrics of interest, for those who subscribed (services/notifications/news.py)
    "news_published": "A news item of your rubrics was published",
    # surveys (the library's): one is open for you
    "survey_opened": "A survey is open for you",
}

KIND_NAMES = tuple(KINDS)
