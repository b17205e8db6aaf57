/*
 * imsafe-bench - time libimsafe on a set of files, through the public API.
 *
 *   imsafe-bench [-n RUNS] [--tsv] [-s STATEMENT]... MODE FILE...
 *       in-process: read each FILE once, sanitize it RUNS times (default 9)
 *       and print the median and fastest wall time, MB/s of input (median),
 *       the peak bytes charged to the call's budget and the output size
 *   imsafe-bench [-n RUNS] [--tsv] [-s STATEMENT]... --batch MODE FILE...
 *       the same, but all FILEs are one item: each run sanitizes every one
 *       of them with one context (a gateway's steady state on small files)
 *   imsafe-bench [-s STATEMENT]... --one MODE FILE [OUT]
 *       sanitize FILE once and write the output to OUT: the whole-process
 *       figure (start-up, read, sanitize, write) to set beside other programs.
 *       The output goes through imsafe_sanitize_to() to OUT.tmp, renamed to
 *       OUT when sanitized, as a gateway spooling to disk would do; an OUT
 *       that exists and is not a regular file (/dev/null) is refused
 *   imsafe-bench [-n RUNS] [--tsv] --bombs
 *       build header-level bombs in memory (65535x65535 and 30000x30000 =
 *       900-megapixel PNG, JPEG and GIF, a 10,000-scan progressive JPEG)
 *       and time their rejection; exit 1 unless each is rejected within
 *       1 ms and 1 MiB
 *   imsafe-bench [-n RUNS] --scan
 *       time the foreign-format scanner (tails, passed payloads, the
 *       output gate): a 1x1 PNG followed by 99 MB of '<', of "PK", of "<?",
 *       of zero bytes and of text; prints the median CPU time and MB/s of
 *       tail (a figure, no target)
 *   imsafe-bench [-n RUNS] --fork
 *       the machine's cost of a process: fork a child that touches 0 or
 *       256 fresh pages (1 MiB) and exits, and wait for it, 200 times a
 *       run; prints the median wall time and CPU (parent and child) per
 *       child.  The least that isolation's one process per payload adds
 *       to a payload (a figure, no target)
 *   imsafe-bench --exec CMD [ARG]...
 *       run CMD as a child (stdin, stdout and stderr on /dev/null) and print
 *       "WALL_MS MAXRSS_KIB STATUS CPU_MS": wall time from fork to wait4(),
 *       and from the rusage wait4() returns the child's peak resident set
 *       and its user + system CPU time (steadier than wall time on a
 *       shared machine)
 *
 * MODE is default (the policy defaults), lossless (jpeg_mode = lossless) or
 * pixels (jpeg_mode = pixels).  -s adds one line of policy text (see
 * imsafe-policy(5)), e.g. -s 'png_zlib_level = 1' -s 'png_filters = none'.
 *
 * Exit status: 0 success, 1 an input was rejected (or a bomb missed its
 * target), 2 usage or I/O error.  This program is a measuring tool for
 * `make bench`; it is not installed.
 */
#define _GNU_SOURCE /* wait4() */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imsafe.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define MAX_RUNS 1000
#define POLICY_MAX 4096
/* issue 7: a header-level bomb is refused in under 1 ms and 1 MiB */
#define BOMB_MAX_NS 1000000.0
#define BOMB_MAX_BYTES (1024u * 1024u)

struct opts {
    int runs, tsv;
    char policy[POLICY_MAX]; /* -s statements, one per line */
    size_t policy_len;
};

/* ------------------------------------------------------------ helpers */

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n samples (sorts them in place). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    unsigned char *p = NULL;
    if (f == NULL || fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fprintf(stderr, "imsafe-bench: %s: %s\n", path, strerror(errno));
        goto done;
    }
    /* one extra byte so an empty file still gets a non-NULL buffer */
    p = malloc((size_t)st.st_size + 1);
    if (p == NULL || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "imsafe-bench: %s: cannot read\n", path);
        free(p);
        p = NULL;
        goto done;
    }
    *len = (size_t)st.st_size;
done:
    if (f != NULL)
        fclose(f);
    return p;
}

/* ------------------------------------------------------------ policy */

static int add_statement(struct opts *o, const char *s)
{
    size_t n = strlen(s);
    if (o->policy_len + n + 2 > sizeof o->policy) {
        fputs("imsafe-bench: too much policy text\n", stderr);
        return -1;
    }
    memcpy(o->policy + o->policy_len, s, n);
    o->policy_len += n;
    o->policy[o->policy_len++] = '\n';
    o->policy[o->policy_len] = '\0';
    return 0;
}

/* The frozen policy for MODE plus the -s statements, or NULL. */
static imsafe_policy *make_policy(const struct opts *o, const char *mode)
{
    imsafe_policy *p = imsafe_policy_new();
    char err[256];
    int64_t jm = -1;
    if (strcmp(mode, "lossless") == 0)
        jm = IMSAFE_JPEG_LOSSLESS;
    else if (strcmp(mode, "pixels") == 0)
        jm = IMSAFE_JPEG_PIXELS;
    else if (strcmp(mode, "default") != 0) {
        fprintf(stderr, "imsafe-bench: unknown mode %s (default, lossless, pixels)\n", mode);
        imsafe_policy_unref(p);
        return NULL;
    }
    if (p == NULL || (jm >= 0 && imsafe_policy_set(p, IMSAFE_OPT_JPEG_MODE, jm) != IMSAFE_OK))
        goto fail;
    if (o->policy_len > 0 &&
        imsafe_policy_parse(p, o->policy, o->policy_len, "-s", err, sizeof err) != IMSAFE_OK) {
        fprintf(stderr, "imsafe-bench: %s\n", err);
        goto fail;
    }
    if (imsafe_policy_freeze(p) == IMSAFE_OK)
        return p;
fail:
    imsafe_policy_unref(p);
    return NULL;
}

/* ------------------------------------------------------------ timing */

struct input {
    const char *path;
    unsigned char *data;
    size_t len;
};

struct sample {
    double med_ns, min_ns;
    uint64_t peak;      /* largest peak of the runs */
    size_t in_bytes, out_bytes;
    imsafe_verdict verdict;
    imsafe_reason reason;
};

/* Sanitize one input once; fills the per-run parts of *s.  Returns 0 or -1. */
static int sanitize_once(imsafe_ctx *ctx, const imsafe_policy *p, const struct input *in,
                         struct sample *s)
{
    imsafe_result *r = NULL;
    imsafe_status st = imsafe_sanitize(ctx, p, in->data, in->len, base_name(in->path), NULL, &r);
    if (st != IMSAFE_OK) {
        fprintf(stderr, "imsafe-bench: %s: %s\n", in->path, imsafe_strerror(st));
        return -1;
    }
    size_t olen = 0;
    imsafe_result_output(r, &olen);
    s->out_bytes += olen;
    uint64_t peak = imsafe_result_peak_bytes(r);
    s->peak = peak > s->peak ? peak : s->peak;
    if (imsafe_result_verdict(r) == IMSAFE_REJECTED || s->verdict == 0) {
        s->verdict = imsafe_result_verdict(r);
        s->reason = imsafe_result_reason(r);
    }
    imsafe_result_free(r);
    return 0;
}

/* RUNS timed runs over inputs[0..n-1] (one item); one untimed warm-up run
 * first so page faults of the first touch are not charged to the median. */
static int time_item(const struct opts *o, imsafe_ctx *ctx, const imsafe_policy *p,
                     const struct input *inputs, size_t n, struct sample *s)
{
    double t[MAX_RUNS] = {0};
    memset(s, 0, sizeof *s);
    for (int run = -1; run < o->runs; run++) {
        struct sample one = {0};
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            if (sanitize_once(ctx, p, &inputs[i], &one) != 0)
                return -1;
        double dt = now_ns() - t0;
        if (run >= 0)
            t[run] = dt;
        s->peak = one.peak > s->peak ? one.peak : s->peak;
        s->out_bytes = one.out_bytes;
        s->verdict = one.verdict;
        s->reason = one.reason;
    }
    for (size_t i = 0; i < n; i++)
        s->in_bytes += inputs[i].len;
    s->min_ns = t[0];
    for (int i = 1; i < o->runs; i++)
        s->min_ns = t[i] < s->min_ns ? t[i] : s->min_ns;
    s->med_ns = median(t, o->runs);
    return 0;
}

static void print_header(const struct opts *o)
{
    if (o->tsv)
        puts("file\tmode\truns\tmedian_ms\tmin_ms\tmb_per_s\tpeak_bytes\tin_bytes\tout_bytes"
             "\tverdict\treason");
    else
        printf("%-28s %-9s %4s %10s %10s %8s %12s %10s %10s %s\n", "file", "mode", "runs",
               "median ms", "min ms", "MB/s", "peak bytes", "in bytes", "out bytes",
               "verdict");
}

static void print_sample(const struct opts *o, const char *name, const char *mode,
                         const struct sample *s)
{
    double mbs = s->med_ns > 0 ? (double)s->in_bytes / 1e6 / (s->med_ns / 1e9) : 0;
    const char *reason = s->reason ? imsafe_reason_name(s->reason) : "-";
    if (o->tsv)
        printf("%s\t%s\t%d\t%.3f\t%.3f\t%.1f\t%llu\t%zu\t%zu\t%s\t%s\n", name, mode, o->runs,
               s->med_ns / 1e6, s->min_ns / 1e6, mbs, (unsigned long long)s->peak, s->in_bytes,
               s->out_bytes, imsafe_verdict_name(s->verdict), reason);
    else
        printf("%-28s %-9s %4d %10.3f %10.3f %8.1f %12llu %10zu %10zu %s%s%s\n", name, mode,
               o->runs, s->med_ns / 1e6, s->min_ns / 1e6, mbs, (unsigned long long)s->peak,
               s->in_bytes, s->out_bytes, imsafe_verdict_name(s->verdict),
               s->reason ? " " : "", s->reason ? reason : "");
}

static int load_inputs(char **paths, size_t n, struct input *inputs)
{
    for (size_t i = 0; i < n; i++) {
        inputs[i].path = paths[i];
        inputs[i].data = read_file(paths[i], &inputs[i].len);
        if (inputs[i].data == NULL)
            return -1;
    }
    return 0;
}

/* In-process timing of each file, or of all files as one batch. */
static int cmd_time(const struct opts *o, const char *mode, char **paths, size_t n, int batch)
{
    int rc = EXIT_USAGE;
    imsafe_policy *p = make_policy(o, mode);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    struct input *inputs = calloc(n, sizeof *inputs);
    if (p == NULL || ctx == NULL || inputs == NULL || load_inputs(paths, n, inputs) != 0)
        goto done;
    print_header(o);
    rc = 0;
    for (size_t i = 0; i < (batch ? 1 : n); i++) {
        struct sample s;
        char label[64];
        if (time_item(o, ctx, p, batch ? inputs : &inputs[i], batch ? n : 1, &s) != 0) {
            rc = EXIT_USAGE;
            break;
        }
        snprintf(label, sizeof label, "batch of %zu", n);
        print_sample(o, batch ? label : base_name(paths[i]), mode, &s);
        if (s.verdict == IMSAFE_REJECTED && rc == 0)
            rc = EXIT_REJECTED;
    }
done:
    for (size_t i = 0; inputs != NULL && i < n; i++)
        free(inputs[i].data);
    free(inputs);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    return rc;
}

/* ------------------------------------------------------------ --one */

/* The input mapped read-only: the library borrows the bytes, so a host
 * needs no private copy (the floor and the peers stream through stdio;
 * a copy would charge this program 3 MB of page faults they do not pay).
 * NULL for an empty or unmappable file: the caller reads it instead. */
static void *map_file(const char *path, size_t *len)
{
    struct stat st;
    void *p = MAP_FAILED;
    int fd = open(path, O_RDONLY);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        *len = (size_t)st.st_size;
    }
    if (fd >= 0)
        close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static int sink_to_file(void *opaque, const void *data, size_t len)
{
    return fwrite(data, 1, len, opaque) == len ? 0 : -1;
}

static int sink_rewind(void *opaque)
{
    FILE *f = opaque;
    return fflush(f) == 0 && ftruncate(fileno(f), 0) == 0 && fseek(f, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* Sanitize in into OUT.tmp through a sink, renamed to OUT when accepted. */
static int one_to_file(imsafe_ctx *ctx, const imsafe_policy *p, const char *path,
                       const unsigned char *in, size_t len, const char *out, imsafe_result **r)
{
    char tmp[4096];
    FILE *f = NULL;
    struct stat st_out;
    /* the rename would put a regular file in place of a device or a
     * directory's entry ("--one ... /dev/null" replaced the device) */
    if (lstat(out, &st_out) == 0 && !S_ISREG(st_out.st_mode))
        return fprintf(stderr, "imsafe-bench: %s: not a regular file; not replaced\n", out), -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp || !(f = fopen(tmp, "wb")))
        return fprintf(stderr, "imsafe-bench: %s: cannot write\n", out), -1;
    imsafe_sink sink = {sink_to_file, f, 0, sink_rewind};
    imsafe_status st = imsafe_sanitize_to(ctx, p, in, len, base_name(path), NULL, &sink, r);
    imsafe_verdict v = imsafe_result_verdict(*r);
    int ok = st == IMSAFE_OK && (v != IMSAFE_PASSED || fwrite(in, 1, len, f) == len);
    if (fclose(f) != 0)
        ok = 0;
    if (ok && v != IMSAFE_REJECTED && rename(tmp, out) == 0)
        return 0;
    unlink(tmp);
    if (st == IMSAFE_OK && v == IMSAFE_REJECTED)
        return 0;
    fprintf(stderr, "imsafe-bench: %s: %s\n", out, imsafe_strerror(st));
    return -1;
}

static int cmd_one(const struct opts *o, const char *mode, const char *path, const char *out)
{
    int rc = EXIT_USAGE;
    size_t len = 0;
    imsafe_result *r = NULL;
    imsafe_policy *p = make_policy(o, mode);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    unsigned char *mapped = map_file(path, &len);
    unsigned char *in = mapped ? mapped : read_file(path, &len);
    if (p == NULL || ctx == NULL || in == NULL)
        goto done;
    if (out != NULL ? one_to_file(ctx, p, path, in, len, out, &r) != 0
                    : imsafe_sanitize(ctx, p, in, len, base_name(path), NULL, &r) != IMSAFE_OK)
        goto done;
    rc = 0;
    if (imsafe_result_verdict(r) == IMSAFE_REJECTED) {
        fprintf(stderr, "imsafe-bench: %s: rejected %s\n", path,
                imsafe_reason_name(imsafe_result_reason(r)));
        rc = EXIT_REJECTED;
    }
done:
    imsafe_result_free(r);
    if (mapped != NULL)
        munmap(mapped, len);
    else
        free(in);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    return rc;
}

/* ------------------------------------------------------------ --exec */

/* User plus system CPU time of a rusage, in ns. */
static double rusage_cpu_ns(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e9 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1e3;
}

static int cmd_exec(char **argv)
{
    struct rusage ru;
    int status = 0;
    double t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("imsafe-bench: fork");
        return EXIT_USAGE;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("imsafe-bench: wait4");
            return EXIT_USAGE;
        }
    double dt = now_ns() - t0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    /* Linux reports ru_maxrss in KiB */
    printf("%.3f %ld %d %.3f\n", dt / 1e6, ru.ru_maxrss, code, rusage_cpu_ns(&ru) / 1e6);
    return 0;
}

/* ------------------------------------------------------------ --fork */

#define FORKS_PER_RUN 200

/* One child: touch `pages` fresh pages, exit.  0, or -1 (fork failed or
 * the child did not exit 0). */
static int fork_one(size_t pages)
{
    int status = 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (pages > 0) {
            char *m = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED)
                _exit(1);
            for (size_t i = 0; i < pages; i++)
                m[i * 4096] = 1;
        }
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static double children_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return rusage_cpu_ns(&ru);
}

static int cmd_fork(const struct opts *o)
{
    static const size_t pages[] = {0, 256};
    printf("%-28s %10s %10s\n", "one process (per child)", "wall ms", "cpu ms");
    for (size_t k = 0; k < sizeof pages / sizeof pages[0]; k++) {
        double wall[MAX_RUNS], cpu[MAX_RUNS];
        for (int run = 0; run < o->runs; run++) {
            double t0 = now_ns(), c0 = cpu_ns() + children_cpu_ns();
            for (int i = 0; i < FORKS_PER_RUN; i++)
                if (fork_one(pages[k]) != 0) {
                    perror("imsafe-bench: fork");
                    return EXIT_USAGE;
                }
            wall[run] = (now_ns() - t0) / FORKS_PER_RUN;
            cpu[run] = (cpu_ns() + children_cpu_ns() - c0) / FORKS_PER_RUN;
        }
        printf("fork+exit+wait, %3zu pages  %10.3f %10.3f\n", pages[k],
               median(wall, o->runs) / 1e6, median(cpu, o->runs) / 1e6);
    }
    return 0;
}

/* ------------------------------------------------------------ bombs */

struct mem {
    unsigned char *p;
    size_t len, cap;
};

static int put_bytes(struct mem *m, const void *p, size_t n)
{
    size_t need, cap;
    if (__builtin_add_overflow(m->len, n, &need))
        return -1;
    if (need > m->cap) {
        if (__builtin_add_overflow(m->cap, n, &cap) || __builtin_mul_overflow(cap, 2, &cap))
            return -1;
        unsigned char *q = realloc(m->p, cap);
        if (q == NULL)
            return -1;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static int put_u8(struct mem *m, unsigned v)
{
    unsigned char b = (unsigned char)v;
    return put_bytes(m, &b, 1);
}

static int put_be16(struct mem *m, unsigned v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    return put_bytes(m, b, 2);
}

static int put_le16(struct mem *m, unsigned v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    return put_bytes(m, b, 2);
}

static int put_be32(struct mem *m, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return put_bytes(m, b, 4);
}

/* CRC-32 of PNG (ISO 3309), bitwise: a bench tool need not be fast here. */
static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static int png_chunk(struct mem *m, const char *type, const unsigned char *data, size_t n)
{
    size_t start = m->len + 4;
    if (put_be32(m, (uint32_t)n) || put_bytes(m, type, 4) || (n && put_bytes(m, data, n)))
        return -1;
    return put_be32(m, crc32_png(m->p + start, 4 + n));
}

/* PNG: IHDR w x h, 8-bit RGBA, then a small zlib stream (one stored block of
 * filter-0 rows) as IDAT, as a real bomb carries data after the header. */
static int make_png(struct mem *m, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char idat[] = {0x78, 0x01, 0x01, 0x00, 0x01, 0xff, 0xfe};
    unsigned char ihdr[13] = {0};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 6;  /* RGBA */
    unsigned char big[4096 + sizeof idat];
    memcpy(big, idat, sizeof idat);
    memset(big + sizeof idat, 0, 4096);
    return put_bytes(m, sig, sizeof sig) || png_chunk(m, "IHDR", ihdr, sizeof ihdr) ||
           png_chunk(m, "IDAT", big, sizeof big) || png_chunk(m, "IEND", NULL, 0);
}

/* JPEG tables every frame below uses: one quantisation table of ones and a
 * one-code Huffman table (symbol 0: DC diff 0 / AC EOB) for DC and AC. */
static int jpeg_tables(struct mem *m)
{
    if (put_be16(m, 0xffdb) || put_be16(m, 67) || put_u8(m, 0))
        return -1;
    for (int i = 0; i < 64; i++)
        if (put_u8(m, 1))
            return -1;
    for (unsigned tc = 0; tc < 2; tc++) {
        if (put_be16(m, 0xffc4) || put_be16(m, 2 + 1 + 16 + 1) || put_u8(m, tc << 4) ||
            put_u8(m, 1))
            return -1;
        for (int i = 1; i < 16; i++)
            if (put_u8(m, 0))
                return -1;
        if (put_u8(m, 0))
            return -1;
    }
    return 0;
}

/* SOF (marker sof) of w x h with nc components, 1x1 sampling, table 0. */
static int jpeg_sof(struct mem *m, unsigned sof, unsigned w, unsigned h, unsigned nc)
{
    if (put_be16(m, sof) || put_be16(m, 8 + 3 * nc) || put_u8(m, 8) || put_be16(m, h) ||
        put_be16(m, w) || put_u8(m, nc))
        return -1;
    for (unsigned c = 1; c <= nc; c++)
        if (put_u8(m, c) || put_u8(m, 0x11) || put_u8(m, 0))
            return -1;
    return 0;
}

/* SOS over component 1 with spectral range ss..se, then a little entropy
 * data (zero bits: DC diff 0 / EOB). */
static int jpeg_sos(struct mem *m, unsigned ss, unsigned se, unsigned ahal, size_t data)
{
    if (put_be16(m, 0xffda) || put_be16(m, 8) || put_u8(m, 1) || put_u8(m, 1) ||
        put_u8(m, 0x00) || put_u8(m, ss) || put_u8(m, se) || put_u8(m, ahal))
        return -1;
    for (size_t i = 0; i < data; i++)
        if (put_u8(m, 0))
            return -1;
    return 0;
}

static int make_jpeg_big(struct mem *m, unsigned w, unsigned h)
{
    return put_be16(m, 0xffd8) || jpeg_tables(m) || jpeg_sof(m, 0xffc0, w, h, 3) ||
           jpeg_sos(m, 0, 63, 0, 4096) || put_be16(m, 0xffd9);
}

/* 10,000 scans: a progressive 1024x1024 greyscale frame, a DC scan, then AC
 * scans over and over (THREATS.md #12: each scan costs a pass over every
 * block of the coefficient array). */
static int make_jpeg_scans(struct mem *m)
{
    if (put_be16(m, 0xffd8) || jpeg_tables(m) || jpeg_sof(m, 0xffc2, 1024, 1024, 1) ||
        jpeg_sos(m, 0, 0, 0, 16))
        return -1;
    for (int i = 1; i < 10000; i++)
        if (jpeg_sos(m, 1, 63, 0, 2))
            return -1;
    return put_be16(m, 0xffd9);
}

/* GIF89a with a w x h logical screen, a 2-colour global table and one 1x1
 * frame (LZW minimum code size 2: clear, index 0, end). */
static int make_gif(struct mem *m, unsigned w, unsigned h)
{
    static const unsigned char frame[] = {0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00,
                                          0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
    return put_bytes(m, "GIF89a", 6) || put_le16(m, w) || put_le16(m, h) ||
           put_u8(m, 0x80) || put_u8(m, 0) || put_u8(m, 0) ||
           put_bytes(m, "\0\0\0\377\377\377", 6) || put_bytes(m, frame, sizeof frame);
}

/* kind: 0 PNG, 1 JPEG SOF, 2 JPEG scans, 3 GIF screen; w x h.  30000 x
 * 30000 is 900 megapixels with each side under the 32768 default: the
 * pixel limit, not the width limit, must refuse it. */
struct bomb {
    const char *name, *claimed;
    int kind;
    unsigned w, h;
};

static int make_bomb(const struct bomb *b, struct mem *m)
{
    switch (b->kind) {
    case 0: return make_png(m, b->w, b->h);
    case 1: return make_jpeg_big(m, b->w, b->h);
    case 2: return make_jpeg_scans(m);
    default: return make_gif(m, b->w, b->h);
    }
}

static int cmd_bombs(const struct opts *o)
{
    static const struct bomb bombs[] = {
        {"png-65535x65535", "bomb.png", 0, 65535, 65535},
        {"png-900mp-30000x30000", "bomb.png", 0, 30000, 30000},
        {"jpeg-sof-65535x65535", "bomb.jpg", 1, 65535, 65535},
        {"jpeg-sof-30000x30000", "bomb.jpg", 1, 30000, 30000},
        {"jpeg-10000-scans", "bomb.jpg", 2, 1024, 1024},
        {"gif-screen-65535x65535", "bomb.gif", 3, 65535, 65535},
        {"gif-screen-30000x30000", "bomb.gif", 3, 30000, 30000},
    };
    imsafe_policy *p = make_policy(o, "default");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    int rc = 0;
    if (p == NULL || ctx == NULL)
        rc = EXIT_USAGE;
    if (rc == 0 && o->tsv)
        puts("bomb\tin_bytes\tmedian_us\tpeak_bytes\treason\ttarget");
    else if (rc == 0)
        printf("%-24s %9s %10s %11s %-28s %s\n", "bomb", "in bytes", "median us",
               "peak bytes", "reason", "target <1 ms, <1 MiB");
    for (size_t b = 0; rc != EXIT_USAGE && b < sizeof bombs / sizeof bombs[0]; b++) {
        struct mem m = {0};
        struct sample s;
        struct input in = {bombs[b].claimed, NULL, 0};
        if (make_bomb(&bombs[b], &m) != 0) {
            rc = EXIT_USAGE;
            free(m.p);
            break;
        }
        in.data = m.p;
        in.len = m.len;
        if (time_item(o, ctx, p, &in, 1, &s) != 0) {
            rc = EXIT_USAGE;
            free(m.p);
            break;
        }
        int met = s.verdict == IMSAFE_REJECTED && s.med_ns < BOMB_MAX_NS &&
                  s.peak < BOMB_MAX_BYTES;
        const char *reason = s.reason ? imsafe_reason_name(s.reason) : "NOT REJECTED";
        if (o->tsv)
            printf("%s\t%zu\t%.1f\t%llu\t%s\t%s\n", bombs[b].name, m.len, s.med_ns / 1e3,
                   (unsigned long long)s.peak, reason, met ? "met" : "MISSED");
        else
            printf("%-24s %9zu %10.1f %11llu %-28s %s\n", bombs[b].name, m.len, s.med_ns / 1e3,
                   (unsigned long long)s.peak, reason, met ? "met" : "MISSED");
        if (!met)
            rc = EXIT_REJECTED;
        free(m.p);
    }
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    return rc;
}

/* The one scanner (tails, passed payloads, the output gate) on a 1x1 PNG
 * followed by 99 MB of one pattern: MB/s of tail through the public API.
 * A run of '<' used to cost 6 s of CPU (every signature compared at every
 * byte); "PK" and "<?" are the densest candidate floods the scanner has.
 * Then text of the largest size the default policy admits, made of one
 * opener's prefix: each costs the text scanner a look at every unit
 * (issue 14's goal: no input over 1 s of CPU). */
static int cmd_scan(const struct opts *o)
{
    static const struct {
        const char *name, *fill;
        size_t fill_len;
        int png; /* behind a 1x1 PNG, or a text payload alone */
    } tails[] = {
        {"png-1x1+99MB-of-<", "<", 1, 1},
        {"png-1x1+99MB-of-PK", "PK", 2, 1},
        {"png-1x1+99MB-of-<?", "<?", 2, 1},
        {"png-1x1+99MB-of-zero", "\0", 1, 1},
        {"png-1x1+99MB-of-text", "a plain line of text, ", 22, 1},
        {"text-99MB-of-<c", "<c", 2, 0},
        {"text-99MB-of-<%", "<%", 2, 0},
        {"text-99MB-of-<cf", "<cf", 3, 0},
        {"text-99MB-of-<sc", "<sc", 3, 0},
        {"text-99MB-of-<a_b_", "<a b ", 5, 0},
        {"text-99MB-of-](", "](", 2, 0},
        {"text-99MB-of-<!--#", "<!--#", 5, 0},
        {"text-99MB-of-lines", "\n ", 2, 0},
        {"text-99MB-of-words", "a plain line of text, ", 22, 0},
    };
    /* a valid 1x1 grey PNG: the tail is judged after the image checks out */
    static const unsigned char png1[] =
        "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01"
        "\x00\x00\x00\x01\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\x00\x00\x00\x0a\x49\x44\x41"
        "\x54\x78\xda\x63\x60\x00\x00\x00\x02\x00\x01\xe5\x27\xde\xfc\x00\x00\x00\x00\x49"
        "\x45\x4e\x44\xae\x42\x60\x82";
    const size_t tail = 99000000;
    imsafe_policy *p = make_policy(o, "default");
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    int rc = p == NULL || ctx == NULL ? EXIT_USAGE : 0;
    if (rc == 0)
        printf("%-24s %11s %10s %8s %s\n", "scan", "bytes", "cpu ms", "MB/s", "verdict");
    for (size_t k = 0; rc == 0 && k < sizeof tails / sizeof tails[0]; k++) {
        struct mem m = {0};
        struct sample s;
        if (tails[k].png && put_bytes(&m, png1, sizeof png1 - 1) != 0)
            rc = EXIT_USAGE;
        while (rc == 0 && m.len < tail + 100)
            rc = put_bytes(&m, tails[k].fill, tails[k].fill_len) != 0 ? EXIT_USAGE : 0;
        struct input in = {tails[k].png ? "scan.png" : "scan.txt", m.p, m.len};
        double t[MAX_RUNS];
        /* CPU time of the process, not wall time: the figure stays put on
         * a shared machine (the call is single-threaded and does no I/O) */
        for (int run = 0; rc == 0 && run < o->runs; run++) {
            double t0 = cpu_ns();
            memset(&s, 0, sizeof s);
            if (sanitize_once(ctx, p, &in, &s) != 0)
                rc = EXIT_USAGE;
            t[run] = cpu_ns() - t0;
        }
        double med = rc == 0 ? median(t, o->runs) : 0;
        if (rc == 0)
            printf("%-24s %11zu %10.1f %8.0f %s\n", tails[k].name, m.len, med / 1e6,
                   (double)m.len / (med / 1e9) / 1e6,
                   s.reason ? imsafe_reason_name(s.reason) : imsafe_verdict_name(s.verdict));
        free(m.p);
    }
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    return rc;
}

/* ------------------------------------------------------------ main */

static int usage(void)
{
    fputs("usage: imsafe-bench [-n RUNS] [--tsv] [-s STATEMENT]... MODE FILE...\n"
          "       imsafe-bench [-n RUNS] [--tsv] [-s STATEMENT]... --batch MODE FILE...\n"
          "       imsafe-bench [-s STATEMENT]... --one MODE FILE [OUT]\n"
          "       imsafe-bench [-n RUNS] [--tsv] --bombs\n"
          "       imsafe-bench [-n RUNS] --scan\n"
          "       imsafe-bench [-n RUNS] --fork\n"
          "       imsafe-bench --exec CMD [ARG]...\n"
          "MODE: default | lossless | pixels (JPEG mode); -s adds a policy line\n",
          stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct opts o = {.runs = 9};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            o.runs = atoi(argv[++i]);
            if (o.runs < 1 || o.runs > MAX_RUNS)
                return usage();
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (add_statement(&o, argv[++i]) != 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--tsv") == 0) {
            o.tsv = 1;
        } else {
            break;
        }
    }
    const char *cmd = i < argc ? argv[i] : "";
    if (strcmp(cmd, "--exec") == 0 && i + 1 < argc)
        return cmd_exec(argv + i + 1);
    if (strcmp(cmd, "--bombs") == 0 && i + 1 == argc)
        return cmd_bombs(&o);
    if (strcmp(cmd, "--scan") == 0 && i + 1 == argc)
        return cmd_scan(&o);
    if (strcmp(cmd, "--fork") == 0 && i + 1 == argc)
        return cmd_fork(&o);
    if (strcmp(cmd, "--one") == 0 && (argc - i == 3 || argc - i == 4))
        return cmd_one(&o, argv[i + 1], argv[i + 2], argc - i == 4 ? argv[i + 3] : NULL);
    if (strcmp(cmd, "--batch") == 0 && argc - i >= 3)
        return cmd_time(&o, argv[i + 1], argv + i + 2, (size_t)(argc - i - 2), 1);
    if (cmd[0] != '-' && argc - i >= 2)
        return cmd_time(&o, cmd, argv + i + 1, (size_t)(argc - i - 1), 0);
    return usage();
}
