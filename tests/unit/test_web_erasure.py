"""The browser client's erasure of a person by a moderator (services/web/pages/moderation.py): an
unconfirmed form sends nothing and names every field to put right, identity's refusals are told as what
they are, and an erased person's names read as erased (services/web/templating.py)."""

import pytest
from werkzeug.datastructures import MultiDict

from services.common import shredding
from services.web import settings as web_settings
from services.web.app import create_app
from services.web.core import FormState
from services.web.gateway import ApiError
from services.web.pages import moderation
from services.web.templating import ERASED, person_name


@pytest.fixture(scope="module")
def app():
    return create_app(web_settings.load({"PLATFORM_ENV": "test"}, enforce=False))


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def test_unconfirmed_with_an_empty_reason_names_both_fields_in_the_persons_language(english):
    form = moderation.erasure_unconfirmed(FormState(MultiDict([("reason", "   ")])))
    assert form.status == 400
    assert form.errors["confirm"] == ["Confirm the erasure: tick this box."]
    assert "Between 10 and 1000 characters." in form.errors["reason"]  # the API's own schema's limits
    assert form.banner == "Please check the marked fields."


def test_unconfirmed_with_a_good_reason_names_only_the_confirmation(english):
    form = moderation.erasure_unconfirmed(FormState(MultiDict([("reason", "Written request No. 17 of 3 May")])))
    assert set(form.errors) == {"confirm"}


def test_a_refusal_of_a_moderators_account_says_so_and_a_field_error_goes_next_to_its_field(english):
    refused = moderation.erasure_failed(FormState(), ApiError(403, "forbidden", "English text never shown"))
    assert refused.status == 403 and "moderator" in refused.banner and "English" not in refused.banner
    missing = moderation.erasure_failed(FormState(), ApiError(404, "not_found"))
    assert missing.banner == "There is no such account."
    short = moderation.erasure_failed(
        FormState(), ApiError(400, "invalid_input", fields={"reason": ["Length must be between 10 and 1000."]})
    )
    assert short.errors == {"reason": ["Between 10 and 1000 characters."]}


def test_an_erased_persons_names_read_as_erased_and_the_marker_is_the_services_one(app):
    assert ERASED == shredding.ERASED
    with app.test_request_context("/", headers={"Cookie": "lang=ru"}):
        assert person_name({"last_name": ERASED, "first_name": ERASED, "patronymic": ""}) == "Данные удалены"
        assert person_name({"last_name": "Orlov", "first_name": "Pavel"}) == "Orlov Pavel"
        assert person_name(None) == ""


def test_an_erased_text_reads_as_erased_wherever_a_page_prints_it(app):
    """The services answer "[erased]" for a sealed text of an erased writer; no page shows the marker."""
    page = app.jinja_env.from_string(
        '<p title="{{ text }}">{{ text }}</p><p>{{ other }}</p><i>{{ texts|join(", ") }}</i>'
    )
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        html = page.render(text=ERASED, other="<b>[erased] in a sentence</b>", texts=["a", "b"])
    assert html == ('<p title="Data erased">Data erased</p><p>&lt;b&gt;[erased] in a sentence&lt;/b&gt;</p><i>a, b</i>')
