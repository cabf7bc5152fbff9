"""Which case event tells whom what: one inbox entry per person whose turn it is."""


def inbox_entries(event_type, payload):
    """[(user_id, kind, text)] for a case event; pure, so the wording is unit-tested."""
    number = payload["case_number"]
    if event_type == "MentorsProposed":
        if payload["mentor_ids"]:
            return [(payload["author_id"], "mentors_proposed",
                     f"Mentors are proposed for your case {number}: choose one.")]
        return [(payload["author_id"], "no_mentor_found",
                 f"No mentor fits case {number} yet; moderators will help.")]
    if event_type == "MentorChosen":
        return [(payload["mentor_id"], "mentor_chosen",
                 f"You were chosen as the mentor of case {number}: please accept or decline.")]
    if event_type == "MentorAccepted":
        return [(payload["author_id"], "mentor_accepted", f"Your mentor accepted case {number}.")]
    if event_type == "SolutionProposed":
        return [(payload["author_id"], "solution_proposed",
                 f"A possible solution arrived for your case {number}.")]
    return []
