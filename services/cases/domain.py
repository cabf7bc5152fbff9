"""The Case aggregate: the unit of mentoring work, an append-only stream of decided facts.

Public methods are commands: they check who acts and in which state, then trigger a
decorated event whose body only applies the fact (it runs again on every replay).
No I/O here: identifiers, numbers and the acting user come in as arguments.
"""
import uuid

from eventsourcing.domain import Aggregate, event

from contracts.errors import Conflict, Forbidden, InvalidInput

AWAITING_PROPOSALS = "awaiting_proposals"
NO_MENTOR_FOUND = "no_mentor_found"
CHOOSING_MENTOR = "choosing_mentor"
AWAITING_ACCEPTANCE = "awaiting_acceptance"
IN_PROGRESS = "in_progress"
SOLUTION_PROPOSED = "solution_proposed"
COMPLETED = "completed"


class Case(Aggregate):

    @event("Created")
    def __init__(self, number, author_id, form):
        self.number = number
        self.author_id = author_id
        self.revisions = [dict(form)]
        self.state = AWAITING_PROPOSALS
        self.round = 0
        self.proposals = []
        self.mentor_id = None
        self.solutions = []
        self.reflection = None

    @classmethod
    def file(cls, case_id, number, author_id, form):
        """Create with a given id: the id is derived from the request, so a retried request
        cannot file the same case twice."""
        return cls._create(cls.Created, id=case_id, number=number, author_id=author_id, form=form)

    # ---- queries ----------------------------------------------------------------------

    @property
    def form(self):
        return self.revisions[-1]

    @property
    def revision(self):
        return len(self.revisions)

    def is_author(self, user_id):
        return user_id == self.author_id

    def is_chosen_mentor(self, user_id):
        return self.mentor_id is not None and user_id == self.mentor_id

    # ---- commands ---------------------------------------------------------------------

    def record_proposals(self, round, proposals):
        """Matching's answer for a round; a round already recorded is ignored (redelivery)."""
        if round <= self.round or self.state not in (AWAITING_PROPOSALS, NO_MENTOR_FOUND):
            return False
        self._mentors_proposed(round=round, proposals=[dict(p) for p in proposals])
        return True

    def choose_mentor(self, actor_id, mentor_id):
        self._require(self.is_author(actor_id), "Only the case's author chooses its mentor.")
        self._require_state(CHOOSING_MENTOR)
        if mentor_id not in {p["mentor_id"] for p in self.proposals}:
            raise InvalidInput("Choose one of the proposed mentors.",
                               {"mentor_id": ["Not among the mentors proposed for this case."]})
        self._mentor_chosen(mentor_id=mentor_id, round=self.round)

    def accept(self, actor_id):
        self._require(self.is_chosen_mentor(actor_id), "Only the chosen mentor accepts the case.")
        self._require_state(AWAITING_ACCEPTANCE)
        self._mentor_accepted(mentor_id=actor_id)

    def propose_solution(self, actor_id, text, materials, request_key=None):
        """``request_key`` makes a retried request a no-op instead of a second solution."""
        self._require(self.is_chosen_mentor(actor_id), "Only the case's mentor proposes a solution.")
        solution_id = str(uuid.uuid5(self.id, f"solution:{request_key or len(self.solutions) + 1}"))
        if any(s["id"] == solution_id for s in self.solutions):
            return solution_id
        self._require_state(IN_PROGRESS, SOLUTION_PROPOSED)
        self._solution_proposed(solution_id=solution_id, mentor_id=actor_id, text=text,
                                materials=[dict(m) for m in materials])
        return solution_id

    def complete(self, actor_id, reflection):
        self._require(self.is_author(actor_id), "Only the case's author completes it.")
        self._require_state(SOLUTION_PROPOSED)
        self._completed(reflection=dict(reflection))

    # ---- events -----------------------------------------------------------------------

    @event("MentorsProposed")
    def _mentors_proposed(self, round, proposals):
        self.round = round
        self.proposals = proposals
        self.state = CHOOSING_MENTOR if proposals else NO_MENTOR_FOUND

    @event("MentorChosen")
    def _mentor_chosen(self, mentor_id, round):
        self.mentor_id = mentor_id
        self.state = AWAITING_ACCEPTANCE

    @event("MentorAccepted")
    def _mentor_accepted(self, mentor_id):
        self.state = IN_PROGRESS

    @event("SolutionProposed")
    def _solution_proposed(self, solution_id, mentor_id, text, materials):
        self.solutions.append({"id": solution_id, "mentor_id": mentor_id, "text": text,
                               "materials": materials, "created_at": self.modified_on.isoformat()})
        self.state = SOLUTION_PROPOSED

    @event("Completed")
    def _completed(self, reflection):
        self.reflection = reflection
        self.state = COMPLETED

    # ---- rules ------------------------------------------------------------------------

    @staticmethod
    def _require(allowed, message):
        if not allowed:
            raise Forbidden(message)

    def _require_state(self, *states):
        if self.state not in states:
            raise Conflict(f"The case is {self.state}; this needs it to be {' or '.join(states)}.",
                           details={"state": self.state, "version": self.version})
