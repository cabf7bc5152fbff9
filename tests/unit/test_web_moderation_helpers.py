"""The browser client's pure helpers for the mentor and moderator pages: chart geometry, the
rubricator's order, photo sniffing, the material payload."""

from werkzeug.datastructures import MultiDict

from services.web.core import FormState
from services.web.pages import moderation
from services.web.pages.mentoring import photo_type
from services.web.templating import RUBRICS


def test_bars_are_proportional_to_the_largest_value_and_keep_zero_rows():
    chart = moderation.bar_chart([("a", 0), ("b", 4), ("c", 1)])
    widths = [bar["width"] for bar in chart["bars"]]
    assert widths == [0, moderation.PLOT_WIDTH, moderation.PLOT_WIDTH // 4]
    assert [bar["value"] for bar in chart["bars"]] == [0, 4, 1]
    ys = [bar["y"] for bar in chart["bars"]]
    assert ys == sorted(ys) and len(set(ys)) == 3  # one row each, in the given order, none overlapping
    assert all(bar["label_y"] < bar["y"] for bar in chart["bars"])  # the label above its bar
    assert chart["height"] >= ys[-1] + moderation.BAR_HEIGHT
    assert all(bar["value_x"] + 1 < chart["width"] for bar in chart["bars"])


def test_a_chart_of_nothing_draws_no_bar_and_does_not_divide_by_zero():
    assert moderation.bar_chart([("a", 0), ("b", 0)])["bars"][1]["width"] == 0
    assert moderation.bar_chart([])["bars"] == []


def test_rubrics_come_in_the_rubricators_order_all_twelve():
    rows = moderation.in_rubricator_order(
        [{"slug": "families-at-risk", "count": 2}, {"slug": "education-law", "count": 5}]
    )
    assert [row["slug"] for row in rows] == list(RUBRICS)
    assert [row["number"] for row in rows] == list(range(1, 13))
    assert rows[0]["count"] == 5 and rows[11]["count"] == 2 and rows[5]["count"] == 0


def test_a_photo_is_known_by_its_first_bytes_not_its_name():
    assert photo_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert photo_type(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert photo_type(b"GIF89a....") is None
    assert photo_type(b"") is None


def test_a_new_material_omits_empty_optional_texts_an_edit_sends_emptied_ones_but_never_an_empty_url():
    form = FormState(
        MultiDict(
            [
                ("material_type", "book"),
                ("title", " Title "),
                ("description", ""),
                ("url", ""),
                ("reference", "Ref"),
                ("rubrics", "education-law"),
            ]
        )
    )
    assert moderation.material_payload(form, edit=False) == {
        "material_type": "book",
        "title": "Title",
        "reference": "Ref",
        "rubrics": ["education-law"],
    }
    assert moderation.material_payload(form, edit=True) == {
        "material_type": "book",
        "title": "Title",
        "description": "",
        "reference": "Ref",
        "rubrics": ["education-law"],
    }


def test_every_label_the_mentor_and_moderator_pages_use_is_in_the_catalogue_in_both_languages():
    import re
    from pathlib import Path

    from services.web import i18n

    web = Path(moderation.__file__).resolve().parents[1]
    sources = [
        *sorted((web / "templates" / "mentoring").glob("*.html")),
        *sorted((web / "templates" / "moderation").glob("*.html")),
        web / "pages" / "mentoring.py",
        web / "pages" / "moderation.py",
    ]
    keys = {key for path in sources for key in re.findall(r"""\bt\(\s*["']([a-z_.0-9]+)["']""", path.read_text())}
    keys = {key for key in keys if not key.endswith(".")}  # a prefix joined to a value: listed below
    keys |= {f"accreditation.application_state.{s}" for s in moderation.APPLICATION_STATES}
    keys |= {f"moderation.queue.state.{s}" for s in moderation.APPLICATION_STATES}
    keys |= {
        f"statistics.state.{state}"
        for state in (
            "awaiting_proposals",
            "no_mentor_found",
            "choosing_mentor",
            "awaiting_acceptance",
            "in_progress",
            "awaiting_answers",
            "awaiting_decision",
            "solution_proposed",
            "completed",
            "withdrawn",
        )
    }
    keys |= {f"accreditation.state.{s}" for s in ("none", "pending", "accredited", "rejected", "suspended")}
    keys |= {f"accreditation.explain.{s}" for s in ("none", "pending", "accredited", "rejected", "suspended")}
    keys |= {f"moderation.material.type.{kind}" for kind in moderation.MATERIAL_TYPES}
    assert len(keys) > 80
    missing = sorted(key for key in keys if not i18n.has(key))
    assert missing == []
