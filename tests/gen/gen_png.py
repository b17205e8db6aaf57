#!/usr/bin/python3
"""PNG fixtures for tests/expect/png.tsv: benign images of every colour
type, and hostile ones that each break one rule of the PNG sanitizer
(CVE-2004-0597 tRNS overflow, palette indices past PLTE, pixel floods,
CRC errors, truncated and excess IDAT data, unknown critical chunks, chunk
order, iCCP/zTXt bombs, APNG structure, polyglot tails, CgBI).

Chunks are built by hand with zlib/struct so the malformed structure is
exactly what each fixture needs; Pillow is used only for a real sRGB ICC
profile and a real ZIP/JAR is written with zipfile.  Large images are one
solid colour fed to zlib row by row, so a 6000 x 6000 RGBA image is a file
of about 150 KB and nothing big is ever held in memory here.

Usage: gen_png.py OUTDIR   (writes OUTDIR/png/*.png)"""
import io
import os
import random
import struct
import sys
import zipfile
import zlib

from PIL import ImageCms

SIG = b"\x89PNG\r\n\x1a\n"
MARKER = b"SECRET-GPS-MARKER"

# Adam7 passes: x start, y start, x step, y step (PNG spec 8.2)
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))

# bytes per pixel for 8-bit samples, by colour type
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(ctype, data=b"", crc=None):
    """length | type | data | CRC (over type + data); crc overrides it."""
    if crc is None:
        crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def ihdr(w, h, depth=8, color=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace))


def png(*chunks):
    return SIG + b"".join(chunks) + chunk(b"IEND")


def rowbytes(w, depth, color):
    return (w * CHANNELS[color] * depth + 7) // 8


def raw_rows(rows):
    """Filter type 0 (None) before every row."""
    return b"".join(b"\0" + r for r in rows)


def full_stream(rows):
    return zlib.compress(raw_rows(rows), 9)


def idat_rows(rows):
    return chunk(b"IDAT", full_stream(rows))


def solid_stream(w, h, pixel, interlace=0):
    """zlib stream of a solid image, built row by row (never whole)."""
    z = zlib.compressobj(9)
    out = []
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    for x0, y0, dx, dy in passes:
        pw = (w - x0 + dx - 1) // dx
        ph = (h - y0 + dy - 1) // dy
        if pw <= 0 or ph <= 0:
            continue  # empty passes have no filter bytes either
        row = b"\0" + pixel * pw
        for _ in range(ph):
            out.append(z.compress(row))
    out.append(z.flush())
    return b"".join(out)


def gradient(w, h, color, depth=8):
    """Rows of a small non-solid image; samples of `depth` bits."""
    n = CHANNELS[color]
    rows = []
    for y in range(h):
        if depth == 16:
            vals = [((x * 4099 + y * 257 + c * 12345) & 0xFFFF) for x in range(w) for c in range(n)]
            rows.append(struct.pack(">%dH" % len(vals), *vals))
        else:
            rows.append(bytes((x * 16 + y * 7 + c * 85) & 0xFF
                              for x in range(w) for c in range(n)))
    return rows


def interlace_rows(rows, w, h, bpp):
    """Split full 8-bit rows (bpp bytes per pixel) into Adam7 pass rows."""
    out = []
    for x0, y0, dx, dy in ADAM7:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            out.append(b"".join(rows[y][x * bpp:(x + 1) * bpp] for x in range(x0, w, dx)))
    return out


def interlace_indices(index_rows):
    """Split rows of palette indices into Adam7 pass rows (still unpacked)."""
    h, w = len(index_rows), len(index_rows[0])
    out = []
    for x0, y0, dx, dy in ADAM7:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            out.append(index_rows[y][x0::dx])
    return out


def pack_indices(indices, depth):
    """Pack palette indices into one row of `depth`-bit samples."""
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(indices), per):
        b = 0
        for k in range(per):
            v = indices[i + k] if i + k < len(indices) else 0
            b |= v << (8 - depth * (k + 1))
        out.append(b)
    return bytes(out)


PAL4 = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])  # 4 entries


def palette_png(indices_rows, depth=8, plte=PAL4, trns=None, order="plte-trns", interlace=0):
    """Palette image; `order` places tRNS before PLTE for the order test."""
    w, h = len(indices_rows[0]), len(indices_rows)
    if interlace:
        indices_rows = interlace_indices(indices_rows)
    rows = [pack_indices(r, depth) for r in indices_rows]
    plte_c = chunk(b"PLTE", plte)
    trns_c = chunk(b"tRNS", trns) if trns is not None else b""
    mid = plte_c + trns_c if order == "plte-trns" else trns_c + plte_c
    return png(ihdr(w, h, depth, 3, interlace), mid, idat_rows(rows))


def small_rgb(w=16, h=16):
    return gradient(w, h, 2)


def benign_rgb(extra_before=b"", extra_after=b""):
    rows = small_rgb()
    return SIG + ihdr(16, 16) + extra_before + idat_rows(rows) + extra_after + chunk(b"IEND")


def text_chunks():
    """Every metadata chunk the rebuild must drop."""
    exif = b"MM\0*\0\0\0\x08\0\0\0\0\0\0" + b"EXIF-" + MARKER
    return b"".join([
        chunk(b"tEXt", b"GPS\0" + MARKER),
        chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"ztxt secret " + MARKER)),
        chunk(b"iTXt", b"Author\0\0\0en\0Author\0itxt-" + MARKER),
        chunk(b"tIME", struct.pack(">HBBBBB", 2024, 5, 17, 12, 30, 0)),
        chunk(b"eXIf", exif),
        chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        chunk(b"bKGD", struct.pack(">HHH", 10, 20, 30)),
        chunk(b"prVt", b"private ancillary chunk " + MARKER),
    ])


def srgb_profile():
    """LittleCMS's sRGB profile with its creation date and profile ID zeroed
    (ICC.1 7.2.18: an ID of zeros means "not computed"), so that every run
    writes the same bytes."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    icc[24:36] = bytes(12)
    icc[84:100] = bytes(16)
    return bytes(icc)


def iccp(profile_bytes, name=b"sRGB profile"):
    return chunk(b"iCCP", name + b"\0\0" + zlib.compress(profile_bytes, 9))


def apng(gap=False, frames_declared=2):
    """Two frames: the default image (fcTL 0 + IDAT) and one fdAT frame."""
    rows = small_rgb()
    fctl = lambda seq: chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, 16, 16, 0, 0, 1, 10, 0, 0))
    frame2 = zlib.compress(raw_rows(gradient(16, 16, 2)[::-1]), 9)
    seq_fdat = 3 if gap else 2
    return png(ihdr(16, 16),
               chunk(b"acTL", struct.pack(">II", frames_declared, 0)),
               fctl(0), idat_rows(rows), fctl(1),
               chunk(b"fdAT", struct.pack(">I", seq_fdat) + frame2))


def zip_bytes(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            z.writestr(zipfile.ZipInfo(n, date_time=(2008, 8, 1, 0, 0, 0)), "payload of %s\n" % n)
    return buf.getvalue()


def elf_header():
    """A 64-bit little-endian ELF header (e_type EXEC, x86-64)."""
    ident = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def fixtures():
    f = {}
    rows = small_rgb()
    base = benign_rgb()
    iend = chunk(b"IEND")

    # ------------------------------------------------------------ benign
    f["benign_rgb.png"] = base
    f["benign_meta.png"] = benign_rgb(text_chunks())
    f["palette_trns.png"] = palette_png([[x % 4 for x in range(8)] for _ in range(8)],
                                        trns=bytes([0, 128, 255]))
    f["palette_2bit.png"] = palette_png([[(x + y) % 3 for x in range(13)] for y in range(5)],
                                        depth=2, plte=PAL4[:9])
    # sub-byte rows whose last byte is partly padding (13 x 2 bits = 26 bits)
    f["interlaced_palette_2bit.png"] = palette_png(
        [[(x * y + x) % 3 for x in range(13)] for y in range(11)], depth=2, plte=PAL4[:9],
        interlace=1)
    f["rgba16.png"] = png(ihdr(16, 16, 16, 6), idat_rows(gradient(16, 16, 6, 16)))
    f["gray_alpha.png"] = png(ihdr(16, 16, 8, 4), idat_rows(gradient(16, 16, 4)))
    # 19 one-bit pixels: the last byte carries 5 padding bits, one of them set
    f["gray1.png"] = png(ihdr(19, 3, 1, 0), idat_rows([bytes([0xA5, 0x5A, 0xF0])] * 3))
    f["rgb_trns.png"] = png(ihdr(16, 16), chunk(b"tRNS", struct.pack(">HHH", 0, 16, 85)),
                            idat_rows(rows))
    il_rows = gradient(33, 17, 2)
    f["interlaced.png"] = png(ihdr(33, 17, 8, 2, 1),
                              idat_rows(interlace_rows(il_rows, 33, 17, 3)))
    f["panorama_20000x1500.png"] = png(ihdr(20000, 1500),
                                       chunk(b"IDAT", solid_stream(20000, 1500, b"\x20\x60\xa0")))
    f["rgba_6000.png"] = png(ihdr(6000, 6000, 8, 6),
                             chunk(b"IDAT", solid_stream(6000, 6000, b"\x10\x80\xf0\xff")))
    f["rgba_6000_interlaced.png"] = png(
        ihdr(6000, 6000, 8, 6, 1), chunk(b"IDAT", solid_stream(6000, 6000, b"\x10\x80\xf0\xff", 1)))
    # 16 MB decoded: over an 8 MiB budget when interlaced, within 24 MiB
    f["rgba_2000_interlaced.png"] = png(
        ihdr(2000, 2000, 8, 6, 1), chunk(b"IDAT", solid_stream(2000, 2000, b"\x90\x30\x60\x80", 1)))

    # -------------------------------------------------- PLTE / tRNS / index
    # CVE-2004-0597: 10 alpha values for a palette of 4
    f["trns_longer_than_plte.png"] = palette_png([[0, 1, 2, 3]] * 4, trns=bytes(range(10)))
    f["palette_index_eq.png"] = palette_png([[0, 1, 2, 3], [0, 1, 4, 3]])
    f["palette_index_gt.png"] = palette_png([[0, 1, 2, 3], [0, 200, 2, 3]])
    f["palette_index_2bit.png"] = palette_png([[0, 1, 2, 1, 0], [2, 1, 0, 1, 3]],
                                              depth=2, plte=PAL4[:9])

    # ---------------------------------------------------------- limits
    f["width_65535.png"] = png(ihdr(65535, 65535), chunk(b"IDAT", zlib.compress(b"\0")))
    f["pixels_900mp.png"] = png(ihdr(30000, 30000), chunk(b"IDAT", zlib.compress(b"\0")))

    # ------------------------------------------------------------ CRC
    bad_ihdr = ihdr(16, 16)
    bad_ihdr = bad_ihdr[:-4] + struct.pack(">I", (zlib.crc32(bad_ihdr[4:-4]) ^ 1) & 0xFFFFFFFF)
    f["crc_ihdr.png"] = SIG + bad_ihdr + idat_rows(rows) + iend
    f["crc_text.png"] = benign_rgb(chunk(b"tEXt", b"Comment\0hello", crc=0x12345678))
    f["crc_idat.png"] = SIG + ihdr(16, 16) + chunk(b"IDAT", full_stream(rows), crc=0) + iend
    # IEND's CRC is always AE 42 60 82: one bit off
    f["crc_iend.png"] = SIG + ihdr(16, 16) + idat_rows(rows) + chunk(b"IEND", crc=0xAE426083)
    f["text_2k.png"] = benign_rgb(chunk(b"tEXt", b"Comment\0" + b"x" * 2048))

    # --------------------------------------------------------- IDAT data
    full = full_stream(rows)
    f["idat_truncated.png"] = png(ihdr(16, 16), chunk(b"IDAT", full[:len(full) // 2]))
    extra_rows = rows + rows[:4]  # four rows more than IHDR's height
    f["idat_excess_rows.png"] = png(ihdr(16, 16), idat_rows(extra_rows))
    # a second zlib stream after the image's: inside the IDAT, or as an IDAT of its own
    f["idat_excess_after_stream.png"] = png(ihdr(16, 16),
                                            chunk(b"IDAT", full + zlib.compress(b"\0" * 49)))
    f["idat_excess_chunk.png"] = png(ihdr(16, 16), chunk(b"IDAT", full),
                                     chunk(b"IDAT", zlib.compress(b"\0" * 49)))

    # ------------------------------------------------------ structure
    f["critical_abcd.png"] = benign_rgb(chunk(b"ABCD", b"unknown critical"))
    # IHDR colour type 1 does not exist; bit depth 3 fits no colour type
    f["ihdr_color1.png"] = SIG + ihdr(16, 16, 8, 1) + idat_rows(small_rgb()) + chunk(b"IEND")
    f["ihdr_depth3.png"] = SIG + ihdr(16, 16, 3, 2) + idat_rows(small_rgb()) + chunk(b"IEND")
    # colour-space chunks: kept by default, dropped with keep_colorspace = no
    f["gama_srgb.png"] = benign_rgb(chunk(b"gAMA", struct.pack(">I", 45455)) +
                                    chunk(b"sRGB", b"\0"))
    f["order_plte_after_idat.png"] = benign_rgb(extra_after=chunk(b"PLTE", PAL4))
    split = zlib.compress(raw_rows(rows), 9)
    h = len(split) // 2
    f["order_idat_split.png"] = png(ihdr(16, 16), chunk(b"IDAT", split[:h]),
                                    chunk(b"tEXt", b"Comment\0between"), chunk(b"IDAT", split[h:]))
    f["order_trns_before_plte.png"] = palette_png([[0, 1, 2, 3]] * 4, trns=bytes([0, 255]),
                                                  order="trns-plte")
    f["cgbi.png"] = SIG + chunk(b"CgBI", b"\x50\x00\x20\x06") + ihdr(16, 16) + \
        idat_rows(rows) + iend

    # ------------------------------------------------------- bombs, ICC
    zeros = bytes(50 * 1024 * 1024)
    bomb = zlib.compress(zeros, 9)
    f["iccp_bomb.png"] = benign_rgb(chunk(b"iCCP", b"bomb\0\0" + bomb))
    f["ztxt_bomb.png"] = benign_rgb(chunk(b"zTXt", b"Comment\0\0" + bomb))
    f["iccp_srgb.png"] = benign_rgb(iccp(srgb_profile()))
    garbage = b"NOT AN ICC PROFILE " * 40
    f["iccp_garbage.png"] = benign_rgb(iccp(garbage, b"garbage"))

    # ------------------------------------------- sRGB with iCCP (repaired)
    # PNG 3rd edition: iCCP takes precedence over sRGB; browsers show such
    # files, so the rebuild keeps the profile and drops sRGB (note.repaired)
    srgb = chunk(b"sRGB", b"\0")
    f["srgb_iccp.png"] = benign_rgb(srgb + iccp(srgb_profile()))
    f["iccp_srgb_order.png"] = benign_rgb(iccp(srgb_profile()) + srgb)
    f["srgb_iccp_garbage.png"] = benign_rgb(srgb + iccp(garbage, b"garbage"))
    # ------------------- malformed ancillary chunks the rebuild drops anyway
    f["text_empty_keyword.png"] = benign_rgb(chunk(b"tEXt", b"\0no keyword " + MARKER))
    f["text_no_separator.png"] = benign_rgb(chunk(b"tEXt", b"Comment " + MARKER))
    f["ztxt_long_keyword.png"] = benign_rgb(chunk(b"zTXt", b"K" * 90 + b"\0\0" +
                                                  zlib.compress(MARKER)))
    f["itxt_empty_keyword.png"] = benign_rgb(chunk(b"iTXt", b"\0\0\0en\0\0" + MARKER))
    f["time_bad_length.png"] = benign_rgb(chunk(b"tIME", struct.pack(">HBBBB", 2024, 5, 17, 12, 30)))
    f["time_bad_values.png"] = benign_rgb(chunk(b"tIME", struct.pack(">HBBBBB", 2024, 13, 40, 25, 61, 99)))
    f["phys_bad.png"] = benign_rgb(chunk(b"pHYs", b"\0" * 5))
    f["bkgd_bad.png"] = benign_rgb(chunk(b"bKGD", b"\1"))
    f["sbit_bad.png"] = benign_rgb(chunk(b"sBIT", b"\0\9\9"))
    f["unknown_ancillary_bad.png"] = benign_rgb(
        chunk(b"vpAg", b"\xff" * 3) + chunk(b"zzZz", random.Random(11).randbytes(64) + MARKER))
    # ...but a malformed chunk the rebuild keeps still rejects
    f["gama_bad_length.png"] = benign_rgb(chunk(b"gAMA", b"\0\1\2"))
    f["srgb_bad_intent.png"] = benign_rgb(chunk(b"sRGB", b"\7"))
    f["srgb_twice.png"] = benign_rgb(srgb + srgb)
    f["chrm_bad_length.png"] = benign_rgb(chunk(b"cHRM", bytes(31)))
    f["iccp_bad_method.png"] = benign_rgb(chunk(b"iCCP", b"sRGB\0\1" + zlib.compress(srgb_profile())))
    f["iccp_twice.png"] = benign_rgb(iccp(srgb_profile()) + iccp(srgb_profile()))
    f["trns_gray_bad.png"] = png(ihdr(16, 16, 8, 0), chunk(b"tRNS", b"\0"),
                                 idat_rows(gradient(16, 16, 0)))

    # ------------------------------------------------------------ APNG
    f["apng.png"] = apng()
    f["apng_seq_gap.png"] = apng(gap=True)
    f["apng_frame_count.png"] = apng(frames_declared=3)

    # ------------------------------------------------------- tails
    f["tail_zip.png"] = base + zip_bytes(["readme.txt", "data/x.bin"])
    f["tail_jar.png"] = base + zip_bytes(["META-INF/MANIFEST.MF", "Main.class"])
    f["tail_html.png"] = base + b"<html><script>alert(document.cookie)</script></html>\n"
    f["tail_svg.png"] = base + b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>\n'
    f["tail_pdf.png"] = base + b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    f["tail_elf.png"] = base + elf_header()
    f["tail_script.png"] = base + b"#!/bin/sh\nrm -rf \"$HOME\"\n"
    f["tail_zeros.png"] = base + bytes(100)
    f["tail_pe.png"] = base + b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + bytes(20)
    f["tail_gzip.png"] = base + b"\x1f\x8b\x08\0\0\0\0\0\0\x03" + zlib.compress(b"x" * 100)[2:-4]
    f["tail_php.png"] = base + b"\n\n<?php system($_GET['c']); ?>\n"
    rnd = random.Random(20040804).randbytes(4096)
    eocd = b"PK\x05\x06" + bytes(18)
    f["tail_eocd_at_end.png"] = base + rnd + eocd

    # ----------------------------------------------------- not PNG at all
    f["empty.png"] = b""
    f["bad_signature.png"] = b"\x89PNG\n\x1a\n" + base[8:]  # CR LF became LF
    f["bad_signature.bin"] = b"\x89PNG\n\x1a\n" + base[8:]
    return f


def main():
    out = os.path.join(sys.argv[1], "png")
    os.makedirs(out, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
