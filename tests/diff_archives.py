#!/usr/bin/python3
"""Differential test: libimsafe against the archive readers people use.

For every ZIP and tar the suites hold (generated fixtures, the third-party
corpus, the fuzz seeds and regression inputs) plus --count archives made by
a seeded generator (plain and mutated ZIP, tar and tar.gz), tests/zip_list
says what libimsafe saw.  For every archive libimsafe passes, each reader
must list exactly those entries, or refuse the file:

  Info-ZIP      zipinfo -l (names, sizes, types), unzip -Z1 (names)   ZIP
  libarchive    bsdtar -tvf FILE (seeking), cat FILE | bsdtar -tvf -   all
  Python        zipfile / tarfile (in this process)                   all
  7-Zip         7zz l -slt (or 7z from p7zip-full)                    ZIP, tar

A reader refuses when it exits with an error status (unzip >= 2, bsdtar
and 7-Zip != 0) or raises.  Entries are compared as a multiset of
(name, kind, size):
  - name: bytes decoded as UTF-8 (ZIP names without the UTF-8 flag or a
    Unicode Path as CP437, Python's choice), '\\' and runs of '/' as one
    '/', leading "./" and trailing '/' removed, Unicode NFC (bsdtar's
    escapes of '\\' and unprintable bytes undone first).  Non-ASCII ZIP names are compared
    by count only where a reader converts them by design: names in a
    legacy code page (every reader picks its own), and, for Info-ZIP,
    names of entries made on FAT/NTFS/VFAT, which it passes through its
    OEM-to-ISO table even when they carry the UTF-8 flag;
  - kind: directory or file;
  - size: uncompressed bytes, files only; bsdtar reading a stream lists 0
    for a ZIP entry whose sizes follow its data (flag bit 3), so that
    size is not compared there.
For tar.gz the tar inside is the archive; 7-Zip lists the gzip member
instead, so it is not asked.

Any disagreement fails the test.  Prints the counts: archives tried,
passed by libimsafe, reader runs, refusals, disagreements.
Exit 0, 1 (disagreement, or an ordinary archive from a real writer
rejected) or 99 (a reader is missing: build.sh installs unzip, zip,
libarchive-tools and 7zip; a missing oracle is a hard error, never a skip).
jar (OpenJDK) is used when installed and reported as skipped otherwise.
"""
import argparse
import concurrent.futures
import gzip
import io
import os
import random
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib

# every ZIP entry gets one fixed time: the same fixture bytes on every run
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

READERS = {
    "zipinfo": os.environ["IMSAFE_ZIPINFO"],
    "unzip": os.environ["IMSAFE_UNZIP"],
    "bsdtar": os.environ["IMSAFE_BSDTAR"],
}
SEVENZIP = [os.environ["IMSAFE_7Z"]]
ENV = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC")
TIMEOUT = 60


# ------------------------------------------------------------ normalisation

def norm(name):
    name = re.sub("/+", "/", name.replace("\\", "/"))
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    if name == ".":
        name = ""
    return unicodedata.normalize("NFC", name)


def entry(name, is_dir, size, opaque=False):
    """One comparable entry.  opaque: the name is compared by count only."""
    return ("<legacy>" if opaque else norm(name), "d" if is_dir else "f",
            None if is_dir else size if size == "*" else int(size))


def legacy_opaque(raw, kind):
    return bool(kind & 2) and any(b >= 0x80 for b in raw)


# ------------------------------------------------------------ libimsafe

def run_lister(lister, paths):
    """{path: (verdict, reason, [entries at depth d: (depth, kind, size, raw)])}"""
    out = subprocess.run([lister], input="\n".join(paths) + "\n", capture_output=True,
                         text=True, check=True, env=ENV).stdout
    res, cur = {}, None
    for line in out.splitlines():
        if line.startswith("F "):
            _, verdict, reason, path = line.split(" ", 3)
            cur = res[path] = (verdict, reason, [])
        elif line.startswith("E "):
            _, depth, kind, size, hexname = (line.split(" ") + [""])[:5]
            cur[2].append((int(depth), int(kind), int(size), bytes.fromhex(hexname)))
    return res


def imsafe_view(kind, entries, reader=""):
    """The entries of the archive readers open (depth 0: the tar of a
    tar.gz is walked at the gzip's level), as this reader shows them."""
    depth = 0
    view = []
    for d, k, size, raw in entries:
        if d != depth:
            continue
        opaque = legacy_opaque(raw, k) or (reader in ("zipinfo", "unzip") and bool(k & 8)
                                           and any(b >= 0x80 for b in raw))
        if reader == "bsdtar-stream" and k & 4:
            size = "*"  # 0 when bsdtar cannot know it before the data
        name = raw.decode("cp437") if (k & 2) else raw.decode("utf-8", "surrogateescape")
        view.append(entry(name, k & 1, size, opaque))
    return sorted(view, key=repr)


# ------------------------------------------------------------ readers

def proc(argv, data=None):
    try:
        r = subprocess.run(argv, input=data, capture_output=True, env=ENV, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b""
    return r.returncode, r.stdout


ZIPINFO_LINE = re.compile(r"^(\S+)\s+(\d+\.\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+"
                          r"(\S+)\s+(\S+) (.*)$")
BSDTAR_LINE = re.compile(r"^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+) (.*)$")


def r_zipinfo(path, legacy):
    rc, out = proc([READERS["zipinfo"], "-l", path])
    if rc is None or rc >= 2:
        return None
    ents = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        m = ZIPINFO_LINE.match(line)
        if m:
            ents.append(entry(m.group(10), m.group(10).endswith("/"), int(m.group(4))))
    return ents


def bsdtar_unescape(s):
    """bsdtar prints '\\' as two and unprintable bytes as \\ooo."""
    out, i = bytearray(), 0
    raw = s.encode("utf-8", "surrogateescape")
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1:i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif raw[i] == 0x5C and re.match(rb"[0-7]{3}", raw[i + 1:i + 4]):
            out.append(int(raw[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def r_unzip(path, legacy):
    rc, out = proc([READERS["unzip"], "-Z1", path])
    if rc is None or rc >= 2:
        return None
    if out.strip() == b"Empty zipfile.":
        return []
    return [(n, None, None) for n in out.decode("utf-8", "surrogateescape").splitlines()]


def parse_bsdtar(out):
    ents = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        m = BSDTAR_LINE.match(line)
        if not m:
            return None
        ents.append(entry(bsdtar_unescape(m.group(9)), m.group(1).startswith("d"), m.group(5)))
    return ents


def r_bsdtar_seek(path, legacy):
    rc, out = proc([READERS["bsdtar"], "-tvf", path])
    return None if rc != 0 else parse_bsdtar(out)


def r_bsdtar_stream(path, legacy):
    with open(path, "rb") as f:
        data = f.read()
    rc, out = proc([READERS["bsdtar"], "-tvf", "-"], data)
    return None if rc != 0 else parse_bsdtar(out)


def r_python_zip(path, legacy):
    try:
        with zipfile.ZipFile(path) as z:
            return [entry(i.filename, i.is_dir(), i.file_size) for i in z.infolist()]
    except Exception:
        return None


def r_python_tar(path, legacy):
    try:
        with tarfile.open(path) as t:
            return [entry(m.name, m.isdir(), m.size) for m in t.getmembers()]
    except Exception:
        return None


def r_7z(path, legacy):
    rc, out = proc([SEVENZIP[0], "l", "-slt", "-sccUTF-8", path])
    if rc is None or rc != 0:
        return None
    text = out.decode("utf-8", "surrogateescape")
    if "\n----------\n" not in text:
        return None
    ents, cur = [], {}
    for line in text.split("\n----------\n", 1)[1].splitlines() + [""]:
        if line == "":
            if "Path" in cur:
                is_dir = cur.get("Folder") == "+"
                ents.append(entry(cur["Path"], is_dir, cur.get("Size") or 0,
                                  legacy.get(norm(cur["Path"]), False)))
            cur = {}
        elif " = " in line:
            k, v = line.split(" = ", 1)
            cur[k] = v
    return ents


def readers_for(kind):
    if kind == "zip":
        return [("zipinfo", r_zipinfo), ("unzip", r_unzip), ("bsdtar", r_bsdtar_seek),
                ("bsdtar-stream", r_bsdtar_stream), ("python", r_python_zip), ("7zip", r_7z)]
    if kind == "tar":
        return [("bsdtar", r_bsdtar_seek), ("bsdtar-stream", r_bsdtar_stream),
                ("python", r_python_tar), ("7zip", r_7z)]
    return [("bsdtar", r_bsdtar_seek), ("bsdtar-stream", r_bsdtar_stream),
            ("python", r_python_tar)]


def compare(want, got, names_only):
    """Multisets equal.  When libimsafe saw a legacy code-page name, any
    non-ASCII name a reader prints stands for it (compared by count)."""
    legacy = any(w[0] == "<legacy>" for w in want)
    known = {w[0] for w in want if w[0] != "<legacy>"}

    def mask(name):
        # a legacy name is compared by count: any name the reader shows
        # that libimsafe did not see stands for one
        return "<legacy>" if legacy and name not in known else name
    fix = [(mask(norm(g[0]) if names_only else g[0]),) + tuple(g[1:]) for g in got]
    anysize = {w[:2] for w in want if len(w) > 2 and w[2] == "*"}
    fix = [f[:2] + ("*",) if f[:2] in anysize else f for f in fix]
    if names_only:
        return sorted(w[0] for w in want) == sorted(f[0] for f in fix)
    return sorted(want, key=repr) == sorted(fix, key=repr)


def check(path, kind, ents):
    """[(reader, status)], status 'agree', 'refused' or a disagreement text."""
    legacy = {}
    results = []
    for name, fn in readers_for(kind):
        want = imsafe_view(kind, ents, name)
        got = fn(path, legacy)
        if got is None:
            results.append((name, "refused"))
        elif compare(want, got, name == "unzip"):
            results.append((name, "agree"))
        else:
            results.append((name, "libimsafe %r, %s %r" % (want[:6], name, sorted(got, key=repr)[:6])))
    return results


# ------------------------------------------------------------ archive kinds

def kind_of(path):
    try:
        with open(path, "rb") as f:
            head = f.read(600)
    except OSError:
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:3] == b"\x1f\x8b\x08":
        try:
            with gzip.open(path) as g:
                inner = g.read(600)
        except Exception:
            return None
        if len(inner) >= 262 and inner[257:262] == b"ustar":
            return "tgz"
    return None


def suite_archives(roots):
    found = []
    for root in roots:
        if not root or not os.path.isdir(root):
            continue
        for d, _, files in os.walk(root):
            for f in sorted(files):
                p = os.path.join(d, f)
                k = kind_of(p)
                if k:
                    found.append((p, k))
    return found


# ------------------------------------------------------------ generator

NAMES = ["readme.txt", "notes.md", "data/table.csv", "docs/", "docs/a.txt", "img/photo.jpg",
         "Фото 2024.txt", "日本語.txt", "café.txt", "a b c.txt", "x+y=z.txt", "100%.txt",
         "[draft] #1.txt", "deep/er/still/deeper/file.txt", "empty.txt", "UPPER.TXT",
         "naïve/", "naïve/résumé.txt", "emoji😀.txt", "tab\there.txt", "a.b.c.d",
         "~tilde.txt", "it's.txt", "semi;colon.txt", "comma,name.txt", "e\u0301cole.txt"]
TEXT = b"Minutes of the meeting.\nNothing to report.\n"


def rand_data(rng):
    k = rng.random()
    if k < 0.2:
        return b""
    if k < 0.6:
        return TEXT * rng.randint(1, 40)
    if k < 0.8:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
    return bytes(rng.randint(1, 20000))


def pick_names(rng):
    names = rng.sample(NAMES, rng.randint(1, 5))
    # a file under a directory name is fine; drop exact duplicates after norm
    seen, out = set(), []
    for n in names:
        if norm(n).lower() not in seen:
            seen.add(norm(n).lower())
            out.append(n)
    return out


def gen_zip_python(rng):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in pick_names(rng):
            info = zipfile.ZipInfo(n, (2024, 1, 1, 12, 0, 0))
            info.compress_type = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
            if rng.random() < 0.3:
                info.create_system = 0
                info.external_attr = 0x10 if n.endswith("/") else 0x20
            z.writestr(info, b"" if n.endswith("/") else rand_data(rng))
        if rng.random() < 0.2:
            z.comment = b"a comment " * rng.randint(1, 5)
    return buf.getvalue()


def dos(e):
    return struct.pack("<HH", 0x6000, 0x5821)


def gen_zip_hand(rng):
    """Local headers, descriptors, extras and attributes chosen at random."""
    out, cd = bytearray(), bytearray()
    names = pick_names(rng)
    for n in names:
        raw_name = n.encode()
        data = b"" if n.endswith("/") else rand_data(rng)
        method = 0 if n.endswith("/") or rng.random() < 0.4 else 8
        comp = data if method == 0 else zlib.compress(data, 6)[2:-4]
        crc = zlib.crc32(data)
        flags = 0x800 if (rng.random() < 0.7 or any(b >= 0x80 for b in raw_name)) else 0
        desc = method == 8 and rng.random() < 0.3
        if desc:
            flags |= 8
        lx = b""
        cx = b""
        if rng.random() < 0.4:  # Info-ZIP timestamps: local has more than central
            lx += struct.pack("<HHBIII", 0x5455, 13, 7, 1704110400, 1704110400, 1704110400)
            cx += struct.pack("<HHBI", 0x5455, 5, 7, 1704110400)
        if rng.random() < 0.2:
            lx += struct.pack("<HHBBIBI", 0x7875, 11, 1, 4, 1000, 4, 1000)
            cx += struct.pack("<HH", 0x7875, 0)
        if rng.random() < 0.15 and not flags & 0x800:
            up = struct.pack("<BI", 1, zlib.crc32(raw_name)) + raw_name
            lx += struct.pack("<HH", 0x7075, len(up)) + up
            cx += struct.pack("<HH", 0x7075, len(up)) + up
        made, eattr = rng.choice([(0x031E, (0o40755 if n.endswith("/") else 0o100644) << 16),
                                  (0x0014, 0x10 if n.endswith("/") else 0x20), (0x0A3F, 0),
                                  (0x0314, 0)])
        off = len(out)
        lcrc, lcs, lus = (0, 0, 0) if desc else (crc, len(comp), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0x6000, 0x5821,
                           lcrc, lcs, lus, len(raw_name), len(lx)) + raw_name + lx + comp
        if desc:
            sig = struct.pack("<I", 0x08074B50) if rng.random() < 0.7 else b""
            out += sig + struct.pack("<III", crc, len(comp), len(data))
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, made, 20, flags, method, 0x6000,
                          0x5821, crc, len(comp), len(data), len(raw_name), len(cx), 0, 0, 0,
                          eattr, off) + raw_name + cx
    comment = b"" if rng.random() < 0.8 else b"archive comment"
    cd_off = len(out)
    out += cd
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(cd), cd_off,
                       len(comment)) + comment
    return bytes(out)


def gen_tar(rng):
    fmt = rng.choice([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for n in pick_names(rng):
            if fmt == tarfile.USTAR_FORMAT and any(ord(c) >= 0x80 for c in n):
                n = "ascii-%d.txt" % rng.randint(0, 999)
            if rng.random() < 0.2:
                n = "long/" * rng.randint(20, 40) + n.rstrip("/")
                if fmt == tarfile.USTAR_FORMAT and len(n) > 250:
                    n = n[-90:].lstrip("/")
            info = tarfile.TarInfo(n)
            info.mtime = 1704110400
            if n.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                try:
                    t.addfile(info)
                except ValueError:
                    pass
                continue
            data = rand_data(rng)
            info.size = len(data)
            try:
                t.addfile(info, io.BytesIO(data))
            except ValueError:
                pass
    return buf.getvalue()


def tar_checksum(h):
    h = bytearray(h)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def mutate(rng, data, kind):
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not b:
            break
        m = rng.random()
        i = rng.randrange(len(b))
        if m < 0.45:
            b[i] ^= 1 << rng.randrange(8)
        elif m < 0.55:
            b[i] = rng.choice([0, 0xFF, 0x2F, 0x5C, 0x2E, 0x3A, ord("P"), ord("K"), 3, 4, 5, 6])
        elif m < 0.65:
            del b[i:i + rng.randint(1, 64)]
        elif m < 0.75:
            b[i:i] = rng.choice([b"PK\x03\x04", b"PK\x05\x06", b"PK\x01\x02", b"\0" * 512,
                                 bytes(rng.getrandbits(8) for _ in range(16))])
        elif m < 0.85:
            b += rng.choice([b"\0" * 512, b"junk", b"PK\x05\x06" + bytes(18)])
        else:
            b = b[:rng.randrange(len(b))]
        if kind == "tar" and len(b) >= 512 and rng.random() < 0.8:
            # fix the checksum of the header that was hit, so the walk goes on
            h = (i // 512) * 512
            if h + 512 <= len(b) and b[h + 257:h + 262] == b"ustar":
                b[h:h + 512] = tar_checksum(b[h:h + 512])
    return bytes(b)


NAME_BITS = [b"\\", b"/", b":", b".", b" ", b"..", b"./", b"a", b"~1", b"\xc3\xa9", b"\x82",
             b"CON", b"%2e", b"*", b"\x00", b"\t", b"//", b"COM1", b".exe", b".txt"]
TAR_FIELDS = [(0, 100), (100, 8), (108, 8), (124, 12), (136, 12), (156, 1), (157, 100),
              (257, 8), (329, 8), (337, 8), (345, 155)]
TAR_VALUES = [b"0", b"5", b"2", b"x", b"g", b"L", b"\0", b"7", b"S", b"ustar  \0",
              b"ustar\x0000", b"0000644\0", b"   17 \0", b"\x80\0\0\0\0\0\0\0\0\0\x01\0",
              b"a/b", b"../x", b"dir/", b"x\\y", b"12\0 34", b"prefix", b"\xd0\xa4.txt"]


def mutate_zip_fields(rng, b):
    """Change one entry the same way in its local and central header, so
    the archive stays consistent and the readers get a say."""
    cens = [i for i in range(len(b) - 46) if b[i:i + 4] == b"PK\x01\x02"]
    if not cens:
        return b
    c = rng.choice(cens)
    nlen = struct.unpack("<H", b[c + 28:c + 30])[0]
    loc = struct.unpack("<I", b[c + 42:c + 46])[0]
    ok_loc = loc + 30 <= len(b) and b[loc:loc + 4] == b"PK\x03\x04" and \
        struct.unpack("<H", b[loc + 26:loc + 28])[0] == nlen
    m = rng.random()
    if m < 0.5 and nlen > 0 and ok_loc:
        pos = rng.randrange(nlen)
        bit = rng.choice(NAME_BITS)[:nlen - pos]
        b[c + 46 + pos:c + 46 + pos + len(bit)] = bit
        b[loc + 30 + pos:loc + 30 + pos + len(bit)] = bit
    elif m < 0.7:
        b[c + 38:c + 42] = struct.pack("<I", rng.choice(
            [0, 0x10, 0x20, 0x400, 0x8000, 0o100644 << 16, 0o40755 << 16, 0o120777 << 16,
             0o20644 << 16, rng.getrandbits(32)]))
    elif m < 0.85:
        b[c + 5] = rng.choice([0, 3, 10, 11, 14, 19, 30])
    elif ok_loc:
        bit = rng.choice([0x800, 0x1, 0x8, 0x2, 0x4])
        for at in (c + 8, loc + 6):
            b[at:at + 2] = struct.pack("<H", struct.unpack("<H", b[at:at + 2])[0] ^ bit)
    return b


def mutate_tar_fields(rng, b):
    """Set one header field to a chosen value and fix the checksum."""
    heads = [h for h in range(0, len(b) - 511, 512) if b[h + 257:h + 262] == b"ustar"]
    if not heads:
        return b
    h = rng.choice(heads)
    off, size = rng.choice(TAR_FIELDS)
    v = rng.choice(TAR_VALUES)[:size]
    b[h + off:h + off + len(v)] = v
    if rng.random() < 0.5:
        b[h + off + len(v):h + off + size] = bytes(size - len(v))
    b[h:h + 512] = tar_checksum(b[h:h + 512])
    return b


def generate(outdir, count, seed=13):
    rng = random.Random(seed)
    made = []
    for i in range(count):
        r = rng.random()
        if r < 0.3:
            data, kind = gen_zip_python(rng), "zip"
        elif r < 0.6:
            data, kind = gen_zip_hand(rng), "zip"
        else:
            data, kind = gen_tar(rng), "tar"
        m = rng.random()
        if m < 0.35:
            data = mutate(rng, data, kind)
        elif m < 0.7:
            data = bytes((mutate_zip_fields if kind == "zip" else mutate_tar_fields)(
                rng, bytearray(data)))
        if kind == "tar" and rng.random() < 0.25:
            data = gzip.compress(data, mtime=0)
        p = os.path.join(outdir, "g%05d.%s" % (i, kind))
        with open(p, "wb") as f:
            f.write(data)
        made.append(p)
    return made


# ------------------------------------------------------------ real writers

def make_tree(root):
    """A small ordinary tree: text, an empty file and directory, a UTF-8
    name, a path past 100 bytes (tar long names), a ZIP and a tar.gz."""
    files = {
        "docs/readme.txt": TEXT * 3,
        "docs/Отчёт 2024.txt": TEXT,
        "docs/empty.txt": b"",
        "data/table.csv": b"a,b\n1,2\n" * 300,
        "deep/" + "sub-directory/" * 8 + "notes.txt": TEXT,
        "attachments/inner.zip": None,
        "attachments/bundle.tar.gz": None,
    }
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
    os.makedirs(os.path.join(root, "empty-dir"), exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("inner.txt", date_time=ZIP_TIME), TEXT,
                   compress_type=z.compression)
    with open(os.path.join(root, "attachments/inner.zip"), "wb") as f:
        f.write(buf.getvalue())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("inside.txt")
        info.size = len(TEXT)
        t.addfile(info, io.BytesIO(TEXT))
    with open(os.path.join(root, "attachments/bundle.tar.gz"), "wb") as f:
        f.write(buf.getvalue())


def real_archives(outdir):
    """Ordinary archives from the writers people use; each must pass.
    Returns [(path, writer)] and the writers that are not installed."""
    tree = os.path.join(outdir, "tree")
    make_tree(tree)
    sz = SEVENZIP[0]
    cmds = [
        ("zip -r", "zip-r.zip", [os.environ["IMSAFE_ZIP"], "-q", "-r", "-X", "@OUT", "."]),
        ("zip -r (UTF-8 extras)", "zip-r-extras.zip", [os.environ["IMSAFE_ZIP"], "-q", "-r", "@OUT", "."]),
        ("zip -0", "zip-0.zip", [os.environ["IMSAFE_ZIP"], "-q", "-r", "-0", "@OUT", "."]),
        ("7-Zip zip", "7z.zip", [sz, "a", "-tzip", "-bd", "-bso0", "@OUT", "."]),
        ("7-Zip tar", "7z.tar", [sz, "a", "-ttar", "-bd", "-bso0", "@OUT", "."]),
        ("jar", "jar.zip", [os.environ.get("IMSAFE_JAR") or "/nonexistent/jar", "--create", "--no-manifest", "--file", "@OUT",
                            "."]),
        ("GNU tar ustar", "gnu-ustar.tar", [os.environ["IMSAFE_TAR"], "--format=ustar", "-cf", "@OUT",
                                            "docs", "data", "attachments", "empty-dir"]),
        ("GNU tar gnu", "gnu-gnu.tar", [os.environ["IMSAFE_TAR"], "--format=gnu", "-cf", "@OUT", "."]),
        ("GNU tar posix", "gnu-posix.tar", [os.environ["IMSAFE_TAR"], "--format=posix", "-cf", "@OUT", "."]),
        ("GNU tar czf", "gnu.tar.gz", [os.environ["IMSAFE_TAR"], "-czf", "@OUT", "."]),
        ("bsdtar pax", "bsd-pax.tar", [READERS["bsdtar"], "--format", "pax", "-cf", "@OUT",
                                       "."]),
        ("bsdtar gnutar", "bsd-gnu.tar", [READERS["bsdtar"], "--format", "gnutar", "-cf",
                                          "@OUT", "."]),
        ("bsdtar zip", "bsd.zip", [READERS["bsdtar"], "--format", "zip", "-cf", "@OUT", "."]),
    ]
    made, missing = [], []
    for writer, name, argv in cmds:
        if not os.path.exists(argv[0]):
            missing.append(writer)
            continue
        out = os.path.join(outdir, name)
        argv = [out if a == "@OUT" else a for a in argv]
        subprocess.run(argv, cwd=tree, check=True, env=ENV, stdout=subprocess.DEVNULL)
        made.append((out, writer))
    py = os.path.join(outdir, "python.zip")
    with zipfile.ZipFile(py, "w", zipfile.ZIP_DEFLATED) as z:
        for d, dirs, files in sorted(os.walk(tree)):
            for f in sorted(dirs + files):
                full = os.path.join(d, f)
                z.write(full, os.path.relpath(full, tree))
    made.append((py, "Python zipfile"))
    for fmt, label in ((tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "GNU"),
                       (tarfile.PAX_FORMAT, "pax")):
        out = os.path.join(outdir, "python-%s.tar" % label)
        with tarfile.open(out, "w", format=fmt) as t:
            if fmt == tarfile.USTAR_FORMAT:
                for top in ("docs", "data", "attachments", "empty-dir"):
                    t.add(os.path.join(tree, top), top)
            else:
                t.add(tree, ".")
        made.append((out, "Python tarfile " + label))
    return made, missing


# ------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lister", required=True)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="write the generated archives here and keep them")
    args = ap.parse_args()
    missing = [p for p in READERS.values() if not os.path.exists(p)]
    if missing or not SEVENZIP:
        print("hard error: reader missing: %s" % (missing or "7zz/7z"))
        return 99
    if not os.path.exists(args.lister):
        print("hard error: %s not built" % args.lister)
        return 99
    roots = [os.environ.get("IMSAFE_FIXTURES"), os.environ.get("IMSAFE_CORPUS"),
             os.path.join(os.environ.get("IMSAFE_BUILDDIR", ""), "fuzz", "seeds"),
             os.path.join(os.environ.get("IMSAFE_SRCDIR", ""), "fuzz", "regress")]
    suite = suite_archives(roots)
    tmp = tempfile.TemporaryDirectory(prefix="imsafe-diff.")
    gendir = args.keep or tmp.name
    os.makedirs(gendir, exist_ok=True)
    generated = generate(gendir, args.count)
    realdir = os.path.join(gendir, "real")
    os.makedirs(realdir, exist_ok=True)
    real, missing_writers = real_archives(realdir)
    suite += [(p, kind_of(p)) for p, _ in real]
    kinds = dict(suite)
    for p in generated:
        kinds[p] = kind_of(p)
    paths = [p for p, _ in suite] + generated
    seen = run_lister(args.lister, paths)
    todo = []
    for p in paths:
        verdict, reason, ents = seen.get(p, ("error", "-", []))
        if verdict == "error":
            print("hard error: zip_list failed on %s" % p)
            return 99
        if verdict == "passed" and kinds.get(p):
            todo.append((p, kinds[p], ents))
    runs = refused = 0
    bad = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for (p, kind, want), res in zip(todo, ex.map(lambda t: check(*t), todo)):
            for reader, status in res:
                runs += 1
                if status == "refused":
                    refused += 1
                elif status != "agree":
                    bad.append((p, reader, status))
    n_suite = len(suite)
    for p, writer in real:
        if seen[p][0] != "passed":
            bad.append((p, writer, "an ordinary archive is %s (%s)" % seen[p][:2]))
    print("ordinary archives from real writers: %d (%s)%s" % (
        len(real), ", ".join(w for _, w in real),
        "; not installed, skipped: " + ", ".join(missing_writers) if missing_writers else ""))
    passed_suite = sum(1 for p, _ in suite if seen[p][0] == "passed")
    passed_gen = sum(1 for p in generated if seen[p][0] == "passed")
    for p, reader, status in bad[:40]:
        print("DISAGREE %s [%s]: %s" % (p, reader, status))
    print("archives tried: %d (suites %d, generated %d, seed 13)"
          % (len(paths), n_suite, len(generated)))
    print("passed by libimsafe: %d (suites %d, generated %d)"
          % (len(todo), passed_suite, passed_gen))
    print("reader runs: %d, refusals: %d, disagreements: %d" % (runs, refused, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
