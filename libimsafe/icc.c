/*
 * icc.c - sanity check of an ICC profile before a format module keeps it.
 *
 * Layout (ICC.1:2010 section 7, all numbers big-endian):
 *
 *   0    u32  profile size (must equal the bytes we hold)
 *   8    u8   major version (2, 3 or 4 in the wild; 5 is iccMAX, not ICC.1)
 *   36   4    'acsp' file signature
 *   128  u32  tag count
 *   132  count x 12 bytes: u32 signature, u32 offset, u32 size
 *   ...  tag data, each element inside the profile
 *
 * We never interpret the profile; the colour-managing reader downstream
 * does.  What we guarantee is that its header and tag table describe
 * nothing outside the bytes we hand on: tag offsets and sizes that point
 * past the profile are the classic bug of colour-management readers.
 * Allowlist: the whole profile kept when sane, dropped otherwise.
 */
#include "imsafe_private.h"

#define ICC_HEADER 128
#define ICC_TAG_ENTRY 12

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int imsafe__icc_check(const uint8_t *p, size_t n, uint64_t max)
{
    if (p == NULL || n < ICC_HEADER + 4 || (uint64_t)n > max)
        return -1;
    if (be32(p) != n)
        return -1; /* the declared size must be exactly what we hold */
    if (p[36] != 'a' || p[37] != 'c' || p[38] != 's' || p[39] != 'p')
        return -1;
    if (p[8] < 2 || p[8] > 4)
        return -1;
    uint64_t count = be32(p + ICC_HEADER);
    /* the tag table itself must fit: bounds count by the profile size */
    if (count > (n - ICC_HEADER - 4) / ICC_TAG_ENTRY)
        return -1;
    uint64_t table_end = ICC_HEADER + 4 + count * ICC_TAG_ENTRY;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = p + ICC_HEADER + 4 + i * ICC_TAG_ENTRY;
        uint64_t off = be32(e + 4), size = be32(e + 8), end;
        /* tag data lies after the table (ICC.1 7.3.1) and inside the file */
        if (imsafe__add_ovf(off, size, &end) || off < table_end || end > n)
            return -1;
    }
    return 0;
}
