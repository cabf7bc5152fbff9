"""The mentor's photo: type by content type and magic bytes, size, base64 across RPC. No I/O."""

import base64

import pytest

from contracts.errors import InvalidInput
from services.identity import photos

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_a_jpeg_and_a_png_are_accepted_for_what_they_are():
    assert photos.check_photo("image/png", PNG) == "image/png"
    assert photos.check_photo("IMAGE/JPEG; charset=binary", JPEG) == "image/jpeg"


@pytest.mark.parametrize(
    "content_type, data, field",
    [
        ("image/png", JPEG, "photo"),  # the bytes are not what the type says
        ("image/jpeg", b"GIF89a" + b"\x00" * 10, "photo"),
        ("image/jpeg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo"),
        ("image/gif", b"GIF89a", "content_type"),
        ("text/html", PNG, "content_type"),
        (None, PNG, "content_type"),
        ("image/png", b"", "photo"),
        ("image/png", PNG + b"\x00" * photos.MAX_BYTES, "photo"),
    ],
)
def test_anything_else_is_refused_naming_the_field(content_type, data, field):
    with pytest.raises(InvalidInput) as caught:
        photos.check_photo(content_type, data)
    assert set(caught.value.fields) == {field}


def test_exactly_the_limit_is_accepted():
    assert photos.check_photo("image/png", PNG + b"\x00" * (photos.MAX_BYTES - len(PNG))) == "image/png"


def test_base64_round_trip_and_bad_encodings():
    assert photos.decode(photos.encode(PNG)) == PNG
    for bad in ("not base64!", 5, None):
        with pytest.raises(InvalidInput) as caught:
            photos.decode(bad)
        assert set(caught.value.fields) == {"data"}
    with pytest.raises(InvalidInput) as caught:
        photos.decode(base64.b64encode(b"\x00" * (photos.MAX_BYTES + 16)).decode())
    assert set(caught.value.fields) == {"photo"}


def test_the_url_names_the_version_and_the_views():
    tag = photos.etag(PNG)
    assert tag == photos.etag(bytes(PNG)) and tag != photos.etag(JPEG) and len(tag) == 16
    assert photos.photo_url("m-1", tag) == f"/api/v1/mentors/m-1/photo?v={tag}"
    assert photos.photo_url("m-1", None) is None
    row = {"content_type": "image/png", "data": memoryview(PNG), "etag": tag}
    assert photos.photo_view("m-1", row) == {
        "photo_url": f"/api/v1/mentors/m-1/photo?v={tag}",
        "content_type": "image/png",
        "size": len(PNG),
    }
    assert photos.photo(row) == {"content_type": "image/png", "data": base64.b64encode(PNG).decode(), "etag": tag}
