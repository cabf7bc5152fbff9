"""Which round a case event asks for, and who must not be proposed in it. Pure.

The rule: a mentor who was *asked* for a case (chosen by its author) is never proposed for
it again, whatever happened next: they declined, they let an urgent case lapse without
answering until it was escalated, or they already worked on it (a second opinion is by
another mentor). A mentor who was only *proposed* and never chosen was never asked, so
stays eligible in later rounds.

- CaseCreated                -> round 1, nobody excluded;
- MentorDeclined             -> ``next_round``, without the listed mentors and the decliner;
- CaseEscalated              -> ``next_round``, without the listed mentors and the mentor who
                                did not answer in time (an escalation is a decline by silence);
- SecondOpinionRequested     -> ``next_round``, without the listed mentors (the first opinion's);
- MentorReleased             -> ``next_round``, without the listed mentors and the released one
                                (suspended from the roll: chosen, working, or only proposed).

The cases service lists the excluded mentors in the event; matching adds every mentor it saw
chosen for the case (``asked``), so a list that omits someone still cannot bring them back.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ROUND_TRIGGERS = ("CaseCreated", "MentorDeclined", "CaseEscalated", "SecondOpinionRequested", "MentorReleased")


@dataclass(frozen=True)
class RoundRequest:
    round: int
    rubrics: tuple[str, ...]
    exclude: frozenset[str]


def round_request(event_type: str, payload: Mapping[str, Any], asked: Iterable[str] = ()) -> RoundRequest | None:
    """The round ``event_type`` asks for, or None for events that ask for none.

    ``asked``: mentors matching saw chosen for this case (from MentorChosen events).
    """
    if event_type not in ROUND_TRIGGERS:
        return None
    if event_type == "CaseCreated":
        return RoundRequest(1, tuple(payload["rubrics"]), frozenset(asked))
    exclude = set(payload["excluded_mentor_ids"]) | set(asked)
    if event_type in ("MentorDeclined", "CaseEscalated", "MentorReleased"):
        exclude.add(payload["mentor_id"])
    return RoundRequest(int(payload["next_round"]), tuple(payload["rubrics"]), frozenset(exclude))
