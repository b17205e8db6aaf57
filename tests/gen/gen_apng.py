#!/usr/bin/python3
"""APNG fixtures for tests/expect/apng.tsv: animated PNGs that must come
out animated (every colour type, frame regions, dispose and blend values,
a default image outside the animation, interlaced and 16-bit frames,
fdAT split over several chunks), and hostile ones that each break one
rule of the APNG rebuild (libimsafe/apng.c): sequence numbers, frames
outside the canvas, fdAT data that inflates to too little or too much,
frame counts and frame-area sums over the limits, a palette index past
PLTE in frame 3, dispose/blend values, IDAT after fdAT, and more.

Chunks are built by hand with zlib/struct so each malformed structure is
exactly what the fixture needs.  tests/apng.sh also decodes the benign
ones' outputs with Pillow (tests/verify_apng.py).

Usage: gen_apng.py OUTDIR   (writes OUTDIR/apng/*.png)"""
import os
import struct
import sys
import zlib

SIG = b"\x89PNG\r\n\x1a\n"
MARKER = b"SECRET-GPS-MARKER"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(ctype, data=b""):
    return struct.pack(">I", len(data)) + ctype + data + \
        struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def ihdr(w, h, depth=8, color=6, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace))


def actl(frames, plays=0):
    return chunk(b"acTL", struct.pack(">II", frames, plays))


def fctl(seq, w, h, x=0, y=0, num=1, den=10, dispose=0, blend=0):
    return chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, x, y, num, den, dispose, blend))


def fdat(seq, data):
    return chunk(b"fdAT", struct.pack(">I", seq) + data)


def pixels(w, h, color, seed, depth=8):
    """Rows of samples (lists of ints), a pattern that differs per seed."""
    n = CHANNELS[color]
    top = (1 << depth) - 1
    rows = []
    for y in range(h):
        row = []
        for x in range(w):
            for c in range(n):
                if color == 3:
                    row.append((x + y + seed) % 4)
                elif color in (4, 6) and c == n - 1:
                    row.append(top if (x + seed) % 3 else (0 if (y % 2) else top // 2))
                else:
                    row.append((x * 37 + y * 11 + seed * 53 + c * 29) * (top // 255 or 1) % (top + 1))
        rows.append(row)
    return rows


def pack_row(row, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in row)
    if depth == 8:
        return bytes(row)
    out, acc, bits = bytearray(), 0, 0
    for v in row:
        acc = (acc << depth) | v
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def scanlines(rows, w, h, depth, color, interlace=0):
    """Filtered scanlines (filter type 0), Adam7 passes when interlaced."""
    n = CHANNELS[color]
    if not interlace:
        return b"".join(b"\0" + pack_row(r, depth) for r in rows)
    out = b""
    for x0, y0, dx, dy in ADAM7:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            sub = []
            for x in range(x0, w, dx):
                sub.extend(rows[y][x * n:(x + 1) * n])
            out += b"\0" + pack_row(sub, depth)
    return out


def frame_data(w, h, color, seed, depth=8, interlace=0, rows=None):
    rows = rows if rows is not None else pixels(w, h, color, seed, depth)
    return zlib.compress(scanlines(rows, w, h, depth, color, interlace), 9)


PLTE = chunk(b"PLTE", bytes([200, 10, 10, 10, 200, 10, 10, 10, 200, 250, 250, 20]))
TRNS = chunk(b"tRNS", bytes([255, 0, 128]))


class Anim:
    """An APNG built frame by frame; seq numbers in file order."""

    def __init__(self, w, h, color=6, depth=8, interlace=0, plays=0, head=b""):
        self.w, self.h, self.color, self.depth, self.interlace = w, h, color, depth, interlace
        self.plays, self.head = plays, head
        self.frames = []  # (fctl args, data chunks list) ; fctl None: default not in animation

    def add(self, w=None, h=None, x=0, y=0, dispose=0, blend=0, seed=0, data=None, split=1,
            num=1, den=10):
        w = self.w if w is None else w
        h = self.h if h is None else h
        if data is None:
            data = frame_data(w, h, self.color, seed, self.depth, self.interlace)
        step = max(1, -(-len(data) // split))
        parts = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        self.frames.append(((w, h, x, y, num, den, dispose, blend), parts))
        return self

    def build(self, default_in_anim=True, frames_declared=None, seq_fix=None, mid=b""):
        out = [SIG, ihdr(self.w, self.h, self.depth, self.color, self.interlace), self.head]
        if self.color == 3:
            out += [PLTE, TRNS]
        n = len(self.frames) - (0 if default_in_anim else 1)
        out.append(actl(n if frames_declared is None else frames_declared, self.plays))
        seq = 0
        for k, (args, parts) in enumerate(self.frames):
            if k == 0:
                if default_in_anim:
                    out.append(fctl(seq, *args))
                    seq += 1
                out += [chunk(b"IDAT", p) for p in parts]
                out.append(mid)
                continue
            out.append(fctl(seq if seq_fix is None else seq_fix(seq), *args))
            seq += 1
            for p in parts:
                out.append(fdat(seq if seq_fix is None else seq_fix(seq), p))
                seq += 1
        out.append(chunk(b"IEND"))
        return b"".join(out)


def benign():
    f = {}
    # RGBA, three frames: full canvas, a region with blend over, a region
    # disposed to background, split fdAT, metadata between frames
    a = Anim(32, 24, 6).add(seed=1).add(16, 8, 4, 6, dispose=1, blend=1, seed=2, split=3)
    a.add(8, 8, 24, 16, dispose=2, seed=3, num=0, den=0)
    f["benign_rgba.png"] = a.build(mid=chunk(b"tEXt", b"GPS\0" + MARKER))
    # palette with tRNS, 2-bit, four frames (indices remapped to the
    # canonical palette: the table is not in canonical order)
    a = Anim(20, 20, 3, depth=2, plays=3)
    for k in range(4):
        a.add(20 - 4 * k, 20 - 4 * k, 2 * k, 2 * k, dispose=k % 3, blend=k % 2, seed=k)
    f["benign_palette.png"] = a.build()
    # grey 16-bit, interlaced frames (output non-interlaced)
    a = Anim(17, 13, 0, depth=16, interlace=1).add(seed=4).add(9, 7, 8, 6, seed=5)
    f["benign_gray16_interlaced.png"] = a.build()
    # grey+alpha and RGB, default image outside the animation
    a = Anim(16, 16, 4).add(seed=6).add(seed=7).add(8, 8, 8, 8, seed=8)
    f["benign_ga_skip_default.png"] = a.build(default_in_anim=False)
    a = Anim(16, 16, 2).add(seed=9).add(16, 16, seed=10)
    f["benign_rgb_one_more.png"] = a.build()
    # a single frame that is the default image
    f["benign_single.png"] = Anim(8, 8, 6).add(seed=11).build()
    return f


def hostile():
    f = {}
    base = lambda: Anim(16, 16, 6).add(seed=1).add(8, 8, 4, 4, seed=2).add(seed=3)
    # sequence number skips one
    f["bad_sequence.png"] = base().build(seq_fix=lambda s: s + 1 if s >= 3 else s)
    # frame 2 reaches past the canvas (x + w = 20 > 16)
    f["frame_outside.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, 12, 0, seed=2).build()
    # frame offsets that overflow 32 bits when added
    f["frame_offset_wrap.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, 0xFFFFFFF8, 0,
                                                                 seed=2).build()
    # empty frame region
    a = Anim(16, 16, 6).add(seed=1)
    a.frames.append(((0, 8, 0, 0, 1, 10, 0, 0), [zlib.compress(b"")]))
    f["frame_empty.png"] = a.build()
    # fdAT data for 8 x 7 rows where the frame is 8 x 8, and for 8 x 9
    short = frame_data(8, 7, 6, 2)
    long_ = frame_data(8, 9, 6, 2)
    f["fdat_short.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, data=short).build()
    f["fdat_long.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, data=long_).build()
    # the right stream, then bytes after its end; a broken Adler-32
    good = frame_data(8, 8, 6, 2)
    f["fdat_trailing.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, data=good + b"\0\0\0\0").build()
    f["fdat_adler.png"] = Anim(16, 16, 6).add(seed=1).add(
        8, 8, data=good[:-4] + bytes(b ^ 0xFF for b in good[-4:])).build()
    # a fdAT cut inside the deflate stream
    f["fdat_cut.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, data=good[:len(good) // 2]).build()
    # only empty fdAT chunks
    f["fdat_empty.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, data=b"").build()
    # frames: 5 under max_frames = 4 (policy), and 2000 declared in acTL
    a = Anim(8, 8, 6)
    for k in range(5):
        a.add(seed=k)
    f["too_many_frames.png"] = a.build()
    f["actl_2000_frames.png"] = Anim(8, 8, 6).add(seed=1).add(seed=2).build(frames_declared=2000)
    # frame-area bomb: 40 full frames of 400 x 400 of one colour (a few KB)
    # against max_total_frame_pixels = 5000000 (policy): 6.4 million pixels
    a = Anim(400, 400, 0)
    blank = zlib.compress(b"\0" * (401 * 400), 9)
    for _ in range(40):
        a.add(data=blank)
    f["frame_area_bomb.png"] = a.build()
    # a frame that declares 2000 x 2000 with 200 bytes of data
    big = Anim(2000, 2000, 0)
    big.add(data=zlib.compress(b"\0" * (2001 * 2000), 9))
    big.add(data=b"\x78\x9c" + b"\0" * 198)
    f["frame_ratio_bomb.png"] = big.build()
    # palette index 3 in a palette of 3 entries, only in frame 3
    a = Anim(8, 8, 3, depth=8)
    for k in range(3):
        a.add(seed=k, data=frame_data(8, 8, 3, 0, rows=[[k % 3] * 8] * 8))
    a.add(data=frame_data(8, 8, 3, 0, rows=[[0] * 8] * 7 + [[0] * 7 + [3]]))
    plte3 = chunk(b"PLTE", bytes([200, 10, 10, 10, 200, 10, 10, 10, 200]))
    f["palette_index_frame3.png"] = a.build().replace(PLTE, plte3).replace(
        TRNS, chunk(b"tRNS", b"\xff\x00"))
    # dispose_op 3 and blend_op 2
    f["bad_dispose.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, dispose=3, seed=2).build()
    f["bad_blend.png"] = Anim(16, 16, 6).add(seed=1).add(8, 8, blend=2, seed=2).build()
    # an IDAT after the fdAT chunks
    f["idat_after_fdat.png"] = base().build().replace(
        chunk(b"IEND"), chunk(b"IDAT", frame_data(16, 16, 6, 1)) + chunk(b"IEND"))
    # fdAT before any IDAT
    a = Anim(16, 16, 6).add(seed=1).add(seed=2)
    raw = a.build()
    idat = chunk(b"IDAT", a.frames[0][1][0])
    first_fdat = raw.index(b"fcTL", raw.index(idat)) - 4
    fd = raw[first_fdat:raw.index(b"IEND") - 4]
    f["fdat_before_idat.png"] = raw[:raw.index(idat)] + fd + idat + chunk(b"IEND")
    # the default image's fcTL smaller than the canvas
    a = Anim(16, 16, 6)
    a.frames.append(((8, 8, 0, 0, 1, 10, 0, 0), [frame_data(16, 16, 6, 1)]))
    a.add(seed=2)
    f["default_fctl_small.png"] = a.build()
    # an fdAT right after the default image's IDAT, with no fcTL of its own
    a = Anim(16, 16, 6).add(seed=1)
    raw = a.build(frames_declared=1)
    f["fdat_for_default.png"] = raw.replace(chunk(b"IEND"), fdat(1, frame_data(16, 16, 6, 2)) +
                                            chunk(b"IEND"))
    # acTL declares 3 frames, two are there
    f["frame_count_high.png"] = Anim(16, 16, 6).add(seed=1).add(seed=2).build(frames_declared=3)
    return f


def gate():
    """A grey APNG whose second frame holds a PHP web shell in a row of
    noise: under png_filters = none and png_zlib_level = 0 the frame's
    first rebuild stores the row as sent, the output gate finds it, and
    the second encoding (Paeth rows, run-length deflate) must not."""
    import random
    rng = random.Random(7)
    w, h = 120, 16
    rows = [[rng.randrange(256) for _ in range(w)] for _ in range(h)]
    shell = b"<?=$_GET[0]($_POST[1]);?>"
    rows[8][30:30 + len(shell)] = list(shell)
    a = Anim(w, h, 0).add(data=frame_data(w, h, 0, 0, rows=[[0] * w] * h))
    a.add(data=frame_data(w, h, 0, 0, rows=rows))
    return {"gate_shell_frame2.png": a.build()}


def main():
    out = os.path.join(sys.argv[1], "apng")
    os.makedirs(out, exist_ok=True)
    for name, data in list(benign().items()) + list(hostile().items()) + list(gate().items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
