/*
 * imsafe-check - judge attachments with libimsafe, from the command line.
 *
 *   imsafe-check [--policy FILE] [--print-policy] [--json] [-q] [-j N]
 *                [-o DIR] [--name NAME] [--mime TYPE] FILE... | -
 *
 * Uses the public API only.  Every input is judged by content; its claimed
 * name defaults to the file's base name.  Exit status: 2 for a usage error or
 * an unreadable input, else 1 when any input was rejected, else 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sha2.h>

#include "imsafe.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2

struct opts {
    const char *policy_file, *outdir, *name, *mime;
    int json, quiet, print_policy, threads;
};

/* One input and, once judged, its report line. */
struct item {
    const char *path;
    char *line;     /* the report (with newline), or NULL */
    char *errmsg;   /* an error for stderr, or NULL */
    int status;     /* 0 accepted, 1 rejected, 2 error */
    int done;
    int have_id;    /* dev/ino of the input, stat()ed once before the batch */
    dev_t dev;
    ino_t ino;
};

struct batch {
    const struct opts *o;
    const imsafe_policy *policy;
    struct item *items;
    size_t count, next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* ------------------------------------------------------------ strings */

struct str {
    char *p;
    size_t len, cap;
};

static void put(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct str *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if (s->p && (size_t)n < s->cap - s->len) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap + (size_t)n + 1) * 2;
        char *np = realloc(s->p, cap);
        if (np == NULL) {
            fputs("imsafe-check: out of memory\n", stderr);
            exit(EXIT_USAGE);
        }
        s->p = np;
        s->cap = cap;
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0; /* overlong, above U+10FFFF */
    return len;
}

/* A JSON string.  Invalid UTF-8 bytes are written as the text "\xNN" (an
 * escaped backslash, x, two hex digits): never raw. */
static void put_json_str(struct str *s, const char *v)
{
    if (v == NULL) {
        put(s, "null");
        return;
    }
    const unsigned char *p = (const unsigned char *)v;
    size_t n = strlen(v);
    put(s, "\"");
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (l == 0) {
            put(s, "\\\\x%02x", p[i++]);
        } else if (l > 1) {
            put(s, "%.*s", (int)l, (const char *)p + i);
            i += l;
        } else {
            unsigned char c = p[i++];
            if (c == '"' || c == '\\')
                put(s, "\\%c", c);
            else if (c < 0x20 || c == 0x7f)
                put(s, "\\u%04x", c);
            else
                put(s, "%c", c);
        }
    }
    put(s, "\"");
}

/* For human lines: the path with every byte outside printable ASCII shown
 * as \xNN, so no terminal control sequence from a name reaches the screen. */
static void put_safe_path(struct str *s, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '\\')
            put(s, "\\x%02x", *p);
        else
            put(s, "%c", *p);
    }
}

/* ------------------------------------------------------------ files */

/* Read and count the rest of an oversized stream. */
static off_t drain_fd(int fd)
{
    char scratch[65536];
    off_t total = 0;
    for (ssize_t r; (r = read(fd, scratch, sizeof scratch)) > 0;)
        total += r;
    return total;
}

/* Read at most max bytes + 1 (so an oversized input is still judged as
 * such by the library without reading all of it). */
static unsigned char *read_input(const char *path, size_t max, size_t *len, off_t *full,
                                 const char **err)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *err = strerror(errno);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        *err = "is a directory";
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (ssize_t r = 1; buf != NULL && r > 0 && n <= max;) {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - n;
        if (want > max + 1 - n)
            want = max + 1 - n;
        r = read(fd, buf + n, want);
        if (r < 0) {
            *err = strerror(errno);
            free(buf);
            buf = NULL;
        } else {
            n += (size_t)r;
        }
    }
    if (buf == NULL && *err == NULL)
        *err = "out of memory";
    *full = (off_t)n;
    if (buf != NULL && n > max && S_ISREG(st.st_mode))
        *full = st.st_size;
    else if (buf != NULL && n > max)
        *full += drain_fd(fd); /* a pipe: count what the library will not see */
    if (fd != 0)
        close(fd);
    *len = n;
    return buf;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Would writing dst replace one of the inputs (same file by any path)? */
static int is_an_input(const struct batch *b, const char *dst)
{
    struct stat sd;
    if (stat(dst, &sd) != 0)
        return 0;
    for (size_t i = 0; i < b->count; i++)
        if (b->items[i].have_id && b->items[i].dev == sd.st_dev && b->items[i].ino == sd.st_ino)
            return 1;
    return 0;
}

/* An output being written: DIR/<base> through a temporary file in DIR,
 * renamed over dst only when complete (a rejection or a failure unlinks it),
 * never over one of the inputs. */
struct outfile {
    char dst[PATH_MAX], tmp[PATH_MAX];
    int fd; /* -1: none open */
};

/* Returns NULL or an error text. */
static const char *out_open(const struct batch *b, const char *path, struct outfile *of)
{
    /* standard input is written under the name it was given */
    const char *name = base_name(strcmp(path, "-") == 0 ? b->o->name : path);
    of->fd = -1;
    if (snprintf(of->dst, sizeof of->dst, "%s/%s", b->o->outdir, name) >= (int)sizeof of->dst ||
        snprintf(of->tmp, sizeof of->tmp, "%s/.imsafe-XXXXXX", b->o->outdir) >= (int)sizeof of->tmp)
        return "output path too long";
    if (*name == '\0' || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
        return "no usable output name";
    if (is_an_input(b, of->dst))
        return "the output would replace an input; not written";
    of->fd = mkstemp(of->tmp);
    return of->fd < 0 ? strerror(errno) : NULL;
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *q = p;
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, q + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

static const char *out_commit(struct outfile *of)
{
    const char *err = NULL;
    if (fchmod(of->fd, 0644) != 0)
        err = strerror(errno);
    if (close(of->fd) != 0 && err == NULL)
        err = strerror(errno);
    of->fd = -1;
    if (err == NULL && rename(of->tmp, of->dst) != 0)
        err = strerror(errno);
    if (err != NULL)
        unlink(of->tmp);
    return err;
}

static void out_abort(struct outfile *of)
{
    if (of->fd < 0)
        return;
    close(of->fd);
    unlink(of->tmp);
    of->fd = -1;
}

/* The library's sink: the rebuilt bytes go straight to the temporary file
 * (so no whole output is held in memory) and, for --json, into a digest. */
struct sinkstate {
    int fd;   /* -1: no file */
    int hash; /* 1: feed sha */
    SHA2_CTX sha;
    const char *err;
};

static int sink_write(void *opaque, const void *data, size_t len)
{
    struct sinkstate *ss = opaque;
    if (ss->hash)
        SHA256Update(&ss->sha, data, len);
    if (ss->fd >= 0 && write_all(ss->fd, data, len) != 0) {
        ss->err = strerror(errno);
        return -1;
    }
    return 0;
}

/* The output gate refused a first encoding: start the file and the digest
 * over (the temporary file is truncated, never the destination). */
static int sink_rewind(void *opaque)
{
    struct sinkstate *ss = opaque;
    SHA256Init(&ss->sha);
    if (ss->fd >= 0 && (ftruncate(ss->fd, 0) != 0 || lseek(ss->fd, 0, SEEK_SET) != 0)) {
        ss->err = strerror(errno);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ reports */

static void put_notes_json(struct str *s, const imsafe_result *r)
{
    put(s, "[");
    for (size_t i = 0; i < imsafe_result_note_count(r); i++)
        put(s, "%s\"%s\"", i ? "," : "", imsafe_reason_name(imsafe_result_note(r, i)));
    put(s, "]");
}

static void put_sha(struct str *s, const void *p, size_t n, int valid)
{
    char hex[SHA256_DIGEST_STRING_LENGTH];
    if (!valid)
        put(s, "null");
    else
        put(s, "\"%s\"", SHA256Data(p, n, hex));
}

static void report_json(struct str *s, const char *path, const imsafe_result *r,
                        const unsigned char *in, size_t in_len, off_t full, const char *sha_out)
{
    int sanitized = imsafe_result_verdict(r) == IMSAFE_SANITIZED;
    imsafe_reason reason = imsafe_result_reason(r);
    put(s, "{\"file\":");
    put_json_str(s, path);
    put(s, ",\"verdict\":\"%s\",\"type\":\"%s\",\"reason\":",
        imsafe_verdict_name(imsafe_result_verdict(r)), imsafe_type_name(imsafe_result_type(r)));
    put_json_str(s, reason ? imsafe_reason_name(reason) : NULL);
    put(s, ",\"notes\":");
    put_notes_json(s, r);
    put(s, ",\"detail\":");
    put_json_str(s, imsafe_result_detail(r));
    put(s, ",\"display_name\":");
    put_json_str(s, imsafe_result_display_name(r));
    put(s, ",\"in_bytes\":%lld,\"out_bytes\":", (long long)full);
    if (sanitized)
        put(s, "%llu", (unsigned long long)imsafe_result_output_size(r));
    else
        put(s, "null");
    put(s, ",\"sha256_in\":");
    put_sha(s, in, in_len, (off_t)in_len == full);
    put(s, ",\"sha256_out\":");
    if (sanitized)
        put(s, "\"%s\"", sha_out);
    else
        put(s, "null");
    put(s, "}\n");
}

static void report_human(struct str *s, const char *path, const imsafe_result *r)
{
    imsafe_reason reason = imsafe_result_reason(r);
    put_safe_path(s, path);
    put(s, ": %s %s", imsafe_verdict_name(imsafe_result_verdict(r)),
        imsafe_type_name(imsafe_result_type(r)));
    if (reason)
        put(s, " [%s]", imsafe_reason_name(reason));
    for (size_t i = 0; i < imsafe_result_note_count(r); i++)
        put(s, "%s%s", i ? ", " : " (notes: ", imsafe_reason_name(imsafe_result_note(r, i)));
    if (imsafe_result_note_count(r))
        put(s, ")");
    if (*imsafe_result_detail(r))
        put(s, " - %s", imsafe_result_detail(r));
    put(s, "\n");
}

/* ------------------------------------------------------------ one input */

static void fail_item(struct item *it, const char *what, const char *why)
{
    struct str s = {0};
    put(&s, "imsafe-check: ");
    put_safe_path(&s, it->path);
    put(&s, ": %s: %s\n", what, why);
    it->errmsg = s.p;
    it->status = EXIT_USAGE;
}

/* Judge in with the output going to of (when -o) and the digest; fills
 * the report.  Returns NULL or the text of an output error. */
static const char *judge_into(const struct batch *b, imsafe_ctx *ctx, struct item *it,
                              const unsigned char *in, size_t len, off_t full,
                              struct outfile *of)
{
    const char *name = b->o->name ? b->o->name : base_name(it->path);
    struct sinkstate ss = {.fd = of->fd, .hash = b->o->json};
    imsafe_sink sink = {sink_write, &ss, 0, sink_rewind};
    imsafe_result *r = NULL;
    char sha_out[SHA256_DIGEST_STRING_LENGTH] = "";
    SHA256Init(&ss.sha);
    imsafe_status st = imsafe_sanitize_to(ctx, b->policy, in, len, name, b->o->mime, &sink, &r);
    if (st != IMSAFE_OK) {
        fail_item(it, st == IMSAFE_ESINK ? "cannot write output" : "cannot judge",
                  st == IMSAFE_ESINK && ss.err ? ss.err : imsafe_strerror(st));
        return NULL;
    }
    imsafe_verdict v = imsafe_result_verdict(r);
    it->status = v == IMSAFE_REJECTED ? EXIT_REJECTED : 0;
    if (ss.hash)
        SHA256End(&ss.sha, sha_out);
    struct str s = {0};
    int shown = !b->o->quiet || v == IMSAFE_REJECTED; /* -q: rejections only */
    if (shown && b->o->json)
        report_json(&s, it->path, r, in, len, full, sha_out);
    else if (shown)
        report_human(&s, it->path, r);
    it->line = s.p;
    imsafe_result_free(r);
    const char *werr = NULL;
    if (of->fd >= 0 && v == IMSAFE_PASSED && write_all(of->fd, in, len) != 0)
        werr = strerror(errno); /* passed: the input itself is the output */
    if (of->fd >= 0 && v != IMSAFE_REJECTED && werr == NULL)
        werr = out_commit(of);
    return werr;
}

static void judge(const struct batch *b, imsafe_ctx *ctx, struct item *it)
{
    int64_t max = 0;
    size_t len = 0;
    off_t full = 0;
    const char *err = NULL, *oerr = NULL;
    struct outfile of = {.fd = -1};
    imsafe_policy_get(b->policy, IMSAFE_OPT_MAX_INPUT_BYTES, &max);
    unsigned char *in = read_input(it->path, (size_t)max, &len, &full, &err);
    if (in == NULL) {
        fail_item(it, "cannot read", err);
        return;
    }
    if (b->o->outdir != NULL)
        oerr = out_open(b, it->path, &of); /* reported only if there is output */
    const char *werr = judge_into(b, ctx, it, in, len, full, &of);
    if (werr == NULL && oerr != NULL && it->status == 0)
        werr = oerr;
    if (werr != NULL)
        fail_item(it, "cannot write output", werr);
    out_abort(&of);
    free(in);
}

/* ------------------------------------------------------------ batch */

static void *worker(void *arg)
{
    struct batch *b = arg;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    for (;;) {
        pthread_mutex_lock(&b->mu);
        size_t i = b->next++;
        pthread_mutex_unlock(&b->mu);
        if (i >= b->count)
            break;
        if (ctx == NULL)
            fail_item(&b->items[i], "cannot judge", "out of memory");
        else
            judge(b, ctx, &b->items[i]);
        pthread_mutex_lock(&b->mu);
        b->items[i].done = 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
    imsafe_ctx_free(ctx);
    return NULL;
}

/* Print reports in input order as they complete; a progress line on a
 * terminal for long batches. */
static int drain(struct batch *b)
{
    int worst = 0, progress = isatty(2) && b->count >= 20;
    for (size_t i = 0; i < b->count; i++) {
        pthread_mutex_lock(&b->mu);
        while (!b->items[i].done)
            pthread_cond_wait(&b->cv, &b->mu);
        pthread_mutex_unlock(&b->mu);
        struct item *it = &b->items[i];
        if (progress)
            fputs("\r\033[K", stderr);
        if (it->line)
            fputs(it->line, stdout);
        if (it->errmsg)
            fputs(it->errmsg, stderr);
        if (progress)
            fprintf(stderr, "%zu/%zu", i + 1, b->count);
        worst = it->status > worst ? it->status : worst;
        free(it->line);
        free(it->errmsg);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    fflush(stdout);
    return worst;
}

static int run_batch(const struct opts *o, const imsafe_policy *p, char **paths, size_t n)
{
    struct batch b = {.o = o, .policy = p, .count = n};
    b.items = calloc(n, sizeof *b.items);
    if (b.items == NULL)
        return EXIT_USAGE;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        b.items[i].path = paths[i];
        if (o->outdir != NULL && stat(paths[i], &st) == 0) {
            b.items[i].dev = st.st_dev;
            b.items[i].ino = st.st_ino;
            b.items[i].have_id = 1;
        }
    }
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    size_t nt = (size_t)o->threads < n ? (size_t)o->threads : n;
    pthread_t tids[256];
    size_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&tids[started], NULL, worker, &b) != 0)
            break;
    if (started == 0)
        worker(&b);
    int rc = drain(&b);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(b.items);
    return rc;
}

/* ------------------------------------------------------------ set-up */

static void usage(FILE *f)
{
    fputs("usage: imsafe-check [--policy FILE] [--print-policy] [--json] [-q] [-j N]\n"
          "                    [-o DIR] [--name NAME] [--mime TYPE] FILE... | -\n"
          "Judges attachments by content; see imsafe-check(1).\n"
          "Exit status: 0 all accepted, 1 any rejected, 2 usage error or unreadable input.\n",
          f);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "imsafe-check: %s\n", msg);
    usage(stderr);
    return EXIT_USAGE;
}

static imsafe_policy *load_policy(const char *path)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || path == NULL)
        return p;
    const char *err = NULL;
    size_t len;
    off_t full;
    unsigned char *text = read_input(path, 1 << 20, &len, &full, &err);
    char msg[512];
    if (text == NULL) {
        fprintf(stderr, "imsafe-check: %s: cannot read policy: %s\n", path, err);
    } else if (len > (1 << 20)) {
        fprintf(stderr, "imsafe-check: %s: policy file larger than 1 MiB\n", path);
    } else if (imsafe_policy_parse(p, (const char *)text, len, path, msg, sizeof msg) !=
               IMSAFE_OK) {
        fprintf(stderr, "imsafe-check: %s\n", msg);
    } else {
        free(text);
        return p;
    }
    free(text);
    imsafe_policy_unref(p);
    return NULL;
}

static int check_paths(const struct opts *o, char **paths, size_t n)
{
    if (n == 0)
        return usage_error("no input given");
    if ((o->name || o->mime) && n != 1)
        return usage_error("--name and --mime take exactly one input");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(paths[i], "-") == 0 && (o->name == NULL || n != 1))
            return usage_error("reading standard input needs --name and a single input");
        for (size_t k = 0; o->outdir && k < i; k++)
            if (strcmp(base_name(paths[i]), base_name(paths[k])) == 0)
                return usage_error("two inputs share a base name; -o would mix them");
    }
    struct stat st;
    if (o->outdir && (stat(o->outdir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return usage_error("-o needs an existing directory");
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"policy", required_argument, NULL, 'p'}, {"print-policy", no_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'J'},         {"name", required_argument, NULL, 'n'},
        {"mime", required_argument, NULL, 'm'},   {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores > 0 ? (int)cores : 1;
    for (int c; (c = getopt_long(argc, argv, "o:j:qh", lo, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 'p': o->policy_file = optarg; break;
        case 'P': o->print_policy = 1; break;
        case 'J': o->json = 1; break;
        case 'n': o->name = optarg; break;
        case 'm': o->mime = optarg; break;
        case 'o': o->outdir = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'j':
            o->threads = (int)strtol(optarg, &end, 10);
            if (*end || o->threads < 1 || o->threads > 256)
                return usage_error("-j takes a number from 1 to 256");
            break;
        case 'V': printf("imsafe-check %s\n", imsafe_version_string()); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    if (parse_args(argc, argv, &o) != 0)
        return EXIT_USAGE;
    imsafe_policy *p = load_policy(o.policy_file);
    if (p == NULL)
        return EXIT_USAGE;
    imsafe_policy_freeze(p);
    int rc;
    if (o.print_policy) {
        char *text = imsafe_policy_print(p);
        rc = text ? 0 : EXIT_USAGE;
        if (text)
            fputs(text, stdout);
        free(text);
    } else if ((rc = check_paths(&o, argv + optind, (size_t)(argc - optind))) == 0) {
        rc = run_batch(&o, p, argv + optind, (size_t)(argc - optind));
    }
    imsafe_policy_unref(p);
    /* a report that did not reach its reader (full disk, closed pipe) must
     * not read as "all accepted" */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "imsafe-check: cannot write to standard output: %s\n", strerror(errno));
        rc = EXIT_USAGE;
    }
    return rc;
}
