"""Identity's personal fields, sealed with each person's key (services/common/shredding.py).

What is sealed: the account's e-mail and names, the mentor profile's texts (place of work, institute,
position, interests, motto, links), the questionnaire's texts (school, subjects, graduation institute),
the photo's bytes, the accreditation application's texts (experience, motivation) and the account
e-mails' recipient and body. Roles, rubrics, states, times and the questionnaire's numbers (years, forms,
hours) stay plain: the queries and the statistics need them, and without the names they describe a
pseudonymous id.

Sign-in finds an account by its e-mail: ``users.email_index`` holds a keyed digest of the normalized
address (``shredding.blind_index``, with a key derived from the same master key), unique, so one address
still has one account. Rows written before sealing are read as they are (``open_field`` passes plaintext
through) and sealed by ``seal_legacy_rows``, a data pass the service runs in batches from a timer until
none is left.
"""

from services.common import shredding
from services.identity.accounts import normalize_email

# config.yaml's default of PERSON_KEYS_MASTER_KEY (refused in production: services/common/settings.py); the
# operator command falls back to it as the service does in development
DEVELOPMENT_MASTER_KEY = "dev-only-person-keys-master-key-change-me"

USER_TEXTS = ("email", "first_name", "last_name", "patronymic")
PROFILE_TEXTS = ("place_of_work", "institute", "position", "interests", "motto")
PROFILE_LISTS = ("links",)
QUESTIONNAIRE_TEXTS = ("school", "graduation_institute")
QUESTIONNAIRE_LISTS = ("subjects",)
APPLICATION_TEXTS = ("experience", "motivation")
EMAIL_TEXTS = ("recipient", "body")
PHOTO_BYTES = ("data",)

# every field any row identity reads may hold sealed, for opening whatever a query returned
_TEXTS = (*USER_TEXTS, *PROFILE_TEXTS, *QUESTIONNAIRE_TEXTS, *APPLICATION_TEXTS, *EMAIL_TEXTS)
_LISTS = (*PROFILE_LISTS, *QUESTIONNAIRE_LISTS)


class Vault(shredding.Vault):
    """identity's rows (every field above), and the e-mail's blind index under the same master key."""

    def __init__(self, master_key):
        super().__init__(master_key, texts=_TEXTS, lists=_LISTS, blobs=PHOTO_BYTES)
        self._index_key = shredding.derive_key(master_key, "identity/email-index/v1")

    def email_index(self, email):
        return shredding.blind_index(self._index_key, normalize_email(email))


# ---- the data pass: rows written in plaintext before sealing ---------------------------------

LEGACY_BATCH = 100

_LEGACY = (
    # table, the person's column, texts, lists, bytes
    ("mentor_profiles", "mentor_id", PROFILE_TEXTS, PROFILE_LISTS, ()),
    ("questionnaires", "user_id", QUESTIONNAIRE_TEXTS, QUESTIONNAIRE_LISTS, ()),
    ("mentor_photos", "mentor_id", (), (), PHOTO_BYTES),
    ("accreditation_applications", "mentor_id", APPLICATION_TEXTS, (), ()),
    ("account_email_outbox", "user_id", EMAIL_TEXTS, (), ()),
)


def _plain(column):
    return f"({column} <> '' AND NOT starts_with({column}, '{shredding.PREFIX}'))"


def _plain_list(column):
    return f"EXISTS (SELECT 1 FROM unnest({column}) v WHERE NOT starts_with(v, '{shredding.PREFIX}'))"


def _plain_bytes(column):
    return f"substring({column} FROM 1 FOR {len(shredding.PREFIX)}) <> '{shredding.PREFIX}'::bytea"


def seal_legacy_rows(cur, vault, limit=LEGACY_BATCH):
    """Seal up to ``limit`` rows of each table that still hold plaintext (written before sealing);
    returns how many were sealed (0: none is left). Idempotent and safe beside the service's own
    writes: each row is locked and sealed as it is read."""
    sealed = 0
    cur.execute(
        "SELECT * FROM users WHERE email_index IS NULL AND erased_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    )
    for row in cur.fetchall():
        data = vault.seal(cur, row["id"], row, texts=[n for n in USER_TEXTS if not shredding.is_sealed(row[n])])
        cur.execute(
            "UPDATE users SET email = %s, first_name = %s, last_name = %s, patronymic = %s, email_index = %s "
            "WHERE id = %s",
            (
                data["email"],
                data["first_name"],
                data["last_name"],
                data["patronymic"],
                vault.email_index(row["email"]),
                row["id"],
            ),
        )
        sealed += 1
    for table, person, texts, lists, blobs in _LEGACY:
        plain = [_plain(c) for c in texts] + [_plain_list(c) for c in lists] + [_plain_bytes(c) for c in blobs]
        key_column = "id" if table in ("accreditation_applications", "account_email_outbox") else person
        cur.execute(
            f"SELECT * FROM {table} WHERE {person} IS NOT NULL AND ({' OR '.join(plain)}) "
            f"ORDER BY {key_column} LIMIT %s FOR UPDATE SKIP LOCKED",
            (limit,),
        )
        for row in cur.fetchall():
            data = vault.seal(
                cur,
                row[person],
                row,
                texts=[c for c in texts if not shredding.is_sealed(row[c])],
                lists=[c for c in lists if any(not shredding.is_sealed(v) for v in row[c] or ())],
                blobs=[c for c in blobs if not shredding.is_sealed(row[c])],
            )
            columns = [*texts, *lists, *blobs]
            assignments = ", ".join(f"{c} = %s" for c in columns)
            cur.execute(
                f"UPDATE {table} SET {assignments} WHERE {key_column} = %s",
                [data[c] for c in columns] + [row[key_column]],
            )
            sealed += 1
    return sealed
