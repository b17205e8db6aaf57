/*
 * test_budget.c - memory: every allocation goes through the caller's
 * allocator and is charged to the call's budget; over budget is a rejection
 * (limit.memory), never a crash; and curl-style torture: allocation N fails,
 * for every N, on small fixtures, through imsafe_sanitize() and through
 * imsafe_sanitize_to() - the call returns ENOMEM or a correct
 * result, and never leaks.
 */
#include "testutil.h"

/* A counting allocator that can fail its Nth call. */
struct counter {
    long calls, fail_at; /* fail_at 0: never */
    long live;           /* blocks not yet freed */
    size_t live_bytes, peak_bytes;
};

struct hdr {
    size_t size;
    size_t pad;
};

static void *c_alloc(void *opaque, size_t n)
{
    struct counter *c = opaque;
    if (++c->calls == c->fail_at)
        return NULL;
    struct hdr *h = malloc(sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    c->live++;
    c->live_bytes += n;
    if (c->live_bytes > c->peak_bytes)
        c->peak_bytes = c->live_bytes;
    return h + 1;
}

static void c_free(void *opaque, void *p)
{
    struct counter *c = opaque;
    if (p == NULL)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    c->live--;
    c->live_bytes -= h->size;
    free(h);
}

static unsigned char *corpus_file(const char *rel, size_t *n)
{
    char path[4096];
    tu_fmt(path, "%s/%s", tu_env("IMSAFE_CORPUS"), rel);
    unsigned char *p = tu_read_file(path, n);
    if (p == NULL)
        tu_die("corpus file missing");
    return p;
}

/* Everything the call allocates goes through our allocator and the budget
 * sees all of it: the allocator's own peak (less the context and result it
 * holds) never exceeds the peak charged to the budget. */
static void test_all_charged(const char *rel)
{
    struct counter c = {0};
    imsafe_allocator a = {c_alloc, c_free, &c};
    imsafe_ctx *ctx = imsafe_ctx_new(&a);
    imsafe_policy *p = tu_policy(NULL);
    size_t n;
    unsigned char *in = corpus_file(rel, &n);
    size_t before = c.live_bytes;
    c.peak_bytes = before;
    imsafe_result *r = tu_sanitize(ctx, p, in, n, NULL, NULL);
    uint64_t charged = imsafe_result_peak_bytes(r);
    size_t seen = c.peak_bytes - before;
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_SANITIZED, "%s not sanitized", rel);
    TU_CHECK(charged > 0, "%s: nothing charged", rel);
    /* the result struct itself is allocated after the budget closes */
    TU_CHECK(seen <= charged + 4096, "%s: allocator saw %zu bytes at once, budget %llu", rel,
             seen, (unsigned long long)charged);
    imsafe_result_free(r);
    imsafe_ctx_free(ctx);
    TU_CHECK(c.live == 0, "%s: %ld blocks leaked", rel, c.live);
    imsafe_policy_unref(p);
    free(in);
}

/* Under the smallest budget (1 MiB) a small interlaced image still fits,
 * and the peak charged never passes the budget.  (Rejections for images
 * that do not fit are asserted on generated fixtures in tests/expect.) */
static void test_small_budget(const char *rel)
{
    struct counter c = {0};
    imsafe_allocator a = {c_alloc, c_free, &c};
    imsafe_ctx *ctx = imsafe_ctx_new(&a);
    imsafe_policy *p = tu_policy("max_memory_bytes = 1 MiB");
    size_t n;
    unsigned char *in = corpus_file(rel, &n);
    imsafe_result *r = tu_sanitize(ctx, p, in, n, NULL, NULL);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_SANITIZED, "%s under 1 MiB: %s", rel,
             imsafe_result_detail(r));
    TU_CHECK(imsafe_result_peak_bytes(r) <= (1 << 20), "%s: peak %llu over the budget", rel,
             (unsigned long long)imsafe_result_peak_bytes(r));
    imsafe_result_free(r);
    imsafe_ctx_free(ctx);
    TU_CHECK(c.live == 0, "%s: %ld blocks leaked", rel, c.live);
    imsafe_policy_unref(p);
    free(in);
}

/* One call with allocation fail_at failing: imsafe_sanitize(), or with
 * streamed set imsafe_sanitize_to() into a 512-byte-chunk sink. */
static imsafe_status call(imsafe_ctx *ctx, const imsafe_policy *p, const void *in, size_t n,
                          int streamed, struct tu_sink *s, imsafe_result **r)
{
    imsafe_sink sink = {tu_sink_write, s, 512, tu_sink_rewind};
    return streamed ? imsafe_sanitize_to(ctx, p, in, n, NULL, NULL, &sink, r)
                    : imsafe_sanitize(ctx, p, in, n, NULL, NULL, r);
}

/* Torture: fail allocation N for N = 1, 2, ... until the call succeeds. */
static void torture(const char *rel, int streamed)
{
    size_t n;
    unsigned char *in = corpus_file(rel, &n);
    imsafe_policy *p = tu_policy(NULL);
    imsafe_ctx *ref_ctx = imsafe_ctx_new(NULL);
    imsafe_result *ref = tu_sanitize(ref_ctx, p, in, n, NULL, NULL);
    size_t ref_len;
    const void *ref_out = imsafe_result_output(ref, &ref_len);
    int done = 0;
    for (long fail = 1; !done && fail < 100000; fail++) {
        struct counter c = {.fail_at = fail + 1}; /* +1: the context's own */
        imsafe_allocator a = {c_alloc, c_free, &c};
        imsafe_ctx *ctx = imsafe_ctx_new(&a);
        imsafe_result *r = NULL;
        struct tu_sink s = {0};
        imsafe_status st = call(ctx, p, in, n, streamed, &s, &r);
        if (st == IMSAFE_OK) {
            size_t len = s.len;
            const void *out = streamed ? s.p : imsafe_result_output(r, &len);
            TU_CHECK(imsafe_result_verdict(r) == imsafe_result_verdict(ref) && len == ref_len &&
                         (len == 0 || memcmp(out, ref_out, len) == 0),
                     "%s: fail at %ld gave another result%s", rel, fail,
                     streamed ? " (streamed)" : "");
            done = c.calls < c.fail_at; /* the failure was never reached */
        } else {
            TU_CHECK(st == IMSAFE_ENOMEM && r == NULL, "%s: fail at %ld: status %s%s", rel, fail,
                     imsafe_strerror(st), streamed ? " (streamed)" : "");
        }
        free(s.p);
        imsafe_result_free(r);
        imsafe_ctx_free(ctx);
        TU_CHECK(c.live == 0, "%s: fail at %ld leaked %ld blocks", rel, fail, c.live);
    }
    TU_CHECK(done, "%s: never succeeded", rel);
    imsafe_result_free(ref);
    imsafe_ctx_free(ref_ctx);
    imsafe_policy_unref(p);
    free(in);
}

int main(void)
{
    static const char *const small[] = {
        "pngsuite/basn0g01.png", "pngsuite/basn0g16.png", "pngsuite/basn2c08.png",
        "pngsuite/basn3p04.png", "pngsuite/basn4a08.png", "pngsuite/basn6a16.png",
        "pngsuite/basi0g08.png", "pngsuite/basi3p02.png", "pngsuite/basi6a08.png",
        "pngsuite/tbbn3p08.png", "pngsuite/tp1n3p08.png", "pngsuite/ccwn2c08.png",
        "pngsuite/g03n2c08.png", "pngsuite/cs3n3p08.png", "pngsuite/ct1n0g04.png",
        "pngsuite/z09n2c08.png", "pngsuite/s01i3p01.png", "pngsuite/f04n2c08.png",
        "pngsuite/xcsn0g01.png", "pngsuite/xdtn0g01.png",
        /* APNG kept animated: a palette remapped per frame, split fdAT */
        "png-extra/pillow/apng/mode_palette_alpha.png", "png-extra/pillow/apng/split_fdat.png",
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        torture(small[i], 0);
        torture(small[i], 1);
        if (small[i][9] != 'x')
            test_all_charged(small[i]);
    }
    test_small_budget("pngsuite/basi6a16.png");
    test_small_budget("pngsuite/PngSuite.png");
    return tu_finish();
}
