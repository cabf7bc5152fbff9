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

URGENCIES = ("urgent", "need_advice", "want_expert_opinion")
MODES = ("personal", "anonymous")
ROLES = ("mentee", "mentor", "moderator")
SELF_SERVICE_ROLES = ("mentee", "mentor")
PROBLEM_SOLVED = ("yes", "partly", "no")

# Limits of the form, in characters (seed 6.2.1.1).
ESSENCE_MAX = 1000
ACTIONS_MAX = 1000
DIFFICULTY_MAX = 1000
QUESTION_MAX = 500
SOLUTION_MAX = 5000
REFLECTION_TEXT_MAX = 1000
