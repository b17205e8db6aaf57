/*
 * test_isolate.c - isolation mode (policy isolation = process).
 *
 *   basic     the same verdicts, notes, details and bytes as in process,
 *             through imsafe_sanitize() and a sink; the installed-path
 *             default and a missing helper give IMSAFE_EUNSUPPORTED and the
 *             context stays usable
 *   faults    each fault the test helper injects (forbidden system calls,
 *             crashes, CPU and wall deadlines, memory, lying frames, a
 *             damaged image) ends in its verdict, and the next call works
 *   threads   1,000 calls from 8 threads sharing one pool, faults at
 *             points drawn from a fixed seed, each verdict as expected
 *   soak      2,000 calls (IMSAFE_SOAK_CALLS overrides; make soak runs
 *             100,000): descriptors, child processes and RSS come back
 *   same      every corpus file, fixture and fuzz input: the verdicts,
 *             notes, details and bytes of in-process mode
 *
 * Linked with the static library for imsafe__pool_set_deadline().  The
 * helpers come from the build tree (IMSAFE_WORKER: the one installed,
 * IMSAFE_WORKER_TEST: the one with fault injectors).  Sanitizer builds run
 * the worker without its filter and RLIMIT_AS (worker.c): there the faults
 * that need them are skipped, everything else runs.
 */
#define _GNU_SOURCE /* nftw */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imsafe_private.h"
#include "testutil.h"

static const char *helper, *test_helper;

/* A small ordinary PNG and JPEG of the corpus. */
static unsigned char *load(const char *rel, size_t *n)
{
    char path[4096];
    tu_fmt(path, "%s/%s", tu_env("IMSAFE_CORPUS"), rel);
    unsigned char *p = tu_read_file(path, n);
    if (p == NULL)
        tu_die(rel);
    return p;
}

/* Two results agree in everything a host can see (peak included). */
static int same_result(const imsafe_result *a, const imsafe_result *b, const char *what)
{
    size_t na, nb;
    const void *pa = imsafe_result_output(a, &na), *pb = imsafe_result_output(b, &nb);
    int ok = imsafe_result_verdict(a) == imsafe_result_verdict(b) &&
             imsafe_result_type(a) == imsafe_result_type(b) &&
             imsafe_result_output_type(a) == imsafe_result_output_type(b) &&
             imsafe_result_reason(a) == imsafe_result_reason(b) &&
             imsafe_result_note_count(a) == imsafe_result_note_count(b) &&
             strcmp(imsafe_result_detail(a), imsafe_result_detail(b)) == 0 &&
             strcmp(imsafe_result_display_name(a), imsafe_result_display_name(b)) == 0 &&
             imsafe_result_peak_bytes(a) == imsafe_result_peak_bytes(b) && na == nb &&
             (na == 0 || memcmp(pa, pb, na) == 0);
    for (size_t i = 0; ok && i < imsafe_result_note_count(a); i++)
        ok = imsafe_result_note(a, i) == imsafe_result_note(b, i);
    if (!ok)
        fprintf(stderr, "%s: in process %s %s (%s), isolated %s %s (%s)\n", what,
                imsafe_verdict_name(imsafe_result_verdict(a)),
                imsafe_reason_name(imsafe_result_reason(a)), imsafe_result_detail(a),
                imsafe_verdict_name(imsafe_result_verdict(b)),
                imsafe_reason_name(imsafe_result_reason(b)), imsafe_result_detail(b));
    return ok;
}

/* Judge in process and isolated; 1 when they agree. */
static int compare(imsafe_ctx *ctx, const imsafe_policy *in_proc, const imsafe_policy *iso,
                   const void *p, size_t n, const char *name, const char *what)
{
    imsafe_result *a = NULL, *b = NULL;
    imsafe_status sa = imsafe_sanitize(ctx, in_proc, p, n, name, NULL, &a);
    imsafe_status sb = imsafe_sanitize(ctx, iso, p, n, name, NULL, &b);
    int ok = sa == sb && (sa != IMSAFE_OK || same_result(a, b, what));
    if (sa != sb)
        fprintf(stderr, "%s: status %s in process, %s isolated\n", what, imsafe_strerror(sa),
                imsafe_strerror(sb));
    imsafe_result_free(a);
    imsafe_result_free(b);
    return ok;
}

static void test_basic(void)
{
    size_t npng, njpg, ngif;
    unsigned char *png = load("pngsuite/basn2c08.png", &npng);
    unsigned char *jpg = load("jpeg/libjpeg-turbo/testorig.jpg", &njpg);
    unsigned char *gif = load("gif/giflib/pic/fire.gif", &ngif);
    imsafe_policy *in_proc = tu_policy(NULL);
    imsafe_policy *iso = tu_policy("isolation = process\n");
    imsafe_policy *conv = tu_policy("isolation = process\ngif_to_png = yes\n");
    imsafe_policy *conv_in = tu_policy("gif_to_png = yes\n");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_pool *pool = NULL;
    imsafe_result *r = NULL;

    /* no pool attached: the installed helper, absent from a build tree */
    TU_CHECK(imsafe_sanitize(ctx, iso, png, npng, "a.png", NULL, &r) == IMSAFE_EUNSUPPORTED &&
                 r == NULL,
             "no installed helper: EUNSUPPORTED");
    TU_CHECK(imsafe_pool_new("/nonexistent/imsafe-worker", 1, &pool) == IMSAFE_EUNSUPPORTED &&
                 pool == NULL,
             "missing helper: EUNSUPPORTED");
    TU_CHECK(imsafe_pool_new(helper, 257, &pool) == IMSAFE_EINVAL, "257 workers");
    TU_CHECK(imsafe_pool_new(helper, 1, NULL) == IMSAFE_EINVAL, "out NULL");
    TU_CHECK(imsafe_ctx_set_pool(NULL, NULL) == IMSAFE_EINVAL, "set_pool NULL ctx");
    /* the context stays usable in process */
    TU_CHECK(compare(ctx, in_proc, in_proc, png, npng, "a.png", "in process after EUNSUPPORTED"),
             "context usable");

    if (imsafe_pool_new(helper, 2, &pool) != IMSAFE_OK)
        tu_die("imsafe_pool_new with the build tree's helper");
    imsafe_ctx_set_pool(ctx, pool);
    TU_CHECK(compare(ctx, in_proc, iso, png, npng, "basn2c08.png", "png"), "png as in process");
    TU_CHECK(compare(ctx, in_proc, iso, jpg, njpg, "testorig.jpg", "jpeg"), "jpeg as in process");
    TU_CHECK(compare(ctx, in_proc, iso, gif, ngif, "fire.gif", "gif"), "gif as in process");
    TU_CHECK(compare(ctx, conv_in, conv, gif, ngif, "fire.gif", "gif to png"), "gif to png");
    TU_CHECK(compare(ctx, in_proc, iso, "MZ\x90\0", 4, "x.exe", "exe"), "exe rejected");
    TU_CHECK(compare(ctx, in_proc, iso, "", 0, NULL, "empty"), "empty payload");
    TU_CHECK(compare(ctx, in_proc, iso, "plain words\n", 12, "notes.txt", "text"), "text passed");
    TU_CHECK(compare(ctx, in_proc, iso, png, npng, "a\xe2\x80\xaegnp.exe", "bidi"), "bidi name");

    /* a sink gets exactly the bytes, after the host checked them */
    imsafe_result *ref = tu_sanitize(ctx, in_proc, png, npng, "a.png", NULL);
    tu_check_sink_one(ctx, iso, png, npng, "a.png", NULL, ref, 512, 1, "isolated sink");
    tu_check_sink_one(ctx, iso, png, npng, "a.png", NULL, ref, 65536, 0, "isolated held sink");
    imsafe_result_free(ref);

    /* reuse: one worker judges several payloads, same answers */
    imsafe_policy *reuse = tu_policy("isolation = process\nisolation_reuse = 5\n");
    for (int i = 0; i < 12; i++)
        TU_CHECK(compare(ctx, in_proc, reuse, i % 2 ? png : jpg, i % 2 ? npng : njpg, "r.img",
                         "reuse"),
                 "reuse %d", i);
    imsafe_policy_unref(reuse);

    imsafe_ctx_free(ctx);
    imsafe_pool_free(pool);
    imsafe_policy_unref(in_proc);
    imsafe_policy_unref(iso);
    imsafe_policy_unref(conv);
    imsafe_policy_unref(conv_in);
    free(png);
    free(jpg);
    free(gif);
}

/* ------------------------------------------------------------------ faults */

struct fault {
    const char *name;
    imsafe_reason want;
    int needs_lockdown; /* left out of sanitizer builds' workers */
};

static const struct fault faults[] = {
    {"fault-open", IMSAFE_R_ISOLATION_SYSCALL, 1},
    {"fault-socket", IMSAFE_R_ISOLATION_SYSCALL, 1},
    {"fault-execve", IMSAFE_R_ISOLATION_SYSCALL, 1},
    {"fault-null", IMSAFE_R_ISOLATION_CRASH, 1},
    {"fault-abort", IMSAFE_R_ISOLATION_CRASH, 1},
    {"fault-spin", IMSAFE_R_LIMIT_TIME, 0},
    {"fault-hang", IMSAFE_R_LIMIT_TIME, 0},
    {"fault-exit", IMSAFE_R_ISOLATION_PROTOCOL, 0},
    {"fault-hog", IMSAFE_R_LIMIT_MEMORY, 1},
    {"fault-badlen", IMSAFE_R_ISOLATION_PROTOCOL, 0},
    {"fault-badreason", IMSAFE_R_ISOLATION_PROTOCOL, 0},
    {"fault-baddetail", IMSAFE_R_ISOLATION_PROTOCOL, 0},
    {"fault-liar", IMSAFE_R_ISOLATION_PROTOCOL, 0},
    {"fault-badimage", IMSAFE_R_ISOLATION_OUTPUT, 0},
};
#define NFAULTS (sizeof faults / sizeof faults[0])

static int sanitizer_build(void)
{
#ifdef IMSAFE_SANITIZER_BUILD
    return 1;
#else
    return 0;
#endif
}

/* One isolated call; 1 when it ended in want (IMSAFE_R_NONE: sanitized). */
static int judge(imsafe_ctx *ctx, const imsafe_policy *p, const void *in, size_t n,
                 const char *name, imsafe_reason want)
{
    imsafe_result *r = NULL;
    imsafe_status st = imsafe_sanitize(ctx, p, in, n, name, NULL, &r);
    int ok = st == IMSAFE_OK && imsafe_result_reason(r) == want &&
             (want != IMSAFE_R_NONE || imsafe_result_verdict(r) == IMSAFE_SANITIZED) &&
             (want == IMSAFE_R_NONE || imsafe_result_output(r, NULL) == NULL);
    if (!ok)
        fprintf(stderr, "%s: status %s, %s %s (%s), wanted %s\n", name ? name : "(none)",
                imsafe_strerror(st), r ? imsafe_verdict_name(imsafe_result_verdict(r)) : "-",
                r ? imsafe_reason_name(imsafe_result_reason(r)) : "-",
                r ? imsafe_result_detail(r) : "", imsafe_reason_name(want));
    imsafe_result_free(r);
    return ok;
}

/* A context on a pool of its own, of one worker of the test helper. */
static imsafe_ctx *test_host(imsafe_pool **pool)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx == NULL || imsafe_pool_new(test_helper, 1, pool) != IMSAFE_OK)
        tu_die("imsafe_pool_new with the test helper");
    imsafe_ctx_set_pool(ctx, *pool);
    return ctx;
}

static void test_faults(void)
{
    size_t n;
    unsigned char *png = load("pngsuite/basn2c08.png", &n);
    imsafe_policy *iso = tu_policy("isolation = process\n");
    imsafe_pool *pool = NULL;
    imsafe_ctx *ctx = test_host(&pool);
    imsafe__pool_set_deadline(pool, 300, 2000);
    for (size_t i = 0; i < NFAULTS; i++) {
        if (faults[i].needs_lockdown && sanitizer_build())
            continue;
        TU_CHECK(judge(ctx, iso, png, n, faults[i].name, faults[i].want), "%s", faults[i].name);
        /* the host goes on, with a fresh worker */
        TU_CHECK(judge(ctx, iso, png, n, "after.png", IMSAFE_R_NONE), "after %s",
                 faults[i].name);
    }
    imsafe_ctx_free(ctx);
    imsafe_pool_free(pool);
    imsafe_policy_unref(iso);
    free(png);
}

/* max_cpu_ms shortens the worker's deadlines (pool defaults: 20 s CPU,
 * 60 s wall): the CPU timer becomes 200 + 50 + 100 ms, the wall clock
 * 3 x 350 + 1000 ms, and the verdicts name them. */
static void test_policy_deadlines(void)
{
    size_t n;
    unsigned char *png = load("pngsuite/basn2c08.png", &n);
    imsafe_policy *p = tu_policy("isolation = process\nmax_cpu_ms = 200\n");
    imsafe_pool *pool = NULL;
    imsafe_ctx *ctx = test_host(&pool); /* the pool's default deadlines */
    static const struct {
        const char *name, *detail;
    } cases[] = {
        {"fault-spin", "its CPU deadline of 350 ms"},
        {"fault-hang", "the wall-clock deadline of 2050 ms"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imsafe_result *r = NULL;
        imsafe_status st = imsafe_sanitize(ctx, p, png, n, cases[i].name, NULL, &r);
        TU_CHECK(st == IMSAFE_OK && imsafe_result_reason(r) == IMSAFE_R_LIMIT_TIME &&
                     strstr(imsafe_result_detail(r), cases[i].detail) != NULL,
                 "%s under max_cpu_ms = 200: %s (%s)", cases[i].name,
                 r ? imsafe_reason_name(imsafe_result_reason(r)) : imsafe_strerror(st),
                 r ? imsafe_result_detail(r) : "");
        imsafe_result_free(r);
        TU_CHECK(judge(ctx, p, png, n, "after.png", IMSAFE_R_NONE), "after %s", cases[i].name);
    }
    imsafe_ctx_free(ctx);
    imsafe_pool_free(pool);
    imsafe_policy_unref(p);
    free(png);
}

/* ----------------------------------------------------------------- threads */

#define THREADS 8
#define CALLS_PER_THREAD 125 /* 1,000 calls */

struct shared {
    imsafe_pool *pool;
    const imsafe_policy *iso;
    const unsigned char *img[2];
    size_t len[2];
    imsafe_result *ref[2]; /* in-process results of img[] */
    int failures;
};

struct thread_arg {
    struct shared *sh;
    unsigned seed;
    int failures, faults;
};

/* The faults a threaded run draws from: quick ones (the CPU timer one
 * costs its 300 ms). */
static const struct fault *draw_fault(unsigned *seed)
{
    for (;;) {
        const struct fault *f = &faults[(unsigned)rand_r(seed) % NFAULTS];
        if (strcmp(f->name, "fault-hang") != 0 && !(f->needs_lockdown && sanitizer_build()))
            return f;
    }
}

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    struct shared *sh = a->sh;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx == NULL) {
        a->failures++;
        return NULL;
    }
    imsafe_ctx_set_pool(ctx, sh->pool);
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        int k = rand_r(&a->seed) % 2;
        imsafe_result *r = NULL;
        if (rand_r(&a->seed) % 8 == 0) {
            const struct fault *f = draw_fault(&a->seed);
            a->faults++;
            if (!judge(ctx, sh->iso, sh->img[k], sh->len[k], f->name, f->want))
                a->failures++;
            continue;
        }
        if (imsafe_sanitize(ctx, sh->iso, sh->img[k], sh->len[k], "t.img", NULL, &r) !=
                IMSAFE_OK ||
            !same_result(sh->ref[k], r, "threaded call"))
            a->failures++;
        imsafe_result_free(r);
    }
    imsafe_ctx_free(ctx);
    return NULL;
}

static void test_threads(void)
{
    struct shared sh = {0};
    struct thread_arg args[THREADS];
    pthread_t tid[THREADS];
    unsigned char *png = load("pngsuite/basn2c08.png", &sh.len[0]);
    unsigned char *jpg = load("jpeg/libjpeg-turbo/testorig.jpg", &sh.len[1]);
    imsafe_policy *in_proc = tu_policy(NULL);
    imsafe_policy *iso = tu_policy("isolation = process\n");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    sh.img[0] = png;
    sh.img[1] = jpg;
    sh.iso = iso;
    for (int k = 0; k < 2; k++)
        sh.ref[k] = tu_sanitize(ctx, in_proc, sh.img[k], sh.len[k], "t.img", NULL);
    if (imsafe_pool_new(test_helper, THREADS, &sh.pool) != IMSAFE_OK)
        tu_die("imsafe_pool_new for threads");
    imsafe__pool_set_deadline(sh.pool, 300, 5000);
    int nfaults = 0, failures = 0;
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct thread_arg){&sh, 20261207u + (unsigned)t, 0, 0};
        if (pthread_create(&tid[t], NULL, thread_main, &args[t]) != 0)
            tu_die("pthread_create");
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        nfaults += args[t].faults;
        failures += args[t].failures;
    }
    TU_CHECK(failures == 0, "threads: %d of %d calls not as expected (%d faults injected)",
             failures, THREADS * CALLS_PER_THREAD, nfaults);
    TU_CHECK(nfaults > 50, "threads: only %d faults drawn", nfaults);
    imsafe_pool_free(sh.pool);
    for (int k = 0; k < 2; k++)
        imsafe_result_free(sh.ref[k]);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(in_proc);
    imsafe_policy_unref(iso);
    free(png);
    free(jpg);
}

/* -------------------------------------------------------------------- soak */

/* What the host holds: descriptors, child processes (zombies apart), RSS. */
struct usage {
    int fds, children, zombies;
    long rss_kib;
};

static void measure(struct usage *u)
{
    memset(u, 0, sizeof *u);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL)
        tu_die("/proc/self/fd");
    while ((e = readdir(d)) != NULL)
        u->fds += e->d_name[0] != '.';
    closedir(d);
    u->fds--; /* the directory's own descriptor */
    if ((d = opendir("/proc")) == NULL)
        tu_die("/proc");
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512], state;
        int ppid;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')');
        if (rp == NULL || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != getpid())
            continue;
        if (state == 'Z')
            u->zombies++;
        else
            u->children++;
    }
    closedir(d);
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2)
        tu_die("/proc/self/statm");
    fclose(f);
    u->rss_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_soak(void)
{
    const char *env = getenv("IMSAFE_SOAK_CALLS");
    long calls = env != NULL ? strtol(env, NULL, 10) : 2000;
    size_t n[2];
    unsigned char *img[2] = {load("pngsuite/basn2c08.png", &n[0]),
                             load("jpeg/libjpeg-turbo/testorig.jpg", &n[1])};
    imsafe_policy *iso = tu_policy("isolation = process\n");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_pool *pool = NULL;
    struct usage before, after;
    if (imsafe_pool_new(test_helper, 2, &pool) != IMSAFE_OK)
        tu_die("imsafe_pool_new for the soak");
    imsafe__pool_set_deadline(pool, 2000, 5000);
    imsafe_ctx_set_pool(ctx, pool);
    /* warm: the host's allocator and the pool reach their steady state */
    for (int i = 0; i < 50; i++)
        imsafe_result_free(tu_sanitize(ctx, iso, img[i % 2], n[i % 2], "w.img", NULL));
    measure(&before);
    int bad = 0;
    for (long i = 0; i < calls; i++) {
        /* one call in 16 is a crash, one in 16 a lie: faults leak too */
        const char *name = i % 16 == 5 ? "fault-null" : i % 16 == 11 ? "fault-badlen" : "s.img";
        imsafe_result *r = NULL;
        if (imsafe_sanitize(ctx, iso, img[i % 2], n[i % 2], name, NULL, &r) != IMSAFE_OK)
            bad++;
        imsafe_result_free(r);
    }
    measure(&after);
    TU_CHECK(bad == 0, "soak: %d calls failed", bad);
    TU_CHECK(after.fds == before.fds, "soak: %d descriptors before, %d after %ld calls",
             before.fds, after.fds, calls);
    TU_CHECK(after.children == before.children && after.zombies == 0,
             "soak: %d children before, %d (+%d zombies) after", before.children,
             after.children, after.zombies);
#ifndef IMSAFE_SANITIZER_BUILD
    /* ASan keeps freed memory in its quarantine (up to 256 MiB), so the
     * host's RSS says nothing there; LSan reports a leak instead */
    TU_CHECK(after.rss_kib <= before.rss_kib + 2048, "soak: RSS %ld KiB before, %ld KiB after",
             before.rss_kib, after.rss_kib);
#endif
    printf("soak: %ld calls; fds %d/%d, children %d/%d, RSS %ld/%ld KiB\n", calls, before.fds,
           after.fds, before.children, after.children, before.rss_kib, after.rss_kib);
    imsafe_ctx_free(ctx);
    imsafe_pool_free(pool);
    measure(&after);
    TU_CHECK(after.children == 0 && after.zombies == 0, "pool freed: %d children left",
             after.children + after.zombies);
    imsafe_policy_unref(iso);
    free(img[0]);
    free(img[1]);
}

/* -------------------------------------------------------------------- same */

/* Every file under the corpus, the fixtures and fuzz inputs: the verdicts,
 * notes, details and bytes of in-process mode, one fresh worker each. */
static struct {
    imsafe_ctx *ctx;
    const imsafe_policy *in_proc, *iso;
    long files, differ;
} same;

static int same_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode) || sb->st_size > (64 << 20))
        return 0;
    size_t n;
    unsigned char *p = tu_read_file(path, &n);
    if (p == NULL)
        tu_die(path);
    const char *base = strrchr(path, '/');
    same.files++;
    if (!compare(same.ctx, same.in_proc, same.iso, p, n, base ? base + 1 : path, path))
        same.differ++;
    free(p);
    return 0;
}

static void test_same(void)
{
    char dir[4096];
    imsafe_pool *pool = NULL;
    same.in_proc = tu_policy(NULL);
    same.iso = tu_policy("isolation = process\n");
    same.ctx = imsafe_ctx_new(NULL);
    if (imsafe_pool_new(helper, 2, &pool) != IMSAFE_OK)
        tu_die("imsafe_pool_new for the comparison");
    imsafe_ctx_set_pool(same.ctx, pool);
    const char *roots[] = {tu_env("IMSAFE_CORPUS"), tu_env("IMSAFE_FIXTURES"), NULL, NULL};
    tu_fmt(dir, "%s/fuzz/regress", tu_env("IMSAFE_SRCDIR"));
    roots[2] = dir;
    for (int i = 0; i < 3; i++)
        if (nftw(roots[i], same_file, 16, FTW_PHYS) != 0)
            tu_die(roots[i]);
    /* the generated seeds, when the fuzz replay made them */
    char seeds[4096];
    struct stat sb;
    tu_fmt(seeds, "%s/fuzz/seeds", tu_env("IMSAFE_BUILDDIR"));
    if (stat(seeds, &sb) == 0)
        nftw(seeds, same_file, 16, FTW_PHYS);
    TU_CHECK(same.differ == 0, "%ld of %ld files judged differently isolated", same.differ,
             same.files);
    TU_CHECK(same.files > 1000, "only %ld files compared", same.files);
    printf("same: %ld files, %ld differ\n", same.files, same.differ);
    imsafe_ctx_free(same.ctx);
    imsafe_pool_free(pool);
    imsafe_policy_unref((imsafe_policy *)same.in_proc);
    imsafe_policy_unref((imsafe_policy *)same.iso);
}

int main(int argc, char **argv)
{
    helper = tu_env("IMSAFE_WORKER");
    test_helper = tu_env("IMSAFE_WORKER_TEST");
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only == NULL || strcmp(only, "basic") == 0)
        test_basic();
    if (only == NULL || strcmp(only, "faults") == 0)
        test_faults();
    if (only == NULL || strcmp(only, "deadlines") == 0)
        test_policy_deadlines();
    if (only == NULL || strcmp(only, "threads") == 0)
        test_threads();
    if (only == NULL || strcmp(only, "soak") == 0)
        test_soak();
    if (only == NULL || strcmp(only, "same") == 0)
        test_same();
    return tu_finish();
}
