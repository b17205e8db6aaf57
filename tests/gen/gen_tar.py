#!/usr/bin/python3
"""tar fixtures for libimsafe's tar walker (libimsafe/tar.c), checked by
tests/test_fixtures.c through tests/expect/tar.tsv.

Benign archives come from Python's tarfile in its three formats (ustar,
GNU, pax) and travel alone, inside gzip and inside ZIP; hostile ones are
tarfile output with one field changed, or blocks written by hand, each
breaking one rule.

Usage: gen_tar.py OUTDIR    (writes OUTDIR/tar/*)
"""
import gzip
import io
import lzma
import os
import sys
import tarfile
import zipfile

TEXT = b"Minutes of the meeting.\nNothing to report.\n"
ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
MTIME = 1704110400  # 2024-01-01 12:00 UTC, fixed for repeatable bytes


def member(name, data=b"", kind=tarfile.REGTYPE, **kw):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    info.mtime = MTIME
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for k, v in kw.items():
        setattr(info, k, v)
    return info, data


def tar(members, fmt=tarfile.PAX_FORMAT, pax_headers=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_headers or {}) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def header(name, size=0, kind=b"0", magic=b"ustar\x0000"):
    """One header block written by hand (checksum computed)."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % MTIME
    h[156:157] = kind
    h[257:265] = magic
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(data):
    return data + bytes(-len(data) % 512)


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def in_zip(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 12, 0, 0)), data)
    return buf.getvalue()


def benign(d):
    files = [member("docs/", kind=tarfile.DIRTYPE), member("docs/readme.txt", TEXT),
             member("data/table.csv", b"a,b\n1,2\n" * 100)]
    write(d, "ustar.tar", tar(files, tarfile.USTAR_FORMAT))
    longname = "deep/" * 30 + "notes.txt"  # past 100 bytes: GNU 'L' / pax path
    write(d, "gnu.tar", tar(files + [member(longname, TEXT)], tarfile.GNU_FORMAT))
    write(d, "pax.tar", tar(files + [member(longname, TEXT), member("Фото 2024.txt", TEXT)]))
    write(d, "pax_global_comment.tar", tar(files, pax_headers={"comment": "built for tests"}))
    write(d, "ustar_prefix.tar", tar([member("a" * 60 + "/" + "b" * 60 + ".txt", TEXT)],
                                     tarfile.USTAR_FORMAT))
    write(d, "empty_file.tar", tar([member("empty.txt")]))
    write(d, "dot_slash.tar", tar([member("./", kind=tarfile.DIRTYPE),
                                   member("./a.txt", TEXT)], tarfile.GNU_FORMAT))
    plain = tar(files)
    write(d, "pax.tar.gz", gzip.compress(plain, mtime=0))
    write(d, "tar_in.zip", in_zip("bundle.tar", plain))
    write(d, "tgz_in.zip", in_zip("bundle.tgz", gzip.compress(plain, mtime=0)))
    write(d, "zip_in.tar", tar([member("inner.zip", in_zip("a.txt", TEXT))]))
    write(d, "no_end_blocks.tar", header(b"a.txt", len(TEXT)) + pad(TEXT))


def hostile(d):
    write(d, "symlink.tar", tar([member("passwd", kind=tarfile.SYMTYPE, linkname="/etc/passwd")]))
    write(d, "hardlink.tar", tar([member("a.txt", TEXT),
                                  member("b.txt", kind=tarfile.LNKTYPE, linkname="a.txt")]))
    write(d, "chardev.tar", tar([member("null", kind=tarfile.CHRTYPE)]))
    write(d, "blockdev.tar", tar([member("sda", kind=tarfile.BLKTYPE)]))
    write(d, "fifo.tar", tar([member("pipe", kind=tarfile.FIFOTYPE)]))
    write(d, "traversal.tar", tar([member("../../etc/cron.d/x", TEXT)]))
    write(d, "absolute.tar", tar([member("/etc/cron.d/x", TEXT)]))
    write(d, "exe_name.tar", tar([member("setup.exe", TEXT)]))
    write(d, "elf_content.tar", tar([member("readme.txt", ELF)]))
    write(d, "win_ads.tar", tar([member("a.txt:hidden", TEXT)]))
    write(d, "win_device.tar", tar([member("aux.txt", TEXT)]))
    write(d, "duplicate.tar", tar([member("a.txt", TEXT), member("A.TXT", TEXT)]))
    write(d, "duplicate_dot.tar", tar([member("a.txt", TEXT), member("./a.txt", TEXT)]))
    good = tar([member("a.txt", TEXT)])
    # a member after the end-of-archive blocks (GNU tar -i reads it)
    write(d, "after_end.tar", good + header(b"evil.txt", len(TEXT)) + pad(TEXT))
    # a global pax header that renames every member for Python only
    write(d, "global_pax_path.tar", tar([member("a.txt", TEXT)],
                                        pax_headers={"path": "evil.txt"}))
    # a pax path and a GNU long name for one member
    rec = b"20 path=paxname.txt\n"
    both = (header(b"././@PaxHeader", len(rec), b"x") + pad(rec)
            + header(b"././@LongLink", 13, b"L", b"ustar  \0") + pad(b"gnuname.txt\0\0")
            + header(b"a.txt", len(TEXT)) + pad(TEXT) + bytes(1024))
    write(d, "pax_and_longname.tar", both)
    rec = b"20 path=paxname.txt\n"
    write(d, "pax_padding.tar", header(b"././@PaxHeader", len(rec), b"x") + rec + b"@"
          + bytes(511 - len(rec)) + header(b"a.txt", len(TEXT)) + pad(TEXT) + bytes(1024))
    bad = b"19 path=paxname.txt\n"  # length off by one
    write(d, "pax_bad_record.tar", header(b"././@PaxHeader", len(bad), b"x") + pad(bad)
          + header(b"a.txt", len(TEXT)) + pad(TEXT) + bytes(1024))
    first = header(b"a.txt", len(TEXT)) + pad(TEXT)  # a good first header: sniffed as tar
    h = bytearray(header(b"b.txt", 0))
    h[0] ^= 1  # name changes, checksum does not
    write(d, "bad_checksum.tar", first + bytes(h) + bytes(1024))
    write(d, "truncated.tar", good[:700])
    junk = bytearray(header(b"b.txt", 0))
    junk[124:136] = b"0000000001x\0"
    junk[148:156] = b" " * 8
    junk[148:156] = b"%06o\0 " % sum(junk)
    write(d, "size_junk.tar", first + bytes(junk) + bytes(1024))
    junk = bytearray(header(b"b.txt", 0))
    junk[337:345] = b"@\0\0\0\0\0\0\0"  # devminor: Python ends the archive here
    junk[148:156] = b" " * 8
    junk[148:156] = b"%06o\0 " % sum(junk)
    write(d, "number_junk.tar", first + bytes(junk) + bytes(1024))
    gp = bytearray(header(b"b.txt", 0, b"0", b"ustar  \0"))
    gp[345:357] = b"14544524500\0"  # an atime: Python reads it as a name prefix
    gp[148:156] = b" " * 8
    gp[148:156] = b"%06o\0 " % sum(gp)
    write(d, "gnu_prefix.tar", first + bytes(gp) + bytes(1024))
    write(d, "dir_with_data.tar", header(b"d/", len(TEXT), b"5") + pad(TEXT) + bytes(1024))
    write(d, "file_slash_name.tar", header(b"d/", 0, b"0") + bytes(1024))
    write(d, "sparse.tar", header(b"a.txt", 0, b"S", b"ustar  \0") + bytes(1024))
    write(d, "v7_member.tar", first + header(b"b.txt", 0, b"0", bytes(8)) + bytes(1024))
    write(d, "xz_member.tar", tar([member("data.bin", lzma.compress(TEXT))]))
    write(d, "exe.tar.gz", gzip.compress(tar([member("readme.txt", ELF)]), mtime=0))
    write(d, "symlink_tar_in.zip", in_zip("bundle.tar", tar([member(
        "x", kind=tarfile.SYMTYPE, linkname="/etc/passwd")])))
    write(d, "zip_exe_in.tar", tar([member("inner.zip", in_zip("a.txt", ELF))]))


def main():
    d = os.path.join(sys.argv[1], "tar")
    os.makedirs(d, exist_ok=True)
    benign(d)
    hostile(d)


if __name__ == "__main__":
    main()
