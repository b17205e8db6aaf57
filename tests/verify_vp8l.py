#!/usr/bin/python3
"""verify_vp8l.py - libwebp (dwebp) as the oracle for the VP8L test streams.

Every stream tests/gen/gen_vp8l.py writes is wrapped in a minimal RIFF
(an is_alpha stream gets a VP8L header in front: the headerless alpha
stream is a VP8L image body) and decoded by dwebp ($IMSAFE_DWEBP).  The
generator's INDEX.tsv says what libwebp must do: "ok" for every valid
stream, so the test encoder really writes what libwebp reads, and "fail"
for the hostile ones, so each is a real rejection and not an artefact of
our reader.  A hostile stream marked "ok" is one where libimsafe is
stricter than libwebp on purpose; they are listed on stdout.
"""
import os
import struct
import subprocess
import sys
import tempfile


def riff(payload, w, h, alpha):
    if alpha:
        bits = 0x2F | (w - 1) << 8 | (h - 1) << 22 | 1 << 36
        payload = bits.to_bytes(5, "little") + payload
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    if len(payload) & 1:
        chunk += b"\0"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def main():
    dwebp = os.environ.get("IMSAFE_DWEBP")
    fixtures = os.environ.get("IMSAFE_FIXTURES")
    if not dwebp or not fixtures:
        print("hard error: IMSAFE_DWEBP and IMSAFE_FIXTURES must be set (make check)")
        return 99
    d = os.path.join(fixtures, "vp8l")
    failed = passed = 0
    stricter = []
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(d, "INDEX.tsv")) as idx:
        for line in idx:
            if line.startswith("#") or not line.strip():
                continue
            name, w, h, alpha, expect, _, libwebp = line.rstrip("\n").split("\t")
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            path = os.path.join(tmp, name + ".webp")
            with open(path, "wb") as f:
                f.write(riff(data, int(w), int(h), alpha == "1"))
            r = subprocess.run([dwebp, path, "-pam", "-o", os.path.join(tmp, "out.pam")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            got = "ok" if r.returncode == 0 else "fail"
            if got != libwebp:
                failed += 1
                print("FAIL %s: dwebp says %s, expected %s: %s" %
                      (name, got, libwebp, r.stderr.decode(errors="replace").strip()[-200:]))
            else:
                passed += 1
            if expect != "none" and libwebp == "ok":
                stricter.append("%s (%s)" % (name, expect))
    for s in stricter:
        print("stricter than libwebp on purpose: " + s)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
