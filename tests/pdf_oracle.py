#!/usr/bin/python3
"""pdf_oracle.py - libimsafe's PDF verdicts against qpdf, an independent reader.

For every PDF fixture (tests/gen/gen_pdf.py writes them to
$IMSAFE_FIXTURES/pdf) and any PDF named on the command line, qpdf reads the
file ($IMSAFE_QPDF --json=2 with every stream decoded that it can decode
without loss) and this script judges what qpdf saw, by its own rules:

  encrypted   qpdf --is-encrypted says so             -> type.encrypted
  unreadable  qpdf gives up (exit 2)                   -> any rejection
  damaged     qpdf cannot decode a stream, or drops    -> malformed.pdf (or
              nesting beyond its limit (500, ours too)    type.active_content)
  active      a pdfid key among the names qpdf lists (keys and values of
              every object, object streams included, names in decoded
              content), or an /OpenAction or /AA whose action, followed
              through references, is anything but /GoTo -> type.active_content
  otherwise                                            -> passed

and libimsafe (tools/imsafe-check --json, default policy) must give that
verdict.  The fixtures are thereby also shown to be PDFs a real reader
opens: a "benign" fixture qpdf could not read fails the test.

Environment (set by make check): IMSAFE_BUILDDIR, IMSAFE_FIXTURES,
IMSAFE_QPDF.  Prints "N passed, N failed"; exits 0, 1 on any failure, 99
on a hard error (qpdf missing, no fixtures).
"""
import base64
import json
import os
import re
import subprocess
import sys

ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/EF",
          "/RichMedia", "/XFA", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}
# Streams whose data is binary (a name there is chance, and no reader acts
# on it): images, fonts, ICC profiles, sampled functions; and data qpdf
# could not decode (image filters) stays raw.
BINARY_KEYS = ("/Width", "/Length1", "/Length2", "/Length3", "/FunctionType")
TEXT_FILTERS = {"/FlateDecode", "/LZWDecode", "/ASCIIHexDecode", "/ASCII85Decode",
                "/RunLengthDecode"}
# Where libimsafe refuses on purpose what qpdf reads: fixture -> why.
DELIBERATE = {
    "bad_chain_too_long.pdf": "libimsafe refuses chains of more than 8 filters "
                              "(readers have no limit; real files use 1 or 2)",
}
NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
REF = re.compile(r"^(\d+) (\d+) R$")


def die(msg):
    print("hard error: " + msg, file=sys.stderr)
    sys.exit(99)


def unescape(raw):
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def names_in(value, out):
    """Every name (dictionary key or name value) in a qpdf JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            names_in(v, out)
    elif isinstance(value, list):
        for v in value:
            names_in(v, out)
    elif isinstance(value, str) and value.startswith("/"):
        out.add(value)


class Doc:
    def __init__(self, objects):
        self.obj = {}
        for key, o in objects.items():
            if key.startswith("obj:"):
                self.obj[key[4:]] = o

    def value(self, v):
        """A value with one level of reference followed."""
        if isinstance(v, str) and REF.match(v):
            o = self.obj.get(v, {})
            return o.get("value", o.get("stream", {}).get("dict"))
        return v

    def runs(self, action):
        a = self.value(action)
        return isinstance(a, dict) and a.get("/S") not in (None, "/GoTo")

    def auto_action(self, d):
        """/OpenAction or /AA in dictionary d that runs an action."""
        if "/OpenAction" in d and self.runs(d["/OpenAction"]):
            return "/OpenAction"
        aa = self.value(d.get("/AA"))
        if isinstance(aa, dict) and any(self.runs(a) for a in aa.values()):
            return "/AA"
        return None


def dicts_in(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from dicts_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from dicts_in(v)


def text_stream(sd):
    flt = sd.get("/Filter", [])
    flt = flt if isinstance(flt, list) else [flt]
    binary = (sd.get("/Subtype") == "/Image" or any(k in sd for k in BINARY_KEYS) or
              ("/N" in sd and "/First" not in sd))
    return not binary and all(f in TEXT_FILTERS for f in flt)


def qpdf_view(qpdf, path):
    """(state, active key or None, detail) as qpdf reads the file."""
    enc = subprocess.run([qpdf, "--is-encrypted", path], capture_output=True)
    if enc.returncode == 0:
        return "encrypted", None, "qpdf: encrypted"
    r = subprocess.run([qpdf, "--json=2", "--json-key=qpdf", "--json-stream-data=inline",
                        "--decode-level=generalized", path], capture_output=True)
    if r.returncode == 2 or not r.stdout:
        return "unreadable", None, "qpdf exit %d" % r.returncode
    damaged = (b"error decoding stream data" in r.stderr or
               b"deeply nested" in r.stderr)
    objects = json.loads(r.stdout)["qpdf"][1]
    doc = Doc(objects)
    names, auto = set(), set()
    names_in(objects.get("trailer", {}).get("value"), names)
    for o in doc.obj.values():
        v = o.get("value", o.get("stream", {}).get("dict"))
        names_in(v, names)
        for d in dicts_in(v):
            key = doc.auto_action(d)
            if key:
                auto.add(key)
        data = o.get("stream", {}).get("data")
        if data and text_stream(o["stream"]["dict"]):
            for m in NAME.finditer(base64.b64decode(data)):
                names.add("/" + unescape(m.group(1)).decode("latin-1"))
    hits = sorted(n for n in names if n in ACTIVE) + sorted(auto)
    if hits:
        return "active", hits[0], "qpdf sees " + ", ".join(hits)
    return ("damaged" if damaged else "clean"), None, "qpdf exit %d" % r.returncode


def imsafe_verdict(check, path):
    r = subprocess.run([check, "--json", path], capture_output=True)
    line = json.loads(r.stdout.decode().splitlines()[0])
    return line["verdict"], line["reason"], line["detail"]


def agrees(state, verdict, reason):
    if state == "encrypted":
        return reason == "type.encrypted"
    if state == "unreadable":
        return verdict == "rejected"
    if state == "damaged":
        return reason in ("malformed.pdf", "type.active_content")
    if state == "active":
        return reason == "type.active_content"
    return verdict == "passed"


def main():
    qpdf = os.environ.get("IMSAFE_QPDF")
    build = os.environ.get("IMSAFE_BUILDDIR")
    fixtures = os.environ.get("IMSAFE_FIXTURES")
    if not qpdf or not os.access(qpdf, os.X_OK):
        die("IMSAFE_QPDF is not set to qpdf (configure finds it)")
    if not build or not fixtures:
        die("IMSAFE_BUILDDIR and IMSAFE_FIXTURES must be set (make check sets them)")
    check = os.path.join(build, "tools", "imsafe-check")
    fixdir = os.path.join(fixtures, "pdf")
    paths = sys.argv[1:] or sorted(os.path.join(fixdir, n) for n in os.listdir(fixdir))
    if not paths:
        die("no PDF fixtures in " + fixdir)
    passed = failed = 0
    counts = {}
    for path in paths:
        state, key, why = qpdf_view(qpdf, path)
        verdict, reason, detail = imsafe_verdict(check, path)
        counts[state] = counts.get(state, 0) + 1
        name = os.path.basename(path)
        if name in DELIBERATE and verdict == "rejected":
            print("deliberate: %s: qpdf: %s; libimsafe: %s (%s)" % (name, state, reason,
                                                                    DELIBERATE[name]))
            passed += 1
        elif name.startswith("benign_") and state != "clean":
            print("FAIL %s: a benign fixture qpdf does not read cleanly (%s)" % (name, why))
            failed += 1
        elif agrees(state, verdict, reason):
            passed += 1
        else:
            print("FAIL %s: qpdf: %s (%s); libimsafe: %s %s (%s)"
                  % (name, state, why, verdict, reason, detail))
            failed += 1
    print("qpdf's view: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
