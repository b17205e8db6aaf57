/*
 * fuzz_zip.c - ZIP (and the ZIP-based document types) and gzip inspection
 * through imsafe_sanitize().  Inputs that do not sniff as one of those are
 * refused so the fuzzer stays in zip.c.  The policy is the default one
 * with JAR and APK passed after inspection (the default rejects them
 * before zip.c runs), nesting allowed 3 deep; inputs whose hash is odd run
 * with encrypted entries allowed, so both branches are reached.
 *
 * Properties: inspection never produces output (a passed archive is the
 * caller's own bytes); a rejection has one reason; the memory budget holds
 * (entry sizes and the central directory are attacker-chosen numbers).
 */
#include "fuzz_common.h"

static int is_zip_family(imsafe_type t)
{
    switch (t) {
    case IMSAFE_TYPE_ZIP:
    case IMSAFE_TYPE_DOCX:
    case IMSAFE_TYPE_XLSX:
    case IMSAFE_TYPE_PPTX:
    case IMSAFE_TYPE_ODF:
    case IMSAFE_TYPE_EPUB:
    case IMSAFE_TYPE_JAR:
    case IMSAFE_TYPE_APK:
    case IMSAFE_TYPE_GZIP:
        return 1;
    default:
        return 0;
    }
}

static imsafe_policy *zip_policy(int encrypted)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || imsafe_policy_set_action(p, IMSAFE_TYPE_JAR, IMSAFE_ACTION_PASS) != IMSAFE_OK ||
        imsafe_policy_set_action(p, IMSAFE_TYPE_APK, IMSAFE_ACTION_PASS) != IMSAFE_OK)
        fuzz_fail("cannot build the zip policy");
    fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_DEPTH, 3);
    fuzz_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, FUZZ_MAX_MEMORY);
    fuzz_set(p, IMSAFE_OPT_ALLOW_ENCRYPTED, encrypted);
    return fuzz_policy_or_die(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol[2];
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        pol[0] = zip_policy(0);
        pol[1] = zip_policy(1);
    }
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (!is_zip_family(imsafe__sniff(data, size)))
        return -1;
    imsafe_result *res = fuzz_sanitize_once(ctx, pol[fuzz_hash(data, size) & 1], data, size, NULL, NULL);
    if (imsafe_result_verdict(res) == IMSAFE_SANITIZED)
        fuzz_fail("archive inspection produced output");
    imsafe_result_free(res);
    return 0;
}
