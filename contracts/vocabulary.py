"""Closed value sets of the case form (seed 6.2.1.1) and of the roles."""

PARTICIPANTS = (
    "parents",
    "fellow-pedagogues",
    "school-administration",
    "education-department-administration",
    "other-departments",
    "ngos",
    "preschool-children",
) + tuple(f"pupils-form-{n}" for n in range(1, 12))

# How the reference (GET /api/v1/reference) names the participants, for clients without a catalogue.
PARTICIPANT_LABELS = {
    "parents": "Parents",
    "fellow-pedagogues": "Fellow teachers",
    "school-administration": "School administration",
    "education-department-administration": "Education department administration",
    "other-departments": "Other departments",
    "ngos": "NGOs",
    "preschool-children": "Preschool children",
    **{f"pupils-form-{n}": f"Pupils of form {n}" for n in range(1, 12)},
}

URGENCIES = ("urgent", "need_advice", "want_expert_opinion")
MODES = ("personal", "anonymous")
ROLES = ("mentee", "mentor", "moderator")
SELF_SERVICE_ROLES = ("mentee", "mentor")
PROBLEM_SOLVED = ("yes", "partly", "no")
# The roll of mentors (CommonSpaces' accreditation): a moderator's decisions.
ACCREDITATION_DECISIONS = ("approved", "rejected", "suspended", "reinstated")
ACCREDITATION_STATES = ("none", "pending", "accredited", "rejected", "suspended")
APPLICATION_STATES = ("pending", "approved", "rejected")
# A mentor's availability: open cases at once, and periods away.
DEFAULT_CAPACITY = 3
MAX_CAPACITY = 50
MAX_AWAY_PERIODS = 20
# The mentor's photo on the public profile.
PHOTO_TYPES = ("image/jpeg", "image/png")
PHOTO_MAX_BYTES = 2 * 1024 * 1024
# Whose turn it is in each state of a case (services/cases/domain.py names the states): the author,
# the mentor, the platform ("system"), a moderator, or nobody (a closed case). The case list shows it,
# the statistics count the open cases by it.
TURNS = ("author", "mentor", "system", "moderator")
TURN_BY_STATE = {
    "awaiting_proposals": "system",
    "no_mentor_found": "moderator",
    "choosing_mentor": "author",
    "awaiting_acceptance": "mentor",
    "in_progress": "mentor",
    "awaiting_answers": "author",
    "awaiting_decision": "author",
    "solution_proposed": "author",
    "completed": None,
    "withdrawn": None,
    "abandoned": "author",
}  # closed for want of the author's step: the author may reopen it
# The formats beside the mode (seed 6.2.1.3): a mentor asked colleagues, the author published to the forum.
FORMATS = ("collective", "public")
# Why a case waits for a moderator.
FLAG_REASONS = ("no_mentor_found", "acceptance_overdue", "proposals_overdue", "mentor_overdue")
# The steps of a case that wait for someone (services/cases/waiting.py): reminded, then expired.
WAITING_STEPS = ("choice", "acceptance", "solution", "answers", "decision", "reflection")
# Why a proposed mentor came first among mentors of nearly the same score (services/matching/ranking.py).
PROPOSAL_REASONS = ("fewer_recent_cases", "less_recently_proposed", "new_to_roll")
# Why a library item is suggested as similar to a case (services/library/similar.py).
SIMILAR_REASONS = ("shared_rubrics", "similar_words", "problem_solved", "problem_partly_solved", "helpful_solution")
# Why the system takes a case from its mentor (MentorReleased): back to matching, the author chooses again.
# mentor_erased: the mentor left the platform (their data was erased: identity's PersonErased).
RELEASE_REASONS = ("mentor_suspended", "mentor_erased")
# Why identity ended sessions (SessionsRevoked): the gateway refuses their tokens from then on.
SESSION_END_REASONS = ("sign_out", "password_change", "password_reset", "account_erased")
# The events calendar: an online event has a link, an offline one a place.
EVENT_FORMATS = ("online", "offline")

# The library: solved cases and type-2 materials (seed 6.2.2).
LIBRARY_KINDS = ("solved_case", "material")
MATERIAL_TYPES = ("article", "book", "link")

# Limits of the form, in characters (seed 6.2.1.1).
ESSENCE_MAX = 1000
ACTIONS_MAX = 1000
DIFFICULTY_MAX = 1000
QUESTION_MAX = 500
SOLUTION_MAX = 5000
REFLECTION_TEXT_MAX = 1000
# Limits of the other texts that reach events, in characters (the request schemas of contracts/rpc_<service>.py).
ID_MAX = 64  # any id (users, cases, solutions, threads, applications): path values are at most 64 too
FORUM_TITLE_MAX = 200
MATERIAL_TITLE_MAX = 300
REFERENCE_MAX = 1000
QUESTION_TEXT_MAX = 500
ANSWER_MAX = 1000
DECISION_REASON_MAX = 1000

# The library's review of what is published (services/library/review.py)
PUBLICATION_KINDS = ("solved_case", "forum_post")
PUBLICATION_STATES = ("pending", "published", "rejected", "withdrawn")
PUBLICATION_DECISIONS = ("published", "rejected", "withdrawn")
LIBRARY_REVIEW_MODES = ("moderator", "automatic")
