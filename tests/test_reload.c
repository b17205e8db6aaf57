/*
 * test_reload.c - reloading a policy while it is in use.  8 threads
 * sanitize a small PNG in a loop while the main thread builds a new policy
 * 200 times, freezes it and swaps it into the shared slot, as a host does
 * on SIGHUP.  Policies alternate: "A-<n>" sanitizes PNG, "B-<n>" kills it
 * with the message "B-<n>".
 *
 * Checked: no call fails; every result names, through its label, exactly
 * the policy the thread held, and its verdict is that policy's (A:
 * sanitized; B: policy.killed_type carrying B's message); every policy
 * judged at least one payload (the main thread waits for that before the
 * next swap, so the run interleaves however the threads are scheduled);
 * and after the run the reference counts come back to the one reference
 * the test keeps, so the last unref frees each policy.  Half of the
 * policies get no such extra reference and are freed by whichever thread
 * drops the last one; run under valgrind to see that nothing leaks.
 *
 * Host pattern: the slot is read and its policy referenced under a small
 * mutex.  An atomic load followed by imsafe_policy_ref() would race: the
 * swapper may drop the last reference between the load and the ref.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>

#include "imsafe_private.h" /* struct imsafe_policy: refs, for the final check */
#include "testutil.h"

#define THREADS 8
#define MIN_CALLS 300 /* per thread; threads go on until the last swap */
#define SWAPS 200

struct shared {
    pthread_mutex_t lock; /* guards slot only */
    imsafe_policy *slot;  /* the current policy; the slot holds one reference */
    int done;             /* atomic: no more swaps */
    int gen;              /* atomic: generation in the slot */
    unsigned long judged[SWAPS + 1]; /* atomic: results per generation */
    const unsigned char *png;
    size_t png_len;
};

struct worker {
    struct shared *sh;
    pthread_t tid;
    unsigned long calls, failures;
    char first_failure[256];
};

/* The host's two operations on the slot. */
static imsafe_policy *acquire(struct shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    imsafe_policy *p = imsafe_policy_ref(sh->slot);
    pthread_mutex_unlock(&sh->lock);
    return p;
}

static void publish(struct shared *sh, imsafe_policy *p)
{
    pthread_mutex_lock(&sh->lock);
    imsafe_policy *old = sh->slot;
    sh->slot = p;
    pthread_mutex_unlock(&sh->lock);
    imsafe_policy_unref(old); /* calls still running keep theirs */
}

/* Generation g: even "A-g" (defaults), odd "B-g" (PNG killed). */
static imsafe_policy *build(int g)
{
    char text[128], err[256];
    if (g % 2 == 0)
        snprintf(text, sizeof text, "label = \"A-%d\"\n", g);
    else
        snprintf(text, sizeof text, "label = \"B-%d\"\nkill png message \"B-%d\"\n", g, g);
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || imsafe_policy_parse(p, text, strlen(text), "reload", err, sizeof err) !=
                         IMSAFE_OK)
        tu_die("cannot build a policy");
    imsafe_policy_freeze(p);
    return p;
}

static void failure(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Count a failure; keep the first one's text (TU_CHECK is not thread-safe,
 * so the main thread reports after the join). */
static void failure(struct worker *w, const char *fmt, ...)
{
    if (w->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_failure, sizeof w->first_failure, fmt, ap);
        va_end(ap);
    }
}

/* One call; the verdict must be the one of the policy this thread holds. */
static void judge(struct worker *w, imsafe_ctx *ctx)
{
    struct shared *sh = w->sh;
    imsafe_policy *p = acquire(sh);
    const char *label = imsafe_policy_label(p);
    imsafe_result *r = NULL;
    imsafe_status st = imsafe_sanitize(ctx, p, sh->png, sh->png_len, "tiny.png", "image/png", &r);
    w->calls++;
    if (st != IMSAFE_OK || r == NULL) {
        failure(w, "sanitize under %s: %s", label, imsafe_strerror(st));
    } else if (strcmp(imsafe_result_policy_label(r), label) != 0) {
        failure(w, "held %s, result says %s", label, imsafe_result_policy_label(r));
    } else if (label[0] == 'A' && (imsafe_result_verdict(r) != IMSAFE_SANITIZED ||
                                   imsafe_result_reason(r) != IMSAFE_R_NONE)) {
        failure(w, "%s: not sanitized (%s)", label, imsafe_result_detail(r));
    } else if (label[0] == 'B' && (imsafe_result_verdict(r) != IMSAFE_REJECTED ||
                                   imsafe_result_reason(r) != IMSAFE_R_POLICY_KILLED_TYPE ||
                                   strstr(imsafe_result_detail(r), label) == NULL)) {
        failure(w, "%s: not killed with its message (%s)", label, imsafe_result_detail(r));
    } else {
        int g = atoi(label + 2);
        if (g >= 0 && g <= SWAPS)
            __atomic_add_fetch(&sh->judged[g], 1, __ATOMIC_RELAXED);
        else
            failure(w, "label %s out of range", label);
    }
    imsafe_result_free(r);
    imsafe_policy_unref(p);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx == NULL) {
        failure(w, "imsafe_ctx_new failed");
        return NULL;
    }
    for (int i = 0; i < MIN_CALLS; i++)
        judge(w, ctx);
    /* Past its share a thread only judges a policy nobody has judged yet,
     * so the main thread can go on swapping without a flood of calls. */
    struct shared *sh = w->sh;
    while (!__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE)) {
        int g = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&sh->judged[g], __ATOMIC_RELAXED) == 0)
            judge(w, ctx);
        else
            sched_yield();
    }
    imsafe_ctx_free(ctx);
    return NULL;
}

int main(void)
{
    struct shared sh;
    struct worker w[THREADS];
    imsafe_policy *kept[SWAPS + 1] = {NULL};
    char path[4096];
    unsigned char *png;

    memset(&sh, 0, sizeof sh);
    snprintf(path, sizeof path, "%s/policy/tiny.png", tu_env("IMSAFE_FIXTURES"));
    png = tu_read_file(path, &sh.png_len);
    if (png == NULL)
        tu_die("cannot read policy/tiny.png (made by tests/gen/gen_policy.py)");
    sh.png = png;
    pthread_mutex_init(&sh.lock, NULL);
    sh.slot = build(0);
    kept[0] = imsafe_policy_ref(sh.slot);

    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].sh = &sh;
        if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0)
            tu_die("pthread_create");
    }
    for (int g = 1; g <= SWAPS; g++) {
        /* wait until the current policy judged something, then swap */
        while (__atomic_load_n(&sh.judged[g - 1], __ATOMIC_RELAXED) == 0)
            sched_yield();
        imsafe_policy *p = build(g);
        if (g % 2 == 0)
            kept[g] = imsafe_policy_ref(p);
        publish(&sh, p);
        __atomic_store_n(&sh.gen, g, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&sh.judged[SWAPS], __ATOMIC_RELAXED) == 0)
        sched_yield();
    __atomic_store_n(&sh.done, 1, __ATOMIC_RELEASE);

    unsigned long calls = 0, failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].tid, NULL);
        calls += w[i].calls;
        failures += w[i].failures;
        if (w[i].failures)
            fprintf(stderr, "thread %d: %lu failures, first: %s\n", i, w[i].failures,
                    w[i].first_failure);
    }
    TU_CHECK(failures == 0, "%lu of %lu calls failed", failures, calls);
    TU_CHECK(calls >= (unsigned long)THREADS * MIN_CALLS, "only %lu calls", calls);
    unsigned long judged = 0, unjudged = 0;
    for (int g = 0; g <= SWAPS; g++) {
        judged += sh.judged[g];
        unjudged += sh.judged[g] == 0;
    }
    TU_CHECK(judged == calls, "%lu results attributed to a policy, %lu calls", judged, calls);
    TU_CHECK(unjudged == 0, "%lu policies judged nothing", unjudged);

    /* Every reader and every swap gave back its reference: each policy we
     * kept is held by us alone (and the last one by the slot too). */
    for (int g = 0; g <= SWAPS; g += 2) {
        int want = g == SWAPS ? 2 : 1;
        int refs = __atomic_load_n(&kept[g]->refs, __ATOMIC_ACQUIRE);
        TU_CHECK(refs == want, "policy %d holds %d references, expected %d", g, refs, want);
        imsafe_policy_unref(kept[g]);
    }
    publish(&sh, NULL);
    pthread_mutex_destroy(&sh.lock);
    free(png);
    printf("%lu calls over %d policies\n", calls, SWAPS + 1);
    return tu_finish();
}
