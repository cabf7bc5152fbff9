"""The mentor's photo: what is accepted (JPEG or PNG, by content type *and* magic bytes, at most
2 MB), how it crosses RPC (base64) and its public URL. No I/O."""

import base64
import binascii
import hashlib

from contracts import vocabulary as v
from contracts.errors import InvalidInput
from contracts.rpc_identity import PhotoSchema, PhotoViewSchema
from contracts.validation import schema_of

MAX_BYTES = v.PHOTO_MAX_BYTES
MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


def media_type(content_type):
    """``image/png; charset=x`` -> ``image/png``; lower case, parameters dropped."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff(data):
    """The image type the bytes really are, or None."""
    for kind, signatures in MAGIC.items():
        if any(data.startswith(signature) for signature in signatures):
            return kind
    return None


def check_photo(content_type, data):
    """The photo's media type when ``data`` is a JPEG or PNG of at most 2 MB that is what
    ``content_type`` says; InvalidInput otherwise (the gateway answers 413/415 before this)."""
    kind = media_type(content_type)
    if kind not in MAGIC:
        raise InvalidInput(
            "The photo must be a JPEG or PNG image.",
            {"content_type": ["Must be one of: " + ", ".join(v.PHOTO_TYPES) + "."]},
        )
    if not data:
        raise InvalidInput("The photo is empty.", {"photo": ["Send the image as the request body."]})
    if len(data) > MAX_BYTES:
        raise InvalidInput("The photo is too large.", {"photo": [f"At most {MAX_BYTES} bytes."]})
    if sniff(data) != kind:
        raise InvalidInput(
            "The photo is not the image its content type says.", {"photo": [f"The bytes are not a valid {kind} image."]}
        )
    return kind


def decode(text):
    """Base64 from RPC to bytes (a bad encoding is the caller's mistake)."""
    if not isinstance(text, str):
        raise InvalidInput("The photo must be base64 text.", {"data": ["Expected base64 text."]})
    if len(text) > (MAX_BYTES * 4) // 3 + 8:  # refuse before decoding what cannot fit
        raise InvalidInput("The photo is too large.", {"photo": [f"At most {MAX_BYTES} bytes."]})
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("The photo must be base64 text.", {"data": ["Not valid base64."]}) from None


def encode(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def etag(data):
    return hashlib.sha256(bytes(data)).hexdigest()[:16]


def photo_url(mentor_id, tag):
    """The gateway's public photo route; the tag changes with the photo, so caches never serve an old one."""
    return f"/api/v1/mentors/{mentor_id}/photo?v={tag}" if tag else None


def photo_view(mentor_id, row):
    return schema_of(PhotoViewSchema).dump(
        {
            "photo_url": photo_url(mentor_id, row["etag"]),
            "content_type": row["content_type"],
            "size": len(bytes(row["data"])),
        }
    )


def photo(row):
    return schema_of(PhotoSchema).dump(
        {"content_type": row["content_type"], "data": encode(row["data"]), "etag": row["etag"]}
    )
