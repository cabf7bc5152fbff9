"""The library's personal texts, sealed with their writer's key (services/common/shredding.py).

What is sealed:

- a publication draft's ``original`` and ``draft`` documents (jsonb) while they are the author's: every
  free text in them (``DRAFT_TEXT_KEYS``, at any depth: the essence, the question, the solutions' texts,
  the materials' titles and references, the clarifications...) with the case author's key - the
  anonymizer's draft is still the author's text until a moderator has read it, and the original is
  always theirs. Rubrics, urgency, participants' categories and the outcome stay plain (the listing and
  the review need them; they name nobody). A published draft's ``draft`` becomes the published text,
  plain like the library entry or forum post it made (impersonal by review, and it stays after erasure);
  a rejected or withdrawn one stays sealed;
- a forum message's ``text`` with its writer's key;
- a survey's ``title`` and its questions' texts with its author's key (a mentor may write one; the
  options stay plain: the anonymous answers and the results count them by their text).

What is not sealed, and why: published ``library_entries``, ``library_materials``, ``forum_threads``
and ``forum_posts`` (and their search vectors) - a moderator read and published them as impersonal, the
issue keeps them after erasure, search and similar cases need their words, and sealed copies could not
be compared by ``mentor-research verify library`` (a rebuilt database has no keys); the moderators' own
texts (reasons, edits of published items, materials they add: a moderator's account cannot be erased);
surveys' answers (anonymous by design: stored with no person, free text through the anonymizer).

An erased author's pending drafts leave the review queue (``review.withdraw_erased``): they can no
longer be published; their surveys not yet over close (``surveys.close_erased``). Rows written before sealing are read as they are (``open_field`` passes plaintext
through) and sealed by ``seal_legacy_rows``, a data pass the service runs from a timer, as identity's.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from psycopg2.extras import Json

from services.common import shredding

# config.yaml's default of PERSON_KEYS_MASTER_KEY (refused in production: services/common/settings.py)
DEVELOPMENT_MASTER_KEY = "dev-only-library-person-keys-master-key-change-me"

MESSAGE_TEXTS = ("text",)
SURVEY_TEXTS = ("title",)
DRAFT_DOCUMENTS = ("original", "draft")
# every jsonb column whose free texts (DRAFT_TEXT_KEYS) may be sealed: drafts' documents, surveys' questions
DOCUMENTS = (*DRAFT_DOCUMENTS, "questions")
# every key of a draft's documents that holds a person's free text (review.text_paths reads the same)
DRAFT_TEXT_KEYS = frozenset(
    {"title", "essence", "actions_taken", "difficulty", "question", "answer", "text", "reference"}
)

TextMap = Callable[[str], str]


# ---- pure: a draft's documents -------------------------------------------------------------------


def map_texts(document: Any, change: TextMap) -> Any:
    """A copy of ``document`` with ``change`` applied to every string under a ``DRAFT_TEXT_KEYS`` key, at
    any depth; everything else as it is."""
    if isinstance(document, Mapping):
        return {
            k: change(v) if k in DRAFT_TEXT_KEYS and isinstance(v, str) else map_texts(v, change)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [map_texts(item, change) for item in document]
    return document


def sealed_strings(document: Any) -> list[str]:
    """Every sealed string anywhere in ``document`` (for the keys that opening it needs)."""
    if isinstance(document, Mapping):
        return [s for v in document.values() for s in sealed_strings(v)]
    if isinstance(document, list):
        return [s for item in document for s in sealed_strings(item)]
    return [document] if isinstance(document, str) and shredding.is_sealed(document) else []


def open_document(document: Any, key_of: shredding.KeyLookup) -> Any:
    """A copy of ``document`` with every sealed string opened (``[erased]`` when its key is gone)."""
    if isinstance(document, Mapping):
        return {k: open_document(v, key_of) for k, v in document.items()}
    if isinstance(document, list):
        return [open_document(item, key_of) for item in document]
    if isinstance(document, str) and shredding.is_sealed(document):
        return shredding.open_field(document, key_of)
    return document


# ---- the vault ----------------------------------------------------------------------------------


class Vault(shredding.Vault):
    """The library's rows: forum messages' texts (``MESSAGE_TEXTS``) and drafts' documents
    (``DRAFT_DOCUMENTS``) sealed and opened in the caller's transaction."""

    def __init__(self, master_key: str) -> None:
        super().__init__(master_key, texts=(*MESSAGE_TEXTS, *SURVEY_TEXTS))

    def seal_documents(self, cur: Any, person_id: str, documents: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``documents`` (``{"original": ..., "draft": ...}``) with their free texts sealed for
        ``person_id`` (already sealed ones as they are; an erased person's as ``[erased]``)."""
        seal_text = shredding.text_sealer(self.keys.key_for_sealing(cur, person_id), person_id)
        return {name: map_texts(document, seal_text) for name, document in documents.items()}

    def is_erased(self, cur: Any, person_id: str) -> bool:
        """Whether the person's key was erased here (their tombstone)."""
        cur.execute("SELECT 1 FROM person_keys WHERE person_id = %s AND erased_at IS NOT NULL", (str(person_id),))
        return cur.fetchone() is not None

    def open_rows(self, cur: Any, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` with every sealed field opened, the drafts' documents included (one query
        for all their persons' keys)."""
        opened = super().open_rows(cur, rows)
        strings = [s for row in opened for name in DOCUMENTS if name in row for s in sealed_strings(row[name])]
        if not strings:
            return opened
        key_of = self.keys.lookup(cur, strings)
        for row in opened:
            for name in DOCUMENTS:
                if name in row:
                    row[name] = open_document(row[name], key_of)
        return opened


is_person = shredding.is_person  # drafts of events without an author (no UUID) stay as they are


# ---- the data pass: rows written in plaintext before sealing ------------------------------------

LEGACY_BATCH = 100
_UUID = "^[0-9a-fA-F-]{36}$"  # SQL: an author id a key can be made for (``is_person``)


def _plain_text_in(column: str, keys: Iterable[str] = DRAFT_TEXT_KEYS) -> str:
    """SQL: the jsonb ``column`` holds a non-empty plain string under one of ``keys``."""
    tests = [
        f'jsonb_path_exists({column}, \'lax $.**.{key} ? (@.type() == "string" && @ != "" '
        f'&& @ != "{shredding.ERASED}" && !(@ starts with "{shredding.PREFIX}"))\')'
        for key in sorted(keys)
    ]
    return "(" + " OR ".join(tests) + ")"


def _plain_rows(cur: Any, table: str, columns: str, plain: str, limit: int | None, person_id: str | None) -> list:
    """Rows of ``table`` (by ``author_id``) for which the SQL ``plain`` holds: a batch of anybody's, each
    locked as it is read (others' locked rows wait for the next pass), or with ``person_id`` every one of
    theirs, waiting for their locks (an erasure)."""
    whose = f"author_id ~ '{_UUID}'" if person_id is None else "author_id = %(person)s"
    cur.execute(
        f"SELECT id, author_id, {columns} FROM {table} WHERE {whose} AND ({plain}) ORDER BY id "
        + ("LIMIT %(limit)s FOR UPDATE SKIP LOCKED" if person_id is None else "FOR UPDATE"),
        {"limit": limit, "person": str(person_id), "erased": shredding.ERASED},
    )
    return list(cur.fetchall())


def _plain_text(column: str) -> str:
    """SQL: a text column holding plaintext (not empty, not sealed, not ``[erased]``)."""
    return f"({column} <> '' AND NOT starts_with({column}, '{shredding.PREFIX}') AND {column} <> %(erased)s)"


def seal_legacy_rows(cur: Any, vault: Vault, limit: int | None = LEGACY_BATCH, person_id: str | None = None) -> int:
    """Seal up to ``limit`` forum messages, drafts and surveys each that still hold plaintext (written before
    sealing; a published draft's text is the published item's and stays plain); returns how many were
    sealed (0: none is left). Idempotent and safe beside the service's own writes (rows locked). With
    ``person_id``: every row of that person's (what an erasure runs before it shreds the key).

    Not ``shredding.seal_plain_rows``: drafts and questions are jsonb documents, and a text of a person
    erased before the pass reads ``[erased]``, which that loop would take for plaintext at every tick."""
    sealed = 0
    for row in _plain_rows(cur, "forum_messages", "text", _plain_text("text"), limit, person_id):
        data = vault.seal(cur, row["author_id"], row, texts=MESSAGE_TEXTS)
        cur.execute("UPDATE forum_messages SET text = %s WHERE id = %s", (data["text"], row["id"]))
        sealed += 1
    plain = f"state <> 'published' AND ({_plain_text_in('original')} OR {_plain_text_in('draft')})"
    for row in _plain_rows(cur, "publication_drafts", "original, draft", plain, limit, person_id):
        documents = vault.seal_documents(cur, row["author_id"], {n: row[n] for n in DRAFT_DOCUMENTS})
        cur.execute(
            "UPDATE publication_drafts SET original = %s, draft = %s WHERE id = %s",
            (Json(documents["original"]), Json(documents["draft"]), row["id"]),
        )
        sealed += 1
    plain = f"{_plain_text('title')} OR {_plain_text_in('questions', ['text'])}"
    for row in _plain_rows(cur, "surveys", "title, questions", plain, limit, person_id):
        title_plain = not (row["title"] == shredding.ERASED or shredding.is_sealed(row["title"]))
        title = vault.seal(cur, row["author_id"], row, texts=SURVEY_TEXTS if title_plain else ())
        questions = vault.seal_documents(cur, row["author_id"], {"questions": row["questions"]})["questions"]
        cur.execute(
            "UPDATE surveys SET title = %s, questions = %s WHERE id = %s",
            (title["title"], Json(questions), row["id"]),
        )
        sealed += 1
    return sealed


def erase(cur: Any, vault: Vault, person_id: str) -> bool:
    """PersonErased: what of theirs is still plaintext is sealed first, then their key is shredded, so every
    text they wrote here reads ``[erased]``; False when they were erased already (nothing to do)."""
    if is_person(person_id):
        seal_legacy_rows(cur, vault, limit=None, person_id=person_id)
    return shredding.erase_key(cur, person_id)
