"""Nothing waits forever: which step of a case waits for whom, and when it is reminded and expires.

Every state in which a case waits for a person is a step (``STEPS``): the chosen mentor's
acceptance, the mentor's work (questions or a solution), the mentee's choice of a mentor, answers,
decision on the request and reflection. Each urgency has a schedule: reminders so many seconds after
the wait began, then expiry (what expiry does is the Case's: services/cases/domain.py
``Case.follow_up``). The schedule is a setting (services/cases/config.yaml, README "Reminders and
expiry"), read once per process by ``parse_schedule``; an urgent case's acceptance lapses after
ESCALATION_AFTER_SECONDS, the escalation's own setting. Pure: no I/O, no clock.
"""

from dataclasses import dataclass

from contracts.vocabulary import URGENCIES

# state -> (step, who it waits for); the steps are contracts.vocabulary.WAITING_STEPS
STEPS = {
    "choosing_mentor": ("choice", "mentee"),
    "awaiting_acceptance": ("acceptance", "mentor"),
    "in_progress": ("solution", "mentor"),
    "awaiting_answers": ("answers", "mentee"),
    "awaiting_decision": ("decision", "mentee"),
    "solution_proposed": ("reflection", "mentee"),
}
WAITING_STATES = tuple(STEPS)

# Production defaults (seconds): urgent 1 h, 6 h, expiry 1 day; need advice 1, 3 days, expiry 7;
# an expert opinion 2, 7 days, expiry 14.
DEFAULT_SCHEDULE = {
    "urgent": "3600 21600 / 86400",
    "need_advice": "86400 259200 / 604800",
    "want_expert_opinion": "172800 604800 / 1209600",
}
SETTING = "WAITING_SCHEDULE_{}"  # one setting per urgency, e.g. WAITING_SCHEDULE_URGENT


class InvalidSchedule(ValueError):
    """A schedule setting that cannot be followed; the message names the setting."""


@dataclass(frozen=True)
class Plan:
    """Reminders ``remind_after`` seconds after the wait began (ascending), then expiry."""

    remind_after: tuple
    expire_after: float

    @property
    def offsets(self):
        """When each follow-up is due, in seconds after the wait began: the reminders, then expiry."""
        return (*self.remind_after, self.expire_after)

    def due(self, waited, reminded):
        """What is due after ``waited`` seconds with ``reminded`` reminders sent of this wait:
        ("expire", None), ("remind", the number of the reminder due now) or None. Reminders missed
        (the sweep was down) are not sent one by one: the latest due is sent once."""
        if waited >= self.expire_after:
            return "expire", None
        due = sum(1 for offset in self.remind_after if waited >= offset)
        return ("remind", due) if due > reminded else None

    def next_offset(self, reminded):
        """Seconds after the wait began when the next follow-up (a reminder or expiry) is due."""
        return self.offsets[min(reminded, len(self.remind_after))]


@dataclass(frozen=True)
class Schedule:
    by_urgency: dict  # urgency -> Plan
    urgent_acceptance_after: float  # ESCALATION_AFTER_SECONDS

    def plan(self, urgency, step):
        plan = self.by_urgency[urgency]
        if urgency == "urgent" and step == "acceptance":
            after = self.urgent_acceptance_after
            return Plan(tuple(r for r in plan.remind_after if r < after), after)
        return plan

    def rows(self):
        """One row per (urgency, waiting state) with the offsets of its follow-ups: the index's
        query of the cases due (services/cases/index.py ``due_follow_ups``)."""
        return [
            {"urgency": urgency, "state": state, "offsets": list(self.plan(urgency, step).offsets)}
            for urgency in URGENCIES
            for state, (step, _) in STEPS.items()
        ]


def parse_plan(text, setting):
    """``"R1 R2 ... / E"``: a reminder R seconds after the wait began, each, then expiry at E."""
    reminders, slash, expiry = str(text).partition("/")
    try:
        remind_after = tuple(float(r) for r in reminders.replace(",", " ").split())
        expire_after = float(expiry) if slash else None
    except ValueError:
        remind_after, expire_after = (), None
    if expire_after is None or any(r <= 0 for r in remind_after) or list(remind_after) != sorted(set(remind_after)):
        raise InvalidSchedule(
            f'{setting} must be "R1 R2 ... / E": reminders R seconds after the wait began, '
            f"ascending and positive, then expiry after E seconds; got {text!r}."
        )
    if remind_after and expire_after <= remind_after[-1]:
        raise InvalidSchedule(
            f"{setting}: expiry ({expire_after:g} s) must come after the last reminder ({remind_after[-1]:g} s)."
        )
    return Plan(remind_after, expire_after)


def parse_schedule(config, urgent_acceptance_after):
    """The schedule from a service's config: one ``WAITING_SCHEDULE_<URGENCY>`` each, default
    ``DEFAULT_SCHEDULE``."""
    plans = {}
    for urgency in URGENCIES:
        setting = SETTING.format(urgency.upper())
        plans[urgency] = parse_plan(config.get(setting) or DEFAULT_SCHEDULE[urgency], setting)
    return Schedule(plans, float(urgent_acceptance_after))
