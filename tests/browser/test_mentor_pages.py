"""A new mentor in the browser: the profile (a refused value first), the photo, availability, the
accreditation application; a moderator approves it in the browser and the public profile shows it."""

import struct
import uuid
import zlib

from tests.browser.conftest import PASSWORD, sign_in
from tests.support import eventually


def small_png(width=8, height=8, rgb=(11, 79, 138)):
    """A valid PNG made by hand: signature, IHDR, one IDAT of unfiltered rows, IEND."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def field_error(browser, field_id):
    return browser.text(f"#{field_id}-error")


def set_date(browser, field_id, value):
    """A date input's value as ISO text (typing into it depends on the browser's locale)."""
    browser.script("document.getElementById(arguments[0]).value = arguments[1];", field_id, value)


def test_a_new_mentor_fills_the_profile_uploads_a_photo_sets_availability_and_is_approved(
    platform, web, new_browser, tmp_path
):
    user, token = platform.person("mentor", "Olga", "Fotova")
    mentor = new_browser()
    sign_in(mentor, web, user["email"])

    # the profile: no rubric and a link that is not one -> errors next to those fields, the rest kept
    mentor.go(web.url("/profile"))
    mentor.fill("#position", "Docent of pedagogy")
    mentor.fill("#motto", "<b>Teach</b> & listen")
    mentor.fill("#links", "not a link")
    mentor.click("#profile-form button[type=submit]")
    assert "Выберите хотя бы одну рубрику." in mentor.wait_text("Выберите хотя бы одну рубрику.", css="#rubrics-error")
    assert "https://" in field_error(mentor, "links")
    assert mentor.find("#position").get_attribute("value") == "Docent of pedagogy"
    assert mentor.find("#motto").get_attribute("value") == "<b>Teach</b> & listen"
    assert mentor.find("#links").get_attribute("value") == "not a link"

    mentor.check("#rubrics-12")  # families at risk, the rubricator's 12th
    mentor.fill("#links", "https://example.org/olga")
    mentor.fill("#place_of_work", "Moscow City University")
    mentor.click("#profile-form button[type=submit]")
    mentor.wait_text("Профиль сохранён.")
    written = platform.call("GET", "/api/v1/me/mentor-profile", token=token)
    assert written["rubrics"] == ["families-at-risk"] and written["links"] == ["https://example.org/olga"]
    assert written["motto"] == "<b>Teach</b> & listen" and written["accepting_cases"] is True

    # the photo: a text file is refused next to the photo field; a PNG is taken and shown
    not_an_image = tmp_path / "photo.png"
    not_an_image.write_bytes(b"this is not an image at all")
    mentor.find("#photo").send_keys(str(not_an_image))
    mentor.click("#photo-form button[type=submit]")
    assert "Это не изображение JPEG или PNG." in mentor.wait_text("JPEG", css="#photo-error")
    assert mentor.find("#position").get_attribute("value") == "Docent of pedagogy"  # the profile form is intact

    for size in (2_500_000, 3_500_000):  # over the gateway's 2 MB; over what this client reads at all
        mentor.go(web.url("/profile"))  # a fresh page: the error below is this upload's
        assert not mentor.all("#photo-error")
        too_big = tmp_path / f"big-{size}.png"
        too_big.write_bytes(small_png() + b"\0" * size)
        mentor.find("#photo").send_keys(str(too_big))
        mentor.click("#photo-form button[type=submit]")
        assert "Файл слишком большой: не более 2 МБ." in mentor.wait_text("2 МБ", css="#photo-error")

    png = tmp_path / "face.png"
    png.write_bytes(small_png())
    mentor.find("#photo").send_keys(str(png))
    mentor.click("#photo-form button[type=submit]")
    mentor.wait_text("Фотография загружена.")
    image = mentor.find("main img.photo")
    assert eventually(
        lambda: mentor.script("return arguments[0].complete && arguments[0].naturalWidth", image) == 8,
        timeout=10,
        message="the uploaded photo shows",
    )

    # availability: a capacity out of range and a period ending before it starts -> errors, kept
    mentor.go(web.url("/profile/availability"))
    mentor.fill("#capacity", "51")
    set_date(mentor, "away_periods-0-starts_on", "2027-07-20")
    set_date(mentor, "away_periods-0-ends_on", "2027-07-01")
    mentor.click_button("Сохранить")
    assert "Число от 0 до 50." in mentor.wait_text("0 до 50", css="#capacity-error")
    assert "Конец не может быть раньше начала." in field_error(mentor, "away_periods-0-ends_on")
    assert mentor.find("#away_periods-0-starts_on").get_attribute("value") == "2027-07-20"
    mentor.fill("#capacity", "4")
    set_date(mentor, "away_periods-0-starts_on", "2027-07-01")
    set_date(mentor, "away_periods-0-ends_on", "2027-07-20")
    set_date(mentor, "away_periods-1-starts_on", "2027-12-29")
    set_date(mentor, "away_periods-1-ends_on", "2028-01-08")
    mentor.click_button("Сохранить")
    mentor.wait_text("Сохранено.")
    assert platform.call("GET", "/api/v1/me/availability", token=token)["away_periods"] == [
        {"starts_on": "2027-07-01", "ends_on": "2027-07-20"},
        {"starts_on": "2027-12-29", "ends_on": "2028-01-08"},
    ]
    assert mentor.find("#away_periods-1-ends_on").get_attribute("value") == "2028-01-08"
    mentor.check("#away_periods-0-remove")  # remove the first period, without any script
    mentor.click_button("Сохранить")
    mentor.wait_text("Сохранено.")
    availability = platform.call("GET", "/api/v1/me/availability", token=token)
    assert availability == {
        **availability,
        "capacity": 4,
        "away_periods": [{"starts_on": "2027-12-29", "ends_on": "2028-01-08"}],
    }

    # accreditation: an empty application is refused next to its fields; then applied
    mentor.go(web.url("/profile/accreditation"))
    assert "Заявка не подана" in mentor.text("#roll-state")
    mentor.click_button("Подать заявку")
    assert "Поле не может быть пустым." in mentor.wait_text("пустым", css="#experience-error")
    mentor.fill("#experience", "Twelve years at the university, supervising student teachers.")
    mentor.fill("#motivation", "Young teachers should not be alone with hard cases.")
    mentor.click_button("Подать заявку")
    mentor.wait_text("Заявка подана.")
    assert "Заявка на рассмотрении" in mentor.text("#roll-state")
    assert "Twelve years at the university" in mentor.text("main")

    # a moderator approves it in the browser
    email, password = platform.moderator_account()
    moderator = new_browser()
    sign_in(moderator, web, email, password)
    moderator.click_link("Модерация")
    assert int(moderator.text("#pending .lead").split(":")[1]) >= 1
    moderator.click_link("Открыть очередь заявок")
    application_id = platform.call("GET", "/api/v1/me/accreditation", token=token)["application"]["id"]
    card_css = f"#application-{application_id}"
    assert "Fotova Olga" in moderator.text(card_css) and "Docent of pedagogy" in moderator.text(card_css)
    moderator.click_button("Одобрить", scope=card_css)
    moderator.wait_text("Заявка одобрена")

    # the public profile, for a visitor: photo, motto as text, the rubric
    visitor = new_browser(width=375)
    visitor.go(web.url(f"/mentors/{user['id']}"))
    page = visitor.wait_text("Fotova Olga")
    assert "<b>Teach</b> & listen" in page and "Работа с семьями группы риска" in page
    photo = visitor.find("main img.photo")
    assert eventually(
        lambda: visitor.script("return arguments[0].complete && arguments[0].naturalWidth", photo) == 8,
        timeout=10,
        message="the public profile shows the photo",
    )
    assert user["email"] not in visitor.html


def test_an_unverified_mentor_is_told_to_confirm_the_address_before_applying(platform, web, browser):
    email = f"mentor-{uuid.uuid4().hex[:8]}@example.org"
    platform.call(
        "POST",
        "/api/v1/auth/register",
        expect=202,
        json={
            "email": email,
            "password": PASSWORD,
            "role": "mentor",
            "first_name": "Nina",
            "last_name": "Nepodtverzhdena",
        },
    )
    token = platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})["access_token"]
    platform.call("PUT", "/api/v1/me/mentor-profile", token=token, json={"rubrics": ["self-management"]})
    sign_in(browser, web, email)
    browser.go(web.url("/profile/accreditation"))
    browser.fill("#experience", "Some years of teaching.")
    browser.fill("#motivation", "To help.")
    browser.click_button("Подать заявку")
    assert "подтвердите адрес электронной почты" in browser.wait_text("подтвердите", css="#not-verified")
    assert browser.find("#experience").get_attribute("value") == "Some years of teaching."
    assert platform.call("GET", "/api/v1/me/accreditation", token=token)["state"] == "none"
