#!/usr/bin/python3
"""verify_repairs.py - the pixels of repaired and re-progressed outputs.

tests/expect/*.tsv asserts the verdict and notes of each fixture; this
script runs the fixtures of the repairs (note.repaired) and of JPEG
progressive output through tools/imsafe-check and decodes every output with
Pillow, a decoder independent of libimsafe, against a reference:

  repaired GIF   the intact file (*.ref.gif: the trailer present, the
                 logical screen the frames' extent): same screen, frame
                 count, durations and composited RGBA frames
  repaired JPEG  the intact file (EOI present): the same pixels
  PNG            the same pixels as the plain image, and which colour
                 chunk survived (iCCP over sRGB)
  progressive    the output is progressive (jpeg_progressive = keep) or
                 sequential (= baseline), and its scans are libjpeg's
                 standard script (jpeg_simple_progression), never the
                 sender's: a subsequence of it, the whole of it for a
                 complete input, and for a partial input the same pixels as
                 the input (libjpeg's block smoothing included)

A reference "=sanitized" is the reference file sanitized with the same
policy (e.g. gif_to_png: both outputs must decode alike).

Environment (set by make check): IMSAFE_BUILDDIR, IMSAFE_FIXTURES.
Prints "N passed, N failed"; exits 0, 1 on any failure, 99 on a hard error.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    from PIL import Image, ImageSequence
except ImportError:  # pragma: no cover - the test environment has Pillow
    print("hard error: Pillow (python3-pil) is not installed", file=sys.stderr)
    sys.exit(99)

# the plain images the fixtures were made from
PNG_PLAIN = "png/benign_rgb.png"

# (fixture, policy text, reference, checks); checks are names of the
# functions below with their arguments
CASES = [
    # GIF: trailer added, screen sized to the frames
    ("gif/no-trailer.gif", "", "gif/no-trailer.ref.gif", []),
    ("gif/no-trailer-animated.gif", "", "gif/no-trailer-animated.ref.gif", []),
    ("gif/no-trailer-animated.gif", "gif_flatten = yes", "=sanitized:gif/no-trailer-animated.ref.gif", []),
    ("gif/screen-0x0.gif", "", "gif/screen-0x0.ref.gif", [("screen", (7, 5))]),
    ("gif/screen-0x6.gif", "", "gif/screen-0x6.ref.gif", [("screen", (7, 6))]),
    ("gif/screen-8x0.gif", "", "gif/screen-8x0.ref.gif", [("screen", (8, 5))]),
    ("gif/screen-0x0.gif", "gif_to_png = yes", "=sanitized:gif/screen-0x0.ref.gif", []),
    # JPEG: EOI added
    ("jpeg/no_eoi.jpg", "", "jpeg/plain.jpg", [("sequential",)]),
    ("jpeg/no_eoi.jpg", "jpeg_mode = pixels", "=sanitized:jpeg/plain.jpg", []),
    ("jpeg/no_eoi_ff.jpg", "", "jpeg/plain.jpg", []),
    ("jpeg/no_eoi_progressive.jpg", "", "jpeg/progressive.jpg", [("standard", "whole")]),
    ("jpeg/cut_at_scan_progressive.jpg", "", "jpeg/partial_progressive.jpg", [("standard", "part")]),
    ("jpeg/multiscan_no_eoi.jpg", "", "jpeg/multiscan.jpg", [("sequential",)]),
    # JPEG: progressive output
    ("jpeg/progressive.jpg", "", "jpeg/progressive.jpg", [("standard", "whole")]),
    ("jpeg/progressive.jpg", "jpeg_progressive = baseline", "jpeg/progressive.jpg", [("sequential",)]),
    ("jpeg/partial_progressive.jpg", "", "jpeg/partial_progressive.jpg", [("standard", "part")]),
    # a sequential rebuild of a partial file loses the block smoothing
    ("jpeg/partial_progressive.jpg", "jpeg_progressive = baseline", None,
     [("sequential",), ("differs_from", "jpeg/partial_progressive.jpg")]),
    ("jpeg/custom_script.jpg", "", "jpeg/custom_script.jpg", [("standard", "whole")]),
    ("jpeg/custom_script_partial.jpg", "", "jpeg/custom_script_partial.jpg", [("standard", "part")]),
    # coefficients the standard script cannot stop at: the whole script,
    # decoding like the sequential transcode of the same coefficients
    ("jpeg/custom_script_odd.jpg", "", "jpeg/custom_script_odd.ref.jpg", [("standard", "whole")]),
    ("jpeg/progressive_gray.jpg", "", "jpeg/progressive_gray.jpg", [("standard", "whole")]),
    ("jpeg/progressive_gray_partial.jpg", "", "jpeg/progressive_gray_partial.jpg",
     [("standard", "part")]),
    ("jpeg/progressive_cmyk.jpg", "", "jpeg/progressive_cmyk.jpg", [("standard", "whole")]),
    ("jpeg/plain.jpg", "", "jpeg/plain.jpg", [("sequential",)]),
    # PNG: iCCP over sRGB, malformed ancillary chunks dropped
    ("png/srgb_iccp.png", "", PNG_PLAIN, [("chunks", ["iCCP"], ["sRGB"])]),
    ("png/iccp_srgb_order.png", "", PNG_PLAIN, [("chunks", ["iCCP"], ["sRGB"])]),
    ("png/srgb_iccp.png", "keep_icc = no", PNG_PLAIN, [("chunks", ["sRGB"], ["iCCP"])]),
    ("png/srgb_iccp_garbage.png", "", PNG_PLAIN, [("chunks", ["sRGB"], ["iCCP"])]),
    ("png/text_empty_keyword.png", "", PNG_PLAIN, [("chunks", [], ["tEXt"])]),
    ("png/text_no_separator.png", "", PNG_PLAIN, [("chunks", [], ["tEXt"])]),
    ("png/ztxt_long_keyword.png", "", PNG_PLAIN, [("chunks", [], ["zTXt"])]),
    ("png/itxt_empty_keyword.png", "", PNG_PLAIN, [("chunks", [], ["iTXt"])]),
    ("png/time_bad_length.png", "", PNG_PLAIN, [("chunks", [], ["tIME"])]),
    ("png/time_bad_values.png", "", PNG_PLAIN, [("chunks", [], ["tIME"])]),
    ("png/phys_bad.png", "", PNG_PLAIN, [("chunks", [], ["pHYs"])]),
    ("png/bkgd_bad.png", "", PNG_PLAIN, [("chunks", [], ["bKGD"])]),
    ("png/sbit_bad.png", "", PNG_PLAIN, [("chunks", [], ["sBIT"])]),
    ("png/unknown_ancillary_bad.png", "", PNG_PLAIN, [("chunks", [], ["vpAg", "zzZz"])]),
]


# ------------------------------------------------------------ JPEG scans

def jpeg_scans(data):
    """(SOF marker, [(component indices, Ss, Se, Ah, Al)]) of a JPEG."""
    pos, sof, ids, scans = 2, None, [], []
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        m = data[pos + 1]
        if m == 0xD9:
            break
        n = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        seg = data[pos + 4:pos + 2 + n]
        pos += 2 + n
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            sof = m
            ids = [seg[6 + 3 * i] for i in range(seg[5])]
        if m != 0xDA:
            continue
        k = seg[0]
        comps = tuple(ids.index(seg[1 + 2 * i]) for i in range(k))
        ss, se, a = seg[1 + 2 * k], seg[2 + 2 * k], seg[3 + 2 * k]
        scans.append((comps, ss, se, a >> 4, a & 15))
        while pos + 1 < len(data):  # entropy-coded data up to the next marker
            if data[pos] == 0xFF and data[pos + 1] not in (0x00, 0xFF) and \
                    not 0xD0 <= data[pos + 1] <= 0xD7:
                break
            pos += 1
    return sof, scans


def standard_script(ncomp):
    """jpeg_simple_progression() of libjpeg (jcparam.c) for a YCbCr image
    of 3 components, or the all-purpose script for 1, 2 or 4."""
    every = tuple(range(ncomp))
    if ncomp == 3:
        return [(every, 0, 0, 0, 1), ((0,), 1, 5, 0, 2), ((2,), 1, 63, 0, 1),
                ((1,), 1, 63, 0, 1), ((0,), 6, 63, 0, 2), ((0,), 1, 63, 2, 1),
                (every, 0, 0, 1, 0), ((2,), 1, 63, 1, 0), ((1,), 1, 63, 1, 0),
                ((0,), 1, 63, 1, 0)]
    per = lambda ss, se, ah, al: [((c,), ss, se, ah, al) for c in every]
    return ([(every, 0, 0, 0, 1)] + per(1, 5, 0, 2) + per(6, 63, 0, 2) + per(1, 63, 2, 1) +
            [(every, 0, 0, 1, 0)] + per(1, 63, 1, 0))


def is_subsequence(part, whole):
    it = iter(whole)
    return all(any(s == w for w in it) for s in part)


def check_standard(out, how):
    sof, scans = jpeg_scans(out)
    if sof not in (0xC2, 0xCA):
        return "output is not progressive (SOF 0x%02X)" % (sof or 0)
    ncomp = max(max(c) for c, *_ in scans) + 1
    std = standard_script(ncomp)
    if how == "whole" and scans != std:
        return "scans %r are not libjpeg's standard script" % (scans,)
    if how == "part" and (not is_subsequence(scans, std) or len(scans) >= len(std)):
        return "scans %r are not a part of libjpeg's standard script" % (scans,)
    return None


def check_sequential(out):
    sof, _ = jpeg_scans(out)
    return None if sof in (0xC0, 0xC1) else "output is not sequential (SOF 0x%02X)" % (sof or 0)


# ------------------------------------------------------------ PNG chunks

def png_chunks(data):
    pos, names = 8, []
    while pos + 8 <= len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        names.append(data[pos + 4:pos + 8].decode("latin-1"))
        pos += 12 + n
    return names


def check_chunks(out, present, absent):
    names = png_chunks(out)
    for c in present:
        if c not in names:
            return "chunk %s missing from %s" % (c, names)
    for c in absent:
        if c in names:
            return "chunk %s still in the output" % c
    return None


# ------------------------------------------------------------ decoding

def frames(path):
    """[(RGBA bytes, duration)] of every frame as Pillow composites it,
    and the image size."""
    with Image.open(path) as im:
        size = im.size
        out = [(f.convert("RGBA").tobytes(), f.info.get("duration"))
               for f in ImageSequence.Iterator(im)]
    return size, out


def compare(out_path, ref_path):
    a, b = frames(out_path), frames(ref_path)
    if a[0] != b[0]:
        return "size %dx%d, reference %dx%d" % (a[0] + b[0])
    if len(a[1]) != len(b[1]):
        return "%d frames, reference %d" % (len(a[1]), len(b[1]))
    for i, (x, y) in enumerate(zip(a[1], b[1])):
        if x[0] != y[0]:
            return "frame %d: pixels differ from the reference" % i
        if x[1] != y[1]:
            return "frame %d: duration %r, reference %r" % (i, x[1], y[1])
    return None


# ------------------------------------------------------------ running

def sanitize(cli, fixture, policy, outdir):
    """Sanitize with imsafe-check; returns the output path."""
    os.makedirs(outdir, exist_ok=True)
    cmd = [cli, "--json", "-o", outdir]
    if policy:
        pol = os.path.join(outdir, "policy.txt")
        with open(pol, "w", encoding="ascii") as fh:
            fh.write(policy.replace(";", "\n") + "\n")
        cmd += ["--policy", pol]
    r = subprocess.run(cmd + [fixture], capture_output=True, timeout=120)
    try:
        verdict = json.loads(r.stdout.decode("utf-8").splitlines()[0])["verdict"]
    except (ValueError, IndexError, KeyError):
        raise RuntimeError("imsafe-check gave no JSON line (exit %d)" % r.returncode)
    if verdict != "sanitized":
        raise RuntimeError("%s: %s" % (os.path.basename(fixture), verdict))
    return os.path.join(outdir, os.path.basename(fixture))


def run_case(cli, fixdir, tmp, n, case):
    fixture, policy, ref, checks = case
    out = sanitize(cli, os.path.join(fixdir, fixture), policy, os.path.join(tmp, "o%d" % n))
    with open(out, "rb") as fh:
        data = fh.read()
    for check in checks:
        name, args = check[0], check[1:]
        if name == "screen":
            got = struct.unpack("<HH", data[6:10])
            msg = None if got == args[0] else "screen %dx%d, want %dx%d" % (got + args[0])
        elif name == "standard":
            msg = check_standard(data, *args)
        elif name == "sequential":
            msg = check_sequential(data)
        elif name == "chunks":
            msg = check_chunks(data, *args)
        elif name == "differs_from":
            same = frames(out)[1] == frames(os.path.join(fixdir, args[0]))[1]
            msg = "decodes to the same pixels as %s" % args[0] if same else None
        else:
            raise RuntimeError("unknown check %s" % name)
        if msg:
            return msg
    if ref is None:
        return None
    if ref.startswith("=sanitized:"):
        ref = sanitize(cli, os.path.join(fixdir, ref[11:]), policy, os.path.join(tmp, "r%d" % n))
    else:
        ref = os.path.join(fixdir, ref)
    return compare(out, ref)


def main():
    try:
        cli = os.path.join(os.environ["IMSAFE_BUILDDIR"], "tools", "imsafe-check")
        fixdir = os.environ["IMSAFE_FIXTURES"]
    except KeyError as e:
        print("hard error: %s is not set" % e, file=sys.stderr)
        return 99
    if not os.access(cli, os.X_OK) or not os.path.isdir(fixdir):
        print("hard error: no imsafe-check or no fixtures", file=sys.stderr)
        return 99
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, case in enumerate(CASES):
            try:
                msg = run_case(cli, fixdir, tmp, n, case)
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                msg = str(e)
            where = "%s%s" % (case[0], " (%s)" % case[1] if case[1] else "")
            if msg is None:
                passed += 1
                print("ok   %s" % where)
            else:
                failed += 1
                print("FAIL %s: %s" % (where, msg))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
