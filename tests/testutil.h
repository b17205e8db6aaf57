/*
 * testutil.h - tiny helpers shared by the C tests (header-only).
 * A test counts its checks and ends with tu_finish(): "N passed, N failed",
 * exit 0 when nothing failed, 1 otherwise (99 for a hard error).
 */
#ifndef IMSAFE_TESTUTIL_H
#define IMSAFE_TESTUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imsafe.h"
#include "webp_walk.h"

static int tu_passed, tu_failed;

#define TU_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (cond) {                                                            \
            tu_passed++;                                                       \
        } else {                                                               \
            tu_failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A small deterministic generator (xorshift64) for property tests. */
struct tu_rng {
    uint64_t s;
};

static inline uint32_t tu_next(struct tu_rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 11);
}

static inline int tu_finish(void)
{
    printf("%d passed, %d failed\n", tu_passed, tu_failed);
    return tu_failed ? 1 : 0;
}

static inline void tu_die(const char *msg)
{
    fprintf(stderr, "hard error: %s\n", msg);
    exit(99);
}

/* snprintf into an array, dying when it does not fit (a test's paths come
 * from the environment). */
#define tu_fmt(buf, ...)                                                       \
    do {                                                                       \
        if (snprintf(buf, sizeof buf, __VA_ARGS__) >= (int)sizeof buf)         \
            tu_die("formatted path too long");                                 \
    } while (0)

/* Environment paths set by the Makefile (AM_TESTS_ENVIRONMENT). */
static inline const char *tu_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "hard error: %s is not set (run through make check)\n", name);
        exit(99);
    }
    return v;
}

/* Read a whole file; NULL (errno set) on failure.  Caller frees. */
static inline unsigned char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        unsigned char *nb = realloc(buf, cap);
        if (nb == NULL)
            free(buf);
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

static inline int tu_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* A frozen policy from policy text (NULL text: the defaults). */
static inline imsafe_policy *tu_policy(const char *text)
{
    imsafe_policy *p = imsafe_policy_new();
    char err[256];
    if (p == NULL)
        tu_die("imsafe_policy_new");
    if (text != NULL &&
        imsafe_policy_parse(p, text, strlen(text), "test", err, sizeof err) != IMSAFE_OK) {
        fprintf(stderr, "policy text: %s\n", err);
        tu_die("bad policy text in test");
    }
    imsafe_policy_freeze(p);
    return p;
}

/* Sanitize a buffer; dies on a status other than OK. */
static inline imsafe_result *tu_sanitize(imsafe_ctx *ctx, const imsafe_policy *p,
                                         const void *in, size_t n, const char *name,
                                         const char *mime)
{
    imsafe_result *r = NULL;
    imsafe_status st = imsafe_sanitize(ctx, p, in, n, name, mime, &r);
    if (st != IMSAFE_OK || r == NULL) {
        fprintf(stderr, "imsafe_sanitize: %s\n", imsafe_strerror(st));
        tu_die("sanitize failed");
    }
    return r;
}

/* A sink that collects what it is given; fails on write number fail_at
 * (counting from 1; 0 = never). */
struct tu_sink {
    unsigned char *p;
    size_t len, cap, calls, max_piece, fail_at, rewinds;
};

/* imsafe_sink.rewind: forget what was written. */
static inline int tu_sink_rewind(void *opaque)
{
    struct tu_sink *s = opaque;
    s->len = 0;
    s->rewinds++;
    return 0;
}

static inline int tu_sink_write(void *opaque, const void *data, size_t len)
{
    struct tu_sink *s = opaque;
    s->calls++;
    if (s->fail_at != 0 && s->calls == s->fail_at)
        return -1;
    if (len > s->max_piece)
        s->max_piece = len;
    if (s->len + len > s->cap) {
        size_t cap = (s->len + len) * 2;
        unsigned char *np = realloc(s->p, cap);
        if (np == NULL)
            tu_die("out of memory");
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, len);
    s->len += len;
    return 0;
}

static inline void tu_check_sink_one(imsafe_ctx *ctx, const imsafe_policy *p, const void *in,
                                     size_t n, const char *name, const char *mime,
                                     const imsafe_result *r, size_t chunk, int rewinds,
                                     const char *where)
{
    struct tu_sink s = {0};
    imsafe_sink sink = {tu_sink_write, &s, chunk, rewinds ? tu_sink_rewind : NULL};
    imsafe_result *r2 = NULL;
    imsafe_status st = imsafe_sanitize_to(ctx, p, in, n, name, mime, &sink, &r2);
    size_t olen;
    const unsigned char *out = imsafe_result_output(r, &olen);
    int ok = st == IMSAFE_OK && imsafe_result_verdict(r2) == imsafe_result_verdict(r) &&
             imsafe_result_type(r2) == imsafe_result_type(r) &&
             imsafe_result_reason(r2) == imsafe_result_reason(r) &&
             imsafe_result_note_count(r2) == imsafe_result_note_count(r) &&
             imsafe_result_output(r2, NULL) == NULL &&
             /* a limit.memory detail counts bytes, which a sink changes */
             (imsafe_result_verdict(r) != IMSAFE_SANITIZED ||
              strcmp(imsafe_result_detail(r2), imsafe_result_detail(r)) == 0);
    for (size_t i = 0; ok && i < imsafe_result_note_count(r); i++)
        ok = imsafe_result_note(r2, i) == imsafe_result_note(r, i);
    if (ok && imsafe_result_verdict(r) == IMSAFE_SANITIZED)
        ok = s.len == olen && imsafe_result_output_size(r2) == olen &&
             imsafe_result_output_size(r) == olen && memcmp(s.p, out, olen) == 0 &&
             s.max_piece <= chunk;
    if (ok && imsafe_result_verdict(r) == IMSAFE_PASSED)
        ok = s.calls == 0 && imsafe_result_output_size(r2) == 0;
    /* without rewind the sink never sees a first encoding the gate refused */
    if (ok && !rewinds)
        ok = s.rewinds == 0 && (imsafe_result_verdict(r) == IMSAFE_SANITIZED || s.calls == 0);
    if (!ok) {
        tu_failed++;
        fprintf(stderr, "FAIL %s: imsafe_sanitize_to (chunk %zu, %s rewind) differs: status %s, "
                "%s %s, %zu bytes in %zu writes, expected %zu\n", where, chunk,
                rewinds ? "with" : "without", imsafe_strerror(st),
                imsafe_verdict_name(imsafe_result_verdict(r2)),
                imsafe_reason_name(imsafe_result_reason(r2)), s.len, s.calls, olen);
    } else {
        tu_passed++;
    }
    imsafe_result_free(r2);
    free(s.p);
}

/* imsafe_sanitize_to() with a small chunk gives what r (from
 * imsafe_sanitize) says: same verdict, type, reason, notes, detail, and for
 * a sanitized payload the same bytes, in pieces of at most the chunk;
 * through a sink with rewind (streamed) and one without (held until the
 * output gate passed it). */
static inline void tu_check_sink(imsafe_ctx *ctx, const imsafe_policy *p, const void *in,
                                 size_t n, const char *name, const char *mime,
                                 const imsafe_result *r, size_t chunk, const char *where)
{
    tu_check_sink_one(ctx, p, in, n, name, mime, r, chunk, 1, where);
    tu_check_sink_one(ctx, p, in, n, name, mime, r, chunk, 0, where);
}

static inline int tu_has_note(const imsafe_result *r, imsafe_reason note)
{
    for (size_t i = 0; i < imsafe_result_note_count(r); i++)
        if (imsafe_result_note(r, i) == note)
            return 1;
    return 0;
}

#endif
