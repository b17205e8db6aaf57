#!/usr/bin/python3
"""verify_palette.py CHECK FIXTURES OUTDIR - canonical palettes, judged by
the readers an attacker targets.

CHECK is tools/imsafe-check, FIXTURES the directory tests/gen/gen_palette.py
wrote (FIXTURES/palette/*), OUTDIR a scratch directory.  Every palette
fixture is sanitized with the default policy, and some again with
gif_to_png and gif_flatten (other encoders, the same promise).  Then:

- the hostile inputs really are hostile: Python's zipfile reads the
  payload out of the input and `unzip -l` (Info-ZIP, /usr/bin/unzip) lists
  it without error, or the PDF header / <script> / <html> is in the
  input; otherwise the fixture tests nothing (hard error);
- no output is an archive: zipfile.is_zipfile() is false (it accepts any
  end-of-central-directory record in the last 64 KiB, the most lenient
  check there is) and `unzip -l` exits 9, "cannot find zipfile
  directory", naming no entry;
- no output holds "%PDF-", "<script" or "<html", in any letter case;
- the pixels are unchanged: GIF pairs through tests/verify_gif.py's
  comparison (Pillow, every frame composited; gif_flatten: the first
  frame, the only one kept), PNG pairs decoded to RGBA
  by Pillow and compared byte for byte (fully transparent pixels
  included, as the canonical table keeps every entry's exact value);
- the table order is the library's: the "order" twins (one picture, its
  colours in two table orders, one with duplicates) give byte-identical
  outputs.

Prints "ok"/"FAIL" lines and "N passed, N failed"; exits 0, 1 on any
failure, 99 on a hard error.
"""
import os
import subprocess
import sys
import zipfile

try:
    from PIL import Image
except ImportError:  # pragma: no cover - the test environment has Pillow
    print("hard error: Pillow (python3-pil) is not installed", file=sys.stderr)
    sys.exit(99)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_gif  # noqa: E402  (the GIF frame comparison, shared)

UNZIP = os.environ["IMSAFE_UNZIP"]
ZIP_ENTRY = b"payload.txt"
MARKUP = (b"%pdf-", b"<script", b"<html")

# (fixture, policy text or None)
HOSTILE = ["gif-gct-zip.gif", "gif-gct-pdf.gif", "gif-gct-html.gif",
           "gif-lct-zip.gif", "gif-lct-pdf.gif", "gif-lct-html.gif",
           "png-plte-zip.png", "png-plte-pdf.png", "png-plte-html.png"]
BENIGN = ["gif-transparent-twins.gif", "gif-uncovered-first.gif",
          "gif-uncovered-first-local.gif", "gif-dispose-background.gif",
          "gif-duplicates.gif", "png-alpha-twins.png", "png-depth2.png",
          "png-depth1.png", "png-interlaced.png", "gif-order-a.gif", "gif-order-b.gif",
          "png-order-a.png", "png-order-b.png"]
POLICIES = {
    "to-png": "gif_to_png = 1\n",
    "flatten": "gif_flatten = 1\n",
}
CASES = ([(f, None) for f in HOSTILE + BENIGN] +
         [(f, "to-png") for f in HOSTILE if f.endswith(".gif")] +
         [(f, p) for f in ("gif-transparent-twins.gif", "gif-uncovered-first.gif",
                           "gif-uncovered-first-local.gif", "gif-dispose-background.gif")
          for p in ("to-png", "flatten")])
TWINS = [("gif-order-a.gif", "gif-order-b.gif"), ("png-order-a.png", "png-order-b.png")]


class HardError(Exception):
    pass


def unzip_list(path):
    """(exit status, listing) of `unzip -l path`."""
    p = subprocess.run([UNZIP, "-l", path], capture_output=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def zip_entry(path):
    """The payload entry's bytes when Python's zipfile reads one, else None."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(ZIP_ENTRY.decode())
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None


def check_input_hostile(path, data):
    """The fixture must carry its payload, else the test proves nothing."""
    name = os.path.basename(path)
    if "-zip." in name:
        rc, out = unzip_list(path)
        if zip_entry(path) is None or rc != 0 or ZIP_ENTRY not in out:
            raise HardError("%s: the input is not a working ZIP (unzip exit %d)" % (name, rc))
    elif "-pdf." in name and b"%PDF-" not in data:
        raise HardError("%s: no PDF header in the input" % name)
    elif "-html." in name and (b"<script" not in data or b"<html" not in data):
        raise HardError("%s: no HTML in the input" % name)


def check_output_clean(path, data):
    """None, or why the output still carries something a reader acts on."""
    if zipfile.is_zipfile(path):
        return "Python's zipfile sees an archive"
    if zip_entry(path) is not None:
        return "Python's zipfile reads the payload entry"
    rc, out = unzip_list(path)
    if rc != 9 or ZIP_ENTRY in out:
        return "unzip -l exits %d (9 means no archive)" % rc
    low = data.lower()
    for m in MARKUP:
        if m in low:
            return "output holds %r" % m.decode()
    return None


def png_pixels(path):
    im = Image.open(path)
    return im.size, im.convert("RGBA").tobytes()


def first_frame(path, size):
    return next(verify_gif.frames_rgba(Image.open(path), size))[0]


def check_pixels(inp, outp, policy):
    with open(inp, "rb") as f:
        head = f.read(10)
    if head[:3] == b"GIF" and policy == "flatten":
        # one frame out: the input's first, as Pillow composites it
        size = verify_gif.screen_size(head)
        if Image.open(outp).n_frames != 1:
            return "gif_flatten output has more than one frame"
        if first_frame(inp, size) != first_frame(outp, size):
            return "first frame differs"
        return None
    if head[:3] == b"GIF":
        return verify_gif.check_pair(inp, outp)
    a, b = png_pixels(inp), png_pixels(outp)
    if a[0] != b[0]:
        return "size %r -> %r" % (a[0], b[0])
    if a[1] != b[1]:
        return "RGBA pixels differ"
    return None


def sanitize(check, fixture, policy, outdir):
    """Run imsafe-check; the path of the output."""
    os.makedirs(outdir, exist_ok=True)
    args = [check, "-q", "-o", outdir]
    if policy is not None:
        pfile = os.path.join(outdir, "policy")
        with open(pfile, "w") as f:
            f.write(POLICIES[policy])
        args += ["--policy", pfile]
    p = subprocess.run(args + [fixture], capture_output=True, timeout=120)
    out = os.path.join(outdir, os.path.basename(fixture))
    if p.returncode != 0 or not os.path.exists(out):
        return None, "imsafe-check exit %d: %s" % (p.returncode, p.stdout.decode(errors="replace"))
    return out, None


def main():
    if len(sys.argv) != 4:
        print("usage: verify_palette.py CHECK FIXTURES OUTDIR", file=sys.stderr)
        return 99
    check, fixtures, outroot = sys.argv[1:]
    if not os.access(UNZIP, os.X_OK):
        print("hard error: %s missing (Debian package unzip)" % UNZIP, file=sys.stderr)
        return 99
    passed = failed = 0
    outputs = {}
    try:
        for name, policy in CASES:
            inp = os.path.join(fixtures, "palette", name)
            with open(inp, "rb") as f:
                din = f.read()
            if name in HOSTILE:
                check_input_hostile(inp, din)
            label = "%s%s" % (name, " [%s]" % policy if policy else "")
            outp, why = sanitize(check, inp, policy, os.path.join(outroot, policy or "default"))
            if why is None:
                with open(outp, "rb") as f:
                    dout = f.read()
                outputs[(name, policy)] = dout
                why = check_output_clean(outp, dout) or check_pixels(inp, outp, policy)
            if why is None:
                passed += 1
                print("ok   %s" % label)
            else:
                failed += 1
                print("FAIL %s: %s" % (label, why))
        for a, b in TWINS:
            if outputs.get((a, None)) is not None and outputs.get((a, None)) == outputs.get((b, None)):
                passed += 1
                print("ok   %s and %s rebuild to the same bytes" % (a, b))
            else:
                failed += 1
                print("FAIL %s and %s: the table order of the input shows in the output" % (a, b))
    except (HardError, OSError, subprocess.SubprocessError) as e:
        print("hard error: %s" % e, file=sys.stderr)
        return 99
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
