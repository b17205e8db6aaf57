#!/usr/bin/python3
"""verify_apng.py PAIRS.TSV... - check rebuilt animated PNGs with Pillow.

Each line of a PAIRS.TSV is "<input path>\t<output path>" for a PNG
libimsafe accepted (corpus_run writes them).  Only inputs that are
animated PNGs (an acTL chunk before the first IDAT, by a plain chunk walk)
are judged; the still images are libspng's job (verify_png).

Pillow (Debian's python3-pil, run as /usr/bin/python3), a decoder
independent of libpng, reads input and output.  The output must:
- store the same frames: this script's own chunk walk cuts each file into
  its frames (fcTL values, data of IDAT or fdAT), Pillow decodes each as a
  stand-alone PNG, and every frame must have the same fcTL values (region,
  delay, dispose, blend), the same pixels (RGBA for palette images, whose
  palette the rebuild reorders; the native samples otherwise, 16 bits
  kept), with the same acTL loop count;
- be an APNG too (acTL before IDAT), with the same number of frames as
  Pillow counts in the input (n_frames, the default image included when
  it is not part of the animation);
- give, for every frame as Pillow composites it (dispose and blend
  applied) and converted to RGBA, the same pixels; fully transparent
  pixels compare equal whatever their colour;
- carry the same duration per frame, the same loop count, and the same
  disposal and blend values per frame as Pillow reads them;
- come from the same default-image choice (Pillow's "default_image").
Two limits of Debian's Pillow 9.4 are worked around: it cannot composite
an interlaced APNG (TypeError; the stored frames are compared, and an
output that is not interlaced must composite), and it composites palette APNGs in index space
(disposal fills index 0, blending pastes indices), so for a palette
image whose canonical palette reordered the indices only the stored
frames decide.

Prints "N passed, N failed" and each failure; exits 0, 1 on any failure,
99 on a hard error.  With --list it prints the judged inputs and the
result of each, one per line, for the report of how many APNGs pass.
"""
import io
import struct
import sys
import zlib

try:
    from PIL import Image, ImageSequence
except ImportError:  # pragma: no cover - the test environment has Pillow
    print("hard error: Pillow (python3-pil) is not installed", file=sys.stderr)
    sys.exit(99)


SIG = b"\x89PNG\r\n\x1a\n"


def chunks(data):
    """(type, data) of each chunk by a plain walk; stops at a bad length."""
    pos = 8
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        if pos + 12 + n > len(data):
            return
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n


def is_apng(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    for t, _ in chunks(data):
        if t == b"acTL":
            return True
        if t == b"IDAT":
            return False
    return False


def rgba_equal(a, b):
    if a.size != b.size:
        return False
    pa, pb = a.tobytes(), b.tobytes()
    if pa == pb:
        return True
    for i in range(0, len(pa), 4):
        if pa[i + 3] == 0 and pb[i + 3] == 0:
            continue
        if pa[i:i + 4] != pb[i:i + 4]:
            return False
    return True


def frames(path):
    """Pillow's view: per frame (RGBA image, duration, disposal, blend),
    plus loop, n_frames and default_image."""
    im = Image.open(path)
    out = []
    for fr in ImageSequence.Iterator(im):
        out.append((fr.convert("RGBA"), fr.info.get("duration"), fr.info.get("disposal"),
                    fr.info.get("blend")))
    return out, im.info.get("loop"), getattr(im, "n_frames", 1), im.info.get("default_image")


def png_chunk(ctype, data):
    return struct.pack(">I", len(data)) + ctype + data + \
        struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def raw_frames(data):
    """The frames as stored, by this script's own chunk walk: acTL's
    num_plays and, per frame, (fcTL values without the sequence number, or
    None for a default image outside the animation; the frame decoded by
    Pillow as a stand-alone PNG of the frame's size).  Decoded pixels are
    RGBA for palette images (the palette resolved), else Pillow's native
    mode and bytes (16-bit samples kept)."""
    ihdr = plte = trns = None
    plays = None
    frames = []  # [fctl or None, [data...]]
    seen_idat = False
    for t, d in chunks(data):
        if t == b"IHDR":
            ihdr = d
        elif t == b"PLTE":
            plte = d
        elif t == b"tRNS":
            trns = d
        elif t == b"acTL" and not seen_idat:
            plays = struct.unpack(">I", d[4:8])[0]
        elif t == b"fcTL":
            frames.append([struct.unpack(">IIIIHHBB", d[4:26]), [], seen_idat])
        elif t == b"IDAT":
            if not seen_idat and (not frames or frames[-1][2]):
                frames.append([None, [], False])
            seen_idat = True
            if frames[-1][2] is False:
                frames[-1][1].append(d)
        elif t == b"fdAT":
            frames[-1][1].append(d[4:])
    out = []
    for fctl, parts, _ in frames:
        w, h = (fctl[0], fctl[1]) if fctl else struct.unpack(">II", ihdr[:8])
        png = SIG + png_chunk(b"IHDR", struct.pack(">II", w, h) + ihdr[8:])
        if plte is not None:
            png += png_chunk(b"PLTE", plte)
        if trns is not None:
            png += png_chunk(b"tRNS", trns)
        png += png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")
        im = Image.open(io.BytesIO(png))
        im.load()
        if im.mode == "P" or (trns is not None and im.mode in ("L", "RGB")):
            im = im.convert("RGBA")
        out.append((fctl, im))
    return plays, out


def judge_raw(inp, outp):
    """None when every stored frame decodes to the same pixels with the same
    region, delay, dispose and blend, and the loop count is the same."""
    try:
        pi, fi = raw_frames(open(inp, "rb").read())
        po, fo = raw_frames(open(outp, "rb").read())
    except Exception as e:
        return "frame walk or decode failed: %s: %s" % (type(e).__name__, e)
    if pi != po:
        return "num_plays: input %r, output %r" % (pi, po)
    if len(fi) != len(fo):
        return "stored frames: input %d, output %d" % (len(fi), len(fo))
    for k, ((ci, ii), (co, io_)) in enumerate(zip(fi, fo)):
        if ci != co:
            return "stored frame %d: fcTL %r vs %r" % (k, ci, co)
        if ii.mode != io_.mode or ii.size != io_.size:
            return "stored frame %d: mode/size %s %r vs %s %r" % (k, ii.mode, ii.size,
                                                                  io_.mode, io_.size)
        same = rgba_equal(ii, io_) if ii.mode == "RGBA" else ii.tobytes() == io_.tobytes()
        if not same:
            return "stored frame %d: pixels differ" % k
    return None


def judge(inp, outp):
    """None when the output is the same animation, else what differs."""
    with open(outp, "rb") as f:
        if not is_apng(f.read()):
            return "output is not animated"
    why = judge_raw(inp, outp)
    if why is not None:
        return why
    try:
        fi, loop_i, n_i, def_i = frames(inp)
    except TypeError:
        # Debian's Pillow 9.4 cannot composite an interlaced APNG at all
        # ("function takes at most 3 arguments"): the stored frames were
        # compared above.  The output stays interlaced (libimsafe keeps the
        # input's interlace method), so it cannot composite either; an
        # output that is not interlaced must.
        with open(outp, "rb") as f:
            head = f.read(33)
        if len(head) < 33 or head[28] != 1:
            frames(outp)
        return None
    except Exception as e:  # Pillow refuses: nothing to compare with
        return "Pillow cannot read the input: %s" % type(e).__name__
    try:
        fo, loop_o, n_o, def_o = frames(outp)
    except Exception as e:
        return "Pillow cannot read the output: %s: %s" % (type(e).__name__, e)
    palette = Image.open(inp).mode == "P"
    if n_i != n_o or len(fi) != len(fo):
        return "frames: input %d, output %d" % (len(fi), len(fo))
    if loop_i != loop_o:
        return "loop: input %r, output %r" % (loop_i, loop_o)
    if bool(def_i) != bool(def_o):
        return "default_image: input %r, output %r" % (def_i, def_o)
    for k, (a, b) in enumerate(zip(fi, fo)):
        if a[1:] != b[1:]:
            return "frame %d: duration/disposal/blend %r vs %r" % (k, a[1:], b[1:])
        if not rgba_equal(a[0], b[0]):
            if palette:
                # Pillow composites palette APNGs in index space: disposal
                # to background fills with index 0 and blending over
                # pastes indices, where the APNG spec clears to
                # transparent black and blends colours.  The canonical
                # palette reorders indices, so Pillow's composite differs
                # though every stored frame (compared above) is the same.
                return None
            return "frame %d: pixels differ" % k
    return None


def main(argv):
    listing = "--list" in argv
    paths = [a for a in argv[1:] if a != "--list"]
    if not paths:
        print("usage: verify_apng.py [--list] PAIRS.TSV...", file=sys.stderr)
        return 99
    passed = failed = 0
    for pairs in paths:
        try:
            lines = open(pairs).read().splitlines()
        except OSError as e:
            print("hard error: %s" % e, file=sys.stderr)
            return 99
        for line in lines:
            inp, outp = line.split("\t")[:2]
            with open(inp, "rb") as f:
                if not is_apng(f.read()):
                    continue
            why = judge(inp, outp)
            if listing:
                print("%s\t%s" % (inp, "ok" if why is None else why))
            if why is None:
                passed += 1
            else:
                failed += 1
                if not listing:
                    print("FAIL %s: %s" % (inp, why))
    print("verify_apng: %d passed, %d failed" % (passed, failed))
    if passed + failed == 0:
        print("hard error: no animated PNG was judged")
        return 99
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
