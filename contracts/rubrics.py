"""The end-to-end rubricator (seed Table 2): one tag set for mentors, cases and library."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rubric:
    number: int
    slug: str
    label: str
    comment: str


RUBRICS = (
    Rubric(
        1,
        "education-law",
        "Education law",
        "Normative legal acts, Federal State Educational Standards (FSES), Labor Code of the "
        "Russian Federation (LC RF), Uniform Qualification Reference Book Guide (UQRBG), "
        "professional standards",
    ),
    Rubric(
        2,
        "professional-ethics",
        "Professional ethics",
        "Communication with colleagues, students, including in the digital environment. "
        "Effective speech strategies. Conflict resolution",
    ),
    Rubric(
        3,
        "class-management-motivation",
        "Class management and motivation",
        "Organization of group work, cooperation, maintaining discipline.",
    ),
    Rubric(
        4,
        "digital-technologies",
        "Digital technologies",
        "Interactive forms of classroom management. Digital learning environment. Mixed and "
        "hybrid learning. Flipped classroom and others.",
    ),
    Rubric(
        5, "individualization", "Individualization of the educational process", "Tutorial. Special needs. Giftedness."
    ),
    Rubric(
        6,
        "teaching-methods",
        "Methods of teaching the subject",
        "Features of teaching the subject. Working programs. Didactic know-how.",
    ),
    Rubric(
        7,
        "monitoring-evaluation",
        "Monitoring and evaluation",
        "Current control and intermediate attestation. Forms of procedures. Grading",
    ),
    Rubric(
        8,
        "urban-educational-projects",
        "Urban educational projects",
        "Urban infrastructure and its use. Integration of basic and supplementary education. "
        "Navigation of educational resources",
    ),
    Rubric(
        9,
        "self-management",
        "Self-management",
        "Self-development. Career building. Helpful partnerships. Competitions. Professional development",
    ),
    Rubric(
        10,
        "interaction-with-parents",
        "Interaction with parents",
        "Duties and rights of a pedagogue. Internal corporate standards for interaction with "
        "parents. Handling of appeals and complaints.",
    ),
    Rubric(
        11,
        "personal-resources",
        "Personal resources",
        "Emotional intelligence. Leadership. Meanings and values. Strategies for personal development",
    ),
    Rubric(
        12,
        "families-at-risk",
        "Work with families in the risk group",
        "Cases of social and pedagogical neglect, family violence, addiction.",
    ),
)

RUBRIC_SLUGS = tuple(r.slug for r in RUBRICS)
RUBRICS_BY_SLUG = {r.slug: r for r in RUBRICS}


def counts_by_rubric(counts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every rubric of the rubricator, in its order, with its label and count (0 if none): every table
    and chart of rubrics lists them so (seed Figure 2), whichever service counted."""
    return [
        {"number": r.number, "slug": r.slug, "label": r.label, "count": int(counts.get(r.slug, 0))} for r in RUBRICS
    ]


def ordered_rubrics(*rubric_lists: Iterable[str]) -> list[str]:
    """The union of rubric lists, in the rubricator's order (the library's items, a mentee's rubrics of
    interest)."""
    union: set[str] = set().union(*rubric_lists)
    return [slug for slug in RUBRIC_SLUGS if slug in union]
