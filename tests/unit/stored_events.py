"""Domain events as a store holds them: written and read back through eventsourcing's own mapper,
optionally in an older shape, so upcasting is tested the way the application loads events."""

from dataclasses import replace

from eventsourcing.application import Application

_MAPPER = Application().mapper  # the stock transcoder (UUIDs, datetimes, decimals), in memory


def as_stored(domain_event, drop=(), class_version=None):
    """``domain_event`` stored and loaded again; with ``drop``, those fields missing from the stored
    state and ``class_version`` (None: none recorded, i.e. version 1) as an older version wrote it."""
    stored = _MAPPER.to_stored_event(domain_event)
    state = _MAPPER.transcoder.decode(stored.state)
    for name in drop:
        state.pop(name)
    state.pop("class_version", None)
    if class_version is not None:
        state["class_version"] = class_version
    return _MAPPER.to_domain_event(replace(stored, state=_MAPPER.transcoder.encode(state)))


def as_stored_in_version_1(domain_event):
    """An event of a class that records ``at`` since version 2, as version 1 stored it: without."""
    return as_stored(domain_event, drop=("at",))
