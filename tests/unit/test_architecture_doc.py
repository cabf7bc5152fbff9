"""docs/architecture.md's diagram is what the code says (operations/architecture.py)."""

from operations import architecture


def test_the_diagram_is_the_one_the_code_makes():
    with open(architecture.DOC, encoding="utf-8") as stream:
        text = stream.read()
    assert architecture.rewritten(text) == text, (
        "docs/architecture.md is out of date: run `python -m operations.architecture` and review the diff"
    )


def test_the_diagram_names_every_service_queue_and_table_source():
    text = architecture.diagram()
    for service in ("gateway", "identity", "cases", "matching", "notifications", "library"):
        assert f"  {service} " in text
    assert '[("library.case-events")] --> library' in text
    assert "cases_events" in text and "accepted_jtis" in text and "processed_events" in text
