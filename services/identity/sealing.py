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
    shredding.PlainColumns("mentor_profiles", "mentor_id", "mentor_id", PROFILE_TEXTS, PROFILE_LISTS),
    shredding.PlainColumns("questionnaires", "user_id", "user_id", QUESTIONNAIRE_TEXTS, QUESTIONNAIRE_LISTS),
    shredding.PlainColumns("mentor_photos", "mentor_id", "mentor_id", blobs=PHOTO_BYTES),
    shredding.PlainColumns("accreditation_applications", "mentor_id", "id", APPLICATION_TEXTS),
    shredding.PlainColumns("account_email_outbox", "user_id", "id", EMAIL_TEXTS),
)


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
    for columns in _LEGACY:
        sealed += shredding.seal_plain_rows(cur, vault, columns, limit)
    return sealed
