#!/usr/bin/python3
"""gen_jpeg.py OUTDIR - writes the JPEG fixtures into OUTDIR/jpeg/.

Benign files come from Pillow; hostile ones are assembled marker by marker
(T.81 annex B) so each carries exactly one defect.  tests/expect/jpeg.tsv
names the verdict, reason and notes each must get.
"""
import io
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

from PIL import Image, ImageCms

# every ZIP entry gets one fixed time: the same fixture bytes on every run
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# An ASCII string planted in the GPS and description tags: the sanitized
# output must not contain it (expect column 8).
GPS_MARKER = b"IMSAFE-GPS-48.8583N-2.2945E"


def photo(w=64, h=48, mode="RGB"):
    """A deterministic photo-like gradient with some texture."""
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 255) // w, (y * 255) // h, ((x * y) * 7 + x * 13) % 256)
                for y in range(h) for x in range(w)])
    return im.convert(mode) if mode != "RGB" else im


def big_photo(w=1280, h=1024):
    """A larger photo-like image (gradients), for the memory budget rows."""
    r = Image.linear_gradient("L").resize((w, h))
    g = Image.radial_gradient("L").resize((w, h))
    b = r.transpose(Image.Transpose.ROTATE_90).resize((w, h))
    return Image.merge("RGB", (r, g, b))


def jpeg_bytes(im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=85, **kw)
    return b.getvalue()


def seg(marker, payload):
    """One marker segment: FF marker, u16 length (counting itself), payload."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def segments(data):
    """Split a JPEG into (marker, whole segment bytes) up to the first SOS;
    returns the list and the offset of the first SOS."""
    out, pos = [], 2
    while True:
        m = data[pos + 1]
        n = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if m == 0xDA:
            return out, pos
        out.append((m, data[pos:pos + 2 + n]))
        pos += 2 + n


def insert_after_app0(data, extra):
    """Put extra segments right after SOI and the APP0 Pillow writes."""
    segs, _ = segments(data)
    assert segs[0][0] == 0xE0
    cut = 2 + len(segs[0][1])
    return data[:cut] + extra + data[cut:]


def tiff_ifd(entries, next_ifd, base, be=True):
    """An IFD at offset base: entries are (tag, type, count, value_bytes);
    values over 4 bytes go after the IFD.  Returns (ifd bytes, data bytes)."""
    e = ">" if be else "<"
    ifd = struct.pack(e + "H", len(entries))
    data = b""
    data_at = base + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in entries:
        if len(value) <= 4:
            ifd += struct.pack(e + "HHI", tag, typ, count) + value.ljust(4, b"\0")
        else:
            ifd += struct.pack(e + "HHII", tag, typ, count, data_at + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")
    ifd += struct.pack(e + "I", next_ifd)
    return ifd, data


def exif_gps(orientation=6):
    """EXIF: IFD0 with description, orientation and a GPS IFD pointer."""
    desc = GPS_MARKER + b" holiday\0"
    n0 = 3
    ifd0_len = 2 + 12 * n0 + 4
    gps_at = 8 + ifd0_len + len(desc) + (len(desc) % 2)
    ifd0, data0 = tiff_ifd([
        (0x010E, 2, len(desc), desc),
        (0x0112, 3, 1, struct.pack(">H", orientation)),
        (0x8825, 4, 1, struct.pack(">I", gps_at)),
    ], 0, 8)
    area = b"ASCII\0\0\0" + GPS_MARKER
    gps, gdata = tiff_ifd([
        (0x0001, 2, 2, b"N\0"),
        (0x0002, 5, 3, struct.pack(">6I", 48, 1, 51, 1, 2999, 100)),
        (0x001C, 7, len(area), area),
    ], 0, gps_at)
    tiff = b"MM\0*" + struct.pack(">I", 8) + ifd0 + data0 + gps + gdata
    return b"Exif\0\0" + tiff


def exif_cyclic():
    """IFD0's next-IFD link points back at IFD0 itself."""
    ifd0, _ = tiff_ifd([(0x0112, 3, 1, struct.pack("<H", 6))], 8, 8, be=False)
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd0


def exif_cyclic_sub():
    """The Exif sub-IFD pointer of IFD0 points back at IFD0."""
    ifd0, _ = tiff_ifd([(0x0112, 3, 1, struct.pack(">H", 3)),
                        (0x8769, 4, 1, struct.pack(">I", 8))], 0, 8)
    return b"Exif\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd0


def exif_huge_count():
    """An entry claiming 2^30 LONGs at an offset inside the segment."""
    ifd0, _ = tiff_ifd([(0x0112, 3, 1, struct.pack(">H", 8)),
                        (0x0110, 4, 0x40000000, struct.pack(">I", 8))], 0, 8)
    return b"Exif\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd0


def exif_huge_entries():
    """IFD0 claims 65535 entries in a 30-byte segment."""
    return b"Exif\0\0" + b"MM\0*" + struct.pack(">IH", 8, 0xFFFF) + b"\0" * 16


# --- raw marker streams ------------------------------------------------------

DQT = seg(0xDB, b"\x00" + bytes([1] * 64))
# the DC luminance table of T.81 K.3 (12 symbols)
DHT_DC = seg(0xC4, b"\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
             + bytes(range(12)))
DHT_AC = seg(0xC4, b"\x10" + bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D])
             + bytes(range(162)))


def sof(marker, w, h, comps=1, precision=8):
    c = b"".join(bytes([i + 1, 0x11, 0]) for i in range(comps))
    return seg(marker, bytes([precision]) + struct.pack(">HH", h, w) + bytes([comps]) + c)


def sos(comps=1, ss=0, se=63, ahal=0):
    c = b"".join(bytes([i + 1, 0x00]) for i in range(comps))
    return seg(0xDA, bytes([comps]) + c + bytes([ss, se, ahal]))


def raw(*parts):
    return b"\xFF\xD8" + b"".join(parts) + b"\xFF\xD9"


def scan_bomb(scans=5000):
    """A legal-looking progressive stream of thousands of tiny scans
    (THREATS.md #12): one DC first scan, then endless DC refinements."""
    body = [DQT, sof(0xC2, 8, 8), DHT_DC, sos(1, 0, 0, 0x01), b"\x00"]
    for _ in range(scans):
        body += [sos(1, 0, 0, 0x10), b"\x00"]
    return raw(*body)


def icc_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def icc_segments(profile, chunk, count=None, seqs=None):
    """APP2 ICC_PROFILE chain with chunk-sized pieces (ICC.1 annex B.4)."""
    pieces = [profile[i:i + chunk] for i in range(0, len(profile), chunk)]
    n = len(pieces) if count is None else count
    seqs = seqs or list(range(1, len(pieces) + 1))
    return b"".join(seg(0xE2, b"ICC_PROFILE\0" + bytes([s, n]) + p)
                    for s, p in zip(seqs, pieces))


def zip_bytes():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("payload.txt", date_time=ZIP_TIME), "not an image\n",
                   compress_type=z.compression)
    return b.getvalue()


# --- repairs and progressive output ------------------------------------------

def jpegtran(data, *args, script=None):
    """/usr/bin/jpegtran (libjpeg-turbo-progs) on data; script: a -scans
    script, for a sender's own progression or a multi-scan sequential file."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [os.environ["IMSAFE_JPEGTRAN"], "-copy", "none"] + list(args)
        if script is not None:
            path = os.path.join(tmp, "scans.txt")
            with open(path, "w", encoding="ascii") as fh:
                fh.write(script)
            cmd += ["-scans", path]
        return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def scan_ends(data):
    """Offsets just past each scan's entropy-coded data (T.81 B.1.1.5:
    FF00 is a stuffed byte, FFD0..FFD7 a restart marker, FF fill bytes)."""
    pos, ends = 2, []
    while pos + 4 <= len(data):
        m = data[pos + 1]
        if m == 0xD9:
            break
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if m != 0xDA:
            continue
        while pos + 1 < len(data):
            if data[pos] == 0xFF and data[pos + 1] not in (0x00, 0xFF) and \
                    not 0xD0 <= data[pos + 1] <= 0xD7:
                break
            pos += 1
        ends.append(pos)
    return ends


# A sender's own progression (spectral selection only, no successive
# approximation): the output must use libjpeg's standard script instead.
CUSTOM_SCRIPT = "0,1,2: 0-0, 0, 0;\n0: 1-63, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n"
# a partial one the standard script cannot express (luma AC 1..9 only)
ODD_SCRIPT = "0,1,2: 0-0, 0, 0;\n0: 1-9, 0, 0;\n"
# three sequential scans, one per component (a multi-scan baseline file)
MULTISCAN_SCRIPT = "0: 0-63, 0, 0;\n1: 0-63, 0, 0;\n2: 0-63, 0, 0;\n"


def repairs(base, prog):
    """Missing EOI (repaired: note.repaired), cuts that still reject, and
    progressive inputs for jpeg_progressive; *.ref.jpg are the files the
    outputs must decode to (tests/verify_repairs.py)."""
    f = {}
    ends = scan_ends(prog)
    f["no_eoi_ff.jpg"] = base[:-1]  # FF of the EOI kept, D9 missing
    f["no_eoi_progressive.jpg"] = prog[:-2]
    # a progressive file cut right after its third scan: every scan it
    # declares is whole, so only the EOI is missing
    f["cut_at_scan_progressive.jpg"] = prog[:ends[2]]
    f["partial_progressive.jpg"] = prog[:ends[2]] + b"\xFF\xD9"
    # cut inside the last scan's entropy-coded data: MCUs without data
    f["truncated_progressive.jpg"] = prog[:(ends[-2] + ends[-1]) // 2]
    multi = jpegtran(base, script=MULTISCAN_SCRIPT)
    mends = scan_ends(multi)
    f["multiscan.jpg"] = multi
    f["multiscan_no_eoi.jpg"] = multi[:-2]
    f["multiscan_cut_at_scan.jpg"] = multi[:mends[0]]  # Cb and Cr never coded
    arith = jpegtran(base, "-arithmetic")
    f["arith.jpg"] = arith
    f["arith_no_eoi.jpg"] = arith[:-2]
    custom = jpegtran(base, script=CUSTOM_SCRIPT)
    f["custom_script.jpg"] = custom
    f["custom_script_partial.jpg"] = custom[:scan_ends(custom)[1]] + b"\xFF\xD9"
    odd = jpegtran(base, script=ODD_SCRIPT)
    f["custom_script_odd.jpg"] = odd
    # its coefficients, sequential: what a decoder shows without smoothing
    f["custom_script_odd.ref.jpg"] = jpegtran(odd, "-optimize")
    # libjpeg's all-purpose script for one and four components
    gray = jpeg_bytes(photo(mode="L"), progressive=True)
    f["progressive_gray.jpg"] = gray
    f["progressive_gray_partial.jpg"] = gray[:scan_ends(gray)[2]] + b"\xFF\xD9"
    f["progressive_cmyk.jpg"] = jpeg_bytes(photo(mode="CMYK"), progressive=True)
    return f


def fixtures():
    base = jpeg_bytes(photo())
    segs, sos_at = segments(base)
    f = {}
    f["plain.jpg"] = base
    f["photo_exif_gps.jpg"] = insert_after_app0(base, seg(0xE1, exif_gps(6)))
    f["orientation1.jpg"] = insert_after_app0(base, seg(0xE1, exif_gps(1)))
    f["exif_cyclic.jpg"] = insert_after_app0(base, seg(0xE1, exif_cyclic()))
    f["exif_cyclic_sub.jpg"] = insert_after_app0(base, seg(0xE1, exif_cyclic_sub()))
    f["exif_huge_count.jpg"] = insert_after_app0(base, seg(0xE1, exif_huge_count()))
    f["exif_huge_entries.jpg"] = insert_after_app0(base, seg(0xE1, exif_huge_entries()))
    f["comment_xmp.jpg"] = insert_after_app0(
        base, seg(0xFE, b"IMSAFE-COMMENT") +
        seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>IMSAFE-XMP</x:xmpmeta>"))
    f["big.jpg"] = jpeg_bytes(big_photo())
    f["progressive.jpg"] = jpeg_bytes(photo(), progressive=True)
    f["scan_bomb.jpg"] = scan_bomb(5000)
    f["huge_sof.jpg"] = raw(DQT, sof(0xC0, 65535, 65535), DHT_DC, DHT_AC, sos(), b"\x00" * 4)
    f["wide_sof.jpg"] = raw(DQT, sof(0xC0, 40000, 16), DHT_DC, DHT_AC, sos(), b"\x00" * 4)
    f["pixel_flood.jpg"] = raw(DQT, sof(0xC0, 30000, 30000), DHT_DC, DHT_AC, sos(), b"\x00" * 4)
    f["appended_zip.jpg"] = base + zip_bytes()
    f["appended_html.jpg"] = base + b"<html><body><script>alert(1)</script></body></html>\n"
    f["padding.jpg"] = base + b"\0" * 200
    f["truncated.jpg"] = base[:sos_at + (len(base) - sos_at) // 2]
    f["no_eoi.jpg"] = base[:-2]
    bad_dht = seg(0xC4, b"\x00" + bytes([0, 0, 0, 0, 0, 0, 0, 0, 200, 100, 0, 0, 0, 0, 0, 0])
                  + bytes(300))
    f["bad_dht.jpg"] = raw(DQT, sof(0xC0, 8, 8), bad_dht, DHT_AC, sos(), b"\x00" * 4)
    oversub = seg(0xC4, b"\x00" + bytes([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                  + bytes(range(3)))
    f["oversubscribed_dht.jpg"] = raw(DQT, sof(0xC0, 8, 8), oversub, DHT_AC, sos(), b"\x00" * 4)
    f["zero_dqt.jpg"] = raw(seg(0xDB, b"\x00" + bytes(64)), sof(0xC0, 8, 8), DHT_DC, DHT_AC,
                            sos(), b"\x00" * 4)
    f["sof1_12bit.jpg"] = raw(DQT, sof(0xC1, 8, 8, precision=12), DHT_DC, DHT_AC, sos(), b"\0")
    f["sof3_lossless.jpg"] = raw(sof(0xC3, 8, 8, precision=16), DHT_DC, sos(1, 1, 0, 0), b"\0")
    f["sof5_hierarchical.jpg"] = raw(DQT, sof(0xC5, 8, 8), DHT_DC, DHT_AC, sos(), b"\0")
    # frame headers the walk refuses: sampling factor 5, no components
    bad_sampling = seg(0xC0, bytes([8]) + struct.pack(">HH", 8, 8) + bytes([1, 1, 0x51, 0]))
    f["sof_sampling5.jpg"] = raw(DQT, bad_sampling, DHT_DC, DHT_AC, sos(), b"\0")
    f["sof_no_components.jpg"] = raw(DQT, sof(0xC0, 8, 8, comps=0), DHT_DC, DHT_AC, b"\0")
    # two components: no colour space pixel mode can re-encode
    f["two_components.jpg"] = raw(DQT, sof(0xC0, 8, 8, comps=2), DHT_DC, DHT_AC, sos(comps=2),
                                  b"\0" * 4)
    f["sos_before_sof.jpg"] = raw(DQT, DHT_DC, DHT_AC, sos(), b"\0", sof(0xC0, 8, 8))
    f["length_past_end.jpg"] = base[:2] + b"\xFF\xE1\xFF\xF0Exif\0\0"
    f["com_length_zero.jpg"] = insert_after_app0(base, b"\xFF\xFE\x00\x00")
    f["missing_soi.jpg"] = base[2:]
    f["garbage_between_segments.jpg"] = insert_after_app0(base, b"\x12\x34\x56")
    # bytes libjpeg reports as "extraneous bytes before marker 0xd9" (a warning)
    f["extraneous_before_eoi.jpg"] = base[:-2] + b"\x12\x34\x56\xFF\xD9"
    f["cmyk.jpg"] = jpeg_bytes(photo(mode="CMYK"))
    f["gray.jpg"] = jpeg_bytes(photo(mode="L"))
    prof = icc_profile()
    f["icc_split.jpg"] = insert_after_app0(base, icc_segments(prof, 100))
    f["icc_missing_chunk.jpg"] = insert_after_app0(
        base, icc_segments(prof, 100, count=len(prof) // 100 + 2))
    f["icc_double_seq.jpg"] = insert_after_app0(
        base, icc_segments(prof, 100, seqs=[1] * (len(prof) // 100 + 1)))
    bad_prof = bytearray(prof)
    bad_prof[128:132] = struct.pack(">I", 1000)  # tag count past the profile
    f["icc_bad_tags.jpg"] = insert_after_app0(base, icc_segments(bytes(bad_prof), 60000))
    f["mpo_like.jpg"] = base + base  # a second picture after EOI (phone MPF)
    f.update(repairs(base, f["progressive.jpg"]))
    return f


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_jpeg.py OUTDIR")
    out = os.path.join(sys.argv[1], "jpeg")
    os.makedirs(out, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
