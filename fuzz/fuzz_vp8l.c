/*
 * fuzz_vp8l.c - the VP8L prefix-code validator (libimsafe/vp8l.c) on raw
 * streams: imsafe__vp8l_check() under a 64 MiB budget and a max_work of
 * 20 million, with libwebp's own decoder as the oracle.
 *
 * Input, by its first bytes:
 *   "RIFF....WEBP"  a WebP file: every VP8L chunk (size from its own
 *                   header) and every ALPH chunk of method 1 (size from
 *                   its ANMF frame, the VP8X canvas or the VP8 frame that
 *                   follows), inside ANMF frames too;
 *   0x2f            a VP8L chunk payload (size from its own header);
 *   anything else   2 + 2 bytes little-endian: width-1 and height-1 (10 bits
 *                   each, so at most 1024 x 1024), then a headerless ALPH
 *                   method 1 stream.
 *
 * Properties (besides those of the sanitizers):
 *   - a reason is returned exactly when the job was rejected, with that
 *     reason and a printable detail; every byte charged is released;
 *   - the heap peak, counted by the malloc shim of fuzz_common.h, stays
 *     within the budget and within what the call charged plus
 *     FUZZ_SLACK_BYTES: every allocation goes through the budget;
 *   - no false rejection: when libwebp (WebPDecodeARGB on the stream
 *     wrapped in a RIFF; an alpha stream gets a VP8L header in front)
 *     decodes a stream of at most 256 K pixels, our check passes it, unless it
 *     hit a limit or one of the places where we are stricter on purpose
 *     (a simple distance code naming a symbol past 40, more groups than
 *     entropy tiles, a stream that ends inside its prefix codes: libwebp
 *     reads zero bits past the end and notices only where it looks; see
 *     vp8l.c).
 * The converse is not a property: when our check passes, libwebp may still
 * fail on the main image's pixels, which we leave to it; a status code
 * cannot tell those failures from header ones.
 */
#include <webp/decode.h>

#include "fuzz_common.h"

#define VP8L_BUDGET (64u << 20)
#define VP8L_MAX_WORK 20000000
#define ORACLE_MAX_PIXELS (1u << 18)

static const imsafe_policy *pol;

static void *v_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return malloc(n);
}

static void v_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static uint32_t le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* libwebp on one stream: 1 when it decodes. */
static int libwebp_decodes(const uint8_t *s, size_t n, uint32_t w, uint32_t h, int alpha)
{
    size_t body = n + (alpha ? 5 : 0);
    size_t total = 20 + body + (body & 1);
    if (body > 0xfffffff0u)
        return 0;
    uint8_t *f = calloc(1, total);
    if (f == NULL)
        fuzz_fail("out of memory");
    memcpy(f, "RIFF", 4);
    uint32_t riff = (uint32_t)(total - 8), chunk = (uint32_t)body;
    for (int i = 0; i < 4; i++) {
        f[4 + i] = (uint8_t)(riff >> (8 * i));
        f[16 + i] = (uint8_t)(chunk >> (8 * i));
    }
    memcpy(f + 8, "WEBPVP8L", 8);
    uint8_t *p = f + 20;
    if (alpha) {
        uint64_t hdr = 0x2f | (uint64_t)(w - 1) << 8 | (uint64_t)(h - 1) << 22 | 1ull << 36;
        for (int i = 0; i < 5; i++)
            *p++ = (uint8_t)(hdr >> (8 * i));
    }
    memcpy(p, s, n);
    int ww, hh;
    uint8_t *px = WebPDecodeARGB(f, total, &ww, &hh);
    free(f);
    if (px == NULL)
        return 0;
    fuzz_fold(px, (size_t)ww * (size_t)hh * 4);
    WebPFree(px);
    return 1;
}

static int stricter_on_purpose(const char *detail)
{
    return strstr(detail, "names a symbol past") != NULL ||
           strstr(detail, "more prefix-code groups than entropy tiles") != NULL ||
           strstr(detail, "the stream ends inside") != NULL;
}

static void run(const uint8_t *s, size_t n, uint32_t w, uint32_t h, int alpha)
{
    struct imsafe__job job;
    memset(&job, 0, sizeof job);
    job.policy = pol;
    job.alloc.alloc = v_alloc;
    job.alloc.free = v_free;
    job.budget = VP8L_BUDGET;
    fuzz_mem_start();
    imsafe_reason r = imsafe__vp8l_check(&job, s, n, w, h, alpha);
    uint64_t peak = fuzz_mem_stop();
    if ((r != IMSAFE_R_NONE) != (job.verdict != 0) || (r != IMSAFE_R_NONE && job.reason != r))
        fuzz_fail("returned reason %d, job verdict %d reason %d", (int)r, (int)job.verdict,
                  (int)job.reason);
    if (job.charged != 0)
        fuzz_fail("%llu bytes still charged", (unsigned long long)job.charged);
    if (peak > VP8L_BUDGET + FUZZ_SLACK_BYTES || peak > job.peak + FUZZ_SLACK_BYTES)
        fuzz_fail("heap peak %llu bytes, charged %llu", (unsigned long long)peak,
                  (unsigned long long)job.peak);
    for (const char *c = job.detail; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            fuzz_fail("the detail is not printable ASCII");
    fuzz_fold(job.detail, strlen(job.detail));
    if (r == IMSAFE_R_NONE || r == IMSAFE_R_LIMIT_WORK || r == IMSAFE_R_LIMIT_MEMORY ||
        (uint64_t)w * h > ORACLE_MAX_PIXELS)
        return;
    if (libwebp_decodes(s, n, w, h, alpha) && !stricter_on_purpose(job.detail))
        fuzz_fail("libwebp decodes a stream we reject: %s (%s)", imsafe_reason_name(r),
                  job.detail);
}

/* A VP8L chunk payload, checked at the size its header gives. */
static void run_vp8l(const uint8_t *d, size_t n)
{
    if (n < 5)
        return run(d, n, 1, 1, 0);
    uint32_t w = ((uint32_t)d[1] | (uint32_t)(d[2] & 0x3f) << 8) + 1;
    uint32_t h = ((uint32_t)(d[2] >> 6) | (uint32_t)d[3] << 2 | (uint32_t)(d[4] & 15) << 10) + 1;
    run(d, n, w, h, 0);
}

/* The chunks of a WebP file (depth 1: inside an ANMF frame). */
static void walk(const uint8_t *p, size_t n, uint32_t w, uint32_t h, int depth)
{
    for (size_t pos = 0; pos + 8 <= n;) {
        const uint8_t *c = p + pos, *d = c + 8;
        size_t size = le24(c + 4) | (size_t)c[7] << 24;
        if (size > n - pos - 8)
            size = n - pos - 8;
        size_t next = pos + 8 + size + (size & 1);
        if (memcmp(c, "VP8X", 4) == 0 && size >= 10 && depth == 0) {
            w = le24(d + 4) + 1;
            h = le24(d + 7) + 1;
        } else if (memcmp(c, "ANMF", 4) == 0 && size >= 16 && depth == 0) {
            walk(d + 16, size - 16, le24(d + 6) + 1, le24(d + 9) + 1, 1);
        } else if (memcmp(c, "VP8L", 4) == 0) {
            run_vp8l(d, size);
        } else if (memcmp(c, "ALPH", 4) == 0 && size >= 1 && (d[0] & 3) == 1) {
            uint32_t fw = w, fh = h;
            if (fw == 0 && next + 18 <= n && memcmp(p + next, "VP8 ", 4) == 0) {
                const uint8_t *k = p + next + 8;
                fw = ((uint32_t)k[6] | (uint32_t)k[7] << 8) & 0x3fff;
                fh = ((uint32_t)k[8] | (uint32_t)k[9] << 8) & 0x3fff;
            }
            if (fw >= 1 && fh >= 1 && fw <= 16384 && fh <= 16384)
                run(d + 1, size - 1, fw, fh, 1);
        }
        pos = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (pol == NULL) {
        imsafe_policy *p = imsafe_policy_new();
        fuzz_set(p, IMSAFE_OPT_MAX_WORK, VP8L_MAX_WORK);
        pol = fuzz_policy_or_die(p);
        fuzz_mem_install();
    }
    if (size > FUZZ_MAX_INPUT || size < 1)
        return -1;
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        walk(data + 12, size - 12, 0, 0, 0);
    else if (data[0] == 0x2f)
        run_vp8l(data, size);
    else if (size >= 4)
        run(data + 4, size - 4, (((uint32_t)data[0] | (uint32_t)data[1] << 8) & 0x3ff) + 1,
            (((uint32_t)data[2] | (uint32_t)data[3] << 8) & 0x3ff) + 1, 1);
    return 0;
}
