"""One message catalogue, Russian first (the seed's language) and English.

The catalogue is the YAML files of services/web/catalogue/ (one per area of the client, merged:
a key may be defined once only), each key with its ``ru`` and ``en`` text. Templates call
``t("key", name=...)``; a missing key is an error in tests (tests/unit/test_web_catalogue.py), and
shows the key itself in production rather than a crash.

The gateway's errors are translated from their ``code`` and ``fields``, never from the English
``message``: a field's English marshmallow messages are recognised by pattern (FIELD_MESSAGES)
and shown in the person's language; anything unknown is "this value is not accepted".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("ru", "en")
CATALOGUE_DIR = Path(__file__).with_name("catalogue")


class CatalogueError(ValueError):
    pass


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in entries.items():
            if key in merged:
                raise CatalogueError(f"{path.name}: key {key!r} is defined twice")
            if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
                raise CatalogueError(f"{path.name}: key {key!r} needs exactly ru and en texts")
            merged[key] = {lang: str(texts[lang]) for lang in LANGUAGES}
    return merged


def translate(language: str, key: str, **values: Any) -> str:
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry["en"]
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(key: str) -> bool:
    return key in catalogue()


# The gateway's field messages (marshmallow's and the platform's own), recognised by pattern.
FIELD_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    # surveys (services/library/surveys.py, contracts/surveys.py): before the general ones
    (re.compile(r"^This question needs an answer"), "error.field.required"),
    (re.compile(r"^Already answered"), "error.field.survey_answered"),
    (re.compile(r"^The survey has not opened yet"), "error.field.survey_scheduled"),
    (re.compile(r"^The survey is closed"), "error.field.survey_closed"),
    (re.compile(r"^You are not in this survey's audience"), "error.field.survey_audience"),
    (re.compile(r"^Not one of the options offered"), "error.field.survey_option"),
    (re.compile(r"^A whole number from 1 to 5"), "error.field.survey_scale"),
    (re.compile(r"^A choice needs at least two options"), "error.field.survey_options"),
    (re.compile(r"^Only a choice has options"), "error.field.survey_no_options"),
    (re.compile(r"^Must be after opens_at"), "error.field.survey_after_opens"),
    (re.compile(r"^Must be in the future"), "error.field.future"),
    (re.compile(r"^Missing data for required field"), "error.field.required"),
    (re.compile(r"^Field may not be null"), "error.field.required"),
    (re.compile(r"(?i)blank|may not be empty"), "error.field.blank"),
    (re.compile(r"^Not a valid email"), "error.field.email"),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)"), "error.field.too_long"),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)"), "error.field.too_short"),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)"), "error.field.length_between"),
    (re.compile(r"(?i)^Must be one of|not a known|unknown"), "error.field.choice"),
    (
        re.compile(r"^Must be greater than or equal to (?P<min>-?\d+) and less than or equal to (?P<max>-?\d+)"),
        "error.field.range",
    ),
    (re.compile(r"^Not a valid integer"), "error.field.integer"),
    (re.compile(r"^Not a valid (datetime|date)"), "error.field.date"),
    (re.compile(r"^Not a valid URL|^Must be an http\(s\) URL"), "error.field.url"),
    (re.compile(r"^Must be now or later"), "error.field.not_past"),
    (re.compile(r"already published: its publication time stays"), "error.field.published_time"),
    (re.compile(r"(?i)NUL|surrogate|cannot be stored"), "error.field.unstorable"),
    (re.compile(r"(?i)duplicate|unique"), "error.field.duplicate"),
    (re.compile(r"(?i)password"), "error.field.password"),
]


def field_message(language: str, message: str) -> str:
    for pattern, key in FIELD_MESSAGES:
        match = pattern.search(message)
        if match:
            return translate(language, key, **{k: v for k, v in match.groupdict().items() if v is not None})
    return translate(language, "error.field.invalid")


def field_errors(language: str, fields: Any, prefix: str = "") -> dict[str, list[str]]:
    """The gateway's ``fields`` (nested by path) flattened to ``{"a.b": [messages]}``, translated."""
    flat: dict[str, list[str]] = {}
    if isinstance(fields, dict):
        for name, value in fields.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            if isinstance(value, (dict, list)) and not (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        flat.update(field_errors(language, item, f"{path}.{index}"))
                else:
                    flat.update(field_errors(language, value, path))
            else:
                messages = value if isinstance(value, list) else [value]
                flat.setdefault(path, []).extend(field_message(language, str(m)) for m in messages)
    elif isinstance(fields, list):
        for item in fields:
            if isinstance(item, str):
                flat.setdefault(prefix or "_", []).append(field_message(language, item))
    return flat
