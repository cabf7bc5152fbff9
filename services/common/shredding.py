"""Crypto-shredding: every personal field is sealed with a key of the person it belongs to, and erasing
the person deletes that key, which erases every copy of those fields at once: the service's tables,
its event payloads, its backups and whatever another service copied of them (issue 19, part 3; the
approach of Axon's data-protection module and Akka's GDPR shredding).

The sealed-field format is one line of text::

    shred:v1:<person id>:<base64url of nonce (12 bytes) + AES-256-GCM ciphertext and tag>

Why text and not a JSON object: the same value then fits a TEXT column, an element of a TEXT[] column
and a string of a JSON event payload, with no change of column type or payload schema; it names its
format version (a reader knows what it opens, a later v2 can sit beside it) and its subject (the key to
ask for, and what erasure made unreadable), and the whole header is the cipher's associated data, so a
sealed value moved to another person or another version fails to open instead of opening wrongly. Bytes
(a photo in a BYTEA column) are sealed the same way with the raw nonce and ciphertext after the header
instead of base64 (``seal_bytes``): a third smaller.

An empty text is stored empty: it tells nothing, and keeps optional fields cheap.

Keys: one random 256-bit key per person, made on first use, kept in the service's own ``person_keys``
table (services own their data) wrapped with AES-GCM under a key derived from the service's master key
(a setting): a copy of the database alone, or of its backups, opens nothing without that setting, so
operators keep the master key apart from the database backups and back it up too - losing it (or the
table) erases everyone. Erasure replaces the wrapped key by nothing and records when (a tombstone): a
late write for an erased person never makes them a new key, and a repeated erasure changes nothing.

Everything here but ``KeyStore`` and ``Vault`` (the persons' keys in the caller's transaction) is pure.
"""

import base64
import binascii
import hashlib
import hmac
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contracts.errors import PlatformError

VERSION = "v1"
PREFIX = "shred:"
SEALED_PREFIX = f"{PREFIX}{VERSION}:"
ERASED = "[erased]"
KEY_BYTES = 32
NONCE_BYTES = 12
_ID_LENGTH = 36  # a UUID's canonical text

# Every service database has this table (a step of each schema history: services/<service>/migrations).
PERSON_KEYS = """
CREATE TABLE IF NOT EXISTS person_keys (
    person_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
)"""


class SealedFieldError(ValueError):
    """A value that claims to be sealed but cannot be opened with its subject's key: tampered with,
    truncated, of an unknown version, or sealed for somebody else."""


def derive_key(master_key: str, purpose: str) -> bytes:
    """A 256-bit key for one ``purpose`` from the service's master key (HKDF-SHA256): wrapping the
    persons' keys and the e-mail blind index use different keys from one setting."""
    if len(master_key) < 16:
        raise ValueError("the master key must be at least 16 characters")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(
        master_key.encode()
    )


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _person(person_id: str | uuid.UUID) -> str:
    return str(uuid.UUID(str(person_id)))


def _header(person_id: str) -> bytes:
    return f"{SEALED_PREFIX}{person_id}:".encode()


def is_sealed(value: object) -> bool:
    """Whether a stored value is in the sealed format (text or bytes); anything else is plaintext
    written before sealing (read as it is: see the identity service's data pass)."""
    if isinstance(value, str):
        return value.startswith(PREFIX)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[: len(PREFIX)]) == PREFIX.encode()
    return False


def subject_of(value: str | bytes) -> str:
    """The person a sealed value belongs to (SealedFieldError when it is not one)."""
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if not raw.startswith(SEALED_PREFIX.encode()):
        raise SealedFieldError("not a sealed field of a known version")
    person = raw[len(SEALED_PREFIX) : len(SEALED_PREFIX) + _ID_LENGTH].decode("ascii", "replace")
    try:
        return _person(person)
    except ValueError:
        raise SealedFieldError("a sealed field without a valid subject") from None


def seal(key: bytes, person_id: str | uuid.UUID, plaintext: str) -> str:
    """``plaintext`` sealed for ``person_id`` with their ``key``; an empty text stays empty."""
    return sealer_for(key, person_id)(plaintext)


def sealer_for(key: bytes, person_id: str | uuid.UUID) -> Callable[[str], str]:
    """``seal`` of one person's texts, the person's id, header and cipher made once (a case's event seals
    several fields of one writer: this is what a saved event pays for them)."""
    person = _person(person_id)
    header, cipher = _header(person), AESGCM(key)
    prefix = f"{SEALED_PREFIX}{person}:"

    def seal_text(plaintext: str) -> str:
        if plaintext == "":
            return ""
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, plaintext.encode(), header)
        return prefix + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    return seal_text


def text_sealer(key: bytes | None, person_id: str | uuid.UUID) -> Callable[[str], str]:
    """Seals each text of a document for ``person_id`` (None key: the person is erased, a text is stored
    as ``ERASED``); an empty text, ``ERASED`` and a text already sealed stay as they are, so a document
    sealed twice is sealed once (the cases' events, the library's drafts)."""
    seal_one = None if key is None else sealer_for(key, person_id)

    def seal_text(text: str) -> str:
        if text in ("", ERASED) or is_sealed(text):
            return text
        return ERASED if seal_one is None else seal_one(text)

    return seal_text


def is_person(value: object) -> bool:
    """Whether ``value`` names a person a key can be made for: identity's accounts, whose ids are UUIDs (the
    ``person_keys`` column's type). Any other id (the system; hand-made ids of some tests) names nobody who
    could be erased, and what it wrote stays as written."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def seal_bytes(key: bytes, person_id: str | uuid.UUID, data: bytes) -> bytes:
    """``data`` sealed for ``person_id``: the same header, then the raw nonce and ciphertext."""
    person = _person(person_id)
    nonce = os.urandom(NONCE_BYTES)
    return _header(person) + nonce + AESGCM(key).encrypt(nonce, bytes(data), _header(person))


def _split(raw: bytes) -> tuple[str, bytes]:
    person = subject_of(raw)
    start = len(_header(person))
    if raw[start - 1 : start] != b":":
        raise SealedFieldError("a sealed field without its separator")
    return person, raw[start:]


def _decrypt(key: bytes, person: str, body: bytes) -> bytes:
    if len(body) < NONCE_BYTES + 16:
        raise SealedFieldError("a sealed field too short to hold its tag")
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _header(person))
    except InvalidTag:
        raise SealedFieldError(f"a sealed field of {person} does not open with their key") from None


KeyLookup = Callable[[str], bytes | None]


def open_field(value: str | None, key_of: KeyLookup) -> str | None:
    """The plaintext of a stored text: a sealed one opened with ``key_of(subject)``, ``ERASED`` when
    that key is gone; plaintext (written before sealing), empty text and None as they are."""
    if value is None or not is_sealed(value):
        return value
    person, encoded = _split(value.encode())
    key = key_of(person)
    if key is None:
        return ERASED
    try:
        body = base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise SealedFieldError("a sealed field that is not base64") from None
    return _decrypt(key, person, body).decode()


def open_bytes(value: bytes | memoryview | None, key_of: KeyLookup) -> bytes | None:
    """The bytes of a stored BYTEA value (``seal_bytes``); None when the key is gone (there is no
    '[erased]' picture); plaintext bytes as they are."""
    if value is None:
        return None
    raw = bytes(value)
    if not is_sealed(raw):
        return raw
    person, body = _split(raw)
    key = key_of(person)
    return None if key is None else _decrypt(key, person, body)


def subjects(values: Iterable[object]) -> set[str]:
    """The persons whose keys opening ``values`` needs (lists looked into)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, (list, tuple)):
            found |= subjects(value)
        elif isinstance(value, str) and is_sealed(value):
            found.add(subject_of(value))
        elif isinstance(value, (bytes, bytearray, memoryview)) and is_sealed(value):
            found.add(subject_of(bytes(value)))
    return found


def wrap(wrapping_key: bytes, person_id: str, key: bytes) -> bytes:
    """A person's key as stored: AES-GCM under the service's wrapping key, bound to the person."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(wrapping_key).encrypt(nonce, key, f"person-key:{person_id}".encode())


def unwrap(wrapping_key: bytes, person_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(wrapping_key).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], f"person-key:{person_id}".encode()
        )
    except InvalidTag:
        raise SealedFieldError(f"the key of {person_id} does not unwrap with this master key") from None


def blind_index(index_key: bytes, normalized: str) -> str:
    """A keyed digest (HMAC-SHA256, hex) of a normalized value: equal values find each other (sign-in by
    e-mail, uniqueness) while the table holds no e-mail, and without the key no guess can be checked."""
    return hmac.new(index_key, normalized.encode(), hashlib.sha256).hexdigest()


class KeyStore:
    """The persons' keys in one service's ``person_keys`` table, in the caller's transaction (cursor).

    ``keys_for`` answers many persons in one query; ``key_for_sealing`` makes a person's key on first
    use (concurrent first uses agree: the row that won is read back) and answers None for an erased
    person, whose fields are then stored as ``ERASED``."""

    def __init__(self, master_key: str) -> None:
        self._wrapping = derive_key(master_key, "person-keys/wrap/v1")

    def _stored(self, cur: Any, wanted: list[str]) -> dict[str, Any]:
        """{person: wrapped key, or None for a tombstone} of those of ``wanted`` with a row: one query."""
        cur.execute(
            "SELECT person_id::text AS person_id, wrapped_key FROM person_keys WHERE person_id = ANY(%s::uuid[])",
            (wanted,),
        )
        return dict(_row(row) for row in cur.fetchall())

    def _unwrapped(self, person: str, wrapped: Any) -> bytes | None:
        return None if wrapped is None else unwrap(self._wrapping, person, bytes(wrapped))

    def keys_for(self, cur: Any, person_ids: Iterable[str]) -> dict[str, bytes | None]:
        wanted = sorted({_person(p) for p in person_ids})
        if not wanted:
            return {}
        stored = self._stored(cur, wanted)
        return {person: self._unwrapped(person, stored.get(person)) for person in wanted}

    def key_for_sealing(self, cur: Any, person_id: str | uuid.UUID) -> bytes | None:
        return self.keys_for_sealing(cur, [str(person_id)])[_person(person_id)]

    def keys_for_sealing(self, cur: Any, person_ids: Iterable[str]) -> dict[str, bytes | None]:
        """``key_for_sealing`` of many persons at once: one statement when each is new (their keys made
        and stored at once), one more to read those who had a key (or a tombstone) already."""
        wanted = sorted({_person(p) for p in person_ids})
        if not wanted:
            return {}
        made = {person: new_key() for person in wanted}
        cur.execute(
            "INSERT INTO person_keys (person_id, wrapped_key) SELECT * FROM unnest(%s::uuid[], %s::bytea[]) "
            "ON CONFLICT (person_id) DO NOTHING RETURNING person_id::text AS person_id",
            (wanted, [wrap(self._wrapping, person, made[person]) for person in wanted]),
        )
        inserted = {str(row["person_id"] if isinstance(row, Mapping) else row[0]) for row in cur.fetchall()}
        found: dict[str, bytes | None] = {person: made[person] for person in inserted}
        others = [person for person in wanted if person not in inserted]
        if others:
            stored = self._stored(cur, others)
            found.update({person: self._unwrapped(person, stored.get(person)) for person in others})
        return found

    def lookup(self, cur: Any, values: Iterable[object]) -> KeyLookup:
        """``key_of`` for ``open_field``: the keys of every subject of ``values``, read at once."""
        keys = self.keys_for(cur, subjects(values))
        return lambda person: keys.get(person)


class SealingKeys:
    """The keys a process seals with, kept in memory once read (at most ``limit`` persons): what a writer
    writes next is sealed without a query. Safe because a key never changes once made - erasure only
    deletes it: a text sealed with a cached key after the person's erasure (in another replica, say) is
    as unreadable as every other text of theirs, the stored key being gone. An erased person (None) stays
    erased. Never used for opening: every read asks the table, so an erasure is seen at once."""

    def __init__(self, keys: KeyStore, limit: int = 10_000) -> None:
        self.keys, self.limit = keys, limit
        self._known: dict[str, bytes | None] = {}

    def for_writers(self, open_cursor: Callable[[], Any], person_ids: Iterable[str]) -> dict[str, bytes | None]:
        """{person: key, or None if erased} of ``person_ids``; ``open_cursor()`` (a context manager giving a
        cursor in a transaction that commits) is entered only when a person is not known yet."""
        wanted = {_person(p) for p in person_ids}
        found = {p: self._known[p] for p in wanted if p in self._known}
        missing = wanted - found.keys()
        if missing:
            with open_cursor() as cur:
                read = self.keys.keys_for_sealing(cur, missing)
            if len(self._known) + len(read) > self.limit:
                self._known.clear()  # rarely: the writers of the moment are read again
            self._known.update(read)
            found.update(read)
        return found


class Vault:
    """Sealing and opening a service's rows in the caller's transaction, with the persons' keys of its
    ``person_keys`` wrapped under its master key: the one copy of "seal a row's fields for its person"
    and "open a page of rows with one query for all their keys". ``texts``, ``lists`` (TEXT[]) and
    ``blobs`` (BYTEA) name every field the service's rows may hold sealed, for opening whatever a query
    returned; each write names the fields it seals."""

    def __init__(
        self, master_key: str, texts: Iterable[str] = (), lists: Iterable[str] = (), blobs: Iterable[str] = ()
    ) -> None:
        self.keys = KeyStore(master_key)
        self.texts, self.lists, self.blobs = tuple(texts), tuple(lists), tuple(blobs)

    def seal(
        self,
        cur: Any,
        person_id: str | uuid.UUID,
        data: Mapping[str, Any],
        texts: Iterable[str] = (),
        lists: Iterable[str] = (),
        blobs: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A copy of ``data`` with the named fields sealed for ``person_id`` (None as it is; an erased
        person's as ``ERASED``, a picture as no bytes: their key is never made again)."""
        key = self.keys.key_for_sealing(cur, person_id)
        sealed = dict(data)
        sealer = None if key is None else sealer_for(key, person_id)

        def seal_text(text: str) -> str:
            return ERASED if sealer is None else sealer(text)

        for name in texts:
            if sealed.get(name) is not None:
                sealed[name] = seal_text(sealed[name])
        for name in lists:
            if sealed.get(name) is not None:
                sealed[name] = [seal_text(item) for item in sealed[name]]
        for name in blobs:
            if sealed.get(name) is not None:
                sealed[name] = b"" if key is None else seal_bytes(key, person_id, sealed[name])
        return sealed

    def open_rows(self, cur: Any, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` with every sealed field opened (one query for all their persons' keys: a page
        asks once, not once a row); a field of an erased person reads ``[erased]`` (a picture: None)."""
        opened = [dict(row) for row in rows]
        names = (*self.texts, *self.lists, *self.blobs)
        key_of = self.keys.lookup(cur, [row[name] for row in opened for name in names if name in row])
        for row in opened:
            for name in self.texts:
                if name in row:
                    row[name] = open_field(row[name], key_of)
            for name in self.lists:
                if row.get(name) is not None:
                    row[name] = [open_field(item, key_of) for item in row[name]]
            for name in self.blobs:
                if row.get(name) is not None:
                    row[name] = open_bytes(row[name], key_of)
        return opened

    def open_row(self, cur: Any, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return None if row is None else self.open_rows(cur, [row])[0]


def _row(row: Any) -> tuple[str, Any]:
    if isinstance(row, Mapping):
        return str(row["person_id"]), row["wrapped_key"]
    return str(row[0]), row[1]


def erase_key(cur: Any, person_id: str | uuid.UUID) -> bool:
    """Delete the person's key, leaving the tombstone (idempotent); True when a key (or no row) was
    there before, False when the person was erased already."""
    person = _person(person_id)
    cur.execute(
        "INSERT INTO person_keys (person_id, wrapped_key, erased_at) VALUES (%s, NULL, now()) "
        "ON CONFLICT (person_id) DO UPDATE SET wrapped_key = NULL, erased_at = now() "
        "WHERE person_keys.erased_at IS NULL RETURNING person_id",
        (person,),
    )
    return cur.fetchone() is not None


# ---- the data pass: rows a service wrote in plaintext before it sealed them ------------------------


@dataclass(frozen=True)
class PlainColumns:
    """Columns of one table that rows written before sealing hold in plaintext: ``person`` names the
    column whose person's key seals them, ``key`` the row's own key (to write it back)."""

    table: str
    person: str
    key: str
    texts: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()


# A plaintext: neither sealed, nor empty, nor what a write for an already erased person stored (ERASED,
# or no bytes) - those tell nothing, and counting them would seal them again at every pass.
def _plain(column: str) -> str:
    return f"({column} NOT IN ('', '{ERASED}') AND NOT starts_with({column}, '{PREFIX}'))"


def _plain_list(column: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM unnest({column}) v WHERE v NOT IN ('', '{ERASED}') AND NOT starts_with(v, '{PREFIX}'))"
    )


def _plain_bytes(column: str) -> str:
    return f"(length({column}) > 0 AND substring({column} FROM 1 FOR {len(PREFIX)}) <> '{PREFIX}'::bytea)"


def _is_plain(value: Any) -> bool:
    return bool(value) and value != ERASED and not is_sealed(value)


def seal_plain_rows(
    cur: Any, vault: Vault, columns: PlainColumns, limit: int | None, person_id: str | None = None
) -> int:
    """Seal up to ``limit`` rows of ``columns.table`` that still hold plaintext; how many were sealed (0:
    none is left). Idempotent and safe beside the service's own writes: each row is locked as it is read
    (others' locked rows wait for the next pass), and a value already sealed is left as it is.

    With ``person_id``: that person's rows only, every one (``limit`` None), waiting for their locks -
    what an erasure runs before it shreds the key, which alone could not erase a plaintext."""
    where = (
        [_plain(c) for c in columns.texts]
        + [_plain_list(c) for c in columns.lists]
        + [_plain_bytes(c) for c in columns.blobs]
    )
    whose = f"{columns.person} IS NOT NULL" if person_id is None else f"{columns.person} = %(person)s"
    cur.execute(
        f"SELECT * FROM {columns.table} WHERE {whose} AND ({' OR '.join(where)}) ORDER BY {columns.key} "
        + ("LIMIT %(limit)s FOR UPDATE SKIP LOCKED" if person_id is None else "FOR UPDATE"),
        {"limit": limit, "person": str(person_id)},
    )
    rows = cur.fetchall()
    names = [*columns.texts, *columns.lists, *columns.blobs]
    for row in rows:
        data = vault.seal(
            cur,
            row[columns.person],
            row,
            texts=[c for c in columns.texts if _is_plain(row[c])],
            lists=[c for c in columns.lists if any(_is_plain(v) for v in row[c] or ())],
            blobs=[c for c in columns.blobs if _is_plain(row[c])],
        )
        cur.execute(
            f"UPDATE {columns.table} SET {', '.join(f'{c} = %s' for c in names)} WHERE {columns.key} = %s",
            [data[c] for c in names] + [row[columns.key]],
        )
    return len(rows)


def run_data_pass(db: Any, seal_rows: Callable[[Any], int], log: Any) -> int:
    """One tick of a service's data pass (its timer): ``seal_rows(cursor)`` in one transaction; logged
    when it sealed rows, paused (logged, tried again at the next tick) when the database is away."""
    try:
        with db.transaction() as cur:
            sealed = seal_rows(cur)
    except PlatformError as exc:  # the rows wait; the next tick tries again
        log.warning("legacy_sealing_paused", reason=exc.message)
        return 0
    if sealed:
        log.info("legacy_rows_sealed", rows=sealed)
    return sealed
