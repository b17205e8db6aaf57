#!/usr/bin/python3
"""gen_gif.py OUTDIR - writes the GIF fixtures into OUTDIR/gif/.

Every byte is written here by hand (no encoder that would repair what the
fixtures break): the LZW streams come from a tiny encoder that emits
literal codes only, with a clear code before the code width would grow,
which is a valid GIF stream any decoder reads.  tests/expect/gif.tsv
names each fixture's expected verdict, reason and notes.
"""
import io
import os
import struct
import sys
import zipfile

# every ZIP entry gets one fixed time: the same fixture bytes on every run
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------- pieces

def screen(w, h, gct=None, bg=0, version=b"GIF89a"):
    """Header + logical screen descriptor + global colour table."""
    packed = 0
    if gct is not None:
        packed = 0x80 | 0x70 | (size_bits(len(gct)) - 1)
    out = version + struct.pack("<HHBBB", w, h, packed, bg, 0)
    if gct is not None:
        out += table(gct)
    return out


def size_bits(n):
    b = 1
    while (1 << b) < n:
        b += 1
    return b


def table(colours):
    n = 1 << size_bits(len(colours))
    cols = list(colours) + [(0, 0, 0)] * (n - len(colours))
    return b"".join(bytes(c) for c in cols)


def sub_blocks(data):
    out = b""
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([len(chunk)]) + chunk
    return out + b"\0"


def gce(delay=0, disposal=0, transparent=None):
    packed = (disposal << 2) | (1 if transparent is not None else 0)
    return b"\x21\xf9\x04" + struct.pack("<BHB", packed, delay, transparent or 0) + b"\0"


def netscape(loops):
    return b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loops) + b"\0"


def comment(text):
    return b"\x21\xfe" + sub_blocks(text)


def xmp(text):
    return b"\x21\xffx0bXMP DataXMP".replace(b"x0b", b"\x0b") + sub_blocks(text)


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


def lzw_codes(pixels, min_size=2, eoi=True, extra=()):
    """Literal-only LZW: clear, up to 2^m - 2 literals, clear, ...

    extra: (code, width) pairs appended before the EOI, to break things."""
    clear = 1 << min_size
    width = min_size + 1
    bits = Bits()
    per_run = clear - 2
    for i, p in enumerate(pixels):
        if i % per_run == 0:
            bits.put(clear, width)
        bits.put(p, width)
    for code, w in extra:
        bits.put(code, w)
    if eoi:
        bits.put(clear + 1, width)
    return bits.done()


def image(x, y, w, h, pixels, min_size=2, lct=None, interlace=False, data=None):
    packed = 0x40 if interlace else 0
    if lct is not None:
        packed |= 0x80 | (size_bits(len(lct)) - 1)
    out = b"\x2c" + struct.pack("<HHHHB", x, y, w, h, packed)
    if lct is not None:
        out += table(lct)
    if data is None:
        data = lzw_codes(pixels, min_size)
    return out + bytes([min_size]) + sub_blocks(data)


def interlace_order(h):
    rows = []
    for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)):
        rows.extend(range(start, h, step))
    return rows


TRAILER = b"\x3b"
PAL4 = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]


def pattern(w, h, colours=4, seed=0):
    return [(x * 3 + y * 5 + seed) % colours for y in range(h) for x in range(w)]


# --------------------------------------------------------------- fixtures

def static():
    return (screen(8, 8, PAL4) + comment(b"SECRETCOMMENT from the sender") +
            xmp(b"<x:xmpmeta>XMPMARKER</x:xmpmeta>") + gce(transparent=0) +
            image(0, 0, 8, 8, pattern(8, 8)) + TRAILER)


def animated():
    out = screen(8, 8, PAL4) + netscape(0)
    for i, (delay, disp) in enumerate(((10, 1), (20, 2), (30, 0))):
        out += gce(delay=delay, disposal=disp, transparent=3 if i == 1 else None)
        out += image(i, i, 8 - i, 8 - i, pattern(8 - i, 8 - i, seed=i))
    return out + TRAILER


def interlaced():
    w, h = 5, 11
    px = pattern(w, h)
    stored = []
    for y in interlace_order(h):
        stored += px[y * w:(y + 1) * w]
    return screen(w, h, PAL4) + image(0, 0, w, h, stored, interlace=True) + TRAILER


def interlaced_clipped():
    w, h = 6, 13
    px = pattern(w, h)
    stored = []
    for y in interlace_order(h):
        stored += px[y * w:(y + 1) * w]
    return screen(8, 8, PAL4) + image(3, 2, w, h, stored, interlace=True) + TRAILER


def frame(w, h, x=0, y=0, sw=8, sh=8):
    return screen(sw, sh, PAL4) + image(x, y, w, h, pattern(w, h)) + TRAILER


def local_256_partial():
    """256 local colours, every index used, frame smaller than the screen:
    gif_to_png must go RGBA (no index is free for the uncovered area)."""
    pal = [(i, 255 - i, (i * 7) & 255) for i in range(256)]
    px = list(range(256))
    return (screen(20, 20) + image(2, 3, 16, 16, px, min_size=8, lct=pal) + TRAILER)


def many_frames(n):
    out = screen(1, 1, PAL4) + netscape(0)
    one = image(0, 0, 1, 1, [1])
    return out + one * n + TRAILER


def bad_lzw_size(size):
    """Minimum code size outside 2..8, with data that fits the frame."""
    data = lzw_codes([1] * 4, 2)
    return screen(2, 2, PAL4) + image(0, 0, 2, 2, None, min_size=size, data=data) + TRAILER


def bad_code():
    """After a clear and one literal the next free code is 6: 7 is beyond."""
    bits = Bits()
    bits.put(4, 3)
    bits.put(1, 3)
    bits.put(7, 3)
    bits.put(5, 3)
    return screen(2, 2, PAL4) + image(0, 0, 2, 2, None, data=bits.done()) + TRAILER


def excess():
    data = lzw_codes([1, 2, 3, 0, 1, 2], 2)  # 6 pixels for a 2x2 frame
    return screen(2, 2, PAL4) + image(0, 0, 2, 2, None, data=data) + TRAILER


def missing():
    data = lzw_codes([1, 2, 3], 2)  # 3 pixels for a 2x2 frame
    return screen(2, 2, PAL4) + image(0, 0, 2, 2, None, data=data) + TRAILER


def tiny_zip(jar=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if jar:
            z.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", date_time=ZIP_TIME), "Manifest-Version: 1.0\r\nMain-Class: A\r\n",
                       compress_type=z.compression)
            z.writestr(zipfile.ZipInfo("A.class", date_time=ZIP_TIME), b"\xca\xfe\xba\xbe" + b"\0" * 60,
                       compress_type=z.compression)
        else:
            z.writestr(zipfile.ZipInfo("readme.txt", date_time=ZIP_TIME), "hello from a zip after the trailer\n" * 4,
                       compress_type=z.compression)
    return buf.getvalue()


def zero_screen(sw, sh, real_w=None, real_h=None):
    """Two frames on a logical screen of sw x sh (0 in a dimension: the
    viewer sizes it); with real_w/real_h, the same file with that screen
    (the reference the repair must match)."""
    w = sw if real_w is None else real_w
    h = sh if real_h is None else real_h
    return (screen(w, h, PAL4) + netscape(0) + gce(delay=10) +
            image(0, 0, 4, 4, pattern(4, 4)) + gce(delay=20, transparent=0) +
            image(2, 3, 5, 2, pattern(5, 2, seed=1)) + TRAILER)


def repairs():
    """What browsers repair without loss (note.repaired), the references
    the repaired outputs must decode to (*.ref.gif), and the cuts and empty
    files that still reject."""
    base = frame(8, 8)
    anim = animated()
    return {
        "no-trailer.ref.gif": base,
        "no-trailer-animated.gif": anim[:-1],
        "no-trailer-animated.ref.gif": anim,
        # the last image's block terminator is missing too: a cut in a block
        "no-trailer-no-terminator.gif": anim[:-2],
        "cut-after-descriptor.gif": screen(4, 4, PAL4) + image(0, 0, 4, 4, pattern(4, 4))[:10],
        "cut-in-extension.gif": screen(4, 4, PAL4) + comment(b"cut here" * 10)[:20],
        "header-only.gif": screen(4, 4, PAL4),
        # no image descriptor at all (malformed.gif.no_image)
        "no-image.gif": screen(4, 4, PAL4) + netscape(0) + comment(b"nothing") + TRAILER,
        "no-image-gce.gif": screen(4, 4, PAL4) + gce(delay=5, transparent=1) + TRAILER,
        "no-image-bare.gif": screen(4, 4) + TRAILER,
        # logical screen of 0: sized to the frames (7 x 5 here)
        "screen-0x0.gif": zero_screen(0, 0),
        "screen-0x0.ref.gif": zero_screen(0, 0, 7, 5),
        "screen-0x6.gif": zero_screen(0, 6),
        "screen-0x6.ref.gif": zero_screen(0, 6, 7, 6),
        "screen-8x0.gif": zero_screen(8, 0),
        "screen-8x0.ref.gif": zero_screen(8, 0, 8, 5),
        "screen-0x0-wide.gif": screen(0, 0, PAL4) + image(40000, 0, 2, 2, pattern(2, 2)) + TRAILER,
        "screen-0x0-edge.gif": screen(0, 0, PAL4) + image(65535, 0, 2, 2, pattern(2, 2)) + TRAILER,
    }


def fixtures():
    base = frame(8, 8)
    full = static()
    return {
        **repairs(),
        "static.gif": full,
        "animated.gif": animated(),
        "interlaced.gif": interlaced(),
        "interlaced-clipped.gif": interlaced_clipped(),
        "frame-w0.gif": frame(0, 4),
        "frame-h0.gif": frame(4, 0),
        "frame-outside.gif": frame(4, 4, x=8, y=0),
        "frame-outside-far.gif": frame(4, 4, x=40000, y=40000),
        "frame-partly.gif": frame(6, 6, x=4, y=5),
        "local-256-partial.gif": local_256_partial(),
        "screen-65535.gif": screen(65535, 65535, PAL4) + image(0, 0, 1, 1, [1]) + TRAILER,
        "frames-20000.gif": many_frames(20000),
        "lzw-size-12.gif": bad_lzw_size(12),
        "lzw-size-0.gif": bad_lzw_size(0),
        "lzw-bad-code.gif": bad_code(),
        "pixels-excess.gif": excess(),
        "pixels-missing.gif": missing(),
        "no-trailer.gif": base[:-1],
        "truncated.gif": full[:len(full) - 9],
        "no-colormap.gif": screen(4, 4) + image(0, 0, 4, 4, pattern(4, 4)) + TRAILER,
        "transparent-bad.gif": (screen(4, 4, PAL4) + gce(transparent=9) +
                                image(0, 0, 4, 4, pattern(4, 4)) + TRAILER),
        "background-bad.gif": screen(4, 4, PAL4, bg=7) + image(0, 0, 4, 4, pattern(4, 4)) + TRAILER,
        "pixel-index-bad.gif": (screen(4, 4, PAL4[:2]) +
                                image(0, 0, 4, 4, pattern(4, 4, colours=4)) + TRAILER),
        "disposal-bad.gif": (screen(4, 4, PAL4) + gce(disposal=6) +
                             image(0, 0, 4, 4, pattern(4, 4)) + TRAILER),
        "unknown-block.gif": screen(4, 4, PAL4) + b"\x99\x00" + TRAILER,
        "tail-zip.gif": base + tiny_zip(),
        "tail-jar.gif": base + tiny_zip(jar=True),
        "tail-padding.gif": base + b"\0" * 16,
        "gif87a.gif": screen(4, 4, PAL4, version=b"GIF87a") + image(0, 0, 4, 4, pattern(4, 4)) +
                      TRAILER,
    }


def main():
    if len(sys.argv) != 2:
        print("usage: gen_gif.py OUTDIR", file=sys.stderr)
        return 2
    out = os.path.join(sys.argv[1], "gif")
    os.makedirs(out, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
