"""Pure helpers of the account and community pages: lists as typed, list-item errors on the list's
field, datetime-local values sent as UTC with their offset and shown back, day filters, blank fields."""

from werkzeug.datastructures import MultiDict

from services.web.core import FormState
from services.web.pages.account import merge_item_errors, split_list
from services.web.pages.community import day_end, day_start, given, local_input, utc_iso


def test_a_list_is_split_on_commas_and_lines_without_blanks():
    assert split_list("математика, физика\r\nастрономия,\n\n , art") == ["математика", "физика", "астрономия", "art"]
    assert split_list("   ") == []


def test_an_error_on_a_list_item_is_shown_on_the_list_field():
    form = FormState(MultiDict())
    form.errors = {
        "subjects.1": ["Не более 60 символов."],
        "subjects.3": ["Не более 60 символов."],
        "forms_taught.0": ["Число от 1 до 11."],
        "school": ["Заполните это поле."],
    }
    merge_item_errors(form, "subjects", "forms_taught")
    assert form.errors == {
        "subjects": ["Не более 60 символов."],
        "forms_taught": ["Число от 1 до 11."],
        "school": ["Заполните это поле."],
    }


def test_a_local_datetime_is_sent_as_utc_with_its_offset_and_shown_back():
    assert utc_iso("2031-03-15T15:00") == "2031-03-15T15:00:00+00:00"
    assert utc_iso("2031-03-15T15:00:00+03:00") == "2031-03-15T15:00:00+03:00"
    assert utc_iso("") is None and utc_iso("  ") is None
    assert utc_iso("tomorrow") == "tomorrow"  # as typed: the gateway names the field
    assert local_input("2031-03-15T15:00:00+03:00") == "2031-03-15T12:00"
    assert local_input("2031-03-15T15:00:00Z") == "2031-03-15T15:00"
    assert local_input(None) == ""


def test_day_filters_cover_whole_days_and_ignore_what_is_not_a_date():
    assert day_start("2031-03-01") == "2031-03-01T00:00:00+00:00"
    assert day_end("2031-03-31") == "2031-03-31T23:59:59+00:00"
    assert day_start("01.03.2031") is None and day_end("") is None


def test_blank_fields_are_left_out_for_the_gateway_to_call_them_required():
    assert given(text="", reply_to=None, rubrics=[], title="x", flag=False) == {"title": "x", "flag": False}
