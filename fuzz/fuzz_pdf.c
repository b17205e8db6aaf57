/*
 * fuzz_pdf.c - the PDF scan (libimsafe/pdf.c) through imsafe_sanitize().
 *
 * Three policies, picked by the input's hash: the defaults; active content
 * and encryption passed (so the second, dictionary-only pass over an
 * encrypted file and the whole scan of an active one run to the end); and
 * small stream limits and work (max_archive_entry_bytes 64 KiB,
 * max_archive_bytes 256 KiB, max_work 2000000), so every limit path is
 * reached without slow inputs.  Inputs that do not sniff as PDF are
 * refused so the fuzzer stays in the scanner.
 *
 * Properties: a PDF is never rebuilt (no output, verdict passed or
 * rejected); a rejection carries one of the reasons the scan gives
 * (type.active_content, type.encrypted, malformed.pdf,
 * limit.decompressed_bytes, limit.work, limit.memory); the same call twice
 * gives the same verdict, reason and detail (no state leaks between
 * calls); the memory budget holds (decoded streams are attacker-sized).
 */
#include "fuzz_common.h"

static imsafe_policy *pdf_policy(int variant)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL)
        fuzz_fail("cannot build the pdf policy");
    fuzz_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, FUZZ_MAX_MEMORY);
    if (variant == 1) {
        fuzz_set(p, IMSAFE_OPT_PDF_ACTIVE, IMSAFE_PDF_ACTIVE_PASS);
        fuzz_set(p, IMSAFE_OPT_PDF_ENCRYPTED, IMSAFE_PDF_ENCRYPTED_PASS);
    } else if (variant == 2) {
        fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES, 64 << 10);
        fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_BYTES, 256 << 10);
        fuzz_set(p, IMSAFE_OPT_MAX_WORK, 2000000);
    } else {
        /* a bomb within the default limits would be slow, not wrong */
        fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES, 16 << 20);
        fuzz_set(p, IMSAFE_OPT_MAX_ARCHIVE_BYTES, 64 << 20);
    }
    return fuzz_policy_or_die(p);
}

/* What the PDF scan rejects for, and what the scan of every passed
 * payload adds (an archive, executable or script where its reader looks:
 * polyglot.*) */
static int expected_reason(imsafe_reason r)
{
    const char *name = imsafe_reason_name(r);
    return r == IMSAFE_R_TYPE_ACTIVE_CONTENT || r == IMSAFE_R_TYPE_ENCRYPTED ||
           r == IMSAFE_R_MALFORMED_PDF || r == IMSAFE_R_LIMIT_DECOMPRESSED_BYTES ||
           r == IMSAFE_R_LIMIT_WORK || r == IMSAFE_R_LIMIT_MEMORY ||
           (name != NULL && strncmp(name, "polyglot.", 9) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol[3];
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        for (int i = 0; i < 3; i++)
            pol[i] = pdf_policy(i);
    }
    if (size > FUZZ_MAX_INPUT || imsafe__sniff(data, size) != IMSAFE_TYPE_PDF)
        return -1;
    const imsafe_policy *p = pol[fuzz_hash(data, size) % 3];
    imsafe_result *res = fuzz_sanitize_once(ctx, p, data, size, NULL, NULL);
    imsafe_verdict v = imsafe_result_verdict(res);
    imsafe_reason r = imsafe_result_reason(res);
    if (v == IMSAFE_SANITIZED)
        fuzz_fail("a PDF was rebuilt");
    if (v == IMSAFE_REJECTED && !expected_reason(r))
        fuzz_fail("a PDF rejected with %s (%s)", imsafe_reason_name(r), imsafe_result_detail(res));
    imsafe_result *again = fuzz_sanitize_once(ctx, p, data, size, NULL, NULL);
    if (imsafe_result_verdict(again) != v || imsafe_result_reason(again) != r ||
        strcmp(imsafe_result_detail(again), imsafe_result_detail(res)) != 0)
        fuzz_fail("the same PDF judged twice differently (%s, then %s)", imsafe_reason_name(r),
                  imsafe_reason_name(imsafe_result_reason(again)));
    imsafe_result_free(again);
    imsafe_result_free(res);
    return 0;
}
