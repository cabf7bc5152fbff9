"""A service's database must be UTF-8 (services/common/db.py encoding_refusal): the refusal names the
setting and the way out."""

from services.common.db import encoding_refusal


def test_a_utf8_database_is_taken():
    assert encoding_refusal("mentor_cases", "UTF8") is None


def test_any_other_encoding_is_refused_naming_the_setting_and_the_fix():
    for encoding in ("SQL_ASCII", "LATIN1", "WIN1251"):
        refusal = encoding_refusal("mentor_cases", encoding)
        assert f"'mentor_cases' has ENCODING '{encoding}'" in refusal
        assert "ENCODING 'UTF8' TEMPLATE template0" in refusal
