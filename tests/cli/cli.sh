#!/bin/sh
# cli.sh - imsafe-check(1) end to end: exit status, the --json record,
# -o DIR, --name/--mime, standard input, -j ordering, --policy and
# --print-policy, and names that must never reach a terminal or a JSON
# reader raw.
#
# Inputs are made here with /usr/bin/python3 + Pillow (so this test does not
# depend on the tests/gen fixtures), plus PngSuite files from the corpus:
# $IMSAFE_CORPUS/pngsuite/basn2c08.png (valid), basi2c08.png (interlaced)
# and x*.png (corrupt).
#
# The bundled samples (examples/samples, examples/make-samples.py) are
# checked here too: reproducible, and judged as their README says.
#
# Environment (set by `make check`): IMSAFE_BUILDDIR, IMSAFE_SRCDIR,
# IMSAFE_CORPUS (IMSAFE_FIXTURES is not used).
# Ends with "N passed, N failed"; exit 1 when anything failed, 99 when the
# test cannot run at all.

set -u

PY=$IMSAFE_PYTHON
builddir=${IMSAFE_BUILDDIR:-.}
srcdir=${IMSAFE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
corpus=${IMSAFE_CORPUS:-}
check=$builddir/tools/imsafe-check
out=$builddir/tests/out/cli
in=$out/in

. "${IMSAFE_SRCDIR:?run through make check}/tests/cli/lib.sh"
[ -n "$corpus" ] && [ -f "$corpus/pngsuite/basn2c08.png" ] ||
    hard "corpus not found (IMSAFE_CORPUS='$corpus')"
rm -rf "$out" && mkdir -p "$in" || hard "cannot create $out"

# ------------------------------------------------------------------ inputs

$PY - "$in" <<'EOF' || hard "cannot make the inputs"
import io, os, struct, sys, zipfile, zlib
from PIL import Image, PngImagePlugin

d = sys.argv[1]

def gradient(w, h, mode="RGB"):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 13) % 256, (y * 29) % 256, (x * y) % 256)
                for y in range(h) for x in range(w)])
    return im.convert(mode)

def chunk(t, data):
    return (struct.pack(">I", len(data)) + t + data +
            struct.pack(">I", zlib.crc32(t + data) & 0xffffffff))

def save(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

buf = io.BytesIO()
gradient(16, 16).save(buf, "PNG")
good = buf.getvalue()
save("good.png", good)

# metadata that the rebuild drops
info = PngImagePlugin.PngInfo()
info.add_text("Author", "A. Nonymous")
buf = io.BytesIO()
gradient(12, 9).save(buf, "PNG", pnginfo=info)
save("meta.png", buf.getvalue())

# a ZIP after IEND: a GIFAR-style polyglot
z = io.BytesIO()
with zipfile.ZipFile(z, "w") as zf:
    zi = zipfile.ZipInfo("a.class", date_time=(1980, 1, 1, 0, 0, 0))
    zf.writestr(zi, b"\xca\xfe\xba\xbe" + b"\0" * 16)
save("poly.png", good + z.getvalue())

# tRNS longer than PLTE (CVE-2004-0597)
raw = b"".join(b"\0" + bytes([(x + y) % 2 for x in range(4)]) for y in range(4))
save("trns.png", b"\x89PNG\r\n\x1a\n" +
     chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 3, 0, 0, 0)) +
     chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255])) +
     chunk(b"tRNS", b"\xff" * 40) +
     chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

save("notes.txt", b"plain text is passed as it is\n")
save("run.sh", b"#!/bin/sh\necho hello\n")
buf = io.BytesIO()
gradient(16, 16).save(buf, "PDF", resolution=72.0)
save("doc.pdf", buf.getvalue())

# a pair for every feature kill switch: kf-<feature>-on has the feature,
# kf-<feature>-off is the same kind of payload without it
from PIL import ImageCms
frames = [gradient(8, 8), gradient(8, 8).rotate(90)]
def pair(feature, ext, on_kw, off_kw, fmt, imgs=None):
    for which, kw in (("on", on_kw), ("off", off_kw)):
        buf = io.BytesIO()
        im = (imgs or frames)[0]
        im.save(buf, fmt, **kw)
        save("kf-%s-%s.%s" % (feature, which, ext), buf.getvalue())
anim = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
pair("apng", "png", anim, {}, "PNG")
pair("gif_animated", "gif", anim, {}, "GIF")
pair("webp_animated", "webp", dict(anim, lossless=True), {"lossless": True}, "WEBP")
pair("jpeg_progressive", "jpg", {"progressive": True}, {}, "JPEG")
icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
pair("icc_profile", "png", {"icc_profile": icc}, {}, "PNG")
for which, names in (("on", ["a.txt"]), ("off", [])):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        for n in names:
            zf.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), b"text\n")
    if names:
        save("kf-archives-on.zip", z.getvalue())

# the batch for -j: 20 small PNGs of assorted modes and sizes
modes = ["RGB", "L", "P", "RGBA", "LA"]
for i in range(20):
    buf = io.BytesIO()
    gradient(5 + i, 3 + 2 * i, modes[i % len(modes)]).save(buf, "PNG")
    save("b%02d.png" % i, buf.getvalue())
EOF

# A python prelude for every JSON check: strict UTF-8, one object per line,
# no duplicate keys, the exact key set, null where a value does not apply.
JLIB='
import hashlib, json, os, re, sys
KEYS = {"file", "verdict", "type", "ext", "mime", "reason", "notes", "detail",
        "display_name", "output", "in_bytes", "out_bytes", "sha256_in", "sha256_out"}
HEX = re.compile(r"[0-9a-f]{64}")
def nodup(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate key: %r" % keys
    return dict(pairs)
def shape(r):
    assert set(r) == KEYS, "keys differ: %r" % sorted(set(r) ^ KEYS)
    v = r["verdict"]
    assert v in ("sanitized", "passed", "rejected"), v
    for k in ("file", "type", "ext", "mime", "detail", "display_name"):
        assert isinstance(r[k], str), (k, r[k])
    assert re.fullmatch(r"[a-z0-9]+", r["ext"]), r["ext"]
    assert re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", r["mime"]), r["mime"]
    assert all(" " <= c <= "~" for c in r["detail"]), "detail not printable ASCII"
    assert isinstance(r["notes"], list) and all(isinstance(n, str) for n in r["notes"])
    assert r["in_bytes"] is None or type(r["in_bytes"]) is int and r["in_bytes"] >= 0
    assert r["in_bytes"] is not None or r["reason"] == "limit.input_bytes", r
    assert r["sha256_in"] is None or HEX.fullmatch(r["sha256_in"]), r["sha256_in"]
    if v == "rejected":
        assert isinstance(r["reason"], str) and "." in r["reason"], r["reason"]
        assert r["notes"] == [], "notes on a rejection"
    else:
        assert r["reason"] is None, "reason on an accepted payload"
    if v == "sanitized":
        assert type(r["out_bytes"]) is int and r["out_bytes"] > 0, r["out_bytes"]
        assert HEX.fullmatch(r["sha256_out"] or ""), r["sha256_out"]
    else:
        assert r["out_bytes"] is None and r["sha256_out"] is None, "output fields not null"
    if v == "rejected":
        assert r["output"] is None, "a rejection names an output"
    assert r["output"] is None or isinstance(r["output"], str), r["output"]
def load(path, count=None):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")  # strict: a raw invalid byte fails here
    assert text.endswith("\n"), "no final newline"
    recs = [json.loads(l, object_pairs_hook=nodup) for l in text[:-1].split("\n")]
    for r in recs:
        shape(r)
    assert count is None or len(recs) == count, "%d records, want %d" % (len(recs), count)
    return recs
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
def arg(i):  # a command-line argument as the bytes the CLI saw
    return os.fsencode(sys.argv[i])
'
# jcheck LABEL FILE PYTHON-CODE [ARGS...]: run the code after the prelude
jcheck() {
    label=$1 file=$2 code=$3
    shift 3
    if err=$($PY -c "$JLIB
recs = load(sys.argv[1])
$code" "$file" "$@" 2>&1); then
        pass "$label"
    else
        fail "$label"
        printf '%s\n' "$err" | tail -n 3 | sed 's/^/     /'
    fi
}


good=$in/good.png
xfiles=$(ls "$corpus"/pngsuite/x*.png) || hard "no PngSuite x*.png"
basn=$corpus/pngsuite/basn2c08.png

# --------------------------------------------------------------- exit codes

expect_rc "one valid PNG" 0 "$good"
expect_rc "valid PNG, text and PDF" 0 "$good" "$in/notes.txt" "$in/doc.pdf" "$basn"
# shellcheck disable=SC2086
expect_rc "PngSuite x*.png are rejected" 1 $xfiles
expect_rc "one rejected among accepted" 1 "$good" "$in/poly.png" "$in/notes.txt"
expect_rc "a script" 1 "$in/run.sh"

expect_rc "usage: no input" 2
expect_rc "usage: --name with two inputs" 2 --name a.png "$good" "$basn"
expect_rc "usage: --mime with two inputs" 2 --mime image/png "$good" "$basn"
expect_rc "usage: - with --name and a second input" 2 --name a.png - "$good" <"$good"
mkdir -p "$in/d1" "$in/d2" "$out/o-same" || hard mkdir
cp "$good" "$in/d1/same.png" && cp "$basn" "$in/d2/same.png" || hard cp
expect_rc "usage: -o with two inputs of one base name" 2 -o "$out/o-same" \
    "$in/d1/same.png" "$in/d2/same.png"
[ -z "$(ls -A "$out/o-same")" ]
ok_if "usage error: -o DIR stays empty"
expect_rc "same base name without -o is fine" 0 "$in/d1/same.png" "$in/d2/same.png"
expect_rc "usage: -o to a missing directory" 2 -o "$out/no-such-dir" "$good"
[ ! -e "$out/no-such-dir" ]
ok_if "-o to a missing directory creates nothing"
expect_rc "usage: -o to a regular file" 2 -o "$in/notes.txt" "$good"
for j in 0 -1 abc 2x 257 ''; do
    expect_rc "usage: -j '$j'" 2 -j "$j" "$good"
done
expect_rc "usage: unknown option" 2 --no-such-option "$good"
expect_rc "-j 1 is fine" 0 -j 1 "$good"

# An unreadable input is exit 2 and the batch goes on around it.
run "$good" "$in/no-such-file.png" "$in/d1" "$in/poly.png"
[ "$rc" -eq 2 ]
ok_if "missing file and directory among inputs: exit 2 (got $rc)"
grep -q "good.png: sanitized png" "$out/stdout" &&
    grep -q "poly.png: rejected png \[polyglot.archive\]" "$out/stdout"
ok_if "the other inputs are still reported"
[ "$(wc -l <"$out/stdout")" -eq 2 ]
ok_if "no stdout line for unreadable inputs"
grep -q "no-such-file.png" "$out/stderr" && grep -q "d1" "$out/stderr"
ok_if "stderr names each unreadable input"
run --json "$in/no-such-file.png" "$good"
[ "$rc" -eq 2 ]
ok_if "--json: unreadable input then a good one: exit 2"
jcheck "--json: the readable input is still reported" "$out/stdout" '
assert [r["file"] for r in recs] == [sys.argv[2]], recs' "$good"

# A report that cannot be written must not end in "all accepted": a host
# reading --json from a full disk or a closed pipe would see exit 0 and no
# records.  Like an unreadable input, that is exit 2.
if [ -c /dev/full ]; then
    "$check" --json "$good" >/dev/full 2>"$out/stderr"
    rc=$?
    [ "$rc" -eq 2 ]
    ok_if "stdout write error (/dev/full): exit 2 (got $rc)"
    "$check" --print-policy >/dev/full 2>"$out/stderr"
    rc=$?
    [ "$rc" -eq 2 ]
    ok_if "--print-policy to /dev/full: exit 2 (got $rc)"
fi

# ---------------------------------------------------------------- --json

batch="$good $in/meta.png $in/notes.txt $in/doc.pdf $in/poly.png $in/trns.png $in/run.sh $basn"
# shellcheck disable=SC2086
run --json $batch
[ "$rc" -eq 1 ]
ok_if "--json batch: exit 1"
# shellcheck disable=SC2086
jcheck "--json: shape, file names, sizes and input digests" "$out/stdout" '
paths = sys.argv[2:]
assert len(recs) == len(paths), (len(recs), len(paths))
for r, p in zip(recs, paths):
    assert r["file"] == p, (r["file"], p)
    assert r["display_name"] == os.path.basename(p), r["display_name"]
    assert r["in_bytes"] == os.path.getsize(p), (p, r["in_bytes"])
    assert r["sha256_in"] == sha(p), p
' $batch
jcheck "--json: verdicts, types, reasons and notes" "$out/stdout" '
want = [("sanitized", "png", None), ("sanitized", "png", None),
        ("passed", "text", None), ("passed", "pdf", None),
        ("rejected", "png", "polyglot.archive"), ("rejected", "png", "malformed.png.trns"),
        ("rejected", "script", "type.script"), ("sanitized", "png", None)]
got = [(r["verdict"], r["type"], r["reason"]) for r in recs]
assert got == want, got
assert recs[0]["notes"] == [] and recs[0]["detail"] == "", recs[0]
assert "note.metadata_dropped" in recs[1]["notes"], recs[1]["notes"]
'
# a payload rejected for its claimed name still reports what it is, and a
# rebuilt image claimed as another image type carries its true labels
run --json --name "$(printf 'invoice\342\200\256gnp.exe')" "$good"
jcheck "--json: a name rejection reports the detected type" "$out/stdout" '
r = recs[0]
assert (r["verdict"], r["reason"], r["type"]) == ("rejected", "filename.bidi", "png"), r
assert (r["ext"], r["mime"]) == ("png", "image/png"), r
'
run --json --name sticker.webp --mime image/webp "$good"
jcheck "--json: a PNG claimed as WebP is rebuilt and labelled PNG" "$out/stdout" '
r = recs[0]
assert (r["verdict"], r["type"], r["ext"], r["mime"]) == ("sanitized", "png", "png", "image/png"), r
assert "note.type_mismatch" in r["notes"] and r["display_name"] == "sticker.png", r
'
sum=$(sha256sum "$good" | cut -d" " -f1)
jcheck "--json: sha256_in equals sha256sum" "$out/stdout" '
assert recs[0]["sha256_in"] == sys.argv[2], (recs[0]["sha256_in"], sys.argv[2])' "$sum"

# ---------------------------------------------------------------- -o DIR

o=$out/o
mkdir -p "$o" || hard mkdir
# shellcheck disable=SC2086
run --json -o "$o" $batch
[ "$rc" -eq 1 ]
ok_if "-o batch: exit 1 (got $rc)"
[ ! -s "$out/stderr" ]
ok_if "-o batch: nothing on stderr"
jcheck "-o: outputs match out_bytes/sha256_out, passed copied, rejected absent" \
    "$out/stdout" '
d = sys.argv[2]
for r in recs:
    o = os.path.join(d, os.path.basename(r["file"]))
    if r["verdict"] == "sanitized":
        assert os.path.getsize(o) == r["out_bytes"], o
        assert sha(o) == r["sha256_out"], o
    elif r["verdict"] == "passed":
        assert open(o, "rb").read() == open(r["file"], "rb").read(), o
    else:
        assert not os.path.exists(o), "rejected input written: " + o
names = sorted(os.listdir(d))
want = sorted(os.path.basename(r["file"]) for r in recs if r["verdict"] != "rejected")
assert names == want, names
' "$o"
[ -z "$(find "$out" -name '.imsafe-*')" ]
ok_if "-o: no temporary .imsafe-* file left"
$PY - "$good" "$o/good.png" "$in/meta.png" "$o/meta.png" <<'EOF'
import sys
from PIL import Image
for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):
    a, b = Image.open(src), Image.open(dst)
    assert (a.mode, a.size) == (b.mode, b.size), (src, a.mode, b.mode)
    assert list(a.getdata()) == list(b.getdata()), src
    assert "Author" not in b.info, "tEXt survived"
EOF
ok_if "-o: sanitized PNGs decode (Pillow) to the input's pixels, tEXt gone"
run "$o/good.png" "$o/meta.png"
[ "$rc" -eq 0 ]
ok_if "sanitized outputs are accepted again"

# -o pointing at the input's own directory: the input is never replaced
self=$out/self
mkdir -p "$self" && cp "$in/meta.png" "$self/meta.png" && cp "$in/notes.txt" "$self/" || hard cp
before=$(sha256sum "$self/meta.png" "$self/notes.txt")
run -o "$self" "$self/meta.png" "$self/notes.txt"
[ "$rc" -eq 2 ]
ok_if "-o into the input's directory: exit 2 (got $rc)"
[ "$before" = "$(sha256sum "$self/meta.png" "$self/notes.txt")" ]
ok_if "-o into the input's directory: inputs unchanged byte for byte"
grep -q "meta.png" "$out/stderr" && grep -q "notes.txt" "$out/stderr"
ok_if "-o into the input's directory: stderr names each input"
[ "$(ls -A "$self" | wc -l)" -eq 2 ]
ok_if "-o into the input's directory: no other file created"
# ... also when reached through another path or a hard link
ln "$self/meta.png" "$out/o-same/meta.png" || hard ln
run -o "$self" "$out/o-same/meta.png"
[ "$rc" -eq 2 ] && [ "$before" = "$(sha256sum "$self/meta.png" "$self/notes.txt")" ]
ok_if "-o over a hard link of the input: exit 2, input unchanged"
run -o "$self/" "$out/self/../self/notes.txt"
[ "$rc" -eq 2 ] && [ "$before" = "$(sha256sum "$self/meta.png" "$self/notes.txt")" ]
ok_if "-o over the input by another path: exit 2, input unchanged"

# ------------------------------------------------------- --name and --mime

run --json --name x.exe "$good"
jcheck "PNG claimed as x.exe: rejected type.mismatch" "$out/stdout" '
r, = recs
assert (r["verdict"], r["type"], r["reason"]) == ("rejected", "png", "type.mismatch"), r
assert r["display_name"] == "x.exe" and r["file"] == sys.argv[2], r' "$good"
[ "$rc" -eq 1 ]
ok_if "PNG claimed as x.exe: exit 1"
run --json --name photo.jpg "$good"
jcheck "PNG claimed as photo.jpg: sanitized with note.type_mismatch" "$out/stdout" '
r, = recs
assert (r["verdict"], r["type"]) == ("sanitized", "png"), r
assert "note.type_mismatch" in r["notes"], r["notes"]
assert r["display_name"] == "photo.png", r' 
run --json --mime image/gif "$good"
jcheck "PNG claimed as image/gif: sanitized with note.type_mismatch" "$out/stdout" '
r, = recs
assert r["verdict"] == "sanitized" and "note.type_mismatch" in r["notes"], r'
run --json --mime application/pdf "$good"
jcheck "PNG claimed as application/pdf: rejected type.mismatch" "$out/stdout" '
r, = recs
assert (r["verdict"], r["reason"]) == ("rejected", "type.mismatch"), r'
run --json --name invoice.gif "$in/doc.pdf"
jcheck "PDF claimed as invoice.gif: rejected type.mismatch" "$out/stdout" '
r, = recs
assert (r["verdict"], r["type"], r["reason"]) == ("rejected", "pdf", "type.mismatch"), r'
run --json --name good.png --mime image/png "$in/notes.txt"
jcheck "text claimed as good.png: rejected type.mismatch" "$out/stdout" '
r, = recs
assert (r["verdict"], r["type"], r["reason"]) == ("rejected", "text", "type.mismatch"), r'

# ------------------------------------------------------------------- stdin

run --json --name from-stdin.png - <"$good"
[ "$rc" -eq 0 ]
ok_if "- with --name: exit 0"
jcheck "- with --name: judged, named, digested" "$out/stdout" '
r, = recs
assert r["file"] == "-" and r["display_name"] == "from-stdin.png", r
assert r["verdict"] == "sanitized" and r["sha256_in"] == sha(sys.argv[2]), r
assert r["in_bytes"] == os.path.getsize(sys.argv[2]), r' "$good"
run --json --name x.exe - <"$good"
jcheck "- with --name x.exe: the claimed name decides the mismatch" "$out/stdout" '
r, = recs
assert r["reason"] == "type.mismatch", r'
# Above max_input_bytes the CLI stops reading at limit + 1 bytes; the record
# must still describe the whole input: a digest, when given, is the digest
# of every byte (never of the part that was read), and then in_bytes is the
# whole size.
printf 'max_input_bytes = 50\n' >"$out/small.pol"
run --json --policy "$out/small.pol" "$good"
jcheck "over max_input_bytes (file): rejected, whole size, no partial digest" "$out/stdout" '
r, = recs
assert r["reason"] == "limit.input_bytes", r
assert r["in_bytes"] == os.path.getsize(sys.argv[2]), r
assert r["sha256_in"] in (None, sha(sys.argv[2])), r' "$good"
# a pipe, not a file: the CLI cannot stat the whole size of a pipe
# shellcheck disable=SC2002
cat "$good" | "$check" --json --policy "$out/small.pol" --name big.png - >"$out/stdout"
jcheck "over max_input_bytes (pipe): no digest of a partial read" "$out/stdout" '
r, = recs
assert r["reason"] == "limit.input_bytes", r
assert r["sha256_in"] in (None, sha(sys.argv[2])), "sha256_in is not the input digest"
assert r["sha256_in"] is None or r["in_bytes"] == os.path.getsize(sys.argv[2]), r' "$good"
printf '#!/bin/sh\nid\n' | "$check" --name hi.sh - >"$out/stdout" 2>"$out/stderr"
[ $? -eq 1 ] && grep -q "^-: rejected script \[type.script\]" "$out/stdout"
ok_if "script piped to - is rejected"

# ------------------------------------------------------------ -j ordering

jbatch="$in/b00.png"
for f in "$in"/b*.png; do
    [ "$f" = "$in/b00.png" ] || jbatch="$jbatch $f"
done
jbatch="$jbatch $in/poly.png $in/notes.txt $xfiles $in/trns.png $basn"
nj=$(echo $jbatch | wc -w)
[ "$nj" -ge 30 ] || hard "the -j batch has $nj inputs"
for fmt in "" --json; do
    # shellcheck disable=SC2086
    "$check" $fmt -j 1 $jbatch >"$out/j1" 2>&1
    rc1=$?
    # shellcheck disable=SC2086
    "$check" $fmt -j 4 $jbatch >"$out/j4" 2>&1
    rc4=$?
    [ "$rc1" -eq 1 ] && [ "$rc4" -eq 1 ] && cmp -s "$out/j1" "$out/j4"
    ok_if "-j 1 and -j 4 give identical output ${fmt:-(human)} on $nj inputs"
done
# shellcheck disable=SC2086
jcheck "-j 4 --json: one record per input, in argument order" "$out/j4" '
assert [r["file"] for r in recs] == sys.argv[2:], "order differs"' $jbatch
# shellcheck disable=SC2086
"$check" -j 4 $jbatch >"$out/j4h" 2>&1
i=0
okorder=1
for f in $jbatch; do
    i=$((i + 1))
    sed -n "${i}p" "$out/j4h" | grep -q "^$f: " || okorder=0
done
[ "$okorder" -eq 1 ]
ok_if "-j 4 human lines: one per input, in argument order"

# ------------------------------------------------------------- --isolate
# The same batch judged in isolated workers: the same lines, the same exit
# status, the same output bytes; no helper: exit 2 before any input.
worker=${IMSAFE_WORKER:?run through make check}
# shellcheck disable=SC2086
"$check" --json -j 2 --isolate --isolate-helper "$worker" $jbatch >"$out/jiso" 2>&1
[ $? -eq 1 ] && "$check" --json -j 2 $jbatch >"$out/jinp" 2>&1
[ $? -eq 1 ] && cmp -s "$out/jiso" "$out/jinp"
ok_if "--isolate gives the JSON lines of in-process mode on $nj inputs"
mkdir -p "$out/o-iso" "$out/o-inp"
"$check" -q --isolate --isolate-helper "$worker" -o "$out/o-iso" "$good" "$basn" &&
    "$check" -q -o "$out/o-inp" "$good" "$basn" &&
    cmp -s "$out/o-iso/${good##*/}" "$out/o-inp/${good##*/}" &&
    cmp -s "$out/o-iso/${basn##*/}" "$out/o-inp/${basn##*/}"
ok_if "--isolate -o writes the bytes of in-process mode"
expect_rc "--isolate with a missing helper" 2 --isolate --isolate-helper "$out/no-such-helper" "$good"
grep -q "isolation" "$out/stderr" && [ ! -s "$out/stdout" ]
ok_if "--isolate with a missing helper says why and judges nothing"

# -------------------------------------------------- --policy, --print-policy

"$check" --print-policy >"$out/p1" 2>"$out/stderr"
[ $? -eq 0 ] && [ -s "$out/p1" ]
ok_if "--print-policy prints the defaults"
"$check" --policy "$out/p1" --print-policy >"$out/p2" 2>"$out/stderr"
[ $? -eq 0 ] && cmp -s "$out/p1" "$out/p2"
ok_if "--print-policy of the defaults parses back to the same text"
cat >"$out/custom.pol" <<'EOF'
# a policy with something of every kind
label = "cli-test 1"
max_pixels = 100
max_input_bytes = 64 KiB
tolerate_warnings = yes
action pdf = reject
kill gif message "GIF off pending review" until 2999-01-01T00:00:00Z
kill feature apng
EOF
"$check" --policy "$out/custom.pol" --print-policy >"$out/p3" 2>"$out/stderr"
[ $? -eq 0 ] && ! cmp -s "$out/p1" "$out/p3" && grep -q 'cli-test 1' "$out/p3"
ok_if "--print-policy shows a custom policy"
"$check" --policy "$out/p3" --print-policy >"$out/p4" 2>"$out/stderr"
[ $? -eq 0 ] && cmp -s "$out/p3" "$out/p4"
ok_if "--print-policy of a custom policy parses back to the same text"
run --json --policy "$out/custom.pol" "$good" "$in/b00.png" "$in/doc.pdf"
[ "$rc" -eq 1 ]
ok_if "--policy applies: exit 1"
jcheck "--policy applies: max_pixels and action pdf" "$out/stdout" '
got = [(r["verdict"], r["reason"]) for r in recs]
assert got == [("rejected", "limit.pixels"), ("sanitized", None),
               ("rejected", "policy.type_rejected")], got'
run --json --policy "$out/p3" "$good"
jcheck "--policy of the printed text applies the same" "$out/stdout" '
assert recs[0]["reason"] == "limit.pixels", recs'

printf '# comment\n\nmax_pixels = 100\nmax_widht_px = 5\n' >"$out/bad.pol"
run --policy "$out/bad.pol" "$good"
[ "$rc" -eq 2 ] && [ ! -s "$out/stdout" ]
ok_if "--policy with a bad line: exit 2, nothing judged"
grep -q "bad.pol:4" "$out/stderr"
ok_if "--policy with a bad line: stderr names the file and line 4"
printf 'max_pixels = lots\n' >"$out/bad2.pol"
run --policy "$out/bad2.pol" --print-policy
[ "$rc" -eq 2 ] && grep -q "bad2.pol:1" "$out/stderr" && [ ! -s "$out/stdout" ]
ok_if "--print-policy with a bad value: exit 2, file:line on stderr"
run --policy "$out/no-such.pol" "$good"
[ "$rc" -eq 2 ] && grep -q "no-such.pol" "$out/stderr"
ok_if "--policy with a missing file: exit 2"

# Every feature kill switch rejects what has the feature, naming it and the
# operator's message, and nothing without it (interlaced PNG: PngSuite).
kf_on="$in/kf-apng-on.png $in/kf-gif_animated-on.gif $in/kf-webp_animated-on.webp \
$in/kf-jpeg_progressive-on.jpg $in/kf-icc_profile-on.png $corpus/pngsuite/basi2c08.png \
$in/kf-archives-on.zip"
kf_off="$in/kf-apng-off.png $in/kf-gif_animated-off.gif $in/kf-webp_animated-off.webp \
$in/kf-jpeg_progressive-off.jpg $in/kf-icc_profile-off.png $corpus/pngsuite/basn2c08.png \
$in/notes.txt"
for f in apng gif_animated webp_animated jpeg_progressive icc_profile png_interlaced archives; do
    printf 'kill feature %s message "advisory 17"\n' "$f" >"$out/kill-$f.pol"
done
i=0
for on in $kf_on; do
    i=$((i + 1))
    feature=$(echo "apng gif_animated webp_animated jpeg_progressive icc_profile png_interlaced archives" |
        cut -d' ' -f$i)
    off=$(echo $kf_off | cut -d' ' -f$i)
    run --json "$on" "$off"
    [ "$rc" -eq 0 ]
    ok_if "without the kill switch both $feature files are accepted"
    run --json --policy "$out/kill-$feature.pol" "$on" "$off"
    jcheck "kill feature $feature rejects only what has it" "$out/stdout" "
on, off = recs
assert on['reason'] == 'policy.killed_feature', on
assert on['detail'] == '$feature switched off by the operator: advisory 17', on['detail']
assert off['verdict'] in ('sanitized', 'passed'), off"
done

# --------------------------------------------- human lines and hostile names

run "$good" "$in/poly.png"
grep -qx "$good: sanitized png" "$out/stdout" &&
    grep -q "^$in/poly.png: rejected png \[polyglot.archive\] - " "$out/stdout"
ok_if "human line names the file, verdict, type and reason"
run -q "$good" "$in/poly.png"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$out/stdout")" -eq 1 ] && grep -q "poly.png" "$out/stdout"
ok_if "-q prints only the rejection"

w=$out/weird
mkdir -p "$w" || hard mkdir
esc=$(printf 'esc\033[2J\033]0;title\007.png')
nl=$(printf 'q"b\\s\nl.png')
qb='q"b\s.png'
quote='say "hi".png'
bad=$(printf 'bad\377\376.png')
mixed=$(printf 'caf\303\251-\300\257.png') # valid U+00E9 then an overlong '/'
for n in "$esc" "$nl" "$qb" "$bad" "$mixed" "$quote"; do
    cp "$good" "$w/$n" || hard "cannot create a file with an odd name"
done
run "$w/$esc" "$w/$nl" "$w/$qb" "$w/$bad" "$w/$mixed"
$PY - "$out/stdout" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\n") == 5, raw
text = raw.decode("utf-8")  # invalid bytes are escaped, valid UTF-8 kept
assert all(c == "\n" or not (c < " " or "\x7f" <= c <= "\x9f") for c in text), \
    "a raw control character"
assert b"esc\\x1b[2J\\x1b]0;title\\x07.png: rejected" in raw, raw
assert b"bad\\xff\\xfe.png: rejected" in raw, raw
assert "caf\u00e9-\\xc0\\xaf.png: " in text, text
assert b'q"b\\x5cs\\x0al.png: ' in raw, raw
EOF
ok_if "human lines: controls and invalid bytes escaped, UTF-8 kept, one line each"
run "$w/no-such-$esc"
$PY - "$out/stderr" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read()
assert b"\x1b" not in raw and b"\x07" not in raw, raw
EOF
ok_if "error message on stderr: ESC and BEL shown escaped"
run --json "$w/$esc" "$w/$nl" "$w/$qb" "$w/$bad" "$w/$mixed" "$w/$quote"
jcheck "--json: odd names escaped (control, quote, backslash, invalid UTF-8)" \
    "$out/stdout" '
assert len(recs) == 6, len(recs)
for r, i in zip(recs, range(2, 8)):
    want = arg(i).decode("utf-8", "backslashreplace")
    assert r["file"] == want, (r["file"], want)
assert all(0x20 <= b < 0x7f or b == 0x0a for b in open(sys.argv[1], "rb").read()
           if b < 0x80), "raw control byte"
assert recs[3]["reason"] == "filename.invalid_utf8", recs[3]
assert recs[5]["verdict"] == "sanitized", recs[5]
assert recs[5]["display_name"] == os.path.basename(sys.argv[7]), recs[5]
' "$w/$esc" "$w/$nl" "$w/$qb" "$w/$bad" "$w/$mixed" "$w/$quote"

# ------------------------------------------------------- bundled samples

# README.md's first command runs imsafe-check on examples/samples/*: the
# committed files must be what examples/make-samples.py makes, and every
# verdict must be the one examples/samples/README promises.
samples=$srcdir/examples/samples
[ -f "$samples/README" ] || hard "$samples/README missing"
$PY "$srcdir/examples/make-samples.py" "$out/samples" || hard "make-samples.py failed"
diff -r "$samples" "$out/samples" >"$out/samples.diff" 2>&1
ok_if "examples/samples is exactly what make-samples.py makes"
run --json "$samples"/*
[ "$rc" -eq 1 ]
ok_if "imsafe-check examples/samples/*: exit 1 (got $rc)"
jcheck "samples: every verdict is what examples/samples/README says" "$out/stdout" '
want = {"README": ("passed", "text", None, [])}
line = re.compile(r"^(\S+): .* -> (sanitized|passed|rejected) ([a-z0-9]+)"
                  r"(?: \[([a-z_.]+)\]| \(notes: ([a-z_., ]+)\))?(?::.*)?$")
for l in open(sys.argv[2], encoding="ascii").read().splitlines()[3:]:
    m = line.match(l)
    assert m, "unreadable README line: " + l
    notes = m.group(5).split(", ") if m.group(5) else []
    want[m.group(1)] = (m.group(2), m.group(3), m.group(4), notes)
got = {os.path.basename(r["file"]): (r["verdict"], r["type"], r["reason"], r["notes"])
       for r in recs}
for k in sorted(set(want) | set(got)):
    assert want.get(k) == got.get(k), "%s: README says %r, got %r" % (k, want.get(k), got.get(k))
' "$samples/README"
du -cb "$samples"/* | tail -n 1 | { read -r total _; [ "$total" -lt 102400 ]; }
ok_if "samples stay under 100 KB"

# ------------------------------------------------- examples/sanitize_file
# The streaming example writes what imsafe-check -o writes, and for a
# rejection leaves neither the output nor its .part file.
ex=$builddir/examples/sanitize_file
if [ -x "$ex" ]; then
    mkdir -p "$out/ex" "$out/ex-ic"
    "$check" -q -o "$out/ex-ic" "$samples/photo.jpg" "$samples/sticker.gif" >/dev/null 2>&1
    "$ex" "$samples/photo.jpg" "$out/ex/photo.jpg" >/dev/null &&
        "$ex" "$samples/sticker.gif" "$out/ex/sticker.gif" >/dev/null &&
        cmp -s "$out/ex/photo.jpg" "$out/ex-ic/photo.jpg" &&
        cmp -s "$out/ex/sticker.gif" "$out/ex-ic/sticker.gif"
    ok_if "examples/sanitize_file: the same bytes as imsafe-check -o"
    "$ex" "$samples/gifar.png" "$out/ex/gifar.png" >/dev/null
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -e "$out/ex/gifar.png" ] && [ ! -e "$out/ex/gifar.png.part" ]
    ok_if "examples/sanitize_file: a rejection exits 1 and writes nothing (got $rc)"
else
    fail "examples/sanitize_file not built"
fi

# -------------------------------------------------------------- the corpus

# shellcheck disable=SC2086
run --json "$basn" $xfiles
jcheck "corpus: basn2c08 sanitized, every x*.png rejected" "$out/stdout" '
assert recs[0]["verdict"] == "sanitized", recs[0]
bad = [r["file"] for r in recs[1:] if r["verdict"] != "rejected"]
assert not bad, bad
assert len(recs) == len(sys.argv) - 2' "$basn" $xfiles

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
