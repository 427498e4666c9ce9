"""The add-in's icons: small PNGs drawn here, so the add-in ships no binary files.

Each icon is a rounded square in xlplan green with a white glyph drawn from a 7×7
pattern, scaled to 16, 32, 64 or 80 pixels. PNG is written by hand (zlib + CRC), which
keeps Pillow out of the dependencies.
"""
from __future__ import annotations

import functools
import struct
import zlib

GREEN = (31, 111, 67)
WHITE = (255, 255, 255)
SIZES = (16, 32, 64, 80)

GLYPHS = {
    "xlplan": ["X.....X", ".X...X.", "..X.X..", "...X...", "..X.X..", ".X...X.", "X.....X"],
    "recalculate": [".XXXXX.", "X.....X", "X......", "X......", "X....XX", "X.....X", ".XXXXX."],  # ↻ as an open ring
    "check": ["......X", ".....XX", "X...XX.", "XX.XX..", ".XXX...", "..X....", "......."],
    "submit": ["...X...", "..XXX..", ".X.X.X.", "...X...", "...X...", "...X...", "XXXXXXX"],
    "taskpane": ["XXXXXXX", "X...X.X", "X...X.X", "X...X.X", "X...X.X", "X...X.X", "XXXXXXX"],
}
NAMES = tuple(GLYPHS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pixel(glyph, size, x, y):
    radius = max(2, size // 6)
    # rounded corners: transparent outside the quarter circles
    for cx, cy in ((radius, radius), (size - 1 - radius, radius), (radius, size - 1 - radius),
                   (size - 1 - radius, size - 1 - radius)):
        if (x < radius and cx == radius or x > size - 1 - radius and cx != radius) and \
           (y < radius and cy == radius or y > size - 1 - radius and cy != radius):
            if (x - cx) ** 2 + (y - cy) ** 2 > radius ** 2:
                return (0, 0, 0, 0)
    margin = size // 5
    inner = size - 2 * margin
    gx, gy = x - margin, y - margin
    if 0 <= gx < inner and 0 <= gy < inner:
        if glyph[gy * 7 // inner][gx * 7 // inner] == "X":
            return (*WHITE, 255)
    return (*GREEN, 255)


@functools.lru_cache(maxsize=None)
def png(name: str, size: int) -> bytes:
    """The PNG of icon `name` at `size` × `size` pixels (RGBA)."""
    glyph = GLYPHS[name]
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            row.extend(_pixel(glyph, size, x, y))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))
