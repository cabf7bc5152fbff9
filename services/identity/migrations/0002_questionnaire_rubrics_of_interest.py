"""A mentee's rubrics of interest in the questionnaire (issue 22: a survey narrowed to rubrics asks the mentees
of them); a questionnaire saved before has none, which is what such a mentee declared."""

from yoyo import step

__depends__: set[str] = set()

steps = [
    step("""
ALTER TABLE questionnaires ADD COLUMN IF NOT EXISTS rubrics text[] NOT NULL DEFAULT '{}'
"""),
]
