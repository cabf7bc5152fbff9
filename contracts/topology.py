"""RabbitMQ topology: who publishes where and which queue each consumer reads.

Every queue and binding is declared by publishers *and* consumers from this one table
before the first publish, so no event is dropped because its consumer has not started.
Consumer queues are quorum queues: a handler that keeps failing is redelivered at most
DELIVERY_LIMIT times, then the broker dead-letters the message to ``<queue>.parked``.
The broker counts every return of a message to its queue; a consumer whose database (or a
service it calls) is down therefore holds its messages instead of returning them, so that an
outage spends none of their deliveries (services/common/consumer.py, "Outages").
"""

from dataclasses import dataclass
from typing import Any

from kombu.entity import Exchange, Queue, binding  # where kombu defines them (its __init__ re-exports)

PARKING_EXCHANGE = Exchange("parking", type="direct", durable=True)
DELIVERY_LIMIT = 5


def events_exchange(source: str) -> Exchange:
    return Exchange(f"{source}.events", type="topic", durable=True)


@dataclass(frozen=True)
class Subscription:
    queue: str
    source: str
    event_types: tuple[str, ...]


SUBSCRIPTIONS = (
    Subscription(
        "matching.case-events",
        "cases",
        (
            "CaseCreated",
            "MentorDeclined",
            "SecondOpinionRequested",
            "CaseEscalated",
            "CaseRedefined",
            "MentorChosen",
            "MentorAccepted",
            "CaseCompleted",
            "CaseWithdrawn",
            "MentorReleased",
            "CaseAuthorErased",
        ),
    ),
    Subscription("matching.identity-events", "identity", ("MentorProfileUpdated", "PersonErased")),
    Subscription("cases.matching-events", "matching", ("MentorsMatched",)),
    Subscription("cases.identity-events", "identity", ("AccreditationDecided", "PersonErased")),  # suspensions
    Subscription(
        "notifications.case-events",
        "cases",
        (
            "MentorsProposed",
            "MentorChosen",
            "MentorAccepted",
            "SolutionProposed",
            "MentorDeclined",
            "CaseWithdrawn",
            "QuestionsAsked",
            "QuestionsAnswered",
            "RequestKept",
            "CaseRedefined",
            "CaseSharedWithColleagues",
            "ColleagueOpinionAdded",
            "MessageSent",
            "CaseEscalated",
            "CaseFlagged",
            "MentorReleased",
            "CaseReminded",
            "CaseAbandoned",
            "CaseReopened",
            "CaseCompleted",
            "SecondOpinionRequested",
            "CasePublishedToForum",
            "CaseAuthorErased",
        ),
    ),
    Subscription(
        "notifications.identity-events", "identity", ("AccreditationRequested", "AccreditationDecided", "PersonErased")
    ),
    Subscription("notifications.library-events", "library", ("PublicationDrafted", "SurveyOpened")),
    # surveys' audiences: who is an accredited mentor, advising in which rubrics; a mentee's rubrics of
    # interest; and erasures (the library shreds its key of the person)
    Subscription(
        "library.identity-events", "identity", ("MentorProfileUpdated", "MenteeInterestsUpdated", "PersonErased")
    ),
    Subscription(
        "library.case-events", "cases", ("CaseCompleted", "CasePublishedToForum", "PublicationConsentWithdrawn")
    ),
)

SUBSCRIPTIONS_BY_QUEUE = {s.queue: s for s in SUBSCRIPTIONS}


@dataclass(frozen=True)
class Broadcast:
    """Events that every process of a service must see, not one of them: each process reads them from
    a queue of its own, ``<prefix>.<random>``, exclusive to its connection and gone with it. Events
    published while no such queue exists reach nobody, on purpose: a process loads the current state
    by RPC right after its queue is bound (at start and after every reconnection), so it misses
    nothing that happened before or while it was away."""

    prefix: str
    source: str
    event_types: tuple[str, ...]


# Every gateway's view of ended sessions (services/gateway/sessions.py); the gateway declares
# ``gateway.sessions.*`` queues bound to identity.events.
SESSION_FEED = Broadcast("gateway.sessions", "identity", ("SessionsRevoked", "AccountChanged"))
BROADCASTS = (SESSION_FEED,)
BROADCAST_QUEUE_SUFFIX = "[0-9a-f]{32}"  # the random part of a broadcast queue's name (uuid4().hex)


def broadcast_queue(broadcast: Broadcast, name: str) -> Queue:
    """The queue ``name`` (``<prefix>.<random>``) of one process for ``broadcast``."""
    exchange = events_exchange(broadcast.source)
    return Queue(
        name,
        bindings=[binding(exchange, routing_key=t) for t in broadcast.event_types],
        durable=False,
        exclusive=True,
        auto_delete=True,
    )


def consumer_queue(subscription: Subscription) -> Queue:
    exchange = events_exchange(subscription.source)
    return Queue(
        subscription.queue,
        bindings=[binding(exchange, routing_key=t) for t in subscription.event_types],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": PARKING_EXCHANGE.name,
            "x-dead-letter-routing-key": subscription.queue,
        },
    )


def parking_queue(subscription: Subscription) -> Queue:
    return Queue(
        f"{subscription.queue}.parked", exchange=PARKING_EXCHANGE, routing_key=subscription.queue, durable=True
    )


def declare_topology(channel: Any, source: str | None = None) -> None:
    """Declare every exchange, queue and binding (idempotent); with ``source``, only that publisher's
    part: its exchange and its consumers' queues, which is all its broker user may declare
    (services/common/broker_users.py)."""
    subscriptions = [s for s in SUBSCRIPTIONS if source is None or s.source == source]
    PARKING_EXCHANGE(channel).declare()
    for name in sorted({s.source for s in subscriptions} | ({source} if source else set())):
        events_exchange(name)(channel).declare()
    for sub in subscriptions:
        consumer_queue(sub)(channel).declare()
        parking_queue(sub)(channel).declare()
