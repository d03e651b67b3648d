#!/usr/bin/env python3
"""pngcheck.py blank PNG: exit 1 when the image is blank (one colour).

A blank image's scanlines are all alike once filtered (PNG filters turn a
uniform row into a run of zeros), so it has only a few distinct scanlines; a
rendered page has hundreds. Standard library only (zlib)."""
import struct, sys, zlib


def scanlines(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG: " + path)
    off, idat, w, h, bpp = 8, [], 0, 0, 0
    while off < len(d):
        n, typ = struct.unpack(">I4s", d[off:off + 8])
        body = d[off + 8:off + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype] * max(depth // 8, 1)
        elif typ == b"IDAT":
            idat.append(body)
        off += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = 1 + w * bpp
    return w, h, [raw[i:i + stride] for i in range(0, len(raw), stride)]


if len(sys.argv) != 3 or sys.argv[1] != "blank":
    raise SystemExit(__doc__)
w, h, rows = scanlines(sys.argv[2])
distinct = len(set(rows))
sys.exit(0 if w > 0 and h > 0 and distinct >= 20 else 1)
