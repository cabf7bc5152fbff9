"""Makes case text impersonal before it enters the library.

Named people, organisations and places (Russian, by natasha's NER model, shipped in its
wheel), people in Latin script (a known first name from gender-guesser's dictionary, with
the capitalised words after it), and patterns no model catches (e-mail addresses, phone
numbers, school names and numbers, names after a title) become neutral placeholders. Spans are collected
over the original text, overlaps resolved in favour of the longer one, then replaced.
"""
import re
import threading

PLACEHOLDERS = {
    "PER": "[person]",
    "ORG": "[organisation]",
    "LOC": "[place]",
    "EMAIL": "[e-mail]",
    "PHONE": "[phone]",
    "SCHOOL": "[school]",
}

PATTERNS = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    # Not inside a longer hyphenated token (a UUID, an ISBN): no word character or hyphen either side.
    ("PHONE", re.compile(r"(?<![\w+\-])\+?\d[\d\s\-()]{7,}\d(?![\w\-])")),
    ("SCHOOL", re.compile(
        r"(?:\b(?:школ[аеуыой]*|гимнази[яиюей]*|лице[йяюеи]*|СОШ|ГБОУ|МБОУ|ГОУ|ОУ)\s*(?:№|N|No\.?)?\s*\d+"
        r"|\b(?:school|lyceum|gymnasium)\s*(?:No\.?|№|#|number)?\s*\d+)",
        re.IGNORECASE | re.UNICODE)),
    ("PER", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)?")),
)


_CAPITALISED_WORD = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"«(]\s*)$")


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


def latin_person_spans(text):
    """A first name, with up to two capitalised words right after it (the surname).

    A first name that is also an English word ("May", "Hope", "John") counts as a name
    mid-sentence, where only proper nouns are capitalised; at a sentence start only when
    a capitalised word follows and the name is a clearly gendered one.
    """
    words = list(_CAPITALISED_WORD.finditer(text))
    spans, i = [], 0
    while i < len(words):
        word = words[i]
        gender = _Lexicon.gender(word.group())
        if gender == "unknown":
            i += 1
            continue
        end, j = word.end(), i + 1
        while j < len(words) and j <= i + 2 and text[end:words[j].start()] in (" ", "-"):
            end, j = words[j].end(), j + 1
        has_surname = j > i + 1
        if not _Lexicon.is_word(word.group()):
            is_name = True
        elif not _SENTENCE_START.search(text[:word.start()]):
            is_name = True
        else:
            is_name = has_surname and gender in ("male", "female")
        if is_name:
            spans.append((word.start(), end, "PER"))
            i = j
        else:
            i += 1
    return spans


class _RussianNER:
    """natasha's NER, loaded once per process on first use (about 0.6 s)."""

    _lock = threading.Lock()
    _loaded = None

    @classmethod
    def spans(cls, text):
        with cls._lock:
            if cls._loaded is None:
                from natasha import NewsEmbedding, NewsNERTagger, Segmenter
                cls._loaded = (Segmenter(), NewsNERTagger(NewsEmbedding()))
        from natasha import Doc
        segmenter, tagger = cls._loaded
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_ner(tagger)
        return [(s.start, s.stop, s.type) for s in doc.spans if s.type in PLACEHOLDERS]


def find_spans(text):
    spans = [(m.start(), m.end(), kind) for kind, pattern in PATTERNS for m in pattern.finditer(text)]
    spans.extend(latin_person_spans(text))
    if re.search(r"[А-Яа-яЁё]", text):
        spans.extend(_RussianNER.spans(text))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept = []
    for span in spans:
        if kept and span[0] < kept[-1][1]:
            if span[1] - span[0] > kept[-1][1] - kept[-1][0]:
                kept[-1] = span
            continue
        kept.append(span)
    return kept


def scrub(text):
    if not text:
        return text
    out = text
    for start, stop, kind in reversed(find_spans(text)):
        out = out[:start] + PLACEHOLDERS[kind] + out[stop:]
    return out
