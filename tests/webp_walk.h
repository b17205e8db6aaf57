/*
 * webp_walk.h - one walk of a WebP's chunks for the tests (testutil.h) and
 * the fuzz harnesses (fuzz_common.h): does a WebP hold a lossy (VP8)
 * bitstream, at the top level or in an animation frame?  libimsafe
 * re-encodes such a WebP lossy each time, so sanitized again it must be
 * accepted, not byte-identical.  Reads only within [p, p + n).
 */
#ifndef IMSAFE_TESTS_WEBP_WALK_H
#define IMSAFE_TESTS_WEBP_WALK_H

#include <stddef.h>
#include <string.h>

/* chunks: the RIFF payload after "WEBP" (or an ANMF's frame data) */
static inline int webp_chunks_have_vp8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (n - i >= 8) {
        size_t len = p[i + 4] | p[i + 5] << 8 | p[i + 6] << 16 | (size_t)p[i + 7] << 24;
        if (len > n - i - 8)
            return 0;
        if (memcmp(p + i, "VP8 ", 4) == 0 ||
            (memcmp(p + i, "ANMF", 4) == 0 && len > 16 && webp_chunks_have_vp8(p + i + 24, len - 16)))
            return 1;
        i += 8 + len + (len & 1);
    }
    return 0;
}

/* a whole file: a RIFF WebP with a lossy bitstream */
static inline int webp_is_lossy(const void *o, size_t n)
{
    const unsigned char *p = o;
    if (n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
        return 0;
    return webp_chunks_have_vp8(p + 12, n - 12);
}

#endif
