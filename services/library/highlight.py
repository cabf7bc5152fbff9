"""What a moderator must look at in a draft before publishing it: marks over the text (pure).

The anonymizer (services/common/anonymizer.py) is measured, not perfect, so the review page does
not ask the moderator to trust it: on the original every span it replaced is marked, and on the
draft every placeholder it wrote and every token that still looks personal - a capitalised word
that is not an ordinary word of the language, digits, an ``@``, a URL or a domain, a month's name
(dates). A mark is ``{"start", "end", "kind"}`` over the text; the browser client renders the text
as escaped segments with ``<mark>`` around the marked ones, never the text as markup.
"""

import re
import threading

from services.common.anonymizer import PLACEHOLDERS, find_spans

REPLACED = "replaced"
NAME = "name"
DIGITS = "digits"
AT = "at"
URL = "url"
DATE = "date"
KINDS = (REPLACED, NAME, DIGITS, AT, URL, DATE)

_PLACEHOLDER = re.compile(
    "|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()), key=len, reverse=True))
    + r"|\[[a-z][a-z -]{1,30}\]"
)  # any bracketed placeholder a later anonymizer writes
_URL = re.compile(
    r"(?:https?://|www\.)\S*[^\s.,;:!?)»\"]|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|рф|su|com|org|net|edu|io|me|info|uk|by|kz|"
    r"ua|de|fr|us|co|app|dev|page|site|online)\b(?:/\S*[^\s.,;:!?)»\"])?",
    re.IGNORECASE,
)
_AT = re.compile(r"\S*@\S*")
_DIGITS = re.compile(r"\d+(?:[\s./:-]?\d+)*")
_MONTHS = re.compile(
    r"\b(?:январ|феврал|март|апрел|ма[йяюе]\b|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-яё]*"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ][A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)*\b")  # Capitalised or an ACRONYM
_PROPER_TAGS = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr", "Init"}


class _Words:
    """Ordinary words, exactly as a dictionary lists them: English from english-words (GCIDE), Russian
    from pymorphy3's OpenCorpora dictionary (both the anonymizer's dependencies); loaded once, on first
    use. Exact, not by stripping endings as the anonymizer does: a surname like "Smithers" stays marked."""

    _lock = threading.Lock()
    _english = None
    _morph = None

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._english is None:
                import pymorphy3
                from english_words import get_english_words_set

                cls._morph = pymorphy3.MorphAnalyzer()
                cls._english = get_english_words_set(["gcide"], lower=True, alpha=True)

    @classmethod
    def ordinary(cls, word):
        """A word of the language written in lower case (a common noun, a verb...): a Russian word only
        when no reading of it is a name, surname, patronymic, place or organisation."""
        cls._load()
        if re.match(r"[A-Za-z]", word):
            return all(part.lower() in cls._english for part in word.split("-"))
        readings = cls._morph.parse(word.lower())
        return bool(readings) and all(
            r.is_known and not (_PROPER_TAGS & set(str(r.tag).replace(" ", ",").split(","))) for r in readings
        )


def replaced_marks(original):
    """The spans of the original the anonymizer replaces."""
    return [{"start": start, "end": end, "kind": REPLACED} for start, end, _ in find_spans(original or "")]


def draft_marks(text):
    """Placeholders, and every token that may still identify someone, in the draft's text; ordered,
    not overlapping (a placeholder or an earlier, longer mark wins)."""
    text = text or ""
    found = [(m.start(), m.end(), REPLACED) for m in _PLACEHOLDER.finditer(text)]
    found += [(m.start(), m.end(), URL) for m in _URL.finditer(text)]
    found += [(m.start(), m.end(), AT) for m in _AT.finditer(text)]
    found += [(m.start(), m.end(), DATE) for m in _MONTHS.finditer(text)]
    found += [(m.start(), m.end(), DIGITS) for m in _DIGITS.finditer(text)]
    found += [(m.start(), m.end(), NAME) for m in _CAPITALISED.finditer(text) if not _Words.ordinary(m.group())]
    priority = {kind: i for i, kind in enumerate((REPLACED, URL, AT, DATE, DIGITS, NAME))}
    found.sort(key=lambda s: (s[0], priority[s[2]], -(s[1] - s[0])))
    kept = []
    for start, end, kind in found:
        if kept and start < kept[-1]["end"]:
            continue
        kept.append({"start": start, "end": end, "kind": kind})
    return kept
