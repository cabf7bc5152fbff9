"""The library's browse, full-text search and similar cases, over RPC, on entries projected from
hand-made CaseCompleted events on the real broker (and materials attached to their solutions).

Other modules' tests share this library database: every test finds its own items by a made-up
word of its own (``tag()``), or checks properties that hold whatever else is there.
"""

import random
import string
import uuid
from datetime import datetime

import psycopg2.extras
import pytest
from nameko.exceptions import RemoteError

from contracts.errors import InvalidInput, NotFound
from services.common import migrations
from services.library import search as search_module
from services.library import similar
from services.library.projection import entry_id
from services.library.service import LibraryService
from tests.integration.event_helpers import consumer_under_test, envelope, processed
from tests.support import actor, eventually

READER = actor("mentee")


@pytest.fixture(scope="module")
def library(start_module_service, test_env):
    # about search, curation and the forum, not review: published at once (tests/integration/test_library_review.py)
    with consumer_under_test(start_module_service, test_env, LibraryService, LIBRARY_REVIEW="automatic") as broker:
        yield broker


def tag():
    """A word no other item has (letters only: the stemmers keep it whole)."""
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


def completed(
    essence,
    question="What now?",
    rubrics=("class-management-motivation",),
    consent=True,
    solutions=None,
    problem_solved="yes",
    author_id=None,
    **publication,
):
    case_id = str(uuid.uuid4())
    pub = {
        "essence": essence,
        "actions_taken": "",
        "difficulty": "",
        "question": question,
        "participants": [],
        "rubrics": list(rubrics),
        "urgency": "need_advice",
        "solutions": solutions if solutions is not None else [{"text": "Agree class rules.", "materials": []}],
        **publication,
    }
    return envelope(
        "CaseCompleted",
        case_id,
        {
            "case_id": case_id,
            "case_number": "MC-2026-000001",
            "rubrics": list(rubrics),
            "problem_solved": problem_solved,
            "publication_consent": consent,
            "publication": pub if consent else None,
            "author_id": author_id or str(uuid.uuid4()),
        },
    )


def publish_all(library, db, *bodies):
    """Publish, then wait until the last one is processed (max_workers=1: all before it are too)."""
    for body in bodies:
        library.publish(body)
    eventually(lambda: processed(db, "library", bodies[-1]), message="events processed")


def search(rpc, who=READER, **query):
    return rpc.library.search(who, query)


def ids(page):
    return [item["id"] for item in page["items"]]


def test_a_consented_case_is_browsed_and_found_in_english_and_russian(library, rpc, db):
    word = tag()
    body = completed(
        f"Pupils of my 7th form refuse homework, {word}. Ученики не слушаются учительницу.",
        question="How do I restore discipline?",
        rubrics=["class-management-motivation"],
    )
    publish_all(library, db, body)
    own = str(entry_id(body["event_id"]))

    browsed = search(rpc, rubric="class-management-motivation", limit=100)
    assert own in ids(browsed)
    assert search(rpc, rubric="families-at-risk", q=word)["items"] == []

    for q in (
        word,
        f"homework {word}",
        f"disciplined {word}",  # English, stemmed: discipline
        f"ученикам {word}",
        f"учительницей {word}",
        f'"не слушается" {word}',
    ):  # Russian, other forms
        found = search(rpc, q=q)
        assert ids(found) == [own], q
        assert found["total"] == 1 and found["total_exact"] and found["next_cursor"] is None
    [item] = search(rpc, q=f"ученик {word}")["items"]
    assert item["kind"] == "solved_case" and item["question"] == "How do I restore discipline?"
    assert own not in ids(search(rpc, q=f"homework -{word}", limit=100))  # websearch syntax: minus excludes
    assert search(rpc, q=f"{word} astronomy")["items"] == []  # all words must match
    nothing = search(rpc, q="the и !!")  # stop words only: no lexeme to look for, no error
    assert nothing == {"items": [], "total": 0, "total_exact": True, "next_cursor": None}


def test_a_case_without_consent_never_enters_the_library(library, rpc, db):
    word = tag()
    refused = completed(f"Secret trouble {word}", consent=False)
    sentinel = completed(f"Sentinel {tag()}")
    publish_all(library, db, refused, sentinel)
    assert search(rpc, q=word)["items"] == []
    assert str(entry_id(refused["event_id"])) not in ids(search(rpc, limit=100))
    with pytest.raises(NotFound):
        rpc.library.get_entry(READER, str(entry_id(refused["event_id"])))


def test_ranking_prefers_the_essence_and_question_over_the_rest(library, rpc, db):
    word = tag()
    in_solution = completed("Parents complain.", solutions=[{"text": f"Try {word} circles.", "materials": []}])
    in_essence = completed(f"My {word} club fell apart.")
    publish_all(library, db, in_essence, in_solution)  # the solution one is newer: rank decides, not time
    found = search(rpc, q=word)
    assert ids(found) == [str(entry_id(in_essence["event_id"])), str(entry_id(in_solution["event_id"]))]


def test_pages_of_a_search_and_of_browse_follow_each_other_without_repeats(library, rpc, db):
    word = tag()
    bodies = [completed(f"Case {i} about {word}") for i in range(5)]
    publish_all(library, db, *bodies)
    seen, cursor, pages = [], None, 0
    while True:
        page = search(rpc, q=word, limit=2, cursor=cursor)
        assert page["total"] == 5 and page["total_exact"]
        seen += ids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and sorted(seen) == sorted(str(entry_id(b["event_id"])) for b in bodies)

    first = search(rpc, limit=100)  # the session's library may hold more than a counted total (500)
    browsed, cursor = [], None
    while True:
        page = search(rpc, limit=7, cursor=cursor)
        browsed += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(browsed) == len({i["id"] for i in browsed})
    assert len(browsed) == first["total"] if first["total_exact"] else len(browsed) > first["total"]
    times = [datetime.fromisoformat(i["published_at"]) for i in browsed]
    assert times == sorted(times, reverse=True)  # newest first


def test_a_cursor_belongs_to_its_query_and_limits_are_bounded(library, rpc, db):
    word = tag()
    publish_all(library, db, *[completed(f"Bounded {word} {i}") for i in range(3)])
    cursor = search(rpc, q=word, limit=1)["next_cursor"]
    assert cursor
    for query in (
        {"q": tag(), "cursor": cursor},
        {"cursor": cursor},
        {"q": word, "cursor": "garbage!"},
        {"q": word, "cursor": cursor[:-3]},
    ):
        with pytest.raises(InvalidInput) as refused:
            search(rpc, **query)
        assert set(refused.value.fields) == {"cursor"}
    for query, field in (
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"kind": "poster"}, "kind"),
        ({"rubric": "astrology"}, "rubric"),
        ({"q": "x" * 201}, "q"),
    ):
        with pytest.raises(InvalidInput) as refused:
            search(rpc, **query)
        assert set(refused.value.fields) == {field}


def test_materials_attached_to_solutions_become_items_linked_to_the_case(library, rpc, db):
    word = tag()
    body = completed(
        f"Homework strike {word}",
        rubrics=["class-management-motivation", "teaching-methods"],
        solutions=[
            {
                "text": "Rules first.",
                "materials": [
                    {"title": f"Class rules {word}", "reference": "https://example.org/rules"},
                    {
                        "title": f"Motivation {word}",
                        "reference": "Ivanov I. Motivation // School. 2020. No 3.",
                        "rubrics": ["teaching-methods"],
                    },
                    {"title": f"Pedagogy {word}", "reference": "Anna Petrova. Pedagogy. Moscow, 2019."},
                ],
            }
        ],
    )
    publish_all(library, db, body)
    materials = search(rpc, q=word, kind="material")["items"]
    assert sorted(m["material_type"] for m in materials) == ["article", "book", "link"]
    by_type = {m["material_type"]: m for m in materials}
    assert by_type["link"]["url"] == "https://example.org/rules" and by_type["link"]["reference"] == ""
    assert by_type["article"]["rubrics"] == ["teaching-methods"]
    assert by_type["book"]["rubrics"] == ["class-management-motivation", "teaching-methods"]
    assert {m["entry_id"] for m in materials} == {str(entry_id(body["event_id"]))}
    assert {m["origin"] for m in materials} == {"solution"}
    assert "Petrova" not in by_type["book"]["reference"]  # scrubbed like the case itself
    assert ids(search(rpc, q=word, kind="book")) == [by_type["book"]["id"]]
    assert ids(search(rpc, q=word, kind="solved_case")) == [str(entry_id(body["event_id"]))]
    assert len(search(rpc, q=word)["items"]) == 4
    assert rpc.library.get_entry(READER, by_type["link"]["id"])["title"] == f"Class rules {word}"
    for kind in ("solved_case", "material", "book"):  # browsing one table: its own capped count
        browsed = search(rpc, kind=kind, rubric="teaching-methods")
        assert browsed["items"] and {i["kind"] for i in browsed["items"]} == {
            "solved_case" if kind == "solved_case" else "material"
        }


def test_a_new_case_on_the_same_topic_gets_the_solved_one_back_as_similar(library, rpc, db):
    word = tag()
    chess = completed(
        f"My pupils lose interest in the {word} chess club; the tournament was cancelled.",
        question="How do I revive the chess club?",
        rubrics=["urban-educational-projects"],
    )
    russian = completed(
        f"Шахматный кружок {word} распался: ученики перестали приходить на занятия.",
        question="Как возродить шахматный кружок?",
        rubrics=["urban-educational-projects"],
    )
    parents = completed(f"Parents {word} phone me at night about grades.", rubrics=["interaction-with-parents"])
    publish_all(library, db, chess, russian, parents)
    chess_id, russian_id, parents_id = (str(entry_id(b["event_id"])) for b in (chess, russian, parents))

    found = rpc.library.similar(
        READER,
        {
            "text": f"Nobody comes to our {word} chess club any more; how do I revive it?",
            "rubrics": ["urban-educational-projects", "self-management"],
            "limit": 20,
        },
    )
    assert found[0]["id"] == chess_id
    assert found[0]["matched_rubrics"] == ["urban-educational-projects"] and found[0]["text_score"] == 1.0
    assert found[0]["relevance"] == pytest.approx(0.6 + 0.4 * (similar.RUBRIC_AREA + (1 - similar.RUBRIC_AREA) / 2))
    assert found[0]["reasons"] == ["shared_rubrics", "similar_words", "problem_solved"]
    assert parents_id not in [f["id"] for f in found]  # one stray word (the tag) and no shared rubric
    assert all(f["relevance"] >= similar.MIN_RELEVANCE for f in found)
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)

    russian_found = rpc.library.similar(
        READER, {"text": "Ученики не приходят в шахматный кружок, что делать?", "rubrics": []}
    )
    assert russian_found[0]["id"] == russian_id and russian_found[0]["matched_rubrics"] == []
    assert len(russian_found) <= 5  # the default limit

    with pytest.raises(InvalidInput) as refused:
        rpc.library.similar(READER, {"text": " ", "rubrics": ["astrology"], "limit": 50})
    assert set(refused.value.fields) == {"text", "rubrics", "limit"}


def test_no_similar_case_is_an_honest_answer_a_weak_best_match_is_not_shown(library, rpc, db):
    """Today's ranking scored the best of weak matches 1.0 and showed it: a shared rubric, or one
    word in common, is not a similar case."""
    word = tag()
    publish_all(
        library,
        db,
        completed(f"The {word} parents phone me at night about grades.", rubrics=["interaction-with-parents"]),
    )
    assert (
        rpc.library.similar(
            READER,
            {
                "text": f"A colleague {word} criticises my lessons in front of pupils.",
                "rubrics": ["professional-ethics"],
                "limit": 20,
            },
        )
        == []
    )
    assert all(
        f["relevance"] >= similar.MIN_RELEVANCE
        for f in rpc.library.similar(
            READER, {"text": f"My {word} lessons are dull.", "rubrics": ["interaction-with-parents"], "limit": 20}
        )
    )


def test_what_worked_comes_first_and_the_authors_own_case_is_never_suggested_nor_shown(library, rpc, db):
    word = tag()
    author = actor("mentee")
    text = f"Pupils ignore the {word} rota for cleaning the classroom and argue about duties."

    def case(problem_solved, helpfulness, author_id=None):
        return completed(
            text,
            question=f"How do I make the {word} rota work?",
            problem_solved=problem_solved,
            author_id=author_id,
            solutions=[
                {
                    "text": "Let the pupils draw up the rota.",
                    "materials": [{"title": f"Rota {word} templates", "reference": "https://example.org/rota"}],
                    "helpfulness": helpfulness,
                }
            ],
        )

    failed, worked, own = case("no", 1), case("yes", 5), case("yes", 5, author_id=author["user_id"])
    publish_all(library, db, failed, worked, own)
    failed_id, worked_id, own_id = (str(entry_id(b["event_id"])) for b in (failed, worked, own))
    request = {
        "text": f"{text} What do I do with the {word} rota?",
        "rubrics": ["class-management-motivation"],
        "limit": 20,
    }

    ours = [f for f in rpc.library.similar(READER, request) if f["id"] in (failed_id, worked_id, own_id)]
    assert {f["id"] for f in ours} == {failed_id, worked_id, own_id}  # another reader sees all three
    mine = [f["id"] for f in rpc.library.similar(author, request)]  # the author, filing
    on_behalf = [f["id"] for f in rpc.library.similar(READER, {**request, "author_id": author["user_id"]})]
    for found in (mine, on_behalf):
        assert own_id not in found
        assert found.index(worked_id) < found.index(failed_id)  # the same words: what worked first
    [worked_view] = [f for f in ours if f["id"] == worked_id]
    assert worked_view["outcome_score"] == 1.0 and "helpful_solution" in worked_view["reasons"]
    assert worked_view["solutions"][0]["helpfulness"] == 5
    # the author is the library's to know, never to show: not in similar, search or the item
    shown = [*ours, rpc.library.get_entry(READER, own_id), *search(rpc, q=word)["items"]]
    assert all("author_id" not in item and author["user_id"] not in str(item) for item in shown)
    materials = [f for f in rpc.library.similar(author, request) if f["kind"] == "material"]
    assert all(f.get("entry_id") != own_id for f in materials)  # nor the materials of their own case


def expected_order(db, word, kind="solved_case"):
    """Every match best first, as one plain query ranks them (rank, then newest, then id)."""
    table = "library_entries" if kind == "solved_case" else "library_materials"
    with db("library").cursor() as cur:
        cur.execute(
            f"SELECT id::text FROM {table}, websearch_to_tsquery('russian', %s) q WHERE search @@ q "
            "ORDER BY ts_rank(search, q) DESC, published_at DESC, id DESC",
            (word,),
        )
        return [r[0] for r in cur.fetchall()]


def test_paging_a_search_returns_every_match_once_in_rank_order(library, rpc, db):
    """Ranks are computed on the recency-capped candidates only: still every match, once, best first."""
    word = tag()
    texts = [
        f"{word} {word} {word} club.",
        f"My {word} club.",
        "Parents complain.",
        f"{word} and {word}.",
        f"My {word} club.",
        "Parents complain.",
        f"Long essay about many things, then {word}.",
        f"{word}.",
        "Pupils argue.",
        f"My {word} club.",
    ]
    bodies = [completed(text, solutions=[{"text": f"Try the {word} method.", "materials": []}]) for text in texts]
    publish_all(library, db, *bodies)
    expected = expected_order(db, word)
    assert len(expected) == len(bodies)
    seen, cursor = [], None
    while True:
        page = search(rpc, q=word, limit=3, cursor=cursor)
        assert page["total"] == len(bodies) and page["total_exact"]
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected  # every match exactly once, in rank order (ties: newest first)


def test_only_the_most_recent_matches_are_ranked_and_paged(library, rpc, db, monkeypatch):
    monkeypatch.setattr(search_module, "RANK_CANDIDATES", 4)
    monkeypatch.setattr(search_module, "TOTAL_CAP", 4)
    word = tag()
    bodies = [completed(f"{word} " * (1 + i % 3) + "case.") for i in range(7)]
    publish_all(library, db, *bodies)
    with db("library").cursor() as cur:
        cur.execute(
            "SELECT id::text FROM library_entries WHERE search @@ websearch_to_tsquery('russian', %s) "
            "ORDER BY published_at DESC, id DESC LIMIT 4",
            (word,),
        )
        recent = {r[0] for r in cur.fetchall()}
    seen, cursor = [], None
    while True:
        page = search(rpc, q=word, limit=3, cursor=cursor)
        assert page["total"] == 4 and not page["total_exact"]  # "4+": more matches than candidates
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == recent and len(seen) == 4
    assert seen == [i for i in expected_order(db, word) if i in recent]  # the candidates, best first


def test_an_existing_library_database_migrates_to_inline_search_vectors(library, db, test_env):
    conn = db("library")

    def storage():
        with conn.cursor() as cur:
            cur.execute(
                "SELECT attrelid::regclass::text, attstorage FROM pg_attribute WHERE attname = 'search' "
                "AND attrelid IN ('library_entries'::regclass, 'library_materials'::regclass) ORDER BY 1"
            )
            return cur.fetchall()

    with conn.cursor() as cur:  # a library made before: vectors TOASTed like any other column, and
        cur.execute(
            "ALTER TABLE library_entries ALTER COLUMN search SET STORAGE EXTENDED; "  # no record
            "ALTER TABLE library_materials ALTER COLUMN search SET STORAGE EXTENDED"
        )  # of SET STORAGE
        # and made by the code before the histories: its first step not recorded as run
        cur.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0001_schema_of_2026_12'")
        assert cur.rowcount == 1
    assert storage() == [("library_entries", "x"), ("library_materials", "x")]
    # what the upgrade runs
    assert migrations.apply(test_env.database_url("library"), migrations.history_directory("library")) == [
        "0001_schema_of_2026_12"
    ]
    assert storage() == [("library_entries", "m"), ("library_materials", "m")]


def test_a_walk_of_the_newest_rows_or_the_planners_way_find_the_same_pages(library, rpc, db, monkeypatch):
    """Words judged common are found by walking the newest rows (at most so many, then the planner's
    way again): every match once, best first, whichever way each table was read."""
    word = tag()
    bodies = [
        completed(
            f"{word} " * (1 + i % 3) + "walk.",
            solutions=[
                {
                    "text": "Agree class rules.",
                    "materials": [{"title": f"Walk {word} {i}", "reference": "Book. M., 2020."}],
                }
            ],
        )
        for i in range(6)
    ]
    publish_all(library, db, *bodies)
    expected = expected_order(db, word) + expected_order(db, word, "material")
    monkeypatch.setattr(search_module, "SAMPLE_FROM_ITEMS", 0)  # sampled however small the library
    monkeypatch.setattr(search_module, "SAMPLE_ROWS", 4)  # the newest 4: all this test's, all matching
    monkeypatch.setattr(search_module, "WALK_COST_RATIO", 1e9)  # judged common, however small the table

    def pages(**query):
        seen, cursor = [], None
        while True:
            page = search(rpc, q=word, limit=4, cursor=cursor, **query)
            seen += ids(page)
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    with db("library").cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(*search_module.sample_statement(word, None, None))
        walks = search_module.plan_walks(cur.fetchall())
        assert set(walks) == {"solved_case", "material"}
        planner = search_module.search_statement(word, None, None, None, 100, {})
        walked = search_module.search_statement(word, None, None, None, 100, walks)
        cur.execute(*planner)
        by_planner = cur.fetchone()
        cur.execute(*walked)
        by_walk = cur.fetchone()
    assert by_walk["page"] == by_planner["page"] and by_walk["total"] == by_planner["total"] == 12

    # The walk reads up to 1002 rows: all the library; 6 found in each, fewer than the 500 cap: the
    # walk may have stopped short (it has not, but it cannot tell), so both tables are read again.
    everything = pages()
    assert sorted(everything) == sorted(expected) and len(everything) == 12
    assert ids(search(rpc, q=word, limit=100)) == everything
    monkeypatch.setattr(search_module, "WALK_MARGIN", 0.001)  # walks of 4 rows: they do stop short
    assert pages() == everything

    monkeypatch.setattr(search_module, "RANK_CANDIDATES", 3)  # a walk of 8 rows finds 4: the cap and one more
    monkeypatch.setattr(search_module, "TOTAL_CAP", 3)
    capped = pages(kind="solved_case")
    with db("library").cursor() as cur:
        cur.execute(
            "SELECT id::text FROM library_entries WHERE search @@ websearch_to_tsquery('russian', %s) "
            "ORDER BY published_at DESC, id DESC LIMIT 3",
            (word,),
        )
        recent = {r[0] for r in cur.fetchall()}
    assert capped == [i for i in expected_order(db, word) if i in recent]


def test_a_small_library_is_searched_without_a_sample(library, rpc, db, monkeypatch):
    word = tag()
    publish_all(library, db, completed(f"Small {word} library."))

    def no_sample(*args):
        raise AssertionError("sampled a library smaller than SAMPLE_FROM_ITEMS")

    monkeypatch.setattr(search_module, "sample_statement", no_sample)
    assert search_module.SAMPLE_FROM_ITEMS > 1000  # the test library holds far fewer items
    assert len(search(rpc, q=f"small {word}")["items"]) == 1
    monkeypatch.setattr(search_module, "SAMPLE_FROM_ITEMS", 0)
    with pytest.raises(RemoteError):
        search(rpc, q=f"small {word}")  # the same query, sampled: the service reports the failure
