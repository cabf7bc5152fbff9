"""Makes case text impersonal before it enters the library.

Named people, organisations and places (Russian, by natasha's NER model, shipped in its
wheel), and patterns no model catches (e-mail addresses, phone numbers, school names and
numbers, English names after a title) become neutral placeholders. Spans are collected
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
    ("PHONE", re.compile(r"(?<![\w+])\+?\d[\d\s\-()]{7,}\d(?!\w)")),
    ("SCHOOL", re.compile(
        r"(?:\b(?:школ[аеуыой]*|гимнази[яиюей]*|лице[йяюеи]*|СОШ|ГБОУ|МБОУ|ГОУ|ОУ)\s*(?:№|N|No\.?)?\s*\d+"
        r"|\b(?:school|lyceum|gymnasium)\s*(?:No\.?|№|#|number)?\s*\d+)",
        re.IGNORECASE | re.UNICODE)),
    ("PER", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)?")),
)


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
