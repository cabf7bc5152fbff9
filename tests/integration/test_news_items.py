"""News items (issue #22, part 2) on the real notifications, identity and gateway services, the real
broker and databases, and the session's SMTP catcher: moderators publish (now or later), edit and
withdraw with every version kept; visitors read; subscribers of an item's rubrics are told once, in the
inbox and by e-mail, only once it is published and never when it was withdrawn first."""

import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras
import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.news import TEXT_MAX
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import give_up_emails
from tests.integration.gateway_platform import assert_error, start_platform
from tests.support import actor, eventually

RUBRIC_A, RUBRIC_B = "class-management-motivation", "self-management"


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    # the session's SMTP catcher gets the notification e-mails too; delivery and sender poll fast, and
    # an attempt that failed on the loaded CI machine (identity's answer late) is tried again in 1 s,
    # not the production 30 s that outlasts the test's wait
    start_module_service(
        NotificationsService,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=test_env.mail.port,
        EMAIL_POLL_INTERVAL=0.2,
        EMAIL_RETRY_SECONDS=1,
        NEWS_POLL_INTERVAL=0.2,
    )
    # earlier modules' e-mails still pending in the session's notifications database (234 in one CI run)
    # would be sent first, one identity lookup each, past this module's waits: only this module's are due
    # (its database exists once the service has started)
    give_up_emails(test_env)
    api = start_platform(start_module_service, backends=(IdentityService,))
    eventually(lambda: api("GET", "/health").status_code == 200, message="the gateway is up")
    return api


@pytest.fixture(scope="module")
def moderator(api, test_env):
    return api.moderator(test_env)


def names(fields, path):
    """Whether the error's ``fields`` name ``path`` ("news.rubrics.0": nested as the platform nests them)."""
    for part in path.split("."):
        if not isinstance(fields, dict) or part not in fields:
            return False
        fields = fields[part]
    return True


def publish(api, token, expect=201, **fields):
    body = {"title": f"Webinar {uuid.uuid4().hex[:6]}", "text": "Join us to talk about motivation.", **fields}
    response = api("POST", "/api/v1/news", token=token, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == expect, response.text
    return response.json()


def later(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def public_ids(api, **params):
    response = api("GET", "/api/v1/news", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def news_entries(api, token, item_id):
    inbox = api("GET", "/api/v1/inbox", token=token, params={"limit": 100}).json()["items"]
    return [e for e in inbox if e["kind"] == "news_published" and e["news_item_id"] == item_id]


def news_emails(test_env, email, title):
    return [
        m
        for m in test_env.mail.messages(to=email)
        if m["X-Notification-Kind"] == "news_published" and title in m.get_content()
    ]


def outbox_of(test_env, user):
    """What the e-mail outbox holds for ``user`` and how many rows wait for anyone: a failed wait for
    an e-mail says whether it was never queued, retried (and why), or queued behind others."""
    conn = psycopg2.connect(test_env.database_url("notifications"))
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(
                "SELECT kind, status, attempts, last_error, created_at, sent_at FROM email_outbox "
                "WHERE recipient = %s ORDER BY created_at",
                (user["id"],),
            )
            rows = cur.fetchall()
            cur.execute("SELECT count(*) AS n FROM email_outbox WHERE status = 'pending'")
            pending = cur.fetchone()["n"]
    finally:
        conn.close()
    return f"outbox rows of the recipient: {[dict(r) for r in rows]}; pending in all: {pending}"


# ---- publishing and reading -------------------------------------------------------------------


def test_a_published_item_is_read_by_visitors_and_its_link_kept(api, moderator):
    item = publish(api, moderator, rubrics=[RUBRIC_A], meeting_link="https://meet.example.org/room?id=1&x=<b>")
    assert item["state"] == "published" and item["version"] == 1
    assert item["id"] in public_ids(api) and item["id"] in public_ids(api, rubric=RUBRIC_A)
    assert item["id"] not in public_ids(api, rubric=RUBRIC_B)
    shown = api("GET", f"/api/v1/news/{item['id']}")  # no token: a visitor
    assert shown.status_code == 200, shown.text
    assert shown.json()["meeting_link"] == "https://meet.example.org/room?id=1&x=<b>"
    assert shown.json()["withdraw_reason"] is None


def test_a_repeated_create_with_the_same_key_is_one_item(api, moderator):
    body, key = {"title": "Once", "text": "Only once."}, {"Idempotency-Key": uuid.uuid4().hex}
    first = api("POST", "/api/v1/news", token=moderator, json=body, headers=key)
    again = api("POST", "/api/v1/news", token=moderator, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"text": "x" * (TEXT_MAX + 1)}, "text"),
        ({"meeting_link": "javascript:alert(1)"}, "meeting_link"),
        ({"meeting_link": "ftp://files.example.org/a"}, "meeting_link"),
        ({"meeting_link": "https://"}, "meeting_link"),
        ({"rubrics": ["no-such-rubric"]}, "rubrics.0"),
        ({"publish_at": "2020-01-01T10:00:00Z"}, "publish_at"),
        ({"publish_at": "tomorrow"}, "publish_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(api, moderator, fields, field):
    body = {"title": f"Bad {uuid.uuid4().hex[:6]}", "text": "Text.", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    before = api("GET", "/api/v1/news/all", token=moderator, params={"limit": 100}).json()["items"]
    error = assert_error(api("POST", "/api/v1/news", token=moderator, json=body), 400, "invalid_input")
    assert names(error["fields"], field), error
    after = api("GET", "/api/v1/news/all", token=moderator, params={"limit": 100}).json()["items"]
    assert [i["id"] for i in after] == [i["id"] for i in before]


def test_only_moderators_write(api, moderator):
    _, mentee = api.register("mentee", verify=False)
    assert_error(api("POST", "/api/v1/news", json={"title": "T", "text": "X"}), 401, "unauthorized")
    assert_error(api("POST", "/api/v1/news", token=mentee, json={"title": "T", "text": "X"}), 403, "forbidden")
    assert_error(api("GET", "/api/v1/news/all", token=mentee), 403, "forbidden")
    item = publish(api, moderator)
    assert_error(api("PATCH", f"/api/v1/news/{item['id']}", token=mentee, json={"title": "Mine"}), 403, "forbidden")
    assert_error(api("GET", f"/api/v1/news/{item['id']}/history", token=mentee), 403, "forbidden")


def test_over_rpc_a_non_moderator_is_refused_and_the_form_checked(rpc, api):
    with pytest.raises(Forbidden):
        rpc.notifications.create_news(actor("mentor"), {"title": "T", "text": "X"})
    with pytest.raises(InvalidInput) as refused:
        rpc.notifications.create_news(actor("moderator"), {"title": "T", "text": "X", "meeting_link": "mailto:a@b.c"})
    assert set(refused.value.fields) == {"meeting_link"}


def test_pages_go_newest_first_with_a_cursor(api, moderator):
    rubric = "urban-educational-projects"
    made = [publish(api, moderator, rubrics=[rubric])["id"] for _ in range(3)]
    first = api("GET", "/api/v1/news", params={"limit": 2, "rubric": rubric}).json()
    assert [i["id"] for i in first["items"]] == made[::-1][:2] and first["next_cursor"]
    second = api("GET", "/api/v1/news", params={"limit": 2, "rubric": rubric, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in second["items"]][:1] == [made[0]]
    error = assert_error(api("GET", "/api/v1/news", params={"cursor": "not-a-cursor"}), 400, "invalid_input")
    assert names(error["fields"], "cursor")


# ---- scheduling, editing, withdrawing -----------------------------------------------------------


def test_a_scheduled_item_is_hidden_until_its_time(api, moderator):
    item = publish(api, moderator, publish_at=later(2))
    assert item["state"] == "scheduled"
    assert item["id"] not in public_ids(api)
    assert_error(api("GET", f"/api/v1/news/{item['id']}"), 404, "not_found")
    desk = api("GET", "/api/v1/news/all", token=moderator, params={"state": "scheduled"}).json()["items"]
    assert item["id"] in [i["id"] for i in desk]
    eventually(lambda: item["id"] in public_ids(api), timeout=10, message="published at its time")
    assert api("GET", f"/api/v1/news/{item['id']}").json()["state"] == "published"


def test_edits_and_the_withdrawal_keep_every_version(api, moderator):
    item = publish(api, moderator, title="First title")
    path = f"/api/v1/news/{item['id']}"
    edited = api("PATCH", path, token=moderator, json={"title": "Second title", "rubrics": [RUBRIC_B]})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["version"]) == ("Second title", 2)
    error = assert_error(api("PATCH", path, token=moderator, json={"publish_at": later(60)}), 400, "invalid_input")
    assert names(error["fields"], "publish_at")  # already published: its time stays
    withdrawn = api("POST", f"{path}/withdrawal", token=moderator, json={"reason": "Wrong date"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert_error(api("GET", path), 404, "not_found")
    assert item["id"] not in public_ids(api)
    assert_error(api("PATCH", path, token=moderator, json={"title": "Third"}), 409, "conflict")
    assert_error(api("POST", f"{path}/withdrawal", token=moderator, json={"reason": "Again"}), 409, "conflict")
    history = api("GET", f"{path}/history", token=moderator).json()
    assert history["item"]["withdraw_reason"] == "Wrong date"
    assert [(v["version"], v["change"], v["title"]) for v in history["versions"]] == [
        (1, "created", "First title"),
        (2, "edited", "Second title"),
        (3, "withdrawn", "Second title"),
    ]
    assert history["versions"][2]["reason"] == "Wrong date"


# ---- subscriptions: the inbox and e-mail, once, at publication, never when withdrawn --------------


def test_subscribers_of_the_rubrics_are_told_once_in_the_inbox_and_by_email(api, moderator, test_env):
    (mentee, mentee_token), (mentor, mentor_token) = api.register("mentee"), api.register("mentor")
    (_, everything_token), (_, quiet_token) = api.register("mentee"), api.register("mentee")
    for token, choice in (
        (mentee_token, {"subscribed": True, "rubrics": [RUBRIC_A]}),
        (mentor_token, {"subscribed": True, "rubrics": [RUBRIC_B]}),
        (everything_token, {"subscribed": True, "rubrics": []}),
    ):
        saved = api("PUT", "/api/v1/me/notification-preferences", token=token, json={"news": choice})
        assert saved.status_code == 200 and saved.json()["news"] == choice, saved.text
    assert api("GET", "/api/v1/me/notification-preferences", token=quiet_token).json()["news"] == {
        "subscribed": False,
        "rubrics": [],
    }

    now_item = publish(api, moderator, rubrics=[RUBRIC_A])
    scheduled = publish(api, moderator, rubrics=[RUBRIC_A], publish_at=later(3))
    cancelled = publish(api, moderator, rubrics=[RUBRIC_A], publish_at=later(2))
    api("POST", f"/api/v1/news/{cancelled['id']}/withdrawal", token=moderator, json={"reason": "Cancelled"})

    eventually(lambda: news_entries(api, mentee_token, now_item["id"]), message="the mentee is told")
    assert news_entries(api, mentee_token, scheduled["id"]) == []  # not before its time
    eventually(lambda: news_entries(api, mentee_token, scheduled["id"]), timeout=15, message="told at its time")
    eventually(lambda: news_entries(api, everything_token, scheduled["id"]), message="every rubric: told too")
    eventually(
        lambda: len(news_emails(test_env, mentee["email"], scheduled["title"])) == 1,
        timeout=20,
        message="the e-mail arrived",
        explain=lambda: outbox_of(test_env, mentee),
    )
    eventually(
        lambda: len(news_emails(test_env, mentee["email"], now_item["title"])) == 1,
        timeout=20,
        message="the e-mail of the first item arrived",
        explain=lambda: outbox_of(test_env, mentee),
    )
    for item in (now_item, scheduled):
        assert len(news_entries(api, mentee_token, item["id"])) == 1
        assert news_entries(api, mentor_token, item["id"]) == []  # another rubric
        assert news_entries(api, quiet_token, item["id"]) == []  # not subscribed
        assert len(news_emails(test_env, mentee["email"], item["title"])) == 1
    assert news_emails(test_env, mentor["email"], now_item["title"]) == []
    for token in (mentee_token, everything_token):
        assert news_entries(api, token, cancelled["id"]) == []  # withdrawn before its time: never
    assert news_emails(test_env, mentee["email"], cancelled["title"]) == []


def test_the_email_switch_of_the_kind_keeps_news_in_the_inbox_only(api, moderator, test_env):
    user, token = api.register("mentor")
    saved = api(
        "PUT",
        "/api/v1/me/notification-preferences",
        token=token,
        json={"email": {"news_published": False}, "news": {"subscribed": True, "rubrics": [RUBRIC_B]}},
    )
    assert saved.status_code == 200, saved.text
    item = publish(api, moderator, rubrics=[RUBRIC_B, RUBRIC_A])
    eventually(lambda: news_entries(api, token, item["id"]), message="told in the inbox")
    other = publish(api, moderator, rubrics=[RUBRIC_B])  # a later item's e-mails have gone out to others
    eventually(lambda: news_entries(api, token, other["id"]), message="told of the second")
    assert news_emails(test_env, user["email"], item["title"]) == []


def test_bad_subscription_names_the_field(api):
    _, token = api.register("mentee", verify=False)
    error = assert_error(
        api(
            "PUT",
            "/api/v1/me/notification-preferences",
            token=token,
            json={"news": {"subscribed": True, "rubrics": ["nope"]}},
        ),
        400,
        "invalid_input",
    )
    assert names(error["fields"], "news.rubrics.0"), error
    error = assert_error(
        api("PUT", "/api/v1/me/notification-preferences", token=token, json={"news": {"rubrics": []}}),
        400,
        "invalid_input",
    )
    assert names(error["fields"], "news.subscribed"), error
