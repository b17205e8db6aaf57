#!/usr/bin/python3
"""gen_webp.py OUTDIR - writes the WebP fixtures into OUTDIR/webp/.

Pillow (libwebp) encodes a few small, valid bitstreams; everything around
them (the RIFF container, VP8X flags, ALPH, ANIM/ANMF, metadata and
unknown chunks) is written here by hand, so each hostile fixture breaks
exactly one rule of the container.  tests/expect/webp.tsv names each
fixture's expected verdict, reason and notes.
"""
import io
import os
import struct
import sys

from PIL import Image

try:
    from PIL import ImageCms
except ImportError:  # pragma: no cover - Debian's python3-pil has it
    ImageCms = None


# --------------------------------------------------------------- pieces

def chunk(cid, payload):
    pad = b"\0" if len(payload) & 1 else b""
    return cid + struct.pack("<I", len(payload)) + payload + pad


def riff(body, size=None):
    size = len(body) + 4 if size is None else size
    return b"RIFF" + struct.pack("<I", size) + b"WEBP" + body


def u24(v):
    return struct.pack("<I", v)[:3]


def vp8x(w, h, flags):
    return chunk(b"VP8X", bytes([flags, 0, 0, 0]) + u24(w - 1) + u24(h - 1))


def chunks_of(data):
    """[(id, payload)] of a RIFF WebP's top-level chunks."""
    out, pos = [], 12
    while pos + 8 <= len(data):
        n = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        out.append((data[pos:pos + 4], data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return out


def picture(w, h, alpha=False):
    """A small picture with gradients and, with alpha, a transparent
    corner whose colour is not black (exact=1 must keep it)."""
    im = Image.new("RGBA", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            a = 0 if alpha and x < w // 3 and y < h // 3 else 255
            px[x, y] = ((x * 255) // max(1, w - 1), (y * 255) // max(1, h - 1),
                        (x * y) & 255, a)
    return im if alpha else im.convert("RGB")


def encode(im, **kw):
    b = io.BytesIO()
    im.save(b, "WEBP", **kw)
    return b.getvalue()


def bitstream(im, lossless):
    """The VP8L or VP8 chunk payload (and the ALPH payload, or None)."""
    data = encode(im, lossless=lossless, quality=80, exact=True)
    alph, bits, cid = None, None, None
    for c, p in chunks_of(data):
        if c == b"ALPH":
            alph = p
        elif c in (b"VP8 ", b"VP8L"):
            bits, cid = p, c
    return cid, bits, alph


def anmf(x, y, w, h, dur, cid, bits, alph=None, flags=0):
    body = u24(x // 2) + u24(y // 2) + u24(w - 1) + u24(h - 1) + u24(dur) + bytes([flags])
    if alph is not None:
        body += chunk(b"ALPH", alph)
    return chunk(b"ANMF", body + chunk(cid, bits))


def exif_orientation(o, extra=b""):
    """A little-endian TIFF block: Orientation, plus an ASCII tag (0x010e
    ImageDescription) that must not survive."""
    n = 2 if extra else 1
    ifd_end = 8 + 2 + 12 * n + 4
    entries = struct.pack("<HHIHH", 0x0112, 3, 1, o, 0)
    desc = b""
    if extra:
        entries = struct.pack("<HHII", 0x010e, 2, len(extra) + 1, ifd_end) + entries
        desc = extra + b"\0"
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", n) + entries + \
        struct.pack("<I", 0) + desc


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# -------------------------------------------------------------- fixtures

def main():
    d = os.path.join(sys.argv[1], "webp")
    os.makedirs(d, exist_ok=True)
    rgba = picture(24, 16, alpha=True)
    rgb = picture(24, 16)
    ll_id, ll, _ = bitstream(rgba, True)
    ly_id, ly, ly_alph = bitstream(rgba, False)
    _, ly_plain, _ = bitstream(rgb, False)
    assert ll_id == b"VP8L" and ly_id == b"VP8 " and ly_alph is not None

    # valid ones
    write(d, "lossless.webp", riff(chunk(b"VP8L", ll)))
    write(d, "lossy.webp", riff(chunk(b"VP8 ", ly_plain)))
    write(d, "lossy-alpha.webp",
          riff(vp8x(24, 16, 0x10) + chunk(b"ALPH", ly_alph) + chunk(b"VP8 ", ly)))
    frames = [anmf(0, 0, 24, 16, 100, b"VP8L", ll),
              anmf(2, 4, 24 - 2, 16 - 4, 80, b"VP8L",
                   bitstream(picture(22, 12, alpha=True), True)[1]),
              anmf(0, 0, 24, 16, 120, b"VP8L", bitstream(rgb, True)[1])]
    anim = chunk(b"ANIM", struct.pack("<IH", 0xff00ff00, 3))
    write(d, "animated.webp", riff(vp8x(24, 16, 0x12) + anim + b"".join(frames)))
    lyframes = [anmf(0, 0, 24, 16, 100, b"VP8 ", ly_plain),
                anmf(0, 0, 24, 16, 100, b"VP8 ", ly, ly_alph, flags=2)]
    write(d, "animated-lossy.webp", riff(vp8x(24, 16, 0x12) + anim + b"".join(lyframes)))
    meta = vp8x(24, 16, 0x0c) + chunk(b"VP8L", ll) + \
        chunk(b"EXIF", exif_orientation(6, b"SECRETGPS")) + chunk(b"XMP ", b"<x>XMPMARKER</x>")
    write(d, "exif-xmp.webp", riff(meta))
    write(d, "exif-app1.webp", riff(vp8x(24, 16, 0x08) + chunk(b"VP8L", ll) +
                                    chunk(b"EXIF", b"Exif\0\0" + exif_orientation(3))))
    write(d, "exif-bad.webp", riff(vp8x(24, 16, 0x08) + chunk(b"VP8L", ll) +
                                   chunk(b"EXIF", b"II*\0\xff\xff\xff\x7fSECRETGPS")))
    write(d, "unknown-chunk.webp", riff(vp8x(24, 16, 0) + chunk(b"ZZZZ", b"UNKNOWNMARK") +
                                        chunk(b"VP8L", ll) + chunk(b"QQQQ", b"odd")))
    write(d, "simple-info.webp", riff(chunk(b"VP8 ", ly_plain) + chunk(b"ICMT", b"COMMENTMARK")))
    if ImageCms is not None:
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        write(d, "icc.webp", riff(vp8x(24, 16, 0x20) + chunk(b"ICCP", icc) +
                                  chunk(b"VP8L", ll)))
        write(d, "icc-after-image.webp", riff(vp8x(24, 16, 0x20) + chunk(b"VP8L", ll) +
                                              chunk(b"ICCP", icc)))

    # the RIFF container
    good = riff(chunk(b"VP8L", ll))
    write(d, "riff-tail.webp", good + b"PK\x05\x06" + b"\0" * 18)
    write(d, "riff-size-short.webp", riff(chunk(b"VP8L", ll), size=len(ll)))
    write(d, "riff-odd.webp", riff(chunk(b"VP8L", ll)[:-1] if len(ll) & 1 else
                                   chunk(b"VP8L", ll) + b"x"))
    over = bytearray(good)
    struct.pack_into("<I", over, 16, len(ll) + 100)
    write(d, "chunk-overrun.webp", bytes(over))
    write(d, "header-only.webp", riff(b""))
    write(d, "first-alph.webp", riff(chunk(b"ALPH", b"\0" * 4)))

    # chunks against the VP8X flags, order and counts
    write(d, "icc-flag-no-chunk.webp", riff(vp8x(24, 16, 0x20) + chunk(b"VP8L", ll)))
    write(d, "exif-no-flag.webp", riff(vp8x(24, 16, 0) + chunk(b"VP8L", ll) +
                                       chunk(b"EXIF", exif_orientation(1))))
    write(d, "exif-twice.webp", riff(vp8x(24, 16, 0x08) + chunk(b"VP8L", ll) +
                                     chunk(b"EXIF", exif_orientation(1)) +
                                     chunk(b"EXIF", exif_orientation(1))))
    write(d, "two-bitstreams.webp", riff(vp8x(24, 16, 0) + chunk(b"VP8L", ll) +
                                         chunk(b"VP8L", ll)))
    write(d, "no-bitstream.webp", riff(vp8x(24, 16, 0)))
    write(d, "vp8x-twice.webp", riff(vp8x(24, 16, 0) + vp8x(24, 16, 0) + chunk(b"VP8L", ll)))
    write(d, "vp8x-short.webp", riff(chunk(b"VP8X", b"\0" * 8) + chunk(b"VP8L", ll)))
    write(d, "simple-then-vp8l.webp", riff(chunk(b"VP8L", ll) + chunk(b"VP8L", ll)))
    write(d, "canvas-mismatch.webp", riff(vp8x(30, 16, 0) + chunk(b"VP8L", ll)))
    write(d, "too-many-unknown.webp", riff(vp8x(24, 16, 0) + chunk(b"VP8L", ll) +
                                           chunk(b"ZZZZ", b"") * 65))

    # ALPH
    write(d, "alph-with-vp8l.webp", riff(vp8x(24, 16, 0x10) + chunk(b"ALPH", ly_alph) +
                                         chunk(b"VP8L", ll)))
    write(d, "alph-reserved.webp", riff(vp8x(24, 16, 0x10) +
                                        chunk(b"ALPH", bytes([0xc0 | ly_alph[0]]) + ly_alph[1:]) +
                                        chunk(b"VP8 ", ly)))
    write(d, "alph-raw-short.webp", riff(vp8x(24, 16, 0x10) +
                                         chunk(b"ALPH", b"\0" + b"\xff" * (24 * 16 - 1)) +
                                         chunk(b"VP8 ", ly)))
    write(d, "alph-raw.webp", riff(vp8x(24, 16, 0x10) +
                                   chunk(b"ALPH", b"\0" + bytes((i * 7) & 255 for i in range(24 * 16))) +
                                   chunk(b"VP8 ", ly)))
    write(d, "alph-twice.webp", riff(vp8x(24, 16, 0x10) + chunk(b"ALPH", ly_alph) +
                                     chunk(b"ALPH", ly_alph) + chunk(b"VP8 ", ly)))

    # VP8 / VP8L headers
    bad = bytearray(ly_plain)
    bad[3] = 0
    write(d, "vp8-start-code.webp", riff(chunk(b"VP8 ", bytes(bad))))
    inter = bytearray(ly_plain)
    inter[0] |= 1
    write(d, "vp8-interframe.webp", riff(chunk(b"VP8 ", bytes(inter))))
    write(d, "vp8-short.webp", riff(chunk(b"VP8 ", ly_plain[:6])))
    write(d, "vp8-cut.webp", riff(chunk(b"VP8 ", ly_plain[:len(ly_plain) // 2])))
    v = bytearray(ll)
    v[4] |= 0x20
    write(d, "vp8l-version.webp", riff(chunk(b"VP8L", bytes(v))))
    write(d, "vp8l-cut.webp", riff(chunk(b"VP8L", ll[:len(ll) // 2])))

    # animation
    write(d, "anmf-no-flag.webp", riff(vp8x(24, 16, 0) + anim + frames[0]))
    write(d, "anim-no-frames.webp", riff(vp8x(24, 16, 0x02) + anim))
    write(d, "anim-no-anim.webp", riff(vp8x(24, 16, 0x02) + frames[0]))
    write(d, "anim-still-bits.webp", riff(vp8x(24, 16, 0x02) + anim + frames[0] +
                                          chunk(b"VP8L", ll)))
    write(d, "anim-after-frame.webp", riff(vp8x(24, 16, 0x02) + frames[0] + anim))
    write(d, "frame-outside.webp", riff(vp8x(24, 16, 0x02) + anim +
                                        anmf(2, 0, 24, 16, 100, b"VP8L", ll)))
    write(d, "frame-size-mismatch.webp", riff(vp8x(24, 16, 0x02) + anim +
                                              anmf(0, 0, 20, 16, 100, b"VP8L", ll)))
    write(d, "frame-short.webp", riff(vp8x(24, 16, 0x02) + anim + chunk(b"ANMF", b"\0" * 10)))
    write(d, "frame-empty.webp", riff(vp8x(24, 16, 0x02) + anim +
                                      chunk(b"ANMF", u24(0) * 4 + u24(10) + b"\0")))
    tiny = bitstream(Image.new("RGB", (1, 1), (9, 9, 9)), True)[1]
    write(d, "frames-1001.webp", riff(vp8x(1, 1, 0x02) + anim +
                                      anmf(0, 0, 1, 1, 10, b"VP8L", tiny) * 1001))
    write(d, "anim-bad-anim.webp", riff(vp8x(24, 16, 0x02) + chunk(b"ANIM", b"\0" * 4) +
                                        frames[0]))

    # limits from the header alone: 16384 x 16384 declared in 60 bytes
    write(d, "canvas-huge.webp", riff(vp8x(16384, 16384, 0) + chunk(b"VP8L", ll)))
    write(d, "canvas-wide.webp", riff(vp8x(40000, 1, 0) + chunk(b"VP8L", ll)))
    write(d, "canvas-tall.webp", riff(vp8x(1, 40000, 0) + chunk(b"VP8L", ll)))
    big = Image.new("RGB", (1024, 1024), (200, 10, 10))
    write(d, "big-lossless.webp", encode(big, lossless=True))


if __name__ == "__main__":
    main()
