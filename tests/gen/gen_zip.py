#!/usr/bin/python3
"""ZIP and gzip fixtures for libimsafe's archive inspection (libimsafe/zip.c),
checked by tests/test_fixtures.c through tests/expect/zip.tsv.

Every archive is written by hand (struct.pack) so that each one breaks
exactly one rule: headers that disagree, entries that overlap, a ZIP64 end
record, an APK signing block.  Bombs are built just over the limits the
expect file sets (a few MB at most, never gigabytes).

Usage: gen_zip.py OUTDIR    (writes OUTDIR/zip/*)
"""
import gzip
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

DOS_TIME, DOS_DATE = 0x6000, 0x5821  # 2024-01-01 12:00, fixed for repeatable bytes

ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(40)
PE = (b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<HH", 0x14C, 0)
      + bytes(64))
CLASS = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(32)
DEX = b"dex\n035\0" + bytes(104)
LNK = b"L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46" + bytes(56)
TEXT = b"Minutes of the meeting.\nNothing to report.\n"


def deflate(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


class Entry:
    """One member; the fields a test wants to break can be overridden."""

    def __init__(self, name, data=b"", method=8, flags=0, **over):
        self.name = name.encode() if isinstance(name, str) else name
        self.data = data
        self.method = method
        self.flags = flags
        if method == 8:
            self.raw = deflate(data)
        elif method == 12:
            import bz2
            self.raw = bz2.compress(data)
        else:
            self.raw = data
        self.crc = zlib.crc32(data)
        self.over = over  # local_name, local_crc, local_method, crc, raw, descriptor, ...

    def get(self, key, default):
        return self.over.get(key, default)


def local_header(e):
    name = e.get("local_name", e.name)
    desc = e.get("descriptor", False)
    flags = e.flags | (8 if desc else 0)
    crc, csize, usize = e.get("local_crc", e.crc), len(e.raw), len(e.data)
    if desc and e.get("zero_local", True):
        crc = csize = usize = 0
    extra = e.get("local_extra", b"")
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, e.get("local_method", e.method),
                       DOS_TIME, DOS_DATE, crc, csize, usize, len(name), len(extra)) + name + extra


def descriptor(e):
    return struct.pack("<IIII", 0x08074B50, e.crc, len(e.raw), len(e.data))


def central_header(e, off):
    flags = e.flags | (8 if e.get("descriptor", False) else 0)
    extra = e.get("central_extra", b"")
    comment = e.get("comment", b"")
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, e.get("made", 0x031E), 20, flags,
                       e.method, DOS_TIME, DOS_DATE, e.get("crc", e.crc), len(e.raw),
                       len(e.data), len(e.name), len(extra), len(comment), 0, 0,
                       e.get("eattr", 0), off) + e.name + extra + comment


def end_record(count, cd_size, cd_off, comment=b""):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_off,
                       len(comment)) + comment


def build(entries, prefix=b"", between=b"", comment=b"", offsets=None):
    """Local headers and data, then `between`, then the central directory.
    offsets: per-entry local offsets to write instead of the true ones."""
    out = bytearray(prefix)
    offs = []
    for e in entries:
        offs.append(len(out))
        out += local_header(e) + e.get("raw_data", e.raw)
        if e.get("descriptor", False):
            out += descriptor(e)
    out += between
    cd_off = len(out)
    for i, e in enumerate(entries):
        out += central_header(e, offsets[i] if offsets else offs[i])
    out += end_record(len(entries), len(out) - cd_off, cd_off, comment)
    return bytes(out)


def write(dirpath, name, data):
    with open(os.path.join(dirpath, name), "wb") as f:
        f.write(data)


# --------------------------------------------------------------- benign

def benign(d):
    """Written with Python's zipfile: a second, independent writer."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in (("notes/readme.txt", TEXT), ("notes/", b""),
                        ("data/table.csv", b"a,b\n1,2\n" * 200),
                        ("Фото 2024.txt", "привет\n".encode())):
            info = zipfile.ZipInfo(n, (2024, 1, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if n.endswith("/") else zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    write(d, "benign.zip", buf.getvalue())
    # the same members written by this script, one stored, one with a
    # data descriptor (signature form), as streaming writers do
    write(d, "benign_descriptor.zip", build([
        Entry("a.txt", TEXT, method=0),
        Entry("b.txt", TEXT * 20, descriptor=True),
    ]))
    write(d, "empty.zip", end_record(0, 0, 0))
    write(d, "docx_like.docx", build([
        Entry("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.'
              b'openxmlformats.org/package/2006/content-types"/>'),
        Entry("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
        Entry("word/document.xml", b'<?xml version="1.0"?><w:document/>' * 10),
    ]))


# ----------------------------------------------------------------- bombs

def overlap_bombs(d):
    # Fifield's non-recursive construction, stored variant: the data of
    # entry i is everything from local header i+1 on (the later headers and
    # the kernel), so the entries overlap and the total output is O(n^2).
    kernel = bytes(100000)
    n = 60
    data = kernel
    members = []
    for i in reversed(range(n)):
        e = Entry("f%03d.bin" % i, data, method=0)
        h = local_header(e)
        members.insert(0, (e, h))
        data = h + data
    out = bytearray(data)  # header 0 followed by everything else
    offs, pos = [], 0
    for e, h in members:
        offs.append(pos)
        pos += len(h)
    cd_off = len(out)
    for (e, h), off in zip(members, offs):
        out += central_header(e, off)
    out += end_record(n, len(out) - cd_off, cd_off)
    write(d, "overlap_quoted.zip", bytes(out))

    # shared compressed data: one local member, many central entries that
    # point at it.  Without overlap detection it inflates 250 x 100 kB,
    # past the 20 MB total the expect file sets.
    e = Entry("k.bin", bytes(100000))
    blob = local_header(e) + e.raw
    cd = bytearray()
    for i in range(250):
        cd += central_header(Entry("k.bin" if i == 0 else "k%03d.bin" % i, bytes(100000)), 0)
    write(d, "overlap_shared.zip", blob + bytes(cd) + end_record(250, len(cd), len(blob)))


def nested(d):
    def wrap(inner_name, inner, levels, method=8):
        data, name = inner, inner_name
        for k in range(levels):
            data = build([Entry(name, data, method=method)])
            name = "level%d.zip" % (levels - k)
        return data
    # level0 holds level1.zip holds level2.zip holds level3.zip: three
    # nested levels, one past the default max_archive_depth of 2
    write(d, "nested_depth3.zip", wrap("payload.txt", TEXT, 4))
    write(d, "nested_depth2.zip", wrap("payload.txt", TEXT, 3))
    write(d, "nested_stored_depth3.zip", wrap("payload.txt", TEXT, 4, method=0))
    # 42.zip in small: each level holds 16 copies of the level below; the
    # bottom entry is 1 MiB of zeros (ratio ~1000:1 past the 1 MiB grace)
    bottom = build([Entry("zeros.bin", bytes(1 << 20) + b"\0")])
    lvl = build([Entry("z%02d.zip" % i, bottom) for i in range(16)])
    write(d, "nested_ratio.zip", build([Entry("l%02d.zip" % i, lvl) for i in range(4)]))
    # a zip inside a gzip inside a zip; and the executable at the bottom
    inner = build([Entry("notes.txt", TEXT)])
    write(d, "nested_gzip_ok.zip", build([Entry("inner.zip.gz", gzip.compress(inner, mtime=0))]))
    evil = build([Entry("readme.txt", ELF)])
    write(d, "nested_gzip_exe.zip", build([Entry("inner.zip.gz", gzip.compress(evil, mtime=0))]))
    write(d, "nested_exe.zip", build([Entry("inner.zip", build([Entry("tool.txt", PE)]))]))
    # archives libimsafe cannot look into, nested where the rules above apply
    write(d, "nested_7z.zip", build([Entry("inner.dat", b"7z\xbc\xaf\x27\x1c" + bytes(26))]))
    write(d, "nested_rar.zip", build([Entry("inner.dat", b"Rar!\x1a\x07\x01\x00" + bytes(24))]))


def ratio(d):
    # just over 100:1 (and just under, as a control): random bytes in a
    # sea of zeros, tuned until deflate lands in the wanted band
    rng = random.Random(5)
    size = 3 << 20

    def make(lo, hi):
        k = size // 110
        for _ in range(200):
            data = bytes(rng.getrandbits(8) for _ in range(k)) + bytes(size - k)
            r = size / len(deflate(data))
            if lo < r < hi:
                return data
            k = int(k * r / ((lo + hi) / 2))
        raise SystemExit("ratio fixture: no convergence")
    write(d, "ratio_over.zip", build([Entry("sparse.bin", make(101, 106))]))
    write(d, "ratio_under.zip", build([Entry("sparse.bin", make(90, 97))]))
    # bytes limit: an entry over max_archive_entry_bytes set in the expect file
    write(d, "entry_bytes.zip", build([Entry("big.txt", TEXT * 30000)]))
    # a declared size that lies low: the inflate runs past it
    e = Entry("lie.txt", TEXT * 100)
    e.data = e.data[:100]  # central and local now declare 100 bytes
    e.crc = zlib.crc32(e.data)
    write(d, "size_lie.zip", build([e]))
    write(d, "entries.zip", build([Entry("e%d.txt" % i, TEXT) for i in range(6)]))


# ------------------------------------------------------------- names

def names(d):
    write(d, "traversal.zip", build([Entry("ok.txt", TEXT), Entry("../../evil.txt", TEXT)]))
    write(d, "traversal_backslash.zip", build([Entry("a\\..\\..\\evil.txt", TEXT)]))
    write(d, "absolute.zip", build([Entry("/etc/cron.d/evil", TEXT)]))
    write(d, "absolute_drive.zip", build([Entry("C:/Windows/evil.txt", TEXT)]))
    write(d, "duplicate.zip", build([Entry("a.txt", TEXT), Entry("a.txt", TEXT * 2)]))
    write(d, "duplicate_case.zip", build([Entry("Report.txt", TEXT), Entry("report.TXT", TEXT)]))
    write(d, "nul_name.zip", build([Entry(b"evil.exe\0.txt", TEXT)]))

    # Info-ZIP Unicode Path extra: 7-Zip and unzip extract under this name
    def upath(shown, real):
        x = struct.pack("<HHBI", 0x7075, 5 + len(real), 1, zlib.crc32(shown)) + real
        return Entry(shown, TEXT, central_extra=x, local_extra=x)
    write(d, "unicode_path_exe.zip", build([upath(b"readme.txt", b"readme.exe")]))
    write(d, "unicode_path_traversal.zip", build([upath(b"readme.txt", b"../readme.txt")]))
    write(d, "unicode_path_ok.zip", build([upath(b"r\x82sum\x82.txt", "résumé.txt".encode())]))
    write(d, "unicode_path_rename.zip", build([upath(b"readme.txt", b"notes.txt")]))


def dangerous(d):
    write(d, "elf_as_txt.zip", build([Entry("readme.txt", ELF)]))
    write(d, "pe_as_txt.zip", build([Entry("docs/readme.txt", PE)]))
    write(d, "script_as_txt.zip", build([Entry("notes.txt", b"#!/bin/sh\nrm -rf ~\n")]))
    write(d, "lnk.zip", build([Entry("photo.jpg.lnk", LNK)]))
    write(d, "exe_name.zip", build([Entry("setup.exe", TEXT)]))
    write(d, "rtlo_name.zip", build([Entry("invoice\u202etxt.scr", TEXT)]))
    write(d, "app_bundle.zip", build([Entry("Tool.app/Contents/Info.plist", TEXT)]))
    # a jar's classes and an apk's dex as a plain .zip (no manifest first,
    # so the content sniffs as zip and the entries decide)
    write(d, "jar_class.zip", build([Entry("com/example/Main.class", CLASS),
                                     Entry("com/example/strings.txt", TEXT)]))
    write(d, "apk_dex.zip", build([Entry("res/values.xml", b"<r/>"), Entry("lib/classes.dex", DEX)]))
    # the same with their usual layout sniff as jar / apk (executables)
    write(d, "real.jar", build([Entry("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                                Entry("Main.class", CLASS)]))
    write(d, "real.apk", build([Entry("AndroidManifest.xml", b"\x03\x00\x08\x00"),
                                Entry("classes.dex", DEX)]))


# ------------------------------------------------- directory entries

GO_SOURCE = b"package errors\n\nfunc New(text string) error { return nil }\n"
DIR_TREE = (("go.mod", b"module example.com/app\n\ngo 1.21\n"),
            ("vendor/github.com/pkg/errors/errors.go", GO_SOURCE),
            ("vendor/golang.org/x/sys/unix/doc.go", b"package unix\n"),
            ("vendor/modules.txt", b"# github.com/pkg/errors v0.9.1\n"))


def directories(d):
    """Directory entries are never executables: a Go vendor tree holds
    "vendor/github.com/" (".com") and "vendor/golang.org/x/sys/unix/".
    Written twice: by Python's zipfile and by Info-ZIP's zip -r of a real
    directory tree (both add an entry per directory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        dirs = sorted({n.rsplit("/", i)[0] + "/" for n, _ in DIR_TREE
                       for i in range(1, n.count("/") + 1)})
        for n in dirs:
            info = zipfile.ZipInfo(n, (2024, 1, 1, 12, 0, 0))
            info.external_attr = (0o40755 << 16) | 0x10  # Unix and MS-DOS directory bits
            z.writestr(info, b"")
        for n, data in DIR_TREE:
            z.writestr(zipfile.ZipInfo(n, (2024, 1, 1, 12, 0, 0)), data)
    write(d, "vendor_dirs_pyzip.zip", buf.getvalue())
    with tempfile.TemporaryDirectory() as tmp:
        for n, data in DIR_TREE:
            path = os.path.join(tmp, n)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        # fixed times, so the archive's bytes repeat from run to run
        for root, subdirs, names in os.walk(tmp):
            for n in subdirs + names:
                os.utime(os.path.join(root, n), (1704110400, 1704110400))
        out = os.path.join(os.path.abspath(d), "vendor_dirs_infozip.zip")
        if os.path.exists(out):
            os.remove(out)
        subprocess.run([os.environ["IMSAFE_ZIP"], "-q", "-r", "-X", out, "go.mod", "vendor"], cwd=tmp,
                       check=True)
    # a directory named like a program holds nothing that runs ...
    write(d, "dir_named_exe.zip", build([Entry("setup.exe/", b"", method=0),
                                         Entry("setup.exe/readme.txt", TEXT)]))
    # ... but a macOS application bundle is a program, as a directory entry too
    write(d, "app_bundle_dir.zip", build([Entry("Tool.app/", b"", method=0)]))
    # a directory entry that carries bytes is still judged by its content
    write(d, "dir_with_pe.zip", build([Entry("vendor/github.com/", PE)]))
    # and a file under a directory is judged by its own name
    write(d, "exe_in_dir.zip", build([Entry("vendor/github.com/", b"", method=0),
                                      Entry("vendor/github.com/setup.exe", TEXT)]))


# ----------------------------------------------------- structure, flags

def structure(d):
    enc = Entry("secret.txt", TEXT, method=0, flags=1)
    enc.raw = bytes(12) + enc.data  # a PKWARE header in front (content not read)
    write(d, "encrypted.zip", build([enc]))
    aes = Entry("secret.txt", TEXT, method=0, flags=1,
                central_extra=struct.pack("<HHH2sBH", 0x9901, 7, 2, b"AE", 3, 8))
    aes.method = 99
    aes.over["local_extra"] = aes.over["central_extra"]
    write(d, "encrypted_aes.zip", build([aes]))
    write(d, "bzip2.zip", build([Entry("data.txt", TEXT * 10, method=12)]))
    write(d, "deflate64.zip", build([Entry("data.txt", TEXT, method=9)]))
    write(d, "mismatch_name.zip", build([Entry("a.txt", TEXT, local_name=b"b.txt")]))
    write(d, "mismatch_crc.zip", build([Entry("a.txt", TEXT, local_crc=0x12345678)]))
    write(d, "mismatch_method.zip", build([Entry("a.txt", TEXT, method=0, local_method=8)]))
    bad = Entry("a.txt", TEXT * 3, descriptor=True)
    bad.over["crc"] = bad.crc  # central right ...
    bad.crc ^= 1               # ... descriptor (and local) wrong
    raw = build([bad])
    write(d, "mismatch_descriptor.zip", raw)
    e = Entry("a.txt", TEXT * 4)
    e.crc ^= 0xFFFF  # both headers agree, the data does not
    write(d, "bad_crc.zip", build([e]))
    e = Entry("a.txt", TEXT * 4)
    e.over["raw_data"] = b"\x07" + e.raw[1:]  # BFINAL=1, BTYPE=11: reserved
    write(d, "bad_deflate.zip", build([e]))
    # a deflate stream that ends early inside its csize (hidden bytes after)
    e = Entry("a.txt", TEXT)
    e.raw = e.raw + b"HIDDEN"
    write(d, "deflate_trailing.zip", build([e]))
    good = build([Entry("a.txt", TEXT), Entry("b.txt", TEXT)])
    write(d, "truncated.zip", good[:len(good) - 30])
    # two end records: one real, one inside the comment of the other
    inner_end = end_record(1, 0, 0)
    z = build([Entry("a.txt", TEXT)])
    cd_off = struct.unpack("<I", z[-6:-2])[0]
    cd_size = struct.unpack("<I", z[-10:-6])[0]
    write(d, "two_end_records.zip", z[:-22] + end_record(1, cd_size, cd_off, inner_end))
    # a hidden local member before the first one the directory lists
    # (streaming extractors see it, central-directory readers do not)
    hidden = local_header(Entry("evil.txt", TEXT)) + Entry("evil.txt", TEXT).raw
    entries = [Entry("a.txt", TEXT)]
    z = build(entries, prefix=hidden)
    write(d, "prefix_hidden_member.zip", z)
    # a gap between two members
    a, b = Entry("a.txt", TEXT), Entry("b.txt", TEXT)
    blob = local_header(a) + a.raw + b"JUNKJUNK"
    offb = len(blob)
    blob += local_header(b) + b.raw
    cd = central_header(a, 0) + central_header(b, offb)
    write(d, "gap.zip", blob + cd + end_record(2, len(cd), len(blob)))
    # self-extracting executable: a PE stub, then the archive (offsets as
    # `cat stub.exe a.zip` leaves them) - sniffed as an executable first
    write(d, "sfx.exe.zip", PE + bytes(200) + build([Entry("a.txt", TEXT)]))


def zip64(d):
    """A ZIP64 archive written by hand: sizes and offset all ones in both
    headers with ZIP64 extra fields, a ZIP64 end record and locator, and an
    end record whose fields are all sentinels."""
    data = TEXT * 5
    raw = deflate(data)
    crc = zlib.crc32(data)
    name = b"big.txt"
    lx = struct.pack("<HHQQ", 1, 16, len(data), len(raw))
    loc = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, DOS_TIME, DOS_DATE, crc,
                      0xFFFFFFFF, 0xFFFFFFFF, len(name), len(lx)) + name + lx
    blob = loc + raw
    cx = struct.pack("<HHQQQ", 1, 24, len(data), len(raw), 0)
    cen = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x032D, 45, 0, 8, DOS_TIME, DOS_DATE,
                      crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(cx), 0, 0, 0, 0,
                      0xFFFFFFFF) + name + cx
    cd_off = len(blob)
    z64_off = cd_off + len(cen)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(cen), cd_off)
    locator = struct.pack("<IIQI", 0x07064B50, 0, z64_off, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    good = blob + cen + z64 + locator + end
    write(d, "zip64.zip", good)
    # the same with the ZIP64 end record's directory offset off by one
    bad_z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(cen), cd_off + 1)
    write(d, "zip64_bad_offset.zip", blob + cen + bad_z64 + locator + end)
    # local ZIP64 sizes that disagree with the central ones
    lx_bad = struct.pack("<HHQQ", 1, 16, len(data) + 1, len(raw))
    loc_bad = loc[:30] + name + lx_bad
    write(d, "zip64_mismatch.zip", loc_bad + raw + cen + z64 + locator + end)


def apk_signing(d):
    """An APK Signing Block between the members and the central directory
    (accepted) and a damaged one (malformed)."""
    entries = [Entry("res/values.xml", b"<resources/>"), Entry("assets/readme.txt", TEXT)]
    pairs = struct.pack("<QI", 4 + 20, 0x7109871A) + bytes(20)
    size = len(pairs) + 8 + 16
    block = struct.pack("<Q", size) + pairs + struct.pack("<Q", size) + b"APK Sig Block 42"
    write(d, "apk_signing_block.zip", build(entries, between=block))
    bad = struct.pack("<Q", size + 8) + pairs + struct.pack("<Q", size) + b"APK Sig Block 42"
    write(d, "apk_signing_block_bad.zip", build(entries, between=bad))


# --------------------------------------------------------------- gzip

def gzips(d):
    write(d, "valid.gz", gzip.compress(TEXT * 50, mtime=0))
    # two members plus every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC)
    body = TEXT * 3
    hdr = bytearray(b"\x1f\x8b\x08" + bytes([0x1E]) + bytes(4) + b"\x00\x03")
    hdr += struct.pack("<H", 6) + b"AB" + struct.pack("<H", 2) + b"xy"
    hdr += b"notes.txt\0" + b"a comment\0"
    hdr += struct.pack("<H", zlib.crc32(bytes(hdr)) & 0xFFFF)
    member2 = bytes(hdr) + deflate(body) + struct.pack("<II", zlib.crc32(body), len(body))
    write(d, "multi_member.gz", gzip.compress(TEXT, mtime=0) + member2)
    bad_hcrc = bytearray(member2)
    bad_hcrc[len(hdr) - 1] ^= 0xFF
    write(d, "bad_header_crc.gz", bytes(bad_hcrc))
    g = bytearray(gzip.compress(TEXT * 50, mtime=0))
    g[-8] ^= 0xFF
    write(d, "bad_crc.gz", bytes(g))
    g = bytearray(gzip.compress(TEXT * 50, mtime=0))
    g[-4] ^= 0x01
    write(d, "bad_isize.gz", bytes(g))
    good = gzip.compress(TEXT * 50, mtime=0)
    write(d, "truncated.gz", good[:len(good) // 2])
    write(d, "truncated_trailer.gz", good[:-3])
    write(d, "trailing_garbage.gz", good + b"GARBAGE!")
    write(d, "ratio_bomb.gz", gzip.compress(bytes(4 << 20), mtime=0))
    write(d, "exe_inside.gz", gzip.compress(ELF + bytes(100), mtime=0))
    named = bytearray(b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\x03" + b"setup.exe\0")
    named += deflate(TEXT) + struct.pack("<II", zlib.crc32(TEXT), len(TEXT))
    write(d, "exe_name.gz", bytes(named))
    write(d, "zip_inside.gz", gzip.compress(build([Entry("a.txt", TEXT)]), mtime=0))
    write(d, "zip_exe_inside.gz", gzip.compress(build([Entry("a.txt", PE)]), mtime=0))
    reserved = bytearray(gzip.compress(TEXT, mtime=0))
    reserved[3] |= 0x80
    write(d, "reserved_flag.gz", bytes(reserved))


# ------------------------------------------- one archive for every reader

def upath_extra(shown, real):
    return struct.pack("<HHBI", 0x7075, 5 + len(real), 1, zlib.crc32(shown)) + real


def ambiguity(d):
    """Archives that read differently in another reader (archive.ambiguous
    or a header mismatch), each with the control that passes."""
    # a complete second archive inside the end record's comment: Python's
    # zipfile takes the last end record signature it finds
    second = build([Entry("evil.txt", TEXT)])
    first = build([Entry("a.txt", TEXT)])
    write(d, "comment_second_archive.zip", first[:-2] + struct.pack("<H", len(second)) + second)
    write(d, "comment_plain.zip", first[:-2] + struct.pack("<H", 13) + b"just a remark")
    # the local Unicode Path renames what the central directory names
    # harmlessly (libarchive extracts the local name)
    x = upath_extra(b"readme.txt", b"readme.pdf")
    write(d, "local_upath_rename.zip", build([Entry("readme.txt", TEXT, local_extra=x)]))
    x2 = upath_extra(b"r\x82sum\x82.txt", "résumé.txt".encode())
    write(d, "central_upath_only.zip", build([Entry(b"r\x82sum\x82.txt", TEXT,
                                                    central_extra=x2)]))
    # a stale Unicode Path (CRC of another name): readers disagree on using it
    stale = struct.pack("<HHBI", 0x7075, 5 + 10, 1, 1234) + b"readme.pdf"
    write(d, "upath_stale.zip", build([Entry("readme.txt", TEXT, local_extra=stale,
                                             central_extra=stale)]))
    # a local extra field that does not parse
    write(d, "local_extra_garbage.zip",
          build([Entry("a.txt", TEXT, local_extra=b"\x01\x00\x40\x00xx")]))
    # a local header hidden in a central extra field / an entry comment
    hidden = local_header(Entry("evil.exe", TEXT)) + Entry("evil.exe", TEXT).raw
    write(d, "extra_hidden_local.zip",
          build([Entry("a.txt", TEXT, central_extra=struct.pack("<HH", 0xCAFE, len(hidden))
                       + hidden)]))
    write(d, "entry_comment_record.zip", build([Entry("a.txt", TEXT, comment=b"PK\x05\x06")]))
    # a stored text entry whose data holds a whole local member
    write(d, "stored_hidden_local.zip",
          build([Entry("notes.txt", TEXT + hidden + TEXT, method=0)]))
    # a stored member that is itself a ZIP (Info-ZIP stores .zip members):
    # walked as a nested archive, so its records are accounted for
    inner = build([Entry("inner.txt", TEXT)])
    write(d, "stored_zip_member.zip", build([Entry("inner.zip", inner, method=0)]))
    # a nested archive after leading bytes, stored and deflated: walked
    # like the same archive at the top level (archive.prefix)
    write(d, "nested_prefix_stored.zip", build([Entry("data.bin", b"JUNK" * 64 + inner,
                                                      method=0)]))
    write(d, "nested_prefix_deflated.zip", build([Entry("data.bin", b"JUNK" * 64 + inner)]))
    # an APK Signing Block in an ordinary ZIP, with a local header in it
    pairs = struct.pack("<QI", 4 + len(hidden), 0x42726577) + hidden
    size = len(pairs) + 8 + 16
    block = struct.pack("<Q", size) + pairs + struct.pack("<Q", size) + b"APK Sig Block 42"
    write(d, "apk_block_hidden_local.zip", build([Entry("a.txt", TEXT)], between=block))
    apk = [Entry("AndroidManifest.xml", b"\x03\x00\x08\x00"), Entry("classes.dex", DEX)]
    write(d, "apk_block_hidden_local.apk", build(apk, between=block))
    pairs = struct.pack("<QI", 4 + 20, 0x7109871A) + bytes(20)
    size = len(pairs) + 8 + 16
    block = struct.pack("<Q", size) + pairs + struct.pack("<Q", size) + b"APK Sig Block 42"
    write(d, "signed.apk", build(apk, between=block))


def links_and_names(d):
    """Non-regular entries (archive.link) and names Windows reads
    differently (archive.ambiguous)."""
    unix = lambda mode: {"made": 0x031E, "eattr": mode << 16}
    write(d, "symlink.zip", build([Entry("passwd", b"/etc/passwd", method=0,
                                         **unix(0o120777))]))
    write(d, "symlink_dir.zip", build([Entry("a.txt", TEXT, **unix(0o100644)),
                                       Entry("up", b"../../..", method=0, **unix(0o120755))]))
    write(d, "device.zip", build([Entry("sda", b"", method=0, **unix(0o060644))]))
    write(d, "fifo.zip", build([Entry("pipe", b"", method=0, **unix(0o010644))]))
    write(d, "reparse.zip", build([Entry("link.txt", TEXT, made=0x000A, eattr=0x420)]))
    write(d, "dirmode_file_name.zip", build([Entry("folder", b"", method=0,
                                                   **unix(0o040755))]))
    write(d, "modes_ok.zip", build([Entry("bin/", b"", method=0, **unix(0o040755)),
                                    Entry("bin/a.txt", TEXT, **unix(0o100644)),
                                    Entry("dos.txt", TEXT, made=0x0014, eattr=0x20)]))
    bad = {"ads.zip": "evil.exe::$DATA", "ads2.zip": "a.exe:x", "dot.zip": "report.pdf.",
           "space.zip": "report.pdf ", "dirdot.zip": "folder./a.txt", "con.zip": "CON",
           "nul_ext.zip": "nul.txt", "com1.zip": "docs/com1.log", "lpt_sup.zip": "LPT\u00b9.txt",
           "angle.zip": "a<b>.txt", "question.zip": "what?.txt", "pipe_char.zip": "a|b.txt",
           "ctrl.zip": "a\x01b.txt"}
    for fixture, name in bad.items():
        write(d, "win_" + fixture, build([Entry(name, TEXT)]))
    write(d, "win_ok.zip", build([Entry(n, TEXT) for n in (
        "console.txt", "com10.txt", "lpt.txt", "auxiliary/notes.txt", ".hidden", "a.b.c.txt",
        "./x.txt")]))


def unsupported(d):
    """Streams and archives libimsafe cannot open, inside an archive."""
    import bz2
    import lzma
    write(d, "nested_xz.zip", build([Entry("data.xz", lzma.compress(TEXT))]))
    write(d, "nested_bzip2.zip", build([Entry("data.bz2", bz2.compress(TEXT))]))
    write(d, "nested_zstd.zip", build([Entry("data.zst", b"\x28\xb5\x2f\xfd" + bytes(20))]))
    write(d, "nested_cab.zip", build([Entry("data.dat", b"MSCF\0\0\0\0" + bytes(40))]))
    write(d, "xz_inside.gz", gzip.compress(lzma.compress(TEXT), mtime=0))


def disk_counts(d):
    """An end record whose "entries on this disk" differs from its "total
    entries" although nothing is split (disk numbers 0, the directory
    complete).  unzip, bsdtar (seeking and streaming), Python and 7-Zip
    all list every entry of such an archive (7-Zip adds a header warning):
    only the total and the directory count, so it is no split archive.
    A real second disk number still is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("notes/readme.txt", TEXT), ("notes/minutes.txt", TEXT * 3)):
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 12, 0, 0)), data, zipfile.ZIP_DEFLATED)
    good = buf.getvalue()
    end = good.rfind(b"PK\5\6")
    for name, off, value in (("disk_count_differs.zip", 8, 1), ("disk_count_zero.zip", 8, 0),
                             ("disk_count_over.zip", 8, 7), ("split_disk_number.zip", 4, 1),
                             ("total_count_short.zip", 10, 1)):
        data = bytearray(good)
        struct.pack_into("<H", data, end + off, value)
        write(d, name, bytes(data))
    # the ZIP64 end record's own "entries on this disk" (its 5th field)
    data = TEXT * 5
    raw = deflate(data)
    name = b"big.txt"
    loc = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, DOS_TIME, DOS_DATE, zlib.crc32(data),
                      len(raw), len(data), len(name), 0) + name
    cen = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x032D, 20, 0, 8, DOS_TIME, DOS_DATE,
                      zlib.crc32(data), len(raw), len(data), len(name), 0, 0, 0, 0, 0,
                      0) + name
    cd_off = len(loc) + len(raw)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 0, 1, len(cen), cd_off)
    locator = struct.pack("<IIQI", 0x07064B50, 0, cd_off + len(cen), 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    write(d, "zip64_disk_count_differs.zip", loc + raw + cen + z64 + locator + end)


def main():
    d = os.path.join(sys.argv[1], "zip")
    os.makedirs(d, exist_ok=True)
    for make in (benign, overlap_bombs, nested, ratio, names, dangerous, directories, structure, zip64,
                 apk_signing, gzips, ambiguity, links_and_names, unsupported, disk_counts):
        make(d)


if __name__ == "__main__":
    main()
