"""Thumbnails of evidence photos (engine/work/thumbnails.py): small, upright as the camera held them, and
none for a file that is not a picture or claims to be a picture too large to decode."""
from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image

from engine.errors import NotFound
from engine.work.thumbnails import MAX_SIDE, is_picture_name, thumbnail


def _photo(size=(1600, 1200), orientation: int | None = None, mode="RGB") -> bytes:
    picture = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    out = BytesIO()
    if orientation is None:
        picture.save(out, "JPEG" if mode == "RGB" else "PNG")
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation  # Orientation: 6 = the camera was turned a quarter clockwise
        picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _opened(data: bytes) -> Image.Image:
    return Image.open(BytesIO(data))


def test_a_photo_becomes_a_small_jpeg():
    data, kind = thumbnail(_photo())
    picture = _opened(data)
    assert kind == "image/jpeg" and picture.format == "JPEG"
    assert picture.size == (MAX_SIDE, MAX_SIDE * 3 // 4) and len(data) < 20_000


def test_a_phone_photo_is_turned_upright():
    landscape_pixels_portrait_photo = _photo((1600, 1200), orientation=6)
    width, height = _opened(thumbnail(landscape_pixels_portrait_photo)[0]).size
    assert height > width


def test_transparency_is_kept_as_png():
    data, kind = thumbnail(_photo((800, 400), mode="RGBA"))
    assert kind == "image/png" and _opened(data).mode == "RGBA" and _opened(data).size == (MAX_SIDE, MAX_SIDE // 2)


def _png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that claim a huge picture (a decompression bomb's header)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data", [b"%PDF-1.4 not a picture", _png_claiming(8_000, 8_000), b""],
                         ids=["pdf", "bomb", "empty"])
def test_no_thumbnail_for_what_is_not_a_picture_read_safely(data):
    with pytest.raises(NotFound):
        thumbnail(data)


def test_pictures_are_known_by_their_names():
    assert is_picture_name("现场照片.JPG") and is_picture_name("a.webp") and not is_picture_name("回单.pdf")
