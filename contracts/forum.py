"""The forum's thread ids, a contract between cases and the library.

A case published to the forum without naming a thread opens a new one. The library (the forum's
owner) gives it the id ``new_thread_id(event_id)`` of the ``CasePublishedToForum`` event that
opened it, so that a rebuilt library has the live one's ids; the cases service, which stored that
event, can therefore name the thread on the case (``forum_thread_ids``) before the library has
even projected it, with no call between the two.
"""

import uuid

FORUM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:forum")


def new_thread_id(event_id: str | uuid.UUID) -> uuid.UUID:
    """The id of the thread a ``CasePublishedToForum`` event with this id opens (when it names none)."""
    return uuid.uuid5(FORUM_NAMESPACE, f"thread:{event_id}")
