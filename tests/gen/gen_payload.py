#!/usr/bin/python3
"""Payloads passed as is (audio, video, PDF, text), checked by
tests/test_fixtures.c through tests/expect/payload.tsv: the scan every
passed verdict gets in libimsafe/imsafe.c (scan.c's PAYLOAD mode).

Hostile ones carry what a second program acts on, where it looks: a ZIP
appended (unzip, Explorer and Python open an archive from its end), a PDF
header in the first 1024 bytes, markup in the first 512, PHP code.  Benign
ones are long, incompressible media holding the chance matches a scanner
that counted signatures anywhere would trip on ("<svg", "<%" and a run of
printable bytes, "%PDF-" far from the start, an end record that leads to
no central directory), and text that merely mentions a PDF trailer.

Usage: gen_payload.py OUTDIR    (writes OUTDIR/payload/*)
"""
import io
import os
import random
import struct
import sys
import wave
import zipfile

PE = (b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<HH", 0x14C, 0)
      + bytes(64))
TEXT = (b"Minutes of the meeting.\nThe PDF export ends in a trailer: startxref, then "
        b"%%EOF.\nNothing else to report.\n")


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def zip_with_exe():
    """What a dropper appends: an ordinary ZIP holding a program."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("invoice.exe", (2024, 1, 1, 12, 0, 0)), PE)
    return buf.getvalue()


def box(kind, body):
    return struct.pack(">I", 8 + len(body)) + kind + body


def noise(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n)) if n < 4096 else rng.randbytes(n)


def plant(data, rng, chances):
    """Put each chance match at a random place past the first 1024 bytes."""
    out = bytearray(data)
    for c in chances:
        at = rng.randrange(4096, len(out) - 70000 - len(c))
        out[at:at + len(c)] = c
    return bytes(out)


CHANCES = [b"<svg", b"<SCRIPT", b"<html", b"<% a run of printable bytes %>",
           b"<?= a run of printable bytes", b"<? a run of printable bytes", b"%PDF-1.7",
           b"<!--#exec a run", b"PK\1\2" + bytes(42), b"PK\3\4\xff\xff"]


def mp4(rng, size, head_extra=b""):
    ftyp = box(b"ftyp", b"isom\0\0\2\0isomiso2avc1mp41")
    return ftyp + head_extra + box(b"mdat", noise(rng, size))


def mp3(rng, frames, tag_text=b"Track 1"):
    """An ID3v2.3 tag (one TIT2 frame) and MPEG-1 layer III frames at
    128 kbit/s, 44.1 kHz (417 bytes each) with noise as their data."""
    tit2 = b"TIT2" + struct.pack(">I", len(tag_text) + 1) + b"\0\0\0" + tag_text
    size = len(tit2)
    syncsafe = bytes([(size >> 21) & 127, (size >> 14) & 127, (size >> 7) & 127, size & 127])
    out = bytearray(b"ID3\3\0\0" + syncsafe + tit2)
    for _ in range(frames):
        out += b"\xff\xfb\x90\x64" + noise(rng, 413)
    return bytes(out)


def wav(rng, seconds):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(noise(rng, 16000 * seconds))
    return buf.getvalue()


def pdf():
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i + 1, o)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def main():
    d = os.path.join(sys.argv[1], "payload")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(13)
    appended = zip_with_exe()
    # benign: long incompressible media with every chance match planted,
    # and an end record that leads nowhere in the last 64 KiB
    video = plant(mp4(rng, 8 << 20), rng, CHANCES)
    stray_end = b"PK\5\6" + bytes(4) + struct.pack("<HHII", 3, 3, 500, 12345) + b"\0\0"
    write(d, "long_video.mp4", video[:-1000] + stray_end + video[-1000 + len(stray_end):])
    song = plant(mp3(rng, 4000), rng, CHANCES)
    write(d, "song.mp3", song)
    tone = wav(rng, 30)
    write(d, "tone.wav", tone)
    write(d, "notes.txt", TEXT * 40)
    write(d, "plain.pdf", pdf())
    # hostile: a ZIP holding a program appended to each
    write(d, "video_zip.mp4", video + appended)
    write(d, "song_zip.mp3", song + appended)
    write(d, "tone_zip.wav", tone + appended)
    write(d, "plain_zip.pdf", pdf() + appended)
    write(d, "notes_zip.txt", TEXT * 40 + appended)
    # hostile: what a reader finds where it looks
    write(d, "song_pdf_head.mp3", mp3(rng, 50, b"%PDF-1.7 1 0 obj"))
    write(d, "video_html_head.mp4",
          mp4(rng, 100000, box(b"free", b"<html><body onload=alert(1)>")))
    write(d, "video_php.mp4", plant(mp4(rng, 200000), rng,
                                    [b"<?php system($_GET['c']); ?>"]))
    write(d, "video_pdf_trailer.mp4", mp4(rng, 100000) + b"\nstartxref\n116\n%%EOF\n")


if __name__ == "__main__":
    main()
