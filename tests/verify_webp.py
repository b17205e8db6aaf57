#!/usr/bin/python3
"""verify_webp.py PAIRS.TSV... - check rebuilt WebP (and WebP-to-PNG) outputs.

Each line of PAIRS.TSV is "<input path>\t<output path>" for a payload
libimsafe accepted.  Two decoders judge every pair: Pillow (Debian's
python3-pil) and libwebp's command-line tools, dwebp for stills and
webpmux -info for the frame count of animations, both run by the paths
configure found (IMSAFE_DWEBP, IMSAFE_WEBPMUX).

- Every frame, composited as Pillow shows it, converted to RGBA; fully
  transparent pixels compare equal whatever their colour.  An animation is
  compared as a timeline: consecutive identical frames are merged (their
  durations added), since libwebp's encoder merges a frame identical to
  the one before it.
- A lossless input (no VP8 chunk) rebuilt as WebP or PNG: the same pixels,
  frame for frame, and the same durations and loop count.
- A lossy input: the same size, no more frames than the input's timeline,
  the same total duration and loop count, and every frame within 18 dB
  PSNR of the input's (the same picture, re-encoded).  A PNG output of a
  lossy input holds the decoded pixels exactly.
- dwebp decodes every still output (and its pixels equal Pillow's);
  webpmux -info counts the output animation's frames as Pillow does.

Prints the lossy figures (output/input size ratio, mean and minimum PSNR)
and "N passed, N failed"; exits 0, 1 on any failure, 99 on a hard error.
"""
import math
import os
import subprocess
import sys
import tempfile

try:
    from PIL import Image, ImageChops, ImageSequence, ImageStat
except ImportError:  # pragma: no cover - the test environment has Pillow
    print("hard error: Pillow (python3-pil) is not installed", file=sys.stderr)
    sys.exit(99)

try:
    DWEBP = os.environ["IMSAFE_DWEBP"]
    WEBPMUX = os.environ["IMSAFE_WEBPMUX"]
except KeyError as e:
    print("hard error: %s is not set (run through make check)" % e, file=sys.stderr)
    sys.exit(99)

# 18 dB: the same picture (an unrelated one scores about 10); the VP8 test
# vectors vp80-0[1-3]-*-141[123] hold saturated random chroma that any 4:2:0
# re-encoding loses (cwebp -q 100 of their decoded pixels: 20 dB RGB PSNR)
MIN_PSNR = 18.0


def chunks(data, start=12, end=None):
    """(id, payload) of the RIFF chunks in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        n = int.from_bytes(data[pos + 4:pos + 8], "little")
        yield data[pos:pos + 4], data[pos + 8:pos + 8 + n]
        pos += 8 + n + (n & 1)


def is_lossy(data):
    for cid, payload in chunks(data):
        if cid == b"VP8 ":
            return True
        if cid == b"ANMF" and any(c == b"VP8 " for c, _ in chunks(payload, 16)):
            return True
    return False


def norm(img):
    """RGBA bytes with fully transparent pixels as 0,0,0,0."""
    rgba = img.convert("RGBA")
    px = bytearray(rgba.tobytes())
    for i in range(3, len(px), 4):
        if px[i] == 0:
            px[i - 3:i] = b"\0\0\0"
    return bytes(px)


def timeline(path):
    """(size, [(pixels, duration)], loop) with identical neighbours merged."""
    with Image.open(path) as im:
        size = im.size
        loop = im.info.get("loop", 0)
        frames = []
        for fr in ImageSequence.Iterator(im):
            px = norm(fr)
            dur = fr.info.get("duration", 0) or 0
            if frames and frames[-1][0] == px:
                frames[-1] = (px, frames[-1][1] + dur)
            else:
                frames.append((px, dur))
    return size, frames, loop


def psnr(size, a, b):
    """PSNR over the RGBA samples of two pictures (Pillow's ImageStat:
    the sum of squared differences, without a Python loop per sample)."""
    if a == b:
        return 99.0
    da = Image.frombytes("RGBA", size, a)
    db = Image.frombytes("RGBA", size, b)
    se = sum(ImageStat.Stat(ImageChops.difference(da, db)).sum2)
    mse = se / (size[0] * size[1] * 4)
    return 10 * math.log10(255 * 255 / mse)


def dwebp_pixels(path):
    """RGBA pixels of a still WebP decoded by dwebp (PAM output)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.pam")
        r = subprocess.run([DWEBP, "-quiet", "-pam", path, "-o", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            return None
        with open(out, "rb") as f:
            pam = f.read()
    # P7 header lines up to ENDHDR (Pillow 9.4 reads no PAM), then RGBA rows
    end = pam.find(b"ENDHDR\n")
    if not pam.startswith(b"P7\n") or end < 0 or b"TUPLTYPE RGB_ALPHA" not in pam[:end]:
        return None
    w = h = 0
    for line in pam[:end].split(b"\n"):
        if line.startswith(b"WIDTH "):
            w = int(line[6:])
        elif line.startswith(b"HEIGHT "):
            h = int(line[7:])
    return norm(Image.frombytes("RGBA", (w, h), pam[end + 7:end + 7 + 4 * w * h]))


def webpmux_frames(path):
    r = subprocess.run([WEBPMUX, "-info", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("Number of frames:"):
            return int(line.split(":")[1])
    return 0 if r.returncode == 0 else None


def check(inp, outp, stats):
    with open(inp, "rb") as f:
        idata = f.read()
    with open(outp, "rb") as f:
        odata = f.read()
    png = odata[:8] == b"\x89PNG\r\n\x1a\n"
    lossy = is_lossy(idata) and not png
    isize, iframes, iloop = timeline(inp)
    osize, oframes, oloop = timeline(outp)
    if isize != osize:
        return "size %s became %s" % (isize, osize)
    if png:
        if oframes[0][0] != iframes[0][0]:
            return "the PNG's pixels differ from the input's first frame"
        return None
    if iloop != oloop or sum(d for _, d in iframes) != sum(d for _, d in oframes):
        return "loop count or total duration changed"
    if not lossy:
        if len(iframes) != len(oframes):
            return "%d frames became %d" % (len(iframes), len(oframes))
        for k, ((a, da), (b, db)) in enumerate(zip(iframes, oframes)):
            if a != b or da != db:
                return "frame %d differs (pixels or duration)" % k
    else:
        if len(oframes) > len(iframes):
            return "%d frames became %d" % (len(iframes), len(oframes))
        if len(iframes) == 1:
            p = psnr(isize, iframes[0][0], oframes[0][0])
            if p < MIN_PSNR:
                return "PSNR %.1f dB below %.0f" % (p, MIN_PSNR)
            stats.append((len(idata), len(odata), p))
    n = webpmux_frames(outp)
    if n is None:
        return "webpmux cannot read the output"
    if n > 0:
        if n < len(oframes):
            return "webpmux counts %d frames, Pillow %d" % (n, len(oframes))
    else:
        px = dwebp_pixels(outp)
        if px is None:
            return "dwebp cannot decode the output"
        if px != oframes[0][0]:
            return "dwebp and Pillow decode the output differently"
    return None


def main():
    if len(sys.argv) < 2:
        print("usage: verify_webp.py PAIRS.TSV...", file=sys.stderr)
        return 99
    passed = failed = 0
    stats = []
    for pairs in sys.argv[1:]:
        with open(pairs) as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
        for inp, outp in rows:
            try:
                err = check(inp, outp, stats)
            except (OSError, ValueError) as e:
                err = "cannot decode: %s" % e
            if err:
                failed += 1
                print("FAIL %s: %s" % (inp, err))
            else:
                passed += 1
    if stats:
        ratio = sum(o for _, o, _ in stats) / sum(i for i, _, _ in stats)
        mean = sum(p for _, _, p in stats) / len(stats)
        print("lossy stills: %d, output/input bytes %.3f, PSNR mean %.1f dB, min %.1f dB"
              % (len(stats), ratio, mean, min(p for _, _, p in stats)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
