#!/usr/bin/python3
"""verify_jpeg.py - check sanitized JPEG outputs against their inputs with
decoders independent of libimsafe.

usage: verify_jpeg.py lossless|sequential|pixels PAIRS.TSV

PAIRS.TSV holds "<input path>\t<output path>" lines (tests/corpus_run).
lossless:   the output must decode to exactly the input's pixels (same
            mode, size and bytes); a progressive input stays progressive
            (jpeg_progressive = keep), as far along libjpeg's standard
            script as the input's coefficients go, so even a file that
            stops before its last scans decodes alike.
sequential: lossless, written sequential (jpeg_progressive = baseline):
            a progressive input that stops before its last scans may
            instead decode like jpegtran's sequential transcode (below).
pixels:     the output must decode, with the input's dimensions and mode.
Both sides of a pair go through the same decoder: Pillow, or djpeg (as
PNM) for inputs Pillow cannot decode.  Prints "N passed, N failed"; exit 0,
1 on any failure, 99 on a hard error (bad arguments, unreadable list).
"""
import io
import os
import subprocess
import sys

from PIL import Image

# configure finds the decoders; make check passes their absolute paths.
try:
    DJPEG = os.environ["IMSAFE_DJPEG"]
    JPEGTRAN = os.environ["IMSAFE_JPEGTRAN"]
except KeyError as e:
    print("hard error: %s is not set (run through make check)" % e, file=sys.stderr)
    sys.exit(99)


def pillow(path):
    with Image.open(path) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


# libjpeg's JWRN_JPEG_EOF: the data ended before EOI.  libimsafe repairs an
# input whose only fault that is (note.repaired); djpeg exits 2 on it.
EOF_WARNING = b"Premature end of JPEG file"


def djpeg(path, eof_ok=False):
    """Decode with djpeg; returns (mode, size, bytes) or raises.  eof_ok:
    an input may lack its EOI when that is djpeg's only warning."""
    r = subprocess.run([DJPEG, "-pnm", path], capture_output=True, timeout=120)
    eof_only = eof_ok and r.returncode == 2 and r.stderr.strip() == EOF_WARNING
    if (r.returncode != 0 and not eof_only) or not r.stdout:
        raise RuntimeError("djpeg: " + r.stderr.decode("ascii", "replace").strip())
    with Image.open(io.BytesIO(r.stdout)) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


def decode_pair(inp, out):
    """Decode both with Pillow; when Pillow rejects the input, both with djpeg."""
    try:
        a = pillow(inp)
    except Exception:  # noqa: BLE001 - any Pillow failure means "use djpeg"
        return djpeg(inp, eof_ok=True), djpeg(out), "djpeg"
    return a, pillow(out), "Pillow"


def is_progressive(path):
    """Does the frame header say progressive (SOF2/SOF10)?"""
    with open(path, "rb") as f:
        data = f.read()
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        m = data[pos + 1]
        if m in (0xC2, 0xCA):
            return True
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            return False
        pos += 2 + (data[pos + 2] << 8 | data[pos + 3])
    return False


def jpegtran_pixels(inp):
    """The input transcoded by jpegtran (sequential, no marker), decoded."""
    r = subprocess.run([JPEGTRAN, "-copy", "none", "-optimize", inp],
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("jpegtran failed")
    with Image.open(io.BytesIO(r.stdout)) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


def check(mode, inp, out):
    """Returns None when the pair is fine, else a message."""
    try:
        a, b, dec = decode_pair(inp, out)
    except Exception as e:  # noqa: BLE001
        return "cannot decode: %s" % e
    if a[0] != b[0] or a[1] != b[1]:
        return "%s: %s %s -> %s %s" % (dec, a[0], a[1], b[0], b[1])
    if mode in ("lossless", "sequential") and a[2] != b[2]:
        # A progressive file that stops before its last scans decodes with
        # libjpeg's block smoothing of the missing coefficients; a sequential
        # rebuild of the same coefficients does not smooth.  Compare with the
        # peer transcode (jpegtran), which keeps the same coefficients.
        if mode == "sequential" and dec == "Pillow" and is_progressive(inp):
            try:
                if jpegtran_pixels(inp) == b:
                    return None
            except Exception:  # noqa: BLE001
                pass
        diff = sum(1 for x, y in zip(a[2], b[2]) if x != y)
        return "%s: %d of %d samples differ" % (dec, diff, len(a[2]))
    return None


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("lossless", "sequential", "pixels"):
        print(__doc__, file=sys.stderr)
        return 99
    try:
        with open(sys.argv[2], encoding="utf-8") as f:
            pairs = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError as e:
        print("hard error: %s" % e, file=sys.stderr)
        return 99
    passed = failed = 0
    for p in pairs:
        if len(p) != 2:
            print("hard error: bad line in %s: %r" % (sys.argv[2], p), file=sys.stderr)
            return 99
        msg = check(sys.argv[1], p[0], p[1])
        if msg is None:
            passed += 1
        else:
            failed += 1
            print("FAIL %s (%s): %s" % (p[0], sys.argv[1], msg))
    print("%d passed, %d failed" % (passed, failed))
    if passed + failed == 0:
        print("hard error: no pairs to check", file=sys.stderr)
        return 99
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
