/*
 * fuzz_sniff.c - content sniffing (imsafe__sniff) and the trailing-bytes
 * check (imsafe__check_tail) that every image module runs on what follows
 * its end marker.  Both read attacker bytes at attacker-chosen offsets; the
 * input buffer has exactly `size` bytes, so ASan sees any read past it.
 *
 * Properties: the type is in range, has a name that maps back to it, and
 * is the same when sniffed twice; the tail check rejects with a polyglot.*
 * reason exactly when it says so, and rejects whenever the tail holds an
 * archive, ELF or PDF signature anywhere (an independent naive search).
 */
#include "fuzz_common.h"

static int contains(const uint8_t *p, size_t n, const char *sig, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(p + i, sig, len) == 0)
            return 1;
    return 0;
}

static void check_sniff(const uint8_t *data, size_t size)
{
    imsafe_type t = imsafe__sniff(data, size);
    if ((int)t < 0 || (int)t >= IMSAFE_TYPE_COUNT)
        fuzz_fail("sniff returned type %d", (int)t);
    if (imsafe__sniff(data, size) != t)
        fuzz_fail("sniffing the same bytes twice gives two types");
    const char *name = imsafe_type_name(t);
    if (name == NULL || imsafe_type_from_name(name) != (int)t)
        fuzz_fail("type %d has no name that maps back to it", (int)t);
    enum imsafe__class c = imsafe__type_class(t);
    if ((int)c < IMSAFE_CLASS_UNKNOWN || (int)c > IMSAFE_CLASS_TEXT)
        fuzz_fail("type %s has class %d", name, (int)c);
    if (size == 0 && t != IMSAFE_TYPE_UNKNOWN)
        fuzz_fail("an empty payload sniffs as %s", name);
}

static void check_tail(const imsafe_policy *pol, const uint8_t *data, size_t size)
{
    struct imsafe__job job;
    memset(&job, 0, sizeof job);
    job.policy = pol;
    job.budget = FUZZ_MAX_MEMORY;
    imsafe__buf_init(&job.out, &job);
    int rc = imsafe__check_tail(&job, data, size);
    const char *rn = imsafe_reason_name(job.reason);
    if (rc == 1 && (job.verdict != IMSAFE_REJECTED || rn == NULL ||
                    strncmp(rn, "polyglot.", 9) != 0))
        fuzz_fail("the tail check rejected without a polyglot.* reason");
    if (rc == 0 && job.verdict != 0)
        fuzz_fail("the tail check accepted but set verdict %d", (int)job.verdict);
    if (rc == 0 && size > 0 && (job.note_count != 1 || job.notes[0] != IMSAFE_R_NOTE_TRAILING_DROPPED))
        fuzz_fail("dropped trailing bytes without note.trailing_dropped");
    if (rc != 0 && rc != 1)
        fuzz_fail("the tail check returned %d", rc);
    static const char *const must[] = {"PK\3\4", "PK\5\6", "PK\1\2", "\177ELF", "%PDF-"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (rc == 0 && contains(data, size, must[i], strlen(must[i])))
            fuzz_fail("a tail holding signature %zu was accepted", i);
    fuzz_fold(job.detail, strnlen(job.detail, sizeof job.detail));
    if (job.detail[sizeof job.detail - 1] != '\0')
        fuzz_fail("the detail is not terminated");
}

/* Sniffing reads the head; the tail check scans every byte against every
 * signature.  64 KiB reaches every offset rule and keeps the run fast. */
#define SNIFF_MAX_INPUT (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_policy *pol;
    if (pol == NULL)
        pol = fuzz_policy_or_die(imsafe_policy_new());
    if (size > SNIFF_MAX_INPUT)
        return 0;
    check_sniff(data, size);
    check_tail(pol, data, size);
    return 0;
}
