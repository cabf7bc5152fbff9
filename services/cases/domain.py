"""The Case aggregate: the unit of mentoring work, an append-only stream of decided facts.

Public methods are commands: they check who acts and in which state, then trigger a
decorated event whose body only applies the fact (it runs again on every replay).
No I/O here: identifiers, numbers, the acting user and the time come in as arguments: every
command that records when something happened takes ``now`` (an aware datetime) from its caller, the
service's clock (services/common/clock.py, which tests move on), and records it in the event so a
replay yields the same case. ``now`` is required (keyword-only where it follows optional arguments):
a command never reads a clock itself, so every moment a case records comes from its caller's one
clock, the same one the sweeps (``escalate``, ``follow_up``) measure waits with.

The journey (seed 6.2): proposals -> the author chooses -> the mentor accepts or declines
(a decline opens the next round) -> questions -> answers -> keep the request or redefine it
(at most two redefinitions) -> possible solutions -> completion with a reflection sheet,
or once a second opinion from another mentor. The system flags a case for the moderators when
no mentor fits it, and escalates an urgent case whose chosen mentor did not accept in time
(the next round, without that mentor), and releases a suspended mentor's cases the same way.
When a person is erased (identity's PersonErased), the cases they authored and had not finished
close (``close_for_erased_author``); an erased mentor's cases are released as a suspended one's.
Nothing waits forever (``follow_up``, on the schedule of services/cases/waiting.py): whoever a step
waits for is reminded; then a lapsed acceptance goes to the next round, a mentor's overdue work is
flagged for the moderators, and a case left by its mentee is closed as abandoned (the mentee may
reopen it, where it stood).
Collective (colleagues' opinions) and public
(forum) formats need the author's consent; messages are for personal-mode cases only.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn, Self

from eventsourcing.domain import Aggregate, event

from contracts.errors import Conflict, Forbidden, InvalidInput
from services.cases.waiting import STEPS, Schedule

AWAITING_PROPOSALS = "awaiting_proposals"
NO_MENTOR_FOUND = "no_mentor_found"
CHOOSING_MENTOR = "choosing_mentor"
AWAITING_ACCEPTANCE = "awaiting_acceptance"
IN_PROGRESS = "in_progress"
AWAITING_ANSWERS = "awaiting_answers"
AWAITING_DECISION = "awaiting_decision"
SOLUTION_PROPOSED = "solution_proposed"
COMPLETED = "completed"
WITHDRAWN = "withdrawn"
ABANDONED = "abandoned"  # the mentee did not take their step in time; they may reopen it

# Why a case waits for a moderator (contracts.vocabulary.FLAG_REASONS).
FLAG_NO_MENTOR = "no_mentor_found"
FLAG_OVERDUE = "acceptance_overdue"
FLAG_PROPOSALS_OVERDUE = "proposals_overdue"
FLAG_MENTOR_OVERDUE = "mentor_overdue"  # the mentor's work (questions or a solution) is overdue

MAX_REVISIONS = 3  # the first version and at most two redefinitions
WORKING = (IN_PROGRESS, AWAITING_ANSWERS, AWAITING_DECISION, SOLUTION_PROPOSED)
CLOSED = (COMPLETED, WITHDRAWN)


class TimedSinceV2:
    """Stored events that record when (``at``) since their version 2 (eventsourcing's ``class_version``
    and upcasting: the mapper calls ``upcast_v1_v2`` on every older event it loads). Version 1, stored
    before, had no ``at``: it loads with None, which the case reads as "time unknown". Events stored
    after the field came but before it was versioned carry ``at`` and no version: they keep their time."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("at", None)


class Case(Aggregate):
    @event("Created")
    def __init__(self, number: str, author_id: str, form: Mapping[str, Any]) -> None:
        # (attributes typed here, never at class level: eventsourcing would make the class a dataclass)
        self.number = number
        self.author_id = author_id
        self.revisions: list[dict[str, Any]] = [dict(form)]
        self.state = AWAITING_PROPOSALS
        self.round = 0
        self.proposals: list[dict[str, Any]] = []
        self.mentor_id: str | None = None
        self.chosen_at: str | None = None  # when the current mentor was chosen (ISO time), while awaiting them
        self.flag: dict[str, Any] | None = None  # {"reason", "round", "at"} while the case waits for a moderator
        self.engagements: list[dict[str, Any]] = []
        self.opinion = 1
        self.questions: list[dict[str, Any]] = []
        self.decision: str | None = None
        self.solutions: list[dict[str, Any]] = []
        self.colleague_ids: list[str] = []
        self.opinions: list[dict[str, Any]] = []
        self.forum_publications: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.reflection: dict[str, Any] | None = None
        self.withdrawn_reason: str | None = None
        # when the step the case waits on began (ISO time; None: events before it)
        self.waiting_since: str | None = None
        self.reminded = 0  # reminders sent in this wait
        # {"step", "state", "at"} while abandoned: the state a reopening returns to
        self.abandoned: dict[str, Any] | None = None
        self.publication_consent_withdrawn = False

    @classmethod
    def file(cls, case_id: uuid.UUID, number: str, author_id: str, form: Mapping[str, Any]) -> Self:
        """Create with a given id: the id is derived from the request, so a retried request
        cannot file the same case twice."""
        return cls._create(cls.Created, id=case_id, number=number, author_id=author_id, form=form)

    # ---- queries ----------------------------------------------------------------------

    @property
    def form(self) -> dict[str, Any]:
        return self.revisions[-1]

    @property
    def revision(self) -> int:
        return len(self.revisions)

    def is_author(self, user_id: str) -> bool:
        return user_id == self.author_id

    def is_chosen_mentor(self, user_id: str) -> bool:
        return self.mentor_id is not None and user_id == self.mentor_id

    def has_worked_on(self, user_id: str) -> bool:
        """A mentor who accepted this case (now or for the first opinion)."""
        return any(e["mentor_id"] == user_id and e["outcome"] == "accepted" for e in self.engagements)

    def is_colleague(self, user_id: str) -> bool:
        return user_id in self.colleague_ids

    @property
    def declined_mentor_ids(self) -> list[str]:
        return [e["mentor_id"] for e in self.engagements if e["outcome"] == "declined"]

    def _excluded_from_next_round(self, *also: str | None) -> list[str]:
        """Who the next round must not propose: every mentor ever chosen for the case (decliners,
        those who let an urgent case lapse, those who worked on it); a mentor only proposed and never
        chosen was never asked, so stays eligible."""
        excluded = [e["mentor_id"] for e in self.engagements] + list(also)
        return sorted(set(excluded))

    # ---- mentor selection -------------------------------------------------------------

    def record_proposals(self, round: int, proposals: Iterable[Mapping[str, Any]], *, now: datetime) -> bool:
        """Matching's answer for a round; a round already recorded is ignored (redelivery).
        Nobody to propose: the case has no mentor and is flagged for the moderators."""
        if round <= self.round or self.state not in (AWAITING_PROPOSALS, NO_MENTOR_FOUND):
            return False
        excluded = set(self._excluded_from_next_round())
        kept = [dict(p) for p in proposals if p["mentor_id"] not in excluded]
        self._mentors_proposed(round=round, proposals=kept, at=now.isoformat())
        if not kept:
            self._flagged(reason=FLAG_NO_MENTOR, round=round, at=now.isoformat())
        return True

    def choose_mentor(self, actor_id: str, mentor_id: str, *, now: datetime) -> None:
        self._require(self.is_author(actor_id), "Only the case's author chooses its mentor.")
        self._require_state(CHOOSING_MENTOR)
        if mentor_id not in {p["mentor_id"] for p in self.proposals}:
            raise InvalidInput(
                "Choose one of the proposed mentors.", {"mentor_id": ["Not among the mentors proposed for this case."]}
            )
        self._mentor_chosen(mentor_id=mentor_id, round=self.round, at=now.isoformat())

    def accept(self, actor_id: str, *, now: datetime) -> None:
        self._require(self.is_chosen_mentor(actor_id), "Only the chosen mentor accepts the case.")
        self._require_state(AWAITING_ACCEPTANCE)
        self._mentor_accepted(mentor_id=actor_id, at=now.isoformat())

    def decline(self, actor_id: str, reason: str | None = "") -> None:
        """The chosen mentor declines: the next round proposes others."""
        self._require_chosen_mentor(actor_id, "Only the chosen mentor declines the case.")
        self._require_state(AWAITING_ACCEPTANCE)
        self._mentor_declined(
            mentor_id=actor_id,
            reason=reason or "",
            next_round=self.round + 1,
            excluded_mentor_ids=self._excluded_from_next_round(actor_id),
        )

    def escalate(self, now: datetime, overdue_after: float) -> bool:
        """The system, for an urgent case whose chosen mentor has not accepted within
        ``overdue_after`` seconds of being chosen (``now``: an aware datetime): the next round
        proposes others, never that mentor, and the moderators are alerted (a flag).
        Returns False, changing nothing, when the case is not (or no longer) overdue."""
        if self.state != AWAITING_ACCEPTANCE or self.form["urgency"] != "urgent":
            return False
        chosen_at = datetime.fromisoformat(self.chosen_at) if self.chosen_at else self.modified_on
        waited = (now - chosen_at).total_seconds()
        if waited < overdue_after:
            return False
        self._lapse_acceptance(waited, now)
        return True

    def _lapse_acceptance(self, waited: float, now: datetime) -> None:
        """The chosen mentor did not accept in time: the next round, never that mentor; an urgent
        case is flagged for the moderators too."""
        silent = self.mentor_id
        self._escalated(
            mentor_id=silent,
            next_round=self.round + 1,
            excluded_mentor_ids=self._excluded_from_next_round(silent),
            waited_seconds=int(waited),
        )
        if self.form["urgency"] == "urgent":
            self._flagged(reason=FLAG_OVERDUE, round=self.round, at=now.isoformat())

    def release_mentor(self, mentor_id: str, reason: str) -> bool:
        """The system, when a mentor may no longer work on cases (``reason``: contracts.vocabulary
        RELEASE_REASONS: mentor_suspended, or mentor_erased when the mentor left the platform): the
        case goes back to matching for a new round without them, and its author chooses again.
        Releases the mentor the case waits for or who works on it (a possible solution already
        proposed stays in the case), and a round that proposed them (the author has not chosen yet).
        Returns False, changing nothing, when the mentor has nothing to do with the case now - so a
        redelivered suspension releases nothing twice."""
        current = self.mentor_id == mentor_id and self.state in (AWAITING_ACCEPTANCE, *WORKING)
        proposed = self.state == CHOOSING_MENTOR and mentor_id in {p["mentor_id"] for p in self.proposals}
        if not (current or proposed):
            return False
        self._mentor_released(
            mentor_id=mentor_id,
            reason=reason,
            next_round=self.round + 1,
            excluded_mentor_ids=self._excluded_from_next_round(mentor_id),
        )
        return True

    def flag_proposals_overdue(self, now: datetime, overdue_after: float) -> bool:
        """The system, for a case still awaiting proposals ``overdue_after`` seconds after it began to
        wait for them (``now``: an aware datetime): matching has not answered (it, its database or the
        broker was down, or its answer was lost), so the moderators are alerted (a flag) rather than
        the case waiting unseen. The wait counts from the case's last change, which is what put it in
        this state (filed, declined, second opinion asked). Once: a case that carries a flag (for any
        reason) is not flagged again. Returns False, changing nothing, when it is not overdue."""
        if self.state != AWAITING_PROPOSALS or self.flag is not None:
            return False
        waited = (now - self.modified_on).total_seconds()
        if waited < overdue_after:
            return False
        self._flagged(reason=FLAG_PROPOSALS_OVERDUE, round=self.round + 1, at=now.isoformat())  # the round awaited
        return True

    def waiting_step(self) -> tuple[str, str] | None:
        """(step, who it waits for: "mentor" or "mentee") of the step the case waits on, or None."""
        return STEPS.get(self.state)

    def wait_began(self) -> datetime:
        """When the current wait began: recorded by the step's event; for a case whose step was
        recorded before that, its last change (a reminder then pins it)."""
        return datetime.fromisoformat(self.waiting_since) if self.waiting_since else self.modified_on

    def follow_up(self, now: datetime, schedule: Schedule) -> bool:
        """The system, for a step that waits for someone (``now``: an aware datetime; ``schedule``:
        services/cases/waiting.Schedule): a reminder to whoever it waits for when one is due, and at
        expiry: a chosen mentor who did not accept goes to the next round without them (flagged for
        the moderators when urgent: the escalation); a mentor's overdue work is flagged for the
        moderators (once); a mentee's overdue step closes the case as abandoned. Returns False,
        changing nothing, when nothing is due (so a second sweep, or another process's, does nothing)."""
        waiting = self.waiting_step()
        if waiting is None or (self.flag is not None and self.flag["reason"] == FLAG_MENTOR_OVERDUE):
            return False
        step, waits_on = waiting
        since = self.wait_began()
        waited = (now - since).total_seconds()
        due = schedule.plan(self.form["urgency"], step).due(waited, self.reminded)
        if due is None:
            return False
        action, number = due
        if action == "remind":
            recipient = self.mentor_id if waits_on == "mentor" else self.author_id
            self._reminded(
                step=step, recipient_id=recipient, number=number, since=since.isoformat(), at=now.isoformat()
            )
        elif step == "acceptance":
            self._lapse_acceptance(waited, now)
        elif waits_on == "mentor":
            self._flagged(reason=FLAG_MENTOR_OVERDUE, round=self.round, at=now.isoformat())
        else:
            self._abandoned(step=step, state=self.state, at=now.isoformat())
        return True

    def reopen(self, actor_id: str, *, now: datetime) -> None:
        """The author takes an abandoned case up again, where it stood; its schedule starts anew."""
        self._require(self.is_author(actor_id), "Only the case's author reopens it.")
        self._require_state(ABANDONED)
        assert self.abandoned is not None  # recorded with the state ABANDONED
        self._reopened(state=self.abandoned["state"], at=now.isoformat())

    def request_second_opinion(self, actor_id: str) -> None:
        """Once per case: another mentor goes the same way; the reflection then covers both."""
        self._require(self.is_author(actor_id), "Only the case's author asks for a second opinion.")
        self._require_state(SOLUTION_PROPOSED)
        if self.opinion > 1:
            raise Conflict(
                "A second opinion was already asked for; it is allowed once per case.",
                details={"state": self.state, "version": self.version},
            )
        self._second_opinion_requested(next_round=self.round + 1, excluded_mentor_ids=self._excluded_from_next_round())

    def withdraw(self, actor_id: str, reason: str | None = "") -> None:
        self._require(self.is_author(actor_id), "Only the case's author withdraws it.")
        if self.state in CLOSED:
            self._refuse_state()
        self._withdrawn(reason=reason or "")

    def close_for_erased_author(self, *, now: datetime) -> bool:
        """The system, when the case's author was erased (identity's PersonErased): a case not finished
        (neither completed nor withdrawn; an abandoned one too, which nobody can reopen now) is closed for
        good, and who waited on it is named in the event to be told: its mentor (chosen, working, or of
        the abandoned case) and the mentors proposed in the round the author was choosing from. Returns
        False, changing nothing, for a finished case: a redelivered erasure closes nothing twice, and a
        completed case keeps its outcome.

        Not ``withdraw``: only the author withdraws their case, with a reason of their own, and here the
        author did not act; a system actor there would weaken that rule and put a code in the author's
        free-text reason. The closure is its own event (AuthorErased), so the history, the research
        export and the notifications tell it apart from a withdrawal, and it ends in the closed state
        WITHDRAWN: every rule of a closed case holds as it is (nothing more is done on it), matching
        frees the mentor, and the statistics count it among the withdrawn cases (no state of its own
        for every reader of states to learn)."""
        if self.state in CLOSED:
            return False
        proposed = [p["mentor_id"] for p in self.proposals] if self.state == CHOOSING_MENTOR else []
        self._author_erased(mentor_id=self.mentor_id, proposed_mentor_ids=proposed, at=now.isoformat())
        return True

    # ---- questions, answers, redefinition ---------------------------------------------

    def ask_questions(
        self,
        actor_id: str,
        questions: Sequence[Mapping[str, Any]],
        request_key: str | None = None,
        *,
        now: datetime,
    ) -> list[str]:
        """Questions from the hint bank (``bank_text`` filled in) or "other"; clarifying or developing.
        A question asked from a suggestion (services/cases/question_suggestions.py) carries its
        ``suggestion_id`` and ``suggestion_use`` (as_is or edited), recorded so usefulness can be
        measured; questions recorded before them have neither."""
        self._require(self.is_chosen_mentor(actor_id), "Only the case's mentor asks questions.")
        key = request_key or f"{self.version}"
        ids = [str(uuid.uuid5(self.id, f"question:{key}:{i}")) for i in range(len(questions))]
        if any(q["id"] == ids[0] for q in self.questions):
            return ids  # the same request again
        self._require_state(IN_PROGRESS, AWAITING_ANSWERS)
        asked = [
            {
                "id": qid,
                "bank_id": q.get("bank_id"),
                "text": q["text"],
                "kind": q["kind"],
                **(
                    {"suggestion_id": q["suggestion_id"], "suggestion_use": q["suggestion_use"]}
                    if q.get("suggestion_id")
                    else {}
                ),
            }
            for qid, q in zip(ids, questions)
        ]
        self._questions_asked(mentor_id=actor_id, questions=asked, at=now.isoformat())
        return ids

    def answer_questions(self, actor_id: str, answers: Sequence[Mapping[str, Any]], *, now: datetime) -> None:
        self._require(self.is_author(actor_id), "Only the case's author answers its questions.")
        self._require_state(AWAITING_ANSWERS)
        open_ids = {q["id"] for q in self.questions if q["answer"] is None}
        unknown = [a["question_id"] for a in answers if a["question_id"] not in open_ids]
        if unknown:
            raise InvalidInput(
                "Answer only the open questions of this case.",
                {"answers": [f"Not an open question: {', '.join(unknown)}."]},
            )
        self._questions_answered(
            answers=[{"question_id": a["question_id"], "text": a["text"]} for a in answers], at=now.isoformat()
        )

    def keep_request(self, actor_id: str, *, now: datetime) -> None:
        """ "No, I want to keep the first version of the request" (shown to the mentor)."""
        self._require(self.is_author(actor_id), "Only the case's author decides on the request.")
        self._require_state(AWAITING_DECISION)
        self._request_kept(revision=self.revision, at=now.isoformat())

    def redefine(self, actor_id: str, form: Mapping[str, Any], *, now: datetime) -> None:
        """ "Define the problem more precisely": the whole form again, as the next revision."""
        self._require(self.is_author(actor_id), "Only the case's author redefines it.")
        self._require_state(AWAITING_DECISION)
        if self.revision >= MAX_REVISIONS:
            raise Conflict(
                f"The request was already redefined {MAX_REVISIONS - 1} times, the most allowed.",
                details={"state": self.state, "revision": self.revision, "version": self.version},
            )
        self._redefined(form=dict(form), at=now.isoformat())

    # ---- formats ----------------------------------------------------------------------

    def share_with_colleagues(self, actor_id: str, colleague_ids: Sequence[str]) -> None:
        """ "Take opinion of a colleague": only with the author's consent to group discussion."""
        self._require(self.is_chosen_mentor(actor_id), "Only the case's mentor shares it with colleagues.")
        self._require_consent()
        self._require_state(*WORKING)
        invalid = [c for c in colleague_ids if c in (actor_id, self.author_id)]
        if invalid:
            raise InvalidInput(
                "Colleagues are other mentors.", {"colleague_ids": ["Neither the case's mentor nor its author."]}
            )
        new = [c for c in dict.fromkeys(colleague_ids) if c not in self.colleague_ids]
        if new:
            self._shared_with_colleagues(mentor_id=actor_id, colleague_ids=new)

    def add_opinion(self, actor_id: str, text: str, request_key: str | None = None, *, now: datetime) -> str:
        self._require(self.is_colleague(actor_id), "Only a colleague the mentor asked adds an opinion.")
        self._require_state(*WORKING)
        opinion_id = str(uuid.uuid5(self.id, f"opinion:{request_key or len(self.opinions) + 1}"))
        if any(o["id"] == opinion_id for o in self.opinions):
            return opinion_id
        self._opinion_added(opinion_id=opinion_id, colleague_id=actor_id, text=text, at=now.isoformat())
        return opinion_id

    def publish_to_forum(self, actor_id: str, thread_id: str | None = None, title: str | None = None) -> None:
        """Public format: the case, impersonal, to the forum, as a new thread or into one."""
        self._require(self.is_author(actor_id), "Only the case's author publishes it to the forum.")
        self._require_consent()
        if self.state == WITHDRAWN:
            self._refuse_state()
        self._published_to_forum(thread_id=thread_id, title=title)

    def send_message(self, actor_id: str, text: str, request_key: str | None = None, *, now: datetime) -> str:
        """Personal format only: a message between the author and the mentor working on the case."""
        if self.form["mode"] != "personal":
            raise Forbidden("Messages are for personal-mode cases; in anonymous mode only solutions reach the author.")
        self._require(
            self.is_author(actor_id) or self.is_chosen_mentor(actor_id),
            "Only the author and the case's mentor exchange messages.",
        )
        self._require_state(*WORKING)
        message_id = str(uuid.uuid5(self.id, f"message:{request_key or len(self.messages) + 1}"))
        if any(m["id"] == message_id for m in self.messages):
            return message_id
        recipient = self.mentor_id if self.is_author(actor_id) else self.author_id
        self._message_sent(
            message_id=message_id, sender_id=actor_id, recipient_id=recipient, text=text, at=now.isoformat()
        )
        return message_id

    def withdraw_publication_consent(self, actor_id: str) -> None:
        """The author takes back consent to publishing the case (the library's draft, a forum post
        waiting for review, or an entry already published): once; a repeat changes nothing."""
        self._require(self.is_author(actor_id), "Only the case's author withdraws consent to publication.")
        if not (self.form["publication_consent"] or self.forum_publications):
            raise Conflict(
                "The case was never offered for publication.", details={"state": self.state, "version": self.version}
            )
        if not self.consent_withdrawn:
            self._publication_consent_withdrawn()

    @property
    def publishes(self) -> bool:
        """Whether the completed case goes to the library: the form's consent, not withdrawn since."""
        return bool(self.form["publication_consent"]) and not self.consent_withdrawn

    @property
    def consent_withdrawn(self) -> bool:
        # a snapshot taken before the attribute existed lacks it
        return getattr(self, "publication_consent_withdrawn", False)

    # ---- solution and completion ------------------------------------------------------

    def propose_solution(
        self,
        actor_id: str,
        text: str,
        materials: Iterable[Mapping[str, Any]],
        request_key: str | None = None,
        *,
        now: datetime,
    ) -> str:
        """``request_key`` makes a retried request a no-op instead of a second solution."""
        self._require(self.is_chosen_mentor(actor_id), "Only the case's mentor proposes a solution.")
        solution_id = str(uuid.uuid5(self.id, f"solution:{request_key or len(self.solutions) + 1}"))
        if any(s["id"] == solution_id for s in self.solutions):
            return solution_id
        self._require_state(IN_PROGRESS, SOLUTION_PROPOSED)
        self._solution_proposed(
            solution_id=solution_id,
            mentor_id=actor_id,
            text=text,
            materials=[dict(m) for m in materials],
            at=now.isoformat(),
        )
        return solution_id

    def complete(self, actor_id: str, reflection: Mapping[str, Any]) -> None:
        """The reflection sheet rates every solution received (both, after a second opinion)."""
        self._require(self.is_author(actor_id), "Only the case's author completes it.")
        self._require_state(SOLUTION_PROPOSED)
        rated, received = set(reflection["helpfulness"]), {s["id"] for s in self.solutions}
        if rated != received:
            raise InvalidInput(
                "Rate the helpfulness of every solution, and only those.",
                {"helpfulness": [f"Expected ratings for: {', '.join(sorted(received))}."]},
            )
        self._completed(reflection=dict(reflection))

    # ---- events -----------------------------------------------------------------------

    class MentorsProposed(TimedSinceV2, Aggregate.Event):
        round: int
        proposals: list[dict[str, Any]]
        at: str | None

    @event(MentorsProposed)
    def _mentors_proposed(self, round: int, proposals: list[dict[str, Any]], at: str | None) -> None:
        self.round = round
        self._wait_began(at)
        self.proposals = proposals
        if self.flag is not None and self.flag["reason"] == FLAG_PROPOSALS_OVERDUE:
            self.flag = None  # the proposals came after all: nothing left for the moderators
        self.state = CHOOSING_MENTOR if proposals else NO_MENTOR_FOUND

    class MentorChosen(TimedSinceV2, Aggregate.Event):
        mentor_id: str
        round: int
        at: str | None

    @event(MentorChosen)
    def _mentor_chosen(self, mentor_id: str, round: int, at: str | None) -> None:
        self.mentor_id = mentor_id
        self.chosen_at = at
        self._wait_began(at)
        self.engagements.append(
            {"mentor_id": mentor_id, "round": round, "opinion": self.opinion, "outcome": "chosen", "reason": None}
        )
        self.state = AWAITING_ACCEPTANCE

    class MentorAccepted(TimedSinceV2, Aggregate.Event):
        mentor_id: str
        at: str | None

    @event(MentorAccepted)
    def _mentor_accepted(self, mentor_id: str, at: str | None) -> None:
        self.engagements[-1]["outcome"] = "accepted"
        self._wait_began(at)
        self.chosen_at = None
        self.flag = None  # a mentor works on it: nothing left for the moderators
        self.state = IN_PROGRESS

    @event("MentorDeclined")
    def _mentor_declined(self, mentor_id: str, reason: str, next_round: int, excluded_mentor_ids: list[str]) -> None:
        self.engagements[-1].update(outcome="declined", reason=reason or None)
        self.mentor_id = None
        self.chosen_at = None
        self.proposals = []
        self.state = AWAITING_PROPOSALS

    @event("MentorReleased")
    def _mentor_released(self, mentor_id: str, reason: str, next_round: int, excluded_mentor_ids: list[str]) -> None:
        if self.mentor_id == mentor_id:  # chosen (or working), not only proposed
            self.engagements[-1].update(outcome="released", reason=reason)
        self.mentor_id = None
        self.chosen_at = None
        self.proposals = []
        self.state = AWAITING_PROPOSALS

    @event("Escalated")
    def _escalated(
        self, mentor_id: str | None, next_round: int, excluded_mentor_ids: list[str], waited_seconds: int
    ) -> None:
        self.engagements[-1].update(outcome="escalated", reason=None)
        self.mentor_id = None
        self.chosen_at = None
        self.proposals = []
        self.state = AWAITING_PROPOSALS

    @event("Flagged")
    def _flagged(self, reason: str, round: int, at: str | None) -> None:
        self.flag = {"reason": reason, "round": round, "at": at}

    @event("Reminded")
    def _reminded(self, step: str, recipient_id: str | None, number: int, since: str, at: str | None) -> None:
        self.waiting_since = since  # pinned, for a wait whose beginning was not recorded
        self.reminded = number

    @event("Abandoned")
    def _abandoned(self, step: str, state: str, at: str | None) -> None:
        self.abandoned = {"step": step, "state": state, "at": at}
        self.state = ABANDONED

    @event("Reopened")
    def _reopened(self, state: str, at: str | None) -> None:
        self.abandoned = None
        self._wait_began(at)
        self.state = state

    @event("SecondOpinionRequested")
    def _second_opinion_requested(self, next_round: int, excluded_mentor_ids: list[str]) -> None:
        self.opinion = 2
        self.mentor_id = None
        self.proposals = []
        self.state = AWAITING_PROPOSALS

    @event("Withdrawn")
    def _withdrawn(self, reason: str) -> None:
        self.withdrawn_reason = reason or None
        self.chosen_at = None
        self.flag = None
        self.state = WITHDRAWN

    @event("AuthorErased")
    def _author_erased(self, mentor_id: str | None, proposed_mentor_ids: list[str], at: str | None) -> None:
        # the mentor stays named: they still open the case they worked on, as after a withdrawal
        self.chosen_at = None
        self.flag = None
        self.abandoned = None
        self.state = WITHDRAWN

    @event("QuestionsAsked")
    def _questions_asked(self, mentor_id: str, questions: list[dict[str, Any]], at: str | None) -> None:
        for q in questions:
            self.questions.append(
                {
                    **q,
                    "asked_by": mentor_id,
                    "asked_at": at,
                    "revision": self.revision,
                    "answer": None,
                    "answered_at": None,
                }
            )
        self._mentor_acted(at)
        self.state = AWAITING_ANSWERS

    @event("QuestionsAnswered")
    def _questions_answered(self, answers: list[dict[str, Any]], at: str | None) -> None:
        by_id = {q["id"]: q for q in self.questions}
        for a in answers:
            by_id[a["question_id"]].update(answer=a["text"], answered_at=at)
        self._wait_began(at)
        if all(q["answer"] is not None for q in self.questions):
            self.state = AWAITING_DECISION

    class RequestKept(TimedSinceV2, Aggregate.Event):
        revision: int
        at: str | None

    @event(RequestKept)
    def _request_kept(self, revision: int, at: str | None) -> None:
        self.decision = "kept"
        self._wait_began(at)
        self.state = IN_PROGRESS

    class CaseRedefined(TimedSinceV2, Aggregate.Event):
        form: dict[str, Any]
        at: str | None

    @event(CaseRedefined)
    def _redefined(self, form: dict[str, Any], at: str | None) -> None:
        self.revisions.append(form)
        self._wait_began(at)
        self.decision = "redefined"
        self.state = IN_PROGRESS

    @event("SharedWithColleagues")
    def _shared_with_colleagues(self, mentor_id: str, colleague_ids: list[str]) -> None:
        self.colleague_ids.extend(colleague_ids)

    @event("ColleagueOpinionAdded")
    def _opinion_added(self, opinion_id: str, colleague_id: str, text: str, at: str | None) -> None:
        self.opinions.append({"id": opinion_id, "colleague_id": colleague_id, "text": text, "created_at": at})

    @event("PublishedToForum")
    def _published_to_forum(self, thread_id: str | None, title: str | None) -> None:
        # version: this event's (self.version is the one before it), which names the thread the
        # library opens when no thread_id is given (contracts/forum.py)
        self.forum_publications.append({"thread_id": thread_id, "title": title, "version": self.version + 1})

    @event("PublicationConsentWithdrawn")
    def _publication_consent_withdrawn(self) -> None:
        self.publication_consent_withdrawn = True

    @event("MessageSent")
    def _message_sent(
        self, message_id: str, sender_id: str, recipient_id: str | None, text: str, at: str | None
    ) -> None:
        self.messages.append({"id": message_id, "sender_id": sender_id, "text": text, "sent_at": at})

    @event("SolutionProposed")
    def _solution_proposed(
        self, solution_id: str, mentor_id: str, text: str, materials: list[dict[str, Any]], at: str | None
    ) -> None:
        self.solutions.append(
            {
                "id": solution_id,
                "mentor_id": mentor_id,
                "text": text,
                "materials": materials,
                "created_at": at,
                "opinion": self.opinion,
            }
        )
        self._mentor_acted(at)
        self.state = SOLUTION_PROPOSED

    @event("Completed")
    def _completed(self, reflection: dict[str, Any]) -> None:
        self.reflection = reflection
        self.flag = None
        self.state = COMPLETED

    def _wait_began(self, at: str | None) -> None:
        """A step that waits for someone began (``at``: None in events recorded before it): its
        reminders count from here."""
        self.waiting_since = at
        self.reminded = 0

    def _mentor_acted(self, at: str | None) -> None:
        """The mentor's questions or solution: a new wait (for the mentee), and the mentor's work is
        no longer overdue for the moderators."""
        self._wait_began(at)
        if self.flag is not None and self.flag["reason"] == FLAG_MENTOR_OVERDUE:
            self.flag = None

    # ---- rules ------------------------------------------------------------------------

    @staticmethod
    def _require(allowed: object, message: str) -> None:
        if not allowed:
            raise Forbidden(message)

    def _require_chosen_mentor(self, actor_id: str, message: str) -> None:
        """The chosen mentor may answer the choice. A mentor who was chosen for this case but no longer
        is acts on a case that moved on since: typically the loser of concurrent declines, which saw
        the case before the winner's decline. That is a conflict with its current state (409), like
        any other command that lost a race, not a question of rights. Anyone never chosen gets 403.
        (Used for declines; an accept by a mentor no longer chosen stays a 403, as escalation's
        tests assert: they let the case lapse, they did not lose a race.)"""
        if not self.is_chosen_mentor(actor_id) and any(e["mentor_id"] == actor_id for e in self.engagements):
            raise Conflict(
                f"The case is {self.state}; you are no longer its chosen mentor.",
                details={"state": self.state, "version": self.version},
            )
        self._require(self.is_chosen_mentor(actor_id), message)

    def _require_consent(self) -> None:
        if not self.form["group_discussion_consent"]:
            raise Forbidden("The author did not consent to group discussion of this case.")

    def _require_state(self, *states: str) -> None:
        if self.state not in states:
            self._refuse_state(states)

    def _refuse_state(self, states: tuple[str, ...] = ()) -> NoReturn:
        needed = f"; this needs it to be {' or '.join(states)}" if states else ""
        raise Conflict(f"The case is {self.state}{needed}.", details={"state": self.state, "version": self.version})
