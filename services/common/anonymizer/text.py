"""Where a word stands in its text, and the English words that never name anyone: shared by the finders."""

import re

# a piece of personal data in a text: (start, stop, kind), kind a key of the package's PLACEHOLDERS
Span = tuple[int, int, str]

# English words that open or join a phrase and are never a name there, though some are names somewhere ("The").
FUNCTION_WORDS = frozenset(
    """the a an and or but of to in on at for with by from as if so then when after before
since until while our my your his her their its this that these those every each any no all some most many
he she we they it you i me him us them is was are were be been has have had do does did not nor yet also even
only just which whose who what where why how there here both""".split()
)

_AFTER_A_BREAK = re.compile(r"(?:[.!?…:;\n\"«“(—–]|\s-)\s*$")


def is_sentence_start(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens the text, a sentence, a quote, a list item or a clause after
    a dash: places where any word is capitalised, so capitalisation says nothing about a name."""
    before = text[max(0, start - 12) : start]
    if start <= 12 and not before.strip():
        return True
    return bool(_AFTER_A_BREAK.search(before))
