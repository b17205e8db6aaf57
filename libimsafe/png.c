/*
 * png.c - PNG validation and rebuild on libpng 1.6.
 *
 * Byte layout (PNG 3rd edition):
 *   signature 89 50 4E 47 0D 0A 1A 0A
 *   chunk*:   length (4, big-endian, <= 2^31-1) | type (4 letters) | data | CRC-32
 *             (over type + data)
 *   IHDR first (13 bytes: width, height, bit depth, colour type, compression,
 *   filter, interlace), PLTE before IDAT, IDAT chunks consecutive, IEND last.
 *   Type letter case: 1st upper = critical, 2nd upper = public.
 *   APNG adds acTL (before IDAT), fcTL and fdAT, all carrying one sequence.
 *
 * Allowlist of the rebuild:
 *   kept    IHDR values (same colour type and bit depth), tRNS of grey and
 *           truecolour images, pixel values (lossless)
 *   rebuilt PLTE and tRNS of palette images in canonical order (palette.c:
 *           R,G,B,A entries sorted by value, exact duplicates merged, tRNS
 *           without trailing opaque entries), every index remapped
 *   kept by policy  sRGB, gAMA, cHRM (keep_colorspace)
 *   rebuilt by policy  iCCP: the profile is inflated under its size limit,
 *           parsed and written anew by icc.c (keep_icc)
 *   rebuilt IDAT (new zlib stream, interlaced when the input is: rows are
 *           rebuilt pass by pass), IEND
 *   dropped tEXt zTXt iTXt tIME eXIf pHYs bKGD sBIT hIST sPLT
 *           oFFs pCAL sCAL sTER cICP mDCV cLLI and every unknown ancillary
 *           chunk, malformed or not (note.metadata_dropped), APNG
 *           animation under apng = flatten (the default image is kept;
 *           under apng = keep apng.c rebuilds every frame), a suggested palette in
 *           truecolour images, bytes after IEND; sRGB when an iCCP that is
 *           kept comes with it (note.repaired: iCCP takes precedence)
 *   rejected a CRC error, a malformed critical chunk, a malformed chunk that
 *           is kept (IHDR PLTE tRNS iCCP sRGB gAMA cHRM, APNG structure)
 *
 * Two passes.  First our own chunk walk over the whole payload (no
 * allocation except to inflate iCCP): lengths, CRCs, order, IHDR/PLTE/tRNS
 * consistency (CVE-2004-0597), limits checked before any pixel buffer
 * exists, APNG structure, the tail after IEND.  Then libpng decodes the
 * bytes up to IEND with every ancillary chunk ignored, rows stream straight
 * into a libpng writer; palette indices are checked row by row (libpng
 * 1.6.39 only warns, late, and misses index == num_palette).
 */
#include <setjmp.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "imsafe_private.h"

#define CHUNK_MAX 0x7fffffffu /* PNG spec: lengths are at most 2^31-1 */

struct pngwalk {
    uint32_t width, height;
    uint8_t depth, color, interlace;
    size_t iend_end;      /* offset just past IEND's CRC */
    size_t idat_count;
    size_t first_idat;    /* offset of the first IDAT chunk */
    size_t idat_end;      /* offset just past the last IDAT chunk */
    uint64_t idat_bytes;  /* data bytes of all IDAT chunks together */
    int plte_entries;     /* 0 when no PLTE */
    uint8_t plte[256 * 3];
    int trns_len;
    uint8_t trns[256];
    int has_srgb, has_gama, has_chrm;
    uint8_t srgb_intent;
    uint32_t gama;
    uint32_t chrm[8];
    uint8_t *icc;         /* inflated, validated profile (budget), or NULL */
    size_t icc_len;
    int icc_seen;
    int metadata;         /* dropped ancillary chunks */
    int malformed_dropped; /* of those, malformed ones */
    /* APNG */
    int animated;         /* acTL precedes the first IDAT */
    int actl_seen;
    uint32_t actl_frames, fctl_count, next_seq;
    int fdat_pending;     /* a frame after IDAT still waits for its data */
};

/* -------------------------------------------------------------- helpers */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_type(const uint8_t *t, const char *name)
{
    return memcmp(t, name, 4) == 0;
}

static int critical(const uint8_t *t)
{
    return (t[0] & 0x20) == 0;
}

/* ---------------------------------------------------------------- IHDR */

static int check_limits(struct imsafe__job *job, const struct pngwalk *w)
{
    const struct imsafe_policy *p = job->policy;
    uint64_t pixels;
    if (w->width > (uint64_t)imsafe__opt(p, IMSAFE_OPT_MAX_WIDTH_PX))
        return imsafe__reject(job, IMSAFE_R_LIMIT_WIDTH, "width %u, limit %lld", w->width,
                              (long long)imsafe__opt(p, IMSAFE_OPT_MAX_WIDTH_PX)), -1;
    if (w->height > (uint64_t)imsafe__opt(p, IMSAFE_OPT_MAX_HEIGHT_PX))
        return imsafe__reject(job, IMSAFE_R_LIMIT_HEIGHT, "height %u, limit %lld", w->height,
                              (long long)imsafe__opt(p, IMSAFE_OPT_MAX_HEIGHT_PX)), -1;
    if (imsafe__mul_ovf((uint64_t)w->width, (uint64_t)w->height, &pixels) ||
        pixels > (uint64_t)imsafe__opt(p, IMSAFE_OPT_MAX_PIXELS))
        return imsafe__reject(job, IMSAFE_R_LIMIT_PIXELS, "%u x %u pixels, limit %lld",
                              w->width, w->height,
                              (long long)imsafe__opt(p, IMSAFE_OPT_MAX_PIXELS)), -1;
    return 0;
}

static int walk_ihdr(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d, uint32_t len)
{
    if (len != 13)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR, "IHDR length %u, must be 13",
                              len), -1;
    w->width = be32(d);
    w->height = be32(d + 4);
    w->depth = d[8];
    w->color = d[9];
    w->interlace = d[12];
    if (w->width == 0 || w->height == 0 || w->width > CHUNK_MAX || w->height > CHUNK_MAX)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR, "invalid dimensions %u x %u",
                              w->width, w->height), -1;
    if (imsafe__png_bits_per_pixel(w->color, w->depth) == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR,
                              "invalid colour type %u with bit depth %u", w->color, w->depth), -1;
    if (d[10] != 0 || d[11] != 0 || w->interlace > 1)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR,
                              "invalid compression %u, filter %u or interlace %u method", d[10],
                              d[11], w->interlace), -1;
    return check_limits(job, w);
}

/* ------------------------------------------------------- PLTE and tRNS */

static int walk_plte(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d, uint32_t len)
{
    if (w->plte_entries || w->trns_len || w->idat_count)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER,
                              "PLTE repeated, or after tRNS or IDAT"), -1;
    if (w->color == 0 || w->color == 4)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_PALETTE,
                              "PLTE in a greyscale image"), -1;
    unsigned max = w->color == 3 ? 1u << w->depth : 256;
    if (len == 0 || len % 3 != 0 || len / 3 > max)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_PALETTE,
                              "PLTE length %u: not 1..%u entries of 3 bytes", len, max), -1;
    w->plte_entries = (int)(len / 3);
    memcpy(w->plte, d, len);
    return 0;
}

/* tRNS must fit what it describes: for palette images at most one alpha per
 * palette entry.  libpng before 1.2.6 copied a longer tRNS into a fixed
 * buffer (CVE-2004-0597, the MSN Messenger flaw): reject, never truncate. */
static int walk_trns(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d, uint32_t len)
{
    if (w->trns_len || w->idat_count || (w->color == 3 && !w->plte_entries))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER,
                              "tRNS repeated, after IDAT, or before PLTE"), -1;
    uint32_t maxval = (1u << (w->depth == 16 ? 16 : w->depth)) - 1;
    switch (w->color) {
    case 3:
        if (len == 0 || len > (uint32_t)w->plte_entries)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_TRNS,
                                  "tRNS has %u entries for a palette of %d", len,
                                  w->plte_entries), -1;
        break;
    case 0:
        if (len != 2 || (uint32_t)(d[0] << 8 | d[1]) > maxval)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_TRNS,
                                  "tRNS for greyscale must be 2 bytes within the bit depth"), -1;
        break;
    case 2:
        if (len != 6 || (uint32_t)(d[0] << 8 | d[1]) > maxval ||
            (uint32_t)(d[2] << 8 | d[3]) > maxval || (uint32_t)(d[4] << 8 | d[5]) > maxval)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_TRNS,
                                  "tRNS for truecolour must be 6 bytes within the bit depth"), -1;
        break;
    default:
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_TRNS,
                              "tRNS in an image with an alpha channel"), -1;
    }
    w->trns_len = (int)len;
    memcpy(w->trns, d, len);
    return 0;
}

/* ------------------------------------------------------ colour chunks */

/* Inflate an iCCP profile under the ICC size limit, then check its header
 * and tag table.  A bomb (CVE-2010-0205 class) rejects; a profile that is
 * merely broken is dropped with a note. */
static int walk_iccp(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d, uint32_t len)
{
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_ICC_BYTES);
    /* with sRGB too: judged after the walk (resolve_srgb_iccp) */
    if (w->icc_seen++ || w->plte_entries || w->idat_count)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER,
                              "iCCP repeated, or after PLTE/IDAT"), -1;
    const uint8_t *nul = memchr(d, 0, len < 81 ? len : 81);
    if (nul == NULL || nul == d || (size_t)(nul - d) + 2 > len || nul[1] != 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                              "iCCP name or compression method invalid"), -1;
    const uint8_t *z = nul + 2;
    size_t zlen = len - (size_t)(z - d);
    size_t cap = max < 65536 ? (size_t)max + 1 : 65536;
    z_stream zs;
    if (imsafe__inflate_init(job, &zs, MAX_WBITS) != 0)
        return -1;
    uint8_t *buf = imsafe__alloc(job, cap);
    size_t used = 0;
    int zr = Z_BUF_ERROR;
    zs.next_in = (Bytef *)z;
    zs.avail_in = (uInt)zlen;
    while (buf != NULL) {
        zs.next_out = buf + used;
        zs.avail_out = (uInt)(cap - used);
        zr = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        if (zr != Z_OK || used < cap)
            break;
        if (cap > max) {
            zr = Z_MEM_ERROR; /* over the limit: stop inflating */
            break;
        }
        size_t ncap = cap * 2 > max + 1 ? (size_t)max + 1 : cap * 2;
        uint8_t *nb = imsafe__alloc(job, ncap);
        if (nb != NULL)
            memcpy(nb, buf, used);
        imsafe__free(job, buf);
        buf = nb;
        cap = ncap;
    }
    inflateEnd(&zs);
    if (buf == NULL)
        return -1;
    if (used > max) {
        imsafe__free(job, buf);
        return imsafe__reject(job, IMSAFE_R_LIMIT_ICC_BYTES, "iCCP inflates past %llu bytes",
                              (unsigned long long)max), -1;
    }
    if (zr != Z_STREAM_END || zs.avail_in != 0) {
        imsafe__free(job, buf);
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        imsafe__detail(job, "invalid ICC profile dropped");
        return 0;
    }
    if (!imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ICC)) {
        imsafe__free(job, buf); /* inflated only to bound it: noted when written */
        return 0;
    }
    /* never the sender's bytes: a profile written anew from its numbers */
    int kind = imsafe__icc_rebuild(job, buf, used, w->color == 0 || w->color == 4 ? 1 : 3,
                                   &w->icc, &w->icc_len);
    imsafe__free(job, buf);
    if (kind == IMSAFE__ICC_FAILED)
        return -1;
    if (kind == IMSAFE__ICC_DROPPED) {
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        imsafe__detail(job, "ICC profile dropped: no matrix/TRC rebuild for this image");
    }
    return 0;
}

static int walk_colorspace(struct imsafe__job *job, struct pngwalk *w, const uint8_t *t,
                           const uint8_t *d, uint32_t len)
{
    if (w->plte_entries || w->idat_count)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER,
                              "colour-space chunk after PLTE or IDAT"), -1;
    if (is_type(t, "sRGB")) {
        if (len != 1 || d[0] > 3 || w->has_srgb++)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                                  "sRGB invalid or repeated"), -1;
        w->srgb_intent = d[0];
    } else if (is_type(t, "gAMA")) {
        if (len != 4 || be32(d) == 0 || be32(d) > CHUNK_MAX || w->has_gama++)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                                  "gAMA invalid, zero or repeated"), -1;
        w->gama = be32(d);
    } else {
        if (len != 32 || w->has_chrm++)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                                  "cHRM invalid or repeated"), -1;
        for (int i = 0; i < 8; i++)
            if ((w->chrm[i] = be32(d + 4 * i)) > CHUNK_MAX)
                return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                                      "cHRM value out of range"), -1;
    }
    return 0;
}

/* ---------------------------------------------------- dropped chunks */

/* What is wrong with a chunk the rebuild drops, as a strict decoder would
 * see it (fixed sizes, text keywords, tIME ranges, sBIT and bKGD against
 * IHDR/PLTE); NULL when nothing is.  Text is never inflated, and unknown
 * chunks are not read at all.  The answer only feeds the detail: the chunk
 * goes either way. */
static const char *dropped_defect(const struct pngwalk *w, const uint8_t *t, const uint8_t *d,
                                  uint32_t len)
{
    static const struct { const char *name; uint32_t len; } fixed[] = {
        {"pHYs", 9}, {"tIME", 7}, {"oFFs", 9}, {"cICP", 4}, {"sTER", 1},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (is_type(t, fixed[i].name) && len != fixed[i].len)
            return fixed[i].name;
    if (is_type(t, "tEXt") || is_type(t, "zTXt") || is_type(t, "iTXt")) {
        const uint8_t *nul = memchr(d, 0, len < 80 ? len : 80);
        if (nul == NULL || nul == d)
            return "text"; /* keyword empty, over 79 bytes, or no separator */
    }
    if (is_type(t, "tIME") &&
        (d[2] < 1 || d[2] > 12 || d[3] < 1 || d[3] > 31 || d[4] > 23 || d[5] > 59 || d[6] > 60))
        return "tIME";
    if (is_type(t, "sBIT")) {
        static const uint32_t want[7] = {1, 0, 3, 3, 2, 0, 4};
        unsigned maxbits = w->color == 3 ? 8 : w->depth;
        if (len != want[w->color])
            return "sBIT";
        for (uint32_t i = 0; i < len; i++)
            if (d[i] == 0 || d[i] > maxbits)
                return "sBIT";
    }
    if (is_type(t, "bKGD")) {
        uint32_t want = w->color == 3 ? 1 : (w->color == 0 || w->color == 4) ? 2 : 6;
        if (len != want || (w->color == 3 && d[0] >= w->plte_entries))
            return "bKGD";
    }
    return NULL;
}

/* An ancillary chunk the rebuild drops (metadata, unknown chunks).  Even a
 * malformed one is only dropped (note.metadata_dropped): nothing of it
 * reaches the output, so refusing the image for it would refuse what every
 * browser shows.  Framing (length, CRC, type letters) was checked for
 * every chunk by chunk_frame(), and chunks the rebuild keeps are judged
 * strictly by their own walkers. */
static int walk_dropped(struct imsafe__job *job, struct pngwalk *w, const uint8_t *t,
                        const uint8_t *d, uint32_t len)
{
    const char *defect = dropped_defect(w, t, d, len);
    if (defect != NULL && w->malformed_dropped++ == 0)
        imsafe__detail(job, "malformed %s chunk dropped", defect); /* a constant name */
    w->metadata++;
    return 0;
}

/* -------------------------------------------------------------- APNG */

/* APNG structure (only when acTL precedes IDAT; otherwise the file is a
 * static PNG and its animation chunks are ignored, as the APNG spec says). */
static int apng_seq(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d)
{
    if (be32(d) != w->next_seq)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "sequence number %u, expected %u",
                              be32(d), w->next_seq), -1;
    w->next_seq++;
    return 0;
}

static int walk_fctl(struct imsafe__job *job, struct pngwalk *w, const uint8_t *d, uint32_t len)
{
    if (len != 26 || apng_seq(job, w, d) != 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "fcTL length %u", len), -1;
    uint32_t fw = be32(d + 4), fh = be32(d + 8), x = be32(d + 12), y = be32(d + 16);
    uint64_t xe = (uint64_t)x + fw, ye = (uint64_t)y + fh;
    if (fw == 0 || fh == 0 || xe > w->width || ye > w->height || d[24] > 2 || d[25] > 1)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG,
                              "fcTL frame %u x %u at %u,%u outside %u x %u or bad ops", fw, fh,
                              x, y, w->width, w->height), -1;
    if (w->idat_count == 0 && (x != 0 || y != 0 || fw != w->width || fh != w->height))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG,
                              "the default image's fcTL must cover the whole image"), -1;
    if (w->fdat_pending)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "a frame has no fdAT data"), -1;
    w->fctl_count++;
    w->fdat_pending = w->idat_count > 0;
    return 0;
}

static int walk_apng(struct imsafe__job *job, struct pngwalk *w, const uint8_t *t,
                     const uint8_t *d, uint32_t len)
{
    if (is_type(t, "acTL")) {
        if (w->idat_count)
            return 0; /* acTL after IDAT: not an animated PNG */
        if (len != 8 || w->actl_seen++ || be32(d) == 0)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "acTL invalid or repeated"), -1;
        w->actl_frames = be32(d);
        if (w->actl_frames > (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_FRAMES))
            return imsafe__reject(job, IMSAFE_R_LIMIT_FRAMES, "%u frames, limit %lld",
                                  w->actl_frames,
                                  (long long)imsafe__opt(job->policy, IMSAFE_OPT_MAX_FRAMES)), -1;
        return 0;
    }
    if (!w->animated)
        return 0;
    if (is_type(t, "fcTL"))
        return walk_fctl(job, w, d, len);
    /* fdAT */
    if (len < 4 || w->idat_count == 0 || w->fctl_count == 0 || apng_seq(job, w, d) != 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "fdAT misplaced or invalid"), -1;
    w->fdat_pending = 0;
    return 0;
}

/* Is the file animated, i.e. does acTL come before the first IDAT?  The
 * default image's fcTL may precede acTL, so this is decided up front.  Only
 * chunk headers are read; the full walk checks lengths and CRCs. */
static int find_actl(const uint8_t *p, size_t n)
{
    for (size_t off = 8; n - off >= 12;) {
        uint32_t len = be32(p + off);
        if (is_type(p + off + 4, "acTL"))
            return 1;
        if (is_type(p + off + 4, "IDAT") || len > n - off - 12)
            return 0;
        off += 12 + (size_t)len;
    }
    return 0;
}

static int apng_finish(struct imsafe__job *job, const struct pngwalk *w)
{
    if (!w->animated)
        return 0;
    if (w->fctl_count != w->actl_frames || w->fdat_pending)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG,
                              "acTL says %u frames, file has %u complete", w->actl_frames,
                              w->fctl_count), -1;
    if (imsafe__check_feature(job, IMSAFE_FEATURE_APNG) != 0)
        return -1;
    /* apng = keep: apng.c rebuilds the animation after the still image */
    if (imsafe__opt(job->policy, IMSAFE_OPT_APNG) == IMSAFE_APNG_FLATTEN)
        imsafe__note(job, IMSAFE_R_NOTE_ANIMATION_DROPPED);
    return 0;
}

/* ------------------------------------------------------------ the walk */

static int walk_idat(struct imsafe__job *job, struct pngwalk *w, int after_other)
{
    if (w->color == 3 && !w->plte_entries)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_PALETTE,
                              "palette image without PLTE before IDAT"), -1;
    if (w->idat_count && after_other)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER,
                              "IDAT chunks are not consecutive"), -1;
    w->idat_count++;
    return 0;
}

/* One chunk (type t, data d of len bytes) after IHDR. */
static int walk_chunk(struct imsafe__job *job, struct pngwalk *w, const uint8_t *t,
                      const uint8_t *d, uint32_t len, int prev_idat)
{
    if (is_type(t, "IDAT"))
        return walk_idat(job, w, !prev_idat);
    if (is_type(t, "IHDR"))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER, "IHDR repeated"), -1;
    if (is_type(t, "PLTE"))
        return walk_plte(job, w, d, len);
    if (critical(t))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CRITICAL_CHUNK,
                              "unknown critical chunk"), -1;
    if (len > (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_CHUNK_BYTES))
        return imsafe__reject(job, IMSAFE_R_LIMIT_CHUNK_BYTES, "ancillary chunk of %u bytes, limit %lld",
                              len, (long long)imsafe__opt(job->policy, IMSAFE_OPT_MAX_CHUNK_BYTES)), -1;
    if (is_type(t, "tRNS"))
        return walk_trns(job, w, d, len);
    if (is_type(t, "iCCP"))
        return walk_iccp(job, w, d, len);
    if (is_type(t, "sRGB") || is_type(t, "gAMA") || is_type(t, "cHRM"))
        return walk_colorspace(job, w, t, d, len);
    if (is_type(t, "acTL") || is_type(t, "fcTL") || is_type(t, "fdAT"))
        return walk_apng(job, w, t, d, len);
    return walk_dropped(job, w, t, d, len);
}

/* Chunk header and CRC; returns the data length or -1. */
static int64_t chunk_frame(struct imsafe__job *job, const uint8_t *p, size_t n, size_t off)
{
    if (n - off < 12)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_TRUNCATED,
                              "the PNG ends inside a chunk header at offset %zu", off), -1;
    uint32_t len = be32(p + off);
    const uint8_t *t = p + off + 4;
    if (len > CHUNK_MAX)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK, "chunk length %u over 2^31-1",
                              len), -1;
    if (len > n - off - 12)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_TRUNCATED,
                              "a chunk of %u bytes runs past the end", len), -1;
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK,
                                  "chunk type is not four letters"), -1;
    uint32_t crc = (uint32_t)crc32(0L, t, len + 4);
    if (crc != be32(t + 4 + len))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_CRC, "chunk CRC mismatch at offset %zu",
                              off), -1;
    return len;
}

/* Bytes of filtered scanlines the IDAT stream must inflate to exactly. */
static uint64_t filtered_size(const struct pngwalk *w)
{
    static const uint8_t a7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                     {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    uint64_t bpp = imsafe__png_bits_per_pixel(w->color, w->depth), total = 0;
    for (int i = 0; i < (w->interlace ? 7 : 1); i++) {
        uint64_t x0 = w->interlace ? a7[i][0] : 0, y0 = w->interlace ? a7[i][1] : 0;
        uint64_t dx = w->interlace ? a7[i][2] : 1, dy = w->interlace ? a7[i][3] : 1;
        if (w->width <= x0 || w->height <= y0)
            continue;
        uint64_t pw = (w->width - x0 + dx - 1) / dx, ph = (w->height - y0 + dy - 1) / dy;
        total += ph * (1 + (pw * bpp + 7) / 8);
    }
    return total;
}

/*
 * The IDAT run holds one zlib stream that inflates to exactly the image.
 * libpng 1.6.39 finishes the stream with the last row and stops right after
 * the IDAT chunk where it ended; IDAT chunks after that are skipped unread
 * by png_read_end().  So when libpng stops short of the last IDAT, either
 * data follows the image's stream (reject) or the stream's last bytes, its
 * Adler-32 among them, sit in trailing chunks libpng never checked
 * (PngSuite oi9*): this second inflate tells which.
 */
static int check_idat_stream(struct imsafe__job *job, const struct pngwalk *w)
{
    enum { SCRATCH = 32768 };
    const uint8_t *p = job->in;
    uint64_t want = filtered_size(w), got = 0;
    z_stream zs;
    if (imsafe__inflate_init(job, &zs, MAX_WBITS) != 0)
        return -1;
    uint8_t *buf = imsafe__alloc(job, SCRATCH);
    int zr = Z_OK, excess = 0;
    for (size_t off = w->first_idat; buf != NULL && is_type(p + off + 4, "IDAT");
         off += 12 + (size_t)be32(p + off)) {
        zs.next_in = (Bytef *)(p + off + 8);
        zs.avail_in = be32(p + off);
        if (zr == Z_STREAM_END && zs.avail_in > 0)
            excess = 1;
        while (zr == Z_OK && !excess) {
            zs.next_out = buf;
            zs.avail_out = SCRATCH;
            zr = inflate(&zs, Z_NO_FLUSH);
            got += SCRATCH - zs.avail_out;
            excess = got > want;
            if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
                zr = Z_OK; /* the stream goes on in the next IDAT chunk */
                break;
            }
            if (zs.avail_in == 0 && zs.avail_out != 0)
                break; /* chunk consumed, output drained */
        }
        if (zr == Z_STREAM_END && zs.avail_in > 0)
            excess = 1;
        if (excess || (zr != Z_OK && zr != Z_STREAM_END))
            break;
    }
    inflateEnd(&zs);
    imsafe__free(job, buf);
    if (buf == NULL)
        return -1;
    if (excess || zr != Z_STREAM_END || got != want)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IMAGE_DATA,
                              "IDAT stream inflates to %llu bytes%s, the image needs %llu",
                              (unsigned long long)got, excess ? " or more" : "",
                              (unsigned long long)want), -1;
    return 0;
}

/*
 * limit.ratio: deflate's own floor.  Its longest match is 258 bytes, coded
 * with a length code and a distance code of at least 1 bit each (RFC 1951
 * 3.2.5: length 258 and distance 1 take no extra bits), so n bytes of
 * compressed data inflate to at most 258 x 8n / 2 = 1032n bytes; the first
 * literal, block headers and the zlib header and Adler-32 only lower that.
 * The filtered scanlines (filter bytes included, all Adam7 passes when
 * interlaced) are what the IDAT stream must inflate to exactly: more than
 * 1032 times the IDAT bytes cannot be there, and is refused before libpng
 * allocates a row.  Any valid stream passes, a blank image at zlib level 9
 * included.
 */
#define DEFLATE_MAX_RATIO 1032u

static int check_ratio(struct imsafe__job *job, const struct pngwalk *w)
{
    /* pixels <= max_pixels <= 2^40 at 8 bytes each, idat_bytes <= in_len
     * <= 2^40: neither side overflows */
    uint64_t need = filtered_size(w);
    if (need <= w->idat_bytes * DEFLATE_MAX_RATIO)
        return 0;
    return imsafe__reject(job, IMSAFE_R_LIMIT_RATIO,
                          "%llu bytes of scanlines from %llu bytes of IDAT data, more than "
                          "deflate's 1032:1", (unsigned long long)need,
                          (unsigned long long)w->idat_bytes), -1;
}

/*
 * limit.work, known from IHDR before libpng allocates a row: every byte
 * of filtered scanlines is inflated, unfiltered, filtered again (libpng's
 * heuristic tries each filter) and deflated.  The rebuild charges the same
 * as it goes (per row).
 */
static int check_work(struct imsafe__job *job, const struct pngwalk *w)
{
    /* filtered_size < 2^51 (limit.ratio passed: <= 1032 x in_len): fits */
    return imsafe__work_expect(job, filtered_size(w) * IMSAFE__WORK_PNG_BYTE, "PNG rows");
}

static int walk(struct imsafe__job *job, struct pngwalk *w)
{
    const uint8_t *p = job->in;
    size_t n = job->in_len, off = 8;
    int64_t len = chunk_frame(job, p, n, off);
    if (len < 0)
        return -1;
    if (is_type(p + 12, "CgBI"))
        return imsafe__reject(job, IMSAFE_R_UNSUPPORTED_PNG_CGBI, "Apple CgBI PNG"), -1;
    if (!is_type(p + 12, "IHDR"))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR, "the first chunk is not IHDR"), -1;
    if (walk_ihdr(job, w, p + 16, (uint32_t)len) != 0)
        return -1;
    off += 12 + (size_t)len;
    w->animated = find_actl(p, n);
    int prev_idat = 0;
    for (;;) {
        if ((len = chunk_frame(job, p, n, off)) < 0)
            return -1;
        const uint8_t *t = p + off + 4;
        if (is_type(t, "IEND")) {
            w->iend_end = off + 12 + (size_t)len;
            break;
        }
        if (walk_chunk(job, w, t, t + 4, (uint32_t)len, prev_idat) != 0 || imsafe__rejected(job))
            return -1;
        if (is_type(t, "IDAT") && w->idat_count == 1 && !prev_idat)
            w->first_idat = off;
        prev_idat = is_type(t, "IDAT");
        off += 12 + (size_t)len;
        if (prev_idat) {
            w->idat_end = off;
            w->idat_bytes += (uint64_t)len; /* <= in_len */
        }
    }
    if (len != 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_CHUNK, "IEND has data"), -1;
    if (w->idat_count == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IMAGE_DATA, "no IDAT chunk"), -1;
    if (check_ratio(job, w) != 0 || check_work(job, w) != 0)
        return -1;
    return apng_finish(job, w);
}

/* ------------------------------------------------- sRGB with iCCP */

/*
 * sRGB and iCCP together: the PNG spec says a file should not hold both,
 * yet browsers show such files, reading the profile.  PNG 3rd edition
 * gives the order cICP, iCCP, sRGB, cHRM/gAMA: a decoder that knows iCCP
 * uses it and ignores sRGB.  So the profile is kept when it is (valid and
 * keep_icc), and sRGB then goes; when the profile goes, sRGB is what is
 * left.  Either way the output has one of the two (note.repaired).
 */
static void resolve_srgb_iccp(struct imsafe__job *job, struct pngwalk *w)
{
    if (!w->has_srgb || !w->icc_seen)
        return;
    imsafe__note(job, IMSAFE_R_NOTE_REPAIRED);
    if (w->icc != NULL && imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ICC)) {
        w->has_srgb = 0;
        imsafe__detail(job, "sRGB and iCCP both present: iCCP kept, sRGB dropped");
    } else {
        imsafe__detail(job, "sRGB and iCCP both present: the profile is not kept, sRGB is");
    }
}

/* -------------------------------------------------------- kill switch */

static int check_features(struct imsafe__job *job, const struct pngwalk *w)
{
    if (w->interlace && imsafe__check_feature(job, IMSAFE_FEATURE_PNG_INTERLACED) != 0)
        return -1;
    if (w->icc_seen && imsafe__check_feature(job, IMSAFE_FEATURE_ICC_PROFILE) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------- libpng glue */

/* What libpng's callbacks see.  The decoders' longjmp never leaves this
 * file: the error callback jumps back to rebuild(). */
struct pngio {
    struct imsafe__pngio io; /* first: libpng's callbacks get &pio->io */
    const struct pngwalk *w;
    struct imsafe__png_rowfmt fmt;
};

static imsafe_reason libpng_reason(const char *msg)
{
    if (strstr(msg, "CRC"))
        return IMSAFE_R_MALFORMED_CRC;
    if (strstr(msg, "palette index"))
        return IMSAFE_R_MALFORMED_PNG_PALETTE_INDEX;
    if (strstr(msg, "image data") || strstr(msg, "IDAT") || strstr(msg, "compressed") ||
        strstr(msg, "data check") || strstr(msg, "filter") || strstr(msg, "zlib") ||
        strstr(msg, "distance") || strstr(msg, "block type") || strstr(msg, "code"))
        return IMSAFE_R_MALFORMED_PNG_IMAGE_DATA;
    if (strstr(msg, "emory"))
        return IMSAFE_R_LIMIT_MEMORY;
    return IMSAFE_R_MALFORMED_PNG;
}

static void libpng_failed(struct imsafe__pngio *io, const char *msg)
{
    if (io->writing)
        imsafe__reject(io->job, IMSAFE_R_MALFORMED_PNG, "libpng could not write: %s", msg);
    else
        imsafe__reject(io->job, libpng_reason(msg), "libpng: %s", msg);
}

/* ------------------------------------------------------------ writer */

static void write_colorspace(png_structp wr, png_infop wi, struct imsafe__job *job,
                             const struct pngwalk *w)
{
    if (!imsafe__opt(job->policy, IMSAFE_OPT_KEEP_COLORSPACE)) {
        if (w->has_srgb || w->has_gama || w->has_chrm)
            imsafe__note(job, IMSAFE_R_NOTE_COLORSPACE_DROPPED);
    } else {
        if (w->has_gama)
            png_set_gAMA_fixed(wr, wi, (png_fixed_point)w->gama);
        if (w->has_chrm)
            png_set_cHRM_fixed(wr, wi, (png_fixed_point)w->chrm[0], (png_fixed_point)w->chrm[1],
                               (png_fixed_point)w->chrm[2], (png_fixed_point)w->chrm[3],
                               (png_fixed_point)w->chrm[4], (png_fixed_point)w->chrm[5],
                               (png_fixed_point)w->chrm[6], (png_fixed_point)w->chrm[7]);
        if (w->has_srgb)
            png_set_sRGB(wr, wi, w->srgb_intent);
    }
    if (w->icc != NULL && imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ICC)) {
        png_set_iCCP(wr, wi, "ICC profile", PNG_COMPRESSION_TYPE_BASE, w->icc,
                     (png_uint_32)w->icc_len);
        if (!png_get_valid(wr, wi, PNG_INFO_iCCP))
            imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED); /* libpng refused it */
    } else if (w->icc_seen) {
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
    }
}

/* The canonical palette (palette.c) of a palette image: PLTE and tRNS as
 * R,G,B,A entries (alpha 255 past the end of tRNS), sorted by value with
 * exact duplicates merged, and the byte table that remaps packed rows.
 * The bit depth stays: the table only ever shrinks. */
static int canon_palette(const struct pngwalk *w, struct imsafe__palette *pal, uint8_t lut[256])
{
    uint8_t rgba[256 * 4];
    for (int i = 0; i < w->plte_entries; i++) {
        memcpy(rgba + 4 * i, w->plte + 3 * i, 3);
        rgba[4 * i + 3] = i < w->trns_len ? w->trns[i] : 255;
    }
    if (imsafe__palette_canon(pal, rgba, w->plte_entries, NULL, NULL, 0, 0) != 0)
        return -1;
    imsafe__palette_byte_lut(pal, w->depth, lut);
    return 0;
}

static void write_header(png_structp wr, png_infop wi, struct imsafe__job *job,
                         const struct pngwalk *w, const struct imsafe__palette *pal)
{
    /* interlaced input stays interlaced: its rows are rebuilt pass by pass,
     * never held as a whole image */
    png_set_IHDR(wr, wi, w->width, w->height, w->depth, w->color,
                 w->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (w->color == 3) {
        imsafe__png_set_palette(wr, wi, pal);
    } else if (w->trns_len) {
        png_color_16 c;
        memset(&c, 0, sizeof c);
        c.gray = (png_uint_16)(w->trns[0] << 8 | w->trns[1]);
        if (w->color == 2) {
            c.red = c.gray;
            c.green = (png_uint_16)(w->trns[2] << 8 | w->trns[3]);
            c.blue = (png_uint_16)(w->trns[4] << 8 | w->trns[5]);
        }
        png_set_tRNS(wr, wi, NULL, 0, &c);
    }
    write_colorspace(wr, wi, job, w);
    imsafe__png_set_encoding(wr, job);
    png_write_info(wr, wi);
}

/* ------------------------------------------------------------ decoder */

/* Adam7 (PNG spec 8.2): each pass's first column and row, and its steps. */
static const uint8_t adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                    {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

/* Width and height of pass p of the image (the whole image when it is not
 * interlaced); 0 in either when the pass is empty. */
static void pass_size(const struct pngwalk *w, int p, uint32_t *pw, uint32_t *ph)
{
    if (!w->interlace) {
        *pw = w->width;
        *ph = w->height;
        return;
    }
    uint32_t x0 = adam7[p][0], y0 = adam7[p][1], dx = adam7[p][2], dy = adam7[p][3];
    *pw = w->width > x0 ? (w->width - x0 + dx - 1) / dx : 0;
    *ph = w->height > y0 ? (w->height - y0 + dy - 1) / dy : 0;
}

/*
 * Rows stream from the decoder to the encoder one at a time.  Interlaced
 * input is read without libpng's interlace handling, so each png_read_row
 * gives the next row of the current pass, and the writer, set up
 * interlaced without it either, takes the rows of each pass in the same
 * order: memory is one row, whatever the image size.  Both libraries skip
 * empty passes, and so does this loop.  Every row is charged as it is
 * done: its bytes of scanline (with the filter byte), decoded and encoded
 * again.
 */
static int stream_rows(struct pngio *io, png_structp rd, png_structp wr, png_bytep row)
{
    const struct pngwalk *w = io->w;
    unsigned bpp = imsafe__png_bits_per_pixel(w->color, w->depth);
    for (int p = 0; p < (w->interlace ? 7 : 1); p++) {
        uint32_t pw, ph;
        pass_size(w, p, &pw, &ph);
        if (pw == 0 || ph == 0)
            continue;
        /* pw < 2^31, bpp <= 64: fits; the buffer holds a full-width row */
        size_t rowbytes = (size_t)(((uint64_t)pw * bpp + 7) / 8);
        for (uint32_t y = 0; y < ph; y++) {
            io->io.writing = 0;
            png_read_row(rd, row, NULL);
            if (imsafe__png_fix_row(&io->fmt, row, pw, rowbytes) != 0)
                return imsafe__reject(io->io.job, IMSAFE_R_MALFORMED_PNG_PALETTE_INDEX,
                                      "palette index beyond %d entries in row %u of pass %d",
                                      w->plte_entries, y, p + 1), -1;
            if (imsafe__work_charge(io->io.job, ((uint64_t)rowbytes + 1) * IMSAFE__WORK_PNG_BYTE,
                                    "PNG rows") != 0)
                return -1;
            io->io.writing = 1;
            png_write_row(wr, row);
        }
    }
    return 0;
}

/*
 * Decode with libpng and encode at once.  setjmp is called once, here, the
 * function that owns both libpng objects; everything the error branch frees
 * is in `volatile` locals.
 */
static int rebuild(struct imsafe__job *job, const struct pngwalk *w)
{
    struct pngio pio = {.io = {.job = job, .src = job->in, .src_len = w->iend_end,
                               .dst = &job->out, .fail = libpng_failed},
                        .w = w,
                        .fmt = {.color = w->color, .depth = w->depth,
                                .plte_entries = w->plte_entries}};
    struct imsafe__pngio *io = &pio.io;
    png_structp volatile rd = NULL, wr = NULL;
    png_infop volatile ri = NULL, wi = NULL;
    void *volatile mem = NULL;
    volatile int rc = -1;
    struct imsafe__palette pal;
    uint8_t lut[256];

    /* before setjmp: nothing below changes pal or lut */
    if (w->color == 3) {
        if (!IMSAFE_ASSERT(canon_palette(w, &pal, lut) == 0)) {
            job->internal_error = 1;
            return -1;
        }
        pio.fmt.lut = pal.identity ? NULL : lut;
    }

    rd = imsafe__png_new_reader(io);
    wr = imsafe__png_new_writer(io);
    if (rd == NULL || wr == NULL)
        goto done;
    if (setjmp(io->jb))
        goto done;
    io->jb_ready = 1;
    if ((ri = png_create_info_struct(rd)) == NULL || (wi = png_create_info_struct(wr)) == NULL)
        goto done;
    imsafe__png_strict_reader(rd, io);
    png_read_info(rd, ri);
    if (png_get_image_width(rd, ri) != w->width || png_get_image_height(rd, ri) != w->height ||
        png_get_bit_depth(rd, ri) != w->depth || png_get_color_type(rd, ri) != w->color) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_IHDR, "libpng read another header");
        goto done;
    }
    png_read_update_info(rd, ri);
    size_t rowbytes = png_get_rowbytes(rd, ri);
    io->writing = 1;
    write_header(wr, wi, job, w, &pal);
    io->writing = 0;
    if ((mem = imsafe__calloc(job, 1, rowbytes)) == NULL || stream_rows(&pio, rd, wr, mem) != 0)
        goto done;
    io->writing = 0;
    if (io->pos != w->idat_end && check_idat_stream(job, w) != 0)
        goto done;
    png_read_end(rd, NULL); /* consumes to IEND: extra IDAT data, CRCs */
    io->writing = 1;
    png_write_end(wr, NULL);
    rc = 0;
done:
    imsafe__free(job, mem);
    png_destroy_read_struct((png_structpp)&rd, (png_infopp)&ri, NULL);
    png_destroy_write_struct((png_structpp)&wr, (png_infopp)&wi);
    return rc;
}

/* ------------------------------------------------------------ APNG */

/*
 * apng = keep: the default image is rebuilt here as a still PNG, into a
 * buffer of its own (job->out may stream to a sink), with every check of
 * the still path; apng.c then writes the animated output around it into
 * job->out, rebuilding every other frame.
 */
static int rebuild_animated(struct imsafe__job *job, const struct pngwalk *w)
{
    struct imsafe__palette pal;
    uint8_t lut[256];
    struct imsafe__apng_src src = {
        .width = w->width, .height = w->height, .depth = w->depth, .color = w->color,
        .interlace = w->interlace, .plte_entries = w->plte_entries, .plte = w->plte,
        .first_chunk = 8 + 12 + 13, .iend_off = w->iend_end - 12,
    };
    if (w->color == 3) {
        if (!IMSAFE_ASSERT(canon_palette(w, &pal, lut) == 0)) {
            job->internal_error = 1;
            return -1;
        }
        src.pal = &pal;
        src.lut = pal.identity ? NULL : lut;
    }
    if (imsafe__apng_check(job, &src) != 0)
        return -1;
    struct imsafe__buf out = job->out, still;
    imsafe__buf_init(&job->out, job);
    int rc = rebuild(job, w);
    still = job->out;
    job->out = out;
    if (rc == 0)
        rc = imsafe__apng_rebuild(job, &src, still.data, still.len);
    imsafe__buf_free(&still);
    return rc;
}

/* ------------------------------------------------------------ entry */

imsafe_status imsafe__png_sanitize(struct imsafe__job *job)
{
    struct pngwalk w;
    memset(&w, 0, sizeof w);
    if (job->in_len < 8 || memcmp(job->in, "\x89PNG\r\n\x1a\n", 8) != 0) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_SIGNATURE, "no PNG signature");
        return IMSAFE_OK;
    }
    if (walk(job, &w) == 0 && check_features(job, &w) == 0 &&
        imsafe__check_tail(job, job->in + w.iend_end, job->in_len - w.iend_end) == 0) {
        if (w.metadata)
            imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
        resolve_srgb_iccp(job, &w);
        int keep = w.animated && imsafe__opt(job->policy, IMSAFE_OPT_APNG) == IMSAFE_APNG_KEEP;
        if (imsafe__buf_presize(&job->out, w.iend_end) == 0 &&
            (keep ? rebuild_animated(job, &w) : rebuild(job, &w)) == 0)
            imsafe__accept(job, IMSAFE_SANITIZED);
    }
    /* every failure above rejected already, unless the allocator failed */
    if (job->verdict == 0 && !job->alloc_failed)
        imsafe__reject(job, IMSAFE_R_MALFORMED_PNG, "PNG could not be rebuilt");
    imsafe__free(job, w.icc);
    return IMSAFE_OK;
}
