"""Makes case text impersonal before it enters the library, the forum or a research export.

What it replaces, and with what:

* people: Russian by natasha's NER checked and completed with pymorphy3's dictionary of names
  (``russian``), Latin-script by the first names and surnames of gender-guesser and Faker, titles
  and roles (``english``);
  once a person is found, the other forms of the same name in the text go too ("Петрова" ...
  "Петровой", "Ivan Petrov" ... "Petrov");
* e-mails, phones, full dates and birth dates, street addresses with house and flat numbers,
  schools (numbered, quoted, "имени ...", "... Academy", "PS 142"), profile links of social
  networks and account handles (``patterns``);
* Russian places: natasha's LOC, settlements and regions.

Spans are collected over the original text; overlapping spans merge into one (the kind of the
longest), so a part of an item never survives beside its placeholder. Platforms, bodies and
exams in capitals (МЭШ, ФГОС, ОГЭ), holidays, months and ordinary words that are also names stay.
What it cannot promise is in the README ("What the anonymizer does and cannot promise").
"""

import re
from typing import overload

from services.common.anonymizer import english, patterns, russian
from services.common.anonymizer.text import Span

PLACEHOLDERS = {
    "PER": "[person]",
    "LOC": "[place]",
    "EMAIL": "[e-mail]",
    "PHONE": "[phone]",
    "SCHOOL": "[school]",
    "ADDRESS": "[address]",
    "DATE": "[date]",
    "LINK": "[link]",
    "HANDLE": "[handle]",
}

_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_WORD = re.compile(r"(?:Mc|Mac|O['’])?[A-ZА-ЯЁ][a-zа-яё]+(?:['’-][A-ZА-ЯЁ][a-zа-яё]+)?")


def _same_person_elsewhere(text: str, spans: list[Span]) -> list[Span]:
    """Every other occurrence, in any grammatical case, of a name word already found as a person."""
    names: set[str] = set()
    for start, stop, kind in spans:
        if kind == "PER":
            for m in _WORD.finditer(text, start, stop):
                if len(m.group()) > 2 and _names_a_person(m.group()):
                    names.add(_name_key(m.group()))
    if not names:
        return []
    return [(m.start(), m.end(), "PER") for m in _WORD.finditer(text) if _name_key(m.group()) in names]


def _names_a_person(word: str) -> bool:
    """Not a title or an ordinary word caught inside a person's span ("Mrs", "Директор")."""
    if _CYRILLIC.match(word):
        return russian.may_be_name(word)
    return word not in english.TITLES


def _name_key(word: str) -> str:
    return russian.lemma(word) if _CYRILLIC.match(word) else word


def _merge(spans: list[Span], text: str) -> list[Span]:
    """Overlapping spans become one, of the kind of the longest among them; the parts of one address
    written with commas ("Москва, ул. Вавилова, 54к1, кв. 33") become one address."""
    spans = sorted(spans, key=lambda s: (s[0], -s[1]))
    merged: list[tuple[int, int, str, int]] = []  # and the length of the longest span merged in
    for start, stop, kind in spans:
        if merged and _address_parts(merged[-1][2], kind) and _ADDRESS_GAP.fullmatch(text, merged[-1][1], start):
            merged[-1] = (merged[-1][0], stop, "ADDRESS", stop - merged[-1][0])
            continue
        if merged and start < merged[-1][1]:
            last_start, last_stop, last_kind, longest = merged[-1]
            if stop - start > longest:
                last_kind, longest = kind, stop - start
            merged[-1] = (last_start, max(last_stop, stop), last_kind, longest)
        else:
            merged.append((start, stop, kind, stop - start))
    return [(start, stop, kind) for start, stop, kind, _ in merged]


_ADDRESS_GAP = re.compile(r"[\s,]*")


def _address_parts(first: str, second: str) -> bool:
    return "ADDRESS" in (first, second) and {first, second} <= {"ADDRESS", "LOC"}


def find_spans(text: str) -> list[Span]:
    """``[(start, stop, kind)]``: the personal data in ``text``, ordered and not overlapping."""
    spans = (
        patterns.email_spans(text)
        + patterns.link_spans(text)
        + patterns.handle_spans(text, english.is_english_word)
        + patterns.phone_spans(text)
        + patterns.date_spans(text)
        + patterns.address_spans(text)
        + patterns.place_spans(text)
        + patterns.school_spans(text)
        + english.person_spans(text)
    )
    if _CYRILLIC.search(text):
        spans += russian.spans(text)
    spans += _same_person_elsewhere(text, spans)
    return _merge(spans, text)


@overload
def scrub(text: str) -> str: ...
@overload
def scrub(text: None) -> None: ...
def scrub(text: str | None) -> str | None:
    """``text`` with each span of ``find_spans`` replaced by its kind's placeholder; None and "" as given."""
    if not text:
        return text
    out = text
    for start, stop, kind in reversed(find_spans(text)):
        out = out[:start] + PLACEHOLDERS[kind] + out[stop:]
    return out


def load_models() -> None:
    """Load the dictionaries and models the recognisers read (natasha's NER, pymorphy3, the English word
    lists), once a process. The first text otherwise pays for it: seconds on a busy machine, inside the
    RPC that asked (services/common/anonymizer_models.py loads them at a service's start)."""
    russian._Models.load()
    english._Lexicon.load()


def models_loaded() -> bool:
    """Whether ``load_models`` has run in this process (or a text has already loaded them)."""
    return russian._Models.ner is not None and english._Lexicon._detector is not None
