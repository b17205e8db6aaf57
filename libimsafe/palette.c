/*
 * palette.c - canonical palettes for the image rebuilds (GIF global and
 * local colour tables, PNG PLTE + tRNS, and the GIF-to-PNG encoder).
 *
 * Why: a colour table is up to 768 bytes (PNG: plus 256 of tRNS) the
 * sender fills in any order, and an encoder copies the table as it is
 * given.  768 chosen bytes hold a small ZIP, a PDF header or a <script>,
 * and a rebuilt GIF or PNG that keeps them is still a GIFAR (THREATS.md
 * row 17).  So the rebuilds never write the sender's order: this helper
 * decides the order from the colours alone and every pixel index is
 * remapped, so the pixels stay exactly the same.
 *
 * The canonical table, given n entries of R,G,B,A:
 *   1. Entries are sorted by value: R, then G, then B, then A (the alpha
 *      travels with its colour).  Among equal values, entries the caller
 *      keeps apart (see 3) come first, and then the input index decides;
 *      entries of equal value have equal bytes, so that last rule never
 *      shows in the table, only in the indices.
 *   2. Exact duplicates are merged: they become one entry.
 *   3. "Apart" entries are never merged with anything.  GIF has no alpha:
 *      its transparency is one index per frame (graphic control
 *      extension), so the entry a frame calls transparent must not take
 *      in an opaque twin, or that twin's pixels would vanish.
 *   4. "Fixed" entries keep their input index (at most two).  A decoder
 *      that reads an index without a pixel behind it needs the same
 *      colour there: Pillow paints the part of the screen the first GIF
 *      frame leaves uncovered with entry 0, and disposal-to-background
 *      with the background entry of the frame's own table.  Other entries
 *      with the same value (and not apart) merge into a fixed one.
 *   5. The remaining entries fill the free indices in sorted order.  When
 *      the caller needs a power-of-two size (GIF), the table is padded by
 *      repeating the last sorted entry (or, with none, the first fixed
 *      one).  Repeating keeps the output a fixpoint: sanitized again, the
 *      padding merges back into the entry it copies, or (when that entry
 *      is kept apart) sorts right after it, into the same place.
 * Nothing here needs to know which entries the pixels use, so encoders
 * that stream rows keep streaming; unused entries are kept.
 *
 * What sorting does not do: the multiset of colours is still the
 * sender's.  In sorted order every third byte of a table only grows
 * (R of each entry), which breaks a payload written in order, but a
 * payload built to be ascending survives, and a PNG's alpha column
 * (tRNS) follows the colours' order, not its own.  The output gate, which
 * scans every output, is the guarantee; this is what makes it rarely
 * needed.
 */
#include <string.h>

#include "imsafe_private.h"

/* A sort key: value (R,G,B,A) in the top 32 bits, then 0 for an apart
 * entry and 1 for an ordinary one, then the input index.  Keys are
 * unique, so the order does not depend on the sort being stable. */
static uint64_t entry_key(const uint8_t *rgba, int apart, int index)
{
    uint64_t v = (uint64_t)rgba[0] << 24 | (uint64_t)rgba[1] << 16 | (uint64_t)rgba[2] << 8 |
                 rgba[3];
    return v << 9 | (uint64_t)(apart ? 0 : 1) << 8 | (uint64_t)index;
}

/* Insertion sort on at most 256 keys: no allocation, no recursion, and
 * tables usually arrive nearly sorted (an already canonical table costs
 * one comparison per entry). */
static void sort_keys(uint64_t *k, int n)
{
    for (int i = 1; i < n; i++) {
        uint64_t v = k[i];
        int j = i - 1;
        while (j >= 0 && k[j] > v) {
            k[j + 1] = k[j];
            j--;
        }
        k[j + 1] = v;
    }
}

static int key_index(uint64_t k)
{
    return (int)(k & 0xFF);
}

static int is_apart(const uint8_t *apart, int i)
{
    return apart != NULL && apart[i];
}

static int same(const uint8_t *rgba, int i, int j)
{
    return memcmp(rgba + 4 * i, rgba + 4 * j, 4) == 0;
}

static int key_apart(uint64_t k)
{
    return ((k >> 8) & 1) == 0;
}

/* The smallest power of two >= n, at least 2 (GIF's smallest table). */
static int pow2_at_least(int n)
{
    int s = 2;
    while (s < n)
        s <<= 1;
    return s;
}

/* The working state of one canonicalisation (about 4 KiB, on the stack). */
struct canon {
    const uint8_t *rgba, *apart;
    const int *fixed;
    int n, nfixed;
    uint64_t keys[IMSAFE__PALETTE_MAX];
    uint8_t is_fixed[IMSAFE__PALETTE_MAX]; /* input index (= its slot) is fixed */
    int sorted[IMSAFE__PALETTE_MAX];       /* input index of each unique entry */
    int joined[IMSAFE__PALETTE_MAX];       /* input index entry i merged into, or -1 */
    int nsorted;
};

/* Merge, walking the sorted keys: an ordinary entry joins a fixed ordinary
 * entry of the same value (the first one the caller named), else the
 * previous unique entry when that one is ordinary and of the same value;
 * otherwise it is a unique entry of its own. */
static void merge(struct canon *c)
{
    for (int s = 0; s < c->n; s++) {
        int i = key_index(c->keys[s]);
        c->joined[i] = -1;
        if (c->is_fixed[i])
            continue;
        if (!key_apart(c->keys[s])) {
            for (int f = 0; f < c->nfixed && c->joined[i] < 0; f++)
                if (!is_apart(c->apart, c->fixed[f]) && same(c->rgba, i, c->fixed[f]))
                    c->joined[i] = c->fixed[f];
            int p = c->nsorted > 0 ? c->sorted[c->nsorted - 1] : -1;
            if (c->joined[i] < 0 && p >= 0 && !is_apart(c->apart, p) && same(c->rgba, i, p))
                c->joined[i] = p;
        }
        if (c->joined[i] < 0)
            c->sorted[c->nsorted++] = i;
    }
}

/* Fixed entries at their own index, unique ones in the free slots in
 * sorted order, then padding: copies of the last unique entry (of the
 * first fixed one when every entry is fixed).  0, or -1 when the entries
 * do not fit (a bug of ours: count was computed to hold them). */
static int lay_out(const struct canon *c, struct imsafe__palette *out)
{
    int next = 0;
    const uint8_t *pad = c->nsorted > 0 ? c->rgba + 4 * c->sorted[c->nsorted - 1]
                                        : c->rgba + 4 * c->fixed[0];
    for (int slot = 0; slot < out->count; slot++) {
        if (slot < c->n && c->is_fixed[slot]) {
            memcpy(out->rgba + 4 * slot, c->rgba + 4 * slot, 4);
            out->map[slot] = (uint8_t)slot;
        } else if (next < c->nsorted) {
            int i = c->sorted[next++];
            memcpy(out->rgba + 4 * slot, c->rgba + 4 * i, 4);
            out->map[i] = (uint8_t)slot;
        } else {
            memcpy(out->rgba + 4 * slot, pad, 4);
        }
    }
    if (next != c->nsorted)
        return -1;
    for (int i = 0; i < c->n; i++)
        if (c->joined[i] >= 0)
            out->map[i] = out->map[c->joined[i]];
    return 0;
}

int imsafe__palette_canon(struct imsafe__palette *out, const uint8_t *rgba, int n,
                          const uint8_t *apart, const int *fixed, int nfixed, int pow2)
{
    struct canon c;
    int top = 0, distinct_fixed = 0;

    if (out == NULL || rgba == NULL || n < 1 || n > IMSAFE__PALETTE_MAX || nfixed < 0 ||
        nfixed > 2 || (nfixed > 0 && fixed == NULL))
        return -1;
    memset(out, 0, sizeof *out);
    memset(&c, 0, sizeof c);
    c.rgba = rgba;
    c.apart = apart;
    c.fixed = fixed;
    c.n = n;
    c.nfixed = nfixed;
    for (int f = 0; f < nfixed; f++) {
        if (fixed[f] < 0 || fixed[f] >= n)
            return -1;
        distinct_fixed += !c.is_fixed[fixed[f]];
        c.is_fixed[fixed[f]] = 1;
        if (fixed[f] + 1 > top)
            top = fixed[f] + 1;
    }
    for (int i = 0; i < n; i++)
        c.keys[i] = entry_key(rgba + 4 * i, is_apart(apart, i), i);
    sort_keys(c.keys, n);
    merge(&c);

    /* every unique entry and every fixed slot; <= n <= 256 */
    out->count = c.nsorted + distinct_fixed;
    if (out->count < top)
        out->count = top;
    if (pow2)
        out->count = pow2_at_least(out->count);
    if (!IMSAFE_ASSERT(out->count <= IMSAFE__PALETTE_MAX) || lay_out(&c, out) != 0)
        return -1;
    out->identity = out->count == n;
    for (int i = 0; i < n && out->identity; i++)
        out->identity = out->map[i] == i;
    return 0;
}

/* A byte-to-byte table remapping every pixel of one packed byte (1, 2, 4
 * or 8 bits per pixel, most significant pixel first as in PNG). */
void imsafe__palette_byte_lut(const struct imsafe__palette *p, unsigned depth, uint8_t lut[256])
{
    unsigned per = 8 / depth, mask = (1u << depth) - 1u;
    for (unsigned b = 0; b < 256; b++) {
        unsigned o = 0;
        for (unsigned k = 0; k < per; k++) {
            unsigned shift = 8 - depth * (k + 1);
            unsigned idx = (b >> shift) & mask;
            o |= ((unsigned)p->map[idx] & mask) << shift;
        }
        lut[b] = (uint8_t)o;
    }
}

/* Eight bytes a round: the loop's own compare and branch cost as much as
 * the lookup, and GIF frames run to millions of pixels. */
void imsafe__palette_remap(const uint8_t lut[256], uint8_t *px, size_t n)
{
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint8_t a = lut[px[i]], b = lut[px[i + 1]], c = lut[px[i + 2]], d = lut[px[i + 3]];
        uint8_t e = lut[px[i + 4]], f = lut[px[i + 5]], g = lut[px[i + 6]], h = lut[px[i + 7]];
        px[i] = a;
        px[i + 1] = b;
        px[i + 2] = c;
        px[i + 3] = d;
        px[i + 4] = e;
        px[i + 5] = f;
        px[i + 6] = g;
        px[i + 7] = h;
    }
    for (; i < n; i++)
        px[i] = lut[px[i]];
}
