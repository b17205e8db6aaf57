/*
 * test_vp8l.c - the VP8L prefix-code validator (libimsafe/vp8l.c).
 *
 *  1. Every stream tests/gen/gen_vp8l.py wrote (fixtures/vp8l/INDEX.tsv)
 *     gets exactly its expected reason; every valid one cut at every byte
 *     before the end of its last prefix code is rejected as
 *     malformed.webp.vp8l, and cut anywhere after it still passes (the main
 *     image's pixels are libwebp's).  No byte stays charged afterwards.
 *  2. The corpus: every VP8L stream in ../shared/corpus/webp (VP8L
 *     chunks, ALPH chunks of method 1, inside ANMF frames too), found by a
 *     RIFF walker written here: each stream of a file the MANIFEST calls
 *     valid passes; the three CVE-2023-4863 proofs of concept are refused
 *     with malformed.webp.huffman, exactly.
 *  3. Limits: a budget too small is limit.memory, a max_work too small is
 *     limit.work, never a crash or a pass.
 * The program links the static library (imsafe__vp8l_check is internal).
 */
#include <dirent.h>
#include <stdint.h>

#include "imsafe_private.h"
#include "testutil.h"

static void *t_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return malloc(n);
}

static void t_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static const imsafe_policy *policy;

static imsafe_reason check(const uint8_t *p, size_t n, uint32_t w, uint32_t h, int alpha,
                           uint64_t budget, char *detail, size_t dsize)
{
    struct imsafe__job job;
    memset(&job, 0, sizeof job);
    job.policy = policy;
    job.alloc.alloc = t_alloc;
    job.alloc.free = t_free;
    job.budget = budget;
    imsafe_reason r = imsafe__vp8l_check(&job, p, n, w, h, alpha);
    TU_CHECK(job.charged == 0, "%llu bytes still charged", (unsigned long long)job.charged);
    TU_CHECK((r == IMSAFE_R_NONE) == (job.verdict == 0), "reason %d but verdict %d", (int)r,
             (int)job.verdict);
    TU_CHECK(r == IMSAFE_R_NONE || job.reason == r, "returned %d, job says %d", (int)r,
             (int)job.reason);
    for (const char *c = job.detail; *c; c++)
        TU_CHECK(*c >= 0x20 && *c < 0x7f, "detail not printable");
    if (detail != NULL)
        snprintf(detail, dsize, "%s", job.detail);
    return r;
}

static const char *name_of(imsafe_reason r)
{
    return r == IMSAFE_R_NONE ? "none" : imsafe_reason_name(r);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf == NULL)
        tu_die("out of memory");
    *n = len;
    return buf;
}

/* ---------------------------------------------------------------- fixtures */

static int fixtures(void)
{
    char path[4096], line[1024], dir[4096];
    tu_fmt(dir, "%s/vp8l", tu_env("IMSAFE_FIXTURES"));
    tu_fmt(path, "%s/INDEX.tsv", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        tu_die("cannot open fixtures/vp8l/INDEX.tsv");
    int count = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256], expect[64], libwebp[16], detail[IMSAFE_DETAIL_MAX];
        unsigned w, h, alpha;
        size_t end, n;
        if (line[0] == '#' || sscanf(line, "%255s %u %u %u %63s %zu %15s", name, &w, &h, &alpha,
                                     expect, &end, libwebp) != 7)
            continue;
        tu_fmt(path, "%s/%s", dir, name);
        uint8_t *p = slurp(path, &n);
        if (p == NULL)
            tu_die("cannot read a fixture");
        imsafe_reason r = check(p, n, w, h, (int)alpha, 64u << 20, detail, sizeof detail);
        TU_CHECK(strcmp(name_of(r), expect) == 0, "%s: %s (%s), expected %s", name, name_of(r),
                 detail, expect);
        if (strcmp(expect, "none") == 0) {
            /* the reader must notice the end wherever it falls before the
             * last code, and nothing after it is ours to read */
            for (size_t cut = 0; cut <= n; cut++) {
                uint8_t *q = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
                if (q == NULL)
                    tu_die("out of memory");
                memcpy(q, p, cut);
                imsafe_reason rc = check(q, cut, w, h, (int)alpha, 64u << 20, NULL, 0);
                if (cut < end)
                    TU_CHECK(rc == IMSAFE_R_MALFORMED_WEBP_VP8L, "%s cut at %zu of %zu: %s", name,
                             cut, n, name_of(rc));
                else
                    TU_CHECK(rc == IMSAFE_R_NONE, "%s cut at %zu (codes end at %zu): %s", name,
                             cut, end, name_of(rc));
                free(q);
            }
        }
        free(p);
        count++;
    }
    fclose(f);
    TU_CHECK(count >= 50, "only %d VP8L fixtures", count);
    return count;
}

/* A fixture whose job runs out of memory or work: the right reason. */
static void limits(void)
{
    char path[4096];
    size_t n;
    tu_fmt(path, "%s/vp8l/all_transforms.vp8l", tu_env("IMSAFE_FIXTURES"));
    uint8_t *p = slurp(path, &n);
    if (p == NULL)
        tu_die("cannot read all_transforms.vp8l");
    int memory_seen = 0;
    /* every budget from nothing up to enough: limit.memory until it passes */
    for (uint64_t b = 0; b < 200000; b += 64) {
        imsafe_reason r = check(p, n, 37, 19, 0, b, NULL, 0);
        TU_CHECK(r == IMSAFE_R_LIMIT_MEMORY || r == IMSAFE_R_NONE, "budget %llu: %s",
                 (unsigned long long)b, name_of(r));
        memory_seen += r == IMSAFE_R_LIMIT_MEMORY;
        if (r == IMSAFE_R_NONE)
            break;
    }
    TU_CHECK(memory_seen > 10, "limit.memory only %d times", memory_seen);
    TU_CHECK(check(p, n, 37, 19, 0, 64u << 20, NULL, 0) == IMSAFE_R_NONE, "all_transforms");
    imsafe_policy *tight = imsafe_policy_new();
    if (tight == NULL || imsafe_policy_set(tight, IMSAFE_OPT_MAX_WORK, 500) != IMSAFE_OK ||
        imsafe_policy_freeze(tight) != IMSAFE_OK)
        tu_die("policy");
    const imsafe_policy *save = policy;
    policy = tight;
    TU_CHECK(check(p, n, 37, 19, 0, 64u << 20, NULL, 0) == IMSAFE_R_LIMIT_WORK, "max_work");
    policy = save;
    imsafe_policy_unref(tight);
    /* sizes the header cannot hold */
    TU_CHECK(check(p, n, 0, 19, 0, 64u << 20, NULL, 0) == IMSAFE_R_MALFORMED_WEBP_VP8L, "w 0");
    TU_CHECK(check(p, n, 37, 16385, 1, 64u << 20, NULL, 0) == IMSAFE_R_MALFORMED_WEBP_VP8L,
             "h 16385");
    free(p);
}

/* ------------------------------------------------------------------ corpus */

struct tally {
    int streams, passed, rejected, files;
    int alph, frames; /* streams from ALPH chunks, streams inside ANMF */
};

static uint32_t le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
    return le24(p) | (uint32_t)p[3] << 24;
}

/* The VP8 key frame's size, for an ALPH chunk of a still image. */
static int vp8_size(const uint8_t *p, size_t n, uint32_t *w, uint32_t *h)
{
    if (n < 10 || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
        return -1;
    *w = (p[6] | (uint32_t)p[7] << 8) & 0x3fff;
    *h = (p[8] | (uint32_t)p[9] << 8) & 0x3fff;
    return 0;
}

/*
 * Walk chunks in p[0..n): check each VP8L and ALPH(method 1) stream with the
 * frame size w x h (0: unknown, the VP8L header's own or the next VP8
 * chunk's).  Returns the first rejection, or NONE.
 */
static imsafe_reason walk(const uint8_t *p, size_t n, uint32_t w, uint32_t h, struct tally *t,
                          const char *file, int depth)
{
    imsafe_reason first = IMSAFE_R_NONE;
    for (size_t pos = 0; pos + 8 <= n;) {
        const uint8_t *c = p + pos;
        uint32_t size = le32(c + 4);
        if (size > n - pos - 8)
            size = (uint32_t)(n - pos - 8); /* a truncated file: what is there */
        const uint8_t *d = c + 8;
        imsafe_reason r = IMSAFE_R_NONE;
        int checked = 0;
        if (memcmp(c, "VP8X", 4) == 0 && size >= 10 && w == 0) {
            w = le24(d + 4) + 1;
            h = le24(d + 7) + 1;
        } else if (memcmp(c, "ANMF", 4) == 0 && size >= 16 && depth == 0) {
            r = walk(d + 16, size - 16, le24(d + 6) + 1, le24(d + 9) + 1, t, file, 1);
        } else if (memcmp(c, "VP8L", 4) == 0 && size >= 5) {
            uint32_t fw = w, fh = h;
            if (fw == 0) {
                fw = ((uint32_t)d[1] | (uint32_t)(d[2] & 0x3f) << 8) + 1;
                fh = ((uint32_t)(d[2] >> 6) | (uint32_t)d[3] << 2 | (uint32_t)(d[4] & 15) << 10) +
                     1;
            }
            r = check(d, size, fw, fh, 0, 256u << 20, NULL, 0);
            checked = 1;
        } else if (memcmp(c, "ALPH", 4) == 0 && size >= 1 && (d[0] & 3) == 1) {
            uint32_t fw = w, fh = h;
            size_t next = pos + 8 + size + (size & 1);
            if (fw == 0 && next + 8 <= n && memcmp(p + next, "VP8 ", 4) == 0 &&
                vp8_size(p + next + 8, n - next - 8, &fw, &fh) != 0)
                fw = 0;
            if (fw != 0) {
                r = check(d + 1, size - 1, fw, fh, 1, 256u << 20, NULL, 0);
                checked = 1;
            }
        }
        if (checked) {
            t->streams++;
            t->alph += memcmp(c, "ALPH", 4) == 0;
            t->frames += depth;
            if (r == IMSAFE_R_NONE)
                t->passed++;
            else
                t->rejected++;
        }
        if (first == IMSAFE_R_NONE)
            first = r;
        if (r != IMSAFE_R_NONE && getenv("VP8L_VERBOSE"))
            fprintf(stderr, "%s: %s\n", file, name_of(r));
        pos += 8 + (size_t)size + (size & 1);
    }
    return first;
}

static void corpus(void)
{
    char path[4096], line[8192];
    const char *root = tu_env("IMSAFE_CORPUS");
    tu_fmt(path, "%s/webp/MANIFEST.tsv", root);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        tu_die("cannot open the webp MANIFEST.tsv");
    struct tally valid = {0}, invalid = {0}, unknown = {0};
    int pocs = 0;
    while (fgets(line, sizeof line, f)) {
        char file[1024];
        char *col[7];
        int k = 0;
        for (char *s = line; k < 7; k++) {
            col[k] = s;
            char *tab = strchr(s, '\t');
            if (tab == NULL)
                break;
            *tab = '\0';
            s = tab + 1;
        }
        if (k < 5 || strcmp(col[0], "file") == 0)
            continue;
        int is_valid = strcmp(col[5], "valid") == 0;
        int is_poc = strncmp(col[0], "cve-2023-4863/", 14) == 0;
        tu_fmt(file, "%s/webp/%s", root, col[0]);
        size_t n;
        uint8_t *p = slurp(file, &n);
        if (p == NULL)
            tu_die("a MANIFEST file is missing");
        struct tally *t = is_valid ? &valid : strcmp(col[5], "invalid") == 0 ? &invalid : &unknown;
        imsafe_reason r = IMSAFE_R_NONE;
        int before = t->streams;
        if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
            r = walk(p + 12, n - 12, 0, 0, t, col[0], 0);
        if (t->streams > before)
            t->files++;
        if (is_valid)
            TU_CHECK(r == IMSAFE_R_NONE, "%s (valid): %s", col[0], name_of(r));
        if (is_poc) {
            pocs++;
            TU_CHECK(r == IMSAFE_R_MALFORMED_WEBP_HUFFMAN, "%s: %s, expected malformed.webp.huffman",
                     col[0], name_of(r));
        }
        free(p);
    }
    fclose(f);
    TU_CHECK(pocs == 3, "%d CVE-2023-4863 proofs of concept, expected 3", pocs);
    TU_CHECK(valid.streams >= 100, "only %d VP8L streams in valid files", valid.streams);
    TU_CHECK(valid.alph >= 5 && valid.frames >= 5, "only %d ALPH and %d frame streams",
             valid.alph, valid.frames);
    const struct tally *ts[3] = {&valid, &invalid, &unknown};
    const char *names[3] = {"valid", "invalid", "unknown"};
    for (int i = 0; i < 3; i++)
        printf("corpus, %s files: %d with VP8L, %d streams (%d ALPH, %d in ANMF), %d passed, "
               "%d rejected\n", names[i], ts[i]->files, ts[i]->streams, ts[i]->alph,
               ts[i]->frames, ts[i]->passed, ts[i]->rejected);
    printf("CVE-2023-4863 proofs of concept refused as malformed.webp.huffman: %d\n", pocs);
}

int main(void)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || imsafe_policy_freeze(p) != IMSAFE_OK)
        tu_die("policy");
    policy = p;
    int n = fixtures();
    printf("fixtures: %d streams\n", n);
    limits();
    corpus();
    imsafe_policy_unref(p);
    return tu_finish();
}
