/*
 * jpeg.c - JPEG: strict marker walk, then a rebuild through libjpeg-turbo.
 *
 * Byte layout (ITU-T T.81 annex B):
 *
 *   FFD8                               SOI, first two bytes
 *   { FF.. FFxx LLLL payload[LLLL-2] } marker segments; LLLL counts itself;
 *                                      any marker may follow FF fill bytes
 *     FFE0..FFEF APPn, FFFE COM        application data and comments
 *     FFDB DQT   { Pq|Tq, 64 or 128 bytes of Qk }
 *     FFC4 DHT   { Tc|Th, 16 counts (sum <= 256), symbols }
 *     FFDD DRI   u16 restart interval
 *     FFC0.. SOFn P, u16 Y, u16 X, Nf, Nf x { Ci, Hi|Vi, Tqi }
 *     FFDA SOS   Ns, Ns x { Cs, Td|Ta }, Ss, Se, Ah|Al,
 *                then entropy-coded data: FF is stuffed as FF00, FFD0..FFD7
 *                are restart markers; any other FFxx ends the scan
 *   FFD9                               EOI; whatever follows is a tail
 *
 * Processes: SOF0/1/2 (Huffman baseline, extended, progressive) and SOF9/10
 * (arithmetic) with 8-bit samples and 1..4 components are rebuilt.  SOF3/11
 * (lossless), SOF5-7/13-15, DHP, EXP (hierarchical), 12-bit and JPG are
 * refused with unsupported.jpeg.*.
 *
 * The walk below runs before libjpeg sees a byte: segment lengths inside
 * the file, SOF/DHT/DQT/SOS sanity, the width/height/pixel limits and the
 * scan count (a file of thousands of progressive scans costs minutes of CPU,
 * THREATS.md #12) are all refused before any coefficient array exists.
 *
 * Allowlist
 *   rebuilt  the image (lossless: the DCT coefficients and quantisation
 *            tables, entropy coding re-optimised by libjpeg; pixel mode:
 *            decoded samples re-encoded), JFIF APP0 or Adobe APP14 as
 *            libjpeg writes them for the colour space, an EXIF APP1 holding
 *            only the Orientation tag (exif.c), an ICC profile written anew
 *            from the sender's numbers, as a fresh APP2 chain (icc.c)
 *   dropped  every other APPn (EXIF with GPS, XMP, IPTC/APP13, MPF, ...),
 *            COM, JFIF thumbnails, restart markers, bytes after EOI, the
 *            sender's scan script (a progressive input is written with
 *            libjpeg's standard one, or sequential: jpeg_progressive)
 *   repaired a missing EOI after whole scans (note.repaired)
 *
 * libjpeg cannot take our allocator: its memory is bounded from the header
 * values and reserved in the call's budget (imsafe__reserve) before the
 * decode, and max_memory_to_use caps its whole-image arrays.  Its error
 * exits longjmp back into codec() only.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t */
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "imsafe_private.h"

/* libjpeg refuses larger dimensions itself (JPEG_MAX_DIMENSION, jmorecfg.h):
 * refuse them here first as limit.width/height instead of a decoder error. */
#define LIBJPEG_MAX_DIM 65500u
/* ICC data per APP2 segment: 65535 - 2 (length) - 14 ("ICC_PROFILE\0",
 * sequence number, count), as in the ICC spec's annex B.4 */
#define ICC_CHUNK 65519u
#define ICC_MAX_SEGMENTS 255u
#define ICC_ID_LEN 12
/* libjpeg's fixed-size objects (structs, Huffman lookups, colour tables,
 * IDCT multipliers, small pools): a generous constant per decoder+encoder */
#define LIBJPEG_OVERHEAD (768u * 1024u)
/* bytes of one DCT block held as coefficients: 64 x JCOEF (int16) */
#define BLOCK_BYTES 128u
/* rows libjpeg keeps per row group of max_v_samp x 8 lines, decoder (main
 * buffer with context rows, upsampler) and encoder (prep and main buffers)
 * together; per pixel column and component */
#define ROW_GROUP_FACTOR 16u
#define ROW_FIXED_FACTOR 40u

/* --------------------------------------------------------------- marker walk */

struct icc_seg {
    size_t off, len; /* payload after the 14-byte ICC header */
    unsigned seq, count;
};

struct walk {
    unsigned sof;        /* the SOF marker, 0 before it */
    unsigned width, height, ncomp;
    unsigned id[4], h[4], v[4];
    unsigned maxh, maxv;
    int progressive;
    unsigned scans, first_scan_comps;
    uint64_t entropy;    /* bytes of entropy-coded data, all scans together */
    uint64_t blocks[4];  /* 8x8 blocks of each component (no MCU padding) */
    uint64_t scan_blocks; /* blocks all scans code, added up (limit.work) */
    uint64_t work;       /* units of work of the whole call (check_work) */
    unsigned covered;    /* components (bit i: comp_info[i]) a scan gave data:
                            any scan when sequential, a DC scan when progressive */
    int no_eoi;          /* the data ends after a scan's entropy-coded data */
    size_t end;          /* just past EOI (or the end of the data, no_eoi) */
    int metadata;        /* an APPn/COM we drop */
    size_t exif_off, exif_len;
    int has_exif;
    unsigned icc_segments;
    int icc_bad;         /* more segments than the ICC spec allows */
    struct icc_seg icc[ICC_MAX_SEGMENTS];
};

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static int tolerant(const struct imsafe__job *job)
{
    return imsafe__opt(job->policy, IMSAFE_OPT_TOLERATE_WARNINGS) != 0;
}

static int bad(struct imsafe__job *job, imsafe_reason r, const char *what)
{
    imsafe__reject(job, r, "%s", what);
    return -1;
}

/* Huffman table sanity, as libjpeg's jpeg_make_d_derived_tbl() would find
 * it later: at most 256 symbols, no length over-subscribed, no all-ones
 * code (T.81 C.2), DC symbols <= 15. */
static int check_dht(struct imsafe__job *job, const uint8_t *p, size_t n)
{
    size_t off = 0;
    if (n == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "empty DHT segment");
    while (off < n) {
        unsigned tc = p[off] >> 4, th = p[off] & 15, sum = 0, code = 0, last = 0;
        if (tc > 1 || th > 3)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DHT class or id out of range");
        if (n - off < 17)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DHT counts run past the segment");
        for (unsigned l = 1; l <= 16; l++)
            if (p[off + l] != 0) {
                sum += p[off + l];
                last = l;
            }
        if (sum > 256 || n - off - 17 < sum)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DHT symbol count invalid");
        for (unsigned l = 1; l <= last; l++) {
            code += p[off + l];
            if (code >= (1u << l))
                return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DHT code lengths over-subscribed");
            code <<= 1;
        }
        for (unsigned i = 0; tc == 0 && i < sum; i++)
            if (p[off + 17 + i] > 15)
                return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DHT DC symbol above 15");
        off += 17 + sum;
    }
    return 0;
}

/* Quantisation tables: precision 0/1, id 0..3, no zero step (B.2.4.1). */
static int check_dqt(struct imsafe__job *job, const uint8_t *p, size_t n)
{
    size_t off = 0;
    if (n == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "empty DQT segment");
    while (off < n) {
        unsigned pq = p[off] >> 4, tq = p[off] & 15, size = pq ? 128 : 64;
        if (pq > 1 || tq > 3)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DQT precision or id out of range");
        if (n - off - 1 < size)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DQT table runs past the segment");
        for (unsigned k = 0; k < 64; k++) {
            unsigned q = pq ? be16(p + off + 1 + 2 * k) : p[off + 1 + k];
            if (q == 0)
                return bad(job, IMSAFE_R_MALFORMED_JPEG_TABLES, "DQT step of zero");
        }
        off += 1 + size;
    }
    return 0;
}

/* Which SOF markers we rebuild; rejects the others with their reason. */
static int check_process(struct imsafe__job *job, unsigned m)
{
    switch (m) {
    case 0xC0: case 0xC1: case 0xC2: case 0xC9: case 0xCA:
        return 0;
    case 0xC3: case 0xCB:
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_LOSSLESS, "lossless JPEG (SOF3/SOF11)");
    case 0xC5: case 0xC6: case 0xC7: case 0xCD: case 0xCE: case 0xCF:
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_HIERARCHICAL, "hierarchical JPEG (differential SOF)");
    default:
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_PROCESS, "JPG extension frame (SOF8)");
    }
}

static int check_limits(struct imsafe__job *job, const struct walk *w)
{
    const struct imsafe_policy *pol = job->policy;
    uint64_t maxw = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_WIDTH_PX);
    uint64_t maxh = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_HEIGHT_PX);
    uint64_t maxp = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_PIXELS);
    if (maxw > LIBJPEG_MAX_DIM)
        maxw = LIBJPEG_MAX_DIM;
    if (maxh > LIBJPEG_MAX_DIM)
        maxh = LIBJPEG_MAX_DIM;
    if (w->width > maxw)
        return imsafe__reject(job, IMSAFE_R_LIMIT_WIDTH, "width %u, limit %llu", w->width,
                              (unsigned long long)maxw), -1;
    if (w->height > maxh)
        return imsafe__reject(job, IMSAFE_R_LIMIT_HEIGHT, "height %u, limit %llu", w->height,
                              (unsigned long long)maxh), -1;
    uint64_t px = (uint64_t)w->width * w->height; /* both < 2^16 */
    if (px > maxp)
        return imsafe__reject(job, IMSAFE_R_LIMIT_PIXELS, "%llu pixels, limit %llu",
                              (unsigned long long)px, (unsigned long long)maxp), -1;
    return 0;
}

/*
 * Sampling factors and component counts libjpeg decodes to pixels.  The
 * lossless path only moves coefficients, so libjpeg would rebuild a frame
 * that no decoder opens; refuse from the header what the pixel path (and
 * every viewer) would refuse:
 *   - jdsample.c jinit_upsampler (no DCT scaling): a component's factors
 *     must divide the largest ones, else JERR_FRACT_SAMPLE_NOTIMPL;
 *   - two components: no colour space (JCS_UNKNOWN), which libjpeg converts
 *     to nothing and Pillow and djpeg refuse (unsupported.jpeg.process, as
 *     pixel mode always said);
 *   - more than 10 blocks per MCU (T.81 B.2.3, JERR_BAD_MCU_SIZE): libjpeg
 *     writes all components in one interleaved scan, so the rebuild fails.
 */
static int check_sampling(struct imsafe__job *job, const struct walk *w)
{
    unsigned blocks = 0;
    for (unsigned i = 0; i < w->ncomp; i++) {
        if (w->maxh % w->h[i] != 0 || w->maxv % w->v[i] != 0)
            return imsafe__reject(job, IMSAFE_R_UNSUPPORTED_JPEG_SAMPLING,
                                  "component %u sampled %ux%u, largest %ux%u: fractional "
                                  "upsampling", i, w->h[i], w->v[i], w->maxh, w->maxv), -1;
        blocks += w->h[i] * w->v[i]; /* each <= 16 */
    }
    if (w->ncomp == 2)
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_PROCESS, "2 components: no colour space");
    if (blocks > 10)
        return imsafe__reject(job, IMSAFE_R_UNSUPPORTED_JPEG_SAMPLING,
                              "%u blocks per MCU, at most 10", blocks), -1;
    return 0;
}

/* SOFn: frame header (B.2.2). */
static int walk_sof(struct imsafe__job *job, struct walk *w, unsigned m, const uint8_t *p,
                    size_t n)
{
    if (w->sof != 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "more than one frame header");
    if (check_process(job, m) != 0)
        return -1;
    if (n < 6 || n != 6 + 3 * (size_t)p[5])
        return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "SOF length does not match its components");
    if (p[0] != 8)
        return imsafe__reject(job, IMSAFE_R_UNSUPPORTED_JPEG_PRECISION, "%u-bit samples", p[0]),
               -1;
    w->sof = m;
    w->height = be16(p + 1);
    w->width = be16(p + 3);
    w->ncomp = p[5];
    w->progressive = (m == 0xC2 || m == 0xCA);
    if (w->width == 0 || w->height == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "zero width or height (DNL not supported)");
    if (w->ncomp == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "no components");
    if (w->ncomp > 4)
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_PROCESS, "more than 4 components");
    for (unsigned i = 0; i < w->ncomp; i++) {
        const uint8_t *c = p + 6 + 3 * i;
        w->id[i] = c[0];
        w->h[i] = c[1] >> 4;
        w->v[i] = c[1] & 15;
        if (w->h[i] < 1 || w->h[i] > 4 || w->v[i] < 1 || w->v[i] > 4 || c[2] > 3)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "sampling factor or table id out of range");
        for (unsigned j = 0; j < i; j++)
            if (w->id[j] == w->id[i])
                return bad(job, IMSAFE_R_MALFORMED_JPEG_SOF, "duplicate component id");
        if (w->h[i] > w->maxh)
            w->maxh = w->h[i];
        if (w->v[i] > w->maxv)
            w->maxv = w->v[i];
    }
    if (check_sampling(job, w) != 0 || check_limits(job, w) != 0)
        return -1;
    for (unsigned i = 0; i < w->ncomp; i++) {
        /* width, height < 2^16 and factors <= 4: no overflow */
        uint64_t bw = ((uint64_t)w->width * w->h[i] + 8u * w->maxh - 1) / (8u * w->maxh);
        uint64_t bh = ((uint64_t)w->height * w->v[i] + 8u * w->maxv - 1) / (8u * w->maxv);
        w->blocks[i] = bw * bh;
    }
    if ((m == 0xC9 || m == 0xCA) &&
        imsafe__opt(job->policy, IMSAFE_OPT_JPEG_ARITHMETIC) != IMSAFE_JPEG_ARITHMETIC_ALLOW)
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_ARITHMETIC,
                   "arithmetic-coded JPEG (SOF9/SOF10), policy jpeg_arithmetic = reject");
    if (w->progressive && imsafe__check_feature(job, IMSAFE_FEATURE_JPEG_PROGRESSIVE) != 0)
        return -1;
    return 0;
}

/* SOS: scan header (B.2.3); counts scans against the policy. */
static int walk_sos(struct imsafe__job *job, struct walk *w, const uint8_t *p, size_t n)
{
    if (w->sof == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "scan before the frame header");
    if (n < 1 || p[0] < 1 || p[0] > w->ncomp || n != 4 + 2 * (size_t)p[0])
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "SOS component count or length invalid");
    for (unsigned i = 0; i < p[0]; i++) {
        unsigned cs = p[1 + 2 * i], t = p[2 + 2 * i], found = 0;
        for (unsigned j = 0; j < w->ncomp; j++) {
            found |= (w->id[j] == cs);
            /* n >= 4 + 2 * p[0]: Ss sits at p[1 + 2 * p[0]] */
            if (w->id[j] == cs && (!w->progressive || p[1 + 2 * p[0]] == 0))
                w->covered |= 1u << j;
        }
        for (unsigned j = 0; j < i; j++)
            if (p[1 + 2 * j] == cs)
                found = 0;
        if (!found || (t >> 4) > 3 || (t & 15) > 3)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "SOS names an unknown component or table");
    }
    for (unsigned i = 0; i < p[0]; i++)
        for (unsigned j = 0; j < w->ncomp; j++)
            if (w->id[j] == p[1 + 2 * i])
                w->scan_blocks += w->blocks[j]; /* < 150000 scans x 2^34 */
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_JPEG_SCANS);
    if (++w->scans > max)
        return imsafe__reject(job, IMSAFE_R_LIMIT_SCANS, "more than %llu scans",
                              (unsigned long long)max), -1;
    if (w->scans == 1)
        w->first_scan_comps = p[0];
    return 0;
}

/* APPn: remembers EXIF and ICC segments, flags everything else we drop. */
static void walk_app(struct walk *w, unsigned m, const uint8_t *base, size_t off, size_t n)
{
    const uint8_t *p = base + off;
    if (m == 0xE0 && n == 14 && memcmp(p, "JFIF\0", 5) == 0)
        return; /* JFIF without thumbnail: rewritten by libjpeg */
    if (m == 0xEE && n >= 12 && memcmp(p, "Adobe", 5) == 0)
        return; /* Adobe colour transform: rewritten by libjpeg */
    if (m == 0xE1 && !w->has_exif && n >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
        w->has_exif = 1;
        w->exif_off = off;
        w->exif_len = n;
        return; /* judged later: only an orientation-only block is not metadata */
    }
    if (m == 0xE2 && n >= ICC_ID_LEN + 2 && memcmp(p, "ICC_PROFILE\0", ICC_ID_LEN) == 0) {
        if (w->icc_segments == ICC_MAX_SEGMENTS) {
            w->icc_bad = 1;
            return;
        }
        struct icc_seg *s = &w->icc[w->icc_segments++];
        s->seq = p[ICC_ID_LEN];
        s->count = p[ICC_ID_LEN + 1];
        s->off = off + ICC_ID_LEN + 2;
        s->len = n - ICC_ID_LEN - 2;
        return;
    }
    w->metadata = 1;
}

/* Skips entropy-coded data after SOS; returns the offset of the marker that
 * ends the scan, or n when the data runs out (truncated). */
static size_t skip_entropy(const uint8_t *p, size_t n, size_t pos)
{
    while (pos + 1 < n) {
        /* memchr: entropy-coded data is most of a photo's bytes */
        const uint8_t *ff = memchr(p + pos, 0xFF, n - 1 - pos);
        if (ff == NULL)
            break;
        pos = (size_t)(ff - p);
        unsigned q = p[pos + 1];
        if (q == 0x00 || (q >= 0xD0 && q <= 0xD7))
            pos += 2; /* stuffed FF, or a restart marker inside the scan */
        else if (q == 0xFF)
            pos++; /* fill byte before a marker */
        else
            return pos;
    }
    return n;
}

/* Finds the next marker at pos.  Strict: only FF fill may precede it.
 * Tolerant: extraneous bytes are skipped as libjpeg's next_marker() does.
 * Returns the marker byte and sets *pos past it, or -1 (rejected). */
static int next_marker(struct imsafe__job *job, const uint8_t *p, size_t n, size_t *pos)
{
    size_t i = *pos;
    for (;;) {
        if (i < n && p[i] != 0xFF) {
            if (!tolerant(job))
                return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "extraneous bytes before a marker");
            while (i < n && p[i] != 0xFF)
                i++;
        }
        while (i < n && p[i] == 0xFF)
            i++;
        if (i >= n)
            return bad(job, IMSAFE_R_MALFORMED_TRUNCATED, "the data ends before EOI");
        if (p[i] != 0x00)
            break;
        if (!tolerant(job))
            return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "stuffed byte outside a scan");
        i++;
    }
    *pos = i + 1;
    return p[i];
}

/* One marker segment with a length; 0 to go on, -1 rejected. */
static int walk_segment(struct imsafe__job *job, struct walk *w, unsigned m, size_t *pos)
{
    const uint8_t *p = job->in;
    size_t n = job->in_len, at = *pos;
    if (n - at < 2)
        return bad(job, IMSAFE_R_MALFORMED_TRUNCATED, "the data ends inside a marker");
    size_t len = be16(p + at);
    if (len < 2) /* the length counts its own two bytes (B.1.1.4) */
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "marker length below 2");
    if (len > n - at)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "marker length runs past the end");
    const uint8_t *q = p + at + 2;
    size_t ql = len - 2;
    int rc = 0;
    *pos = at + len;
    if (m >= 0xE0 && m <= 0xEF)
        walk_app(w, m, p, at + 2, ql);
    else if (m == 0xFE)
        w->metadata = 1;
    else if (m == 0xDB)
        rc = check_dqt(job, q, ql);
    else if (m == 0xC4)
        rc = check_dht(job, q, ql);
    else if (m == 0xDD)
        rc = ql == 2 ? 0 : bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "DRI length invalid");
    else if (m == 0xCC)
        rc = 0; /* DAC: arithmetic conditioning, read by libjpeg */
    else if (m == 0xDA) {
        rc = walk_sos(job, w, q, ql);
        if (rc == 0) {
            size_t from = *pos;
            *pos = skip_entropy(p, n, from);
            w->entropy += *pos - from;
        }
    } else if ((m >= 0xC0 && m <= 0xCF) || m == 0xDE || m == 0xDF) {
        if (m == 0xDE || m == 0xDF)
            rc = bad(job, IMSAFE_R_UNSUPPORTED_JPEG_HIERARCHICAL, "hierarchical JPEG (DHP/EXP)");
        else
            rc = walk_sof(job, w, m, q, ql);
    } else if (m == 0xDC)
        rc = bad(job, IMSAFE_R_UNSUPPORTED_JPEG_PROCESS, "DNL marker (height defined later)");
    else
        rc = (imsafe__reject(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "unknown marker 0x%02X", m), -1);
    return rc;
}

/*
 * The entropy-coded data of a scan runs to the end of the input: either
 * only the EOI marker is missing (browsers show such files in full), or
 * the file was cut inside the scan.  The walk cannot tell; libjpeg can
 * (codec): a cut leaves MCUs without data, and its Huffman decoder then
 * warns JWRN_HIT_MARKER, which rejects.  Refused here already: arithmetic
 * coding (its decoder pads a cut scan with zeros without a warning, so a
 * cut could not be told from a whole scan) and a component no scan has
 * reached (its DC scan, when progressive), whose whole plane is missing.
 */
static int missing_eoi(struct imsafe__job *job, struct walk *w)
{
    if (w->sof == 0xC9 || w->sof == 0xCA)
        return bad(job, IMSAFE_R_MALFORMED_TRUNCATED, "arithmetic-coded data ends before EOI");
    if (w->covered != (1u << w->ncomp) - 1)
        return bad(job, IMSAFE_R_MALFORMED_TRUNCATED,
                   "the data ends before EOI, with a component not yet coded");
    w->no_eoi = 1;
    return 0;
}

/*
 * limit.ratio: the information-theoretic floor of Huffman coding.  Every
 * block of every component costs a sequential scan at least 2 bits (a DC
 * difference code and an EOB code, each a Huffman code of 1 bit or more;
 * T.81 F.1.2).  A progressive image's AC scans are nearly free (one EOBRUN
 * symbol covers up to 32767 blocks), but its DC-first scan still codes a
 * difference code of at least 1 bit per block: 1 bit per block.  Blocks are
 * counted as a non-interleaved scan does (no MCU padding), fewer than any
 * scan codes, and stuffed and fill bytes count as data: the floor errs on
 * the lenient side, so an honest blank image at the floor passes.
 * Arithmetic coding has no floor (it codes a blank block in a fraction of
 * a bit): jpeg_arithmetic switches it as a whole.
 */
static int check_ratio(struct imsafe__job *job, const struct walk *w)
{
    if (w->sof == 0xC9 || w->sof == 0xCA)
        return 0;
    uint64_t blocks = 0;
    for (unsigned i = 0; i < w->ncomp; i++)
        blocks += w->blocks[i];
    uint64_t bits = blocks * (w->progressive ? 1u : 2u);
    if (bits <= w->entropy * 8u) /* entropy <= in_len: no overflow */
        return 0;
    return imsafe__reject(job, IMSAFE_R_LIMIT_RATIO,
                          "%llu blocks need at least %llu bytes of %s data, the scans hold %llu",
                          (unsigned long long)blocks, (unsigned long long)((bits + 7) / 8),
                          w->progressive ? "progressive" : "Huffman",
                          (unsigned long long)w->entropy), -1;
}

/*
 * limit.work, known from the headers before any decoding: libjpeg makes a
 * pass over every block of a scan's components for each scan, even when
 * one EOBRUN symbol codes them all (so neither the ratio floor nor the
 * scan count bounds the product), then the rebuild makes one pass over
 * every block (lossless: entropy coding; pixel mode two: IDCT and
 * encoding).  Charged in samples, 64 per block: a unit that does not
 * depend on the machine.
 */
static int check_work(struct imsafe__job *job, struct walk *w)
{
    uint64_t blocks = 0;
    for (unsigned i = 0; i < w->ncomp; i++)
        blocks += w->blocks[i];
    int pixels = imsafe__opt(job->policy, IMSAFE_OPT_JPEG_MODE) == IMSAFE_JPEG_PIXELS;
    /* scan_blocks < 2^52, blocks < 2^36: the sum times 64 fits */
    uint64_t work = (w->scan_blocks + blocks * (pixels ? 2u : 1u)) * 64u;
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_WORK);
    w->work = work;
    if (job->work <= max && work <= max - job->work)
        return 0;
    return imsafe__reject(job, IMSAFE_R_LIMIT_WORK,
                          "%u scans over %llu blocks: %llu samples of work, limit %llu",
                          w->scans, (unsigned long long)blocks, (unsigned long long)work,
                          (unsigned long long)max), -1;
}

static int walk(struct imsafe__job *job, struct walk *w)
{
    const uint8_t *p = job->in;
    size_t n = job->in_len, pos = 2;
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return bad(job, IMSAFE_R_MALFORMED_SIGNATURE, "no SOI marker at the start");
    int after_scan = 0;
    for (;;) {
        if (pos == n && after_scan) {
            if (missing_eoi(job, w) != 0)
                return -1;
            break;
        }
        int m = next_marker(job, p, n, &pos);
        if (m < 0)
            return -1;
        if (m == 0xD9)
            break;
        after_scan = m == 0xDA;
        if (m == 0xD8)
            return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "a second SOI");
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            if (!tolerant(job))
                return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "restart marker outside a scan");
            continue;
        }
        if (walk_segment(job, w, (unsigned)m, &pos) != 0)
            return -1;
    }
    w->end = pos;
    if (w->sof == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "no frame header (SOF)");
    if (w->scans == 0)
        return bad(job, IMSAFE_R_MALFORMED_JPEG_MARKER, "no scan (SOS)");
    if (check_ratio(job, w) != 0)
        return -1;
    return check_work(job, w);
}

/* ------------------------------------------------------- EXIF, ICC, notes */

struct keep {
    uint8_t exif[64];
    size_t exif_len;
    uint8_t *icc;
    size_t icc_len;
};

/* Orientation: parsed from the first EXIF block, rebuilt fresh.  An EXIF
 * block that is already exactly our rebuild is not metadata we dropped. */
static void keep_orientation(struct imsafe__job *job, struct walk *w, struct keep *k)
{
    if (!w->has_exif)
        return;
    if (!imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ORIENTATION)) {
        w->metadata = 1;
        return;
    }
    int o = imsafe__exif_orientation(job->in + w->exif_off, w->exif_len);
    if (o < 0) {
        imsafe__note(job, IMSAFE_R_NOTE_EXIF_IGNORED);
        w->metadata = 1;
        return;
    }
    if (o >= 2)
        k->exif_len = imsafe__exif_build(o, k->exif, sizeof k->exif);
    if (k->exif_len > 0)
        imsafe__note(job, IMSAFE_R_NOTE_ORIENTATION_KEPT);
    if (k->exif_len != w->exif_len || memcmp(k->exif, job->in + w->exif_off, w->exif_len) != 0)
        w->metadata = 1;
}

/* The ICC chain is consistent: one count N for all, sequence numbers 1..N
 * each exactly once (ICC.1 annex B.4).  Returns the total size, or 0. */
static uint64_t icc_total(const struct walk *w)
{
    unsigned n = w->icc_segments, count = w->icc[0].count;
    uint8_t seen[256] = {0};
    uint64_t total = 0;
    if (w->icc_bad || count == 0 || n != count)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        const struct icc_seg *s = &w->icc[i];
        if (s->count != count || s->seq < 1 || s->seq > count || seen[s->seq])
            return 0;
        seen[s->seq] = 1;
        total += s->len; /* at most 255 x 65535: cannot overflow */
    }
    return total;
}

/* Collect the ICC profile and keep our rebuild of it.  -1 when the job was
 * rejected. */
static int keep_icc(struct imsafe__job *job, const struct walk *w, struct keep *k)
{
    if (w->icc_segments == 0)
        return 0;
    if (imsafe__check_feature(job, IMSAFE_FEATURE_ICC_PROFILE) != 0)
        return -1;
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_ICC_BYTES);
    uint64_t total = icc_total(w);
    /* dropped by policy, or inconsistent: never assembled, so no limit */
    if (!imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ICC) || total == 0) {
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        return 0;
    }
    if (total > max)
        return imsafe__reject(job, IMSAFE_R_LIMIT_ICC_BYTES, "ICC profile %llu bytes, limit %llu",
                              (unsigned long long)total, (unsigned long long)max), -1;
    uint8_t *sent = imsafe__alloc(job, (size_t)total);
    if (sent == NULL)
        return -1;
    size_t at = 0;
    for (unsigned seq = 1; seq <= w->icc_segments; seq++)
        for (unsigned i = 0; i < w->icc_segments; i++)
            if (w->icc[i].seq == seq) {
                memcpy(sent + at, job->in + w->icc[i].off, w->icc[i].len);
                at += w->icc[i].len;
            }
    /* never the sender's bytes: a profile written anew from its numbers,
     * for the image's own channels (a CMYK JPEG keeps none) */
    int kind = imsafe__icc_rebuild(job, sent, at, (int)w->ncomp, &k->icc, &k->icc_len);
    imsafe__free(job, sent);
    if (kind == IMSAFE__ICC_FAILED)
        return -1;
    if (kind == IMSAFE__ICC_DROPPED)
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
    return 0;
}

/* ------------------------------------------------------------------ libjpeg */

/* Shaped like libjpeg-turbo's turbojpeg.c my_error_mgr. */
struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int strict;     /* a warning is a rejection */
    int is_warning; /* the jump came from a warning */
    long warnings;  /* own count: the encoder's start resets num_warnings */
    int no_eoi;     /* the walk found the EOI missing (struct walk) */
    int eof_seen;   /* libjpeg ran out of data and supplied an EOI */
};

struct jdest {
    struct jpeg_destination_mgr pub;
    struct imsafe__job *job;
    size_t first; /* first buffer size: the input's image bytes */
};

/* Everything the error branch frees lives here (allocated before setjmp),
 * never in a non-volatile local. */
struct jctx {
    struct jpeg_decompress_struct d;
    struct jpeg_compress_struct c;
    struct jerr err;
    struct jpeg_progress_mgr progress;
    struct imsafe__job *job;
    unsigned ticks;
    struct jdest dest;
    struct keep keep;
    JSAMPROW row;
    uint64_t reserved;
    int pixels; /* decode to pixels and re-encode (else transcode) */
};

static void on_error(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    e->is_warning = 0;
    longjmp(e->jb, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    if (level >= 0)
        return; /* trace messages */
    /* jpeg_mem_src's end of data: it supplies the EOI the walk found
     * missing.  The repair holds only if this is the one warning: a cut
     * inside a scan warns JWRN_HIT_MARKER after it, and with no EOI every
     * other warning rejects too, tolerate_warnings or not. */
    if (e->no_eoi && e->pub.msg_code == JWRN_JPEG_EOF) {
        e->eof_seen = 1;
        return;
    }
    e->pub.num_warnings++;
    e->warnings++;
    if (e->strict || e->no_eoi) {
        e->is_warning = 1;
        longjmp(e->jb, 1);
    }
}

/*
 * The CPU deadline (max_cpu_ms), checked cooperatively: libjpeg calls its
 * progress monitor once per iMCU row of every pass, decoding and encoding,
 * and the clock is read every 16th call (a syscall; about a millisecond of
 * work apart on a large image).  Past the deadline the job is rejected
 * (limit.time) and the jump lands in codec() like any libjpeg error.
 */
#define PROGRESS_POLL 16u

static void on_progress(j_common_ptr cinfo)
{
    struct jctx *x = (struct jctx *)cinfo->client_data;
    if (++x->ticks % PROGRESS_POLL == 0 && imsafe__work_clock(x->job) != 0) {
        x->err.is_warning = 0;
        longjmp(x->err.jb, 1);
    }
}

static void on_output(j_common_ptr cinfo)
{
    (void)cinfo; /* the library never prints */
}

static imsafe_reason error_reason(int code)
{
    switch (code) {
    case JERR_IMAGE_TOO_BIG: return IMSAFE_R_LIMIT_PIXELS;
    case JERR_WIDTH_OVERFLOW: return IMSAFE_R_LIMIT_WIDTH;
    case JERR_OUT_OF_MEMORY: case JERR_NO_BACKING_STORE: case JERR_TFILE_CREATE:
    case JERR_TFILE_READ: case JERR_TFILE_SEEK: case JERR_TFILE_WRITE:
        return IMSAFE_R_LIMIT_MEMORY;
    case JERR_BAD_PRECISION: return IMSAFE_R_UNSUPPORTED_JPEG_PRECISION;
    case JERR_SOF_UNSUPPORTED: case JERR_ARITH_NOTIMPL: case JERR_NOT_COMPILED:
    case JERR_NOTIMPL: case JERR_CONVERSION_NOTIMPL:
        return IMSAFE_R_UNSUPPORTED_JPEG_PROCESS;
    case JERR_BAD_HUFF_TABLE: case JERR_DHT_INDEX: case JERR_DQT_INDEX: case JERR_NO_HUFF_TABLE:
    case JERR_NO_QUANT_TABLE: case JERR_NO_ARITH_TABLE: case JERR_DAC_INDEX: case JERR_DAC_VALUE:
    case JERR_MISMATCHED_QUANT_TABLE:
        return IMSAFE_R_MALFORMED_JPEG_TABLES;
    case JERR_BAD_COMPONENT_ID: case JERR_BAD_SAMPLING: case JERR_BAD_MCU_SIZE:
    case JERR_COMPONENT_COUNT: case JERR_EMPTY_IMAGE: case JERR_SOF_DUPLICATE:
        return IMSAFE_R_MALFORMED_JPEG_SOF;
    case JERR_BAD_LENGTH: case JERR_BAD_PROGRESSION: case JERR_NO_IMAGE: case JERR_NO_SOI:
    case JERR_SOI_DUPLICATE: case JERR_SOS_NO_SOF: case JERR_SOF_NO_SOS:
    case JERR_UNKNOWN_MARKER: case JERR_EOI_EXPECTED:
        return IMSAFE_R_MALFORMED_JPEG_MARKER;
    case JERR_INPUT_EOF: case JERR_INPUT_EMPTY: case JWRN_JPEG_EOF:
        return IMSAFE_R_MALFORMED_TRUNCATED;
    case JERR_BAD_DCT_COEF:
        return IMSAFE_R_MALFORMED_JPEG_DATA;
    default: return IMSAFE_R_MALFORMED_JPEG;
    }
}

/* Reject with libjpeg's message, when its text is numbers only. */
static void reject_libjpeg(struct imsafe__job *job, struct jctx *x)
{
    struct jpeg_error_mgr *e = &x->err.pub;
    int code = e->msg_code;
    imsafe_reason r = x->err.is_warning && code != JWRN_JPEG_EOF ? IMSAFE_R_MALFORMED_JPEG_DATA
                                                                  : error_reason(code);
    if (x->err.eof_seen)
        r = IMSAFE_R_MALFORMED_TRUNCATED; /* the data ran out, then this */
    char msg[JMSG_LENGTH_MAX] = "";
    if (code > 0 && code <= e->last_jpeg_message && strstr(e->jpeg_message_table[code], "%s") == NULL)
        e->format_message((j_common_ptr)&x->d, msg);
    imsafe__reject(job, r, "libjpeg %s %d: %s", x->err.is_warning ? "warning" : "error", code,
                   msg);
}

/* Destination manager: libjpeg writes straight into job->out, which grows
 * through the call's budget (no jpeg_mem_dest: it mallocs outside it). */
static void dest_grow(j_compress_ptr c, size_t extra)
{
    struct jdest *d = (struct jdest *)c->dest;
    struct imsafe__buf *b = &d->job->out;
    if (imsafe__buf_room(b, extra) != 0)
        ERREXIT(c, JERR_OUT_OF_MEMORY); /* the job already says why */
    d->pub.next_output_byte = b->data + b->len;
    d->pub.free_in_buffer = b->cap - b->len;
}

/* A rebuild is about as large as its input (lossless with optimised tables
 * is a little smaller): start there, so the usual case never copies the
 * output while growing it. */
static void dest_init(j_compress_ptr c)
{
    dest_grow(c, ((struct jdest *)c->dest)->first);
}

static boolean dest_empty(j_compress_ptr c)
{
    struct imsafe__buf *b = &((struct jdest *)c->dest)->job->out;
    b->len = b->cap; /* libjpeg filled the whole buffer */
    dest_grow(c, b->cap / 2 + 16384);
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    struct jdest *d = (struct jdest *)c->dest;
    d->job->out.len = d->job->out.cap - d->pub.free_in_buffer;
}

/* Bytes libjpeg will hold for this frame, from the header values: the
 * whole-image coefficient arrays when they exist (transcoding, progressive
 * or multi-scan input), O(width) row buffers when decoding to pixels. */
static uint64_t memory_bound(const struct walk *w, int coef, int rows)
{
    uint64_t mcux = (w->width + 8u * w->maxh - 1) / (8u * w->maxh);
    uint64_t mcuy = (w->height + 8u * w->maxv - 1) / (8u * w->maxv);
    uint64_t total = LIBJPEG_OVERHEAD, t;
    for (unsigned i = 0; coef && i < w->ncomp; i++) {
        /* dimensions < 2^16 and factors <= 4: no product here overflows */
        t = mcux * w->h[i] * mcuy * w->v[i] * BLOCK_BYTES;
        total += t;
    }
    if (rows) {
        t = mcux * 8u * w->maxh * w->ncomp * (ROW_GROUP_FACTOR * 8u * w->maxv + ROW_FIXED_FACTOR);
        total += t;
    }
    return total;
}

static void write_markers(struct jctx *x)
{
    const struct keep *k = &x->keep;
    if (k->exif_len > 0)
        jpeg_write_marker(&x->c, JPEG_APP0 + 1, k->exif, (unsigned)k->exif_len);
    size_t chunks = (k->icc_len + ICC_CHUNK - 1) / ICC_CHUNK;
    for (size_t i = 0; i < chunks; i++) {
        size_t off = i * ICC_CHUNK, len = k->icc_len - off < ICC_CHUNK ? k->icc_len - off : ICC_CHUNK;
        jpeg_write_m_header(&x->c, JPEG_APP0 + 2, (unsigned)(len + ICC_ID_LEN + 2));
        for (unsigned j = 0; j < ICC_ID_LEN; j++)
            jpeg_write_m_byte(&x->c, "ICC_PROFILE"[j]); /* [11] is the NUL */
        jpeg_write_m_byte(&x->c, (int)(i + 1));
        jpeg_write_m_byte(&x->c, (int)chunks);
        for (size_t j = 0; j < len; j++)
            jpeg_write_m_byte(&x->c, k->icc[off + j]);
    }
}

/*
 * Keep one scan of libjpeg's standard progression (filled in c->script_space
 * by jpeg_simple_progression) only if every coefficient it carries is known
 * in the input to at least its precision Al (d->coef_bits: -1 for never,
 * else the Al it was last coded at), and it starts from where the kept
 * scans left off (out).  The scans and their order are libjpeg's; the
 * input only decides how far along them its coefficients reach.
 */
static int scan_fits(const jpeg_scan_info *s, int (*have)[DCTSIZE2], int (*out)[DCTSIZE2])
{
    int from = s->Ah == 0 ? -1 : s->Ah;
    for (int i = 0; i < s->comps_in_scan; i++)
        for (int k = s->Ss; k <= s->Se; k++) {
            int c = s->component_index[i];
            if (out[c][k] != from || have[c][k] < 0 || have[c][k] > s->Al)
                return 0;
        }
    return 1;
}

/*
 * Progressive output for a progressive input (jpeg_progressive = keep):
 * libjpeg's standard scan script, never the sender's.  A file that stops
 * before its last scans (an interrupted download, a preview) keeps exactly
 * the coefficient precision it had when the standard script can express it,
 * so the decoders' block smoothing of the missing coefficients, and with it
 * every pixel, is the same; otherwise, and for a complete file, the whole
 * standard script is written (the missing coefficients as zeros).  Either
 * way the output's own precision gives the same script again: a fixpoint.
 */
static void progressive_script(struct jctx *x)
{
    int out[MAX_COMPONENTS][DCTSIZE2];
    int (*have)[DCTSIZE2] = x->d.coef_bits;
    int n = x->c.num_components, kept = 0, exact = 1;
    jpeg_simple_progression(&x->c);
    if (have == NULL)
        return; /* not filled in: write the whole script */
    for (int c = 0; c < n; c++)
        for (int k = 0; k < DCTSIZE2; k++)
            out[c][k] = -1;
    for (int i = 0; i < x->c.num_scans; i++) {
        jpeg_scan_info s = x->c.script_space[i];
        if (!scan_fits(&s, have, out))
            continue;
        for (int j = 0; j < s.comps_in_scan; j++)
            for (int k = s.Ss; k <= s.Se; k++)
                out[s.component_index[j]][k] = s.Al;
        x->c.script_space[kept++] = s;
    }
    /* libjpeg's encoder requires DC data for every component */
    for (int c = 0; c < n; c++)
        for (int k = 0; k < DCTSIZE2; k++)
            exact &= out[c][k] == have[c][k] && out[c][0] >= 0;
    if (exact) {
        x->c.num_scans = kept;
        x->c.scan_info = x->c.script_space;
    } else {
        jpeg_simple_progression(&x->c); /* the whole script again */
    }
}

/* Lossless: coefficients in, coefficients out, Huffman tables optimised.
 * The optimize pass also refuses coefficients baseline JPEG cannot code
 * (JERR_BAD_DCT_COEF), so corrupt-but-decodable data never leaves as a
 * broken stream. */
static void transcode(struct imsafe__job *job, struct jctx *x)
{
    jvirt_barray_ptr *coef = jpeg_read_coefficients(&x->d);
    jpeg_copy_critical_parameters(&x->d, &x->c);
    x->c.optimize_coding = TRUE;
    if (x->d.progressive_mode &&
        imsafe__opt(job->policy, IMSAFE_OPT_JPEG_PROGRESSIVE) == IMSAFE_JPEG_PROGRESSIVE_KEEP)
        progressive_script(x);
    if (x->dest.job->variant) {
        /* the output gate's second encoding: the standard Huffman tables
         * and a restart marker every MCU row change every entropy-coded
         * bit; coefficients and tables stay, so it is still lossless */
        x->c.optimize_coding = FALSE;
        x->c.restart_in_rows = 1;
    }
    /* JFIF density is the input's metadata too: write the defaults */
    x->c.JFIF_major_version = 1;
    x->c.JFIF_minor_version = 1;
    x->c.density_unit = 0;
    x->c.X_density = x->c.Y_density = 1;
    jpeg_write_coefficients(&x->c, coef);
    write_markers(x);
    jpeg_finish_compress(&x->c);
}

/* Pixel mode's colour spaces: decoded to gray, RGB or CMYK and encoded with
 * libjpeg's defaults for that (YCbCr 4:2:0 for colour, Adobe for CMYK). */
static int pixel_setup(struct imsafe__job *job, struct jctx *x)
{
    J_COLOR_SPACE out;
    int comps;
    switch (x->d.jpeg_color_space) {
    case JCS_GRAYSCALE: out = JCS_GRAYSCALE; comps = 1; break;
    case JCS_YCbCr: case JCS_RGB: out = JCS_RGB; comps = 3; break;
    case JCS_CMYK: case JCS_YCCK: out = JCS_CMYK; comps = 4; break;
    default:
        return bad(job, IMSAFE_R_UNSUPPORTED_JPEG_PROCESS, "colour space not re-encoded in pixel mode");
    }
    x->d.out_color_space = out;
    x->c.image_width = x->d.image_width;
    x->c.image_height = x->d.image_height;
    x->c.input_components = comps;
    x->c.in_color_space = out;
    jpeg_set_defaults(&x->c);
    jpeg_set_quality(&x->c, (int)imsafe__opt(job->policy, IMSAFE_OPT_JPEG_QUALITY), TRUE);
    x->c.optimize_coding = FALSE;
    if (job->variant) { /* the output gate's second encoding: other bits */
        x->c.optimize_coding = TRUE;
        x->c.restart_in_rows = 1;
    }
    return 0;
}

/*
 * Lossless mode keeps the sender's quantisation tables: 64 or 128 chosen
 * bytes each.  When the output gate hit the first encoding, the tables are
 * serialised as libjpeg writes them (one DQT segment each, values in
 * zigzag order) and scanned strictly; if they hold a foreign signature,
 * only pixel mode (tables of our own) can remove it.
 */
static int dqt_holds_foreign(const struct jctx *x)
{
    static const uint8_t zigzag[64] = {
        0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};
    uint8_t seg[NUM_QUANT_TBLS * (5 + 128)];
    size_t n = 0;
    for (int t = 0; t < NUM_QUANT_TBLS; t++) {
        const JQUANT_TBL *q = x->d.quant_tbl_ptrs[t];
        if (q == NULL)
            continue;
        unsigned prec = 0;
        for (int i = 0; i < 64; i++)
            prec |= q->quantval[i] > 255;
        unsigned len = 64 * (prec + 1) + 3;
        seg[n++] = 0xFF;
        seg[n++] = 0xDB;
        seg[n++] = (uint8_t)(len >> 8);
        seg[n++] = (uint8_t)len;
        seg[n++] = (uint8_t)(prec << 4 | (unsigned)t);
        for (int i = 0; i < 64; i++) {
            unsigned v = q->quantval[zigzag[i]];
            if (prec)
                seg[n++] = (uint8_t)(v >> 8);
            seg[n++] = (uint8_t)v;
        }
    }
    /* strict (TAIL: anywhere) and as the gate reads an output's head
     * (OUTPUT: the tables sit in the first bytes of the file) */
    return imsafe__scan_buf(seg, n, IMSAFE__SCAN_TAIL, NULL) ||
           imsafe__scan_buf(seg, n, IMSAFE__SCAN_OUTPUT, NULL);
}

/*
 * Pixel mode: decode and re-encode one row at a time, so memory stays
 * O(width) for sequential input (libjpeg buffers progressive input's
 * coefficients).  Every input is re-encoded, even one already coded as we
 * would code it: no coefficient an attacker chose reaches the output.  JPEG
 * re-encoding is lossy, so unlike the default mode a pixel-mode output
 * sanitized again is accepted but not byte-identical.
 */
static int reencode(struct imsafe__job *job, struct jctx *x)
{
    jpeg_start_decompress(&x->d);
    if (x->d.output_width != x->c.image_width || x->d.output_height != x->c.image_height ||
        x->d.output_components != x->c.input_components)
        return bad(job, IMSAFE_R_MALFORMED_JPEG, "decoder output does not match the header");
    x->row = imsafe__calloc(job, x->d.output_width, (size_t)x->d.output_components);
    if (x->row == NULL)
        return -1;
    jpeg_start_compress(&x->c, TRUE);
    write_markers(x);
    while (x->d.output_scanline < x->d.output_height) {
        JSAMPROW r = x->row;
        if (jpeg_read_scanlines(&x->d, &r, 1) != 1)
            return bad(job, IMSAFE_R_MALFORMED_JPEG, "the decoder returned no row");
        jpeg_write_scanlines(&x->c, &r, 1);
    }
    jpeg_finish_compress(&x->c);
    return 0;
}

/* Set-up after the header: checks libjpeg agrees with the walk, reserves
 * the memory bound, and picks the path.  1: pixels, 0: coefficients. */
static int plan(struct imsafe__job *job, struct jctx *x, const struct walk *w, int *pixels)
{
    struct jpeg_decompress_struct *d = &x->d;
    if (d->image_width != w->width || d->image_height != w->height ||
        d->num_components != (int)w->ncomp || d->data_precision != 8)
        return bad(job, IMSAFE_R_MALFORMED_JPEG, "decoder header disagrees with the marker walk");
    *pixels = imsafe__opt(job->policy, IMSAFE_OPT_JPEG_MODE) == IMSAFE_JPEG_PIXELS;
    if (!*pixels && job->variant && dqt_holds_foreign(x)) {
        *pixels = 1;
        imsafe__detail(job, "quantisation tables replaced: re-encoded from pixels");
    }
    if (*pixels && pixel_setup(job, x) != 0)
        return -1;
    int buffered = !*pixels || w->progressive || w->first_scan_comps < w->ncomp;
    uint64_t bound = memory_bound(w, buffered, *pixels);
    if (imsafe__reserve(job, bound, "libjpeg decode") != 0)
        return -1;
    x->reserved = bound;
    d->mem->max_memory_to_use = (long)bound;
    x->c.mem->max_memory_to_use = (long)bound;
    return 0;
}

/* Runs libjpeg.  The only setjmp of this module: every error exit of the
 * decoder or encoder lands here, and nothing longjmps past this frame. */
static void codec(struct imsafe__job *job, struct jctx *x, const struct walk *w)
{
    x->d.err = jpeg_std_error(&x->err.pub);
    x->c.err = &x->err.pub;
    x->err.pub.error_exit = on_error;
    x->err.pub.emit_message = on_message;
    x->err.pub.output_message = on_output;
    x->err.strict = !tolerant(job);
    x->err.no_eoi = w->no_eoi;
    x->dest.job = job;
    x->dest.first = w->end + w->end / 8 + 16384; /* end <= in_len: no overflow */
    x->dest.pub.init_destination = dest_init;
    x->dest.pub.empty_output_buffer = dest_empty;
    x->dest.pub.term_destination = dest_term;
    if (setjmp(x->err.jb)) {
        reject_libjpeg(job, x);
        return;
    }
    jpeg_create_decompress(&x->d);
    jpeg_create_compress(&x->c);
    if (job->cpu_deadline_ns != 0) {
        x->job = job;
        x->progress.progress_monitor = on_progress;
        x->d.client_data = x->c.client_data = x;
        x->d.progress = x->c.progress = &x->progress;
    }
    /* create read JPEGMEM from the environment: override it at once */
    x->d.mem->max_memory_to_use = x->c.mem->max_memory_to_use = LIBJPEG_OVERHEAD;
    x->c.dest = &x->dest.pub;
    jpeg_mem_src(&x->d, job->in, (unsigned long)w->end);
    jpeg_read_header(&x->d, TRUE);
    /* the work the walk expected (check_work) is done from here on */
    if (plan(job, x, w, &x->pixels) != 0 || imsafe__work_charge(job, w->work, "JPEG") != 0)
        return;
    if (x->pixels) {
        if (reencode(job, x) != 0)
            return;
    } else {
        transcode(job, x);
    }
    jpeg_finish_decompress(&x->d);
    if (x->err.warnings > 0)
        imsafe__note(job, IMSAFE_R_NOTE_WARNINGS_TOLERATED);
    if (w->no_eoi) {
        imsafe__note(job, IMSAFE_R_NOTE_REPAIRED);
        imsafe__detail(job, "missing EOI marker added");
    }
    imsafe__accept(job, IMSAFE_SANITIZED);
}

imsafe_status imsafe__jpeg_sanitize(struct imsafe__job *job)
{
    struct walk *w = imsafe__calloc(job, 1, sizeof *w);
    struct jctx *x = imsafe__calloc(job, 1, sizeof *x);
    if (w == NULL || x == NULL)
        goto done;
    if (walk(job, w) != 0)
        goto done;
    if (w->end < job->in_len && imsafe__check_tail(job, job->in + w->end, job->in_len - w->end))
        goto done;
    if (keep_icc(job, w, &x->keep) != 0)
        goto done;
    keep_orientation(job, w, &x->keep);
    if (w->metadata)
        imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
    codec(job, x, w);
done:
    if (x != NULL) {
        jpeg_destroy_compress(&x->c);
        jpeg_destroy_decompress(&x->d);
        imsafe__unreserve(job, x->reserved);
        imsafe__free(job, x->row);
        imsafe__free(job, x->keep.icc);
    }
    imsafe__free(job, x);
    imsafe__free(job, w);
    return IMSAFE_OK;
}
