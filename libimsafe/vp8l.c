/*
 * vp8l.c - a WebP lossless (VP8L) bitstream's prefix codes are checked by
 * libimsafe before libwebp builds a single table from them.
 *
 * Why: CVE-2023-4863 ("BLASTPASS") was a heap overflow in libwebp's
 * Huffman table builder.  Its tables are sized for complete codes
 * (kTableSize in vp8l_dec.c, computed with zlib's enough.c); an incomplete
 * code made the builder write second-level tables past that size before it
 * noticed the code was invalid.  Debian's libwebp is patched, but a gateway
 * does not bet on every vendored copy being so: the class of input is
 * refused here, by our own reader, whatever libwebp would do with it.
 *
 * Layout (RFC 9649 section 3; bits are read least significant first):
 *
 *   header      8 bits 0x2f, 14 bits width-1, 14 bits height-1,
 *               1 bit alpha hint, 3 bits version (must be 0).  Absent in an
 *               ALPH chunk of compression method 1 (size from the frame).
 *   transforms  while a 1 bit follows: 2 bits type, each type at most once
 *                 0 predictor, 1 colour: 3 bits size_bits-2, then a
 *                   sub-image of DIV_ROUND_UP(w, 1 << size_bits) x
 *                   DIV_ROUND_UP(h, 1 << size_bits)
 *                 2 subtract green: nothing
 *                 3 colour indexing: 8 bits colours-1, then a colours x 1
 *                   sub-image (the palette); from here on the image is
 *                   DIV_ROUND_UP(w, 1 << b) wide, b = 0..3 pixels per
 *                   bundle from the palette size
 *   cache       1 bit, then 4 bits colour cache bits (1..11)
 *   meta codes  (main image only) 1 bit, then 3 bits precision-2 and the
 *               entropy image, a sub-image whose green and red bytes give
 *               each tile's group; groups = highest index + 1
 *   groups      per group five prefix codes: green (256 literals + 24
 *               length prefixes + cache size), red, blue, alpha (256 each)
 *               and distance (40)
 *   pixels      LZ77-coded ARGB (left to libwebp for the main image)
 *   A sub-image is: cache bits, one group of five codes, its pixels.
 *
 *   A prefix code is simple (1 bit 1: 1 or 2 symbols of length 1, the
 *   first in 1 or 8 bits, the second in 8) or normal (1 bit 0: 4 bits
 *   count-4 of 3-bit code-length-code lengths in kCodeLengthCodeOrder,
 *   an optional max_symbol, then code lengths 0..15 coded with that code,
 *   16 repeating the previous non-zero length 3..6 times, 17 and 18
 *   repeating zero 3..10 and 11..138 times).
 *
 * Checked: the header against the frame's size; each transform at most
 * once; cache bits 1..11; every prefix code of every image (the sub-images,
 * the palette, the entropy image and every group of the main image): lengths
 * within the alphabet, repeats not past its end, the code complete and not
 * over-subscribed (Kraft sum exactly 1, or exactly one used symbol, which
 * the format codes in zero bits), the code-length code likewise, and the
 * table sizes libwebp's builder gives (root 8 bits plus second-level
 * tables) within its fixed bounds per alphabet and per group; the number of
 * groups at most the entropy image's pixel count.  The sub-images are
 * decoded in full by the bounded decoder below (their back-references
 * must stay inside them, and the stream must not end inside one); the main
 * image's pixels are not decoded.
 *
 * Stricter than libwebp, on purpose: a simple code naming a symbol outside
 * its alphabet (libwebp ignores that symbol; only the distance alphabet,
 * 40 symbols, can be overrun by an 8-bit symbol); more groups than the
 * entropy image has pixels (groups nobody uses, which libwebp still reads;
 * its own encoder never writes them); and a stream that ends before its
 * last prefix code does.  libwebp's reader hands out zero bits past the
 * end and sets its end-of-stream flag only when it refills its window, so
 * a code cut short, or any stream under 8 bytes, can pass there; here a
 * read past the end is truncation, never padding (THREATS.md row 15).
 *
 * Bounds: sub-images are at most DIV_ROUND_UP(w, 4) x DIV_ROUND_UP(h, 4)
 * pixels (the palette 256 x 1), decoded one at a time into a buffer
 * charged to the job's budget, with decoding tables of at most 2^15 entries
 * per code; the main image's groups are at most 65536 and read one at a
 * time into a fixed array.  Work is counted in symbols and pixels against
 * the policy's max_work.
 */
#include <stdio.h>
#include <string.h>

#include "imsafe_private.h"

#define VP8L_MAGIC 0x2f
#define MAX_LEN 15            /* longest prefix code (RFC 9649 3.7.2.1.2) */
#define ROOT_BITS 8           /* libwebp's first-level table (HUFFMAN_TABLE_BITS) */
#define NUM_LITERAL 256
#define NUM_LENGTH 24
#define NUM_DISTANCE 40
#define MAX_CACHE_BITS 11
#define MAX_ALPHABET (NUM_LITERAL + NUM_LENGTH + (1 << MAX_CACHE_BITS))
#define NUM_CL_CODES 19       /* code-length code alphabet */
#define CODE_TO_PLANE 120     /* distance codes mapped through kCodeToPlane */
#define MAX_GROUPS 65536      /* a group index is 16 bits */

/* Per-alphabet bounds of libwebp's tables for root 8 and lengths <= 15,
 * from enough.c (vp8l_dec.c: kTableSize = FIXED_TABLE_SIZE + green). */
#define TABLE_256 630
#define TABLE_40 410
static const uint16_t green_table_max[MAX_CACHE_BITS + 1] = {
    654, 656, 658, 662, 670, 686, 718, 782, 912, 1168, 1680, 2704};

static const uint8_t cl_order[NUM_CL_CODES] = {17, 18, 0, 1,  2,  3,  4,  5,  16, 6,
                                               7,  8,  9, 10, 11, 12, 13, 14, 15};

/* Distance codes 1..120 name a nearby pixel as (dy << 4) | (8 - dx). */
static const uint8_t code_to_plane[CODE_TO_PLANE] = {
    0x18, 0x07, 0x17, 0x19, 0x28, 0x06, 0x27, 0x29, 0x16, 0x1a, 0x26, 0x2a, 0x38, 0x05, 0x37,
    0x39, 0x15, 0x1b, 0x36, 0x3a, 0x25, 0x2b, 0x48, 0x04, 0x47, 0x49, 0x14, 0x1c, 0x35, 0x3b,
    0x46, 0x4a, 0x24, 0x2c, 0x58, 0x45, 0x4b, 0x34, 0x3c, 0x03, 0x57, 0x59, 0x13, 0x1d, 0x56,
    0x5a, 0x23, 0x2d, 0x44, 0x4c, 0x55, 0x5b, 0x33, 0x3d, 0x68, 0x02, 0x67, 0x69, 0x12, 0x1e,
    0x66, 0x6a, 0x22, 0x2e, 0x54, 0x5c, 0x43, 0x4d, 0x65, 0x6b, 0x32, 0x3e, 0x78, 0x01, 0x77,
    0x79, 0x53, 0x5d, 0x11, 0x1f, 0x64, 0x6c, 0x42, 0x4e, 0x76, 0x7a, 0x21, 0x2f, 0x75, 0x7b,
    0x31, 0x3f, 0x63, 0x6d, 0x52, 0x5e, 0x00, 0x74, 0x7c, 0x41, 0x4f, 0x10, 0x20, 0x62, 0x6e,
    0x30, 0x73, 0x7d, 0x51, 0x5f, 0x40, 0x72, 0x7e, 0x61, 0x6f, 0x50, 0x71, 0x7f, 0x60, 0x70};

static const char *const code_names[5] = {"green", "red", "blue", "alpha", "distance"};

/* A bounded bit reader: reads past the end give zero bits and set eos,
 * which every loop tests, so no read leaves the buffer. */
struct br {
    const uint8_t *p;
    size_t n;
    uint64_t pos, nbits;
    int eos;
};

/* One prefix code ready for decoding: a single-level table indexed by the
 * next `bits` input bits; entries are symbol << 4 | length. */
struct code {
    uint32_t *table;
    unsigned bits;
};

struct vp8l {
    struct imsafe__job *job;
    struct br br;
    imsafe_reason reason; /* the first failure */
    const char *where;    /* which image is being read, for details */
    uint64_t work, max_work;
    uint8_t lens[MAX_ALPHABET];
};

static uint32_t br_peek(const struct br *b, unsigned k)
{
    /* k <= 24: with up to 7 bits of offset, 4 bytes always hold them */
    uint64_t byte = b->pos >> 3;
    uint32_t v = 0;
    for (unsigned i = 0; i < 4 && byte + i < b->n; i++)
        v |= (uint32_t)b->p[byte + i] << (8 * i);
    v >>= b->pos & 7;
    return k == 0 ? 0 : v & ((1u << k) - 1);
}

static void br_skip(struct br *b, unsigned k)
{
    b->pos += k;
    if (b->pos > b->nbits)
        b->eos = 1;
}

static uint32_t br_read(struct br *b, unsigned k)
{
    uint32_t v = br_peek(b, k);
    br_skip(b, k);
    return v;
}

/* Record the first failure; the job gets the reason and the detail. */
static imsafe_reason fail(struct vp8l *v, imsafe_reason r, const char *what, long a, long b)
{
    if (v->reason == IMSAFE_R_NONE) {
        v->reason = r;
        if (a < 0)
            imsafe__reject(v->job, r, "VP8L %s: %s", v->where, what);
        else
            imsafe__reject(v->job, r, "VP8L %s: %s (%ld, %ld)", v->where, what, a, b);
    }
    return v->reason;
}

static imsafe_reason truncated(struct vp8l *v, const char *inside)
{
    return fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, inside, (long)(v->br.pos >> 3),
                (long)v->br.n);
}

static int count_work(struct vp8l *v, uint64_t units)
{
    v->work += units;
    if (v->work <= v->max_work)
        return 0;
    if (v->reason == IMSAFE_R_NONE) {
        v->reason = IMSAFE_R_LIMIT_WORK;
        imsafe__reject(v->job, IMSAFE_R_LIMIT_WORK, "VP8L %s: prefix codes need more than %llu "
                       "work units (max_work)", v->where, (unsigned long long)v->max_work);
    }
    return -1;
}

static uint32_t subsample(uint32_t size, unsigned bits)
{
    return (uint32_t)(((uint64_t)size + (1u << bits) - 1) >> bits);
}

/* libwebp's NextTableBitSize(): the second-level table for codes from len
 * on, given the lengths still to place. */
static unsigned next_table_bits(const unsigned *count, unsigned len)
{
    int left = 1 << (len - ROOT_BITS);
    while (len < MAX_LEN) {
        left -= (int)count[len];
        if (left <= 0)
            break;
        ++len;
        left <<= 1;
    }
    return len - ROOT_BITS;
}

/* The table size libwebp's BuildHuffmanTable() gives a valid code: the
 * root table plus one second-level table per root prefix of the long codes
 * (canonical codes, in symbol order within a length). */
static unsigned table_size(const unsigned *count_in)
{
    unsigned count[MAX_LEN + 1];
    memcpy(count, count_in, sizeof count);
    unsigned total = 1u << ROOT_BITS;
    uint32_t code = 0, low = 0xffffffffu;
    for (unsigned len = 1; len <= MAX_LEN; len++, code <<= 1) {
        for (; count[len] > 0; count[len]--, code++) {
            if (len <= ROOT_BITS || (code >> (len - ROOT_BITS)) == low)
                continue;
            low = code >> (len - ROOT_BITS);
            total += 1u << next_table_bits(count, len);
        }
    }
    return total;
}

/* Is lens[0..n) a code libwebp accepts?  Complete (Kraft sum 1) or exactly
 * one used symbol.  Returns 0, or BAD_EMPTY / BAD_OVER / BAD_INCOMPLETE;
 * *size gets libwebp's table size. */
enum { BAD_EMPTY = 1, BAD_OVER, BAD_INCOMPLETE };
static int check_lengths(const uint8_t *lens, unsigned n, unsigned *size)
{
    unsigned count[MAX_LEN + 1] = {0};
    for (unsigned s = 0; s < n; s++)
        count[lens[s]]++;
    unsigned used = n - count[0];
    *size = 1u << ROOT_BITS;
    if (used == 0)
        return BAD_EMPTY;
    if (used == 1)
        return 0;
    int64_t left = 1; /* open branches at the current length */
    for (unsigned len = 1; len <= MAX_LEN; len++) {
        left = 2 * left - count[len];
        if (left < 0)
            return BAD_OVER;
    }
    if (left != 0)
        return BAD_INCOMPLETE;
    *size = table_size(count);
    return 0;
}

static unsigned reverse_bits(unsigned c, unsigned len)
{
    unsigned r = 0;
    for (unsigned i = 0; i < len; i++, c >>= 1)
        r = r << 1 | (c & 1);
    return r;
}

/* Build the decoding table of a checked code (lens[0..n)). */
static int build(struct vp8l *v, const uint8_t *lens, unsigned n, struct code *c)
{
    unsigned count[MAX_LEN + 1] = {0}, next[MAX_LEN + 2], maxlen = 0, used = 0;
    for (unsigned s = 0; s < n; s++) {
        count[lens[s]]++;
        if (lens[s] > maxlen)
            maxlen = lens[s];
    }
    used = n - count[0];
    c->bits = used == 1 ? 0 : maxlen; /* one symbol takes no bits */
    /* zeroed: a code that reached here is complete, so every entry is
     * written; were it not, an entry would still decode as symbol 0 */
    c->table = imsafe__calloc(v->job, (size_t)1 << c->bits, sizeof(uint32_t));
    if (c->table == NULL)
        return -1;
    next[1] = 0;
    for (unsigned len = 1; len <= MAX_LEN; len++)
        next[len + 1] = (next[len] + count[len]) << 1;
    for (unsigned s = 0; s < n; s++) {
        unsigned len = lens[s];
        if (len == 0)
            continue;
        if (used == 1) {
            c->table[0] = s << 4;
            break;
        }
        for (unsigned k = reverse_bits(next[len]++, len); k < (1u << c->bits); k += 1u << len)
            c->table[k] = s << 4 | len;
    }
    return 0;
}

static unsigned read_sym(struct br *b, const struct code *c)
{
    uint32_t e = c->table[br_peek(b, c->bits)];
    br_skip(b, e & 15);
    return e >> 4;
}

/* Code lengths of a normal code, coded with the code-length code. */
static imsafe_reason read_lengths(struct vp8l *v, unsigned n)
{
    uint8_t cl[NUM_CL_CODES] = {0};
    unsigned ncl = 4 + br_read(&v->br, 4), size;
    imsafe_reason r = IMSAFE_R_NONE;
    struct code clc = {NULL, 0};
    for (unsigned i = 0; i < ncl; i++)
        cl[cl_order[i]] = (uint8_t)br_read(&v->br, 3);
    if (v->br.eos)
        return truncated(v, "the stream ends inside a code-length code");
    if (check_lengths(cl, NUM_CL_CODES, &size) != 0)
        return fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN,
                    "a code-length code is incomplete, over-subscribed or empty", -1, 0);
    if (build(v, cl, NUM_CL_CODES, &clc) != 0)
        return fail(v, IMSAFE_R_LIMIT_MEMORY, "no memory for a code-length code", -1, 0);
    unsigned max_symbol = n;
    if (br_read(&v->br, 1)) {
        unsigned nbits = 2 + 2 * br_read(&v->br, 3);
        max_symbol = 2 + br_read(&v->br, nbits);
        if (max_symbol > n) {
            r = fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN, "max_symbol is past the alphabet",
                     (long)max_symbol, (long)n);
            goto done;
        }
    }
    if (count_work(v, n) != 0) {
        r = v->reason;
        goto done;
    }
    unsigned s = 0, prev = 8; /* the RFC's initial previous length */
    while (s < n && max_symbol-- > 0 && !v->br.eos) {
        unsigned len = read_sym(&v->br, &clc);
        if (len < 16) {
            v->lens[s++] = (uint8_t)len;
            if (len != 0)
                prev = len;
            continue;
        }
        static const uint8_t extra[3] = {2, 3, 7}, base[3] = {3, 3, 11};
        unsigned rep = base[len - 16] + br_read(&v->br, extra[len - 16]);
        if (rep > n - s) {
            r = fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN, "a length repeat runs past the alphabet",
                     (long)(s + rep), (long)n);
            goto done;
        }
        memset(v->lens + s, len == 16 ? (int)prev : 0, rep);
        s += rep;
    }
    if (v->br.eos)
        r = truncated(v, "the stream ends inside a prefix code");
done:
    imsafe__free(v->job, clc.table);
    return r;
}

/*
 * One prefix code of alphabet n into v->lens[0..n), checked; *size gets
 * libwebp's table size for it.  kind: 0..4 (green..distance), group: its
 * group, for the detail.
 */
static imsafe_reason read_code(struct vp8l *v, unsigned n, int kind, unsigned long group,
                               unsigned *size)
{
    memset(v->lens, 0, n);
    if (br_read(&v->br, 1)) {
        /* simple: one or two symbols, the first in 1 or 8 bits */
        unsigned two = br_read(&v->br, 1);
        unsigned s0 = br_read(&v->br, br_read(&v->br, 1) ? 8 : 1);
        unsigned s1 = two ? br_read(&v->br, 8) : s0;
        if (v->br.eos)
            return truncated(v, "the stream ends inside a prefix code");
        if (s0 >= n || s1 >= n)
            return fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN,
                        kind == 4 ? "a simple distance code names a symbol past 40"
                                  : "a simple code names a symbol past its alphabet",
                        (long)group, (long)(s0 >= n ? s0 : s1));
        v->lens[s0] = 1;
        v->lens[s1] = 1;
    } else {
        imsafe_reason r = read_lengths(v, n);
        if (r != IMSAFE_R_NONE)
            return r;
    }
    int bad = check_lengths(v->lens, n, size);
    if (bad != 0) {
        static const char *const what[4] = {"", "has no symbol", "is over-subscribed",
                                            "is incomplete"};
        char msg[64];
        snprintf(msg, sizeof msg, "the %s code of group %lu %s", code_names[kind], group,
                 what[bad]);
        return fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN, msg, -1, 0);
    }
    return IMSAFE_R_NONE;
}

/* The five codes of one group; with dec (a sub-image) each is also built
 * for decoding. */
static imsafe_reason read_group(struct vp8l *v, unsigned cache_bits, unsigned long group,
                                struct code dec[5])
{
    unsigned sizes[5];
    static const uint16_t other_max[5] = {0, TABLE_256, TABLE_256, TABLE_256, TABLE_40};
    for (int k = 0; k < 5; k++) {
        unsigned n = k == 0 ? NUM_LITERAL + NUM_LENGTH + (cache_bits ? 1u << cache_bits : 0)
                     : k == 4 ? NUM_DISTANCE
                              : NUM_LITERAL;
        imsafe_reason r = read_code(v, n, k, group, &sizes[k]);
        if (r != IMSAFE_R_NONE)
            return r;
        /* libwebp sizes its tables from these bounds: a valid code never
         * exceeds them, so this only fires if the checks above missed one */
        unsigned max = k == 0 ? green_table_max[cache_bits] : other_max[k];
        if (!IMSAFE_ASSERT(sizes[k] <= max))
            return fail(v, IMSAFE_R_MALFORMED_WEBP_HUFFMAN, "a code's tables exceed libwebp's",
                        (long)sizes[k], (long)max);
        if (dec != NULL && build(v, v->lens, n, &dec[k]) != 0)
            return fail(v, IMSAFE_R_LIMIT_MEMORY, "no memory for a prefix code", -1, 0);
    }
    return IMSAFE_R_NONE;
}

/* Length and distance values: a prefix symbol and its extra bits. */
static uint32_t copy_value(struct br *b, unsigned sym)
{
    if (sym < 4)
        return sym + 1;
    unsigned extra = (sym - 2) >> 1;
    uint32_t offset = (2u + (sym & 1)) << extra;
    return offset + br_read(b, extra) + 1;
}

static uint64_t plane_distance(uint32_t width, uint32_t code)
{
    if (code > CODE_TO_PLANE)
        return code - CODE_TO_PLANE;
    unsigned d = code_to_plane[code - 1];
    int64_t dist = (int64_t)(d >> 4) * width + 8 - (int64_t)(d & 15);
    return dist >= 1 ? (uint64_t)dist : 1;
}

struct cache {
    uint32_t *argb;
    unsigned bits;
};

static void cache_put(struct cache *c, uint32_t argb)
{
    if (c->bits != 0)
        c->argb[(uint32_t)(argb * 0x1e35a7bdu) >> (32 - c->bits)] = argb;
}

/* The pixels of a sub-image, LZ77 over one group (RFC 9649 5.2.2). */
static imsafe_reason decode_pixels(struct vp8l *v, uint32_t *px, uint32_t w, uint64_t total,
                                   const struct code c[5], struct cache *cache)
{
    uint64_t pos = 0;
    while (pos < total) {
        if (v->br.eos)
            return truncated(v, "the stream ends inside a sub-image");
        unsigned g = read_sym(&v->br, &c[0]);
        if (g < NUM_LITERAL) {
            uint32_t r = read_sym(&v->br, &c[1]), b = read_sym(&v->br, &c[2]);
            uint32_t a = read_sym(&v->br, &c[3]);
            px[pos] = a << 24 | r << 16 | (uint32_t)g << 8 | b;
            cache_put(cache, px[pos++]);
        } else if (g < NUM_LITERAL + NUM_LENGTH) {
            uint32_t len = copy_value(&v->br, g - NUM_LITERAL);
            uint32_t dcode = copy_value(&v->br, read_sym(&v->br, &c[4]));
            uint64_t dist = plane_distance(w, dcode);
            if (v->br.eos)
                return truncated(v, "the stream ends inside a sub-image");
            if (dist > pos || len > total - pos)
                return fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L,
                            "a back-reference leaves the sub-image", (long)pos, (long)dist);
            for (uint32_t i = 0; i < len; i++, pos++) {
                px[pos] = px[pos - dist];
                cache_put(cache, px[pos]);
            }
        } else {
            /* the alphabet holds cache codes only when the cache exists */
            px[pos] = cache->argb[g - NUM_LITERAL - NUM_LENGTH];
            cache_put(cache, px[pos++]);
        }
    }
    if (v->br.eos)
        return truncated(v, "the stream ends inside a sub-image");
    return IMSAFE_R_NONE;
}

static imsafe_reason read_cache_bits(struct vp8l *v, unsigned *bits)
{
    *bits = 0;
    if (br_read(&v->br, 1)) {
        *bits = br_read(&v->br, 4);
        if (*bits < 1 || *bits > MAX_CACHE_BITS)
            return fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "colour cache bits out of 1..11",
                        (long)*bits, 0);
    }
    if (v->br.eos)
        return truncated(v, "the stream ends inside a header");
    return IMSAFE_R_NONE;
}

/*
 * A sub-image of w x h pixels, decoded in full.  With groups non-NULL (the
 * entropy image) *groups gets its highest group index + 1.
 */
static imsafe_reason sub_image(struct vp8l *v, const char *where, uint32_t w, uint32_t h,
                               uint32_t *groups)
{
    imsafe_reason r;
    struct code c[5];
    struct cache cache = {NULL, 0};
    uint32_t *px = NULL;
    uint64_t total = (uint64_t)w * h; /* both <= 16384 */
    memset(c, 0, sizeof c);
    v->where = where;
    if ((r = read_cache_bits(v, &cache.bits)) != IMSAFE_R_NONE)
        goto done;
    if ((r = read_group(v, cache.bits, 0, c)) != IMSAFE_R_NONE)
        goto done;
    if (count_work(v, total) != 0) {
        r = v->reason;
        goto done;
    }
    if (cache.bits != 0) {
        cache.argb = imsafe__calloc(v->job, (size_t)1 << cache.bits, sizeof(uint32_t));
        if (cache.argb == NULL) {
            r = fail(v, IMSAFE_R_LIMIT_MEMORY, "no memory for a colour cache", -1, 0);
            goto done;
        }
    }
    px = imsafe__alloc(v->job, (size_t)total * sizeof(uint32_t));
    if (px == NULL) {
        r = fail(v, IMSAFE_R_LIMIT_MEMORY, "no memory for a sub-image", (long)w, (long)h);
        goto done;
    }
    if ((r = decode_pixels(v, px, w, total, c, &cache)) != IMSAFE_R_NONE)
        goto done;
    if (groups != NULL) {
        uint32_t max = 0;
        for (uint64_t i = 0; i < total; i++)
            if (((px[i] >> 8) & 0xffff) > max)
                max = (px[i] >> 8) & 0xffff;
        *groups = max + 1;
    }
done:
    imsafe__free(v->job, px);
    imsafe__free(v->job, cache.argb);
    for (int k = 0; k < 5; k++)
        imsafe__free(v->job, c[k].table);
    return r;
}

/* The transforms; *w becomes the coded width after colour indexing. */
static imsafe_reason read_transforms(struct vp8l *v, uint32_t *w, uint32_t h)
{
    unsigned seen = 0;
    while (!v->br.eos && br_read(&v->br, 1)) {
        unsigned type = br_read(&v->br, 2);
        imsafe_reason r = IMSAFE_R_NONE;
        if (seen & (1u << type))
            return fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "a transform appears twice", (long)type,
                        0);
        seen |= 1u << type;
        if (type == 0 || type == 1) {
            unsigned bits = 2 + br_read(&v->br, 3);
            r = sub_image(v, type == 0 ? "predictor image" : "colour transform image",
                          subsample(*w, bits), subsample(h, bits), NULL);
        } else if (type == 3) {
            unsigned colours = 1 + br_read(&v->br, 8);
            unsigned bits = colours > 16 ? 0 : colours > 4 ? 1 : colours > 2 ? 2 : 3;
            r = sub_image(v, "palette", colours, 1, NULL);
            *w = subsample(*w, bits);
        }
        v->where = "main image";
        if (r != IMSAFE_R_NONE)
            return r;
    }
    if (v->br.eos)
        return truncated(v, "the stream ends inside a transform");
    return IMSAFE_R_NONE;
}

/* The main image (or alpha plane) after its header: transforms, cache,
 * meta prefix codes, and every group's five codes. */
static imsafe_reason main_image(struct vp8l *v, uint32_t w, uint32_t h)
{
    imsafe_reason r;
    unsigned cache_bits;
    uint32_t groups = 1, tiles = 1;
    v->where = "main image";
    if ((r = read_transforms(v, &w, h)) != IMSAFE_R_NONE)
        return r;
    if ((r = read_cache_bits(v, &cache_bits)) != IMSAFE_R_NONE)
        return r;
    if (br_read(&v->br, 1)) {
        unsigned bits = 2 + br_read(&v->br, 3);
        uint32_t ew = subsample(w, bits), eh = subsample(h, bits);
        if ((r = sub_image(v, "entropy image", ew, eh, &groups)) != IMSAFE_R_NONE)
            return r;
        v->where = "main image";
        tiles = ew * eh;
        /* unused groups are legal but only cost work: a group per tile is
         * all an encoder needs (libwebp's own never writes more) */
        if (groups > tiles)
            return fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L,
                        "more prefix-code groups than entropy tiles", (long)groups, (long)tiles);
    }
    for (uint32_t g = 0; g < groups; g++) {
        if ((r = read_group(v, cache_bits, g, NULL)) != IMSAFE_R_NONE)
            return r;
    }
    return IMSAFE_R_NONE;
}

imsafe_reason imsafe__vp8l_check(struct imsafe__job *job, const uint8_t *bits, size_t n,
                                 uint32_t width, uint32_t height, int is_alpha)
{
    struct vp8l *v = imsafe__alloc(job, sizeof *v);
    imsafe_reason r = IMSAFE_R_NONE;
    if (v == NULL) {
        /* over budget (already rejected) or the allocator failed
         * (job->alloc_failed): either way the job ends here */
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY, "VP8L: no memory for the reader");
        return IMSAFE_R_LIMIT_MEMORY;
    }
    memset(v, 0, sizeof *v);
    v->job = job;
    v->br.p = bits;
    v->br.n = n;
    v->br.nbits = (uint64_t)n * 8;
    v->where = is_alpha ? "alpha" : "header";
    v->max_work = job->policy != NULL ? (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_WORK)
                                      : UINT64_MAX;
    if (width < 1 || height < 1 || width > 16384 || height > 16384) {
        r = fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "the frame size is outside 1..16384",
                 (long)width, (long)height);
        goto done;
    }
    if (!is_alpha) {
        if (n < 5 || bits[0] != VP8L_MAGIC) {
            r = fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "no VP8L signature", (long)n, 0);
            goto done;
        }
        br_skip(&v->br, 8);
        uint32_t w = br_read(&v->br, 14) + 1, h = br_read(&v->br, 14) + 1;
        br_skip(&v->br, 1); /* the alpha hint: libwebp ignores it, and so do we */
        unsigned version = br_read(&v->br, 3);
        if (version != 0) {
            r = fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "version is not 0", (long)version, 0);
            goto done;
        }
        if (w != width || h != height) {
            r = fail(v, IMSAFE_R_MALFORMED_WEBP_VP8L, "the size differs from the frame's",
                     (long)w, (long)h);
            goto done;
        }
    }
    r = main_image(v, width, height);
done:
    imsafe__free(job, v);
    return r;
}
