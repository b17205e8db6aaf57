/*
 * test_api.c - the public API's contract: versions, policy setters and
 * freezing, argument checks, NULL handling, result accessors, ownership.
 */
#include <pthread.h>

#include "testutil.h"

static void test_version(void)
{
    TU_CHECK(imsafe_version_number() == IMSAFE_VERSION_NUMBER, "version number mismatch");
    TU_CHECK(strcmp(imsafe_version_string(), IMSAFE_VERSION_STRING) == 0, "version string");
    TU_CHECK(IMSAFE_VERSION_NUMBER == IMSAFE_VERSION_MAJOR * 1000000 +
                                          IMSAFE_VERSION_MINOR * 1000 + IMSAFE_VERSION_PATCH,
             "version number scheme");
}

static void test_policy_setters(void)
{
    imsafe_policy *p = imsafe_policy_new();
    int64_t v = 0;
    TU_CHECK(p != NULL, "policy_new");
    TU_CHECK(imsafe_policy_get(p, IMSAFE_OPT_MAX_PIXELS, &v) == IMSAFE_OK && v == 60000000,
             "default max_pixels %lld", (long long)v);
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_MAX_PIXELS, 0) == IMSAFE_EINVAL, "0 pixels accepted");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_JPEG_QUALITY, 101) == IMSAFE_EINVAL, "quality 101");
    TU_CHECK(imsafe_policy_set(p, (imsafe_opt)9999, 1) == IMSAFE_EINVAL, "unknown option");
    TU_CHECK(imsafe_policy_get(p, IMSAFE_OPT_JPEG_QUALITY, &v) == IMSAFE_OK && v == 90,
             "a failed set changed the value");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_JPEG_QUALITY, 75) == IMSAFE_OK, "set quality");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, IMSAFE_ACTION_SANITIZE) == IMSAFE_EINVAL,
             "pdf cannot be sanitized");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PNG, IMSAFE_ACTION_PASS) == IMSAFE_EINVAL,
             "images are never passed raw");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, IMSAFE_ACTION_REJECT) == IMSAFE_OK,
             "reject pdf");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_PDF) == IMSAFE_ACTION_REJECT, "action read back");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, IMSAFE_FEATURE_APNG, "x", 0) == IMSAFE_EINVAL,
             "type and feature at once");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_UNKNOWN, 0, "x", 0) == IMSAFE_EINVAL, "neither");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_GIF, 0, "bad\nmessage", 0) == IMSAFE_EINVAL,
             "control character in message");
    TU_CHECK(imsafe_policy_set_label(p, "prod") == IMSAFE_OK, "label");
    TU_CHECK(imsafe_policy_freeze(p) == IMSAFE_OK && imsafe_policy_is_frozen(p), "freeze");
    TU_CHECK(imsafe_policy_freeze(p) == IMSAFE_OK, "freeze twice");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_JPEG_QUALITY, 80) == IMSAFE_EBUSY, "frozen set");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, IMSAFE_ACTION_PASS) == IMSAFE_EBUSY,
             "frozen action");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, NULL, 0) == IMSAFE_EBUSY, "frozen kill");
    TU_CHECK(imsafe_policy_set_label(p, "x") == IMSAFE_EBUSY, "frozen label");
    TU_CHECK(imsafe_policy_get(p, IMSAFE_OPT_JPEG_QUALITY, &v) == IMSAFE_OK && v == 75,
             "get on frozen");
    TU_CHECK(imsafe_policy_ref(p) == p, "ref");
    imsafe_policy_unref(p);
    imsafe_policy_unref(p);
    imsafe_policy_unref(NULL);
    TU_CHECK(imsafe_policy_ref(NULL) == NULL, "ref NULL");
}

static void test_null_handling(void)
{
    imsafe_result *r = (imsafe_result *)1;
    imsafe_policy *p = tu_policy(NULL), *unfrozen = imsafe_policy_new();
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_allocator half = {NULL, NULL, NULL};
    TU_CHECK(imsafe_ctx_new(&half) == NULL, "allocator without functions accepted");
    TU_CHECK(imsafe_sanitize(NULL, p, "x", 1, NULL, NULL, &r) == IMSAFE_EINVAL && r == NULL,
             "NULL ctx");
    TU_CHECK(imsafe_sanitize(ctx, NULL, "x", 1, NULL, NULL, &r) == IMSAFE_EINVAL, "NULL policy");
    TU_CHECK(imsafe_sanitize(ctx, unfrozen, "x", 1, NULL, NULL, &r) == IMSAFE_EINVAL,
             "unfrozen policy");
    TU_CHECK(imsafe_sanitize(ctx, p, NULL, 5, NULL, NULL, &r) == IMSAFE_EINVAL, "NULL input");
    TU_CHECK(imsafe_sanitize(ctx, p, "x", 1, NULL, NULL, NULL) == IMSAFE_EINVAL, "NULL res");
    TU_CHECK(imsafe_sanitize(ctx, p, NULL, 0, NULL, NULL, &r) == IMSAFE_OK &&
                 imsafe_result_reason(r) == IMSAFE_R_MALFORMED_EMPTY,
             "empty input is a rejection, not an error");
    imsafe_result_free(r);
    TU_CHECK(imsafe_result_verdict(NULL) == IMSAFE_REJECTED, "verdict(NULL)");
    TU_CHECK(strcmp(imsafe_result_detail(NULL), "") == 0, "detail(NULL)");
    TU_CHECK(imsafe_result_output(NULL, NULL) == NULL, "output(NULL)");
    imsafe_result_free(NULL);
    imsafe_ctx_free(NULL);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    imsafe_policy_unref(unfrozen);
}

static void test_names(void)
{
    const char *seen[8] = {0};
    for (int s = 0; s <= IMSAFE_ESYNTAX; s++) {
        seen[s] = imsafe_strerror((imsafe_status)s);
        for (int k = 0; k < s; k++)
            TU_CHECK(strcmp(seen[k], seen[s]) != 0, "status %d and %d share a text", k, s);
    }
    TU_CHECK(strcmp(imsafe_strerror((imsafe_status)77), "unknown status") == 0, "unknown status");
    TU_CHECK(strcmp(imsafe_verdict_name(IMSAFE_SANITIZED), "sanitized") == 0 &&
                 strcmp(imsafe_verdict_name(IMSAFE_PASSED), "passed") == 0 &&
                 strcmp(imsafe_verdict_name(IMSAFE_REJECTED), "rejected") == 0,
             "verdict names");
    for (int f = 1; f < IMSAFE_FEATURE_COUNT; f++)
        TU_CHECK(imsafe_feature_name((imsafe_feature)f) != NULL, "feature %d has no name", f);
}

/* A real PNG end to end: output owned by the result, type, label, peak. */
static void test_sanitize_png(void)
{
    char path[4096];
    tu_fmt(path, "%s/pngsuite/basn2c08.png", tu_env("IMSAFE_CORPUS"));
    size_t n;
    unsigned char *in = tu_read_file(path, &n);
    if (in == NULL)
        tu_die("corpus file basn2c08.png missing");
    imsafe_policy *p = imsafe_policy_new();
    imsafe_policy_set_label(p, "api-test");
    imsafe_policy_freeze(p);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_result *r = tu_sanitize(ctx, p, in, n, "holiday.png", "image/png");
    size_t olen;
    const unsigned char *out = imsafe_result_output(r, &olen);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_SANITIZED, "basn2c08 not sanitized: %s",
             imsafe_result_detail(r));
    TU_CHECK(imsafe_result_type(r) == IMSAFE_TYPE_PNG, "type");
    TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_NONE, "accepted with a reason");
    TU_CHECK(out != NULL && olen > 8 && memcmp(out, "\x89PNG", 4) == 0, "output is a PNG");
    TU_CHECK(out != in, "output is a new buffer");
    TU_CHECK(imsafe_result_peak_bytes(r) > 0, "peak not reported");
    TU_CHECK(strcmp(imsafe_result_policy_label(r), "api-test") == 0, "label");
    TU_CHECK(strcmp(imsafe_result_display_name(r), "holiday.png") == 0, "display name");
    /* the result outlives the context and the policy */
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    TU_CHECK(memcmp(imsafe_result_output(r, NULL), "\x89PNG", 4) == 0, "output after ctx free");
    imsafe_result_free(r);
    free(in);
}

/* Details are printable ASCII and rejections carry no output, over every
 * corrupt PngSuite file. */
static void test_details(void)
{
    static const char *const bad[] = {"xc1n0g08", "xc9n2c08", "xcrn0g04", "xcsn0g01", "xd0n2c08",
                                      "xd3n2c08", "xd9n2c08", "xdtn0g01", "xhdn0g08", "xlfn0g04",
                                      "xs1n0g01", "xs2n0g01", "xs4n0g01", "xs7n0g01"};
    imsafe_policy *p = tu_policy(NULL);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[4096];
        tu_fmt(path, "%s/pngsuite/%s.png", tu_env("IMSAFE_CORPUS"), bad[i]);
        size_t n, olen;
        unsigned char *in = tu_read_file(path, &n);
        if (in == NULL)
            tu_die("corpus file missing");
        imsafe_result *r = tu_sanitize(ctx, p, in, n, bad[i], NULL);
        const char *d = imsafe_result_detail(r);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_REJECTED, "%s accepted", bad[i]);
        TU_CHECK(imsafe_result_reason(r) != IMSAFE_R_NONE, "%s: no reason", bad[i]);
        TU_CHECK(imsafe_result_output(r, &olen) == NULL && olen == 0, "%s: output", bad[i]);
        TU_CHECK(imsafe_result_note_count(r) == 0, "%s: a rejection with notes", bad[i]);
        TU_CHECK(*d != '\0', "%s: empty detail", bad[i]);
        for (const char *c = d; *c; c++)
            TU_CHECK(*c >= 0x20 && *c <= 0x7e, "%s: detail byte 0x%02x", bad[i], (unsigned char)*c);
        imsafe_result_free(r);
        free(in);
    }
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
}

/* Input bytes never reach the detail: a name and MIME full of controls and
 * a payload of text that a careless detail would echo. */
static void test_no_echo(void)
{
    imsafe_policy *p = tu_policy(NULL);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    const char payload[] = "<html><script>alert('ECHOED-PAYLOAD')</script></html>";
    imsafe_result *r = tu_sanitize(ctx, p, payload, sizeof payload - 1, "ECHOED-NAME.gif",
                                   "ECHOED/MIME");
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_REJECTED, "html named gif accepted");
    TU_CHECK(strstr(imsafe_result_detail(r), "ECHOED") == NULL, "detail echoes input: %s",
             imsafe_result_detail(r));
    imsafe_result_free(r);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
}

/* imsafe_sanitize_to(): arguments, a sink failing at every write in turn
 * (ESINK, no result, no leak, the context still usable), and no write for
 * a payload passed or rejected before any rebuild. */
static void sink_fail_each(imsafe_ctx *ctx, const imsafe_policy *p, const char *rel)
{
    char path[4096];
    tu_fmt(path, "%s/%s", tu_env("IMSAFE_CORPUS"), rel);
    size_t n;
    unsigned char *in = tu_read_file(path, &n);
    if (in == NULL)
        tu_die("corpus file for the sink test missing");
    struct tu_sink all = {0};
    imsafe_sink sink = {tu_sink_write, &all, 512, NULL};
    imsafe_result *r = NULL;
    TU_CHECK(imsafe_sanitize_to(ctx, p, in, n, NULL, NULL, &sink, &r) == IMSAFE_OK &&
                 imsafe_result_verdict(r) == IMSAFE_SANITIZED && all.calls >= 3,
             "%s: sanitized through the sink in several writes (%zu)", rel, all.calls);
    imsafe_result_free(r);
    for (size_t k = 1; k <= all.calls; k++) {
        struct tu_sink s = {.fail_at = k};
        sink.opaque = &s;
        r = (imsafe_result *)1;
        imsafe_status st = imsafe_sanitize_to(ctx, p, in, n, NULL, NULL, &sink, &r);
        TU_CHECK(st == IMSAFE_ESINK && r == NULL, "%s: write %zu failing gives %s", rel, k,
                 imsafe_strerror(st));
        TU_CHECK(s.calls == k, "%s: the call went on after write %zu failed (%zu)", rel, k,
                 s.calls);
        free(s.p);
    }
    free(all.p);
    free(in);
}

static void test_sink(void)
{
    imsafe_policy *p = tu_policy("action webp = pass");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    struct tu_sink s = {0};
    imsafe_sink sink = {tu_sink_write, &s, 0, NULL};
    imsafe_result *r = (imsafe_result *)1;
    TU_CHECK(imsafe_sanitize_to(ctx, p, "x", 1, NULL, NULL, NULL, &r) == IMSAFE_EINVAL &&
                 r == NULL, "NULL sink");
    sink.write = NULL;
    TU_CHECK(imsafe_sanitize_to(ctx, p, "x", 1, NULL, NULL, &sink, &r) == IMSAFE_EINVAL,
             "NULL write");
    sink.write = tu_sink_write;
    sink.chunk_bytes = 511;
    TU_CHECK(imsafe_sanitize_to(ctx, p, "x", 1, NULL, NULL, &sink, &r) == IMSAFE_EINVAL,
             "chunk below 512");
    sink.chunk_bytes = 16777217;
    TU_CHECK(imsafe_sanitize_to(ctx, p, "x", 1, NULL, NULL, &sink, &r) == IMSAFE_EINVAL,
             "chunk above 16 MiB");
    TU_CHECK(strcmp(imsafe_strerror(IMSAFE_ESINK), "the output sink failed") == 0, "ESINK text");
    sink.chunk_bytes = 0;
    static const char exe[] = "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0PE";
    TU_CHECK(imsafe_sanitize_to(ctx, p, exe, sizeof exe, "a.exe", NULL, &sink, &r) == IMSAFE_OK &&
                 imsafe_result_verdict(r) == IMSAFE_REJECTED && s.calls == 0 &&
                 imsafe_result_output_size(r) == 0,
             "a payload rejected before any rebuild never reaches the sink");
    imsafe_result_free(r);
    static const char webp[] = "RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";
    TU_CHECK(imsafe_sanitize_to(ctx, p, webp, sizeof webp - 1, "a.webp", NULL, &sink, &r) ==
                     IMSAFE_OK &&
                 imsafe_result_verdict(r) == IMSAFE_PASSED && s.calls == 0 &&
                 imsafe_result_output_size(r) == 0,
             "a passed payload never reaches the sink (%s)",
             imsafe_verdict_name(imsafe_result_verdict(r)));
    imsafe_result_free(r);
    sink_fail_each(ctx, p, "pngsuite/basn6a16.png");
    sink_fail_each(ctx, p, "jpeg/libjpeg-turbo/testorig.jpg");
    sink_fail_each(ctx, p, "gif/giflib/pic/welcome2.gif");
    /* after all those failures the context works */
    imsafe_result *ok = NULL;
    TU_CHECK(imsafe_sanitize(ctx, p, exe, sizeof exe, "a.exe", NULL, &ok) == IMSAFE_OK,
             "context usable after sink failures");
    imsafe_result_free(ok);
    free(s.p);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
}

/* Every type has an extension and a MIME type of the right shape; the
 * result reports the output's format, which a GIF-to-PNG policy changes. */
static void test_output_labels(void)
{
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++) {
        const char *e = imsafe_type_ext((imsafe_type)t), *m = imsafe_type_mime((imsafe_type)t);
        TU_CHECK(e != NULL && e[0] != '\0' && strchr(e, '.') == NULL && strlen(e) <= 5,
                 "type %d: extension", t);
        TU_CHECK(m != NULL && strchr(m, '/') != NULL && strchr(m, ' ') == NULL,
                 "type %d: MIME type", t);
    }
    TU_CHECK(strcmp(imsafe_type_ext(IMSAFE_TYPE_JPEG), "jpg") == 0 &&
                 strcmp(imsafe_type_mime(IMSAFE_TYPE_JPEG), "image/jpeg") == 0,
             "jpeg labels");
    TU_CHECK(strcmp(imsafe_type_ext((imsafe_type)IMSAFE_TYPE_COUNT), "bin") == 0 &&
                 strcmp(imsafe_type_mime((imsafe_type)-1), "application/octet-stream") == 0,
             "out-of-range type");
    TU_CHECK(imsafe_result_output_type(NULL) == IMSAFE_TYPE_UNKNOWN &&
                 strcmp(imsafe_result_ext(NULL), "bin") == 0,
             "NULL result");

    char path[4096];
    tu_fmt(path, "%s/gif/giflib/pic/welcome2.gif", tu_env("IMSAFE_CORPUS"));
    size_t n;
    unsigned char *in = tu_read_file(path, &n);
    if (in == NULL)
        tu_die("corpus file welcome2.gif missing");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    static const char *const policies[2] = {"", "gif_to_png = 1"};
    static const imsafe_type want[2] = {IMSAFE_TYPE_GIF, IMSAFE_TYPE_PNG};
    for (int i = 0; i < 2; i++) {
        imsafe_policy *p = tu_policy(policies[i]);
        imsafe_result *r = tu_sanitize(ctx, p, in, n, "sticker.png", "image/png");
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_SANITIZED, "welcome2 (%s): %s", policies[i],
                 imsafe_result_detail(r));
        TU_CHECK(imsafe_result_type(r) == IMSAFE_TYPE_GIF, "identified type stays gif");
        TU_CHECK(imsafe_result_output_type(r) == want[i], "output type (%s)", policies[i]);
        TU_CHECK(strcmp(imsafe_result_ext(r), imsafe_type_ext(want[i])) == 0 &&
                     strcmp(imsafe_result_mime(r), imsafe_type_mime(want[i])) == 0,
                 "output labels (%s)", policies[i]);
        imsafe_result_free(r);
        imsafe_policy_unref(p);
    }
    /* a rejection reports the identified type */
    static const char pdf[] = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    imsafe_policy *p = tu_policy("");
    imsafe_result *r = tu_sanitize(ctx, p, pdf, sizeof pdf - 1, "a.png", NULL);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_REJECTED &&
                 strcmp(imsafe_result_mime(r), "application/pdf") == 0,
             "rejected pdf labelled as what it is (%s, %s)", imsafe_result_mime(r),
             imsafe_result_detail(r));
    imsafe_result_free(r);
    imsafe_policy_unref(p);
    imsafe_ctx_free(ctx);
    free(in);
}

int main(void)
{
    test_version();
    test_policy_setters();
    test_null_handling();
    test_names();
    test_sanitize_png();
    test_details();
    test_no_echo();
    test_sink();
    test_output_labels();
    return tu_finish();
}
