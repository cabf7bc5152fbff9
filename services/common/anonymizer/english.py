"""People in Latin script: a known first name (gender-guesser's dictionary of about 40,000 names
from many countries), a title ("Mrs", "Dr"), or a role ("my pupil", "her son"), with the
capitalised words after it as the surname.

An English first name is often an ordinary word too ("May", "Hope", "Will", "Mark", "Grant"):
capitalised mid-sentence it is a name, at a sentence start only with a surname after it; a month
or a weekday only with a surname after it; never when a document or event noun follows
("Mark Scheme", "Pupil Premium Grant" is not preceded by a name).
"""
import re
import threading

from services.common.anonymizer.text import is_sentence_start

_CAPITALISED_WORD = re.compile(r"\b(?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+(?:['’-][A-Z][a-z]+)?\b")
_INITIAL = re.compile(r"\s?[A-Z]\.(?!\w)")
TITLES = frozenset("Mr Mrs Ms Mx Miss Dr Prof Sir Dame Madam Mme Mlle Herr Frau Rev Fr Coach Sister Brother".split())
_TITLE = re.compile(
    r"\b(?:" + "|".join(sorted(TITLES)) + r")\.?\s+"
    r"(?:[A-Z]\.\s?)*(?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+(?:['’-][A-Z][a-z]+)*(?:\s+(?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+)?")
_ROLE = re.compile(
    r"\b(?:pupil|student|son|daughter|boy|girl|child|kid|colleague|mother|father|mum|mom|dad|parent|grandmother|"
    r"grandma|grandfather|granddad|brother|sister|aunt|uncle|carer|guardian|teacher|head|headteacher|principal|"
    r"deputy|assistant|TA|SENCO|SENDCo|mentor|mentee|tutor|named|called|name is|names are|nicknamed)\s+$",
    re.IGNORECASE)
_CALENDAR = frozenset("""January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Easter Christmas""".split())
# Nouns that make a capitalised run a document, an event or a body rather than a person.
_TITLE_HEADS = frozenset("""scheme policy plan book report form day week term evening night club council team
committee board fund grant award programme program framework curriculum strategy guidance assessment test exam
review meeting fair trip week project challenge certificate prize cup league academy school college trust
centre center service services classroom code act law charter standard standards premium hall room""".split())


class _Lexicon:
    """First names (gender-guesser's dictionary) and English words (GCIDE, from english-words)."""

    _lock = threading.Lock()
    _detector = None
    _words = None

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._detector is None:
                import gender_guesser.detector
                from english_words import get_english_words_set
                cls._words = get_english_words_set(["gcide"], lower=True, alpha=True)
                cls._detector = gender_guesser.detector.Detector(case_sensitive=True)

    @classmethod
    def gender(cls, word):
        cls._load()
        return cls._detector.get_gender(word)

    @classmethod
    def is_word(cls, word):
        cls._load()
        return word.lower() in cls._words


def is_english_word(word):
    return _Lexicon.is_word(word)


def _in_a_title(text, words, i):
    """The word continues a capitalised run of ordinary words: "the Pupil Premium Grant"."""
    if i == 0 or text[words[i - 1].end():words[i].start()] != " ":
        return False
    before = words[i - 1]
    return (not is_sentence_start(text, before.start()) and _Lexicon.gender(before.group()) == "unknown"
            and before.group() not in TITLES)


def person_spans(text):
    """A first name, with up to two capitalised words right after it (the surname) or an initial."""
    words = list(_CAPITALISED_WORD.finditer(text))
    spans, i = [], 0
    while i < len(words):
        word = words[i]
        gender = _Lexicon.gender(word.group())
        role = _ROLE.search(text[max(0, word.start() - 20):word.start()])
        if gender == "unknown" and not (role and not _Lexicon.is_word(word.group())):
            i += 1
            continue
        end, j = word.end(), i + 1
        while j < len(words) and j <= i + 2 and text[end:words[j].start()] in (" ", "-"):
            end, j = words[j].end(), j + 1
        following = [w.group().lower() for w in words[i + 1:j]]
        initial = _INITIAL.match(text, end)
        if initial and j == i + 1:
            end = initial.end()
        has_surname = j > i + 1 or bool(initial)
        if any(w in _TITLE_HEADS for w in following) or (
                _Lexicon.is_word(word.group()) and not role and _in_a_title(text, words, i)):
            is_name = False
        elif word.group() in _CALENDAR:
            is_name = has_surname
        elif role or not _Lexicon.is_word(word.group()):
            is_name = True
        elif not is_sentence_start(text, word.start()):
            is_name = True
        else:
            is_name = has_surname and gender in ("male", "female", "mostly_male", "mostly_female")
        if is_name:
            spans.append((word.start(), end, "PER"))
            i = j
        else:
            i += 1
    spans += [(m.start(), m.end(), "PER") for m in _TITLE.finditer(text)]
    return spans
