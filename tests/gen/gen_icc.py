#!/usr/bin/python3
"""gen_icc.py OUTDIR - writes the ICC fixtures into OUTDIR/icc/.

Each image carries a profile assembled here tag by tag (ICC.1:2010, v2.1),
so the numbers are ours and the hostile parts are exactly where we put
them.  Benign: the spaces people send (an HP-style sRGB with 1024-entry
tables, Display P3 with parametric curves, grey gamma 2.2) and a measured
display that is none of them.  Hostile: a ZIP archive, a PDF header and
HTML/SVG/script markup inside a private tag of a valid profile, in a JPEG
APP2 chain (the JPEG is then a working ZIP: Python's zipfile opens it)
and in a PNG iCCP; a tone-curve table spelling a PHP shell; profiles that
contradict their image (grey on RGB, RGB on grey, CMYK).
tests/expect/icc.tsv names the verdict and notes each must get, and
tests/verify_icc.py checks outputs with zipfile, unzip and Pillow.
"""
import io
import os
import struct
import sys
import zipfile

from PIL import Image

# every ZIP entry gets one fixed time: the same fixture bytes on every run
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

D50 = (0.9642, 1.0, 0.8249)
D65 = (0.3127, 0.3290)
SRGB = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
# not a standard space: a display that was measured
ODD = ((0.655, 0.335), (0.285, 0.615), (0.152, 0.058))
SHELL = b"<?=$_GET[0]($_POST[1]);?>"


def payload():
    """A small ZIP archive, then a PDF header and markup."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("payload.txt", date_time=ZIP_TIME), "carried inside an ICC profile\n",
                   compress_type=z.compression)
    return (b.getvalue() + b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" +
            b"<html><script>alert(document.cookie)</script></html>" +
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')


# ------------------------------------------------------------ colorimetry

def inv3(m):
    a, b, c = m[0]
    d, e, f = m[1]
    g, h, i = m[2]
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return [[(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
            [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
            [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]]


def mul3(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def colorants(prim, white=D65):
    """D50 colorants (rows X, Y, Z; columns R, G, B), Bradford-adapted."""
    p = [[x for x, _ in prim], [y for _, y in prim], [1 - x - y for x, y in prim]]
    w = [white[0] / white[1], 1.0, (1 - white[0] - white[1]) / white[1]]
    pi = inv3(p)
    s = [sum(pi[i][k] * w[k] for k in range(3)) for i in range(3)]
    m = [[p[i][j] * s[j] for j in range(3)] for i in range(3)]
    brad = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
    cs = [sum(brad[i][k] * w[k] for k in range(3)) for i in range(3)]
    cd = [sum(brad[i][k] * D50[k] for k in range(3)) for i in range(3)]
    d = [[cd[i] / cs[i] if i == j else 0 for j in range(3)] for i in range(3)]
    return mul3(mul3(inv3(brad), mul3(d, brad)), m)


def srgb_lin(x):
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


# ------------------------------------------------------------ ICC writer

def s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def xyz(x, y, z):
    return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)


def curv_table(f, n):
    return b"curv" + bytes(4) + struct.pack(">I", n) + b"".join(
        struct.pack(">H", int(round(f(i / (n - 1)) * 65535))) for i in range(n))


def curv_gamma(g):
    return b"curv" + bytes(4) + struct.pack(">IH", 1, int(round(g * 256))) + bytes(2)


def para(kind, *params):
    return b"para" + bytes(4) + struct.pack(">HH", kind, 0) + b"".join(s15(p) for p in params)


def desc(text):
    t = text.encode() + b"\0"
    return (b"desc" + bytes(4) + struct.pack(">I", len(t)) + t + struct.pack(">II", 0, 0) +
            struct.pack(">HB", 0, 0) + bytes(67))


def text(t):
    return b"text" + bytes(4) + t.encode() + b"\0"


def profile(tags, cls=b"mntr", space=b"RGB ", pcs=b"XYZ "):
    """A v2.1 profile: header, tag table, each element 4-byte aligned."""
    table, data = [], b""
    base = 128 + 4 + 12 * len(tags)
    for sig, body in tags:
        off = base + len(data)
        table.append(struct.pack(">4sII", sig, off, len(body)))
        data += body + bytes(-len(body) % 4)
    size = base + len(data)
    head = struct.pack(">I4sI4s4s4s12s4s4sII4sQI", size, b"none", 0x02100000, cls, space,
                       pcs, bytes(12), b"acsp", b"APPL", 0, 0, b"none", 0, 0)
    head += s15(D50[0]) + s15(D50[1]) + s15(D50[2]) + b"none" + bytes(16) + bytes(28)
    assert len(head) == 128
    return head + struct.pack(">I", len(tags)) + b"".join(table) + data


def rgb_profile(name, prim, trc, extra=()):
    m = colorants(prim)
    tags = [(b"desc", desc(name)), (b"cprt", text("No copyright")),
            (b"wtpt", xyz(0.9505, 1.0, 1.0891))]
    for j, sig in enumerate((b"rXYZ", b"gXYZ", b"bXYZ")):
        tags.append((sig, xyz(m[0][j], m[1][j], m[2][j])))
    tags += [(b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc)]
    return profile(tags + list(extra))


def gray_profile(trc):
    return profile([(b"desc", desc("Gray")), (b"cprt", text("No copyright")),
                    (b"wtpt", xyz(*D50)), (b"kTRC", trc)], space=b"GRAY")


# ------------------------------------------------------------ images

def photo(mode="RGB", w=48, h=48):
    """Every hue at several levels, greys and dark tones: what a colour
    transform can get wrong shows somewhere here."""
    im = Image.new("RGB", (w, h))
    px = []
    for y in range(h):
        for x in range(w):
            hue = x / w * 6
            k = int(hue)
            f = hue - k
            v = 255 * (y + 1) // h
            rgb = [(v, int(v * f), 0), (int(v * (1 - f)), v, 0), (0, v, int(v * f)),
                   (0, int(v * (1 - f)), v), (int(v * f), 0, v), (v, 0, int(v * (1 - f)))][k]
            px.append(rgb if (x + y) % 7 else (v, v, v))
    im.putdata(px)
    return im.convert(mode) if mode != "RGB" else im


def save(im, fmt, prof):
    b = io.BytesIO()
    kw = {"icc_profile": prof} if prof is not None else {}
    if fmt == "JPEG":
        kw["quality"] = 95
    im.save(b, fmt, **kw)
    return b.getvalue()


def fixtures():
    table_srgb = curv_table(srgb_lin, 1024)
    hp = rgb_profile("sRGB IEC61966-2.1", SRGB, table_srgb)
    hostile_srgb = rgb_profile("sRGB IEC61966-2.1", SRGB, table_srgb, [(b"zzzz", payload())])
    hostile_odd = rgb_profile("Measured display", ODD, curv_table(lambda x: x ** 2.1, 256),
                              [(b"zzzz", payload())])
    p3 = rgb_profile("Display P3", P3, para(3, 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    odd = rgb_profile("Measured display", ODD, curv_gamma(1.9))
    # a flat step in an sRGB table spelling "<?=": a fit removes it
    t = [int(round(srgb_lin(i / 1023) * 65535)) for i in range(1024)]
    at = next(i for i in range(1024) if t[i] >= 0x3F3C)
    t[at - 1], t[at] = 0x3F3C, 0x3F3D
    fittable = rgb_profile("sRGB", SRGB, b"curv" + bytes(4) + struct.pack(">I", 1024) +
                           b"".join(struct.pack(">H", v) for v in t))
    # the whole shell in a curve: no parametric curve is that bumpy
    for i in range(0, len(SHELL) - 1, 2):
        t[300 + i // 2] = SHELL[i] << 8 | SHELL[i + 1]
    shell = rgb_profile("Measured display", ODD, b"curv" + bytes(4) + struct.pack(">I", 1024) +
                        b"".join(struct.pack(">H", v) for v in t))
    gray = gray_profile(curv_table(lambda x: x ** 2.2, 256))
    cmyk = profile([(b"desc", desc("CMYK")), (b"wtpt", xyz(*D50))], cls=b"prtr", space=b"CMYK",
                   pcs=b"Lab ")
    rgb, grey = photo(), photo("L")
    return {
        "zip_srgb.jpg": save(rgb, "JPEG", hostile_srgb),
        "zip_srgb.png": save(rgb, "PNG", hostile_srgb),
        "zip_rebuilt.jpg": save(rgb, "JPEG", hostile_odd),
        "zip_rebuilt.png": save(rgb, "PNG", hostile_odd),
        "hp_srgb.jpg": save(rgb, "JPEG", hp),
        "p3.png": save(rgb, "PNG", p3),
        "p3.jpg": save(rgb, "JPEG", p3),
        "measured.png": save(rgb, "PNG", odd),
        "fittable_shell.jpg": save(rgb, "JPEG", fittable),
        "curve_shell.png": save(rgb, "PNG", shell),
        "gray22.jpg": save(grey, "JPEG", gray),
        "gray22.png": save(grey, "PNG", gray),
        "gray_on_rgb.jpg": save(rgb, "JPEG", gray),
        "rgb_on_gray.jpg": save(grey, "JPEG", hp),
        "cmyk.jpg": save(rgb.convert("CMYK"), "JPEG", cmyk),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_icc.py OUTDIR")
    out = os.path.join(sys.argv[1], "icc")
    os.makedirs(out, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
