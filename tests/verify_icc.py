#!/usr/bin/python3
"""verify_icc.py - checks of sanitized images that carried an ICC profile.

  verify_icc.py extract OUTDIR ROOT...   every profile of every PNG/JPEG under
                                         each ROOT into OUTDIR/*.icc; prints the
                                         images that carry one, one per line
  verify_icc.py payload PAIRS            no output holds a ZIP, a PDF header or
                                         markup; the hostile fixtures' inputs do
  verify_icc.py fidelity PAIRS           input and output rendered to sRGB agree

PAIRS is a file of "input<TAB>output" lines (tests/test_icc --sanitize).

payload: for every output, Python's zipfile and Info-ZIP's `unzip -l` find no
archive, and none of %PDF-, <script, <html, <svg occurs.  The fixtures whose
name starts with zip_ must be working ZIP archives before (a JPEG input) or at
least carry the markup (a PNG input): the check would be empty otherwise.

fidelity: for every pair whose output kept a profile, the input's pixels
through the input's profile and the output's pixels through the output's
profile are converted to sRGB with the relative colorimetric intent, twice:
with Pillow's ImageCms (Little CMS, the engine that writes the profiles, so
not independent), and with a matrix/TRC transform written here from the
profiles' own tags (rXYZ gXYZ bXYZ, kTRC/rTRC/gTRC/bTRC as curv or para).
Every colour of the image must agree within 1 level per channel.  Prints the
worst difference of each method.  Exit 0 when all pass, 1 otherwise.
"""
import io
import os
import struct
import subprocess
import sys
import zipfile

from PIL import Image, ImageCms

sys.path.insert(0, os.path.join(os.environ.get("IMSAFE_SRCDIR", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "fuzz"))
from gen_seeds import icc_profiles, jpeg_profile, png_profile  # noqa: E402

FORBIDDEN = (b"%PDF-", b"<script", b"<html", b"<svg")
D50 = (0.9642, 1.0, 0.8249)


def pairs(path):
    with open(path) as f:
        return [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip()]


def profile_of(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return png_profile(data)
    if data[:2] == b"\xff\xd8":
        return jpeg_profile(data)
    return None


# ------------------------------------------------------------ payload

def is_zip(path):
    """(zipfile's opinion, unzip -l's opinion): True when an archive is found."""
    py = zipfile.is_zipfile(path)
    if py:
        try:
            zipfile.ZipFile(path).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            py = False
    r = subprocess.run([os.environ["IMSAFE_UNZIP"], "-l", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return py, r.returncode in (0, 1)  # 1: warnings, archive listed anyway


def payload(pairs_path):
    bad = checked = 0
    for src, out in pairs(pairs_path):
        with open(out, "rb") as f:
            data = f.read()
        checked += 1
        py, unz = is_zip(out)
        found = [s.decode() for s in FORBIDDEN if s in data]
        if py or unz or found:
            bad += 1
            print(f"FAIL {out}: zipfile {py}, unzip {unz}, markup {found}")
        if os.path.basename(src).startswith("zip_"):
            with open(src, "rb") as f:
                raw = f.read()
            hostile = (any(is_zip(src)) if src.endswith(".jpg") else
                       all(s in (profile_of(raw) or b"") for s in FORBIDDEN))
            if not hostile:
                bad += 1
                print(f"FAIL {src}: the hostile fixture carries no working payload")
    print(f"payload: {checked} outputs checked, {bad} failures")
    return bad == 0


# ------------------------------------------------------------ own transform

def s15(b, at):
    return struct.unpack(">i", b[at:at + 4])[0] / 65536.0


def tags(prof):
    n = struct.unpack(">I", prof[128:132])[0]
    out = {}
    for i in range(n):
        sig, off, size = struct.unpack(">4sII", prof[132 + 12 * i:144 + 12 * i])
        out[sig] = prof[off:off + size]
    return out


def curve(t):
    """The tone curve of a curv or para tag as a function on [0, 1]."""
    if t[:4] == b"curv":
        n = struct.unpack(">I", t[8:12])[0]
        if n == 0:
            return lambda x: x
        if n == 1:
            g = struct.unpack(">H", t[12:14])[0] / 256.0
            return lambda x: x ** g
        tab = struct.unpack(">%dH" % n, t[12:12 + 2 * n])

        def table(x):
            pos = x * (n - 1)
            i = min(int(pos), n - 2)
            return (tab[i] + (tab[i + 1] - tab[i]) * (pos - i)) / 65535.0
        return table
    kind = struct.unpack(">H", t[8:10])[0]
    p = [s15(t, 12 + 4 * i) for i in range((1, 3, 4, 5, 7)[kind])] + [0] * 7
    g, a, b, c, d, e, f = p[:7]

    def pw(x):
        v = a * x + b
        return v ** g if v > 0 else 0.0

    def para(x):
        if kind == 0:
            y = x ** g
        elif kind == 1:
            y = pw(x) if x >= -b / a else 0.0
        elif kind == 2:
            y = (pw(x) if x >= -b / a else 0.0) + c
        elif kind == 3:
            y = pw(x) if x >= d else c * x
        else:
            y = pw(x) + e if x >= d else c * x + f
        return min(max(y, 0.0), 1.0)
    return para


def inv3(m):
    a, b, c = m[0]
    d, e, f = m[1]
    g, h, i = m[2]
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return [[(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
            [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
            [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]]


def srgb_to_xyz():
    """sRGB's D50 colorants from its chromaticities (Bradford), as Little
    CMS builds its own sRGB."""
    prim, w = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), (0.3127 / 0.3290, 1.0,
                                                          (1 - 0.3127 - 0.3290) / 0.3290)
    p = [[x for x, _ in prim], [y for _, y in prim], [1 - x - y for x, y in prim]]
    pi = inv3(p)
    s = [sum(pi[i][k] * w[k] for k in range(3)) for i in range(3)]
    m = [[p[i][j] * s[j] for j in range(3)] for i in range(3)]
    br = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
    cs = [sum(br[i][k] * w[k] for k in range(3)) for i in range(3)]
    cd = [sum(br[i][k] * D50[k] for k in range(3)) for i in range(3)]
    bi = inv3(br)
    adapt = [[sum(bi[i][k] * br[k][j] * cd[k] / cs[k] for k in range(3)) for j in range(3)]
             for i in range(3)]
    return [[sum(adapt[i][k] * m[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


XYZ_TO_SRGB = inv3(srgb_to_xyz())


def enc(y):
    y = min(max(y, 0.0), 1.0)
    v = 12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055
    return int(v * 255 + 0.5)


def own_transform(prof):
    """A function from an 8-bit colour (tuple) to 8-bit sRGB."""
    t = tags(prof)
    if prof[16:20] == b"GRAY":
        k = curve(t[b"kTRC"])
        lut = [enc(k(v / 255)) for v in range(256)]
        return lambda c: (lut[c[0]],) * 3
    lin = [[curve(t[s])(v / 255) for v in range(256)] for s in (b"rTRC", b"gTRC", b"bTRC")]
    cols = [[s15(t[s], 8 + 4 * i) for i in range(3)] for s in (b"rXYZ", b"gXYZ", b"bXYZ")]
    m = [[sum(XYZ_TO_SRGB[i][k] * cols[j][k] for k in range(3)) for j in range(3)]
         for i in range(3)]

    def f(c):
        r, g, b = lin[0][c[0]], lin[1][c[1]], lin[2][c[2]]
        return tuple(enc(m[i][0] * r + m[i][1] * g + m[i][2] * b) for i in range(3))
    return f


# ------------------------------------------------------------ fidelity

def pixels(path):
    im = Image.open(path)
    im.load()
    mode = "L" if im.mode in ("L", "LA", "I;16", "I") else "RGB"
    if im.mode in ("I;16", "I"):
        return None, None  # 16-bit grey: Pillow's conversion clips; not compared
    return im.convert(mode), mode


def cms(im, mode, prof):
    srgb = ImageCms.createProfile("sRGB")
    src = ImageCms.ImageCmsProfile(io.BytesIO(prof))
    return ImageCms.profileToProfile(im, src, srgb, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                                     outputMode="RGB")


def worst(a, b):
    w = 0
    for x, y in zip(a, b):
        for i in range(3):
            w = max(w, abs(x[i] - y[i]))
    return w


def fidelity(pairs_path):
    n = bad = skipped = 0
    w_cms = w_own = 0
    for src, out in pairs(pairs_path):
        with open(src, "rb") as f:
            pin = profile_of(f.read())
        with open(out, "rb") as f:
            pout = profile_of(f.read())
        if not pout:
            continue
        try:
            b, mode = pixels(out)
        except (OSError, SyntaxError, ValueError):
            b = None
        try:
            a, _ = pixels(src)
        except (OSError, SyntaxError, ValueError):
            # Pillow refuses some inputs (a truncated EXIF block) that the
            # library rebuilds; the rebuild is pixel-exact (corpus-jpeg.sh
            # checks that), so the output's pixels stand for the input's
            a = b
        if a is None or b is None or a.size != b.size:
            skipped += 1
            continue
        n += 1
        da = list(cms(a, mode, pin).getdata())
        db = list(cms(b, mode, pout).getdata())
        d1 = worst(da, db)
        fa, fb = own_transform(pin), own_transform(pout)
        colours = {}
        for x, y in zip(a.getdata(), b.getdata()):
            x = x if mode == "RGB" else (x,)
            y = y if mode == "RGB" else (y,)
            colours[(x, y)] = 1
        d2 = max((max(abs(p - q) for p, q in zip(fa(x), fb(y))) for x, y in colours), default=0)
        w_cms, w_own = max(w_cms, d1), max(w_own, d2)
        if d1 > 1 or d2 > 1:
            bad += 1
            print(f"FAIL {src}: sRGB renderings differ by {d1} (ImageCms), {d2} (own transform)")
    print(f"fidelity: {n} images with a kept profile compared ({skipped} not decodable or "
          f"16-bit grey); worst difference {w_cms} level(s) with ImageCms, {w_own} with the "
          f"matrix/TRC transform; {bad} failures")
    return bad == 0 and n > 0


def extract(outdir, roots):
    os.makedirs(outdir, exist_ok=True)
    for root in roots:
        for path, prof in icc_profiles(root):
            flat = os.path.relpath(path, os.path.dirname(root)).replace("/", "__")
            with open(os.path.join(outdir, flat + ".icc"), "wb") as f:
                f.write(prof)
            print(path)
    return True


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "extract":
        return 0 if extract(sys.argv[2], sys.argv[3:]) else 1
    if len(sys.argv) != 3 or sys.argv[1] not in ("payload", "fidelity"):
        sys.exit(__doc__)
    ok = payload(sys.argv[2]) if sys.argv[1] == "payload" else fidelity(sys.argv[2])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
