"""Crypto-shredding (services/common/shredding.py): this service's keys of the persons whose fields it seals,
made on first use, a tombstone once the person is erased (identity's PersonErased)."""

from yoyo import step

__depends__: set[str] = set()

steps = [
    step("""
CREATE TABLE IF NOT EXISTS person_keys (
    person_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
)
"""),
]
