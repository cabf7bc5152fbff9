"""Cases at each step of the journey, built through the pure Case aggregate, for the unit tests of its
rules: one author, the mentor they choose and another proposed one."""

from services.cases.domain import Case
from services.common.clock import utc_now
from tests.support import case_form

AUTHOR, MENTOR, OTHER = "author-1", "mentor-1", "mentor-2"
NUMBER = "MC-2026-000001"


def proposal(mentor_id):
    return {"mentor_id": mentor_id, "matched_rubrics": ["class-management-motivation"], "score": 0.9}


def filed(urgency="need_advice"):
    return Case(number=NUMBER, author_id=AUTHOR, form=case_form(urgency=urgency))


def proposed(urgency="need_advice"):
    """Filed, and MENTOR and OTHER proposed: the author chooses."""
    case = filed(urgency)
    case.record_proposals(1, [proposal(MENTOR), proposal(OTHER)], now=utc_now())
    return case


def chosen(urgency="need_advice"):
    case = proposed(urgency)
    case.choose_mentor(AUTHOR, MENTOR, now=utc_now())
    return case


def working(urgency="need_advice"):
    case = chosen(urgency)
    case.accept(MENTOR, now=utc_now())
    return case
