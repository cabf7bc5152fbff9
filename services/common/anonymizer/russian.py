"""Russian people, places and named schools: natasha's NER, checked and completed with pymorphy3.

natasha (its news model, shipped in the wheel) finds most names but also takes a capitalised
ordinary word at a sentence start for a person ("Восстановленный контакт"), a holiday for a person
("перед Масленицей") and a platform's acronym for an organisation ("МЭШ"). pymorphy3 (its
OpenCorpora dictionary, pymorphy3-dicts-ru) knows which word forms are first names, patronymics
and surnames in every case ("с Петей", "Ахмедовой"), so it both vetoes natasha's ordinary words
and finds the names natasha missed. natasha's organisations count only as schools (with a number or
a name); other organisations are no person's data. Both load once per process on first use.
"""

import functools
import re
import threading
from typing import Any, ClassVar

from services.common.anonymizer.patterns import is_quoted_title
from services.common.anonymizer.text import Span, is_sentence_start

_NAME_TAGS = ("Name", "Surn", "Patr")
_CYRILLIC_WORD = re.compile(r"(?<![\w-])[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?![\w-])")
_INITIALS = re.compile(
    r"(?<!\w)(?:[А-ЯЁ]\.\s?){1,2}[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?|(?<!\w)[А-ЯЁ][а-яё]+\s(?:[А-ЯЁ]\.\s?){1,2}(?!\w)"
)
# Words after which a capitalised word names a person ("мама Тимура", "ученица Алина").
_ROLE = re.compile(
    r"\b(?:ученик\w*|учениц\w*|мальчик\w*|девочк\w*|мам[аеыуой]|матер\w*|мать|от[е]?ц\w*|пап[аеыуой]|коллег\w*|"
    r"завуч\w*|директор\w*|учител\w*|учительниц\w*|руководител\w*|сын\w*|доч[ье]\w*|дочк\w*|бабушк\w*|"
    r"дедушк\w*|брат\w*|сестр\w*|наставни\w*|методист\w*|психолог\w*|логопед\w*|тьютор\w*|зовут|звали|"
    r"по имени|по фамилии)[\s,:—–-]+$",
    re.IGNORECASE,
)
_SCHOOL_WORDS = re.compile(r"школ|гимнази|лице|колледж|СОШ|ООШ|ГБОУ|МБОУ|МАОУ|интернат|детск\w+ сад", re.IGNORECASE)


class _Models:
    _lock = threading.Lock()
    ner: ClassVar[Any] = None  # natasha's (Segmenter, NewsNERTagger), once loaded
    morph: ClassVar[Any] = None  # pymorphy3's MorphAnalyzer, once loaded

    @classmethod
    def load(cls) -> None:
        with cls._lock:
            if cls.ner is None:
                import pymorphy3
                from natasha import NewsEmbedding, NewsNERTagger, Segmenter

                cls.morph = pymorphy3.MorphAnalyzer()
                cls.ner = (Segmenter(), NewsNERTagger(NewsEmbedding()))


@functools.lru_cache(maxsize=65536)
def _name_weight(word: str) -> tuple[float, bool]:
    """(share of the word's parses that are a first name, patronymic or surname; is it in the dictionary)."""
    parses = _Models.morph.parse(word)
    weight = sum(p.score for p in parses if any(tag in p.tag for tag in _NAME_TAGS))
    return weight, parses[0].is_known


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of a name, so that "Петровой" and "Петрова" are one person."""
    _Models.load()
    parses = _Models.morph.parse(word)
    named = [p for p in parses if any(tag in p.tag for tag in _NAME_TAGS)]
    normal_form: str = (named or parses)[0].normal_form
    return normal_form


def may_be_name(word: str) -> bool:
    """A first name, patronymic or surname in some reading, or a word the dictionary does not know."""
    _Models.load()
    weight, known = _name_weight(word)
    return weight > 0 or not known


_FAMILIAR_ENDING = re.compile(r"^(?P<stem>[А-ЯЁ][а-яё]+?)(?:к[аиеуоы]й?|кой|кою)$")


@functools.lru_cache(maxsize=65536)
def _is_familiar_form(word: str) -> bool:
    """ "Серёжка", "Вовке", "Петькой": a first name's familiar form, which the dictionary lists as an
    ordinary word or not at all; the name it comes from ("Серёжа", "Вова", "Петя") is a first name."""
    m = _FAMILIAR_ENDING.match(word)
    if not m:
        return False
    stem = m.group("stem")
    candidates = (stem[:-1] + "я",) if stem.endswith("ь") else (stem + "а", stem + "я")
    return any(_name_weight(c)[0] > 0.5 and _name_weight(c)[1] for c in candidates)


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _is_name_word(text: str, start: int, word: str) -> bool:
    """A capitalised Cyrillic word that is a person's name here, by its dictionary parses and place."""
    if _is_acronym(word):
        return False
    weight = _name_weight(word)[0]
    if not is_sentence_start(text, start):
        return weight >= 0.1 or _is_familiar_form(word)
    if weight > 0.99:
        return True  # "Саша пришёл": a word that is nothing but a name
    # "Мила сказала", "Злата не делает": a name that is also a word, opening a sentence, with a verb after
    # it; but not "Роза ветров", nor an abstract noun ("Надежда есть", "Вера в себя важна")
    return weight > 0 and lemma(word) not in _ABSTRACT_NAMES and _verb_follows(text, start + len(word))


_ABSTRACT_NAMES = frozenset({"вера", "надежда", "любовь", "слава", "мира", "мир", "победа", "радость", "заря"})
_NEXT_WORDS = re.compile(r"\s+(не\s+)?([а-яё]+)")


def _verb_follows(text: str, end: int) -> bool:
    following = _NEXT_WORDS.match(text, end)
    if not following:
        return False
    return any(p.tag.POS in ("VERB", "INFN") for p in _Models.morph.parse(following.group(2))[:1])


def _ner_spans(text: str) -> list[Span]:
    segmenter, tagger = _Models.ner
    from natasha import Doc

    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [(s.start, s.stop, s.type) for s in doc.spans]


# Figures of the New Year's and other school celebrations, not people ("письмо Деду Морозу").
_FESTIVE = re.compile(r"\b(?:Дед[аеуо]?м?\s+Мороз\w*|Снегурочк\w*|Баб[аыеуо]й?\s+Яг\w*|Санта[- ]Клаус\w*)")
_PERSON_START = re.compile(r"[А-ЯЁA-Z]\.|[А-ЯЁA-Z][а-яёa-z]|$")


def _keep_ner_span(text: str, start: int, stop: int, kind: str) -> str | None:
    words = [(m.start() + start, m.group()) for m in re.finditer(r"[А-ЯЁA-Zа-яёa-z][\w.-]*", text[start:stop])]
    if not words or all(_is_acronym(w.rstrip(".")) or "." in w for _, w in words):
        return None  # "МЭШ", "ФГОС", "Дневник.ру": platforms and bodies, not people or places
    if kind == "PER":
        capitalised = [(at, w) for at, w in words if w[:1].isupper()]
        named = [(at, w) for at, w in capitalised if _name_weight(w)[0] > 0 or not _name_weight(w)[1]]
        if not named:
            return None  # "Восстановленный", "Масленицей": dictionary words that are never names
        if (
            len(capitalised) == 1
            and is_sentence_start(text, named[0][0])
            and _name_weight(named[0][1])[0] <= 0.5
            and _name_weight(named[0][1])[1]
        ):
            return None  # "Вера в себя", "Надежда есть": an ordinary word opening a sentence
        return "PER"
    if kind == "ORG":
        numbered_or_named = re.search(r"\d", text[start:stop]) or len([w for _, w in words if w[:1].isupper()]) > 1
        quote = re.search(r"[«\"“„]\s*", text[start:stop])
        if is_quoted_title(text, start + quote.end() if quote else start):
            return None
        return "SCHOOL" if _SCHOOL_WORDS.search(text[start:stop]) and numbered_or_named else None
    if any(_is_place(w) for _, w in words) or _PLACE_BEFORE.search(text[max(0, start - 12) : start]):
        return "LOC"
    return None  # "в Сферум": a word natasha took for a place that no dictionary knows as one


_PLACE_BEFORE = re.compile(
    r"(?:\bг\.|\bгор\.|город[аеуом]*|городк\w*|городок|пос\.|посёлк\w*|пгт|сел[оаеу]|деревн\w*|"
    r"район\w*|област\w*|край|края|респ\.|республик\w*)\s*$",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=65536)
def _is_place(word: str) -> bool:
    return any("Geox" in p.tag and p.is_known for p in _Models.morph.parse(word))


def spans(text: str) -> list[Span]:
    _Models.load()
    found: list[Span] = []
    for start, stop, kind in _ner_spans(text):
        kept = _keep_ner_span(text, start, stop, kind)
        if kept == "PER":
            person = _PERSON_START.search(text, start, stop)
            assert person is not None  # "$" matches at ``stop`` if nothing before does
            start = person.start()  # not the class letter in "8 «В» Ю. В. ..."
        if kept == "LOC":
            before = _PLACE_BEFORE.search(text[max(0, start - 12) : start])
            start = before.start() + max(0, start - 12) if before else start  # "г. Перми" whole
        if kept:
            found.append((start, stop, kept))
    for m in _CYRILLIC_WORD.finditer(text):
        word = m.group()
        if _is_name_word(text, m.start(), word.split("-")[0]):
            found.append((m.start(), m.end(), "PER"))
        elif _ROLE.search(text[max(0, m.start() - 40) : m.start()]) and not _name_weight(word)[1]:
            found.append((m.start(), m.end(), "PER"))  # an unknown word named as a pupil or a parent
    found += [
        (m.start(), m.end(), "PER")
        for m in _INITIALS.finditer(text)
        if not _is_acronym(m.group().split()[0].rstrip("."))
    ]
    festive = [m.span() for m in _FESTIVE.finditer(text)]
    return [s for s in found if not any(s[0] < stop and start < s[1] for start, stop in festive)]
