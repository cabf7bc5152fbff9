"""People in Latin script, found without a model (no English NER model installs offline from PyPI).

Lexicons, all shipped inside PyPI wheels and loaded once per process:

* first names: gender-guesser's dictionary (about 40,000 names of many countries) and the first
  names of Faker's 85 person locales (Nigerian, Ghanaian, Indian, Polish... names gender-guesser lacks);
* surnames: Faker's last names of those locales;
* ordinary English words: GCIDE (english-words), so "Hope", "Mark" or "Grant" can be told apart.

A person is: a first name with up to two capitalised words after it (or an initial); a title and a
name ("Mrs Okafor"); a capitalised word after a role ("my pupil, Alfie"); initials and a surname
("J. Thornton"); two capitalised words mid-sentence that are no English words, or a non-word and a
known surname ("Dev Patel"); "the Kowalski family".

A first name that is also an English word counts mid-sentence, where only proper nouns are
capitalised; at a sentence start only with a surname after it. A month or a weekday ("May",
"June") needs a surname. A capitalised run of ordinary words is a title, not a person ("the Pupil
Premium Grant", "Summer Fair", "Mark Scheme", "the Duke of Edinburgh's Award").
"""

import importlib
import pkgutil
import re
import threading
from collections.abc import Set
from typing import Any, ClassVar

from services.common.anonymizer.text import FUNCTION_WORDS, Span, is_sentence_start

_NAME_WORD = r"(?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+(?:['’-][A-Z][a-z]+)?"
_CAPITALISED_WORD = re.compile(r"\b" + _NAME_WORD + r"\b(?!-[a-z])")  # not "Co" of "Co-op"
_INITIAL = re.compile(r"\s?[A-Z]\.(?!\w)")
_INITIAL_SURNAME = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?){1,2}(?P<surname>" + _NAME_WORD + ")")
_FAMILY = re.compile(r"\b" + _NAME_WORD + r"(?=\s+(?:family|families|household|twins|siblings|brothers|sisters)\b)")
TITLES = frozenset("Mr Mrs Ms Mx Miss Dr Prof Sir Dame Madam Mme Mlle Herr Frau Rev Fr Coach".split())
_TITLE = re.compile(
    r"\b(?:" + "|".join(sorted(TITLES)) + r")\.?\s+(?:[A-Z]\.\s?)*" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + ")?"
)
_ROLE = re.compile(
    r"\b(?:pupil|student|son|daughter|boy|girl|child|kid|colleague|mother|father|mum|mom|dad|parent|grandmother|"
    r"grandma|grandfather|granddad|brother|sister|aunt|uncle|carer|guardian|teacher|head|headteacher|principal|"
    r"deputy|assistant|TA|SENCO|SENDCo|mentor|mentee|tutor|named|called|name is|names are|nicknamed)[\s,:]+$",
    re.IGNORECASE,
)
# Words that are names only with a surname after them: months, days, holidays, school subjects.
_CALENDAR = frozenset(
    """January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Easter Christmas Lent Advent Pentecost Whitsun Ramadan
Ramadhan Eid Diwali Hanukkah Chanukah Passover Purim Holi Vaisakhi Navratri Halloween Thanksgiving Kwanzaa
English French Spanish German Latin Art Music Drama Maths Math Science History Geography Biology Chemistry Physics
Computing Design Technology Citizenship Reading Writing Phonics Religion""".split()
)
# Nouns that make a capitalised run a document, an event or a body rather than a person.
_TITLE_HEADS = frozenset(
    """scheme policy plan book report form day week term evening night club council team
committee board fund award stage year years unit phase department faculty programme program framework curriculum strategy guidance assessment test exam
review meeting fair trip project challenge certificate prize cup league academy school college trust
centre center service services classroom code act law charter standard standards premium hall room""".split()
)


class _Lexicon:
    _lock = threading.Lock()
    _detector: ClassVar[Any] = None  # gender-guesser's Detector, once loaded
    # empty until ``load``, which every reader calls first
    words: ClassVar[Set[str]] = frozenset()
    first_names: ClassVar[Set[str]] = frozenset()
    surnames: ClassVar[Set[str]] = frozenset()

    @classmethod
    def load(cls) -> None:
        with cls._lock:
            if cls._detector is None:
                import gender_guesser.detector
                from english_words import get_english_words_set

                cls.words = get_english_words_set(["gcide"], lower=True, alpha=True)
                cls.first_names, cls.surnames = _faker_names()
                cls._detector = gender_guesser.detector.Detector(case_sensitive=True)

    @classmethod
    def gender(cls, word: str) -> str:
        """gender-guesser's answer, or "andy" for a first name only Faker knows."""
        cls.load()
        gender: str = cls._detector.get_gender(word)
        if gender == "unknown" and word in cls.first_names:
            return "andy"
        return gender


def _faker_names() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames in Latin script from every person locale Faker ships."""
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = getattr(importlib.import_module(f"{person.__name__}.{module.name}"), "Provider", None)
        for attr, into in (
            ("first_names", first),
            ("first_names_male", first),
            ("first_names_female", first),
            ("last_names", last),
            ("last_names_male", last),
            ("last_names_female", last),
        ):
            names: Any = provider.__dict__.get(attr) if provider else None
            if isinstance(names, dict):
                names = names.keys()
            if isinstance(names, (list, tuple, set, frozenset)) or hasattr(names, "keys"):
                into.update(n for n in names if isinstance(n, str) and re.fullmatch(_NAME_WORD, n))
    return frozenset(first), frozenset(last)


def is_english_word(word: str) -> bool:
    """In GCIDE, itself or without a plural or verb ending ("Teams", "marked")."""
    _Lexicon.load()
    word = word.lower()
    if word in _Lexicon.words:
        return True
    for ending, replacement in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
    ):
        if word.endswith(ending) and word[: -len(ending)] + replacement in _Lexicon.words:
            return True
    return False


def _is_surname(word: str) -> bool:
    _Lexicon.load()
    return word in _Lexicon.surnames


def _in_a_title(text: str, words: list[re.Match[str]], i: int) -> bool:
    """The word continues a capitalised run of ordinary words ("the Pupil Premium Grant", "the Summer
    Fair") or heads an "of" phrase ("the Duke of Edinburgh's Award")."""
    if text.startswith(" of ", words[i].end()):
        return True
    if i == 0 or text[words[i - 1].end() : words[i].start()] != " ":
        return False
    before = words[i - 1].group()
    return not is_sentence_start(text, words[i - 1].start()) and is_english_word(before) and before not in TITLES


# First names that are abstract or nature nouns, often a sentence's first word as nouns ("Hope is not a
# plan", "Grace periods are short"): at a sentence start they need a surname to be names.
_WORD_FIRST = frozenset(
    """Hope Faith Grace Joy Will Patience Charity Honor Honour Mercy Trust Destiny Harmony Liberty
Justice Chance Summer Autumn Winter Dawn Sky Skye Star Rain River Storm Sunny Bliss Glory Prudence Constance Felicity
Serenity Unity Verity Chastity Temperance Precious Promise Miracle Journey""".split()
)
_AUXILIARIES = frozenset(
    """is isn't was wasn't has hasn't had hadn't does doesn't did didn't can can't cannot could
couldn't will won't would wouldn't should shouldn't may might must keeps kept never always often still just also
said says told asked wants wanted""".split()
)


def _acts(text: str, end: int, name: str) -> bool:
    """A sentence's first word that is a name and an English word counts as the name when a verb follows
    ("Tom refuses", "Jack was", "Harry keeps"): a word ending in -s or -ed, or an auxiliary."""
    if name in _WORD_FIRST:
        return False
    if re.match(r" (?:and|&) [A-Z]", text[end : end + 8]):
        return True  # "Tom and Ben sit ..."
    following = re.match(r" ([a-z']+)\b", text[end : end + 30])
    if not following:
        return False
    verb = following.group(1)
    return verb in _AUXILIARIES or (len(verb) > 3 and re.search(r"(?:[^s]s|ed)$", verb) is not None)


def _first_name_spans(text: str, words: list[re.Match[str]]) -> list[Span]:
    spans: list[Span] = []
    i = 0
    while i < len(words):
        word = words[i]
        name = word.group()
        ordinary = name.lower() in FUNCTION_WORDS or name.lower() in _TITLE_HEADS  # "The", "Council"
        gender = "unknown" if ordinary else _Lexicon.gender(name)
        role = _ROLE.search(text[max(0, word.start() - 20) : word.start()])
        if gender == "unknown" and not (role and not is_english_word(name)):
            i += 1
            continue
        end, j = word.end(), i + 1
        while (
            j < len(words)
            and j <= i + 2
            and text[end : words[j].start()] in (" ", "-")
            and words[j].group().lower() not in FUNCTION_WORDS
        ):
            end, j = words[j].end(), j + 1
        following = [w.group().lower() for w in words[i + 1 : j]]
        initial = _INITIAL.match(text, end)
        if initial and j == i + 1:
            end = initial.end()
        has_surname = j > i + 1 or bool(initial)
        if any(w in _TITLE_HEADS for w in following) or (
            is_english_word(name) and not role and _in_a_title(text, words, i)
        ):
            is_name = False
        elif name in _CALENDAR:
            is_name = has_surname
        elif role or not is_english_word(name):
            is_name = True
        elif not is_sentence_start(text, word.start()):
            is_name = True
        else:
            is_name = has_surname or _acts(text, word.end(), name)
        if is_name:
            spans.append((word.start(), end, "PER"))
            i = j
        else:
            i += 1
    return spans


def _unknown_pairs(text: str, words: list[re.Match[str]]) -> list[Span]:
    """Two capitalised words in a row, the first no English word and the second a known surname or
    no English word either: a name from anywhere ("Kwame Mensah", "Dev Patel")."""
    spans: list[Span] = []
    for first, second in zip(words, words[1:]):
        if text[first.end() : second.start()] != " " or first.group().lower() in FUNCTION_WORDS:
            continue
        if second.group() in _CALENDAR or first.group() in TITLES or second.group().lower() in _TITLE_HEADS:
            continue
        first_ok = not is_english_word(first.group()) or first.group() in _Lexicon.first_names
        second_ok = _is_surname(second.group()) or not is_english_word(second.group())
        if (
            first_ok
            and second_ok
            and (not is_english_word(second.group()) or _Lexicon.gender(first.group()) != "unknown")
        ):
            spans.append((first.start(), second.end(), "PER"))
    return spans


def person_spans(text: str) -> list[Span]:
    _Lexicon.load()
    words = list(_CAPITALISED_WORD.finditer(text))
    spans = _first_name_spans(text, words)
    spans += [(m.start(), m.end(), "PER") for m in _TITLE.finditer(text)]
    spans += _unknown_pairs(text, words)
    spans += [
        (m.start(), m.end(), "PER")
        for m in _INITIAL_SURNAME.finditer(text)
        if not is_english_word(m.group("surname")) or _is_surname(m.group("surname"))
    ]
    spans += [(m.start(), m.end(), "PER") for m in _FAMILY.finditer(text) if not is_english_word(m.group())]
    return spans + _coordinated(text, spans)


_BEFORE_AND = re.compile(r"\b(" + _NAME_WORD + r")\s+(?:and|&)\s+$")


def _coordinated(text: str, spans: list[Span]) -> list[Span]:
    """ "Chidi and Ngozi Eze": a capitalised non-word joined by "and" to a person is a person too."""
    found: list[Span] = []
    for start, _, _ in spans:
        m = _BEFORE_AND.search(text[max(0, start - 30) : start])
        if m and not is_english_word(m.group(1)) and m.group(1) not in _CALENDAR:
            at = max(0, start - 30) + m.start(1)
            found.append((at, at + len(m.group(1)), "PER"))
    return found
