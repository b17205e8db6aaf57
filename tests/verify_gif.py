#!/usr/bin/python3
"""verify_gif.py PAIRS.TSV - check rebuilt GIFs with an independent decoder.

Each line of PAIRS.TSV is "<input path>\t<output path>" for a payload
libimsafe accepted.  Pillow (Debian's python3-pil, run as /usr/bin/python3)
decodes both; the output must have the same number of frames as the input
and every frame, composited as Pillow shows it and converted to RGBA, must
hold the same pixels.  Fully transparent pixels compare equal whatever
their colour.

Frame durations and the loop count must match too (where Pillow does not
see the input's loop extension, the first NETSCAPE2.0/ANIMEXTS1.0 one found
in the bytes, as Pillow picks among several).

The rebuild clips frames to the logical screen; Pillow instead grows its
canvas to hold them, so the input's frames are cropped to the logical
screen (bytes 6-9 of the file) before comparing.  An output that is a PNG
(gif_to_png) must equal the input's first frame.

Where Pillow cannot decode the input, ImageMagick (`convert -coalesce`, a
decoder independent of both giflib and Pillow, run by the paths configure
found in IMSAFE_CONVERT and IMSAFE_IDENTIFY: Debian's convert-im6.q16, as a
program named convert need not be ImageMagick) renders every frame of input
and output to RGBA and the two must be byte-identical with the same frame
count; Debian's Pillow 9.4 fails on some valid files (e.g. "image has no
palette" on a frame without a local table after an RGB frame).  A GIF with
no image at all is refused by both decoders: the script then counts images
with its own block walk and requires zero in both files.

Prints "N passed, N failed"; exits 0, 1 on any failure, 99 on a hard error.
"""
import os
import struct
import subprocess
import sys

try:
    from PIL import Image, ImageSequence
except ImportError:  # pragma: no cover - the test environment has Pillow
    print("hard error: Pillow (python3-pil) is not installed", file=sys.stderr)
    sys.exit(99)

try:
    CONVERT = os.environ["IMSAFE_CONVERT"]
    IDENTIFY = os.environ["IMSAFE_IDENTIFY"]
except KeyError as e:
    print("hard error: %s is not set (run through make check)" % e, file=sys.stderr)
    sys.exit(99)


def screen_size(data):
    return struct.unpack("<HH", data[6:10])


def count_images(data):
    """Images in a GIF by a plain block walk; None when the walk fails."""
    walked = walk(data)
    return None if walked is None else walked[0]


def walk(data):
    """(image count, first image's (x, y, w, h)) by a plain block walk;
    None when the walk fails."""
    pos = 13
    if len(data) < 13:
        return None
    if data[10] & 0x80:
        pos += 3 * (2 << (data[10] & 7))
    images = 0
    first = None

    def skip_blocks(p):
        while p < len(data) and data[p] != 0:
            p += data[p] + 1
        return p + 1 if p < len(data) else None

    while pos is not None and pos < len(data):
        b = data[pos]
        if b == 0x3B:
            return images, first
        if b == 0x21:
            pos = skip_blocks(pos + 2)
        elif b == 0x2C:
            if pos + 10 > len(data):
                return None
            packed = data[pos + 9]
            if first is None:
                first = struct.unpack("<HHHH", data[pos + 1:pos + 9])
            pos += 10
            if packed & 0x80:
                pos += 3 * (2 << (packed & 7))
            images += 1
            pos = skip_blocks(pos + 1)
        else:
            return None
    return None


def first_loop(data):
    """The first NETSCAPE2.0/ANIMEXTS1.0 loop count (the one Pillow uses
    when it sees several); None without one.  Pillow 9.4 reads neither ANIMEXTS1.0 nor a loop
    extension placed after the first frame."""
    loop = None
    for ident in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
        pos = data.find(b"\x21\xff\x0b" + ident)
        while pos >= 0:
            sub = data[pos + 14:pos + 18]
            if len(sub) == 4 and sub[0] == 3 and sub[1] == 1:
                if loop is None or pos < loop[0]:
                    loop = (pos, struct.unpack("<H", sub[2:4])[0])
            pos = data.find(b"\x21\xff\x0b" + ident, pos + 1)
    return None if loop is None else loop[1]


def frames_rgba(im, size):
    """(RGBA bytes, duration) of each frame, one at a time."""
    for frame in ImageSequence.Iterator(im):
        rgba = frame.convert("RGBA")
        if rgba.size != size:
            rgba = rgba.crop((0, 0) + size)
        yield normalise(rgba), frame.info.get("duration")


def normalise(rgba):
    """RGBA bytes with the colour of fully transparent pixels zeroed."""
    px = bytearray(rgba.tobytes())
    for i in range(3, len(px), 4):
        if px[i] == 0:
            px[i - 3:i] = b"\0\0\0"
    return bytes(px)


def magick_frames(path):
    """(frame count, coalesced RGBA bytes) from ImageMagick, or None."""
    try:
        n = subprocess.run([IDENTIFY, "-format", "%p\\n", path], capture_output=True,
                           timeout=60, check=True).stdout.split()
        px = subprocess.run([CONVERT, path, "-coalesce", "-depth", "8", "rgba:-"],
                            capture_output=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return len(n), px


def magick_compare(inp, outp, pillow_error):
    a, b = magick_frames(inp), magick_frames(outp)
    if a is None or b is None:
        return "Pillow (%s) and ImageMagick cannot decode the pair" % pillow_error
    if a[0] != b[0]:
        return "ImageMagick: frame count %d -> %d" % (a[0], b[0])
    if a[1] != b[1]:
        return "ImageMagick: coalesced frames differ"
    return None


def check_png(din, first_in, im_out, size):
    """gif_to_png: the first image on a transparent screen, as browsers
    show it.  Pillow fills the rest of the first frame with the background
    colour instead, so only the first image's rectangle is compared; the
    rest of the PNG must be fully transparent."""
    if im_out.size != size:
        return "PNG is %dx%d, screen %dx%d" % (im_out.size + size)
    out = normalise(im_out.convert("RGBA"))
    walked = walk(din)
    if walked is None or walked[1] is None:
        return "cannot find the input's first image"
    x0, y0, w, h = walked[1]
    for y in range(size[1]):
        for x in range(size[0]):
            i = (y * size[0] + x) * 4
            inside = x0 <= x < x0 + w and y0 <= y < y0 + h
            if inside and out[i:i + 4] != first_in[i:i + 4]:
                return "PNG pixel %d,%d differs from the first frame" % (x, y)
            if not inside and out[i + 3] != 0:
                return "PNG pixel %d,%d outside the first image is not transparent" % (x, y)
    return None


def check_pair(inp, outp):
    with open(inp, "rb") as f:
        din = f.read()
    with open(outp, "rb") as f:
        dout = f.read()
    size = screen_size(din)
    try:
        im_in = Image.open(inp)
        first_in = next(frames_rgba(im_in, size))[0]
        n_in = im_in.n_frames
    except Exception as e:  # Pillow's failures vary in type
        nin, nout = count_images(din), count_images(dout)
        if nin == 0 and nout == 0:
            return None
        return magick_compare(inp, outp, type(e).__name__)
    try:
        im_out = Image.open(outp)
        if im_out.format == "PNG":
            return check_png(din, first_in, im_out, size)
        n_out = im_out.n_frames
    except Exception as e:
        return "Pillow cannot decode the output: %s" % type(e).__name__
    if n_in != n_out:
        return "frame count %d -> %d" % (n_in, n_out)
    want = im_in.info.get("loop")
    if want is None:
        want = first_loop(din)
    if want != im_out.info.get("loop"):
        return "loop count %r -> %r" % (want, im_out.info.get("loop"))
    try:
        pairs = zip(frames_rgba(im_in, size), frames_rgba(im_out, size))
        for i, (a, b) in enumerate(pairs):
            if a[0] != b[0]:
                return "frame %d differs" % i
            if a[1] != b[1]:
                return "frame %d: duration %r -> %r" % (i, a[1], b[1])
    except Exception as e:
        # Pillow 9.4 fails on some later frames (see above): ImageMagick
        return magick_compare(inp, outp, type(e).__name__)
    return None

def main():
    if len(sys.argv) != 2:
        print("usage: verify_gif.py PAIRS.TSV", file=sys.stderr)
        return 99
    passed = failed = 0
    try:
        with open(sys.argv[1]) as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
    except OSError as e:
        print("hard error: %s" % e, file=sys.stderr)
        return 99
    for line in lines:
        cols = line.split("\t")
        if len(cols) != 2:
            print("hard error: bad line in pairs file: %r" % line, file=sys.stderr)
            return 99
        try:
            why = check_pair(cols[0], cols[1])
        except OSError as e:
            why = "cannot read: %s" % e.strerror
        if why is None:
            passed += 1
        else:
            failed += 1
            print("FAIL %s: %s" % (cols[0], why), file=sys.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
