"""Maps the cases log to integration envelopes (contracts/events.py), for the relay.

Only what consumers need leaves the service: ids, rubrics, states; the case's free text
leaves only in CaseCompleted, and only when the author consented to publication.
"""
import json
from collections import OrderedDict

from contracts.envelope import Envelope
from contracts.events import dump_payload
from services.cases.application import event_id, open_application
from services.cases.domain import Case
from services.common.relay import Outgoing


def _ref(case):
    return {"case_id": str(case.id), "case_number": case.number}


def _publication(case):
    form = case.form
    return {
        "clarifications": [{"question": q["text"], "kind": q["kind"], "answer": q["answer"]}
                           for q in case.questions],
        "essence": form["essence"], "actions_taken": form.get("actions_taken", ""),
        "difficulty": form.get("difficulty", ""), "question": form["question"],
        "participants": form.get("participants", []), "rubrics": form["rubrics"],
        "urgency": form["urgency"],
        "solutions": [{"text": s["text"], "materials": s["materials"]} for s in case.solutions],
    }


def integration_payload(domain_event, case):
    """(type, payload) for a domain event with the case as of that event, or None."""
    if isinstance(domain_event, Case.Created):
        form = case.form
        return "CaseCreated", {**_ref(case), "rubrics": form["rubrics"], "urgency": form["urgency"],
                               "mode": form["mode"], "participants": form.get("participants", [])}
    if isinstance(domain_event, Case.MentorsProposed):
        return "MentorsProposed", {**_ref(case), "round": case.round, "author_id": case.author_id,
                                   "mentor_ids": [p["mentor_id"] for p in case.proposals]}
    if isinstance(domain_event, Case.MentorChosen):
        return "MentorChosen", {**_ref(case), "round": case.round, "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.MentorAccepted):
        return "MentorAccepted", {**_ref(case), "mentor_id": case.mentor_id, "author_id": case.author_id}
    if isinstance(domain_event, Case.SolutionProposed):
        return "SolutionProposed", {**_ref(case), "solution_id": domain_event.solution_id,
                                    "mentor_id": domain_event.mentor_id, "author_id": case.author_id}
    if isinstance(domain_event, (Case.MentorDeclined, Case.SecondOpinionRequested)):
        payload = {**_ref(case), "author_id": case.author_id, "next_round": domain_event.next_round,
                   "rubrics": case.form["rubrics"], "excluded_mentor_ids": domain_event.excluded_mentor_ids}
        if isinstance(domain_event, Case.MentorDeclined):
            return "MentorDeclined", {**payload, "mentor_id": domain_event.mentor_id}
        return "SecondOpinionRequested", payload
    if isinstance(domain_event, Case.Escalated):
        return "CaseEscalated", {**_ref(case), "author_id": case.author_id, "next_round": domain_event.next_round,
                                 "rubrics": case.form["rubrics"],
                                 "excluded_mentor_ids": domain_event.excluded_mentor_ids,
                                 "mentor_id": domain_event.mentor_id, "urgency": case.form["urgency"]}
    if isinstance(domain_event, Case.Flagged):
        return "CaseFlagged", {**_ref(case), "reason": domain_event.reason, "round": domain_event.round}
    if isinstance(domain_event, Case.Withdrawn):
        return "CaseWithdrawn", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.QuestionsAsked):
        return "QuestionsAsked", {**_ref(case), "author_id": case.author_id, "mentor_id": domain_event.mentor_id,
                                  "count": len(domain_event.questions)}
    if isinstance(domain_event, Case.QuestionsAnswered):
        return "QuestionsAnswered", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.RequestKept):
        return "RequestKept", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.CaseRedefined):
        return "CaseRedefined", {**_ref(case), "mentor_id": case.mentor_id, "revision": case.revision,
                                 "rubrics": case.form["rubrics"]}
    if isinstance(domain_event, Case.SharedWithColleagues):
        return "CaseSharedWithColleagues", {**_ref(case), "mentor_id": domain_event.mentor_id,
                                            "colleague_ids": domain_event.colleague_ids}
    if isinstance(domain_event, Case.ColleagueOpinionAdded):
        return "ColleagueOpinionAdded", {**_ref(case), "mentor_id": case.mentor_id,
                                         "colleague_id": domain_event.colleague_id}
    if isinstance(domain_event, Case.MessageSent):
        return "MessageSent", {**_ref(case), "sender_id": domain_event.sender_id,
                               "recipient_id": domain_event.recipient_id}
    if isinstance(domain_event, Case.PublishedToForum):
        # impersonal: no case id or number, no author; the library scrubs the text
        form = case.form
        return "CasePublishedToForum", {"thread_id": domain_event.thread_id,
                                        "title": domain_event.title or "", "essence": form["essence"],
                                        "question": form["question"], "rubrics": form["rubrics"],
                                        "urgency": form["urgency"]}
    if isinstance(domain_event, Case.Completed):
        consent = bool(case.form["publication_consent"])
        return "CaseCompleted", {**_ref(case), "rubrics": case.form["rubrics"],
                                 "problem_solved": case.reflection["problem_solved"],
                                 "publication_consent": consent,
                                 "publication": _publication(case) if consent else None}
    return None


class CaseLogReader:
    """The relay's source: the application's notification log, read past a position.

    Each event is mapped with the case as of that event. The reader keeps the cases it mapped
    last (``cache_size``) and moves each one event forward, instead of loading every case from
    its whole stream again for every event (quadratic in the length of a case).
    """

    def __init__(self, cache_size=10_000):
        self.cache_size = cache_size
        self._cases = OrderedDict()  # case id -> Case as of the last event this reader mapped

    def setup(self, container, store):
        self.app = open_application(container.config["DATABASE_URL"], pool_size=2)

    def case_at(self, domain_event):
        """The case right after ``domain_event``: the cached case moved one event on, else loaded."""
        case_id, version = domain_event.originator_id, domain_event.originator_version
        case = self._cases.pop(case_id, None)
        if case is not None and case.version == version - 1:
            case = domain_event.mutate(case)
        elif isinstance(domain_event, Case.Created):
            case = domain_event.mutate(None)
        else:  # not cached (evicted, or the relay restarted mid-case), or relayed twice
            case = self.app.get_case_at(case_id, version)
        self._cases[case_id] = case
        if len(self._cases) > self.cache_size:
            self._cases.popitem(last=False)
        return case

    def read(self, after, limit):
        # eventsourcing's notification_log.select refuses limit > 10; the recorder does not.
        notifications = self.app.recorder.select_notifications(start=after + 1, limit=limit)
        messages = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            mapped = integration_payload(domain_event, self.case_at(domain_event))
            if mapped is None:
                continue
            event_type, payload = mapped
            version, data = dump_payload(event_type, payload)
            envelope = Envelope(
                event_id=event_id(domain_event.originator_id, domain_event.originator_version),
                type=event_type, schema_version=version, source="cases",
                aggregate_id=str(domain_event.originator_id), position=notification.id,
                occurred_at=domain_event.timestamp, payload=data,
                correlation_id=getattr(domain_event, "correlation_id", "") or "",
            )
            messages.append(Outgoing(position=notification.id, type=event_type, event_id=str(envelope.event_id),
                                     correlation_id=envelope.correlation_id,
                                     body=json.dumps(envelope.to_message())))
        last = notifications[-1].id if notifications else after
        return last, messages
