"""eventsourcing's ``Application.save`` made cheaper, a hook before events are recorded, and one after
stored events are read back, a page at a time: the parts of the cases application
(services/cases/application.py) that override eventsourcing's private API.

Private parts used (eventsourcing 9.2, ``eventsourcing/application.py``): ``Application.save``'s order of
work (``ProcessingEvent``, ``_record``, ``_take_snapshots``, ``_notify``, the deprecated ``notify``),
overridden to skip the runtime ``Protocol`` isinstance checks of ``ProcessingEvent.collect_events`` for
the aggregate classes named in ``fast_save_types``; ``Application._record``, wrapped to run
``before_record`` first; and stored domain events, frozen dataclasses, given one more attribute
(``stamp``); ``Mapper.to_domain_event`` (one stored event in, one domain event out: ``PageMapper`` adds
``to_domain_events`` for a page, then lets the application finish the page's events, e.g. open their
sealed texts with one key query) and ``EventStore.get`` (stock: ``map`` of ``to_domain_event`` over
``recorder.select_events``; ``PageEventStore`` maps the whole selection as one page).
tests/unit/test_library_internals.py pins the version.

Stock path: ``CASES_SAVE=stock`` in the environment (read when the application is constructed) saves
through eventsourcing's own ``save``; ``before_record`` runs on both paths.
"""

import os

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import EventStore, Mapper

WRITTEN_AGAINST = ("eventsourcing", "9.2.22")
RECHECK = (
    "eventsourcing/application.py: Application.save still collects events with ProcessingEvent, then calls "
    "_record, _take_snapshots, _notify and notify in that order; _record(processing_event) still stores "
    "processing_event.events; domain events are still frozen dataclasses whose extra attributes the "
    "mapper stores; Mapper.to_domain_event still maps one stored event and EventStore.get still maps "
    "recorder.select_events with it (construct_mapper/construct_event_store still build them); then run tests/unit/test_library_internals.py and the cases integration tests"
)
SAVE_SETTING = "CASES_SAVE"


class PageMapper(Mapper):
    """A ``Mapper`` that maps a page of stored events at once (``to_domain_events``) and hands the
    page's domain events to ``finish_page`` (set by the application) before returning them; one
    stored event is a page of one."""

    def finish_page(self, domain_events):
        """Runs on every page of domain events read back (the application sets its own)."""

    def to_domain_events(self, stored_events):
        domain_events = [super(PageMapper, self).to_domain_event(stored) for stored in stored_events]
        self.finish_page(domain_events)
        return domain_events

    def to_domain_event(self, stored_event):
        return self.to_domain_events([stored_event])[0]

    def to_unfinished_domain_event(self, stored_event):
        """The domain event as eventsourcing maps it, without ``finish_page``: for a reader that reads
        none of what finishing changes (the statistics' fast replay reads no text), at no query's cost."""
        return super().to_domain_event(stored_event)


class PageEventStore(EventStore):
    """An ``EventStore`` whose ``get`` maps an aggregate's selected events as one page."""

    def get(self, originator_id, gt=None, lte=None, desc=False, limit=None):
        selected = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return iter(self.mapper.to_domain_events(list(selected)))


class FastSaveApplication(Application):
    """An ``Application`` whose ``save`` of the aggregates of ``fast_save_types`` skips the Protocol
    checks (their cost: bench/RESULTS.md, "Figures behind the fenced speed work"), which calls
    ``before_record`` with each ``ProcessingEvent`` before anything is stored, and ``after_read`` with
    each page of domain events read back (an aggregate's events, or a page of the notification log
    mapped with ``mapper.to_domain_events``) before anyone sees them."""

    fast_save_types = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast_save = (os.environ.get(SAVE_SETTING) or "fast") != "stock"
        self.mapper.finish_page = self.after_read

    def construct_mapper(self):
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=PageMapper)

    def construct_event_store(self):
        return PageEventStore(mapper=self.mapper, recorder=self.recorder)

    def after_read(self, domain_events):
        """Runs on each page of domain events read back, before they are used; may change them (``stamp``)."""

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
