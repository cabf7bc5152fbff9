"""matching's ranking: overlap share, availability, reproducible ties, excluded mentors."""
from services.matching.ranking import Candidate, rank


def mentors(*specs):
    return [Candidate(mentor_id, frozenset(rubrics), accepting) for mentor_id, rubrics, accepting in specs]


CANDIDATES = mentors(
    ("m-a", {"education-law", "professional-ethics"}, True),
    ("m-b", {"education-law"}, True),
    ("m-c", {"education-law", "professional-ethics"}, True),
    ("m-d", {"professional-ethics"}, False),
    ("m-e", {"digital-technologies"}, True),
)


def ids(proposals):
    return [p["mentor_id"] for p in proposals]


def test_most_overlap_first_ties_on_id_unavailable_and_unrelated_left_out():
    proposals = rank(["education-law", "professional-ethics"], CANDIDATES, k=5)
    assert ids(proposals) == ["m-a", "m-c", "m-b"]
    assert proposals[0] == {"mentor_id": "m-a", "matched_rubrics": ["education-law", "professional-ethics"],
                            "score": 1.0}
    assert proposals[2]["score"] == 0.5


def test_excluded_mentors_are_never_proposed():
    proposals = rank(["education-law", "professional-ethics"], CANDIDATES, k=5, exclude=["m-a", "m-b"])
    assert ids(proposals) == ["m-c"]


def test_exclusion_frees_a_place_within_k_for_the_next_mentor():
    assert ids(rank(["education-law"], CANDIDATES, k=2)) == ["m-a", "m-b"]
    assert ids(rank(["education-law"], CANDIDATES, k=2, exclude={"m-a"})) == ["m-b", "m-c"]


def test_excluding_unknown_ids_or_nothing_changes_nothing():
    full = rank(["education-law"], CANDIDATES, k=3)
    assert rank(["education-law"], CANDIDATES, k=3, exclude=["nobody"]) == full
    assert rank(["education-law"], CANDIDATES, k=3, exclude=None) == full
    assert rank(["education-law"], CANDIDATES, k=3, exclude=()) == full


def test_excluding_every_fitting_mentor_proposes_nobody():
    assert rank(["education-law"], CANDIDATES, k=3, exclude=("m-a", "m-b", "m-c")) == []


def test_exclusion_accepts_any_iterable_once():
    assert ids(rank(["education-law"], CANDIDATES, k=3, exclude=iter(["m-a"]))) == ["m-b", "m-c"]
