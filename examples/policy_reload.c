/*
 * policy_reload.c - reload a policy file without a restart.
 *
 *   policy_reload POLICY-FILE FILE...
 *
 * Worker threads judge every FILE once a second and print one line per
 * file: verdict, type, reason and the label of the policy that judged it.
 * `kill -HUP <pid>` reads POLICY-FILE again: a text with an error is
 * reported and the running policy stays.  SIGINT or SIGTERM ends it.
 *
 * The pattern for hosts.  The slot holds one reference to the current,
 * frozen policy.  A worker takes its own reference under a small mutex,
 * sanitizes, and drops it.  The reloader builds and freezes a new policy,
 * swaps it into the slot under the same mutex and drops the slot's
 * reference to the old one; calls still holding the old policy finish on
 * it, and the last imsafe_policy_unref() frees it.  (An atomic load of the
 * slot followed by imsafe_policy_ref() is not enough: the old policy could
 * be freed between the two.)
 *
 * The library parses text; reading the file is the host's job.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, pthread_sigmask, nanosleep */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imsafe.h"

#define WORKERS 4

/* Set by the signal handler, read by the main loop. */
static volatile sig_atomic_t got_hup, got_stop;

struct host {
    pthread_mutex_t lock; /* guards slot */
    imsafe_policy *slot;
    int stop;             /* atomic */
    char **files;
    int nfiles;
};

struct worker {
    struct host *host;
    int id;
    pthread_t tid;
};

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_stop = 1;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (f == NULL)
        return NULL;
    do {
        if (n == cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Read, parse and freeze; NULL (with a message) on any error. */
static imsafe_policy *load_policy(const char *path)
{
    size_t len;
    char *text = read_all(path, &len), err[256] = "";
    imsafe_policy *p = text ? imsafe_policy_new() : NULL;
    imsafe_status st = p ? imsafe_policy_parse(p, text, len, path, err, sizeof err) : IMSAFE_ENOMEM;
    free(text);
    if (text == NULL)
        perror(path);
    else if (st != IMSAFE_OK)
        fprintf(stderr, "%s\n", err[0] ? err : imsafe_strerror(st));
    if (st != IMSAFE_OK) {
        imsafe_policy_unref(p);
        return NULL;
    }
    imsafe_policy_freeze(p);
    return p;
}

static imsafe_policy *acquire(struct host *h)
{
    pthread_mutex_lock(&h->lock);
    imsafe_policy *p = imsafe_policy_ref(h->slot);
    pthread_mutex_unlock(&h->lock);
    return p;
}

static void swap_in(struct host *h, imsafe_policy *p)
{
    pthread_mutex_lock(&h->lock);
    imsafe_policy *old = h->slot;
    h->slot = p;
    pthread_mutex_unlock(&h->lock);
    imsafe_policy_unref(old);
}

static void judge(imsafe_ctx *ctx, struct host *h, const char *path)
{
    size_t len;
    char *in = read_all(path, &len);
    imsafe_policy *p = acquire(h);
    imsafe_result *r = NULL;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (in != NULL && imsafe_sanitize(ctx, p, in, len, name, NULL, &r) == IMSAFE_OK)
        printf("%s: %s %s %s [policy \"%s\"]\n", path,
               imsafe_verdict_name(imsafe_result_verdict(r)),
               imsafe_type_name(imsafe_result_type(r)),
               imsafe_result_reason(r) ? imsafe_reason_name(imsafe_result_reason(r)) : "-",
               imsafe_result_policy_label(r));
    else
        printf("%s: cannot judge\n", path);
    fflush(stdout);
    imsafe_result_free(r);
    imsafe_policy_unref(p);
    free(in);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    const struct timespec second = {1, 0};
    while (ctx != NULL && !__atomic_load_n(&w->host->stop, __ATOMIC_ACQUIRE)) {
        for (int i = w->id; i < w->host->nfiles; i += WORKERS)
            judge(ctx, w->host, w->host->files[i]);
        nanosleep(&second, NULL);
    }
    imsafe_ctx_free(ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s POLICY-FILE FILE...\n", argv[0]);
        return 2;
    }
    struct host h = {PTHREAD_MUTEX_INITIALIZER, load_policy(argv[1]), 0, argv + 2, argc - 2};
    if (h.slot == NULL)
        return 2;

    /* Only the main thread takes the signals: block them before the
     * workers start (they inherit the mask), then wait in sigsuspend(),
     * which unblocks and sleeps in one step, so no signal is missed. */
    struct sigaction sa;
    sigset_t set, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&set);
    int sigs[] = {SIGHUP, SIGINT, SIGTERM};
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&set, sigs[i]);
    }
    pthread_sigmask(SIG_BLOCK, &set, &old);

    struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.host = &h, .id = i};
        pthread_create(&w[i].tid, NULL, work, &w[i]);
    }
    while (!got_stop) {
        sigsuspend(&old);
        if (got_hup) {
            got_hup = 0;
            imsafe_policy *p = load_policy(argv[1]);
            if (p != NULL) {
                swap_in(&h, p);
                fprintf(stderr, "reloaded %s: policy \"%s\"\n", argv[1], imsafe_policy_label(p));
            } else {
                fprintf(stderr, "kept the running policy\n");
            }
        }
    }
    __atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i].tid, NULL);
    swap_in(&h, NULL);
    return 0;
}
