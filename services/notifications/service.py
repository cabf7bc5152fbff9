"""notifications: the communications service - the inbox of everyone whose turn it is, e-mail
copies of it, direct messages between mentors, the events calendar and the news items.

Run: ``nameko run --config services/notifications/config.yaml services.notifications.service``.
A thin shell: who is told what is messages.py, the inbox inbox.py, e-mail email.py (sent by the
@timer below), preferences preferences.py, direct messages messaging.py, the calendar calendar.py, news news.py
(delivered to subscribers by the second @timer).
"""

import uuid
from datetime import datetime, timezone

from nameko.dependency_providers import Config

from contracts.errors import Forbidden, NotFound, PlatformError, ServiceUnavailable
from contracts.news import (
    NewsDeskQuerySchema,
    NewsItemFormSchema,
    NewsItemPatchSchema,
    NewsQuerySchema,
    NewsWithdrawalSchema,
)
from contracts.rpc_common import ActorSchema, ReasonSchema
from contracts.rpc_notifications import (
    CalendarEventFormSchema,
    CalendarEventPatchSchema,
    CalendarQuerySchema,
    DirectMessageSchema,
    InboxQuerySchema,
    MarkAllReadSchema,
    MessageThreadQuerySchema,
    PreferencesUpdateSchema,
)
from contracts.surveys import AUDIENCE_ROLES
from contracts.validation import load
from services.common import shredding
from services.common.batch_consumer import event_context, first_deliveries, subscribe_batch
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.metrics import Metrics
from services.common.person_keys import PersonKeys
from services.common.personal_data import records
from services.common.rpc import RpcDeadline, rpc
from services.common.timer import TimerWake, configured_timer, wakeable_timer
from services.notifications import calendar, email, inbox, messaging, news, preferences, sealing
from services.notifications.directory import Directory
from services.notifications.messages import MODERATORS, inbox_entries

log = get_logger()

SERVICE = "notifications"
SENT, HANDLED, IDENTITY_DOWN = "sent", "handled", "identity_down"  # what became of one e-mail row


def _now():
    return datetime.now(timezone.utc)


# The person's tables for GET /api/v1/me/data: (columns holding their id, columns left out). Entries for
# every moderator ('@moderators') are about cases and applications, not the moderator.
PERSONAL_TABLES = {
    "inbox": (("user_id",), ()),
    "inbox_reads": (("user_id",), ()),
    "email_outbox": (("recipient",), ()),
    "notification_preferences": (("user_id",), ()),
    "direct_messages": (("sender_id", "recipient_id"), ()),
    "calendar_events": (("author_id",), ()),
    "calendar_attendance": (("user_id",), ()),
    "news_subscriptions": (("user_id",), ()),
    "news_versions": (("editor_id",), ()),
}


class NotificationsService:
    name = SERVICE

    log = CorrelationContext(SERVICE)
    metrics = Metrics()  # /metrics on METRICS_PORT (services/common/metrics.py)
    rpc_deadline = RpcDeadline()  # the request's deadline, checked when its worker starts
    db = Database("notifications")
    identity = Directory()
    config = Config()
    vault = PersonKeys(sealing.vault)  # direct messages and calendar texts sealed with their writer's key
    wake_email_sender = TimerWake("send_emails")  # e-mails go out as they are queued
    wake_news_delivery = TimerWake("deliver_news")  # an item published now is sent now

    # ---- events: one inbox entry (and e-mail) per person whose turn it is -------------------

    # batched (services/common/batch_consumer.py): the events delivered together share one
    # transaction and one processed_events insert; each event's entries are what one event alone makes

    @subscribe_batch("notifications.case-events")
    def on_case_event(self, envelopes):
        self._notify(envelopes)

    @subscribe_batch("notifications.identity-events")
    def on_identity_event(self, envelopes):
        self._notify(envelopes)

    @subscribe_batch("notifications.library-events")
    def on_library_event(self, envelopes):
        self._notify(envelopes)

    def _notify(self, envelopes):
        with self.db.transaction() as cur:
            created = [
                (envelope, self._notify_one(cur, envelope)) for envelope in first_deliveries(cur, envelopes, self.name)
            ]
        if any(entries for _, entries in created):
            self.wake_email_sender()  # committed: the sender finds the new rows now, not at its next tick
        for envelope, entries in created:  # after the commit: a failed batch, retried event by event, logs once
            with event_context(envelope):
                if envelope.type == "PersonErased":
                    log.info("person_erased", person_id=envelope.payload["person_id"])
                for kind, to_moderators in entries:
                    log.info(
                        "inbox_entry_created",
                        kind=kind,
                        case_id=envelope.payload.get("case_id"),
                        to_moderators=to_moderators,
                    )

    def _notify_one(self, cur, envelope):
        """The event's inbox entries (and e-mails); returns (kind, to moderators) of each one created. A
        PersonErased creates none: it shreds notifications' key of the person (sealing.erase)."""
        p = envelope.payload
        if envelope.type == "PersonErased":
            sealing.erase(cur, self.vault, p["person_id"])
        entries = inbox_entries(envelope.type, p, self._survey_audience(p) if envelope.type == "SurveyOpened" else ())
        return [
            (kind, recipient == MODERATORS)
            for recipient, kind, text in entries
            if inbox.deliver(
                cur,
                recipient,
                kind,
                text,
                envelope.event_id,
                case_id=p.get("case_id"),
                case_number=p.get("case_number"),
            )
        ]

    def _survey_audience(self, payload):
        """Who a survey asks, from identity (ids only); identity down: the event waits (an outage)."""
        return self.identity.survey_audience(list(AUDIENCE_ROLES[payload["audience"]]), payload["rubrics"])

    # ---- the inbox ------------------------------------------------------------------------

    @rpc
    def list_inbox(self, actor):
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return inbox.page(cur, actor, 200)["items"]

    @rpc
    def inbox_page(self, actor, query=None):
        actor = load(ActorSchema, actor, "actor")
        query = load(InboxQuerySchema, query, "query")
        with self.db.transaction() as cur:
            return inbox.page(cur, actor, query["limit"], query["before"], query["unread_only"])

    @rpc
    def unread_count(self, actor):
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return {"unread": inbox.unread_count(cur, actor)}

    @rpc
    def mark_read(self, actor, entry_id):
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return inbox.mark_read(cur, actor, entry_id)

    @rpc
    def mark_all_read(self, actor, body=None):
        actor = load(ActorSchema, actor, "actor")
        body = load(MarkAllReadSchema, body)
        with self.db.transaction() as cur:
            return inbox.mark_all_read(cur, actor, body["up_to"])

    @rpc
    def records_of(self, actor):
        """Everything notifications holds about the signed-in person (GET /api/v1/me/data)."""
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return records(cur, PERSONAL_TABLES, actor["user_id"], self.vault.open_rows)

    # ---- e-mail preferences and the sender ---------------------------------------------------

    @rpc
    def get_preferences(self, actor):
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return self._preferences(cur, actor["user_id"])

    @rpc
    def update_preferences(self, actor, body):
        actor = load(ActorSchema, actor, "actor")
        body = load(PreferencesUpdateSchema, body, "preferences")
        with self.db.transaction() as cur:
            preferences.save_preferences(cur, actor["user_id"], body["email"])
            if "news" in body:  # omitted: the subscription is unchanged
                news.save_subscription(cur, actor["user_id"], body["news"])
            view = self._preferences(cur, actor["user_id"])
        log.info(
            "notification_preferences_updated",
            user_id=actor["user_id"],
            kinds=sorted(body["email"]),
            news="news" in body,
        )
        return view

    @staticmethod
    def _preferences(cur, user_id):
        return {
            **preferences.preferences_view(preferences.stored_preferences(cur, user_id)),
            "news": news.subscription(cur, user_id),
        }

    @wakeable_timer("EMAIL_POLL_INTERVAL", 2.0)
    def send_emails(self):
        """Send the due rows of the e-mail outbox, batch after batch until none is due (at most
        EMAIL_ROUND_MAX rows a round), over one SMTP connection; woken as soon as rows are queued, and
        every EMAIL_POLL_INTERVAL seconds for retries. Each failure is retried later, with backoff."""
        config = self.config
        settings, policy = email.SmtpSettings.from_config(config), email.RetryPolicy.from_config(config)
        budget = int(config.get("EMAIL_ROUND_MAX", email.ROUND_MAX))
        with email.Mailer(settings) as mailer:
            while budget > 0:
                try:
                    with self.db.transaction() as cur:
                        rows = email.claim_due(cur, min(email.BATCH_SIZE, budget))
                except ServiceUnavailable as exc:  # the rows wait in the database; the next tick tries again
                    log.warning("email_sender_paused", reason=exc.message)
                    return
                if not rows:
                    return
                budget -= len(rows)
                sent = []
                try:
                    for i, row in enumerate(rows):
                        outcome = self._send_one(row, mailer, policy)
                        if outcome == SENT:
                            sent.append(row["id"])
                        elif outcome == IDENTITY_DOWN:
                            # identity did not answer: the rest of the round would wait RPC_TIMEOUT each
                            # (and hold up a graceful stop); those rows go back, their attempt not counted
                            with self.db.transaction() as cur:
                                email.release(cur, [r["id"] for r in rows[i + 1 :]])
                            log.warning(
                                "email_sender_paused", reason="identity did not answer", put_back=len(rows) - i - 1
                            )
                            return
                finally:  # the batch's sent rows in one commit
                    with self.db.transaction() as cur:
                        email.mark_sent(cur, sent)
                    for row in rows:
                        if row["id"] in sent:
                            log.info("email_sent", kind=row["kind"], outbox_id=row["id"], attempt=row["attempts"])

    def _send_one(self, row, mailer, policy):
        """Send one row: SENT (to be marked with its batch), HANDLED (fanned out, or a failed attempt
        recorded) or IDENTITY_DOWN (identity did not answer; the row's attempt counts, as for any failure)."""
        give_up, identity_answered = False, True
        try:
            if row["recipient"] == MODERATORS:
                moderators = [c["user_id"] for c in self.identity.moderator_contacts() or ()]
                with self.db.transaction() as cur:
                    wanted = email.fan_out(cur, row, moderators)
                log.info("email_fanned_out", kind=row["kind"], outbox_id=row["id"], recipients=len(wanted))
                return HANDLED
            contact = self.identity.contact_for(row["recipient"])
            mailer.send(email.build_message(row, contact, mailer.settings))
        except NotFound as exc:  # the account is gone: nobody to write to
            error, give_up = f"NotFound: {exc.message}", True
        except ServiceUnavailable as exc:
            error, identity_answered = f"ServiceUnavailable: {exc.message}", False
        except PlatformError as exc:
            error = f"{type(exc).__name__}: {exc.message}"
        except Exception as exc:  # SMTP or network: retried, unless the server refused for good
            error, give_up = f"{type(exc).__name__}: {exc}", email.permanent(exc)
        else:
            return SENT
        with self.db.transaction() as cur:
            status = email.mark_failed_attempt(cur, row, error, policy, give_up)
        if status == "failed":
            log.error("email_failed", kind=row["kind"], outbox_id=row["id"], attempts=row["attempts"], error=error)
        else:
            log.warning(
                "email_attempt_failed",
                kind=row["kind"],
                outbox_id=row["id"],
                attempt=row["attempts"],
                retry_in_s=policy.backoff(row["attempts"]),
                error=error,
            )
        return HANDLED if identity_answered else IDENTITY_DOWN

    # ---- direct messages between mentors (and moderators) ---------------------------------

    @rpc
    def send_direct_message(self, actor, body, request_key=None):
        actor = load(ActorSchema, actor, "actor")
        messaging.authorize(actor)
        body = load(DirectMessageSchema, body, "message")
        recipient_id = body["recipient_id"].strip()
        try:
            recipient_role = self.identity.role_of(recipient_id)["role"]
        except NotFound:
            recipient_role = None
        messaging.check_recipient(actor, recipient_id, recipient_role)
        with self.db.transaction() as cur:
            row, new = messaging.insert(
                cur,
                self.vault,
                messaging.message_id(actor["user_id"], request_key),
                actor["user_id"],
                recipient_id,
                body["text"],
            )
            if new:
                inbox.deliver(
                    cur,
                    recipient_id,
                    "direct_message",
                    messaging.NOTIFICATION_TEXT,
                    row["id"],
                    peer_id=actor["user_id"],
                )
        if new:
            log.info("direct_message_sent", sender_id=actor["user_id"], recipient_id=recipient_id)
        return messaging.message_view(row)

    @rpc
    def list_conversations(self, actor):
        actor = load(ActorSchema, actor, "actor")
        messaging.authorize(actor)
        with self.db.transaction() as cur:
            return messaging.conversations(cur, self.vault, actor["user_id"])

    @rpc
    def get_thread(self, actor, peer_id, query=None):
        actor = load(ActorSchema, actor, "actor")
        messaging.authorize(actor)
        peer_id = messaging.peer_argument(peer_id)
        query = load(MessageThreadQuerySchema, query, "query")
        with self.db.transaction() as cur:
            result = messaging.thread(cur, self.vault, actor["user_id"], peer_id, query["limit"], query["before"])
            inbox.mark_peer_messages_read(cur, actor["user_id"], peer_id)
        return result

    # ---- the events calendar ----------------------------------------------------------------

    @rpc
    def create_calendar_event(self, actor, form, request_key=None):
        actor = load(ActorSchema, actor, "actor")
        event = calendar.validated(calendar.normalize(load(CalendarEventFormSchema, form, "event")), _now())
        event_uuid = calendar.event_id(actor["user_id"], request_key)
        with self.db.transaction() as cur:
            created = calendar.insert(cur, self.vault, event_uuid, actor["user_id"], event)
            row = calendar.load(cur, self.vault, event_uuid, actor["user_id"])
        if created:
            log.info("calendar_event_created", event_id=str(event_uuid), format=event["format"])
        return calendar.event_view(row)

    @rpc
    def list_calendar_events(self, actor, query=None):
        actor = load(ActorSchema, actor, "actor")
        query = load(CalendarQuerySchema, query, "query")
        start, end = calendar.time_range(query, _now())
        with self.db.transaction() as cur:
            rows = calendar.listing(
                cur,
                self.vault,
                actor["user_id"],
                start,
                end,
                query["rubric"],
                query["include_cancelled"],
                query["limit"],
            )
        return [calendar.event_view(r) for r in rows]

    @rpc
    def get_calendar_event(self, actor, event_id):
        actor = load(ActorSchema, actor, "actor")
        with self.db.transaction() as cur:
            return calendar.event_view(
                calendar.load(cur, self.vault, calendar.parse_event_id(event_id), actor["user_id"])
            )

    @rpc
    def update_calendar_event(self, actor, event_id, patch):
        actor = load(ActorSchema, actor, "actor")
        patch = load(CalendarEventPatchSchema, patch, "event")
        event_uuid, now = calendar.parse_event_id(event_id), _now()
        with self.db.transaction() as cur:
            current = calendar.load(cur, self.vault, event_uuid, actor["user_id"], lock=True)
            calendar.authorize_edit(actor, current, now)
            event = calendar.validated(calendar.merge(current, patch), now, previous=current)
            calendar.update(cur, self.vault, event_uuid, current["author_id"], event)
            if calendar.changed_for_attendees(current, event):
                self._tell_attendees(cur, event_uuid, actor, "calendar_event_changed", calendar.change_text(event))
            row = calendar.load(cur, self.vault, event_uuid, actor["user_id"])
        log.info("calendar_event_updated", event_id=str(event_uuid), fields=sorted(patch))
        return calendar.event_view(row)

    @rpc
    def cancel_calendar_event(self, actor, event_id, body=None):
        actor = load(ActorSchema, actor, "actor")
        body = load(ReasonSchema, body)
        event_uuid = calendar.parse_event_id(event_id)
        with self.db.transaction() as cur:
            current = calendar.load(cur, self.vault, event_uuid, actor["user_id"], lock=True)
            calendar.authorize_cancel(actor, current, _now())
            if calendar.cancel(cur, self.vault, event_uuid, actor["user_id"], body["reason"].strip()):
                self._tell_attendees(
                    cur, event_uuid, actor, "calendar_event_cancelled", calendar.cancellation_text(current)
                )
                log.info("calendar_event_cancelled", event_id=str(event_uuid), by_role=actor["role"])
            row = calendar.load(cur, self.vault, event_uuid, actor["user_id"])
        return calendar.event_view(row)

    @rpc
    def attend(self, actor, event_id):
        actor = load(ActorSchema, actor, "actor")
        event_uuid = calendar.parse_event_id(event_id)
        with self.db.transaction() as cur:
            calendar.authorize_attend(calendar.load(cur, self.vault, event_uuid, actor["user_id"]), _now())
            calendar.attend(cur, event_uuid, actor["user_id"])
            return calendar.event_view(calendar.load(cur, self.vault, event_uuid, actor["user_id"]))

    @rpc
    def unattend(self, actor, event_id):
        actor = load(ActorSchema, actor, "actor")
        event_uuid = calendar.parse_event_id(event_id)
        with self.db.transaction() as cur:
            calendar.load(cur, self.vault, event_uuid, actor["user_id"])
            calendar.unattend(cur, event_uuid, actor["user_id"])
            return calendar.event_view(calendar.load(cur, self.vault, event_uuid, actor["user_id"]))

    def _tell_attendees(self, cur, event_uuid, actor, kind, text):
        change_id = uuid.uuid4()  # one notification round: each attendee told once
        for user_id in calendar.attendees(cur, event_uuid):
            if user_id != actor["user_id"]:
                inbox.deliver(cur, user_id, kind, text, change_id, calendar_event_id=str(event_uuid))

    # ---- news items ---------------------------------------------------------------------------

    @rpc
    def news_page(self, query=None):
        """The public list: published items, newest first (no actor: visitors read it too)."""
        query = load(NewsQuerySchema, query, "query")
        with self.db.transaction() as cur:
            rows, next_cursor = news.page(cur, _now(), query["limit"], query["cursor"], query["rubric"], news.PUBLISHED)
        now = _now()
        return {"items": [news.item_view(r, now) for r in rows], "next_cursor": next_cursor}

    @rpc
    def news_item(self, item_id):
        """One published item; a scheduled or withdrawn one is NotFound to the public."""
        now = _now()
        with self.db.transaction() as cur:
            row = news.load(cur, news.parse_item_id(item_id))
        if not news.visible_to(row, None, now):
            raise NotFound(f"No news item {item_id}.")
        return news.item_view(row, now)

    @rpc
    def news_desk(self, actor, query=None):
        """Every item in every state, for moderators (the editor's list)."""
        actor = self._news_moderator(actor)
        query = load(NewsDeskQuerySchema, query, "query")
        now = _now()
        with self.db.transaction() as cur:
            rows, next_cursor = news.page(cur, now, query["limit"], query["cursor"], query["rubric"], query["state"])
        return {"items": [news.item_view(r, now, moderator=True) for r in rows], "next_cursor": next_cursor}

    @rpc
    def news_history(self, actor, item_id):
        actor = self._news_moderator(actor)
        item_uuid = news.parse_item_id(item_id)
        with self.db.transaction() as cur:
            row = news.load(cur, item_uuid)
            versions = news.versions(cur, item_uuid)
        return {
            "item": news.item_view(row, _now(), moderator=True),
            "versions": [news.version_view(v) for v in versions],
        }

    @rpc
    def create_news(self, actor, form, request_key=None):
        actor = self._news_moderator(actor)
        now = _now()
        item = news.validated(news.normalize(load(NewsItemFormSchema, form, "news item")), now)
        item_uuid = news.item_id(actor["user_id"], request_key)
        with self.db.transaction() as cur:
            created = news.insert(cur, item_uuid, actor["user_id"], item)
            row = news.load(cur, item_uuid)
        if created:
            log.info("news_item_created", item_id=str(item_uuid), state=news.state_of(row, now))
            self.wake_news_delivery()
        return news.item_view(row, now, moderator=True)

    @rpc
    def edit_news(self, actor, item_id, patch):
        actor = self._news_moderator(actor)
        patch = load(NewsItemPatchSchema, patch, "news item")
        item_uuid, now = news.parse_item_id(item_id), _now()
        with self.db.transaction() as cur:
            current = news.load(cur, item_uuid, lock=True)
            news.authorize_change(current)
            item = news.validated(news.merge(current, patch), now, previous=current)
            edited = news.changed(current, item)
            if edited:
                news.update(cur, current, item, actor["user_id"])
            row = news.load(cur, item_uuid)
        if edited:
            log.info("news_item_edited", item_id=str(item_uuid), fields=sorted(patch), version=row["version"])
            self.wake_news_delivery()  # moved to now: sent now
        return news.item_view(row, now, moderator=True)

    @rpc
    def withdraw_news(self, actor, item_id, body=None):
        actor = self._news_moderator(actor)
        body = load(NewsWithdrawalSchema, body, "withdrawal")
        item_uuid = news.parse_item_id(item_id)
        with self.db.transaction() as cur:
            current = news.load(cur, item_uuid, lock=True)
            news.authorize_change(current)
            news.withdraw(cur, current, body["reason"].strip(), actor["user_id"])
            row = news.load(cur, item_uuid)
        log.info("news_item_withdrawn", item_id=str(item_uuid), version=row["version"])
        return news.item_view(row, _now(), moderator=True)

    @staticmethod
    def _news_moderator(actor):
        actor = load(ActorSchema, actor, "actor")
        if actor["role"] != "moderator":
            raise Forbidden("Only moderators edit the news.")
        return actor

    @wakeable_timer("NEWS_POLL_INTERVAL", 5.0)
    def deliver_news(self):
        """Tell subscribers of every item whose publication time has come (woken when one is published
        now; every NEWS_POLL_INTERVAL seconds for the scheduled ones), a batch of items a transaction."""
        while True:
            try:
                with self.db.transaction() as cur:
                    items = news.due_for_delivery(cur)
                    told = [(item["id"], news.deliver(cur, item)) for item in items]
            except ServiceUnavailable as exc:  # the items wait; the next tick tries again
                log.warning("news_delivery_paused", reason=exc.message)
                return
            if not items:
                return
            if any(count for _, count in told):
                self.wake_email_sender()
            for item_uuid, count in told:
                log.info("news_item_delivered", item_id=str(item_uuid), recipients=count)

    @configured_timer("LEGACY_SEAL_INTERVAL", 30.0, eager=True)
    def seal_legacy_rows(self):
        """The data pass: direct messages and calendar events written in plaintext before sealing are
        sealed, a batch per table each tick (services/notifications/sealing.py); once none is left each
        tick is one cheap query per table."""
        shredding.run_data_pass(self.db, lambda cur: sealing.seal_legacy_rows(cur, self.vault), log)

    # ---- operations ---------------------------------------------------------------------------

    @rpc
    def health(self):
        return health_report(self.name, self.db)
