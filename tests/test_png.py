"""needsmap.maps.png: the board maps' PNG writer, read back by Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from needsmap.maps import png


def _read(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == png.SIGNATURE
    out, pos = [], 8
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        (crc,) = struct.unpack(">I", data[pos + 8 + size : pos + 12 + size])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + size
    return out


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (61, 40), (2 * png.BLOCK + 3, 5)])
def test_pixels_dpi_and_text_come_back_exactly(shape):
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    text = {"Title": "Wirral: need by ward", "Description": "IoD2025 · 22 wards – Birkenhead"}
    image = _read(png.encode(rgba, dpi=300, text=text))
    assert image.mode == "RGB"
    assert image.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(image), rgba[..., :3])
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert image.text == text


def test_latin1_text_is_tEXt_and_the_rest_iTXt():
    rgba = np.full((2, 2, 4), 255, dtype=np.uint8)
    data = png.encode(rgba, dpi=96, text={"Software": "needsmap", "Title": "7 – 8"})
    kinds = [kind for kind, _ in _chunks(data)]
    assert kinds == [b"IHDR", b"pHYs", b"tEXt", b"iTXt", b"IDAT", b"IEND"]


def test_a_view_of_a_larger_image_is_encoded_as_itself():
    big = np.arange(6 * 10 * 4, dtype=np.uint8).reshape(6, 10, 4)
    view = big[1:5, 2:9]  # not contiguous
    image = _read(png.encode(view, dpi=72))
    assert np.array_equal(np.asarray(image), view[..., :3])
