#!/usr/bin/python3
"""gen_cost.py OUTDIR - writes the limit.ratio fixtures into OUTDIR/cost/.

Also the JPEG frame headers libjpeg cannot decode to pixels
(unsupported.jpeg.sampling): the lossless path, which only moves
coefficients, once rebuilt them into files no decoder opens.

limit.ratio refuses an image that declares more than its compressed data
can describe at all, from each format's information-theoretic floor.  The
floor must let an honest image through, so each format gets a large blank
image compressed as far as its coding goes ("floor", must be sanitized),
and the same data under a header that declares just more than the floor
allows ("past", must be refused up front).  The generator asserts how close
each blank comes to its floor and prints the ratios.  tests/expect/cost.tsv
names the verdicts.
"""
import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

from PIL import Image

JPEGTRAN = "/usr/bin/jpegtran"


def write(outdir, name, data):
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ PNG

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))


def png(w, h, idat, interlace=0, depth=8, color=0):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def adam7_size(w, h, bytes_pp=1):
    """Filtered bytes of an Adam7 image of whole-byte pixels (filter byte
    per row)."""
    total = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        if w > x0 and h > y0:
            total += ((h - y0 + dy - 1) // dy) * (1 + bytes_pp * ((w - x0 + dx - 1) // dx))
    return total


def zeros_deflated(n):
    """zlib level 9 of n zero bytes, fed in pieces (no n-byte buffer)."""
    c = zlib.compressobj(9)
    piece = bytes(1 << 20)
    out = []
    while n > 0:
        out.append(c.compress(piece[:min(n, len(piece))]))
        n -= len(piece)
    out.append(c.flush())
    return b"".join(out)


def png_work_fixtures(outdir):
    """limit.work: 60 megapixels of 16-bit RGBA whose rows are all zero
    bytes: 480 MB of scanlines at deflate's floor, 466 KB of IDAT.  Legal
    and within max_pixels, yet inflating, unfiltering, filtering and
    deflating it again cost seconds of CPU (and, interlaced, a whole-image
    buffer of 461 MiB before the pass-by-pass rebuild)."""
    w, h = 7745, 7746
    for interlace, name in ((0, "png_work_60mp_rgba16.png"),
                            (1, "png_work_60mp_rgba16_interlaced.png")):
        raw = adam7_size(w, h, 8) if interlace else (1 + 8 * w) * h
        idat = zeros_deflated(raw)
        write(outdir, name, png(w, h, idat, interlace, 16, 6))
        print("png work: %s: %d bytes of scanlines from %d IDAT bytes" % (name, raw, len(idat)))


def png_fixtures(outdir):
    w = h = 4000
    raw = (w + 1) * h  # filter type 0 and black pixels: all zero bytes
    idat = zlib.compress(bytes(raw), 9)
    ratio = raw / len(idat)
    assert 1000 < ratio <= 1032, ratio  # zlib level 9 comes within 3% of the floor
    write(outdir, "png_blank_floor.png", png(w, h, idat))
    # the same data declaring the fewest rows past 1032 x the IDAT bytes
    rows = 1032 * len(idat) // (w + 1) + 1
    write(outdir, "png_past_floor.png", png(w, rows, idat))
    iraw = adam7_size(w, h)
    iidat = zlib.compress(bytes(iraw), 9)
    write(outdir, "png_blank_interlaced_floor.png", png(w, h, iidat, 1))
    print("png: blank %dx%d: %d bytes of scanlines from %d IDAT bytes, %.1f:1 (floor 1032:1); "
          "past: %d rows" % (w, h, raw, len(idat), ratio, rows))


# ----------------------------------------------------------------- JPEG

def jpegtran(data, *args, script=None):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.jpg")
        with open(src, "wb") as f:
            f.write(data)
        cmd = [JPEGTRAN] + list(args)
        if script is not None:
            sp = os.path.join(tmp, "scans.txt")
            with open(sp, "w") as f:
                f.write(script)
            cmd += ["-scans", sp]
        return subprocess.run(cmd + [src], check=True, stdout=subprocess.PIPE).stdout


def sof_at(data):
    i = 2
    while True:
        assert data[i] == 0xFF
        m = data[i + 1]
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        if m in (0xC0, 0xC1, 0xC2, 0xC9, 0xCA):
            return i
        i += 2 + n


def with_height(data, h):
    i = sof_at(data)
    return data[:i + 5] + struct.pack(">H", h) + data[i + 7:]


def entropy_bytes(data):
    """Bytes between each SOS header and the marker that ends its scan."""
    total, i = 0, 2
    while i < len(data):
        m = data[i + 1]
        if m == 0xD9:
            break
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        i += 2 + n
        if m == 0xDA:
            j = i
            while not (data[j] == 0xFF and data[j + 1] not in (0x00,) and
                       not 0xD0 <= data[j + 1] <= 0xD7):
                j += 1
            total += j - i
            i = j
    return total


def with_sampling(data, factors):
    """data's SOF with its components' sampling factors replaced."""
    i = sof_at(data)
    b = bytearray(data)
    assert b[i + 9] == len(factors)
    for k, (h, v) in enumerate(factors):
        b[i + 10 + 3 * k + 1] = h << 4 | v
    return bytes(b)


def sampling_fixtures(outdir):
    b = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 80, 120)).save(b, "JPEG", quality=90, subsampling=2)
    base = b.getvalue()
    # 3 is not a multiple of 2 (jdsample.c: JERR_FRACT_SAMPLE_NOTIMPL), as
    # in the fuzzer's SOF9 input, here Huffman-coded
    write(outdir, "jpeg_sampling_fractional.jpg", with_sampling(base, [(2, 2), (1, 1), (1, 3)]))
    write(outdir, "jpeg_sampling_fractional_h.jpg", with_sampling(base, [(2, 2), (3, 1), (1, 1)]))
    # 3x3 + 1 + 1 = 11 blocks per MCU, over T.81's 10 for an interleaved scan
    write(outdir, "jpeg_sampling_mcu11.jpg", with_sampling(base, [(3, 3), (1, 1), (1, 1)]))
    # the divisible ones stay: 4:1:1 (4x1), 4:4:0 (1x2), 3x1 with 1x1
    for name, f in (("411", [(4, 1), (1, 1), (1, 1)]), ("440", [(1, 2), (1, 1), (1, 1)]),
                    ("311", [(3, 1), (1, 1), (1, 1)])):
        im = Image.new("RGB", (64, 48), (40, 80, 120))
        b = io.BytesIO()
        im.save(b, "JPEG", quality=90, subsampling=0)
        write(outdir, "jpeg_sampling_%s.jpg" % name,
              jpegtran_sampled(b.getvalue(), ",".join("%dx%d" % hv for hv in f)))


def jpegtran_sampled(data, sample):
    """A real file with these sampling factors: /usr/bin/cjpeg from PPM."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    ppm = io.BytesIO()
    im.save(ppm, "PPM")
    return subprocess.run(["/usr/bin/cjpeg", "-sample", sample, "-quality", "90"],
                          input=ppm.getvalue(), check=True, stdout=subprocess.PIPE).stdout


def work_fixtures(outdir):
    """limit.work: 60 megapixels of blank grey (937500 blocks), progressive.
    64 scans (DC, then each AC coefficient alone) cost 64 x 937500 block
    passes + the rebuild's one, 3.90e9 samples: under the default 4e9.  74
    scans (the AC bands at Al = 1 then 10 refinements) cost 4.50e9: refused
    before decoding, though the file is small and within max_jpeg_scans."""
    b = io.BytesIO()
    Image.new("L", (8000, 7500), 0).save(b, "JPEG", quality=90, optimize=True)
    base = b.getvalue()
    script = "0: 0 0 0 0;\n" + "".join("0: %d %d 0 0;\n" % (k, k) for k in range(1, 64))
    write(outdir, "jpeg_work_64_scans.jpg", jpegtran(base, "-optimize", script=script))
    script = ("0: 0 0 0 0;\n" + "".join("0: %d %d 0 1;\n" % (k, k) for k in range(1, 64)) +
              "".join("0: %d %d 1 0;\n" % (k, k) for k in range(1, 11)))
    many = jpegtran(base, "-optimize", script=script)
    write(outdir, "jpeg_work_74_scans.jpg", many)
    print("jpeg work: 74 scans over 60 MP in %d bytes" % len(many))
    # the input: 100 scans over 60 MP of colour (4:4:4), each AC
    # band of each component sent in successive approximation
    b = io.BytesIO()
    Image.new("RGB", (8000, 7500), 0).save(b, "JPEG", quality=90, optimize=True, subsampling=0)
    script = "0 1 2: 0 0 0 0;\n"
    for c in range(3):
        script += "".join("%d: %d %d 0 1;\n" % (c, k, k + 1) for k in range(1, 63, 2))
        script += "%d: 63 63 0 1;\n" % c
    script += "".join("%d: 1 63 1 0;\n" % c for c in range(3))
    assert script.count(";") == 100
    scans100 = jpegtran(b.getvalue(), "-optimize", script=script)
    write(outdir, "jpeg_work_100_scans.jpg", scans100)
    print("jpeg work: 100 scans over 60 MP of colour in %d bytes" % len(scans100))


def jpeg_fixtures(outdir):
    w, h = 8000, 6000
    b = io.BytesIO()
    Image.new("L", (w, h), 0).save(b, "JPEG", quality=90, optimize=True)
    blank = b.getvalue()
    blocks = (w // 8) * (h // 8)
    e = entropy_bytes(blank)
    # optimal Huffman codes of 1 bit for the DC difference 0 and for EOB
    assert e * 8 < blocks * 2 + 64, (e, blocks)
    write(outdir, "jpeg_blank_floor.jpg", blank)
    # 8 more block rows than 2 bits per block allow
    rows = (e * 8 // 2) // (w // 8) + 1
    write(outdir, "jpeg_past_floor.jpg", with_height(blank, rows * 8))
    # progressive: a DC-first scan of 1 bit per block, then one AC scan
    # whose single EOBRUN symbols cover every block
    prog = jpegtran(blank, "-optimize", script="0: 0 0 0 0;\n0: 1 63 0 0;\n")
    pe = entropy_bytes(prog)
    assert pe * 8 < blocks + 4096, (pe, blocks)
    write(outdir, "jpeg_blank_progressive_floor.jpg", prog)
    prows = (pe * 8) // (w // 8) + 1
    write(outdir, "jpeg_progressive_past_floor.jpg", with_height(prog, prows * 8))
    # colour 4:2:0: 6 blocks per MCU, 2 bits each
    b = io.BytesIO()
    Image.new("RGB", (4000, 3000), (0, 0, 0)).save(b, "JPEG", quality=90, optimize=True,
                                                     subsampling=2)
    write(outdir, "jpeg_blank_color_floor.jpg", b.getvalue())
    # arithmetic coding has no floor: 60 megapixels in a few hundred bytes
    b = io.BytesIO()
    Image.new("L", (8000, 7500), 0).save(b, "JPEG", quality=90)
    arith = jpegtran(b.getvalue(), "-arithmetic")
    assert len(arith) < 4096, len(arith)
    write(outdir, "jpeg_arith_60mp.jpg", arith)
    print("jpeg: blank %dx%d: %d blocks in %d bytes of scans, %.3f bits per block (floor 2); "
          "progressive %.3f (floor 1); arithmetic 60 MP in %d bytes"
          % (w, h, blocks, e, e * 8 / blocks, pe * 8 / blocks, len(arith)))


# ------------------------------------------------------------------ GIF

def lzw_blank(npix, min_size=2):
    """LZW codes for npix zero indices, as long as GIF's table allows: each
    code names one more zero than the last (code == next: the KwKwK case)
    until the table is full at 4096 entries; then the longest string again
    and again (deferred clear, no clear code needed).  Returns bytes."""
    clear, eoi = 1 << min_size, (1 << min_size) + 1
    width, nxt = min_size + 1, eoi + 1
    acc = bits = 0
    out = bytearray()

    def put(code):
        nonlocal acc, bits
        acc |= code << bits
        bits += width
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8

    def code_of(length):
        return 0 if length == 1 else eoi + length - 1

    put(clear)
    left, last, first = npix, 0, True
    while left > 0:
        full = nxt >= 4096
        length = min(left, last if full else last + 1)
        put(code_of(length))
        left -= length
        last = max(last, length)
        if not first and nxt < 4096:
            nxt += 1
            if nxt == 1 << width and width < 12:
                width += 1
        first = False
    put(eoi)
    if bits:
        out.append(acc & 0xFF)
    return bytes(out)


def sub_blocks(data):
    out = b""
    for i in range(0, len(data), 255):
        out += bytes([len(data[i:i + 255])]) + data[i:i + 255]
    return out + b"\0"


def gif(w, h, lzw):
    pal = bytes([0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0])
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0x81, 0, 0) + pal +
            b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02" + sub_blocks(lzw) + b";")


def gif_fixtures(outdir):
    w = h = 4096
    lzw = lzw_blank(w * h)
    ratio = w * h / len(lzw)
    write(outdir, "gif_blank_floor.gif", gif(w, h, lzw))
    rows = 8192 * len(lzw) // 3 // w + 1
    write(outdir, "gif_past_floor.gif", gif(w, rows, lzw))
    print("gif: blank %dx%d: %d LZW bytes, %.1f:1 (floor 2730.7:1); past: %d rows"
          % (w, h, len(lzw), ratio, rows))


def gif_work_fixtures(outdir):
    """limit.work: an animation whose frames are blank LZW near its floor:
    1000 frames of 500 x 400 (max_frames, and 2e8 pixels:
    max_total_frame_pixels) in about 110 KB.  Each frame is decoded,
    checked and LZW-coded again: 200 million pixels of work from a small
    file.  The same frames at 250 x 200 (5e7 pixels) are honest work."""
    pal = bytes([0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0])
    for fw, fh, name in ((500, 400, "gif_work_1000_frames.gif"),
                         (250, 200, "gif_work_1000_small_frames.gif")):
        lzw = sub_blocks(lzw_blank(fw * fh))
        frame = (b"!\xf9\x04\x04\x02\x00\x00\x00" + b"," +
                 struct.pack("<HHHHB", 0, 0, fw, fh, 0) + b"\x02" + lzw)
        loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
        data = (b"GIF89a" + struct.pack("<HHBBB", fw, fh, 0x81, 0, 0) + pal + loop +
                frame * 1000 + b";")
        write(outdir, name, data)
        print("gif work: %s: 1000 frames of %dx%d in %d bytes" % (name, fw, fh, len(data)))
    # fewer, larger frames come closer to LZW's floor: 11 x 4096 x 4096
    lzw = sub_blocks(lzw_blank(4096 * 4096))
    frame = b"," + struct.pack("<HHHHB", 0, 0, 4096, 4096, 0) + b"\x02" + lzw
    data = b"GIF89a" + struct.pack("<HHBBB", 4096, 4096, 0x81, 0, 0) + pal + frame * 11 + b";"
    write(outdir, "gif_work_11_big_frames.gif", data)
    print("gif work: 11 frames of 4096x4096 in %d bytes" % len(data))


def main():
    outdir = os.path.join(sys.argv[1], "cost")
    os.makedirs(outdir, exist_ok=True)
    png_fixtures(outdir)
    png_work_fixtures(outdir)
    jpeg_fixtures(outdir)
    sampling_fixtures(outdir)
    work_fixtures(outdir)
    gif_fixtures(outdir)
    gif_work_fixtures(outdir)


if __name__ == "__main__":
    main()
