"""What each event of a case becomes on the wire, checked against its contract when it is saved.

The relay (integration.py) publishes ``integration_payload`` of every stored event. The cases
application runs the same mapping on the events it is about to store (``check_and_stamp``), so:

- an event whose integration payload breaks its contract (say, a field over its maximum length) fails
  its command with ContractBroken, a 400 naming the payload's fields, and is never stored; it can
  never be the stored event that every later one waits behind in the relay;
- an event whose payload its consumers will load exactly as it is (the contract's load returns it
  unchanged) is stamped with the contract version it passed (``contract_version``, stored with
  the event), and the relay publishes it without checking it again: the check was half of the
  relay's time (bench/README.md). Events without the stamp, or stamped with a version that is no
  longer the current one, are checked by the relay as before (``wire_payload``).

Only what consumers need leaves the service: ids, rubrics, states; the case's free text
leaves only in CaseCompleted, and only when the author consented to publication (with how
helpful the author found each solution: the library ranks what worked first).
"""

from contracts.errors import ContractBroken  # noqa: F401 - raised here, imported from here by callers
from contracts.events import CURRENT_VERSION, PayloadBreaksContract, dump_payload, load_outgoing
from contracts.validation import field_errors
from services.cases.domain import Case
from services.common.library_internals.eventsourcing_application import stamp

CONTRACT_STAMP = "contract_version"


def _ref(case):
    return {"case_id": str(case.id), "case_number": case.number}


def _publication(case):
    form = case.form
    return {
        "clarifications": [{"question": q["text"], "kind": q["kind"], "answer": q["answer"]} for q in case.questions],
        "essence": form["essence"],
        "actions_taken": form.get("actions_taken", ""),
        "difficulty": form.get("difficulty", ""),
        "question": form["question"],
        "participants": form.get("participants", []),
        "rubrics": form["rubrics"],
        "urgency": form["urgency"],
        "solutions": [
            {
                "text": s["text"],
                "materials": s["materials"],
                "helpfulness": (case.reflection or {}).get("helpfulness", {}).get(s["id"]),
            }
            for s in case.solutions
        ],
    }


def integration_payload(domain_event, case):
    """(type, payload) for a domain event with the case as of that event, or None."""
    if isinstance(domain_event, Case.Created):
        form = case.form
        return "CaseCreated", {
            **_ref(case),
            "rubrics": form["rubrics"],
            "urgency": form["urgency"],
            "mode": form["mode"],
            "participants": form.get("participants", []),
        }
    if isinstance(domain_event, Case.MentorsProposed):
        return "MentorsProposed", {
            **_ref(case),
            "round": case.round,
            "author_id": case.author_id,
            "mentor_ids": [p["mentor_id"] for p in case.proposals],
        }
    if isinstance(domain_event, Case.MentorChosen):
        return "MentorChosen", {**_ref(case), "round": case.round, "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.MentorAccepted):
        return "MentorAccepted", {**_ref(case), "mentor_id": case.mentor_id, "author_id": case.author_id}
    if isinstance(domain_event, Case.SolutionProposed):
        return "SolutionProposed", {
            **_ref(case),
            "solution_id": domain_event.solution_id,
            "mentor_id": domain_event.mentor_id,
            "author_id": case.author_id,
        }
    if isinstance(domain_event, (Case.MentorDeclined, Case.SecondOpinionRequested)):
        payload = {
            **_ref(case),
            "author_id": case.author_id,
            "next_round": domain_event.next_round,
            "rubrics": case.form["rubrics"],
            "excluded_mentor_ids": domain_event.excluded_mentor_ids,
        }
        if isinstance(domain_event, Case.MentorDeclined):
            return "MentorDeclined", {**payload, "mentor_id": domain_event.mentor_id}
        return "SecondOpinionRequested", {**payload, "mentor_id": _first_opinion_mentor(case)}
    if isinstance(domain_event, Case.Escalated):
        return "CaseEscalated", {
            **_ref(case),
            "author_id": case.author_id,
            "next_round": domain_event.next_round,
            "rubrics": case.form["rubrics"],
            "excluded_mentor_ids": domain_event.excluded_mentor_ids,
            "mentor_id": domain_event.mentor_id,
            "urgency": case.form["urgency"],
        }
    if isinstance(domain_event, Case.MentorReleased):
        return "MentorReleased", {
            **_ref(case),
            "author_id": case.author_id,
            "next_round": domain_event.next_round,
            "rubrics": case.form["rubrics"],
            "excluded_mentor_ids": domain_event.excluded_mentor_ids,
            "mentor_id": domain_event.mentor_id,
            "reason": domain_event.reason,
        }
    if isinstance(domain_event, Case.Flagged):
        return "CaseFlagged", {**_ref(case), "reason": domain_event.reason, "round": domain_event.round}
    if isinstance(domain_event, Case.Withdrawn):
        return "CaseWithdrawn", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.QuestionsAsked):
        return "QuestionsAsked", {
            **_ref(case),
            "author_id": case.author_id,
            "mentor_id": domain_event.mentor_id,
            "count": len(domain_event.questions),
        }
    if isinstance(domain_event, Case.QuestionsAnswered):
        return "QuestionsAnswered", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.RequestKept):
        return "RequestKept", {**_ref(case), "mentor_id": case.mentor_id}
    if isinstance(domain_event, Case.CaseRedefined):
        return "CaseRedefined", {
            **_ref(case),
            "mentor_id": case.mentor_id,
            "revision": case.revision,
            "rubrics": case.form["rubrics"],
        }
    if isinstance(domain_event, Case.SharedWithColleagues):
        return "CaseSharedWithColleagues", {
            **_ref(case),
            "mentor_id": domain_event.mentor_id,
            "colleague_ids": domain_event.colleague_ids,
        }
    if isinstance(domain_event, Case.ColleagueOpinionAdded):
        return "ColleagueOpinionAdded", {
            **_ref(case),
            "mentor_id": case.mentor_id,
            "colleague_id": domain_event.colleague_id,
        }
    if isinstance(domain_event, Case.MessageSent):
        return "MessageSent", {
            **_ref(case),
            "sender_id": domain_event.sender_id,
            "recipient_id": domain_event.recipient_id,
        }
    if isinstance(domain_event, Case.PublishedToForum):
        # the library scrubs the text and publishes neither the case nor its author
        form = case.form
        # (v2: the case id and author too, for the author's preview of the library's draft)
        return "CasePublishedToForum", {
            "thread_id": domain_event.thread_id,
            "title": domain_event.title or "",
            "essence": form["essence"],
            "question": form["question"],
            "rubrics": form["rubrics"],
            "urgency": form["urgency"],
            **_ref(case),
            "author_id": case.author_id,
            "mentor_ids": list(dict.fromkeys(e["mentor_id"] for e in case.engagements if e["outcome"] == "accepted")),
        }
    if isinstance(domain_event, Case.Completed):
        consent = case.publishes
        return "CaseCompleted", {
            **_ref(case),
            "rubrics": case.form["rubrics"],
            "problem_solved": case.reflection["problem_solved"],
            "publication_consent": consent,
            "author_id": case.author_id,
            "publication": _publication(case) if consent else None,
            "mentor_ids": list(dict.fromkeys(s["mentor_id"] for s in case.solutions)),
        }
    if isinstance(domain_event, Case.PublicationConsentWithdrawn):
        return "PublicationConsentWithdrawn", {**_ref(case), "author_id": case.author_id}
    if isinstance(domain_event, Case.Reminded):
        return "CaseReminded", {
            **_ref(case),
            "step": domain_event.step,
            "recipient_id": domain_event.recipient_id,
            "number": domain_event.number,
        }
    if isinstance(domain_event, Case.Abandoned):
        return "CaseAbandoned", {
            **_ref(case),
            "author_id": case.author_id,
            "mentor_id": case.mentor_id,
            "step": domain_event.step,
        }
    if isinstance(domain_event, Case.AuthorErased):
        return "CaseAuthorErased", {
            **_ref(case),
            "mentor_id": domain_event.mentor_id,
            "proposed_mentor_ids": domain_event.proposed_mentor_ids,
        }
    if isinstance(domain_event, Case.Reopened):
        return "CaseReopened", {**_ref(case), "author_id": case.author_id, "mentor_id": case.mentor_id}
    return None


def _first_opinion_mentor(case):
    """The mentor whose solution the author wants a second opinion on."""
    return case.solutions[-1]["mentor_id"] if case.solutions else None


def _after_each(new_events, aggregate, load_at):
    """(event, the case right after it) for one case's new events, in order. One event (nearly
    every command): the aggregate as saved. Several: folded again from the version before them."""
    if len(new_events) == 1:
        yield new_events[0], aggregate
        return
    first = new_events[0]
    case = None if isinstance(first, Case.Created) else load_at(first.originator_id, first.originator_version - 1)
    for domain_event in new_events:
        case = domain_event.mutate(case)
        yield domain_event, case


def check_and_stamp(new_events, aggregates, load_at):
    """Check every new event's integration payload against its contract; stamp those the relay may
    publish as they are. ``aggregates``: case id -> the case as saved; ``load_at(id, version)``
    loads a stored version. Raises ContractBroken (nothing is stored then)."""
    by_case = {}
    for domain_event in new_events:
        by_case.setdefault(domain_event.originator_id, []).append(domain_event)
    for case_id, events in by_case.items():
        if case_id not in aggregates:
            continue  # bare events, saved without their case: the relay checks them
        for domain_event, case in _after_each(events, aggregates[case_id], load_at):
            mapped = integration_payload(domain_event, case)
            if mapped is None:
                continue
            event_type, payload = mapped
            try:
                version, loaded = load_outgoing(event_type, payload)
            except PayloadBreaksContract as exc:
                # a 400 naming the payload's fields (e.g. case_number over its maximum length); the
                # message names the event type and the limits, never the values
                raise ContractBroken(
                    f"The change would record a {event_type} event that breaks its contract; nothing was stored.",
                    field_errors(exc.messages),
                ) from None
            if loaded == payload:
                stamp(domain_event, CONTRACT_STAMP, version)


def wire_payload(domain_event, event_type, payload):
    """(schema version, payload) as the relay publishes it: as it is when the event was stamped
    with the current version when saved, else checked against the contract now (ValueError)."""
    if getattr(domain_event, CONTRACT_STAMP, None) == CURRENT_VERSION[event_type]:
        return CURRENT_VERSION[event_type], payload
    return dump_payload(event_type, payload)
