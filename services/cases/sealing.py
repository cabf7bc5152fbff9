"""cases' free texts, sealed with their writer's key in the event store (issue 19, part 3;
services/common/shredding.py).

Every text a person writes into a case is stored sealed with THAT person's key, so erasing the person
(PersonErased: ``shredding.erase_key`` in the cases service) makes every stored copy read ``[erased]``
while the log still replays. ``SEALED`` names, per domain event class, who wrote its texts and where
they are; everything else (ids, rubrics, urgency, states, ratings, times, the system's reason codes)
stays plain: the statistics and the research export need them.

Where it happens: the Case aggregate stays pure (plaintext, no keys). ``CasesApplication.before_record``
seals the events about to be stored (``map_texts`` with ``seal``; the aggregate in memory keeps its
plaintext, as the event's attributes are replaced by new objects, never changed in place), and the
application's mapper opens them when events are read (``open_events``: one key query for a page).

A writer is an attribute of the event (``mentor_id``, ``sender_id``...) or, where the event names
nobody (the author's redefinition, answers, completion, withdrawal, forum title), the case's author
(``AUTHOR``), which the caller knows from the case.

Events stored before sealing are plaintext and stay so (an append-only log is not rewritten):
``open_field`` passes plaintext through, so they read as they were.

Everything here is pure.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from services.common import shredding

# config.yaml's default of PERSON_KEYS_MASTER_KEY (refused in production: services/common/settings.py)
DEVELOPMENT_MASTER_KEY = "dev-only-cases-person-keys-master-key-change-me"
MASTER_KEY_SETTING = "PERSON_KEYS_MASTER_KEY"  # CASES_PERSON_KEYS_MASTER_KEY in the environment

AUTHOR = "<the case's author>"  # the writer is the case's author (the event does not name them)
EACH = "*"  # every element of a list

FORM_TEXTS = ("essence", "actions_taken", "difficulty", "question")
REFLECTION_TEXTS = ("actions", "learned", "comment")
MATERIAL_TEXTS = ("title", "reference")

Path = tuple[str, ...]


def _under(*prefix: str, names: Iterable[str]) -> tuple[Path, ...]:
    return tuple((*prefix, name) for name in names)


# event class name -> (its writer: an attribute of the event or AUTHOR, the paths of its sealed texts)
SEALED: dict[str, tuple[str, tuple[Path, ...]]] = {
    "Created": ("author_id", _under("form", names=FORM_TEXTS)),
    "CaseRedefined": (AUTHOR, _under("form", names=FORM_TEXTS)),
    "QuestionsAsked": ("mentor_id", (("questions", EACH, "text"),)),
    "QuestionsAnswered": (AUTHOR, (("answers", EACH, "text"),)),
    "MessageSent": ("sender_id", (("text",),)),
    "SolutionProposed": ("mentor_id", (("text",), *_under("materials", EACH, names=MATERIAL_TEXTS))),
    "ColleagueOpinionAdded": ("colleague_id", (("text",),)),
    "Completed": (AUTHOR, _under("reflection", names=REFLECTION_TEXTS)),
    "Withdrawn": (AUTHOR, (("reason",),)),
    "MentorDeclined": ("mentor_id", (("reason",),)),
    "PublishedToForum": (AUTHOR, (("title",),)),
}


is_person = shredding.is_person  # the one test of "a writer with a key" (cases.index imports it here)


def kind_of(domain_event: object) -> str:
    return type(domain_event).__name__


def paths_of(kind: str) -> tuple[Path, ...]:
    """Where the sealed texts of an event of ``kind`` are (none for an event without)."""
    return SEALED[kind][1] if kind in SEALED else ()


def writer_of(kind: str, state: Mapping[str, Any], author_id: str | None) -> str | None:
    """Who wrote the texts of an event of ``kind`` (None: an event without sealed texts)."""
    if kind not in SEALED:
        return None
    attribute = SEALED[kind][0]
    return author_id if attribute == AUTHOR else state.get(attribute)


def _map(value: Any, path: Path, fn: Callable[[str], str]) -> Any:
    """``value`` with ``fn`` applied to the text at ``path`` (a copy; absent parts as they are)."""
    if not path:
        return fn(value) if isinstance(value, str) else value
    step, rest = path[0], path[1:]
    if step == EACH:
        return [_map(item, rest, fn) for item in value] if isinstance(value, list) else value
    if isinstance(value, Mapping) and step in value:
        return {**value, step: _map(value[step], rest, fn)}
    return value


def map_texts(kind: str, state: Mapping[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
    """The attributes of an event of ``kind`` (its ``state``, the ``__dict__``) that hold sealed texts,
    as new objects with ``fn`` applied to every text: what to put in place of them. The state itself
    is never changed (the aggregate may share its objects)."""
    changed: dict[str, Any] = {}
    for path in paths_of(kind):
        if path[0] not in state:
            continue
        changed[path[0]] = _map(changed.get(path[0], state[path[0]]), path[1:], fn)
    return changed


def texts_of(kind: str, state: Mapping[str, Any]) -> list[str]:
    """Every text at the sealed paths of an event (for the subjects whose keys opening needs)."""
    found: list[str] = []

    def keep(text: str) -> str:
        found.append(text)
        return text

    map_texts(kind, state, keep)
    return found


def sealer(key: bytes | None, writer: str) -> Callable[[str], str]:
    """Seals a text for ``writer`` with their ``key`` (None: the writer is erased, the text is stored
    as ``[erased]``); a text already sealed stays as it is (an event sealed twice is sealed once)."""
    return shredding.text_sealer(key, writer)


def opener(key_of: shredding.KeyLookup) -> Callable[[str], str]:
    """Opens a stored text (``[erased]`` when its writer's key is gone; plaintext as it is)."""

    def open_text(text: str) -> str:
        opened = shredding.open_field(text, key_of)
        return text if opened is None else opened

    return open_text


def erased_fields(kind: str, state: Mapping[str, Any]) -> list[str]:
    """The dotted paths (``form.essence``, ``questions.0.text``) of an opened event's texts that read
    ``[erased]``: what the researchers' export marks."""
    found: list[str] = []
    for path in paths_of(kind):
        _erased_at(state, path, (), found)
    return found


def _erased_at(value: Any, path: Path, done: tuple[str, ...], found: list[str]) -> None:
    if not path:
        if value == shredding.ERASED:
            found.append(".".join(done))
        return
    step, rest = path[0], path[1:]
    if step == EACH:
        for i, item in enumerate(value if isinstance(value, list) else ()):
            _erased_at(item, rest, (*done, str(i)), found)
    elif isinstance(value, Mapping) and step in value:
        _erased_at(value[step], rest, (*done, step), found)


EXCERPT_TEXTS = ("excerpt",)  # case_index: the start of the author's essence, sealed with their key


def vault(master_key: str) -> shredding.Vault:
    """The cases service's persons' keys (its ``person_keys``), and its rows' sealed texts."""
    return shredding.Vault(master_key, texts=EXCERPT_TEXTS)
