/*
 * test_palette.c - properties of the canonical palettes (libimsafe/palette.c)
 * on many generated tables: GIF-like ones (opaque, some entries kept apart,
 * fixed entries, power-of-two sizes) and PNG-like ones (alpha, no padding),
 * with few distinct colours so that duplicates are common.
 *
 * For every table: each input entry keeps its exact colour through the map;
 * fixed entries keep their index; an apart entry shares its slot with no
 * other entry; ordinary exact duplicates share one slot; the other slots
 * are in ascending order; the size is a power of two when asked; the
 * result canonicalised again is the same table with every used slot in
 * place (the rebuild's fixpoint; padding may merge anywhere); and a
 * permutation of the movable entries gives the same table bytes (the
 * sender's order never shows).  Also the packed-pixel byte tables for
 * depths 1, 2, 4 and 8, and the refusal of invalid arguments.
 *
 * Links the static library: the helper is internal (imsafe__*).
 */
#include "testutil.h"
#include "imsafe_private.h"

#define CASES 20000

static uint32_t below(struct tu_rng *r, uint32_t n)
{
    return tu_next(r) % n;
}

struct table {
    int n, nfixed, pow2;
    uint8_t rgba[256 * 4];
    uint8_t apart[256];
    int fixed[2];
};

static void make_table(struct tu_rng *r, struct table *t, int gif)
{
    uint8_t colours[16][4];
    int k = 1 + (int)below(r, 16);
    memset(t, 0, sizeof *t);
    t->n = 1 + (int)below(r, below(r, 4) == 0 ? 256 : 12);
    t->pow2 = gif;
    for (int c = 0; c < k; c++)
        for (int b = 0; b < 4; b++)
            colours[c][b] = (uint8_t)(below(r, 3) == 0 ? below(r, 256) : below(r, 3) * 127);
    for (int i = 0; i < t->n; i++) {
        memcpy(t->rgba + 4 * i, colours[below(r, (uint32_t)k)], 4);
        if (gif)
            t->rgba[4 * i + 3] = 255;
        t->apart[i] = gif && below(r, 8) == 0;
    }
    if (gif) {
        t->nfixed = (int)below(r, 3);
        for (int f = 0; f < t->nfixed; f++)
            t->fixed[f] = (int)below(r, (uint32_t)t->n);
        if (t->nfixed == 2 && t->fixed[0] == t->fixed[1])
            t->nfixed = 1;
    }
}

static int is_fixed(const struct table *t, int i)
{
    for (int f = 0; f < t->nfixed; f++)
        if (t->fixed[f] == i)
            return 1;
    return 0;
}

static uint64_t value(const uint8_t *p)
{
    return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

static int canon(const struct table *t, struct imsafe__palette *out)
{
    return imsafe__palette_canon(out, t->rgba, t->n, t->apart, t->fixed, t->nfixed, t->pow2);
}

/* Map, colours, fixed, apart and merges. */
static void check_map(const struct table *t, const struct imsafe__palette *p, int c)
{
    int lost = 0, moved = 0, shared = 0, unmerged = 0;
    TU_CHECK(p->count >= 1 && p->count <= 256, "case %d: count %d", c, p->count);
    if (t->pow2)
        TU_CHECK(p->count >= 2 && (p->count & (p->count - 1)) == 0,
                 "case %d: count %d is not a power of two", c, p->count);
    for (int i = 0; i < t->n; i++) {
        int s = p->map[i];
        lost += s >= p->count || memcmp(p->rgba + 4 * s, t->rgba + 4 * i, 4) != 0;
        moved += is_fixed(t, i) && s != i;
        for (int j = i + 1; j < t->n; j++) {
            int same = memcmp(t->rgba + 4 * i, t->rgba + 4 * j, 4) == 0;
            shared += (t->apart[i] || t->apart[j]) && p->map[j] == s;
            unmerged += same && !t->apart[i] && !t->apart[j] && !is_fixed(t, i) &&
                        !is_fixed(t, j) && p->map[j] != s;
        }
    }
    TU_CHECK(lost == 0, "case %d: %d entries lost their colour", c, lost);
    TU_CHECK(moved == 0, "case %d: %d fixed entries moved", c, moved);
    TU_CHECK(shared == 0, "case %d: %d apart entries share a slot", c, shared);
    TU_CHECK(unmerged == 0, "case %d: %d duplicate pairs not merged", c, unmerged);
}

/* The slots of movable entries, in slot order, ascend by (value, apart
 * first). */
static void check_sorted(const struct table *t, const struct imsafe__palette *p, int c)
{
    int who[256], bad = 0, have = 0;
    uint64_t prev = 0;
    for (int s = 0; s < p->count; s++)
        who[s] = -1;
    for (int i = t->n - 1; i >= 0; i--)
        if (!is_fixed(t, i))
            who[p->map[i]] = i;
    for (int s = 0; s < p->count; s++) {
        if (who[s] < 0 || is_fixed(t, s))
            continue;
        uint64_t k = value(p->rgba + 4 * s) << 1 | (t->apart[who[s]] ? 0 : 1);
        bad += have && !(k > prev || (k == prev && t->apart[who[s]]));
        prev = k;
        have = 1;
    }
    TU_CHECK(bad == 0, "case %d: %d slots out of order", c, bad);
}

/* Canonical again: nothing moves, nothing changes. */
static void check_fixpoint(const struct table *t, const struct imsafe__palette *p, int c)
{
    struct table u;
    struct imsafe__palette q;
    memset(&u, 0, sizeof u);
    u.n = p->count;
    u.pow2 = t->pow2;
    u.nfixed = t->nfixed;
    memcpy(u.fixed, t->fixed, sizeof u.fixed);
    memcpy(u.rgba, p->rgba, (size_t)p->count * 4);
    for (int i = 0; i < t->n; i++)
        if (t->apart[i])
            u.apart[p->map[i]] = 1;
    TU_CHECK(canon(&u, &q) == 0, "case %d: second pass failed", c);
    TU_CHECK(q.count == p->count && memcmp(q.rgba, p->rgba, (size_t)p->count * 4) == 0,
             "case %d: the table is not a fixpoint (%d -> %d entries)", c, p->count, q.count);
    /* every slot a pixel can use stays; padding may merge anywhere */
    int moved = 0;
    for (int i = 0; i < t->n; i++)
        moved += q.map[p->map[i]] != p->map[i];
    TU_CHECK(moved == 0, "case %d: %d used slots move on the second pass", c, moved);
}

/* The movable entries in another order: the same table bytes. */
static void check_order(struct tu_rng *r, const struct table *t, const struct imsafe__palette *p,
                        int c)
{
    struct table u = *t;
    struct imsafe__palette q;
    for (int i = t->n - 1; i > 0; i--) {
        int j = (int)below(r, (uint32_t)i + 1);
        if (is_fixed(t, i) || is_fixed(t, j))
            continue;
        uint8_t tmp[4], a = u.apart[i];
        memcpy(tmp, u.rgba + 4 * i, 4);
        memcpy(u.rgba + 4 * i, u.rgba + 4 * j, 4);
        memcpy(u.rgba + 4 * j, tmp, 4);
        u.apart[i] = u.apart[j];
        u.apart[j] = a;
    }
    TU_CHECK(canon(&u, &q) == 0 && q.count == p->count &&
                 memcmp(q.rgba, p->rgba, (size_t)p->count * 4) == 0,
             "case %d: the input order shows in the table", c);
}

static void check_luts(void)
{
    static const unsigned depths[] = {1, 2, 4, 8};
    struct imsafe__palette p;
    uint8_t lut[256];
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 256; i++)
        p.map[i] = (uint8_t)(255 - i);
    for (size_t d = 0; d < 4; d++) {
        unsigned depth = depths[d], per = 8 / depth, mask = (1u << depth) - 1u;
        int bad = 0;
        imsafe__palette_byte_lut(&p, depth, lut);
        for (unsigned b = 0; b < 256; b++)
            for (unsigned k = 0; k < per; k++) {
                unsigned shift = 8 - depth * (k + 1);
                unsigned in = (b >> shift) & mask, out = (lut[b] >> shift) & mask;
                bad += out != (p.map[in] & mask);
            }
        TU_CHECK(bad == 0, "depth %u: %d pixels remapped wrongly", depth, bad);
    }
    uint8_t px[5] = {0, 1, 2, 254, 255};
    imsafe__palette_byte_lut(&p, 8, lut);
    imsafe__palette_remap(lut, px, sizeof px);
    TU_CHECK(px[0] == 255 && px[1] == 254 && px[2] == 253 && px[3] == 1 && px[4] == 0,
             "imsafe__palette_remap");
}

static void check_invalid(void)
{
    struct imsafe__palette p;
    uint8_t rgba[257 * 4] = {0};
    int fixed[3] = {0, 1, 2}, out_of_range = 4;
    TU_CHECK(imsafe__palette_canon(&p, rgba, 0, NULL, NULL, 0, 0) == -1, "n = 0");
    TU_CHECK(imsafe__palette_canon(&p, rgba, 257, NULL, NULL, 0, 0) == -1, "n = 257");
    TU_CHECK(imsafe__palette_canon(&p, rgba, 4, NULL, fixed, 3, 1) == -1, "3 fixed");
    TU_CHECK(imsafe__palette_canon(&p, rgba, 4, NULL, &out_of_range, 1, 1) == -1,
             "fixed index beyond the table");
    TU_CHECK(imsafe__palette_canon(&p, NULL, 4, NULL, NULL, 0, 1) == -1, "no table");
    TU_CHECK(imsafe__palette_canon(&p, rgba, 256, NULL, NULL, 0, 1) == 0 && p.count == 2,
             "256 black entries merge into one, padded to 2");
}

int main(void)
{
    struct tu_rng r = {0x9E3779B97F4A7C15u};
    struct table t;
    struct imsafe__palette p;
    for (int c = 0; c < CASES; c++) {
        make_table(&r, &t, c % 2 == 0);
        TU_CHECK(canon(&t, &p) == 0, "case %d: canonicalisation failed", c);
        check_map(&t, &p, c);
        check_sorted(&t, &p, c);
        check_fixpoint(&t, &p, c);
        check_order(&r, &t, &p, c);
        if (tu_failed > 20)
            break; /* enough to read */
    }
    check_luts();
    check_invalid();
    return tu_finish();
}
