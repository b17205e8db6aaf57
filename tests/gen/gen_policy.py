#!/usr/bin/python3
"""Small benign payloads for the policy tests (tests/test_policy.c,
tests/test_reload.c): OUTDIR/policy/tiny.png (16x16 RGB), tiny.pdf (a
one-page PDF written by Pillow) and tiny.gif.  They are valid on purpose:
whatever rejects them in those tests is the policy, not the format check.
Usage: gen_policy.py OUTDIR"""
import os
import sys

from PIL import Image


def main():
    out = os.path.join(sys.argv[1], "policy")
    os.makedirs(out, exist_ok=True)
    im = Image.new("RGB", (16, 16))
    im.putdata([(x * 16, y * 16, (x + y) * 8) for y in range(16) for x in range(16)])
    im.save(os.path.join(out, "tiny.png"), optimize=False)
    im.convert("P").save(os.path.join(out, "tiny.gif"))
    im.save(os.path.join(out, "tiny.pdf"), "PDF", resolution=72.0)


if __name__ == "__main__":
    main()
