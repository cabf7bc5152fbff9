"""The question hints a mentor gets on accepting a case (seed 6.2.1.2), in the seed's wording.

Ids are stable: cases record the id of a bank question they ask, so rewording a hint
later never changes what was asked. Each group says which of the seed's two kinds of question its
hints are (clarifying: they make the situation precise; developing: they lead the pedagogue to
reformulate the case), so a client preselects the kind of a hint the mentor picks.

Each hint also carries its ``suggestion_id``: the id the cases service gives the hint as a suggestion
(services/cases/question_suggestions.py), so a client that lets a mentor pick a hint from the whole
bank (the browser's checkboxes) sends it with the question and the use of the hint is recorded, as a
learned suggestion's is. The id is made here, its one home, because both the bank served by the
gateway and the suggestions of the cases service carry it.
"""

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hint:
    id: str
    text: str


@dataclass(frozen=True)
class HintGroup:
    slug: str
    title: str
    kind: str  # one of QUESTION_KINDS
    hints: tuple[Hint, ...]


QUESTION_KINDS = ("clarifying", "developing")
QUESTION_KIND_LABELS = {"clarifying": "Clarifying", "developing": "Developing"}


QUESTION_BANK = (
    HintGroup(
        "goals-and-motives",
        "Developmental questions about goals and motives",
        "developing",
        (
            Hint("goals-1", "What exactly do you want to get out of this coaching session?"),
            Hint("goals-2", "What goal do you really want to achieve by solving the problem described?"),
            Hint("goals-3", "What would be the ideal result? Describe it."),
            Hint("goals-4", "What do you want to change in your work by solving the situation described?"),
            Hint("goals-5", "How would you, your students, and your colleagues benefit if you achieved this goal?"),
        ),
    ),
    HintGroup(
        "swot",
        "SWOT analysis",
        "clarifying",
        (
            Hint("swot-1", "Think and describe your strengths important in this situation."),
            Hint("swot-2", "Think and describe your weaknesses important in this situation."),
            Hint("swot-3", "Think and describe external circumstances that hinder, threaten, obstruct you."),
            Hint(
                "swot-4",
                "Think and describe external circumstances that could help you, be a source of "
                "additional resources and opportunities.",
            ),
        ),
    ),
    HintGroup(
        "options",
        "Questions about possible options and ways of solving",
        "developing",
        (
            Hint("options-1", "What options do you see for yourself and why aren't you satisfied with them?"),
            Hint("options-2", "What do you think you need to do next?"),
            Hint("options-3", "What could be the first step, from your perspective?"),
            Hint("options-4", "What happens if you do nothing?"),
            Hint("options-5", "What is already working for you in this situation?"),
            Hint("options-6", "What is good about it?"),
            Hint("options-7", "What is the most difficult thing for you to deal with?"),
            Hint("options-8", "How have you handled situations like this before?"),
        ),
    ),
    HintGroup(
        "planning",
        "Questions to help you plan",
        "developing",
        (Hint("planning-1", "What three actions can you take to see your first result as early as this week?"),),
    ),
)

HINTS_BY_ID = {hint.id: hint for group in QUESTION_BANK for hint in group.hints}

SUGGESTION_PREFIXES = {"learned": "l-", "bank": "b-"}  # a suggestion id: its source's prefix, its group's digest


def suggestion_digest(key: str) -> str:
    """A suggestion group's key as the stable, opaque part of its id (no question text in an id)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def bank_key(hint_id: str) -> str:
    """The group key of questions asked from one bank hint (they count together, whatever the kind)."""
    return f"bank:{hint_id}"


def bank_suggestion_id(hint_id: str) -> str:
    """The id of a bank hint as a suggestion: what a client sends as ``suggestion_id`` when asking it."""
    return SUGGESTION_PREFIXES["bank"] + suggestion_digest(bank_key(hint_id))


def bank_as_dict() -> list[dict[str, Any]]:
    return [
        {
            "slug": g.slug,
            "title": g.title,
            "kind": g.kind,
            "hints": [
                {"id": h.id, "text": h.text, "kind": g.kind, "suggestion_id": bank_suggestion_id(h.id)} for h in g.hints
            ],
        }
        for g in QUESTION_BANK
    ]
