#!/usr/bin/python3
"""gen_vp8l.py OUTDIR - writes VP8L (WebP lossless) test streams into OUTDIR/vp8l/.

A small VP8L encoder (RFC 9649 section 3) written for tests: every part of
the bitstream libimsafe/vp8l.c reads is put there on purpose, so valid
streams exercise each transform, the colour cache, meta prefix codes
(entropy image), LZ77 copies, simple and normal codes with max_symbol and
the repeat codes 16/17/18, and hostile streams break exactly one rule:
incomplete, over-subscribed and empty codes, an invalid code-length code,
a repeat past the alphabet, max_symbol past the alphabet, a transform
given twice, a bad version or signature, a colour cache of 0 or 12 bits,
more groups than entropy tiles, a back-reference before a sub-image's
start, a distance symbol past 40, and the CVE-2023-4863 shape (a long,
incomplete code whose second-level tables outgrow libwebp's fixed size).

The palette of the colour-indexing transform holds 1..256 entries by
construction (8 bits + 1): sizes 0 and 257 cannot be written, so the
hostile palettes are an incomplete code inside the palette image and a
truncated palette.

OUTDIR/vp8l/INDEX.tsv has one line per stream:
  file  width  height  is_alpha  expected-reason-or-none  codes_end  libwebp
codes_end: the bytes needed to reach the end of the last prefix code (a
cut shorter than that must be rejected as truncated; the main image's
pixels after it are libwebp's to read).  libwebp: what dwebp must do with
the stream wrapped in a RIFF ("ok" or "fail"; for an is_alpha stream a
VP8L header is put in front).  A hostile stream libwebp accepts is a case
where libimsafe is stricter on purpose; tests/verify_vp8l.py lists them.
"""
import heapq
import os
import random
import sys

CL_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
# a complete code-length code: 13 symbols of 4 bits, 6 of 5 bits
CL_LENS = {s: 4 for s in list(range(0, 13))}
CL_LENS.update({s: 5 for s in (13, 14, 15, 16, 17, 18)})


class BW:
    """LSB-first bit writer."""

    def __init__(self):
        self.bits = []

    def put(self, v, n):
        for i in range(n):
            self.bits.append((v >> i) & 1)

    def put_code(self, code, n):
        # prefix codes go MSB first
        for i in reversed(range(n)):
            self.bits.append((code >> i) & 1)

    def nbits(self):
        return len(self.bits)

    def data(self):
        out = bytearray((len(self.bits) + 7) // 8)
        for i, b in enumerate(self.bits):
            out[i >> 3] |= b << (i & 7)
        return bytes(out)


def huff_lengths(freq, maxlen=15):
    """Huffman code lengths for freq (list), limited to maxlen."""
    used = [s for s, f in enumerate(freq) if f]
    lens = [0] * len(freq)
    if len(used) <= 1:
        if used:
            lens[used[0]] = 1
        return lens
    f = list(freq)
    while True:
        heap = [(f[s], i, [s]) for i, s in enumerate(used)]
        heapq.heapify(heap)
        depth = {s: 0 for s in used}
        k = len(used)
        while len(heap) > 1:
            a = heapq.heappop(heap)
            b = heapq.heappop(heap)
            for s in a[2] + b[2]:
                depth[s] += 1
            heapq.heappush(heap, (a[0] + b[0], k, a[2] + b[2]))
            k += 1
        if max(depth.values()) <= maxlen:
            for s in used:
                lens[s] = depth[s]
            return lens
        f = [(x + 1) // 2 if x else 0 for x in f]
        f = [max(x, 1) if freq[s] else 0 for s, x in enumerate(f)]


def canonical(lens):
    """symbol -> (code, length); one used symbol takes no bits."""
    used = [s for s, l in enumerate(lens) if l]
    if len(used) == 1:
        return {used[0]: (0, 0)}
    codes = {}
    code = 0
    for length in range(1, 16):
        for s, l in enumerate(lens):
            if l == length:
                codes[s] = (code, length)
                code += 1
        code <<= 1
    return codes


def rle_lengths(lens, use_repeats):
    """The code-length symbols (sym, extra_bits, extra) for lens."""
    out = []
    i = 0
    prev = 8
    while i < len(lens):
        l = lens[i]
        run = 1
        while i + run < len(lens) and lens[i + run] == l:
            run += 1
        if use_repeats and l == 0 and run >= 11:
            r = min(run, 138)
            out.append((18, 7, r - 11))
            i += r
        elif use_repeats and l == 0 and run >= 3:
            r = min(run, 10)
            out.append((17, 3, r - 3))
            i += r
        elif use_repeats and l != 0 and l == prev and run >= 3:
            r = min(run, 6)
            out.append((16, 2, r - 3))
            i += r
        else:
            out.append((l, 0, 0))
            if l:
                prev = l
            i += 1
    return out


def write_normal(bw, lens, use_repeats=True, use_max_symbol=True, cl_lens=None):
    """A normal code for lens (a list the size of the alphabet)."""
    cl_lens = cl_lens or CL_LENS
    bw.put(0, 1)
    cl = [cl_lens.get(s, 0) for s in range(19)]
    ncl = 19
    while ncl > 4 and cl[CL_ORDER[ncl - 1]] == 0:
        ncl -= 1
    bw.put(ncl - 4, 4)
    for i in range(ncl):
        bw.put(cl[CL_ORDER[i]], 3)
    codes = canonical(cl)
    syms = rle_lengths(lens, use_repeats)
    # max_symbol counts code-length symbols; drop trailing zero lengths
    if use_max_symbol:
        last = max([i for i, l in enumerate(lens) if l] + [0])
        trimmed = rle_lengths(lens[:last + 1], use_repeats)
        if len(trimmed) < len(syms) and len(trimmed) >= 2:
            n = len(trimmed) - 2
            nbits = 2
            while n >= (1 << nbits):
                nbits += 2
            bw.put(1, 1)
            bw.put((nbits - 2) // 2, 3)
            bw.put(n, nbits)
            syms = trimmed
        else:
            bw.put(0, 1)
    else:
        bw.put(0, 1)
    for sym, nb, extra in syms:
        c, n = codes[sym]
        bw.put_code(c, n)
        bw.put(extra, nb)


def write_code(bw, lens, opts):
    """Simple when the code allows it (and opts allow), else normal."""
    used = [s for s, l in enumerate(lens) if l]
    if opts.get("simple", True) and len(used) <= 2 and all(s < 256 for s in used):
        bw.put(1, 1)
        bw.put(len(used) - 1, 1)
        if used[0] < 2:
            bw.put(0, 1)
            bw.put(used[0], 1)
        else:
            bw.put(1, 1)
            bw.put(used[0], 8)
        if len(used) == 2:
            bw.put(used[1], 8)
        return
    write_normal(bw, lens, opts.get("repeats", True), opts.get("max_symbol", True))


def prefix_value(v):
    """(symbol, extra_bits, extra) for a length or distance v >= 1."""
    x = v - 1
    if x < 4:
        return x, 0, 0
    h = x.bit_length() - 1
    second = (x >> (h - 1)) & 1
    return 2 * h + second, h - 1, x & ((1 << (h - 1)) - 1)


def cache_key(argb, bits):
    return ((argb * 0x1E35A7BD) & 0xFFFFFFFF) >> (32 - bits)


def tokens(px, cache_bits, lz):
    """LZ77 tokens: ('lit', argb), ('copy', length, dist), ('cache', key)."""
    out = []
    cache = {}
    i = 0
    while i < len(px):
        run = 0
        if lz and i > 0:
            while i + run < len(px) and px[i + run] == px[i - 1] and run < 4096:
                run += 1
        if run >= 3:
            out.append(("copy", run, 1))
            for k in range(run):
                if cache_bits:
                    cache[cache_key(px[i + k], cache_bits)] = px[i + k]
            i += run
            continue
        p = px[i]
        if cache_bits and cache.get(cache_key(p, cache_bits)) == p:
            out.append(("cache", cache_key(p, cache_bits)))
        else:
            out.append(("lit", p))
        if cache_bits:
            cache[cache_key(p, cache_bits)] = p
        i += 1
    return out


def group_symbols(tok):
    """(green, red, blue, alpha, dist) symbol lists of one token."""
    if tok[0] == "lit":
        a = tok[1]
        return [(0, (a >> 8) & 255), (1, (a >> 16) & 255), (2, a & 255), (3, a >> 24)]
    if tok[0] == "copy":
        ls = prefix_value(tok[1])[0]
        ds = prefix_value(tok[2] + 120)[0]
        return [(0, 256 + ls), (4, ds)]
    return [(0, 280 + tok[1])]


def alphabet(cache_bits):
    return [280 + ((1 << cache_bits) if cache_bits else 0), 256, 256, 256, 40]


def encode_entropy_coded(bw, px, width, cache_bits, opts, group_of=None, ngroups=1,
                         hooks=None):
    """Codes and pixels of one image; group_of(pos) picks a pixel's group."""
    hooks = hooks or {}
    toks = tokens(px, cache_bits, opts.get("lz", True))
    sizes = alphabet(cache_bits)
    hist = [[[0] * n for n in sizes] for _ in range(ngroups)]
    pos = 0
    tgroups = []
    for t in toks:
        g = group_of(pos) if group_of else 0
        tgroups.append(g)
        for k, s in group_symbols(t):
            hist[g][k][s] += 1
        pos += t[1] if t[0] == "copy" else 1
    codes = []
    for g in range(ngroups):
        gc = []
        for k in range(5):
            h = hist[g][k]
            if not any(h):
                h = [1] + [0] * (len(h) - 1)  # an unused code: symbol 0
            lens = huff_lengths(h)
            if (g, k) in hooks:
                lens = hooks[(g, k)](bw, lens)
                if lens is None:
                    return  # the hook wrote (and broke) the code itself
            else:
                write_code(bw, lens, opts)
            gc.append(canonical(lens))
        codes.append(gc)
    bw.codes_end = bw.nbits()
    for t, g in zip(toks, tgroups):
        gc = codes[g]
        for k, s in group_symbols(t):
            c, n = gc[k][s]
            bw.put_code(c, n)
            if k == 0 and t[0] == "copy":
                _, nb, extra = prefix_value(t[1])
                bw.put(extra, nb)
            if k == 4:
                _, nb, extra = prefix_value(t[2] + 120)
                bw.put(extra, nb)


def sub_image(bw, px, width, cache_bits=0, opts=None, hooks=None):
    if cache_bits:
        bw.put(1, 1)
        bw.put(cache_bits, 4)
    else:
        bw.put(0, 1)
    save = getattr(bw, "codes_end", None)
    encode_entropy_coded(bw, px, width, cache_bits, opts or {}, hooks=hooks)
    bw.codes_end = save


def sub(v, bits):
    return (v + (1 << bits) - 1) >> bits


def header(bw, w, h, version=0, magic=0x2F):
    bw.put(magic, 8)
    bw.put(w - 1, 14)
    bw.put(h - 1, 14)
    bw.put(1, 1)
    bw.put(version, 3)


def picture(w, h, ncolours, seed):
    rnd = random.Random(seed)
    pal = [rnd.randrange(1 << 32) for _ in range(ncolours)]
    px = []
    for y in range(h):
        for x in range(w):
            # runs and repeats, so LZ77 and the cache have work
            i = ((x // 3) + (y // 2) * 7 + rnd.randrange(2)) % ncolours
            px.append(pal[i])
    return px, pal


def stream(w, h, transforms=(), cache_bits=0, meta=None, opts=None, alpha=False,
           ncolours=12, seed=1, hooks=None, header_args=None, sub_hooks=None):
    """A whole VP8L stream.  transforms: names in order ('predictor',
    'colour', 'green', ('palette', n)).  meta: (bits, ngroups) or None."""
    opts = opts or {}
    sub_hooks = sub_hooks or {}
    bw = BW()
    if not alpha:
        header(bw, w, h, **(header_args or {}))
    px, pal = picture(w, h, ncolours, seed)
    cw = w
    rnd = random.Random(seed + 100)
    for t in transforms:
        bw.put(1, 1)
        if t in ("predictor", "colour"):
            bw.put(0 if t == "predictor" else 1, 2)
            bits = 2
            bw.put(bits - 2, 3)
            n = sub(cw, bits) * sub(h, bits)
            if t == "predictor":
                data = [0xFF000000 | (rnd.randrange(14) << 8) for _ in range(n)]
            else:
                data = [0xFF000000 | rnd.randrange(1 << 24) for _ in range(n)]
            sub_image(bw, data, sub(cw, bits), opts=opts, hooks=sub_hooks.get(t))
        elif t == "green":
            bw.put(2, 2)
        elif t == "twice-green":
            bw.put(2, 2)
            bw.put(1, 1)
            bw.put(2, 2)
        else:
            _, n = t
            bw.put(3, 2)
            bw.put(n - 1, 8)
            palette = [random.Random(seed + 7 + i).randrange(1 << 32) for i in range(n)]
            sub_image(bw, palette, n, opts=opts, hooks=sub_hooks.get("palette"))
            bits = 0 if n > 16 else 1 if n > 4 else 2 if n > 2 else 3
            # the main image becomes packed indices
            idx = [(p % n) for p in range(len(px))]
            rows = []
            per = 1 << bits
            for y in range(h):
                for x0 in range(0, cw, per):
                    v = 0
                    for k in range(per):
                        if x0 + k < cw:
                            v |= idx[y * cw + x0 + k] << (k * (8 >> bits))
                    rows.append(0xFF000000 | (v << 8))
            px = rows
            cw = sub(cw, bits)
    bw.put(0, 1)
    if cache_bits:
        bw.put(1, 1)
        bw.put(cache_bits, 4)
    else:
        bw.put(0, 1)
    group_of = None
    ngroups = 1
    if meta:
        mbits, ngroups, extra = meta
        bw.put(1, 1)
        bw.put(mbits - 2, 3)
        ew, eh = sub(cw, mbits), sub(h, mbits)
        tiles = [(i % ngroups) for i in range(ew * eh)]
        if extra:
            tiles[-1] = extra - 1  # name a higher group than the tiles need
            ngroups = max(ngroups, extra)
        sub_image(bw, [0xFF000000 | (g << 8) for g in tiles], ew, opts=opts,
                  hooks=sub_hooks.get("entropy"))

        def group_of(pos, ew=ew, mbits=mbits, tiles=tiles):
            y, x = divmod(pos, cw)
            return tiles[(y >> mbits) * ew + (x >> mbits)]
    else:
        bw.put(0, 1)
    encode_entropy_coded(bw, px, cw, cache_bits, opts, group_of, ngroups, hooks)
    return bw


# ------------------------------------------------------------ broken codes


def incomplete(bw, lens):
    """The code minus its last symbol: Kraft sum below 1."""
    used = [s for s, l in enumerate(lens) if l]
    bad = list(lens)
    if len(used) <= 2:
        bad = [0] * len(lens)
        bad[0] = 2
        bad[1] = 2
        bad[2] = 2
    else:
        bad[used[-1]] = 0
    write_normal(bw, bad)
    return None


def oversubscribed(bw, lens):
    bad = list(lens)
    free = [s for s, l in enumerate(lens) if not l]
    used = [s for s, l in enumerate(lens) if l]
    if len(used) < 2:
        bad[0] = bad[1] = bad[2] = 1
    else:
        bad[free[0]] = max(lens)
    write_normal(bw, bad)
    return None


def empty(bw, lens):
    write_normal(bw, [0] * len(lens))
    return None


def cve_shape(bw, lens):
    """The CVE-2023-4863 shape: a long code, complete up to 14 bits and
    then hundreds of 15-bit codes too few, so libwebp (before 1.3.2) filled
    second-level tables past its fixed kTableSize before it noticed."""
    n = len(lens)
    bad = [0] * n
    # one symbol of each length 1..7, then up to 255 of 15 bits where 256
    # would complete the code: every second-level table is left open
    for i in range(7):
        bad[i] = i + 1
    for i in range(7, min(n, 7 + 255)):
        bad[i] = 15
    write_normal(bw, bad)
    return None


def repeat_past_end(bw, lens):
    """Code 18 (zeros) running past the alphabet."""
    bw.put(0, 1)
    cl = [CL_LENS.get(s, 0) for s in range(19)]
    bw.put(15, 4)
    for i in range(19):
        bw.put(cl[CL_ORDER[i]], 3)
    codes = canonical(cl)
    bw.put(0, 1)
    c, k = codes[1]
    bw.put_code(c, k)
    c, k = codes[1]
    bw.put_code(c, k)
    for _ in range(len(lens) // 138 + 1):
        c, k = codes[18]
        bw.put_code(c, k)
        bw.put(127, 7)
    return None


def max_symbol_past(bw, lens):
    bw.put(0, 1)
    cl = [CL_LENS.get(s, 0) for s in range(19)]
    bw.put(15, 4)
    for i in range(19):
        bw.put(cl[CL_ORDER[i]], 3)
    bw.put(1, 1)
    bw.put(4, 3)  # 10 bits
    bw.put(1000, 10)  # 1002 > 256
    return None


def bad_cl_code(bw, lens):
    """The code-length code itself incomplete."""
    bw.put(0, 1)
    bw.put(0, 4)  # 4 code-length code lengths: 17, 18, 0, 1
    for v in (0, 0, 1, 2):
        bw.put(v, 3)
    return None


def simple_past_40(bw, lens):
    """A two-symbol simple distance code naming 0 and 200: libwebp ignores
    symbol 200 (a one-symbol code); we refuse the out-of-range symbol."""
    bw.put(1, 1)
    bw.put(1, 1)
    bw.put(0, 1)
    bw.put(0, 1)
    bw.put(200, 8)
    return [1] + [0] * 39


def main():
    out = os.path.join(sys.argv[1], "vp8l")
    os.makedirs(out, exist_ok=True)
    index = []

    def emit(name, bw, w, h, expect="none", alpha=False, libwebp=None, end=None):
        data = bw.data()
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        codes_end = getattr(bw, "codes_end", None)
        if end is not None:
            codes_end = end
        cend = (codes_end + 7) // 8 if codes_end is not None else len(data)
        if libwebp is None:
            libwebp = "ok" if expect == "none" else "fail"
        index.append("\t".join([name, str(w), str(h), "1" if alpha else "0", expect,
                                str(cend), libwebp]))

    # ---- valid
    emit("plain.vp8l", stream(16, 16, opts={"lz": False}), 16, 16)
    emit("lz77.vp8l", stream(33, 9), 33, 9)
    emit("green.vp8l", stream(16, 16, ["green"]), 16, 16)
    emit("predictor.vp8l", stream(21, 13, ["predictor"]), 21, 13)
    emit("colour.vp8l", stream(21, 13, ["colour"]), 21, 13)
    emit("all_transforms.vp8l", stream(37, 19, ["predictor", "colour", "green"], cache_bits=4,
                                       meta=(2, 3, 0)), 37, 19)
    for n in (1, 2, 3, 4, 5, 16, 17, 256):
        emit("palette_%d.vp8l" % n, stream(23, 7, [("palette", n)]), 23, 7)
    emit("palette_then_predictor.vp8l", stream(29, 11, [("palette", 5), "predictor"]), 29, 11)
    for bits in (1, 4, 11):
        emit("cache_%d.vp8l" % bits, stream(24, 24, cache_bits=bits, ncolours=40), 24, 24)
    emit("meta_codes.vp8l", stream(40, 24, meta=(3, 4, 0)), 40, 24)
    emit("meta_cache.vp8l", stream(40, 24, cache_bits=6, meta=(2, 7, 0)), 40, 24)
    emit("solid.vp8l", stream(64, 64, ncolours=1), 64, 64)
    emit("no_repeats.vp8l", stream(16, 16, opts={"repeats": False, "max_symbol": False,
                                                 "simple": False}), 16, 16)
    emit("one_pixel.vp8l", stream(1, 1), 1, 1)
    emit("wide.vp8l", stream(300, 2, ["predictor", "green"], cache_bits=3), 300, 2)
    emit("alpha.vp8l", stream(19, 17, [("palette", 4)], alpha=True), 19, 17, alpha=True)
    emit("alpha_plain.vp8l", stream(19, 17, alpha=True, cache_bits=2), 19, 17, alpha=True)

    # ---- hostile: prefix codes
    H = "malformed.webp.huffman"
    V = "malformed.webp.vp8l"
    emit("incomplete_red.vp8l", stream(16, 16, hooks={(0, 1): incomplete}), 16, 16, H)
    emit("incomplete_green.vp8l", stream(16, 16, hooks={(0, 0): incomplete}), 16, 16, H)
    emit("oversubscribed_blue.vp8l", stream(16, 16, hooks={(0, 2): oversubscribed}), 16, 16, H)
    emit("oversubscribed_green.vp8l", stream(16, 16, hooks={(0, 0): oversubscribed}), 16, 16, H)
    emit("empty_alpha.vp8l", stream(16, 16, hooks={(0, 3): empty}), 16, 16, H)
    emit("incomplete_group2.vp8l", stream(40, 24, meta=(3, 4, 0), hooks={(2, 4): incomplete}),
         40, 24, H)
    emit("cve_shape_green.vp8l", stream(16, 16, cache_bits=11, hooks={(0, 0): cve_shape}),
         16, 16, H)
    emit("cve_shape_red.vp8l", stream(16, 16, hooks={(0, 1): cve_shape}), 16, 16, H)
    emit("repeat_past_end.vp8l", stream(16, 16, hooks={(0, 3): repeat_past_end}), 16, 16, H)
    emit("max_symbol_past.vp8l", stream(16, 16, hooks={(0, 1): max_symbol_past}), 16, 16, H)
    emit("bad_cl_code.vp8l", stream(16, 16, hooks={(0, 0): bad_cl_code}), 16, 16, H)
    emit("simple_past_40.vp8l", stream(16, 16, opts={"lz": False},
                                       hooks={(0, 4): simple_past_40}), 16, 16, H,
         libwebp="ok")
    emit("incomplete_palette.vp8l",
         stream(23, 7, [("palette", 17)], sub_hooks={"palette": {(0, 0): incomplete}}),
         23, 7, H)
    emit("incomplete_predictor.vp8l",
         stream(21, 13, ["predictor"], sub_hooks={"predictor": {(0, 1): incomplete}}), 21, 13, H)
    emit("oversubscribed_entropy.vp8l",
         stream(40, 24, meta=(3, 4, 0), sub_hooks={"entropy": {(0, 0): oversubscribed}}),
         40, 24, H)
    emit("alpha_incomplete.vp8l", stream(19, 17, alpha=True, hooks={(0, 2): incomplete}),
         19, 17, H, alpha=True)

    # ---- hostile: header, transforms, sub-images
    emit("bad_version.vp8l", stream(8, 8, header_args={"version": 1}), 8, 8, V)
    emit("bad_signature.vp8l", stream(8, 8, header_args={"magic": 0x2E}), 8, 8, V)
    emit("size_mismatch.vp8l", stream(8, 8), 8, 9, V, libwebp="ok")
    emit("green_twice.vp8l", stream(8, 8, ["twice-green"]), 8, 8, V)
    emit("predictor_twice.vp8l", stream(21, 13, ["predictor", "predictor"]), 21, 13, V)
    emit("too_many_groups.vp8l", stream(40, 24, meta=(3, 4, 100)), 40, 24, V, libwebp="ok")
    bw = stream(8, 8, cache_bits=0)
    # cache bits 12: patch the stream: header (40 bits), no transform (1),
    # then "1" and 4 bits
    for name, value in (("cache_0.vp8l", 0), ("cache_12.vp8l", 12)):
        b = BW()
        header(b, 8, 8)
        b.put(0, 1)
        b.put(1, 1)
        b.put(value, 4)
        b.bits += [0] * 64
        emit(name, b, 8, 8, V, end=46)
    # a back-reference in the predictor image to before its first pixel
    b = BW()
    header(b, 16, 16)
    b.put(1, 1)
    b.put(0, 2)
    b.put(0, 3)  # 4 x 4 tiles of 4 x 4
    b.put(0, 1)  # no cache
    # green: symbols 0 and 256 (length prefix 1) as a simple code is not
    # possible (256 needs 9 bits), so a normal code of two symbols
    lens = [0] * 280
    lens[0] = 1
    lens[256] = 1
    write_normal(b, lens)
    for _ in range(4):  # red, blue, alpha, distance: symbol 0 only
        b.put(1, 1)
        b.put(0, 1)
        b.put(0, 1)
        b.put(0, 1)
    b.codes_end = b.nbits()
    # first pixel: the copy code (1 bit: symbol 256 is the second) with
    # length 1, distance symbol 0 (0 bits) = plane code 1 = one row up
    b.put_code(1, 1)
    b.bits += [0] * 64
    emit("backref_before_start.vp8l", b, 16, 16, V)

    # a truncated palette: the stream ends inside the palette image
    full = stream(23, 7, [("palette", 200)]).bits
    b = BW()
    b.bits = full[:40 + 1 + 2 + 8 + 1 + 400]
    emit("truncated_palette.vp8l", b, 23, 7, V, end=len(b.bits) + 8)

    with open(os.path.join(out, "INDEX.tsv"), "w") as f:
        f.write("# made by tests/gen/gen_vp8l.py: file width height is_alpha expected "
                "codes_end libwebp\n")
        f.write("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
