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
 * The scanner behind it (scan.c) finds the same thing in every mode
 * whatever pieces it is fed in, as the output gate feeds a sink's chunks;
 * a self-test on first use pins the reader-located rules of its OUTPUT
 * mode (ZIP end record and central directory, PDF trailer near the end,
 * the browsers' 512 bytes, PHP openers followed by text).
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

/* Whole buffer and pieces of every size give the same first hit. */
static void check_scan(const uint8_t *data, size_t size)
{
    static const enum imsafe__scan_mode modes[] = {IMSAFE__SCAN_TAIL, IMSAFE__SCAN_OUTPUT,
                                                   IMSAFE__SCAN_PAYLOAD};
    size_t piece = 1 + fuzz_hash(data, size) % 700;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct imsafe__scan_hit a, b;
        struct imsafe__scan s;
        int ha = imsafe__scan_buf(data, size, modes[m], &a);
        imsafe__scan_init(&s, modes[m]);
        /* PAYLOAD judges offset 0 on the first piece: give it the whole */
        size_t step = modes[m] == IMSAFE__SCAN_PAYLOAD ? size : piece;
        for (size_t off = 0; off < size; off += step)
            imsafe__scan_feed(&s, data + off, size - off < step ? size - off : step);
        int hb = imsafe__scan_end(&s, &b);
        if (ha != hb || (ha && (a.reason != b.reason || a.offset != b.offset)))
            fuzz_fail("scan mode %d: whole buffer %d@%llu, pieces of %zu %d@%llu", (int)modes[m],
                      ha, (unsigned long long)a.offset, piece, hb, (unsigned long long)b.offset);
        if (ha && (a.offset >= size || a.what == NULL ||
                   strncmp(imsafe_reason_name(a.reason), "polyglot.", 9) != 0))
            fuzz_fail("scan mode %d: a hit at %llu of %zu, reason %d", (int)modes[m],
                      (unsigned long long)a.offset, size, (int)a.reason);
    }
}

/* buf = filler ('.' then bytes no signature starts with) + what at off. */
static int out_hit(size_t total, size_t off, const void *what, size_t len)
{
    static uint8_t buf[140000];
    if (total > sizeof buf || off + len > total)
        fuzz_fail("scan self-test: bad case");
    for (size_t i = 0; i < total; i++)
        buf[i] = (uint8_t)(0x80 + i % 64); /* binary, no signature's first byte */
    memcpy(buf + off, what, len);
    return imsafe__scan_buf(buf, total, IMSAFE__SCAN_OUTPUT, NULL);
}

static void scan_self_test(void)
{
    /* a stored ZIP holding "a" as "x": local header, central header, end */
    static const uint8_t zip[] =
        "PK\3\4\x0a\0\0\0\0\0\0\0\0\0\x43\xbe\xb7\xe8\1\0\0\0\1\0\0\0\1\0\0\0xa"
        "PK\1\2\x1e\3\x0a\0\0\0\0\0\0\0\0\0\x43\xbe\xb7\xe8\1\0\0\0\1\0\0\0\1\0"
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0x"
        "PK\5\6\0\0\0\0\1\0\1\0\x2f\0\0\0\x20\0\0\0\0\0";
    static const uint8_t end_only[] = "PK\5\6\0\0\0\0\1\0\1\0\x2f\0\0\0\x20\0\0\0\0\0";
    static const struct {
        size_t total, off;
        const char *what;
        size_t len;
        int hit;
    } cases[] = {
        {4000, 1000, (const char *)zip, sizeof zip - 1, 1},
        {4000, 1000 + 32, (const char *)zip + 32, sizeof zip - 1 - 32, 1}, /* no local header */
        {4000, 1000, (const char *)end_only, sizeof end_only - 1, 0},      /* leads nowhere */
        {139000, 1000 + 32, (const char *)zip + 32, sizeof zip - 1 - 32, 0}, /* out of reach */
        {4000, 3000, "%%EOF", 5, 1},
        {4000, 1000, "%%EOF", 5, 0},
        {4000, 2000, "%PDF-1.7", 8, 1},
        {4000, 100, "<b>", 3, 1},
        {4000, 600, "<b>", 3, 0},
        {4000, 3000, "<ScRiPt", 7, 1},
        {4000, 2000, "<?= `id`?>", 10, 1},
        {4000, 2000, "<?=\x90\x91\x92", 6, 0},
        {4000, 2000, "<?php\nsystem(1);", 16, 1},
        {4000, 2000, "<?php\x90", 6, 0},
        {4000, 2000, "<% eval request(0) %>", 21, 1},
        {4000, 2000, "<%\x90", 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (out_hit(cases[i].total, cases[i].off, cases[i].what, cases[i].len) != cases[i].hit)
            fuzz_fail("scan self-test case %zu: expected %s", i, cases[i].hit ? "a hit" : "none");
}

/* Sniffing reads the head; the tail check scans every byte against every
 * signature.  64 KiB reaches every offset rule and keeps the run fast. */
#define SNIFF_MAX_INPUT (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_policy *pol;
    if (pol == NULL) {
        pol = fuzz_policy_or_die(imsafe_policy_new());
        scan_self_test();
    }
    if (size > SNIFF_MAX_INPUT)
        return 0;
    check_sniff(data, size);
    check_tail(pol, data, size);
    check_scan(data, size);
    return 0;
}
