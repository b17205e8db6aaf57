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

int imsafe__palette_canon(struct imsafe__palette *out, const uint8_t *rgba, int n,
                          const uint8_t *apart, const int *fixed, int nfixed, int pow2)
{
    uint64_t keys[IMSAFE__PALETTE_MAX];
    int16_t slot_of_fixed[IMSAFE__PALETTE_MAX]; /* input index -> its slot, or -1 */
    uint8_t taken[IMSAFE__PALETTE_MAX];         /* output slot held by a fixed entry */
    int sorted[IMSAFE__PALETTE_MAX];            /* input index of each unique entry */
    int nsorted = 0, top = 0;

    if (out == NULL || rgba == NULL || n < 1 || n > IMSAFE__PALETTE_MAX || nfixed < 0 ||
        nfixed > 2 || (nfixed > 0 && fixed == NULL))
        return -1;
    memset(out, 0, sizeof *out);
    memset(taken, 0, sizeof taken);
    for (int i = 0; i < IMSAFE__PALETTE_MAX; i++)
        slot_of_fixed[i] = -1;
    for (int f = 0; f < nfixed; f++) {
        if (fixed[f] < 0 || fixed[f] >= n)
            return -1;
        slot_of_fixed[fixed[f]] = (int16_t)fixed[f];
        taken[fixed[f]] = 1;
        if (fixed[f] + 1 > top)
            top = fixed[f] + 1;
    }
    for (int i = 0; i < n; i++)
        keys[i] = entry_key(rgba + 4 * i, is_apart(apart, i), i);
    sort_keys(keys, n);

    /* Merge: an ordinary entry joins a fixed ordinary entry of the same
     * value (the first one the caller named), else the previous unique
     * entry when that one is ordinary and of the same value.  joined[i] is
     * the input index entry i joined, or -1 when it stays an entry. */
    int joined[IMSAFE__PALETTE_MAX];
    for (int s = 0; s < n; s++) {
        int i = key_index(keys[s]);
        joined[i] = -1;
        if (slot_of_fixed[i] >= 0)
            continue;
        if (!key_apart(keys[s])) {
            for (int f = 0; f < nfixed && joined[i] < 0; f++)
                if (!is_apart(apart, fixed[f]) && same(rgba, i, fixed[f]))
                    joined[i] = fixed[f];
            if (joined[i] < 0 && nsorted > 0 && !is_apart(apart, sorted[nsorted - 1]) &&
                same(rgba, i, sorted[nsorted - 1]))
                joined[i] = sorted[nsorted - 1];
        }
        if (joined[i] < 0)
            sorted[nsorted++] = i;
    }

    /* Size: every unique entry and every fixed slot. */
    int count = nsorted + nfixed;
    if (nfixed == 2 && fixed[0] == fixed[1])
        count--;
    if (count < top)
        count = top;
    if (pow2)
        count = pow2_at_least(count);
    if (count > IMSAFE__PALETTE_MAX)
        return -1; /* cannot happen: at most n <= 256 entries */
    out->count = count;

    /* Lay out: fixed entries at their own index, sorted ones in the free
     * slots in order, padding after them. */
    int next = 0, pad_from = -1;
    for (int slot = 0; slot < count; slot++) {
        if (taken[slot]) {
            memcpy(out->rgba + 4 * slot, rgba + 4 * slot, 4);
            out->map[slot] = (uint8_t)slot;
            continue;
        }
        if (next < nsorted) {
            int i = sorted[next++];
            memcpy(out->rgba + 4 * slot, rgba + 4 * i, 4);
            out->map[i] = (uint8_t)slot;
        } else {
            const uint8_t *copy;
            if (nsorted > 0)
                copy = rgba + 4 * sorted[nsorted - 1];
            else
                copy = rgba + 4 * fixed[0];
            memcpy(out->rgba + 4 * slot, copy, 4);
            if (pad_from < 0)
                pad_from = slot;
        }
    }
    if (next != nsorted)
        return -1; /* more unique entries than slots: a bug of ours */
    /* Merged entries take the slot of the entry they joined. */
    for (int i = 0; i < n; i++)
        if (slot_of_fixed[i] < 0 && joined[i] >= 0)
            out->map[i] = out->map[joined[i]];
    out->identity = count == n;
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
