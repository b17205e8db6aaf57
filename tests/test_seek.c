/*
 * test_seek.c - the byte-set search the scanner and the PDF parser use to
 * leap over bytes that can start nothing (libimsafe/scan.c,
 * imsafe__seek_next()).
 *
 * On many generated buffers, from dense floods to long gaps, and for sets
 * of one to six bytes (more than IMSAFE__SCAN_FEW walks the table instead
 * of leaping), walking the buffer with imsafe__seek_next() from 0, then
 * from each hit + 1, must give exactly the positions a plain loop gives:
 * none missed at the edge of the 16-byte walk or after a leap, none
 * invented, and the end reported as n.  The walk also restarts from
 * arbitrary positions, as scan_view() does for each window.
 *
 * Links the static library: the helper is internal (imsafe__*).
 */
#include "testutil.h"
#include "imsafe_private.h"

#define CASES 4000
#define MAXLEN 5000

/* A buffer of background bytes outside the set with set bytes planted:
 * in runs (a flood), at a fixed spacing near the walk's 16 bytes, or at
 * random over long gaps. */
static void fill(struct tu_rng *r, uint8_t *b, size_t n, const uint8_t *set, unsigned nset)
{
    unsigned shape = tu_next(r) % 4, spacing = 14 + tu_next(r) % 6;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)('a' + tu_next(r) % 8); /* 'a'..'h': never in the set */
    for (size_t i = 0; i < n; i++) {
        int plant = shape == 0   ? tu_next(r) % 2 == 0        /* dense */
                    : shape == 1 ? i % spacing == 0         /* near the walk's edge */
                    : shape == 2 ? tu_next(r) % 700 == 0       /* long gaps */
                                 : (i / 64) % 5 == 0;       /* floods between gaps */
        if (plant)
            b[i] = set[tu_next(r) % nset];
    }
}

static void check_walk(const uint8_t *b, size_t n, const uint8_t *in_set,
                       unsigned nset, size_t from)
{
    struct imsafe__seek k;
    size_t want = from, got;
    imsafe__seek_init(&k, b, n, in_set);
    got = imsafe__seek_next(&k, from);
    for (;;) {
        while (want < n && !in_set[b[want]])
            want++;
        if (got != want) {
            TU_CHECK(0, "set of %u, n %zu, from %zu: seek gave %zu, expected %zu", nset, n,
                     from, got, want);
            return;
        }
        if (want >= n)
            break;
        want++;
        got = imsafe__seek_next(&k, got + 1);
    }
    TU_CHECK(got == n, "set of %u: the end is %zu, not n %zu", nset, got, n);
}

int main(void)
{
    static uint8_t b[MAXLEN];
    struct tu_rng r = {0x9e3779b97f4a7c15u};
    for (int c = 0; c < CASES; c++) {
        uint8_t in_set[256] = {0}, set[6];
        unsigned nset = 1 + tu_next(&r) % 6;
        for (unsigned j = 0; j < nset; j++) {
            do
                set[j] = (uint8_t)tu_next(&r);
            while (set[j] >= 'a' && set[j] <= 'h');
            in_set[set[j]] = 1;
        }
        size_t n = tu_next(&r) % MAXLEN;
        fill(&r, b, n, set, nset);
        check_walk(b, n, in_set, nset, 0);
        check_walk(b, n, in_set, nset, n ? tu_next(&r) % n : 0);
        check_walk(b, n, in_set, nset, n); /* from the end: nothing */
    }
    /* an empty set finds nothing; a set byte only in the last position */
    uint8_t none[256] = {0}, last[256] = {0};
    memset(b, 'x', 100);
    check_walk(b, 100, none, 0, 0);
    b[99] = 'P';
    last['P'] = 1;
    check_walk(b, 100, last, 1, 0);
    return tu_finish();
}
