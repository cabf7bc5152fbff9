"""eventsourcing's ``Application.save`` made cheaper, and a hook before events are recorded: the parts
of the cases application (services/cases/application.py) that override eventsourcing's private API.

Private parts used (eventsourcing 9.2, ``eventsourcing/application.py``): ``Application.save``'s order of
work (``ProcessingEvent``, ``_record``, ``_take_snapshots``, ``_notify``, the deprecated ``notify``),
overridden to skip the runtime ``Protocol`` isinstance checks of ``ProcessingEvent.collect_events`` for
the aggregate classes named in ``fast_save_types``; ``Application._record``, wrapped to run
``before_record`` first; and stored domain events, frozen dataclasses, given one more attribute
(``stamp``). tests/unit/test_library_internals.py pins the version.

Stock path: ``CASES_SAVE=stock`` in the environment (read when the application is constructed) saves
through eventsourcing's own ``save``; ``before_record`` runs on both paths.
"""

import os

from eventsourcing.application import Application, ProcessingEvent

WRITTEN_AGAINST = ("eventsourcing", "9.2.22")
RECHECK = (
    "eventsourcing/application.py: Application.save still collects events with ProcessingEvent, then calls "
    "_record, _take_snapshots, _notify and notify in that order; _record(processing_event) still stores "
    "processing_event.events; domain events are still frozen dataclasses whose extra attributes the "
    "mapper stores; then run tests/unit/test_library_internals.py and the cases integration tests"
)
SAVE_SETTING = "CASES_SAVE"


class FastSaveApplication(Application):
    """An ``Application`` whose ``save`` of the aggregates of ``fast_save_types`` skips the Protocol
    checks (their cost: bench/RESULTS.md, "Figures behind the fenced speed work"), and which calls
    ``before_record`` with each ``ProcessingEvent`` before anything is stored."""

    fast_save_types = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast_save = (os.environ.get(SAVE_SETTING) or "fast") != "stock"

    def before_record(self, processing_event):
        """Runs before the events of ``processing_event`` are stored; raising stops the save."""

    def save(self, *objs, **kwargs):
        if not self.fast_save or kwargs or not all(type(obj) in self.fast_save_types for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated, but eventsourcing's save still calls it
        return recordings

    def _record(self, processing_event):
        self.before_record(processing_event)
        return super()._record(processing_event)


def stamp(domain_event, name, value):
    """Give a (frozen) domain event one more attribute, stored with it by eventsourcing's mapper."""
    object.__setattr__(domain_event, name, value)
