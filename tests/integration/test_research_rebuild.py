"""`mentor-research rebuild/verify library` and the parquet export, on a live journey: real cases,
matching and library services over RPC and events, each on databases of its own (so hand-made
events of other modules' tests cannot be in the live library)."""

import csv
import json
import sys
import uuid

import psycopg2
import pytest

from research.cli import main
from services.library.projection import FORUM_NAMESPACE
from tests.integration.live_journey import EDITED_QUESTION, completed_journey
from tests.support import actor, run_research

KEY = "rebuild-key"


@pytest.fixture(scope="module")
def journey(start_module_service, test_env):
    yield from completed_journey(start_module_service, test_env, "rebuild")


def rebuild(journey, name):
    url = journey["test_env"].database_url(f"rebuilt_{name}")
    code, out = run_research(
        "rebuild", "library", "--cases-url", journey["cases"], "--library-url", journey["library"], "--into-url", url
    )
    assert code == 0, out
    assert "1 CaseCompleted and 1 CasePublishedToForum events and the library's decisions (2 published" in out
    return url


def test_rebuilt_library_equals_live(journey):
    url = rebuild(journey, "equal")
    code, out = run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)
    assert code == 0, out
    assert "live and rebuilt are equal" in out
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT essence, question FROM library_entries")
        [(essence, question)] = cur.fetchall()
        assert "Petrov" not in essence and "ivan@example.org" not in essence
        assert question == EDITED_QUESTION  # the decision's text, as published
        cur.execute("SELECT id::text FROM forum_threads")
        [(thread_id,)] = cur.fetchall()
    assert uuid.UUID(thread_id).version == 5  # derived from the same event id as the live relay's


def test_rebuild_refuses_a_database_already_used(journey):
    url = rebuild(journey, "used")
    code, _ = run_research(
        "rebuild", "library", "--cases-url", journey["cases"], "--library-url", journey["library"], "--into-url", url
    )
    assert code == 2


def test_without_the_librarys_decisions_nothing_is_published(journey):
    """The cases log alone makes drafts: what reaches the library is only what the library's log decided."""
    url = journey["test_env"].database_url("rebuilt_undecided")
    empty = journey["test_env"].database_url("rebuild_no_decisions")
    from services.common import migrations

    migrations.apply(empty, migrations.history_directory("library"))
    code, out = run_research(
        "rebuild", "library", "--cases-url", journey["cases"], "--library-url", empty, "--into-url", url
    )
    assert code == 0 and "(0 published, 0 rejected, 0 withdrawn)" in out, out
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM library_entries), (SELECT count(*) FROM forum_posts), "
            "(SELECT count(*) FROM publication_drafts WHERE state = 'pending')"
        )
        assert cur.fetchone() == (0, 0, 2)
    code, out = run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)
    assert code == 1 and "library_entries: only in live" in out


def test_tampering_with_a_live_row_makes_verify_fail_naming_it(journey, capsys):
    url = rebuild(journey, "tamper")
    live = journey["live"]
    with live.cursor() as cur:
        cur.execute("SELECT id::text, essence FROM forum_posts")
        [(post_id, essence)] = cur.fetchall()
        cur.execute("UPDATE forum_posts SET essence = 'tampered' WHERE id = %s", (post_id,))
        cur.execute("SELECT id::text, question FROM library_entries")
        [(entry_id, question)] = cur.fetchall()
        cur.execute("UPDATE library_entries SET question = 'tampered too' WHERE id = %s", (entry_id,))
    try:
        code, out = run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)
    finally:
        with live.cursor() as cur:
            cur.execute("UPDATE forum_posts SET essence = %s WHERE id = %s", (essence, post_id))
            cur.execute("UPDATE library_entries SET question = %s WHERE id = %s", (question, entry_id))
    assert code == 1, out
    assert f"forum_posts: id={post_id}: essence differs" in out
    assert f"library_entries: only in live: id={entry_id}" in out
    assert "library_entries: only in rebuilt:" in out
    assert "3 difference(s)" in out
    assert run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)[0] == 0


def test_parquet_export_round_trips(journey, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    target, csv_target = tmp_path / "events.parquet", tmp_path / "events.csv"
    assert (
        main(
            ["export", "--database-url", journey["cases"], "--key", KEY, "--format", "parquet", "--output", str(target)]
        )
        == 0
    )
    assert (
        main(
            ["export", "--database-url", journey["cases"], "--key", KEY, "--format", "csv", "--output", str(csv_target)]
        )
        == 0
    )
    table = pq.read_table(target)
    assert table.column_names == ["event_id", "case", "version", "type", "occurred_at", "data", "erased_fields"]
    rows = table.to_pylist()
    with open(csv_target, encoding="utf-8", newline="") as f:
        expected = list(csv.DictReader(f))
    assert len(rows) == len(expected) >= 6
    for row, want in zip(rows, expected):
        assert {k: str(v) for k, v in row.items()} == want
        json.loads(row["data"])
    assert [r["type"] for r in rows][:1] == ["Created"]
    assert "Petrov" not in str(rows)


def test_parquet_without_pyarrow_exits_2(journey, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code = main(
        [
            "export",
            "--database-url",
            journey["cases"],
            "--key",
            KEY,
            "--format",
            "parquet",
            "--output",
            str(tmp_path / "x.parquet"),
        ]
    )
    assert code == 2
    assert "pyarrow" in capsys.readouterr().err


def test_forum_ids_match_the_live_relay():
    assert FORUM_NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:forum")


def test_a_moderators_curation_is_rebuilt_from_the_librarys_journal(journey, rpc):
    """A moderator's edit of a published entry and a material they added are the library's own acts,
    journaled in order (services/library/curation.py): a rebuild replays them after the decisions, so the
    rebuilt library equals the live one. Before, both showed as differences."""
    moderator = actor("moderator")
    with journey["live"].cursor() as cur:
        cur.execute("SELECT id::text FROM library_entries")
        [(entry_id,)] = cur.fetchall()
    edited = "How do I calm a pupil who disrupts lessons in form 7?"
    rpc.library.edit_item(moderator, entry_id, {"question": edited})
    material = rpc.library.add_material(
        moderator,
        {
            "material_type": "link",
            "title": "Classroom routines that hold",
            "url": "https://example.org/routines",
            "rubrics": ["class-management-motivation"],
        },
    )
    url = rebuild(journey, "curated")
    code, out = run_research("verify", "library", "--live-url", journey["library"], "--rebuilt-url", url)
    assert code == 0 and "live and rebuilt are equal" in out, out
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT question FROM library_entries")
        assert cur.fetchall() == [(edited,)]
        cur.execute("SELECT title, origin FROM library_materials WHERE id = %s", (material["id"],))
        assert cur.fetchall() == [("Classroom routines that hold", "moderator")]
