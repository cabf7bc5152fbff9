"""The browser client's one catalogue: every key in Russian and English, and every key the pages
and templates ask for exists (a missing one would show its key to a person)."""

import re
from pathlib import Path

import pytest

from services.web import i18n

WEB = Path(i18n.__file__).parent
# t("key") / t('key') in templates and Python, flash("key", ...), and keys built from a prefix
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']""")
FLASHED = re.compile(r"""\bflash\(\s*["']([a-z0-9_.\-]+)["']""")


def _sources():
    yield from WEB.glob("templates/**/*.html")
    yield from WEB.glob("pages/*.py")
    yield from (p for p in WEB.glob("*.py") if p.name != "i18n.py")  # its docstring shows t("key")


def test_every_key_has_russian_and_english_text():
    catalogue = i18n.catalogue()
    assert catalogue and all(set(texts) == {"ru", "en"} and all(texts.values()) for texts in catalogue.values())


@pytest.mark.parametrize("path", sorted(_sources()), ids=lambda p: str(p.relative_to(WEB)))
def test_every_key_a_page_asks_for_exists(path):
    text = path.read_text(encoding="utf-8")
    wanted = set(LITERAL.findall(text)) | set(FLASHED.findall(text))
    missing = sorted(key for key in wanted if not i18n.has(key) and not key.endswith("."))
    assert not missing, f"{path.name} asks for keys the catalogue lacks: {missing}"


def test_every_vocabulary_value_has_a_label():
    from contracts import rubrics
    from contracts import vocabulary as v

    assert len(rubrics.RUBRIC_SLUGS) == 12
    for slug in rubrics.RUBRIC_SLUGS:
        assert i18n.has(f"rubric.{slug}") and i18n.has(f"rubric_comment.{slug}"), slug
    for kind, values in (
        ("urgency", v.URGENCIES),
        ("mode", v.MODES),
        ("problem_solved", v.PROBLEM_SOLVED),
        ("participant", v.PARTICIPANTS),
        ("case.choose.reason", v.PROPOSAL_REASONS),
        ("case.similar.reason", v.SIMILAR_REASONS),
    ):
        for value in values:
            assert i18n.has(f"{kind}.{value}"), f"{kind}.{value}"


def test_field_errors_translate_the_gateways_messages_and_flatten_nested_paths():
    errors = i18n.field_errors(
        "ru",
        {
            "email": ["Not a valid email address."],
            "materials": {"0": {"title": ["Longer than maximum length 300."]}},
            "essence": ["Something nobody foresaw."],
        },
    )
    assert errors == {
        "email": ["Введите адрес электронной почты, например name@school.ru."],
        "materials.0.title": ["Не более 300 символов."],
        "essence": ["Это значение не принято."],
    }
    assert i18n.field_errors("en", {"rubrics": ["Missing data for required field."]}) == {
        "rubrics": ["This field is required."]
    }
