#!/usr/bin/python3
"""Seeds for the harnesses whose input is text rather than a file format:
OUTDIR/policy/* (policy texts, imsafe-policy(5)) and OUTDIR/filename/*
(claimed names, one per file, the harness reads up to the first NUL); and
OUTDIR/icc/*, every ICC profile found in a PNG iCCP chunk or a JPEG APP2
chain under $IMSAFE_CORPUS and $IMSAFE_FIXTURES (when set), extracted
here at seed time so no profile is ever committed; and OUTDIR/ooxml/*,
the content-type and relationship parts of the Office fixtures under
$IMSAFE_FIXTURES/office with fuzz_ooxml's shape byte in front, and a few
named parts.
Image, archive and sniff harnesses are seeded with ../shared/corpus and the
generated fixtures in place (fuzz/smoke.sh, tests/fuzz-replay.sh); nothing
here copies them.  Usage: gen_seeds.py OUTDIR"""
import os
import struct
import sys
import zlib

POLICIES = {
    "empty": "",
    "comment": "# nothing but a comment\n\n   \t\n",
    "limits": (
        "max_input_bytes = 64 MiB\nmax_width_px = 16384\nmax_height_px = 16_384\n"
        "max_pixels = 40_000_000\nmax_frames = 500\nmax_memory_bytes = 256MiB\n"
        "max_chunk_bytes = 1 MiB\nmax_icc_bytes = 64 KiB\nmax_jpeg_scans = 64\n"
        "max_total_frame_pixels = 100000000\nmax_filename_bytes = 200\n"),
    "options": (
        "tolerate_warnings = yes\nkeep_icc = no\nkeep_colorspace = off\n"
        "keep_orientation = true\njpeg_mode = pixels\njpeg_quality = 85\n"
        "png_zlib_level = 9\npng_filters = fast\ngif_flatten = 1\ngif_to_png = 0\n"
        "filename_findings = note\nallow_encrypted = no\n"),
    "archives": (
        "max_archive_entries = 100\nmax_archive_bytes = 1 GiB\n"
        "max_archive_entry_bytes = 16 MiB\nmax_archive_ratio = 50\n"
        "max_archive_depth = 0\n"),
    "actions": (
        "action pdf = reject\naction zip = pass\naction text = reject\n"
        "action gif = reject\naction jpeg = sanitize\naction docx = pass\n"
        "action webp = reject\naction unknown = reject\n"),
    "kill": (
        'label = "prod-2026-11-26"\n'
        'kill webp message "CVE-2023-4863: libwebp heap overflow" until 2030-01-01T00:00:00Z\n'
        "kill feature jpeg_progressive until 2099-12-31T23:59:59Z\n"
        'kill feature icc_profile message "quote \\" and backslash \\\\"\n'
        "kill gif\n"
        "kill feature archives\n"),
    "crlf": "max_frames = 10\r\nlabel = \"x\"\r\n# c\r\n",
    "bad-key": "max_pixel = 10\n",
    "bad-unit": "max_frames = 10 MiB\n",
    "bad-range": "jpeg_quality = 101\n",
    "bad-date": "kill png until 2026-02-30T00:00:00Z\n",
    "bad-string": 'label = "unterminated\n',
    "bad-twice": "max_frames = 1\nmax_frames = 2\n",
    "bad-overflow": "max_input_bytes = 99999999999999999999\n",
    "bad-sanitize": "action pdf = sanitize\n",
}

NAMES = {
    "plain": b"holiday.jpg",
    "utf8": "caf\u00e9 \u65e5\u672c.png".encode(),
    "rlo": "invoice\u202egpj.exe".encode(),
    "isolate": "a\u2066b\u2069.pdf".encode(),
    "zwsp": "pho\u200bto.png".encode(),
    "control": b"a\x01b\x7f.gif",
    "c1": "a\u0085b.png".encode(),
    "overlong": b"a\xc0\xaf.png",
    "surrogate": b"a\xed\xa0\x80.png",
    "truncated": b"abc\xe2\x82",
    "traversal": b"../../etc/passwd",
    "absolute": b"/etc/shadow",
    "drive": b"C:\\Windows\\x.png",
    "unc": b"\\\\server\\share\\x.png",
    "sep": b"dir/x.png",
    "percent": b"x%2e%2e%2fy.png",
    "reserved": b"CON.png",
    "reserved2": b"lpt1.txt",
    "trailing": b"x.png. ",
    "hidden": b"report.pdf.exe",
    "padding": b"report.pdf                              .exe",
    "nbsp": "a.pdf\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0.scr".encode(),
    "long": b"a" * 300 + b".png",
    "dots": b"...",
    "stream": b"x.png:Zone.Identifier",
    "nul": b"ok.png\x00.exe",
    "emoji": "\U0001f600.gif".encode(),
}


def png_profile(b):
    """The inflated iCCP profile of a PNG, None when there is none or it
    does not inflate."""
    i = 8
    while i + 8 <= len(b):
        n, t = struct.unpack(">I4s", b[i:i + 8])
        if t == b"iCCP":
            d = b[i + 8:i + 8 + n]
            z = d.find(b"\0")
            try:
                return zlib.decompress(d[z + 2:]) if z > 0 else None
            except zlib.error:
                return None
        if t in (b"IDAT", b"IEND"):
            return None
        i += 12 + n
    return None


def jpeg_profile(b):
    """The APP2 ICC_PROFILE chain of a JPEG joined in sequence order (no
    consistency check: the harness sees what a sender could send)."""
    i, parts = 2, {}
    while i + 4 <= len(b) and b[i] == 0xFF:
        m = b[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m in (0xD8, 0x01) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        if m in (0xDA, 0xD9):
            break
        n = struct.unpack(">H", b[i + 2:i + 4])[0]
        p = b[i + 4:i + 2 + n]
        if m == 0xE2 and p[:12] == b"ICC_PROFILE\0" and len(p) > 14:
            parts.setdefault(p[12], p[14:])
        i += 2 + n
    return b"".join(parts[k] for k in sorted(parts)) if parts else None


def icc_profiles(root):
    """(path, profile) for every PNG and JPEG under root carrying one."""
    for d, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                b = f.read()
            p = png_profile(b) if b[:8] == b"\x89PNG\r\n\x1a\n" else \
                jpeg_profile(b) if b[:2] == b"\xff\xd8" else None
            if p:
                yield path, p


# multipart/form-data bodies for fuzz_multipart: "Content-Type value\n" + body
# (icap/multipart.c), the forms browsers and curl send and the edge cases
# the reader refuses
def _form(boundary, parts, close=True, ctype=None):
    out = []
    for headers, body in parts:
        out.append(b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body + b"\r\n")
    data = b"".join(out) + (b"--" + boundary + b"--\r\n" if close else b"")
    ct = ctype if ctype is not None else b"multipart/form-data; boundary=" + boundary
    return ct + b"\n" + data


_CD = b'Content-Disposition: form-data; name="'
MULTIPART = {
    "browser": _form(b"----WebKitFormBoundary7MA4YWxkTrZu0gW", [
        ([_CD + b'comment"'], b"hello"),
        ([_CD + b'file"; filename="photo.jpg"', b"Content-Type: image/jpeg"],
         b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"),
        ([_CD + b'empty"; filename=""', b"Content-Type: application/octet-stream"], b""),
    ]),
    "curl": _form(b"------------------------d74496d66958873e", [
        ([_CD + b'file"; filename="a.png"', b"Content-Type: image/png"], b"\x89PNG\r\n\x1a\n" + bytes(40)),
    ], ctype=b'multipart/form-data; boundary="------------------------d74496d66958873e"'),
    "unterminated": _form(b"b", [([_CD + b'x"'], b"1")], close=False),
    "filename_star": _form(b"b", [([_CD + b"f\"; filename*=UTF-8''a.jpg"], b"x")]),
    "dup_filename": _form(b"b", [([_CD + b'f"; filename="a.jpg"; filename="a.php"'], b"x")]),
    "base64": _form(b"b", [([_CD + b'f"; filename="a.jpg"', b"Content-Transfer-Encoding: base64"], b"/9j/")]),
    "delim_in_header": _form(b"b", [([_CD + b'f"', b"--b: x"], b"x")]),
    "quoted_pair": _form(b"b", [([_CD + b'f"; filename="a\\".php"'], b"x")]),
    "not_form": b"text/plain\nhello",
}

# fuzz_ooxml: shape byte, then "name\n" + data for shape & 3 == 3
OOXML_NAMED = {
    "vba": b"\x03word/vbaProject.bin\n\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(56),
    "activex": b"\x0bword/activeX/activeX1.xml\n<ax:ocx xmlns:ax=\"urn:a\"/>",
    "ole": b"\x03ppt/embeddings/oleObject1.bin\n\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    "basic": b"\x07Basic/Standard/Module1.xml\n<script:module>Sub Main</script:module>",
    "basic-index": b"\x0fBasic/script-lc.xml\n<library:libraries/>",
    "scripts": b"\x07Scripts/beanshell/Lib/m.bsh\nexec(x);",
    "macrosheet": b"\x03xl/macrosheets/sheet1.xml\n<xm:macrosheet/>",
}


def ooxml_parts(root):
    """(seed name, bytes) for every XML part fuzz_ooxml reads, from the
    generated Office packages."""
    import zipfile
    d = os.path.join(root, "office")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        try:
            z = zipfile.ZipFile(os.path.join(d, name))
        except (zipfile.BadZipFile, OSError):
            continue
        for info in z.infolist():
            n = info.filename
            if info.file_size > 65536:
                continue
            shape = 0 if n == "[Content_Types].xml" else \
                1 if n == "word/_rels/document.xml.rels" else 2 if n.endswith(".rels") else None
            if shape is None:
                continue
            flat = (name + "__" + n).replace("/", "__")
            yield flat, bytes([shape | (8 if info.compress_type else 0)]) + z.read(info)

def frame(status=0, verdict=0, typ=0, out_type=0, reason=0, notes=(), peak=0, out_len=0,
          detail=b""):
    """A worker's answer as libimsafe/frame.c lays it out (native order,
    little-endian here), behind the harness's mode byte 0 (raw)."""
    import struct
    notes = list(notes) + [0] * (16 - len(notes))
    b = b"IMSR" + struct.pack("<7I", 1, status, verdict, typ, out_type, reason, len(notes)
                              - notes.count(0))
    b += struct.pack("<16I", *notes) + struct.pack("<2Q", peak, out_len)
    return b"\0" + b + detail.ljust(256, b"\0")


FRAMES = {
    "sanitized-png": frame(0, 1, 1, 0, 0, (84, 83), 1 << 20, 4096, b"ok"),
    "gif-to-png": frame(0, 1, 3, 1, 0, (94,), 1 << 16, 100),
    "rejected": frame(0, 3, 1, 0, 4, (), 0, 0, b"60000001 pixels, limit 60000000"),
    "passed": frame(0, 2, 38, 0, 0, (), 64, 0),
    "enomem": frame(3),
    "bad-version": b"\0IMSR\2\0\0\0" + b"\0" * 360,
    "fields": b"\x03" + bytes(range(64)) * 6,
    "walk-gif": bytes([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff,
                       0xff, 0xff, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b]),
}


def main():
    out = sys.argv[1]
    icc = os.path.join(out, "icc")
    os.makedirs(icc, exist_ok=True)
    for var in ("IMSAFE_CORPUS", "IMSAFE_FIXTURES"):
        root = os.environ.get(var)
        for path, prof in icc_profiles(root) if root and os.path.isdir(root) else ():
            flat = os.path.relpath(path, root).replace("/", "__")
            with open(os.path.join(icc, var[7:].lower() + "__" + flat + ".icc"), "wb") as f:
                f.write(prof)
    ooxml = dict(OOXML_NAMED)
    fixtures = os.environ.get("IMSAFE_FIXTURES")
    if fixtures and os.path.isdir(fixtures):
        ooxml.update(ooxml_parts(fixtures))
    for sub, items in (("policy", POLICIES), ("filename", NAMES), ("multipart", MULTIPART),
                       ("ooxml", ooxml), ("frame", FRAMES)):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for name, text in items.items():
            data = text.encode() if isinstance(text, str) else text
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
