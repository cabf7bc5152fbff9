"""Where a word stands in its text: the one question both languages' name finders ask."""
import re

_AFTER_A_BREAK = re.compile(r"(?:[.!?…:;\n\"«“(—–]|\s-)\s*$")


def is_sentence_start(text, start):
    """Whether the word at ``start`` opens the text, a sentence, a quote, a list item or a clause after
    a dash: places where any word is capitalised, so capitalisation says nothing about a name."""
    before = text[max(0, start - 12):start]
    if start <= 12 and not before.strip():
        return True
    return bool(_AFTER_A_BREAK.search(before))
