"""Mentees' rubrics of interest as the library learns them (identity's MenteeInterestsUpdated), for the
audiences of surveys narrowed to rubrics (services/library/surveys.py)."""

from yoyo import step

__depends__: set[str] = set()

steps = [
    step("""
CREATE TABLE IF NOT EXISTS survey_mentees (
    mentee_id text PRIMARY KEY,
    rubrics text[] NOT NULL,
    source_position bigint NOT NULL
)
"""),
]
