#!/usr/bin/python3
"""gen_gate.py OUTDIR - writes the output-gate fixtures into OUTDIR/gate/.

Each fixture is an honest-looking image built so that libimsafe's own
rebuild (not the input's bytes) would carry a foreign format, the routes a
sender has even when every byte is re-encoded:

  dqt_*.jpg        quantisation tables spelling PHP, a script element, a
                   PDF header or HTML a sniffing browser reads; lossless mode keeps tables verbatim.  (A ZIP
                   cannot be spelled there: an end record needs runs of zero
                   bytes, and a zero quantisation step is rejected.)
  idat_stored_*.png  pixel rows of noise that zlib emits as stored blocks,
                   one row chosen so that libpng's adaptive filter keeps it
                   unfiltered: the rebuilt IDAT holds the row's bytes as
                   sent, here a PHP web shell or a working ZIP archive.
  idat_crafted.png a row whose compressed IDAT spells the classic shell:
                   zlib codes a short literal-only block with the fixed
                   Huffman code, so the residuals are chosen as the literals
                   whose codes are the shell's bits.
  idat_both.png    as above, plus a second row whose Paeth residuals (the
                   filter the gate's second encoding uses) spell the shell:
                   both encodings are hit, so the gate rejects.
  lzw_*.gif        pixels whose LZW codes, as giflib writes them (every
                   pair of pixels new, so every code is a 9-bit literal),
                   spell a script element or PHP in the image data.

tests/expect/gate.tsv gives the verdicts; tests/gate.sh runs the real
readers (zipfile, unzip, php, browsers' markers) over every output.
"""
import io
import os
import random
import struct
import sys
import zipfile
import zlib

from PIL import Image

# every ZIP entry gets one fixed time: the same fixture bytes on every run
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SHELL = b"<?=$_GET[0]($_POST[1]);?>"


# ------------------------------------------------------------------ JPEG

def zigzag_dqt(jpeg, payload):
    """Overwrite the first quantisation table's bytes (zigzag order, as
    stored) with payload, padded with printable bytes; returns new bytes."""
    i = jpeg.index(b"\xff\xdb")
    assert jpeg[i + 4] == 0x00, "8-bit table 0 first"
    table = (payload + b" " * 64)[:64]
    assert 0 not in table
    return jpeg[:i + 5] + table + jpeg[i + 5 + 64:]


def dqt_fixture(payload):
    im = Image.new("RGB", (48, 32))
    im.putdata([((x * 5) % 256, (y * 8) % 256, (x * y) % 256)
                for y in range(32) for x in range(48)])
    b = io.BytesIO()
    im.save(b, "JPEG", quality=90)
    return zigzag_dqt(b.getvalue(), payload)


# ------------------------------------------------------------------- PNG

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))


def mag(v):
    v &= 0xFF
    return v if v < 128 else 256 - v


def paeth_pred(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def residuals(row, prev):
    """The five filtered forms of an 8-bit grey row (bpp 1)."""
    n = len(row)
    left = lambda i: row[i - 1] if i else 0
    upl = lambda i: prev[i - 1] if i else 0
    return [
        list(row),
        [(row[i] - left(i)) & 0xFF for i in range(n)],
        [(row[i] - prev[i]) & 0xFF for i in range(n)],
        [(row[i] - ((left(i) + prev[i]) >> 1)) & 0xFF for i in range(n)],
        [(row[i] - paeth_pred(left(i), prev[i], upl(i))) & 0xFF for i in range(n)],
    ]


def libpng_choice(row, prev):
    """libpng 1.6's heuristic: the least sum of |signed byte|, None first,
    a later filter only when strictly smaller."""
    sums = [sum(mag(v) for v in r) for r in residuals(row, prev)]
    best = 0
    for f in range(1, 5):
        if sums[f] < sums[best]:
            best = f
    return best


def row_with(rng, width, prev, payload, at):
    """A noise row holding payload unfiltered, kept only when libpng would
    leave it unfiltered (None wins the heuristic)."""
    for _ in range(20000):
        row = [rng.randrange(256) for _ in range(width)]
        # bias the noise towards small magnitudes: None gains, the bytes stay
        # near 8 bits of entropy so zlib still stores the block
        row = [v if rng.random() < 0.5 else (v & 0x3F) ^ (0xFF if rng.random() < 0.5 else 0)
               for v in row]
        row[at:at + len(payload)] = payload
        if libpng_choice(row, prev) == 0:
            return row
    raise SystemExit("gen_gate: no row keeps the payload unfiltered")


def row_paeth(rng, width, prev, payload, at):
    """A row whose Paeth residuals spell payload (noise elsewhere)."""
    res = [rng.randrange(256) for _ in range(width)]
    res[at:at + len(payload)] = payload
    row = []
    for i in range(width):
        a = row[i - 1] if i else 0
        c = prev[i - 1] if i else 0
        row.append((res[i] + paeth_pred(a, prev[i], c)) & 0xFF)
    return row


def grey_png(rows, width):
    """Stored deflate, so the input is already the polyglot it claims."""
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def noise_rows(rng, width, height):
    return [[rng.randrange(256) for _ in range(width)] for _ in range(height)]


def idat_stored(payload, seed, paeth_payload=None):
    """A 200x24 grey noise image (6 KiB of filtered rows: one stored block,
    one IDAT chunk) with payload left unfiltered in row 12."""
    rng = random.Random(seed)
    width, height = 200, 24
    rows = noise_rows(rng, width, height)
    rows[12] = row_with(rng, width, rows[11], payload, 40)
    rows[13] = noise_rows(rng, width, 1)[0]
    if paeth_payload is not None:
        rows[18] = row_paeth(rng, width, rows[17], paeth_payload, 60)
    return grey_png(rows, width)


def small_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("a.php", date_time=ZIP_TIME), b"<?php system($_GET[0]);",
                   compress_type=z.compression)
    return b.getvalue()


# The crafted route: a row whose *compressed* IDAT spells the shell.  For a
# short row of literals zlib picks the fixed Huffman code, whose literal
# codes (8 bits for 0..143, 9 bits for 144..255, sent most significant bit
# first) cover almost every bit pattern: read the shell's bits as such
# codes and they name the literals that make zlib write it.  The row is
# filtered with Sub (a first residual of 128, then small steps, keeps the
# pixels near 128, so libpng's heuristic prefers Sub by far); its residuals
# are those literals.  No three literals repeat, so LZ77 finds no match,
# and the block stays short so the fixed code beats a dynamic one.

def code_bits(v):
    c, n = (0x30 + v, 8) if v < 144 else (0x190 + v - 144, 9)
    return [(c >> (n - 1 - i)) & 1 for i in range(n)]


def parse_codes(bits, q):
    """bits[q:] as fixed-Huffman literal codes (the last may run past the
    end, its tail free); None when a length or end-of-block code appears."""
    lits = []
    while q < len(bits):
        rest = len(bits) - q
        if rest >= 9:
            v8 = int("".join(map(str, bits[q:q + 8])), 2)
            v9 = int("".join(map(str, bits[q:q + 9])), 2)
            if 0x30 <= v8 <= 0xBF:
                lits.append(v8 - 0x30)
                q += 8
            elif v9 >= 0x190:
                lits.append(144 + v9 - 0x190)
                q += 9
            else:
                return None
            continue
        tail = [v for v in range(256) if code_bits(v)[:rest] == bits[q:]]
        if not tail:
            return None
        lits.append(min(tail, key=mag))
        q = len(bits)
    return lits


def crafted_residuals(payload, rng):
    bits = list(lsb_bits(payload))
    for a in range(1, 9):  # bits of the payload a straddling code covers
        lits = parse_codes(bits, a)
        if lits is None:
            continue
        heads = sorted((v for v in range(256)
                        if len(code_bits(v)) > a and code_bits(v)[-a:] == bits[:a]), key=mag)
        for h in heads[:6]:
            lead = len(code_bits(h)) - a
            for _ in range(300):
                pre = [rng.randrange(0, 16) for _ in range(rng.randrange(10, 20))]
                for k9 in range(8):  # 9-bit literals shift the alignment
                    cand = [rng.randrange(241, 256) for _ in range(k9)] + pre[k9:]
                    # 3 header bits, filter byte 1 and residual 128: 8 bits each
                    if (3 + 16 + sum(len(code_bits(v)) for v in cand) + lead) % 8 == 0:
                        break
                else:
                    continue
                rng.shuffle(cand)
                post = [rng.randrange(0, 16) for _ in range(rng.randrange(10, 20))]
                full = [1, 128] + cand + [h] + lits + post
                grams = [tuple(full[i:i + 3]) for i in range(len(full) - 2)]
                pixels, acc = [], 0
                for r in full[1:]:
                    acc = (acc + r) & 0xFF
                    pixels.append(acc)
                if (len(set(grams)) == len(grams) and sum(v >= 144 for v in full) < 14 and
                        libpng_choice(pixels, [0] * len(pixels)) == 1):
                    return full, pixels
    return None


def idat_crafted(seed):
    """The classic "<?=$_GET[0]($_POST[1]);?>" in a 1-row grey PNG whose
    IDAT, compressed as libpng and zlib (level 5, Z_FILTERED) compress it,
    holds the shell; the input is compressed the same way."""
    rng = random.Random(seed)
    r = crafted_residuals(SHELL, rng)
    if r is None:
        raise SystemExit("gen_gate: no crafted IDAT row found")
    full, pixels = r
    co = zlib.compressobj(5, zlib.DEFLATED, 15, 8, zlib.Z_FILTERED)
    idat = co.compress(bytes(full)) + co.flush()
    assert SHELL in idat
    ihdr = struct.pack(">IIBBBBB", len(pixels), 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) +
            chunk(b"IEND", b""))


# ------------------------------------------------------------------- GIF

def lsb_bits(data):
    for byte in data:
        for k in range(8):
            yield (byte >> k) & 1


def gif_lzw_fixture(payload, seed):
    """A 64x8 GIF, 256 grey levels in sorted order, whose pixel stream makes
    giflib emit (clear, then one 9-bit literal per pixel) a code stream in
    which payload sits byte-aligned.  Returns None when payload's bits
    collide with the literals' zero top bits at every alignment."""
    bits = list(lsb_bits(payload))
    for start in range(8, 17):  # payload starts at byte `start` of the data
        base = 8 * start
        # code j (j >= 1: pixel j-1) covers bits 9j..9j+8; bit 9j+8 is 0
        if any(bits[t] for t in range(len(bits)) if (base + t) % 9 == 8):
            continue
        rng = random.Random(seed)
        ncodes = (base + len(bits)) // 9 + 2
        stream = [0] * (9 * ncodes)
        for t, b in enumerate(bits):
            stream[base + t] = b
        fixed = set(range(base, base + len(bits)))
        pixels = []
        for j in range(1, ncodes):
            v = 0
            for k in range(8):
                pos = 9 * j + k
                b = stream[pos] if pos in fixed else rng.randrange(2)
                v |= b << k
            pixels.append(v)
        # every pair new, so giflib's dictionary never matches: literals only
        pairs = list(zip(pixels, pixels[1:]))
        if len(set(pairs)) != len(pairs):
            continue
        width, height = 64, 8
        seen = set(pairs)
        while len(pixels) < width * height:
            v = rng.randrange(256)
            if (pixels[-1], v) not in seen:
                seen.add((pixels[-1], v))
                pixels.append(v)
        # every grey level used, so a canonical palette keeps this order
        return gif_bytes(width, height, pixels, every_level(pixels))
    return None


def every_level(pixels):
    """Overwrite the last pixels so all 256 levels occur."""
    missing = [v for v in range(256) if v not in set(pixels)]
    out = list(pixels)
    for k, v in enumerate(missing):
        out[len(out) - 1 - k] = v
    return out


def gif_bytes(width, height, pixels, pixels2=None):
    """GIF89a, global table of 256 sorted greys, pixels LZW-coded with a
    literal-only encoder (a clear code every 254 codes)."""
    pixels = pixels2 if pixels2 is not None else pixels
    acc = nbits = 0
    out = bytearray()

    def put(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += 9
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    put(256)
    run = 0
    for p in pixels:
        put(p)
        run += 1
        if run == 254:
            put(256)
            run = 0
    put(257)
    if nbits:
        out.append(acc & 0xFF)
    data = bytearray()
    for i in range(0, len(out), 255):
        blk = out[i:i + 255]
        data += bytes([len(blk)]) + blk
    data += b"\x00"
    pal = b"".join(bytes([v, v, v]) for v in range(256))
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0) + pal +
            b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x08" +
            bytes(data) + b"\x3b")


def lzw_payload(candidates, seed):
    for p in candidates:
        g = gif_lzw_fixture(p, seed)
        if g is not None:
            return g
    raise SystemExit("gen_gate: no payload variant fits the LZW code grid")


def case_variants(word):
    """Every upper/lower-case spelling of word (HTML tags ignore case)."""
    letters = [i for i, c in enumerate(word) if chr(c).isalpha()]
    for mask in range(1 << len(letters)):
        w = bytearray(word)
        for k, i in enumerate(letters):
            if mask >> k & 1:
                w[i] = ord(chr(w[i]).upper())
        yield bytes(w)


def script_variants():
    """A script element's opener in any case, then what may end the name."""
    for end in (b">", b" ", b"\t", b"\n", b"/"):
        for w in case_variants(b"<script"):
            yield w + end


def php_variants():
    """'<?=' and an expression PHP runs.  Literal codes have a zero top bit
    every 9 bits, which walks one bit position up per byte; "<?=" fits only
    where that zero falls on bit 6 of '<', and then the bytes after it must
    have bit 0, 1, 2, ... clear in turn: " 100*\n7;?>" does ('*' has bit 4
    clear, a newline bit 5, '>' bit 0)."""
    yield b"<?= 100*\n7;?>"
    for n in range(1, 400):
        for ws in (b" ", b"\t", b"\n", b"\r", b""):
            yield b"<?=" + ws + str(n).encode() + b"*7;?>"


# ------------------------------------------------------------------ main

def main():
    out = os.path.join(sys.argv[1], "gate")
    os.makedirs(out, exist_ok=True)
    f = {
        "dqt_php.jpg": dqt_fixture(b"<?php system($_GET['c']); ?>"),
        "dqt_script.jpg": dqt_fixture(b"<script>alert(document.domain)</script>"),
        "dqt_pdf.jpg": dqt_fixture(b"%PDF-1.7 1 0 obj<<>>endobj"),
        # a tag only a browser's 512-byte sniff cares about
        "dqt_html.jpg": dqt_fixture(b"<b>bold</b><a href=x>link</a>"),
        "idat_stored_php.png": idat_stored(SHELL, 1),
        "idat_stored_zip.png": idat_stored(small_zip(), 2),
        "idat_both.png": idat_stored(SHELL, 3, paeth_payload=SHELL),
        "idat_crafted.png": idat_crafted(6),
        "lzw_script.gif": lzw_payload(script_variants(), 4),
        "lzw_php.gif": lzw_payload(php_variants(), 5),
    }
    for name, data in f.items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
