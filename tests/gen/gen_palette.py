#!/usr/bin/python3
"""gen_palette.py OUTDIR - writes the palette fixtures into OUTDIR/palette/.

Hostile: a working ZIP archive, a PDF header and an HTML page with a
<script>, each written in order into the colour table of an otherwise
ordinary image: a GIF global colour table, a GIF local colour table (the
second frame of an animation) and a PNG PLTE.  The ZIP is a real archive
in the input: its offsets count from the start of the file and its
end-of-central-directory comment runs to the last byte, so Python's
zipfile and Info-ZIP's `unzip -l` list it without a warning (a GIFAR).
The pixels use every entry of the table, so a rebuild that reorders the
table must remap every pixel to keep the image.

Benign: the cases where the order of a table decides what a decoder
shows, for the canonical palettes (libimsafe/palette.c) to keep: a GIF
transparent entry with opaque twins of the same colour, an opaque first
frame that leaves part of the screen uncovered (Pillow paints it with
entry 0), frames disposed to the background with local tables (Pillow
paints the background entry of the frame's own table), exact duplicates
that merge so a table shrinks, and PNG palettes with duplicate colours
of different alpha, sub-byte depths and interlacing.

tests/expect/palette.tsv names the verdicts; tests/verify_palette.py runs
the oracles (zipfile, unzip, Pillow) on the outputs.
"""
import os
import struct
import sys
import zlib

# ------------------------------------------------------------- payloads

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n"
       b"3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
HTML = (b"<html><body><script>alert(document.domain)</script>"
        b"<svg onload=alert(1)></svg></body></html>\n")
ZIP_NAME = b"payload.txt"
ZIP_DATA = b"sent through a colour table\n"


def zip_archive(base, tail):
    """A one-entry stored ZIP whose first byte will sit at file offset base,
    followed by `tail` more bytes up to the end of the file (the EOCD
    comment covers them, so the archive ends where the file ends)."""
    crc = zlib.crc32(ZIP_DATA) & 0xFFFFFFFF
    n = len(ZIP_DATA)
    local = (b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0x21, crc, n, n,
                                         len(ZIP_NAME), 0) + ZIP_NAME + ZIP_DATA)
    central = (b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 0, 0, 0x21, crc, n,
                                           n, len(ZIP_NAME), 0, 0, 0, 0, 0, base) + ZIP_NAME)
    eocd = (b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central),
                                        base + len(local), tail))
    return local + central + eocd


def filler(i):
    """Entry i of the rest of a table: a spread of ordinary colours."""
    return bytes(((i * 37 + 11) & 255, (i * 91 + 7) & 255, (i * 53 + 101) & 255))


def table_bytes(payload, entries=256):
    """payload written in order from entry 0, filler entries after it."""
    assert len(payload) <= 3 * entries
    rest = b"".join(filler(k) for k in range(entries))
    return payload + rest[:3 * entries - len(payload)]


def with_zip(build, table_offset, entries=256):
    """build(table) -> file bytes, the table at file offset table_offset.
    Builds once to learn the length, then places a ZIP whose EOCD comment
    runs to the end of the file."""
    probe = build(table_bytes(zip_archive(table_offset, 0), entries))
    zlen = len(zip_archive(table_offset, 0))
    tail = len(probe) - (table_offset + zlen)
    data = build(table_bytes(zip_archive(table_offset, tail), entries))
    assert len(data) == len(probe)
    return data


# ------------------------------------------------------------------ GIF

class Bits:
    """LSB-first code packer (GIF spec appendix F)."""

    def __init__(self):
        self.acc = 0
        self.n = 0
        self.out = bytearray()

    def put(self, code, width):
        self.acc |= code << self.n
        self.n += width
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def done(self):
        if self.n:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


def lzw(pixels, min_size):
    """Literal-only LZW: a clear code before the code width would grow."""
    clear = 1 << min_size
    width = min_size + 1
    bits = Bits()
    for i, p in enumerate(pixels):
        if i % (clear - 2) == 0:
            bits.put(clear, width)
        bits.put(p, width)
    bits.put(clear + 1, width)
    return bits.done()


def sub_blocks(data):
    out = b""
    for i in range(0, len(data), 255):
        out += bytes([len(data[i:i + 255])]) + data[i:i + 255]
    return out + b"\0"


def bits_for(entries):
    b = 1
    while (1 << b) < entries:
        b += 1
    return b


def screen(w, h, gct=None, bg=0):
    """gct: raw table bytes (3 * 2^k) or None."""
    packed = 0
    if gct is not None:
        packed = 0x80 | 0x70 | (bits_for(len(gct) // 3) - 1)
    return b"GIF89a" + struct.pack("<HHBBB", w, h, packed, bg, 0) + (gct or b"")


def gce(disposal=0, transparent=None, delay=10):
    packed = (disposal << 2) | (1 if transparent is not None else 0)
    return b"\x21\xf9\x04" + struct.pack("<BHB", packed, delay, transparent or 0) + b"\0"


NETSCAPE = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"


def image(x, y, w, h, pixels, lct=None, min_size=None):
    """lct: raw table bytes or None; pixels: indices, row by row."""
    packed = 0
    if lct is not None:
        packed = 0x80 | (bits_for(len(lct) // 3) - 1)
    if min_size is None:
        min_size = max(2, bits_for(max(pixels) + 1))
    return (b"\x2c" + struct.pack("<HHHHB", x, y, w, h, packed) + (lct or b"") +
            bytes([min_size]) + sub_blocks(lzw(pixels, min_size)))


TRAILER = b"\x3b"
ALL256 = list(range(256))              # a 16x16 frame using every entry
SMALL = b"\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\xff"  # 4 entries


def gif_gct(payload_table):
    return screen(16, 16, payload_table) + image(0, 0, 16, 16, ALL256) + TRAILER


def gif_lct(payload_table):
    """Frame 1 on the small global table, frame 2 with the payload as its
    local table (every entry used)."""
    return (screen(16, 16, SMALL) + NETSCAPE + gce(disposal=1) +
            image(0, 0, 16, 16, [(x + y) % 4 for y in range(16) for x in range(16)]) +
            gce(disposal=1) + image(0, 0, 16, 16, ALL256, lct=payload_table) + TRAILER)


GCT_OFFSET = 13
LCT_OFFSET = len(screen(16, 16, SMALL) + NETSCAPE + gce() +
                 image(0, 0, 16, 16, [(x + y) % 4 for y in range(16) for x in range(16)]) +
                 gce()) + 10


def rgb(*cols):
    return b"".join(bytes(c) for c in cols)


def transparent_twins():
    """Entries 1, 2 and 5 hold the same green; frame 1 calls 1 transparent,
    frame 2 calls 5: neither may take in the others, while 2 (opaque, used
    by both frames) may merge only with opaque twins (6, never used)."""
    g = (0, 128, 0)
    gct = rgb((255, 255, 255), g, g, (255, 0, 0), (0, 0, 255), g, g, (9, 9, 9))
    px = [(x * 3 + y) % 8 for y in range(8) for x in range(8)]
    return (screen(8, 8, gct) + NETSCAPE + gce(disposal=1, transparent=1) +
            image(0, 0, 8, 8, px) + gce(disposal=1, transparent=5) +
            image(2, 2, 6, 6, [(x + y) % 8 for y in range(6) for x in range(6)]) + TRAILER)


def uncovered_first():
    """An opaque first frame in the middle of the screen: Pillow paints the
    rest with entry 0 of its table (white here, which sorts last); a second
    frame has a local table whose entry 0 is not the smallest either."""
    gct = rgb((255, 255, 255), (0, 0, 0), (200, 0, 0), (0, 0, 200))
    lct = rgb((250, 250, 0), (10, 10, 10), (0, 250, 250), (1, 2, 3))
    return (screen(10, 10, gct) + NETSCAPE + gce(disposal=1) +
            image(3, 3, 4, 4, [1, 2, 3, 1] * 4) + gce(disposal=1) +
            image(0, 0, 5, 5, [(x + y) % 4 for y in range(5) for x in range(5)], lct=lct) +
            TRAILER)


def uncovered_first_local():
    """The same with the first frame on a local table (entry 0 red)."""
    gct = rgb((0, 0, 0), (1, 1, 1))
    lct = rgb((255, 0, 0), (0, 0, 0), (0, 255, 0), (0, 0, 255))
    return screen(9, 7, gct) + image(2, 1, 5, 5, [1, 2, 3, 1, 2] * 5, lct=lct) + TRAILER


def dispose_background():
    """Opaque frames disposed to the background (index 2, a colour that
    sorts first): Pillow fills with entry 2 of each disposed frame's own
    table, global for frame 1 (the whole screen), local for frame 2, and
    frame 3 leaves both areas visible."""
    gct = rgb((250, 250, 250), (128, 128, 0), (3, 3, 3), (0, 90, 255))
    lct = rgb((255, 128, 0), (64, 0, 64), (220, 220, 30), (0, 0, 0))
    return (screen(12, 12, gct, bg=2) + NETSCAPE +
            gce(disposal=2) +
            image(0, 0, 12, 12, [(x * y) % 4 for y in range(12) for x in range(12)]) +
            gce(disposal=2) + image(6, 6, 6, 6, [(x + 2 * y) % 4 for y in range(6) for x in range(6)],
                                    lct=lct) +
            gce(disposal=1) + image(3, 3, 6, 6, [1, 3, 0] * 12) + TRAILER)


def duplicates():
    """A 16-entry table holding 3 colours: merged, the table shrinks to 4
    entries (padded by repeating the last) and the LZW code size with it."""
    cols = [(200, 10, 10), (10, 200, 10), (10, 10, 200)]
    gct = rgb(*[cols[i % 3] for i in range(16)])
    return (screen(16, 4, gct) + image(0, 0, 16, 4, [i % 16 for i in range(64)], min_size=4) +
            TRAILER)


# ------------------------------------------------------------------ PNG

def chunk(ctype, data):
    return (struct.pack(">I", len(data)) + ctype + data +
            struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF))


def pack(indices, depth):
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(indices), per):
        b = 0
        for k in range(per):
            v = indices[i + k] if i + k < len(indices) else 0
            b |= v << (8 - depth * (k + 1))
        out.append(b)
    return bytes(out)


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def palette_png(rows, plte, trns=None, depth=8, interlace=0):
    """rows: lists of indices; plte: raw bytes."""
    w, h = len(rows[0]), len(rows)
    if interlace:
        passes = []
        for x0, y0, dx, dy in ADAM7:
            if x0 < w and y0 < h:
                passes += [rows[y][x0::dx] for y in range(y0, h, dy)]
        rows = passes
    raw = b"".join(b"\0" + pack(r, depth) for r in rows)
    out = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 3, 0, 0, interlace)) +
           chunk(b"PLTE", plte))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


PNG_ROWS = [list(range(y * 16, y * 16 + 16)) for y in range(16)]
PLTE_OFFSET = 8 + 25 + 8
PNG_TRNS = bytes(range(0, 256, 16))  # 16 entries, some alpha


def png_plte(payload_table):
    return palette_png(PNG_ROWS, payload_table, PNG_TRNS)


def png_alpha_twins():
    """4-bit palette: the same red opaque, half and fully transparent, an
    exact duplicate, and a tRNS ending in opaque entries."""
    plte = rgb((255, 0, 0), (0, 0, 0), (255, 0, 0), (255, 0, 0), (0, 0, 0), (9, 200, 9),
               (255, 0, 0), (30, 30, 30))
    trns = bytes([255, 0, 128, 0, 0, 255, 255, 255])
    rows = [[(x + y) % 8 for x in range(13)] for y in range(5)]
    return palette_png(rows, plte, trns, depth=4)


def png_depth2():
    """2-bit palette in descending order, a width that leaves pad bits."""
    plte = rgb((250, 250, 250), (170, 170, 170), (90, 90, 90), (10, 10, 10))
    rows = [[(x * 3 + y) % 4 for x in range(7)] for y in range(6)]
    return palette_png(rows, plte, depth=2)


def png_depth1():
    plte = rgb((255, 255, 255), (0, 0, 0))
    rows = [[(x ^ y) & 1 for x in range(11)] for y in range(3)]
    return palette_png(rows, plte, depth=1)


def png_interlaced():
    plte = rgb(*[filler(i) for i in range(64)])
    rows = [[(x * 7 + y * 3) % 64 for x in range(9)] for y in range(10)]
    return palette_png(rows, plte, bytes([200, 100]), interlace=1)


# ------------------------------------------------------- order twins

# One picture, two senders: the same colours in another table order (B
# also repeats some), indices to match.  Canonical tables make the two
# rebuilds byte-identical.
TWIN_G = [(0, 0, 0), (255, 255, 255), (200, 30, 30), (30, 200, 30), (30, 30, 200),
          (128, 128, 128), (250, 200, 0), (1, 2, 3)]
TWIN_L = [(90, 0, 90), (0, 90, 90), (90, 90, 0), (7, 7, 7)]
TWIN_PX1 = [(x * 5 + y * 3) % 8 for y in range(8) for x in range(8)]
TWIN_PX2 = [(x + y * 2) % 4 for y in range(6) for x in range(6)]


def twin_gif(gperm, lperm):
    """gperm/lperm: the table as colour numbers (repeats allowed); each
    pixel takes the first entry of its colour."""
    gct = rgb(*[TWIN_G[c] for c in gperm])
    lct = rgb(*[TWIN_L[c] for c in lperm])
    px1 = [gperm.index(c) for c in TWIN_PX1]
    px2 = [lperm.index(c) for c in TWIN_PX2]
    return (screen(8, 8, gct, bg=gperm.index(6)) + NETSCAPE +
            gce(disposal=1, transparent=gperm.index(5)) +
            image(0, 0, 8, 8, px1) + gce(disposal=1, transparent=lperm.index(2)) +
            image(1, 1, 6, 6, px2, lct=lct) + TRAILER)


TWIN_P = [(200, 0, 0, 255), (200, 0, 0, 100), (0, 0, 0, 0), (0, 255, 0, 255),
          (0, 0, 255, 30), (255, 255, 255, 255)]
TWIN_PPX = [[(x * 2 + y) % 6 for x in range(10)] for y in range(4)]


def twin_png(perm):
    plte = rgb(*[TWIN_P[c][:3] for c in perm])
    trns = bytes(TWIN_P[c][3] for c in perm)
    rows = [[perm.index(c) for c in row] for row in TWIN_PPX]
    return palette_png(rows, plte, trns)


# ------------------------------------------------------------------ all

def fixtures():
    return {
        "gif-gct-zip.gif": with_zip(gif_gct, GCT_OFFSET),
        "gif-gct-pdf.gif": gif_gct(table_bytes(PDF)),
        "gif-gct-html.gif": gif_gct(table_bytes(HTML)),
        "gif-lct-zip.gif": with_zip(gif_lct, LCT_OFFSET),
        "gif-lct-pdf.gif": gif_lct(table_bytes(PDF)),
        "gif-lct-html.gif": gif_lct(table_bytes(HTML)),
        "png-plte-zip.png": with_zip(png_plte, PLTE_OFFSET),
        "png-plte-pdf.png": png_plte(table_bytes(PDF)),
        "png-plte-html.png": png_plte(table_bytes(HTML)),
        "gif-transparent-twins.gif": transparent_twins(),
        "gif-uncovered-first.gif": uncovered_first(),
        "gif-uncovered-first-local.gif": uncovered_first_local(),
        "gif-dispose-background.gif": dispose_background(),
        "gif-duplicates.gif": duplicates(),
        "png-alpha-twins.png": png_alpha_twins(),
        "png-depth2.png": png_depth2(),
        "png-depth1.png": png_depth1(),
        "png-interlaced.png": png_interlaced(),
        "gif-order-a.gif": twin_gif([0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3]),
        "gif-order-b.gif": twin_gif([7, 5, 3, 1, 6, 4, 2, 0, 1, 3, 3, 7, 0, 0, 6, 6],
                                    [2, 3, 1, 0]),
        "png-order-a.png": twin_png([0, 1, 2, 3, 4, 5]),
        "png-order-b.png": twin_png([5, 3, 4, 0, 2, 1, 3, 0]),
    }


def main():
    if len(sys.argv) != 2:
        print("usage: gen_palette.py OUTDIR", file=sys.stderr)
        return 2
    out = os.path.join(sys.argv[1], "palette")
    os.makedirs(out, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
