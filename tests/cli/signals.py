#!/usr/bin/python3
"""signals.py - imsafe-check(1) interrupted mid-batch, at moments drawn from
a fixed seed.

usage: signals.py CHECK WORKDIR [RUNS] [SEED]

The batch: a tree of a few hundred small inputs (PNG, JPEG, GIF made with
Pillow, text that is passed, PNGs that are rejected, in 10 directories),
walked with -r and written with --json -o OUT, followed by a named FIFO
that nobody ever opens for writing.  imsafe-check reads its inputs in
order, so it reports every walked input and then waits on the FIFO
forever: every run is still going when the signal comes, and nothing
depends on how fast the machine is.

Each run draws from random.Random(SEED + run): the signal (SIGINT, SIGTERM,
SIGHUP), the number of threads (-j 1, 2, 4 or 8), the moment as "after K
lines of standard output have been read" (K from 0 to 3/4 of the inputs) plus an
extra pause of 0 to 20 ms, and whether the test stops reading standard
output before signalling (so the program may be blocked writing a line
into a full pipe when the signal comes).  The same seed gives the same runs.

After each run: the program died by that signal (a shell reports 128 + N:
130, 143, 129); standard output is whole lines, each a JSON record, for
the inputs in walk order with no gap; no temporary .imsafe-* file is left;
no empty directory is left in OUT; the files in OUT are exactly the
"output" members of the records, each with the digest its record gives.
One more run closes standard output after the first line (a reader such
as head -n 1): the program must die by SIGPIPE and leave no temporary file.

Exit 0 when every run holds, 1 otherwise, 99 when it cannot run.
"""
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

SIGS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def hard(msg):
    print("hard error: " + msg, file=sys.stderr)
    sys.exit(99)


def make_tree(root):
    from PIL import Image
    names = []
    for d in range(10):
        sub = os.path.join(root, "d%d" % d)
        os.makedirs(sub)
        for i in range(30):
            im = Image.new("RGB", (8 + i % 7, 6 + d))
            im.putdata([((x * 31 + i) % 256, (y * 17 + d) % 256, (x ^ y) % 256)
                        for y in range(im.size[1]) for x in range(im.size[0])])
            kind = (d * 30 + i) % 6
            buf = io.BytesIO()
            if kind == 0:
                im.save(buf, "JPEG", quality=80)
                name = "p%02d.jpg" % i
            elif kind == 1:
                im.convert("P").save(buf, "GIF")
                name = "p%02d.gif" % i
            elif kind == 2:
                buf.write(b"plain text %d\n" % i)
                name = "t%02d.txt" % i
            elif kind == 3:  # a PNG named as an executable: rejected
                im.save(buf, "PNG")
                name = "x%02d.exe" % i
            else:
                im.save(buf, "PNG")
                name = "p%02d.png" % i
            with open(os.path.join(sub, name), "wb") as f:
                f.write(buf.getvalue())
            names.append(os.path.join(sub, name))
    return sorted(names)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def default_signals():
    # the test may itself run with SIGINT ignored (a background make);
    # imsafe-check honours an ignored signal, so give it the defaults
    for s in SIGS + [signal.SIGPIPE]:
        signal.signal(s, signal.SIG_DFL)


def check_run(label, rc, want_sig, raw, inputs, out):
    errs = []
    if rc != -want_sig:
        errs.append("exit %r, want death by signal %d" % (rc, want_sig))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return errs + ["standard output is not UTF-8"]
    if text and not text.endswith("\n"):
        errs.append("standard output ends inside a line: %r" % text[-80:])
        text = text[:text.rfind("\n") + 1]
    recs = []
    for line in text.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            errs.append("not a JSON record: %r" % line[:80])
    files = [r.get("file") for r in recs]
    if files != inputs[:len(recs)]:
        errs.append("records are not the inputs in order")
    left = []
    for d, dirs, fs in os.walk(out):
        left += [os.path.join(d, f) for f in fs if f.startswith(".imsafe-")]
        if not dirs and not fs and d != out:
            errs.append("empty directory left: " + d)
    if left:
        errs.append("%d temporary files left, e.g. %s" % (len(left), left[0]))
    present = set()
    for d, _, fs in os.walk(out):
        present |= {os.path.join(d, f) for f in fs if not f.startswith(".imsafe-")}
    named = {r["output"]: r for r in recs if r.get("output")}
    if present - set(named):
        errs.append("files without a line: %s" % sorted(present - set(named))[:3])
    if set(named) - present:
        errs.append("lines naming a missing file: %s" % sorted(set(named) - present)[:3])
    for path, r in named.items():
        if path not in present:
            continue
        want = r["sha256_out"] if r["verdict"] == "sanitized" else sha(r["file"])
        if sha(path) != want:
            errs.append("%s does not hold what its line says" % path)
    for e in errs:
        print("     %s: %s" % (label, e))
    return errs, len(recs), len(named)


def main():
    if len(sys.argv) < 3:
        hard(__doc__.split("\n")[3])
    check, work = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 11
    shutil.rmtree(work, ignore_errors=True)
    tree = os.path.join(work, "in")
    os.makedirs(tree)
    inputs = make_tree(tree)
    fifo = os.path.join(work, "never.fifo")
    os.mkfifo(fifo)
    failed = 0
    lines_seen = []
    for run in range(runs):
        rng = random.Random(seed + run)
        sig = rng.choice(SIGS)
        jobs = rng.choice([1, 2, 4, 8])
        after = rng.randint(0, len(inputs) * 3 // 4)
        pause = rng.uniform(0, 0.02)
        stall = rng.random() < 0.3
        out = os.path.join(work, "out%02d" % run)
        os.makedirs(out)
        p = subprocess.Popen([check, "--json", "-j", str(jobs), "-r", "-o", out, tree, fifo],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                             preexec_fn=default_signals)
        got = b""
        while got.count(b"\n") < after:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            got += chunk
        time.sleep(pause)
        if stall:  # leave the pipe unread for a while: writes may block
            time.sleep(0.05)
        p.send_signal(sig)
        rest, err = p.communicate(timeout=120)
        label = "run %d (%s, -j %d, after %d lines%s)" % (
            run, signal.Signals(sig).name, jobs, after, ", stalled" if stall else "")
        errs, nrec, nout = check_run(label, p.returncode, sig, got + rest, inputs, out)
        lines_seen.append(nrec)
        print("%s %s: %d records, %d output files" % ("FAIL" if errs else "ok  ", label,
                                                       nrec, nout))
        failed += bool(errs)
    # a reader that goes away (head -n 1)
    out = os.path.join(work, "out-pipe")
    os.makedirs(out)
    p = subprocess.Popen([check, "--json", "-j", "4", "-r", "-o", out, tree, fifo],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                         preexec_fn=default_signals)
    p.stdout.readline()
    p.stdout.close()
    err = p.communicate(timeout=120)[1]
    left = [f for d, _, fs in os.walk(out) for f in fs if f.startswith(".imsafe-")]
    ok = p.returncode == -signal.SIGPIPE and not left
    print("%s standard output closed after one line: exit %r, %d temporary files left"
          % ("ok  " if ok else "FAIL", p.returncode, len(left)))
    failed += not ok
    print("%d runs, %d failed; records per run: %s" % (runs + 1, failed, lines_seen))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
