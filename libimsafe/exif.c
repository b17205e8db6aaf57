/*
 * exif.c - a bounded, strict reader for the one EXIF tag libimsafe keeps
 * (Orientation, 0x0112) and a writer for a minimal EXIF block holding it.
 *
 * Layout of the APP1 payload we read (EXIF 2.32 section 4.5.4, TIFF 6.0
 * section 2):
 *
 *   "Exif\0\0"                     6 bytes
 *   TIFF header                    "II*\0" or "MM\0*", u32 offset of IFD0
 *   IFD0 at that offset            u16 count, count x 12-byte entries
 *                                  (u16 tag, u16 type, u32 count,
 *                                   u32 value or offset), u32 next IFD
 *
 * Every offset is relative to the TIFF header and must lie inside the
 * segment.  Only IFD0 is read; its next-IFD link and sub-IFD pointers
 * (Exif, GPS, Interoperability) are checked to point inside the segment and
 * not back into IFD0 (a cycle), but never followed.  Every entry's value is
 * bounds-checked with 64-bit arithmetic, so a huge count or an offset past
 * the end marks the whole block malformed (-1): the caller then ignores the
 * EXIF and notes note.exif_ignored.  Nothing else is ever copied out: GPS,
 * serial numbers, maker notes and thumbnails stay behind.
 *
 * Allowlist: kept = Orientation (rebuilt, never copied); dropped = all else.
 */
#include <string.h>

#include "imsafe_private.h"

#define TAG_ORIENTATION 0x0112
#define TAG_EXIF_IFD 0x8769
#define TAG_GPS_IFD 0x8825
#define TAG_INTEROP_IFD 0xA005
#define TYPE_SHORT 3

/* The 6-byte EXIF identifier (CIPA DC-008, 4.7.2). */
static const uint8_t exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};

struct tiff {
    const uint8_t *p; /* TIFF header */
    uint64_t n;       /* bytes from the TIFF header to the segment end */
    int be;           /* "MM": big-endian */
};

static unsigned rd16(const struct tiff *t, uint64_t off)
{
    const uint8_t *q = t->p + off;
    return t->be ? (unsigned)(q[0] << 8 | q[1]) : (unsigned)(q[1] << 8 | q[0]);
}

static uint32_t rd32(const struct tiff *t, uint64_t off)
{
    const uint8_t *q = t->p + off;
    if (t->be)
        return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

/* Bytes per value of a TIFF field type (TIFF 6.0 section 2, plus type 13,
 * IFD, from TIFF-EP); 0 for a type we do not know (skipped, as TIFF says). */
static unsigned type_size(unsigned type)
{
    static const unsigned size[14] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < 14 ? size[type] : 0;
}

/* An IFD offset taken from IFD0 (next IFD, sub-IFD): 0 when fine.  A link
 * back into IFD0 itself is a cycle; one outside the segment is malformed. */
static int check_link(const struct tiff *t, uint32_t off, uint64_t ifd0, uint64_t ifd0_end)
{
    if (off == 0)
        return 0;
    if (off < 8 || (uint64_t)off + 2 > t->n)
        return -1;
    if (off >= ifd0 && off < ifd0_end)
        return -1;
    return 0;
}

/* One IFD0 entry.  Returns -1 when malformed; sets *orientation when the
 * entry is a well-formed Orientation tag. */
static int read_entry(const struct tiff *t, uint64_t e, uint64_t ifd0, uint64_t ifd0_end,
                      int *orientation)
{
    unsigned tag = rd16(t, e), type = rd16(t, e + 2);
    uint32_t count = rd32(t, e + 4);
    unsigned size = type_size(type);
    if (size == 0)
        return 0; /* unknown type: skipped, its value is never read */
    uint64_t bytes = (uint64_t)count * size; /* < 2^36: cannot overflow */
    if (bytes > 4) {
        uint64_t off = rd32(t, e + 8), end = off + bytes;
        if (off < 8 || end > t->n)
            return -1; /* a huge count or an offset past the segment */
    }
    if (tag == TAG_ORIENTATION) {
        if (*orientation != 0 || type != TYPE_SHORT || count != 1)
            return -1; /* repeated, or not one SHORT as TIFF 6.0 defines it */
        unsigned v = rd16(t, e + 8);
        if (v < 1 || v > 8)
            return -1;
        *orientation = (int)v;
    }
    if (tag == TAG_EXIF_IFD || tag == TAG_GPS_IFD || tag == TAG_INTEROP_IFD) {
        if (count != 1 || size != 4 || check_link(t, rd32(t, e + 8), ifd0, ifd0_end) != 0)
            return -1;
    }
    return 0;
}

int imsafe__exif_orientation(const uint8_t *p, size_t n)
{
    if (p == NULL || n < sizeof exif_id + 8 || memcmp(p, exif_id, sizeof exif_id) != 0)
        return -1;
    struct tiff t = {p + sizeof exif_id, (uint64_t)n - sizeof exif_id, 0};
    if (memcmp(t.p, "MM\0*", 4) == 0)
        t.be = 1;
    else if (memcmp(t.p, "II*\0", 4) != 0)
        return -1;
    uint64_t ifd0 = rd32(&t, 4);
    if (ifd0 < 8 || ifd0 + 2 > t.n)
        return -1;
    uint64_t count = rd16(&t, ifd0);
    /* the entries and the next-IFD link must fit: bounds the count by the
     * segment size, so a huge count cannot make us read past the end */
    uint64_t ifd0_end = ifd0 + 2 + count * 12 + 4;
    if (count == 0 || ifd0_end > t.n)
        return -1;
    int orientation = 0;
    for (uint64_t i = 0; i < count; i++)
        if (read_entry(&t, ifd0 + 2 + i * 12, ifd0, ifd0_end, &orientation) != 0)
            return -1;
    if (check_link(&t, rd32(&t, ifd0_end - 4), ifd0, ifd0_end) != 0)
        return -1;
    return orientation;
}

/*
 * The block we write: "Exif\0\0", a big-endian TIFF header, IFD0 with the
 * single Orientation entry and no next IFD.  32 bytes, always the same for
 * the same orientation, so a rebuilt file rebuilds to identical bytes.
 */
size_t imsafe__exif_build(int orientation, uint8_t *dst, size_t size)
{
    static const uint8_t tmpl[32] = {
        'E', 'x', 'i', 'f', 0, 0,       /* identifier */
        'M', 'M', 0, 42, 0, 0, 0, 8,    /* TIFF header, IFD0 at 8 */
        0, 1,                           /* one entry */
        0x01, 0x12, 0, TYPE_SHORT, 0, 0, 0, 1, 0, 0, 0, 0, /* Orientation */
        0, 0, 0, 0                      /* no next IFD */
    };
    if (orientation < 1 || orientation > 8 || dst == NULL || size < sizeof tmpl)
        return 0;
    memcpy(dst, tmpl, sizeof tmpl);
    dst[25] = (uint8_t)orientation; /* SHORT value, left-justified, big-endian */
    return sizeof tmpl;
}
