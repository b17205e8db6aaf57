/*
 * imsafe-check - judge attachments with libimsafe, from the command line.
 *
 *   imsafe-check [--policy FILE] [--json] [-q] [-j N] [-r] [-o DIR | -o -]
 *                [--fix-extension] [--files-from FILE [-0]]
 *                [--name NAME] [--mime TYPE] FILE... | -
 *
 * Uses the public API only.  Every input is judged by content; its claimed
 * name defaults to the file's base name.  Exit status: 2 for a usage error or
 * an unreadable input, else 1 when any input was rejected, else 0; after
 * SIGINT, SIGTERM or SIGHUP the program cleans up and dies by that signal
 * (130, 143, 129 in a shell).
 *
 * Threads: workers read, judge and write each output to a temporary file;
 * the main thread alone renames outputs into place and prints the reports,
 * in input order, and alone handles signals.  Renaming and printing in one
 * thread is what makes "every output file has its line, and no line names
 * a missing file" hold when a signal ends the batch: the signal is acted on
 * between two items, never between an item's rename and its line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkostemp: the temporary output opens close-on-exec */
#endif
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sha2.h>

#include "imsafe.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2

/* A policy file is operator text; 1 MiB is far more than any real one. */
#define POLICY_MAX_BYTES (1 << 20)

struct opts {
    const char *policy_file, *outdir, *name, *mime, *files_from;
    int json, quiet, print_policy, threads, recursive, nul, fix_ext;
    int isolate;               /* --isolate: policy isolation = process */
    const char *worker_helper; /* --isolate-helper PATH, or NULL: the installed one */
    int to_stdout; /* -o - */
};

/* One input: planned before the batch, judged by a worker, committed and
 * reported by the main thread. */
struct item {
    char *path;      /* the input as given or as found by -r (owned) */
    char *rel;       /* its output path below -o DIR (owned), or NULL */
    int is_stdin, walked, have_id;
    dev_t dev;       /* of the input, stat()ed when planned */
    ino_t ino;
    /* filled by the worker */
    int done, status; /* status: 0 accepted, 1 rejected, 2 error */
    imsafe_result *r;
    char *errmsg;    /* an error for stderr, or NULL */
    const char *oerr;/* why the output could not be written, or NULL */
    char *tmp;       /* the finished temporary output, or NULL (registered) */
    char *tmpdir;    /* the directory of tmp and of the output */
    unsigned char *mem; /* -o -: the bytes for standard output */
    size_t mem_len;
    long long in_bytes; /* -1: not known (a stream cut at the limit) */
    long long limit;    /* the max_input_bytes that cut it */
    int cut;            /* the input was read only up to the limit */
    char sha_in[SHA256_DIGEST_STRING_LENGTH], sha_out[SHA256_DIGEST_STRING_LENGTH];
};

/* The inputs' identities, so that no output replaces an input whatever
 * path reaches it. */
struct idset {
    struct { dev_t dev; ino_t ino; int used; } *v;
    size_t cap, n;
};

/* Output paths taken in this run (for --fix-extension collisions). */
struct nameset {
    struct { char *name; size_t owner; } *v;
    size_t cap, n;
};

struct batch {
    const struct opts *o;
    const imsafe_policy *policy;
    imsafe_pool *pool; /* isolation: shared by every thread's context, or NULL */
    struct item *items;
    size_t count, next, committed, window;
    mode_t file_mode;
    int walk_failed;      /* a planning error: exit 2 at the end */
    struct idset inputs;
    struct nameset taken;
    pthread_mutex_t mu;   /* next, committed, done, and the registry below */
    pthread_cond_t cv;    /* workers wait here for room in the window */
    int stopping;         /* a signal arrived: create no more files */
    char **dirs;          /* directories this run created below -o DIR */
    size_t ndirs, capdirs;
    imsafe_ctx *inline_ctx; /* -j 1: the main thread judges each item itself */
};

/* The signal handler can only reach file-scope state: the signal number and
 * the write end of the pipe that wakes the main thread.  This is the only
 * mutable global; the handler does nothing else (async-signal-safe). */
static volatile sig_atomic_t got_signal;
static int wake_fd[2] = {-1, -1};

static void on_signal(int sig)
{
    int e = errno;
    if (got_signal == 0)
        got_signal = sig;
    if (write(wake_fd[1], "s", 1) < 0) {
        /* the pipe is full: the main thread is being woken anyway */
    }
    errno = e;
}

/* ------------------------------------------------------------ strings */

struct str {
    char *p;
    size_t len, cap;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("imsafe-check: out of memory\n", stderr);
        exit(EXIT_USAGE);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fputs("imsafe-check: out of memory\n", stderr);
        exit(EXIT_USAGE);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

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
        s->p = xrealloc(s->p, cap);
        s->cap = cap;
    }
}

static void put_bytes(struct str *s, const void *p, size_t n)
{
    if (s->cap - s->len <= n || s->p == NULL) {
        s->cap = (s->cap + n + 1) * 2;
        s->p = xrealloc(s->p, s->cap);
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid; the
 * code point in *cp. */
static size_t utf8_dec(const unsigned char *p, size_t n, unsigned long *cp)
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
    unsigned long v = len == 1 ? c : c & (0x7f >> len);
    for (size_t i = 1; i < len; i++)
        v = v << 6 | (p[i] & 0x3f);
    *cp = v;
    return len;
}

/* A JSON string (RFC 8259).  C0 and C1 controls, DEL, U+2028 and U+2029 are
 * written as \uXXXX: a JavaScript reader treats the last two as line ends,
 * and a raw control byte in a log is what an attacker's name is for.  A byte
 * that is not part of valid UTF-8 is written as the text "\xNN" (an escaped
 * backslash, x, two hex digits), never raw, so every line stays valid UTF-8. */
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
        unsigned long cp = 0;
        size_t l = utf8_dec(p + i, n - i, &cp);
        if (l == 0) {
            put(s, "\\\\x%02x", p[i++]);
            continue;
        }
        if (cp == '"' || cp == '\\')
            put(s, "\\%c", (int)cp);
        else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
            put(s, "\\u%04lx", cp);
        else
            put_bytes(s, p + i, l);
        i += l;
    }
    put(s, "\"");
}

/* Code points a person cannot see or that reorder what they see: Unicode's
 * Default_Ignorable_Code_Point set (zero-width characters, bidirectional
 * marks, overrides and isolates, variation selectors, tags, fillers), plus
 * the interlinear annotation controls and the line and paragraph
 * separators.  A name made of these can hide an extension or spoof another
 * name on a terminal. */
static int invisible(unsigned long cp)
{
    static const unsigned long r[][2] = {
        {0x00ad, 0x00ad},   {0x034f, 0x034f},   {0x061c, 0x061c},   {0x115f, 0x1160},
        {0x17b4, 0x17b5},   {0x180b, 0x180f},   {0x200b, 0x200f},   {0x2028, 0x202e},
        {0x2060, 0x206f},   {0x3164, 0x3164},   {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},
        {0xffa0, 0xffa0},   {0xfff0, 0xfffb},   {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
        {0xe0000, 0xe0fff},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (cp >= r[i][0] && cp <= r[i][1])
            return 1;
    return 0;
}

/* For human lines and messages: valid UTF-8 as it is, so a name in any
 * script reads as itself; controls (C0, DEL, C1), invisible and
 * bidirectional code points as \uXXXX (\UXXXXXXXX above U+FFFF); bytes that
 * are not valid UTF-8, and the backslash itself, as \xNN.  No control
 * sequence from a name reaches the terminal, and nothing is hidden. */
static void put_safe_path(struct str *s, const char *v)
{
    const unsigned char *p = (const unsigned char *)v;
    size_t n = strlen(v);
    for (size_t i = 0; i < n;) {
        unsigned long cp = 0;
        size_t l = utf8_dec(p + i, n - i, &cp);
        if (l == 0 || cp < 0x20 || cp == 0x7f || cp == '\\')
            put(s, "\\x%02x", p[i]);
        else if ((cp >= 0x80 && cp <= 0x9f) || invisible(cp))
            put(s, cp > 0xffff ? "\\U%08lx" : "\\u%04lx", cp);
        else
            put_bytes(s, p + i, l);
        i += l ? l : 1;
    }
}

/* ------------------------------------------------------------ small sets */

static size_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *q = p;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ q[i]) * 1099511628211ull;
    return (size_t)h;
}

static int idset_has(const struct idset *s, dev_t dev, ino_t ino)
{
    if (s->cap == 0)
        return 0;
    uint64_t key[2] = {(uint64_t)dev, (uint64_t)ino};
    for (size_t i = hash_bytes(key, sizeof key) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->v[i].used)
            return 0;
        if (s->v[i].dev == dev && s->v[i].ino == ino)
            return 1;
    }
}

static void idset_add(struct idset *s, dev_t dev, ino_t ino)
{
    if (idset_has(s, dev, ino))
        return;
    if ((s->n + 1) * 2 > s->cap) { /* keep it at most half full */
        struct idset g = {0};
        g.cap = s->cap ? s->cap * 2 : 64;
        g.v = xmalloc(g.cap * sizeof *g.v);
        memset(g.v, 0, g.cap * sizeof *g.v);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i].used)
                idset_add(&g, s->v[i].dev, s->v[i].ino);
        free(s->v);
        *s = g;
    }
    uint64_t key[2] = {(uint64_t)dev, (uint64_t)ino};
    size_t i = hash_bytes(key, sizeof key) & (s->cap - 1);
    while (s->v[i].used)
        i = (i + 1) & (s->cap - 1);
    s->v[i].dev = dev;
    s->v[i].ino = ino;
    s->v[i].used = 1;
    s->n++;
}

/* Returns the owner of name, or SIZE_MAX when it is not taken. */
static size_t nameset_owner(const struct nameset *s, const char *name)
{
    if (s->cap == 0)
        return SIZE_MAX;
    for (size_t i = hash_bytes(name, strlen(name)) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->v[i].name == NULL)
            return SIZE_MAX;
        if (strcmp(s->v[i].name, name) == 0)
            return s->v[i].owner;
    }
}

static void nameset_add(struct nameset *s, const char *name, size_t owner)
{
    if ((s->n + 1) * 2 > s->cap) {
        struct nameset g = {0};
        g.cap = s->cap ? s->cap * 2 : 64;
        g.v = xmalloc(g.cap * sizeof *g.v);
        memset(g.v, 0, g.cap * sizeof *g.v);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i].name) {
                nameset_add(&g, s->v[i].name, s->v[i].owner);
                free(s->v[i].name);
            }
        free(s->v);
        *s = g;
    }
    size_t i = hash_bytes(name, strlen(name)) & (s->cap - 1);
    while (s->v[i].name != NULL)
        i = (i + 1) & (s->cap - 1);
    s->v[i].name = xstrdup(name);
    s->v[i].owner = owner;
    s->n++;
}

static void nameset_free(struct nameset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->v[i].name);
    free(s->v);
}

/* ------------------------------------------------------------ files */

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *q = p;
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, q + done, n - done);
        if (w < 0 && errno == EINTR && got_signal == 0)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* Read at most max + 1 bytes: enough for the library to judge an oversized
 * input as such, and never more, so /dev/zero or a pipe that never ends is
 * refused rather than read forever.  *full is the input's true size when it
 * is known (a regular file's size), else -1 for an input cut at the limit. */
static unsigned char *read_fd(int fd, const struct stat *st, size_t max, size_t *len,
                              long long *full, const char **err)
{
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
        if (r < 0 && errno == EINTR && got_signal == 0) {
            r = 1;
        } else if (r < 0) {
            *err = strerror(errno);
            free(buf);
            buf = NULL;
        } else {
            n += (size_t)r;
        }
    }
    if (buf == NULL && *err == NULL)
        *err = "out of memory";
    *len = n;
    *full = (long long)n;
    if (n > max) /* a file's size is known; a stream's is not */
        *full = S_ISREG(st->st_mode) && st->st_size >= (off_t)n ? (long long)st->st_size : -1;
    return buf;
}

/* An input found by -r must still be the regular file the walk saw: no
 * symbolic link or FIFO put in its place since (O_NOFOLLOW, dev/ino). */
static unsigned char *read_input(const struct item *it, size_t max, size_t *len,
                                 long long *full, const char **err)
{
    int fd = it->is_stdin ? 0
           : open(it->path, O_RDONLY | O_NOCTTY | O_CLOEXEC | (it->walked ? O_NOFOLLOW : 0));
    struct stat st;
    unsigned char *buf = NULL;
    *err = NULL;
    if (fd < 0 || fstat(fd, &st) != 0)
        *err = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        *err = "is a directory (use -r to walk it)";
    else if (it->walked && (!S_ISREG(st.st_mode) || st.st_dev != it->dev || st.st_ino != it->ino))
        *err = "replaced while the directory was walked; not read";
    else
        buf = read_fd(fd, &st, max, len, full, err);
    if (fd > 0)
        close(fd);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static char *join(const char *a, const char *b)
{
    struct str s = {0};
    put(&s, "%s%s%s", a, *a && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return s.p;
}

/* ------------------------------------------------ the temporary-file registry */

/* Every temporary file and every directory this run creates is recorded
 * under b->mu at the moment it is created, so that cleanup() can remove
 * them all whatever the workers are doing. */

/* Create dir (below -o DIR) and its parents below DIR, as needed.  One
 * that exists must be a real directory, not a symbolic link.  Returns NULL
 * or an error text.  Called with b->mu held. */
static const char *make_dirs(struct batch *b, const char *dir)
{
    char *p = xstrdup(dir);
    const char *err = NULL;
    size_t len = strlen(p), start = strlen(b->o->outdir);
    for (size_t i = start + 1; err == NULL && i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char save = p[i];
        struct stat st;
        p[i] = '\0';
        if (mkdir(p, 0777) == 0) {
            if (b->ndirs == b->capdirs) {
                b->capdirs = b->capdirs ? b->capdirs * 2 : 16;
                b->dirs = xrealloc(b->dirs, b->capdirs * sizeof *b->dirs);
            }
            b->dirs[b->ndirs++] = xstrdup(p);
        } else if (errno != EEXIST || lstat(p, &st) != 0) {
            err = strerror(errno);
        } else if (!S_ISDIR(st.st_mode)) {
            err = "a path below -o DIR is in the way (not a directory)";
        }
        p[i] = save;
    }
    free(p);
    return err;
}

/* Create the temporary output for it in its output directory. */
static const char *tmp_open(struct batch *b, struct item *it, int *fd)
{
    char *dst = join(b->o->outdir, it->rel);
    const char *err = NULL;
    *fd = -1;
    it->tmpdir = xstrdup(dst);
    *strrchr(it->tmpdir, '/') = '\0';
    char *tmp = join(it->tmpdir, ".imsafe-XXXXXX");
    pthread_mutex_lock(&b->mu);
    if (b->stopping)
        err = "interrupted";
    if (err == NULL)
        err = make_dirs(b, it->tmpdir);
    if (err == NULL && (*fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        err = strerror(errno);
    if (err == NULL)
        it->tmp = tmp;
    pthread_mutex_unlock(&b->mu);
    if (err != NULL)
        free(tmp);
    free(dst);
    return err;
}

static void tmp_remove(struct batch *b, struct item *it)
{
    pthread_mutex_lock(&b->mu);
    if (it->tmp)
        unlink(it->tmp);
    free(it->tmp);
    it->tmp = NULL;
    pthread_mutex_unlock(&b->mu);
}

/* Remove every temporary file and every directory this run made that is
 * still empty; leaves b->mu held, so no worker makes another. */
static void cleanup(struct batch *b)
{
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    for (size_t i = 0; i < b->count; i++)
        if (b->items[i].tmp)
            unlink(b->items[i].tmp);
    for (size_t i = b->ndirs; i-- > 0;)
        rmdir(b->dirs[i]); /* fails, as it should, where an output was renamed */
}

/* After cleanup(): end the process by sig, as a shell expects of a program
 * that was interrupted (the status is 128 + sig: 130, 143, 129, 141). */
static void die_by(int sig)
{
    sigset_t set;
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* ------------------------------------------------------------ the sink */

/* The library's sink: the rebuilt bytes go straight to the temporary file
 * (so no whole output is held in memory), or for -o - into memory (nothing
 * may reach standard output before the verdict is known), and for --json
 * into a digest. */
struct sinkstate {
    int fd;          /* -1: no file */
    struct str *mem; /* NULL: not kept in memory */
    int hash;        /* 1: feed sha */
    SHA2_CTX sha;
    const char *err;
};

static int sink_write(void *opaque, const void *data, size_t len)
{
    struct sinkstate *ss = opaque;
    if (ss->hash)
        SHA256Update(&ss->sha, data, len);
    if (ss->mem != NULL)
        put_bytes(ss->mem, data, len);
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
    if (ss->mem != NULL)
        ss->mem->len = 0;
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

/* The detail, except for an input this program cut at max_input_bytes: the
 * library saw limit + 1 bytes, the true size is known only here. */
static void detail_text(char *buf, size_t n, const struct item *it, const imsafe_result *r)
{
    if (it->cut && imsafe_result_reason(r) == IMSAFE_R_LIMIT_INPUT_BYTES && it->in_bytes >= 0)
        snprintf(buf, n, "%lld bytes, limit %lld", it->in_bytes, it->limit);
    else if (it->cut && imsafe_result_reason(r) == IMSAFE_R_LIMIT_INPUT_BYTES)
        snprintf(buf, n, "more than %lld bytes (not read further), limit %lld", it->limit,
                 it->limit);
    else
        snprintf(buf, n, "%s", imsafe_result_detail(r));
}

static void report_json(struct str *s, const struct item *it, const char *output)
{
    const imsafe_result *r = it->r;
    int sanitized = imsafe_result_verdict(r) == IMSAFE_SANITIZED;
    imsafe_reason reason = imsafe_result_reason(r);
    char detail[512];
    detail_text(detail, sizeof detail, it, r);
    put(s, "{\"file\":");
    put_json_str(s, it->path);
    put(s, ",\"verdict\":\"%s\",\"type\":\"%s\",\"ext\":\"%s\",\"mime\":\"%s\",\"reason\":",
        imsafe_verdict_name(imsafe_result_verdict(r)), imsafe_type_name(imsafe_result_type(r)),
        imsafe_result_ext(r), imsafe_result_mime(r));
    put_json_str(s, reason ? imsafe_reason_name(reason) : NULL);
    put(s, ",\"notes\":");
    put_notes_json(s, r);
    put(s, ",\"detail\":");
    put_json_str(s, detail);
    put(s, ",\"display_name\":");
    put_json_str(s, imsafe_result_display_name(r));
    put(s, ",\"output\":");
    put_json_str(s, output);
    if (it->in_bytes >= 0)
        put(s, ",\"in_bytes\":%lld,\"out_bytes\":", it->in_bytes);
    else
        put(s, ",\"in_bytes\":null,\"out_bytes\":");
    if (sanitized)
        put(s, "%llu", (unsigned long long)imsafe_result_output_size(r));
    else
        put(s, "null");
    put(s, ",\"sha256_in\":");
    if (it->cut)
        put(s, "null");
    else
        put(s, "\"%s\"", it->sha_in);
    put(s, ",\"sha256_out\":");
    if (sanitized)
        put(s, "\"%s\"", it->sha_out);
    else
        put(s, "null");
    put(s, "}\n");
}

static void report_human(struct str *s, const struct item *it)
{
    const imsafe_result *r = it->r;
    imsafe_reason reason = imsafe_result_reason(r);
    char detail[512];
    detail_text(detail, sizeof detail, it, r);
    put_safe_path(s, it->path);
    put(s, ": %s %s", imsafe_verdict_name(imsafe_result_verdict(r)),
        imsafe_type_name(imsafe_result_type(r)));
    if (reason)
        put(s, " [%s]", imsafe_reason_name(reason));
    for (size_t i = 0; i < imsafe_result_note_count(r); i++)
        put(s, "%s%s", i ? ", " : " (notes: ", imsafe_reason_name(imsafe_result_note(r, i)));
    if (imsafe_result_note_count(r))
        put(s, ")");
    if (*detail)
        put(s, " - %s", detail);
    put(s, "\n");
}

/* ------------------------------------------------------------ one input */

static char *error_text(const char *path, const char *what, const char *why)
{
    struct str s = {0};
    put(&s, "imsafe-check: ");
    put_safe_path(&s, path);
    put(&s, ": %s: %s\n", what, why);
    return s.p;
}

static void fail_item(struct item *it, const char *what, const char *why)
{
    free(it->errmsg);
    it->errmsg = error_text(it->path, what, why);
    it->status = EXIT_USAGE;
}

/* Judge in, the output going to fd (-o DIR) or memory (-o -) and the
 * digest.  Leaves the result in it->r. */
static void judge_into(struct batch *b, imsafe_ctx *ctx, struct item *it,
                       const unsigned char *in, size_t len, int fd)
{
    const char *name = b->o->name ? b->o->name : it->is_stdin ? NULL : base_name(it->path);
    struct str mem = {0};
    struct sinkstate ss = {.fd = fd, .hash = b->o->json, .mem = b->o->to_stdout ? &mem : NULL};
    imsafe_sink sink = {sink_write, &ss, 0, sink_rewind};
    SHA256Init(&ss.sha);
    imsafe_status st = imsafe_sanitize_to(ctx, b->policy, in, len, name, b->o->mime, &sink, &it->r);
    if (st != IMSAFE_OK) {
        fail_item(it, st == IMSAFE_ESINK ? "cannot write output" : "cannot judge",
                  st == IMSAFE_ESINK && ss.err ? ss.err : imsafe_strerror(st));
        free(mem.p);
        return;
    }
    imsafe_verdict v = imsafe_result_verdict(it->r);
    it->status = v == IMSAFE_REJECTED ? EXIT_REJECTED : 0;
    if (ss.hash && v == IMSAFE_SANITIZED)
        SHA256End(&ss.sha, it->sha_out);
    if (v == IMSAFE_PASSED) { /* passed: the input itself is the output */
        if (fd >= 0 && write_all(fd, in, len) != 0)
            it->oerr = strerror(errno);
        if (ss.mem != NULL)
            put_bytes(&mem, in, len);
    }
    if (v != IMSAFE_REJECTED) {
        it->mem = (unsigned char *)mem.p;
        it->mem_len = mem.len;
    } else {
        free(mem.p);
    }
}

static void judge(struct batch *b, imsafe_ctx *ctx, struct item *it)
{
    int64_t max = 0;
    size_t len = 0;
    long long full = 0;
    const char *err = NULL;
    int fd = -1;
    imsafe_policy_get(b->policy, IMSAFE_OPT_MAX_INPUT_BYTES, &max);
    unsigned char *in = read_input(it, (size_t)max, &len, &full, &err);
    if (in == NULL) {
        fail_item(it, "cannot read", err);
        return;
    }
    it->in_bytes = full;
    it->limit = max;
    it->cut = len > (size_t)max;
    if (b->o->json && !it->cut)
        SHA256Data(in, len, it->sha_in);
    if (b->o->outdir != NULL && !b->o->to_stdout)
        it->oerr = tmp_open(b, it, &fd); /* reported only if there is output */
    judge_into(b, ctx, it, in, len, fd);
    if (fd >= 0 && it->oerr == NULL && fchmod(fd, b->file_mode) != 0)
        it->oerr = strerror(errno);
    if (fd >= 0 && close(fd) != 0 && it->oerr == NULL)
        it->oerr = strerror(errno);
    if (it->tmp != NULL && (it->r == NULL || it->oerr != NULL ||
                            imsafe_result_verdict(it->r) == IMSAFE_REJECTED))
        tmp_remove(b, it);
    free(in);
}

/* ------------------------------------------------------------ batch */

static void wake_main(void)
{
    if (write(wake_fd[1], "w", 1) < 0) {
        /* full: the main thread has wake-ups pending already */
    }
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx != NULL && b->pool != NULL)
        imsafe_ctx_set_pool(ctx, b->pool);
    for (;;) {
        pthread_mutex_lock(&b->mu);
        /* stay within a window of the next item to print: bounded memory
         * and few temporary files at any moment */
        while (b->next < b->count && b->next >= b->committed + b->window && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        size_t i = b->stopping ? b->count : b->next++;
        pthread_mutex_unlock(&b->mu);
        if (i >= b->count)
            break;
        if (ctx == NULL)
            fail_item(&b->items[i], "cannot judge", "out of memory");
        else
            judge(b, ctx, &b->items[i]);
        pthread_mutex_lock(&b->mu);
        b->items[i].done = 1;
        pthread_mutex_unlock(&b->mu);
        wake_main();
    }
    imsafe_ctx_free(ctx);
    return NULL;
}

/* Replace the extension of rel's last component by ext (or add it). */
static char *with_ext(const char *rel, const char *ext)
{
    const char *base = base_name(rel);
    const char *dot = strrchr(base, '.');
    size_t keep = dot && dot != base ? (size_t)(dot - rel) : strlen(rel);
    struct str s = {0};
    put(&s, "%.*s.%s", (int)keep, rel, ext);
    return s.p;
}

/* Does the name's extension already name type t? */
static int ext_fits(const char *rel, imsafe_type t)
{
    static const char *const jpeg[] = {"jpg", "jpeg", "jpe", "jfif", NULL};
    static const char *const tiff[] = {"tif", "tiff", NULL};
    const char *dot = strrchr(base_name(rel), '.');
    if (dot == NULL || dot == base_name(rel))
        return 0;
    const char *const *alias = t == IMSAFE_TYPE_JPEG ? jpeg : t == IMSAFE_TYPE_TIFF ? tiff : NULL;
    for (size_t i = 0; alias && alias[i]; i++)
        if (strcasecmp(dot + 1, alias[i]) == 0)
            return 1;
    return strcasecmp(dot + 1, imsafe_type_ext(t)) == 0;
}

/* The output path of an accepted item: DIR/rel, with --fix-extension the
 * true type's extension for a rebuilt image. */
static char *output_path(const struct batch *b, const struct item *it, char **rel_out)
{
    char *rel = xstrdup(it->rel);
    if (b->o->fix_ext && imsafe_result_verdict(it->r) == IMSAFE_SANITIZED &&
        !ext_fits(rel, imsafe_result_output_type(it->r))) {
        char *fixed = with_ext(rel, imsafe_result_ext(it->r));
        free(rel);
        rel = fixed;
    }
    *rel_out = rel;
    return join(b->o->outdir, rel);
}

/* Put it's temporary file in place.  Returns the output path (owned), or
 * NULL with it->errmsg set. */
static char *commit_file(struct batch *b, size_t idx)
{
    struct item *it = &b->items[idx];
    char *rel = NULL, *dst = output_path(b, it, &rel);
    const char *err = NULL;
    char *why = NULL;
    struct stat sd;
    size_t owner = nameset_owner(&b->taken, rel);
    if (owner != SIZE_MAX && owner != idx) {
        struct str s = {0};
        put(&s, "the output ");
        put_safe_path(&s, dst);
        put(&s, " is also the output of ");
        put_safe_path(&s, b->items[owner].path);
        put(&s, "; not written");
        why = s.p;
    } else if (lstat(dst, &sd) == 0 && idset_has(&b->inputs, sd.st_dev, sd.st_ino)) {
        err = "the output would replace an input; not written";
    }
    pthread_mutex_lock(&b->mu);
    if (err == NULL && why == NULL && rename(it->tmp, dst) != 0)
        err = strerror(errno);
    if (err != NULL || why != NULL)
        unlink(it->tmp);
    free(it->tmp);
    it->tmp = NULL;
    pthread_mutex_unlock(&b->mu);
    if (b->o->fix_ext && owner == SIZE_MAX && err == NULL && why == NULL)
        nameset_add(&b->taken, rel, idx);
    free(rel);
    if (err == NULL && why == NULL)
        return dst;
    fail_item(it, "cannot write output", why ? why : err);
    free(why);
    free(dst);
    return NULL;
}

/* Wait until item i is done or a signal came.  Returns 0, or the signal. */
static int wait_done(struct batch *b, size_t i)
{
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int done = b->items[i].done;
        pthread_mutex_unlock(&b->mu);
        if (got_signal)
            return got_signal;
        if (done)
            return 0;
        struct pollfd pfd = {wake_fd[0], POLLIN, 0};
        if (poll(&pfd, 1, -1) > 0) {
            char junk[256];
            while (read(wake_fd[0], junk, sizeof junk) > 0)
                ;
        }
    }
}

/* Write text to fd, one write(2) when the system allows it.  On failure
 * with nothing written returns -1; a partial write returns -2. */
static int emit(int fd, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR && got_signal == 0)
            continue;
        if (w < 0)
            return done ? -2 : -1;
        done += (size_t)w;
    }
    return 0;
}

/* Stop the batch: a signal or a closed standard output. */
static void stop(struct batch *b, int sig, int sigpipe_ignored)
{
    cleanup(b);
    if (sig == SIGPIPE && sigpipe_ignored) {
        fputs("imsafe-check: cannot write to standard output: Broken pipe\n", stderr);
        _exit(EXIT_USAGE);
    }
    if (sig != 0)
        die_by(sig);
    _exit(EXIT_USAGE);
}

/* What a failed write to standard output means: the signal that
 * interrupted it, SIGPIPE for a reader that went away, or -1. */
static int out_failure(void)
{
    if (got_signal)
        return got_signal;
    return errno == EPIPE ? SIGPIPE : -1;
}

/* Print item i (and for -o DIR put its output in place, for -o - write the
 * output).  Returns 0, or a signal to stop by, or -1 when standard output
 * failed.  An output file stays only if its line was written: a line cut
 * off before its first byte (a signal, a full disk) takes the file away. */
static int commit(struct batch *b, size_t i, int *worst)
{
    struct item *it = &b->items[i];
    const struct opts *o = b->o;
    char *dst = NULL;
    int rc = 0, e = 0;
    int accepted = it->r != NULL && imsafe_result_verdict(it->r) != IMSAFE_REJECTED;
    if (accepted && it->tmp != NULL)
        dst = commit_file(b, i);
    else if (accepted && o->outdir && !o->to_stdout && it->status == 0)
        fail_item(it, "cannot write output", it->oerr ? it->oerr : "no output file");
    if (accepted && o->to_stdout && it->status == 0) {
        if (emit(1, (const char *)it->mem, it->mem_len) != 0)
            rc = out_failure();
        else
            dst = xstrdup("-");
    }
    struct str s = {0};
    int shown = it->r != NULL && (!o->quiet || imsafe_result_verdict(it->r) == IMSAFE_REJECTED);
    if (shown && o->json)
        report_json(&s, it, dst);
    else if (shown)
        report_human(&s, it);
    /* a signal that came during the rename: undo it rather than start a
     * write that a stalled reader could block for ever */
    if (rc == 0 && got_signal && dst != NULL && !o->to_stdout) {
        unlink(dst);
        rc = got_signal;
    }
    /* the report of -o - goes to standard error: standard output is the image */
    if (rc == 0 && s.p != NULL && (e = emit(o->to_stdout ? 2 : 1, s.p, s.len)) != 0) {
        rc = out_failure();
        if (e == -1 && dst != NULL && !o->to_stdout)
            unlink(dst);
    }
    if (rc == -1)
        fprintf(stderr, "imsafe-check: cannot write to standard output: %s\n", strerror(errno));
    if (it->errmsg)
        emit(2, it->errmsg, strlen(it->errmsg));
    *worst = it->status > *worst ? it->status : *worst;
    free(s.p);
    free(dst);
    return rc;
}

static void release(struct item *it)
{
    imsafe_result_free(it->r);
    it->r = NULL;
    free(it->errmsg);
    free(it->mem);
    free(it->tmpdir);
    it->errmsg = NULL;
    it->mem = NULL;
    it->tmpdir = NULL;
}

/* Print reports in input order as they complete; a progress line on a
 * terminal for long batches. */
static int drain(struct batch *b, int sigpipe_ignored)
{
    int worst = b->walk_failed ? EXIT_USAGE : 0;
    int progress = isatty(2) && b->count >= 20 && !b->o->to_stdout;
    for (size_t i = 0; i < b->count; i++) {
        if (b->inline_ctx != NULL && got_signal == 0) {
            judge(b, b->inline_ctx, &b->items[i]);
            b->items[i].done = 1;
        }
        int sig = wait_done(b, i);
        if (sig != 0)
            stop(b, sig, sigpipe_ignored);
        if (progress)
            fputs("\r\033[K", stderr);
        sig = commit(b, i, &worst);
        if (sig != 0)
            stop(b, sig > 0 ? sig : 0, sigpipe_ignored);
        if (progress)
            fprintf(stderr, "%zu/%zu", i + 1, b->count);
        release(&b->items[i]);
        pthread_mutex_lock(&b->mu);
        b->committed = i + 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    return worst;
}

/* SIGINT, SIGTERM and SIGHUP wake the main thread, unless they were
 * ignored when the program started (nohup, a background job): that choice
 * is the caller's.  SIGPIPE is ignored so that a closed standard output is
 * an EPIPE the main thread can clean up after; it then dies by SIGPIPE
 * unless SIGPIPE was ignored to begin with.  Returns 1 when SIGPIPE was
 * ignored at start. */
static int catch_signals(sigset_t *set)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked write must return */
    sigemptyset(&sa.sa_mask);
    sigemptyset(set);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], NULL, &old);
        if (old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
        sigaddset(set, sigs[i]);
    }
    sigaction(SIGPIPE, NULL, &old);
    signal(SIGPIPE, SIG_IGN);
    return old.sa_handler == SIG_IGN;
}

static int run_batch(struct batch *b)
{
    const struct opts *o = b->o;
    if (pipe(wake_fd) != 0) {
        perror("imsafe-check: pipe");
        return EXIT_USAGE;
    }
    for (int k = 0; k < 2; k++) {
        fcntl(wake_fd[k], F_SETFL, O_NONBLOCK);
        fcntl(wake_fd[k], F_SETFD, FD_CLOEXEC);
    }
    mode_t um = umask(0);
    umask(um);
    b->file_mode = 0666 & ~um;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    size_t nt = (size_t)o->threads < b->count ? (size_t)o->threads : b->count;
    b->window = nt * 4 + 16;
    sigset_t set;
    int sigpipe_ignored = catch_signals(&set);
    /* workers start with the signals blocked: only the main thread sees them */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t tids[256];
    size_t started = 0;
    /* One thread: judge in the main thread, item by item, just before its
     * report.  A worker thread would cost a hand-off per file and a second
     * malloc arena that gives its pages back after every file and faults
     * them in again: on a batch of small avatars that is a third of the
     * CPU time.  A signal still stops the batch: the handler makes a
     * blocked open() or read() return EINTR, and drain() sees it. */
    if (nt == 1 && (b->inline_ctx = imsafe_ctx_new(NULL)) != NULL) {
        if (b->pool != NULL)
            imsafe_ctx_set_pool(b->inline_ctx, b->pool);
        nt = 0;
    }
    for (; started < nt; started++)
        if (pthread_create(&tids[started], NULL, worker, b) != 0)
            break;
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (started == 0 && b->count > 0 && b->inline_ctx == NULL) {
        b->window = b->count; /* no thread: judge all, then print */
        worker(b);
    }
    int rc = drain(b, sigpipe_ignored);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    imsafe_ctx_free(b->inline_ctx);
    return rc;
}

/* ------------------------------------------------------------ planning */

static void usage(FILE *f)
{
    fputs("usage: imsafe-check [--policy FILE] [--json] [-q] [-j N] [-r] [-o DIR | -o -]\n"
          "                    [--fix-extension] [--files-from FILE [-0]]\n"
          "                    [--isolate [--isolate-helper PATH]]\n"
          "                    [--name NAME] [--mime TYPE] FILE... | -\n"
          "       imsafe-check [--policy FILE] --print-policy\n"
          "Judges attachments by content; see imsafe-check(1).\n"
          "Exit status: 0 all accepted, 1 any rejected, 2 usage error or unreadable input.\n",
          f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("imsafe-check: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* A message about a path, the path escaped. */
static void path_error(const char *path, const char *what, const char *why)
{
    char *m = error_text(path, what, why);
    fputs(m, stderr);
    free(m);
}

struct plan {
    struct item *items;
    size_t n, cap;
    dev_t out_dev;
    ino_t out_ino;
    int have_out, failed;
    const struct opts *o;
};

static struct item *plan_add(struct plan *pl, char *path, char *rel)
{
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? pl->cap * 2 : 64;
        pl->items = xrealloc(pl->items, pl->cap * sizeof *pl->items);
    }
    struct item *it = &pl->items[pl->n++];
    memset(it, 0, sizeof *it);
    it->path = path;
    it->rel = rel;
    return it;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory path, sorted bytewise: the order of a walk is
 * the same on every machine and every run.  The directory opened must be
 * the one lstat() saw (want): a directory swapped for a symbolic link
 * during the walk is not entered.  top: an operand, which may be a link. */
static char **list_dir(const char *path, const struct stat *want, int top, size_t *count,
                       const char **err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
    struct stat st;
    DIR *d = NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    *err = NULL;
    *count = 0;
    if (fd < 0 || fstat(fd, &st) != 0)
        *err = strerror(errno);
    else if (st.st_dev != want->st_dev || st.st_ino != want->st_ino)
        *err = "replaced while the directory was walked; not read";
    else if ((d = fdopendir(fd)) == NULL)
        *err = strerror(errno);
    if (*err != NULL) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    errno = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL; errno = 0) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[n++] = xstrdup(e->d_name);
    }
    if (errno != 0)
        *err = strerror(errno);
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    *count = n;
    return v;
}

/* Walk directory path (its stat in *st), adding its regular files depth
 * first in sorted order, each with its output path rel/NAME.  Symbolic
 * links found inside are never followed; other non-regular files (FIFOs,
 * devices, sockets) are skipped, since reading them could block or never
 * end; -o DIR itself is never entered.  The names are read and the
 * directory closed before descending, so a deep tree holds one descriptor. */
static void walk(struct plan *pl, const char *path, const char *rel, const struct stat *st,
                 int top)
{
    const char *err;
    size_t n = 0;
    if (pl->have_out && st->st_dev == pl->out_dev && st->st_ino == pl->out_ino) {
        if (top) {
            path_error(path, "cannot walk", "it is the -o directory");
            pl->failed = 1;
        }
        return;
    }
    char **names = list_dir(path, st, top, &n, &err);
    if (err != NULL) {
        path_error(path, "cannot walk", err);
        pl->failed = 1;
    }
    for (size_t i = 0; i < n; i++) {
        char *child = join(path, names[i]);
        char *crel = rel ? join(rel, names[i]) : xstrdup(names[i]);
        struct stat cs;
        free(names[i]);
        if (lstat(child, &cs) != 0) {
            path_error(child, "cannot walk", strerror(errno));
            pl->failed = 1;
        } else if (S_ISDIR(cs.st_mode)) {
            walk(pl, child, crel, &cs, 0);
        } else if (S_ISREG(cs.st_mode)) {
            struct item *it = plan_add(pl, child, crel);
            it->walked = it->have_id = 1;
            it->dev = cs.st_dev;
            it->ino = cs.st_ino;
            continue;
        } else if (!pl->o->quiet) {
            path_error(child, "skipped", S_ISLNK(cs.st_mode) ? "a symbolic link, not followed"
                                                              : "not a regular file");
        }
        free(child);
        free(crel);
    }
    free(names);
}

/* The part of an operand that its outputs keep below -o DIR: its base
 * name, as cp -r names a copied directory; "", ".", ".." and "/" keep
 * nothing (the outputs never leave DIR). */
static char *operand_base(const char *path)
{
    char *p = xstrdup(path);
    for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
        p[n - 1] = '\0';
    const char *b = base_name(p);
    char *r = strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || *b == '\0' ? NULL : xstrdup(b);
    free(p);
    return r;
}

/* One operand: standard input, a directory to walk (with -r; an operand
 * that is a link to a directory is followed, as grep -r does: it was named
 * on purpose), or a file. */
static void plan_arg(struct plan *pl, const char *arg, int from_list)
{
    struct stat st;
    if (!from_list && strcmp(arg, "-") == 0) {
        const char *n = pl->o->name ? base_name(pl->o->name) : "";
        struct item *it = plan_add(pl, xstrdup("-"), xstrdup(n));
        it->is_stdin = 1;
        return;
    }
    int found = stat(arg, &st) == 0;
    if (pl->o->recursive && found && S_ISDIR(st.st_mode)) {
        char *base = operand_base(arg);
        walk(pl, arg, base, &st, 1);
        free(base);
        return;
    }
    struct item *it = plan_add(pl, xstrdup(arg), xstrdup(base_name(arg)));
    if (found) {
        it->have_id = 1;
        it->dev = st.st_dev;
        it->ino = st.st_ino;
    }
}

/* Read the names of --files-from: newline- or (with -0) NUL-separated;
 * empty names are skipped. */
static int plan_files_from(struct plan *pl, const char *file, int nul)
{
    int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
    struct str s = {0};
    char buf[65536];
    ssize_t r = 0;
    if (fd >= 0)
        while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
            if (r > 0)
                put_bytes(&s, buf, (size_t)r);
    if (fd < 0 || r < 0) {
        path_error(file, "--files-from", strerror(errno));
        free(s.p);
        return -1;
    }
    if (fd > 0)
        close(fd);
    char sep = nul ? '\0' : '\n';
    for (size_t i = 0; i < s.len;) {
        const char *e = memchr(s.p + i, sep, s.len - i);
        size_t n = e ? (size_t)(e - (s.p + i)) : s.len - i;
        if (n > 0) {
            char *name = xmalloc(n + 1);
            memcpy(name, s.p + i, n);
            name[n] = '\0';
            if (strlen(name) == n) { /* a NUL inside a newline list: not a name */
                plan_arg(pl, name, 1);
            } else {
                path_error(file, "--files-from", "a name contains a NUL byte (use -0)");
                pl->failed = 1;
            }
            free(name);
        }
        i += n + 1;
    }
    free(s.p);
    return 0;
}

static int cmp_rel(const void *a, const void *b)
{
    const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
    int c = strcmp(x->rel, y->rel);
    return c ? c : x < y ? -1 : x > y;
}

/* With -o DIR, two inputs with one output path would overwrite each other:
 * a usage error naming both, found before any input is read. */
static int check_collisions(const struct opts *o, struct item *items, size_t n)
{
    struct item **v = xmalloc(n * sizeof *v);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        v[i] = &items[i];
    qsort(v, n, sizeof *v, cmp_rel);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i - 1]->rel, v[i]->rel) != 0)
            continue;
        struct str s = {0};
        put(&s, "imsafe-check: -o: ");
        put_safe_path(&s, v[i - 1]->path);
        put(&s, " and ");
        put_safe_path(&s, v[i]->path);
        put(&s, " would both be written to ");
        char *dst = join(o->outdir, v[i]->rel);
        put_safe_path(&s, dst);
        put(&s, "\n");
        fputs(s.p, stderr);
        free(s.p);
        free(dst);
        bad = 1;
    }
    free(v);
    return bad;
}

static imsafe_policy *load_policy(const char *path)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || path == NULL)
        return p;
    const char *err = NULL;
    size_t len = 0;
    long long full = 0;
    struct item it = {.path = (char *)path, .is_stdin = strcmp(path, "-") == 0};
    unsigned char *text = read_input(&it, POLICY_MAX_BYTES, &len, &full, &err);
    char msg[512];
    if (text == NULL) {
        path_error(path, "cannot read policy", err);
    } else if (len > POLICY_MAX_BYTES) {
        path_error(path, "cannot read policy", "larger than 1 MiB");
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

/* Usage checks that need only the options and operands. */
static int check_opts(const struct opts *o, int nargs, char **args)
{
    struct stat st;
    if (o->print_policy && (nargs > 0 || o->files_from || o->outdir || o->recursive))
        return usage_error("--print-policy takes no input and no -o, -r or --files-from");
    if (o->print_policy)
        return 0;
    if (nargs == 0 && o->files_from == NULL)
        return usage_error("no input given");
    if (o->nul && o->files_from == NULL)
        return usage_error("-0 needs --files-from");
    if (o->fix_ext && (o->outdir == NULL || o->to_stdout))
        return usage_error("--fix-extension needs -o DIR");
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "-") != 0)
            continue;
        if (nargs != 1 || o->files_from)
            return usage_error("standard input (-) must be the only input");
        if (o->outdir && !o->to_stdout && o->name == NULL)
            return usage_error("-o DIR with standard input needs --name (the output's name)");
    }
    if (o->to_stdout && isatty(1))
        return usage_error("-o -: standard output is a terminal; image bytes are not written "
                           "to a terminal (redirect or pipe it)");
    if (o->outdir && !o->to_stdout) {
        if (stat(o->outdir, &st) != 0) {
            path_error(o->outdir, "-o", strerror(errno));
            usage(stderr);
            return EXIT_USAGE;
        }
        if (!S_ISDIR(st.st_mode)) {
            path_error(o->outdir, "-o", strerror(ENOTDIR));
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Checks that need the expanded list of inputs. */
static int check_plan(const struct opts *o, struct plan *pl)
{
    if ((o->name || o->mime) && pl->n != 1)
        return usage_error("--name and --mime take exactly one input (%zu given)", pl->n);
    if (o->to_stdout && pl->n != 1)
        return usage_error("-o - writes one output: give exactly one input (%zu given)", pl->n);
    if (o->outdir && !o->to_stdout && pl->n > 0 && check_collisions(o, pl->items, pl->n)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t i = 0; o->outdir && !o->to_stdout && i < pl->n; i++) {
        const char *b = base_name(pl->items[i].rel);
        if (*b == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
            path_error(pl->items[i].path, "-o", "no usable output name");
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"policy", required_argument, NULL, 'p'},  {"print-policy", no_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'J'},          {"name", required_argument, NULL, 'n'},
        {"mime", required_argument, NULL, 'm'},    {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {"recursive", no_argument, NULL, 'r'},
        {"files-from", required_argument, NULL, 'T'}, {"null", no_argument, NULL, '0'},
        {"fix-extension", no_argument, NULL, 'X'}, {"isolate", no_argument, NULL, 'I'},
        {"isolate-helper", required_argument, NULL, 'H'}, {NULL, 0, NULL, 0}};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores > 0 ? (cores > 256 ? 256 : (int)cores) : 1;
    for (int c; (c = getopt_long(argc, argv, "o:j:qhr0", lo, NULL)) != -1;) {
        char *end;
        long v;
        switch (c) {
        case 'p': o->policy_file = optarg; break;
        case 'P': o->print_policy = 1; break;
        case 'J': o->json = 1; break;
        case 'n': o->name = optarg; break;
        case 'm': o->mime = optarg; break;
        case 'o':
            if (*optarg == '\0')
                return usage_error("-o '': give a directory, or - for standard output");
            o->outdir = optarg;
            o->to_stdout = strcmp(optarg, "-") == 0;
            break;
        case 'q': o->quiet = 1; break;
        case 'r': o->recursive = 1; break;
        case 'T': o->files_from = optarg; break;
        case '0': o->nul = 1; break;
        case 'X': o->fix_ext = 1; break;
        case 'I': o->isolate = 1; break;
        case 'H': o->worker_helper = optarg; break;
        case 'j':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 256) {
                struct str s = {0};
                put_safe_path(&s, optarg);
                usage_error("-j '%s': give a number of threads from 1 to 256", s.p ? s.p : "");
                free(s.p);
                return EXIT_USAGE;
            }
            o->threads = (int)v;
            break;
        case 'V': printf("imsafe-check %s\n", imsafe_version_string()); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    return 0;
}

static int plan_inputs(const struct opts *o, struct plan *pl, int nargs, char **args)
{
    struct stat st;
    pl->o = o;
    if (o->outdir && !o->to_stdout && stat(o->outdir, &st) == 0) {
        pl->out_dev = st.st_dev;
        pl->out_ino = st.st_ino;
        pl->have_out = 1;
    }
    for (int i = 0; i < nargs; i++)
        plan_arg(pl, args[i], 0);
    if (o->files_from && plan_files_from(pl, o->files_from, o->nul) != 0)
        return EXIT_USAGE;
    return check_plan(o, pl);
}

static void plan_free(struct plan *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->items[i].path);
        free(pl->items[i].rel);
    }
    free(pl->items);
}

/* isolation = process (--isolate or the policy file): one pool of
 * pre-started workers for the batch, as many as threads.  A helper that
 * cannot start or lock down is an error before any input is judged: the
 * inputs are never judged unconfined instead. */
static int start_pool(const struct opts *o, const imsafe_policy *p, size_t n, imsafe_pool **pool)
{
    int64_t iso = 0;
    *pool = NULL;
    if (imsafe_policy_get(p, IMSAFE_OPT_ISOLATION, &iso) != IMSAFE_OK ||
        iso != IMSAFE_ISOLATION_PROCESS)
        return 0;
    unsigned workers = (size_t)o->threads < n ? (unsigned)o->threads : (unsigned)n;
    imsafe_status st = imsafe_pool_new(o->worker_helper, workers, pool);
    if (st != IMSAFE_OK) {
        fprintf(stderr, "imsafe-check: isolation: %s\n", imsafe_strerror(st));
        return EXIT_USAGE;
    }
    return 0;
}

static int run(const struct opts *o, const imsafe_policy *p, int nargs, char **args)
{
    struct plan pl = {0};
    imsafe_pool *pool = NULL;
    int rc = plan_inputs(o, &pl, nargs, args);
    if (rc == 0)
        rc = start_pool(o, p, pl.n, &pool);
    if (rc == 0) {
        struct batch b = {.o = o, .policy = p, .items = pl.items, .count = pl.n,
                          .walk_failed = pl.failed, .pool = pool};
        for (size_t i = 0; o->outdir && i < pl.n; i++) {
            if (pl.items[i].have_id)
                idset_add(&b.inputs, pl.items[i].dev, pl.items[i].ino);
            if (o->fix_ext) /* planned names are taken first: they keep them */
                nameset_add(&b.taken, pl.items[i].rel, i);
        }
        rc = run_batch(&b);
        /* a directory made for outputs that were all rejected stays empty:
         * remove it (rmdir leaves any that holds a file) */
        for (size_t i = b.ndirs; i-- > 0;)
            rmdir(b.dirs[i]);
        free(b.inputs.v);
        nameset_free(&b.taken);
        for (size_t i = 0; i < b.ndirs; i++)
            free(b.dirs[i]);
        free(b.dirs);
    }
    imsafe_pool_free(pool);
    plan_free(&pl);
    return rc;
}

/* glibc hands the top of its heap back to the kernel whenever more than
 * 128 KiB are free there, which after every file of a batch is the case:
 * the next file faults the same pages in again (ten times the page faults
 * of the floor program on the 200 avatars, a third of the CPU time).  A
 * batch tool keeps up to 32 MiB of freed memory for the next file. */
static void tune_malloc(void)
{
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    tune_malloc();
    if (parse_args(argc, argv, &o) != 0)
        return EXIT_USAGE;
    int nargs = argc - optind;
    if (check_opts(&o, nargs, argv + optind) != 0)
        return EXIT_USAGE;
    imsafe_policy *p = load_policy(o.policy_file);
    if (p == NULL)
        return EXIT_USAGE;
    if (o.isolate)
        imsafe_policy_set(p, IMSAFE_OPT_ISOLATION, IMSAFE_ISOLATION_PROCESS);
    imsafe_policy_freeze(p);
    int rc;
    if (o.print_policy) {
        char *text = imsafe_policy_print(p);
        rc = text ? 0 : EXIT_USAGE;
        if (text)
            fputs(text, stdout);
        free(text);
    } else {
        rc = run(&o, p, nargs, argv + optind);
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
