"""Draw the PWA icons (a tide line over deep water) as PNG files, with the standard library.

Run once after changing the design: python tools/make_icons.py
"""

import math
import struct
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "pwa" / "icons"
DEEP = (11, 79, 108)
LIGHT = (247, 249, 250)
FOAM = (160, 214, 228)


def draw(size: int, maskable: bool) -> bytes:
    rows = []
    # A maskable icon keeps its drawing inside the central 80 % safe zone.
    scale = 0.8 if maskable else 1.0
    radius = size * 0.18
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            colour = DEEP
            if not maskable and _outside_rounded_square(x, y, size, radius):
                row += bytes((0, 0, 0, 0))
                continue
            u = (x / size - 0.5) / scale + 0.5
            v = (y / size - 0.5) / scale + 0.5
            wave = 0.55 + 0.06 * math.sin(u * math.tau * 1.5)
            mark = 0.36 + 0.04 * math.sin(u * math.tau * 1.5 + 1.2)
            if 0.15 < u < 0.85 and abs(v - wave) < 0.035:
                colour = LIGHT
            elif 0.15 < u < 0.85 and abs(v - mark) < 0.02:
                colour = FOAM
            row += bytes((*colour, 255))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _outside_rounded_square(x, y, size, radius) -> bool:
    cx = min(max(x, radius), size - 1 - radius)
    cy = min(max(y, radius), size - 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 > radius**2


if __name__ == "__main__":
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "icon-192.png").write_bytes(draw(192, maskable=False))
    (ICONS / "icon-512.png").write_bytes(draw(512, maskable=False))
    (ICONS / "icon-maskable-512.png").write_bytes(draw(512, maskable=True))
