/*
 * frame.c - what an isolated worker says back, and how the host checks it
 * (policy isolation = process; worker.c owns the processes).
 *
 * The host trusts nothing a worker says: a worker that a decoder bug handed
 * to an attacker writes whatever bytes it likes.  So its answer is one
 * fixed-size frame whose every field is checked against a closed set of
 * values, and the image it returns is walked structure by structure (not
 * decoded) before the host's output gate scans it again.
 *
 * Frame layout (FRAME_SIZE bytes, native byte order: both ends are one
 * build on one machine; the version word catches a mismatched helper):
 *
 *     0  "IMSR"               magic
 *     4  u32 version          IMSAFE__WIRE_VERSION
 *     8  u32 status           OK, ENOMEM or EINTERNAL of the worker's call
 *    12  u32 verdict          1..3 when status is OK, else 0
 *    16  u32 type             < IMSAFE_TYPE_COUNT
 *    20  u32 out_type         UNKNOWN, or the output's format
 *    24  u32 reason           a named non-note reason for a rejection, else 0
 *    28  u32 note_count       <= IMSAFE_MAX_NOTES
 *    32  u32 notes[16]        note.* reasons; unused slots 0
 *    96  u64 peak             <= the call's budget
 *   104  u64 out_len          1..budget for a sanitized payload, else 0
 *   112  char detail[256]     printable ASCII, NUL-terminated, zero-padded
 */
#include <string.h>

#include "imsafe_private.h"

#define OFF_VERSION 4
#define OFF_STATUS 8
#define OFF_VERDICT 12
#define OFF_TYPE 16
#define OFF_OUT_TYPE 20
#define OFF_REASON 24
#define OFF_NOTE_COUNT 28
#define OFF_NOTES 32
#define OFF_PEAK 96
#define OFF_OUT_LEN 104
#define OFF_DETAIL 112

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

void imsafe__frame_write(const struct imsafe__frame *f, uint8_t out[IMSAFE__FRAME_SIZE])
{
    memset(out, 0, IMSAFE__FRAME_SIZE);
    memcpy(out, "IMSR", 4);
    put32(out + OFF_VERSION, IMSAFE__WIRE_VERSION);
    put32(out + OFF_STATUS, f->status);
    put32(out + OFF_VERDICT, f->verdict);
    put32(out + OFF_TYPE, f->type);
    put32(out + OFF_OUT_TYPE, f->out_type);
    put32(out + OFF_REASON, f->reason);
    put32(out + OFF_NOTE_COUNT, f->note_count);
    for (size_t i = 0; i < IMSAFE_MAX_NOTES && i < f->note_count; i++)
        put32(out + OFF_NOTES + 4 * i, f->notes[i]);
    put64(out + OFF_PEAK, f->peak);
    put64(out + OFF_OUT_LEN, f->out_len);
    size_t n = strnlen(f->detail, IMSAFE_DETAIL_MAX - 1);
    memcpy(out + OFF_DETAIL, f->detail, n);
}

/* A reason value the table names: 1 for a note, 2 for a rejection reason. */
static int reason_kind(uint32_t r)
{
    const char *n = r > 0 && r < IMSAFE_REASON_COUNT ? imsafe_reason_name((imsafe_reason)r) : NULL;
    if (n == NULL)
        return 0;
    return strncmp(n, "note.", 5) == 0 ? 1 : 2;
}

/* The detail: printable ASCII up to a NUL, zeros after it. */
static int detail_ok(const uint8_t *p, char *dst)
{
    size_t i = 0;
    for (; i < IMSAFE_DETAIL_MAX && p[i] != 0; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    if (i == IMSAFE_DETAIL_MAX)
        return 0; /* no terminator */
    memcpy(dst, p, i);
    dst[i] = '\0';
    for (; i < IMSAFE_DETAIL_MAX; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Status and verdict agree; reason and notes are of the right kinds. */
static const char *check_verdict(const struct imsafe__frame *f, uint64_t budget)
{
    if (f->status != IMSAFE_OK)
        return f->verdict == 0 && f->out_len == 0 && f->reason == 0 && f->note_count == 0 &&
                       f->out_type == IMSAFE_TYPE_UNKNOWN
                   ? NULL
                   : "a verdict with a failed status";
    if (f->verdict != IMSAFE_SANITIZED && f->verdict != IMSAFE_PASSED &&
        f->verdict != IMSAFE_REJECTED)
        return "verdict out of range";
    if (f->verdict == IMSAFE_REJECTED ? reason_kind(f->reason) != 2 : f->reason != 0)
        return "reason out of range for the verdict";
    if (f->verdict == IMSAFE_SANITIZED ? f->out_len == 0 || f->out_len > budget
                                       : f->out_len != 0)
        return "output length out of range";
    if (f->verdict != IMSAFE_SANITIZED && f->out_type != IMSAFE_TYPE_UNKNOWN)
        return "an output type without output";
    return NULL;
}

int imsafe__frame_parse(const uint8_t *p, size_t n, uint64_t budget, struct imsafe__frame *f,
                        const char **why)
{
    const char *bad = NULL;
    memset(f, 0, sizeof *f);
    if (n != IMSAFE__FRAME_SIZE || memcmp(p, "IMSR", 4) != 0) {
        bad = "not a result frame";
        goto done;
    }
    if (get32(p + OFF_VERSION) != IMSAFE__WIRE_VERSION) {
        bad = "the worker speaks another protocol version";
        goto done;
    }
    f->status = get32(p + OFF_STATUS);
    f->verdict = get32(p + OFF_VERDICT);
    f->type = get32(p + OFF_TYPE);
    f->out_type = get32(p + OFF_OUT_TYPE);
    f->reason = get32(p + OFF_REASON);
    f->note_count = get32(p + OFF_NOTE_COUNT);
    f->peak = get64(p + OFF_PEAK);
    f->out_len = get64(p + OFF_OUT_LEN);
    if (f->status != IMSAFE_OK && f->status != IMSAFE_ENOMEM && f->status != IMSAFE_EINTERNAL)
        bad = "status out of range";
    else if (f->type >= IMSAFE_TYPE_COUNT || f->out_type >= IMSAFE_TYPE_COUNT)
        bad = "type out of range";
    else if (f->note_count > IMSAFE_MAX_NOTES)
        bad = "too many notes";
    else if (f->peak > budget)
        bad = "peak memory over the budget";
    else if (!detail_ok(p + OFF_DETAIL, f->detail))
        bad = "detail is not printable ASCII";
    if (bad == NULL)
        bad = check_verdict(f, budget);
    for (size_t i = 0; bad == NULL && i < IMSAFE_MAX_NOTES; i++) {
        f->notes[i] = get32(p + OFF_NOTES + 4 * i);
        if (i < f->note_count ? reason_kind(f->notes[i]) != 1 : f->notes[i] != 0)
            bad = "note out of range";
    }
done:
    if (why != NULL)
        *why = bad;
    return bad == NULL ? 0 : -1;
}

/* ------------------------------------------------------- structural walks */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PNG: signature, IHDR first, chunks whose lengths fit and whose CRCs
 * match, an IDAT, IEND last and nothing after it. */
static const char *walk_png(const uint8_t *p, size_t n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    size_t off = 8;
    int idat = 0, first = 1;
    if (n < 8 || memcmp(p, sig, 8) != 0)
        return "PNG signature";
    while (n - off >= 12) {
        uint32_t len = be32(p + off);
        const uint8_t *t = p + off + 4;
        if (len > 0x7fffffffu || len > n - off - 12)
            return "PNG chunk length";
        for (int i = 0; i < 4; i++)
            if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
                return "PNG chunk type";
        if (crc32(crc32(0, Z_NULL, 0), t, len + 4) != be32(t + 4 + len))
            return "PNG chunk CRC";
        if (first && (memcmp(t, "IHDR", 4) != 0 || len != 13))
            return "PNG IHDR";
        first = 0;
        idat |= memcmp(t, "IDAT", 4) == 0;
        off += 12 + (size_t)len;
        if (memcmp(t, "IEND", 4) == 0)
            return len == 0 && off == n && idat ? NULL : "PNG IEND";
    }
    return "PNG ends without IEND";
}

/* The end of entropy-coded data from off: the first 0xFF that is not a
 * stuffed zero or a restart marker, or n - 1 when there is none.  The
 * 0xFF bytes are found with memchr: this walk runs on every output the
 * host takes from a worker. */
static size_t jpeg_scan_end(const uint8_t *p, size_t n, size_t off)
{
    while (off + 1 < n) {
        const uint8_t *q = memchr(p + off, 0xff, n - off - 1);
        if (q == NULL)
            return n - 1;
        off = (size_t)(q - p);
        uint8_t m = p[off + 1];
        if (m != 0 && !(m >= 0xd0 && m <= 0xd7))
            return off;
        off++;
    }
    return off;
}

/* JPEG: SOI, marker segments whose lengths fit, entropy-coded data after
 * each SOS (stuffed 0xFF00 and RSTn only), a frame header before the first
 * scan, EOI last and nothing after it. */
static const char *walk_jpeg(const uint8_t *p, size_t n)
{
    size_t off = 2;
    int sof = 0, sos = 0;
    if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
        return "JPEG SOI";
    while (off + 2 <= n) {
        if (p[off] != 0xff)
            return "JPEG marker expected";
        uint8_t m = p[off + 1];
        if (m == 0xd9)
            return off + 2 == n && sof && sos ? NULL : "JPEG EOI";
        if (m < 0xc0 || m == 0xff || m == 0xc8 || (m >= 0xd0 && m <= 0xd8))
            return "JPEG marker";
        if (off + 4 > n)
            return "JPEG segment";
        size_t len = (size_t)p[off + 2] << 8 | p[off + 3];
        if (len < 2 || len > n - off - 2)
            return "JPEG segment length";
        sof |= (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xcc);
        off += 2 + len;
        if (m != 0xda)
            continue;
        if (!sof)
            return "JPEG scan before the frame header";
        sos = 1;
        off = jpeg_scan_end(p, n, off);
    }
    return "JPEG ends without EOI";
}

/* GIF sub-blocks from off to their terminator; the offset after it, or 0. */
static size_t gif_blocks(const uint8_t *p, size_t n, size_t off)
{
    while (off < n) {
        size_t k = p[off];
        if (k == 0)
            return off + 1;
        if (k >= n - off)
            return 0;
        off += 1 + k;
    }
    return 0;
}

/* GIF: header, screen, colour tables that fit, images inside the screen
 * with a valid LZW code size, extensions, the trailer last. */
static const char *walk_gif(const uint8_t *p, size_t n)
{
    if (n < 13 || (memcmp(p, "GIF87a", 6) != 0 && memcmp(p, "GIF89a", 6) != 0))
        return "GIF header";
    unsigned sw = p[6] | p[7] << 8, sh = p[8] | p[9] << 8;
    size_t off = 13, images = 0;
    if (p[10] & 0x80)
        off += 3u << ((p[10] & 7) + 1);
    while (off < n) {
        if (p[off] == 0x3b)
            return off + 1 == n && images > 0 ? NULL : "GIF trailer";
        if (p[off] == 0x21) {
            if (n - off < 2 || (off = gif_blocks(p, n, off + 2)) == 0)
                return "GIF extension";
            continue;
        }
        if (p[off] != 0x2c || n - off < 11)
            return "GIF block";
        const uint8_t *d = p + off + 1;
        unsigned x = d[0] | d[1] << 8, y = d[2] | d[3] << 8;
        unsigned w = d[4] | d[5] << 8, h = d[6] | d[7] << 8;
        if (w == 0 || h == 0 || x + w > sw || y + h > sh)
            return "GIF frame outside the screen";
        off += 10;
        if (d[8] & 0x80)
            off += 3u << ((d[8] & 7) + 1);
        if (off >= n || p[off] < 2 || p[off] > 8 || (off = gif_blocks(p, n, off + 1)) == 0)
            return "GIF image data";
        images++;
    }
    return "GIF ends without a trailer";
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* WebP: a RIFF header whose size is the file's, then chunks of printable
 * four-character names whose sizes (padded to even) end exactly at the
 * end, the first one an image or VP8X. */
static const char *walk_webp(const uint8_t *p, size_t n)
{
    if (n < 20 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0 ||
        le32_at(p + 4) != n - 8)
        return "WebP RIFF header";
    if (memcmp(p + 12, "VP8 ", 4) != 0 && memcmp(p + 12, "VP8L", 4) != 0 &&
        memcmp(p + 12, "VP8X", 4) != 0)
        return "WebP first chunk";
    for (size_t off = 12; off < n;) {
        if (n - off < 8)
            return "WebP chunk header";
        for (int k = 0; k < 4; k++)
            if (p[off + k] < 0x20 || p[off + k] > 0x7e)
                return "WebP chunk name";
        uint64_t len = le32_at(p + off + 4), padded = len + (len & 1);
        if (padded > n - off - 8)
            return "WebP chunk size";
        off += 8 + (size_t)padded;
    }
    return NULL;
}

const char *imsafe__walk_image(imsafe_type t, const uint8_t *p, size_t n)
{
    switch (t) {
    case IMSAFE_TYPE_PNG: return walk_png(p, n);
    case IMSAFE_TYPE_JPEG: return walk_jpeg(p, n);
    case IMSAFE_TYPE_GIF: return walk_gif(p, n);
    case IMSAFE_TYPE_WEBP: return walk_webp(p, n);
    default: return "not an image type libimsafe rebuilds";
    }
}
