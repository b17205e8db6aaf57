/*
 * fuzz_icc.c - the ICC profile reader and rebuild (libimsafe/icc.c) on raw
 * profiles: imsafe__icc_rebuild() under a 64 MiB budget, for the channels
 * the profile's own header names (or, for one input in four, another
 * count, so the "contradicts its image" paths run too).
 *
 * Properties (besides those of the sanitizers):
 *   - FAILED only with limit.memory on the job, never otherwise;
 *   - every byte the budget charged is released afterwards;
 *   - the heap peak, counted by the malloc shim of fuzz_common.h, stays
 *     within the budget and within what the call charged plus
 *     FUZZ_SLACK_BYTES (Little CMS allocates through our plugin);
 *   - an output is an ICC v2.1 profile of at most 64 KiB whose tag
 *     curves are all parametric ('para'), and every byte of it is read;
 *   - no output holds a signature another reader acts on (ZIP records,
 *     %PDF-, <script, <html, <svg, <?=, <?php) outside the MD5 profile
 *     ID: the numbers we write are bounded so that a sender chooses at
 *     most two bytes in a row;
 *   - the output rebuilt again is of the same kind (canonical stays
 *     canonical, rebuilt stays rebuilt) and byte-identical.
 * Inputs without the 'acsp' signature are refused (-1), so the corpus
 * libFuzzer keeps is profiles.  Seeds: every profile found in the corpora
 * and the fixtures, extracted by fuzz/gen_seeds.py.
 */
#include "fuzz_common.h"

#define ICC_BUDGET (64u << 20)
#define ICC_OUT_MAX 65536u

static void *icc_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return malloc(n);
}

static void icc_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int run(const imsafe_policy *pol, const uint8_t *in, size_t n, int channels,
               uint8_t **copy, size_t *copy_len)
{
    struct imsafe__job job;
    uint8_t *out = NULL;
    size_t len = 0;
    memset(&job, 0, sizeof job);
    job.policy = pol;
    job.alloc.alloc = icc_alloc;
    job.alloc.free = icc_free;
    job.budget = ICC_BUDGET;
    fuzz_mem_start();
    int kind = imsafe__icc_rebuild(&job, in, n, channels, &out, &len);
    uint64_t peak = fuzz_mem_stop();
    if (kind == IMSAFE__ICC_FAILED && job.reason != IMSAFE_R_LIMIT_MEMORY)
        fuzz_fail("the rebuild failed without limit.memory");
    if (kind != IMSAFE__ICC_FAILED && job.verdict != 0)
        fuzz_fail("the rebuild decided the job's verdict");
    if ((kind == IMSAFE__ICC_CANONICAL || kind == IMSAFE__ICC_REBUILT) != (out != NULL))
        fuzz_fail("kind %d with%s output", kind, out != NULL ? "" : "out");
    if (peak > ICC_BUDGET + FUZZ_SLACK_BYTES || peak > job.peak + FUZZ_SLACK_BYTES)
        fuzz_fail("heap peak %llu bytes, charged %llu", (unsigned long long)peak,
                  (unsigned long long)job.peak);
    *copy = NULL;
    *copy_len = len;
    if (out != NULL) {
        fuzz_fold(out, len);
        *copy = malloc(len);
        if (*copy == NULL)
            fuzz_fail("out of memory");
        memcpy(*copy, out, len);
        imsafe__free(&job, out);
    }
    if (job.charged != 0)
        fuzz_fail("%llu bytes still charged after the rebuild", (unsigned long long)job.charged);
    return kind;
}

static int has(const uint8_t *p, size_t n, const char *sig, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(p + i, sig, len) == 0)
            return 1;
    return 0;
}

static void check_output(const uint8_t *o, size_t n)
{
    static const char *const sigs[] = {"PK\x03\x04", "PK\x05\x06", "PK\x01\x02", "%PDF-",
                                       "<script", "<html", "<svg", "<?=", "<?php"};
    if (n < 132 || n > ICC_OUT_MAX || rd32(o) != n || o[8] != 2 || o[9] != 0x10 ||
        memcmp(o + 36, "acsp", 4) != 0)
        fuzz_fail("the output is not an ICC v2.1 profile of sane size (%zu bytes)", n);
    uint32_t count = rd32(o + 128);
    if (count > (n - 132) / 12)
        fuzz_fail("the output's tag table runs past its end");
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = o + 132 + 12 * (size_t)i;
        uint32_t off = rd32(e + 4), size = rd32(e + 8);
        if (off > n || size > n - off || size < 4)
            fuzz_fail("the output's tag %u lies outside it", i);
        if (memcmp(e + 1, "TRC", 3) == 0 && memcmp(o + off, "para", 4) != 0)
            fuzz_fail("the output has a tone curve that is not parametric");
    }
    /* the 16-byte MD5 ID at 84..99 is a hash: skipped */
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        if (has(o, 84, sigs[k], strlen(sigs[k])) || has(o + 100, n - 100, sigs[k], strlen(sigs[k])))
            fuzz_fail("the output holds the signature %zu", k);
    /* and the output gate's own oracle, which every harness applies */
    fuzz_check_gate(o, n, (uint32_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_policy *pol;
    if (pol == NULL) {
        pol = fuzz_policy_or_die(imsafe_policy_new());
        fuzz_mem_install();
    }
    if (size > FUZZ_MAX_INPUT || size < 40 || memcmp(data + 36, "acsp", 4) != 0)
        return -1;
    uint32_t h = fuzz_hash(data, size);
    int channels = size >= 20 && memcmp(data + 16, "GRAY", 4) == 0 ? 1 : 3;
    if (h % 4 == 0)
        channels = 1 + (int)(h >> 8) % 4; /* maybe not the profile's own */
    uint8_t *first, *second;
    size_t len1, len2;
    int k1 = run(pol, data, size, channels, &first, &len1);
    if (first != NULL) {
        check_output(first, len1);
        int k2 = run(pol, first, len1, channels, &second, &len2);
        if (k2 != k1 || len2 != len1 || memcmp(first, second, len1) != 0)
            fuzz_fail("rebuilding our own profile again changes it (kind %d -> %d, %zu -> %zu "
                      "bytes)", k1, k2, len1, len2);
        free(second);
    }
    free(first);
    return 0;
}
