#!/usr/bin/python3
"""gate_oracles.py FIXTURE_JSON FIXTURE_OUTDIR PAIRS.tsv... - the readers
attackers target, run over every sanitized output.

For every output (corpus rebuilds listed in pairs.tsv files, and the gate
fixtures' outputs named in imsafe-check's JSON lines):
  - Python's zipfile and Info-ZIP's `unzip -l` find no archive;
  - PHP runs no code: `php -n -f OUTPUT` prints the file byte for byte
    (fixtures); for the corpora one php process includes each output in
    turn, and a file PHP cannot even parse (a stray "<?" opens short-tag
    code in binary data) also ran nothing, since PHP compiles a whole
    file before it runs any of it; those are counted;
  - no "%PDF-", "<script", "<html" or "<svg" (any case) occurs, and no HTML
    tag a sniffing browser looks for sits in the first 512 bytes.
For the fixtures also: the input really is the attack (the reader finds it
in the input), and the pixels are unchanged (PNG, GIF) or close (JPEG sent
to pixel mode by the gate: PSNR >= 25 dB; their tables quantise coarsely,
so the re-encoding at the policy's quality drifts more than usual).
Exit 0 when every check holds, 1 otherwise.
"""
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import zipfile

from PIL import Image

PHP = os.environ["IMSAFE_PHP"]
UNZIP = os.environ["IMSAFE_UNZIP"]
MARKERS = (b"%pdf-", b"<script", b"<html", b"<svg")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def zip_found(path, data=None):
    """With data given, unzip runs only when an end-record signature is
    there at all: Info-ZIP finds an archive through that record alone."""
    if zipfile.is_zipfile(path):
        return "zipfile"
    if data is not None and b"PK\x05\x06" not in data:
        return None
    r = subprocess.run([UNZIP, "-l", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    # 0: listed; 1: listed with warnings (data prepended, as in a polyglot)
    return "unzip" if r.returncode in (0, 1) else None


# WHATWG MIME sniffing's HTML tags, each followed by a space or '>'
SNIFF_TAGS = (b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1",
              b"<div", b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body",
              b"<br", b"<p")


def marker_in(data):
    low = data.lower()
    for m in MARKERS:
        if m in low:
            return m.decode()
    head = low[:512]
    for t in SNIFF_TAGS:
        if t + b" " in head or t + b">" in head:
            return t.decode() + " in the first 512 bytes"
    return None


def php_prints_file(path, data):
    r = subprocess.run([PHP, "-n", "-f", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    return r.returncode == 0 and r.stdout == data


PHP_BATCH = r"""
$files = array_slice($argv, 1);
foreach ($files as $f) {
    $want = file_get_contents($f);
    ob_start();
    $state = "same";
    try {
        include $f;
    } catch (ParseError $e) {
        $state = "parse_error";
    } catch (Throwable $e) {
        $state = "ran";
    }
    $got = ob_get_clean();
    if ($state == "same" && $got !== $want)
        $state = "ran";
    fwrite(STDERR, "");
    echo $state, "\t", $f, "\n";
}
"""


def php_batch(paths):
    """One php process for many files: {path: same|parse_error|ran}."""
    out = {}
    for i in range(0, len(paths), 200):
        part = paths[i:i + 200]
        with tempfile.NamedTemporaryFile("w", suffix=".php", delete=False) as t:
            t.write("<?php\n" + PHP_BATCH)
        try:
            r = subprocess.run([PHP, "-n", "-d", "display_errors=0", "-f", t.name, "--"] + part,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        finally:
            os.unlink(t.name)
        for line in r.stdout.decode("latin-1").splitlines():
            state, _, f = line.partition("\t")
            if f in part:
                out[f] = state
    return out


def check_output(path, data, php_state, label, quick=False):
    z = zip_found(path, data if quick else None)
    if z:
        fail("%s: %s finds an archive in the output" % (label, z))
    m = marker_in(data)
    if m:
        fail("%s: the output holds %s" % (label, m))
    if php_state not in ("same", "parse_error"):
        fail("%s: PHP ran code in the output (%s)" % (label, php_state))


def rgba(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im.convert("RGBA")


def psnr(a, b):
    pa, pb = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    mse = sum((x - y) ** 2 for x, y in zip(pa, pb)) / max(1, len(pa))
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def attack_in_input(path, data):
    """What the input carries for its reader: proof the fixture is real."""
    if zip_found(path):
        return "zip"
    m = marker_in(data)
    if m:
        return m
    if b"<?" in data and not php_prints_file(path, data):
        return "php"
    return None


def fixtures(json_path, outdir):
    n = 0
    with open(json_path) as fh:
        for line in fh:
            rec = json.loads(line)
            src = rec["file"]
            label = "fixture " + os.path.basename(src)
            with open(src, "rb") as f:
                sent = f.read()
            if attack_in_input(src, sent) is None:
                fail("%s: no reader finds the attack in the input itself" % label)
            if rec["verdict"] != "sanitized":
                continue
            out = os.path.join(outdir, os.path.basename(src))
            with open(out, "rb") as f:
                data = f.read()
            n += 1
            # imsafe-check streams to a temporary file and truncates it when
            # the gate refuses a first encoding: nothing of that may remain
            if len(data) != rec["out_bytes"]:
                fail("%s: the file holds %d bytes, the library made %d" %
                     (label, len(data), rec["out_bytes"]))
            check_output(out, data, "same" if php_prints_file(out, data) else "ran", label)
            a, b = rgba(sent), rgba(data)
            if a.size != b.size:
                fail("%s: size %s became %s" % (label, a.size, b.size))
            elif rec["type"] == "jpeg":
                if psnr(a, b) < 25:
                    fail("%s: pixels drifted (PSNR %.1f dB)" % (label, psnr(a, b)))
            elif a.tobytes() != b.tobytes():
                fail("%s: the pixels changed" % label)
    print("gate fixtures: %d sanitized outputs checked" % n)


def corpora(pair_files):
    outs = []
    for p in pair_files:
        with open(p) as fh:
            outs += [line.rstrip("\n").split("\t")[1] for line in fh if "\t" in line]
    states = php_batch(outs)
    counts = {"same": 0, "parse_error": 0, "ran": 0}
    for out in outs:
        with open(out, "rb") as f:
            data = f.read()
        state = states.get(out, "ran")
        counts[state] = counts.get(state, 0) + 1
        check_output(out, data, state, "corpus " + out, quick=True)
    print("corpus outputs: %d checked; php printed %d byte for byte, could not parse %d "
          "(no code ran), ran code in %d" % (len(outs), counts["same"],
                                              counts["parse_error"], counts["ran"]))
    return len(outs)


def main():
    for prog in (PHP, UNZIP):
        if not os.access(prog, os.X_OK):
            print("hard error: %s missing" % prog)
            return 99
    fixtures(sys.argv[1], sys.argv[2])
    if corpora(sys.argv[3:]) == 0:
        print("hard error: no corpus outputs")
        return 99
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
