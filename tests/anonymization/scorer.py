"""Scores an anonymizer on the labelled corpus in ``corpus/``: planted items removed, phrases kept,
control texts unchanged. Used by test_anonymization_corpus.py (with the floors) and by
bench/bench_anonymizer.py (for the timing), and runnable alone to print the tables:

    .venv/bin/python -m tests.anonymization.scorer

Markup of a corpus text: ``{{kind:text}}`` is personal data planted in the text, ``[[text]]`` a
phrase that carries the case's content. An item counts as removed when every letter and digit of
it lies inside a span the anonymizer replaces (so "ул. [place], д. 12, кв. 5" is not removed);
punctuation and spaces between two replaced spans do not count.
"""

import dataclasses
import os
import re

import yaml

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
KINDS = ("person", "email", "phone", "school", "social", "address", "birthdate")
_MARKUP = re.compile(r"\{\{(?P<kind>[a-z]+):(?P<item>.+?)\}\}|\[\[(?P<phrase>.+?)\]\]", re.DOTALL)


@dataclasses.dataclass
class Planted:
    kind: str
    language: str
    start: int
    stop: int
    text: str


@dataclasses.dataclass
class Text:
    language: str
    text: str
    items: list
    phrases: list


def parse(marked, language):
    """The plain text of a marked-up corpus text, with its planted items (by position) and phrases."""
    plain, items, phrases, at = [], [], [], 0
    for m in _MARKUP.finditer(marked):
        plain.append(marked[at : m.start()])
        offset = sum(map(len, plain))
        if m.group("kind"):
            if m.group("kind") not in KINDS:
                raise ValueError(f"unknown kind {m.group('kind')!r} in {marked[:60]!r}")
            items.append(Planted(m.group("kind"), language, offset, offset + len(m.group("item")), m.group("item")))
            plain.append(m.group("item"))
        else:
            phrases.append(m.group("phrase"))
            plain.append(m.group("phrase"))
        at = m.end()
    plain.append(marked[at:])
    return Text(language, "".join(plain).strip(), items, phrases)


def load_corpus(directory=CORPUS_DIR):
    """(texts, controls): every language file's texts, and the control texts."""
    texts, controls = [], []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        controls += [c.strip() for c in doc.get("controls", [])]
        texts += [parse(t, doc["language"]) for t in doc.get("texts", [])]
    return texts, controls


def removed(item, spans):
    covered = set()
    for start, stop, _ in spans:
        covered.update(range(start, stop))
    return all(i in covered for i in range(item.start, item.stop) if _counts(item, i))


def _counts(item, i):
    return item.text[i - item.start].isalnum()


@dataclasses.dataclass
class Score:
    items: dict  # (kind, language) -> [removed, total]
    missed: list  # (Planted, the scrubbed text)
    phrases: dict  # language -> [kept, total]
    lost: list  # (phrase, the scrubbed text)
    controls_changed: list  # (control, scrubbed)
    controls: int

    @property
    def items_removed(self):
        return sum(r for r, _ in self.items.values()), sum(t for _, t in self.items.values())

    @property
    def phrases_kept(self):
        return sum(k for k, _ in self.phrases.values()), sum(t for _, t in self.phrases.values())


def score(find_spans, scrub, corpus=None):
    """Run an anonymizer (its ``find_spans`` and ``scrub``) over the corpus."""
    texts, controls = corpus or load_corpus()
    items, missed, phrases, lost = {}, [], {}, []
    for text in texts:
        spans = find_spans(text.text)
        scrubbed = scrub(text.text)
        for item in text.items:
            tally = items.setdefault((item.kind, item.language), [0, 0])
            tally[1] += 1
            if removed(item, spans):
                tally[0] += 1
            else:
                missed.append((item, scrubbed))
        for phrase in text.phrases:
            tally = phrases.setdefault(text.language, [0, 0])
            tally[1] += 1
            if phrase in scrubbed:
                tally[0] += 1
            else:
                lost.append((phrase, scrubbed))
    changed = [(c, scrub(c)) for c in controls if scrub(c) != c]
    return Score(items, missed, phrases, lost, changed, len(controls))


def table(result):
    """Per-kind and per-language tables, as Markdown."""
    languages = sorted({language for _, language in result.items})
    lines = ["| kind | " + " | ".join(languages) + " | all |", "|---" * (len(languages) + 2) + "|"]
    for kind in KINDS:
        cells = [result.items.get((kind, language), [0, 0]) for language in languages]
        lines.append(
            f"| {kind} | "
            + " | ".join(f"{r}/{t}" for r, t in cells)
            + f" | {sum(r for r, _ in cells)}/{sum(t for _, t in cells)} |"
        )
    done, total = result.items_removed
    lines.append(f"| **items removed** | | | {done}/{total} ({100 * done / max(total, 1):.1f}%) |")
    kept, total = result.phrases_kept
    lines.append(
        "| phrases kept | "
        + " | ".join("{}/{}".format(*result.phrases.get(language, [0, 0])) for language in languages)
        + f" | {kept}/{total} ({100 * kept / max(total, 1):.1f}%) |"
    )
    lines.append(f"| controls unchanged | | | {result.controls - len(result.controls_changed)}/{result.controls} |")
    return "\n".join(lines)


def report(result):
    out = [table(result)]
    out += [f"MISSED {item.kind}/{item.language}: {item.text!r} in: {scrubbed}" for item, scrubbed in result.missed]
    out += [f"LOST phrase {phrase!r} in: {scrubbed}" for phrase, scrubbed in result.lost]
    out += [f"CHANGED control: {scrubbed}" for _, scrubbed in result.controls_changed]
    return "\n".join(out)


if __name__ == "__main__":
    from services.common.anonymizer import find_spans, scrub

    print(report(score(find_spans, scrub)))
