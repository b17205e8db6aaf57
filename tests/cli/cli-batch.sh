#!/bin/sh
# cli-batch.sh - imsafe-check(1) as an operator uses it on many files and
# in pipelines: -r, --files-from (-0, -), -o - and - without --name,
# endless inputs, names in human and JSON output, the ext/mime members,
# --fix-extension, and error messages that name the thing.
#
# Inputs are made here with /usr/bin/python3 + Pillow.
# Environment (set by `make check`): IMSAFE_BUILDDIR.
# Ends with "N passed, N failed"; exit 1 when anything failed, 99 when the
# test cannot run at all.

set -u

PY=$IMSAFE_PYTHON
builddir=${IMSAFE_BUILDDIR:-.}
check=$builddir/tools/imsafe-check
out=$builddir/tests/out/cli-batch
in=$out/in

. "${IMSAFE_SRCDIR:?run through make check}/tests/cli/lib.sh"
rm -rf "$out" && mkdir -p "$in" || hard "cannot create $out"

# ------------------------------------------------------------------ inputs
# in/tree: a tree to walk: images, text, a rejected file, a symbolic link
# to a file and one to a directory, a FIFO, an empty directory, names that
# sort differently bytewise and by locale.

$PY - "$in" <<'EOF' || hard "cannot make the inputs"
import io, os, sys
from PIL import Image
d = sys.argv[1]
def img(fmt, w=9, h=7, mode="RGB"):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 37) % 256, (y * 53) % 256, (x * y * 7) % 256)
                for y in range(h) for x in range(w)])
    b = io.BytesIO()
    im.convert(mode).save(b, fmt)
    return b.getvalue()
def save(rel, data):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
png, jpg, gif = img("PNG"), img("JPEG"), img("GIF", mode="P")
save("good.png", png)
save("good.jpg", jpg)
save("notes.txt", b"hello\n")
save("doc.pdf", img("PDF"))
for rel, data in [("tree/B.png", png), ("tree/a.png", png), ("tree/a b.txt", b"x\n"),
                  ("tree/sub/z.gif", gif), ("tree/sub/deeper/y.jpg", jpg),
                  ("tree/Zeta/x.png", png), ("tree/bad/run.sh", b"#!/bin/sh\nid\n"),
                  ("tree/_/u.png", png)]:
    save(rel, data)
os.makedirs(os.path.join(d, "tree/empty"))
os.symlink("a.png", os.path.join(d, "tree/link.png"))
os.symlink("sub", os.path.join(d, "tree/linkdir"))
os.mkfifo(os.path.join(d, "tree/fifo"))
# --fix-extension: images whose names claim another image type
save("fix/photo.jpg", png)      # a PNG named .jpg
save("fix/shot.JPEG", jpg)      # a JPEG with an upper-case alias
save("fix/IMG_0001", png)       # no extension at all
save("clash/a.jpg", png)        # a PNG: --fix-extension makes it a.png ...
save("clash/a.png", png)        # ... the name this input owns
EOF

# jq-like checks in python: J FILE CODE [ARGS]: recs = the JSON lines
JLIB='
import json, os, sys
def load(path):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    assert text == "" or text.endswith("\n"), "no final newline"
    return raw, [json.loads(l) for l in text.splitlines()]
raw, recs = load(sys.argv[1])
'
jcheck() {
    label=$1 file=$2 code=$3
    shift 3
    if err=$($PY -c "$JLIB
$code" "$file" "$@" 2>&1); then
        pass "$label"
    else
        fail "$label"
        printf '%s\n' "$err" | tail -n 3 | sed 's/^/     /'
    fi
}
# stderr_has LABEL TEXT...: every text is on stderr
stderr_has() {
    label=$1
    shift
    for _s in "$@"; do
        grep -qF -- "$_s" "$out/stderr" || { fail "$label: stderr lacks '$_s'"; return; }
    done
    pass "$label"
}

t=$in/tree

# ---------------------------------------------------------------------- -r

run --json -r "$t"
[ "$rc" -eq 1 ]
ok_if "-r: a tree with a script in it: exit 1 (got $rc)"
jcheck "-r: regular files only, depth first, names sorted bytewise" "$out/stdout" '
want = ["tree/B.png", "tree/Zeta/x.png", "tree/_/u.png", "tree/a b.txt", "tree/a.png",
        "tree/bad/run.sh", "tree/sub/deeper/y.jpg", "tree/sub/z.gif"]
got = [os.path.relpath(r["file"], sys.argv[2]) for r in recs]
assert got == want, got
assert [r["verdict"] for r in recs].count("rejected") == 1, recs' "$in"
stderr_has "-r: symbolic links and the FIFO are named as skipped on stderr" \
    "tree/link.png: skipped: a symbolic link, not followed" \
    "tree/linkdir: skipped: a symbolic link, not followed" "tree/fifo: skipped: not a regular file"
run -q -r "$t/sub"
[ "$rc" -eq 0 ] && [ ! -s "$out/stderr" ]
ok_if "-r -q: accepted tree, nothing on stderr, exit 0"
run -r "$t/linkdir"
[ "$rc" -eq 0 ] && grep -q "^$t/linkdir/deeper/y.jpg: sanitized jpeg" "$out/stdout"
ok_if "-r: an operand that is a link to a directory is followed (as grep -r)"
expect_rc "a directory without -r" 2 "$t/sub"
stderr_has "a directory without -r: the message names it and says -r" "$t/sub: cannot read: is a directory (use -r"

o=$out/o-tree
mkdir -p "$o" || hard mkdir
run --json -r -o "$o" "$t"
[ "$rc" -eq 1 ]
ok_if "-r -o DIR: exit 1"
jcheck "-r -o DIR: outputs mirror the relative paths, exactly the accepted inputs" "$out/stdout" '
o = sys.argv[2]
want = set()
for r in recs:
    rel = os.path.relpath(r["file"], os.path.dirname(sys.argv[3]))
    if r["verdict"] == "rejected":
        assert r["output"] is None, r
        continue
    assert r["output"] == os.path.join(o, rel), (r["output"], rel)
    want.add(r["output"])
    assert open(r["output"], "rb").read() if r["verdict"] == "sanitized" else \
        open(r["output"], "rb").read() == open(r["file"], "rb").read()
got = {os.path.join(d, f) for d, _, fs in os.walk(o) for f in fs}
assert got == want, sorted(got ^ want)
dirs = sorted(os.path.relpath(d, o) for d, _, _ in os.walk(o))
assert dirs == [".", "tree", "tree/Zeta", "tree/_", "tree/sub", "tree/sub/deeper"], dirs
' "$o" "$t"
mkdir -p "$t/sub/out" || hard mkdir
run --json -r -o "$t/sub/out" "$t/sub"
run --json -r -o "$t/sub/out" "$t/sub"
[ "$rc" -eq 0 ]
ok_if "-r with -o DIR inside the tree, twice: exit 0"
jcheck "-r never walks into its own -o DIR" "$out/stdout" '
assert len(recs) == 2 and not any("/sub/out/" in r["file"] for r in recs), [r["file"] for r in recs]'
rm -rf "$t/sub/out"
before=$(cat "$t"/sub/z.gif "$t"/sub/deeper/y.jpg | sha256sum)
run -r -o "$t" "$t/sub"
[ "$rc" -eq 2 ] && [ "$before" = "$(cat "$t"/sub/z.gif "$t"/sub/deeper/y.jpg | sha256sum)" ]
ok_if "-r -o DIR whose mirror is the tree itself: exit 2, inputs unchanged"
stderr_has "... each refused output is named" "$t/sub/z.gif: cannot write output: the output would replace an input"
[ -z "$(find "$t" -name '.imsafe-*')" ]
ok_if "... no temporary file left"
expect_rc "-r with the -o directory as the operand" 2 -r -o "$t/sub" "$t/sub"
stderr_has "... named as such" "$t/sub: cannot walk: it is the -o directory"

# two operands whose outputs meet: a usage error naming both, nothing read
mkdir -p "$out/x1/same" "$out/x2/same" "$out/o-clash" || hard mkdir
cp "$in/good.png" "$out/x1/same/p.png" && cp "$in/good.png" "$out/x2/same/p.png" || hard cp
expect_rc "-r: two trees with one output path" 2 -r -o "$out/o-clash" "$out/x1/same" "$out/x2/same"
stderr_has "... the message names both inputs and the output" \
    "$out/x1/same/p.png and $out/x2/same/p.png would both be written to $out/o-clash/same/p.png"
[ -z "$(ls -A "$out/o-clash")" ]
ok_if "... and nothing is written"

# -------------------------------------------------------------- --files-from

printf '%s\n' "$in/good.png" "" "$t/a b.txt" "$t/sub" "$in/notes.txt" >"$out/list"
run --json --files-from "$out/list"
[ "$rc" -eq 2 ]
ok_if "--files-from: a directory in the list without -r: exit 2 (got $rc)"
jcheck "--files-from: list order kept, empty lines skipped, names with spaces" "$out/stdout" '
assert [os.path.basename(r["file"]) for r in recs] == ["good.png", "a b.txt", "notes.txt"], recs'
run --json -r --files-from "$out/list"
jcheck "--files-from with -r walks a listed directory" "$out/stdout" '
assert [os.path.basename(r["file"]) for r in recs] == \
    ["good.png", "a b.txt", "y.jpg", "z.gif", "notes.txt"], [r["file"] for r in recs]'
nl=$(printf 'new\nline.png')
cp "$in/good.png" "$out/$nl" || hard cp
printf '%s\0%s\0' "$out/$nl" "$in/good.jpg" >"$out/list0"
run --json -0 --files-from "$out/list0"
[ "$rc" -eq 1 ]
ok_if "--files-from -0: exit 1 (the newline in the name is filename.control)"
jcheck "--files-from -0: a name with a newline is one name" "$out/stdout" '
assert [r["file"] for r in recs] == [sys.argv[2], sys.argv[3]], recs' "$out/$nl" "$in/good.jpg"
printf '%s\n' "$in/good.png" "$in/doc.pdf" | "$check" --json --files-from - >"$out/stdout" 2>"$out/stderr"
rc=$?
[ "$rc" -eq 0 ]
ok_if "--files-from - reads the list from standard input: exit 0"
jcheck "--files-from -: both listed files judged" "$out/stdout" '
assert [r["type"] for r in recs] == ["png", "pdf"], recs'
: >"$out/empty.list"
run --files-from "$out/empty.list"
[ "$rc" -eq 0 ] && [ ! -s "$out/stdout" ]
ok_if "--files-from an empty list: nothing to do, exit 0"
expect_rc "--files-from a missing file" 2 --files-from "$out/no-such.list"
stderr_has "... the message names the list" "$out/no-such.list: --files-from: No such file or directory"
expect_rc "-0 without --files-from" 2 -0 "$in/good.png"
expect_rc "- with --files-from" 2 --files-from "$out/list" - <"$in/good.png"

# -------------------------------------------------------- -o - and stdin

mkdir -p "$out/o1" || hard mkdir
"$check" -q -o "$out/o1" "$in/good.png" || hard "-o DIR failed"
"$check" -o - "$in/good.png" >"$out/to-stdout" 2>"$out/stderr"
rc=$?
[ "$rc" -eq 0 ] && cmp -s "$out/to-stdout" "$out/o1/good.png"
ok_if "-o -: the sanitized bytes on stdout, the same as -o DIR writes"
grep -q "^$in/good.png: sanitized png" "$out/stderr"
ok_if "-o -: the verdict line goes to stderr"
"$check" -o - - <"$in/good.png" >"$out/to-stdout" 2>"$out/stderr"
rc=$?
[ "$rc" -eq 0 ] && cmp -s "$out/to-stdout" "$out/o1/good.png"
ok_if "-o - - (a filter, no --name): the same bytes"
"$check" --json -o - "$in/notes.txt" >"$out/to-stdout" 2>"$out/stderr"
rc=$?
[ "$rc" -eq 0 ] && cmp -s "$out/to-stdout" "$in/notes.txt"
ok_if "-o -: a passed input is copied to stdout"
jcheck "-o - --json: the record goes to stderr, output is \"-\"" "$out/stderr" '
r, = recs
assert r["verdict"] == "passed" and r["output"] == "-", r'
run -o - "$t/bad/run.sh"
[ "$rc" -eq 1 ] && [ ! -s "$out/stdout" ] && grep -q "rejected script" "$out/stderr"
ok_if "-o -: a rejection writes nothing to stdout, exit 1, verdict on stderr"
run -q -o - "$in/good.png"
[ "$rc" -eq 0 ] && [ -s "$out/stdout" ] && [ ! -s "$out/stderr" ]
ok_if "-o - -q: nothing on stderr for an accepted input"
expect_rc "-o - with two inputs" 2 -o - "$in/good.png" "$in/good.jpg"
stderr_has "... the message says why" "-o - writes one output: give exactly one input (2 given)"
$PY - "$check" "$in/good.png" <<'EOF'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.run([sys.argv[1], "-o", "-", sys.argv[2]], stdout=s, stderr=subprocess.PIPE)
os.close(s)
os.set_blocking(m, False)
try:
    shown = os.read(m, 65536)
except (BlockingIOError, OSError):
    shown = b""
assert p.returncode == 2, p.returncode
assert b"terminal" in p.stderr, p.stderr
assert b"PNG" not in shown, shown
EOF
ok_if "-o - refuses a terminal (exit 2), as gzip does: no image bytes on the screen"

run --json - <"$in/good.png"
[ "$rc" -eq 0 ]
ok_if "- without --name: exit 0"
jcheck "- without --name: judged by content, empty claimed name" "$out/stdout" '
r, = recs
assert (r["file"], r["verdict"], r["type"], r["display_name"]) == ("-", "sanitized", "png", ""), r'
expect_rc "-o DIR with - and no --name" 2 -o "$out/o1" - <"$in/good.png"
stderr_has "... the message says --name is needed" "-o DIR with standard input needs --name"

# --------------------------------------------------------- endless inputs

printf 'max_input_bytes = 1000\n' >"$out/small.pol"
run --json --policy "$out/small.pol" /dev/zero
[ "$rc" -eq 1 ]
ok_if "/dev/zero: read up to the limit, rejected (exit 1)"
jcheck "/dev/zero: limit.input_bytes, size unknown (null), no digest" "$out/stdout" '
r, = recs
assert r["reason"] == "limit.input_bytes", r
assert r["in_bytes"] is None and r["sha256_in"] is None, r
assert r["detail"] == "more than 1000 bytes (not read further), limit 1000", r["detail"]'
cat /dev/zero | "$check" --json --policy "$out/small.pol" - >"$out/stdout" 2>"$out/stderr"
[ $? -eq 1 ]
ok_if "a pipe that never ends: rejected, the program ends (exit 1)"
head -c 5000 /dev/zero >"$out/five-k.bin"
run --json --policy "$out/small.pol" "$out/five-k.bin"
jcheck "a regular file over the limit: its true size in in_bytes and the detail" "$out/stdout" '
r, = recs
assert r["reason"] == "limit.input_bytes" and r["in_bytes"] == 5000, r
assert r["detail"] == "5000 bytes, limit 1000", r["detail"]'
run -r --policy "$out/small.pol" "$t/sub"
[ "$rc" -eq 0 ]
ok_if "small files stay under a small limit (exit 0)"

# ------------------------------------------------------------------ names

w=$out/names
mkdir -p "$w" || hard mkdir
rlo=$(printf 'inv\342\200\256gnp.exe')          # U+202E RIGHT-TO-LEFT OVERRIDE
zw=$(printf 'a\342\200\213b.png')               # U+200B ZERO WIDTH SPACE
cyr=$(printf '\321\204\320\276\321\202\320\276.png') # "фото.png"
c1=$(printf 'c1\302\205x.png')                  # U+0085, a C1 control
ls2=$(printf 'l\342\200\250p\342\200\251.png')  # U+2028, U+2029
for n in "$rlo" "$zw" "$cyr" "$c1" "$ls2"; do
    cp "$in/good.png" "$w/$n" || hard "cannot make a file with an odd name"
done
run "$w/$rlo" "$w/$zw" "$w/$cyr" "$w/$c1" "$w/$ls2"
$PY - "$out/stdout" "$w" <<'EOF'
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
lines = text.splitlines()
assert len(lines) == 5, lines
w = sys.argv[2]
assert lines[0].startswith(w + "/inv\\u202egnp.exe: rejected "), lines[0]
assert lines[1].startswith(w + "/a\\u200bb.png: "), lines[1]
assert lines[2].startswith(w + "/\u0444\u043e\u0442\u043e.png: sanitized png"), lines[2]
assert lines[3].startswith(w + "/c1\\u0085x.png: "), lines[3]
assert lines[4].startswith(w + "/l\\u2028p\\u2029.png: "), lines[4]
for c in "\u202e\u200b\u0085\u2028\u2029":
    assert c not in text, hex(ord(c))
EOF
ok_if "human lines: UTF-8 names as they are; bidi, invisible, C1 and separators escaped"
run "$w/$rlo.missing"
grep -qF 'inv\u202egnp.exe.missing: cannot read' "$out/stderr"
ok_if "an error message escapes the name the same way"
run --json "$w/$c1" "$w/$ls2" "$w/$cyr"
jcheck "--json: C1, U+2028 and U+2029 as \\uXXXX; the names read back exactly" "$out/stdout" '
assert b"\\u0085" in raw and b"\\u2028" in raw and b"\\u2029" in raw, raw
assert b"\xc2\x85" not in raw and b"\xe2\x80\xa8" not in raw and b"\xe2\x80\xa9" not in raw
assert b"\xd1\x84\xd0\xbe" in raw, "UTF-8 names are not escaped in JSON"
assert [r["file"] for r in recs] == [os.fsdecode(os.fsencode(a)) for a in sys.argv[2:]], recs
' "$w/$c1" "$w/$ls2" "$w/$cyr"

# ------------------------------------------------------------- ext and mime

run --json "$in/good.png" "$in/good.jpg" "$in/notes.txt" "$in/doc.pdf" "$t/sub/z.gif"
jcheck "ext and mime name the type of what is forwarded" "$out/stdout" '
got = [(r["type"], r["ext"], r["mime"]) for r in recs]
assert got == [("png", "png", "image/png"), ("jpeg", "jpg", "image/jpeg"),
               ("text", "txt", "text/plain"), ("pdf", "pdf", "application/pdf"),
               ("gif", "gif", "image/gif")], got'
run --json --name invoice.gif "$in/doc.pdf"
jcheck "rejected for its claimed name: the detected type is still reported" "$out/stdout" '
r, = recs
assert (r["verdict"], r["reason"], r["type"], r["ext"], r["mime"]) == \
    ("rejected", "type.mismatch", "pdf", "pdf", "application/pdf"), r'

# --------------------------------------------------------- --fix-extension

f=$in/fix
mkdir -p "$out/nofix" "$out/fixed" || hard mkdir
run --json -o "$out/nofix" "$f/photo.jpg" "$f/shot.JPEG" "$f/IMG_0001"
[ "$rc" -eq 0 ] && [ "$(cd "$out/nofix" && ls | tr '\n' ' ')" = "IMG_0001 photo.jpg shot.JPEG " ]
ok_if "-o keeps the input's base name by default"
run --json --fix-extension -o "$out/fixed" "$f/photo.jpg" "$f/shot.JPEG" "$f/IMG_0001"
[ "$rc" -eq 0 ] && [ "$(cd "$out/fixed" && ls | tr '\n' ' ')" = "IMG_0001.png photo.png shot.JPEG " ]
ok_if "--fix-extension: the true extension (photo.jpg -> photo.png, IMG_0001 -> .png), aliases kept"
jcheck "--fix-extension: the output member names the file written" "$out/stdout" '
for r in recs:
    assert os.path.exists(r["output"]), r["output"]
    assert r["output"].endswith((".png", ".JPEG")), r["output"]'
cmp -s "$out/fixed/photo.png" "$out/nofix/photo.jpg"
ok_if "--fix-extension changes the name only, not the bytes"
mkdir -p "$out/o-fixclash" || hard mkdir
run --json --fix-extension -o "$out/o-fixclash" "$in/clash/a.jpg" "$in/clash/a.png"
[ "$rc" -eq 2 ]
ok_if "--fix-extension collision: exit 2"
stderr_has "... named: the input, the output, the other input" \
    "$in/clash/a.jpg: cannot write output: the output $out/o-fixclash/a.png is also the output of $in/clash/a.png"
jcheck "... the input that owns the name keeps it" "$out/stdout" '
assert [r["output"] for r in recs] == [None, sys.argv[2] + "/a.png"], recs' "$out/o-fixclash"
expect_rc "--fix-extension without -o DIR" 2 --fix-extension "$in/good.png"

# ------------------------------------------------------ errors name the thing

expect_rc "-o to a missing directory" 2 -o "$out/no-such-dir" "$in/good.png"
stderr_has "... names the path and the system's reason" "$out/no-such-dir: -o: No such file or directory"
expect_rc "-o to a file" 2 -o "$in/notes.txt" "$in/good.png"
stderr_has "... names the path and the system's reason" "$in/notes.txt: -o: Not a directory"
expect_rc "-j abc" 2 -j abc "$in/good.png"
stderr_has "... names the option and its value" "-j 'abc': give a number of threads from 1 to 256"
expect_rc "--print-policy with a file operand" 2 --print-policy "$in/good.png"
[ ! -s "$out/stdout" ]
ok_if "... prints no policy"
expect_rc "--print-policy with -o" 2 --print-policy -o "$out/o1"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
