"""Who should get a case: mentors whose advisory rubrics overlap the case's, most overlap first."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    mentor_id: str
    rubrics: frozenset
    accepting_cases: bool = True


def rank(case_rubrics, candidates, k=3, exclude=()):
    """Top ``k`` proposals: score = share of the case's rubrics the mentor advises in.

    Ties break on mentor id so a round is reproducible. Mentors in ``exclude`` (those who
    declined, or already had the case before a second opinion) and mentors not accepting
    cases are never proposed.
    """
    wanted = set(case_rubrics)
    excluded = set(exclude or ())
    scored = []
    for c in candidates:
        if not c.accepting_cases or c.mentor_id in excluded:
            continue
        matched = sorted(wanted & set(c.rubrics))
        if matched:
            scored.append({"mentor_id": c.mentor_id, "matched_rubrics": matched,
                           "score": round(len(matched) / len(wanted), 4)})
    scored.sort(key=lambda p: (-p["score"], p["mentor_id"]))
    return scored[:k]
