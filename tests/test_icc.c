/*
 * test_icc.c - the ICC rebuild (libimsafe/icc.c) on profiles made here with
 * Little CMS, and on the profiles of the corpora.
 *
 *   test_icc                        unit checks (below)
 *   test_icc --classify FILE...     each FILE a raw profile (extracted from a
 *                                   corpus image by tests/verify_icc.py):
 *                                   prints "kind<TAB>file", checks the fixpoint
 *   test_icc --sanitize OUTDIR FILE...  sanitizes each image with the default
 *                                   policy, writes accepted outputs to OUTDIR
 *                                   and "input<TAB>output" lines to stdout
 *
 * Every output must be ICC v2.1 with parametric curves only, hold only the
 * tags a matrix/TRC profile renders with, give Little CMS a working
 * transform, and rebuild to itself byte for byte.
 *
 * Unit checks: the spaces people send are recognised and written as our
 * canonical copy whatever their curves' form (parametric or a table);
 * other matrix/TRC profiles are rebuilt with the sender's colorants and
 * fitted parametric curves; LUT-based, device-link, abstract, CMYK and
 * image-contradicting profiles are dropped; a table curve that spells text
 * is never copied; bytes hidden in a profile (a ZIP, a PDF header, HTML)
 * never reach the output; every output is ICC v2.1, has only parametric
 * curves, and rebuilds to itself byte for byte; a small budget rejects
 * with limit.memory and nothing leaks.
 *
 * Links the static libimsafe (the rebuild is internal).
 */
#include <lcms2.h>

#include "imsafe_private.h"
#include "testutil.h"

/* ------------------------------------------------------------ the job */

static void *plain_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return malloc(n);
}

static void plain_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static imsafe_policy *policy(void)
{
    static imsafe_policy *p;
    if (p == NULL && ((p = imsafe_policy_new()) == NULL || imsafe_policy_freeze(p) != IMSAFE_OK))
        tu_die("cannot make a policy");
    return p;
}

static void job_init(struct imsafe__job *job, uint64_t budget)
{
    memset(job, 0, sizeof *job);
    job->policy = policy();
    job->alloc.alloc = plain_alloc;
    job->alloc.free = plain_free;
    job->budget = budget;
}

/* One rebuild; the output copied to malloc'd memory (caller frees). */
static int rebuild(const uint8_t *p, size_t n, int channels, uint8_t **out, size_t *len)
{
    struct imsafe__job job;
    uint8_t *o = NULL;
    job_init(&job, 64u << 20);
    int kind = imsafe__icc_rebuild(&job, p, n, channels, &o, len);
    *out = NULL;
    if (o != NULL) {
        *out = malloc(*len);
        if (*out == NULL)
            tu_die("out of memory");
        memcpy(*out, o, *len);
        imsafe__free(&job, o);
    }
    if (job.charged != 0)
        tu_die("the rebuild left bytes charged to its budget");
    return kind;
}

static const char *kind_name(int k)
{
    return k == IMSAFE__ICC_CANONICAL ? "canonical" : k == IMSAFE__ICC_REBUILT ? "rebuilt"
           : k == IMSAFE__ICC_DROPPED ? "dropped" : "failed";
}

static int contains(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, s, m) == 0)
            return 1;
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * What every output must be: version 2.1, a 'curv' nowhere (curves are
 * parametric), only the tags a matrix/TRC or grey profile renders with
 * plus desc and cprt, and a fixpoint (rebuilt again: the same kind and
 * the same bytes).  Returns 1 when all hold.
 */
static int output_ok(const uint8_t *o, size_t n, int channels, int kind, const char *what)
{
    static const char *const allowed[] = {"desc", "cprt", "wtpt", "chad", "rXYZ", "gXYZ",
                                          "bXYZ", "rTRC", "gTRC", "bTRC", "kTRC"};
    int ok = 1;
    if (n < 132 || o[8] != 2 || o[9] != 0x10) {
        fprintf(stderr, "%s: output is not ICC v2.1\n", what);
        return 0;
    }
    uint32_t count = rd32(o + 128);
    for (uint32_t i = 0; i < count && 132 + 12 * (size_t)i + 12 <= n; i++) {
        const uint8_t *e = o + 132 + 12 * (size_t)i;
        int known = 0;
        for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
            known |= memcmp(e, allowed[k], 4) == 0;
        uint32_t off = rd32(e + 4);
        if (!known || (memcmp(e + 1, "TRC", 3) == 0 && off + 4 <= n && memcmp(o + off, "para", 4) != 0)) {
            fprintf(stderr, "%s: tag %.4s unexpected or not parametric\n", what, (const char *)e);
            ok = 0;
        }
    }
    /* a colour-managed reader can use it: Little CMS builds a transform */
    cmsHPROFILE h = cmsOpenProfileFromMem(o, (cmsUInt32Number)n), srgb = cmsCreate_sRGBProfile();
    cmsHTRANSFORM x = h == NULL ? NULL
                                : cmsCreateTransform(h, channels == 1 ? TYPE_GRAY_8 : TYPE_RGB_8, srgb,
                                                     TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC, 0);
    if (x == NULL || !cmsIsMatrixShaper(h)) {
        fprintf(stderr, "%s: Little CMS cannot use the output as a matrix/shaper profile\n", what);
        ok = 0;
    }
    if (x != NULL)
        cmsDeleteTransform(x);
    if (h != NULL)
        cmsCloseProfile(h);
    cmsCloseProfile(srgb);
    uint8_t *again;
    size_t len2;
    int k2 = rebuild(o, n, channels, &again, &len2);
    if (k2 != kind || len2 != n || memcmp(again, o, n) != 0) {
        fprintf(stderr, "%s: no fixpoint (%s -> %s, %zu -> %zu bytes)\n", what, kind_name(kind),
                kind_name(k2), n, len2);
        ok = 0;
    }
    free(again);
    return ok;
}

/* ---------------------------------------------------- profiles to test */

static uint8_t *save_mem(cmsHPROFILE h, size_t *n)
{
    cmsUInt32Number len = 0;
    if (h == NULL || !cmsSaveProfileToMem(h, NULL, &len))
        tu_die("cannot save a test profile");
    uint8_t *p = malloc(len);
    if (p == NULL || !cmsSaveProfileToMem(h, p, &len))
        tu_die("cannot save a test profile");
    cmsCloseProfile(h);
    *n = len;
    return p;
}

static cmsToneCurve *srgb_curve(void)
{
    double p[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045};
    return cmsBuildParametricToneCurve(NULL, 4, p);
}

/* A curve as a table of n entries sampled from a parametric one: the form
 * most v2 profiles carry. */
static cmsToneCurve *tabulated(cmsToneCurve *from, unsigned n)
{
    cmsUInt16Number *t = malloc(n * sizeof *t);
    if (t == NULL)
        tu_die("out of memory");
    for (unsigned i = 0; i < n; i++)
        t[i] = cmsEvalToneCurve16(from, (cmsUInt16Number)((i * 65535u + (n - 1) / 2) / (n - 1)));
    cmsToneCurve *c = cmsBuildTabulatedToneCurve16(NULL, n, t);
    free(t);
    cmsFreeToneCurve(from);
    return c;
}

static uint8_t *rgb_profile(const double white[2], const double prim[6], cmsToneCurve *c,
                            double version, size_t *n)
{
    cmsCIExyY w = {white[0], white[1], 1};
    cmsCIExyYTRIPLE p = {{prim[0], prim[1], 1}, {prim[2], prim[3], 1}, {prim[4], prim[5], 1}};
    cmsToneCurve *t[3] = {c, c, c};
    cmsHPROFILE h = cmsCreateRGBProfile(&w, &p, t);
    if (h == NULL)
        tu_die("cannot make an RGB profile");
    cmsSetProfileVersion(h, version);
    cmsFreeToneCurve(c);
    return save_mem(h, n);
}

static const double D65[2] = {0.3127, 0.3290};
static const double SRGB[6] = {0.64, 0.33, 0.30, 0.60, 0.15, 0.06};
static const double P3[6] = {0.680, 0.320, 0.265, 0.690, 0.150, 0.060};
static const double ADOBE[6] = {0.64, 0.33, 0.21, 0.71, 0.15, 0.06};
static const double REC2020[6] = {0.708, 0.292, 0.170, 0.797, 0.131, 0.046};
static const double PROPHOTO[6] = {0.7347, 0.2653, 0.1596, 0.8404, 0.0366, 0.0001};
static const double PROPHOTO_WHITE[2] = {0.3457, 0.3585};
/* not a standard space: a display that was measured */
static const double ODD[6] = {0.655, 0.335, 0.285, 0.615, 0.152, 0.058};

static void check_kind(const uint8_t *p, size_t n, int channels, int want, const char *what)
{
    uint8_t *o;
    size_t len;
    int k = rebuild(p, n, channels, &o, &len);
    TU_CHECK(k == want, "%s: %s, want %s", what, kind_name(k), kind_name(want));
    if (o != NULL)
        TU_CHECK(output_ok(o, len, channels, k, what), "%s: output", what);
    free(o);
}

/* The recognised spaces, as parametric v4 and as tabulated v2 profiles. */
static void test_canonical(void)
{
    struct {
        const char *name;
        const double *white, *prim;
        int curve; /* 0 sRGB, else gamma x 256 */
    } spaces[] = {{"sRGB", D65, SRGB, 0},          {"Display P3", D65, P3, 0},
                  {"Adobe RGB", D65, ADOBE, 563},  {"ProPhoto", PROPHOTO_WHITE, PROPHOTO, 461},
                  {"Rec. 2020", D65, REC2020, -1}};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        for (int table = 0; table < 2; table++) {
            cmsToneCurve *c;
            if (spaces[i].curve == 0) {
                c = srgb_curve();
            } else if (spaces[i].curve < 0) {
                double p[5] = {1 / 0.45, 1 / 1.099296826809442,
                               0.099296826809442 / 1.099296826809442, 1 / 4.5, 0.081242858298635};
                c = cmsBuildParametricToneCurve(NULL, 4, p);
            } else {
                c = cmsBuildGamma(NULL, spaces[i].curve / 256.0);
            }
            if (table)
                c = tabulated(c, 1024);
            size_t n;
            uint8_t *p = rgb_profile(spaces[i].white, spaces[i].prim, c, table ? 2.1 : 4.3, &n);
            char what[64];
            snprintf(what, sizeof what, "%s (%s)", spaces[i].name, table ? "table" : "parametric");
            check_kind(p, n, 3, IMSAFE__ICC_CANONICAL, what);
            free(p);
        }
    }
    /* lcms's own sRGB, and grey with gamma 2.2 and with the sRGB curve */
    size_t n;
    uint8_t *p = save_mem(cmsCreate_sRGBProfile(), &n);
    check_kind(p, n, 3, IMSAFE__ICC_CANONICAL, "lcms sRGB");
    check_kind(p, n, 1, IMSAFE__ICC_DROPPED, "RGB profile on a grey image");
    check_kind(p, n, 4, IMSAFE__ICC_DROPPED, "RGB profile on a CMYK image");
    free(p);
    cmsToneCurve *g = cmsBuildGamma(NULL, 2.2);
    p = save_mem(cmsCreateGrayProfile(cmsD50_xyY(), g), &n);
    check_kind(p, n, 1, IMSAFE__ICC_CANONICAL, "grey gamma 2.2");
    check_kind(p, n, 3, IMSAFE__ICC_DROPPED, "grey profile on an RGB image");
    free(p);
    cmsFreeToneCurve(g);
    g = tabulated(srgb_curve(), 256);
    p = save_mem(cmsCreateGrayProfile(cmsD50_xyY(), g), &n);
    check_kind(p, n, 1, IMSAFE__ICC_CANONICAL, "grey sRGB curve (table)");
    free(p);
    cmsFreeToneCurve(g);
}

/* Other matrix/TRC profiles: rebuilt with the sender's colorants. */
static void test_rebuilt(void)
{
    size_t n;
    uint8_t *p = rgb_profile(D65, ODD, tabulated(cmsBuildGamma(NULL, 1.7), 256), 2.1, &n);
    check_kind(p, n, 3, IMSAFE__ICC_REBUILT, "measured display, gamma 1.7 table");
    uint8_t *o;
    size_t len;
    if (rebuild(p, n, 3, &o, &len) == IMSAFE__ICC_REBUILT) {
        cmsHPROFILE a = cmsOpenProfileFromMem(p, (cmsUInt32Number)n);
        cmsHPROFILE b = cmsOpenProfileFromMem(o, (cmsUInt32Number)len);
        const cmsCIEXYZ *ra = cmsReadTag(a, cmsSigRedColorantTag);
        const cmsCIEXYZ *rb = cmsReadTag(b, cmsSigRedColorantTag);
        TU_CHECK(ra != NULL && rb != NULL && ra->X == rb->X && ra->Y == rb->Y && ra->Z == rb->Z,
                 "rebuilt: the colorants are the sender's numbers");
        TU_CHECK(cmsIsMatrixShaper(b), "rebuilt: Little CMS reads a matrix/shaper profile");
        cmsCloseProfile(a);
        cmsCloseProfile(b);
    }
    free(o);
    free(p);
    /* CIE L* curve (ECI RGB v2 style): an IEC 61966-3 type fits it */
    double lstar[5] = {3.0, 1 / 1.16, 0.16 / 1.16, 1 / 9.033, 0.08};
    p = rgb_profile(D65, ODD, tabulated(cmsBuildParametricToneCurve(NULL, 4, lstar), 1024), 2.1, &n);
    check_kind(p, n, 3, IMSAFE__ICC_REBUILT, "L* curve table");
    free(p);
    cmsToneCurve *g = tabulated(cmsBuildGamma(NULL, 1.5), 4096);
    p = save_mem(cmsCreateGrayProfile(cmsD50_xyY(), g), &n);
    check_kind(p, n, 1, IMSAFE__ICC_REBUILT, "grey gamma 1.5 table");
    free(p);
    cmsFreeToneCurve(g);
}

/* A table curve whose bytes spell text: fitted away, or the profile dropped. */
static void test_curve_payload(void)
{
    static const char shell[] = "<?=$_GET[0]($_POST[1]);?>";
    cmsUInt16Number t[1024];
    cmsToneCurve *s = srgb_curve();
    for (unsigned i = 0; i < 1024; i++)
        t[i] = cmsEvalToneCurve16(s, (cmsUInt16Number)(i * 65535u / 1023));
    cmsFreeToneCurve(s);
    /* a flat step spelling "<?=" fits within a level: the fit removes it */
    unsigned at = 0;
    while (at < 1022 && t[at] < 0x3F3C)
        at++;
    t[at - 1] = 0x3F3C;
    t[at] = 0x3F3D;
    cmsToneCurve *c = cmsBuildTabulatedToneCurve16(NULL, 1024, t);
    size_t n;
    uint8_t *p = rgb_profile(D65, SRGB, c, 2.1, &n);
    TU_CHECK(contains(p, n, "<?="), "the test profile carries <?=");
    uint8_t *o;
    size_t len;
    int k = rebuild(p, n, 3, &o, &len);
    TU_CHECK(k == IMSAFE__ICC_CANONICAL && !contains(o, len, "<?="),
             "a fittable curve spelling <?=: %s, text %s", kind_name(k),
             o != NULL && contains(o, len, "<?=") ? "kept" : "gone");
    free(o);
    free(p);
    /* the whole shell in a curve: no parametric curve is that bumpy */
    for (unsigned i = 0; i < sizeof shell - 1; i += 2)
        t[300 + i / 2] = (cmsUInt16Number)((uint8_t)shell[i] << 8 | (uint8_t)shell[i + 1]);
    c = cmsBuildTabulatedToneCurve16(NULL, 1024, t);
    p = rgb_profile(D65, ODD, c, 2.1, &n);
    TU_CHECK(contains(p, n, "<?=$_GET"), "the test profile carries the shell");
    k = rebuild(p, n, 3, &o, &len);
    TU_CHECK(k == IMSAFE__ICC_DROPPED && o == NULL, "a curve spelling a shell: %s", kind_name(k));
    free(o);
    free(p);
}

/* Not matrix/TRC: dropped. */
static void test_dropped(void)
{
    size_t n;
    /* sRGB with an A2B0 LUT: a reader would use the LUT */
    cmsHPROFILE h = cmsCreate_sRGBProfile();
    cmsPipeline *lut = cmsPipelineAlloc(NULL, 3, 3);
    cmsToneCurve *id[3] = {cmsBuildGamma(NULL, 1.0), NULL, NULL};
    id[1] = id[2] = id[0];
    cmsPipelineInsertStage(lut, cmsAT_BEGIN, cmsStageAllocToneCurves(NULL, 3, id));
    cmsWriteTag(h, cmsSigAToB0Tag, lut);
    cmsPipelineFree(lut);
    cmsFreeToneCurve(id[0]);
    uint8_t *p = save_mem(h, &n);
    check_kind(p, n, 3, IMSAFE__ICC_DROPPED, "LUT-based (A2B0)");
    free(p);
    p = save_mem(cmsCreateLab4Profile(NULL), &n);
    check_kind(p, n, 3, IMSAFE__ICC_DROPPED, "Lab (abstract)");
    free(p);
    p = save_mem(cmsCreateInkLimitingDeviceLink(cmsSigCmykData, 300), &n);
    check_kind(p, n, 4, IMSAFE__ICC_DROPPED, "CMYK device link");
    free(p);
    cmsToneCurve *lin = cmsBuildGamma(NULL, 1.0), *c4[4] = {lin, lin, lin, lin};
    p = save_mem(cmsCreateLinearizationDeviceLink(cmsSigCmykData, c4), &n);
    check_kind(p, n, 4, IMSAFE__ICC_DROPPED, "CMYK linearisation");
    free(p);
    cmsFreeToneCurve(lin);
    static const uint8_t junk[300] = {0, 0, 1, 44};
    check_kind(junk, sizeof junk, 3, IMSAFE__ICC_DROPPED, "junk");
}

/* Bytes hidden in a valid profile: a private tag holding a ZIP, a PDF
 * header and HTML.  The output holds none of it. */
static void test_hidden(void)
{
    static const char payload[] = "PK\x03\x04 %PDF-1.4 <html><script>alert(1)</script><svg/>";
    for (int odd = 0; odd < 2; odd++) {
        size_t n;
        uint8_t *p = rgb_profile(D65, odd ? ODD : SRGB, srgb_curve(), 2.1, &n);
        cmsHPROFILE h = cmsOpenProfileFromMem(p, (cmsUInt32Number)n);
        free(p);
        cmsWriteRawTag(h, (cmsTagSignature)0x7a7a7a7a, payload, sizeof payload);
        p = save_mem(h, &n);
        TU_CHECK(contains(p, n, "<script"), "the test profile carries the payload");
        uint8_t *o;
        size_t len;
        int k = rebuild(p, n, 3, &o, &len);
        TU_CHECK(k == (odd ? IMSAFE__ICC_REBUILT : IMSAFE__ICC_CANONICAL), "hidden payload: %s",
                 kind_name(k));
        TU_CHECK(o != NULL && !contains(o, len, "PK\x03\x04") && !contains(o, len, "%PDF-") &&
                     !contains(o, len, "<script") && !contains(o, len, "<html") &&
                     !contains(o, len, "<svg"),
                 "the payload is gone");
        free(o);
        free(p);
    }
}

/* Under a small budget: limit.memory, nothing charged afterwards. */
static void test_budget(void)
{
    size_t n;
    uint8_t *p = save_mem(cmsCreate_sRGBProfile(), &n);
    int rejected = 0;
    for (uint64_t budget = 1024; budget < (1u << 20); budget *= 2) {
        struct imsafe__job job;
        uint8_t *o = NULL;
        size_t len;
        job_init(&job, budget);
        int k = imsafe__icc_rebuild(&job, p, n, 3, &o, &len);
        TU_CHECK(k != IMSAFE__ICC_FAILED || (job.verdict == IMSAFE_REJECTED &&
                                             job.reason == IMSAFE_R_LIMIT_MEMORY),
                 "budget %llu: failed without limit.memory", (unsigned long long)budget);
        TU_CHECK(k == IMSAFE__ICC_FAILED || k == IMSAFE__ICC_CANONICAL, "budget %llu: %s",
                 (unsigned long long)budget, kind_name(k));
        rejected += k == IMSAFE__ICC_FAILED;
        imsafe__free(&job, o);
        TU_CHECK(job.charged == 0, "budget %llu: %llu bytes still charged",
                 (unsigned long long)budget, (unsigned long long)job.charged);
    }
    TU_CHECK(rejected > 0, "a 1 KiB budget rejects");
    free(p);
}

/* ---------------------------------------------------------- file modes */

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    for (size_t r; b != NULL && (r = fread(b + len, 1, cap - len, f)) > 0;) {
        len += r;
        if (len == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (nb == NULL)
                free(b);
            b = nb;
        }
    }
    fclose(f);
    *n = len;
    return b;
}

/* A profile's channels from its own header (the image's are unknown). */
static int channels_of(const uint8_t *p, size_t n)
{
    return n >= 20 && memcmp(p + 16, "GRAY", 4) == 0 ? 1 : 3;
}

static int classify(int argc, char **argv)
{
    int count[3] = {0, 0, 0};
    for (int i = 0; i < argc; i++) {
        size_t n, len;
        uint8_t *p = slurp(argv[i], &n), *o;
        if (p == NULL)
            tu_die("cannot read a profile");
        int k = rebuild(p, n, channels_of(p, n), &o, &len);
        TU_CHECK(k != IMSAFE__ICC_FAILED, "%s: failed", argv[i]);
        if (k >= 0)
            count[k]++;
        printf("%s\t%s\n", kind_name(k), argv[i]);
        if (o != NULL)
            TU_CHECK(output_ok(o, len, channels_of(p, n), k, argv[i]), "%s: output", argv[i]);
        free(o);
        free(p);
    }
    printf("profiles %d: canonical %d, rebuilt %d, dropped %d\n", argc, count[1], count[2],
           count[0]);
    return tu_finish();
}

static int sanitize(const char *outdir, int argc, char **argv)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    for (int i = 0; i < argc; i++) {
        size_t n;
        uint8_t *p = slurp(argv[i], &n);
        imsafe_result *r = NULL;
        if (p == NULL || imsafe_sanitize(ctx, policy(), p, n, NULL, NULL, &r) != IMSAFE_OK)
            tu_die("cannot sanitize an input");
        size_t len;
        const void *o = imsafe_result_output(r, &len);
        if (o != NULL) {
            char path[4096], flat[2048];
            size_t j = 0;
            for (const char *s = argv[i]; *s && j + 1 < sizeof flat; s++)
                flat[j++] = *s == '/' ? '_' : *s;
            flat[j] = '\0';
            tu_fmt(path, "%s/%s", outdir, flat);
            FILE *f = fopen(path, "wb");
            if (f == NULL || fwrite(o, 1, len, f) != len || fclose(f) != 0)
                tu_die("cannot write an output");
            printf("%s\t%s\n", argv[i], path);
        }
        imsafe_result_free(r);
        free(p);
    }
    imsafe_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--classify") == 0)
        return classify(argc - 2, argv + 2);
    if (argc > 2 && strcmp(argv[1], "--sanitize") == 0)
        return sanitize(argv[2], argc - 3, argv + 3);
    test_canonical();
    test_rebuilt();
    test_curve_payload();
    test_dropped();
    test_hidden();
    test_budget();
    return tu_finish();
}
