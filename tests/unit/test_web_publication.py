"""The review page's pure helper: a text cut into pieces at the gateway's marks, each piece rendered as
escaped text (services/web/pages/publication.py), so no person's text is ever markup."""

from services.web import settings as web_settings
from services.web.app import create_app
from services.web.pages.publication import pieces


def test_pieces_cover_the_text_in_order_with_the_marked_ones_kinded():
    text = "Call Ivan at 8 916 555-12-12."
    marks = [{"start": 5, "end": 9, "kind": "name"}, {"start": 13, "end": 28, "kind": "digits"}]
    assert pieces(text, marks) == [
        ("Call ", None),
        ("Ivan", "name"),
        (" at ", None),
        ("8 916 555-12-12", "digits"),
        (".", None),
    ]
    assert "".join(p for p, _ in pieces(text, marks)) == text


def test_overlapping_out_of_range_and_unknown_marks_never_lose_or_repeat_text():
    text = "abcdef"
    marks = [
        {"start": 4, "end": 99, "kind": "url"},
        {"start": 1, "end": 3, "kind": "mystery"},
        {"start": 2, "end": 5, "kind": "at"},
        {"start": 5, "end": 5, "kind": "date"},
    ]
    got = pieces(text, marks)
    assert "".join(p for p, _ in got) == text
    assert got == [("a", None), ("bc", "name"), ("de", "at"), ("f", "url")]
    assert pieces("", marks) == [] and pieces("plain", []) == [("plain", None)]


def test_a_marked_piece_of_markup_is_rendered_as_its_characters():
    app = create_app(web_settings.load({"PLATFORM_ENV": "test"}, enforce=False))
    with app.test_request_context("/"):
        from flask import render_template_string

        html = render_template_string(
            '{% from "publication/_marked.html" import marked with context %}{{ marked(text, marks) }}',
            pieces=pieces,
            text="<script>x()</script> Ivan",
            marks=[{"start": 0, "end": 8, "kind": "name"}],
        )
    assert "<script>" not in html and "&lt;script&gt;" in html and '<mark class="mark-name"' in html
