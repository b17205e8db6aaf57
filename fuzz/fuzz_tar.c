/*
 * fuzz_tar.c - the tar walker (libimsafe/tar.c) through imsafe_sanitize():
 * tar alone, and tar inside gzip.  A fuzzer cannot keep a header checksum
 * right, so for three inputs in four the harness recomputes the checksum
 * of every 512-byte block that carries the ustar magic before the call
 * (the walk then reaches the fields behind it); the fourth input goes in
 * as it is, so the checksum check is fuzzed too.  Inputs that are neither
 * tar nor gzip afterwards are refused so the fuzzer stays in the walker.
 *
 * Properties: inspection never produces output (a passed archive is the
 * caller's own bytes); a rejection has one reason; the memory budget
 * holds (member sizes and pax records are attacker-chosen numbers).
 */
#include "fuzz_common.h"

static void fix_checksums(uint8_t *p, size_t n)
{
    for (size_t b = 0; b + 512 <= n; b += 512) {
        uint8_t *h = p + b;
        unsigned sum = 0;
        if (memcmp(h + 257, "ustar", 5) != 0)
            continue;
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
            sum += h[i];
        snprintf((char *)h + 148, 8, "%06o", sum & 0777777u);
    }
}

static imsafe_policy *tar_policy(void)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL)
        fuzz_fail("cannot build the tar policy");
    fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_DEPTH, 3);
    fuzz_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, FUZZ_MAX_MEMORY);
    return fuzz_policy_or_die(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol;
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        pol = tar_policy();
    }
    if (size > FUZZ_MAX_INPUT)
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        fuzz_fail("out of memory");
    memcpy(copy, data, size);
    if (fuzz_hash(data, size) & 3)
        fix_checksums(copy, size);
    imsafe_type t = imsafe__sniff(copy, size);
    if (t != IMSAFE_TYPE_TAR && t != IMSAFE_TYPE_GZIP) {
        free(copy);
        return -1;
    }
    imsafe_result *res = fuzz_sanitize_once(ctx, pol, copy, size, NULL, NULL);
    if (imsafe_result_verdict(res) == IMSAFE_SANITIZED)
        fuzz_fail("archive inspection produced output");
    imsafe_result_free(res);
    free(copy);
    return 0;
}
